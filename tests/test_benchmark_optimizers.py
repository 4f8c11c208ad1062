"""benchmarks/optimizers.py in quick mode: tinygraph's optimizers and the numpy reference take the same steps.

No timing here: speed is measured by the script itself, not by tests.
"""

import importlib.util
import types
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


def test_each_torch_variant_asks_torch_optim_for_its_optimizer_and_options():
    # PyTorch is not a test dependency, so a stand-in for torch.optim records what each variant asks
    # for.  (Whether torch's steps then agree with the reference, the script checks itself before it
    # times anything, and refuses to time on a mismatch.)
    asked = []

    def optimizer(kind):
        return lambda parameters, **options: asked.append((kind, options))

    torch = types.SimpleNamespace(optim=types.SimpleNamespace(SGD=optimizer("SGD"), Adam=optimizer("Adam")))
    for variant, (kind, _) in bench.TORCH_VARIANTS.items():
        step = object.__new__(bench.TorchStep)  # (without its __init__, which builds a torch model)
        step.torch, step.variant, step.kind = torch, variant, kind
        step.optimizer_for([])
    adam = {"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8}
    assert asked == [
        ("SGD", {"lr": 0.1}),
        ("Adam", adam),
        ("Adam", {**adam, "foreach": True}),
        ("Adam", {**adam, "fused": True}),
    ]


def test_quick_mode_runs(capsys):
    assert bench.main(["--quick"]) == 0
    checks = [line for line in capsys.readouterr().out.splitlines() if line.startswith("agreement")]
    assert all(line.endswith("(ok)") for line in checks)
    assert len([line for line in checks if "torch" not in line]) == 6  # tinygraph's three, in two dtypes
