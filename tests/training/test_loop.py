"""fit (training/loop.py): the training loop, its history, checkpoints and its checks."""

import json

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

    history = tg.fit(
        net.graph, {"x": X, "t": T.reshape(-1, 1)}, Spy(tg.SGD(net.parameters(), 0.5)), epochs=3, progress=False, seed=0
    )
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
    net.fit(X, T, epochs=1, lr=0.1, progress=False, callback=lambda e, loss: shapes.append(net.input.value.shape))
    assert shapes == [(2,)]


def test_fit_accepts_a_learning_rate_and_a_callback():
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 2, 1], seed=0)
    calls = []
    tg.fit(
        net.graph,
        {net.input: X, "t": T[:, None]},
        0.5,
        epochs=3,
        progress=False,
        callback=lambda epoch, loss: calls.append((epoch, loss)),
    )
    assert [c[0] for c in calls] == [1, 2, 3]


@pytest.mark.parametrize(
    "data,match",
    [
        ({"x": np.zeros((4, 2)), "t": np.zeros((3, 1))}, "same number of samples.*'x': 4.*'t': 3"),
        ({"x": np.zeros((0, 2)), "t": np.zeros((0, 1))}, "empty"),
        ({"x": np.zeros((4, 2))}, "missing Input 't'"),
        ({"x": np.zeros((4, 2)), "t": np.zeros((4, 1)), "q": np.zeros(4)}, "'q' is not an Input"),
        ({}, "non-empty dict"),
    ],
)
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
    with pytest.raises(
        tg.GraphError, match=r"non-finite at epoch 1, step \d.*Input 'x'|non-finite at epoch 1.*WeightedSum 'z1'"
    ):
        net.fit(X, T, epochs=2, lr=0.5, progress=False)
    assert all(np.all(np.isfinite(p.value)) for p in net.parameters())


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
        history[reduction] = tg.fit(g, {x: X, t: T[:, None]}, 1e-12, batch_size=4, shuffle=False, progress=False)[0]
        for p, v in zip(g.parameters(), before):
            p.value[...] = v
    P = 1 / (1 + np.exp(-(X @ o.inputs[0].inputs[1].value + o.inputs[0].inputs[2].value)))
    per_sample = np.mean(0.5 * (P[:, 0] - T) ** 2)
    assert np.isclose(history["mean"], per_sample) and np.isclose(history["sum"], per_sample)


KERNEL_WITHOUT_WIDGETS = """
import sys, types, warnings
warnings.simplefilter("always")
shell = types.ModuleType("IPython")
shell.get_ipython = lambda: None
sys.modules["IPython"] = shell
sys.modules["ipykernel.zmqshell"] = types.ModuleType("ipykernel.zmqshell")  # what tqdm.auto reads as Jupyter
sys.modules["ipywidgets"] = None  # not installed
import tinygraph as tg
print("imported", flush=True)
X, T = tg.datasets.xor()
tg.mlp([2, 2, 1]).fit(X, T, epochs=2, lr=0.5, seed=0, progress=True)
print("trained", flush=True)
"""


def test_import_and_fit_in_a_jupyter_kernel_without_ipywidgets_print_no_warning():
    # tqdm.auto warns "IProgress not found" when imported in such a kernel; the bar falls back to text.
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-c", KERNEL_WITHOUT_WIDGETS], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["imported", "trained"]
    assert "Warning" not in done.stderr and "fit: 100%" in done.stderr  # the text bar, and nothing else


