"""The README's code runs and its quick start matches .ci/run."""

import os
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(
    not shutil.which("dot") and not os.environ.get("CI"),
    reason="the README draws with Graphviz 'dot', which is not installed (CI has it)",
)
def test_readme_python_blocks_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the README writes step.html
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert len(blocks) >= 2
    namespace = {}
    for block in blocks:
        exec(block, namespace)
    graph, o, x, X = namespace["graph"], namespace["o"], namespace["x"], namespace["X"]
    predictions = graph.run(o, {x: X}).ravel()
    assert list(predictions >= 0.5) == [False, True, True, False]
    out = capsys.readouterr().out
    assert "passed" in out and "BACKWARD PASS" in out
    # the code shown for graph.source() is what it prints (lines cut short with … aside)
    shown = [b for b in blocks if ".source()" in b][0]
    for line in re.findall(r"^# (.*)$", shown, re.M):
        if "…" not in line:
            assert line in out, line
    assert (tmp_path / "step.html").exists()


def test_quick_start_has_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    quick = re.search(r"## Quick start.*?```sh\n(.*?)```", readme, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in quick.strip().splitlines()]
    assert len(commands) == 2 and "tinygraph demo" in commands[0]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()
