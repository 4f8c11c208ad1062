"""The demo runs of the tinygraph command: the replay page it writes, and the demo's own replay."""

import json
import os
import re
import shutil

import numpy as np
import pytest

from tinygraph import datasets
from tinygraph.cli import main
from tinygraph.demos import DEMOS, demo_data

HAS_DOT = bool(shutil.which("dot")) or bool(os.environ.get("CI"))


def _embedded(page):
    """The data a replay page draws (the JSON in its script)."""
    match = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    return json.loads(match.group(1))


def test_replay_writes_one_offline_page_of_the_run(capsys, tmp_path):
    out = tmp_path / "sub" / "moons.html"
    assert main(["replay", "--sizes", "2,8,8,1", "--epochs", "5", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "moons with a 2-8-8-1 network (Tanh units), 5 epochs" in said and str(out.resolve()) in said
    page = out.read_text(encoding="utf-8")
    data = _embedded(page)
    steps = 5 * 225  # 75% of 300 moons, one sample a step
    assert data["step"][0] == 0 and data["step"][-1] == steps and len(data["step"]) == 200
    assert data["test_loss"] is not None and len(data["test_loss"]) == 200
    assert data["boundary"]["kind"] == "probability"
    if HAS_DOT:
        assert len(data["traces"]) == 3 and data["network"] is not None
    assert out.stat().st_size < 5e6


def test_replay_takes_the_activation_and_refuses_sizes_that_do_not_fit(capsys, tmp_path):
    assert (
        main(
            ["replay", "--dataset", "xor", "--activation", "relu", "--epochs", "50", "--out", str(tmp_path / "x.html")]
        )
        == 0
    )
    assert "xor with a 2-2-1 network (ReLU units), 50 epochs" in capsys.readouterr().out
    assert main(["replay", "--sizes", "3,4,1", "--out", str(tmp_path / "y.html")]) == 2
    err = capsys.readouterr().err
    assert "--sizes: this data set needs 2 inputs first and 1 output last" in err and "got 3,4,1" in err
    assert main(["replay", "--out", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert not (tmp_path / "y.html").exists()


def test_demo_writes_the_replay_of_its_training(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "100", "--allow-failure"]) == 0
    assert "replay.html" in capsys.readouterr().out
    data = _embedded((tmp_path / "replay.html").read_text(encoding="utf-8"))
    assert data["step"][-1] == 400 and data["loss"][-1] < data["loss"][0]


def test_replay_refuses_an_out_path_below_a_file_before_training(capsys, tmp_path):
    (tmp_path / "a_file").write_text("")
    assert main(["replay", "--dataset", "digits", "--out", str(tmp_path / "a_file" / "x.html")]) == 2
    err = capsys.readouterr()
    assert "--out:" in err.err and "which is a file" in err.err and "trained" not in err.out


def test_the_demos_replay_traces_the_sample_its_diagrams_and_trace_show(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path), "--epochs", "20", "--allow-failure"]) == 0
    data = _embedded((tmp_path / "replay.html").read_text(encoding="utf-8"))
    if HAS_DOT:
        assert all("on training sample 1" in t["html"] for t in data["traces"])  # x = [0, 1], t = 1


@pytest.mark.parametrize("seed", [0, 3])
@pytest.mark.parametrize("name, inputs, outputs", [("iris", 4, 3), ("wine", 13, 3), ("breast_cancer", 30, 1)])
def test_the_measurement_demos_scale_by_the_training_rows_alone(name, inputs, outputs, seed):
    # The test rows must take no part in the numbers that scale them: mean and std of the training rows only.
    pytest.importorskip("sklearn", reason="the real data sets need scikit-learn (tinygraph[data])")
    X_raw, T_raw = getattr(datasets, name)()
    raw_train, raw_test, T_train, T_test = datasets.train_test_split(X_raw, T_raw, test=0.25, seed=seed)
    mean, std = raw_train.mean(axis=0), raw_train.std(axis=0)  # (plain numpy, the training rows alone)
    X, T, X_tr, X_te, T_tr, T_te = demo_data(DEMOS[name], seed)
    np.testing.assert_allclose(X_tr, (raw_train - mean) / std)
    np.testing.assert_allclose(X_te, (raw_test - mean) / std)
    np.testing.assert_allclose(X, (X_raw - mean) / std)  # (what the plots see: the same scale)
    np.testing.assert_allclose(X_tr.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_tr.std(axis=0), 1)
    assert np.abs(X_te.mean(axis=0)).max() > 0.05 and np.abs(X_te.std(axis=0) - 1).max() > 0.05  # only about
    for got, want in ((T, T_raw), (T_tr, T_train), (T_te, T_test)):
        np.testing.assert_array_equal(got, want)
    assert DEMOS[name].sizes[0] == inputs and DEMOS[name].sizes[-1] == outputs


def test_the_digits_cnn_demo_reaches_98_percent_and_writes_its_graph_and_trace(capsys, tmp_path, monkeypatch):
    # The defaults, the network and the split of examples/digits_cnn.py: this is where its 98% is checked.
    # (Without Graphviz, so that the diagrams are DOT files and the trace Markdown: seconds quicker.)
    pytest.importorskip("sklearn", reason="the digits need scikit-learn (tinygraph[data])")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert main(["demo", "--dataset", "digits", "--model", "cnn", "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "a CNN (conv 16@3×3, maxpool 2×2, conv 32@3×3, maxpool 2×2, dense 10)" in out
    assert "epoch     20  mean loss" in out
    assert float(re.search(r"test accuracy ([\d.]+)%", out).group(1)) >= 98
    assert {"graph_before.dot", "graph_after.dot", "trace.md"} <= {p.name for p in (tmp_path / "o").iterdir()}
    page = (tmp_path / "o" / "trace.md").read_text(encoding="utf-8")
    assert r"## 2. conv1\[c,i,j\] = Σ" in page and r"\text{window }(0,0): \max (" in page  # (Markdown, LaTeX)
    assert r"\frac{\partial E}{\partial K_{1}[0,0,0,0]}" in page  # ∂E/∂K1[0,0,0,0], written out as its sum


def test_the_cnn_takes_the_digits_only(capsys, tmp_path):
    assert main(["demo", "--dataset", "moons", "--model", "cnn", "--out", str(tmp_path)]) == 2
    assert "--model cnn takes --dataset digits" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_the_demo_refuses_an_output_folder_that_takes_no_files_before_training(capsys, tmp_path, monkeypatch, model):
    import tempfile

    if model == "cnn":
        pytest.importorskip("sklearn", reason="the digits need scikit-learn (tinygraph[data])")

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    argv = ["demo", "--model", model, "--dataset", "digits" if model == "cnn" else "xor", "--out", str(tmp_path)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert f"tinygraph demo: --out: cannot write in the folder '{tmp_path}': Read-only file system" in captured.err
    assert "epoch" not in captured.out and "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["replay", "trace"])
def test_replay_and_trace_refuse_a_folder_that_takes_no_files_before_any_work(capsys, tmp_path, monkeypatch, command):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    page = tmp_path / "out.html"
    argv = ["replay", "--epochs", "2", "--out", str(page)] if command == "replay" else ["trace", "--html", str(page)]
    assert main(argv) == 2
    captured = capsys.readouterr()
    option = "--out" if command == "replay" else "--html"
    assert f"{option}: cannot write '{page}' in the folder '{tmp_path}': Read-only file system" in captured.err
    assert "epoch" not in captured.out and "Traceback" not in captured.err
    assert list(tmp_path.iterdir()) == []


def test_the_cnn_demo_describes_the_layers_of_the_graph_it_built():
    import tinygraph as tg
    from tinygraph.demos import layers_text

    graph, *_ = tg.digits_cnn(seed=0)
    assert layers_text(graph) == "conv 16@3×3, maxpool 2×2, conv 32@3×3, maxpool 2×2, dense 10"
    x = tg.Input("x", shape=(3, 9, 9))
    h = tg.AvgPool2D(tg.Conv2D(x, tg.Parameter(np.zeros((4, 3, 5, 5)))), size=3)  # (4, 5, 5) → (4, 1, 1)
    z = tg.WeightedSum(tg.Flatten(h), tg.Parameter(np.zeros((4, 7))))
    graph = tg.Graph(tg.SoftmaxCrossEntropy(z, tg.Input("t", shape=())))
    assert layers_text(graph) == "conv 4@5×5, avgpool 3×3, dense 7"
