"""Logistic, Tanh, ReLU, Step and their Elementwise base: numpy references, finite differences, errors."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-15}, np.float32: {"rtol": 1e-5, "atol": 1e-7}}
SHAPES = [(), (3,), (3, 5), (70,)]  # (70,): more than 64 numbers, whose arrays are kept between passes
BATCH = 5


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


REFERENCES = {
    tg.Logistic: sigmoid,
    tg.Tanh: np.tanh,
    tg.ReLU: lambda z: np.where(z > 0, z, 0.0),
    tg.Step: lambda z: np.where(z >= 0, 1.0, 0.0),
}
SMOOTH = [tg.Logistic, tg.Tanh, tg.ReLU]  # the ones whose backward is the true derivative


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def in_dtype(dtype):
    """A Parameter riding along as a second output: a graph computes in its Parameters' dtype."""
    return tg.Parameter(np.zeros((), dtype), name="dtype")


def forward(node, feed, dtype):
    """node's value from the checked loop (first pass) and from the unrolled code (second)."""
    graph = tg.Graph(node, in_dtype(dtype))
    first = graph.forward(feed)
    second = graph.forward(feed)
    assert graph.dtype == dtype and graph.ran["forward"] == "unrolled" and np.array_equal(first, second)
    return second


def run(node_factory, *arrays):
    """Forward one node on fixed values (all inputs as Parameters, no batch axis)."""
    params = [tg.Parameter(a, name=f"p{i}") for i, a in enumerate(arrays)]
    return tg.Graph(node_factory(*params)).forward({})


def sample(rng, shape, batch, dtype):
    """Values around the kink at 0 (every fourth one exactly 0), in ``dtype``."""
    z = 3 * rng.normal(size=shape if batch is None else (batch,) + shape)
    z.flat[1::4] = 0.0
    return z.astype(dtype)


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cls", list(REFERENCES))
def test_forward_matches_numpy(cls, shape, batch, dtype, rng):
    z = sample(rng, shape, batch, dtype)
    got = forward(cls(tg.Input("z", shape=shape)), {"z": z}, dtype)
    ref = REFERENCES[cls](z.astype(np.float64))
    assert got.dtype == dtype and got.shape == z.shape
    np.testing.assert_allclose(got, ref, **TOL[dtype])
    if cls in (tg.ReLU, tg.Step):
        assert np.array_equal(got, ref)


@pytest.mark.parametrize("shape", [(3,), (4, 3)])
def test_forward_on_parameters_matches_numpy(shape, rng):
    z = rng.normal(size=shape) * 3
    assert np.allclose(run(tg.Logistic, z), sigmoid(z), rtol=1e-13, atol=0)
    assert np.allclose(run(tg.Tanh, z), np.tanh(z))
    assert np.array_equal(run(tg.ReLU, z), np.where(z > 0, z, 0.0))
    assert np.array_equal(run(tg.Step, z), (z >= 0).astype(float))


@pytest.mark.parametrize("size", [7, 7 * 40, 7 * 400])  # each of Logistic's three paths
@pytest.mark.parametrize("dtype", DTYPES)
def test_logistic_is_stable_for_huge_inputs(size, dtype):
    z = np.resize(np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4], dtype), size)
    with np.errstate(all="raise"):  # no overflow, underflow or nan
        y = run(tg.Logistic, z)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y)) and y[0] > 0 and y[-1] == 1.0 and y[3] == 0.5 and y[5] == 1.0
    assert np.isclose(y[2], np.exp(-30.0) / (1 + np.exp(-30.0)), rtol=1e-12 if dtype == np.float64 else 1e-6)


def test_forward_returns_a_copy_that_the_next_pass_leaves_alone(rng):
    z = tg.Input("z", shape=(70,))
    graph = tg.Graph(tg.Tanh(z))
    a, b = rng.normal(size=70), rng.normal(size=70)
    first = graph.forward({"z": a})
    graph.forward({"z": b})
    assert np.allclose(first, np.tanh(a)) and np.allclose(graph.forward({"z": b}), np.tanh(b))


# ---------------------------------------------------------------- backward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("cls", SMOOTH)
def test_backward_matches_finite_differences(cls, shape, batched, dtype):
    report = tg.check_node(cls, [(BATCH,) + shape if batched else shape], batched=(0,) if batched else (), dtype=dtype)
    assert report.passed, str(report)
    assert len(report.rows) == 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4,), (BATCH, 70)])
@pytest.mark.parametrize("cls,local", [(tg.ReLU, lambda z: z > 0), (tg.Step, lambda z: np.ones_like(z))])
def test_relu_and_step_send_back_the_upstream_gradient_times_their_local_derivative_exactly(
    cls, local, shape, dtype, rng
):
    z, r = tg.Input("z", shape=shape[-1:]), tg.Input("r", shape=shape[-1:])
    y = cls(z)
    graph = tg.Graph(tg.Sum(tg.Multiply(y, r)), in_dtype(dtype))  # ∂E/∂y = r
    zv = sample(rng, shape[-1:], shape[0] if len(shape) == 2 else None, np.float64)
    rv = rng.normal(size=shape)
    for _ in range(2):  # the loop, then the unrolled code
        graph.forward({"z": zv, "r": rv})
        graph.backward(inputs=True)
        upstream = rv.astype(dtype)
        assert y.grad.dtype == dtype and np.array_equal(y.grad, upstream)
        assert z.grad.dtype == dtype and np.array_equal(z.grad, upstream * local(zv))


