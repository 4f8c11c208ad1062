"""The benchmark's correctness check in quick mode: every implementation takes the same step.

No timing here: speed is measured by benchmarks/train_step.py, not by tests.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

PATH = Path(__file__).resolve().parent.parent / "benchmarks" / "train_step.py"
spec = importlib.util.spec_from_file_location("train_step", PATH)
train_step = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train_step)


@pytest.mark.parametrize("workload", train_step.WORKLOADS, ids=lambda w: w["name"])
def test_tinygraph_and_numpy_reference_take_the_same_step(workload):
    impls = train_step.implementations(workload, torch=False)  # (the CNN rows have steps of their own)
    assert [impl.name for impl in impls] == ["numpy", "tinygraph"]
    worst = train_step.check_agreement(workload, impls=impls, steps=3)  # loop, then written-out code
    assert worst <= (1e-12 if workload["dtype"] == "float64" else 1e-5)


def test_the_reference_really_learns_and_reports_the_loss():
    w = train_step.WORKLOADS[1]
    problem = train_step.make_problem(w["sizes"], w["batch"], w["dtype"])
    ref, tg_step = train_step.NumpyStep(*problem), train_step.TinygraphStep(*problem)
    losses = [ref.step() for _ in range(50)]
    tg_losses = [float(tg_step.step()) for _ in range(50)]
    assert losses[-1] < losses[0] and np.allclose(losses, tg_losses, rtol=1e-12)


def test_quick_mode_runs(capsys):
    assert train_step.main(["--quick", "--only", "2-3-1"]) == 0
    assert "(ok)" in capsys.readouterr().out


def test_memory_is_measured_for_both_and_holds_at_least_the_weights():
    w = train_step.WORKLOADS[1]
    problem = train_step.make_problem(w["sizes"], w["batch"], w["dtype"])
    weights = sum(a.nbytes for a in problem[0] + problem[1])
    for impl in (train_step.NumpyStep, train_step.TinygraphStep):
        peak, steady = train_step.peak_memory(impl, problem)
        assert peak >= weights and steady >= weights


def test_the_cnn_reference_learns_and_reports_the_loss_tinygraph_reports():
    w = train_step.CNN_WORKLOADS[0]
    problem = train_step.problem_of(w)
    ref, tg_step = (impl(*problem) for impl in train_step.implementations(w, torch=False))
    losses = [ref.step() for _ in range(30)]
    tg_losses = [float(tg_step.step()) for _ in range(30)]
    assert losses[-1] < 0.9 * losses[0] and np.allclose(losses, tg_losses, rtol=1e-12)
    assert train_step.shapes_of(w["image"], w["layers"]) == [(8, 6, 6), (8, 6, 6), (8, 3, 3), (10,)]
