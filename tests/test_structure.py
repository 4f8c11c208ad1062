"""Add, Multiply, Concat, Slice, Sum, Mean, Scale: numpy references, finite differences, errors."""

import numpy as np
import pytest

import tinygraph as tg

rng = np.random.default_rng(0)


def feed_run(node, **arrays):
    return tg.Graph(node).forward(arrays)


def test_forwards_match_numpy():
    a, b, c = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(3,))
    A, B = tg.Input("a"), tg.Input("b")
    C = tg.Parameter(c, name="c")
    assert np.allclose(feed_run(tg.Add(A, B, C), a=a, b=b), a + b + c)
    assert np.allclose(feed_run(tg.Multiply(A, C), a=a), a * c)
    assert np.allclose(feed_run(tg.Concat(A, B), a=a, b=b[:, :2]), np.hstack([a, b[:, :2]]))
    assert np.allclose(feed_run(tg.Slice(A, 1, 3), a=a), a[:, 1:3])
    assert np.allclose(feed_run(tg.Slice(A, -2), a=a), a[:, -2:])
    assert np.isclose(feed_run(tg.Sum(A), a=a), a.sum())
    assert np.isclose(feed_run(tg.Mean(A), a=a), a.mean())
    assert np.allclose(feed_run(tg.Scale(A, -0.3), a=a), -0.3 * a)
    assert np.allclose(feed_run(tg.Softmax(A), a=a), np.exp(a) / np.exp(a).sum(1, keepdims=True))


def test_operators_build_nodes():
    a, b = tg.Input("a", shape=(3,)), tg.Input("b", shape=(3,))
    assert isinstance(a + b, tg.Add) and isinstance(a * b, tg.Multiply)
    s = 0.5 * a
    assert isinstance(s, tg.Scale) and s.c == 0.5 and isinstance(a * 2, tg.Scale)


def test_batched_scalar_per_sample_broadcasts_over_features_not_rows():
    # a (batch, 3) value times a per-sample scalar (batch,) scales each row: numpy alone
    # would line the (batch,) axis up with the features.
    x, s = rng.normal(size=(4, 3)), rng.normal(size=(4,))
    X, S = tg.Input("x", shape=(3,)), tg.Input("s", shape=())
    assert np.allclose(tg.Graph(tg.Multiply(X, S)).forward({"x": x, "s": s}), x * s[:, None])
    assert np.allclose(tg.Graph(tg.Add(X, S)).forward({"x": x, "s": s}), x + s[:, None])


