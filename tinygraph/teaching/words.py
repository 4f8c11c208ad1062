"""The words of a trace and a diagram: numbers formatted, a node's own text in this graph's names.

Every formula here comes from the node itself (``formula``, ``derivative``, ``gradients``,
``local()``, ``lines()``); this module only puts the graph's names and numbers into it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import Elementwise, Node


def number(x: Any, precision: int) -> str:
    """Format a number with ``precision`` significant digits, exponents without padding: 1.5e-5, 0 for -0.0.

    >>> number(-0.0, 3), number(0.000015, 3), number(2 / 3, 4)
    ('0', '1.5e-5', '0.6667')
    """
    x = float(x)
    if x == 0:
        return "0"
    text = f"{x:.{precision}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def format_array(a: Any, precision: int = 3, max_elements: int = 12) -> str:
    r"""Format an array as a short readable string: ``precision`` significant digits, 6 numbers a line, rows on lines.

    An array of more than ``max_elements`` numbers becomes its shape, mean and norm.

    Parameters
    ----------
    a : array_like
        The numbers, of any shape.
    precision : int, optional
        Significant digits, 3 by default.
    max_elements : int, optional
        The most numbers shown one by one, 12 by default.

    Returns
    -------
    str
        The numbers in brackets, a row of a matrix a line; or ``shape …: mean …, norm …``.

    Examples
    --------
    >>> format_array([[0.5, -1.25], [3, 1e-5]])
    '[[0.5, -1.25],\n [3, 1e-5]]'
    >>> format_array(np.ones(100))
    'shape (100,): mean 1, norm 10'
    """
    a = np.asarray(a, dtype=float)
    if a.size > max_elements:
        mean, norm = number(a.mean(), precision), number(np.linalg.norm(a), precision)
        return f"shape {a.shape}: mean {mean}, norm {norm}"
    if a.ndim == 0:
        return number(a, precision)
    if a.ndim == 1:
        numbers = [number(x, precision) for x in a]
        return "[" + ",\n ".join(", ".join(numbers[i : i + 6]) for i in range(0, max(len(a), 1), 6)) + "]"
    return "[" + ",\n ".join(format_array(row, precision, max_elements).replace("\n", "\n ") for row in a) + "]"


def tex_name(name: str) -> str:
    r"""Write a name in LaTeX: 'z1' → 'z_{1}', 'W2' → 'W_{2}', anything odd → \mathrm{…}."""
    head = name.rstrip("0123456789")
    tail = name[len(head) :]
    if head.isalpha() and head.isascii() and len(head) <= 2:
        return f"{head}_{{{tail}}}" if tail else head
    safe = re.sub(r"[^A-Za-z0-9 .,:;!?()\[\]+\-*/=<>']", "", name.replace("_", " "))
    safe = safe.replace("<", r"\lt ").replace(">", r"\gt ")  # no raw < > for the HTML around it
    return rf"\mathrm{{{safe or '?'}}}"


def markdown_text(text: str) -> str:
    r"""Escape plain text for Markdown: every character Markdown or HTML would read as markup.

    An ``_`` between two letters or digits, as in ``sum_1``, marks nothing and stays as it is.

    >>> print(markdown_text("*a* + _b + sum_1"))
    \*a\* + \_b + sum_1
    """
    text = re.sub(r"([\\`*{}\[\]<>#|&~!])", r"\\\1", text)
    return re.sub(r"_(?!(?<=[^\W_]_)[^\W_])", r"\\_", text)


class Numbers:
    """Formats numbers the same way in text and LaTeX, with the trace's precision."""

    def __init__(self, precision: int, max_elements: int) -> None:
        self.precision, self.max_elements = precision, max_elements

    def __call__(self, a: Any) -> str:
        """Return the numbers as text, on one line."""
        text = format_array(np.asarray(a), precision=self.precision, max_elements=self.max_elements)
        return " ".join(text.split())  # one line, even for matrices

    def tex(self, a: Any) -> str:
        """Return the numbers in LaTeX: a number, a bmatrix of a vector or matrix, else text."""
        a = np.asarray(a)
        if a.size > self.max_elements or a.ndim > 2:
            return r"\text{" + self(a).replace("{", "").replace("}", "") + "}"
        if a.ndim == 0:
            return self(a)
        rows = a.reshape(1, -1) if a.ndim == 1 else a
        body = r" \\ ".join(" & ".join(self(v) for v in row) for row in rows)
        return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def dE(name: str) -> str:
    """Write ∂E/∂name."""
    return f"∂E/∂{name}"


