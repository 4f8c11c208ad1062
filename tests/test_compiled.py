"""The written-out passes (compiled.py) against the Graph's loops, which are the reference.

``check_finite=True`` and a ``hook`` make forward and backward take the loop, so each
test runs the same graph both ways and asks for bit-identical values and gradients.
"""

import re
import traceback

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygraph as tg


def both_ways(graph, feed, inputs=False):
    """(values, gradients) of every node: once through the written-out code, once through the loops."""
    graph.forward(feed)                      # a plan's first pass with new shapes runs in the loop;
    graph.backward(inputs=inputs)            # the second is written out
    results = []
    for loop in (False, True):
        loss = graph.forward(feed, check_finite=loop)
        graph.backward(inputs=inputs, hook=(lambda node, grads: None) if loop else None)
        results.append((loss, {n.name: None if n.value is None else n.value.copy() for n in graph.nodes},
                        {n.name: None if n.grad is None else np.array(n.grad) for n in graph.nodes}))
        if not loop:  # the written-out code did run
            assert any(callable(code) for code in graph._compiled.values())
    return results


def assert_identical(a, b):
    (loss_a, values_a, grads_a), (loss_b, values_b, grads_b) = a, b
    assert np.array_equal(loss_a, loss_b)
    for name in values_a:
        assert np.array_equal(values_a[name], values_b[name]), name
        assert (grads_a[name] is None) == (grads_b[name] is None), name
        if grads_a[name] is not None:
            assert type(grads_a[name]) is np.ndarray
            assert grads_a[name].shape == values_a[name].shape, name
            assert np.array_equal(grads_a[name], grads_b[name]), name


@st.composite
def random_graph(draw):
    """A random graph using every kind of built-in node, with shared nodes and branches."""
    rng = np.random.default_rng(draw(st.integers(0, 10_000)))
    n_in, width = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    x = tg.Input("x", shape=(n_in,))
    first = draw(st.sampled_from(["bias", "append_one", "no_bias"]))
    if first == "append_one":
        z = tg.WeightedSum(tg.AppendOne(x, name="x1"), tg.Parameter(rng.normal(size=(n_in + 1, width)), name="W"), name="z")
    else:
        b = tg.Parameter(rng.normal(size=width), name="b") if first == "bias" else None
        z = tg.WeightedSum(x, tg.Parameter(rng.normal(size=(n_in, width)), name="W"), b, name="z")
    act = draw(st.sampled_from([tg.Logistic, tg.Tanh, tg.ReLU, tg.Step, tg.Softmax]))
    h = act(z, name="h")
    mix = draw(st.sampled_from(["none", "add", "multiply", "concat", "scale", "skip"]))
    if mix == "add":
        h = tg.Add(h, tg.Parameter(rng.normal(size=width), name="c"), name="mixed")
    elif mix == "multiply":
        h = tg.Multiply(h, h, name="mixed")                      # h feeds one node twice
    elif mix == "concat":
        h = tg.Concat(h, tg.Slice(tg.Tanh(z, name="h2"), 0, 1, name="s"), name="mixed")
    elif mix == "scale":
        h = tg.Scale(h, 0.5, name="mixed")
    elif mix == "skip":
        h = tg.Add(h, tg.Tanh(z, name="h2"), name="mixed")         # z feeds two branches
    n_out = draw(st.integers(1, 3))
    W_o = tg.Parameter(rng.normal(size=(h.shape[0], n_out)), name="Wo")
    o = tg.WeightedSum(h, W_o, tg.Parameter(rng.normal(size=n_out), name="bo"), name="o")
    loss_kind = draw(st.sampled_from(["squared", "log", "xent", "xent_index", "sum", "mean", "two_losses"]))
    batch = draw(st.sampled_from([None, 1, 5]))
    rows = () if batch is None else (batch,)
    feed = {"x": rng.normal(size=rows + (n_in,))}
    if loss_kind == "squared":
        E = tg.SquaredLoss(o, tg.Input("t", shape=(n_out,)), name="E")
        feed["t"] = rng.uniform(size=rows + (n_out,))
    elif loss_kind == "log":
        E = tg.LogLoss(tg.Logistic(o, name="p"), tg.Input("t", shape=(n_out,)), name="E")
        feed["t"] = rng.uniform(size=rows + (n_out,))
    elif loss_kind == "xent":
        E = tg.SoftmaxCrossEntropy(o, tg.Input("t", shape=(n_out,)), name="E")
        feed["t"] = np.eye(n_out)[rng.integers(0, n_out, size=rows)]
    elif loss_kind == "xent_index":
        E = tg.SoftmaxCrossEntropy(o, tg.Input("t", shape=()), name="E")
        feed["t"] = rng.integers(0, n_out, size=rows).astype(float)
    elif loss_kind == "sum":
        E = tg.Sum(tg.Tanh(o, name="y"), name="E")
    elif loss_kind == "mean":
        E = tg.Mean(tg.Tanh(o, name="y"), name="E")
    else:                                                      # a weighted sum of two losses
        t = tg.Input("t", shape=(n_out,))
        feed["t"] = rng.uniform(size=rows + (n_out,))
        E = tg.Add(tg.Scale(tg.SquaredLoss(o, t, name="E1"), 0.3, name="a"),
                   tg.Scale(tg.SquaredLoss(tg.Tanh(o, name="y"), t, name="E2"), 0.7, name="b2"), name="E")
    return tg.Graph(E), feed, draw(st.booleans())


