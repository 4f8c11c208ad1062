"""Diagrams of a Graph with Graphviz: the computational graph and the textbook network drawing."""

import html
import inspect
import warnings
from collections import namedtuple
from pathlib import Path

import graphviz
import numpy as np

from .errors import GraphError
from .graph import graph_of
from .losses import _Loss
from .node import Constant, Input, Node, Parameter
from .ops import AppendOne, WeightedSum

FORMATS = ("svg", "png", "pdf")
VIEWS = ("graph", "network")
FONT = "Helvetica,Arial,sans-serif"
GRAD = "#7b2cbf"                            # gradients: their numbers and "gradient flowing" edges
HIGHLIGHT = "#ff8c00"                       # emphasised nodes
POSITIVE, NEGATIVE = "#1f5fbf", "#d62728"   # weight signs in the network view
MAX_COLUMN, SHOW_FIRST = 16, 3              # wider layers: first 3 neurons, "⋮ N more", the last
MAX_LABELLED_WEIGHTS, MAX_LABELLED_FANOUT = 40, 3  # beyond these, weights are shown by width only

# The roles of a node in the graph view: legend text, shape, style, fill and border colour.
_STYLE = {
    "input": ("Input (data)", "cds", "filled", "#dbeafe", "#1d4ed8"),
    "parameter": ("Parameter (trained)", "cylinder", "filled", "#fef3c7", "#b45309"),
    "constant": ("Constant (fixed)", "box", "filled,dashed", "#f3f4f6", "#6b7280"),
    "operation": ("operation", "box", "filled,rounded", "#ecfdf5", "#047857"),
    "loss": ("loss", "doubleoctagon", "filled", "#fee2e2", "#b91c1c"),
}


class GraphvizNotFound(GraphError):
    """The Graphviz program ``dot``, needed to draw (not to make DOT source), is not installed."""

    def __init__(self, detail=""):
        super().__init__("drawing needs the Graphviz program 'dot', which was not found"
                         f"{f' ({detail})' if detail else ''}; install Graphviz with "
                         "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
                         "or `conda install graphviz`. to_dot() works without it.")


def dot_available():
    """True when the Graphviz program ``dot`` can be run."""
    try:
        graphviz.version()
    except (graphviz.ExecutableNotFound, OSError, RuntimeError):
        return False
    return True


def format_array(a, precision=3, max_elements=12):
    """A short readable string: ``precision`` significant digits, 6 numbers a line, rows on lines.

    An array of more than ``max_elements`` numbers becomes its shape, mean and norm.

    >>> format_array([[0.5, -1.25], [3, 1e-5]])
    '[[0.5, -1.25],\\n [3, 1e-5]]'
    >>> format_array(np.ones(100))
    'shape (100,): mean 1, norm 10'
    """
    a = np.asarray(a, dtype=float)
    if a.size > max_elements:
        mean, norm = _number(a.mean(), precision), _number(np.linalg.norm(a), precision)
        return f"shape {a.shape}: mean {mean}, norm {norm}"
    if a.ndim == 0:
        return _number(a, precision)
    if a.ndim == 1:
        numbers = [_number(x, precision) for x in a]
        return "[" + ",\n ".join(", ".join(numbers[i:i + 6]) for i in range(0, max(len(a), 1), 6)) + "]"
    return "[" + ",\n ".join(format_array(row, precision, max_elements).replace("\n", "\n ") for row in a) + "]"


def _number(x, precision):
    x = float(x)
    if x == 0:
        return "0"  # also for -0.0
    text = f"{x:.{precision}g}"
    if "e" in text:  # 1.5e-05 -> 1.5e-5
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


# -- public entry points -----------------------------------------------------
def to_dot(graph, values=True, grads=True, view="graph", highlight=None, flow=None, precision=3,
           title=None, pending_values=None, pending_grads=None):
    """The DOT source of the drawing ``render`` makes (needs no Graphviz program)."""
    return _build(graph, values, grads, view, highlight, flow, precision, title,
                  pending_values, pending_grads).source


