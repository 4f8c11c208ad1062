"""Every line of a trace in LaTeX and MathML, the Markdown's parity with the text, and the exercises' answers."""

import html
import re

import numpy as np
import pytest
from latex2mathml.converter import convert

import tinygraph as tg
from tinygraph import cli
from tinygraph.teaching.typeset import asks, mathml
from tinygraph.teaching.words import to_tex

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e-?\d+)?")


@pytest.mark.parametrize(
    "text, tex",
    [
        (
            "receives ∂E/∂z1 = 2   (from y)",
            r"\text{receives }\frac{\partial E}{\partial z_{1}} = 2\quad (\text{from }y)",
        ),
        ("y = σ(z) = 1/(1 + e^(−z))", r"y = \sigma (z) = 1/(1 + e^{(- z)})"),
        (
            "∂E/∂h += ∂E/∂z · Wᵀ",
            r"\frac{\partial E}{\partial h} \mathrel{+}= \frac{\partial E}{\partial z} \cdot  W^{\top}",
        ),
        ("∂E/∂w_ij = x_i · δ_j", r"\frac{\partial E}{\partial {w}_{ij}} = {x}_{i} \cdot  \delta _j"),
        ("E = ½(1 − 2)²", r"E = \tfrac{1}{2}(1 -  2)^{2}"),
        ("sum over its 2 consumers: ∂E/∂h = 3", r"\text{sum over its 2 consumers: }\frac{\partial E}{\partial h} = 3"),
        ("o[1] = 1 if z ≥ 0", r"o[1] = 1 \text{ if }z \ge  0"),
        ("E is the mean", r"E \text{ is the mean}"),  # (the space before the words stays)
        ("δ_j + h__", r"\delta _j + h\_\_"),
        ("x̃ = [x, 1]", r"\tilde{x} = [x, 1]"),
        ("E = −Σ_k t_k log p_k", r"E = - \sum _k {t}_{k} \log  {p}_{k}"),
        ("a <b> & {c} #", r"a \lt b\gt  \& \{c\} \#"),
    ],
)
def test_the_trace_notation_becomes_latex(text, tex):
    assert to_tex(text) == tex
    assert convert(tex).startswith("<math")  # (and latex2mathml reads it)


def many_traces():
    """Traces of every kind of node, one sample and a batch, with and without momentum."""
    graph, feed = cli.worked_example()
    yield tg.trace(graph, feed, optimizer=0.5)
    net = tg.mlp([2, 3, 2], activation=tg.Tanh, seed=1)
    yield tg.trace(net, {"x": [[0.5, -1.0], [1.0, 2.0]], "t": [[1.0, 0.0], [0.0, 1.0]]}, optimizer=0.3)
    net = tg.mlp([3, 2, 3], activation=tg.ReLU, loss=tg.SoftmaxCrossEntropy, seed=2)
    yield tg.trace(net, {"x": [0.2, -0.4, 1.0], "t": 2}, optimizer=tg.SGD(net.parameters(), lr=0.1, momentum=0.9))
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=())
    xt = tg.AppendOne(x, name="xt")
    w = tg.Parameter([0.3, -0.2, 0.1], name="w")
    p = tg.Logistic(tg.WeightedSum(xt, w, name="z"), name="p")
    yield tg.trace(tg.Graph(tg.LogLoss(p, t, name="E")), {"x": [1.0, -2.0], "t": 1.0}, optimizer=1.0)
    a, b = tg.Input("a", shape=(2,)), tg.Input("b", shape=(2,))
    s = tg.Step(tg.Add(tg.Multiply(a, b, name="m"), tg.Scale(a, -2.0, name="s2"), name="y"), name="st")
    c = tg.Concat(s, tg.Slice(a, 0, 1, name="a0"), name="c")
    yield tg.trace(tg.Graph(tg.Mean(c, name="E")), {"a": [0.5, -1.5], "b": [2.0, 0.25]})


@pytest.mark.parametrize("k", range(5))
def test_every_line_of_every_trace_is_latex_that_becomes_mathml(k):
    tr = list(many_traces())[k]
    for step in tr:
        assert len(step.lines) == len(step.tex) == len(step.parts) > 0, step.title
        for text, tex, part in zip(step.lines, step.tex, step.parts):
            assert mathml(tex).startswith("<math"), tex  # (no line falls back to showing its LaTeX)
            assert not re.search(r"[∂σΣ·⊙−←ᵀ²½δημ≥…]", tex), tex  # the notation all became LaTeX
            if part.tex_template is not None:  # the node's own LaTeX of its derivative, then its numbers
                assert tex.startswith(r"\text{local derivative: }")
                assert not part.numbers or tex.endswith(" = " + tr.numbers.tex(part.numbers[-1])), tex
            elif "shape" not in text:  # the same numbers, in the same words
                assert sorted(NUMBER.findall(re.sub(r"_\{\d+\}|\\tfrac\{1\}\{2\}|\^\{?2\}?", "", tex))) == sorted(
                    NUMBER.findall(re.sub(r"(?<=[A-Za-z])\d+|²|½", "", text))
                ), (text, tex)
        if step.formula:
            assert mathml(step.formula, display=True).startswith("<math")


def test_the_markdown_carries_every_line_of_the_text_trace():
    for tr in many_traces():
        md = tr.to_markdown()
        for step in tr:
            for tex in step.tex:
                assert f"$$ {tex} $$" in md
        assert md.count("$$") == 2 * sum(len(s.tex) + bool(s.formula) for s in tr)
    graph, feed = cli.worked_example()
    md = tg.trace(graph, feed, optimizer=0.5).to_markdown()
    assert r"\delta  (\text{output layer}) = \frac{\partial E}{\partial z_{2}} = \begin{bmatrix}0.1385 & -0.0381" in md
    assert r"z_{1}[0] = 0.05\cdot 0.15 + 0.1\cdot 0.2 + 0.35 = 0.3775" in md  # the numbers put in, named
    assert r"\text{receives }\frac{\partial E}{\partial h} = " in md


