"""Graph: ordering, lookup, forward/run, backward's summing and its errors."""

import numpy as np
import pytest

import tinygraph as tg


def neuron(bias=True):
    x = tg.Input("x", shape=(2,))
    w = tg.Parameter([0.5, -1.0], name="w")
    b = tg.Parameter(0.25, name="b") if bias else None
    y = tg.Logistic(tg.WeightedSum(x, w, b, name="z"), name="y")
    E = tg.SquaredLoss(y, tg.Input("t", shape=()), name="E")
    return tg.Graph(E), x, w, b, y, E


def test_topological_order_is_deterministic_and_inputs_first():
    g, x, w, b, y, E = neuron()
    names = [n.name for n in g.nodes]
    assert names == ["x", "w", "b", "z", "y", "t", "E"]
    assert names == [n.name for n in neuron()[0].nodes]
    for i, node in enumerate(g.nodes):
        assert all(g.nodes.index(inp) < i for inp in node.inputs)
    assert g.inputs == [x, g["t"]]
    assert g.parameters() == [w, b]
    assert g["y"] is y and "z" in g and y in g
    with pytest.raises(KeyError, match="no node named 'nope'"):
        g["nope"]


def test_constants_are_not_parameters_and_never_updated():
    x = tg.Input("x", shape=(2,))
    c = tg.Constant([1.0, 2.0], name="c")
    w = tg.Parameter([0.1, 0.2], name="w")
    E = tg.SquaredLoss(tg.WeightedSum(x, w), tg.WeightedSum(x, c))
    g = tg.Graph(E)
    assert c not in g.parameters() and w in g.parameters()
    g.forward({"x": [1.0, 1.0]})
    g.backward()
    tg.SGD(g.parameters(), lr=0.1).step()
    assert np.array_equal(c.value, [1.0, 2.0]) and c.grad is None


def test_forward_computes_single_sample_formula():
    g, x, w, b, y, E = neuron()
    xv, t = np.array([1.0, 2.0]), 1.0
    z = xv @ w.value + 0.25
    o = 1 / (1 + np.exp(-z))
    assert np.isclose(g.forward({"x": xv, "t": t}), 0.5 * (o - t) ** 2)
    assert np.isclose(y.value, o) and E.value.shape == ()


def test_feed_by_node_or_name_and_run_needs_no_targets():
    g, x, w, b, y, E = neuron()
    a = g.forward({x: [1.0, 2.0], "t": 0.0})
    assert np.isclose(a, g.forward({"x": [1.0, 2.0], g["t"]: 0.0}))
    pred = g.run(y, {"x": np.array([[1.0, 2.0], [0.0, 0.0]])})
    assert pred.shape == (2,)
    both = g.run([y, g["z"]], {"x": [0.0, 0.0]})
    assert np.isclose(both[0], 1 / (1 + np.exp(-0.25))) and np.isclose(both[1], 0.25)


def test_backward_fills_parameters_and_computed_nodes_not_inputs():
    g, x, w, b, y, E = neuron()
    g.forward({"x": [1.0, 2.0], "t": 1.0})
    g.backward()
    for node in (w, b, g["z"], y, E):
        assert node.grad is not None and node.grad.shape == node.value.shape
    assert x.grad is None and g["t"].grad is None
    g.backward(inputs=True)
    assert x.grad.shape == (2,) and g["t"].grad.shape == ()
    assert np.allclose(x.grad, g["z"].grad * w.value)


def test_gradients_are_recomputed_not_accumulated():
    g, x, w, b, y, E = neuron()
    g.forward({"x": [1.0, 2.0], "t": 1.0})
    g.backward()
    first = w.grad.copy()
    g.backward()
    assert np.array_equal(w.grad, first)


def test_shared_value_gets_the_sum_of_its_consumers_gradients():
    # h feeds two consumers: E = ½(h·a − t1)² + ½(h·c − t2)² (through one loss on a 2-vector)
    x = tg.Input("x", shape=(2,))
    W = tg.Parameter([[0.3, -0.2], [0.1, 0.4]], name="W")
    h = tg.Logistic(tg.WeightedSum(x, W), name="h")
    a = tg.Parameter([[1.0], [2.0]], name="a")
    c = tg.Parameter([[-1.0], [0.5]], name="c")
    o1 = tg.WeightedSum(h, a, name="o1")
    o2 = tg.WeightedSum(h, c, name="o2")
    E1 = tg.SquaredLoss(o1, tg.Constant([0.0], name="t1"), name="E1")
    E2 = tg.SquaredLoss(o2, tg.Constant([1.0], name="t2"), name="E2")
    both = tg.Graph(E1, E2)
    # Sum the two losses with a tiny user node and check h.grad is the sum of both paths.

    class Plus(tg.Node):
        def forward(self, p, q):
            return p + q

        def backward(self, grad_out):
            return grad_out, grad_out

    g = tg.Graph(Plus(E1, E2, name="E"))
    g.forward({"x": [1.0, -1.0]})
    g.backward()
    hv = h.value
    d1 = hv @ a.value - 0.0
    d2 = hv @ c.value - 1.0
    expected = d1 * a.value[:, 0] + d2 * c.value[:, 0]
    assert np.allclose(h.grad, expected)
    assert both.outputs == (E1, E2)


