"""Recording (teaching/recording.py): snapshots taken while fit trains, and what the replay and live view read.

The expected numbers are worked out here with plain numpy (the mlp's forward pass, its losses and backprop),
from the parameters a snapshot stored, never taken from the Recording itself.
"""

import os
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reference_mlp import (  # tests/reference_mlp.py (setup.cfg puts tests/ on the path)
    backprop,
    forward,
    identity,
    load,
    log_loss,
    moons,
    relu,
    rms_norm,
    sigmoid,
    softmax_ce,
    squared_loss,
    tanh_net,
    values,
)

import tinygraph as tg
from tinygraph.teaching import watching
from tinygraph.teaching.recording import Summary, schedule


def test_the_numpy_reference_backprop_agrees_with_finite_differences():
    # (the reference the tests below compare with is itself checked first)
    X, T = moons(8)
    params = values(tanh_net(3))
    grads, _ = backprop(params, X, T)
    h = 1e-6
    for name, p in params.items():
        for idx in np.ndindex(p.shape):
            up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
            up[name][idx] += h
            down[name][idx] -= h
            numeric = (log_loss(forward(up, X)[1][-1], T) - log_loss(forward(down, X)[1][-1], T)) / (2 * h)
            assert np.isclose(grads[name][idx], numeric, rtol=1e-5, atol=1e-9)


# -- 1. recording never changes training -----------------------------------------------------
def config_xor_squared():
    X, T = tg.datasets.xor()
    return tg.mlp([2, 3, 1], seed=0), X, T, dict(epochs=40, lr=0.5, seed=0), dict(max_snapshots=25)


def config_tanh_log_batches_momentum():
    X, T = tg.datasets.moons(n=30, seed=1)
    net = tg.mlp([2, 4, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=1)
    opt = tg.SGD(net.parameters(), lr=0.2, momentum=0.9)
    return net, X, T, dict(epochs=6, batch_size=4, optimizer=opt, seed=3), dict(every=3)


def config_relu_softmax_no_shuffle():
    X, T = tg.datasets.blobs(n=30, centers=3, seed=0)
    net = tg.mlp([2, 5, 3], activation=tg.ReLU, loss=tg.SoftmaxCrossEntropy, seed=2)
    return net, X, T, dict(epochs=5, lr=0.1, batch_size=7, shuffle=False), dict(every=2, test=(X[:9], T[:9]))


def config_digits_float32():
    X, T = tg.datasets.digits()
    net = tg.mlp([64, 8, 10], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0, dtype=np.float32)
    return net, X[:150], T[:150], dict(epochs=2, lr=0.1, batch_size=10, seed=5), dict()


def config_deep_float32_momentum_bias_input():
    X, T = tg.datasets.moons(n=20, seed=2)
    net = tg.mlp([2, 3, 3, 1], loss=tg.LogLoss, bias="input", seed=4, dtype=np.float32)
    opt = tg.SGD(net.parameters(), lr=0.5, momentum=0.5)
    return net, X, T, dict(epochs=3, optimizer=opt, seed=1), dict(every=7, max_snapshots=4)


def config_batch_larger_than_data():
    X, T = tg.datasets.xor()
    return tg.mlp([2, 2, 1], activation=tg.Tanh, seed=1), X, T, dict(epochs=9, lr=1.0, batch_size=50, seed=6), dict()


CONFIGS = [
    config_xor_squared,
    config_tanh_log_batches_momentum,
    config_relu_softmax_no_shuffle,
    config_digits_float32,
    config_deep_float32_momentum_bias_input,
    config_batch_larger_than_data,
]


def run(config, record=None, **extra):
    net, X, T, fit_kwargs, rec_kwargs = config()
    rec = tg.Recording(**rec_kwargs) if record else None
    history = net.fit(X, T, progress=False, record=rec, **fit_kwargs, **extra)
    opt = fit_kwargs.get("optimizer")
    velocity = [v.copy() for v in (opt.velocity or [])] if opt is not None else []
    return history, values(net), velocity, rec, net


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.__name__.removeprefix("config_"))
def test_recording_never_changes_training_bit_for_bit(config):
    plain_history, plain_params, plain_velocity, _, _ = run(config)
    history, params, velocity, rec, net = run(config, record=True)
    assert len(rec) >= 2 and rec[0].step == 0  # it did record
    assert history == plain_history
    assert params.keys() == plain_params.keys()
    for name in params:
        assert params[name].dtype == plain_params[name].dtype
        assert np.array_equal(params[name], plain_params[name]), name
    assert len(velocity) == len(plain_velocity)
    assert all(np.array_equal(a, b) for a, b in zip(velocity, plain_velocity))
    for name, kept in rec[-1].parameters.items():  # the last snapshot is the trained network
        assert kept.dtype == params[name].dtype and np.array_equal(kept, params[name])