def test_a_divergence_that_is_put_back_puts_the_momentum_back_with_the_parameters():
    # lr 1e150 on inputs ×1e5: the third step's update overflows the first layer's weights
    X, T = tg.datasets.xor()

    def start():
        net = tg.mlp([2, 3, 1], activation=tg.ReLU, output_activation=None, seed=0)
        return net, tg.SGD(net.parameters(), lr=1e150, momentum=0.9)

    net, sgd = start()
    before = [p.value.copy() for p in net.parameters()]
    with (
        np.errstate(all="ignore"),
        pytest.raises(tg.GraphError, match="optimizer.s state .momentum, moments. were put back"),
    ):
        tg.fit(net.graph, {net.input: X * 1e5, net.target: T[:, None]}, sgd, epochs=3, seed=0, progress=False)
    fresh, fresh_sgd = start()  # the start of the first epoch is the state before fit
    for p, b, v, w in zip(net.parameters(), before, sgd.velocity, fresh_sgd.velocity):
        np.testing.assert_array_equal(p.value, b)
        np.testing.assert_array_equal(v, w)  # zeros, as before the first step


def test_resume_refuses_a_seed_other_than_the_checkpoints_and_changes_nothing(tmp_path):
    X, T = tg.datasets.xor()
    path = tmp_path / "run.npz"

    def run(epochs, seed, resume=False):
        net = tg.mlp([2, 3, 1], seed=0)
        sgd = tg.SGD(net.parameters(), lr=0.5)
        data = {net.input: X, net.target: T[:, None]}
        history = tg.fit(net.graph, data, sgd, epochs=epochs, seed=seed, checkpoint=path, resume=resume, progress=False)
        return net, history

    run(2, seed=5)
    net = tg.mlp([2, 3, 1], seed=0)
    before = [p.value.copy() for p in net.parameters()]
    with pytest.raises(tg.GraphError, match=r"trained with seed=5, but seed=99 was given; pass seed=5 \(or None\)"):
        tg.fit(net.graph, {net.input: X, net.target: T[:, None]}, tg.SGD(net.parameters(), lr=0.5), epochs=4,
               seed=99, checkpoint=path, resume=True, progress=False)  # fmt: skip
    assert all(np.array_equal(p.value, b) for p, b in zip(net.parameters(), before))
    _, uninterrupted = run(4, seed=5)
    run(2, seed=5)
    for seed in (5, None):
        _, resumed = run(4, seed=seed, resume=True)
        assert resumed == uninterrupted
        run(2, seed=5)


def adam_run(path, epochs, resume=False, checkpoint_every=1):
    X, T = tg.datasets.moons(n=40, noise=0.1, seed=0)
    net = tg.mlp([2, 5, 1], seed=0)
    adam = tg.Adam(net.parameters(), lr=0.02, weight_decay=1e-3)
    history = tg.fit(
        net, {"x": X, "t": T[:, None]}, adam, epochs=epochs, batch_size=8, seed=3,
        checkpoint=path, checkpoint_every=checkpoint_every, resume=resume, progress=False,
    )  # fmt: skip
    return net, adam, history


