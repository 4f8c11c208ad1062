"""Input, Parameter, Constant: validation, copies, shapes, dtypes, gradients, repr and auto names."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
SHAPES = [(), (3,), (2, 3), (70,)]
BATCH = 5


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def in_dtype(dtype):
    """A Parameter riding along as a second output: a graph computes in its Parameters' dtype."""
    return tg.Parameter(np.zeros((), dtype), name="dtype")


def rx(text):
    """``text`` as a regular expression matching itself."""
    return "".join("\\" + c if c in r"()[]{}.*+?^$|\\" else c for c in text)


# ---------------------------------------------------------------- Input
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape", SHAPES)
def test_an_input_takes_the_fed_array_in_the_graphs_dtype(shape, batch, dtype, rng):
    data = rng.normal(size=shape if batch is None else (batch,) + shape)  # float64, cast by the graph
    x = tg.Input("x", shape=shape)
    graph = tg.Graph(x, in_dtype(dtype))
    for _ in range(2):
        got = graph.forward({"x": data})
        assert got.dtype == dtype and x.value.dtype == dtype and got.shape == data.shape
        assert np.array_equal(got, data.astype(dtype))
    assert graph.batch == batch and graph.shape_of(x) == shape and x.shape == shape


def test_an_undeclared_input_is_one_sample_when_1_d_and_a_batch_when_2_d():
    x = tg.Input("x")
    graph = tg.Graph(tg.Sum(x))
    assert graph.forward({"x": [1.0, 2.0]}) == 3.0 and graph.batch is None and graph.shape_of(x) == (2,)
    assert graph.forward({"x": np.ones((4, 3))}) == 12.0 and graph.batch == 4 and graph.shape_of(x) == (3,)
    assert x.shape is None  # what a graph infers stays in that graph
    other = tg.Graph(tg.Mean(x))
    assert other.shape_of(x) is None
    assert other.forward({"x": [[1.0], [3.0]]}) == 2.0 and other.shape_of(x) == (1,) and graph.shape_of(x) == (3,)


def test_a_declared_input_refuses_other_shapes():
    graph = tg.Graph(tg.Sum(tg.Input("x", shape=(2,))))
    with pytest.raises(
        tg.GraphError, match=rx("Input 'x': expected shape (2,) (one sample) or (n, 2) (a batch), got (3,)")
    ):
        graph.forward({"x": np.ones(3)})
    with pytest.raises(
        tg.GraphError, match=rx("Input 'x': expected shape (2,) (one sample) or (n, 2) (a batch), got (2, 2, 2)")
    ):
        graph.forward({"x": np.ones((2, 2, 2))})
    with pytest.raises(TypeError, match=rx("feed for Input 'x': expected an array of numbers, got dtype <U1")):
        graph.forward({"x": ["a", "b"]})


@pytest.mark.parametrize(
    "given,shape",
    [
        (None, None),
        (2, (2,)),
        (np.int64(3), (3,)),
        ((), ()),
        ([2, 3], (2, 3)),
        ((0,), (0,)),
        ((np.int32(4), 1), (4, 1)),
    ],
)
def test_input_shapes_are_tuples_of_ints(given, shape):
    x = tg.Input("x", shape=given)
    assert x.shape == shape and x.name == "x"
    assert x.shape is None or all(type(d) is int for d in x.shape)


@pytest.mark.parametrize("shape", [(-1,), (2.0,), (True,), (2, None), "ab", [1.5]])
def test_input_shape_must_be_non_negative_ints(shape):
    got = rx(repr(tuple(shape)))
    with pytest.raises(TypeError, match=rf"^Input 'x': shape must be a tuple of non-negative ints, got {got}$"):
        tg.Input("x", shape=shape)


@pytest.mark.parametrize("shape", [2.5, 2.0])
def test_input_shape_that_is_a_single_non_int_names_the_input(shape):
    with pytest.raises(TypeError, match=r"^Input 'x': shape must be a tuple of non-negative ints"):
        tg.Input("x", shape=shape)


def test_an_input_needs_a_name():
    for name in ("", None, 3, ("x",)):
        with pytest.raises(TypeError, match=rf"^Input: name must be a non-empty string, got {rx(repr(name))}$"):
            tg.Input(name)
    with pytest.raises(TypeError, match=r"Input.*missing 1 required positional argument: 'name'"):
        tg.Input()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