@settings(max_examples=150, deadline=None)
@given(random_graph())
def test_written_out_passes_equal_the_loops_bit_for_bit(case):
    graph, feed, inputs = case
    written, looped = both_ways(graph, feed, inputs=inputs)
    assert_identical(written, looped)


def test_single_sample_and_batch_alternate_in_one_graph():
    """The same graph fed one sample, then a batch, then one sample again (as predict after fit)."""
    net = tg.mlp([3, 4, 1], seed=1)
    rng = np.random.default_rng(0)
    for rows in [(), (7,), (), (2,)]:
        feed = {"x": rng.normal(size=rows + (3,)), "t": rng.uniform(size=rows + (1,))}
        assert_identical(*both_ways(net.graph, feed))


def test_one_sample_code_written_after_a_batch_keeps_one_sample_arrays():
    """One-sample code may be written while the nodes still hold a batch's values (one
    sample, a batch, then one sample again): its kept arrays have the one-sample shape."""
    rng = np.random.default_rng(0)
    x, t = tg.Input("x", shape=(3,)), tg.Input("t", shape=(100,))
    W = tg.Parameter(rng.normal(size=(3, 100)), name="W")
    graph = tg.Graph(tg.SquaredLoss(tg.Logistic(tg.WeightedSum(x, W, name="z"), name="o"), t, name="E"))
    one = {"x": rng.normal(size=3), "t": rng.uniform(size=100)}
    batch = {"x": rng.normal(size=(5, 3)), "t": rng.uniform(size=(5, 100))}
    for feed in [one, batch, one, one, batch, batch, one]:
        expected = 0.5 * np.sum((1 / (1 + np.exp(-(feed["x"] @ W.value))) - feed["t"]) ** 2) / len(np.atleast_2d(feed["x"]))
        assert np.isclose(graph.forward(feed), expected)
        graph.backward()
        assert W.grad.shape == (3, 100) and graph["E"].diff.shape == np.shape(feed["t"])
    assert "np.subtract(o, t, out=" in graph.source()


def test_new_feature_sizes_rewrite_the_code():
    """Undeclared inputs: the per-sample shapes change with the feed, and the code with them."""
    x = tg.Input("x")
    y = tg.Tanh(tg.Multiply(x, tg.Parameter(np.array(0.7), name="a"), name="ax"), name="y")
    graph = tg.Graph(tg.Sum(y, name="E"))
    for value in [np.array(0.3), np.array([[0.1, 0.2, 0.3]]), np.array([[0.4], [0.5]])]:
        written, looped = both_ways(graph, {"x": value})
        assert_identical(written, looped)
        assert np.isclose(written[0], np.tanh(0.7 * value).sum())


