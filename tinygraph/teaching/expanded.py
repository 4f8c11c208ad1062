"""Nodes opened up into their scalars: a layer drawn as the numbers it computes, one at a time.

``render(..., expand=[...])`` draws each expanded node, in the graph view, as a frame of the
scalars the node itself lists (its ``scalars`` method, see ``Node``): their values, their
gradients and the chain rule with the numbers put in.  This module knows no node kind: it
draws what the node says, and refuses a node that says nothing.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import graphviz
import numpy as np

from ..core import Graph, Node
from ..core.node import Scalar
from ..errors import GraphError
from ..notation import element
from .drawing import GRAD, HIGHLIGHT, batched, colored, grad_of, hover, html_text, node_ids, row, tooltip, value_of
from .words import number

MAX_SCALARS = 64  # per expanded node: beyond this the drawing is no longer read, number by number
_PRODUCT = dict(shape="box", style="filled", fillcolor="white", color="#6b7280")  # a number in between
_OUTPUT = dict(shape="box", style="filled,rounded", fillcolor="#ecfdf5", color="#047857")  # an element of the value


# -- checking what to expand ----------------------------------------------------
def openable_kinds() -> str:
    """Name the node classes that can be opened up: those that define ``scalars``, with their subclasses."""
    names = []
    for cls in _descendants(Node):
        if "scalars" in vars(cls):
            below = sorted({c.__name__ for c in _descendants(cls)})
            names.append(f"{cls.__name__} ({', '.join(below)})" if below else cls.__name__)
    return ", ".join(names)


def _descendants(cls: type) -> list[type]:
    found, todo = [], list(cls.__subclasses__())
    while todo:
        sub = todo.pop(0)
        found.append(sub)
        todo += sub.__subclasses__()
    return found


def check(graph: Graph, nodes: list[Node], view: str) -> dict[int, Node]:
    """Return {id(node): node} of the nodes to expand, or raise a GraphError before anything is drawn.

    Each must offer ``scalars``, have known shapes and draw at most ``MAX_SCALARS`` numbers,
    and ``view`` must be the graph view.
    """
    if nodes and view != "graph":
        raise GraphError(
            f"render: expand applies to the graph view only, got view={view!r} "
            "(draw the network view without expand, or use view='graph')"
        )
    for node in nodes:
        opener = getattr(node, "scalars", None)
        if not callable(opener):
            raise GraphError(
                f"expand: {node.kind} '{node.name}' cannot be opened up into scalars (its class has no "
                f"scalars method); the kinds that can: {openable_kinds()}"
            )
        scalars = opener(_shapes(graph, node))
        if len(scalars) > MAX_SCALARS:
            counts = Counter(s.kind for s in scalars)
            parts = " and ".join(f"{n} {kind}{'s' * (n != 1)}" for kind, n in counts.items())
            raise GraphError(
                f"expand: {node.kind} '{node.name}' would draw {len(scalars)} scalars ({parts}), more than "
                f"the limit of {MAX_SCALARS} for one node; expand a smaller node, or leave this one as a box"
            )
    return {id(n): n for n in nodes}


def _shapes(graph: Graph, node: Node) -> tuple[tuple[int, ...], ...]:
    shapes = [graph.shape_of(i) for i in node.inputs]
    for inp, shape in zip(node.inputs, shapes):
        if shape is None:
            raise GraphError(
                f"expand: {node.kind} '{node.name}': the shape of its input '{inp.name}' is not known "
                "yet; declare it (Input(..., shape=...)) or run a forward pass first"
            )
    return tuple(s for s in shapes if s is not None)


# -- the numbers of one sample ----------------------------------------------------
def _sample(graph: Graph, node: Node, opts: dict, grad: bool = False) -> np.ndarray | None:
    """Return the node's value (or gradient) of sample 0, in its per-sample shape; None if not drawn."""
    a, shape = row(graph, node, opts, grad), graph.shape_of(node)
    return None if a is None or shape is None else a.reshape(shape)


def _batch(graph: Graph, node: Node, opts: dict) -> int | None:
    """Return the batch size of the pass the node is drawn from, or None for one sample."""
    for n in (node, *node.inputs):
        v = value_of(n, opts)
        if v is not None and batched(graph, n, v):
            return len(v)
    return None


