"""The textbook drawing of a layered network: a circle per neuron, a line per weight."""

from __future__ import annotations

from collections import namedtuple

import graphviz
import numpy as np

from ..core import Graph, topological_order
from .drawing import GRAD, HIGHLIGHT, batched, colored, hover, html_text, is_loss, row, top_label, value_of
from .words import format_array, number

POSITIVE, NEGATIVE = "#1f5fbf", "#d62728"  # weight signs
MAX_COLUMN, SHOW_FIRST = 16, 3  # wider layers: first 3 neurons, "⋮ N more", the last
MAX_LABELLED_WEIGHTS, MAX_LABELLED_FANOUT = 40, 3  # beyond these, weights are shown by width only

_Layer = namedtuple("_Layer", "source one W b z act")  # one: the AppendOne node, or None


class NotLayered(Exception):
    """The graph is not a single chain of layers: the network view draws the graph view instead."""


def image_part(graph: Graph) -> list:
    """Return the nodes computed from the data whose samples have more than one axis (images, say), in order."""
    data: set[int] = set()
    for node in graph.nodes:
        if node.role == "input" or any(id(i) in data for i in node.inputs):
            data.add(id(node))
    return [n for n in graph.nodes if id(n) in data and len(graph.shape_of(n) or ()) > 1]


def find_layers(graph: Graph, partial: bool = False) -> list:
    """Find the _Layers of a chain Input → [AppendOne] → WeightedSum → [activation] → …, in order.

    ``partial``: for a graph of images (see ``image_part``), the chain that starts at the one
    vector made from them (a Flatten's output, say): its fully connected part.
    """

    def next_nodes(node):
        return [c for c in graph.consumers(node) if c.layer_role == "weighted sum" or not is_loss(c, graph)]

    def feeds_layer(node):
        return any(c.layer_role in ("weighted sum", "bias input") for c in next_nodes(node))

    starts: list = [i for i in graph.inputs if feeds_layer(i)]
    images, before = image_part(graph) if partial and not starts else [], set()
    if images:  # the vectors made from the images that feed a layer: where the fully connected part starts
        made = _after(graph, images)
        starts = [n for n in graph.nodes if id(n) in made and len(graph.shape_of(n) or ()) == 1 and feeds_layer(n)]
        if not starts:
            raise NotLayered(
                f"the network view does not apply: {_names(images)} have samples of more than one axis (images) "
                "and no fully connected layers follow them"
            )
        starts, before = starts[:1], _before(starts[0])  # (the first: the layers after it must be a chain)
    if len(starts) != 1:
        raise NotLayered(f"{len(starts)} Inputs feed a WeightedSum; a layered network has one")
    cur = starts[0]
    if graph.shape_of(cur) is None or len(graph.shape_of(cur)) != 1:
        raise NotLayered(f"Input '{cur.name}' is not a vector of features")
    layers = []
    while next_nodes(cur):
        after = next_nodes(cur)
        if len(after) != 1:
            raise NotLayered(
                f"{cur.kind} '{cur.name}' feeds {len(after)} nodes: " + ", ".join(f"'{n.name}'" for n in after)
            )
        one = after[0] if after[0].layer_role == "bias input" else None
        z = (next_nodes(one) + [None])[0] if one else after[0]
        W = z.inputs[1] if z is not None and z.layer_role == "weighted sum" and len(z.inputs) > 1 else None
        b = z.inputs[2] if W is not None and len(z.inputs) == 3 else None
        if (
            W is None
            or z.inputs[0] is not (one or cur)
            or W.role != "parameter"
            or len(W.shape) not in (1, 2)
            or (b is not None and b.role != "parameter")
        ):
            raise NotLayered(f"'{(one or cur).name}' is not followed by a WeightedSum with Parameter weights")
        if any(len(graph.consumers(p)) > 1 for p in (W, b) if p is not None):
            raise NotLayered(f"the weights of '{z.name}' are shared with another node")
        act = next_nodes(z)
        act = act[0] if len(act) == 1 and act[0].layer_role == "activation" else None
        layers.append(_Layer(cur, one, W, b, z, act))
        cur = act or z
    if not layers:
        raise NotLayered("no WeightedSum layers")
    inside = {id(layers[0].source)} | {id(n) for layer in layers for n in layer[1:] if n is not None}
    for node in graph.nodes:
        if (
            id(node) not in inside | before
            and not is_loss(node, graph)
            and (node.inputs or any(not is_loss(c, graph) for c in graph.consumers(node)))
        ):
            raise NotLayered(f"{node.kind} '{node.name}' is not part of a single chain of layers")
    return layers