def test_same_parameter_used_twice_gets_summed_gradient():
    x = tg.Input("x", shape=(2,))
    W = tg.Parameter([[0.5, -0.3], [0.2, 0.8]], name="W")
    h = tg.Tanh(tg.WeightedSum(x, W, name="z1"), name="h")
    o = tg.WeightedSum(h, W, name="z2")  # W again
    g = tg.Graph(tg.SquaredLoss(o, tg.Input("t", shape=(2,)), name="E"))
    feed = {"x": np.array([1.0, 2.0]), "t": np.array([0.0, 1.0])}
    g.forward(feed)
    g.backward()
    d = o.value - feed["t"]
    via_z2 = np.outer(h.value, d)
    dz1 = (d @ W.value.T) * (1 - h.value**2)
    via_z1 = np.outer(feed["x"], dz1)
    assert np.allclose(W.grad, via_z1 + via_z2)
    assert tg.gradcheck(g, feed).passed


def test_batches_average_over_rows():
    g, x, w, b, y, E = neuron()
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    T = np.array([1.0, 0.0, 1.0])
    batch = g.forward({"x": X, "t": T})
    g.backward()
    grad_batch = w.grad.copy()
    per_sample, grads = [], []
    for xi, ti in zip(X, T):
        per_sample.append(g.forward({"x": xi, "t": ti}))
        g.backward()
        grads.append(w.grad.copy())
    assert np.isclose(batch, np.mean(per_sample))
    assert np.allclose(grad_batch, np.mean(grads, axis=0))


# ---------------------------------------------------------------- errors


def test_missing_feed_names_the_input():
    g = neuron()[0]
    with pytest.raises(tg.GraphError, match="missing Input 't'"):
        g.forward({"x": [1.0, 2.0]})


def test_unknown_feed_key_is_named():
    g = neuron()[0]
    with pytest.raises(tg.GraphError, match="'q'"):
        g.forward({"x": [1.0, 2.0], "t": 1.0, "q": 3})
    with pytest.raises(tg.GraphError, match="Logistic 'y'.*only Input"):
        g.forward({"x": [1.0, 2.0], "t": 1.0, "y": 3})


def test_shape_mismatch_at_build_names_node_and_shapes():
    x = tg.Input("x", shape=(4,))
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'z1': x 'x' has 4 features but w 'W' expects 3"):
        tg.WeightedSum(x, tg.Parameter(np.zeros((3, 2)), name="W"), name="z1")
    with pytest.raises(tg.GraphError, match=r"b 'b' must have shape \(2,\).*got \(3,\)"):
        tg.WeightedSum(tg.Input("x2", shape=(3,)), tg.Parameter(np.zeros((3, 2))), tg.Parameter(np.zeros(3), name="b"))
    with pytest.raises(tg.GraphError, match=r"SquaredLoss 'E': prediction 'o' .* \(2,\) .* target 't' has \(3,\)"):
        tg.SquaredLoss(tg.Input("o", shape=(2,)), tg.Input("t", shape=(3,)), name="E")


def test_shape_mismatch_at_forward_changes_nothing():
    x = tg.Input("x")
    W = tg.Parameter(np.ones((3, 2)), name="W")
    g = tg.Graph(tg.SquaredLoss(tg.WeightedSum(x, W, name="z"), tg.Input("t")))
    g.forward({"x": np.ones(3), "t": np.zeros(2)})
    before = g["z"].value.copy()
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'z': x 'x' has 4 features but w 'W' expects 3"):
        g.forward({"x": np.ones(4), "t": np.zeros(2)})
    assert np.array_equal(g["z"].value, before) and np.array_equal(W.value, np.ones((3, 2)))


def test_declared_input_shape_is_enforced():
    g = neuron()[0]
    with pytest.raises(tg.GraphError, match=r"Input 'x': expected shape \(2,\).*got \(3,\)"):
        g.forward({"x": [1.0, 2.0, 3.0], "t": 1.0})


