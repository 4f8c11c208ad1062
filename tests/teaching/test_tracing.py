"""The step-by-step trace: its numbers are the engine's numbers, and the worked example's are right."""

import html
import re

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import cli


def worked_example():
    """The classic 2-2-2 logistic network with fixed weights, inputs and targets (tinygraph trace's)."""
    return cli.worked_example()


def by_hand():
    """The same numbers, worked out line by line as on paper."""
    sig = lambda z: 1 / (1 + np.exp(-z))
    i1, i2 = 0.05, 0.10
    net_h1 = 0.15 * i1 + 0.20 * i2 + 0.35
    net_h2 = 0.25 * i1 + 0.30 * i2 + 0.35
    h1, h2 = sig(net_h1), sig(net_h2)
    o1, o2 = sig(0.40 * h1 + 0.45 * h2 + 0.60), sig(0.50 * h1 + 0.55 * h2 + 0.60)
    E = 0.5 * (o1 - 0.01) ** 2 + 0.5 * (o2 - 0.99) ** 2
    d_o1, d_o2 = (o1 - 0.01) * o1 * (1 - o1), (o2 - 0.99) * o2 * (1 - o2)
    d_h1 = (d_o1 * 0.40 + d_o2 * 0.50) * h1 * (1 - h1)
    d_h2 = (d_o1 * 0.45 + d_o2 * 0.55) * h2 * (1 - h2)
    new_w5 = 0.40 - 0.5 * d_o1 * h1  # the weight from h1 to o1
    new_w1 = 0.15 - 0.5 * d_h1 * i1  # the weight from i1 to h1
    return dict(E=E, h=[h1, h2], o=[o1, o2], d_o=[d_o1, d_o2], d_h=[d_h1, d_h2], new_w5=new_w5, new_w1=new_w1)


def test_worked_example_numbers_match_the_hand_computation():
    graph, feed = worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    hand = by_hand()
    assert np.isclose(tr.loss, hand["E"], rtol=1e-14)
    assert np.isclose(hand["E"], 0.298371109, atol=1e-9)  # the published value
    assert np.allclose(graph["h"].value, hand["h"]) and np.allclose(graph["o"].value, hand["o"])
    assert np.allclose(graph["z2"].grad, hand["d_o"], rtol=1e-13)
    assert np.allclose(graph["z1"].grad, hand["d_h"], rtol=1e-13)
    assert np.isclose(graph["W2"].value[0, 0], hand["new_w5"], rtol=1e-14)
    assert np.isclose(graph["W2"].value[0, 0], 0.35891648, atol=1e-8)  # published
    assert np.isclose(graph["W1"].value[0, 0], hand["new_w1"], rtol=1e-14)
    text = str(tr)
    assert "E = ½(0.7514 − 0.01)² + ½(0.7729 − 0.99)² = 0.2984" in text
    assert "δ (output layer) = ∂E/∂z2 = [0.1385, -0.0381]" in text
    assert "δ (hidden layer 1)" in text


def test_every_step_carries_the_engines_numbers():
    graph, feed = worked_example()
    opt = tg.SGD(graph.parameters(), lr=0.5)
    tr = tg.trace(graph, feed, optimizer=opt)
    # the engine, run again from the same start, gives the same gradients
    ref, _ = worked_example()
    ref.forward(feed)
    ref.backward()
    for step in tr.phase("forward")[1:]:
        assert np.array_equal(step.arrays[step.node.name], ref[step.node.name].value)
    backward = tr.phase("backward")
    assert [s.node.name for s in backward] == ["E", "o", "z2", "W2", "b2", "h", "z1", "W1", "b1"]
    for step in backward:
        assert np.array_equal(step.arrays["grad"], ref[step.node.name].grad)
        for key, g in step.arrays.items():
            if key.startswith("to "):
                # with one consumer each here, what a node sends is its input's whole gradient
                assert np.array_equal(g, ref[key[3:]].grad)
    updates = tr.phase("update")
    assert [s.node.name for s in updates] == ["W1", "b1", "W2", "b2"]
    for step in updates:
        p = graph[step.node.name]
        assert np.array_equal(step.arrays["new"], p.value)  # the optimizer's result
        assert np.array_equal(step.arrays["grad"], ref[p.name].grad)
        assert np.array_equal(step.arrays["new"], step.arrays["old"] - 0.5 * step.arrays["grad"])


