"""SquaredLoss, LogLoss, SoftmaxCrossEntropy: numpy references, both reductions, finite differences, errors."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-14}, np.float32: {"rtol": 1e-5, "atol": 1e-6}}
REDUCTIONS = ["mean", "sum"]
SHAPES = [(), (3,), (2, 3), (70,)]  # per sample; (70,) keeps arrays between passes
CLASSES = [(4,), (2, 4), (70,)]  # per-sample logits of SoftmaxCrossEntropy
BATCH = 6


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


def reduced(per_sample, o, t, batch, reduction):
    """The loss of one sample, or of a batch: the mean or the sum of its rows' losses."""
    if batch is None:
        return per_sample(o, t)
    rows = [per_sample(o[k], t[k]) for k in range(batch)]
    return np.mean(rows) if reduction == "mean" else np.sum(rows)


def squared(o, t):
    return 0.5 * np.sum((o - t) ** 2)


def log_loss(p, t):
    return -np.sum(t * np.log(p) + (1 - t) * np.log(1 - p))


def cross_entropy(z, onehot):
    log_p = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return -np.sum(onehot * log_p)


def probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, size=shape)


def targets(rng, shape):
    """Targets in [0, 1]: half of them exactly 0 or 1."""
    t = rng.uniform(0, 1, size=shape)
    t.flat[::2] = np.round(t.flat[::2])
    return t


def check(factory, values, batched, dtype, wrt=None):
    report = tg.check_node(factory, values, batched=batched, wrt=wrt, dtype=dtype)
    assert report.passed, str(report)
    assert len(report.rows) == (len(values) if wrt is None else len(wrt))


# ---------------------------------------------------------------- SquaredLoss and LogLoss
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    "cls,per_sample,make_o",
    [(tg.SquaredLoss, squared, lambda rng, s: rng.normal(size=s)), (tg.LogLoss, log_loss, probabilities)],
)
def test_forward_matches_numpy(cls, per_sample, make_o, shape, batch, reduction, dtype, rng):
    whole = shape if batch is None else (batch,) + shape
    o, t = make_o(rng, whole).astype(dtype), targets(rng, whole).astype(dtype)
    node = cls(tg.Input("o", shape=shape), tg.Input("t", shape=shape), reduction=reduction)
    got = forward(node, {"o": o, "t": t}, dtype)
    ref = reduced(per_sample, o.astype(np.float64), t.astype(np.float64), batch, reduction)
    assert got.dtype == dtype and got.shape == ()
    np.testing.assert_allclose(got, ref, **TOL[dtype])


