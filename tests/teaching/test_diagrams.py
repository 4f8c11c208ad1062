"""Tests of tinygraph.diagrams: both views, the numbers they show, highlight/flow, and life without Graphviz."""

import html
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import Node
from tinygraph.teaching import diagrams as R
from tinygraph.teaching import drawing, words

SVG_G = "{http://www.w3.org/2000/svg}g"
SVG_TITLE = "{http://www.w3.org/2000/svg}title"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"


# -- helpers that read the drawings back, independently of the formatter under test -------
NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|-?inf|nan"


def close(shown, actual, precision=3):
    """Is ``shown`` ``actual`` rounded to ``precision`` significant digits?"""
    if actual == 0 or not math.isfinite(actual):
        return shown == actual or (math.isnan(actual) and math.isnan(shown))
    step = 10 ** (math.floor(math.log10(abs(actual))) - precision + 1)
    return abs(shown - actual) <= 0.5 * step * (1 + 1e-9)


def node_labels(source):
    """{node id: label text without markup} from DOT source lines ``id [label=<...> ...]``."""
    labels = {}
    for line in source.splitlines():
        m = re.match(r"\s*(\w+) \[label=<(.*)>", line)
        if m:
            text = re.sub(r"<BR[^>]*>", "\n", m.group(2))
            labels[m.group(1)] = html.unescape(re.sub(r"<[^>]+>", "\x00", text))
    return labels


def shown_array(text, what):
    """The numbers after ``what = `` in a graph-view label (up to the next line of another kind)."""
    part = text.split(f"{what} = ", 1)[1].split("∂E/∂", 1)[0]
    return [float(v) for v in re.findall(NUMBER, part)]


def check_shown(text, what, actual, precision=3):
    """The label shows ``actual`` in full (12 numbers or fewer) or as its mean and norm."""
    actual = np.asarray(actual, dtype=float)
    part = text.split(f"{what} = ", 1)[1]
    if actual.size > 12:
        m = re.match(rf"shape \(([\d, ]*)\): mean ({NUMBER}), norm ({NUMBER})", part)
        assert m, (what, part)
        assert tuple(int(d) for d in m.group(1).replace(",", " ").split()) == actual.shape
        assert close(float(m.group(2)), actual.mean(), precision)
        assert close(float(m.group(3)), np.linalg.norm(actual), precision)
    else:
        shown = shown_array(text, what)
        assert len(shown) == actual.size, (what, shown)
        assert all(close(s, a, precision) for s, a in zip(shown, actual.ravel())), (what, shown, actual)


def svg_nodes(svg):
    root = ET.fromstring(svg)
    return [g.find(SVG_TITLE).text for g in root.iter(SVG_G) if g.get("class") == "node"], " ".join(
        t.text or "" for t in root.iter(SVG_TEXT)
    )


def run(net, rng, batch=None):
    n_in, n_out = net.sizes[0], net.sizes[-1]
    shape = (n_in,) if batch is None else (batch, n_in)
    t = rng.uniform(size=shape[:-1] + (n_out,))
    net.graph.forward({"x": rng.normal(size=shape), "t": t})
    net.graph.backward()
    return net


NETS = {
    "2-3-1": lambda: tg.mlp([2, 3, 1], seed=0),
    "2-3-1 bias=input": lambda: tg.mlp([2, 3, 1], bias="input", seed=0),
    "3-4-4-2": lambda: tg.mlp([3, 4, 4, 2], seed=1),
    "3-4-4-2 bias=input": lambda: tg.mlp([3, 4, 4, 2], bias="input", seed=1),
}


@pytest.fixture(params=list(NETS))
def net(request):
    return run(NETS[request.param](), np.random.default_rng(0))


def neuron_ids(net):
    """The ids the network view gives its circles: L{column}_{index}, L{column}_one for bias inputs."""
    ids = [f"L0_{i}" for i in range(net.sizes[0])]
    for k, n in enumerate(net.sizes[1:], start=1):
        ids += [f"L{k}_{j}" for j in range(n)]
    if net.bias == "input":
        ids += [f"L{k}_one" for k in range(len(net.sizes) - 1)]
    return ids


# -- the graph view ----------------------------------------------------------
def test_graph_view_shows_the_values_and_gradients_the_graph_holds(net):
    labels = node_labels(R.to_dot(net, precision=3))
    assert sorted(labels) == sorted(f"n{i}" for i in range(len(net.graph.nodes)))
    for i, node in enumerate(net.graph.nodes):
        text = labels[f"n{i}"]
        assert node.name in text and node.kind in text
        check_shown(text, "value", node.value)
        if node.grad is not None:
            check_shown(text, f"∂E/∂{node.name}", node.grad)
    assert all(node.formula in labels[f"n{i}"] for i, node in enumerate(net.graph.nodes))