def test_source_is_the_chain_rule_written_out():
    net = tg.mlp([2, 3, 1], seed=0)
    source = tg.Graph(net.loss).source()
    forward, backward = source.split("def backward")
    # forward: each computed node's value, in topological order
    assert re.findall(r"^    node_(\w+)\.value = \1$", forward, re.M) == ["z1", "h1", "z2", "o", "E"]
    # for one sample each node is its numpy calls
    assert "    z1 = np.dot(x, W1) + b1\n" in forward
    assert "    h1 = np.reciprocal(_one + np.exp(np.maximum(np.minimum(-z1, _limit), _minus_limit)))\n" in forward
    assert "    _diff = np.subtract(o, t)\n" in forward
    assert "    E = _asarray(0.5 * np.vdot(_diff, _diff))\n" in forward
    assert "forward_" not in forward and "backward_" not in backward
    # backward: the reverse order; each layer's weighted sum hands back ∂E/∂h, ∂E/∂W, ∂E/∂b
    assert re.findall(r"^    node_(\w+)\.grad = grad_\1$", backward, re.M) == \
        ["E", "o", "z2", "h1", "z1", "W1", "b1", "W2", "b2"]
    assert "    grad_o = np.multiply(node_E.diff, grad_E)\n" in backward
    assert "grad_z2 = np.multiply(np.multiply(np.subtract(_one, o), o), grad_o)" in backward
    for line in ["grad_h1 = np.dot(W2, grad_z2)", "grad_W2 = np.multiply(h1[:, None], grad_z2)",
                 "grad_b2 = grad_z2"]:
        assert f"    {line}\n" in backward
    # the first layer's ∂E/∂x is not computed, unless asked for
    assert "grad_x" not in backward
    assert "    grad_x = np.dot(W1, grad_z1)\n" in tg.Graph(net.loss).source(inputs=True)
    # the names it uses without defining them are explained, and the formulas' symbols named
    assert "    # _SIGMOID[dtype]: σ's clip bounds and 1, as arrays of that dtype\n" in backward
    assert "    # WeightedSum 'z2': z = x·w + b  (z: z2, x: h1, w: W2, b: b2)\n" in forward


def test_source_of_a_batch_keeps_arrays_and_scales_by_the_batch():
    """Code for a batch knows its size: kept arrays, the bias gradient as 1ᵀ g, the mean's 1/4."""
    net = tg.mlp([2, 3, 1], seed=0)
    graph = tg.Graph(net.loss)
    graph.forward({"x": np.ones((4, 2)), "t": np.ones((4, 1))})
    forward, backward = graph.source().split("def backward")
    for line in ["z1 = np.matmul(x, W1)", "z1 = np.add(z1, b1, out=z1)",
                 "node_E.diff, node_E.scale = _diff, 0.25  # the mean over 4 rows: 1/4",
                 "E = _asarray(0.5 * 0.25 * np.vdot(_diff, _diff))"]:
        assert f"    {line}\n" in forward
    for line in ["grad_o = np.multiply(node_E.diff, grad_E * 0.25)", "grad_h1 = np.matmul(grad_z2, W2.T)",
                 "grad_W2 = np.matmul(h1.T, grad_z2)", "grad_b2 = np.matmul(_z2_ones, grad_z2)"]:
        assert f"    {line}\n" in backward
    assert "grad_x" not in backward
    assert "    grad_x = np.matmul(grad_z1, W1.T)\n" in graph.source(inputs=True)


def test_nodes_without_numpy_lines_are_called_and_told_what_to_compute():
    x = tg.Input("x", shape=(2,))
    o = tg.WeightedSum(x, tg.Parameter(np.ones((2, 3)), name="W"), name="o")
    graph = tg.Graph(tg.SoftmaxCrossEntropy(o, tg.Input("t", shape=(3,)), name="E"))
    backward = graph.source().split("def backward")[1]
    assert "    node_E.needs = (True, False)\n    grad_o, _ = backward_E(grad_E)" in backward
    assert "node_o.needs" not in backward   # written out: it needs no telling


