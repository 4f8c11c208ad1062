"""Flatten and Reshape: numpy's reshape as the reference, finite differences, errors."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
BATCH = 4


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize(
    "shape,target,out",
    [((8, 3, 3), None, (72,)), ((2, 3), None, (6,)), ((6,), (2, 3), (2, 3)), ((2, 3, 4), (4, -1), (4, 6))],
)
def test_forward_is_numpys_reshape_per_sample(shape, target, out, batch, dtype, rng):
    x = rng.normal(size=shape if batch is None else (batch,) + shape).astype(dtype)
    X = tg.Input("x", shape=shape)
    y = tg.Flatten(X, name="y") if target is None else tg.Reshape(X, target, name="y")
    graph = tg.Graph(y, tg.Parameter(np.zeros((), dtype)))
    for _ in range(2):  # the loop, then the unrolled code
        got = graph.forward({"x": x})
        expected = x.reshape(out if batch is None else (batch,) + out)
        assert y.shape == out and got.dtype == dtype and np.array_equal(got, expected)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("factory", [tg.Flatten, lambda x: tg.Reshape(x, (3, 4)), lambda x: tg.Reshape(x, 12)])
def test_backward_matches_finite_differences(factory, batched, dtype):
    shape = (2, 3, 2)
    report = tg.check_node(
        factory, [(BATCH,) + shape if batched else shape], batched=(0,) if batched else (), dtype=dtype
    )
    assert report.passed, str(report)


def test_the_gradient_is_the_upstream_gradient_reshaped_back(rng):
    x = tg.Input("x", shape=(2, 2, 3))
    g = rng.normal(size=(BATCH, 12))
    graph = tg.Graph(tg.Sum(tg.Multiply(tg.Flatten(x), tg.Input("g", shape=(12,)))))  # ∂E/∂y = g
    graph.forward({"x": rng.normal(size=(BATCH, 2, 2, 3)), "g": g})
    graph.backward(inputs=True)
    assert np.array_equal(x.grad, g.reshape(BATCH, 2, 2, 3))


def test_a_shape_of_another_size_is_refused():
    x = tg.Input("x", shape=(8, 3, 3))
    with pytest.raises(
        tg.GraphError, match=r"Reshape 'r': cannot reshape x 'x' .* \(8, 3, 3\) \(72 numbers\) to \(70,"
    ):
        tg.Reshape(x, (70,), name="r")
    with pytest.raises(tg.GraphError, match=r"Reshape 'r': cannot reshape .* to \(5, -1\) \(5·k numbers\)"):
        tg.Reshape(x, (5, -1), name="r")
    graph = tg.Graph(tg.Reshape(tg.Input("late"), (4, 4), name="r"))
    with pytest.raises(tg.GraphError, match=r"cannot reshape x 'late' of per-sample shape \(15,\)"):
        graph.forward({"late": np.zeros((2, 15))})


@pytest.mark.parametrize("shape", [(0,), (-2, 3), (-1, -1), (2.0, 3), "6", None, (True, 2)])
def test_a_shape_that_is_not_whole_numbers_is_refused(shape):
    with pytest.raises(tg.GraphError, match=r"Reshape 'r': shape must be a whole number or a tuple of them"):
        tg.Reshape(tg.Input("x"), shape, name="r")


def test_flatten_states_its_formula():
    y = tg.Flatten(tg.Input("maps", shape=(2, 2, 2)), name="h")
    assert (y.formula, y.shape, repr(y)) == ("y = flatten(x)", (8,), "Flatten('h', shape=(8,))")
    assert tg.Reshape(tg.Input("x"), (2, 4)).formula == "y = reshape(x, (2, 4))"
