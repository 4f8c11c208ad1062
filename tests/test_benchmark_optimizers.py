"""benchmarks/optimizers.py in quick mode: tinygraph's optimizers and the numpy reference take the same steps.

No timing here: speed is measured by the script itself, not by tests.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "optimizers.py"
spec = importlib.util.spec_from_file_location("optimizers_benchmark", PATH)
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)


@pytest.mark.parametrize("kind", list(bench.SETTINGS))
def test_tinygraph_and_the_numpy_reference_take_the_same_steps(kind):
    assert bench.agreement(np.float64, kind, steps=3) <= 1e-12
    assert bench.agreement(np.float32, kind, steps=3) <= 1e-4


def test_quick_mode_runs(capsys):
    assert bench.main(["--quick"]) == 0
    assert capsys.readouterr().out.count("(ok)") == 6
