"""What a Recording shows: the replay page's data (one entry per snapshot, each edge's weight, the
boundary as bytes, the traces) and the live view that updates one Jupyter output."""

import base64
import re

import numpy as np
import pytest
from reference_mlp import forward, identity, log_loss, moons, relu, sigmoid, squared_loss, tanh_net, values

import tinygraph as tg
from tinygraph.teaching import recording, watching
from tinygraph.teaching.recording import schedule
from tinygraph.teaching.watching import replay_data


# -- 7. the live view ----------------------------------------------------------------------------------
class FakeHandle:
    def __init__(self):
        self.updates = []

    def update(self, obj):
        self.updates.append(obj)


@pytest.fixture
def notebook(monkeypatch):
    """Pretend to run in Jupyter: in_notebook says True, display gives a handle that records its updates."""
    display_module = pytest.importorskip("IPython.display")
    shown = []
    handle = FakeHandle()

    def fake_display(obj, display_id=False, **kwargs):
        shown.append((obj, display_id))
        return handle

    monkeypatch.setattr(watching, "in_notebook", lambda: True)
    monkeypatch.setattr(recording, "in_notebook", lambda: True)  # (recording.py imported it by name)
    monkeypatch.setattr(display_module, "display", fake_display)
    return shown, handle


def html_of(obj):
    return obj.data if hasattr(obj, "data") else str(obj)


def shown_head(obj):
    found = re.search(r"step (\d+) · epoch ([0-9.]+) · loss ([0-9.e+-]+)", html_of(obj))
    assert found, html_of(obj)[:300]
    return int(found.group(1)), float(found.group(2)), float(found.group(3))


def test_live_view_displays_once_then_updates_to_the_final_step(notebook, monkeypatch):
    shown, handle = notebook
    monkeypatch.setattr(watching, "LIVE_EVERY", 0)
    X, T = moons(6)
    plain = tanh_net()
    plain_history = plain.fit(X, T, epochs=2, lr=0.5, seed=0, progress=False)
    net = tanh_net()
    rec = tg.Recording()
    history = net.fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec, live=True)
    assert history == plain_history
    assert all(np.array_equal(p.value, q.value) for p, q in zip(net.parameters(), plain.parameters()))
    assert len(shown) == 1 and shown[0][1] is True
    assert shown_head(shown[0][0])[0] == 0
    assert len(rec) == 13 and len(handle.updates) == 12  # an update a snapshot after the first
    assert [shown_head(u)[0] for u in handle.updates] == list(range(1, 13))
    step, epoch, loss = shown_head(handle.updates[-1])
    assert step == 12 and epoch == 2.0
    final = log_loss(forward(values(net), X)[1][-1], T)
    assert np.isclose(loss, final, rtol=1e-4)


def test_live_view_is_throttled_but_always_shows_the_end(notebook):
    shown, handle = notebook
    assert watching.LIVE_EVERY >= 0.5
    X, T = moons(6)
    net = tanh_net()
    rec = tg.Recording()
    net.fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec, live=True)
    assert len(shown) == 1 and 1 <= len(handle.updates) < len(rec) - 1
    assert shown_head(handle.updates[-1])[0] == 12


def test_live_without_a_recording_makes_its_own(notebook, monkeypatch):
    shown, handle = notebook
    monkeypatch.setattr(watching, "LIVE_EVERY", 0)
    X, T = tg.datasets.xor()
    plain = tg.mlp([2, 3, 1], seed=0)
    plain_history = plain.fit(X, T, epochs=3, lr=0.5, seed=0, progress=False)
    net = tg.mlp([2, 3, 1], seed=0)
    history = net.fit(X, T, epochs=3, lr=0.5, seed=0, progress=False, live=True)
    assert history == plain_history
    assert all(np.array_equal(p.value, q.value) for p, q in zip(net.parameters(), plain.parameters()))
    assert len(shown) == 1 and len(handle.updates) == 12
    step, _, loss = shown_head(handle.updates[-1])
    assert step == 12
    assert np.isclose(loss, squared_loss(forward(values(net), X, hidden=sigmoid)[1][-1], T[:, None]), rtol=1e-4)


