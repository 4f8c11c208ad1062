"""The tinygraph command: demo, render, trace."""

import os
import shutil
import subprocess
import sys

import pytest

import tinygraph as tg
from tinygraph.cli import main

HAS_DOT = bool(shutil.which("dot")) or bool(os.environ.get("CI"))


def test_demo_learns_xor_and_writes_diagrams_and_trace(capsys, tmp_path):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "accuracy 100%" in out and out.count(" yes") == 4
    assert str(tmp_path.resolve()) in out
    names = {p.name for p in tmp_path.iterdir()}
    ext = "svg" if HAS_DOT else "dot"
    for stem in ("graph_before", "network_before", "graph_after", "network_after"):
        assert f"{stem}.{ext}" in names
    assert ("trace.html" if HAS_DOT else "trace.md") in names
    if HAS_DOT:
        before = (tmp_path / "network_before.svg").read_text()
        after = (tmp_path / "network_after.svg").read_text()
        assert before != after and "<svg" in after


def test_demo_without_graphviz_writes_dot_and_says_how_to_install(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    assert main(["demo", "--out", str(tmp_path / "o"), "--epochs", "3000"]) == 0
    out = capsys.readouterr().out
    assert "apt-get install graphviz" in out and "dot -Tsvg" in out
    assert (tmp_path / "o" / "graph_after.dot").exists() and (tmp_path / "o" / "trace.md").exists()


@pytest.mark.graphviz
def test_render_command_draws_both_views(capsys, tmp_path):
    assert main(["render", "--out", str(tmp_path), "--format", "png", "--epochs", "100"]) == 0
    for view in ("graph", "network"):
        assert (tmp_path / f"{view}.png").read_bytes()[:4] == b"\x89PNG"


def test_trace_command_prints_the_worked_example(capsys, tmp_path):
    assert main(["trace", "--html", str(tmp_path / "t.html")]) == 0
    out = capsys.readouterr().out
    assert "E = ½(0.7514 − 0.01)² + ½(0.7729 − 0.99)² = 0.2984" in out
    assert "new W2 = old − 0.5 · ∂E/∂W2 = [[0.3589, 0.5113], [0.4087, 0.5614]]" in out
    assert (tmp_path / ("t.html" if HAS_DOT else "t.md")).exists()


def test_trace_command_on_a_saved_network(capsys, tmp_path):
    net = tg.mlp([3, 2, 1], seed=0)
    tg.save(net, tmp_path / "net.npz")
    assert (
        main(
            [
                "trace",
                "--model",
                str(tmp_path / "net.npz"),
                "--x",
                "0.1,0.2,0.3",
                "--t",
                "1",
                "--html",
                str(tmp_path / "t.html"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "δ (output layer)" in out and "W1 ← W1 − η ∂E/∂W1" in out
    assert main(["trace", "--model", str(tmp_path / "net.npz"), "--x", "0.1,oops", "--t", "1"]) == 2
    assert "--x: expected numbers" in capsys.readouterr().err


def test_python_dash_m_and_version():
    result = subprocess.run([sys.executable, "-m", "tinygraph", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and tg.__version__ in result.stdout


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert "demo" in capsys.readouterr().out


def test_cli_refuses_options_that_would_be_ignored(capsys):
    assert main(["trace", "--x", "0,1", "--t", "1"]) == 2
    assert "--x and --t give a sample for --model" in capsys.readouterr().err
    assert main(["demo", "--dataset", "moons", "--hidden", "4"]) == 2
    assert "--hidden applies to --dataset xor only" in capsys.readouterr().err


def test_piping_into_head_ends_quietly():
    result = subprocess.run(
        f"{sys.executable} -m tinygraph trace --html /dev/null | head -2", shell=True, capture_output=True, text=True
    )
    assert "FORWARD PASS" in result.stdout and "Traceback" not in result.stderr


def test_render_reports_bad_sizes(capsys):
    assert main(["render", "--sizes", "2,a"]) == 2
    assert "--sizes: expected whole numbers" in capsys.readouterr().err
