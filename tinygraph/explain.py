"""How each kind of node is explained in a trace: its formula with names and numbers, its
local derivative, and the chain-rule product it passes on (plain text; LaTeX where marked)."""

import numpy as np

from .diagrams import format_array
from .losses import LogLoss, SoftmaxCrossEntropy, SquaredLoss
from .node import Parameter
from .ops import AppendOne, Logistic, ReLU, Softmax, Step, Tanh, WeightedSum
from .structure import Add, Concat, Mean, Multiply, Scale, Slice, Sum


def tex_name(name):
    """'z1' → 'z_{1}', 'W2' → 'W_{2}', anything odd → \\mathrm{…}."""
    head = name.rstrip("0123456789")
    tail = name[len(head):]
    if head.isalpha() and len(head) <= 2:
        return f"{head}_{{{tail}}}" if tail else head
    safe = name.replace("\\", "").replace("_", r"\_").replace("{", "").replace("}", "")
    return rf"\mathrm{{{safe}}}"


class Numbers:
    """Formats numbers the same way in text and LaTeX, with the trace's precision."""

    def __init__(self, precision, max_elements):
        self.precision, self.max_elements = precision, max_elements

    def __call__(self, a):
        text = format_array(np.asarray(a), precision=self.precision, max_elements=self.max_elements)
        return " ".join(text.split())  # one line, even for matrices

    def tex(self, a):
        a = np.asarray(a)
        if a.size > self.max_elements or a.ndim > 2:
            return r"\text{" + self(a).replace("{", "").replace("}", "") + "}"
        if a.ndim == 0:
            return self(a)
        rows = a.reshape(1, -1) if a.ndim == 1 else a
        body = r" \\ ".join(" & ".join(self(v) for v in row) for row in rows)
        return r"\begin{bmatrix}" + body + r"\end{bmatrix}"


def dE(name):
    return f"∂E/∂{name}"


def dE_tex(name):
    return rf"\frac{{\partial E}}{{\partial {tex_name(name)}}}"


# ------------------------------------------------------------------ forward explanations
def named_formula(node):
    """The node's forward formula written with the names of this graph's nodes."""
    n, ins = node.name, [i.name for i in node.inputs]
    if isinstance(node, WeightedSum):
        return f"{n} = {ins[0]}·{ins[1]}" + (f" + {ins[2]}" if len(ins) > 2 else "")
    if isinstance(node, Logistic):
        return f"{n} = σ({ins[0]}) = 1/(1 + e^(−{ins[0]}))"
    named = {Tanh: f"tanh({ins[0]})", ReLU: f"max(0, {ins[0]})", Step: f"1 if {ins[0]} ≥ 0 else 0",
             AppendOne: f"[{ins[0]}, 1]", Softmax: f"softmax({ins[0]})", Add: " + ".join(ins),
             Multiply: " ⊙ ".join(ins), Concat: f"[{', '.join(ins)}]", Sum: f"Σ {ins[0]}",
             Mean: f"mean({ins[0]})"}.get(type(node))
    if named:
        return f"{n} = {named}"
    if isinstance(node, Scale):
        return f"{n} = {node.c:g} · {ins[0]}"
    if isinstance(node, Slice):
        return f"{n} = {ins[0]}[{node.start}:{'' if node.stop is None else node.stop}]"
    if isinstance(node, SquaredLoss):
        return f"{n} = ½ Σ_k ({ins[0]}_k − {ins[1]}_k)²"
    if isinstance(node, LogLoss):
        p, t = ins
        return f"{n} = −Σ_k [{t}_k log {p}_k + (1 − {t}_k) log(1 − {p}_k)]"
    if isinstance(node, SoftmaxCrossEntropy):
        return f"{n} = −Σ_k {ins[1]}_k log softmax({ins[0]})_k"
    return f"{n}: {node.formula}" if node.formula else f"{n} = {node.kind}({', '.join(ins)})"


def _factor(fmt, v):
    """A number as a factor: negative ones in parentheses, so no '+ -' or '·-' appears."""
    text = fmt(v)
    return f"({text})" if text.startswith("-") else text


def _plus(fmt, v):
    """' + v' or ' − |v|'."""
    return f" − {fmt(-v)}" if v < 0 else f" + {fmt(v)}"


def forward_lines(node, fmt):
    """Lines that substitute the numbers into the node's formula (plain text)."""
    ins = node.inputs
    lines = []
    if isinstance(node, WeightedSum):
        x, w = ins[0].value, ins[1].value
        b = ins[2].value if len(ins) > 2 else None
        if x.ndim == 1 and x.size <= 4 and (w.ndim == 1 or w.shape[1] <= 4):
            cols = [w] if w.ndim == 1 else [w[:, j] for j in range(w.shape[1])]
            for j, wj in enumerate(cols):
                terms = " + ".join(f"{_factor(fmt, xi)}·{_factor(fmt, wij)}" for xi, wij in zip(x, wj))
                bias = "" if b is None else _plus(fmt, b if b.ndim == 0 else b[j])
                value = node.value if node.value.ndim == 0 else node.value[j]
                label = node.name if w.ndim == 1 else f"{node.name}[{j}]"
                lines.append(f"{label} = {terms}{bias} = {fmt(value)}")
            return lines
    elif isinstance(node, (Logistic, Tanh, ReLU, Step)) and node.value.size <= 4:
        z, y = np.atleast_1d(ins[0].value), np.atleast_1d(node.value)
        fname = {Logistic: "σ", Tanh: "tanh", ReLU: "max(0, ·)", Step: "step"}[type(node)]
        for j, (zj, yj) in enumerate(zip(z, y)):
            label = node.name if node.value.ndim == 0 else f"{node.name}[{j}]"
            if isinstance(node, Logistic):
                lines.append(f"{label} = σ({fmt(zj)}) = 1/(1 + e^({fmt(-zj)})) = {fmt(yj)}")
            else:
                lines.append(f"{label} = {fname}({fmt(zj)}) = {fmt(yj)}")
        return lines
    elif isinstance(node, SquaredLoss) and node.value.ndim == 0 and ins[0].value.size <= 4:
        o, t = np.atleast_1d(ins[0].value), np.atleast_1d(ins[1].value)
        terms = " + ".join(f"½({fmt(oi)} − {_factor(fmt, ti)})²" for oi, ti in zip(o.ravel(), t.ravel()))
        if ins[0].value.ndim <= len(ins[0].shape):
            return [f"{node.name} = {terms} = {fmt(node.value)}"]
    for inp in ins:
        lines.append(f"{inp.name} = {fmt(inp.value)}")
    lines.append(f"{node.name} = {fmt(node.value)}")
    return lines