def test_graph_view_precision_changes_the_digits():
    net = run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0))
    labels = node_labels(R.to_dot(net, precision=6))
    w = net.graph["W1"]
    shown = shown_array(labels[f"n{net.graph.nodes.index(w)}"], "value")
    assert all(close(s, a, 6) for s, a in zip(shown, w.value.ravel()))
    assert any(len(re.sub(r"[-.]", "", f"{s}")) > 4 for s in shown)


def test_graph_view_summarises_large_arrays():
    net = run(tg.mlp([64, 32, 10], seed=0), np.random.default_rng(0), batch=5)
    labels = node_labels(R.to_dot(net))
    w = net.graph["W1"]
    text = labels[f"n{net.graph.nodes.index(w)}"]
    check_shown(text, "value", w.value)
    check_shown(text, "∂E/∂W1", w.grad)
    assert "batch of 5" in labels[f"n{net.graph.nodes.index(net.graph['x'])}"]


def test_graph_view_tells_the_kinds_apart_and_has_a_legend():
    source = R.to_dot(tg.mlp([2, 3, 1]))
    shapes = {m.group(1): m.group(2) for m in re.finditer(r"\t(n\d+) \[label=<.*?shape=(\w+)", source)}
    assert len(set(shapes.values())) == 4  # Input, Parameter, operation, loss
    for legend in ("Input (data)", "Parameter (trained)", "operation", "loss", "data flow"):
        assert legend in source
    assert "rankdir=LR" in source


def test_names_with_special_characters_are_escaped():
    x = tg.Input("x<1> & [y,1]", shape=(2,))
    w = tg.Parameter([0.5, -1.0], name='w"q"')
    g = tg.Graph(tg.Logistic(tg.WeightedSum(x, w), name="a.b"))
    g.forward({x: [1.0, 2.0]})
    source = R.to_dot(g)
    assert "x&lt;1&gt; &amp; [y,1&#93;" in source  # (] escaped: Graphviz misreads "]]")
    assert "w&quot;q&quot;" in source


@pytest.mark.graphviz
def test_graph_view_svg_has_one_node_element_per_graph_node(net):
    titles, texts = svg_nodes(R.render(net).pipe(format="svg"))
    assert sorted(titles) == sorted(f"n{i}" for i in range(len(net.graph.nodes)))
    for node in net.graph.nodes:
        assert node.name in texts
    assert "value = " in texts and "∂E/∂W1" in texts


@pytest.mark.graphviz
def test_special_names_render_to_valid_svg():
    x = tg.Input("x<1> & [y,1]", shape=(2,))
    g = tg.Graph(tg.Logistic(tg.WeightedSum(x, tg.Parameter([0.5, -1.0], name="w.1"))))
    g.forward({x: [1.0, 2.0]})
    titles, texts = svg_nodes(R.render(g).pipe(format="svg"))
    assert len(titles) == 4 and "x<1> & [y,1]" in texts


# -- the network view ----------------------------------------------------------
def test_network_view_shows_the_values_weights_and_deltas_the_graph_holds(net):
    source = R.to_dot(net, view="network")
    labels = node_labels(source)
    assert sorted(labels) == sorted(neuron_ids(net))
    columns = [(net.graph["x"], None, None)] + [(layer.out, layer.z, layer.b) for layer in net.layers]
    checked = 0
    for k, (out, z, b) in enumerate(columns):
        for j in range(out.shape[0]):
            text = labels[f"L{k}_{j}"]
            shown = dict(re.findall(rf"(\+b|z|y|x|δ) = ({NUMBER})", text))
            expect = {"x" if k == 0 else "y": out.value[j]}
            if z is not None:
                expect.update({"z": z.value[j], "δ": z.grad[j]})
            if b is not None:
                expect["+b"] = b.value[j]
            assert set(shown) == set(expect), (k, j, text)
            for key, actual in expect.items():
                assert close(float(shown[key]), actual), (k, j, key, shown[key], actual)
                checked += 1
    assert checked >= 3 * sum(net.sizes[1:])
    edges = re.findall(rf"(L\d+_\w+) -> (L\d+_\w+) \[.*tooltip=\"(\w+)\[(\d+),(\d+)\] = ({NUMBER})\"", source)
    n_weights = sum(layer.W.value.size for layer in net.layers)
    assert len(edges) == n_weights
    for tail, _, name, i, j, shown in edges:
        assert close(float(shown), net.graph[name].value[int(i), int(j)])
        assert tail.endswith("_one") == (net.bias == "input" and int(i) == net.graph[name].value.shape[0] - 1)