def _after(graph, nodes):
    """Return the ids of the nodes computed from ``nodes`` (not theirs)."""
    found = {id(n) for n in nodes}
    for node in graph.nodes:
        if any(id(i) in found for i in node.inputs):
            found.add(id(node))
    return found - {id(n) for n in nodes}


def _before(node):
    """Return the ids of the nodes ``node`` is computed from (not its own)."""
    return {id(n) for n in topological_order([node]) if n is not node}


def _names(nodes):
    """Name the first four of ``nodes``, quoted, with "…" for the rest."""
    return ", ".join(f"'{n.name}'" for n in nodes[:4]) + (" …" if len(nodes) > 4 else "")


def _shown(n):
    """Return the neuron indices drawn for a column of ``n`` (None: the '⋮ more' mark)."""
    return list(range(n)) if n <= MAX_COLUMN else list(range(SHOW_FIRST)) + [None, n - 1]


def _columns(graph, layers):
    """Column 0 is the Input; column k the neurons of layer k (output node, z, bias)."""
    x = layers[0].source
    first = "input" if x.role == "input" else "from the images"  # (a partial view: the fully connected part)
    columns = [dict(out=x, z=None, b=None, header=f"{first}<BR/>{html_text(x.name)}", fill="#dbeafe")]
    for k, layer in enumerate(layers, start=1):
        out, last = layer.act or layer.z, k == len(layers)
        what = f"{out.name} = {layer.act.kind}({layer.z.name})" if layer.act else out.name
        columns.append(
            dict(
                out=out,
                z=layer.z,
                b=layer.b,
                fill="#d1fae5" if last else "#ecfdf5",
                header=f"{'output' if last else f'hidden layer {k}'}<BR/>{html_text(what)}",
            )
        )
    for k, col in enumerate(columns):  # the constant-1 neuron that layer k + 1 appends
        col["one"] = layers[k].one if k < len(layers) else None
        shape = graph.shape_of(col["out"])
        col["n"] = shape[0] if shape else 1
    return columns


def _neuron_lines(graph, k, j, col, opts):
    """Return the label lines of neuron j of column k, as (plain text, HTML) pairs."""
    p, out, z = opts["precision"], col["out"], col["z"]
    name = f"{out.name}[{j}]" if col["n"] > 1 else out.name
    lines = [(name, f"<B>{html_text(name)}</B>")]
    values = [
        ("+b", row(graph, col["b"], opts)),
        ("z", row(graph, z, opts) if z is not out else None),
        ("x" if k == 0 else "y", row(graph, out, opts)),
    ]
    for symbol, v in values if opts["values"] else ():
        if v is not None:
            text = f"{symbol} = {number(v[j], p)}"
            lines.append(
                (
                    text,
                    f'<FONT POINT-SIZE="9" COLOR="#555555">{text}</FONT>'
                    if symbol == "+b"
                    else f"<B>{text}</B>"
                    if symbol in "xy"
                    else text,
                )
            )
    grad = row(graph, z if z is not None else out, opts, grad=True) if opts["grads"] else None
    if grad is not None:
        text = f"{'∂E/∂x' if k == 0 else 'δ'} = {number(grad[j], p)}"
        lines.append((text, colored(text, GRAD)))
    return lines


def _marks(graph, layers, opts):
    """Attributes of highlighted / gradient-flow neurons (by column) and weight edges (by layer)."""
    column_of = {id(layers[0].source): 0}
    for k, layer in enumerate(layers, start=1):
        column_of.update({id(n): k for n in (layer.z, layer.act, layer.b) if n is not None})
        if layer.one is not None:
            column_of[id(layer.one)] = ("one", k - 1)
    column_of.update({id(n): len(layers) for n in graph.nodes if is_loss(n, graph)})
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


