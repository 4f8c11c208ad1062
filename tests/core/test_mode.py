"""A graph's mode: training by default, train()/eval() switch it, counted passes, checked arguments."""

import copy

import numpy as np
import pytest

import tinygraph as tg


def test_a_graph_starts_in_training_and_switches():
    graph = tg.Graph(tg.Sum(tg.Input("x", shape=(2,)), name="E"))
    assert graph.training and repr(graph.mode) == "Mode(training=True, step=0)"
    assert graph.eval() is graph and not graph.training
    assert graph.train() is graph and graph.training
    graph.train(False)
    assert not graph.training


def test_train_refuses_what_is_not_a_bool():
    graph = tg.Graph(tg.Sum(tg.Input("x", shape=(2,)), name="E"))
    with pytest.raises(TypeError, match="train: training"):
        graph.train("no")
    assert graph.training


def test_passes_in_training_are_counted_and_a_copy_counts_on_its_own():
    graph = tg.Graph(tg.Sum(tg.Input("x", shape=(2,)), name="E"))
    for _ in range(3):
        graph.forward({"x": np.ones(2)})
    graph.eval().forward({"x": np.ones(2)})
    assert graph.mode.step == 3
    twin = copy.deepcopy(graph).train()
    twin.forward({"x": np.ones(2)})
    assert (graph.mode.step, twin.mode.step) == (3, 4)
