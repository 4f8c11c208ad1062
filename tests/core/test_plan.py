"""What a graph works out once (tinygraph/core/plan.py): the order of its nodes and its passes' plans."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.core.plan import BackwardPlan, ForwardPlan, topological_order


def test_topological_order_is_iterative_deterministic_and_inputs_first():
    x = tg.Input("x", shape=(2,))
    h = tg.Tanh(x, name="h")
    s = tg.Add(tg.Logistic(h, name="a"), tg.ReLU(h, name="b"), x, name="s")
    order = [n.name for n in topological_order([s])]
    assert order == ["x", "h", "a", "b", "s"] == [n.name for n in topological_order([s])]
    assert [n.name for n in topological_order([s, h])] == order  # h once, in its place


def test_a_cycle_is_named():
    x = tg.Input("x", shape=(2,))
    a = tg.Tanh(x, name="a")
    b = tg.Tanh(a, name="b")
    a.inputs = (b,)  # (made by hand: nodes cannot be built in a cycle)
    with pytest.raises(tg.GraphError, match="Tanh 'b' depends on itself \\(a cycle\\)"):
        topological_order([b])


def test_a_forward_plan_needs_only_what_its_targets_need():
    net = tg.mlp([2, 3, 1], seed=0)
    plan = ForwardPlan(net.graph.nodes, (net.graph["h1"],), net.loss)
    assert [n.name for n in plan.inputs] == ["x"] and [n.name for n in plan.nodes if not n.inputs] == ["x", "W1", "b1"]
    assert [n.name for n in plan.leaves] == ["W1", "b1", "W2", "b2"]  # (every Parameter: they decide the dtype)
    assert [n.name for n in plan.computed] == ["z1", "h1"] and not plan.reaches_output
    assert plan.args == plan.inputs + plan.leaves


def test_a_backward_plan_sends_each_gradient_once_first_then_summed():
    x = tg.Input("x", shape=(2,))
    w = tg.Parameter(np.ones(2), name="w")
    unused = tg.Parameter(np.ones(2), name="unused")
    h = tg.Multiply(x, w, name="h")
    E = tg.Sum(tg.Add(tg.Tanh(h, name="a"), tg.Logistic(h, name="b"), name="s"), name="E")
    nodes = topological_order([E, tg.Tanh(unused, name="other")])
    plan = BackwardPlan(nodes, E, inputs=False)
    order = [node.name for node, _, _ in plan.steps]
    assert order == ["E", "s", "b", "a", "h"]
    sends = {node.name: [(k, inp.name, first) for k, inp, first in s] for node, _, s in plan.steps}
    assert sends["b"] == [(0, "h", True)] and sends["a"] == [(0, "h", False)]  # h: from b first, then a
    assert sends["h"] == [(1, "w", True)]  # no gradient wanted for the Input x
    assert [n.name for n in plan.unreached] == ["x", "unused", "other"] and [p.name for p in plan.zero] == ["unused"]
    with_inputs = BackwardPlan(nodes, E, inputs=True)
    assert dict((n.name, s) for n, _, s in with_inputs.steps)["h"][0][1] is x


def test_chain_of_100000_nodes_has_no_recursion_limit():
    x = tg.Input("x", shape=(3,))
    node = x
    for _ in range(100_000):
        node = tg.ReLU(node)
    g = tg.Graph(tg.SquaredLoss(node, tg.Input("t", shape=(3,))))
    assert len(g.nodes) == 100_003
    value = g.forward({"x": [1.0, -1.0, 2.0], "t": [0.0, 0.0, 0.0]})
    assert np.isclose(value, 0.5 * (1 + 4))
    g.backward(inputs=True)
    assert np.array_equal(x.grad, [1.0, 0.0, 2.0])