def weight_edges(graph, layers, opts):
    """(layer, part, tail id, head id, W, (i, j), w_ij) for every weight between drawn neurons."""
    edges = []
    for k, layer in enumerate(layers, start=1):
        w = value_of(layer.W, opts)
        w = np.full(layer.W.shape, np.nan) if w is None else w  # nan: no value yet
        w, n_in = w.reshape(layer.W.shape[0], -1), graph.shape_of(layer.source)[0]
        for j in [j for j in _shown(w.shape[1]) if j is not None]:
            edges += [
                (k, "x", f"L{k - 1}_{i}", f"L{k}_{j}", layer.W, (i, j), w[i, j]) for i in _shown(n_in) if i is not None
            ]
            if layer.one is not None:
                edges.append((k, "one", f"L{k - 1}_one", f"L{k}_{j}", layer.W, (n_in, j), w[n_in, j]))
    return edges


def _diameter(lines):
    """Rough diameter in inches of the circle around label lines (0.08 inch a character)."""
    width, height = max(len(plain) for plain, _ in lines) * 0.08 + 0.15, len(lines) * 0.17 + 0.1
    return max(0.6, float(np.hypot(width, height)))


def network_view(dot: graphviz.Digraph, graph: Graph, layers: list, opts: dict) -> None:
    """Columns of circles at fixed places (neato layout), a straight edge per drawn weight."""
    p, columns = opts["precision"], _columns(graph, layers)
    neuron_marks, edge_marks = _marks(graph, layers, opts)
    drawn = []  # per column: (node id, label lines, attributes)
    for k, col in enumerate(columns):
        circle = dict(shape="circle", style="filled", fillcolor=col["fill"], color="#334155")
        hidden = col["n"] - SHOW_FIRST - 1
        items = [
            (f"L{k}_{j}", _neuron_lines(graph, k, j, col, opts), {**circle, **neuron_marks.get(k, {})})
            if j is not None
            else (f"L{k}_more", [(f"⋮ {hidden} more", f"⋮<BR/>{hidden} more")], dict(shape="plaintext"))
            for j in _shown(col["n"])
        ]
        if col["one"] is not None:
            circle.update(style="filled,dashed", fillcolor="white", color="#64748b")
            items.append(
                (
                    f"L{k}_one",
                    [("1", "<B>1</B>"), ("bias", '<FONT POINT-SIZE="9">bias</FONT>')],
                    {**circle, **neuron_marks.get(("one", k), {})},
                )
            )
        drawn.append(items)
    size = max(_diameter(lines) for items in drawn for _, lines, _ in items)
    steady = opts.get("steady")
    if steady:  # a trace's steps: every circle at the largest size any step needs, so nothing moves
        circles = [steady[i] for items in drawn for i, _, a in items if a.get("shape") == "circle" and i in steady]
        size = max([size] + [max(w, h) for w, h in circles])
        for items in drawn:
            for _, _, a in items:
                if a.get("shape") == "circle":
                    a.update(width=f"{size:.4f}", height=f"{size:.4f}", fixedsize="true")
    dx, dy = size + 1.7, size + 0.3
    dot.engine = "neato"
    dot.attr(layout="neato", splines="false", outputorder="edgesfirst")
    for k, (col, items) in enumerate(zip(columns, drawn)):
        top = (len(items) - 1) / 2 * dy
        with dot.subgraph(name=f"cluster_{k}") as c:
            c.attr(label=f"<{col['header']}>", fontsize="11", fontcolor="#334155", color="#cbd5e1", style="rounded")
            c.node(
                f"L{k}_header",
                "",
                style="invis",
                width=f"{max(min(size, 1.2), 0.08 * max(map(len, col['header'].split('<BR/>')))):.2f}",  # (its label)
                height="0.45",
                pos=f"{k * dx:.2f},{top + size / 2 + 0.3:.2f}!",
            )  # room for the column's label
            for i, (node_id, lines, attrs) in enumerate(items):
                rows = "".join(f"<TR><TD>{h}</TD></TR>" for _, h in lines)
                c.node(
                    node_id,
                    f'<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>>',
                    pos=f"{k * dx:.2f},{top - i * dy:.2f}!",
                    tooltip=hover(lines[0][0]),
                    **attrs,
                )
    if opts.get("steady") == {}:  # (a trace's measuring pass: only the neurons' sizes are wanted)
        return
    weights = weight_edges(graph, layers, opts)
    biggest = np.nanmax([abs(e[-1]) for e in weights] + [1e-12])
    labelled = (
        opts["values"]
        and len(weights) <= MAX_LABELLED_WEIGHTS
        and max(len(_shown(col["n"])) for col in columns[1:]) <= MAX_LABELLED_FANOUT
    )
    for k, part, tail, head, W, (i, j), w in weights:
        attrs = dict(
            color=POSITIVE if w >= 0 else NEGATIVE if w < 0 else "#94a3b8",
            arrowsize="0.6",
            penwidth=f"{0.6 + 3.4 * abs(w) / biggest:.2f}" if w == w else "1",
            tooltip=hover(f"{W.name}[{i},{j}] = {number(w, p)}"),
        )
        if labelled and w == w:  # on the line near the tail, where the edges of one neuron fan out
            attrs.update(
                taillabel=f'<<TABLE BORDER="0" CELLPADDING="1" BGCOLOR="white"><TR><TD>'
                f"{number(w, p)}</TD></TR></TABLE>>",
                labelfontsize="9",
                labelfontcolor=attrs["color"],
                labeldistance="3.5",
                labelangle="0",
            )
        attrs.update(edge_marks.get((k, part), edge_marks.get((k, "all"), {})))
        dot.edge(tail, head, **attrs)
    dot.attr(
        label=top_label(
            _network_legend(graph, layers, columns, drawn, labelled, opts), opts["title"], _note(graph, layers)
        )
    )