def hand_built_graph(reduction="mean", with_output=True):
    """A 2-3-1 tanh/logistic net made node by node (not a Network), its names not an mlp's."""
    rng = np.random.default_rng(7)
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    A, a = tg.Parameter(rng.normal(size=(2, 3)), name="A"), tg.Parameter(np.zeros(3), name="a")
    B, b = tg.Parameter(rng.normal(size=(3, 1)), name="B"), tg.Parameter(np.zeros(1), name="b")
    h = tg.Tanh(tg.WeightedSum(x, A, a, name="s1"), name="h")
    p = tg.Logistic(tg.WeightedSum(h, B, b, name="s2"), name="p")
    E = tg.LogLoss(p, t, reduction=reduction, name="L")
    return tg.Graph(E, p) if with_output else tg.Graph(E)


AS_MLP = {"A": "W1", "a": "b1", "B": "W2", "b": "b2"}


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_hand_built_graph_trains_the_same_and_its_snapshots_are_per_sample_means(reduction):
    X, T = moons(15)
    data = {"x": X, "t": T}
    plain = hand_built_graph(reduction)
    plain_history = tg.fit(plain, data, 0.3, epochs=3, batch_size=4, seed=1, progress=False)
    graph = hand_built_graph(reduction)
    rec = tg.Recording(max_snapshots=5)
    history = tg.fit(graph, data, 0.3, epochs=3, batch_size=4, seed=1, progress=False, record=rec)
    assert history == plain_history
    for p, q in zip(graph.parameters(), plain.parameters()):
        assert np.array_equal(p.value, q.value)
    assert [s.step for s in rec] == schedule(0, 12, "auto", 5)
    for snap in rec:  # with reduction="sum" too: the mean per sample, and the gradient of that mean
        params = {AS_MLP[k]: v for k, v in snap.parameters.items()}
        assert np.isclose(snap.loss, log_loss(forward(params, X)[1][-1], T), rtol=1e-12)
        grads, deltas = backprop(params, X, T)
        for name, mlp_name in AS_MLP.items():
            assert np.isclose(snap.grad_norms[name], np.linalg.norm(grads[mlp_name]), rtol=1e-10)
        assert snap.delta_norms.keys() == {"s1", "s2"}
        assert np.isclose(snap.delta_norms["s1"], rms_norm(deltas["z1"]), rtol=1e-10)
        assert np.isclose(snap.delta_norms["s2"], rms_norm(deltas["z2"]), rtol=1e-10)
    assert rec.grid_axes is not None and rec[0].grid.shape == (40, 40, 1)  # Graph(E, p): p is the prediction


def test_a_graph_without_a_prediction_output_has_no_grid():
    X, T = moons(10)
    rec = tg.Recording()
    tg.fit(hand_built_graph(with_output=False), {"x": X, "t": T}, 0.3, epochs=1, seed=0, progress=False, record=rec)
    assert rec.grid_axes is None and all(s.grid is None for s in rec)


def test_resuming_from_a_checkpoint_records_from_the_resumed_step(tmp_path):
    X, T = tg.datasets.xor()
    path = tmp_path / "run.npz"
    whole_rec = tg.Recording()
    whole_net = tg.mlp([2, 3, 1], seed=0)
    whole_history = whole_net.fit(X, T, epochs=6, lr=0.5, seed=2, progress=False, record=whole_rec)

    net = tg.mlp([2, 3, 1], seed=0)
    data = {"x": X, "t": T[:, None]}
    tg.fit(net, data, tg.SGD(net.parameters(), 0.5), epochs=3, seed=2, checkpoint=path, progress=False)
    at_three = values(net)
    net = tg.mlp([2, 3, 1], seed=0)  # a fresh start, as after a crash: resume loads the checkpoint
    rec = tg.Recording()
    history = tg.fit(
        net, data, tg.SGD(net.parameters(), 0.5), epochs=6, checkpoint=path, resume=True, progress=False, record=rec
    )
    assert history == whole_history
    for p in net.parameters():
        assert np.array_equal(p.value, whole_net.graph[p.name].value)
    assert [s.step for s in rec] == list(range(12, 25))  # 4 steps an epoch, from epoch 3 to 6
    assert rec[0].epoch == 3.0 and rec[-1].epoch == 6.0
    for name, v in at_three.items():
        assert np.array_equal(rec[0].parameters[name], v)
    for snap, same in zip(rec, whole_rec[12:]):  # the same snapshots as the uninterrupted run's
        assert snap.step == same.step and snap.loss == same.loss
        assert all(np.array_equal(snap.parameters[k], same.parameters[k]) for k in snap.parameters)


def test_live_in_a_terminal_shows_nothing_and_trains_the_same(capsys, monkeypatch):
    try:
        import IPython.display
    except ImportError:
        pass
    else:

        def no_display(*args, **kwargs):
            raise AssertionError("display called outside a notebook")

        monkeypatch.setattr(IPython.display, "display", no_display)
    assert not watching.in_notebook()
    plain_history, plain_params, _, _, _ = run(config_xor_squared)
    capsys.readouterr()
    history, params, _, _, _ = run(config_xor_squared, live=True)  # fit makes a Recording of its own
    rec = tg.Recording()
    net, X, T, fit_kwargs, _ = config_xor_squared()
    history_with_record = net.fit(X, T, progress=False, record=rec, live=True, **fit_kwargs)
    out, err = capsys.readouterr()
    assert out == "" and err == ""
    assert history == plain_history == history_with_record
    assert all(np.array_equal(params[k], plain_params[k]) for k in params)
    assert all(np.array_equal(net.graph[k].value, plain_params[k]) for k in params)
    assert len(rec) == 161 and rec.listeners == []  # recorded, but no live view


