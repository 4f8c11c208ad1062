"""The README's code runs and its quick start matches .ci/run."""

import re
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.graphviz  # (the README draws)
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


def test_contributing_guide_adds_a_node_that_works():
    """CONTRIBUTING.md's worked example, run: its class and its test."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    namespace = {}
    exec("import numpy as np\nimport pytest\nimport tinygraph as tg\n" + blocks[0], namespace)
    exec(blocks[1], namespace)
    test = namespace["test_softplus"]
    for shape in [(3,), (4, 3), (70, 2)]:
        for dtype in [np.float64, np.float32]:
            test.__wrapped__(shape, dtype) if hasattr(test, "__wrapped__") else test(shape, dtype)
    trace = tg.trace(tg.Graph(tg.Sum(namespace["Softplus"](tg.Input("x", shape=(2,)), name="h"))), {"x": [0.3, -1.0]})
    assert "h[0] = log(1 + e^0.3) = 0.8544" in str(trace) and "local derivative: ∂h/∂x = σ(x)" in str(trace)