# -- 8. the replay page's data ------------------------------------------------------------------------
def edge_weight(params, edge, sizes):
    """The weight an edge "L{k-1}_{i}->L{k}_{j}" (or "L{k-1}_one->…", the bias row) stands for: W_k[i, j]."""
    tail, head = edge.split("->")
    k = int(re.fullmatch(r"L(\d+)_(\d+)", head).group(1))
    j = int(head.split("_")[1])
    layer, i = tail[1:].split("_")
    assert int(layer) == k - 1
    i = sizes[k - 1] if i == "one" else int(i)
    return params[f"W{k}"][i, j]


@pytest.mark.graphviz
@pytest.mark.parametrize("bias", ["separate", "input"])
def test_replay_data_has_an_entry_per_snapshot_and_the_weights_of_each_edge(bias):
    X, T = moons(16)
    Xt, Tt = tg.datasets.moons(n=8, seed=3)
    net = tg.mlp([2, 3, 1], activation=tg.Tanh, loss=tg.LogLoss, bias=bias, seed=0)
    rec = tg.Recording(max_snapshots=6, grid=9, test=(Xt, Tt))
    net.fit(X, T, epochs=3, lr=0.5, seed=0, progress=False, record=rec)
    data = replay_data(rec, [], 0, None)
    n = len(rec)
    assert n == 6
    assert data["step"] == [s.step for s in rec] == schedule(0, 48, "auto", 6)
    assert data["epoch"] == [round(s.step / 16, 4) for s in rec]
    assert data["loss"] == [s.loss for s in rec] and data["test_loss"] == [s.test_loss for s in rec]
    assert data["traces"] == []
    network = data["network"]
    assert network is not None and "<svg" in network["svg"]
    expected = {f"L0_{i}->L1_{j}" for i in range(2) for j in range(3)} | {f"L1_{i}->L2_0" for i in range(3)}
    if bias == "input":
        expected |= {f"L0_one->L1_{j}" for j in range(3)} | {"L1_one->L2_0"}
    assert set(network["edges"]) == expected and len(network["edges"]) == len(expected)
    assert len(network["weights"]) == n
    for snap, row in zip(rec, network["weights"]):
        assert len(row) == len(network["edges"])
        for edge, w in zip(network["edges"], row):
            assert np.isclose(w, edge_weight(snap.parameters, edge, net.sizes), rtol=1e-5, atol=0), edge
    norms = data["norms"]
    assert [s["values"] for s in norms["weights"]] == [[s.grad_norms[w] for s in rec] for w in ("W1", "W2")]
    assert [s["values"] for s in norms["deltas"]] == [[s.delta_norms[z] for s in rec] for z in ("z1", "z2")]
    assert all(len(series["values"]) == n for series in norms["weights"] + norms["deltas"])


@pytest.mark.graphviz
def test_replay_boundary_frames_are_the_grid_as_bytes():
    X, T = moons(16)
    rec = tg.Recording(max_snapshots=4, grid=9)
    tanh_net().fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec)
    boundary = replay_data(rec, [], 0, None)["boundary"]
    assert boundary["kind"] == "probability" and boundary["size"] == 9
    assert len(boundary["frames"]) == len(rec)
    u, v = rec.grid_axes
    U, V = np.meshgrid(u, v)
    for snap, frame in zip(rec, boundary["frames"]):
        shade = np.frombuffer(base64.b64decode(frame), dtype=np.uint8)
        assert shade.size == 81
        shade = shade.reshape(9, 9)
        P = forward(snap.parameters, np.c_[U.ravel(), V.ravel()])[1][-1].reshape(9, 9)
        assert np.max(np.abs(shade.astype(int) - np.round(P * 255))) <= 1
        assert np.array_equal(shade, np.round(snap.grid[..., 0].astype(np.float64) * 255).astype(np.uint8))
    points = boundary["points"]
    assert len(points) == 16 and sorted(p[2] for p in points) == sorted(int(t) for t in T[:, 0])