@pytest.mark.parametrize("rows", [None, 1, 7, 40])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("sizes", [[3, 1], [10, 8, 1], [3, 3000, 2], [4, 100]])
def test_numpy_lines_equal_the_loops(sizes, dtype, rows):
    """Layers written out as numpy lines, bit for bit as the loops: one neuron (w of shape
    (n,)), arrays above SMALL (kept between passes), a layer wide enough to clip in one go;
    one sample and batches."""
    rng = np.random.default_rng(3)
    x = tg.Input("x", shape=(sizes[0],))
    h = x
    for k, (a, b) in enumerate(zip(sizes, sizes[1:])):
        shape = (a,) if b == 1 and k == len(sizes) - 2 else (a, b)   # the last: a single neuron
        W = tg.Parameter((rng.normal(size=shape) * 30).astype(dtype), name=f"W{k}")
        bias = tg.Parameter(rng.normal(size=shape[1:]).astype(dtype), name=f"b{k}")
        act = [tg.Logistic, tg.Tanh, tg.ReLU][k % 3]
        h = act(tg.WeightedSum(h, W, bias, name=f"z{k}"), name=f"h{k}")
    t = tg.Input("t", shape=h.shape)
    graph = tg.Graph(tg.SquaredLoss(h, t, name="E"))
    batch = () if rows is None else (rows,)
    feed = {"x": rng.normal(size=batch + (sizes[0],)), "t": rng.uniform(size=batch + h.shape)}
    written, looped = both_ways(graph, feed, inputs=True)
    assert ("np.dot" if rows is None else "np.matmul") in graph.source(inputs=True)
    assert_identical(written, looped)
    assert written[1]["h0"].dtype == np.dtype(dtype)


def test_code_for_each_batch_size_after_another():
    """Code written while the nodes hold another batch size's values keeps arrays of its own."""
    rng = np.random.default_rng(1)
    net = tg.mlp([5, 70, 3], seed=0)
    feeds = [{"x": rng.normal(size=rows + (5,)), "t": rng.uniform(size=rows + (3,))} for rows in [(), (9,), (4,)]]
    for feed in feeds * 3:
        loss = net.graph.forward(feed)
        net.graph.backward()
        grads = [p.grad.copy() for p in net.parameters()]
        assert loss == net.graph.forward(feed, check_finite=True)   # the loops, for comparison
        net.graph.backward(hook=lambda node, g: None)
        assert all(np.array_equal(a, p.grad) for a, p in zip(grads, net.parameters()))
    assert len([c for c in net.graph._compiled.values() if callable(c)]) == 2


def test_source_sums_what_a_shared_node_receives():
    x = tg.Input("x", shape=(2,))
    z = tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)), name="W"), name="z")
    graph = tg.Graph(tg.Sum(tg.Add(tg.Tanh(z, name="p"), tg.Logistic(z, name="q"), name="s"), name="E"))
    source = graph.source()
    assert "grad_z = grad_z + _g0" in source  # z's two consumers: their gradients are summed
    graph.forward({"x": [0.5, -1.0]})
    graph.backward()
    y1, y2 = np.tanh(z.value), 1 / (1 + np.exp(-z.value))
    assert np.allclose(z.grad, (1 - y1 ** 2) + y2 * (1 - y2))


def test_node_names_that_are_not_python_names_get_placeholders():
    x = tg.Input("x̃ in", shape=(2,))
    graph = tg.Graph(tg.Sum(tg.Tanh(tg.WeightedSum(x, tg.Parameter(np.ones(2), name="class"), name="np"),
                                    name="_y"), name="E"))
    source = graph.source(inputs=True)
    compile(source, "<test>", "exec")
    assert "class" not in source.replace("'class'", "") and "node__y" not in source
    assert "node_np" not in source and " np =" not in source  # np is numpy in the written-out lines
    assert_identical(*both_ways(graph, {"x̃ in": [0.2, 0.3]}, inputs=True))


def test_own_nodes_and_class_indices_keep_the_loop():
    class Double(tg.Node):
        def forward(self, x):
            return 2 * x

        def backward(self, g):
            return (2 * g,)

    x = tg.Input("x", shape=(2,))
    graph = tg.Graph(tg.Sum(Double(tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)), name="W"), name="z"),
                                   name="d"), name="E"))
    graph.forward({"x": [1.0, 2.0]})
    with pytest.raises(tg.GraphError, match="loop.*Double 'd' is not one of tinygraph's own nodes"):
        graph.source()
    graph.backward()
    assert np.array_equal(graph["W"].grad, [[2.0, 2.0], [4.0, 4.0]])

    t = tg.Input("t", shape=())
    graph = tg.Graph(tg.SoftmaxCrossEntropy(tg.WeightedSum(x, tg.Parameter(np.ones((2, 3)), name="W2"), name="o"),
                                            t, name="E"))
    graph.source()  # a target that is not differentiated: written out
    with pytest.raises(tg.GraphError, match="SoftmaxCrossEntropy 'E' may send no gradient to 't'"):
        graph.source(inputs=True)
    graph.forward({"x": [1.0, 2.0], "t": 2.0})
    graph.backward(inputs=True)
    assert t.grad is None and graph["W2"].grad.shape == (2, 3)


