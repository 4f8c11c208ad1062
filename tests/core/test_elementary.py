"""Subtract, Divide, Negate, Square, Power, Exp, Log, Abs, LeakyReLU: references, gradients, errors,
expressions of numbers and nodes against derivatives by hand and finite differences, micrograd's tests."""

import math
import warnings

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-15}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}
SHAPES = [(), (2, 3), (70,)]  # (70,): more than 64 numbers, whose arrays are kept between passes
BATCH = 5


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def anywhere(rng, shape):
    return np.asarray(rng.uniform(-2.0, 2.0, size=shape))


def positive(rng, shape):
    return np.asarray(rng.uniform(0.5, 2.0, size=shape))


def away_from_zero(rng, shape):
    """Numbers in ±[0.3, 2]: clear of the kinks at 0 (and of Log's clamp at 0.25)."""
    return np.asarray(rng.uniform(0.3, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape))


def forward(node, feed, dtype):
    """node's value from the checked loop (first pass) and from the unrolled code (second), in ``dtype``."""
    graph = tg.Graph(node, tg.Parameter(np.zeros((), dtype), name="dtype"))
    first = graph.forward(feed)
    second = graph.forward(feed)
    assert graph.dtype == dtype and graph.ran["forward"] == "unrolled" and np.array_equal(first, second)
    return second


