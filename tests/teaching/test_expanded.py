"""Tests of tinygraph.teaching.expanded: nodes opened up into scalars, read back from the DOT source."""

import html
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.teaching.diagrams import _build
from tinygraph.teaching.expanded import MAX_SCALARS

NUMBER = r"-?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?"
RTOL = 1e-9


# -- reading the drawing back, independently of the code under test -----------------
def scalar_lines(source):
    """{DOT node id: [the label's lines as plain text]} for every node with an HTML label."""
    found = {}
    for line in source.splitlines():
        m = re.match(r"\s*(\w+) \[label=<(.*)>", line)
        if m:
            cells = re.findall(r"<TD[^>]*>(.*?)</TD>", m.group(2))
            found[m.group(1)] = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in cells]
    return found


def shown(lines, start):
    """The number at the end of the line that starts with ``start``."""
    hits = [line for line in lines if line.startswith(start)]
    assert len(hits) == 1, (start, lines)
    return float(re.findall(NUMBER, hits[0])[-1])


def product_of(lines, start):
    """(a, b, a·b) of the line ``start a · b = c``: the numbers of a chain-rule product."""
    hit = next(line for line in lines if line.startswith(start))
    m = re.search(rf"= \(?({NUMBER})\)? · \(?({NUMBER})\)? = ({NUMBER})$", hit)
    assert m, hit
    return tuple(float(v) for v in m.groups())