def test_network_view_labels_weights_on_small_networks_only():
    small = R.to_dot(run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0)), view="network")
    w = tg.mlp([2, 3, 1], seed=0).graph["W1"].value
    labels = [float(v) for v in re.findall(rf"taillabel=<<TABLE[^>]*><TR><TD>({NUMBER})</TD>", small)]
    assert len(labels) == 9 and close(labels[0], w[0, 0])
    big = R.to_dot(run(tg.mlp([3, 4, 4, 2], seed=0), np.random.default_rng(0)), view="network")
    assert "taillabel" not in big and "penwidth" in big


def test_network_view_of_a_batch_shows_the_first_sample():
    net = run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0), batch=4)
    source = R.to_dot(net, view="network")
    assert "batch of 4: showing the first sample (row 0)" in source
    y = float(re.search(rf"y = ({NUMBER})", node_labels(source)["L1_0"]).group(1))
    assert close(y, net.graph["h1"].value[0, 0])


def test_network_view_before_any_forward_pass_draws_the_structure():
    source = R.to_dot(tg.mlp([2, 3, 1]), view="network")
    labels = node_labels(source)
    assert sorted(labels) == sorted(neuron_ids(tg.mlp([2, 3, 1])))
    assert "y = " not in source and "δ = " not in source and "+b = 0" in source


def test_values_and_grads_can_be_left_out():
    net = run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0))
    for view in ("graph", "network"):
        assert "∂E/∂" not in R.to_dot(net, view=view, grads=False)
        assert "value = " not in R.to_dot(net, view=view, values=False)
    assert "y = " not in R.to_dot(net, view="network", values=False)


def test_network_view_of_layers_made_with_dense():
    x, t = tg.Input("x", shape=(3,)), tg.Input("t", shape=(2,))
    h = tg.dense(x, 4, seed=0, name="hidden")
    o = tg.dense(h, 2, activation=tg.Tanh, seed=1, name="out")
    g = tg.Graph(tg.SquaredLoss(o, t, name="E"))
    g.forward({x: [1.0, 2.0, 3.0], t: [0.0, 1.0]})
    g.backward()
    labels = node_labels(R.to_dot(g, view="network"))
    assert len(labels) == 3 + 4 + 2
    assert "hidden[3]" in labels["L1_3"] and "out[1]" in labels["L2_1"]


def test_network_view_of_a_softmax_network():
    net = tg.mlp([3, 4, 3], loss=tg.SoftmaxCrossEntropy, seed=0)
    net.graph.forward({"x": [0.1, 0.2, 0.3], "t": [0.0, 1.0, 0.0]})
    net.graph.backward()
    source = R.to_dot(net, view="network")
    y = [float(re.search(rf"y = ({NUMBER})", node_labels(source)[f"L2_{j}"]).group(1)) for j in range(3)]
    assert all(close(s, a) for s, a in zip(y, net.output.value)) and "SoftmaxCrossEntropy E = " in source


def test_network_view_of_a_single_neuron_perceptron():
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=())
    z = tg.WeightedSum(x, tg.Parameter([0.5, -1.0], name="w"), tg.Parameter(0.25, name="b"), name="z")
    g = tg.Graph(tg.SquaredLoss(tg.Step(z, name="y"), t, name="E"))
    g.forward({x: [1.0, 2.0], t: 1.0})
    g.backward()
    source = R.to_dot(g, view="network")
    labels = node_labels(source)
    assert sorted(labels) == ["L0_0", "L0_1", "L1_0"]
    assert "z = -1.25" in labels["L1_0"] and "y = 0" in labels["L1_0"] and "+b = 0.25" in labels["L1_0"]
    assert re.findall(r'tooltip="(w\[\d,0\] = -?[\d.]+)"', source) == ["w[0,0] = 0.5", "w[1,0] = -1"]


def test_nodes_without_values_still_draw():
    net = run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0))
    nothing = {}  # as when a trace shows a step before anything was computed
    graph, network = R.to_dot(net, state=nothing), R.to_dot(net, view="network", state=nothing)
    assert "value = " not in graph and "∂E/∂h1" not in graph and len(node_labels(graph)) == 11
    assert "y = " not in network and "δ = " not in network and len(node_labels(network)) == 6


