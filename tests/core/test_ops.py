"""WeightedSum, AppendOne, Softmax: numpy references, finite differences, errors."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}
BATCH = 5
W_SHAPES = [(3,), (3, 2), (20,), (20, 4)]  # a neuron, a layer; the larger ones keep arrays between passes


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def forward(node, feed, dtype):
    """node's value from the checked loop (first pass) and from the unrolled code (second), in a graph
    computing in ``dtype`` (a Parameter of that dtype rides along as a second output)."""
    graph = tg.Graph(node, tg.Parameter(np.zeros((), dtype), name="dtype"))
    first = graph.forward(feed)
    second = graph.forward(feed)
    assert graph.dtype == dtype and graph.ran["forward"] == "unrolled" and np.array_equal(first, second)
    return second


def data(rng, shape, batch, dtype):
    return rng.normal(size=shape if batch is None else (batch,) + shape).astype(dtype)


def check(factory, shapes, batched, dtype):
    report = tg.check_node(factory, shapes, batched=batched, dtype=dtype)
    assert report.passed, str(report)
    assert len(report.rows) == len(shapes)


# ---------------------------------------------------------------- WeightedSum
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("w_shape", W_SHAPES)
def test_weighted_sum_forward_matches_numpy(w_shape, bias, batch, dtype, rng):
    n = w_shape[0]
    x, w, b = data(rng, (n,), batch, dtype), data(rng, w_shape, None, dtype), data(rng, w_shape[1:], None, dtype)
    W, B = tg.Parameter(w, name="w"), tg.Parameter(b, name="b")  # float32 Parameters: a float32 graph
    z = tg.WeightedSum(tg.Input("x", shape=(n,)), W, B if bias else None, name="z")
    got = forward(z, {"x": x}, dtype)
    x64, w64 = x.astype(np.float64), w.astype(np.float64).reshape(n, -1)
    ref = sum(x64[..., [i]] * w64[i] for i in range(n)).reshape(x.shape[:-1] + w_shape[1:])  # Σ_i x_i w_ij
    ref = ref + b if bias else ref
    assert got.dtype == dtype and got.shape == x.shape[:-1] + w_shape[1:]
    np.testing.assert_allclose(got, ref, **TOL[dtype])


@pytest.mark.parametrize("x_shape,w_shape", [((3,), (3,)), ((3,), (3, 2)), ((5, 3), (3,)), ((5, 3), (3, 2))])
def test_weighted_sum_forward_with_bias_matches_numpy(x_shape, w_shape, rng):
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[1:])
    xi = tg.Input("x", shape=x_shape[-1:])
    z = tg.WeightedSum(xi, tg.Parameter(w), tg.Parameter(b))
    got = tg.Graph(z).forward({"x": x})
    ref = np.array([[sum(x_row[i] * w[i] for i in range(3))] for x_row in np.atleast_2d(x)])
    ref = ref.reshape(np.atleast_2d(x).shape[0], *w_shape[1:]) + b
    assert np.allclose(got, ref.reshape(got.shape))
    assert got.shape == x_shape[:-1] + w_shape[1:]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("w_shape", W_SHAPES)
def test_weighted_sum_backward_matches_finite_differences(w_shape, bias, batched, dtype):
    x_shape = (BATCH, w_shape[0]) if batched else (w_shape[0],)
    check(tg.WeightedSum, [x_shape, w_shape] + ([w_shape[1:]] if bias else []), (0,) if batched else (), dtype)


def test_weighted_sum_takes_weights_fed_as_data_for_one_sample(rng):
    x, w, b = tg.Input("x", shape=(3,)), tg.Input("w", shape=(3, 2)), tg.Input("b", shape=(2,))
    g = tg.Graph(tg.Sum(tg.WeightedSum(x, w, b)))
    feed = {"x": rng.normal(size=3), "w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    assert np.isclose(g.forward(feed), sum(feed["x"][i] * feed["w"][i] for i in range(3)).sum() + feed["b"].sum())
    report = tg.gradcheck(g, feed, inputs=True)
    assert report.passed and len(report.rows) == 3


def test_float32_stays_float32():
    x = tg.Input("x", shape=(3,))
    W = tg.Parameter(np.ones((3, 2), np.float32))
    b = tg.Parameter(np.zeros(2, np.float32))
    E = tg.SquaredLoss(tg.Logistic(tg.WeightedSum(x, W, b)), tg.Input("t", shape=(2,)))
    g = tg.Graph(E)
    assert g.dtype == np.float32
    g.forward({"x": np.ones((4, 3)), "t": np.zeros((4, 2))})  # float64 data is cast
    g.backward()
    assert all(n.value.dtype == np.float32 for n in g.nodes)
    assert W.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_weighted_sum_errors_name_the_node_and_the_shapes():
    x = tg.Input("x", shape=(3,))
    W = tg.Parameter(np.zeros((3, 2)), name="W")
    with pytest.raises(
        tg.GraphError,
        match=r"WeightedSum 'z': w 'W3' must have shape \(n_in,\) or \(n_in, n_out\), "
        r"got \(3, 2, 2\)",
    ):
        tg.WeightedSum(x, tg.Parameter(np.zeros((3, 2, 2)), name="W3"), name="z")
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'z': w 'w0' must have shape .*got \(\)"):
        tg.WeightedSum(x, tg.Parameter(1.0, name="w0"), name="z")
    with pytest.raises(
        tg.GraphError,
        match=r"WeightedSum 'z': x 'm' must be a vector of features per sample, "
        r"got per-sample shape \(2, 3\)",
    ):
        tg.WeightedSum(tg.Input("m", shape=(2, 3)), W, name="z")
    with pytest.raises(
        tg.GraphError,
        match=r"WeightedSum 'z': x 'x4' has 4 features but w 'W' expects 3 "
        r"\(w shape \(3, 2\)\)",
    ):
        tg.WeightedSum(tg.Input("x4", shape=(4,)), W, name="z")
    with pytest.raises(
        tg.GraphError,
        match=r"WeightedSum 'z': b 'b' must have shape \(2,\) to match w 'W' \(3, 2\), "
        r"got \(3,\)",
    ):
        tg.WeightedSum(x, W, tg.Parameter(np.zeros(3), name="b"), name="z")
    with pytest.raises(TypeError, match=r"WeightedSum 'z': input 2 \(b\) must be a tinygraph Node, got float"):
        tg.WeightedSum(x, W, 0.5, name="z")
    with pytest.raises(TypeError, match=r"WeightedSum: input 0 \(x\) must be a tinygraph Node, got ndarray; wrap"):
        tg.WeightedSum(np.ones(3), W)


def test_weighted_sum_errors_found_when_fed():
    W = tg.Parameter(np.zeros((3, 2)), name="W")
    g = tg.Graph(tg.WeightedSum(tg.Input("x"), W, name="z"))  # x undeclared: checked against what is fed
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'z': x 'x' has 4 features but w 'W' expects 3"):
        g.forward({"x": np.ones((5, 4))})
    assert np.array_equal(g.forward({"x": np.ones((5, 3))}), np.zeros((5, 2)))
    w = tg.Input("w", shape=(3,))
    g = tg.Graph(tg.WeightedSum(tg.Input("x", shape=(3,)), w, name="zw"))
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'zw': w 'w' and b must be the same for every sample"):
        g.forward({"x": np.ones((5, 3)), "w": np.ones((5, 3))})


# ---------------------------------------------------------------- AppendOne
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("n", [1, 3, 70])
def test_append_one_forward_matches_numpy(n, batch, dtype, rng):
    x = data(rng, (n,), batch, dtype)
    got = forward(tg.AppendOne(tg.Input("x", shape=(n,))), {"x": x}, dtype)
    ref = np.concatenate([x.astype(np.float64), np.ones(x.shape[:-1] + (1,))], axis=-1)
    assert got.dtype == dtype and got.shape == x.shape[:-1] + (n + 1,)
    assert np.array_equal(got, ref)


def test_append_one_forward(rng):
    x = rng.normal(size=(4, 2))
    got = tg.Graph(tg.AppendOne(tg.Input("x"))).forward({"x": x})
    assert np.array_equal(got, np.hstack([x, np.ones((4, 1))]))
    got1 = tg.Graph(tg.AppendOne(tg.Input("x"))).forward({"x": x[0]})
    assert np.array_equal(got1, [x[0, 0], x[0, 1], 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("n", [1, 3, 70])
def test_append_one_backward_matches_finite_differences(n, batched, dtype):
    check(tg.AppendOne, [(BATCH, n) if batched else (n,)], (0,) if batched else (), dtype)


def test_append_one_is_the_bias_trick(rng):
    x, w, b = rng.normal(size=(BATCH, 3)), rng.normal(size=(3, 2)), rng.normal(size=2)
    X = tg.Input("x", shape=(3,))
    tilde = tg.WeightedSum(tg.AppendOne(X), tg.Parameter(np.vstack([w, b])))
    assert tg.AppendOne(X).shape == (4,)
    assert np.allclose(tg.Graph(tilde).forward({"x": x}), x @ w + b)


def test_append_one_errors_name_the_node():
    for shape in [(2, 3), ()]:
        with pytest.raises(
            tg.GraphError,
            match=rf"AppendOne 'a': x 'x' must be a vector of features per sample, "
            rf"got per-sample shape {re_shape(shape)}",
        ):
            tg.AppendOne(tg.Input("x", shape=shape), name="a")
    with pytest.raises(tg.GraphError, match=r"AppendOne 'a': x 'x' must be a vector .* \(\)"):
        tg.Graph(tg.AppendOne(tg.Input("x"), name="a")).forward({"x": 1.0})
    with pytest.raises(TypeError, match=r"AppendOne: input 0 \(x\) must be a tinygraph Node, got list"):
        tg.AppendOne([1.0, 2.0])


def re_shape(shape):
    return str(shape).replace("(", r"\(").replace(")", r"\)")


# ---------------------------------------------------------------- Softmax
def softmax(z):
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape", [(1,), (4,), (2, 5), (70,)])
def test_softmax_forward_matches_numpy(shape, batch, dtype, rng):
    z = 3 * data(rng, shape, batch, dtype)
    got = forward(tg.Softmax(tg.Input("z", shape=shape)), {"z": z}, dtype)
    assert got.dtype == dtype and got.shape == z.shape
    np.testing.assert_allclose(got, softmax(z.astype(np.float64)), **TOL[dtype])
    np.testing.assert_allclose(got.sum(axis=-1), 1.0, **TOL[dtype])


def test_softmax_forward_on_parameters_matches_numpy(rng):
    for shape in [(3,), (4, 3)]:
        z = rng.normal(size=shape) * 3
        e = np.exp(z)
        assert np.allclose(tg.Graph(tg.Softmax(tg.Parameter(z))).forward({}), e / e.sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_huge_scores(dtype):
    with np.errstate(all="raise"):
        got = forward(
            tg.Softmax(tg.Input("z", shape=(3,))), {"z": np.array([[1e4, 0.0, -1e4], [5.0, 5.0, 5.0]])}, dtype
        )
    np.testing.assert_allclose(got[0], [1.0, 0.0, 0.0], rtol=0, atol=1e-20)  # e^(−1e4) is floored, not 0
    np.testing.assert_allclose(got[1], [1 / 3] * 3, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("shape", [(1,), (4,), (5,), (2, 5), (70,)])
def test_softmax_backward_matches_finite_differences(shape, batched, dtype):
    check(tg.Softmax, [(BATCH,) + shape if batched else shape], (0,) if batched else (), dtype)


def test_softmax_errors_name_the_node():
    with pytest.raises(
        tg.GraphError,
        match=r"Softmax 's': needs a vector of scores per sample, "
        r"got per-sample shape \(\)",
    ):
        tg.Softmax(tg.Input("z", shape=()), name="s")
    with pytest.raises(tg.GraphError, match=r"Softmax 's': needs a vector of scores per sample"):
        tg.Graph(tg.Softmax(tg.Input("z"), name="s")).forward({"z": 2.0})
    with pytest.raises(TypeError, match=r"Softmax: input 0 \(z\) must be a tinygraph Node, got list"):
        tg.Softmax([1.0, 2.0])