def edges(source):
    """[(tail, head, attributes text)] of the DOT source."""
    return [(m[1], m[2], m[3]) for m in re.finditer(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$", source, re.M)]


def ident(graph, name):
    return f"n{graph.nodes.index(graph[name])}"


def close(a, b):
    return np.isclose(a, b, rtol=RTOL, atol=1e-300)


def sample0(a, batch):
    return np.asarray(a)[0] if batch else np.asarray(a)


# -- graphs -----------------------------------------------------------------------
def mlp(batch, seed=0):
    net = tg.mlp([2, 3, 1], seed=seed)
    rng = np.random.default_rng(seed)
    shape = (2,) if batch is None else (batch, 2)
    net.graph.forward({"x": rng.normal(size=shape), "t": rng.uniform(size=shape[:-1] + (1,))})
    net.graph.backward()
    return net.graph


def neuron(batch, bias=True, layer=False, activation=tg.Tanh, seed=1):
    """A hand-built graph: x (3 features) → z = x·w (+ b) → y = activation(z) → E."""
    rng = np.random.default_rng(seed)
    x = tg.Input("x", shape=(3,))
    w = tg.Parameter(rng.normal(size=(3, 2) if layer else 3), name="w")
    b = tg.Parameter(rng.normal(size=2 if layer else ()), name="b") if bias else None
    y = activation(tg.WeightedSum(x, w, b, name="z"), name="y")
    t = tg.Input("t", shape=(2,) if layer else ())
    graph = tg.Graph(tg.SquaredLoss(y, t, name="E"))
    shape = (3,) if batch is None else (batch, 3)
    graph.forward({"x": rng.normal(size=shape), "t": rng.uniform(size=shape[:-1] + ((2,) if layer else ()))})
    graph.backward()
    return graph


def check_weighted_sum(graph, lines, z, x, w, b, batch):
    """Every product, weight and sum of the drawing against the engine's arrays."""
    zid, xv = ident(graph, z), sample0(graph[x].value, batch)
    W, delta, value = graph[w].value, sample0(graph[z].grad, batch), sample0(graph[z].value, batch)
    units = [(j,) for j in range(W.shape[1])] if W.ndim == 2 else [()]
    for j in units:
        at = lambda name, index: f"{name}[{','.join(map(str, index))}]" if index else name
        d, dj = float(delta[j]), at("δ", j)
        for i in range(W.shape[0]):
            ij = (i,) + j
            p = lines[f"{zid}_p{'_'.join(map(str, ij))}"]
            assert p[0] == f"{at(x, (i,))}·{at(w, ij)}"
            assert close(shown(p, "value = "), xv[i] * W[ij])
            assert close(shown(p, f"∂E/∂({p[0]}) = {dj} = "), d)
            assert close(shown(p, f"{at(w, ij)} = "), W[ij])
            a, g, c = product_of(p, f"∂E/∂{at(w, ij)} = {at(x, (i,))}·{dj} = ")
            assert close(a, xv[i]) and close(g, d) and close(c, xv[i] * d)
            if batch:  # the gradient of a parameter sums the batch's
                assert close(shown(p, f"Σ over the batch: ∂E/∂{at(w, ij)} = "), graph[w].grad[ij])
            else:
                assert close(c, graph[w].grad[ij])
        s = lines[f"{zid}_s{'_'.join(map(str, j))}"]
        assert s[0] == at(z, j)
        assert close(shown(s, "value = "), value[j])
        assert close(shown(s, f"{dj} = ∂E/∂{at(z, j)} = "), d)
        if b is not None:
            bv, bg = graph[b].value, graph[b].grad
            assert close(shown(s, f"{at(b, j)} = "), bv[j])
            assert close(shown(s, f"∂E/∂{at(b, j)} = {dj} = "), d)
            if batch:
                assert close(shown(s, f"Σ over the batch: ∂E/∂{at(b, j)} = "), bg[j])
            else:
                assert close(d, bg[j])


def check_elementwise(graph, lines, y, z, batch):
    yid, zname = ident(graph, y), z
    value, grad = sample0(graph[y].value, batch), sample0(graph[y].grad, batch)
    zgrad = sample0(graph[z].grad, batch)
    for j in np.ndindex(value.shape):
        at = lambda name: f"{name}[{','.join(map(str, j))}]" if j else name
        e = lines[f"{yid}_e{'_'.join(map(str, j))}"]
        assert e[0] == at(y)
        assert close(shown(e, "value = "), value[j])
        assert close(shown(e, f"∂E/∂{at(y)} = "), grad[j])
        g, local, dz = product_of(e, f"∂E/∂{at(zname)} = ∂E/∂{at(y)} · ")
        assert close(g, grad[j]) and close(dz, zgrad[j]) and close(g * local, zgrad[j])


# -- the numbers: the scalar view is the matrix view, element by element ----------------
@pytest.mark.parametrize("batch", [None, 4])
def test_an_mlp_opened_up_shows_the_engines_numbers(batch):
    graph = mlp(batch)
    lines = scalar_lines(tg.to_dot(graph, expand=["z1", "h1"], precision=12))
    check_weighted_sum(graph, lines, "z1", "x", "W1", "b1", batch)
    check_elementwise(graph, lines, "h1", "z1", batch)
    assert ident(graph, "z1") not in lines and ident(graph, "h1") not in lines  # no box: the frame instead


@pytest.mark.parametrize("batch", [None, 3])
@pytest.mark.parametrize(
    "bias,layer,activation",
    [(True, False, tg.Tanh), (False, False, tg.Logistic), (True, True, tg.ReLU), (False, True, tg.Step)],
)
def test_a_hand_built_graph_opened_up_shows_the_engines_numbers(batch, bias, layer, activation):
    graph = neuron(batch, bias, layer, activation)
    source = tg.to_dot(graph, expand=[graph["z"], "y"], precision=12)
    lines = scalar_lines(source)
    check_weighted_sum(graph, lines, "z", "x", "w", "b" if bias else None, batch)
    check_elementwise(graph, lines, "y", "z", batch)
    products, sums = (6, 2) if layer else (3, 1)
    assert f"opened up into {products + sums} scalars" in source
    assert ("sample 0 (row 0) of a batch of 3" in source) == (batch is not None)


def test_a_hidden_layer_opened_up_says_what_each_product_sends_back():
    graph = mlp(None)
    lines = scalar_lines(tg.to_dot(graph, expand="z2", precision=12))
    W, delta = graph["W2"].value, graph["z2"].grad
    check_weighted_sum(graph, lines, "z2", "h1", "W2", "b2", None)
    sent = np.zeros(3)
    for i in range(3):
        a, d, c = product_of(lines[f"{ident(graph, 'z2')}_p{i}_0"], f"to ∂E/∂h1[{i}]: W2[{i},0]·δ[0] = ")
        assert close(a, W[i, 0]) and close(d, delta[0])
        sent[i] = c
    assert np.allclose(sent, graph["h1"].grad, rtol=RTOL)  # ∂E/∂h1 = δ · W2ᵀ, one product at a time
    assert all(not line.startswith("to ∂E/∂x") for s in lines.values() for line in s)  # x: data, no gradient


def test_a_users_own_elementwise_node_opens_up_too():
    class Square(tg.Elementwise):
        formula, derivative = "y = z²", "∂y/∂z = 2z"

        def forward(self, z):
            self.z = z
            return z * z

        def local(self, out=None):
            return np.multiply(2, self.z, out=out)

    z = tg.Parameter([1.5, -3.0], name="z")
    graph = tg.Graph(tg.Sum(Square(z, name="y"), name="E"))
    graph.forward({})
    graph.backward()
    lines = scalar_lines(tg.to_dot(graph, expand="y", precision=12))
    check_elementwise(graph, lines, "y", "z", None)
    assert "∂y[1]/∂z[1] = 2z[1] = -6" in lines[f"{ident(graph, 'y')}_e1"]


def test_opening_up_leaves_the_nodes_as_they_were():
    graph = mlp(32)  # a batch of 32: the activation keeps arrays of its own between passes
    h = graph["h1"]
    value, kept = h.value.copy(), h.value
    before = {n.name: (np.copy(n.value), None if n.grad is None else np.copy(n.grad)) for n in graph.nodes}
    tg.to_dot(graph, expand=["z1", "h1"])
    assert h.value is kept and np.array_equal(h.value, value)
    for n in graph.nodes:
        assert np.array_equal(n.value, before[n.name][0])
        assert (n.grad is None) == (before[n.name][1] is None)
        assert n.grad is None or np.array_equal(n.grad, before[n.name][1])


# -- the drawing's structure: frames, edges, ids -------------------------------------
def test_frames_and_edges_connect_the_scalars():
    graph = mlp(None)
    source = tg.to_dot(graph, expand=["z1", "h1"])
    x, W1, b1, z1, h1, z2 = (ident(graph, n) for n in ("x", "W1", "b1", "z1", "h1", "z2"))
    found = edges(source)
    for j in range(3):
        assert (f"{z1}_s{j}", f"{h1}_e{j}") in [(t, h) for t, h, _ in found]  # both expanded: element to element
        assert (f"{h1}_e{j}", z2) in [(t, h) for t, h, _ in found]  # into a box: one edge per element
        for i in range(2):
            assert (f"{z1}_p{i}_{j}", f"{z1}_s{j}") in [(t, h) for t, h, _ in found]
            assert any(t == x and h == f"{z1}_p{i}_{j}" and f'label="x[{i}]"' in a for t, h, a in found)
    into = {t: a for t, h, a in found if "lhead" in a}
    assert set(into) == {W1, b1} and all(f"lhead=cluster_{z1}" in a for a in into.values())
    assert f"subgraph cluster_{z1}" in source and f"subgraph cluster_{h1}" in source
    assert "z = x·w + b" in source and "y = σ(z)" in source  # each frame: its name and formula
    assert "rankdir=LR" in source and "fontsize=9" in source


def test_scalar_ids_are_stable_and_steady_sizes_fix_them():
    graph = mlp(2)
    args = (graph, True, True, "graph", None, None, 3, None, None, None, None)
    ids = lambda dot: sorted(m[1] for m in re.finditer(r"^\t+(\w+) \[label", dot.source, re.M))
    first, again = _build(*args, steady={}, expand=["z1", "h1"]), _build(*args, steady={}, expand=["h1", "z1"])
    assert ids(first) == ids(again)
    sizes = {i: (1.5, 0.75) for i in ids(first)}
    steady = _build(*args, steady=sizes, expand=["z1", "h1"]).source
    for i in ids(first):
        assert re.search(rf"^\t+{i} \[.*fixedsize=true.*height=0\.7500.*width=1\.5000", steady, re.M), i
    assert 'COLOR="transparent"' in steady  # every edge keeps room for its ∂E label


def test_highlight_marks_the_frame_and_flow_the_element_edges():
    graph = mlp(None)
    z1, h1, x = ident(graph, "z1"), ident(graph, "h1"), ident(graph, "x")
    source = tg.to_dot(graph, expand=["z1", "h1"], highlight="z1", flow=[("z1", "h1"), ("x", "z1"), ("h1", "z2")])
    frame = source.split(f"subgraph cluster_{z1} {{", 1)[1].split("\n", 2)[:2]
    assert any("#ff8c00" in line for line in frame)
    back = [(t, h, a) for t, h, a in edges(source) if "dir=back" in a]
    assert {(t, h) for t, h, _ in back if t.startswith(f"{z1}_s")} == {(f"{z1}_s{j}", f"{h1}_e{j}") for j in range(3)}
    assert len([1 for t, h, _ in back if t == x]) == 6  # x[i] into each of the 6 products
    assert len([1 for t, h, _ in back if t.startswith(f"{h1}_e")]) == 3  # h1[j] into z2's box
    assert "∂E/∂z1[2]" in source and "∂E/∂x[1]" in source


def test_missing_and_pending_numbers_are_left_out_or_shown_as_dots():
    graph = mlp(None)
    z1 = ident(graph, "z1")
    bare = scalar_lines(tg.to_dot(graph, expand="z1", state={}))[f"{z1}_p0_0"]
    assert bare == ["x[0]·W1[0,0]"]  # the structure alone
    lines = scalar_lines(tg.to_dot(graph, expand="z1", pending_values=["z1"], pending_grads=["z1"]))
    assert "value = …" in lines[f"{z1}_s0"] and "δ[0] = ∂E/∂z1[0] = …" in lines[f"{z1}_s0"]
    state = {n: (n.value, None) for n in graph.nodes}  # a forward step of a trace: no gradients yet
    forward = scalar_lines(tg.to_dot(graph, expand="z1", state=state))[f"{z1}_p0_0"]
    assert any(line.startswith("value = ") for line in forward) and not any("∂E" in line for line in forward)
    quiet = scalar_lines(tg.to_dot(graph, expand="z1", values=False, grads=False))[f"{z1}_s0"]
    assert not any(line.startswith(("value", "δ")) for line in quiet)


# -- errors: checked before anything is drawn ---------------------------------------
def test_a_layer_over_the_limit_is_refused():
    net = tg.mlp([16, 16, 1], seed=0)
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'z1' would draw 272 scalars \(256 products and 16 sums\)"):
        tg.to_dot(net, expand="z1")
    with pytest.raises(tg.GraphError, match=rf"limit of {MAX_SCALARS} for one node"):
        tg.to_dot(net, expand=["z2", "z1"])
    assert "opened up into 17 scalars" in tg.to_dot(net, expand="z2")  # 16 products and one sum


def test_a_node_without_scalars_is_refused():
    net = tg.mlp([2, 3, 1], seed=0)
    with pytest.raises(tg.GraphError, match=r"expand: SquaredLoss 'E' cannot be opened up") as err:
        tg.to_dot(net, expand=["z1", "E"])
    message = str(err.value)
    assert "no scalars method" in message and "WeightedSum" in message
    assert re.search(r"Elementwise \([^)]*Logistic[^)]*ReLU[^)]*Step[^)]*Tanh", message)
    with pytest.raises(tg.GraphError, match=r"Parameter 'W1' cannot be opened up"):
        tg.to_dot(net, expand=net.graph["W1"])


def test_unknown_names_and_wrong_types_are_refused(tmp_path):
    net = tg.mlp([2, 3, 1], seed=0)
    with pytest.raises(tg.GraphError, match=r"expand: no node named 'nope' in this graph \(names: x, W1, b1, z1"):
        tg.to_dot(net, expand=["z1", "nope"])
    with pytest.raises(TypeError, match=r"expand: expected a node, a name or a list of them, got int"):
        tg.to_dot(net, expand=3)
    with pytest.raises(TypeError, match=r"expand: expected a node or a node name, got float"):
        tg.to_dot(net, expand=["z1", 1.5])
    with pytest.raises(tg.GraphError, match=r"expand: WeightedSum '\w+' is not in this graph"):
        tg.to_dot(net, expand=tg.WeightedSum(tg.Input("u", shape=(1,)), tg.Parameter([1.0])))
    with pytest.raises(tg.GraphError, match=r"expand applies to the graph view only, got view='network'"):
        tg.to_dot(net, view="network", expand="z1")
    with pytest.raises(tg.GraphError, match="would draw"):
        tg.render(tg.mlp([16, 16, 1]), tmp_path / "out", expand="z1")
    assert not list(tmp_path.iterdir())  # refused before anything was written


def test_an_unknown_shape_is_refused():
    x = tg.Input("x")  # no shape declared, no forward pass yet
    graph = tg.Graph(tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)), name="w"), name="z"))
    with pytest.raises(tg.GraphError, match=r"expand: WeightedSum 'z': the shape of its input 'x' is not known"):
        tg.to_dot(graph, expand="z")