def scalars_of(graph: Graph, node: Node, opts: dict) -> list[Scalar]:
    """Ask the node for its scalars with the numbers drawn: sample 0's, none that are hidden or pending.

    With ``opts["passed"]`` (a trace's update steps) the numbers are those of the forward and backward
    pass, so that the products still add up to the sum after the weights have been updated.
    """
    if opts.get("passed") is not None:
        opts = dict(opts, state=opts["passed"])
    fmt = lambda v: number(v, opts["precision"])
    shown = opts["values"] and id(node) not in opts["pending_values"] and value_of(node, opts) is not None
    values = [_sample(graph, i, opts) for i in node.inputs] if shown else None
    if values is not None and any(v is None for v in values):
        values = None
    grads = opts["grads"] and id(node) not in opts["pending_grads"]
    needs = [grads and grad_of(i, opts) is not None and id(i) not in opts["pending_grads"] for i in node.inputs]
    value = _sample(graph, node, opts) if shown else None
    grad = _sample(graph, node, opts, grad=True) if grads else None
    return node.scalars(_shapes(graph, node), values, value, grad, fmt, needs)


# -- drawing ---------------------------------------------------------------------
def draw(dot: graphviz.Digraph, graph: Graph, opts: dict) -> None:
    """Draw every node of ``opts["expand"]`` as a frame of its scalars, with the edges in and out."""
    opened = opts.get("expand") or {}
    if not opened:
        return
    ids = node_ids(graph)
    found = {key: scalars_of(graph, node, opts) for key, node in opened.items()}
    dot.attr(compound="true")  # (an edge into a frame: lhead)
    for node in graph.nodes:
        if id(node) in opened:
            _frame(dot, graph, node, found[id(node)], ids[id(node)], opts)
            _edges_in(dot, node, found, ids, opts)
        else:
            for inp in node.inputs:  # a box fed by an expanded node: an edge per element
                if id(inp) in opened:
                    flows = (id(inp), id(node)) in opts["flow"]
                    for s in found[id(inp)]:
                        if s.output is not None:
                            _edge(dot, f"{ids[id(inp)]}_{s.key}", ids[id(node)], None, flows, s.name, opts)


def _frame(dot: graphviz.Digraph, graph: Graph, node: Node, scalars: list[Scalar], nid: str, opts: dict) -> None:
    batch = _batch(graph, node, opts)
    about = f"{node.kind}{f' · {node.formula}' if node.formula else ''} · opened up into {len(scalars)} scalars"
    lines = [f'<FONT POINT-SIZE="13"><B>{html_text(node.name)}</B></FONT>', html_text(about)]
    if opts["grads"] and node.gradients:  # the matrix form beside its numbers, in the node's own words
        ins = node.symbols()[1][: len(node.inputs)]  # (a WeightedSum without b has no rule for b)
        rules = "; ".join(f"∂E/∂{symbol} = {rule}" for symbol, rule in node.gradients.items() if symbol in ins)
        lines.append(colored(f"backward, as arrays: {rules}", GRAD))
    if batch is not None:
        lines.append(html_text(f"sample 0 (row 0) of a batch of {batch}; last purple lines: sums over the batch"))
    frame = dict(style="rounded,filled", fillcolor="#f8fafc", color="#047857", penwidth="1.5", fontsize="10")
    if id(node) in opts["highlight"]:
        frame.update(color=HIGHLIGHT, penwidth="3.5")
    with dot.subgraph(name=f"cluster_{nid}") as frame_dot:
        left = '<BR ALIGN="LEFT"/>'
        frame_dot.attr(label=f"<{left.join(lines)}{left}>", labeljust="l", **frame)
        for s in scalars:
            attrs = dict(_PRODUCT if s.output is None else _OUTPUT, fontsize="9", margin="0.06,0.03")
            sid = f"{nid}_{s.key}"
            if sid in (opts.get("steady") or {}):  # one size in every step of a trace
                width, height = opts["steady"][sid]
                attrs.update(width=f"{width:.4f}", height=f"{height:.4f}", fixedsize="true")
            label = _label(graph, node, s, batch, opts)
            frame_dot.node(sid, label, tooltip=hover(f"{s.name}: {s.kind} in {node.kind} '{node.name}'"), **attrs)
        for s in scalars:
            for key in s.after:
                frame_dot.edge(f"{nid}_{key}", f"{nid}_{s.key}", color="#555555", arrowsize="0.6")