def render(graph, path=None, format="svg", values=True, grads=True, view="graph", highlight=None,
           flow=None, precision=3, title=None, pending_values=None, pending_grads=None):
    """Draw ``graph`` (a Graph, or anything with a ``.graph`` such as an ``mlp`` Network).

    Returns a ``graphviz.Digraph``; with ``path`` (``"out/xor"`` or ``"out/xor.svg"``) also writes
    the drawing (``format`` svg, png or pdf) and its DOT source (``out/xor.dot``), raising
    GraphvizNotFound (a GraphError) if the ``dot`` program is missing.

    ``view="graph"``: a box per node: name, kind, per-sample shape, formula and, once
    computed, value and gradient ∂E/∂node (more than 12 numbers: shape, mean, norm).
    Shape and colour tell Inputs, Parameters, Constants, operations and the loss apart.

    ``view="network"``: the textbook drawing of a chain Input → [AppendOne] → WeightedSum →
    [activation] → …: a circle per neuron with z, y and δ = ∂E/∂z (of a batch, the first
    sample), an edge per weight (blue +, red −, width ∝ |w|), the bias as "+b" in the neuron
    or, with AppendOne, a dashed constant-1 neuron; layers over 16 wide are condensed.  Any
    other graph is drawn as the graph view under a visible note "not a layered network",
    with a ``UserWarning`` (no error).

    ``highlight``: nodes or names to draw with a thick orange border (network view: their
    neurons, or a weight matrix's edges).  ``flow``: (from, to) pairs of nodes or names, in
    either order, naming graph edges to draw as gradient flowing back (thick purple,
    arrow towards the input, labelled ∂E/∂input; network view: the weight edges into that
    layer, or the neurons when the edge lies inside a column).

    ``pending_values``/``pending_grads``: nodes whose value or gradient is still to come
    (graph view): drawn as "…", so that boxes keep their size from one step to the next.
    """
    dot = _build(graph, values, grads, view, highlight, flow, precision, title,
                 pending_values, pending_grads)
    if path is not None:
        if format not in FORMATS:
            raise GraphError(f"render: format must be one of {FORMATS}, got {format!r}")
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in [f".{f}" for f in FORMATS + ("dot", "gv")]:
            if suffix != f".{format}":
                raise GraphError(f"render: path '{path}' ends in {suffix} but format is {format!r}; "
                                 f"give the path without an extension or with .{format}")
            path = path.with_suffix("")
        data = pipe(dot, format)
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{path}.{format}").write_bytes(data)
        Path(f"{path}.dot").write_text(dot.source, encoding="utf-8")
    return dot


def _repr_mimebundle_(graph, include=None, exclude=None):
    """Jupyter display: the graph view as SVG when Graphviz is installed, else the repr."""
    if (include is None or "image/svg+xml" in include) and "image/svg+xml" not in (exclude or ()):
        try:
            return {"image/svg+xml": pipe(render(graph), "svg").decode("utf-8")}
        except GraphvizNotFound:
            pass
    return {"text/plain": repr(graph)}


def pipe(dot, format):
    """The bytes of a drawn ``graphviz.Digraph`` (GraphvizNotFound when ``dot`` is missing)."""
    try:
        return dot.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFound(str(exc)) from None


# -- shared pieces -------------------------------------------------------------
def _build(graph, values, grads, view, highlight, flow, precision, title,
           pending_values=None, pending_grads=None):
    graph = graph_of(graph, "render")
    if view not in VIEWS:
        raise GraphError(f"render: view must be one of {VIEWS}, got {view!r}")
    if isinstance(precision, bool) or not isinstance(precision, (int, np.integer)) or precision < 1:
        raise GraphError(f"render: precision must be a whole number >= 1, got {precision!r}")
    opts = dict(values=values, grads=grads, precision=int(precision), title=title,
                highlight=_highlights(graph, highlight), flow=_flows(graph, flow),
                pending_values=_highlights(graph, pending_values),
                pending_grads=_highlights(graph, pending_grads))
    dot = graphviz.Digraph("tinygraph", graph_attr=dict(
        rankdir="LR", fontname=FONT, labelloc="t", nodesep="0.25", ranksep="0.5", bgcolor="white"),
        node_attr=dict(fontname=FONT, fontsize="11"), edge_attr=dict(fontname=FONT, fontsize="9"))
    if view == "network":
        try:
            layers = _find_layers(graph)
        except _NotLayered as exc:
            note = f"not a layered network: showing the computational graph ({exc})"
            warnings.warn(f"render(view='network'): {note}", stacklevel=3)
            _graph_view(dot, graph, opts, note)
        else:
            _network_view(dot, graph, layers, opts)
    else:
        _graph_view(dot, graph, opts, None)
    return dot


