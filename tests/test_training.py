"""fit, SGD, dense, mlp and the Network object."""

import numpy as np
import pytest

import tinygraph as tg


def test_fit_returns_mean_loss_per_epoch_and_is_reproducible():
    X, T = tg.datasets.xor()
    runs = []
    for _ in range(2):
        net = tg.mlp([2, 3, 1], seed=4)
        runs.append(net.fit(X, T, epochs=20, lr=0.5, seed=11, progress=False))
    assert len(runs[0]) == 20 and runs[0] == runs[1]
    other = tg.mlp([2, 3, 1], seed=4).fit(X, T, epochs=20, lr=0.5, seed=12, progress=False)
    assert other != runs[0]  # another shuffle order


def test_fit_history_is_the_mean_of_the_step_losses():
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 2, 1], seed=0)
    seen = []
    loss = net.loss

    class Spy:
        def __init__(self, inner):
            self.inner = inner

        def step(self):
            seen.append(float(loss.value))
            self.inner.step()

    history = tg.fit(net.graph, {"x": X, "t": T.reshape(-1, 1)}, Spy(tg.SGD(net.parameters(), 0.5)),
                     epochs=3, progress=False, seed=0)
    assert len(seen) == 12
    assert np.allclose(history, np.mean(np.reshape(seen, (3, 4)), axis=1))


def test_fit_with_minibatches_and_without_shuffle_equals_full_batch_gradient_descent():
    X, T = tg.datasets.moons(n=16, seed=0)
    a, b = tg.mlp([2, 4, 1], seed=5), tg.mlp([2, 4, 1], seed=5)
    a.fit(X, T, epochs=5, lr=0.5, batch_size=16, shuffle=False, progress=False)
    for _ in range(5):  # by hand: the whole batch, mean gradient, one step
        b.graph.forward({"x": X, "t": T.reshape(-1, 1)})
        b.graph.backward()
        for p in b.parameters():
            p.value -= 0.5 * p.grad
    for p, q in zip(a.parameters(), b.parameters()):
        assert np.allclose(p.value, q.value, rtol=1e-13)


def test_fit_default_batch_size_is_one_sample():
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 2, 1], seed=0)
    shapes = []
    net.fit(X, T, epochs=1, lr=0.1, progress=False, callback=lambda e, l: shapes.append(net.input.value.shape))
    assert shapes == [(2,)]


def test_fit_accepts_a_learning_rate_and_a_callback():
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 2, 1], seed=0)
    calls = []
    tg.fit(net.graph, {net.input: X, "t": T[:, None]}, 0.5, epochs=3, progress=False,
           callback=lambda epoch, loss: calls.append((epoch, loss)))
    assert [c[0] for c in calls] == [1, 2, 3]


@pytest.mark.parametrize("data,match", [
    ({"x": np.zeros((4, 2)), "t": np.zeros((3, 1))}, "same number of samples.*'x': 4.*'t': 3"),
    ({"x": np.zeros((0, 2)), "t": np.zeros((0, 1))}, "empty"),
    ({"x": np.zeros((4, 2))}, "missing Input 't'"),
    ({"x": np.zeros((4, 2)), "t": np.zeros((4, 1)), "q": np.zeros(4)}, "'q' is not an Input"),
    ({}, "non-empty dict"),
])
def test_fit_rejects_bad_data_before_changing_anything(data, match):
    net = tg.mlp([2, 2, 1], seed=0)
    before = [p.value.copy() for p in net.parameters()]
    with pytest.raises(tg.GraphError, match=match):
        tg.fit(net.graph, data, 0.5, progress=False)
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters(), before))


def test_fit_stops_on_non_finite_loss_naming_epoch_and_step():
    X, T = tg.datasets.xor()
    X = X.copy()
    X[2, 0] = np.nan
    net = tg.mlp([2, 2, 1], seed=0)
    with pytest.raises(tg.GraphError, match=r"non-finite at epoch 1, step \d.*Input 'x'|non-finite at epoch 1.*WeightedSum 'z1'"):
        net.fit(X, T, epochs=2, lr=0.5, progress=False)
    assert all(np.all(np.isfinite(p.value)) for p in net.parameters())


def test_sgd_refuses_to_step_without_gradients():
    net = tg.mlp([2, 2, 1], seed=0)
    before = [p.value.copy() for p in net.parameters()]
    with pytest.raises(tg.GraphError, match="Parameter 'W1' has no gradient"):
        tg.SGD(net.parameters(), 0.1).step()
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters(), before))
    with pytest.raises(tg.GraphError, match="lr must be a number > 0"):
        tg.SGD(net.parameters(), lr=-1)
    with pytest.raises(TypeError, match="expected Parameter nodes"):
        tg.SGD([net.input], lr=0.1)