# -- 2. the schedule ---------------------------------------------------------------------------
def test_schedule_examples():
    assert schedule(0, 5, "auto", 200) == [0, 1, 2, 3, 4, 5]
    assert schedule(0, 1000, "auto", 6) == [0, 40, 160, 360, 640, 1000]
    assert schedule(0, 10, 4, 200) == [0, 4, 8, 10]
    assert schedule(0, 12, 4, 200) == [0, 4, 8, 12]
    assert schedule(7, 7, "auto", 2) == [7] and schedule(7, 7, 3, 2) == [7]


CASES = [(0, last, limit) for last in (1, 2, 9, 10, 11, 57, 199, 200, 201, 1000, 12_345) for limit in (2, 3, 10, 200)]
CASES += [(first, first + total, limit) for first in (5, 120) for total in (0, 3, 300, 4321) for limit in (2, 7, 200)]


@pytest.mark.parametrize("every", ["auto", 1, 3, 50])
def test_schedule_has_first_and_last_increasing_and_at_most_limit(every):
    for first, last, limit in CASES:
        steps = schedule(first, last, every, limit)
        assert steps[0] == first and steps[-1] == last, (first, last, limit)
        assert all(a < b for a, b in zip(steps, steps[1:])), (first, last, limit)
        assert len(steps) <= limit or (first == last and steps == [first])
        if every == "auto":
            assert len(steps) == min(limit, last - first + 1), (first, last, limit)