def test_wide_layers_are_condensed():
    net = run(tg.mlp([64, 32, 10], seed=0), np.random.default_rng(0))
    source = R.to_dot(net, view="network")
    labels = node_labels(source)
    expected = (
        [f"L0_{i}" for i in (0, 1, 2, 63)]
        + [f"L1_{j}" for j in (0, 1, 2, 31)]
        + [f"L2_{j}" for j in range(10)]
        + ["L0_more", "L1_more"]
    )
    assert sorted(labels) == sorted(expected)
    assert "⋮" in labels["L0_more"]
    assert "60 more" in labels["L0_more"] and "28 more" in labels["L1_more"]
    edges = re.findall(r"(L\d+_\w+) -> (L\d+_\w+) \[", source)
    assert len(edges) == 4 * 4 + 4 * 10
    assert not any("more" in a or "more" in b for a, b in edges)


@pytest.mark.graphviz
def test_network_view_svg_has_one_node_element_per_neuron(net):
    titles, texts = svg_nodes(R.render(net, view="network").pipe(format="svg"))
    assert sorted(titles) == sorted(neuron_ids(net))
    assert "δ = " in texts and "y = " in texts and "hidden layer 1" in texts


@pytest.mark.graphviz
def test_condensed_svg_counts_the_drawn_neurons_and_marks():
    net = run(tg.mlp([64, 32, 10], seed=0), np.random.default_rng(0))
    titles, texts = svg_nodes(R.render(net, view="network").pipe(format="svg"))
    assert len(titles) == 4 + 4 + 10 + 2 and "60 more" in texts


# -- highlight and flow ----------------------------------------------------------
def node_line(source, node_id):
    return next(line for line in source.splitlines() if re.match(rf"\s*{node_id} \[", line))


def test_highlight_by_name_node_or_list():
    net = tg.mlp([2, 3, 1])
    index = {n.name: i for i, n in enumerate(net.graph.nodes)}
    for highlight in ("W1", net.graph["W1"], ["W1", net.graph["h1"]]):
        source = R.to_dot(net, highlight=highlight)
        assert drawing.HIGHLIGHT in node_line(source, f"n{index['W1']}")
        assert drawing.HIGHLIGHT not in node_line(source, f"n{index['x']}")
    assert drawing.HIGHLIGHT in node_line(R.to_dot(net, highlight=["W1", "h1"]), f"n{index['h1']}")
    with pytest.raises(tg.GraphError, match="no node named 'nope'"):
        R.to_dot(net, highlight="nope")
    with pytest.raises(tg.GraphError, match="not in this graph"):
        R.to_dot(net, highlight=tg.Input("x"))


def test_highlight_in_the_network_view():
    net = tg.mlp([2, 3, 1])
    source = R.to_dot(net, view="network", highlight=["h1", "W2"])
    assert all(drawing.HIGHLIGHT in node_line(source, f"L1_{j}") for j in range(3))
    assert drawing.HIGHLIGHT not in node_line(source, "L0_0")
    into_output = [line for line in source.splitlines() if "-> L2_0" in line]
    assert len(into_output) == 3 and all(drawing.HIGHLIGHT in line for line in into_output)
    assert not any(drawing.HIGHLIGHT in line for line in source.splitlines() if "-> L1_" in line)


def test_flow_marks_edges_as_gradients_flowing_back():
    net = run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0))
    index = {n.name: i for i, n in enumerate(net.graph.nodes)}
    for flow in ([("h1", "z2")], [("z2", "h1")], ("h1", "z2"), [(net.graph["h1"], net.graph["z2"])]):
        source = R.to_dot(net, flow=flow)
        line = next(line for line in source.splitlines() if f"n{index['h1']} -> n{index['z2']}" in line)
        assert "dir=back" in line and drawing.GRAD in line and "∂E/∂h1" in line
        assert sum("dir=back" in line for line in source.splitlines()) == 1
    with pytest.raises(tg.GraphError, match="no edge between"):
        R.to_dot(net, flow=[("x", "o")])
    with pytest.raises(TypeError, match="pairs"):
        R.to_dot(net, flow=["x", "o", "E"])


