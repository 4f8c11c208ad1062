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
from ..notation import put_number, substitute


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
    text = re.sub(r"([\\`*{}\[\]<>#|&~!$])", r"\\\1", text)
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
            return tex_number(self(a))
        rows = a.reshape(1, -1) if a.ndim == 1 else a
        body = r" \\ ".join(" & ".join(tex_number(self(v)) for v in row) for row in rows)
        return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def tex_number(text: str) -> str:
    r"""Write the numbers of a text in LaTeX: ``2.5e-7`` as 2.5 × 10⁻⁷ (in math, e − 7 would read as e minus 7).

    >>> tex_number("2.5e-7"), tex_number("-1e+12"), tex_number("1e-05"), tex_number("0.25")
    ('2.5 \\times 10^{-7}', '-1 \\times 10^{12}', '1 \\times 10^{-5}', '0.25')
    """
    return re.sub(_E_NOTATION, lambda m: rf"{m[1]} \times 10^{{{int(m[2])}}}", text)


# A number in e notation, as number() or :g write it (not the end of a name, such as x1e5).
_E_NOTATION = r"(?<![A-Za-z0-9_.])(\d+(?:\.\d+)?)e([-+]?\d+)(?![A-Za-z0-9_])"


def dE(name: str) -> str:
    """Write ∂E/∂name."""
    return f"∂E/∂{name}"


def dE_tex(name: str) -> str:
    """Write ∂E/∂name in LaTeX."""
    return rf"\frac{{\partial E}}{{\partial {tex_name(name)}}}"


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


def forward_lines(node: Node, fmt: Callable[[Any], str], per_sample: tuple | None = None) -> list[str]:
    """Write the formula with the numbers put in.

    The node's own ``lines``; element by element for an elementwise node of a few numbers
    (for a batch, "sample s:" before each, the index the unit's); else its inputs' values
    and its value.  ``per_sample`` is the node's shape for one sample, when known.
    """
    own = getattr(node, "lines", None)
    lines = own(fmt) if callable(own) else None
    if lines:
        return lines
    value = np.asarray(node.value)
    if isinstance(node, Elementwise) and node.formula and value.size <= 4:
        rhs = node.formula.split(" = ", 1)[1]
        symbol, z = node.symbols()[1][0], np.asarray(node.inputs[0].value)
        batch = per_sample is not None and value.ndim > len(per_sample)
        out = []
        for index in np.ndindex(value.shape):
            put = put_number(rhs, symbol, fmt(z[index]))
            where = f"sample {index[0]}: " if batch else ""
            out.append(f"{where}{_label(node, index[1:] if batch else index)} = {put} = {fmt(value[index])}")
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


# -- lines of a trace, their numbers held apart: one text, three renderings (text, LaTeX, MathML) -------
_TOKEN = re.compile("-?\ue000(\\d+)\ue001")  # a held number; the "-" marks a negative one (see Line)


