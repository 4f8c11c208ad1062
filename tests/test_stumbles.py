"""The stumbles a new user hit (issue 16), one test or more each: what they ran, and what they see now."""

import html
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.cli import DEMOS, main

ROOT = Path(__file__).resolve().parent.parent


def help_of(capsys, *command):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    return " ".join(capsys.readouterr().out.split())  # (argparse wraps lines)


class _NoRecording:
    """Stands in for tg.Recording, and for what trace returns, where only the training matters.

    It records, and changes, nothing; its page is only the path it was given.
    """

    next_step = -1

    def __init__(self, **options):
        pass

    def start(self, *args, **options):
        pass

    def begin(self, *args):
        pass

    def take(self, step):
        raise AssertionError("no snapshot was asked for")

    def __len__(self):
        return 0

    def to_html(self, path, **options):
        return str(path)


@pytest.fixture
def training_only(monkeypatch):
    """The demos without their pictures and pages, which cost most of a demo's time and are the same
    code for every data set: tests/test_demos.py and test_cli.py check them on xor, moons and the CNN."""
    import tinygraph.demos as demos

    monkeypatch.setattr(demos, "Recording", _NoRecording)
    monkeypatch.setattr(demos, "trace", lambda *args, **options: _NoRecording())
    monkeypatch.setattr(demos, "_draw", lambda *args, **options: None)


