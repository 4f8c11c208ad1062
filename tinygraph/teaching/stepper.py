"""The interactive HTML stepper and the per-step pictures of a Trace (offline: no network)."""

from __future__ import annotations

import html
import json
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..checks import output_path
from ..errors import GraphError
from .diagrams import build
from .drawing import FORMATS, HIGHLIGHT, GraphvizNotFound, measure, pipe, pipe_svgs
from .network import NotLayered, find_layers
from .typeset import CSS as TYPESET_CSS
from .typeset import SCRIPT as EXERCISE_SCRIPT
from .typeset import step_html
from .words import format_array

FULL, FIRST = 256, 8  # "full values": arrays of up to FULL numbers whole, larger ones their first FIRST
SHARED = 1000  # a node's drawing of at least this many characters is written once on a page, used by each step

_CSS = """
.tg-stepper { font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 1600px; }
.tg-stepper h1 { font-size: 20px; margin: 8px 0; }
.tg-bar { display: flex; gap: 12px; align-items: center; margin: 8px 0; flex-wrap: wrap; }
.tg-bar button { font-size: 15px; padding: 6px 16px; cursor: pointer; }
.tg-bar button:disabled { cursor: default; opacity: 0.4; }
.tg-counter { font-weight: bold; font-size: 15px; min-width: 110px; }
.tg-phase { padding: 2px 10px; border-radius: 10px; font-size: 13px; color: white; }
.tg-phase.forward { background: #047857; } .tg-phase.backward { background: #7b2cbf; }
.tg-phase.update { background: #b45309; }
.tg-hint { color: #666; font-size: 12px; }
.tg-pair { display: flex; gap: 16px; align-items: flex-start; flex-wrap: wrap; margin: 0 0 18px; }
.tg-frame { flex: 5 1 700px; overflow: auto; border: 1px solid #ddd; border-radius: 6px; padding: 4px; }
.tg-frame svg { max-width: 100%; height: auto; } .tg-shared { position: absolute; }
.tg-js .tg-frame { max-height: 80vh; cursor: grab; } .tg-js .tg-frame.tg-dragging { cursor: grabbing; }
.tg-js .tg-frame svg { max-width: none; display: block; }
.tg-zoom, .tg-views { display: inline-flex; gap: 4px; } .tg-bar .tg-zoom button { padding: 6px 10px; min-width: 38px; }
.tg-bar .tg-views button[aria-pressed="true"] { background: #334155; color: white; }
.tg-view[data-view="network"], .tg-shows-network .tg-view[data-view="graph"] { display: none; }
.tg-shows-network .tg-view[data-view="network"] { display: block; }
.tg-step { flex: 2 1 340px; min-width: 0; }
.tg-step h2 { font-size: 17px; margin: 4px 0 8px; }
.tg-step pre { background: #f7f7f9; border: 1px solid #e3e3e8; border-radius: 6px; padding: 10px;
  white-space: pre-wrap; font-size: 14px; line-height: 1.45; }
.tg-step details pre { font-size: 12px; }
.tg-bar { display: none; } .tg-js .tg-bar { display: flex; }
.tg-number { color: #666; font-weight: normal; } .tg-js .tg-number { display: none; }
.tg-js .tg-pair { display: none; margin: 0; } .tg-js .tg-pair.tg-current { display: flex; }
"""  # (without a script every step shows, in order; the script adds tg-js and shows one step at a time)