def _resolve(graph, item, what):
    if not isinstance(item, (Node, str)):
        raise TypeError(f"{what}: expected a node or a node name, got {type(item).__name__}")
    if isinstance(item, Node) and item not in graph:
        raise GraphError(f"{what}: {item.kind} '{item.name}' is not in this graph")
    if isinstance(item, str) and item not in graph:
        raise GraphError(f"{what}: no node named {item!r} in this graph "
                         f"(names: {', '.join(n.name for n in graph)})")
    return item if isinstance(item, Node) else graph[item]


def _highlights(graph, highlight):
    items = [] if highlight is None else [highlight] if isinstance(highlight, (Node, str)) else highlight
    return {id(_resolve(graph, item, "highlight")) for item in items}


def _flows(graph, flow):
    """{(id(input), id(consumer))}: each pair names an edge of the graph, in either order."""
    flow = [] if flow is None else list(flow)
    if len(flow) == 2 and all(isinstance(i, (Node, str)) for i in flow):
        flow = [flow]  # one pair given on its own
    edges = set()
    for pair in flow:
        if isinstance(pair, (Node, str)) or len(pair) != 2:
            raise TypeError(f"flow: expected (from_node, to_node) pairs, got {pair!r}")
        a, b = (_resolve(graph, item, "flow") for item in pair)
        if not any(i is a for i in b.inputs):
            a, b = b, a
        if not any(i is a for i in b.inputs):
            raise GraphError(f"flow: no edge between {a.kind} '{a.name}' and {b.kind} '{b.name}'")
        edges.add((id(a), id(b)))
    return edges


def _is_loss(node, graph):
    return isinstance(node, _Loss) or (node is graph.outputs[0] and node.shape == ())


def _text(s):
    """Text for an HTML-like label: escaped, newlines as left-aligned line breaks."""
    return html.escape(str(s)).replace("\n", '<BR ALIGN="LEFT"/>')


def _colored(text, color):
    return f'<FONT COLOR="{color}">{_text(text)}</FONT>'


def _tooltip(s):
    return str(s).replace("\\", "\\\\")


def _batched(node, a):
    return node.shape is not None and np.ndim(a) > len(node.shape)


def _row(node, grad=False):
    """The node's value (or gradient) of one sample (row 0 of a batch), flat; None if absent."""
    a = None if node is None else node.grad if grad else node.value
    if a is None:
        return None
    return (a[0] if _batched(node, a) else np.asarray(a)).reshape(-1)


def _label(rows, title, note):
    """The top label (title, note, legend rows) as one HTML table: it adds no nodes."""
    cells = [f'<TD><FONT POINT-SIZE="16"><B>{_text(title)}</B></FONT></TD>'] if title else []
    cells += [f'<TD BGCOLOR="#fff3cd"><FONT COLOR="#8a4b00">⚠ {_text(note)}</FONT></TD>'] if note else []
    cells += [f'<TD><FONT POINT-SIZE="10" COLOR="#333333">{row}</FONT></TD>' for row in rows]
    return f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2"><TR>{"</TR><TR>".join(cells)}</TR></TABLE>>'


# -- the computational graph -------------------------------------------------
def _role(node, graph):
    if _is_loss(node, graph):
        return "loss"
    if isinstance(node, Input):
        return "input"
    if isinstance(node, Parameter):
        return "parameter"
    return "constant" if isinstance(node, Constant) or not node.inputs else "operation"


def _input_names(node):
    """The argument names of ``node.forward`` (x, w, b …), to label its in-edges; or None."""
    params = list(inspect.signature(node.forward).parameters.values())[:len(node.inputs)]
    if len(node.inputs) > 1 and len(params) == len(node.inputs) and \
            all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params):
        return [p.name for p in params]
    return None