def test_a_traceback_shows_the_written_out_line():
    net = tg.mlp([2, 3, 1], seed=0)
    graph = tg.Graph(net.loss)
    graph.forward({"x": [1.0, 2.0], "t": [0.5]})

    def broken(z):
        raise RuntimeError("broken on purpose")

    graph["h1"].forward = broken
    graph._compiled.clear()  # the code binds methods when it is written
    graph._plans.clear()
    graph._forward_plan = None
    with pytest.raises(RuntimeError):
        graph.forward({"x": [1.0, 2.0], "t": [0.5]})  # the first pass of the new plan: the loop
    with pytest.raises(RuntimeError) as info:
        graph.forward({"x": [1.0, 2.0], "t": [0.5]})
    text = "".join(traceback.format_exception(info.value))
    assert "h1 = forward_h1(z1)" in text
    with pytest.raises(tg.GraphError, match="forward pass first"):
        graph.backward()                            # the failed pass left nothing to differentiate


def test_names_python_would_rewrite_or_misread_stay_names():
    """Unicode names that Python normalises (µ → μ), line breaks and quotes in names."""
    x = tg.Input("x", shape=(2,))
    mu = tg.Parameter([1.0, 2.0], name="μ")                       # Greek mu
    micro = tg.Parameter([10.0, 20.0], name="µ")                  # micro sign: the same after NFKC
    odd = tg.Tanh(tg.Add(tg.Multiply(x, mu, name="xa"), micro, name="h\n    raise SystemExit  #"),
                  name='"""\\N')
    graph = tg.Graph(tg.Sum(odd, name='E """ \\x'))
    written, looped = both_ways(graph, {"x": [1.0, 1.0]})
    assert_identical(written, looped)
    assert np.isclose(written[0], np.tanh([11.0, 22.0]).sum())
    assert np.allclose(micro.grad, 1 - np.tanh([11.0, 22.0]) ** 2)
    compile(graph.source(), "<test>", "exec")


def test_copies_and_pickles_train_on_their_own_nodes():
    import copy
    import pickle

    net = tg.mlp([2, 3, 1], seed=0)
    graph = tg.Graph(net.loss)
    feed = {"x": np.array([0.5, -1.0]), "t": np.array([1.0])}
    graph.forward(feed)
    graph.backward()
    for clone in (copy.deepcopy(graph), pickle.loads(pickle.dumps(graph))):
        clone["W1"].value[...] = 0.5
        written, looped = both_ways(clone, feed)
        assert_identical(written, looped)
        graph.forward(feed)
        graph.backward()
        assert not np.array_equal(clone["W1"].grad, graph["W1"].grad)


def test_alternating_shapes_reuse_their_code_and_dead_graphs_leave_no_source_behind():
    import gc
    import linecache

    net = tg.mlp([2, 3, 1], seed=0)
    rng = np.random.default_rng(0)
    feeds = [{"x": rng.normal(size=(4, 2)), "t": rng.uniform(size=(4, 1))},
             {"x": rng.normal(size=2), "t": rng.uniform(size=1)}]
    for _ in range(2):                           # each written out on its second pass
        for feed in feeds:
            net.graph.forward(feed)
            net.graph.backward()
    entries = len(linecache.cache)
    for _ in range(5):
        for feed in feeds:
            net.graph.forward(feed)
            net.graph.backward()
    assert len(linecache.cache) == entries      # no new code: one set per batch-or-not and shapes
    for _ in range(20):                          # short-lived graphs
        g = tg.Graph(tg.mlp([2, 2, 1]).loss)
        g.forward(feeds[1])
        g.backward()
    del g
    gc.collect()
    assert len(linecache.cache) <= entries


def test_both_ways_call_the_same_methods_after_a_monkeypatch():
    x = tg.Input("x")
    h = tg.Tanh(tg.Multiply(x, tg.Parameter(np.array(0.5), name="a"), name="ax"), name="h")
    graph = tg.Graph(tg.Sum(h, name="E"))
    graph.forward({"x": np.array([1.0, 2.0])})
    h.forward = lambda z: np.tanh(2 * z)         # after the plan was made: neither path uses it
    for value in [np.array([[1.0, 2.0]]), np.array([3.0])]:
        assert_identical(*both_ways(graph, {"x": value}))