class Line:
    """One line of a trace step: its text with the numbers held apart, so it can be written three ways.

    ``template`` is the text with a token where each number goes; ``numbers`` the arrays.
    ``computed``: the line's last number is what this step computes (an exercise hides it).
    A token of a negative number starts with "-", so that the text around it can tell it
    should be in parentheses (``(−0.5)``) before the number is written.
    """

    def __init__(self, template: str, numbers: list, computed: bool = False) -> None:
        self.template, self.numbers, self.computed = template, numbers, computed
        self.tex_template: str | None = None  # LaTeX written by hand (a node's own), tokens as in template

    @staticmethod
    def hold(build: Callable[[Callable[[Any], str]], Any], computed: bool = False) -> list[Line]:
        """Return the Lines ``build(number)`` writes (a str or a list of them), its numbers held."""
        numbers: list = []

        def number(a: Any) -> str:
            numbers.append(np.array(a, dtype=float))  # (a copy: the values may change in place later)
            negative = numbers[-1].ndim == 0 and float(numbers[-1]) < 0
            return f"{'-' * negative}\ue000{len(numbers) - 1}\ue001"

        made = build(number)
        if made is None:
            return []
        return [Line(t, numbers, computed) for t in ([made] if isinstance(made, str) else made)]

    def answer(self) -> np.ndarray | None:
        """Return the number this line computes: its last, if ``computed``; else None."""
        found = list(_TOKEN.finditer(self.template))
        return self.numbers[int(found[-1].group(1))] if self.computed and found else None

    def text(self, fmt: Numbers) -> str:
        """Write the line as plain text."""
        return _TOKEN.sub(lambda m: fmt(self.numbers[int(m.group(1))]), self.template)

    def tex(self, fmt: Numbers, blank: str | None = None) -> str:
        """Write the line in LaTeX; with ``blank``, the number it computes is that blank instead."""
        tex = self.tex_template or to_tex(self.template)
        last = [m.start() for m in _TOKEN.finditer(tex)][-1:] if blank is not None and self.computed else []

        def put(m: re.Match) -> str:
            return blank if last and m.start() == last[0] else fmt.tex(self.numbers[int(m.group(1))])  # type: ignore[return-value]

        return _TOKEN.sub(put, tex)

    def split(self) -> tuple[str, str] | None:
        """Return the template before and after the number it computes (None if it computes none)."""
        found = list(_TOKEN.finditer(self.template))
        if not (self.computed and found):
            return None
        return self.template[: found[-1].start()], self.template[found[-1].end() :]


_SYMBOLS = {
    "−": "- ", "·": r"\cdot ", "⊙": r"\odot ", "×": r"\times ", "ᵀ": r"^{\top}", "²": "^{2}", "½": r"\tfrac{1}{2}",
    "σ": r"\sigma ", "Σ": r"\sum ", "η": r"\eta ", "δ": r"\delta ", "μ": r"\mu ", "λ": r"\lambda ", "∂": r"\partial ",
    "←": r"\leftarrow ", "→": r"\rightarrow ", "≥": r"\ge ", "≤": r"\le ", "≈": r"\approx ", "…": r"\dots ",
    "⋮": r"\vdots ", "<": r"\lt ", ">": r"\gt ", "{": r"\{", "}": r"\}", "#": r"\#", "%": r"\%", "&": r"\&",
    "$": r"\$", "~": r"\sim ", "\\": r"\backslash ", "^": r"\hat{}", "'": r"\prime ",
}  # fmt: skip
_PROSE_WORDS = {"if", "of", "to", "in", "at", "by", "is", "or", "as", "on", "so"}  # prose, not names
_FUNCTIONS = {"log": r"\log ", "exp": r"\exp ", "tanh": r"\tanh ", "max": r"\max ", "min": r"\min "}
_NAME = r"[A-Za-z](?:[A-Za-z0-9]|\u0303)*(?:_[A-Za-z0-9]+)?(?:\[[0-9, :a-z_]*\])?"
_PIECES = re.compile(
    "|".join(
        [
            r"(?P<token>-?\ue000\d+\ue001)",
            rf"(?P<partial>∂(?P<top>{_NAME})/∂(?P<bottom>{_NAME}))",
            r"(?P<power>\^\()",
            rf"(?P<number>{_E_NOTATION})",
            r"(?P<word>[A-Za-z]{3,}(?![A-Za-z0-9_\[]))",
            rf"(?P<name>{_NAME})",
            r"(?P<space> {2,}| )",
            r"(?P<other>.)",
        ]
    ),
    re.S,
)


def math_name(name: str) -> str:
    r"""Write a name of the trace's text in LaTeX: 'z1' → 'z_{1}', 'w_ij' → 'w_{ij}', 'x̃' → '\tilde{x}'.

    >>> math_name("W2"), math_name("w_ij"), math_name("o[0, 1]")
    ('W_{2}', '{w}_{ij}', 'o[0,1]')
    """
    index = ""
    if "[" in name:
        name, index = name.split("[", 1)
        index = "[" + index.rstrip("]").replace(" ", "") + "]"
    name, _, sub = name.partition("_")
    if "\u0303" in name:
        body = rf"\tilde{{{name.replace(chr(0x303), '')}}}"
    else:
        body = tex_name(name)
    if sub:
        body = f"{{{body}}}_{{{sub}}}"
    return f"{body}{index}"