def engine_answers():
    """The worked example's numbers in the order a learner meets them, from the engine run on its own."""
    graph, feed = cli.worked_example()
    graph.forward(feed)
    graph.backward()
    n = {name: graph[name] for name in ["z1", "h", "z2", "o", "E", "W1", "b1", "W2", "b2", "t"]}
    forward = [*n["z1"].value, *n["h"].value, *n["z2"].value, *n["o"].value, n["E"].value]
    o, h = n["o"].value, n["h"].value
    backward = [
        o - n["t"].value, n["o"].grad, o * (1 - o), n["z2"].grad, n["h"].grad, n["W2"].grad, n["b2"].grad,
        h * (1 - h), n["z1"].grad, n["W1"].grad, n["b1"].grad,
    ]  # fmt: skip
    update = [n[p].value - 0.5 * n[p].grad for p in ("W1", "b1", "W2", "b2")]
    return [np.asarray(a, dtype=float) for a in forward + backward + update]


def test_the_worksheet_has_a_blank_for_each_computed_number_and_the_engines_answers():
    graph, feed = cli.worked_example()
    sheet = tg.trace(graph, feed, optimizer=0.5).to_markdown(exercise=True)
    body, key = sheet.split("## Answers")
    blanks = [int(k) for k in re.findall(r"\\boxed\{\((\d+)\)\}", body)]
    answers = re.findall(r"^(\d+)\. step (\d+): `([^`]*)`$", key, re.M)
    expected = engine_answers()
    assert blanks == list(range(1, len(expected) + 1)) and len(answers) == len(expected)
    for (k, _, text), value in zip(answers, expected):
        typed = np.array([float(v) for v in NUMBER.findall(text)])
        assert typed.shape == (value.size,) and np.allclose(typed, value.ravel(), rtol=5e-4, atol=1e-12), (k, text)
    assert "0.2984" not in body  # the loss is asked, not given
    assert "$$ E = \\tfrac{1}{2}(0.7514 -  0.01)^{2} + \\tfrac{1}{2}(0.7729 -  0.99)^{2} = \\boxed{(9)} $$" in body


def test_the_exercise_page_asks_for_each_computed_number_with_the_engines_answer():
    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    page = tr.to_html(exercise=True)
    boxes = [float(v) for v in re.findall(r'class="tg-box"[^>]*data-answer="([^"]+)"', page)]
    expected = np.concatenate([a.ravel() for a in engine_answers()])
    assert np.allclose(boxes, expected, rtol=1e-12, atol=1e-15)
    assert "full values" not in page and "as plain text" not in page  # (they would give the answers away)
    assert page.count('class="tg-answer"') == len(engine_answers())
    plain = tr.to_html()
    assert "<input" not in plain and plain.count("<math") >= sum(len(s.lines) for s in tr)


def test_exercise_and_markdown_options_are_checked():
    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed)
    with pytest.raises(TypeError, match="to_markdown: exercise"):
        tr.to_markdown(exercise="yes")
    with pytest.raises(TypeError, match="to_html: exercise"):
        tr.to_html(exercise=1)


def test_a_formula_latex2mathml_cannot_read_is_shown_as_latex():
    assert mathml(r"\frac{1}{") == f'<code class="tg-tex">{html.escape(chr(92) + "frac{1}{")}</code>'


@pytest.mark.graphviz
def test_the_cli_writes_an_exercise_page_and_a_worksheet_without_printing_the_answers(tmp_path, capsys):
    assert cli.main(["trace", "--exercise", "--html", str(tmp_path / "ex.html")]) == 0
    out = capsys.readouterr().out
    assert "0.2984" not in out and "24 answers to work out, in 19 steps" in out
    assert "tg-box" in (tmp_path / "ex.html").read_text(encoding="utf-8")
    assert "## Answers" in (tmp_path / "ex.md").read_text(encoding="utf-8")


def test_an_exercise_asks_only_what_the_numbers_shown_let_a_learner_work_out():
    net = tg.mlp([20, 10, 3], seed=0)  # h1 (10 numbers) and W2 (30) are shown as summaries
    tr = tg.trace(net, {"x": np.linspace(-1, 1, 20), "t": [0.0, 1.0, 0.0]}, optimizer=0.1)
    page = tr.to_html(exercise=True)
    z2 = [s for s in tr.phase("forward") if s.node is not None and s.node.name == "z2"][0]
    assert page.count('class="tg-box"') == sum(
        a.size for s in tr for line in s.parts if (a := line.answer()) is not None and asks(line, tr.numbers, s)
    )
    assert not any(asks(line, tr.numbers, z2) for line in z2.parts)  # z2 = h1·W2 + b2: not from summaries
    o = [s for s in tr.phase("forward") if s.node is not None and s.node.name == "o"][0]
    assert any(asks(line, tr.numbers, o) for line in o.parts)  # o = σ(z2): three numbers, shown
    sheet = tr.to_markdown(exercise=True)
    assert sheet.count("\\boxed{") == sum(asks(line, tr.numbers, s) for s in tr for line in s.parts)


def test_the_cli_refuses_an_exercise_page_named_like_its_worksheet(tmp_path, capsys):
    assert cli.main(["trace", "--exercise", "--html", str(tmp_path / "ex.md")]) == 2
    assert "--html: --exercise writes the page and a Markdown worksheet" in capsys.readouterr().err
    assert not (tmp_path / "ex.md").exists()