def test_code_is_written_on_the_second_pass_and_not_for_huge_graphs(monkeypatch):
    net = tg.mlp([2, 3, 1], seed=0)
    graph = tg.Graph(net.loss)
    feed = {"x": [1.0, 2.0], "t": [0.5]}
    written = lambda: [c for c in graph._compiled.values() if callable(c)]  # noqa: E731
    graph.forward(feed)
    graph.backward()
    assert written() == []                   # run once: nothing written
    graph.forward(feed)
    graph.backward()
    assert len(written()) == 2               # forward and backward
    monkeypatch.setattr(tg.compiled, "MAX_NODES", 3)
    big = tg.Graph(tg.mlp([2, 3, 1], seed=0).loss)
    for _ in range(3):
        big.forward(feed)
        big.backward()
    assert not [c for c in big._compiled.values() if callable(c)]
    assert np.array_equal(big["W1"].grad, graph["W1"].grad)


@pytest.mark.parametrize("new", [np.ones((3, 100), np.float32), np.ones((3, 120))])
def test_a_parameter_replaced_by_another_dtype_or_shape_gets_code_of_its_own(new):
    x = tg.Input("x", shape=(3,))
    W = tg.Parameter(np.ones((3, 100)), name="W")
    graph = tg.Graph(tg.Sum(tg.Logistic(tg.WeightedSum(x, W, name="z"), name="h"), name="E"))
    feed = {"x": np.array([0.5, -1.0, 2.0])}
    both_ways(graph, feed)
    W.value = new                                   # e.g. weights set by hand, as float32
    written, looped = both_ways(graph, feed)
    assert_identical(written, looped)
    assert W.grad.dtype == new.dtype and W.grad.shape == new.shape and graph["z"].shape == new.shape[1:]


def test_code_written_while_shared_nodes_hold_another_graphs_values_has_its_own_dtypes():
    rng = np.random.default_rng(0)
    x, t = tg.Input("x", shape=(3,)), tg.Input("t", shape=(100,))
    W = tg.Parameter(rng.normal(size=(3, 100)).astype(np.float32), name="W")
    E = tg.SquaredLoss(tg.WeightedSum(x, W, name="o"), t, name="E")
    a = tg.Graph(E)                                                                    # float32
    b = tg.Graph(tg.Add(E, tg.Sum(tg.Parameter(np.zeros(2), name="c"), name="s"), name="F"))  # float64
    feed = {"x": rng.normal(size=3), "t": rng.normal(size=100)}
    for graph in (a, b, a, b, a):      # a's code is written while the nodes hold b's float64 values
        loss = graph.forward(feed)
        graph.backward()
        assert loss.dtype == graph.dtype and W.grad.dtype == np.float32
    assert any(callable(c) for c in a._compiled.values())
    assert_identical(*both_ways(a, feed))


def test_methods_replaced_on_the_class_or_a_node_are_called_not_written_out(monkeypatch):
    x = tg.Input("x", shape=(2,))
    feed = {"x": np.array([0.5, -1.0])}
    original = tg.Tanh.backward
    monkeypatch.setattr(tg.Tanh, "backward", lambda self, g: (2 * original(self, g)[0],))  # a planted bug
    graph = tg.Graph(tg.Sum(tg.Tanh(tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)), name="W"), name="z"),
                                    name="h"), name="E"))
    grads = []
    for _ in range(3):                     # the loop, then written-out code: the same (wrong) gradient
        graph.forward(feed)
        graph.backward()
        grads.append(graph["W"].grad.copy())
    assert np.array_equal(grads[0], grads[2]) and "backward_h(grad_h)" in graph.source()
    assert np.allclose(grads[2][0], 2 * 0.5 * (1 - np.tanh(-0.5) ** 2))
    h = graph["h"]
    h.forward = lambda z: np.tanh(2 * z)   # on the node, before its plan is made: both ways use it
    graph._plans.clear()
    graph._forward_plan = None
    graph._codes.clear()
    graph._compiled = {}
    values = [float(graph.forward(feed)) for _ in range(2)]
    del h.forward                          # the plan still holds the node's own function
    values.append(float(graph.forward(feed)))
    assert values == [values[0]] * 3 and np.isclose(values[0], np.tanh(2 * np.array([-0.5, -0.5])).sum())