def test_a_value_with_two_consumers_shows_both_contributions_and_their_sum():
    x = tg.Input("x", shape=(2,))
    W = tg.Parameter([[0.5, -0.3], [0.2, 0.8]], name="W")
    h = tg.Tanh(tg.WeightedSum(x, W, name="z1"), name="h")
    o = tg.WeightedSum(h, W, name="z2")  # W used twice
    graph = tg.Graph(tg.SquaredLoss(o, tg.Input("t", shape=(2,)), name="E"))
    tr = tg.trace(graph, {"x": [1.0, 2.0], "t": [0.0, 1.0]})
    w_step = [s for s in tr.phase("backward") if s.node is W][0]
    assert "from z2:" in w_step.text() and "from z1:" in w_step.text() and "summed" in w_step.text()
    assert np.array_equal(w_step.arrays["grad"], W.grad)
    parts = [s.arrays["to W"] for s in tr.phase("backward") if "to W" in s.arrays]
    assert len(parts) == 2 and np.allclose(parts[0] + parts[1], W.grad)
    assert tr.phase("update") == []


def test_user_defined_nodes_appear_with_their_formula_or_a_generic_one():
    class Square(tg.Node):
        formula, derivative = "y = x²", "∂y/∂x = 2x"

        def forward(self, x):
            return x * x

        def backward(self, grad_out):
            return (2 * self.inputs[0].value * grad_out,)

    class Cube(tg.Node):
        def forward(self, x):
            return x**3

        def backward(self, grad_out):
            return (3 * self.inputs[0].value ** 2 * grad_out,)

    x = tg.Input("x", shape=(2,))
    g = tg.Graph(tg.Sum(Cube(Square(x, name="sq"), name="cu"), name="E"))
    tr = tg.trace(g, {"x": [1.0, 2.0]})
    text = str(tr)
    assert "sq = x²" in text and "local derivative: ∂sq/∂x = 2x" in text
    assert "cu = Cube(sq)" in text and "∂E/∂sq += ∂E/∂cu · ∂cu/∂sq" in text


def test_markdown_has_latex_and_precision_is_settable():
    graph, feed = worked_example()
    md = tg.trace(graph, feed, optimizer=0.5).to_markdown()
    assert md.count("$$") % 2 == 0 and r"\frac{\partial E}{\partial z_{2}}" in md
    assert r"\begin{bmatrix}" in md and r"\leftarrow" in md
    graph, feed = worked_example()
    precise = str(tg.trace(graph, feed, precision=9))
    assert "0.298371109" in precise


def test_large_arrays_are_summarised_but_kept_in_full():
    net = tg.mlp([20, 10, 3], seed=0)
    tr = tg.trace(net, {"x": np.linspace(-1, 1, 20), "t": [0.0, 1.0, 0.0]}, optimizer=0.1)
    given = tr[0]
    assert "shape (20, 10): mean" in given.text()
    assert given.arrays["W1"].shape == (20, 10)


@pytest.mark.graphviz
def test_the_pages_full_values_cut_large_arrays_short_and_keep_the_rest_whole():
    rng = np.random.default_rng(0)
    net = tg.mlp([20, 10, 3], seed=0)
    X = rng.normal(size=(64, 20))  # a batch: 1280 numbers
    tr = tg.trace(net, {"x": X, "t": np.eye(3)[rng.integers(0, 3, 64)]})
    given = re.search(r"<summary>full values</summary><pre>(.*?)</pre>", tr.to_html(), re.S).group(1)
    given = html.unescape(given)
    head, first = re.search(r"x =\nshape \(64, 20\): (.*)\nx\[0, :8\] = (\[[^]]*\])", given).groups()
    mean, norm = (float(v) for v in re.fullmatch(r"mean (\S+), norm (\S+)", head).groups())
    assert mean == pytest.approx(X.mean(), rel=1e-7) and norm == pytest.approx(np.sqrt((X**2).sum()), rel=1e-7)
    assert np.allclose(np.array(first[1:-1].split(), dtype=float), X[0, :8], rtol=1e-7, atol=0)
    W1 = net.graph["W1"].value  # (20, 10): 200 numbers, whole
    assert W1.size == 200 and np.array2string(W1, precision=8, threshold=300, max_line_width=100) in given
    assert "step.arrays in Python has them whole" in given and tr[0].arrays["x"].shape == (64, 20)


def test_trace_rejects_wrong_arguments():
    graph, feed = worked_example()
    with pytest.raises(TypeError, match="trace: expected a tinygraph Graph or Network, got str"):
        tg.trace("nope", feed)
    with pytest.raises(TypeError, match="optimizer must be an SGD"):
        tg.trace(graph, feed, optimizer="fast")
    with pytest.raises(tg.GraphError, match="missing Input 't'"):
        tg.trace(graph, {"x": [0.0, 0.0]})


@pytest.mark.graphviz
def test_html_is_one_offline_file_with_every_step(tmp_path):
    graph, feed = worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    path = tr.to_html(tmp_path / "trace.html")
    page = open(path, encoding="utf-8").read()
    assert page.count('class="tg-frame"') == len(tr) == page.count('class="tg-step"')
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" in page and "ArrowRight" in page
    assert tr._repr_html_().count('class="tg-step"') == len(tr)