def test_flow_in_the_network_view():
    net = run(tg.mlp([2, 3, 1], bias="input", seed=0), np.random.default_rng(0))
    source = R.to_dot(net, view="network", flow=[("[h1,1]", "z2"), ("z1", "h1")])
    lines = source.splitlines()
    back = [line for line in lines if "dir=back" in line]
    assert len(back) == 1 and back[0].lstrip().startswith("L1_one -> L2_0")
    assert all(drawing.GRAD in node_line(source, f"L1_{j}") for j in range(3))
    everything = R.to_dot(net, view="network", flow=[("W2", "z2"), ("x", "[x,1]"), ("o", "E")])
    assert sum("dir=back" in line for line in everything.splitlines()) == 4
    assert drawing.GRAD in node_line(everything, "L2_0") and drawing.GRAD in node_line(everything, "L0_1")


# -- graphs that are not layered networks ------------------------------------------------
class Add(Node):
    """y = a + b (a test node that lets two branches meet)."""

    formula = "y = a + b"

    def infer_shape(self, a, b):
        return a

    def forward(self, a, b):
        return a + b

    def backward(self, grad_out):
        return grad_out, grad_out


def branching_graph():
    rng = np.random.default_rng(0)
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(3,))
    za = tg.WeightedSum(x, tg.Parameter(rng.normal(size=(2, 3)), name="Wa"), name="za")
    zb = tg.WeightedSum(x, tg.Parameter(rng.normal(size=(2, 3)), name="Wb"), name="zb")
    g = tg.Graph(tg.SquaredLoss(tg.Logistic(Add(za, zb, name="sum")), t, name="E"))
    g.forward({x: [1.0, -1.0], t: [0.0, 1.0, 0.0]})
    g.backward()
    return g


def test_a_branching_graph_falls_back_to_the_graph_view_with_a_note():
    g = branching_graph()
    with pytest.warns(UserWarning, match="not a layered network"):
        source = R.to_dot(g, view="network")
    assert "not a layered network: showing the computational graph" in source
    assert "Input 'x' feeds 2 nodes: 'za', 'zb'" in html.unescape(source)
    assert sorted(node_labels(source)) == sorted(f"n{i}" for i in range(len(g.nodes)))


def test_other_graphs_that_are_not_layered():
    x = tg.Input("x", shape=(2,))
    lonely = tg.Graph(tg.Logistic(tg.Input("z", shape=(2,))))
    shared = tg.Parameter(np.ones((2, 2)), name="W")
    tied = tg.Graph(tg.WeightedSum(tg.Logistic(tg.WeightedSum(x, shared)), shared))
    for g in (lonely, tied):
        with pytest.warns(UserWarning, match="not a layered network"):
            assert "not a layered network" in R.to_dot(g, view="network")


@pytest.mark.graphviz
def test_fallback_svg_has_one_node_element_per_graph_node():
    g = branching_graph()
    with pytest.warns(UserWarning):
        titles, texts = svg_nodes(R.render(g, view="network").pipe(format="svg"))
    assert len(titles) == len(g.nodes) and "not a layered network" in texts


# -- files, formats, errors, Jupyter ----------------------------------------------------
@pytest.mark.graphviz
@pytest.mark.parametrize("fmt, magic", [("svg", b"<?xml"), ("png", b"\x89PNG"), ("pdf", b"%PDF")])
def test_render_writes_the_drawing_and_the_dot_source(tmp_path, fmt, magic):
    net = run(tg.mlp([2, 2, 1], seed=0), np.random.default_rng(0))
    dot = R.render(net, tmp_path / "sub" / "xor", format=fmt, view="network")
    assert (tmp_path / "sub" / f"xor.{fmt}").read_bytes().startswith(magic)
    assert (tmp_path / "sub" / "xor.dot").read_text(encoding="utf-8") == dot.source
    R.render(net, str(tmp_path / f"graph.{fmt}"), format=fmt)
    assert (tmp_path / f"graph.{fmt}").exists() and (tmp_path / "graph.dot").exists()


def test_render_checks_its_arguments(tmp_path):
    net = tg.mlp([2, 2, 1])
    with pytest.raises(tg.GraphError, match="ends in .png but format is 'svg'"):
        R.render(net, tmp_path / "a.png")
    with pytest.raises(tg.GraphError, match="format must be one of"):
        R.render(net, tmp_path / "a", format="jpg")
    with pytest.raises(tg.GraphError, match=r"format must be one of \('svg', 'png', 'pdf'\), got 'jpg'"):
        R.render(net, format="jpg")  # no path: still refused, never taken silently
    with pytest.raises(tg.GraphError, match="view must be one of"):
        R.to_dot(net, view="tree")
    with pytest.raises(tg.GraphError, match="precision"):
        R.to_dot(net, precision=0)
    with pytest.raises(TypeError, match="render: expected a tinygraph Graph or Network, got list"):
        R.to_dot([1, 2])
    assert not list(tmp_path.iterdir())