CASES = {
    "Add two batched": (tg.Add, [(4, 3), (4, 3)], (0, 1)),
    "Add bias-like (n,) to (batch, n)": (tg.Add, [(4, 3), (3,)], (0,)),
    "Add three, single sample": (tg.Add, [(3,), (3,), (3,)], ()),
    "Add per-sample scalar": (tg.Add, [(4, 3), (4,)], (0, 1)),
    "Multiply batched": (tg.Multiply, [(4, 3), (4, 3)], (0, 1)),
    "Multiply by (n,)": (tg.Multiply, [(4, 3), (3,)], (0,)),
    "Multiply single": (tg.Multiply, [(3,), (3,)], ()),
    "Multiply by scalar parameter": (tg.Multiply, [(4, 3), ()], (0,)),
    "Concat batched": (tg.Concat, [(4, 3), (4, 2)], (0, 1)),
    "Concat single": (tg.Concat, [(3,), (2,), (1,)], ()),
    "Slice batched": (lambda x: tg.Slice(x, 1, 3), [(4, 5)], (0,)),
    "Slice single": (lambda x: tg.Slice(x, 0, 2), [(5,)], ()),
    "Sum": (tg.Sum, [(4, 5)], (0,)),
    "Mean": (tg.Mean, [(4, 5)], (0,)),
    "Mean single": (tg.Mean, [(5,)], ()),
    "Scale": (lambda x: tg.Scale(x, -0.7), [(4, 5)], (0,)),
    "Softmax": (tg.Softmax, [(4, 5)], (0,)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_backward_matches_finite_differences(name):
    factory, shapes, batched = CASES[name]
    report = tg.check_node(factory, shapes, batched=batched)
    assert report.passed, str(report)


def test_bias_like_add_gradient_is_summed_over_rows():
    x = tg.Input("x", shape=(3,))
    b = tg.Parameter(np.zeros(3), name="b")
    g = tg.Graph(tg.Sum(tg.Add(x, b)))
    g.forward({"x": np.ones((5, 3))})
    g.backward()
    assert np.array_equal(b.grad, [5.0, 5.0, 5.0])


def test_shared_parameter_in_two_places_gets_both_gradients():
    x = tg.Input("x", shape=(2,))
    W = tg.Parameter([[1.0, 2.0], [-1.0, 0.5]], name="W")
    a = tg.WeightedSum(x, W, name="a")
    b = tg.WeightedSum(tg.Tanh(x, name="tx"), W, name="b")
    g = tg.Graph(tg.Sum(tg.Multiply(a, b), name="E"))
    xv = np.array([0.3, -0.6])
    g.forward({"x": xv})
    g.backward()
    av, bv = xv @ W.value, np.tanh(xv) @ W.value
    assert np.allclose(W.grad, np.outer(xv, bv) + np.outer(np.tanh(xv), av))
    assert tg.gradcheck(g, {"x": xv}).passed


def test_composite_loss_is_the_weighted_sum_of_two_losses():
    X, T = tg.datasets.moons(n=40, seed=0)
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    h = tg.dense(x, 6, activation=tg.Tanh, name="h", seed=0)
    o = tg.dense(h, 1, name="o", seed=1)
    loss_a = tg.SquaredLoss(o, t, name="Ea")
    loss_b = tg.LogLoss(o, t, name="Eb")
    E = tg.Add(tg.Scale(loss_a, 0.3), tg.Scale(loss_b, 0.7), name="E")
    feed = {"x": X, "t": T[:, None]}
    both = tg.Graph(E)
    both.forward(feed)
    both.backward()
    combined = {p.name: p.grad.copy() for p in both.parameters()}
    parts = {}
    for loss in (loss_a, loss_b):
        g = tg.Graph(loss)
        g.forward(feed)
        g.backward()
        parts[loss.name] = {p.name: p.grad.copy() for p in g.parameters()}
    for name, grad in combined.items():
        assert np.allclose(grad, 0.3 * parts["Ea"][name] + 0.7 * parts["Eb"][name], rtol=1e-12)
    history = tg.fit(both, {x: X, t: T[:, None]}, tg.SGD(both.parameters(), 0.5), epochs=40, seed=0,
                     progress=False)
    assert history[-1] < 0.6 * history[0]


def test_residual_block_gradient_includes_the_skip_path():
    x = tg.Input("x", shape=(3,))
    W = tg.Parameter(rng.normal(size=(3, 3)), name="W")
    h = tg.Add(tg.Logistic(tg.WeightedSum(x, W)), x, name="h")
    g = tg.Graph(tg.Sum(h))
    xv = rng.normal(size=3)
    g.forward({"x": xv})
    g.backward(inputs=True)
    s = 1 / (1 + np.exp(-(xv @ W.value)))
    assert np.allclose(x.grad, W.value @ (s * (1 - s)) + 1.0)


def test_errors_name_the_node_and_the_shapes():
    a, b = tg.Input("a", shape=(3,)), tg.Input("b", shape=(4,))
    with pytest.raises(tg.GraphError, match=r"Add 'bad': per-sample shapes do not broadcast: 'a' \(3,\), 'b' \(4,\)"):
        tg.Add(a, b, name="bad")
    with pytest.raises(tg.GraphError, match=r"Slice 's': slice \[2:9\] is outside the 3 features of 'a'"):
        tg.Slice(a, 2, 9, name="s")
    with pytest.raises(tg.GraphError, match="outside"):
        tg.Slice(a, 2, 2)
    with pytest.raises(tg.GraphError, match=r"Concat 'c': inputs must agree on every axis but -1"):
        tg.Concat(tg.Input("m", shape=(2, 3)), tg.Input("n", shape=(3, 3)), name="c")
    u, v = tg.Input("u"), tg.Input("v")
    g = tg.Graph(tg.Concat(u, v, name="uv"))
    with pytest.raises(tg.GraphError, match=r"Input 'v' has 3 rows but Input 'u' has 4"):
        g.forward({"u": np.zeros((4, 2)), "v": np.zeros((3, 2))})
    p = tg.Parameter(np.zeros(2), name="p")
    g2 = tg.Graph(tg.Concat(tg.Input("w", shape=(2,)), p, name="wp"))
    with pytest.raises(tg.GraphError, match=r"Concat 'wp': cannot join batched and single-sample values"):
        g2.forward({"w": np.zeros((4, 2))})
    with pytest.raises(TypeError, match="c must be a finite number"):
        tg.Scale(a, "2")


def test_slice_and_concat_check_their_arguments():
    a = tg.Input("a", shape=(3,))
    with pytest.raises(TypeError, match="start must be an int, got None"):
        tg.Slice(a, None)
    with pytest.raises(TypeError, match="axis must be an int, got True"):
        tg.Concat(a, a, axis=True)


def test_a_rejected_feed_leaves_slices_and_concats_as_they_were():
    """A shape check that fails half way must not leave a Slice cutting other features."""
    x = tg.Input("x")
    last2 = tg.Slice(x, -2, name="last2")
    joined = tg.Concat(last2, tg.Slice(x, 0, 1, name="first"), name="joined")
    graph = tg.Graph(tg.Add(tg.Sum(joined, name="s"),
                            tg.Sum(tg.Add(x, tg.Parameter(np.zeros(4), name="p"), name="xp"), name="t"), name="E"))
    feed = {"x": np.array([1.0, 2.0, 3.0, 4.0])}
    assert graph.forward(feed) == 3 + 4 + 1 + 10
    with pytest.raises(tg.GraphError, match="do not broadcast"):
        graph.forward({"x": np.arange(5.0)})           # Slice and Concat are checked before Add fails
    for _ in range(3):                                  # loop, then written-out code
        assert graph.forward(feed) == 3 + 4 + 1 + 10
        assert np.array_equal(last2.value, [3.0, 4.0])