def test_resuming_adam_from_a_checkpoint_is_the_uninterrupted_run_bit_for_bit(tmp_path):
    whole, whole_adam, whole_history = adam_run(tmp_path / "whole.npz", 6)
    adam_run(tmp_path / "run.npz", 3)  # stopped after epoch 3
    net, adam, history = adam_run(tmp_path / "run.npz", 6, resume=True)
    assert history == whole_history
    assert all(np.array_equal(p.value, q.value) for p, q in zip(net.parameters(), whole.parameters()))
    assert adam.t == whole_adam.t == [6 * 5] * 4  # 40 rows in batches of 8: 5 steps an epoch
    for a, b in zip(adam.m + adam.v, whole_adam.m + whole_adam.v):
        assert np.array_equal(a, b)
    with np.load(tmp_path / "run.npz") as saved:
        assert "optimizer/m/0" in saved.files and "optimizer/v/3" in saved.files


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: tg.SGD(ps, lr=0.3, momentum=0.8, nesterov=True, weight_decay=0.01),
        lambda ps: tg.Adam(ps, lr=0.02, betas=(0.8, 0.99), weight_decay=1e-3),
        lambda ps: tg.RMSProp(ps, lr=0.01, alpha=0.9, momentum=0.5),
    ],
)
def test_a_checkpoint_puts_back_the_optimizer_state_exactly_as_a_saved_file_does(tmp_path, make):
    X, T = tg.datasets.xor()
    data = {"x": X, "t": T[:, None]}
    net = tg.mlp([2, 3, 1], seed=0)
    opt = make(net.parameters())
    tg.fit(net, data, opt, epochs=3, batch_size=2, seed=1, checkpoint=tmp_path / "c.npz", progress=False)
    tg.save(net, tmp_path / "n.npz", optimizer=opt)
    trained = opt.state_dict()  # what the run left, read off the optimizer that took its steps
    other = tg.mlp([2, 3, 1], seed=7)
    from_checkpoint = make(other.parameters())
    tg.fit(other, data, from_checkpoint, epochs=3, seed=1, checkpoint=tmp_path / "c.npz", resume=True)  # 0 epochs left
    loaded = tg.load(tmp_path / "n.npz")
    from_file = make(loaded.parameters())
    tg.load_parameters(loaded, tmp_path / "n.npz", optimizer=from_file)
    for restored in (from_checkpoint.state_dict(), from_file.state_dict()):
        assert restored.keys() == trained.keys()
        for key, value in trained.items():
            if isinstance(value, np.ndarray):
                assert restored[key].dtype == value.dtype and np.array_equal(restored[key], value), key
            else:
                assert restored[key] == value, key
    assert any(isinstance(v, np.ndarray) and v.any() for v in trained.values())  # (a state that moved)


def test_resume_refuses_a_checkpoint_of_another_optimizer_and_changes_nothing(tmp_path):
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    tg.fit(net, {"x": X, "t": T[:, None]}, 0.5, epochs=1, seed=0, checkpoint=tmp_path / "c.npz", progress=False)
    other = tg.mlp([2, 3, 1], seed=1)
    adam = tg.Adam(other.parameters())
    before = [p.value.copy() for p in other.parameters()]
    with pytest.raises(
        tg.GraphError, match=r"fit resume: .*c.npz' holds an optimizer state .*of optimizer 'SGD', not Adam"
    ):
        tg.fit(other, {"x": X, "t": T[:, None]}, adam, epochs=2, checkpoint=tmp_path / "c.npz", resume=True)
    assert all(np.array_equal(p.value, b) for p, b in zip(other.parameters(), before))
    assert adam.t == [0] * 4 and not any(m.any() for m in adam.m)


def test_a_checkpoint_of_an_earlier_tinygraph_still_resumes_with_its_velocity(tmp_path):
    X, T = tg.datasets.xor()
    data = {"x": X, "t": T[:, None]}

    def run(epochs, resume=False):
        net = tg.mlp([2, 3, 1], seed=0)
        sgd = tg.SGD(net.parameters(), lr=0.5, momentum=0.9)
        h = tg.fit(net, data, sgd, epochs=epochs, seed=2, checkpoint=tmp_path / "c.npz", resume=resume, progress=False)
        return h

    uninterrupted = run(4)
    run(2)
    with np.load(tmp_path / "c.npz") as saved:  # rewritten as the earlier format: velocity/i, no optimizer entry
        arrays = {k.replace("optimizer/", ""): v for k, v in saved.items()}
    state = json.loads(str(arrays["__tinygraph_checkpoint__"]))
    del state["optimizer"]
    arrays["__tinygraph_checkpoint__"] = np.array(json.dumps(state))
    np.savez(tmp_path / "c.npz", **arrays)
    assert run(4, resume=True) == uninterrupted


