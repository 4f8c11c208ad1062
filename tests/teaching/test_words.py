"""The words of a trace (tinygraph/teaching/words.py): a node's own text, with a graph's names and numbers."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.teaching.words import (
    Layers,
    Numbers,
    chain,
    format_array,
    forward_lines,
    local_derivative,
    named,
    named_formula,
    number,
    substitute,
    tex_name,
    tex_number,
    to_tex,
)


@pytest.mark.parametrize(
    "x,text", [(0.0, "0"), (-0.0, "0"), (1.5e-5, "1.5e-5"), (123456.0, "1.235e5"), (0.25, "0.25"), (-3.0, "-3")]
)
def test_number(x, text):
    assert number(x, 4) == text


def test_format_array_rows_and_summaries():
    assert format_array([[0.5, -1.25], [3, 1e-5]]) == "[[0.5, -1.25],\n [3, 1e-5]]"
    assert format_array(np.ones(100)) == "shape (100,): mean 1, norm 10"
    assert Numbers(3, 12)(np.array([[1.0, 2.0], [3.0, 4.0]])) == "[[1, 2], [3, 4]]"
    assert Numbers(3, 12).tex(np.array([1.0, 2.0])) == r"\begin{bmatrix}1 & 2\end{bmatrix}"


@pytest.mark.parametrize(
    "text,tex",
    [
        ("2.5e-7", r"2.5 \times 10^{-7}"),
        ("-1e+12", r"-1 \times 10^{12}"),
        ("1e-05", r"1 \times 10^{-5}"),
        ("0.25", "0.25"),
        ("x1e5", "x1e5"),  # (a name, not a number)
    ],
)
def test_numbers_in_e_notation_become_powers_of_ten_in_latex(text, tex):
    assert tex_number(text) == tex


def test_e_notation_never_reaches_the_math_as_the_letter_e():
    # In math, 2.5e-7 would read as 2.5·e − 7.  Held numbers (Numbers.tex) and numbers written
    # into a line's text (an η of 1e-05) both become powers of ten.
    assert Numbers(4, 12).tex(np.array(2.5e-7)) == r"2.5 \times 10^{-7}"
    assert Numbers(4, 12).tex(np.array([1.0, -3e-9])) == r"\begin{bmatrix}1 & -3 \times 10^{-9}\end{bmatrix}"
    assert to_tex("old − 1e-05 · g") == r"\text{old }-  1 \times 10^{-5} \cdot  g"
    x, t = tg.Input("x", shape=(1,)), tg.Input("t", shape=(1,))
    z = tg.WeightedSum(x, tg.Parameter([[2.5e-7]], name="w"), name="z")
    trace = tg.trace(tg.Graph(tg.SquaredLoss(z, t, name="E")), {"x": [1.0], "t": [0.0]})
    assert r"z[0] = 1\cdot 2.5 \times 10^{-7} = 2.5 \times 10^{-7}" in trace.to_markdown()
    page = trace.to_html()
    assert "<mn>2.5</mn><mo>&#x000D7;</mo><msup><mn>10</mn>" in page
    assert "<mn>2.5</mn><mi>e</mi>" not in page


@pytest.mark.parametrize("name,tex", [("z1", "z_{1}"), ("W2", "W_{2}"), ("E", "E"), ("a.b_c", r"\mathrm{a.b c}")])
def test_tex_name(name, tex):
    assert tex_name(name) == tex


def test_substitute_replaces_whole_symbols_only():
    assert substitute("y = σ(z) = 1/(1 + e^(−z))", {"y": "h", "z": "z1"}) == "h = σ(z1) = 1/(1 + e^(−z1))"
    assert substitute("E = ½ Σ_k (o_k − t_k)²", {"o": "out", "t": "target"}) == "E = ½ Σ_k (out_k − target_k)²"
    assert substitute(r"\tanh(z) + \partial y", {"t": "T", "y": "h", "z": "u"}) == r"\tanh(u) + \partial h"
    assert substitute("x̃ = [x, 1]", {"x̃": "x1", "x": "x"}) == "x1 = [x, 1]"  # the longer symbol first
    assert substitute("zz + z", {"z": "q"}) == "zz + q"


def test_named_text_of_built_in_and_own_nodes():
    x = tg.Input("x", shape=(2,))
    z = tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)), name="W1"), tg.Parameter(np.zeros(2), name="b1"), name="z1")
    h = tg.Logistic(z, name="h")
    assert named_formula(z) == "z1 = x·W1 + b1" and named_formula(h) == "h = σ(z1) = 1/(1 + e^(−z1))"
    assert named(h, h.derivative_tex, tex=True) == r"\frac{\partial {h}}{\partial {z_{1}}} = {h}(1 - {h})"
    assert chain(z, 1) == "xᵀ · ∂E/∂z1   (∂E/∂W1_ij = x_i · δ_j)" and chain(h, 0) == "∂E/∂h ⊙ h(1 − h)"

    class Cube(tg.Node):  # no text of its own: generic words
        def forward(self, u):
            return u**3

    c = Cube(h, name="c")
    assert named_formula(c) == "c = Cube(h)" and chain(c, 0) == "∂E/∂c · ∂c/∂h"


def test_forward_lines_put_the_numbers_into_the_formula():
    x = tg.Input("x", shape=(2,))
    h = tg.Logistic(x, name="h")
    g = tg.Graph(tg.Sum(h, name="E"))
    g.forward({"x": [0.5, -0.25]})
    fmt = Numbers(4, 8)
    assert forward_lines(h, fmt) == [
        f"h[0] = σ(0.5) = 1/(1 + e^(−0.5)) = {fmt(1 / (1 + np.exp(-0.5)))}",
        f"h[1] = σ(-0.25) = 1/(1 + e^(−(-0.25))) = {fmt(1 / (1 + np.exp(0.25)))}",
    ]
    assert forward_lines(g["E"], fmt) == [f"h = {fmt(h.value)}", f"E = {fmt(h.value.sum())}"]
    text, numbers = local_derivative(h)
    assert text == "∂h/∂x = h(1 − h)" and np.allclose(numbers, h.value * (1 - h.value))


def test_layers_name_the_deltas():
    net = tg.mlp([2, 3, 3, 1], seed=0)
    layers = Layers(net.graph.nodes)
    assert [layers.delta(net.graph[z]) for z in ("z1", "z2", "z3")] == [
        "δ (hidden layer 1)",
        "δ (hidden layer 2)",
        "δ (output layer)",
    ]
    assert layers.delta(net.graph["h1"]) is None
    one = tg.mlp([2, 1]).graph
    assert Layers(one.nodes).delta(one["z1"]) == "δ"  # a single layer: just δ
