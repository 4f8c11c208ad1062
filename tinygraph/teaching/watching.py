"""What a Recording shows: the replay page's data, and the live view that updates in Jupyter.

The page itself (its HTML and script) is ``replay.py``; this module turns snapshots into what the
page draws: the network view's layout and each weight per snapshot, the loss and gradient-norm
series, and the output over the plane as bytes.
"""

from __future__ import annotations

import base64
import html
import time
from typing import Any

import numpy as np

from ..errors import GraphError
from .diagrams import render
from .drawing import GraphvizNotFound, pipe
from .network import NEGATIVE, POSITIVE, NotLayered, find_layers, weight_edges

BLUE, RED = (31, 95, 191), (214, 39, 40)  # P(class 1) = 0 and 1, as the replay page shades them
COLORS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#db2777", "#65a30d", "#854d0e", "#475569"]
MAX_POINTS = 400  # data points drawn on the plane
TRACED_NODES = 24  # larger graphs get no step-by-step traces by default (each draws the graph at every step)
LIVE_EVERY = 1.0  # seconds between updates of the live view


def in_notebook() -> bool:
    """Tell whether this runs in a Jupyter kernel (where a live view can update an output)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _norms(rec: Any) -> dict:
    """Return the gradient-norm chart's lines: ‖∂E/∂W‖ per layer (else per parameter), and δ per WeightedSum."""
    try:  # (a chain of layers: its weights, as the network view finds them)
        weights = [(f"layer {k} ({layer.W.name})", layer.W.name) for k, layer in enumerate(find_layers(rec.graph), 1)]
    except NotLayered:
        weights = [(p.name, p.name) for p in rec.graph.parameters()]
    deltas = [(f"layer {k} ({z})", z) for k, z in enumerate(rec[0].delta_norms, 1)]  # (the snapshot's own)
    return {
        "weights": [{"label": label, "values": [s.grad_norms.get(w) for s in rec]} for label, w in weights],
        "deltas": [{"label": label, "values": [s.delta_norms.get(z) for s in rec]} for label, z in deltas],
    }


def _network(rec: Any, notes: list) -> dict | None:
    try:
        graph = rec.with_parameters(0)
        layers = find_layers(graph)
        svg = pipe(render(graph, values=False, grads=False, view="network"), "svg").decode("utf-8")
    except NotLayered as exc:
        notes.append(f"No network view: this graph is not a chain of layers ({exc}).")
        return None
    except GraphvizNotFound as exc:
        notes.append(f"No network view: {exc}")
        return None
    except GraphError as exc:  # a parameter kept only as a summary
        notes.append(f"No network view: {exc}")
        return None
    edges = weight_edges(graph, layers, {"state": None})
    rows = []
    for snap in rec:
        values = []
        for _, _, _, _, W, (i, j), _ in edges:
            kept = snap.parameters[W.name]
            values.append(float(np.reshape(kept, (kept.shape[0], -1))[i, j]))
        rows.append(values)
    biggest = max((abs(w) for row in rows for w in row), default=0.0) or 1.0
    return {
        "svg": svg[svg.index("<svg") :],
        "edges": [f"{tail}->{head}" for _, _, tail, head, _, _, _ in edges],
        "weights": [[float(f"{w:.6g}") for w in row] for row in rows],
        "biggest": biggest,
        "positive": POSITIVE,
        "negative": NEGATIVE,
    }


def _labels(rows: np.ndarray) -> list:
    """Return a class label per target row, or None where the targets are not classes."""
    T = np.asarray(rows, dtype=float)
    if T.ndim == 2 and T.shape[1] > 1:
        return [int(i) for i in T.argmax(axis=1)]
    T = T.reshape(len(T))
    if np.all(T == np.round(T)) and T.min() >= 0:
        return [int(t) for t in T]
    return [None] * len(T)


def _points(rec: Any, most: int = MAX_POINTS) -> list:
    """Return [x₁, x₂, label] of up to ``most`` training points (a fixed random choice)."""
    X = next(arr for node, arr in rec.columns if node.name == rec.grid_input)  # (the Input the grid feeds)
    loss_inputs = {n.name for n in rec.graph.outputs[0].inputs}  # (the targets: what the loss compares with)
    others = [arr for node, arr in rec.columns if node.name != rec.grid_input and node.name in loss_inputs]
    others = others or [arr for node, arr in rec.columns if node.name != rec.grid_input]
    labels = _labels(others[0])[: len(X)] if others else [None] * len(X)
    pick = np.random.default_rng(0).permutation(len(X))[:most]
    return [[float(f"{X[i, 0]:.6g}"), float(f"{X[i, 1]:.6g}"), labels[i]] for i in pick]