def test_dense_builds_named_nodes_and_needs_known_features():
    x = tg.Input("x", shape=(3,))
    h = tg.dense(x, 4, name="h", seed=0)
    assert isinstance(h, tg.Logistic) and h.name == "h" and h.shape == (4,)
    g = tg.Graph(h)
    assert g["h.W"].value.shape == (3, 4) and g["h.b"].value.shape == (4,)
    assert isinstance(g["h.z"], tg.WeightedSum)
    o = tg.dense(h, 2, activation=None, name="o", bias="input")
    assert isinstance(o, tg.WeightedSum) and tg.Graph(o)["o.W"].value.shape == (5, 2)
    relu = tg.dense(x, 5, activation=tg.ReLU, seed=1)
    assert isinstance(relu, tg.ReLU)
    with pytest.raises(tg.GraphError, match="number of features of Input 'u' is unknown"):
        tg.dense(tg.Input("u"), 3)


def test_mlp_names_follow_the_derivation():
    net = tg.mlp([3, 4, 4, 2], seed=0)
    names = [n.name for n in net.graph.nodes]
    for name in ["x", "W1", "b1", "z1", "h1", "W2", "b2", "z2", "h2", "W3", "b3", "z3", "o", "t", "E"]:
        assert name in names
    assert net.output.name == "o" and net.loss.name == "E" and len(net.layers) == 3
    assert [l.W.value.shape for l in net.layers] == [(3, 4), (4, 4), (4, 2)]
    assert repr(net) == "Network(3-4-4-2, bias='separate', loss=SquaredLoss)"


def test_deep_network_learns_moons():
    X, T = tg.datasets.moons(n=200, noise=0.1, seed=0)
    net = tg.mlp([2, 8, 8, 8, 1], activation=tg.Tanh, seed=0)
    net.fit(X, T, epochs=60, lr=0.1, seed=0, progress=False)
    assert net.accuracy(X, T) >= 0.95


def test_softmax_network_classifies_blobs():
    X, T = tg.datasets.blobs(n=150, centers=3, noise=0.4, seed=1)
    net = tg.mlp([2, 8, 3], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0)
    net.fit(X, T, epochs=30, lr=0.1, seed=0, progress=False)
    P = net.predict(X)
    assert P.shape == (150, 3) and np.allclose(P.sum(axis=1), 1.0)
    assert net.accuracy(X, T) >= 0.9


def test_predict_does_not_need_targets_and_returns_a_copy():
    net = tg.mlp([2, 2, 1], seed=0)
    p = net.predict(np.zeros((3, 2)))
    p[:] = 7
    assert not np.any(net.output.value == 7)
    assert net.predict([0.0, 1.0]).shape == (1,)


def test_gradcheck_report_reads_well():
    net = tg.mlp([2, 3, 1], seed=0)
    report = tg.gradcheck(net.graph, {"x": [0.1, 0.2], "t": [1.0]})
    assert report.passed and bool(report)
    assert [r.name for r in report.rows] == ["W1", "b1", "W2", "b2"]
    text = str(report)
    assert "W1" in text and "passed" in text
    assert report["W1"].max_abs_error < 1e-8
    # gradcheck leaves the parameters exactly as they were
    before = [p.value.copy() for p in net.parameters()]
    tg.gradcheck(net.graph, {"x": [0.1, 0.2], "t": [1.0]})
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters(), before))


def test_progress_bar_shows_when_asked(capsys):
    X, T = tg.datasets.xor()
    tg.mlp([2, 2, 1], seed=0).fit(X, T, epochs=2, progress=True)
    assert "fit" in capsys.readouterr().err
    tg.mlp([2, 2, 1], seed=0).fit(X, T, epochs=2, progress=False)
    assert capsys.readouterr().err == ""


def test_history_is_the_mean_per_sample_for_summed_losses_too():
    X, T = tg.datasets.moons(n=10, seed=0)
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    o = tg.dense(x, 1, seed=0, name="o")
    history = {}
    for reduction in ("mean", "sum"):
        g = tg.Graph(tg.SquaredLoss(o, t, reduction=reduction))
        before = [p.value.copy() for p in g.parameters()]
        history[reduction] = tg.fit(g, {x: X, t: T[:, None]}, 1e-12, batch_size=4, shuffle=False,
                                    progress=False)[0]
        for p, v in zip(g.parameters(), before):
            p.value[...] = v
    P = 1 / (1 + np.exp(-(X @ o.inputs[0].inputs[1].value + o.inputs[0].inputs[2].value)))
    per_sample = np.mean(0.5 * (P[:, 0] - T) ** 2)
    assert np.isclose(history["mean"], per_sample) and np.isclose(history["sum"], per_sample)


