"""The replay page of a Recording: one offline HTML file that plays a network's training back, snapshot by snapshot."""

import html
import json
import math
from typing import Any

import numpy as np

from ..errors import GraphError

_CSS = """
body { margin: 0; background: #f6f6f8; }
.tg-replay { font: 14px Helvetica, Arial, sans-serif; color: #222; max-width: 1400px; margin: 0 auto;
  padding: 0 16px 24px; }
.tg-replay h1 { font-size: 22px; margin: 14px 0 4px; } .tg-summary { margin: 2px 0; color: #444; }
.tg-note { margin: 2px 0; color: #8a5300; font-size: 13px; }
.tg-bar { position: sticky; top: 0; z-index: 5; display: flex; gap: 14px; align-items: center; flex-wrap: wrap;
  background: #fff; border-bottom: 1px solid #ddd; box-shadow: 0 2px 4px rgba(0,0,0,.06); margin: 10px -16px 14px;
  padding: 10px 16px; }
.tg-bar button, .tg-panel button { font-size: 14px; padding: 6px 14px; cursor: pointer; } #tg-play { min-width: 100px; }
#tg-slider { flex: 1 1 100%; order: 9; } .tg-hint { color: #666; font-size: 12px; }
#tg-counter { font-weight: bold; font-variant-numeric: tabular-nums; }
.tg-panels { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 14px; align-items: start;}
.tg-panel { background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: 10px 14px; min-width: 0; }
.tg-panel h2 { font-size: 16px; margin: 0 0 8px; } .tg-wide { grid-column: 1 / -1; }
.tg-caption { font-size: 13px; color: #555; margin: 6px 0 0; }
#tg-network svg { display: block; width: 100%; height: auto; max-height: 640px; cursor: zoom-in; }
#tg-network.tg-actual { overflow: auto; max-height: 640px; }
#tg-network.tg-actual svg { width: auto; max-height: none; cursor: zoom-out; }
#tg-boundary { display: block; margin: 0 auto; max-width: 100%; }
svg.tg-chart { display: block; width: 100%; height: auto; font-size: 13px; }
.tg-chart text { fill: #333; } .tg-chart .tg-gridline { stroke: #e6e6e6; }
.tg-legend { display: flex; flex-wrap: wrap; gap: 4px 18px; font-size: 13px; margin-top: 4px; }
.tg-key i { display: inline-block; width: 16px; height: 4px; margin-right: 5px; vertical-align: middle; }
.tg-key i.tg-dotkey { width: 10px; height: 10px; border-radius: 5px; }
.tg-key b { font-weight: normal; font-variant-numeric: tabular-nums; color: #555; }
.tg-toggle { margin-bottom: 6px; } .tg-toggle button[aria-pressed="true"] { background: #334155; color: #fff; }
#tg-traces button { margin: 4px 8px 4px 0; } #tg-trace-frame { flex: 1; width: 100%; border: 0; }
#tg-trace-dialog { width: 94vw; height: 90vh; padding: 0; border: 1px solid #888; border-radius: 8px; }
#tg-trace-dialog[open] { display: flex; flex-direction: column; }
.tg-dialog-bar { display: flex; justify-content: space-between; align-items: center; padding: 8px 14px;
  border-bottom: 1px solid #ddd; font-family: Helvetica, Arial, sans-serif; }
"""