def _node_label(node, opts):
    shape = "?" if node.shape is None else "scalar" if node.shape == () else str(node.shape)
    about = f"{node.kind} · {shape}"
    if node.value is not None and _batched(node, node.value):
        about += f" · batch of {len(node.value)}"
    head = [f"<B>{_text(node.name)}</B>", f'<FONT POINT-SIZE="9" COLOR="#555555">{_text(about)}</FONT>']
    if node.formula:
        head.append(f'<FONT POINT-SIZE="9"><I>{_text(node.formula)}</I></FONT>')
    body = []
    if opts["values"] and node.value is not None:
        body.append(f"value = {_text(format_array(node.value, opts['precision']))}")
    elif opts["values"] and id(node) in opts["pending_values"]:
        body.append("value = …")
    if opts["grads"] and node.grad is not None:
        body.append(_colored(f"∂E/∂{node.name} = {format_array(node.grad, opts['precision'])}", GRAD))
    elif opts["grads"] and id(node) in opts["pending_grads"]:
        body.append(_colored(f"∂E/∂{node.name} = …", GRAD))
    rows = [f"<TR><TD>{r}</TD></TR>" for r in head] + \
        [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in body]
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def _graph_view(dot, graph, opts, note):
    ids = {id(n): f"n{i}" for i, n in enumerate(graph.nodes)}
    roles = [_role(n, graph) for n in graph.nodes]
    for node, role in zip(graph.nodes, roles):
        _, shape, style, fill, color = _STYLE[role]
        attrs = dict(shape=shape, style=style, fillcolor=fill, color=color)
        if shape == "cds":
            attrs["margin"] = "0.2,0.1"  # keeps the label clear of the pointed end
        if id(node) in opts["highlight"]:
            attrs.update(color=HIGHLIGHT, penwidth="3.5")
        dot.node(ids[id(node)], _node_label(node, opts), tooltip=_tooltip(f"{node.kind} '{node.name}'"),
                 **attrs)
    for node in graph.nodes:
        names = _input_names(node)
        for k, inp in enumerate(node.inputs):
            attrs = dict(color="#555555", arrowsize="0.7")
            if names and names[k] != inp.name:  # the role of the input: x, w, b, t …
                attrs.update(label=names[k], fontcolor="#555555")
            if (id(inp), id(node)) in opts["flow"]:
                attrs.update(color=GRAD, fontcolor=GRAD, penwidth="3", dir="back", arrowsize="1",
                             label=f"∂E/∂{inp.name}", fontsize="11")
            dot.edge(ids[id(inp)], ids[id(node)], **attrs)
    rounded = ' STYLE="rounded"'
    chips = "".join(f'<TD BGCOLOR="{fill}" COLOR="{color}" BORDER="1"{rounded * ("rounded" in style)}>'
                    f'{_text(text)}</TD>' for role, (text, _, style, fill, color) in _STYLE.items() if role in roles)
    rows = [f'<TABLE BORDER="0" CELLSPACING="4"><TR>{chips}</TR></TABLE>',
            "arrows: data flow (forward pass); gradients flow backwards, against the arrows"]
    extra = []
    if opts["grads"] and any(n.grad is not None for n in graph.nodes):
        extra.append(_colored("∂E/∂n: gradient of the loss E with respect to node n (backward pass)", GRAD))
    if opts["highlight"]:
        extra.append(_colored("orange border: highlighted", HIGHLIGHT))
    if opts["flow"]:
        extra.append(_colored("thick purple edge: gradient flowing back", GRAD))
    dot.attr(label=_label(rows + ([" · ".join(extra)] if extra else []), opts["title"], note))


# -- the layered network -------------------------------------------------------
_Layer = namedtuple("_Layer", "source one W b z act")  # one: the AppendOne node, or None


class _NotLayered(Exception):
    pass


