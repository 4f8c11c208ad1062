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


@pytest.mark.parametrize("variant", list(bench.TORCH_VARIANTS))
def test_torch_optimizers_take_the_reference_steps(variant):
    pytest.importorskip("torch")
    try:
        worst = bench.agreement(np.float64, variant, steps=3, impl=bench.TorchStep)
    except (RuntimeError, TypeError) as error:  # (the script skips these too, saying so)
        pytest.skip(f"this torch cannot run {variant}: {error}")
    assert worst <= 1e-12
    assert bench.agreement(np.float32, variant, steps=3, impl=bench.TorchStep) <= 1e-4


def test_the_torch_optimizers_are_the_ones_named():
    torch = pytest.importorskip("torch")
    problem = bench.make_problem(np.float64)
    adam = bench.TorchStep(*problem, "Adam foreach").optimizer
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["foreach"] is True
    assert adam.defaults["lr"] == 0.001 and adam.defaults["betas"] == (0.9, 0.999)
    assert isinstance(bench.TorchStep(*problem, "SGD").optimizer, torch.optim.SGD)


def test_quick_mode_runs(capsys):
    assert bench.main(["--quick"]) == 0
    checks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("agreement")]
    assert all(line.endswith("(ok)") for line in checks)
    assert len([line for line in checks if "torch" not in line]) == 6  # tinygraph's three, in two dtypes