@pytest.mark.graphviz
def test_replay_boundary_for_three_classes_is_the_argmax_and_its_confidence():
    X, T = tg.datasets.blobs(n=30, centers=3, seed=0)
    net = tg.mlp([2, 5, 3], activation=tg.ReLU, loss=tg.SoftmaxCrossEntropy, seed=2)
    rec = tg.Recording(max_snapshots=3, grid=8)
    net.fit(X, T, epochs=2, lr=0.1, batch_size=5, seed=0, progress=False, record=rec)
    boundary = replay_data(rec, [], 0, None)["boundary"]
    assert boundary["kind"] == "classes" and boundary["classes"] == 3
    u, v = rec.grid_axes
    U, V = np.meshgrid(u, v)
    for snap, frame, sure in zip(rec, boundary["frames"], boundary["confidence"]):
        Z = forward(snap.parameters, np.c_[U.ravel(), V.ravel()], hidden=relu, output=identity)[0][-1]
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        classes = np.frombuffer(base64.b64decode(frame), dtype=np.uint8)
        assert classes.size == 64
        top = np.sort(P, axis=1)
        clear = top[:, -1] - top[:, -2] > 1e-5  # (away from ties, where float32 may pick the other)
        assert np.array_equal(classes[clear], P.argmax(axis=1)[clear])
        confidence = np.frombuffer(base64.b64decode(sure), dtype=np.uint8)
        assert np.max(np.abs(confidence.astype(int) - np.round(P.max(axis=1) * 255))) <= 1


@pytest.mark.graphviz
def test_replay_traces_default_to_the_first_middle_and_last_snapshots():
    X, T = moons(6)
    rec = tg.Recording(max_snapshots=7)
    tanh_net().fit(X, T, epochs=2, lr=0.5, seed=0, progress=False, record=rec)
    data = replay_data(rec, None, 0, None)
    assert [t["snapshot"] for t in data["traces"]] == [0, 3, 6]
    assert all("<html" in t["html"].lower() for t in data["traces"])
    assert [t["snapshot"] for t in replay_data(rec, [-1, 2], 0, None)["traces"]] == [6, 2]
    with pytest.raises(tg.GraphError, match="traces"):
        replay_data(rec, [7], 0, None)


@pytest.mark.graphviz
def test_replay_data_says_when_the_loss_is_over_a_subset():
    X, T = tg.datasets.digits()
    rec = tg.Recording(max_snapshots=2)
    net = tg.mlp([64, 3, 10], loss=tg.SoftmaxCrossEntropy, seed=0)
    net.fit(X, T, epochs=1, lr=0.1, batch_size=600, seed=0, progress=False, record=rec)
    data = replay_data(rec, [], 0, None)
    assert "1797 training samples" in data["loss_label"] and "1000" in data["loss_label"]
    assert data["boundary"] is None and data["test_loss"] is None


@pytest.mark.graphviz
def test_replay_data_of_a_recording_with_summaries_still_works():
    # A network with a parameter too large to keep whole (keep_whole is 65 536 by default: a 784-100
    # layer already is) cannot be traced or drawn; the page should say so, not fail.
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 8, 1], seed=0)
    rec = tg.Recording(keep_whole=10, max_snapshots=4)
    net.fit(X, T, epochs=3, lr=0.5, seed=0, progress=False, record=rec)
    data = replay_data(rec, None, 0, None)  # the default traces
    assert data["network"] is None and data["traces"] == []
    assert any("W1" in note for note in data["notes"])
    assert data["loss"] == [s.loss for s in rec]


# -- what a red team found ----------------------------------------------------------------------------
def test_a_large_graph_gets_no_traces_by_default_but_chosen_ones():
    X, T = moons(8)
    net = tg.mlp([2, 3, 3, 3, 3, 3, 3, 1], seed=0)  # 27 nodes: each trace would draw all of them at every step
    assert len(net.graph.nodes) > watching.TRACED_NODES
    rec = tg.Recording(max_snapshots=4)
    net.fit(X, T, epochs=1, lr=0.1, seed=0, record=rec)
    data = replay_data(rec, None, 0, None)
    assert data["traces"] == [] and any("No step-by-step traces by default" in n for n in data["notes"])
    chosen = replay_data(rec, range(1), 0, None)  # any iterable of indices; chosen ones are drawn
    assert [t["snapshot"] for t in chosen["traces"]] == [0]