def _find_layers(graph):
    """The _Layers of a chain Input → [AppendOne] → WeightedSum → [activation] → …, in order."""
    def next_nodes(node):
        return [c for c in graph.consumers(node) if isinstance(c, WeightedSum) or not _is_loss(c, graph)]

    starts = [i for i in graph.inputs if any(isinstance(c, (WeightedSum, AppendOne)) for c in next_nodes(i))]
    if len(starts) != 1:
        raise _NotLayered(f"{len(starts)} Inputs feed a WeightedSum; a layered network has one")
    cur = starts[0]
    if cur.shape is None or len(cur.shape) != 1:
        raise _NotLayered(f"Input '{cur.name}' is not a vector of features")
    layers = []
    while next_nodes(cur):
        after = next_nodes(cur)
        if len(after) != 1:
            raise _NotLayered(f"{cur.kind} '{cur.name}' feeds {len(after)} nodes: "
                              + ", ".join(f"'{n.name}'" for n in after))
        one = after[0] if isinstance(after[0], AppendOne) else None
        z = (next_nodes(one) + [None])[0] if one else after[0]
        W = z.inputs[1] if isinstance(z, WeightedSum) else None
        b = z.inputs[2] if W is not None and len(z.inputs) == 3 else None
        if W is None or z.inputs[0] is not (one or cur) or not isinstance(W, Parameter) or \
                len(W.shape) not in (1, 2) or not isinstance(b, (Parameter, type(None))):
            raise _NotLayered(f"'{(one or cur).name}' is not followed by a WeightedSum with Parameter weights")
        if any(len(graph.consumers(p)) > 1 for p in (W, b) if p is not None):
            raise _NotLayered(f"the weights of '{z.name}' are shared with another node")
        act = next_nodes(z)
        act = act[0] if len(act) == 1 and len(act[0].inputs) == 1 and act[0].shape == z.shape \
            and not isinstance(act[0], (WeightedSum, AppendOne)) else None
        layers.append(_Layer(cur, one, W, b, z, act))
        cur = act or z
    if not layers:
        raise _NotLayered("no WeightedSum layers")
    inside = {id(layers[0].source)} | {id(n) for layer in layers for n in layer[1:] if n is not None}
    for node in graph.nodes:
        if id(node) not in inside and not _is_loss(node, graph) and \
                (node.inputs or any(not _is_loss(c, graph) for c in graph.consumers(node))):
            raise _NotLayered(f"{node.kind} '{node.name}' is not part of a single chain of layers")
    return layers


def _shown(n):
    """The neuron indices drawn for a column of ``n`` (None: the '⋮ more' mark)."""
    return list(range(n)) if n <= MAX_COLUMN else list(range(SHOW_FIRST)) + [None, n - 1]


def _columns(layers):
    """Column 0 is the Input; column k the neurons of layer k (output node, z, bias)."""
    x = layers[0].source
    columns = [dict(out=x, z=None, b=None, header=f"input<BR/>{_text(x.name)}", fill="#dbeafe")]
    for k, layer in enumerate(layers, start=1):
        out, last = layer.act or layer.z, k == len(layers)
        what = f"{out.name} = {layer.act.kind}({layer.z.name})" if layer.act else out.name
        columns.append(dict(out=out, z=layer.z, b=layer.b, fill="#d1fae5" if last else "#ecfdf5",
                            header=f"{'output' if last else f'hidden layer {k}'}<BR/>{_text(what)}"))
    for k, col in enumerate(columns):  # the constant-1 neuron that layer k + 1 appends
        col["one"] = layers[k].one if k < len(layers) else None
        col["n"] = col["out"].shape[0] if col["out"].shape else 1
    return columns


def _neuron_lines(k, j, col, opts):
    """The label lines of neuron j of column k, as (plain text, HTML) pairs."""
    p, out, z = opts["precision"], col["out"], col["z"]
    name = f"{out.name}[{j}]" if col["n"] > 1 else out.name
    lines = [(name, f"<B>{_text(name)}</B>")]
    values = [("+b", _row(col["b"])),
              ("z", _row(z) if z is not out else None), ("x" if k == 0 else "y", _row(out))]
    for symbol, v in values if opts["values"] else ():
        if v is not None:
            text = f"{symbol} = {_number(v[j], p)}"
            lines.append((text, f'<FONT POINT-SIZE="9" COLOR="#555555">{text}</FONT>' if symbol == "+b"
                          else f"<B>{text}</B>" if symbol in "xy" else text))
    grad = _row(z if z is not None else out, grad=True) if opts["grads"] else None
    if grad is not None:
        text = f"{'∂E/∂x' if k == 0 else 'δ'} = {_number(grad[j], p)}"
        lines.append((text, _colored(text, GRAD)))
    return lines