@pytest.mark.parametrize("title", [3, None, b"bytes"])
def test_a_page_title_that_is_not_text_is_a_type_error_and_writes_nothing(tmp_path, title):
    graph, feed = worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    with pytest.raises(TypeError, match=rf"to_html: title must be a str, got {type(title).__name__}"):
        tr.to_html(tmp_path / "trace.html", title=title)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.graphviz
def test_frames_one_picture_per_step(tmp_path):
    graph, feed = worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    paths = tr.render_frames(tmp_path / "frames")
    assert len(paths) == len(tr)
    for p in paths:
        assert open(p, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_pending_values_and_gradients_are_drawn_as_placeholders():
    graph, feed = worked_example()
    tr = tg.trace(graph, feed)
    source = tg.to_dot(
        graph, pending_values=["h", "o"], pending_grads=["W1", "h"], state=tr[1].state
    )  # the first forward step: z1 only
    assert "∂E/∂W1 = …" in source and "∂E/∂h = …" in source and source.count("value = …") == 2
    assert "∂E/∂z2" not in source  # neither known nor announced


def test_momentum_updates_are_explained_with_the_velocity():
    graph, feed = worked_example()
    opt = tg.SGD(graph.parameters(), lr=0.5, momentum=0.9)
    tg.trace(graph, feed, optimizer=opt)  # a first step fills the velocity
    tr = tg.trace(graph, feed, optimizer=opt)
    for step in tr.phase("update"):
        a = step.arrays
        assert np.allclose(a["velocity"], 0.9 * a["velocity_before"] + a["grad"], rtol=1e-14)
        assert np.array_equal(a["new"], graph[step.node.name].value)
        assert np.allclose(a["new"], a["old"] - 0.5 * a["velocity"], rtol=1e-14)
        assert "velocity v ← μ v" in step.text() and "old − 0.5 · v" in step.text()


HOSTILE = ('x<i>"', 'w"<b>&\\n{x}|\\', "t&amp;", "<o>", "E`*_#")


def hostile_graph():
    x, t = tg.Input(HOSTILE[0], shape=(2,)), tg.Input(HOSTILE[2], shape=(1,))
    w = tg.Parameter(np.ones(2), HOSTILE[1])
    o = tg.Logistic(tg.Sum(tg.Multiply(x, w, name="m"), name="sum_1"), name=HOSTILE[3])
    graph = tg.Graph(tg.SquaredLoss(o, tg.Sum(t, name="_s"), name=HOSTILE[4]))
    return graph, {HOSTILE[0]: np.ones(2), HOSTILE[2]: np.ones(1)}


def test_names_full_of_markup_stay_text_in_markdown_and_html():
    graph, feed = hostile_graph()
    trace = tg.trace(graph, feed)
    headings = [line for line in trace.to_markdown().splitlines() if line.startswith("#")]
    assert r"## 4. \<o\> = σ(sum_1) = 1/(1 + e^(−sum_1))" in headings
    assert r"## 5. \_s = Σ_i t\&amp;\_i" in headings
    assert r"## 7. E\`\*\_\#: pass the gradient back to its inputs" in headings
    assert not any(re.search(r"(?<!\\)[<>`*&|]", h) for h in headings[1:])
    page = trace.to_html()
    assert not re.search(r"<(o|i|b)>", page)  # the names' tags never become the page's
    assert "&lt;o&gt;" in page and "t&amp;amp;" in page and "&#39;t&amp;&#39;" not in page


@pytest.mark.graphviz
def test_names_full_of_markup_reach_the_diagrams_as_text(tmp_path):
    graph, feed = hostile_graph()
    tg.trace(graph, feed)
    tg.render(graph, tmp_path / "g", format="svg")
    text = (tmp_path / "g.svg").read_text(encoding="utf-8")
    assert "&lt;o&gt;" in text and "∂E/∂w&quot;&lt;b&gt;&amp;\\n{x}|\\" in text and "t&amp;amp;" in text
    frames = tg.trace(graph, feed).render_frames(tmp_path / "frames", format="svg")
    assert frames and all(open(f, encoding="utf-8").read().startswith("<?xml") for f in frames)


def test_a_name_with_a_newline_or_a_control_character_is_refused():
    for name in ("o\nnewline", "a\0b", "tab\there"):
        with pytest.raises(tg.GraphError, match="holds a newline or another control character"):
            tg.Logistic(tg.Input("x"), name=name)
        with pytest.raises(tg.GraphError, match="holds a newline or another control character"):
            tg.Input(name)


def test_adam_updates_show_m_v_their_bias_correction_and_the_new_value():
    graph, feed = worked_example()
    adam = tg.Adam(graph.parameters(), lr=0.1, weight_decay=0.01)
    tg.trace(graph, feed, optimizer=adam)  # a first step: the second shows m and v from before
    tr = tg.trace(graph, feed, optimizer=adam)
    b1, b2, lam = 0.9, 0.999, 0.01
    for step in tr.phase("update"):
        a = step.arrays
        g = a["grad"] + lam * a["old"]  # by hand, from the numbers the step shows
        m = b1 * a["m_before"] + (1 - b1) * g
        v = b2 * a["v_before"] + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**2), v / (1 - b2**2)
        np.testing.assert_allclose(a["m"], m, rtol=1e-13)
        np.testing.assert_allclose(a["v"], v, rtol=1e-13)
        np.testing.assert_allclose(a["new"], a["old"] - 0.1 * m_hat / (np.sqrt(v_hat) + 1e-8), rtol=1e-13)
        assert int(a["t_before"]) == 1 and int(a["t"]) == 2
        assert np.array_equal(a["new"], graph[step.node.name].value)
        n = step.node.name
        assert step.title == f"{n} ← {n} − η m̂/(√v̂ + ε)"
        text = step.text()
        for words in ("with weight decay g = ∂E/∂", "m ← β1 m + (1 − β1) g = 0.9 · ", "v ← β2 v + (1 − β2) g² = 0.999",
                      "bias correction at step t = 2: m̂ = m/(1 − β1ᵗ) = m/0.19 = ", "v̂ = v/(1 − β2ᵗ)",
                      f"new {n} = old − 0.1 · m̂/(√v̂ + ε) = "):  # fmt: skip
            assert words in text, (words, text)
        shown = [line.answer() for line in step.parts if line.computed]  # the numbers the lines compute
        np.testing.assert_allclose(shown[-5], m, rtol=1e-13)
        np.testing.assert_allclose(shown[-3], m_hat, rtol=1e-13)
        np.testing.assert_allclose(shown[-2], v_hat, rtol=1e-13)
    md = tr.to_markdown()
    assert r"\hat{m}/(\sqrt{\hat{v}} + \varepsilon )" in md and r"\beta_1" in md
    assert not [line for line in md.splitlines() if line.startswith("$$") and ("m̂" in line or "β" in line)]