@pytest.mark.graphviz
def test_chosen_traces_keep_their_order_once_each_and_name_the_sample_from_zero():
    X, T = moons(6)
    rec = tg.Recording(max_snapshots=7)
    tanh_net().fit(X, T, epochs=2, lr=0.5, seed=0, record=rec)
    data = replay_data(rec, [-1, 2, 6], -1, None)
    assert [t["snapshot"] for t in data["traces"]] == [6, 2]
    assert "on training sample 5" in data["traces"][0]["html"]


def test_an_output_that_is_no_probability_is_shaded_from_its_lowest_to_its_highest_value():
    X = np.random.default_rng(0).uniform(-1, 1, size=(30, 2))
    Y = 3 * X[:, :1] - 2 * X[:, 1:] + 5
    net = tg.mlp([2, 4, 1], output_activation=None, seed=0)
    rec = tg.Recording(max_snapshots=5)
    net.fit(X, Y, epochs=3, lr=0.01, seed=0, record=rec)
    boundary = replay_data(rec, [], 0, None)["boundary"]
    grids = np.stack([s.grid[..., 0] for s in rec]).astype(np.float64)
    low, high = grids.min(), grids.max()
    assert boundary["title"] == "The network's output over the plane"
    assert f"from {low:.3g} (blue) through white to {high:.3g} (red)" in boundary["caption"]
    first = np.frombuffer(base64.b64decode(boundary["frames"][0]), np.uint8).reshape(grids.shape[1:])
    assert np.abs(first.astype(int) - np.round((grids[0] - low) / (high - low) * 255)).max() <= 1
    assert all(p[2] is None for p in boundary["points"])  # continuous targets are no classes


def test_a_run_that_diverged_shows_its_finite_frames_and_says_where_it_stopped():
    X = np.random.default_rng(0).uniform(-1, 1, size=(20, 2))
    Y = 50 * X[:, :1] + 3
    net = tg.mlp([2, 8, 1], activation=None, output_activation=None, seed=0)
    rec = tg.Recording(every=1)
    with pytest.raises(tg.GraphError, match="non-finite"):
        net.fit(X, Y, epochs=20, lr=5.0, seed=0, record=rec)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no nan cast to bytes)
        data = replay_data(rec, [], 0, None)
    stopped = rec[-1].step
    assert stopped < 400 and any(f"stopped at step {stopped} of the 400 planned" in n for n in data["notes"])
    first = np.frombuffer(base64.b64decode(data["boundary"]["frames"][0]), np.uint8)
    assert first.min() < first.max()  # step 0 is shaded on the finite frames' scale, not flattened


def test_one_sample_gets_a_plane_around_it_and_small_data_keeps_its_digits():
    X, T = moons(10)
    rec = tg.Recording()
    tanh_net().fit(X[:1], T[:1], epochs=2, lr=0.5, seed=0, record=rec)
    u0, u1, v0, v1 = rec.grid_extent
    assert np.isclose(u1 - u0, 2) and np.isclose(v1 - v0, 2)  # one either side of the point
    u, v = rec.grid_axes  # (the centres of the cells)
    assert np.allclose(np.diff(u), 2 / len(u)) and np.isclose(u[0], u0 + 1 / len(u))
    rec = tg.Recording(max_snapshots=3)
    tanh_net().fit(X * 1e-5, T, epochs=1, lr=0.5, seed=0, record=rec)
    points = replay_data(rec, [], 0, None)["boundary"]["points"]
    assert len({(p[0], p[1]) for p in points}) == len(X)
    assert all(np.isclose(p[0], x, rtol=1e-5) for p, x in zip(sorted(points), sorted(X[:, 0] * 1e-5)))


def test_a_page_without_a_boundary_says_why():
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(12, 5)), rng.integers(0, 3, 12)
    rec = tg.Recording(max_snapshots=3)
    tg.mlp([5, 4, 3], loss=tg.SoftmaxCrossEntropy, seed=0).fit(X, T, epochs=1, lr=0.1, seed=0, record=rec)
    notes = replay_data(rec, [], 0, None)["notes"]
    assert any(
        "No decision boundary: it is drawn for one Input of 2 features per sample" in n and "(5,)" in n for n in notes
    )