def _boundary(rec: Any) -> dict | None:
    if rec.grid_axes is None:
        return None
    u, v = rec.grid_axes
    grids = np.stack([s.grid for s in rec]).astype(np.float64)  # (n, G, G, k)
    data: dict[str, Any] = {"size": len(u), "extent": list(rec.grid_extent), "points": _points(rec), "colors": COLORS}
    k, finite = grids.shape[-1], np.isfinite(grids).all(axis=(1, 2, 3))
    if k == 1:
        p = grids[..., 0]
        seen = p[finite] if finite.any() else np.zeros(1)
        low, high = (0.0, 1.0) if seen.min() >= 0 and seen.max() <= 1 else (float(seen.min()), float(seen.max()))
        shade = np.round(np.nan_to_num(np.clip((p - low) / max(high - low, 1e-12), 0, 1), nan=0.5) * 255)
        data.update(kind="probability", classes=2, frames=[_bytes(f) for f in shade], confidence=None)
        if (low, high) != (0.0, 1.0):  # not a probability: say what the shade is
            name = rec.graph.outputs[1].name
            data["title"] = "The network's output over the plane"
            data["caption"] = f"shade: the output {name}, from {low:.3g} (blue) through white to {high:.3g} (red). "
    else:
        grids = np.nan_to_num(grids)
        if not (grids.min() >= 0 and np.allclose(grids.sum(axis=-1), 1, atol=1e-3)):  # scores: softmax them
            grids = np.exp(grids - grids.max(axis=-1, keepdims=True))
            grids /= grids.sum(axis=-1, keepdims=True)
        classes, sure = grids.argmax(axis=-1).astype(np.uint8), np.round(grids.max(axis=-1) * 255).astype(np.uint8)
        data.update(
            kind="classes", classes=k, frames=[_bytes(f) for f in classes], confidence=[_bytes(f) for f in sure]
        )
    return data


def _bytes(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode("ascii")


def _traces(rec: Any, traces: Any, sample: int, notes: list) -> list:
    if traces is None and len(rec.graph.nodes) > TRACED_NODES:
        notes.append(
            f"No step-by-step traces by default: each draws all {len(rec.graph.nodes)} nodes at every step, megabytes "
            f"a trace (more than {TRACED_NODES} nodes); choose some with to_html(traces=[…]), or write one with "
            "rec.trace_at(k).to_html(path)."
        )
        return []
    if traces is None:
        traces = [0, (len(rec) - 1) // 2, len(rec) - 1]
    if isinstance(traces, (str, bytes, dict)) or not hasattr(traces, "__iter__"):
        raise TypeError(f"Recording.to_html: traces must be a list of snapshot indices, got {type(traces).__name__}")
    chosen = list(dict.fromkeys(rec.index(k, "Recording.to_html: traces") for k in traces))  # (checked, then traced)
    found = []
    for k in chosen:
        step = rec[k].step
        label = f"step {step}" + (" (before training)" if step == 0 else " (the end)" if k == len(rec) - 1 else "")
        try:
            trace = rec.trace_at(k, sample)
            row = sample % len(rec.columns[0][1])  # (counted from 0, whichever way it was given)
            title = f"One step of backprop at {label}, on training sample {row}"
            page = trace.to_html(title=title, network=False)  # (the replay shows the network view itself)
        except (GraphvizNotFound, GraphError) as exc:  # no dot, or parameters kept only as summaries
            notes.append(f"No step-by-step traces: {exc}")
            return []
        found.append({"snapshot": k, "label": label, "html": page})
    return found


def _arch(rec: Any) -> str:
    try:
        layers = find_layers(rec.graph)
    except NotLayered:
        return ""
    sizes = [rec.graph.shape_of(layers[0].source)[0]] + [rec.graph.shape_of(layer.z)[0] for layer in layers]
    return "-".join(map(str, sizes))


def replay_data(rec: Any, traces: Any, sample: int, title: str | None) -> dict:
    """Return everything the replay page draws, as plain JSON-able data (see replay.py)."""
    notes: list[str] = []
    snaps = rec.snapshots
    rows = len(rec.columns[0][1])
    arch = _arch(rec)
    traced = _traces(rec, traces, sample, notes)
    test = [s.test_loss for s in snaps] if snaps[0].test_loss is not None else None
    over = f"a fixed random {rec.loss_rows} of the {rows}" if rec.loss_rows < rows else f"the {rows}"
    if rec.grid_axes is None:
        notes.append(f"No decision boundary: {rec.why_no_grid}.")
    if snaps[-1].step < rec.planned[1]:
        notes.append(
            f"The run stopped at step {snaps[-1].step} of the {rec.planned[1]} planned (fit raised an error); "
            "the recording ends there."
        )
    return {
        "title": title or (f"A {arch} network learning" if arch else "Training replay"),
        "summary": (
            f"{rec.optimizer_text or 'optimizer'} · {rows} training samples, {rec.steps_per_epoch} steps an epoch · "
            f"steps {snaps[0].step} to {snaps[-1].step} · {len(snaps)} snapshots"
        ),
        "loss_label": f"mean loss over {over} training samples",
        "notes": notes,
        "step": [s.step for s in snaps],
        "epoch": [round(s.epoch, 4) for s in snaps],
        "loss": [s.loss for s in snaps],
        "test_loss": test,
        "norms": _norms(rec),
        "network": _network(rec, notes),
        "boundary": _boundary(rec),
        "traces": traced,
    }


# -- the live view ---------------------------------------------------------------------
def _curve_svg(steps: list, losses: list, width: int = 360, height: int = 200) -> str:
    """Draw a small loss curve: the training loss against the step."""
    if len(steps) < 2:
        return ""
    x0, x1, y0, y1 = steps[0], steps[-1] or 1, min(losses), max(losses)
    points = " ".join(
        f"{40 + (s - x0) / max(x1 - x0, 1) * (width - 50):.1f},"
        f"{height - 25 - (e - y0) / max(y1 - y0, 1e-12) * (height - 40):.1f}"
        for s, e in zip(steps, losses)
    )
    return (
        f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" font-size="11">'
        f'<polyline fill="none" stroke="#2563eb" stroke-width="2" points="{points}"/>'
        f'<text x="40" y="12">loss {losses[-1]:.4g} (from {losses[0]:.4g})</text>'
        f'<text x="40" y="{height - 5}">step {x0}</text><text x="{width - 80}" y="{height - 5}">step {x1}</text></svg>'
    )


def _plane_svg(rec: Any, size: int = 220) -> str:
    """Draw the output over the plane at the last snapshot, as coloured squares with the data (no script)."""
    data = _boundary(rec)  # (the page's shading: one scale for the recording so far)
    if data is None:
        return ""
    G = data["size"]
    last = np.frombuffer(base64.b64decode(data["frames"][-1]), np.uint8).reshape(G, G).astype(np.float64)
    palette = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in COLORS], dtype=np.float64)
    if data["kind"] == "probability":  # bytes to colours as the page's script maps them: blue, white, red, pale
        p = last / 255
        base, strength = np.where((p < 0.5)[..., None], BLUE, RED), 0.55 * np.abs(2 * p - 1)[..., None]
    else:  # the class's colour
        base, strength = palette[last.astype(int) % len(COLORS)], 0.45
    rgb = np.round(255 + (base - 255) * strength).astype(int)
    cell = size / G
    shapes = [
        f'<rect x="{c * cell:.1f}" y="{size - (r + 1) * cell:.1f}" width="{cell + 0.6:.1f}" height="{cell + 0.6:.1f}" '
        f'fill="#{rgb[r, c, 0]:02x}{rgb[r, c, 1]:02x}{rgb[r, c, 2]:02x}"/>'
        for r in range(G)
        for c in range(G)
    ]
    for x1, x2, label in _points(rec, 150):
        (u0, u1, v0, v1) = rec.grid_extent
        x, y = (x1 - u0) / (u1 - u0) * size, size - (x2 - v0) / (v1 - v0) * size
        color = "#777" if label is None else COLORS[label % len(COLORS)]
        shapes.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}" stroke="white" stroke-width="1"/>')
    return f'<svg width="{size}" height="{size}" xmlns="http://www.w3.org/2000/svg">{"".join(shapes)}</svg>'