def test_a_graph_or_a_network_give_the_same_drawing():
    net = tg.mlp([2, 2, 1])
    assert R.to_dot(net) == R.to_dot(net.graph)
    assert isinstance(R.render(net), R.graphviz.Digraph)


@pytest.mark.graphviz
def test_repr_mimebundle_gives_svg():
    bundle = R.mimebundle(tg.mlp([2, 2, 1]).graph)
    titles, _ = svg_nodes(bundle["image/svg+xml"].encode("utf-8"))
    assert len(titles) == 11
    assert R.mimebundle(tg.mlp([2, 2, 1]).graph, exclude=["image/svg+xml"])["text/plain"].startswith("Graph(")


def test_without_the_dot_program(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere on PATH
    net = run(tg.mlp([2, 2, 1], seed=0), np.random.default_rng(0))
    assert drawing.dot_available() is False
    with pytest.raises(tg.GraphvizNotFound) as caught:
        R.render(net, tmp_path / "out")
    assert isinstance(caught.value, tg.GraphError)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in str(caught.value)
    assert "n0 [label=<" in R.to_dot(net) and "L0_0 [label=<" in R.to_dot(net, view="network")
    assert R.mimebundle(net.graph) == {"text/plain": repr(net.graph)}
    assert not (tmp_path / "out.svg").exists()


def test_without_the_dot_program_simulated(monkeypatch):
    def missing(*args, **kwargs):
        raise R.graphviz.ExecutableNotFound(("dot",))

    monkeypatch.setattr(R.graphviz.Digraph, "pipe", missing)
    monkeypatch.setattr(R.graphviz, "version", missing)
    assert drawing.dot_available() is False
    with pytest.raises(tg.GraphError, match="apt-get install graphviz"):
        R.render(tg.mlp([2, 2, 1]), "unused", format="png")


@pytest.mark.graphviz
def test_dot_available():
    assert drawing.dot_available() is True


# -- number formatting ----------------------------------------------------------------
@pytest.mark.parametrize(
    "value, text",
    [
        (0.0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-0.123456, "-0.123"),
        (123456.0, "1.23e5"),
        (1.5e-5, "1.5e-5"),
        (float("nan"), "nan"),
        (float("-inf"), "-inf"),
        (True, "1"),
        ([1, 2.5], "[1, 2.5]"),
        ([[1, 2], [3, 4]], "[[1, 2],\n [3, 4]]"),
        (np.arange(8), "[0, 1, 2, 3, 4, 5,\n 6, 7]"),
        (np.ones((4, 4)), "shape (4, 4): mean 1, norm 4"),
    ],
)
def test_format_array(value, text):
    assert words.format_array(value) == text


def test_format_array_precision_and_size_limit():
    assert words.format_array(np.pi, precision=5) == "3.1416"
    assert words.format_array(np.arange(3), max_elements=2) == "shape (3,): mean 1, norm 2.24"
    assert words.format_array(np.zeros((0, 3))) == "[]"


@pytest.mark.graphviz
def test_a_network_displays_in_jupyter_as_its_network_view():
    net = run(tg.mlp([2, 3, 1], seed=0), np.random.default_rng(0))
    bundle = net._repr_mimebundle_()
    assert bundle["image/svg+xml"] == R.mimebundle(net, view="network")["image/svg+xml"]
    assert "hidden layer 1" in bundle["image/svg+xml"]  # the neuron view, not the graph view
    assert net._repr_mimebundle_(exclude=["image/svg+xml"]) == {"text/plain": repr(net)}


def test_without_the_dot_program_a_network_and_a_trace_display_their_text(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no dot anywhere on PATH
    net = run(tg.mlp([2, 2, 1], seed=0), np.random.default_rng(0))
    assert net._repr_mimebundle_() == {"text/plain": repr(net)}
    X, T = tg.datasets.xor()
    trace = tg.trace(net.graph, {net.input: X[1], net.target: T[1:2]})
    shown = trace._repr_html_()
    assert "The diagrams need Graphviz" in shown and "apt-get install graphviz" in shown
    import html

    assert html.escape(str(trace)) in shown  # every step's text, escaped