# -- the node's own structure ---------------------------------------------------------
def test_the_nodes_state_their_scalars():
    net = tg.mlp([2, 3, 1], seed=0)
    z, h = net.graph["z1"], net.graph["h1"]
    structure = z.scalars([(2,), (2, 3), (3,)])
    assert [s.key for s in structure[:3]] == ["p0_0", "p1_0", "s0"]
    assert [s.kind for s in structure].count("product") == 6 and structure[2].after == ("p0_0", "p1_0")
    assert structure[0].inputs == ((0, (0,)),) and structure[0].shows == ((1, (0, 0)),)
    assert structure[2].shows == ((2, (0,)),) and structure[2].output == (0,)
    assert all(s.value is None and s.grad is None for s in structure)
    assert [(s.key, s.inputs, s.output) for s in h.scalars([(3,)])][1] == ("e1", ((0, (1,)),), (1,))


@pytest.mark.graphviz
def test_an_expanded_mlp_renders_to_svg(tmp_path):
    graph = mlp(4)
    dot = tg.render(graph, tmp_path / "expanded", format="svg", expand=["z1", "h1"], flow=[("z1", "h1")])
    root = ET.fromstring((tmp_path / "expanded.svg").read_text(encoding="utf-8"))
    svg = "{http://www.w3.org/2000/svg}"
    titles = {g.find(f"{svg}title").text for g in root.iter(f"{svg}g") if g.get("class") in ("node", "cluster")}
    z1, h1 = ident(graph, "z1"), ident(graph, "h1")
    assert {f"{z1}_p{i}_{j}" for i in range(2) for j in range(3)} | {f"{z1}_s{j}" for j in range(3)} <= titles
    assert {f"{h1}_e{j}" for j in range(3)} | {f"cluster_{z1}", f"cluster_{h1}"} <= titles
    assert (tmp_path / "expanded.dot").read_text(encoding="utf-8") == dot.source