_SCRIPT = r"""
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("tg-data").textContent);
  const root = document.getElementById("tg-replay"), counter = document.getElementById("tg-counter");
  const slider = document.getElementById("tg-slider"), play = document.getElementById("tg-play");
  const dialog = document.getElementById("tg-trace-dialog");
  const n = data.step.length, views = [];  // views: the functions that redraw a section for snapshot i
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf"];
  let current = 0, timer = null;

  // Numbers: `digits` significant digits, powers of ten for the very small and very large.
  const num = (x, digits) => x == null ? "–" : x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)
    ? x.toExponential(digits - 1) : String(Number(x.toPrecision(digits)));
  const power = k => "10" + String(k).replace("-", "⁻").replace(/\d/g, d => "⁰¹²³⁴⁵⁶⁷⁸⁹"[d]);
  const lowest = a => a.reduce((x, y) => Math.min(x, y), Infinity), highest = a => -lowest(a.map(v => -v));
  const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);

  // About `count` round tick values (1, 2 or 5 times a power of ten) covering lo..hi.
  function ticks(lo, hi, count, whole) {
    if (!(hi > lo)) { lo -= 1; hi += 1; }
    let step = Math.pow(10, Math.floor(Math.log10((hi - lo) / count)));
    const err = (hi - lo) / count / step;
    step *= err >= 7.5 ? 10 : err >= 3.5 ? 5 : err >= 1.5 ? 2 : 1;
    if (whole) step = Math.max(1, Math.round(step));
    const a = Math.floor(lo / step + 1e-9) * step, b = Math.ceil(hi / step - 1e-9) * step, values = [];
    for (let v = a; v <= b + step / 2; v += step) values.push(Number(v.toPrecision(12)));
    return {lo: a, hi: b, values: values.map(v => [v, String(v)])};
  }

  // Decades 10^k covering the positive values (a 0 is drawn at the bottom), at most about 7 labelled.
  function logTicks(values) {
    const pos = values.filter(v => v > 0), none = !pos.length;
    let lo = none ? -1 : Math.floor(Math.log10(lowest(pos))), hi = none ? 0 : Math.ceil(Math.log10(highest(pos)));
    if (hi <= lo) hi = lo + 1;
    const every = Math.ceil((hi - lo) / 7), out = [];
    for (let k = lo; k <= hi; k += every) out.push([k, power(k)]);
    return {lo: lo, hi: hi, values: out};
  }

  // A line chart in an <svg>: x = training step, one line per series, a cursor at the current snapshot.
  function lineChart(svg, legend) {
    const W = 560, H = 300, L = 62, R = 26, T = 30, B = 44, pw = W - L - R, ph = H - T - B;
    const x0 = data.step[0], x1 = data.step[n - 1] > x0 ? data.step[n - 1] : x0 + 1;  // the x axis: exactly the steps
    const xt = ticks(x0, x1, 6, true).values.filter(([v]) => v >= x0 && v <= x1);
    const X = s => L + pw * (s - x0) / (x1 - x0);
    let series = [], Y = null;
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    function draw(list, log, ylabel) {
      series = list = list.map(s => Object.assign({}, s, {values: data.step.map((_, i) => s.values[i])}));  // n each
      const all = list.flatMap(s => s.values.filter(v => v != null));
      const min = all.length ? lowest(all) : 0, max = all.length ? highest(all) : 1;
      const yt = log ? logTicks(all) : ticks(min, max, 5, false);
      const fy = u => T + ph * (1 - (u - yt.lo) / (yt.hi - yt.lo));
      Y = log ? v => fy(v > 0 ? Math.max(yt.lo, Math.log10(v)) : yt.lo) : fy;
      let out = "";
      for (const [v, label] of yt.values) {
        const y = fy(v).toFixed(1);
        out += `<line class="tg-gridline" x1="${L}" x2="${L + pw}" y1="${y}" y2="${y}"/>` +
          `<text x="${L - 6}" y="${Number(y) + 4}" text-anchor="end">${label}</text>`;
      }
      for (const [v, label] of xt) {
        const x = X(v).toFixed(1);
        out += `<line class="tg-gridline" x1="${x}" x2="${x}" y1="${T}" y2="${T + ph}"/>` +
          `<text x="${x}" y="${T + ph + 17}" text-anchor="middle">${label}</text>`;
      }
      out += `<rect x="${L}" y="${T}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>` +
        `<text x="${L + pw / 2}" y="${H - 6}" text-anchor="middle">training step</text>` +
        `<text x="${L - 50}" y="${T - 12}">↑ ${esc(ylabel)}</text>`;
      list.forEach(s => {
        let d = "", gap = true;
        s.values.forEach((v, i) => {
          if (v == null) { gap = true; return; }
          d += (gap ? "M" : "L") + X(data.step[i]).toFixed(1) + "," + Y(v).toFixed(1);
          gap = false;
        });
        const dash = s.dash ? ' stroke-dasharray="6 4"' : "";
        out += `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`;
      });
      out += `<rect class="tg-cursor" x="${L}" y="${T}" width="2" height="${ph}" fill="#444" opacity="0.55"/>`;
      out += list.map(s => `<circle class="tg-dot" r="4" fill="${s.color}" stroke="#fff" stroke-width="1.5"/>`)
        .join("");
      svg.innerHTML = out;
      legend.innerHTML = list.map(s => `<span class="tg-key"><i style="background:${s.color}"></i>` +
        `${esc(s.label)} <b></b></span>`).join("");
      move(current);
    }
    function move(i) {
      const x = X(data.step[i]), dots = svg.querySelectorAll(".tg-dot"), values = legend.querySelectorAll("b");
      svg.querySelector(".tg-cursor").setAttribute("x", (x - 1).toFixed(1));
      series.forEach((s, k) => {
          const v = s.values[i];
        dots[k].setAttribute("visibility", v == null ? "hidden" : "visible");
        if (v != null) { dots[k].setAttribute("cx", x.toFixed(1)); dots[k].setAttribute("cy", Y(v).toFixed(1)); }
        values[k].textContent = num(v, 4);
      });
    }
    return {draw: draw, move: move};
  }

  // The network view: each edge, found by its <title>, gets the colour and width of its weight.
  function networkView(net) {
    const byTitle = {}, biggest = net.biggest > 0 ? net.biggest : 1, box = document.getElementById("tg-network");
    box.addEventListener("click", () => box.classList.toggle("tg-actual"));  // fit the panel, or actual size
    for (const g of document.querySelectorAll("#tg-network g.edge")) byTitle[g.querySelector("title")?.textContent] = g;
    const edges = net.edges.map(name => {
      const g = byTitle[name], path = g && g.querySelector("path"), link = g && g.querySelector("a");
      if (!path) return null;
      const tip = link && link.getAttributeNode("xlink:title");
      return {paths: g.querySelectorAll("path"), tip: tip, name: tip ? tip.value.split(" = ")[0] : name,
        heads: [...path.parentNode.children].filter(e => e.tagName === "polygon"),  // the arrowhead
        label: [...g.children].find(e => e.tagName === "text")};  // the weight's number, on small networks
    });
    return i => {
      const row = net.weights[i] || [];
      edges.forEach((e, j) => {
        if (!e) return;
        const w = row[j] == null ? null : row[j];
        const color = w == null ? "#aaaaaa" : w >= 0 ? net.positive : net.negative;
        const width = (0.6 + 3.4 * Math.abs(w || 0) / biggest).toFixed(3);
        e.paths.forEach(p => { p.setAttribute("stroke", color); p.setAttribute("stroke-width", width); });
        e.heads.forEach(p => { p.setAttribute("fill", color); p.setAttribute("stroke", color); });
        if (e.label) { e.label.textContent = num(w, 3); e.label.setAttribute("fill", color); }
        if (e.tip) e.tip.value = e.name + " = " + num(w, 3);
      });
    };
  }

  // The decision boundary: a G x G grid drawn k times bigger, the data points on top, axes x₁ and x₂.
  function boundaryView(b) {
    const canvas = document.getElementById("tg-boundary"), ctx = canvas.getContext("2d");
    const G = b.size, L = 66, T = 10, room = Math.min(480, (canvas.parentNode.clientWidth || 440) - L - 14);
    const k = Math.max(1, Math.floor(room / G)), P = G * k;  // k screen pixels a grid cell
    const cells = document.createElement("canvas"), cctx = cells.getContext("2d"), img = cctx.createImageData(G, G);
    const rgb = hex => [1, 3, 5].map(i => parseInt(hex.slice(i, i + 2), 16));
    const colors = (b.colors || []).map(rgb), blue = [31, 95, 191], red = [214, 39, 40], white = [255, 255, 255];
    const mix = (c, a) => c.map((v, i) => Math.round(white[i] + (v - white[i]) * a));
    const bytes = s => Uint8Array.from(atob(s || ""), ch => ch.charCodeAt(0));
    [cells.width, cells.height, canvas.width, canvas.height] = [G, G, L + P + 14, T + P + 46];
    canvas.dataset.plot = [L, T, P].join(" ");  // where the grid is drawn: left, top, size in pixels
    const sx = u => L + P * (u - b.extent[0]) / (b.extent[1] - b.extent[0]);
    const sy = v => T + P * (1 - (v - b.extent[2]) / (b.extent[3] - b.extent[2]));
    return i => {
      const f = bytes(b.frames[i]), sure = b.confidence ? bytes(b.confidence[i]) : null;
      for (let r = 0; r < G; r++) {
        for (let c = 0; c < G; c++) {
          const at = r * G + c, p = f[at] / 255;
          let color = [200, 200, 200];  // grey: no data
          if (at < f.length && b.kind === "probability") color = mix(p < 0.5 ? blue : red, 0.55 * Math.abs(2 * p - 1));
          else if (at < f.length && colors.length) {  // (the colours repeat beyond their count)
            const least = 1 / Math.max(2, b.classes || 2), s = sure && at < sure.length ? sure[at] / 255 : null;
            const a = s == null ? 0.45 : 0.12 + 0.6 * Math.max(0, (s - least) / (1 - least));
            color = mix(colors[f[at] % colors.length], a);
          }
          img.data.set([color[0], color[1], color[2], 255], ((G - 1 - r) * G + c) * 4);  // row 0 at the bottom
        }
      }
      cctx.putImageData(img, 0, 0);
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.imageSmoothingEnabled = true; ctx.drawImage(cells, L, T, P, P);  // (smooth between grid points)
      for (const [x1, x2, label] of b.points || []) {
        ctx.beginPath(); ctx.arc(sx(x1), sy(x2), 4, 0, 2 * Math.PI);
        ctx.fillStyle = label == null || !(b.colors || []).length ? "#777" : b.colors[label % b.colors.length];
        ctx.fill();
        ctx.lineWidth = 1.3; ctx.strokeStyle = "#fff"; ctx.stroke();
      }
      ctx.strokeStyle = "#999"; ctx.lineWidth = 1; ctx.strokeRect(L - 0.5, T - 0.5, P + 1, P + 1);
      ctx.fillStyle = "#333"; ctx.font = "13px Helvetica, Arial, sans-serif";
      for (const t of [0, 0.5, 1]) {
        ctx.textAlign = "center";
        ctx.fillText(num(b.extent[0] + t * (b.extent[1] - b.extent[0]), 3), L + t * P, T + P + 17);
        ctx.textAlign = "right";
        ctx.fillText(num(b.extent[2] + t * (b.extent[3] - b.extent[2]), 3), L - 6, T + (1 - t) * P + 4);
      }
      ctx.textAlign = "center"; ctx.font = "italic 15px Helvetica, Arial, sans-serif";
      ctx.fillText("x₁", L + P / 2, T + P + 38); ctx.fillText("x₂", 16, T + P / 4 + 4);
    };
  }

  function show(i) {
    current = Math.max(0, Math.min(n - 1, i));
    slider.value = root.dataset.current = current;
    const t = data.test_loss ? data.test_loss[current] : null, test = t == null ? "" : " · test loss " + num(t, 4);
    counter.textContent = `snapshot ${current + 1} / ${n} · step ${data.step[current]} · epoch ` +
      `${(data.epoch[current] || 0).toFixed(2)} · loss ${num(data.loss[current], 4)}${test}`;
    views.forEach(view => view(current));
  }
  function stop() { clearInterval(timer); timer = null; play.textContent = "▶ Play"; }
  function start() {
    if (current >= n - 1) show(0);
    play.textContent = "❚❚ Pause";
    timer = setInterval(() => { show(current + 1); if (current >= n - 1) stop(); }, 125);  // 8 snapshots a second
  }

  if (data.network) views.push(networkView(data.network));
  if (data.boundary) views.push(boundaryView(data.boundary));
  const loss = lineChart(document.getElementById("tg-loss"), document.getElementById("tg-loss-legend"));
  const lossSeries = [{label: "training", color: "#1f5fbf", values: data.loss}];
  if (data.test_loss) lossSeries.push({label: "test", color: "#e07b00", values: data.test_loss, dash: true});
  const losses = lossSeries.flatMap(s => s.values.filter(v => v != null));
  const logLoss = lowest(losses) > 0 && highest(losses) / lowest(losses) > 100;  // linear, or log if wide
  loss.draw(lossSeries, logLoss, (data.loss_label || "loss") + (logLoss ? " (log scale)" : ""));
  views.push(loss.move);

  const normsSvg = document.getElementById("tg-norms");
  if (normsSvg) {
    const norms = lineChart(normsSvg, document.getElementById("tg-norms-legend"));
    const labels = {weights: "norm of ∂E/∂W, per layer (log scale)", deltas: "norm of δ = ∂E/∂z (log scale)"};
    const buttons = document.querySelectorAll(".tg-toggle button");
    const drawNorms = kind => {  // (dashed from the 11th layer on: the colours repeat)
      norms.draw(data.norms[kind].map((s, k) => ({color: PALETTE[k % 10], dash: k >= 10, ...s})), true, labels[kind]);
      buttons.forEach(b => b.setAttribute("aria-pressed", String(b.dataset.kind === kind)));
      normsSvg.dataset.kind = kind;
    };
    buttons.forEach(b => b.addEventListener("click", () => drawNorms(b.dataset.kind)));
    drawNorms((data.norms.weights || []).length ? "weights" : "deltas");
    views.push(norms.move);
  }

  if (dialog) {
    const frame = document.getElementById("tg-trace-frame"), title = document.getElementById("tg-trace-title");
    document.querySelectorAll("#tg-traces button[data-trace]").forEach(b => b.addEventListener("click", () => {
      const t = data.traces[Number(b.dataset.trace)];
      stop(); show(t.snapshot); title.textContent = b.textContent; frame.srcdoc = t.html; dialog.showModal();
    }));
    frame.addEventListener("load", () => {  // its keys work, and Esc inside it still closes the dialog
      const inner = frame.contentWindow; if (!inner) return; inner.focus();
      inner.document.addEventListener("keydown", e => { if (e.key === "Escape") dialog.close(); });
    });
    document.getElementById("tg-trace-close").addEventListener("click", () => dialog.close());
  }

  play.addEventListener("click", () => (timer ? stop() : start()));
  slider.addEventListener("input", () => { stop(); show(Number(slider.value)); });
  document.addEventListener("keydown", e => {
    const to = {ArrowRight: current + 1, ArrowLeft: current - 1, Home: 0, End: n - 1}[e.key];
    if (to === undefined || (dialog && dialog.open) || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();  // also on the slider, whose own keys would move it a second time
    stop(); show(to);
  });
  show(0);
})();
"""