def test_losses_match_numpy_single_sample_and_batch(rng):
    o, t = rng.uniform(0.05, 0.95, size=(6, 3)), rng.uniform(0, 1, size=(6, 3))
    for rows, scale in ((o[0], 1), (o, 1 / 6)):
        tt = t[0] if rows.ndim == 1 else t
        got = tg.Graph(tg.SquaredLoss(tg.Input("o"), tg.Input("t"))).forward({"o": rows, "t": tt})
        assert np.isclose(got, scale * 0.5 * np.sum((rows - tt) ** 2))
        got = tg.Graph(tg.LogLoss(tg.Input("o"), tg.Input("t"))).forward({"o": rows, "t": tt})
        assert np.isclose(got, -scale * np.sum(tt * np.log(rows) + (1 - tt) * np.log(1 - rows)))
    summed = tg.Graph(tg.SquaredLoss(tg.Input("o"), tg.Input("t"), reduction="sum")).forward({"o": o, "t": t})
    assert np.isclose(summed, 0.5 * np.sum((o - t) ** 2))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_squared_loss_backward_matches_finite_differences(shape, batched, reduction, dtype):
    whole = (BATCH,) + shape if batched else shape
    check(lambda o, t: tg.SquaredLoss(o, t, reduction=reduction), [whole, whole], (0, 1) if batched else (), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("shape", SHAPES)
def test_log_loss_backward_matches_finite_differences(shape, batched, reduction, dtype, rng):
    whole = (BATCH,) + shape if batched else shape
    values = [probabilities(rng, whole), rng.uniform(0, 1, size=whole)]
    check(lambda p, t: tg.LogLoss(p, t, reduction=reduction), values, (0, 1) if batched else (), dtype)


# ---------------------------------------------------------------- SoftmaxCrossEntropy
def class_targets(rng, z_shape, kind):
    """Class indices (the shape of z without its last axis), one-hot rows, or probability rows."""
    k = z_shape[-1]
    idx = rng.integers(0, k, size=z_shape[:-1])
    if kind == "indices":
        return idx.astype(float), np.eye(k)[idx]
    if kind == "one-hot":
        return np.eye(k)[idx], np.eye(k)[idx]
    p = rng.uniform(0, 1, size=z_shape)
    return p / p.sum(axis=-1, keepdims=True), p / p.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("kind", ["indices", "one-hot", "probabilities"])
@pytest.mark.parametrize("shape", CLASSES)
def test_softmax_cross_entropy_forward_matches_numpy(shape, kind, batch, reduction, dtype, rng):
    whole = shape if batch is None else (batch,) + shape
    z = (3 * rng.normal(size=whole)).astype(dtype)
    t, onehot = class_targets(rng, whole, kind)
    t_shape = shape[:-1] if kind == "indices" else shape
    node = tg.SoftmaxCrossEntropy(tg.Input("z", shape=shape), tg.Input("t", shape=t_shape), reduction=reduction)
    got = forward(node, {"z": z, "t": t}, dtype)
    ref = reduced(cross_entropy, z.astype(np.float64), onehot.astype(dtype).astype(np.float64), batch, reduction)
    assert got.dtype == dtype and got.shape == ()
    np.testing.assert_allclose(got, ref, **TOL[dtype])


def test_softmax_cross_entropy_indices_and_one_hot_agree(rng):
    z = rng.normal(size=(5, 4)) * 3
    labels = np.array([0, 3, 1, 2, 3])
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    ref = -np.mean(log_p[np.arange(5), labels])
    g_idx = tg.Graph(tg.SoftmaxCrossEntropy(tg.Input("z"), tg.Input("t")))
    assert np.isclose(g_idx.forward({"z": z, "t": labels}), ref)
    g_hot = tg.Graph(tg.SoftmaxCrossEntropy(tg.Input("z"), tg.Input("t")))
    assert np.isclose(g_hot.forward({"z": z, "t": tg.datasets.one_hot(labels, 4)}), ref)
    single = tg.Graph(tg.SoftmaxCrossEntropy(tg.Input("z"), tg.Input("t")))
    assert np.isclose(single.forward({"z": z[1], "t": 3}), -log_p[1, 3])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("kind", ["indices", "one-hot", "probabilities"])
@pytest.mark.parametrize("shape", CLASSES)
def test_softmax_cross_entropy_backward_matches_finite_differences(shape, kind, batched, reduction, dtype, rng):
    whole = (BATCH,) + shape if batched else shape
    t, _ = class_targets(rng, whole, kind)
    wrt = (0,) if kind == "indices" else None  # class indices have no gradient
    check(
        lambda z, t: tg.SoftmaxCrossEntropy(z, t, reduction=reduction),
        [whole, t],
        (0, 1) if batched else (),
        dtype,
        wrt=wrt,
    )


def test_softmax_cross_entropy_with_class_indices_checks_logits_only():
    report = tg.check_node(tg.SoftmaxCrossEntropy, [(5, 3), np.array([0, 2, 1, 1, 0.0])], batched=(0, 1), wrt=(0,))
    assert report.passed and [r.name for r in report.rows] == ["in0"]


# ---------------------------------------------------------------- gradients against their formulas
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("batch", [None, BATCH])
def test_gradients_match_their_formulas_divided_by_the_batch_for_a_mean(batch, reduction, rng):
    whole = (3,) if batch is None else (batch, 3)
    scale = 1 / batch if batch and reduction == "mean" else 1.0
    o, p, t, z = rng.normal(size=whole), probabilities(rng, whole), targets(rng, whole), rng.normal(size=whole)
    labels = rng.integers(0, 3, size=whole[:-1])
    cases = [
        (tg.SquaredLoss, o, t, o - t, -(o - t)),
        (tg.LogLoss, p, t, (p - t) / (p * (1 - p)), np.log(1 - p) - np.log(p)),
        (tg.SoftmaxCrossEntropy, z, np.eye(3)[labels], softmax(z) - np.eye(3)[labels], -np.log(softmax(z))),
        (tg.SoftmaxCrossEntropy, z, labels, softmax(z) - np.eye(3)[labels], None),
    ]
    for cls, prediction, target, grad_prediction, grad_target in cases:
        a, b = tg.Input("a", shape=whole[-1:]), tg.Input("b", shape=np.shape(target)[1 if batch else 0 :])
        graph = tg.Graph(cls(a, b, reduction=reduction))
        for _ in range(2):  # the loop, then the unrolled code
            graph.forward({"a": prediction, "b": target})
            graph.backward(inputs=True)
            np.testing.assert_allclose(a.grad, scale * grad_prediction, rtol=1e-12, atol=1e-15)
            if grad_target is None:
                assert b.grad is None  # class indices: no gradient
            else:
                np.testing.assert_allclose(b.grad, scale * grad_target, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- reduction
# per loss: E of one sample, and ∂E/∂(prediction) of one sample (soft targets: softmax(z)·Σ_k t_k − t)
FORMULAS = {
    tg.SquaredLoss: (squared, lambda o, t: o - t),
    tg.LogLoss: (log_loss, lambda p, t: (p - t) / (p * (1 - p))),
    tg.SoftmaxCrossEntropy: (cross_entropy, lambda z, t: softmax(z) * t.sum(axis=-1, keepdims=True) - t),
}


@pytest.mark.parametrize("cls", list(FORMULAS))
def test_reduction_may_change_between_passes(cls, rng):
    p, t = probabilities(rng, (BATCH, 3)), targets(rng, (BATCH, 3))
    per_sample, grad = FORMULAS[cls]
    loss = cls(tg.Input("p", shape=(3,)), tg.Input("t", shape=(3,)), name="E")
    graph = tg.Graph(loss)
    for reduction, scale in [("mean", 1 / BATCH), ("sum", 1.0), ("mean", 1 / BATCH)]:
        loss.reduction = reduction
        assert loss.reduction == reduction
        for _ in range(2):  # (after the first pass: the unrolled code, which reads the reduction anew)
            value = graph.forward({"p": p, "t": t})
            graph.backward(inputs=True)
            np.testing.assert_allclose(value, reduced(per_sample, p, t, BATCH, reduction), rtol=1e-12)
            np.testing.assert_allclose(graph["p"].grad, scale * grad(p, t), rtol=1e-12, atol=1e-15)
    for reduction in REDUCTIONS:  # one sample: both give the single-sample formula
        single = tg.Graph(cls(tg.Input("p"), tg.Input("t"), reduction=reduction))
        np.testing.assert_allclose(single.forward({"p": p[0], "t": t[0]}), per_sample(p[0], t[0]), rtol=1e-12)


# ---------------------------------------------------------------- saturation
def test_saturated_losses_give_finite_values_and_gradients_without_warnings():
    with np.errstate(all="raise"):
        z, t = tg.Input("z"), tg.Input("t")
        g = tg.Graph(tg.SoftmaxCrossEntropy(z, t))
        assert np.isclose(g.forward({"z": np.array([1e4, -1e4, 3.0]), "t": 1}), 2e4)
        g.backward(inputs=True)
        assert np.all(np.isfinite(z.grad)) and np.isclose(z.grad[0], 1.0)
        p = tg.Input("p")
        g = tg.Graph(tg.LogLoss(p, t))
        value = g.forward({"p": np.array([1.0, 0.0, 1.0]), "t": np.array([0.0, 1.0, 1.0])})
        g.backward(inputs=True)
        assert np.isfinite(value) and np.all(np.isfinite(p.grad)) and np.all(np.isfinite(t.grad))
        g = tg.Graph(tg.Sum(tg.Softmax(z)))
        g.forward({"z": np.array([[1e4, -1e4, 0.0]])})
        g.backward(inputs=True)
        assert np.all(np.isfinite(z.grad))
        y = tg.Logistic(z)
        g = tg.Graph(tg.Sum(y))
        g.forward({"z": np.array([-1e4, 1e4, 0.0])})
        g.backward(inputs=True)
        assert np.all(np.isfinite(z.grad))


@pytest.mark.parametrize("dtype", DTYPES)
def test_saturated_losses_stay_finite_in_both_dtypes(dtype):
    eps = np.finfo(dtype).eps  # LogLoss clips p to [eps, 1 − eps]
    with np.errstate(all="raise"):
        p, t = tg.Input("p", shape=(3,)), tg.Input("t", shape=(3,))
        value = forward(tg.LogLoss(p, t, reduction="sum"), {"p": [1.0, 0.0, 1.0], "t": [0.0, 1.0, 1.0]}, dtype)
        np.testing.assert_allclose(value, -2 * np.log(eps) - np.log1p(-eps), rtol=1e-5)
        z, k = tg.Input("z", shape=(3,)), tg.Input("k", shape=())
        value = forward(tg.SoftmaxCrossEntropy(z, k), {"z": [1e4, -1e4, 3.0], "k": 1}, dtype)
        np.testing.assert_allclose(value, 2e4, rtol=1e-6)


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", [tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy])
def test_loss_errors_name_the_node(cls):
    kind, o, t = cls.__name__, tg.Input("o", shape=(3,)), tg.Input("t", shape=(3,))
    with pytest.raises(tg.GraphError, match=rf"^{kind} 'E': reduction must be one of \('mean', 'sum'\), got 'avg'$"):
        cls(o, t, reduction="avg", name="E")
    with pytest.raises(tg.GraphError, match=rf"^{kind}: reduction must be one of \('mean', 'sum'\), got None$"):
        cls(o, t, reduction=None)
    loss = cls(o, t, name="E")
    with pytest.raises(tg.GraphError, match=rf"^{kind} 'E': reduction must be one of \('mean', 'sum'\), got 'max'$"):
        loss.reduction = "max"
    assert loss.reduction == "mean"
    with pytest.raises(TypeError, match=rf"^{kind}: input 1 \(t\) must be a tinygraph Node, got list; wrap"):
        cls(o, [1.0, 0.0, 0.0])
    graph = tg.Graph(cls(tg.Input("o", shape=(3,)), tg.Parameter(np.zeros(3), name="tp"), name="E"))
    with pytest.raises(
        tg.GraphError,
        match=rf"^{kind} 'E': prediction 'o' has shape \(4, 3\) but target 'tp' has "
        r"shape \(3,\): both need one row per sample$",
    ):
        graph.forward({"o": np.ones((4, 3))})


@pytest.mark.parametrize("cls", [tg.SquaredLoss, tg.LogLoss])
def test_prediction_and_target_must_have_the_same_shape(cls):
    kind = cls.__name__
    with pytest.raises(
        tg.GraphError,
        match=rf"^{kind} 'E': prediction 'o' has per-sample shape \(3,\) but target "
        r"'t' has \(2,\)$",
    ):
        cls(tg.Input("o", shape=(3,)), tg.Input("t", shape=(2,)), name="E")
    graph = tg.Graph(cls(tg.Input("o"), tg.Input("t"), name="E"))
    with pytest.raises(
        tg.GraphError,
        match=rf"^{kind} 'E': prediction 'o' has per-sample shape \(3,\) but target "
        r"'t' has \(4,\)$",
    ):
        graph.forward({"o": np.ones((5, 3)), "t": np.ones((5, 4))})


def test_softmax_cross_entropy_errors_name_the_node_and_the_targets():
    z = tg.Input("z", shape=(4,))
    with pytest.raises(
        tg.GraphError,
        match=r"^SoftmaxCrossEntropy 'E': logits 's' need a vector of class scores per "
        r"sample, got per-sample shape \(\)$",
    ):
        tg.SoftmaxCrossEntropy(tg.Input("s", shape=()), tg.Input("t", shape=()), name="E")
    with pytest.raises(
        tg.GraphError,
        match=r"^SoftmaxCrossEntropy 'E': target 't' must be class indices "
        r"\(per-sample shape \(\)\) or one-hot rows \(per-sample shape \(4,\)\), "
        r"got \(3,\)$",
    ):
        tg.SoftmaxCrossEntropy(z, tg.Input("t", shape=(3,)), name="E")
    graph = tg.Graph(tg.SoftmaxCrossEntropy(z, tg.Input("t", shape=()), name="E"))
    for labels, shown in [([0, 4, 1], r"\[0\. 1\. 4\.\]"), ([0, -1], r"\[-1\.  0\.\]"), ([0.5, 1], r"\[0\.5 1\. \]")]:
        with pytest.raises(
            tg.GraphError,
            match=rf"^SoftmaxCrossEntropy 'E': target 't' must hold class indices "
            rf"0\.\.3, got values {shown}$",
        ):
            graph.forward({"z": np.zeros((len(labels), 4)), "t": np.array(labels, float)})
    assert np.isclose(graph.forward({"z": np.zeros((2, 4)), "t": np.array([3.0, 0.0])}), np.log(4))


def test_common_shape_slips_come_with_a_hint():
    x = tg.Input("x", shape=(2,))
    with pytest.raises(tg.GraphError, match=r"declare the target as Input\('t', shape=\(1,\)\)"):
        tg.LogLoss(tg.dense(x, 1, name="o"), tg.Input("t", shape=()))
    g = tg.Graph(tg.SquaredLoss(tg.dense(x, 1, name="o2"), tg.Input("t", shape=(1,))))
    with pytest.raises(tg.GraphError, match=r"got \(4,\); for one number per sample pass a column"):
        g.forward({"x": np.ones((4, 2)), "t": np.ones(4)})
    with pytest.raises(TypeError, match=r"WeightedSum 'z': input 1 \(w\) must be a tinygraph Node, got list; wrap"):
        tg.WeightedSum(x, [1.0, 2.0], name="z")
    with pytest.raises(TypeError, match="SGD: lr must be a number, got str '0.1'"):
        tg.SGD(g.parameters(), lr="0.1")
    assert tg.check_node(tg.Tanh, [(4, 3)], batched=0).passed
    assert g.run("o2", {"x": [1.0, 2.0]}).shape == (1,)


OLD_CASES = {
    "SquaredLoss batch": (tg.SquaredLoss, [(5, 3), (5, 3)], (0, 1)),
    "SquaredLoss single": (tg.SquaredLoss, [(3,), (3,)], ()),
    "SquaredLoss sum": (lambda o, t: tg.SquaredLoss(o, t, reduction="sum"), [(5, 3), (5, 3)], (0, 1)),
    "LogLoss": (
        tg.LogLoss,
        [
            np.random.default_rng(0).uniform(0.05, 0.95, size=(5, 3)),
            np.random.default_rng(1).uniform(0, 1, size=(5, 3)),
        ],
        (0, 1),
    ),
    "SoftmaxCrossEntropy soft": (
        tg.SoftmaxCrossEntropy,
        [(5, 3), np.random.default_rng(2).uniform(0, 1, size=(5, 3))],
        (0, 1),
    ),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(OLD_CASES))
def test_backward_matches_finite_differences_on_the_first_cases(name, dtype):
    factory, shapes, batched = OLD_CASES[name]
    check(factory, shapes, batched, dtype)