def test_auto_schedule_is_dense_early_and_sparse_late():
    for total in (1000, 10_000, 123_457):
        for limit in (10, 11, 50, 200):
            steps = schedule(0, total, "auto", limit)
            half = steps[: len(steps) // 2]
            assert max(half) <= total / 4, (total, limit)  # the first half of the snapshots in the first quarter
            gaps = np.diff(steps)
            assert gaps[: len(gaps) // 2].mean() < gaps[len(gaps) // 2 :].mean()
            assert gaps[0] < gaps[-1]


def test_a_whole_number_every_takes_its_multiples_and_the_last_or_spaces_them_wider():
    for total in (1, 10, 12, 99, 100, 1001):
        for every in (1, 3, 7, 10):
            steps = schedule(0, total, every, 10_000)
            assert steps == sorted(set(range(0, total + 1, every)) | {total})
    steps = schedule(0, 1000, 3, 11)  # 334 multiples of 3 would exceed 11: spaced wider
    assert steps[0] == 0 and steps[-1] == 1000 and len(steps) <= 11
    gap = steps[1]
    assert gap >= 100 and steps[:-1] == list(range(0, 1001, gap))[: len(steps) - 1]


def test_a_resumed_run_with_a_whole_number_every_keeps_to_its_multiples():
    # every=5 means the steps 0, 5, 10, …: a run resumed at step 12 should go on with 15, 20, … (and
    # start with 12, its first), so that its snapshots fall where the uninterrupted run's do
    assert schedule(0, 40, 5, 200) == [0, 5, 10, 15, 20, 25, 30, 35, 40]
    assert schedule(12, 40, 5, 200) == [12, 15, 20, 25, 30, 35, 40]
    assert schedule(10, 40, 5, 200) == [10, 15, 20, 25, 30, 35, 40]


@pytest.mark.parametrize("every,limit", [("auto", 200), ("auto", 7), (3, 200), (5, 4)])
def test_the_snapshots_a_fit_takes_are_the_schedule(every, limit):
    X, T = moons(10)
    rec = tg.Recording(every=every, max_snapshots=limit)
    tanh_net().fit(X, T, epochs=4, lr=0.5, batch_size=3, seed=0, progress=False, record=rec)
    steps = [s.step for s in rec]
    assert steps == schedule(0, 16, every, limit)  # 4 steps an epoch (3 + 3 + 3 + 1 rows)
    if every == "auto" and limit == 200:
        assert steps == list(range(17))
    if every == 3:
        assert steps == [0, 3, 6, 9, 12, 15, 16]


def test_epoch_is_the_step_over_the_steps_of_an_epoch():
    X, T = moons(10)
    rec = tg.Recording()
    tanh_net().fit(X, T, epochs=3, lr=0.5, batch_size=3, seed=0, progress=False, record=rec)
    assert rec.steps_per_epoch == 4
    assert [s.epoch for s in rec] == [k / 4 for k in range(13)]
    assert len(rec) == 13 and rec[-1] is rec.snapshots[-1] and list(rec) == rec.snapshots
    assert repr(rec) == "<Recording of 13 snapshots, steps 0 to 12>"
    assert all(isinstance(s, tg.Snapshot) for s in rec)


# -- 3. what the snapshots hold ---------------------------------------------------------------
def test_snapshot_parameters_are_the_live_parameters_at_that_step():
    X, T = moons(10)
    net = tanh_net()
    start = values(net)

    class Spy:  # steps the SGD, then copies the parameters: after[s - 1] holds those after step s
        def __init__(self):
            self.inner, self.after = tg.SGD(net.parameters(), lr=0.5), []

        def step(self):
            self.inner.step()
            self.after.append(values(net))

    spy = Spy()
    rec = tg.Recording()
    tg.fit(net, {"x": X, "t": T}, spy, epochs=3, batch_size=3, seed=4, progress=False, record=rec)
    assert len(spy.after) == 12 and [s.step for s in rec] == list(range(13))
    for snap in rec:
        expected = start if snap.step == 0 else spy.after[snap.step - 1]
        for name, v in expected.items():
            assert np.array_equal(snap.parameters[name], v), (snap.step, name)
    assert rec.lr is None  # not a plain SGD: the trace has no update to show


@pytest.mark.parametrize("epochs", [1, 2])
def test_snapshot_at_an_epoch_boundary_equals_a_run_of_that_many_epochs(epochs):
    X, T = moons(10)
    rec = tg.Recording(every=4)
    tanh_net().fit(X, T, epochs=3, lr=0.5, batch_size=3, seed=4, progress=False, record=rec)
    short = tanh_net()
    short.fit(X, T, epochs=epochs, lr=0.5, batch_size=3, seed=4, progress=False)
    snap = next(s for s in rec if s.step == 4 * epochs)
    for p in short.parameters():
        assert np.array_equal(snap.parameters[p.name], p.value)


def test_snapshot_loss_gradient_norms_and_delta_norms_match_numpy():
    X, T = moons(20)
    rec = tg.Recording(max_snapshots=6)
    tanh_net().fit(X, T, epochs=5, lr=0.5, seed=0, progress=False, record=rec)
    assert [s.step for s in rec] == [0, 4, 16, 36, 64, 100]
    assert rec.loss_rows == 20
    losses = []
    for snap in rec:
        params = snap.parameters
        fresh = tanh_net(seed=9)  # the same architecture, other weights, then the snapshot's loaded
        load(fresh, params)
        P = forward(values(fresh), X)[1][-1]
        assert np.allclose(fresh.predict(X), P, rtol=1e-12)
        assert np.isclose(snap.loss, log_loss(P, T), rtol=1e-12)
        grads, deltas = backprop(params, X, T)
        assert snap.grad_norms.keys() == {"W1", "b1", "W2", "b2"}
        for name, g in grads.items():
            assert np.isclose(snap.grad_norms[name], np.linalg.norm(g), rtol=1e-10), name
        assert snap.delta_norms.keys() == {"z1", "z2"}
        for name, d in deltas.items():
            assert np.isclose(snap.delta_norms[name], rms_norm(d), rtol=1e-10), name
        losses.append(snap.loss)
    assert losses[-1] < losses[0]  # it learned


def test_snapshot_loss_for_squared_loss_and_softmax_cross_entropy():
    X, T = tg.datasets.xor()
    rec = tg.Recording(max_snapshots=4)
    tg.mlp([2, 3, 1], seed=0).fit(X, T, epochs=5, lr=0.5, seed=0, progress=False, record=rec)
    for snap in rec:
        Y = forward(snap.parameters, X, hidden=sigmoid)[1][-1]
        assert np.isclose(snap.loss, squared_loss(Y, T[:, None]), rtol=1e-12)
    X, T = tg.datasets.blobs(n=30, centers=3, seed=0)
    Xt, Tt = tg.datasets.blobs(n=9, centers=3, seed=0, noise=1.0)
    rec = tg.Recording(max_snapshots=4, test=(Xt, Tt))  # class indices as the targets
    net = tg.mlp([2, 5, 3], activation=tg.ReLU, loss=tg.SoftmaxCrossEntropy, seed=2)
    net.fit(X, T, epochs=3, lr=0.1, batch_size=5, seed=0, progress=False, record=rec)
    for snap in rec:
        Z = forward(snap.parameters, X, hidden=relu, output=identity)[0][-1]
        assert np.isclose(snap.loss, softmax_ce(Z, T), rtol=1e-12)
        Z = forward(snap.parameters, Xt, hidden=relu, output=identity)[0][-1]
        assert np.isclose(snap.test_loss, softmax_ce(Z, Tt), rtol=1e-12)


def test_a_large_training_set_is_evaluated_on_a_fixed_1000_rows():
    X, T = tg.datasets.digits()
    rec = tg.Recording(max_snapshots=3)
    net = tg.mlp([64, 4, 10], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0)
    net.fit(X, T, epochs=1, lr=0.1, batch_size=300, seed=0, progress=False, record=rec)
    assert len(X) == 1797 and rec.loss_rows == 1000
    per_sample = [  # the loss of each row at the first snapshot: the recorded mean is one of 1000 of them
        softmax_ce(forward(rec[0].parameters, X[i : i + 1], output=identity)[0][-1], T[i : i + 1])
        for i in range(len(X))
    ]
    assert min(per_sample) < rec[0].loss < max(per_sample)


@pytest.mark.parametrize("form", ["pair", "dict"])
def test_test_loss_is_the_loss_over_the_test_data(form):
    X, T = moons(20)
    Xt, Tt = tg.datasets.moons(n=12, noise=0.3, seed=5)
    net = tanh_net()
    test = (Xt, Tt) if form == "pair" else {"x": Xt, net.target: Tt[:, None]}
    rec = tg.Recording(test=test, max_snapshots=4)
    net.fit(X, T, epochs=3, lr=0.5, seed=0, progress=False, record=rec)
    for snap in rec:
        assert np.isclose(snap.test_loss, log_loss(forward(snap.parameters, Xt)[1][-1], Tt[:, None]), rtol=1e-12)
        assert not np.isclose(snap.test_loss, snap.loss)
    assert all(s.test_loss is None for s in _recorded(moons(6)))


def _recorded(data, **rec_kwargs):
    X, T = data
    rec = tg.Recording(**rec_kwargs)
    tanh_net().fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec)
    return rec


def test_the_grid_is_the_prediction_over_the_grid_axes():
    X, T = moons(20)
    rec = tg.Recording(grid=7, max_snapshots=5)
    tanh_net().fit(X, T, epochs=3, lr=0.5, seed=0, progress=False, record=rec)
    u, v = rec.grid_axes
    assert len(u) == len(v) == 7
    assert u[0] <= X[:, 0].min() and u[-1] >= X[:, 0].max() and v[0] <= X[:, 1].min() and v[-1] >= X[:, 1].max()
    assert np.all(np.diff(u) > 0) and np.all(np.diff(v) > 0)
    fresh = tanh_net(seed=3)
    for snap in (rec[0], rec[2], rec[-1]):
        assert snap.grid.shape == (7, 7, 1) and snap.grid.dtype == np.float32
        load(fresh, snap.parameters)
        for r in range(7):
            for c in range(7):  # row r at x₂ = v[r], column c at x₁ = u[c]
                point = np.array([u[c], v[r]])
                assert np.allclose(snap.grid[r, c], fresh.predict(point), rtol=1e-6, atol=1e-7)
                assert np.allclose(snap.grid[r, c], forward(snap.parameters, point[None])[1][-1][0], atol=1e-6)
    assert not np.allclose(rec[0].grid, rec[-1].grid)


def test_inputs_that_are_not_2d_have_no_grid():
    X, T = tg.datasets.digits()
    rec = tg.Recording(max_snapshots=2)
    net = tg.mlp([64, 3, 10], loss=tg.SoftmaxCrossEntropy, seed=0)
    net.fit(X[:20], T[:20], epochs=1, lr=0.1, seed=0, progress=False, record=rec)
    assert rec.grid_axes is None and rec[0].grid is None and rec[-1].grid is None


# -- 4. memory -----------------------------------------------------------------------------------
def test_a_64_32_10_network_with_200_snapshots_keeps_well_under_50_mb():
    rng = np.random.default_rng(0)
    X, T = rng.random((100, 64)), rng.integers(0, 10, 100)

    def net():
        return tg.mlp([64, 32, 10], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0)

    net().fit(X, T, epochs=1, lr=0.1, seed=0, progress=False, record=tg.Recording(max_snapshots=2))  # (imports)
    trained = net()
    rec = tg.Recording()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        trained.fit(X, T, epochs=2, lr=0.1, seed=0, progress=False, record=rec)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert len(rec) == 200
    numbers = 64 * 32 + 32 + 32 * 10 + 10
    kept = sum(a.nbytes for s in rec for a in s.parameters.values())
    assert kept == 200 * numbers * 8  # each snapshot a whole copy of float64 parameters, nothing more
    assert after - before < 20e6  # all the Recording holds (and anything fit left): well under 50 MB


def test_a_parameter_larger_than_keep_whole_is_kept_as_a_summary():
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 8, 1], seed=0)
    start = values(net)
    rec = tg.Recording(keep_whole=10, max_snapshots=4)
    net.fit(X, T, epochs=3, lr=0.5, seed=0, progress=False, record=rec)
    for snap, W1 in ((rec[0], start["W1"]), (rec[-1], net.graph["W1"].value)):
        kept = snap.parameters["W1"]  # 16 numbers > 10
        assert isinstance(kept, Summary) and kept.shape == (2, 8)
        assert np.isclose(kept.mean, W1.mean()) and np.isclose(kept.std, W1.std())
        assert kept.min == W1.min() and kept.max == W1.max()
        assert np.isclose(kept.norm, np.sqrt(np.sum(W1**2)))
        assert isinstance(snap.parameters["b1"], np.ndarray)  # 8 numbers: whole
        assert isinstance(snap.parameters["W2"], np.ndarray)
    assert np.array_equal(rec[-1].parameters["W2"], net.graph["W2"].value)
    with pytest.raises(tg.GraphError, match="'W1'.*summary"):
        rec.with_parameters(0)
    with pytest.raises(tg.GraphError, match="'W1'.*summary"):
        rec.trace_at(-1)


