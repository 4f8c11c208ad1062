"""What both diagrams share: colours, text for Graphviz labels, and the computational-graph view."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import graphviz
import numpy as np

from ..core import Graph, Node
from ..errors import GraphError
from .maps import LEGEND as MAPS_LEGEND
from .maps import is_stack, maps_label
from .words import format_array

FORMATS = ("svg", "png", "pdf")
FONT = "Helvetica,Arial,sans-serif"
GRAD = "#7b2cbf"  # gradients: their numbers and "gradient flowing" edges
HIGHLIGHT = "#ff8c00"  # emphasised nodes
POSITIVE, NEGATIVE = "#1f5fbf", "#d62728"  # weight signs in the network view
MAX_COLUMN, SHOW_FIRST = 16, 3  # wider layers: first 3 neurons, "⋮ N more", the last
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
    """The Graphviz program ``dot``, needed to draw (not to make DOT source), is not installed.

    A ``GraphError``: its message says how to install Graphviz.

    Parameters
    ----------
    detail : str, optional
        What failed, shown in parentheses in the message.

    See Also
    --------
    dot_available : Ask first.
    to_dot : The DOT source, which needs no Graphviz program.

    Examples
    --------
    >>> import tinygraph as tg
    >>> isinstance(tg.GraphvizNotFound(), tg.GraphError)
    True
    """

    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "drawing needs the Graphviz program 'dot', which was not found"
            f"{f' ({detail})' if detail else ''}; install Graphviz with "
            "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS) "
            "or `conda install graphviz`. to_dot() works without it."
        )


def dot_available() -> bool:
    """Tell whether the Graphviz program ``dot`` can be run.

    Returns
    -------
    bool
        True when ``dot`` runs: ``render`` with a path, ``Trace.render_frames`` and the
        pictures of ``Trace.to_html`` need it.

    Examples
    --------
    >>> import tinygraph as tg
    >>> tg.dot_available() in (True, False)
    True
    """
    try:
        graphviz.version()
    except (graphviz.ExecutableNotFound, OSError, RuntimeError):
        return False
    return True


def pipe(dot: graphviz.Digraph, format: str) -> bytes:
    """Draw a ``graphviz.Digraph`` and return its bytes (GraphvizNotFound when ``dot`` is missing)."""
    try:
        return dot.pipe(format=format)
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFound(str(exc)) from None


def pipe_svgs(dots: list[graphviz.Digraph]) -> list[str]:
    """Draw several graphs of one layout engine in one ``dot`` run; return their SVG elements, in order.

    Starting Graphviz costs about as much as drawing a small graph, so a trace's steps are
    drawn together (GraphvizNotFound when ``dot`` is missing).
    """
    if not dots:
        return []
    try:
        out = graphviz.pipe(dots[0].engine, "svg", "".join(dot.source for dot in dots).encode("utf-8"))
    except graphviz.ExecutableNotFound as exc:
        raise GraphvizNotFound(str(exc)) from None
    svgs = re.findall(r"<svg\b.*?</svg>\n", out.decode("utf-8"), re.S)  # (each after its own XML prolog)
    if len(svgs) != len(dots):
        raise GraphError(f"pipe_svgs: Graphviz drew {len(svgs)} SVGs for {len(dots)} graphs")
    return [_ALONE.sub(r'\1"graph0"', svg, count=1) for svg in svgs]  # (the id of each drawn alone)


_ALONE = re.compile(r'(<g id=)"page\d+,\d+_graph0"')  # Graphviz's id of a graph's group in a run of several


def measure(dots: list[graphviz.Digraph]) -> dict[str, tuple[float, float]]:
    """Return each node's largest natural (width, height) in inches over the drawings, by its DOT id.

    One ``dot`` run lays out every node of every drawing on its own (no edges), so that a
    trace can draw each node at one size in all its steps and the layout never moves.
    """
    statement = re.compile(r"^\t+([A-Za-z_]\w*) (\[.*\])$")
    out = graphviz.Digraph("measure", node_attr=dots[0].node_attr if dots else {})
    seen = set()  # (a node drawn the same way in several steps is measured once)
    for k, dot in enumerate(dots):
        for line in dot.body:
            found = statement.match(line.rstrip("\n"))
            if found and found.group(1) not in ("graph", "node", "edge") and found.group(0) not in seen:
                seen.add(found.group(0))
                out.body.append(f"\ts{k}__{found.group(1)} {found.group(2)}\n")
    sizes: dict[str, tuple[float, float]] = {}
    for item in json.loads(pipe(out, "json")).get("objects", []):
        name = item["name"].split("__", 1)[1]
        w, h = float(item["width"]), float(item["height"])
        old = sizes.get(name, (0.0, 0.0))
        sizes[name] = (max(old[0], w), max(old[1], h))
    return sizes


def is_loss(node: Node, graph: Graph) -> bool:
    """Tell whether the node is drawn as the loss: a loss node, or the graph's scalar first output."""
    return node.role == "loss" or (node is graph.outputs[0] and graph.shape_of(node) == ())