_SCRIPT = """
(function () {
  var root = document.getElementById(%(id)s);
  root.classList.add('tg-js');
  var pairs = root.querySelectorAll('.tg-pair'), texts = root.querySelectorAll('.tg-step');
  var prev = root.querySelector('.tg-prev'), next = root.querySelector('.tg-next');
  var counter = root.querySelector('.tg-counter'), phase = root.querySelector('.tg-phase');
  var n = texts.length, current = 0;
  function show(i) {
    current = Math.max(0, Math.min(n - 1, i));
    for (var k = 0; k < n; k++) {
      pairs[k].classList.toggle('tg-current', k === current);
    }
    counter.textContent = 'Step ' + (current + 1) + ' / ' + n;
    var p = texts[current].getAttribute('data-phase');
    phase.textContent = p; phase.className = 'tg-phase ' + p;
    var focused = document.activeElement;
    prev.disabled = current === 0; next.disabled = current === n - 1;
    if (focused && focused.disabled) root.focus();  // a disabled button drops focus, and the keys
    root.setAttribute('data-current', current);
    if (svgs.length) centre();
  }
  // One scale for every step: each diagram at its own size times the same zoom (1: its natural size,
  // where the text is 12 px or more); the page scrolls rather than shrinking text.
  var frames = root.querySelectorAll('.tg-frame'), zoom = 1;
  var svgs = root.querySelectorAll('.tg-frame svg'), view = 'graph';
  svgs.forEach(function (svg) { svg.dataset.w = svg.width.baseVal.value; svg.dataset.h = svg.height.baseVal.value; });
  function scale(z) {
    zoom = Math.max(0.1, Math.min(5, z));
    svgs.forEach(function (svg) {
      svg.style.width = svg.dataset.w * zoom + 'px'; svg.style.height = svg.dataset.h * zoom + 'px';
    });
    root.setAttribute('data-zoom', zoom.toFixed(4));
  }
  function shown(f) {  // the diagram of the view shown (graph or network)
    return f && (f.querySelector('.tg-view[data-view="' + view + '"] svg') || f.querySelector('svg'));
  }
  root.querySelectorAll('.tg-views button').forEach(function (b) {
    b.addEventListener('click', function () {
      view = b.getAttribute('data-view');
      root.classList.toggle('tg-shows-network', view === 'network');
      root.querySelectorAll('.tg-views button').forEach(function (o) { o.setAttribute('aria-pressed', o === b); });
      root.setAttribute('data-view', view);
      centre();
    });
  });
  function fit() {
    var f = pairs[current].querySelector('.tg-frame'), svg = shown(f);
    if (svg) scale(Math.min((f.clientWidth - 12) / svg.dataset.w, 0.8 * window.innerHeight / svg.dataset.h));
  }
  root.querySelector('.tg-in').addEventListener('click', function () { scale(zoom * 1.25); });
  root.querySelector('.tg-out').addEventListener('click', function () { scale(zoom / 1.25); });
  root.querySelector('.tg-fit').addEventListener('click', fit);
  root.querySelector('.tg-one').addEventListener('click', function () { scale(1); });
  frames.forEach(function (f) {
    f.addEventListener('wheel', function (e) {  // ctrl (or a pinch) and the wheel zoom; the wheel alone scrolls
      if (!e.ctrlKey && !e.metaKey) return;
      e.preventDefault(); scale(zoom * Math.exp(-Math.max(-1, Math.min(1, e.deltaY / 100)) * 0.1));
    }, {passive: false});
    var from = null;  // drag to pan
    f.addEventListener('mousedown', function (e) {
      if (e.button !== 0 || e.target === f) return;  // (the left button, on the diagram: not on a scrollbar)
      from = [e.clientX, e.clientY]; f.classList.add('tg-dragging'); e.preventDefault();
    });
    window.addEventListener('mouseup', function () { from = null; f.classList.remove('tg-dragging'); });
    f.addEventListener('mousemove', function (e) {
      if (!from) return;
      f.scrollLeft -= e.clientX - from[0]; f.scrollTop -= e.clientY - from[1]; from = [e.clientX, e.clientY];
      e.preventDefault();
    });
  });
  function centre() {  // bring the step's orange node into view
    var f = pairs[current].querySelector('.tg-frame'), box = f && f.getBoundingClientRect(), mark = null;
    var svg = shown(f);
    svg && svg.querySelectorAll('g.node').forEach(function (g) {
      if (!mark && g.querySelector('[stroke="%(highlight)s"]')) mark = g;
    });
    if (!mark || !box.width) return;
    var r = mark.getBoundingClientRect();
    f.scrollLeft += r.left + r.width / 2 - (box.left + box.width / 2);
    f.scrollTop += r.top + r.height / 2 - (box.top + box.height / 2);
  }
  scale(1);
  prev.addEventListener('click', function () { show(current - 1); });
  next.addEventListener('click', function () { show(current + 1); });
  var keys = %(global_keys)s ? document : root;
  keys.addEventListener('keydown', function (e) {
    if (e.altKey || e.ctrlKey || e.metaKey) return;  // (the browser's own zoom, back and forward)
    if (e.key === 'ArrowRight') { show(current + 1); e.preventDefault(); }
    if (e.key === 'ArrowLeft') { show(current - 1); e.preventDefault(); }
    if (e.key === '+' || e.key === '=') { scale(zoom * 1.25); e.preventDefault(); }
    if (e.key === '-') { scale(zoom / 1.25); e.preventDefault(); }
    if (e.key === '0') { fit(); e.preventDefault(); }
  });
  show(0);
})();
"""


