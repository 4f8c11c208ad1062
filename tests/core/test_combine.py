"""Add, Multiply, Concat, Slice, Sum, Mean, Scale and the operators + and *: references, gradients, errors."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 1e-5, "atol": 1e-5}}
BATCH = 4


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


def feed_run(node, **arrays):
    return tg.Graph(node).forward(arrays)


# name: (factory, reference for one sample in numpy, per-sample shapes, the inputs that are Parameters)
CASES = {
    "Add two": (tg.Add, np.add, [(3,), (3,)], ()),
    "Add one (a copy)": (tg.Add, np.copy, [(4,)], ()),
    "Add three, one a bias-like Parameter": (tg.Add, lambda a, b, c: a + b + c, [(3,), (3,), (3,)], (2,)),
    "Add seven": (tg.Add, lambda *v: sum(v), [(2,)] * 7, ()),
    "Add a per-sample scalar": (tg.Add, np.add, [(3,), ()], ()),
    "Add a wider third input": (tg.Add, lambda a, b, c: a + b + c, [(), (), (2, 3)], (0,)),
    "Add a (2, 1) Parameter to (3,)": (tg.Add, np.add, [(3,), (2, 1)], (1,)),
    "Add large": (tg.Add, np.add, [(70,), (70,)], ()),
    "Add one input twice": (lambda a: tg.Add(a, a), lambda a: a + a, [(3,)], ()),
    "a + b": (lambda a, b: a + b, np.add, [(3,), (3,)], ()),
    "a + b + c": (lambda a, b, c: a + b + c, lambda a, b, c: a + b + c, [(3,), (3,), ()], (2,)),
    "Multiply": (tg.Multiply, np.multiply, [(3,), (3,)], ()),
    "Multiply by a (n,) Parameter": (tg.Multiply, np.multiply, [(3,), (3,)], (1,)),
    "Multiply by a scalar Parameter": (tg.Multiply, np.multiply, [(3,), ()], (1,)),
    "Multiply by a per-sample scalar": (tg.Multiply, np.multiply, [(3,), ()], ()),
    "Multiply (2, 1) by (3,)": (tg.Multiply, np.multiply, [(2, 1), (3,)], ()),
    "Multiply large": (tg.Multiply, np.multiply, [(70,), (70,)], ()),
    "Multiply one input by itself": (lambda a: tg.Multiply(a, a), lambda a: a * a, [(3,)], ()),
    "a * b": (lambda a, b: a * b, np.multiply, [(3,), (3,)], ()),
    "a * a + a": (lambda a: a * a + a, lambda a: a * a + a, [(3,)], ()),
    "Concat two": (tg.Concat, lambda *v: np.concatenate(v, axis=-1), [(3,), (2,)], ()),
    "Concat three": (tg.Concat, lambda *v: np.concatenate(v, axis=-1), [(3,), (2,), (1,)], ()),
    "Concat one": (tg.Concat, np.copy, [(3,)], ()),
    "Concat large": (tg.Concat, lambda *v: np.concatenate(v, axis=-1), [(40,), (30,)], ()),
    "Concat axis 0": (
        lambda a, b: tg.Concat(a, b, axis=0),
        lambda a, b: np.concatenate([a, b], axis=0),
        [(2, 3), (1, 3)],
        (),
    ),
    "Concat axis -2": (
        lambda a, b: tg.Concat(a, b, axis=-2),
        lambda a, b: np.concatenate([a, b], axis=0),
        [(2, 3), (1, 3)],
        (),
    ),
    "Concat axis 1 of (2, n)": (
        lambda a, b: tg.Concat(a, b, axis=1),
        lambda a, b: np.concatenate([a, b], axis=1),
        [(2, 3), (2, 4)],
        (),
    ),
    "Slice 1:3": (lambda x: tg.Slice(x, 1, 3), lambda x: x[1:3], [(5,)], ()),
    "Slice -2:": (lambda x: tg.Slice(x, -2), lambda x: x[-2:], [(5,)], ()),
    "Slice 0:-1": (lambda x: tg.Slice(x, 0, -1), lambda x: x[0:-1], [(5,)], ()),
    "Slice -3:-1": (lambda x: tg.Slice(x, -3, -1), lambda x: x[-3:-1], [(5,)], ()),
    "Slice 0:1": (lambda x: tg.Slice(x, 0, 1), lambda x: x[0:1], [(1,)], ()),
    "Slice the features of (2, 5)": (lambda x: tg.Slice(x, 1, 4), lambda x: x[:, 1:4], [(2, 5)], ()),
    "Slice large": (lambda x: tg.Slice(x, 5, 60), lambda x: x[5:60], [(70,)], ()),
    "Scale -0.3": (lambda x: tg.Scale(x, -0.3), lambda x: -0.3 * x, [(3,)], ()),
    "Scale 0": (lambda x: tg.Scale(x, 0), lambda x: 0.0 * x, [(3,)], ()),
    "Scale a scalar": (lambda x: tg.Scale(x, 2.5), lambda x: 2.5 * x, [()], ()),
    "Scale (2, 3)": (lambda x: tg.Scale(x, 4), lambda x: 4.0 * x, [(2, 3)], ()),
    "Scale large": (lambda x: tg.Scale(x, -1.5), lambda x: -1.5 * x, [(70,)], ()),
    "0.3 * a": (lambda a: 0.3 * a, lambda a: 0.3 * a, [(3,)], ()),
    "a * 2": (lambda a: a * 2, lambda a: 2.0 * a, [(3,)], ()),
    "np.float64(0.5) * a": (lambda a: np.float64(0.5) * a, lambda a: 0.5 * a, [(3,)], ()),
}
CONCATS = {name for name in CASES if name.startswith("Concat")}  # they cannot join a Parameter with a batch


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("name", list(CASES))
def test_forward_matches_numpy_sample_by_sample(name, batch, dtype, rng):
    factory, reference, shapes, params = CASES[name]
    fed = [i not in params and batch is not None for i in range(len(shapes))]
    values = [rng.normal(size=(batch,) + s if b else s).astype(dtype) for s, b in zip(shapes, fed)]
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
@pytest.mark.parametrize("name", list(CASES))
def test_backward_matches_finite_differences(name, batched, dtype):
    factory, _, shapes, params = CASES[name]
    fed = tuple(i for i in range(len(shapes)) if batched and i not in params)  # the others: Parameters
    report = tg.check_node(
        factory, [(BATCH,) + s if i in fed else s for i, s in enumerate(shapes)], batched=fed, dtype=dtype
    )
    assert report.passed, str(report)
    assert len(report.rows) == len(shapes)


OLD_CASES = {
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


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OLD_CASES))
def test_backward_matches_finite_differences_on_the_first_cases(name, dtype):
    factory, shapes, batched = OLD_CASES[name]
    report = tg.check_node(factory, shapes, batched=batched, dtype=dtype)
    assert report.passed, str(report)


# ---------------------------------------------------------------- Sum and Mean: one number for the whole batch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (70,)])
@pytest.mark.parametrize("cls,reference", [(tg.Sum, np.sum), (tg.Mean, np.mean)])
def test_sum_and_mean_forward_over_every_element_and_row(cls, reference, shape, batch, dtype, rng):
    x = rng.normal(size=shape if batch is None else (batch,) + shape).astype(dtype)
    got = forward(cls(tg.Input("x", shape=shape)), {"x": x}, dtype)
    x64 = x.astype(np.float64)
    ref = reference(x64)
    assert got.dtype == dtype and got.shape == ()
    np.testing.assert_allclose(
        got, ref, rtol=TOL[dtype]["rtol"], atol=reference(np.abs(x64)) * (1e-12 if dtype == np.float64 else 1e-6)
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3), (70,)])
@pytest.mark.parametrize("cls", [tg.Sum, tg.Mean])
def test_sum_and_mean_backward_matches_finite_differences(cls, shape, batched, dtype):
    report = tg.check_node(cls, [(BATCH,) + shape if batched else shape], batched=(0,) if batched else (), dtype=dtype)
    assert report.passed, str(report)
    assert len(report.rows) == 1


def test_mean_gradient_divides_by_every_element_of_the_batch():
    x = tg.Input("x", shape=(3,))
    g = tg.Graph(tg.Mean(x))
    g.forward({"x": np.arange(12.0).reshape(4, 3)})
    g.backward(inputs=True)
    assert np.array_equal(x.grad, np.full((4, 3), 1 / 12))


# ---------------------------------------------------------------- first tests, kept as they were
def test_forwards_match_numpy(rng):
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
    abc = a + b + tg.Input("c", shape=())
    assert isinstance(abc, tg.Add) and isinstance(abc.inputs[0], tg.Add) and abc.inputs[0].inputs == (a, b)
    assert (a * b).inputs == (a, b) and (0.5 * a).inputs == (a,) and abc.shape == (3,)
    for scaled, c in ((np.float64(0.25) * a, 0.25), (a * np.int64(3), 3.0), (a * np.float32(-2), -2.0)):
        assert isinstance(scaled, tg.Scale) and scaled.c == c and type(scaled.c) is float


def test_operators_refuse_what_they_cannot_build():
    a = tg.Input("a", shape=(3,))
    for make, match in [
        (lambda: a + None, r"Input 'a' \+ NoneType: expected a node or a number"),  # (a + 1.0 builds Add, Constant)
        (lambda: None + a, r"NoneType \+ Input 'a': expected a node or a number"),
        (lambda: a * True, r"Input 'a' \* bool: multiply by a number \(Scale\) or a node"),
        (lambda: a * None, r"Input 'a' \* NoneType"),
        (lambda: a + [1.0], r"Input 'a' \+ list"),
        (lambda: np.ones(3) * a, r"Input 'a' \* ndarray: .*wrap arrays in tg.Constant"),
        (lambda: a * np.ones(3), r"Input 'a' \* ndarray"),
    ]:
        with pytest.raises(TypeError, match=match):
            make()


def test_batched_scalar_per_sample_broadcasts_over_features_not_rows(rng):
    # a (batch, 3) value times a per-sample scalar (batch,) scales each row: numpy alone
    # would line the (batch,) axis up with the features.
    x, s = rng.normal(size=(4, 3)), rng.normal(size=(4,))
    X, S = tg.Input("x", shape=(3,)), tg.Input("s", shape=())
    assert np.allclose(tg.Graph(tg.Multiply(X, S)).forward({"x": x, "s": s}), x * s[:, None])
    assert np.allclose(tg.Graph(tg.Add(X, S)).forward({"x": x, "s": s}), x + s[:, None])


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
    history = tg.fit(both, {x: X, t: T[:, None]}, tg.SGD(both.parameters(), 0.5), epochs=40, seed=0, progress=False)
    assert history[-1] < 0.6 * history[0]


def test_residual_block_gradient_includes_the_skip_path(rng):
    x = tg.Input("x", shape=(3,))
    W = tg.Parameter(rng.normal(size=(3, 3)), name="W")
    h = tg.Add(tg.Logistic(tg.WeightedSum(x, W)), x, name="h")
    g = tg.Graph(tg.Sum(h))
    xv = rng.normal(size=3)
    g.forward({"x": xv})
    g.backward(inputs=True)
    s = 1 / (1 + np.exp(-(xv @ W.value)))
    assert np.allclose(x.grad, W.value @ (s * (1 - s)) + 1.0)


def test_a_rejected_feed_leaves_slices_and_concats_as_they_were():
    """A shape check that fails half way must not leave a Slice cutting other features."""
    x = tg.Input("x")
    last2 = tg.Slice(x, -2, name="last2")
    joined = tg.Concat(last2, tg.Slice(x, 0, 1, name="first"), name="joined")
    graph = tg.Graph(
        tg.Add(
            tg.Sum(joined, name="s"),
            tg.Sum(tg.Add(x, tg.Parameter(np.zeros(4), name="p"), name="xp"), name="t"),
            name="E",
        )
    )
    feed = {"x": np.array([1.0, 2.0, 3.0, 4.0])}
    assert graph.forward(feed) == 3 + 4 + 1 + 10
    with pytest.raises(tg.GraphError, match="do not broadcast"):
        graph.forward({"x": np.arange(5.0)})  # Slice and Concat are checked before Add fails
    for _ in range(3):  # loop, then written-out code
        assert graph.forward(feed) == 3 + 4 + 1 + 10
        assert np.array_equal(last2.value, [3.0, 4.0])


# ---------------------------------------------------------------- errors
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


def test_add_and_multiply_errors_name_the_node():
    a = tg.Input("a", shape=(3,))
    with pytest.raises(TypeError, match=r"^Add: needs at least one input$"):
        tg.Add()
    with pytest.raises(TypeError, match=r"^Add 'e': needs at least one input$"):
        tg.Add(name="e")
    with pytest.raises(
        tg.GraphError,
        match=r"^Multiply 'm': per-sample shapes do not broadcast: 'a' \(3,\), "
        r"'q' \(2, 2\)",
    ):
        tg.Multiply(a, tg.Parameter(np.zeros((2, 2)), name="q"), name="m")
    with pytest.raises(TypeError, match=r"^Multiply 'm': input 1 \(b\) must be a tinygraph Node, got list; wrap"):
        tg.Multiply(a, [1.0, 2.0, 3.0], name="m")
    with pytest.raises(TypeError, match=r"Multiply.*missing 1 required positional argument: 'b'"):
        tg.Multiply(a)
    g = tg.Graph(tg.Add(tg.Input("x"), tg.Parameter(np.zeros(3), name="z3"), name="xz"))  # x undeclared
    with pytest.raises(
        tg.GraphError,
        match=r"^Add 'xz': per-sample shapes do not broadcast: 'x' \(4,\), "
        r"'z3' \(3,\)",
    ):
        g.forward({"x": np.ones((5, 4))})


@pytest.mark.parametrize(
    "make,kind",
    [
        (lambda a: tg.Add(a, [1.0, 2.0, 3.0]), "Add"),
        (lambda a: tg.Add(a, a, 3.0), "Add"),
        (lambda a: tg.Concat(a, 2.0), "Concat"),
    ],
)
def test_add_and_concat_name_an_input_that_is_not_a_node(make, kind):
    with pytest.raises(TypeError, match=rf"^{kind}: input \d( \(\w\))? must be a tinygraph Node, got \w+; wrap"):
        make(tg.Input("a", shape=(3,)))


def test_concat_errors_name_the_node_and_the_shapes():
    a = tg.Input("a", shape=(3,))
    with pytest.raises(TypeError, match=r"^Concat: needs at least one input$"):
        tg.Concat()
    with pytest.raises(TypeError, match=r"^Concat 'c': axis must be an int, got 1.0$"):
        tg.Concat(a, a, axis=1.0, name="c")
    with pytest.raises(
        tg.GraphError,
        match=r"^Concat 'c': axis 1 is outside the per-sample shapes: 'a' \(3,\), "
        r"'a' \(3,\)",
    ):
        tg.Concat(a, a, axis=1, name="c")
    with pytest.raises(tg.GraphError, match=r"^Concat 'c': axis -1 is outside the per-sample shapes: 's' \(\)"):
        tg.Concat(tg.Input("s", shape=()), name="c")
    with pytest.raises(
        tg.GraphError,
        match=r"^Concat 'c': inputs must agree on every axis but -1: 'a' \(3,\), "
        r"'m' \(2, 3\)",
    ):
        tg.Concat(a, tg.Input("m", shape=(2, 3)), name="c")


def test_slice_errors_name_the_node_and_the_shapes():
    a = tg.Input("a", shape=(3,))
    with pytest.raises(TypeError, match=r"^Slice 's': stop must be an int, got 2.5$"):
        tg.Slice(a, 0, 2.5, name="s")
    with pytest.raises(TypeError, match=r"^Slice: start must be an int, got True$"):
        tg.Slice(a, True)
    for start, stop in [(-4, None), (0, 0), (1, -2), (3, None), (0, 4)]:
        with pytest.raises(
            tg.GraphError,
            match=rf"^Slice 's': slice \[{start}:{stop}\] is outside the 3 features "
            r"of 'a' \(per-sample shape \(3,\)\)",
        ):
            tg.Slice(a, start, stop, name="s")
    with pytest.raises(tg.GraphError, match=r"^Slice 's': x 'n' has no feature axis \(per-sample shape \(\)\)"):
        tg.Slice(tg.Input("n", shape=()), 0, name="s")
    with pytest.raises(TypeError, match=r"^Slice: input 0 \(x\) must be a tinygraph Node, got list"):
        tg.Slice([1.0, 2.0], 0)


def test_sum_mean_and_scale_errors_name_the_node():
    with pytest.raises(TypeError, match=r"^Sum: input 0 \(x\) must be a tinygraph Node, got float"):
        tg.Sum(1.0)
    with pytest.raises(TypeError, match=r"^Mean 'm': input 0 \(x\) must be a tinygraph Node, got list"):
        tg.Mean([1.0], name="m")
    g = tg.Graph(tg.Mean(tg.Input("x"), name="m"))
    for empty in (np.zeros(0), np.zeros((3, 0))):
        with pytest.raises(
            tg.GraphError,
            match=rf"^Mean 'm': cannot average the empty value of 'x' "
            rf"\(shape \({empty.shape[0]},( 0)?\)\)",
        ):
            g.forward({"x": empty})
    a = tg.Input("a", shape=(3,))
    for c in ("2", np.inf, np.nan, True, None, a):
        with pytest.raises(TypeError, match=r"^Scale 's': c must be a finite number, got "):
            tg.Scale(a, c, name="s")
    with pytest.raises(TypeError, match=r"^Scale: input 0 \(x\) must be a tinygraph Node, got float"):
        tg.Scale(1.0, 2.0)