def test_an_input_gets_a_gradient_only_when_asked(batch, dtype, rng):
    x, r = tg.Input("x", shape=(3,)), tg.Input("r", shape=(3,))
    whole = (3,) if batch is None else (batch, 3)
    feed = {"x": rng.normal(size=whole), "r": rng.normal(size=whole)}
    graph = tg.Graph(tg.Sum(tg.Multiply(x, r)), in_dtype(dtype))  # ∂E/∂x = r
    graph.forward(feed)
    graph.backward()
    assert x.grad is None
    graph.backward(inputs=True)
    assert x.grad.dtype == dtype and np.array_equal(x.grad, feed["r"].astype(dtype))
    graph.backward()
    assert x.grad is None  # gradients are recomputed from zero on every call


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(BATCH,), (BATCH, 3), (BATCH, 70)])
def test_an_input_receives_the_gradient_of_its_value(shape, dtype):
    report = tg.check_node(lambda x: x, [shape], batched=(0,), dtype=dtype)
    assert report.passed and [r.name for r in report.rows] == ["in0"]


# ---------------------------------------------------------------- Parameter
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_a_parameters_value_is_its_output_in_its_dtype(shape, dtype, rng):
    w = rng.normal(size=shape).astype(dtype)
    p = tg.Parameter(w, name="w")
    graph = tg.Graph(p)
    got = graph.forward({})
    assert graph.dtype == dtype and got.dtype == dtype and p.value.dtype == dtype
    assert np.array_equal(got, w) and p.shape == shape and graph.parameters() == [p]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (70,)])
def test_a_parameter_receives_the_gradient_of_its_value(shape, dtype):
    report = tg.check_node(lambda p: p, [shape], dtype=dtype)
    assert report.passed and [r.name for r in report.rows] == ["in0"]


def test_parameter_copies_the_callers_array():
    a = np.array([1.0, 2.0])
    p = tg.Parameter(a)
    p.value += 1
    assert np.array_equal(a, [1.0, 2.0])
    assert tg.Parameter([1, 2]).value.dtype == np.float64


@pytest.mark.parametrize(
    "value,dtype",
    [
        ([1, 2], np.float64),
        (np.array([1, 2], np.int32), np.float64),
        ([True, False], np.float64),
        (np.ones(2, np.float32), np.float32),
        (np.ones(2, np.float16), np.float16),
        (2.5, np.float64),
    ],
)
def test_a_parameters_value_is_a_float_array(value, dtype):
    p = tg.Parameter(value, name="w")
    assert isinstance(p.value, np.ndarray) and p.value.dtype == dtype and p.value.flags.writeable
    assert np.array_equal(p.value, np.asarray(value, dtype=np.float64))


def test_a_parameter_is_stored_in_c_order_and_follows_a_new_value():
    f = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    p = tg.Parameter(f, name="w")
    assert p.value.flags.c_contiguous and np.array_equal(p.value, f)
    graph = tg.Graph(tg.Sum(p))
    assert graph.forward({}) == 15.0 and graph.forward({}) == 15.0  # the loop, the unrolled code
    p.value = np.ones(4)
    assert p.shape == (4,) and graph.forward({}) == 4.0
    p.value = np.ones(3, np.float32)
    assert graph.dtype == np.float32 and graph.forward({}).dtype == np.float32


@pytest.mark.parametrize(
    "bad,got", [([1.0, 2.0], "list"), (None, "None"), (2.0, "float"), (np.array([1, 2]), "ndarray of dtype int64")]
)
def test_a_replaced_parameter_value_must_be_a_float_array(bad, got):
    p = tg.Parameter(np.zeros(2), name="w")
    graph = tg.Graph(tg.Sum(p))
    graph.forward({})
    p.value = bad
    with pytest.raises(
        TypeError,
        match=rf"^Parameter 'w': value must be a numpy array of floats, got {got}; "
        rf"assign one, e.g. w.value = np.array\(...\)$",
    ):
        graph.forward({})
    p.value = np.zeros(2)
    p.value.flags.writeable = False
    with pytest.raises(
        TypeError,
        match=r"^Parameter 'w': value must be a writeable array \(optimizers update it in "
        r"place\), got a read-only one; assign a copy$",
    ):
        graph.forward({})


@pytest.mark.parametrize("cls", [tg.Parameter, tg.Constant])
def test_leaves_refuse_values_that_are_not_real_numbers(cls):
    kind = cls.__name__
    cases = [
        (None, TypeError, "expected an array of numbers, got None"),
        ("abc", TypeError, "expected an array of numbers, got dtype <U3"),
        (np.array([1.0, None]), TypeError, "expected an array of numbers, got dtype object"),
        (1j, TypeError, "expected real numbers, got dtype complex128"),
        ([[1.0], [1.0, 2.0]], tg.GraphError, "expected a rectangular array of numbers, got a ragged sequence"),
    ]
    for value, error, message in cases:
        with pytest.raises(error, match=rf"^{kind} 'w': {rx(message)}"):
            cls(value, name="w")
    prefix = {tg.Parameter: "param", tg.Constant: "const"}[cls]
    with pytest.raises(TypeError, match=rf"^{kind} '{prefix}_\d+': expected an array of numbers, got None$"):
        cls(None)  # an auto name
    for name in ("", 3):
        with pytest.raises(TypeError, match=rf"^{kind}: name must be a non-empty string, got {name!r}$"):
            cls(1.0, name=name)