def test_a_divergence_puts_adams_state_back_with_the_parameters():
    # E = Σ x·w stays finite while w grows; Adam's steps of η = 1e308 make w −inf on the second step
    x, w = tg.Input("x", shape=(1,)), tg.Parameter([1.0], name="w")
    graph = tg.Graph(tg.Sum(tg.Multiply(x, w), name="E"))
    adam = tg.Adam([w], lr=1e308, eps=1e-300)
    with np.errstate(all="ignore"), pytest.raises(tg.GraphError, match="state .momentum, moments. were put back"):
        tg.fit(graph, {"x": np.full((4, 1), 1e-100)}, adam, epochs=2, seed=0, progress=False)
    assert w.value.tolist() == [1.0]  # as at the start of the epoch
    assert adam.t == [0] and adam.m[0].tolist() == adam.v[0].tolist() == [0.0]


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: tg.Adam(ps, lr=0.05),
        lambda ps: tg.RMSProp(ps, lr=0.05),
        lambda ps: tg.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    ],
)
def test_network_fit_takes_any_optimizer(make):
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 4, 1], seed=0)
    opt = make(net.parameters())
    history = net.fit(X, T, epochs=60, optimizer=opt, batch_size=2, seed=0, progress=False)
    assert history[-1] < history[0]
    assert all(p.grad is not None for p in opt.parameters)


def _dropout_net(seed=0):
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    h = tg.dense(x, 8, tg.Tanh, seed=seed, name="h")
    o = tg.dense(tg.Dropout(h, p=0.3, seed=5, name="drop"), 1, tg.Logistic, seed=seed + 1, name="o")
    return tg.Graph(tg.SquaredLoss(o, t, name="E"))


def test_resuming_a_graph_with_dropout_draws_the_masks_of_the_uninterrupted_run(tmp_path):
    X, T = tg.datasets.xor()
    data = {"x": X, "t": T[:, None]}
    whole = _dropout_net()
    tg.fit(whole, data, tg.Adam(whole.parameters(), lr=0.05), epochs=4, seed=1)
    first = _dropout_net()
    tg.fit(first, data, tg.Adam(first.parameters(), lr=0.05), epochs=2, seed=1, checkpoint=tmp_path / "c.npz")
    again = _dropout_net()  # a new process: fresh nodes, a graph that has run no pass
    tg.fit(
        again, data, tg.Adam(again.parameters(), lr=0.05), epochs=4, seed=1, checkpoint=tmp_path / "c.npz", resume=True
    )
    assert again.mode.step == whole.mode.step == 16
    for p, q in zip(again.parameters(), whole.parameters()):
        np.testing.assert_array_equal(p.value, q.value)


def _states_equal(a, b):
    """Whether two state_dict()s hold the same keys, numbers and arrays (bit for bit)."""
    return a.keys() == b.keys() and all(
        np.array_equal(a[k], b[k]) if isinstance(a[k], np.ndarray) else a[k] == b[k] for k in a
    )


def test_a_resumed_run_refused_in_its_first_epoch_puts_back_what_was_there_before_fit(tmp_path):
    # Class index 7 of 3 classes: the first pass over the rows finds it, after the checkpoint was loaded.
    X = np.random.default_rng(0).normal(size=(12, 4))
    T = np.arange(12) % 3
    net = tg.mlp([4, 5, 3], loss=tg.SoftmaxCrossEntropy, seed=0)
    tg.fit(net, {"x": X, "t": T}, tg.Adam(net.parameters(), lr=0.01), epochs=2, seed=1, checkpoint=tmp_path / "c.npz")
    saved = (tmp_path / "c.npz").read_bytes()
    fresh = tg.mlp([4, 5, 3], loss=tg.SoftmaxCrossEntropy, seed=9)
    adam = tg.Adam(fresh.parameters(), lr=0.01)
    values, state, passes = [p.value.copy() for p in fresh.parameters()], adam.state_dict(), fresh.graph.mode.step
    bad = T.copy()
    bad[3] = 7
    with pytest.raises(tg.GraphError, match=r"epoch 3, step \d+: .*class indices.*as they were before fit"):
        tg.fit(fresh, {"x": X, "t": bad}, adam, epochs=4, seed=1, checkpoint=tmp_path / "c.npz", resume=True)
    assert all(np.array_equal(p.value, v) for p, v in zip(fresh.parameters(), values))
    assert _states_equal(adam.state_dict(), state) and adam.t == [0] * 4
    assert fresh.graph.mode.step == passes
    assert (tmp_path / "c.npz").read_bytes() == saved