def html_text(s: Any) -> str:
    """Escape text for an HTML-like label, newlines as left-aligned line breaks."""
    text = html.escape(str(s)).replace("\\", "\\\\").replace("]", "&#93;")  # (Graphviz reads \\N as a name, ]])
    return text.replace("\n", '<BR ALIGN="LEFT"/>')


def colored(s: Any, color: str) -> str:
    """Write text for an HTML-like label in a colour."""
    return f'<FONT COLOR="{color}">{html_text(s)}</FONT>'


def tooltip(s: Any) -> str:
    """Escape text for a plain Graphviz label: backslashes, <…> and &…; taken literally."""
    return graphviz.escape(str(s).replace("&", "&amp;"))


def hover(s: Any) -> str:
    """Escape text for a Graphviz tooltip: Graphviz reads its backslashes twice, so they are doubled once more."""
    return tooltip(str(s).replace("\\", "\\\\"))


def batched(graph: Graph, node: Node, a: Any) -> bool:
    """Tell whether ``a``, the node's value or gradient, carries a batch axis."""
    shape = graph.shape_of(node)
    return shape is not None and np.ndim(a) > len(shape)


def value_of(node: Node, opts: dict) -> Any:
    """Return the value to draw: from ``opts["state"]`` (a trace step's) if given, else the node's own."""
    state = opts.get("state")
    return node.value if state is None else state.get(node, (None, None))[0]


def grad_of(node: Node, opts: dict) -> Any:
    """Return the gradient to draw: from ``opts["state"]`` if given, else the node's own."""
    state = opts.get("state")
    return node.grad if state is None else state.get(node, (None, None))[1]


def row(graph: Graph, node: Node | None, opts: dict, grad: bool = False) -> np.ndarray | None:
    """Return the node's value (or gradient) of one sample (row 0 of a batch), flat; None if absent."""
    a = None if node is None else grad_of(node, opts) if grad else value_of(node, opts)
    if a is None:
        return None
    return (a[0] if batched(graph, node, a) else np.asarray(a)).reshape(-1)


def top_label(rows: list[str], title: str | None, note: str | None) -> str:
    """Write the top label (title, note, legend rows) as one HTML table: it adds no nodes."""
    cells = [f'<TD><FONT POINT-SIZE="16"><B>{html_text(title)}</B></FONT></TD>'] if title else []
    cells += [f'<TD BGCOLOR="#fff3cd"><FONT COLOR="#8a4b00">⚠ {html_text(note)}</FONT></TD>'] if note else []
    cells += [f'<TD><FONT POINT-SIZE="10" COLOR="#333333">{row}</FONT></TD>' for row in rows]
    return f'<<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2"><TR>{"</TR><TR>".join(cells)}</TR></TABLE>>'


# -- the computational graph -------------------------------------------------
def role_of(node: Node, graph: Graph) -> str:
    """Return how the graph view draws the node: "input", "parameter", "constant", "operation" or "loss"."""
    if is_loss(node, graph):
        return "loss"
    return node.role if node.role in _STYLE else "constant" if not node.inputs else "operation"


def _input_names(node: Node) -> list[str] | None:
    """Return the symbols of the node's inputs (x, w, b …), to label its in-edges; or None."""
    symbols = node.symbols()[1]
    return symbols if len(node.inputs) > 1 and len(symbols) == len(node.inputs) else None


def node_ids(graph: Graph) -> dict[int, str]:
    """Return each node's DOT id, by ``id(node)``: ``n<index in graph.nodes>``, the same in every drawing."""
    return {id(n): f"n{i}" for i, n in enumerate(graph.nodes)}