def test_nodes_with_arrays_above_written_out_are_called():
    """Large arrays: a call costs little beside the arithmetic, and code keeps no large arrays."""
    net = tg.mlp([3, tg.node.WRITTEN_OUT + 1, 2], seed=0)
    graph = tg.Graph(net.loss)
    feed = {"x": np.array([0.5, -1.0, 2.0]), "t": np.array([0.0, 1.0])}
    source = graph.source()
    assert "h1 = forward_h1(z1)" in source and "z2 = np.dot(h1, W2) + b2" in source
    assert "backward_z2(grad_z2)" in source                    # its ∂E/∂h1 is large
    assert_identical(*both_ways(graph, feed))


def test_backward_code_written_while_shared_nodes_hold_another_graphs_values_has_its_own_dtypes():
    c = tg.Constant(np.linspace(-1, 1, 100), name="c")
    p = tg.Parameter(np.full(100, 0.5, np.float32), name="p")
    h = tg.Tanh(tg.Multiply(c, p, name="cp"), name="h")                 # shared, fed by no Input
    xa, xb = tg.Input("xa", shape=(100,)), tg.Input("xb", shape=(100,))
    a = tg.Graph(tg.Sum(tg.Multiply(h, xa, name="ma"), name="EA"))                  # float32
    b = tg.Graph(tg.Sum(tg.Add(tg.Multiply(h, xb, name="mb"), tg.Parameter(np.zeros(1), name="q"),
                               name="ab"), name="EB"))                             # float64
    fa, fb = {"xa": np.ones(100)}, {"xb": np.ones(100)}
    a.forward(fa)
    a.backward()
    a.forward(fa)
    b.forward(fb)                      # h now holds b's float64 value
    a.backward()                       # a's backward code is written now
    written, looped = both_ways(a, fa)
    assert_identical(written, looped)
    assert p.grad.dtype == np.float32


def test_bias_gradient_has_the_dtype_of_the_gradient_it_sums():
    rng = np.random.default_rng(0)
    x = tg.Input("x", shape=(3,))
    W = tg.Parameter(rng.normal(size=(3, 70)).astype(np.float32), name="W")
    b = tg.Parameter(np.zeros(70, np.float32), name="b")
    q = tg.Parameter(rng.normal(size=70).astype(np.float32), name="q")
    graph = tg.Graph(tg.Sum(tg.Multiply(tg.WeightedSum(x, W, b, name="z"), q, name="m"), name="E"))
    q.value = q.value.astype(np.float64)           # ∂E/∂z is float64 while z is float32
    written, looped = both_ways(graph, {"x": rng.normal(size=(5, 3))})
    assert_identical(written, looped)
    assert b.grad.dtype == np.float64


def test_a_constant_replaced_by_another_shape_is_checked_again():
    x = tg.Input("x", shape=(3,))
    c = tg.Constant(np.full(100, 0.5), name="c")
    graph = tg.Graph(tg.Add(tg.WeightedSum(x, tg.Parameter(np.ones(3), name="W"), name="z"),
                            tg.Sum(tg.Tanh(c, name="tc"), name="s"), name="E"))
    feed = {"x": np.array([1.0, 2.0, 3.0])}
    both_ways(graph, feed)
    c.value = np.full(1, 2.0)                      # set by hand, of another shape
    written, looped = both_ways(graph, feed)
    assert_identical(written, looped)
    assert np.isclose(written[0], 6.0 + np.tanh(2.0)) and graph["tc"].value.shape == (1,)


def test_written_out_code_keeps_no_large_arrays():
    """Not even the column of ones a batch's bias gradient sums with (one per row)."""
    x = tg.Input("x", shape=(3,))
    z = tg.WeightedSum(x, tg.Parameter(np.ones(3), name="w"), tg.Parameter(0.5, name="b"), name="z")
    graph = tg.Graph(tg.Sum(tg.Tanh(z, name="y"), name="E"))
    feed = {"x": np.ones((tg.node.WRITTEN_OUT + 1, 3))}
    assert_identical(*both_ways(graph, feed))
    code = [c for c in graph._compiled.values() if callable(c)]
    assert len(code) == 2
    held = [v for c in code for v in c.__globals__.values() if isinstance(v, np.ndarray)]
    assert all(a.size <= tg.node.WRITTEN_OUT for a in held)