@pytest.mark.graphviz
def test_live_in_a_real_jupyter_kernel_updates_one_output_to_the_end(tmp_path):
    nbformat = pytest.importorskip("nbformat")  # (nbclient and ipykernel: the test extra)
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import tinygraph as tg\n"
            "X, T = tg.datasets.moons(n=60, noise=0.1, seed=0)\n"
            "net = tg.mlp([2, 4, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=0)\n"
            "history = net.fit(X, T, epochs=30, lr=0.1, seed=0, live=True)"
        ),
        nbformat.v4.new_code_cell("rec = tg.Recording(max_snapshots=5)\n_ = net.fit(X, T, epochs=1, record=rec)\nrec"),
    ]
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    (live,) = notebook.cells[0].outputs  # one output, updated in place
    assert live["output_type"] == "display_data"
    shown = live["data"]["text/html"]
    assert "step 1800 · epoch 30.00" in shown and "<svg" in shown and "<script" not in shown
    (page,) = notebook.cells[1].outputs
    assert page["data"]["text/html"].startswith("<iframe srcdoc=")  # a Recording shows its replay page


# -- what a review found ---------------------------------------------------------------------------------
def test_a_node_name_in_the_boundary_caption_is_escaped():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    z = tg.WeightedSum(x, tg.Parameter(rng.normal(size=(2, 1)), name="W"), name="<img src=x onerror=alert(1)>")
    rec = tg.Recording(max_snapshots=3)
    tg.fit(tg.Graph(tg.SquaredLoss(z, t, name="E"), z), {"x": X, "t": 3 * X[:, :1]}, 0.01, epochs=1, record=rec)
    from tinygraph.teaching.replay import page

    html = page(replay_data(rec, [], 0, None))
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_points_are_the_rows_of_the_input_the_grid_feeds_whatever_the_data_order():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 2)) * 5 + 10
    T = np.eye(2)[(X[:, 0] > 10).astype(int)]  # one-hot rows: two columns too
    net = tg.mlp([2, 3, 2], loss=tg.SoftmaxCrossEntropy, seed=0)
    rec = tg.Recording(max_snapshots=3)
    tg.fit(net, {"t": T, "x": X}, 0.1, epochs=1, record=rec)  # (the targets first)
    points = replay_data(rec, [], 0, None)["boundary"]["points"]
    assert sorted((p[0], p[1]) for p in points) == sorted((float(f"{a:.6g}"), float(f"{b:.6g}")) for a, b in X)
    assert {(p[0], p[1]): p[2] for p in points} == {
        (float(f"{a:.6g}"), float(f"{b:.6g}")): int(c) for (a, b), c in zip(X, T.argmax(axis=1))
    }


def test_the_recordings_copy_of_the_graph_leaves_what_the_last_passes_computed_behind():
    import pickle

    X, T = moons(20)
    net = tanh_net()
    net.predict(np.random.default_rng(0).normal(size=(50_000, 2)))  # the live graph now holds 50,000 rows
    rec = tg.Recording(max_snapshots=3)
    net.fit(X, T, epochs=1, lr=0.1, seed=0, record=rec)
    assert len(pickle.dumps(rec.graph)) < 1_000_000  # (it was 214 MB: the predict's values and arrays)
    assert len(pickle.dumps(rec.with_parameters(0))) < 1_000_000
    assert all(np.array_equal(p.value, rec[-1].parameters[p.name]) for p in rec.with_parameters(-1).parameters())


def test_the_live_view_shades_an_output_that_is_no_probability_over_its_range():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(30, 2))
    net = tg.mlp([2, 4, 1], output_activation=None, seed=0)
    rec = tg.Recording(max_snapshots=3)
    net.fit(X, 3 * X[:, :1] - 2 * X[:, 1:] + 5, epochs=2, lr=0.01, seed=0, record=rec)
    assert rec[-1].grid.min() > 1  # (all of it above 1: clipped to [0, 1] it would be one colour)
    fills = set(re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"', watching.LiveView(rec).html()))
    assert len(fills) > 20  # from blue through white to red