def dE_tex(name: str) -> str:
    """Write ∂E/∂name in LaTeX."""
    return rf"\frac{{\partial E}}{{\partial {tex_name(name)}}}"


def substitute(text: str, mapping: dict[str, str]) -> str:
    """Return ``text`` with each symbol (a whole word of letters and digits) replaced from ``mapping``.

    >>> substitute("y = σ(z) = 1/(1 + e^(−z))", {"y": "h", "z": "z1"})
    'h = σ(z1) = 1/(1 + e^(−z1))'
    """
    symbols = sorted((s for s in mapping if s), key=len, reverse=True)
    if not symbols:
        return text
    pattern = re.compile(r"(?<![A-Za-z0-9\\])(" + "|".join(map(re.escape, symbols)) + r")(?![A-Za-z0-9])")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def names_of(node: Node, tex: bool = False) -> dict[str, str]:
    """Return {symbol: this graph's name} for the node's formula: its output and its inputs."""
    out, ins = node.symbols()
    pairs = [(out, node.name)] + [(s, i.name) for s, i in zip(ins, node.inputs)]
    return {s: "{" + tex_name(n) + "}" if tex else n for s, n in pairs}


def named(node: Node, text: str | None, tex: bool = False) -> str | None:
    """Write the node's own text (its formula, derivative …) with this graph's names."""
    return None if text is None else substitute(text, names_of(node, tex))


def named_formula(node: Node) -> str:
    """Write the forward formula in this graph's names: "h = σ(z1) = 1/(1 + e^(−z1))"."""
    if node.formula:
        return named(node, node.formula) or ""
    return f"{node.name} = {node.kind}({', '.join(i.name for i in node.inputs)})"


def _label(node: Node, index: tuple) -> str:
    return node.name if not index else f"{node.name}[{', '.join(map(str, index))}]"


def forward_lines(node: Node, fmt: Callable[[Any], str]) -> list[str]:
    """Write the formula with the numbers put in.

    The node's own ``lines``; element by element for an elementwise node of a few numbers;
    else its inputs' values and its value.
    """
    own = getattr(node, "lines", None)
    lines = own(fmt) if callable(own) else None
    if lines:
        return lines
    value = np.asarray(node.value)
    if isinstance(node, Elementwise) and node.formula and value.size <= 4:
        rhs = node.formula.split(" = ", 1)[1]
        symbol, z = node.symbols()[1][0], np.asarray(node.inputs[0].value)
        out = []
        for index in np.ndindex(value.shape):
            zj = fmt(z[index])
            put = substitute(rhs, {symbol: zj})
            if zj.startswith("-"):  # −(−0.5), not −-0.5; σ(−0.5) stays as it is
                put = substitute(rhs, {symbol: f"({zj})"}).replace(f"(({zj}))", f"({zj})")
            out.append(f"{_label(node, index)} = {put} = {fmt(value[index])}")
        return out
    return [f"{i.name} = {fmt(i.value)}" for i in node.inputs] + [f"{node.name} = {fmt(value)}"]


def local_derivative(node: Node) -> tuple[str | None, Any]:
    """Return the node's local derivative in this graph's names, and its numbers where it has them."""
    local = getattr(node, "local", None)
    numbers = None
    if callable(local):
        try:
            numbers = local()
        except NotImplementedError:
            numbers = None
    return named(node, node.derivative), numbers


def chain(node: Node, k: int) -> str:
    """Write how the gradient the node sends to input k is formed (the chain-rule product), in names."""
    out, ins = node.symbols()
    symbol = ins[k] if k < len(ins) else None
    text = node.gradients.get(symbol) if symbol else None
    if text is None:
        return f"{dE(node.name)} · ∂{node.name}/∂{node.inputs[k].name}"
    return named(node, text) or ""


class Layers:
    """Names the classic δ quantities: the weighted sums z of a layered network."""

    def __init__(self, nodes: list[Node]) -> None:
        sums = [
            n for n in nodes if n.layer_role == "weighted sum" and len(n.inputs) > 1 and n.inputs[1].role == "parameter"
        ]
        self.index = {id(z): k for k, z in enumerate(sums, start=1)}
        self.count = len(sums)

    def delta(self, node: Node) -> str | None:
        """Return the δ a weighted sum's gradient stands for ("δ (hidden layer 1)" …), or None."""
        k = self.index.get(id(node))
        if k is None:
            return None
        if self.count == 1:
            return "δ"
        return "δ (output layer)" if k == self.count else f"δ (hidden layer {k})"
