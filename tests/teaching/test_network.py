"""The neuron view's reading of a graph (tinygraph/teaching/network.py): which graphs are layered networks."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.teaching.network import NotLayered, find_layers


def test_an_mlp_is_found_layer_by_layer():
    for bias in ("separate", "input"):
        net = tg.mlp([3, 4, 2], bias=bias, seed=0)
        layers = find_layers(net.graph)
        assert [layer.z.name for layer in layers] == ["z1", "z2"]
        assert [layer.W.name for layer in layers] == ["W1", "W2"]
        assert [layer.act.name for layer in layers] == ["h1", "o"]
        assert (layers[0].one is None) == (bias == "separate") and (layers[0].b is None) == (bias == "input")


def test_a_layer_of_your_own_activation_is_a_layer():
    class Square(tg.Elementwise):  # any elementwise node is an activation
        formula, derivative = "y = z²", "∂y/∂z = 2z"

        def forward(self, z):
            return z * z

        def local(self, out=None):
            return np.multiply(2, self.inputs[0].value, out=out)

    x = tg.Input("x", shape=(2,))
    h = Square(tg.WeightedSum(x, tg.Parameter(np.ones((2, 3)), name="W"), name="z"), name="sq")
    graph = tg.Graph(tg.SquaredLoss(h, tg.Input("t", shape=(3,)), name="E"))
    assert [layer.act.name for layer in find_layers(graph)] == ["sq"]


@pytest.mark.parametrize(
    "build,reason",
    [
        (lambda x: tg.Sum(tg.Tanh(x)), "no WeightedSum layers|Inputs feed a WeightedSum"),
        (lambda x: tg.Sum(tg.Add(tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)))), tg.Tanh(x))), "feeds 2 nodes"),
        (lambda x: tg.Sum(tg.WeightedSum(x, tg.Constant(np.ones((2, 2))))), "not followed by a WeightedSum"),
    ],
)
def test_other_graphs_are_not_layered_networks_and_say_why(build, reason):
    with pytest.raises(NotLayered, match=reason):
        find_layers(tg.Graph(build(tg.Input("x", shape=(2,)))))
