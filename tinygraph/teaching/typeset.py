"""A trace step's words as typeset math (MathML, which browsers draw with no script), and as an exercise.

Every line of a step is written once, with its numbers held apart (``words.Line``); this module
writes it as MathML from its LaTeX (with latex2mathml), and, for an exercise, puts input boxes
where the number it computes would be.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
from latex2mathml.converter import convert

from .words import Line, Numbers

_BLANK = "\ue010"  # where the computed number is cut out of a line's LaTeX


def mathml(tex: str, display: bool = False) -> str:
    """Return the MathML of one LaTeX formula (inline, or a block); the LaTeX in <code> if it cannot be read.

    >>> mathml("x^{2}")[:26]
    '<math alttext="x^{2}" xmln'
    """
    try:
        out = convert(tex, display="block" if display else "inline")
    except Exception:  # (latex2mathml raises many kinds; the page then shows the formula as LaTeX)
        return f'<code class="tg-tex">{html.escape(tex)}</code>'
    out = out.replace("<mo><mrow><mo>&#x0002B;</mo></mrow></mo><mo>&#x0003D;</mo>", "<mo>+=</mo>")  # \mathrel{+}=
    return out.replace("<math ", f'<math alttext="{html.escape(tex)}" ', 1)


def asks(line: Line, fmt: Numbers, step: Any = None) -> bool:
    """Tell whether an exercise asks for the line's number.

    It must compute one, shown number by number; and every number the step works from (its
    node's inputs, value and gradient) must be shown number by number too, or the learner could
    not work it out.
    """
    answer = line.answer()
    if answer is None or answer.size > fmt.max_elements or answer.ndim > 2:
        return False
    node = getattr(step, "node", None)
    used = [] if node is None else [node, *node.inputs]
    return all(n.value is None or np.size(n.value) <= fmt.max_elements for n in used)


def _boxes(answer: np.ndarray, fmt: Numbers) -> str:
    rows = np.atleast_2d(answer) if answer.ndim else answer.reshape(1, 1)
    cells = []
    for r in rows:
        inputs = [
            f'<input class="tg-box" type="text" inputmode="decimal" size="7" aria-label="your answer"'
            f' data-answer="{float(v)!r}" data-shown="{html.escape(fmt(v))}">'
            for v in r
        ]
        cells.append(", ".join(inputs))
    body = "<br>".join(cells)
    return f'<span class="tg-boxes">{"[" * (answer.ndim > 0)}{body}{"]" * (answer.ndim > 0)}</span>'


def line_html(line: Line, fmt: Numbers, exercise: bool = False, step: Any = None) -> str:
    """Write one line as MathML; in an exercise, the number it computes as input boxes, its answer folded away."""
    if not (exercise and asks(line, fmt, step)):
        return f'<div class="tg-line">{mathml(line.tex(fmt))}</div>'
    before, _, after = line.tex(fmt, blank=_BLANK).partition(_BLANK)
    shown = json.dumps(fmt(line.answer()))
    return (
        f'<div class="tg-line tg-ask" data-shown="{html.escape(shown)}">{mathml(before)}{_boxes(line.answer(), fmt)}'
        f"{mathml(after) if after.strip() else ''}"
        '<button type="button" class="tg-check">check</button><button type="button" class="tg-reveal">show</button>'
        '<span class="tg-mark" aria-live="polite"></span>'
        f'<details class="tg-answer"><summary>answer</summary>{mathml(line.tex(fmt))}</details></div>'
    )


def step_html(step: Any, fmt: Numbers, exercise: bool = False) -> str:
    """Write a step's formula and lines as MathML (an exercise: with boxes), and its plain text folded away."""
    formula = f'<div class="tg-formula">{mathml(step.formula, display=True)}</div>' if step.formula else ""
    lines = "".join(line_html(line, fmt, exercise, step) for line in step.parts)
    text = (
        ""
        if exercise  # (the plain text would give the answers away)
        else f"<details><summary>as plain text</summary><pre>{html.escape(chr(10).join(step.lines))}</pre></details>"
    )
    return f'{formula}<div class="tg-lines">{lines}</div>{text}'


CSS = """
.tg-formula { margin: 2px 0 10px; font-size: 18px; }
.tg-lines { background: #f7f7f9; border: 1px solid #e3e3e8; border-radius: 6px; padding: 8px 10px; }
.tg-line { font-size: 17px; line-height: 1.5; margin: 6px 0; overflow-x: auto; overflow-y: hidden; }
.tg-line math { padding: 1px 0; }
.tg-boxes { font-size: 16px; white-space: nowrap; display: inline-block; vertical-align: middle; margin: 0 4px; }
.tg-box { font: 15px monospace; padding: 2px 4px; margin: 1px 2px; border: 1px solid #94a3b8; border-radius: 4px; }
.tg-box.tg-right { border-color: #047857; background: #ecfdf5; }
.tg-box.tg-wrong { border-color: #b91c1c; background: #fee2e2; }
.tg-ask button { display: none; font-size: 13px; margin-left: 6px; padding: 2px 8px; cursor: pointer; }
.tg-js .tg-ask button { display: inline-block; }
.tg-mark { margin-left: 8px; font-weight: bold; }
.tg-mark.tg-right { color: #047857; } .tg-mark.tg-wrong { color: #b91c1c; }
.tg-answer { font-size: 14px; color: #555; margin: 2px 0 0; } .tg-answer summary { cursor: pointer; }
"""

SCRIPT = r"""
(function () {  // exercises: right within 0.1 %% of the engine's number, or within what the digits shown allow
  var root = document.getElementById(%(id)s), digits = %(precision)d;
  var slack = Math.max(1e-3, 5 * Math.pow(10, -digits));  // (worked from numbers rounded to these digits)
  function read(text) {  // 0.5, −0.5, – 0.5, 0,5, 4e−3; not 0.5abc
    var t = text.trim().replace(/[\u2212\u2013\u2012]/g, '-').replace(/\s+/g, '').replace(',', '.');
    return t === '' || !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(t) ? NaN : Number(t);
  }
  function right(box) {
    var v = read(box.value), a = parseFloat(box.dataset.answer);
    if (!isFinite(v)) return false;
    if (a === 0) return Math.abs(v) <= 1e-12 || Number(v.toPrecision(digits)) === 0;
    return Math.abs(v - a) <= slack * Math.abs(a) || Number(v.toPrecision(digits)) === Number(a.toPrecision(digits));
  }
  function check(line) {
    var boxes = line.querySelectorAll('.tg-box'), all = true, typed = false;
    boxes.forEach(function (box) {
      if (box.value.trim() === '') { all = false; box.classList.remove('tg-right', 'tg-wrong'); return; }
      typed = true;
      var ok = right(box);
      box.classList.toggle('tg-right', ok); box.classList.toggle('tg-wrong', !ok);
      box.setAttribute('aria-invalid', ok ? 'false' : 'true');
      all = all && ok;
    });
    var mark = line.querySelector('.tg-mark');
    mark.textContent = !typed ? '' : all ? '✓ right' : '✗ not yet';
    mark.className = 'tg-mark ' + (!typed ? '' : all ? 'tg-right' : 'tg-wrong');
    line.setAttribute('data-result', !typed ? '' : all ? 'right' : 'wrong');
  }
  root.querySelectorAll('.tg-ask').forEach(function (line) {
    line.querySelector('.tg-check').addEventListener('click', function () { check(line); });
    line.querySelector('.tg-reveal').addEventListener('click', function () {
      line.querySelectorAll('.tg-box').forEach(function (box) { box.value = box.dataset.shown; });
      check(line); line.querySelector('.tg-mark').textContent = 'shown';
      line.setAttribute('data-result', 'shown');
    });
    line.querySelectorAll('.tg-box').forEach(function (box) {
      box.addEventListener('change', function () { check(line); });
      box.addEventListener('keydown', function (e) {
        e.stopPropagation();  // (the arrow and + − keys type, here: they do not step or zoom)
        if (e.key === 'Enter') check(line);
      });
    });
  });
})();
"""