# 1. `tinygraph demo --dataset spirals` exited 1 with no message.  (A recording never changes the
# training, bit for bit: tests/teaching/test_recording.py.)
@pytest.mark.parametrize("dataset", sorted(DEMOS))
def test_every_demo_succeeds_on_its_own_defaults(dataset, capsys, tmp_path, training_only):
    if dataset in ("digits", "iris", "wine", "breast_cancer"):
        pytest.importorskip("sklearn")
    assert main(["demo", "--dataset", dataset, "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    found = re.search(r"test accuracy ([\d.]+)%" if DEMOS[dataset].split else r"accuracy ([\d.]+)%", captured.out)
    assert float(found.group(1)) / 100 >= DEMOS[dataset].expect
    said = re.search(r"each input column scaled by the (\d+) training rows' mean and standard deviation", captured.out)
    scaled = {"iris": 112, "wine": 134, "breast_cancer": 427}.get(dataset)  # (75% of 150, 178, 569 rows)
    assert (int(said.group(1)) if said else None) == scaled


def test_a_demo_that_falls_short_says_why_on_stderr(capsys, tmp_path, training_only):
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "did not learn xor well enough: accuracy 50.0%, below the 100% this demo expects" in err
    assert "--epochs" in err and "--allow-failure" in err
    assert main(["demo", "--epochs", "1", "--out", str(tmp_path), "--allow-failure"]) == 0
    assert "accuracy 50.0%, below the 100%" in capsys.readouterr().err


def test_the_demo_help_states_the_accuracy_each_demo_expects(capsys):
    text = help_of(capsys, "demo")
    assert "xor 100%, moons 90%, spirals 85%, circles 90%, digits 90%" in text


# 2. and 3. fit's errors: a flat target, and a first output that is not a loss.
def one_neuron():
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    W = tg.Parameter(np.array([[0.5], [-0.25]]), name="W")
    o = tg.Logistic(tg.WeightedSum(x, W, name="z"), name="o")
    return x, t, W, o, tg.SquaredLoss(o, t, name="E")


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_fit_with_a_flat_target_gives_the_hint_forward_gives(batch_size):
    X, T = tg.datasets.xor()  # T has shape (4,): one number per sample, but t declares shape (1,)
    x, t, W, o, E = one_neuron()
    graph = tg.Graph(E)
    with pytest.raises(tg.GraphError) as fit_error:
        tg.fit(graph, {x: X, t: T}, 0.5, batch_size=batch_size, progress=False)
    message = str(fit_error.value)
    assert message.startswith("fit: Input 't': expected shape (1,) for each sample, so data of shape (4, 1)")
    assert "got (4,)" in message
    with pytest.raises(tg.GraphError) as forward_error:
        graph.forward({x: X, t: T})
    hint = "; for one number per sample pass a column such as T[:, None], or declare shape=()"
    assert str(forward_error.value).endswith(hint) and message.endswith(hint)
    assert np.array_equal(W.value, [[0.5], [-0.25]])  # refused before any step


def test_fit_with_a_column_for_a_scalar_input_says_to_flatten_it():
    X, T = tg.datasets.xor()
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=())
    E = tg.SquaredLoss(tg.Sum(tg.Logistic(tg.WeightedSum(x, tg.Parameter([0.5, -0.25], name="w")))), t, name="E")
    with pytest.raises(tg.GraphError) as error:
        tg.fit(tg.Graph(E), {x: X, t: T[:, None]}, 0.5, progress=False)
    assert str(error.value) == (
        "fit: Input 't': expected shape () for each sample, so data of shape (4,) for 4 samples, got (4, 1); "
        "pass a flat array (.ravel()) or declare shape=(1,)"
    )


@pytest.mark.parametrize("batch_size,shape", [(1, (1,)), (4, (4, 1))])
def test_fit_on_a_graph_whose_first_output_is_no_loss_names_the_node(batch_size, shape):
    X, T = tg.datasets.xor()
    x, t, W, o, E = one_neuron()
    graph = tg.Graph(o, E)  # the output first: backward and fit need the loss first
    with pytest.raises(tg.GraphError) as error:
        tg.fit(graph, {x: X, t: T[:, None]}, 0.5, batch_size=batch_size, progress=False)
    message = str(error.value)
    assert f"Logistic 'o' has shape {shape}" in message
    assert "the graph's first output is what fit minimises, so it must be one number (a loss)" in message
    assert "Graph(E, o) rather than Graph(o, E)" in message
    assert np.array_equal(W.value, [[0.5], [-0.25]])
    assert tg.fit(tg.Graph(E, o), {x: X, t: T[:, None]}, 0.5, batch_size=batch_size, progress=False)


# 4. `tg.SGD(g.parameters, lr=0.5)`, the method itself, gave "'method' object is not iterable".
@pytest.mark.parametrize("owner", ["graph", "network"])
def test_sgd_given_the_parameters_method_says_to_call_it(owner):
    net = tg.mlp([2, 2, 1], seed=0)
    method = net.graph.parameters if owner == "graph" else net.parameters
    with pytest.raises(TypeError) as error:
        tg.SGD(method, lr=0.5)
    assert "SGD: parameters must be a list of Parameter nodes, got a method" in str(error.value)
    assert "call it: SGD(graph.parameters(), ...)" in str(error.value)
    assert "not iterable" not in str(error.value)


# 5. dense names came from a counter for the whole session: dense_1… then dense_3… for the same code.
def dense_network(x=None):
    x = tg.Input("x", shape=(2,)) if x is None else x
    h = tg.dense(x, 3, activation=tg.Tanh, seed=0)
    o = tg.dense(h, 1, seed=1)
    return tg.Graph(tg.SquaredLoss(o, tg.Input("t", shape=(1,)), name="E"), o)


def test_the_same_dense_code_gives_the_same_names_and_loads_into_itself(tmp_path):
    first, again = dense_network(), dense_network()
    names = ["dense_1.W", "dense_1.b", "dense_1.z", "dense_1", "dense_2.W", "dense_2.b", "dense_2.z", "dense_2"]
    assert [n.name for n in first.nodes if n.name not in ("x", "t", "E")] == names
    assert [n.name for n in again.nodes] == [n.name for n in first.nodes]
    first["dense_1.W"].value[...] = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    tg.save(first, tmp_path / "first.npz")
    tg.load_parameters(again, tmp_path / "first.npz")
    assert np.array_equal(again["dense_1.W"].value, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert all(np.array_equal(p.value, q.value) for p, q in zip(first.parameters(), again.parameters()))


def test_a_cell_run_again_on_the_same_input_keeps_its_names():
    x = tg.Input("x", shape=(2,))  # made in an earlier cell, reused
    assert [n.name for n in dense_network(x).nodes] == [n.name for n in dense_network(x).nodes]


def test_dense_counts_the_layers_of_the_graph_it_extends():
    net = tg.mlp([2, 4, 3], seed=0)  # two weighted sums, z1 and z2
    head = tg.dense(net.output, 2, seed=0)
    assert head.name == "dense_3" and tg.Graph(head)["dense_3.W"].value.shape == (3, 2)
    x = tg.Input("x", shape=(2,))
    named = tg.dense(x, 4, name="hidden", seed=0)
    assert tg.dense(named, 1).name == "dense_2"  # a named layer still counts
    left, right = tg.dense(x, 2, name="left"), tg.dense(x, 2, name="right")
    assert tg.dense(tg.Concat(left, right), 1).name == "dense_3"


def test_two_unnamed_layers_side_by_side_are_told_to_take_names():
    x = tg.Input("x", shape=(2,))
    both = tg.Concat(tg.dense(x, 2, seed=0), tg.dense(x, 2, seed=1))
    with pytest.raises(tg.GraphError) as error:
        tg.Graph(both)
    assert "two nodes are named 'dense_1.W': Parameter and Parameter" in str(error.value)
    assert "two layers side by side need names: dense(x, n, name='left')" in str(error.value)
    with pytest.raises(tg.GraphError) as error:
        tg.Graph(tg.Add(tg.Tanh(x, name="h"), tg.Logistic(x, name="h")))
    assert str(error.value).endswith("names must be unique in a graph, so give one of them a name= of its own")


def test_mlp_built_twice_has_the_same_names():
    assert [n.name for n in tg.mlp([2, 3, 1]).graph.nodes] == [n.name for n in tg.mlp([2, 3, 1]).graph.nodes]


# 6. `tinygraph trace --model` accepts only an mlp save, and did not say so.
def test_trace_help_says_model_takes_only_an_mlp_save(capsys):
    text = help_of(capsys, "trace")
    assert "--model takes only a network made by tg.mlp and saved with tg.save" in text
    assert "tg.trace(graph, feed)" in text


def test_the_readme_says_what_trace_model_and_render_take():
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`--model` takes only a network made by `tg.mlp` and saved with `tg.save`" in readme
    assert "any other sizes untrained, with their random initial weights, on one random sample" in readme
    assert "it exits 1, saying why on stderr, if the accuracy falls short" in readme


def test_trace_of_a_saved_graph_says_what_model_takes(capsys, tmp_path):
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    tg.save(tg.Graph(tg.SquaredLoss(tg.dense(x, 1, seed=0), t, name="E")), tmp_path / "g.npz")
    assert main(["trace", "--model", str(tmp_path / "g.npz"), "--x", "0.1,0.2", "--t", "1"]) == 2
    err = capsys.readouterr().err
    assert "holds parameters only" in err
    assert "tinygraph trace --model takes only a network made by tg.mlp and saved with tg.save" in err
    assert "tg.trace(graph, feed) in Python" in err


# 7. `tinygraph render --sizes 4,20,3` silently drew an untrained network on random data.
def test_render_of_other_sizes_says_it_is_untrained_on_random_data(capsys, tmp_path):
    assert main(["render", "--sizes", "4,20,3", "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    assert "this 4,20,3 network keeps its random initial weights and shows one random sample" in err
    dot = (tmp_path / "network.dot").read_text(encoding="utf-8")
    assert "4-20-3 network, untrained: random initial weights, one random sample" in dot


def test_render_of_a_trained_xor_network_has_no_note(capsys, tmp_path):
    assert main(["render", "--out", str(tmp_path), "--epochs", "100"]) == 0
    assert capsys.readouterr().err == ""


def test_render_help_says_which_sizes_are_trained(capsys):
    text = help_of(capsys, "render")
    assert "layer sizes (default 2,2,1, trained on XOR); other sizes are drawn untrained, with random initial " in text
    assert "trained on XOR and show x = [0, 1], t = 1; other sizes are drawn untrained" in text


# 8. The examples left files in the working directory (tests/test_examples.py runs each one in an empty
# folder, which it must leave empty); those that write take the folder on the command line.
WRITERS = ["backprop_step_by_step.py", "residual_network.py", "two_branches.py", "sgd_vs_gradient_descent.py"]


@pytest.mark.parametrize("name", WRITERS)
def test_examples_that_write_files_take_a_folder_defaulting_to_an_ignored_one(name):
    source = (ROOT / "examples" / name).read_text(encoding="utf-8")
    assert f"python examples/{name} [OUT_DIR]" in source and "examples/output by default (git-ignored)" in source
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "out_dir" in result.stdout and "(default examples/output)" in result.stdout


def test_the_examples_output_folder_is_git_ignored_and_the_readme_says_so():
    assert "examples/output/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "`python examples/two_branches.py [OUT_DIR]`, and write nothing in the working directory" in readme


# 9. The README's pictures and the demo's diagrams showed different samples.
def shown_lines_of_svg(path):
    """The lines of text an SVG diagram shows that carry numbers ("value = [0, 1]", "δ = …", the title)."""
    texts = re.findall(r"<text[^>]*>(.*?)</text>", path.read_text(encoding="utf-8"))
    return {html.unescape(t).strip() for t in texts} - {""}


def lines_of_dot(path):
    """The lines of text in a DOT file's HTML labels (what the diagram will show)."""
    text = re.sub(r"<BR[^>]*>|</?(TD|TR|TABLE|FONT|B|I)\b[^>]*>", "\n", path.read_text(encoding="utf-8"))
    return {html.unescape(line).strip() for line in re.split(r"[\n<>]", text)}  # (< > left: label=<…>)


def test_the_readme_pictures_are_the_xor_demos_diagrams(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path)]) == 0
    assert "the diagrams and the trace show one sample x = [0, 1], target t = 1" in capsys.readouterr().out
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "the XOR network of `tinygraph demo` after training, on the sample x = [0, 1], t = 1" in readme
    for view in ("graph", "network"):
        picture = shown_lines_of_svg(ROOT / "docs" / f"xor_{view}.svg")
        numbers = {line for line in picture if " = " in line}
        title = "XOR network 2-2-1 after training: one sample x = [0, 1], target t = 1"
        assert title in picture and len(numbers) >= 10
        drawn = lines_of_dot(tmp_path / f"{view}_after.dot")
        assert numbers <= drawn, numbers - drawn


# 10. `trace()` with an optimizer changes the parameters; the README did not say so.
def test_trace_with_an_optimizer_takes_the_step_and_the_readme_says_so():
    net = tg.mlp([2, 2, 1], seed=0)
    feed = {"x": [0.0, 1.0], "t": [1.0]}
    before = [p.value.copy() for p in net.parameters()]
    tg.trace(net, feed)  # no optimizer: forward and backward only
    assert all(np.array_equal(p.value, b) for p, b in zip(net.parameters(), before))
    grads = [p.grad.copy() for p in net.parameters()]
    tg.trace(net, feed, optimizer=0.5)
    assert all(np.allclose(p.value, b - 0.5 * g) for p, b, g in zip(net.parameters(), before, grads))
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert "With an optimizer the trace really takes the step it explains: the graph's parameters are updated" in readme
    assert "leave out `optimizer` for a forward and backward pass that changes no parameter" in readme
