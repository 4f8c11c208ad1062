"""Every node: forward against a plain-numpy reference, backward against finite differences."""

import numpy as np
import pytest

import tinygraph as tg

rng = np.random.default_rng(0)


def run(node_factory, *arrays):
    """Forward one node on fixed values (all inputs as Parameters, no batch axis)."""
    params = [tg.Parameter(a, name=f"p{i}") for i, a in enumerate(arrays)]
    out = node_factory(*params)
    return tg.Graph(out).forward({})


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# ---------------------------------------------------------------- forward references
@pytest.mark.parametrize("shape", [(3,), (4, 3)])
def test_elementwise_forwards_match_numpy(shape):
    z = rng.normal(size=shape) * 3
    assert np.allclose(run(tg.Logistic, z), sigmoid(z), rtol=1e-13, atol=0)
    assert np.allclose(run(tg.Tanh, z), np.tanh(z))
    assert np.array_equal(run(tg.ReLU, z), np.where(z > 0, z, 0.0))
    assert np.array_equal(run(tg.Step, z), (z >= 0).astype(float))
    e = np.exp(z)
    assert np.allclose(run(tg.Softmax, z), e / e.sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("x_shape,w_shape", [((3,), (3,)), ((3,), (3, 2)), ((5, 3), (3,)), ((5, 3), (3, 2))])
def test_weighted_sum_forward_matches_numpy(x_shape, w_shape):
    x, w = rng.normal(size=x_shape), rng.normal(size=w_shape)
    b = rng.normal(size=w_shape[1:])
    xi = tg.Input("x", shape=x_shape[-1:])
    z = tg.WeightedSum(xi, tg.Parameter(w), tg.Parameter(b))
    got = tg.Graph(z).forward({"x": x})
    ref = np.array([[sum(x_row[i] * w[i] for i in range(3))] for x_row in np.atleast_2d(x)])
    ref = ref.reshape(np.atleast_2d(x).shape[0], *w_shape[1:]) + b
    assert np.allclose(got, ref.reshape(got.shape))
    assert got.shape == x_shape[:-1] + w_shape[1:]


def test_append_one_forward():
    x = rng.normal(size=(4, 2))
    got = tg.Graph(tg.AppendOne(tg.Input("x"))).forward({"x": x})
    assert np.array_equal(got, np.hstack([x, np.ones((4, 1))]))
    got1 = tg.Graph(tg.AppendOne(tg.Input("x"))).forward({"x": x[0]})
    assert np.array_equal(got1, [x[0, 0], x[0, 1], 1.0])


def test_losses_match_numpy_single_sample_and_batch():
    o, t = rng.uniform(0.05, 0.95, size=(6, 3)), rng.uniform(0, 1, size=(6, 3))
    for rows, scale in ((o[0], 1), (o, 1 / 6)):
        tt = t[0] if rows.ndim == 1 else t
        got = tg.Graph(tg.SquaredLoss(tg.Input("o"), tg.Input("t"))).forward({"o": rows, "t": tt})
        assert np.isclose(got, scale * 0.5 * np.sum((rows - tt) ** 2))
        got = tg.Graph(tg.LogLoss(tg.Input("o"), tg.Input("t"))).forward({"o": rows, "t": tt})
        assert np.isclose(got, -scale * np.sum(tt * np.log(rows) + (1 - tt) * np.log(1 - rows)))
    summed = tg.Graph(tg.SquaredLoss(tg.Input("o"), tg.Input("t"), reduction="sum")).forward({"o": o, "t": t})
    assert np.isclose(summed, 0.5 * np.sum((o - t) ** 2))


def test_softmax_cross_entropy_indices_and_one_hot_agree():
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


# ---------------------------------------------------------------- backward vs finite differences
P = rng.uniform(0.05, 0.95, size=(5, 3))
CASES = {
    "Logistic batch": (tg.Logistic, [(5, 3)], (0,)),
    "Logistic single": (tg.Logistic, [(3,)], ()),
    "Tanh": (tg.Tanh, [(5, 3)], (0,)),
    "ReLU": (tg.ReLU, [(5, 3)], (0,)),
    "Softmax batch": (tg.Softmax, [(5, 4)], (0,)),
    "Softmax single": (tg.Softmax, [(4,)], ()),
    "AppendOne": (tg.AppendOne, [(5, 3)], (0,)),
    "WeightedSum neuron": (tg.WeightedSum, [(3,), (3,), ()], ()),
    "WeightedSum neuron batch": (tg.WeightedSum, [(5, 3), (3,), ()], (0,)),
    "WeightedSum layer": (tg.WeightedSum, [(3,), (3, 2), (2,)], ()),
    "WeightedSum layer batch": (tg.WeightedSum, [(5, 3), (3, 2), (2,)], (0,)),
    "WeightedSum no bias": (tg.WeightedSum, [(5, 3), (3, 2)], (0,)),
    "SquaredLoss batch": (tg.SquaredLoss, [(5, 3), (5, 3)], (0, 1)),
    "SquaredLoss single": (tg.SquaredLoss, [(3,), (3,)], ()),
    "SquaredLoss sum": (lambda o, t: tg.SquaredLoss(o, t, reduction="sum"), [(5, 3), (5, 3)], (0, 1)),
    "LogLoss": (tg.LogLoss, [P, rng.uniform(0, 1, size=(5, 3))], (0, 1)),
    "SoftmaxCrossEntropy soft": (tg.SoftmaxCrossEntropy, [(5, 3), rng.uniform(0, 1, size=(5, 3))], (0, 1)),
}


@pytest.mark.parametrize("name", list(CASES))
def test_backward_matches_finite_differences(name):
    factory, shapes, batched = CASES[name]
    report = tg.check_node(factory, shapes, batched=batched)
    assert report.passed, str(report)
    assert len(report.rows) == len(shapes)


def test_softmax_cross_entropy_with_class_indices_checks_logits_only():
    report = tg.check_node(tg.SoftmaxCrossEntropy, [(5, 3), np.array([0, 2, 1, 1, 0.0])],
                           batched=(0, 1), wrt=(0,))
    assert report.passed and [r.name for r in report.rows] == ["in0"]


def test_check_node_catches_a_wrong_derivative():
    class BadSquare(tg.Node):
        def forward(self, x):
            return x * x

        def backward(self, grad_out):
            return (grad_out * self.inputs[0].value,)  # should be 2x

    report = tg.check_node(BadSquare, [(4, 2)], batched=(0,))
    assert not report.passed
    assert "FAIL" in str(report)


def test_step_passes_gradient_straight_through():
    z = tg.Input("z")
    y = tg.Step(z)
    g = tg.Graph(tg.SquaredLoss(y, tg.Input("t")))
    g.forward({"z": np.array([-1.0, 0.5]), "t": np.array([1.0, 1.0])})
    g.backward(inputs=True)
    assert np.array_equal(y.grad, [-1.0, 0.0])           # y − t
    assert np.array_equal(z.grad, y.grad)                 # derivative taken as 1
    # the true derivative is 0 almost everywhere, so finite differences disagree
    assert not tg.check_node(tg.Step, [(5, 3)], batched=(0,)).passed


@pytest.mark.parametrize("size", [7, 7 * 40, 7 * 400])  # each of Logistic's three paths
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_logistic_is_stable_for_huge_inputs(size, dtype):
    z = np.resize(np.array([-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4], dtype), size)
    with np.errstate(all="raise"):                 # no overflow, underflow or nan
        y = run(tg.Logistic, z)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y)) and y[0] > 0 and y[-1] == 1.0 and y[3] == 0.5 and y[5] == 1.0
    assert np.isclose(y[2], np.exp(-30.0) / (1 + np.exp(-30.0)), rtol=1e-12 if dtype == np.float64 else 1e-6)


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


def test_parameter_copies_the_callers_array():
    a = np.array([1.0, 2.0])
    p = tg.Parameter(a)
    p.value += 1
    assert np.array_equal(a, [1.0, 2.0])
    assert tg.Parameter([1, 2]).value.dtype == np.float64


def test_repr_and_auto_names():
    a, b = tg.Logistic(tg.Input("x")), tg.Logistic(tg.Input("y"))
    assert a.name != b.name and a.name.startswith("logistic")
    assert repr(tg.Parameter(np.zeros((2, 3)), name="W")) == "Parameter('W', shape=(2, 3))"
    assert repr(tg.Input("x", shape=2)) == "Input('x', shape=(2,))"