class LiveView:
    """Updates one Jupyter output as snapshots come: the loss curve, the network view, the plane."""

    def __init__(self, rec: Any) -> None:
        self.rec, self.handle, self.last = rec, None, 0.0

    def __call__(self, rec: Any) -> None:
        """Redraw, at most once every LIVE_EVERY seconds, and after the last snapshot."""
        now = time.monotonic()
        if rec.next_step != -1 and now - self.last < LIVE_EVERY and self.handle is not None:
            return
        self.last = now
        from IPython.display import HTML, display

        shown = HTML(self.html())
        if self.handle is None:
            self.handle = display(shown, display_id=True)
        else:
            self.handle.update(shown)

    def html(self) -> str:
        """Return the view of the latest snapshot, as HTML with inline SVG (no script)."""
        rec, snap = self.rec, self.rec[-1]
        try:
            graph = rec.with_parameters(-1)
            network = pipe(render(graph, values=False, grads=False, view="network"), "svg").decode("utf-8")
            network = '<svg style="max-width:100%;height:auto" ' + network[network.index("<svg") + 5 :]
        except (GraphError, GraphvizNotFound) as exc:
            network = f"<p>{html.escape(str(exc))}</p>"
        head = f"step {snap.step} · epoch {snap.epoch:.2f} · loss {snap.loss:.5g}"
        curve = _curve_svg([s.step for s in rec], [s.loss for s in rec])
        return (
            f'<div class="tg-live"><b>{html.escape(head)}</b><div style="display:flex;gap:12px;'
            f'align-items:flex-start;flex-wrap:wrap">{curve}{_plane_svg(rec)}'
            f'<div style="width:560px;max-width:100%">{network}</div></div></div>'
        )