def _plain(value: Any) -> Any:
    """Return ``value`` ready for strict JSON: numpy arrays and numbers as Python ones, NaN and ±inf as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_plain(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return value


def _embed(data: dict) -> str:
    """Return the JSON of ``data`` safe inside a ``<script>``: no ``<``, ``>`` or ``&`` can end it early."""
    text = json.dumps(_plain(data), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _panel(title: str, body: str, caption: str = "", wide: bool = False) -> str:
    """Return one section of the page: a heading, its content and an optional caption (HTML)."""
    caption = f'<p class="tg-caption">{caption}</p>' if caption else ""
    return f'<section class="tg-panel{" tg-wide" if wide else ""}"><h2>{title}</h2>{body}{caption}</section>'


_CAPTIONS = {
    "network": "one scale for the whole recording: line width ∝ |w|, blue positive, red negative; "
    "click the diagram for its actual size (and again to fit it)",
    "probability": "shade: the network's P(class 1), blue 0 · white 0.5 · red 1. Dots: the data, coloured by label ",
    "classes": "colour: the class the network predicts, paler where it is less sure. Dots: the data, by label ",
    "norms": "log scale: each grid line is ten times the one below (a 0 is drawn at the bottom); "
    "the numbers are the current snapshot's",
    "traces": "one training step, node by node, at that snapshot (opens here; its own ← → keys step through it)",
}
_TOGGLE = (
    '<div class="tg-toggle"><button type="button" data-kind="weights">∂E/∂W per layer</button> '
    '<button type="button" data-kind="deltas">δ per layer</button></div>'
)

_DIALOG = (
    '<dialog id="tg-trace-dialog"><div class="tg-dialog-bar"><b id="tg-trace-title"></b>'
    '<button type="button" id="tg-trace-close">Close ✕</button></div>'
    '<iframe id="tg-trace-frame" title="step-by-step trace"></iframe></dialog>'
)


def _chart(uid: str) -> str:
    """Return an empty chart (the script draws it) and its legend."""
    return f'<svg id="{uid}" class="tg-chart"></svg><div class="tg-legend" id="{uid}-legend"></div>'


def _panels(data: dict) -> str:
    """Return the page's sections; those whose data is null are left out."""
    network, boundary, traces = data.get("network"), data.get("boundary"), data.get("traces") or []
    norms = data.get("norms") or {}
    panels = []
    if network:
        svg = str(network["svg"])
        svg = svg[svg.find("<svg") :] if "<svg" in svg else svg  # drop the XML prolog and doctype: it is inlined
        panels.append(_panel("Network: the weights", f'<div id="tg-network">{svg}</div>', _CAPTIONS["network"]))
    if boundary:
        colors = boundary.get("colors") or []
        labels = sorted({int(p[2]) for p in boundary.get("points") or [] if p[2] is not None and p[2] < len(colors)})
        kind = "probability" if boundary.get("kind") == "probability" else "classes"
        caption = html.escape(boundary.get("caption") or "") or _CAPTIONS[kind]  # (it names a node)
        canvas = '<canvas id="tg-boundary" role="img" aria-label="the decision boundary"></canvas>'
        keys = " ".join(
            f'<span class="tg-key"><i class="tg-dotkey" style="background:{html.escape(str(colors[k]))}"></i>'
            f"class {k}</span>"
            for k in labels
        )
        panels.append(_panel(html.escape(boundary.get("title") or "Decision boundary"), canvas, caption + keys))
    panels.append(_panel("Loss", _chart("tg-loss")))
    if norms.get("weights") or norms.get("deltas"):
        toggle = _TOGGLE if norms.get("weights") and norms.get("deltas") else ""
        panels.append(_panel("Gradient norms", toggle + _chart("tg-norms"), _CAPTIONS["norms"]))
    if traces:
        buttons = "".join(
            f'<button type="button" data-trace="{k}">Step-by-step trace at {html.escape(str(t.get("label", "")))}'
            "</button>"
            for k, t in enumerate(traces)
        )
        panels.append(_panel("Step-by-step traces", f'<div id="tg-traces">{buttons}</div>', _CAPTIONS["traces"], True))
    return f'<div class="tg-panels">{"".join(panels)}</div>'