def _note(graph, layers):
    """Say what a partial view leaves out: the nodes of images before the fully connected part."""
    x = layers[0].source
    if x.role == "input":
        return None
    images = image_part(graph)
    return (
        f"the network view draws only the fully connected part, from '{x.name}' on;\n{_names(images)} "
        "have samples of more than one axis (images): they are drawn in the graph view"
    )


def _network_legend(graph, layers, columns, drawn, labelled, opts):
    keys = [
        colored("━ positive weight", POSITIVE),
        colored("━ negative weight", NEGATIVE),
        "line width ∝ |w|" + (", numbers on the lines: the weights w" if labelled else ""),
    ]
    if any(col["one"] is not None for col in columns):
        keys.append("dashed 1: constant bias input (its weights are the biases)")
    if any(col["n"] > MAX_COLUMN for col in columns):
        keys.append("⋮ N more: neurons not drawn, nor their weights")
    steady = opts.get("steady") is not None  # (a trace's steps: the same legend in every step)
    if opts["highlight"] or steady:
        keys.append(colored("orange: highlighted", HIGHLIGHT))
    if opts["flow"] or steady:
        keys.append(colored("purple: gradient flowing back", GRAD))
    shown = {plain.split(" = ")[0] for items in drawn for _, lines, _ in items for plain, _ in lines}
    if steady:  # every symbol a step will show, from the first step on
        shown |= {"z", "y", "δ"} | ({"+b"} if any(layer.b is not None for layer in layers) else set())
    bias = "+b" in shown
    neuron = [
        text
        for symbol, text in [
            ("+b", "+b: bias"),
            ("z", f"z = Σ w·x{' + b' * bias}: weighted input"),
            ("y", "y: output of the neuron"),
            ("δ", colored("δ = ∂E/∂z: gradient of the loss at z", GRAD)),
        ]
        if symbol in shown
    ]
    facts, x, p = [], layers[0].source, opts["precision"]
    x_value = value_of(x, opts)
    if opts["values"] and x_value is not None and batched(graph, x, x_value):
        facts.append(f"batch of {len(x_value)}: showing the first sample (row 0)")
    loss = graph.outputs[0]
    if is_loss(loss, graph) and value_of(loss, opts) is not None and opts["values"]:
        t = [n for n in loss.inputs if n.role == "input" and value_of(n, opts) is not None]
        target = f", target {t[0].name} = {format_array(row(graph, t[0], opts), p)}".replace("\n", "") if t else ""
        facts.append(f"{loss.kind} {loss.name} = {number(value_of(loss, opts), p)}{target}")
    elif steady and is_loss(loss, graph) and opts["values"]:
        facts.append(f"{loss.kind} {loss.name} = …")
    rows = [
        "arrows: data flow (forward); gradients flow backwards",
        " · ".join(keys),
        " · ".join(neuron),
        html_text(" · ".join(facts)),
    ]
    return [row for row in rows if row]
