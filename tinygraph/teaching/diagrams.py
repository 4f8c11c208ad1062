"""Diagrams of a Graph with Graphviz: ``render`` and ``to_dot``, in two views."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import graphviz

from ..checks import flag, output_path, whole
from ..core import Node, graph_of
from ..core.graph import DISPLAY
from ..errors import GraphError
from .drawing import FONT, FORMATS, GraphvizNotFound, graph_view, pipe
from .expanded import check, draw
from .network import NotLayered, find_layers, network_view

VIEWS = ("graph", "network")


# -- public entry points -----------------------------------------------------
def to_dot(
    graph: Any,
    values: bool = True,
    grads: bool = True,
    view: str = "graph",
    highlight: Any = None,
    flow: Any = None,
    precision: int = 3,
    title: str | None = None,
    pending_values: Any = None,
    pending_grads: Any = None,
    state: dict | None = None,
    expand: Any = None,
) -> str:
    """Return the DOT source of the drawing ``render`` makes (needs no Graphviz program).

    Parameters
    ----------
    graph : Graph or Network
        What to draw: a Graph, or anything with a ``.graph``.
    values : bool, optional
        Whether to show the nodes' values; True by default.
    grads : bool, optional
        Whether to show the nodes' gradients ∂E/∂node; True by default.
    view : {"graph", "network"}, optional
        The computational graph (the default) or the textbook network.
    highlight : Node, str or list of them, optional
        Nodes or names to mark in orange.
    flow : pair or list of pairs, optional
        (from, to) nodes or names of edges to draw as gradient flowing back.
    precision : int, optional
        Significant digits of the numbers shown, 1 to 17; 3 by default.
    title : str, optional
        A title above the drawing.
    pending_values : list of Node or str, optional
        Nodes whose value is still to come, drawn as "…" (a trace's steps use it).
    pending_grads : list of Node or str, optional
        Nodes whose gradient is still to come, drawn as "…".
    state : dict, optional
        {node: (value, gradient)} to draw instead of the nodes' own.
    expand : Node, str or list of them, optional
        Nodes or names to draw opened up into their scalars (graph view only): a
        WeightedSum as its products x_i·w_ij and sums z_j, an elementwise activation as
        its elements, each with its value and gradient.  At most 64 scalars a node.  The
        numbers are the nodes' own: draw after a forward and backward pass, before an
        update (after one, the weights are new but the sums are still the pass's).

    Returns
    -------
    str
        The DOT source, for Graphviz or any tool that reads DOT.

    Raises
    ------
    TypeError
        As for ``render``.
    tinygraph.GraphError
        As for ``render``; no Graphviz program is needed.

    See Also
    --------
    render : The drawing itself.

    Examples
    --------
    >>> import tinygraph as tg
    >>> net = tg.mlp([2, 2, 1], seed=0)
    >>> source = tg.to_dot(net, view="network")
    >>> source.splitlines()[0]
    'digraph tinygraph {'
    >>> source.count("shape=circle")  # 2 inputs, 2 hidden neurons, 1 output
    5
    """
    return _build(
        graph, values, grads, view, highlight, flow, precision, title, pending_values, pending_grads, state,
        expand=expand,
    ).source  # fmt: skip


def render(
    graph: Any,
    path: Any = None,
    format: str = "svg",
    values: bool = True,
    grads: bool = True,
    view: str = "graph",
    highlight: Any = None,
    flow: Any = None,
    precision: int = 3,
    title: str | None = None,
    pending_values: Any = None,
    pending_grads: Any = None,
    state: dict | None = None,
    expand: Any = None,
) -> graphviz.Digraph:
    """Draw ``graph`` (a Graph, or anything with a ``.graph`` such as an ``mlp`` Network).

    Returns a ``graphviz.Digraph``; with ``path`` (``"out/xor"`` or ``"out/xor.svg"``) also writes
    the drawing (``format`` svg, png or pdf) and its DOT source (``out/xor.dot``), raising
    GraphvizNotFound (a GraphError) if the ``dot`` program is missing.

    ``view="graph"``: a box per node: name, kind, per-sample shape, formula and, once
    computed, value and gradient ∂E/∂node (more than 12 numbers: shape, mean, norm).
    Shape and colour tell Inputs, Parameters, Constants, operations and the loss apart.
    A node whose samples are image stacks ``(C, H, W)`` (an image Input, a convolution's or
    a pooling's output) also shows, once computed, the feature maps of its first sample as
    small heat maps, up to 16 channels: one colour scale per node, white 0, blue positive,
    red negative, the darkest the largest |value| (maps over 4096 pixels in all are
    averaged in blocks).

    ``view="network"``: the textbook drawing of a chain Input → [AppendOne] → WeightedSum →
    [activation] → …: a circle per neuron with z, y and δ = ∂E/∂z (of a batch, the first
    sample), an edge per weight (blue +, red −, width ∝ |w|), the bias as "+b" in the neuron
    or, with AppendOne, a dashed constant-1 neuron; layers over 16 wide are condensed.  A
    graph of images (samples of more than one axis) is drawn from the vector made of them
    (a Flatten's output) on, under a note saying that only its fully connected part is
    drawn.  Any other graph is drawn as the graph view under a visible note "not a layered
    network", with a ``UserWarning`` (no error).

    ``highlight``: nodes or names to draw with a thick orange border (network view: their
    neurons, or a weight matrix's edges).  ``flow``: (from, to) pairs of nodes or names, in
    either order, naming graph edges to draw as gradient flowing back (thick purple,
    arrow towards the input, labelled ∂E/∂input; network view: the weight edges into that
    layer, or the neurons when the edge lies inside a column).

    ``pending_values``/``pending_grads``: nodes whose value or gradient is still to come
    (graph view): drawn as "…", so that boxes keep their size from one step to the next.
    ``state``: {node: (value, gradient)} to draw instead of the nodes' own (a trace step's);
    nodes missing from it are drawn without either.

    ``expand``: nodes or names to draw opened up into their scalars (graph view only), each
    in a frame labelled with its name, formula and backward rules.  A WeightedSum becomes,
    for each unit j, the products x_i·w_ij, each with its weight w_ij and
    ∂E/∂w_ij = x_i·δ_j with the numbers put in, and the sum z_j = Σ_i x_i w_ij + b_j, with
    b_j and δ_j = ∂E/∂z_j; an elementwise activation becomes its elements y_j = f(z_j),
    each with ∂E/∂z_j = ∂E/∂y_j · ∂y_j/∂z_j.  Every scalar shows its value and gradient.
    The weights and biases keep their boxes, with one edge into the frame; another input
    sends an edge per element used (``x[0]`` …), and two expanded neighbours connect
    element to element.  Of a batch, sample 0 (with the batch's sums of ∂E/∂w_ij and
    ∂E/∂b_j).  Any node with a ``scalars`` method can be expanded (see ``Node``), up to 64
    scalars a node; highlight marks the frame and flow the element edges.

    Parameters
    ----------
    graph : Graph or Network
        What to draw: a Graph, or anything with a ``.graph``.
    path : str or os.PathLike, optional
        Where to write the drawing and its DOT source, with or without the extension; None
        (the default) writes nothing and needs no Graphviz program.
    format : {"svg", "png", "pdf"}, optional
        The file format with ``path``; svg by default.
    values : bool, optional
        Whether to show the nodes' values; True by default.
    grads : bool, optional
        Whether to show the nodes' gradients ∂E/∂node; True by default.
    view : {"graph", "network"}, optional
        The computational graph (the default) or the textbook network.
    highlight : Node, str or list of them, optional
        Nodes or names to mark in orange.
    flow : pair or list of pairs, optional
        (from, to) nodes or names of edges to draw as gradient flowing back.
    precision : int, optional
        Significant digits of the numbers shown, 1 to 17; 3 by default.
    title : str, optional
        A title above the drawing.
    pending_values : list of Node or str, optional
        Nodes whose value is still to come, drawn as "…" (a trace's steps use it).
    pending_grads : list of Node or str, optional
        Nodes whose gradient is still to come, drawn as "…".
    state : dict, optional
        {node: (value, gradient)} to draw instead of the nodes' own.
    expand : Node, str or list of them, optional
        Nodes or names to draw opened up into their scalars (graph view only): a
        WeightedSum as its products x_i·w_ij and sums z_j, an elementwise activation as
        its elements, each with its value and gradient.  At most 64 scalars a node.  The
        numbers are the nodes' own: draw after a forward and backward pass, before an
        update (after one, the weights are new but the sums are still the pass's).

    Returns
    -------
    graphviz.Digraph
        The drawing; in Jupyter it shows itself.

    Raises
    ------
    TypeError
        If ``graph`` is neither a Graph nor has one, ``values`` or ``grads`` is not a bool,
        ``precision`` is not a whole number, ``path`` is not a path, or ``highlight``,
        ``flow``, the pending nodes or ``expand`` are not nodes, names or lists of them.
    tinygraph.GraphError
        If ``view`` or ``format`` is unknown, ``precision`` is not from 1
        to 17, a node or name is not in the graph, a ``flow`` pair is not an edge, or
        ``path`` is a folder or ends in an extension other than ``format``'s; or if an
        ``expand`` node has no scalars (its class has no ``scalars`` method) or would draw
        more than 64, or ``expand`` is given with ``view="network"``.  All is checked
        before anything is written.
    GraphvizNotFound
        If ``path`` is given and the ``dot`` program is missing.

    Warns
    -----
    UserWarning
        With ``view="network"`` for a graph that is not a layered network (it is drawn as
        the graph view, with a note).

    See Also
    --------
    to_dot : The DOT source alone.
    dot_available : Whether drawing to a file can work.
    trace : The drawings of each step of backpropagation.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> w = tg.Parameter([0.5, -1.0], name="w")
    >>> y = tg.Logistic(tg.WeightedSum(x, w, name="z"), name="y")
    >>> graph = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    >>> _ = graph.forward({"x": np.array([1.0, 1.0]), "t": np.array(1.0)})
    >>> graph.backward()
    >>> dot = tg.render(graph, highlight="z", flow=[("w", "z")])  # no path: nothing written
    >>> type(dot).__name__
    'Digraph'
    >>> "∂E/∂w" in dot.source
    True
    >>> "∂E/∂z = ∂E/∂y · ∂y/∂z" in tg.to_dot(graph, expand=["z", "y"])  # opened up, number by number
    True

    ``tg.render(graph, "out/xor", format="png")`` would also write ``out/xor.png`` and
    ``out/xor.dot``.
    """
    if format not in FORMATS:  # checked with or without a path: a wrong one is never taken silently
        raise GraphError(f"render: format must be one of {FORMATS}, got {format!r}")
    if path is not None:
        output_path("render", path)
    dot = _build(
        graph, values, grads, view, highlight, flow, precision, title, pending_values, pending_grads, state,
        expand=expand,
    )  # fmt: skip
    if path is not None:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in [f".{f}" for f in FORMATS + ("dot", "gv")]:
            if suffix != f".{format}":
                raise GraphError(
                    f"render: path '{path}' ends in {suffix} but format is {format!r}; "
                    f"give the path without an extension or with .{format}"
                )
            path = path.with_suffix("")
        data = pipe(dot, format)
        path.parent.mkdir(parents=True, exist_ok=True)
        Path(f"{path}.{format}").write_bytes(data)
        Path(f"{path}.dot").write_text(dot.source, encoding="utf-8")
    return dot


def mimebundle(graph: Any, include: Any = None, exclude: Any = None, view: str = "graph") -> dict:
    """Return the Jupyter display of a graph, or of a network in ``view``: SVG with Graphviz, else the repr."""
    if (include is None or "image/svg+xml" in include) and "image/svg+xml" not in (exclude or ()):
        try:
            return {"image/svg+xml": pipe(render(graph, view=view), "svg").decode("utf-8")}
        except GraphvizNotFound:
            pass
    return {"text/plain": repr(graph)}


# -- shared pieces -------------------------------------------------------------
def _build(
    graph, values, grads, view, highlight, flow, precision, title, pending_values, pending_grads, state, steady=None,
    expand=None, passed=None,
):  # fmt: skip
    graph = graph_of(graph, "render")
    if view not in VIEWS:
        raise GraphError(f"render: view must be one of {VIEWS}, got {view!r}")
    whole("render: precision", precision, low=1, high=17)  # (float64 holds 17 significant digits)
    for what, v in (("values", values), ("grads", grads)):
        flag(f"render: {what}", v)
    opts = dict(
        values=values,
        grads=grads,
        precision=int(precision),
        title=title,
        highlight=_highlights(graph, highlight),
        flow=_flows(graph, flow),
        pending_values=_highlights(graph, pending_values, "pending_values"),
        pending_grads=_highlights(graph, pending_grads, "pending_grads"),
        state=state,
        steady=steady,  # a trace's steps: {DOT id: (width, height)}, one size and legend for every step
        passed=passed,  # a trace's update steps: the state of the pass, which the opened-up nodes are drawn from
    )
    opened = _highlights(graph, expand, "expand")  # every expanded node checked before anything is drawn
    opts["expand"] = check(graph, [n for n in graph.nodes if id(n) in opened], view)
    dot = graphviz.Digraph(
        "tinygraph",
        graph_attr=dict(rankdir="LR", fontname=FONT, labelloc="t", nodesep="0.25", ranksep="0.5", bgcolor="white"),
        node_attr=dict(fontname=FONT, fontsize="11"),
        edge_attr=dict(fontname=FONT, fontsize="9"),
    )
    if view == "network":
        try:
            layers = find_layers(graph, partial=True)
        except NotLayered as exc:
            note = f"not a layered network: showing the computational graph ({exc})"
            warnings.warn(f"render(view='network'): {note}", stacklevel=3)
            graph_view(dot, graph, opts, note)
        else:
            network_view(dot, graph, layers, opts)
    else:
        graph_view(dot, graph, opts, None)
        draw(dot, graph, opts)  # the expanded nodes, as their scalars
    return dot


def _resolve(graph, item, what):
    if not isinstance(item, (Node, str)):
        raise TypeError(f"{what}: expected a node or a node name, got {type(item).__name__}")
    if isinstance(item, Node) and item not in graph:
        raise GraphError(f"{what}: {item.kind} '{item.name}' is not in this graph")
    if isinstance(item, str) and item not in graph:
        raise GraphError(f"{what}: no node named {item!r} in this graph (names: {', '.join(n.name for n in graph)})")
    return item if isinstance(item, Node) else graph[item]


def _highlights(graph, highlight, what="highlight"):
    items = [] if highlight is None else [highlight] if isinstance(highlight, (Node, str)) else highlight
    if not isinstance(items, (list, tuple, set)):
        raise TypeError(f"{what}: expected a node, a name or a list of them, got {type(highlight).__name__}")
    return {id(_resolve(graph, item, what)) for item in items}


def _flows(graph, flow):
    """{(id(input), id(consumer))}: each pair names an edge of the graph, in either order."""
    if flow is not None and not isinstance(flow, (list, tuple, set)):
        raise TypeError(f"flow: expected (from_node, to_node) pairs, got {type(flow).__name__}")
    flow = [] if flow is None else list(flow)
    if len(flow) == 2 and all(isinstance(i, (Node, str)) for i in flow):
        flow = [flow]  # one pair given on its own
    edges = set()
    for pair in flow:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(f"flow: expected (from_node, to_node) pairs, got {pair!r}")
        a, b = (_resolve(graph, item, "flow") for item in pair)
        if not any(i is a for i in b.inputs):
            a, b = b, a
        if not any(i is a for i in b.inputs):
            raise GraphError(f"flow: no edge between {a.kind} '{a.name}' and {b.kind} '{b.name}'")
        edges.add((id(a), id(b)))
    return edges


DISPLAY["graph"] = mimebundle
DISPLAY["network"] = lambda network, include=None, exclude=None: mimebundle(network, include, exclude, view="network")
build = _build  # (for the stepper: the drawing of a trace step, its arguments already checked)