@pytest.mark.parametrize("key,value", [("param/W1", np.nan), ("optimizer/v/2", np.inf)])
def test_resume_refuses_a_checkpoint_with_non_finite_numbers_and_changes_nothing(tmp_path, key, value):
    # fit stops where numbers stop being finite, so a run cannot go on from them.
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    feed = {"x": X, "t": T[:, None]}
    tg.fit(net, feed, tg.Adam(net.parameters()), epochs=1, seed=0, checkpoint=tmp_path / "c.npz", progress=False)
    with np.load(tmp_path / "c.npz") as stored:
        arrays = dict(stored)
    assert key in arrays  # (the names a checkpoint of this network holds)
    arrays[key] = arrays[key].copy()
    arrays[key].flat[0] = value
    np.savez(tmp_path / "c.npz", **arrays)
    saved = (tmp_path / "c.npz").read_bytes()
    fresh = tg.mlp([2, 3, 1], seed=5)
    adam = tg.Adam(fresh.parameters())
    values = [p.value.copy() for p in fresh.parameters()]
    with pytest.raises(tg.GraphError, match=rf"c.npz' holds non-finite numbers \(nan or inf\) in '{key}' \(nothing"):
        tg.fit(fresh, feed, adam, epochs=2, seed=0, checkpoint=tmp_path / "c.npz", resume=True, progress=False)
    assert all(np.array_equal(p.value, v) for p, v in zip(fresh.parameters(), values))
    assert adam.t == [0] * 4 and not any(m.any() for m in adam.m)
    assert (tmp_path / "c.npz").read_bytes() == saved


def test_resume_refuses_a_checkpoint_of_a_graph_with_more_parameters(tmp_path):
    # Plain SGD keeps no array per parameter, so only the parameters can tell the two graphs apart.
    X, T = tg.datasets.xor()
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    W, b = tg.Parameter(np.zeros((2, 1)), name="W"), tg.Parameter(np.zeros(1), name="b")
    bigger = tg.Graph(tg.SquaredLoss(tg.Add(tg.WeightedSum(x, W, b), tg.Parameter([0.5], name="extra")), t))
    tg.fit(bigger, {x: X, t: T[:, None]}, 0.1, epochs=1, seed=0, checkpoint=tmp_path / "c.npz")
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    W, b = tg.Parameter(np.ones((2, 1)), name="W"), tg.Parameter(np.ones(1), name="b")
    smaller = tg.Graph(tg.SquaredLoss(tg.WeightedSum(x, W, b), t))
    with pytest.raises(tg.GraphError, match=r"does not fit this graph: it holds Parameter 'extra' \(1,\), which"):
        tg.fit(smaller, {x: X, t: T[:, None]}, 0.1, epochs=3, seed=0, checkpoint=tmp_path / "c.npz", resume=True)
    assert W.value.tolist() == [[1.0], [1.0]] and b.value.tolist() == [1.0]


@pytest.mark.parametrize("where", ["", "newdir/"])
def test_a_checkpoint_path_that_names_no_file_is_refused_before_training(tmp_path, monkeypatch, where):
    monkeypatch.chdir(tmp_path)
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    before = [p.value.copy() for p in net.parameters()]
    with pytest.raises(tg.GraphError, match=f"fit: checkpoint '{where}' names no file; give the path of a file"):
        tg.fit(net, {"x": X, "t": T[:, None]}, 0.5, epochs=2, checkpoint=where)
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters(), before))
    assert list(tmp_path.iterdir()) == []