def _draw(trace, step, view, steady=None, title=None, expand=None):
    """Draw the graph as it stood at ``step``, its node and flow marked; what is still to come as "…"."""
    final = trace.steps[-1].state
    later_values = [
        n for n in trace.graph.nodes if step.state.get(n, (None,))[0] is None and final.get(n, (None,))[0] is not None
    ]
    later_grads = [
        n
        for n in trace.graph.nodes
        if step.state.get(n, (None, None))[1] is None and final.get(n, (None, None))[1] is not None
    ]
    return build(
        trace.graph, True, True, view, step.highlight, step.flow, min(trace.precision, 3), title,
        later_values, later_grads, step.state, steady=steady, expand=expand,
        passed=_passed(trace) if expand and step.phase == "update" else None,
    )  # fmt: skip


def _passed(trace):
    """Return the state after the backward pass: what the forward and backward pass computed, before any update."""
    backward = trace.phase("backward")
    return backward[-1].state if backward else None


def drawings(trace, view, titles=None, exercise=False, expand=None):
    """Draw every step of the trace in one layout: each node at the largest size any step needs.

    A first pass measures every node of every step in one ``dot`` run; the second draws the
    steps with those sizes and one legend, so only the highlight and the labels change.  For an
    exercise each step is drawn with the numbers known before it (the step before's), so that
    the picture does not give its answers away.  ``expand``: the nodes the graph view opens
    up into their scalars (as ``render``'s).
    """
    titles = titles or [None] * len(trace.steps)
    steps = list(trace.steps)
    if exercise:
        steps = [steps[0]] + [replace(step, state=before.state) for before, step in zip(steps, steps[1:])]
    first = [_draw(trace, step, view, {}, title, expand) for step, title in zip(steps, titles)]
    sizes = measure(first)
    return [_draw(trace, step, view, sizes, title, expand) for step, title in zip(steps, titles)]


def _svg(dot):
    """Draw one diagram as an SVG element to inline in a page."""
    svg = pipe(dot, "svg").decode("utf-8")
    return _inline(svg[svg.index("<svg") :])  # (without the XML prolog and doctype)