# -- 5. trace_at -----------------------------------------------------------------------------------
def traced_run(**fit_kwargs):
    X, T = moons(12)
    net = tanh_net()
    rec = tg.Recording(max_snapshots=5)
    net.fit(X, T, epochs=3, seed=0, progress=False, record=rec, **fit_kwargs)
    return net, rec, X, T


def forward_values(tr):
    return {s.node.name: s.arrays[s.node.name] for s in tr.phase("forward") if s.node is not None}


def test_trace_at_runs_the_snapshots_parameters_on_a_training_row_and_leaves_the_live_graph_alone():
    net, rec, X, T = traced_run(lr=0.5)
    before = {
        n.name: (None if n.value is None else n.value.copy(), None if n.grad is None else n.grad.copy())
        for n in net.graph.nodes
    }
    for k, sample in ((1, 3), (-1, 0), (2, -1)):
        tr = rec.trace_at(k, sample)
        params = rec[k].parameters
        i = sample % len(X)
        (z1, z2), (_, h1, o) = forward(params, X[i : i + 1])
        got = forward_values(tr)
        assert np.allclose(got["z1"], z1[0], rtol=1e-12) and np.allclose(got["h1"], h1[0], rtol=1e-12)
        assert np.allclose(got["z2"], z2[0], rtol=1e-12) and np.allclose(got["o"], o[0], rtol=1e-12)
        assert np.isclose(tr.loss, log_loss(o, T[i : i + 1]), rtol=1e-12)
        given = tr[0].arrays
        assert np.array_equal(given["x"], X[i]) and all(np.array_equal(given[n], v) for n, v in params.items())
        # plain SGD: the update is shown, with the run's learning rate and this sample's gradient
        updates = tr.phase("update")
        assert tr.lr == 0.5 and [s.node.name for s in updates] == ["W1", "b1", "W2", "b2"]
        grads, _ = backprop(params, X[i : i + 1], T[i : i + 1])
        for s in updates:
            name = s.node.name
            assert np.array_equal(s.arrays["old"], params[name])
            assert np.allclose(s.arrays["grad"], grads[name], rtol=1e-10, atol=1e-15)
            assert np.allclose(s.arrays["new"], params[name] - 0.5 * grads[name], rtol=1e-12)
    for n in net.graph.nodes:  # nothing of the live graph changed: values and gradients
        value, grad = before[n.name]
        assert (n.value is None) == (value is None) and (value is None or np.array_equal(n.value, value))
        assert (n.grad is None) == (grad is None) and (grad is None or np.array_equal(n.grad, grad))
    again = rec.trace_at(1, 3)  # nor the Recording's copy: tracing again starts from the snapshot again
    assert np.allclose(forward_values(again)["o"], forward(rec[1].parameters, X[3:4])[1][-1][0], rtol=1e-12)


