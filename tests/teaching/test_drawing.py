"""What both diagrams share (tinygraph/teaching/drawing.py): label text, the state drawn, roles, dot."""

import html
import re

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.teaching import drawing


def test_label_text_is_escaped_for_graphviz():
    assert drawing.html_text('a<b> & "c"\nd') == 'a&lt;b&gt; &amp; &quot;c&quot;<BR ALIGN="LEFT"/>d'
    assert drawing.colored("x", "#123456") == '<FONT COLOR="#123456">x</FONT>'
    assert drawing.tooltip("a\\b") == "a\\\\b"


@pytest.mark.graphviz
def test_a_tooltip_shows_a_names_backslashes_as_they_are():
    # Graphviz reads a tooltip's backslashes twice: \N once read is the node's DOT id, \G the graph's.
    names = ["\\N", "a\\G", "b\\\\", "c\\"]
    graph = tg.Graph(*[tg.Sum(tg.Parameter([1.0], name=name), name=f"E{i}") for i, name in enumerate(names)])
    svg = tg.render(graph, format="svg").pipe(format="svg").decode()
    tips = [html.unescape(t) for t in re.findall(r'<a xlink:title="([^"]*)"', svg)]
    assert [t for t in tips if t.startswith("Parameter")] == [f"Parameter '{name}'" for name in names]


def test_the_values_drawn_are_the_nodes_own_or_a_given_state():
    net = tg.mlp([2, 3, 1], seed=0)
    g = net.graph
    g.forward({"x": np.ones((4, 2)), "t": np.ones((4, 1))})
    h = g["h1"]
    assert drawing.value_of(h, {}) is h.value and drawing.grad_of(h, {}) is None
    state = {h: ("v", "g")}
    assert drawing.value_of(h, {"state": state}) == "v" and drawing.grad_of(h, {"state": state}) == "g"
    assert drawing.value_of(g["z1"], {"state": state}) is None  # not in the state: nothing drawn
    assert drawing.batched(g, h, h.value) and np.array_equal(drawing.row(g, h, {}), h.value[0])


def test_roles_come_from_the_nodes():
    net = tg.mlp([2, 2, 1], seed=0)
    g = net.graph
    assert drawing.is_loss(g["E"], g) and not drawing.is_loss(g["o"], g)
    assert [drawing.role_of(g[n], g) for n in ("x", "W1", "z1", "E")] == ["input", "parameter", "operation", "loss"]
    assert drawing.role_of(tg.Constant([1.0]), g) == "constant"


def test_graphviz_not_found_says_how_to_install():
    message = str(drawing.GraphvizNotFound("no dot"))
    assert "apt-get install graphviz" in message and "to_dot() works without it" in message
    assert isinstance(drawing.GraphvizNotFound(), tg.GraphError)