def _svgs(dots, runs):
    """Draw the diagrams as ``_svg`` does, in about ``runs`` ``dot`` runs at once (each starts slowly)."""
    size = max(1, -(-len(dots) // runs))
    chunks = [dots[i : i + size] for i in range(0, len(dots), size)]
    with ThreadPoolExecutor(max_workers=len(chunks)) as pool:  # (each run is a process of its own)
        return [_inline(svg) for chunk in pool.map(pipe_svgs, chunks) for svg in chunk]


def _inline(svg):
    return svg.replace(' fill="#fffffe">', ' fill="none">')  # (Graphviz writes transparent text as near-white)


_EXERCISE_NOTE = (
    '<p class="tg-exercise-note"><b>Exercise:</b> work out each number in a box from the formula and the '
    "numbers before it and type it; Enter (or “check”) marks it. It is right within 0.1%% of the engine's "
    "number, or within what the %d significant digits shown allow. Each diagram shows what is known before "
    "its step; “answer” shows the line with its number.</p>"
)


def _full_values(step):
    """Write the arrays behind a step's numbers: whole up to FULL numbers, else their shape and first numbers.

    (The step keeps them whole, in ``step.arrays``: a page of a batch's every number would
    be megabytes that nobody reads.)
    """
    parts, cut = [], False
    for key, value in step.arrays.items():
        a = np.asarray(value)
        if a.size <= FULL:
            text = np.array2string(a, precision=8, threshold=FULL, max_line_width=100)
        else:  # its shape, mean and norm, as the diagrams write it, and its first row
            first = a[(0,) * (a.ndim - 1)][:FIRST]
            where = ", ".join(["0"] * (a.ndim - 1) + [f":{FIRST}" if a.shape[-1] > FIRST else ":"])
            numbers = np.array2string(first, precision=8, max_line_width=100)
            text, cut = f"{format_array(a, 8, FULL)}\n{key}[{where}] = {numbers}", True
        parts.append(f"{key} =\n{text}")
    if cut:
        parts.append(f"(arrays of more than {FULL} numbers are cut short here; step.arrays in Python has them whole)")
    return "\n\n".join(parts)


_NODE_BODY = re.compile(r'(<g id="a_node\d+"><a [^>]*>\n)(.*?)(\n</a>\n</g>\n</g>)', re.S)  # (Graphviz's SVG)


def _share(drawn, uid):
    """Write each large node drawing once, in a hidden SVG's defs; every step that shows it uses it.

    Most of a node's drawing does not change from step to step (the feature maps of a CNN
    are most of its page), so the steps share it; the node of each step, in orange, keeps
    its own.  Return the SVGs by view, and the hidden SVG to put on the page before them.
    """
    defs: dict[str, str] = {}

    def use(found):
        body = found.group(2)
        if len(body) < SHARED or HIGHLIGHT in body:
            return found.group(0)
        ref = defs.setdefault(body, f"{uid}-{len(defs)}")
        return f'{found.group(1)}<use href="#{ref}"/>{found.group(3)}'

    shared = {view: [_NODE_BODY.sub(use, svg) for svg in svgs] for view, svgs in drawn.items()}
    parts = "".join(f'<g id="{ref}">\n{body}\n</g>' for body, ref in defs.items())
    return shared, f'<svg class="tg-shared" width="0" height="0" aria-hidden="true"><defs>{parts}</defs></svg>'


def _views(trace, network):
    """Return the views each step is drawn in: the graph, and its neurons for a layered network (unless False)."""
    if network is False:
        return ["graph"]
    try:
        find_layers(trace.graph, partial=True)
    except NotLayered:
        return ["graph"]
    return ["graph", "network"]


def _body(trace, uid, views, global_keys, exercise=False, expand=None):
    pairs = []
    opened = {view: expand if view == "graph" else None for view in views}  # (the network view has neurons)
    with ThreadPoolExecutor(max_workers=len(views)) as pool:  # (each view measures its nodes in a dot run)
        dots = list(pool.map(lambda view: drawings(trace, view, exercise=exercise, expand=opened[view]), views))
    drawn = {view: _svgs(d, min(4, os.cpu_count() or 1)) for view, d in zip(views, dots)}
    drawn, shared = _share(drawn, uid)
    for i, step in enumerate(trace.steps):
        names = " ".join(n.name for n in step.highlight)
        svg = "".join(f'<div class="tg-view" data-view="{view}">{drawn[view][i]}</div>' for view in views)
        pairs.append(
            f'<div class="tg-pair" data-step="{i}"><div class="tg-frame">{svg}</div>'
            f'<div class="tg-step" data-step="{i}" data-phase="{step.phase}" data-nodes="{html.escape(names)}">'
            f'<h2><span class="tg-number">{i + 1}/{len(trace.steps)} {step.phase} · </span>'
            f'<span class="tg-title">{html.escape(step.title)}'
            f"</span></h2>{step_html(step, trace.numbers, exercise)}"
            + ("" if exercise else f"<details><summary>full values</summary><pre>{html.escape(_full_values(step))}")
            + ("</div></div>" if exercise else "</pre></details></div></div>")
        )
    script = _SCRIPT % {
        "id": json.dumps(uid),
        "global_keys": "true" if global_keys else "false",
        "highlight": HIGHLIGHT,
    }
    return (
        f'<div class="tg-stepper" id="{uid}" tabindex="0">'
        '<div class="tg-bar"><button class="tg-prev" type="button">◀ Previous</button>'
        '<button class="tg-next" type="button">Next ▶</button>'
        '<span class="tg-counter"></span><span class="tg-phase"></span>'
        '<span class="tg-zoom"><button class="tg-out" type="button" title="zoom out (−)">−</button>'
        '<button class="tg-in" type="button" title="zoom in (+)">+</button>'
        '<button class="tg-fit" type="button" title="fit the diagram (0)">fit</button>'
        '<button class="tg-one" type="button" title="natural size">100%</button></span>'
        + (
            '<span class="tg-views"><button type="button" data-view="graph" aria-pressed="true">graph view</button>'
            '<button type="button" data-view="network" aria-pressed="false">network view</button></span>'
            if len(views) > 1
            else ""
        )
        + '<span class="tg-hint">← → step · + − 0 or ctrl + wheel zoom · drag to pan</span></div>'
        f'<div class="tg-main">{shared}{"".join(pairs)}</div>'
        f"<script>{script}{EXERCISE_SCRIPT % {'id': json.dumps(uid), 'precision': trace.precision} if exercise else ''}"
        "</script></div>"
    )


def _unique_id():
    """Return a fresh id for a stepper's element: unique across kernels (two notebooks' outputs on one page)."""
    return f"tg-trace-{uuid.uuid4().hex[:12]}"


def page(trace, title, network=None, exercise=False, expand=None):
    """Write a whole HTML page: one file, no outside resources."""
    uid = _unique_id()
    summary = (
        f"Loss E = {trace.loss:.6g}; {len(trace.phase('forward'))} forward, "
        f"{len(trace.phase('backward'))} backward and {len(trace.phase('update'))} update steps"
        + (f"; learning rate η = {trace.lr:g}" if trace.phase("update") else "")
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_CSS}{TYPESET_CSS}</style></head><body>"
        f'<div class="tg-stepper"><h1>{html.escape(title)}</h1><p>{html.escape(summary)}. '
        "Orange: the node this step is about. Purple arrows: the gradient flowing back.</p>"
        + (_EXERCISE_NOTE % trace.precision if exercise else "")
        + "</div>"
        f"{_body(trace, uid, _views(trace, network), global_keys=True, exercise=exercise, expand=expand)}"
        "</body></html>\n"
    )


def widget(trace, network=None):
    """Write the stepper for Jupyter: keys work when it has focus (click it first).

    Without Graphviz it is the trace's text, with a note, so that a notebook cell still shows
    every step instead of an error.
    """
    uid = _unique_id()
    try:
        return f"<style>{_CSS}{TYPESET_CSS}</style>{_body(trace, uid, _views(trace, network), global_keys=False)}"
    except GraphvizNotFound as missing:
        note = html.escape(f"The diagrams need Graphviz: {missing}")
        return f'<div class="tg-text-only"><p><em>{note}</em></p><pre>{html.escape(str(trace))}</pre></div>'


def frames(trace, folder, format="png", view="graph"):
    """Write ``step_01.<format>``, ``step_02.<format>`` …: one picture per step, its text as the caption.

    The numbers have as many digits as the count of steps needs.
    """
    if format not in FORMATS:
        raise GraphError(f"render_frames: format must be one of {FORMATS}, got {format!r}")
    folder = Path(output_path("render_frames", folder, folder=True))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    width = len(str(len(trace.steps)))
    captions = [
        f"Step {i}/{len(trace.steps)} ({step.phase}): {step.title}\n" + "\n".join(step.lines)
        for i, step in enumerate(trace.steps, start=1)
    ]
    for i, dot in enumerate(drawings(trace, view, captions), start=1):
        data = pipe(dot, format)
        path = folder / f"step_{i:0{width}d}.{format}"
        path.write_bytes(data)
        paths.append(str(path))
    return paths