def _node_label(graph: Graph, node: Node, opts: dict) -> str:
    per = graph.shape_of(node)
    shape = "?" if per is None else "scalar" if per == () else str(per)
    about = f"{node.kind} · {shape}"
    value, grad = value_of(node, opts), grad_of(node, opts)
    if value is not None and batched(graph, node, value):
        about += f" · batch of {len(value)}"
    head = [f"<B>{html_text(node.name)}</B>", f'<FONT POINT-SIZE="9" COLOR="#555555">{html_text(about)}</FONT>']
    if node.formula:
        head.append(f'<FONT POINT-SIZE="9"><I>{html_text(node.formula)}</I></FONT>')
    body = []
    if opts["values"] and value is not None:
        body.append(f"value = {html_text(format_array(value, opts['precision']))}")
    elif opts["values"] and id(node) in opts["pending_values"]:
        body.append("value = …")
    if opts["values"] and value is not None and is_stack(per):  # an image stack: its maps, of one sample
        body.append(maps_label(value[0] if batched(graph, node, value) else value, opts["precision"]))
    if opts["grads"] and grad is not None:
        body.append(colored(f"∂E/∂{node.name} = {format_array(grad, opts['precision'])}", GRAD))
    elif opts["grads"] and id(node) in opts["pending_grads"]:
        body.append(colored(f"∂E/∂{node.name} = …", GRAD))
    rows = [f"<TR><TD>{r}</TD></TR>" for r in head] + [
        f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in body
    ]
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(rows)}</TABLE>>'


def graph_view(dot: graphviz.Digraph, graph: Graph, opts: dict, note: str | None) -> None:
    """Draw the computational graph into ``dot``: a box per node, an edge per input, the legend."""
    ids, opened = node_ids(graph), opts.get("expand") or {}  # (expanded nodes: drawn by expanded.py)
    roles = [role_of(n, graph) for n in graph.nodes]
    for node, role in zip(graph.nodes, roles):
        if id(node) in opened:
            continue
        _, shape, style, fill, color = _STYLE[role]
        attrs = dict(shape=shape, style=style, fillcolor=fill, color=color)
        if shape == "cds":
            attrs["margin"] = "0.2,0.1"  # keeps the label clear of the pointed end
        if id(node) in opts["highlight"]:
            attrs.update(color=HIGHLIGHT, penwidth="3.5")
        if ids[id(node)] in (opts.get("steady") or {}):  # one size in every step of a trace
            width, height = opts["steady"][ids[id(node)]]
            attrs.update(width=f"{width:.4f}", height=f"{height:.4f}", fixedsize="true")
        dot.node(ids[id(node)], _node_label(graph, node, opts), tooltip=hover(f"{node.kind} '{node.name}'"), **attrs)
    for node in graph.nodes:
        names = _input_names(node)
        for k, inp in enumerate(node.inputs):
            if id(node) in opened or id(inp) in opened:
                continue
            attrs = dict(color="#555555", arrowsize="0.7")
            if names and names[k] != inp.name:  # the role of the input: x, w, b, t …
                attrs.update(label=tooltip(names[k]), fontcolor="#555555")
            flows = (id(inp), id(node)) in opts["flow"]
            if flows:
                attrs.update(color=GRAD, fontcolor=GRAD, penwidth="3", dir="back", arrowsize="1")
                attrs.update(label=tooltip(f"∂E/∂{inp.name}"), fontsize="11")
            if opts.get("steady") is not None:  # a trace's steps: every edge keeps room for its ∂E label
                role = f"{html_text(names[k])}<BR/>" if names and names[k] != inp.name else ""
                colour = GRAD if flows else "transparent"
                grad = f'<FONT POINT-SIZE="11" COLOR="{colour}">{html_text(f"∂E/∂{inp.name}")}</FONT>'
                attrs.update(label=f"<{role}{grad}>", fontsize="9")  # (the role's letter: one size in every step)
            dot.edge(ids[id(inp)], ids[id(node)], **attrs)
    rounded = ' STYLE="rounded"'
    chips = "".join(
        f'<TD BGCOLOR="{fill}" COLOR="{color}" BORDER="1"{rounded * ("rounded" in style)}>{html_text(text)}</TD>'
        for role, (text, _, style, fill, color) in _STYLE.items()
        if role in roles
    )
    rows = [
        f'<TABLE BORDER="0" CELLSPACING="4"><TR>{chips}</TR></TABLE>',
        "arrows: data flow (forward pass); gradients flow backwards, against the arrows",
    ]
    extra, steady = [], opts.get("steady") is not None  # (a trace's steps: the same legend in every step)
    if opts["values"] and any(is_stack(graph.shape_of(n)) and (steady or value_of(n, opts) is not None) for n in graph):
        rows.append(html_text(MAPS_LEGEND))
    if opts["grads"] and (steady or any(grad_of(n, opts) is not None for n in graph.nodes)):
        extra.append(colored("∂E/∂n: gradient of the loss E with respect to node n (backward pass)", GRAD))
    if opts["highlight"] or steady:
        extra.append(colored("orange border: highlighted", HIGHLIGHT))
    if opts["flow"] or steady:
        extra.append(colored("thick purple edge: gradient flowing back", GRAD))
    if opened:
        extra.append(html_text("frame: a node opened up into its scalars, each with its value and its gradient"))
    dot.attr(label=top_label(rows + ([" · ".join(extra)] if extra else []), opts["title"], note))