def test_trace_at_takes_a_feed_dict():
    net, rec, X, T = traced_run(lr=0.5)
    by_index = rec.trace_at(2, 5)
    by_feed = rec.trace_at(2, {"x": X[5], "t": T[5]})
    assert by_feed.loss == by_index.loss
    other = {"x": np.array([0.3, -0.2]), "t": np.array([1.0])}
    tr = rec.trace_at(0, other)
    o = forward(rec[0].parameters, other["x"][None])[1][-1]
    assert np.isclose(tr.loss, log_loss(o, other["t"][None]), rtol=1e-12)
    by_node = rec.trace_at(2, {net.input: X[5], net.target: T[5]})  # the live graph's own Inputs
    assert by_node.loss == by_index.loss


def test_a_parameter_array_replaced_during_training_is_what_the_next_snapshot_holds():
    X, T = moons()
    net = tanh_net()
    rec = tg.Recording(every=1)
    W2 = net.graph["W2"]

    def replace(epoch, loss):
        if epoch == 1:
            W2.value = np.full((3, 1), 0.25, np.float32)  # a new array, of another dtype

    net.fit(X, T, epochs=2, batch_size=len(X), lr=0.5, seed=0, callback=replace, record=rec)
    assert [s.step for s in rec] == [0, 1, 2]
    assert np.array_equal(rec[1].parameters["W2"], np.full((3, 1), 0.25))
    assert rec[1].parameters["W2"].dtype == np.float32  # what the graph held, as it held it
    assert np.array_equal(rec[2].parameters["W2"], W2.value)


def test_trace_at_has_no_update_with_momentum():
    X, T = moons(12)
    net = tanh_net()
    rec = tg.Recording(max_snapshots=3)
    net.fit(X, T, epochs=2, seed=0, progress=False, record=rec, optimizer=tg.SGD(net.parameters(), 0.5, 0.9))
    tr = rec.trace_at(1)
    assert tr.phase("update") == [] and len(tr.phase("backward")) > 0
    assert rec.lr is None