def _marks(graph, layers, opts):
    """Attributes of highlighted / gradient-flow neurons (by column) and weight edges (by layer)."""
    column_of = {id(layers[0].source): 0}
    for k, layer in enumerate(layers, start=1):
        column_of.update({id(n): k for n in (layer.z, layer.act, layer.b) if n is not None})
        if layer.one is not None:
            column_of[id(layer.one)] = ("one", k - 1)
    column_of.update({id(n): len(layers) for n in graph.nodes if _is_loss(n, graph)})
    weights_of = {id(layer.W): k for k, layer in enumerate(layers, start=1)}
    neurons, edges = {}, {}
    for a, b in opts["flow"]:
        k = column_of.get(b)
        layer = layers[k - 1] if isinstance(k, int) and k > 0 else None
        if layer is not None and b == id(layer.z) and (layer.b is None or a != id(layer.b)):
            part = "all" if a == id(layer.W) else "one" if layer.one and a == id(layer.one) else "x"
            edges[(k, part)] = dict(color=GRAD, dir="back", penwidth="3", arrowsize="0.9")
        elif column_of.get(a, k) is not None:  # inside a column: mark the neurons it reaches
            neurons[column_of.get(a, k)] = dict(color=GRAD, penwidth="3")
    for i in opts["highlight"]:
        if i in weights_of:
            edges[(weights_of[i], "all")] = dict(color=HIGHLIGHT, penwidth="3")
        elif i in column_of:
            neurons[column_of[i]] = dict(color=HIGHLIGHT, penwidth="3.5")
    return neurons, edges


def _weight_edges(layers):
    """(layer, part, tail id, head id, W, (i, j), w_ij) for every weight between drawn neurons."""
    edges = []
    for k, layer in enumerate(layers, start=1):
        w = np.full(layer.W.shape, np.nan) if layer.W.value is None else layer.W.value  # nan: no value yet
        w, n_in = w.reshape(layer.W.shape[0], -1), layer.source.shape[0]
        for j in [j for j in _shown(w.shape[1]) if j is not None]:
            edges += [(k, "x", f"L{k - 1}_{i}", f"L{k}_{j}", layer.W, (i, j), w[i, j])
                      for i in _shown(n_in) if i is not None]
            if layer.one is not None:
                edges.append((k, "one", f"L{k - 1}_one", f"L{k}_{j}", layer.W, (n_in, j), w[n_in, j]))
    return edges


def _diameter(lines):
    """Rough diameter in inches of the circle around label lines (0.08 inch a character)."""
    width, height = max(len(plain) for plain, _ in lines) * 0.08 + 0.15, len(lines) * 0.17 + 0.1
    return max(0.6, float(np.hypot(width, height)))


