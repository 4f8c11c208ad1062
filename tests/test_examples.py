"""Every example runs (in its quick mode) and reaches its point."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run_example(name, *args):
    """Run an example (quick) in an empty working directory, which it must leave empty; its output."""
    with tempfile.TemporaryDirectory() as cwd:
        result = subprocess.run(
            [sys.executable, str(EXAMPLES / name), *map(str, args), "--quick"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=120,
        )
        left = sorted(os.listdir(cwd))
    assert result.returncode == 0, result.stderr
    assert left == [], f"{name} left {left} in the working directory"
    return result.stdout


def test_every_example_is_listed_here():
    tested = {
        "single_neuron.py",
        "perceptron.py",
        "xor_network.py",
        "deep_network.py",
        "residual_network.py",
        "two_branches.py",
        "sgd_vs_gradient_descent.py",
        "backprop_step_by_step.py",
        "vanishing_gradients.py",
        "optimizers.py",
        "own_loss.py",
        "digits_cnn.py",
    }
    assert {p.name for p in EXAMPLES.glob("*.py")} >= tested


def test_single_neuron():
    out = run_example("single_neuron.py")
    accuracy = float(re.search(r"test accuracy: ([\d.]+)%", out).group(1))
    assert accuracy >= 90


def test_perceptron_converges():
    out = run_example("perceptron.py")
    assert "converged" in out and "training accuracy 100%" in out


def test_xor_network_prints_deltas():
    out = run_example("xor_network.py")
    assert "δ_o" in out and out.count("\n  x = [") == 4


@pytest.mark.parametrize("name", ["deep_network.py"])
def test_deep_network_runs(name):
    out = run_example(name)
    assert re.search(r"test accuracy [\d.]+%", out)


@pytest.mark.parametrize(
    "name,stem", [("residual_network.py", "residual_network"), ("two_branches.py", "two_branches")]
)
def test_composed_examples_train_and_draw_their_graph(name, stem, tmp_path):
    out = run_example(name, tmp_path / "out")
    assert re.search(r"training accuracy [\d.]+%", out)
    drawn = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert f"{stem}.dot" in drawn
    if shutil.which("dot") or os.environ.get("CI"):
        svg = (tmp_path / "out" / f"{stem}.svg").read_text()
        assert svg.count('class="node"') >= 10


def test_backprop_step_by_step_prints_the_worked_example(tmp_path):
    out = run_example("backprop_step_by_step.py", tmp_path / "out")
    assert "E = ½(0.751365 − 0.01)² + ½(0.772928 − 0.99)² = 0.298371" in out
    assert "new W2 = old − 0.5 · ∂E/∂W2 = [[0.358916," in out
    if shutil.which("dot") or os.environ.get("CI"):
        assert (tmp_path / "out" / "backprop_step_by_step.html").read_text().startswith("<!")


def test_own_loss_trains_exactly_like_squared_loss():
    out = run_example("own_loss.py")
    assert "Subtract  d: y = a − b" in out and "parameters identical: True" in out
    assert float(re.search(r"largest difference between the two losses: (\S+)", out).group(1)) < 1e-14


def test_digits_cnn_learns_in_its_quick_run():
    # (2 epochs; the full run's 98% is checked by test_demos.py's run of `tinygraph demo --model cnn`)
    out = run_example("digits_cnn.py")
    assert "17 nodes, 6090 weights; 1348 training and 449 test images" in out and "epoch  2" in out
    built = re.findall(r"^ +(\w+) = (\w+)\(([\w, ]*)\) +(\([\d, ]*\))$", out, flags=re.M)  # tg.digits_cnn, as built
    assert built[0] == ("conv1", "Conv2D", "x, K1, b1", "(16, 8, 8)")  # (padding 1 keeps the 8×8)
    assert built[2] == ("pool1", "MaxPool2D", "h1", "(16, 4, 4)")
    assert built[-1] == ("E", "SoftmaxCrossEntropy", "z, t", "()")
    assert [name for name, *_ in built] == ["conv1", "h1", "pool1", "conv2", "h2", "pool2", "flat", "z", "E"]
    assert float(re.search(r"test accuracy ([\d.]+)%", out).group(1)) >= 85


def test_vanishing_gradients_shows_the_sigmoid_networks_first_layers_starve():
    out = run_example("vanishing_gradients.py")
    ratio = {
        kind: float(value) for kind, value in re.findall(r"^  (Logistic|Tanh|ReLU) +([\d.e+-]+)", out, re.MULTILINE)
    }
    assert set(ratio) == {"Logistic", "Tanh", "ReLU"}
    # ‖∂E/∂W₁‖ ÷ ‖∂E/∂W₉‖ before training: σ' ≤ 1/4 a layer starves the first layers; tanh and ReLU do not
    assert ratio["Logistic"] < 1e-3 and ratio["Tanh"] > 0.1 and ratio["ReLU"] > 0.1


def test_vanishing_gradients_writes_a_replay_per_activation(tmp_path):
    run_example("vanishing_gradients.py", tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logistic.html", "relu.html", "tanh.html"]


def test_optimizers_compares_four_update_rules_on_the_same_start(tmp_path):
    out = run_example("optimizers.py", tmp_path)
    rows = re.findall(r"^\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, flags=re.M)
    assert [int(r[0]) for r in rows] == [0, 1, 2, 5, 10, 20, 30, 50]
    first, last = [float(v) for v in rows[0][1:]], [float(v) for v in rows[-1][1:]]
    assert len(set(first)) == 1  # the same initial network for every optimizer
    assert all(b < a for a, b in zip(first, last))  # every one of them learns
    assert float(rows[1][1]) == float(rows[1][2])  # the first step of SGD with momentum is plain SGD's
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plot: matplotlib is not installed" in out
    else:
        assert (tmp_path / "optimizers.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