# ---------------------------------------------------------------- Constant
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_a_constant_is_read_in_the_graphs_dtype_and_stays_as_it_is(shape, dtype, rng):
    c_value = rng.normal(size=shape)
    c = tg.Constant(c_value, name="c")
    graph = tg.Graph(tg.Add(c), in_dtype(dtype))  # y = c: the constant as the nodes using it see it
    got = graph.forward({})
    assert got.dtype == dtype and np.array_equal(got, c_value.astype(dtype))
    assert c.value.dtype == np.float64 and np.array_equal(c.value, c_value) and c.shape == shape
    assert graph.parameters() == [graph["dtype"]]  # a Constant is never trained


def test_a_constant_is_a_read_only_copy(rng):
    a = rng.normal(size=3)
    c = tg.Constant(a, name="c")
    a[0] = 100.0
    assert c.value[0] != 100.0 and not c.value.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        c.value[0] = 1.0
    assert tg.Constant([1, 2]).value.dtype == np.float64
    assert tg.Constant(np.ones(2, np.float32)).value.dtype == np.float32


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
def test_a_constant_gets_a_gradient_only_when_asked_and_follows_a_new_value(batch, dtype, rng):
    c = tg.Constant(np.arange(3.0), name="c")
    x = tg.Input("x", shape=(3,))
    xv = rng.normal(size=(3,) if batch is None else (batch, 3))
    graph = tg.Graph(tg.Sum(tg.Multiply(x, c)), in_dtype(dtype))
    tol = {"rtol": 1e-12} if dtype == np.float64 else {"rtol": 1e-5}
    for _ in range(3):  # the loop, then the unrolled code
        np.testing.assert_allclose(graph.forward({"x": xv}), (xv * np.arange(3.0)).sum(), **tol)
    graph.backward()
    assert c.grad is None
    graph.backward(inputs=True)  # ∂E/∂c = x, summed over the rows
    assert c.grad.dtype == dtype and c.grad.shape == (3,)
    np.testing.assert_allclose(c.grad, xv if batch is None else xv.sum(axis=0), **tol)
    c.value = np.array([5.0, 5.0, 5.0])
    np.testing.assert_allclose(graph.forward({"x": xv}), 5 * xv.sum(), **tol)
    c.value = [1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match=r"^Constant 'c': value must be a numpy array of floats, got list"):
        graph.forward({"x": xv})


def test_a_constant_may_be_shared_by_graphs_of_two_dtypes():
    c = tg.Constant([0.5, 0.25], name="c")
    x = tg.Input("x", shape=(2,))
    g64, g32 = (tg.Graph(tg.Sum(tg.Multiply(x, c)), in_dtype(d)) for d in (np.float64, np.float32))
    for _ in range(2):
        assert g32.forward({"x": [1.0, 1.0]}).dtype == np.float32
        assert g64.forward({"x": [1.0, 1.0]}).dtype == np.float64
    assert g32.forward({"x": [1.0, 1.0]}) == 0.75 and c.value.dtype == np.float64


# ---------------------------------------------------------------- repr and names
def test_repr_and_auto_names():
    a, b = tg.Logistic(tg.Input("x")), tg.Logistic(tg.Input("y"))
    assert a.name != b.name and a.name.startswith("logistic")
    assert repr(tg.Parameter(np.zeros((2, 3)), name="W")) == "Parameter('W', shape=(2, 3))"
    assert repr(tg.Input("x", shape=2)) == "Input('x', shape=(2,))"


def test_leaves_repr_and_auto_names():
    assert repr(tg.Input("x")) == "Input('x')" and repr(tg.Input("t", shape=())) == "Input('t', shape=())"
    assert repr(tg.Constant([1.0, 2.0], name="c")) == "Constant('c', shape=(2,))"
    assert repr(tg.Parameter(1.0, name="b")) == "Parameter('b', shape=())"
    for cls, prefix in [(tg.Parameter, "param"), (tg.Constant, "const")]:
        first, second = cls(1.0), cls(1.0)
        assert first.name != second.name
        assert all(n.name.startswith(prefix + "_") and n.name[len(prefix) + 1 :].isdigit() for n in (first, second))
        assert repr(first) == f"{cls.__name__}('{first.name}', shape=())"
    roles = [(tg.Input("x"), "input"), (tg.Parameter(1.0), "parameter"), (tg.Constant(1.0), "constant")]
    assert all(leaf.role == role and leaf.inputs == () for leaf, role in roles)