def test_batch_sizes_must_match():
    g = neuron()[0]
    with pytest.raises(tg.GraphError, match="Input 't' has 2 rows but Input 'x' has 3"):
        g.forward({"x": np.zeros((3, 2)), "t": np.zeros(2)})


def test_backward_needs_scalar_output_and_a_forward_pass():
    g = neuron()[0]
    with pytest.raises(tg.GraphError, match="forward pass first"):
        g.backward()
    x = tg.Input("x", shape=(2,))
    h = tg.Logistic(tg.WeightedSum(x, tg.Parameter(np.ones((2, 3)))), name="h")
    g2 = tg.Graph(h)
    g2.forward({"x": [1.0, 2.0]})
    with pytest.raises(tg.GraphError, match=r"scalar output.*'h' has shape \(3,\)"):
        g2.backward()


def test_duplicate_names_are_refused():
    a = tg.Input("x", shape=(2,))
    b = tg.Parameter([1.0, 2.0], name="x")
    with pytest.raises(tg.GraphError, match="two nodes are named 'x'"):
        tg.Graph(tg.WeightedSum(a, b))


def test_non_numeric_feed_is_a_type_error():
    g = neuron()[0]
    with pytest.raises(TypeError, match="Input 'x'.*numbers"):
        g.forward({"x": np.array(["a", "b"]), "t": 1.0})
    with pytest.raises(tg.GraphError, match="Input 'x'.*ragged"):
        g.forward({"x": [[1.0, 2.0], [1.0]], "t": [1.0, 0.0]})


def test_node_inputs_must_be_nodes():
    with pytest.raises(TypeError, match="must be a tinygraph Node, got ndarray"):
        tg.Logistic(np.zeros(3))
    with pytest.raises(tg.GraphError, match="not in this graph"):
        neuron()[0].run(tg.Input("elsewhere"), {})


def test_check_finite_names_the_first_bad_node():
    x = tg.Input("x", shape=(2,))
    z = tg.WeightedSum(x, tg.Parameter([1.0, 1.0]), name="z")
    g = tg.Graph(tg.SquaredLoss(tg.Logistic(z, name="y"), tg.Input("t", shape=())))
    with pytest.raises(tg.GraphError, match="WeightedSum 'z' produced a non-finite value"):
        g.forward({"x": [np.nan, 1.0], "t": 1.0}, check_finite=True)


def test_a_forward_pass_between_backward_and_step_leaves_the_gradients_alone():
    net = tg.mlp([3, 4, 2], seed=0)
    net.graph.forward({"x": [0.1, 0.2, 0.3], "t": [0.0, 1.0]})
    net.graph.backward()
    grads = {p.name: p.grad.copy() for p in net.parameters()}
    net.predict(np.ones((5, 3)))  # e.g. a look at validation data
    net.graph.forward({"x": [0.9, -0.2, 0.3], "t": [1.0, 1.0]})
    for p in net.parameters():
        assert np.array_equal(p.grad, grads[p.name])
    losses = [net.graph.forward({"x": [a, 0.0, 0.0], "t": [0.0, 1.0]}) for a in (0.1, 0.5)]
    assert losses[0] != losses[1]  # each forward returns its own loss


def test_a_failed_forward_pass_cannot_be_differentiated():
    net = tg.mlp([3, 4, 3], loss=tg.SoftmaxCrossEntropy, seed=0)
    X = np.random.default_rng(0).normal(size=(5, 3))
    net.graph.forward({"x": X, "t": [0, 1, 2, 1, 0]})
    with pytest.raises(tg.GraphError, match="class indices 0..2"):
        net.graph.forward({"x": X + 1, "t": [0, 1, 7, 1, 0]})
    with pytest.raises(tg.GraphError, match="forward pass first.*failed"):
        net.graph.backward()


def test_forward_and_run_return_arrays_that_later_passes_leave_alone():
    net = tg.mlp([2, 3, 2], seed=0)
    g, o = net.graph, net.output
    a = g.run(o, {"x": [0.1, 0.2]})
    b = g.run(o, {"x": [0.9, -0.5]})
    assert a is not b and not np.array_equal(a, b)
    first = g.forward({"x": [0.1, 0.2], "t": [0.0, 1.0]})
    g.forward({"x": [0.9, -0.5], "t": [1.0, 1.0]})
    assert float(first) == float(g.forward({"x": [0.1, 0.2], "t": [0.0, 1.0]}))
    # an output fed back in as an input: the gradients are still right
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(2,))
    W = tg.Parameter([[0.5, -0.2], [0.3, 0.8]], name="W")
    y = tg.Logistic(tg.WeightedSum(x, W), name="y")
    loop = tg.Graph(tg.SquaredLoss(y, t))
    y1 = loop.run(y, {x: [0.4, 0.6]})
    assert tg.gradcheck(loop, {x: y1, t: [0.0, 1.0]}).passed


