"""examples/sgd_vs_gradient_descent.py runs, prints its table, and SGD gets there first."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "examples" / "sgd_vs_gradient_descent.py"


def test_quick_run_shows_sgd_getting_there_with_less_work(tmp_path):
    pytest.importorskip("matplotlib", reason="the plot needs matplotlib (tinygraph[plot])")
    out_png = tmp_path / "curves.png"
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--out", str(out_png)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    rows = re.findall(r"^\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, flags=re.M)
    assert [int(r[0]) for r in rows] == [0, 1, 2, 5, 10, 20, 30]
    first, last = [float(v) for v in rows[0][1:]], [float(v) for v in rows[-1][1:]]
    assert first[0] == first[1] == first[2]  # the same initial network for every run
    assert last[0] < last[2] < last[1]  # SGD lowest after 30 passes, same-lr GD highest
    passes = int(re.search(r"SGD lr=0.1\s+first reaches it after\s+(\d+) passes", out).group(1))
    assert passes <= 30
    assert "GD lr=0.1   does not reach it in 30 passes" in out
    assert f"plot saved to {out_png}" in out
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert list(tmp_path.iterdir()) == [out_png]  # nothing written anywhere else


def test_without_matplotlib_it_prints_the_table_only(monkeypatch, tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("sgd_vs_gd", SCRIPT)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    for name in ["matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"]:
        monkeypatch.setitem(sys.modules, name, None)
    results = example.main(quick=True, out=str(tmp_path / "never.png"))
    out = capsys.readouterr().out
    assert "log loss on all samples after each pass" in out
    assert 'no plot: matplotlib is not installed; pip install "tinygraph[plot]"' in out
    assert not (tmp_path / "never.png").exists()
    sgd, gd = results["SGD lr=0.1"][0], results["GD lr=0.1"][0]
    assert len(sgd) == len(gd) == 31 and sgd[-1] < gd[-1]