def _network_view(dot, graph, layers, opts):
    """Columns of circles at fixed places (neato layout), a straight edge per drawn weight."""
    p, columns = opts["precision"], _columns(layers)
    neuron_marks, edge_marks = _marks(graph, layers, opts)
    drawn = []  # per column: (node id, label lines, attributes)
    for k, col in enumerate(columns):
        circle = dict(shape="circle", style="filled", fillcolor=col["fill"], color="#334155")
        hidden = col["n"] - SHOW_FIRST - 1
        items = [(f"L{k}_{j}", _neuron_lines(k, j, col, opts), {**circle, **neuron_marks.get(k, {})})
                 if j is not None else (f"L{k}_more", [(f"⋮ {hidden} more", f"⋮<BR/>{hidden} more")],
                                        dict(shape="plaintext")) for j in _shown(col["n"])]
        if col["one"] is not None:
            circle.update(style="filled,dashed", fillcolor="white", color="#64748b")
            items.append((f"L{k}_one", [("1", "<B>1</B>"), ("bias", '<FONT POINT-SIZE="9">bias</FONT>')],
                          {**circle, **neuron_marks.get(("one", k), {})}))
        drawn.append(items)
    size = max(_diameter(lines) for items in drawn for _, lines, _ in items)
    dx, dy = size + 1.7, size + 0.3
    dot.engine = "neato"
    dot.attr(layout="neato", splines="false", outputorder="edgesfirst")
    for k, (col, items) in enumerate(zip(columns, drawn)):
        top = (len(items) - 1) / 2 * dy
        with dot.subgraph(name=f"cluster_{k}") as c:
            c.attr(label=f"<{col['header']}>", fontsize="11", fontcolor="#334155", color="#cbd5e1",
                   style="rounded")
            c.node(f"L{k}_header", "", style="invis", width=f"{min(size, 1.2):.2f}", height="0.45",
                   pos=f"{k * dx:.2f},{top + size / 2 + 0.3:.2f}!")  # room for the column's label
            for i, (node_id, lines, attrs) in enumerate(items):
                rows = "".join(f"<TR><TD>{h}</TD></TR>" for _, h in lines)
                c.node(node_id, f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>>',
                       pos=f"{k * dx:.2f},{top - i * dy:.2f}!", tooltip=_tooltip(lines[0][0]), **attrs)
    weights = _weight_edges(layers)
    biggest = np.nanmax([abs(e[-1]) for e in weights] + [1e-12])
    labelled = opts["values"] and len(weights) <= MAX_LABELLED_WEIGHTS and \
        max(len(_shown(col["n"])) for col in columns[1:]) <= MAX_LABELLED_FANOUT
    for k, part, tail, head, W, (i, j), w in weights:
        attrs = dict(color=POSITIVE if w >= 0 else NEGATIVE if w < 0 else "#94a3b8", arrowsize="0.6",
                     penwidth=f"{0.6 + 3.4 * abs(w) / biggest:.2f}" if w == w else "1",
                     tooltip=_tooltip(f"{W.name}[{i},{j}] = {_number(w, p)}"))
        if labelled and w == w:  # on the line near the tail, where the edges of one neuron fan out
            attrs.update(taillabel=f'<<TABLE BORDER="0" CELLPADDING="1" BGCOLOR="white"><TR><TD>'
                                   f'{_number(w, p)}</TD></TR></TABLE>>', labelfontsize="9",
                         labelfontcolor=attrs["color"], labeldistance="3.5", labelangle="0")
        attrs.update(edge_marks.get((k, part), edge_marks.get((k, "all"), {})))
        dot.edge(tail, head, **attrs)
    dot.attr(label=_label(_network_legend(graph, layers, columns, drawn, labelled, opts), opts["title"], None))


def _network_legend(graph, layers, columns, drawn, labelled, opts):
    keys = [_colored("━ positive weight", POSITIVE), _colored("━ negative weight", NEGATIVE),
            "line width ∝ |w|" + (", numbers on the lines: the weights w" if labelled else "")]
    if any(col["one"] is not None for col in columns):
        keys.append("dashed 1: constant bias input (its weights are the biases)")
    if any(col["n"] > MAX_COLUMN for col in columns):
        keys.append("⋮ N more: neurons not drawn, nor their weights")
    if opts["highlight"]:
        keys.append(_colored("orange: highlighted", HIGHLIGHT))
    if opts["flow"]:
        keys.append(_colored("purple: gradient flowing back", GRAD))
    shown = {plain.split(" = ")[0] for items in drawn for _, lines, _ in items for plain, _ in lines}
    bias = "+b" in shown
    neuron = [text for symbol, text in [("+b", "+b: bias"), ("z", f"z = Σ w·x{' + b' * bias}: weighted input"),
                                        ("y", "y: output of the neuron"),
                                        ("δ", _colored("δ = ∂E/∂z: gradient of the loss at z", GRAD))]
              if symbol in shown]
    facts, x, p = [], layers[0].source, opts["precision"]
    if x.value is not None and _batched(x, x.value):
        facts.append(f"batch of {len(x.value)}: showing the first sample (row 0)")
    loss = graph.outputs[0]
    if _is_loss(loss, graph) and loss.value is not None and opts["values"]:
        t = [n for n in loss.inputs if isinstance(n, Input) and n.value is not None]
        target = f", target {t[0].name} = {format_array(_row(t[0]), p)}".replace("\n", "") if t else ""
        facts.append(f"{loss.kind} {loss.name} = {_number(loss.value, p)}{target}")
    rows = ["arrows: data flow (forward); gradients flow backwards", " · ".join(keys), " · ".join(neuron),
            _text(" · ".join(facts))]
    return [row for row in rows if row]