def _label(graph: Graph, node: Node, s: Scalar, batch: int | None, opts: dict) -> str:
    fmt = lambda v: number(v, opts["precision"])
    rows = [f'<FONT POINT-SIZE="10"><B>{html_text(s.name)}</B></FONT>']
    rows += [f'<FONT COLOR="#444444">{html_text(line)}</FONT>' for line in s.forward]
    if opts["values"] and s.value is not None:
        rows.append(f"value = {html_text(fmt(s.value))}")
    elif opts["values"] and id(node) in opts["pending_values"]:
        rows.append("value = …")
    back = []  # the backward pass, below a line
    if opts["grads"] and s.grad is not None:
        back.append(colored(f"{s.grad_name} = {fmt(s.grad)}", GRAD))
        back += [colored(line, GRAD) for line in s.backward]
        for k, index in s.shows if batch is not None else ():  # a parameter's gradient sums the batch's
            inp, g = node.inputs[k], grad_of(node.inputs[k], opts)
            if g is not None and not batched(graph, inp, g) and id(inp) not in opts["pending_grads"]:
                total = fmt(np.asarray(g)[index])
                back.append(colored(f"Σ over the batch: ∂E/∂{element(inp.name, index)} = {total}", GRAD))
    elif opts["grads"] and id(node) in opts["pending_grads"]:
        back.append(colored(f"{s.grad_name} = …", GRAD))
    cells = [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in rows]
    cells += ["<HR/>"] * bool(back) + [f'<TR><TD ALIGN="LEFT" BALIGN="LEFT">{r}</TD></TR>' for r in back]
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(cells)}</TABLE>>'


def _edges_in(dot: graphviz.Digraph, node: Node, found: dict[int, list[Scalar]], ids: dict, opts: dict) -> None:
    """Draw the edges into an expanded node: from the elements its scalars use, and from what they write inside."""
    nid, scalars = ids[id(node)], found[id(node)]
    for s in scalars:
        for k, index in s.inputs:
            inp = node.inputs[k]
            flows = (id(inp), id(node)) in opts["flow"]
            source = next((t for t in found.get(id(inp), ()) if t.output == index), None)
            if source is not None:  # two expanded nodes: element to element
                _edge(dot, f"{ids[id(inp)]}_{source.key}", f"{nid}_{s.key}", None, flows, source.name, opts)
            else:
                name = element(inp.name, index)
                tail = ids[id(inp)] if id(inp) not in found else f"{ids[id(inp)]}_{found[id(inp)][0].key}"
                _edge(dot, tail, f"{nid}_{s.key}", name, flows, name, opts)
    used = {k for s in scalars for k, _ in s.inputs}
    for k in sorted({k for s in scalars for k, _ in s.shows} - used):  # one edge into the frame
        inp = node.inputs[k]
        inside = [s for s in scalars if any(j == k for j, _ in s.shows)]
        extra: dict[str, Any] = dict(lhead=f"cluster_{nid}")
        tail = ids[id(inp)]
        if id(inp) in found:
            tail, extra["ltail"] = f"{tail}_{found[id(inp)][0].key}", f"cluster_{tail}"
        what = f"{inp.name}: one in each {inside[0].kind}" if len(inside) > 1 else f"{inp.name}: in {inside[0].name}"
        flows = (id(inp), id(node)) in opts["flow"]
        head = f"{nid}_{inside[-1].key}"  # (the last: the parameters sit below, element 0 stays on top)
        _edge(dot, tail, head, what, flows, inp.name, opts, **extra)


def _edge(dot: graphviz.Digraph, tail: str, head: str, label: str | None, flows: bool, of: str, opts: dict, **extra):
    """One edge; as gradient flowing back (purple, towards the input, ∂E/∂``of``) when ``flows``."""
    attrs = dict(color="#555555", arrowsize="0.6", fontsize="9", fontcolor="#555555", **extra)
    if label:
        attrs["label"] = tooltip(label)
    if flows:
        attrs.update(
            color=GRAD, fontcolor=GRAD, penwidth="2.5", dir="back", arrowsize="0.9", label=tooltip(f"∂E/∂{of}")
        )
    if opts.get("steady") is not None:  # a trace's steps: every edge keeps room for its ∂E label
        role = f"{html_text(label)}<BR/>" if label else ""
        colour = GRAD if flows else "transparent"
        attrs["label"] = f'<{role}<FONT COLOR="{colour}">{html_text(f"∂E/∂{of}")}</FONT>>'
    dot.edge(tail, head, **attrs)