def test_step_passes_gradient_straight_through():
    z = tg.Input("z")
    y = tg.Step(z)
    g = tg.Graph(tg.SquaredLoss(y, tg.Input("t")))
    g.forward({"z": np.array([-1.0, 0.5]), "t": np.array([1.0, 1.0])})
    g.backward(inputs=True)
    assert np.array_equal(y.grad, [-1.0, 0.0])  # y − t
    assert np.array_equal(z.grad, y.grad)  # derivative taken as 1
    # the true derivative is 0 almost everywhere, so finite differences disagree
    assert not tg.check_node(tg.Step, [(5, 3)], batched=(0,)).passed


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
def test_check_node_sees_steps_true_derivative_zero_and_fails_it(batched, dtype):
    report = tg.check_node(tg.Step, [(BATCH, 5) if batched else (5,)], batched=(0,) if batched else (), dtype=dtype)
    row = report["in0"]
    assert not report.passed
    assert np.all(row.numeric == 0) and np.all(row.analytic != 0)


def test_check_node_catches_a_wrong_derivative():
    class BadSquare(tg.Node):
        def forward(self, x):
            return x * x

        def backward(self, grad_out):
            return (grad_out * self.inputs[0].value,)  # should be 2x

    report = tg.check_node(BadSquare, [(4, 2)], batched=(0,))
    assert not report.passed
    assert "FAIL" in str(report)


# ---------------------------------------------------------------- the Elementwise base
class Square(tg.core.Elementwise):
    """y = z², stated as forward and local only: the chain rule comes from Elementwise."""

    def forward(self, z):
        self.z = z
        return np.multiply(z, z, out=self.out)

    def local(self, out=None):
        return np.multiply(self.z, 2, out=out)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes,batched", [([(4,)], ()), ([(BATCH, 70)], (0,))])
def test_a_subclass_stating_forward_and_local_gets_backward(shapes, batched, dtype, rng):
    assert tg.check_node(Square, shapes, batched=batched, dtype=dtype).passed
    z = rng.normal(size=shapes[0]).astype(dtype)
    np.testing.assert_allclose(
        forward(Square(tg.Input("z", shape=shapes[0][-1:])), {"z": z}, dtype), z.astype(np.float64) ** 2, **TOL[dtype]
    )


def test_a_subclass_without_local_says_so_on_backward():
    class NoLocal(tg.core.Elementwise):
        def forward(self, z):
            return z + 1

    graph = tg.Graph(tg.Sum(NoLocal(tg.Parameter([1.0, 2.0]))))
    assert graph.forward({}) == 5.0
    with pytest.raises(NotImplementedError, match=r"NoLocal must define local\(out=None\)"):
        graph.backward()


@pytest.mark.parametrize("cls", list(REFERENCES))
def test_elementwise_keeps_the_shape_and_names_itself(cls):
    y = cls(tg.Input("z", shape=(2, 3)))
    assert isinstance(y, tg.core.Elementwise) and y.shape == (2, 3) and y.inputs[0].name == "z"
    assert cls(tg.Input("u")).shape is None
    other = cls(tg.Input("z"))
    prefix = {tg.Logistic: "logistic", tg.Tanh: "tanh", tg.ReLU: "relu", tg.Step: "step"}[cls]
    assert y.name != other.name and all(n.name.startswith(prefix + "_") for n in (y, other))
    assert repr(cls(tg.Input("z", shape=(2,)), name="h")) == f"{cls.__name__}('h', shape=(2,))"


def test_gradient_texts_follow_the_derivative():
    z = tg.Input("z")
    assert tg.Logistic(z).gradients == {"z": "∂E/∂y ⊙ y(1 − y)"}
    assert tg.Tanh(z).gradients == {"z": "∂E/∂y ⊙ 1 − y²"}
    assert tg.ReLU(z).gradients == {"z": "∂E/∂y ⊙ [z > 0]"}
    assert tg.Step(z).gradients == {"z": "∂E/∂y · 1   (straight through)"}


@pytest.mark.parametrize("cls", list(REFERENCES))
def test_bad_arguments_name_the_node(cls):
    kind = cls.__name__
    with pytest.raises(TypeError, match=rf"^{kind}: input 0 \(z\) must be a tinygraph Node, got float; wrap numbers"):
        cls(2.0)
    with pytest.raises(TypeError, match=rf"^{kind} 'h': input 0 \(z\) must be a tinygraph Node, got list"):
        cls([1.0, 2.0], name="h")
    with pytest.raises(TypeError, match=rf"^{kind}: input 0 \(z\) must be a tinygraph Node, got str$"):
        cls("z")
    for bad in ("", 3):
        with pytest.raises(TypeError, match=rf"^{kind}: name must be a non-empty string, got {bad!r}"):
            cls(tg.Input("z"), name=bad)
    with pytest.raises(TypeError, match=rf"^{kind}: name must be a non-empty string, got Input\('b'\)"):
        cls(tg.Input("a"), tg.Input("b"))  # one input only: a second lands on name