def test_rmsprop_and_nesterov_updates_are_explained_by_their_optimizers():
    graph, feed = worked_example()
    rms = tg.RMSProp(graph.parameters(), lr=0.01, momentum=0.5)
    tr = tg.trace(graph, feed, optimizer=rms)
    for step in tr.phase("update"):
        a = step.arrays
        s = 0.01 * a["grad"] ** 2
        np.testing.assert_allclose(a["mean_square"], s, rtol=1e-13)
        np.testing.assert_allclose(a["buffer"], a["grad"] / (np.sqrt(s) + 1e-8), rtol=1e-13)
        np.testing.assert_allclose(a["new"], a["old"] - 0.01 * a["buffer"], rtol=1e-13)
        assert step.title.endswith("− η b") and "buffer b ← μ b + ∂E/∂" in step.text()
    graph, feed = worked_example()
    sgd = tg.SGD(graph.parameters(), lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.1)
    tr = tg.trace(graph, feed, optimizer=sgd)
    for step in tr.phase("update"):
        a = step.arrays
        g = a["grad"] + 0.1 * a["old"]
        np.testing.assert_allclose(a["velocity"], g, rtol=1e-14)  # v started at 0
        np.testing.assert_allclose(a["new"], a["old"] - 0.5 * (g + 0.9 * a["velocity"]), rtol=1e-14)
        assert "Nesterov: d = g + μ v = g + 0.9 · v = " in step.text() and "old − 0.5 · d = " in step.text()


def test_trace_refuses_an_optimizer_that_cannot_explain_its_step():
    graph, feed = worked_example()

    class Bare:
        def step(self):
            pass

    with pytest.raises(TypeError, match=r"trace: optimizer must be an SGD, Adam or RMSProp .*got Bare"):
        tg.trace(graph, feed, optimizer=Bare())


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: tg.Adam(ps, lr=0.1, weight_decay=0.01),
        lambda ps: tg.RMSProp(ps, momentum=0.5, weight_decay=0.1),
        lambda ps: tg.SGD(ps, lr=0.5, momentum=0.9, nesterov=True, weight_decay=0.1),
    ],
)
def test_every_update_line_of_every_optimizer_is_latex_that_becomes_mathml(make):
    from tinygraph.teaching.typeset import mathml

    graph, feed = worked_example()
    tr = tg.trace(graph, feed, optimizer=make(graph.parameters()))
    for step in tr.phase("update"):
        for tex in [step.formula, *step.tex]:
            assert mathml(tex).startswith("<math"), tex
            assert not re.search(r"[∂σ·−←²ημβεα√ᵗ\u0302]", tex), tex  # every symbol became LaTeX