def test_trace_at_rejects_a_bad_snapshot_or_sample():
    net, rec, X, T = traced_run(lr=0.5)
    params = values(net)
    for k in (len(rec), -len(rec) - 1):
        with pytest.raises(tg.GraphError, match=rf"\bk\b.*got {k}"):
            rec.trace_at(k)
    for sample in (len(X), -len(X) - 1):
        with pytest.raises(tg.GraphError, match=rf"sample.*got {sample}"):
            rec.trace_at(0, sample)
    with pytest.raises(TypeError, match="sample"):
        rec.trace_at(0, 1.5)
    with pytest.raises(TypeError, match=r"\bk\b"):
        rec.trace_at("last")
    with pytest.raises(tg.GraphError, match="no snapshots"):
        tg.Recording().trace_at(0)
    assert all(np.array_equal(p.value, params[p.name]) for p in net.parameters())


def test_with_parameters_is_a_copy_holding_the_snapshot():
    net, rec, X, T = traced_run(lr=0.5)
    graph = rec.with_parameters(1)
    assert graph is not net.graph and graph["W1"] is not net.graph["W1"]
    for name, v in rec[1].parameters.items():
        assert np.array_equal(graph[name].value, v)
    graph["W1"].value[...] = 0.0  # changing the copy changes neither the snapshot nor the live graph
    assert np.any(rec[1].parameters["W1"] != 0) and np.any(net.graph["W1"].value != 0)


# -- 6. errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(every=0), tg.GraphError, "every"),
        (dict(every=-3), tg.GraphError, "every"),
        (dict(every="often"), TypeError, "every"),
        (dict(every=2.5), TypeError, "every"),
        (dict(every=True), TypeError, "every"),
        (dict(max_snapshots=1), tg.GraphError, "max_snapshots"),
        (dict(max_snapshots=10.0), TypeError, "max_snapshots"),
        (dict(test=[1, 2]), TypeError, "test"),
        (dict(test=(np.zeros((2, 2)),)), tg.GraphError, "test"),
        (dict(test=(1, 2, 3)), tg.GraphError, "test"),
        (dict(grid=1), tg.GraphError, "grid"),
        (dict(grid=401), tg.GraphError, "grid"),
        (dict(keep_whole=0), tg.GraphError, "keep_whole"),
    ],
)
def test_recording_rejects_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        tg.Recording(**kwargs)


def test_fit_rejects_what_is_not_a_recording_and_a_bad_live_before_changing_anything():
    X, T = moons(8)
    net = tanh_net()
    start = values(net)
    with pytest.raises(TypeError, match="record.*object"):
        net.fit(X, T, epochs=1, progress=False, record=object())
    with pytest.raises(TypeError, match="record"):
        tg.fit(net, {"x": X, "t": T}, 0.5, progress=False, record=[])
    with pytest.raises(TypeError, match="live"):
        net.fit(X, T, epochs=1, progress=False, live="yes")
    with pytest.raises(TypeError, match="live"):
        net.fit(X, T, epochs=1, progress=False, record=tg.Recording(), live=1)
    assert all(np.array_equal(p.value, start[p.name]) for p in net.parameters())


def test_a_recording_cannot_be_reused_and_the_second_fit_changes_nothing():
    X, T = moons(8)
    rec = tg.Recording()
    tanh_net().fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec)
    held = [(s.step, s.loss) for s in rec]
    net = tanh_net(seed=1)
    start = values(net)
    with pytest.raises(tg.GraphError, match="already holds a run"):
        net.fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec)
    assert all(np.array_equal(p.value, start[p.name]) for p in net.parameters())
    assert [(s.step, s.loss) for s in rec] == held


@pytest.mark.parametrize(
    "test",
    [
        {"nope": np.zeros((3, 2)), "t": np.zeros((3, 1))},
        {"x": np.zeros((3, 2))},
        {"x": np.zeros((3, 2)), "t": np.zeros((4, 1))},
        (np.zeros((3, 5)), np.zeros(3)),
    ],
    ids=["unknown key", "missing input", "rows differ", "wrong shape"],
)
def test_test_data_that_does_not_fit_is_rejected_before_any_parameter_changes(test):
    X, T = moons(8)
    net = tanh_net()
    start = values(net)
    rec = tg.Recording(test=test)
    with pytest.raises(tg.GraphError, match="Recording: test"):
        net.fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec)
    assert all(np.array_equal(p.value, start[p.name]) for p in net.parameters())
    assert len(rec) == 0


def test_a_fit_that_fails_before_training_leaves_the_recording_unused(tmp_path):
    X, T = tg.datasets.xor()
    path = tmp_path / "run.npz"
    net = tg.mlp([2, 3, 1], seed=0)
    tg.fit(net, {"x": X, "t": T[:, None]}, 0.5, epochs=2, seed=1, checkpoint=path, progress=False)
    rec = tg.Recording()
    with pytest.raises(tg.GraphError, match="seed"):  # the checkpoint was trained with seed 1
        tg.fit(net, {"x": X, "t": T[:, None]}, 0.5, epochs=3, seed=2, checkpoint=path, resume=True, record=rec)
    assert len(rec) == 0
    tg.mlp([2, 3, 1], seed=0).fit(X, T, epochs=1, lr=0.5, seed=0, progress=False, record=rec)
    assert [s.step for s in rec] == [0, 1, 2, 3, 4]