def page(data: dict) -> str:
    """Return the replay page of a recording: one self-contained HTML file, no outside resources.

    A slider, a play button and the arrow keys move through the snapshots; the network's weights,
    the decision boundary, the loss curve and the gradient norms follow. Everything is drawn in the
    browser from ``data``, embedded as JSON.

    Parameters
    ----------
    data : dict
        What ``replay_data`` makes of a Recording: ``title``, ``summary``, ``loss_label``, ``step``,
        ``epoch``, ``loss``, ``test_loss`` (or None), ``norms`` (``weights`` and ``deltas``: lists of
        ``{"label", "values"}``), ``network`` (or None: its ``svg``, ``edges``, ``weights`` per snapshot,
        ``biggest``, ``positive`` and ``negative`` colours), ``boundary`` (or None: a ``size`` x ``size``
        grid per snapshot as base64 bytes in ``frames``), ``traces`` (``snapshot``, ``label``, ``html``)
        and optionally ``notes``, one line each under the summary.

    Returns
    -------
    str
        The whole page, ``<!DOCTYPE html>`` first.

    Raises
    ------
    tinygraph.GraphError
        If ``data`` has no snapshots.

    Examples
    --------
    >>> data = {"title": "a run", "summary": "", "step": [0, 1], "epoch": [0.0, 0.5], "loss": [0.7, 0.5],
    ...         "test_loss": None, "norms": {"weights": [], "deltas": []}, "network": None, "boundary": None,
    ...         "traces": []}
    >>> text = page(data)
    >>> text.startswith("<!DOCTYPE html>") and 'id="tg-slider"' in text and "http" not in text
    True
    """
    steps = data.get("step") or []
    if not steps:
        raise GraphError("replay page: the recording has no snapshots (data['step'] is empty)")
    embedded = dict(data)
    if data.get("network"):  # the SVG is inlined in the page: the script needs only the numbers
        embedded["network"] = {k: v for k, v in data["network"].items() if k != "svg"}
    title = html.escape(str(data.get("title", "")))
    notes = "".join(f'<p class="tg-note">{html.escape(str(note))}</p>' for note in data.get("notes") or [])
    dialog = _DIALOG if data.get("traces") else ""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{title}</title><style>{_CSS}</style></head><body>"
        f'<div class="tg-replay" id="tg-replay" data-current="0"><h1>{title}</h1>'
        f'<p class="tg-summary">{html.escape(str(data.get("summary", "")))}</p>{notes}'
        '<div class="tg-bar"><button type="button" id="tg-play">▶ Play</button>'
        f'<input type="range" id="tg-slider" min="0" max="{len(steps) - 1}" step="1" value="0" aria-label="snapshot">'
        '<span id="tg-counter"></span><span class="tg-hint">← → one snapshot · Home / End</span></div>'
        f"{_panels(data)}{dialog}</div>"
        f'<script type="application/json" id="tg-data">{_embed(embedded)}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def widget(data: dict) -> str:
    """Return the replay page for Jupyter: inside an ``<iframe srcdoc>``, so its script and styles stay in it.

    Parameters
    ----------
    data : dict
        As for `page`.

    Returns
    -------
    str
        One ``<iframe>`` element, the page HTML-escaped in its ``srcdoc``.
    """
    return f'<iframe srcdoc="{html.escape(page(data), quote=True)}" style="width:100%;height:900px;border:0"></iframe>'