def test_nodes_shared_by_two_graphs_do_not_mix_their_passes():
    x = tg.Input("x", shape=(2,))
    W = tg.Parameter([[0.5, -0.2], [0.3, 0.8]], name="W")
    h = tg.Tanh(tg.WeightedSum(x, W, name="z"), name="h")
    g1 = tg.Graph(tg.Sum(h, name="E1"))
    g2 = tg.Graph(tg.Mean(h, name="E2"))
    g1.forward({"x": [1.0, 2.0]})
    g2.forward({"x": [-3.0, 0.5]})
    with pytest.raises(tg.GraphError, match="Input 'x' was fed by another graph"):
        g1.backward()
    g1.forward({"x": [1.0, 2.0]})
    g1.backward()
    assert tg.gradcheck(g1, {"x": [1.0, 2.0]}).passed


def test_built_in_nodes_after_a_user_node_without_infer_shape():
    class Square(tg.Node):
        def forward(self, x):
            return x * x

        def backward(self, grad_out):
            return (2 * self.inputs[0].value * grad_out,)

    x = tg.Input("x")
    s1, s2 = Square(x), Square(x)
    g = tg.Graph(tg.Sum(tg.Concat(tg.Add(s1, s2), tg.Slice(tg.Multiply(s1, s2), 0, 1))))
    feed = {"x": np.random.default_rng(1).normal(size=(3, 2))}
    value = g.forward(feed)
    xv = feed["x"]
    assert np.isclose(value, np.sum(2 * xv**2) + np.sum(xv[:, :1] ** 4))
    assert tg.gradcheck(g, feed, inputs=True).passed


def test_a_parameter_whose_consumer_gives_no_gradient_gets_zeros():
    z = tg.Input("z", shape=(3,))
    t = tg.Parameter(2.0, name="label")  # class index: not differentiable
    g = tg.Graph(tg.SoftmaxCrossEntropy(z, t))
    g.forward({"z": [0.1, 0.2, 0.3]})
    g.backward()
    assert np.array_equal(t.grad, 0.0)
    report = tg.check_node(tg.SoftmaxCrossEntropy, [(3,), np.array(2.0)], wrt=(0,))
    assert report.passed and [r.name for r in report.rows] == ["in0"]


def test_copies_and_pickles_of_a_network_predict_and_train_on_their_own():
    import copy
    import pickle

    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    net.fit(X, T, epochs=3, lr=0.5, progress=False)
    for clone in (copy.deepcopy(net), pickle.loads(pickle.dumps(net))):
        assert clone.graph["o"] in clone.graph and net.graph["o"] not in clone.graph
        assert np.array_equal(clone.predict(X), net.predict(X))
        clone.fit(X, T, epochs=2, lr=0.5, progress=False)
        assert not np.array_equal(clone.predict(X), net.predict(X))


def test_a_parameter_replaced_between_forward_and_backward_is_refused():
    """Found by the differential test: backward would differentiate the pass made with the old array."""
    x = tg.Input("x", shape=(1,))
    W = tg.Parameter([[2.0]], name="W")
    g = tg.Graph(tg.Sum(tg.WeightedSum(x, W, name="z"), name="E"))
    for _ in range(3):  # the loop, then the unrolled code
        g.forward({"x": [3.0]})
        g.backward()
        assert np.array_equal(W.grad, [[3.0]])
        W.value = np.array([1.0])  # another array (of another shape) since the forward pass
        with pytest.raises(tg.GraphError, match="Parameter 'W' was given a new value since the forward pass"):
            g.backward()
        assert np.array_equal(W.grad, [[3.0]])  # nothing changed
        W.value = np.array([[2.0]])


def test_consumers_takes_a_node_or_its_name_and_refuses_one_not_in_the_graph():
    net = tg.mlp([2, 3, 1], seed=0)
    graph = net.graph
    assert graph.consumers("W1") == graph.consumers(graph["W1"]) == [graph["z1"]]
    assert [n.name for n in graph.consumers("t")] == ["E"]
    with pytest.raises(tg.GraphError, match="consumers: no node named 'W9' in this graph"):
        graph.consumers("W9")
    with pytest.raises(tg.GraphError, match="consumers: Input 'x' is not in this graph"):
        graph.consumers(tg.Input("x"))
    with pytest.raises(TypeError, match="consumers: expected a tinygraph Node or its name, got int"):
        graph.consumers(3)