# -- what a red team found ----------------------------------------------------------------------------
def test_a_graph_that_cannot_take_the_rows_as_one_batch_is_refused_before_training():
    X, T = moons()
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=())
    w = tg.Parameter(np.array([0.3, -0.2]), name="w")
    o = tg.Logistic(tg.Sum(x * w), name="o")  # (Sum adds up the whole batch: one sample at a time only)
    graph = tg.Graph(tg.SquaredLoss(o, t, name="E"), o)
    before = w.value.copy()
    rec = tg.Recording()
    with pytest.raises(
        tg.GraphError, match="Recording: a snapshot computes the loss over the training rows as one batch of 20"
    ):
        tg.fit(graph, {"x": X, "t": T[:, 0]}, 0.1, epochs=1, seed=0, record=rec)
    assert np.array_equal(w.value, before) and len(rec) == 0
    X2, T2 = moons(12)
    tanh_net().fit(X2, T2, epochs=1, lr=0.1, seed=0, record=rec)  # the Recording was not used up
    assert len(rec) == 13


def test_to_html_refuses_a_sample_that_is_no_training_row_before_writing(tmp_path):
    net, rec, X, T = traced_run(lr=0.5)
    page = tmp_path / "page.html"
    page.write_text("kept")
    with pytest.raises(tg.GraphError, match="Recording.to_html: sample must be a whole number from"):
        rec.to_html(page, sample=len(X))
    assert page.read_text() == "kept"


def test_messages_of_test_data_and_of_trace_at_say_whose_they_are():
    X, T = moons()
    with pytest.raises(TypeError, match="^Recording: test data: "):
        tanh_net().fit(X, T, epochs=1, lr=0.1, record=tg.Recording(test=(np.array([["a", "b"]]), T[:1])))
    net, rec, X, T = traced_run(lr=0.5)
    with pytest.raises(tg.GraphError, match="^trace_at: feed is missing Input 't'"):
        rec.trace_at(0, {"x": X[0]})


# -- recording on or off, over random runs --------------------------------------------------------------
# (TINYGRAPH_RECORDING_EXAMPLES=2000 for a long run)
@settings(
    max_examples=int(os.environ.get("TINYGRAPH_RECORDING_EXAMPLES", 25)),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=0, max_size=3),
    activation=st.sampled_from([tg.Logistic, tg.Tanh, tg.ReLU]),
    loss=st.sampled_from([tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy]),
    rows=st.integers(1, 23),
    batch_size=st.integers(1, 9),
    epochs=st.integers(1, 4),
    momentum=st.sampled_from([0.0, 0.5]),
    bias=st.sampled_from(["separate", "input"]),
    float32=st.booleans(),
    every=st.sampled_from(["auto", 1, 3]),
    limit=st.integers(2, 12),
    shuffle=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_runs_train_the_same_bit_for_bit_with_a_recording(
    sizes, activation, loss, rows, batch_size, epochs, momentum, bias, float32, every, limit, shuffle, seed
):
    rng = np.random.default_rng(seed)
    n_out = 3 if loss is tg.SoftmaxCrossEntropy else 1
    X = rng.normal(size=(rows, 2))
    T = rng.integers(0, n_out, rows) if n_out > 1 else rng.integers(0, 2, rows).astype(float)
    dtype = np.float32 if float32 else np.float64
    output = None if loss is tg.SoftmaxCrossEntropy else tg.Logistic

    def train(record):
        net = tg.mlp(
            [2, *sizes, n_out],
            activation=activation,
            loss=loss,
            bias=bias,
            dtype=dtype,
            seed=seed,
            **({} if output is None else {"output_activation": output}),
        )
        optimizer = tg.SGD(net.parameters(), lr=0.1, momentum=momentum)
        history = net.fit(
            X, T, epochs=epochs, batch_size=batch_size, shuffle=shuffle, seed=seed, optimizer=optimizer, record=record
        )
        return history, [p.value.copy() for p in net.parameters()], optimizer.velocity

    rec = tg.Recording(every=every, max_snapshots=limit)
    plain, recorded = train(None), train(rec)
    assert plain[0] == recorded[0]
    assert all(np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip(plain[1], recorded[1]))
    assert (plain[2] is None) == (recorded[2] is None)
    assert all(np.array_equal(a, b) for a, b in zip(plain[2] or [], recorded[2] or []))
    steps = epochs * -(-rows // batch_size)
    assert [s.step for s in rec] == schedule(0, steps, every, limit)
    assert all(np.array_equal(rec[-1].parameters[p.name], v) for p, v in zip(rec.graph.parameters(), recorded[1]))