# name: (factory, reference in plain numpy, the values it is checked on)
UNARY = {
    "Negate": (tg.Negate, lambda a: -a, anywhere),
    "Square": (tg.Square, lambda x: x * x, anywhere),
    "Power 3": (lambda x: tg.Power(x, 3), lambda x: x * x * x, anywhere),
    "Power 2": (lambda x: tg.Power(x, 2.0), lambda x: x * x, anywhere),
    "Power 1": (lambda x: tg.Power(x, 1), lambda x: x, anywhere),
    "Power 0": (lambda x: tg.Power(x, 0), np.ones_like, anywhere),
    "Power -2": (lambda x: tg.Power(x, -2), lambda x: 1.0 / (x * x), away_from_zero),
    "Power 0.5": (lambda x: tg.Power(x, 0.5), np.sqrt, positive),
    "Power 1.5": (lambda x: tg.Power(x, 1.5), lambda x: x * np.sqrt(x), positive),
    "Exp": (tg.Exp, np.exp, anywhere),
    "Log": (tg.Log, np.log, positive),
    "Log clamp=0.25": (lambda x: tg.Log(x, clamp=0.25), lambda x: np.log(np.maximum(x, 0.25)), away_from_zero),
    "Abs": (tg.Abs, np.abs, away_from_zero),
    "LeakyReLU": (tg.LeakyReLU, lambda z: np.where(z > 0, z, 0.01 * z), away_from_zero),
    "LeakyReLU 0.2": (lambda z: tg.LeakyReLU(z, slope=0.2), lambda z: np.where(z > 0, z, 0.2 * z), away_from_zero),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_forward_matches_numpy(name, shape, batch, dtype, rng):
    factory, reference, values = UNARY[name]
    x = values(rng, shape if batch is None else (batch,) + shape).astype(dtype)
    got = forward(factory(tg.Input("x", shape=shape)), {"x": x}, dtype)
    assert got.dtype == dtype and got.shape == x.shape
    np.testing.assert_allclose(got, reference(x.astype(np.float64)), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,batched", [((), False), ((), True), ((2, 3), False), ((2, 3), True), ((70,), False)])
@pytest.mark.parametrize("name", list(UNARY))
def test_unary_backward_matches_finite_differences(name, shape, batched, dtype):
    factory, _, values = UNARY[name]
    x = values(np.random.default_rng(1), (BATCH,) + shape if batched else shape)
    report = tg.check_node(factory, [x], batched=(0,) if batched else (), dtype=dtype)
    assert report.passed, str(report)
    assert len(report.rows) == 1


# name: (factory, reference for one sample in numpy, per-sample shapes, values, the inputs that are Parameters)
BINARY = {
    "Subtract": (tg.Subtract, np.subtract, [(3,), (3,)], (anywhere, anywhere), ()),
    "Subtract a (n,) Parameter": (tg.Subtract, np.subtract, [(3,), (3,)], (anywhere, anywhere), (1,)),
    "Subtract from a scalar Parameter": (tg.Subtract, np.subtract, [(), (3,)], (anywhere, anywhere), (0,)),
    "Subtract a per-sample scalar": (tg.Subtract, np.subtract, [(3,), ()], (anywhere, anywhere), ()),
    "Subtract (2, 1) and (3,)": (tg.Subtract, np.subtract, [(2, 1), (3,)], (anywhere, anywhere), ()),
    "Subtract one input from itself": (lambda a: tg.Subtract(a, a), np.zeros_like, [(3,)], (anywhere,), ()),
    "Divide": (tg.Divide, np.divide, [(3,), (3,)], (anywhere, away_from_zero), ()),
    "Divide by a (n,) Parameter": (tg.Divide, np.divide, [(3,), (3,)], (anywhere, away_from_zero), (1,)),
    "Divide a scalar Parameter": (tg.Divide, np.divide, [(), (3,)], (anywhere, away_from_zero), (0,)),
    "Divide by a per-sample scalar": (tg.Divide, np.divide, [(3,), ()], (anywhere, away_from_zero), ()),
    "Divide (2, 1) by (3,)": (tg.Divide, np.divide, [(2, 1), (3,)], (anywhere, away_from_zero), ()),
    "Divide one input by itself": (lambda a: tg.Divide(a, a), np.ones_like, [(3,)], (away_from_zero,), ()),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_forward_matches_numpy_sample_by_sample(name, batch, dtype, rng):
    factory, reference, shapes, draws, params = BINARY[name]
    fed = [i not in params and batch is not None for i in range(len(shapes))]
    values = [draw(rng, (batch,) + s if b else s).astype(dtype) for draw, s, b in zip(draws, shapes, fed)]
    nodes = [
        tg.Parameter(v, name=f"p{i}") if i in params else tg.Input(f"x{i}", shape=s)
        for i, (s, v) in enumerate(zip(shapes, values))
    ]
    got = forward(factory(*nodes), {n.name: v for n, v in zip(nodes, values) if isinstance(n, tg.Input)}, dtype)
    v64 = [v.astype(np.float64) for v in values]
    if batch is None:
        ref = reference(*v64)
    else:  # numpy broadcasts within each sample, the batch axis stays first
        ref = np.stack([reference(*[v[k] if b else v for v, b in zip(v64, fed)]) for k in range(batch)])
    assert got.dtype == dtype and got.shape == np.shape(ref)
    np.testing.assert_allclose(got, ref, **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("name", list(BINARY))
def test_binary_backward_matches_finite_differences(name, batched, dtype):
    factory, _, shapes, draws, params = BINARY[name]
    fed = tuple(i for i in range(len(shapes)) if batched and i not in params)  # the others: Parameters
    rng = np.random.default_rng(2)
    values = [draw(rng, (BATCH,) + s if i in fed else s) for i, (draw, s) in enumerate(zip(draws, shapes))]
    report = tg.check_node(factory, values, batched=fed, dtype=dtype)
    assert report.passed, str(report)
    assert len(report.rows) == len(shapes)


@pytest.mark.parametrize("dtype", DTYPES)
def test_only_the_gradients_asked_for_are_computed(dtype):
    a, b = tg.Parameter(np.array([1.0, 2.0], dtype), name="a"), tg.Constant([4.0, 8.0], name="b")
    for cls, grad_a in ((tg.Subtract, [1.0, 1.0]), (tg.Divide, [0.25, 0.125])):
        graph = tg.Graph(tg.Sum(cls(a, b)))
        graph.forward({})
        graph.backward()
        assert a.grad.dtype == dtype and np.array_equal(a.grad, grad_a) and b.grad is None


# ---------------------------------------------------------------- the numbers at the edges
@pytest.mark.parametrize("dtype", DTYPES)
def test_exp_neither_overflows_nor_warns(dtype):
    x = tg.Parameter(np.array([1e4, 800.0, 30.0, 0.0, -30.0, -1e4], dtype), name="x")
    graph = tg.Graph(tg.Sum(tg.Exp(x, name="y"), name="E"))
    limit = {np.float64: 500.0, np.float32: 60.0}[dtype]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        graph.forward({})
        graph.backward()
    y = graph["y"].value
    assert y.dtype == dtype and np.all(np.isfinite(y)) and np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(y[:3], [math.exp(limit), math.exp(limit), math.exp(30.0)], rtol=1e-6)
    assert y[3] == 1.0 and y[5] == 0.0
    assert np.array_equal(x.grad, y)  # ∂y/∂x = y, at the limit too


def test_log_with_a_clamp_is_flat_below_it():
    x = tg.Parameter([0.0, 1e-13, 0.5, 2.0], name="x")
    graph = tg.Graph(tg.Sum(tg.Log(x, clamp=1e-12, name="y"), name="E"))
    graph.forward({})
    graph.backward()
    np.testing.assert_allclose(graph["y"].value, np.log([1e-12, 1e-12, 0.5, 2.0]), rtol=1e-15)
    assert np.array_equal(x.grad, [0.0, 0.0, 2.0, 0.5])  # 0 where x ≤ ε, 1/x above
    assert graph["y"].formula == "y = log(max(x, 1e-12))"
    assert graph["y"].derivative == "∂y/∂x = 1/x if x > 1e-12 else 0"


def test_abs_and_leaky_relu_at_zero():
    x = tg.Parameter([-1.5, 0.0, 2.0], name="x")
    graph = tg.Graph(tg.Sum(tg.Abs(x), name="E"))
    graph.forward({})
    graph.backward()
    assert np.array_equal(x.grad, [-1.0, 0.0, 1.0])  # sign(x), 0 at 0
    graph = tg.Graph(tg.Sum(tg.LeakyReLU(x, slope=0.1), name="E"))
    assert np.allclose(graph.forward({}), -0.15 + 0.0 + 2.0)
    graph.backward()
    assert np.array_equal(x.grad, [0.1, 0.1, 1.0])  # α at 0


def test_power_with_a_root_sends_inf_at_zero_without_a_warning():
    x = tg.Parameter([0.0, 4.0], name="x")
    graph = tg.Graph(tg.Sum(tg.Power(x, 0.5, name="r"), name="E"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph.forward({})
        graph.backward()
    assert x.grad[0] == np.inf and x.grad[1] == 0.25
    with pytest.raises(tg.GraphError, match="'r'"):
        graph.backward(check_finite=True)


def test_power_of_negative_numbers_with_an_integer_exponent():
    x = tg.Parameter([-2.0, -0.5], name="x")
    graph = tg.Graph(tg.Sum(tg.Power(x, 3), name="E"))
    assert graph.forward({}) == -8.125
    graph.backward()
    assert np.array_equal(x.grad, [12.0, 0.75])  # 3x²


# ---------------------------------------------------------------- errors
def test_log_of_a_non_positive_number_names_the_node_and_where():
    x = tg.Input("x", shape=(2,))
    graph = tg.Graph(tg.Log(x, name="lg"))
    with pytest.raises(
        tg.GraphError, match=r"^Log 'lg': log needs positive numbers: x 'x' holds -1\.0 at index \(1, 0\); give clamp=ε"
    ):
        graph.forward({"x": np.array([[1.0, 2.0], [-1.0, 0.0]])})
    with pytest.raises(tg.GraphError, match=r"x 'x' holds 0\.0 at index \(1,\)"):
        graph.forward({"x": np.array([1.0, 0.0])})
    with pytest.raises(tg.GraphError, match=r"x 's' holds nan;"):
        tg.Graph(tg.Log(tg.Parameter(np.nan, name="s"))).forward({})
    assert np.allclose(tg.Graph(tg.Log(x, clamp=0.5)).forward({"x": np.array([1.0, 0.0])}), [0.0, np.log(0.5)])


def test_log_refuses_a_bad_clamp():
    x = tg.Input("x", shape=(2,))
    with pytest.raises(TypeError, match=r"^Log 'lg': clamp must be a number, got str '0\.1'"):
        tg.Log(x, clamp="0.1", name="lg")
    for bad in (0.0, -1e-3, np.inf, np.nan):
        with pytest.raises(tg.GraphError, match=r"^Log: clamp must be a finite number > 0"):
            tg.Log(x, clamp=bad)
    tiny = tg.Log(tg.Parameter(np.ones(2, np.float32)), clamp=1e-50, name="tiny")
    with pytest.raises(tg.GraphError, match=r"^Log 'tiny': clamp=1e-50 is 0 in float32"):
        tg.Graph(tiny).forward({})


def test_power_refuses_a_bad_exponent_and_numbers_it_cannot_raise():
    x = tg.Input("x", shape=(3,))
    for bad, kind in (("2", "str"), (True, "bool"), (None, "NoneType"), (np.ones(2), "ndarray")):
        with pytest.raises(TypeError, match=rf"^Power 'y': p must be a number, got {kind}"):
            tg.Power(x, bad, name="y")
    for bad in (np.nan, np.inf):
        with pytest.raises(tg.GraphError, match=r"^Power: p must be a finite number"):
            tg.Power(x, bad)
    graph = tg.Graph(tg.Power(x, 0.5, name="root"))
    root = r"^Power 'root': x\^0\.5 is not a real number for x < 0: x 'x' holds -1\.0 at index \(2,\)$"
    with pytest.raises(tg.GraphError, match=root):
        graph.forward({"x": np.array([1.0, 0.0, -1.0])})
    graph = tg.Graph(tg.Power(x, -1, name="inv"))
    inverse = r"^Power 'inv': x\^\(-1\) divides by zero: x 'x' holds 0\.0 at index \(1,\)$"
    with pytest.raises(tg.GraphError, match=inverse):
        graph.forward({"x": np.array([1.0, 0.0, -1.0])})


def test_divide_by_zero_names_the_node_and_the_denominator():
    a, b = tg.Input("a", shape=(3,)), tg.Input("b", shape=(3,))
    graph = tg.Graph(tg.Divide(a, b, name="q"))
    with pytest.raises(tg.GraphError, match=r"^Divide 'q': division by zero: b 'b' holds 0 at index \(1, 2\)$"):
        graph.forward({"a": np.ones((2, 3)), "b": np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 0.0]])})
    with pytest.raises(tg.GraphError, match=r"^Divide 'd': per-sample shapes do not broadcast: 'a' \(3,\), 'c' \(2,\)"):
        tg.Divide(a, tg.Input("c", shape=(2,)), name="d")
    with pytest.raises(tg.GraphError, match=r"^Subtract 's': per-sample shapes do not broadcast"):
        tg.Subtract(a, tg.Input("c", shape=(2,)), name="s")


def test_leaky_relu_refuses_a_slope_that_is_no_number():
    z = tg.Input("z", shape=(3,))
    with pytest.raises(TypeError, match=r"^LeakyReLU: slope must be a number, got str"):
        tg.LeakyReLU(z, slope="0.1")
    with pytest.raises(tg.GraphError, match=r"^LeakyReLU 'h': slope must be a finite number, got nan"):
        tg.LeakyReLU(z, slope=np.nan, name="h")


@pytest.mark.parametrize("cls", [tg.Negate, tg.Square, tg.Exp, tg.Log, tg.Abs, tg.LeakyReLU])
def test_unary_nodes_want_a_node(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: input 0 \(\w\) must be a tinygraph Node, got list; wrap"):
        cls([1.0, 2.0])


# ---------------------------------------------------------------- their text, for the trace and the diagrams
def test_each_node_states_its_text_in_its_own_symbols():
    x = tg.Input("x", shape=(2,))
    assert tg.Square(x).symbols() == ("y", ["x"]) and tg.Square(x).gradients == {"x": "∂E/∂y ⊙ 2x"}
    assert tg.Negate(x).symbols() == ("y", ["a"]) and tg.Negate(x).gradients == {"a": "−∂E/∂y"}
    assert tg.Exp(x).gradients == {"x": "∂E/∂y ⊙ y"} and tg.Log(x).gradients == {"x": "∂E/∂y ⊙ 1/x"}
    assert tg.Abs(x).gradients == {"x": "∂E/∂y ⊙ sign(x)"}
    assert tg.LeakyReLU(x).gradients == {"z": "∂E/∂y ⊙ 1 if z > 0 else 0.01"}
    assert tg.Subtract(x, x).gradients == {"a": "∂E/∂y · 1", "b": "∂E/∂y · (−1)"}
    assert tg.Divide(x, x).gradients == {"a": "∂E/∂y ⊙ 1/b", "b": "−∂E/∂y ⊙ a/b²"}
    texts = {p: (tg.Power(x, p).formula, tg.Power(x, p).derivative) for p in (3, 2, 1, 0, -1, 0.5)}
    assert texts == {
        3: ("y = x^3", "∂y/∂x = 3·x^2"),
        2: ("y = x^2", "∂y/∂x = 2·x"),
        1: ("y = x", "∂y/∂x = 1"),
        0: ("y = 1", "∂y/∂x = 0"),
        -1: ("y = x^(-1)", "∂y/∂x = -1·x^(-2)"),
        0.5: ("y = x^0.5", "∂y/∂x = 0.5·x^(-0.5)"),
    }
    for cls in (tg.Negate, tg.Square, tg.Power, tg.Exp, tg.Log, tg.Abs, tg.LeakyReLU):
        assert issubclass(cls, tg.Elementwise) and cls.formula_tex and cls.derivative_tex


def test_the_trace_and_the_expanded_diagram_put_the_numbers_in():
    x = tg.Parameter([2.0, -1.0], name="x")
    y = tg.Power(x, 3, name="y")
    graph = tg.Graph(tg.Sum(tg.LeakyReLU(y, name="h"), name="E"))
    text = str(tg.trace(graph, {}))
    assert "y[0] = 2^3 = 8" in text and "y[1] = (-1)^3 = -1" in text
    assert "h[1] = (-1) if (-1) > 0 else 0.01·(-1) = -0.01" in text
    dot = tg.to_dot(graph, expand=["y", "h"])
    assert "y[1]: element in Power 'y'" in dot


# ---------------------------------------------------------------- expressions of numbers and nodes
X = np.array([0.7, -1.3, 2.1])
Y = np.array([1.5, 0.8, -1.1])
S = np.array(0.6)

# name: (the expression in tinygraph, the same in plain numpy); x and y have shape (3,), s is a number
EXPRESSIONS = {
    "2 * x + 2 + x": (lambda x, y, s: 2 * x + 2 + x, lambda x, y, s: 2 * x + 2 + x),
    "(x - 1) * (1 - y)": (lambda x, y, s: (x - 1) * (1 - y), lambda x, y, s: (x - 1) * (1 - y)),
    "x / 2.0 + 10.0 / y": (lambda x, y, s: x / 2.0 + 10.0 / y, lambda x, y, s: x / 2.0 + 10.0 / y),
    "x ** 3 - s * x ** 2": (lambda x, y, s: x**3 - s * x**2, lambda x, y, s: x**3 - s * x**2),
    "-x * y + s": (lambda x, y, s: -x * y + s, lambda x, y, s: -x * y + s),
    "h = x * y used twice": (
        lambda x, y, s: (lambda h: h.relu() + h.tanh())(x * y),
        lambda x, y, s: np.maximum(x * y, 0) + np.tanh(x * y),
    ),
    "(x - y) / (x * y + s)": (lambda x, y, s: (x - y) / (x * y + s), lambda x, y, s: (x - y) / (x * y + s)),
    "exp and log": (
        lambda x, y, s: (s * x).exp() + (y * y + 1).log(),
        lambda x, y, s: np.exp(s * x) + np.log(y * y + 1),
    ),
    "sigmoid": (lambda x, y, s: (x - s).sigmoid() * x, lambda x, y, s: x / (1 + np.exp(-(x - s)))),
    "sum of nodes": (lambda x, y, s: sum([x, y, x * y, s]), lambda x, y, s: x + y + x * y + s),
    "h = s * x in two branches": (
        lambda x, y, s: (lambda h: (h + 1) * (h - 1))(s * x),
        lambda x, y, s: (s * x + 1) * (s * x - 1),
    ),
    "the elementary nodes": (
        lambda x, y, s: tg.Square(x - y) + tg.Abs(y) - tg.LeakyReLU(x, 0.1) + tg.Power(y * y + s, 0.5),
        lambda x, y, s: (x - y) ** 2 + np.abs(y) - np.where(x > 0, x, 0.1 * x) + np.sqrt(y * y + s),
    ),
    "z reassigned": (
        lambda x, y, s: (lambda z: (z * z - z / 2.0).tanh() * x)(x * y + s),
        lambda x, y, s: np.tanh((x * y + s) ** 2 - (x * y + s) / 2.0) * x,
    ),
    "numbers on both sides": (
        lambda x, y, s: 3 - 2 * (s - x) / 4 + 1 / (2 + s),
        lambda x, y, s: 3 - 2 * (s - x) / 4 + 1 / (2 + s),
    ),
}


def numeric_gradients(f, values, eps=1e-6):
    """Central differences of Σ f(values) in plain numpy, for each of the values."""
    grads = []
    for k, v in enumerate(values):
        g = np.zeros(v.shape)
        for i in np.ndindex(v.shape):
            up, down = [w.copy() for w in values], [w.copy() for w in values]
            up[k][i] += eps
            down[k][i] -= eps
            g[i] = (np.sum(f(*up)) - np.sum(f(*down))) / (2 * eps)
        grads.append(g)
    return grads


@pytest.mark.parametrize("name", list(EXPRESSIONS))
def test_expressions_of_numbers_and_nodes_match_numpy_and_finite_differences(name):
    build, reference = EXPRESSIONS[name]
    x, y, s = tg.Parameter(X, name="x"), tg.Parameter(Y, name="y"), tg.Parameter(S, name="s")
    graph = tg.Graph(tg.Sum(build(x, y, s), name="E"))
    for _ in range(2):  # the checked loop, then the unrolled code
        value = graph.forward({})
        graph.backward()
        np.testing.assert_allclose(value, np.sum(reference(X, Y, S)), rtol=1e-13)
        for node, numeric in zip((x, y, s), numeric_gradients(reference, [X, Y, S])):
            if node not in graph:  # (an expression without s)
                assert not numeric.any()
                continue
            assert node.grad.shape == node.value.shape
            np.testing.assert_allclose(node.grad, numeric, rtol=1e-6, atol=1e-8, err_msg=node.name)


def test_an_expression_by_hand():
    # E = Σ (x·y + 1)² / 2 − 3x:  ∂E/∂x = (x·y + 1)·y − 3,  ∂E/∂y = (x·y + 1)·x
    x, y = tg.Parameter(X, name="x"), tg.Parameter(Y, name="y")
    graph = tg.Graph(tg.Sum((x * y + 1) ** 2 / 2 - 3 * x))
    assert np.isclose(graph.forward({}), np.sum((X * Y + 1) ** 2 / 2 - 3 * X), rtol=1e-14)
    graph.backward()
    np.testing.assert_allclose(x.grad, (X * Y + 1) * Y - 3, rtol=1e-14)
    np.testing.assert_allclose(y.grad, (X * Y + 1) * X, rtol=1e-14)


# ---------------------------------------------------------------- micrograd's two tests, in tinygraph
class Dual:
    """A number and its derivatives with respect to the inputs: plain-Python forward mode."""

    def __init__(self, value, derivatives):
        self.value, self.d = float(value), tuple(derivatives)

    @staticmethod
    def of(other, n):
        return other if isinstance(other, Dual) else Dual(other, (0.0,) * n)

    def __add__(self, other):
        other = Dual.of(other, len(self.d))
        return Dual(self.value + other.value, [a + b for a, b in zip(self.d, other.d)])

    __radd__ = __add__

    def __mul__(self, other):
        other = Dual.of(other, len(self.d))
        return Dual(self.value * other.value, [a * other.value + self.value * b for a, b in zip(self.d, other.d)])

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + -Dual.of(other, len(self.d))

    def __pow__(self, p):  # d(u^p) = p·u^(p−1)·du
        return Dual(self.value**p, [p * self.value ** (p - 1) * a for a in self.d])

    def __truediv__(self, other):
        return self * Dual.of(other, len(self.d)) ** -1

    def __rtruediv__(self, other):
        return Dual.of(other, len(self.d)) * self**-1

    def relu(self):
        return Dual(max(self.value, 0.0), [a if self.value > 0 else 0.0 for a in self.d])


def test_micrograd_sanity_check():
    # micrograd's test_sanity_check, in tinygraph: x = −4, z = 3x + 2 = −10 < 0, so relu(z) = 0,
    # q = z·x = 40, h = relu(z²) = 100, y = h + q + q·x = −20.  By hand:
    # dy/dx = dh/dx + dq/dx·(1 + x) + q = 2z·3 + (3x + z)(1 + x) + q = −60 + 66 + 40 = 46.
    def expression(x):
        z = 2 * x + 2 + x
        q = z.relu() + z * x
        h = (z * z).relu()
        return h + q + q * x

    x = tg.Parameter(-4.0, name="x")
    assert x.shape == ()
    y = expression(x)
    graph = tg.Graph(y)
    assert graph.forward({}) == -20.0
    graph.backward()
    assert x.grad == 46.0
    dual = expression(Dual(-4.0, [1.0]))
    assert (dual.value, dual.d) == (-20.0, (46.0,))


def test_micrograd_more_ops():
    # micrograd's test_more_ops, in tinygraph; the numbers from forward mode (Dual) and, as
    # micrograd's test has them from PyTorch, g = 24.7041, ∂g/∂a = 138.8338, ∂g/∂b = 645.5773.
    def expression(a, b):
        c = a + b
        d = a * b + b**3
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + (b + a).relu()
        d += 3 * d + (b - a).relu()
        e = c - d
        f = e**2
        g = f / 2.0
        g += 10.0 / f
        return g

    a, b = tg.Parameter(-4.0, name="a"), tg.Parameter(2.0, name="b")
    graph = tg.Graph(expression(a, b))
    value = graph.forward({})
    graph.backward()
    dual = expression(Dual(-4.0, [1.0, 0.0]), Dual(2.0, [0.0, 1.0]))
    assert np.isclose(value, dual.value, rtol=1e-14, atol=0)
    assert np.isclose(a.grad, dual.d[0], rtol=1e-14, atol=0) and np.isclose(b.grad, dual.d[1], rtol=1e-14, atol=0)
    assert np.allclose([value, a.grad, b.grad], [24.7041, 138.8338, 645.5773], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_a_scalar_expression_runs_without_a_feed_or_a_loss(dtype):
    a, b = tg.Parameter(np.array(3.0, dtype), name="a"), tg.Parameter(np.array(-2.0, dtype), name="b")
    y = (a * b).tanh() + a / b - b.exp() + (a * a).log()
    graph = tg.Graph(y)
    value = graph.forward({})
    graph.backward()
    assert value.shape == () and value.dtype == dtype and a.grad.shape == () and a.grad.dtype == dtype
    t = np.tanh(-6.0)  # by hand: ∂y/∂a = (1 − t²)·b + 1/b + 2/a,  ∂y/∂b = (1 − t²)·a − a/b² − e^b
    expected = [t - 1.5 - math.exp(-2.0) + math.log(9.0), (1 - t * t) * -2.0 - 0.5 + 2 / 3.0]
    expected.append((1 - t * t) * 3.0 - 3.0 / 4.0 - math.exp(-2.0))
    np.testing.assert_allclose([value, a.grad, b.grad], expected, **TOL[dtype])


# ---------------------------------------------------------------- SquaredLoss, rebuilt
@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize("rows", [None, 1, 8, 50])
def test_squared_loss_rebuilt_from_subtract_square_sum_and_scale(rows, reduction, rng):
    # SquaredLoss: E = ½ Σ_k (o_k − t_k)² for one sample; for a batch, the rows' sum ("sum") or
    # their mean ("mean": the sum times 1/rows, see Loss.mean_scale).
    X = rng.normal(size=(4,) if rows is None else (rows, 4))
    T = rng.normal(size=(2,) if rows is None else (rows, 2))
    W0, b0 = rng.normal(size=(4, 2)), rng.normal(size=2)
    found = []
    for composed in (False, True):
        x, t = tg.Input("x", shape=(4,)), tg.Input("t", shape=(2,))
        W, b = tg.Parameter(W0, name="W"), tg.Parameter(b0, name="b")
        o = tg.Tanh(tg.WeightedSum(x, W, b), name="o")
        if composed:
            scale = 0.5 / rows if rows and reduction == "mean" else 0.5
            E = tg.Scale(tg.Sum(tg.Square(tg.Subtract(o, t))), scale)
        else:
            E = tg.SquaredLoss(o, t, reduction=reduction)
        graph = tg.Graph(E)
        value = graph.forward({"x": X, "t": T})
        graph.backward(inputs=True)
        found.append((float(value), W.grad.copy(), b.grad.copy(), t.grad.copy()))
    (v1, *g1), (v2, *g2) = found
    assert math.isclose(v1, v2, rel_tol=1e-15)  # (np.vdot and Sum add in different orders)
    for one, two in zip(g1, g2):
        assert np.array_equal(one, two)  # the same numbers, bit for bit