def test_gradcheck_refuses_to_pass_without_checking_anything():
    net = tg.mlp([2, 2, 1], seed=0)
    feed = {"x": [0.1, 0.2], "t": [1.0]}
    assert [r.name for r in tg.gradcheck(net.graph, feed, only="W1").rows] == ["W1"]
    with pytest.raises(tg.GraphError, match=r"not nodes of this graph"):
        tg.gradcheck(net.graph, feed, only=["W9"])
    g = tg.Graph(tg.Sum(tg.Tanh(tg.Input("x"))))
    report = tg.gradcheck(g, {"x": [0.1, 0.2]})       # no parameters, inputs=False
    assert report.rows == [] and not report.passed and "checked nothing" in str(report)


def test_helpers_reject_what_is_not_a_node_class():
    with pytest.raises(TypeError, match="mlp: loss must be a tinygraph node class"):
        tg.mlp([2, 1], loss="mse")
    with pytest.raises(TypeError, match="dense: activation must be a tinygraph node class"):
        tg.dense(tg.Input("x", shape=(2,)), 3, activation="tanh")
    net = tg.mlp([2, 1], seed=0)
    with pytest.raises(tg.GraphError, match="X has 4 rows but T has 3"):
        net.accuracy(np.zeros((4, 2)), np.zeros(3))


def test_sgd_momentum_and_lr_can_be_changed_between_steps_and_are_checked():
    w = tg.Parameter(np.array([1.0]), name="w")
    opt = tg.SGD([w], lr=0.1)
    w.grad = np.array([1.0])
    opt.step()                                           # w = 0.9
    opt.momentum = 0.5                                   # v starts at 0
    opt.step()                                           # v = 1, w = 0.8
    opt.step()                                           # v = 1.5, w = 0.65
    opt.lr = 0.2
    opt.step()                                           # v = 1.75, w = 0.3
    assert np.allclose(w.value, [0.3])
    for what, bad in (("momentum", 1.0), ("momentum", "0.5"), ("lr", 0.0), ("lr", np.nan)):
        with pytest.raises(tg.GraphError, match=f"SGD: {what} must be"):
            setattr(opt, what, bad)
    assert opt.momentum == 0.5 and opt.lr == 0.2


def test_sgd_keeps_its_parameters_and_follows_values_that_are_replaced():
    w = tg.Parameter(np.array([1.0, 2.0], dtype=np.float32), name="w")
    v = tg.Parameter(np.array([3.0]), name="v")
    opt = tg.SGD([w, v], lr=0.5)
    assert opt.parameters == (w, v)
    with pytest.raises(AttributeError):
        opt.parameters.append(tg.Parameter([0.0]))          # a new set needs a new SGD
    w.grad, v.grad = np.array([1.0, 1.0], dtype=np.float32), np.array([2.0])
    opt.step()
    assert w.value.dtype == np.float32 and np.array_equal(w.value, np.float32([0.5, 1.5]))
    old = w.value
    w.value = np.array([10.0, 20.0, 30.0])                   # replaced: another shape and dtype
    w.grad = np.array([2.0, 2.0, 2.0])
    opt.step()
    assert w.value.dtype == np.float64 and np.array_equal(w.value, [9.0, 19.0, 29.0])
    assert np.array_equal(old, np.float32([0.5, 1.5]))       # the old array is left alone
    assert np.array_equal(v.value, [1.0])                     # 3 − 0.5·2 − 0.5·2
    w.grad = np.array([1.0])                                  # wrong shape: nothing changes
    with pytest.raises(tg.GraphError, match=r"Parameter 'w': gradient shape \(1,\) does not match value shape \(3,\)"):
        opt.step()
    assert np.array_equal(w.value, [9.0, 19.0, 29.0]) and np.array_equal(v.value, [1.0])


def test_sgd_momentum_starts_again_for_a_value_of_a_new_shape():
    w = tg.Parameter(np.array([1.0]), name="w")
    opt = tg.SGD([w], lr=0.1, momentum=0.5)
    w.grad = np.array([1.0])
    opt.step()                                                # v = 1, w = 0.9
    w.value, w.grad = np.array([1.0, 1.0]), np.array([1.0, 1.0])
    opt.step()                                                # v = 0·0.5 + 1 = 1, w = 0.9
    assert np.allclose(w.value, [0.9, 0.9]) and np.allclose(opt.velocity[0], [1.0, 1.0])


def test_sgd_updates_large_parameters_of_any_memory_order():
    rng = np.random.default_rng(0)
    w = tg.Parameter(np.zeros((300, 200)), name="w")                    # over SGD's block size
    opt = tg.SGD([w], lr=0.5)
    w.value = np.asfortranarray(rng.normal(size=(300, 200)))            # set by hand, column-major
    start = w.value.copy()
    w.grad = rng.normal(size=(300, 200))
    opt.step()
    assert np.array_equal(w.value, start - np.float64(0.5) * w.grad)
    assert tg.Parameter(np.ones((3, 4)).T).value.flags.c_contiguous    # kept in C order