def to_tex(text: str) -> str:
    r"""Write a line of the trace's plain text (its own notation) in LaTeX: prose as \text, math as math.

    Held numbers (see Line) are kept as they are, to be put in afterwards.

    >>> print(to_tex("receives ∂E/∂z1 = 2   (from y)"))
    \text{receives }\frac{\partial E}{\partial z_{1}} = 2\quad (\text{from }y)
    >>> print(to_tex("y = σ(z) = 1/(1 + e^(−z))"))
    y = \sigma (z) = 1/(1 + e^{(- z)})
    """
    out, prose = [], []  # prose: the words of the \text being written, and the spaces between them

    def close() -> None:
        if prose:
            out.append(r"\text{" + "".join(prose) + "}")
            prose.clear()

    pieces = list(_PIECES.finditer(text))
    k = 0
    while k < len(pieces):
        m, kind = pieces[k], pieces[k].lastgroup
        k += 1
        piece = m.group(0)
        if (kind == "word" and piece not in _FUNCTIONS and piece != "softmax") or piece in _PROSE_WORDS:
            if not prose and out and k >= 2 and pieces[k - 2].lastgroup == "space":
                prose.append(" ")  # (math ignores the space before the words: the words keep it)
            prose.append(piece)
            continue
        if kind == "space" and prose:
            prose.append(" ")
            continue
        if kind == "other" and prose and (piece in ",:;.!?'" or piece.isdigit()):
            prose.append(piece)
            continue
        close()
        if kind == "token":
            out.append(piece)
        elif kind == "partial":
            out.append(rf"\frac{{\partial {math_name(m.group('top'))}}}{{\partial {math_name(m.group('bottom'))}}}")
        elif kind == "power":  # e^(…): the whole parenthesis is the exponent
            depth, end = 1, m.end()
            while end < len(text) and depth:
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            out.append("^{(" + to_tex(text[m.end() : end - 1]) + ")}")
            while k < len(pieces) and pieces[k].start() < end:
                k += 1
        elif kind == "number":
            out.append(tex_number(piece))
        elif kind == "word":
            out.append(_FUNCTIONS.get(piece, r"\mathrm{" + piece + "}"))
        elif kind == "name":
            out.append(math_name(piece))
        elif piece == "+" and text[m.end() : m.end() + 1] == "=":  # "+=": adds to what is there
            out.append(r"\mathrel{+}=")
            k += 1
        elif kind == "space":
            out.append(r"\quad " if len(piece) > 1 else " ")
        elif piece == "_" and text[m.end() : m.end() + 1] == "{":  # a subscript of several: Σ_{k,u,v}
            depth, end = 1, m.end() + 1
            while end < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[end], 0)
                end += 1
            out.append("_{" + to_tex(text[m.end() + 1 : end - 1]) + "}")
            while k < len(pieces) and pieces[k].start() < end:
                k += 1
        elif piece == "_":  # a subscript (δ_j), or a character of a name (__init__)
            out.append("_" if text[m.end() : m.end() + 1].isalnum() else r"\_")
        else:
            out.append(_SYMBOLS.get(piece, piece))
    close()
    tex = "".join(out).strip()
    for mark, latex in _MARKS:  # (an optimizer's symbols, of more than one character or over a name)
        tex = tex.replace(mark, latex)
    return tex


_MARKS = (
    ("√v̂", r"\sqrt{\hat{v}}"), ("√s", r"\sqrt{s}"), ("m̂", r"\hat{m}"), ("v̂", r"\hat{v}"), ("β1", r"\beta_1 "),
    ("β2", r"\beta_2 "), ("ᵗ", "^{t}"), ("ε", r"\varepsilon "), ("α", r"\alpha "), ("√", r"\sqrt "),
)  # fmt: skip