# ------------------------------------------------------------------ backward explanations
def local_derivative(node):
    """The node's local derivative written with this graph's names, and its numbers when known."""
    n, y = node.name, node.value
    ins = [i.name for i in node.inputs]
    if isinstance(node, Logistic):
        return f"∂{n}/∂{ins[0]} = {n}(1 − {n})", y * (1 - y)
    if isinstance(node, Tanh):
        return f"∂{n}/∂{ins[0]} = 1 − {n}²", 1 - y * y
    if isinstance(node, ReLU):
        return f"∂{n}/∂{ins[0]} = [{ins[0]} > 0]", (y > 0).astype(y.dtype)
    if isinstance(node, Step):
        return f"∂{n}/∂{ins[0]} := 1 (straight through: the perceptron rule)", None
    if isinstance(node, SquaredLoss):
        per = " (then / batch for the mean)" if node.scale != 1 else ""
        return f"∂{n}/∂{ins[0]} = {ins[0]} − {ins[1]}{per}", node.diff
    if isinstance(node, WeightedSum):
        text = f"∂{n}/∂{ins[0]} = {ins[1]}ᵀ, ∂{n}/∂{ins[1]} = {ins[0]}"
        return text + (f", ∂{n}/∂{ins[2]} = 1" if len(ins) > 2 else ""), None
    return node.derivative, None


def chain(node, inp, index):
    """How the gradient for input ``index`` is formed, as text (the chain-rule product)."""
    n, i = node.name, inp.name
    if isinstance(node, WeightedSum):
        x, w = node.inputs[0].name, node.inputs[1].name
        return {0: f"{dE(n)} · {w}ᵀ", 1: f"{x}ᵀ · {dE(n)}   (∂E/∂{w}_ij = {x}_i · δ_j)",
                2: f"{dE(n)}"}[index]
    if isinstance(node, Logistic):
        return f"{dE(n)} ⊙ {n}(1 − {n})"
    if isinstance(node, Tanh):
        return f"{dE(n)} ⊙ (1 − {n}²)"
    if isinstance(node, ReLU):
        return f"{dE(n)} ⊙ [{i} > 0]"
    if isinstance(node, Step):
        return f"{dE(n)} · 1   (straight through)"
    if isinstance(node, SquaredLoss):
        return f"({node.inputs[0].name} − {node.inputs[1].name})" + (" / batch" if node.scale != 1 else "") \
            if index == 0 else f"−({node.inputs[0].name} − {node.inputs[1].name})"
    if isinstance(node, SoftmaxCrossEntropy) and index == 0:
        return f"softmax({i}) − {node.inputs[1].name}"
    if isinstance(node, LogLoss) and index == 0:
        return f"({i} − {node.inputs[1].name}) / ({i}(1 − {i}))"
    if isinstance(node, Softmax):
        return f"{n} ⊙ ({dE(n)} − Σ_k {dE(n)}_k {n}_k)"
    if isinstance(node, AppendOne):
        return f"{dE(n)} without its last element"
    if isinstance(node, Add):
        return f"{dE(n)} · 1"
    if isinstance(node, Multiply):
        other = node.inputs[1 - index].name
        return f"{dE(n)} ⊙ {other}"
    if isinstance(node, Concat):
        return f"its own slice of {dE(n)}"
    if isinstance(node, Slice):
        return f"{dE(n)} in the slice, 0 elsewhere"
    if isinstance(node, Sum):
        return f"{dE(n)} · 1 for every element"
    if isinstance(node, Mean):
        return f"{dE(n)} / N"
    if isinstance(node, Scale):
        return f"{node.c:g} · {dE(n)}"
    return f"{dE(n)} · ∂{n}/∂{i}"


class Layers:
    """Names the classic δ quantities: the WeightedSum nodes z of a layered network."""

    def __init__(self, graph):
        sums = [n for n in graph.nodes if isinstance(n, WeightedSum) and isinstance(n.inputs[1], Parameter)]
        self.index = {id(z): k for k, z in enumerate(sums, start=1)}
        self.count = len(sums)

    def delta(self, node):
        k = self.index.get(id(node))
        if k is None:
            return None
        if self.count == 1:
            return "δ"
        return "δ (output layer)" if k == self.count else f"δ (hidden layer {k})"


# ------------------------------------------------------------------ the trace
