"""An oracle for the whole engine: random graphs run by tinygraph and by a plain-numpy reference, compared.

The reference below restates every node's forward formula and gradient in numpy, from the node docstrings,
and runs reverse mode (summing over consumers) and SGD with momentum itself. A random graph spec is built in
both; a random sequence of operations runs on both (passes of changing batch sizes, ``graph.run``, backward,
SGD steps, replaced parameters, float32, deepcopy, pickle, a second graph sharing the nodes, ``fit``,
training and evaluation modes with Dropout masks drawn per pass; the elementary nodes, some built by
Python's operators), and
every node's value and gradient, every loss and the momentum are compared after every operation: to 1e-10
relative in float64, loosely while a parameter is float32.

Quick mode (the normal suite) runs QUICK sequences. Long mode runs sequences until a time budget is used
and prints the counts:

    TINYGRAPH_ORACLE_SECONDS=1200 TINYGRAPH_ORACLE_SEED=7 python -m pytest tests/test_oracle.py -q -s

A failure names the seed and the sequence; ``TINYGRAPH_ORACLE_SEQUENCE=<index>`` replays that one alone.
"""

import copy
import itertools
import os
import pickle
import time
from collections import Counter

import numpy as np

import tinygraph as tg

SECONDS = float(os.environ.get("TINYGRAPH_ORACLE_SECONDS", "0"))
SEED = int(os.environ.get("TINYGRAPH_ORACLE_SEED", "0"))
ONLY = os.environ.get("TINYGRAPH_ORACLE_SEQUENCE")
QUICK = 80  # sequences in quick mode (about 6 s here)
STRICT, LOOSE = (1e-10, 1e-12), (1e-3, 1e-3)  # relative; absolute per unit of the largest number involved

ACTIVATIONS = {"logistic": tg.Logistic, "tanh": tg.Tanh, "relu": tg.ReLU, "step": tg.Step}
UNARY = {"neg": tg.Negate, "square": tg.Square, "exp": tg.Exp, "abs": tg.Abs, "leaky": tg.LeakyReLU}
UNARY.update(pow=tg.Power, ln=tg.Log)
CLAMP = 0.5  # Log's clamp here: log(max(x, ε)); (near a small ε, 1/x² amplifies rounding beyond the tolerance)
LOSSES = {"squared": tg.SquaredLoss, "log": tg.LogLoss, "xent": tg.SoftmaxCrossEntropy}
REDUCING = {"sum", "mean", *LOSSES}  # one value for a whole batch
FLEXIBLE = {*ACTIVATIONS, *UNARY, "softmax", "scale", "sum", "mean", "add", "mul", "dropout"}  # any feature size

GROW = ["wsum"] * 3 + [*ACTIVATIONS] + ["add"] * 2 + ["mul", "scale", "softmax", "append", "concat", "slice"]
GROW += ["sum", "mean", "loss", "loss", "dropout", "sub", "div", *UNARY]


class Stop(Exception):
    """The reference met a point where rounding decides (a kink, saturation) or a non-finite value."""


class Discrepancy(Exception):
    """tinygraph and the reference disagree."""


# ---------------------------------------------------------------- the reference: one node at a time
def lined_up(values, batched):
    """Add and Multiply broadcast per sample: pad each value with 1s, the batch axis first."""
    ndim, lead = max(v.ndim - b for v, b in zip(values, batched)), any(batched)
    return [
        v.reshape(v.shape[:1] + (1,) * (ndim + 1 - v.ndim) + v.shape[1:])
        if b
        else v.reshape((1,) * (ndim + lead - v.ndim) + v.shape)
        for v, b in zip(values, batched)
    ]


def summed_to(g, value, lined):
    """``g`` summed over the axes along which ``lined`` was stretched, in the shape of ``value``."""
    axes = tuple(k for k, (a, o) in enumerate(zip(lined.shape, g.shape)) if a == 1 and o != 1)
    return g.sum(axis=axes, keepdims=True).reshape(value.shape)


def concat_axis(axis, value, batched):
    per_sample = value.ndim - batched
    return axis % per_sample - per_sample  # counted from the end: the same with or without a batch


def loss_parts(kind, arg, v, batched, reduction):
    """(1/rows for a mean over a batch, else 1; the clipped p, or log softmax(z) and the one-hot target)."""
    scale = 1 / len(v[0]) if batched[0] and reduction == "mean" else 1.0
    if kind == "log":
        eps = np.finfo(np.float64).eps
        return scale, np.clip(v[0], eps, 1 - eps), v[1]
    if kind == "xent":
        shifted = v[0] - v[0].max(axis=-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        t = np.eye(v[0].shape[-1])[v[1].astype(int)] if arg["index"] else v[1]
        return scale, log_p, t
    return scale, v[0], v[1]


def forward(kind, arg, v, batched, reduction):
    """A node's value from its inputs' values ``v``, as its docstring states it."""
    if kind == "wsum":  # z = x·w + b
        z = np.asarray(np.matmul(v[0], v[1]))
        return z + v[2] if len(v) == 3 else z
    if kind == "append":  # x̃ = [x, 1]
        return np.concatenate([v[0], np.ones(v[0].shape[:-1] + (1,))], axis=-1)
    if kind == "logistic":  # σ(z) = 1/(1 + e^(−z)), −z clipped to ±500
        return 1 / (1 + np.exp(np.clip(-v[0], -500, 500)))
    if kind == "tanh":
        return np.tanh(v[0])
    if kind == "relu":
        return np.maximum(v[0], 0)
    if kind == "step":  # 1 if z ≥ 0 else 0
        return (v[0] >= 0).astype(np.float64)
    if kind == "softmax":  # e^(z_k) / Σ_j e^(z_j) over the last axis
        e = np.exp(v[0] - v[0].max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    if kind == "add":
        return sum(lined_up(v, batched))
    if kind == "sub":
        a, b = lined_up(v, batched)
        return a - b
    if kind == "div":
        a, b = lined_up(v, batched)
        return a / b
    if kind in UNARY:  # −x, x², x^p, e^min(x, 500), |x|, z or α·z, log(max(x, ε))
        x = v[0]
        return {
            "neg": lambda: -x,
            "square": lambda: x * x,
            "pow": lambda: x**arg,
            "exp": lambda: np.exp(np.minimum(x, 500)),
            "abs": lambda: np.abs(x),
            "leaky": lambda: np.where(x > 0, x, 0.01 * x),
            "ln": lambda: np.log(np.maximum(x, CLAMP)),
        }[kind]()
    if kind == "mul":
        a, b = lined_up(v, batched)
        return a * b
    if kind == "scale":
        return arg * v[0]
    if kind == "concat":
        return np.concatenate(v, axis=concat_axis(arg, v[0], batched[0]))
    if kind == "slice":  # x[start:stop] on the last axis
        return v[0][..., slice(*arg)]
    if kind in ("sum", "mean"):
        return np.asarray(v[0].sum() if kind == "sum" else v[0].mean())
    scale, p, t = loss_parts(kind, arg, v, batched, reduction)
    if kind == "squared":  # ½ Σ_k (o_k − t_k)²
        return np.asarray(0.5 * scale * np.sum((p - t) ** 2))
    if kind == "log":  # −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)]
        return np.asarray(-scale * np.sum(t * np.log(p) + (1 - t) * np.log1p(-p)))
    return np.asarray(-scale * np.sum(t * p))  # −Σ_k t_k log softmax(z)_k  (p is log softmax here)


def backward(kind, arg, v, y, g, batched, reduction):
    """Each input's gradient from g = ∂E/∂y, the node's value y and its inputs' values v (None: no gradient)."""
    if kind == "wsum":  # ∂E/∂x = g·wᵀ, ∂E/∂w = xᵀ·g, ∂E/∂b = g summed over the batch
        x, w = v[0], v[1]
        grads = [g @ w.T if w.ndim == 2 else np.multiply.outer(g, w)]
        grads.append(np.multiply.outer(x, g) if x.ndim == 1 else x.T @ g)
        return grads + ([g if x.ndim == 1 else g.sum(axis=0)] if len(v) == 3 else [])
    if kind == "append":
        return [g[..., :-1]]
    if kind == "logistic":
        return [g * y * (1 - y)]
    if kind == "tanh":
        return [g * (1 - y * y)]
    if kind == "relu":
        return [g * (v[0] > 0)]
    if kind == "step":  # straight through
        return [g]
    if kind == "softmax":
        return [y * (g - (g * y).sum(axis=-1, keepdims=True))]
    if kind == "add":
        return [summed_to(g, a, lined) for a, lined in zip(v, lined_up(v, batched))]
    if kind == "mul":
        a, b = lined_up(v, batched)
        return [summed_to(g * b, v[0], a), summed_to(g * a, v[1], b)]
    if kind == "sub":  # ∂/∂a = 1, ∂/∂b = −1
        a, b = lined_up(v, batched)
        return [summed_to(g, v[0], a), summed_to(-g, v[1], b)]
    if kind == "div":  # ∂/∂a = 1/b, ∂/∂b = −a/b²
        a, b = lined_up(v, batched)
        q = g / b  # (as the node computes it: −(g/b)·(a/b), so that a sum over a batch rounds alike)
        return [summed_to(q, v[0], a), summed_to(-(q * (a / b)), v[1], b)]
    if kind in UNARY:
        x = v[0]
        local = {
            "neg": lambda: -np.ones_like(x),
            "square": lambda: 2 * x,
            "pow": lambda: arg * x ** (arg - 1),
            "exp": lambda: y,
            "abs": lambda: np.sign(x),
            "leaky": lambda: np.where(x > 0, 1.0, 0.01),
            "ln": lambda: np.where(x > CLAMP, 1 / np.maximum(x, CLAMP), 0.0),
        }[kind]()
        return [g * local]
    if kind == "scale":
        return [arg * g]
    if kind == "concat":
        axis = concat_axis(arg, v[0], batched[0])
        return np.split(g, np.cumsum([a.shape[axis] for a in v])[:-1], axis=axis)
    if kind == "slice":
        grad = np.zeros_like(v[0])
        grad[..., slice(*arg)] = g
        return [grad]
    if kind in ("sum", "mean"):
        return [np.full(v[0].shape, g if kind == "sum" else g / v[0].size)]
    scale, p, t = loss_parts(kind, arg, v, batched, reduction)
    if kind == "squared":  # ∂E/∂o = o − t, ∂E/∂t = −(o − t)
        grad = g * scale * (p - t)
        return [grad, -grad]
    if kind == "log":  # ∂E/∂p = (p − t)/(p(1 − p)), ∂E/∂t = log(1 − p) − log p
        return [g * scale * (p - t) / (p * (1 - p)), g * scale * (np.log1p(-p) - np.log(p))]
    grad_z = g * scale * (np.exp(p) * t.sum(axis=-1, keepdims=True) - t)  # softmax(z)·Σ_k t_k − t
    return [grad_z, None if arg["index"] else -g * scale * p]


class Reference:
    """The spec run in numpy (passes, reverse mode, SGD), and what each node's .value and .grad must be now.

    An entry must match tinygraph's to STRICT, or to LOOSE where it was computed with float32 arithmetic or
    from parameters that match only loosely since (``how``, ``loose_params``, ``velocity_loose``).
    """

    def __init__(self, spec, lr, momentum):
        self.spec, self.lr, self.momentum = spec, lr, momentum
        self.outputs = [spec.outputs] + ([spec.second] if spec.second else [])
        self.params = [i for i, (kind, _, _) in enumerate(spec.nodes) if kind == "param"]
        self.param = {i: spec.init[i].copy() for i in self.params}
        self.reduction = {i: arg["reduction"] for i, (kind, _, arg) in enumerate(spec.nodes) if kind in LOSSES}
        self.value = {i: spec.init.get(i) for i in range(len(spec.nodes))}  # (a Constant keeps its own array)
        self.grad = dict.fromkeys(range(len(spec.nodes)))
        self.how = {}  # (what, i): (loosely, dtype or None, the scale of its pass) of that entry
        self.loose_params, self.velocity_loose, self.scale = set(), False, 0.0
        self.loosely = False  # (of the current pass)
        self.last, self.fed_by, self.passes = {}, {}, 0  # each graph's last pass; which pass fed each Input
        self.training, self.steps = {0: True, 1: True}, {0: 0, 1: 0}  # each graph's mode: its passes in training
        self.new_optimizer()

    def new_optimizer(self):
        self.velocity = {i: np.zeros_like(self.param[i]) for i in self.params} if self.momentum else None
        self.velocity_loose, self.velocity_scale = False, 0.0  # (the scale: of the gradients summed into it)

    def set_momentum(self, momentum):
        self.momentum, had = momentum, self.velocity is not None
        if not momentum or not had:  # v starts at 0 (or there is none)
            self.new_optimizer()

    def graph_params(self, g):
        return [i for i in self.spec.ancestors(self.outputs[g]) if i in self.param]

    def dtype(self, g):
        """Graph g's dtype: its parameters' (float64 if it has none)."""
        return np.result_type(*[self.param[i].dtype for i in self.graph_params(g)] or [np.float64])

    def float32(self):
        return any(self.param[i].dtype != np.float64 for i in self.params)

    def record(self, what, i, array, g):
        mixed = len({self.param[j].dtype for j in self.graph_params(g)}) > 1  # (its dtypes are not stated)
        getattr(self, what)[i] = array
        self.how[what, i] = (self.loosely, None if mixed else self.dtype(g), self.scale)

    def run(self, g, targets, feed):
        """A forward pass of graph g computing ``targets`` (and what they need) from ``feed``."""
        order, dtype = self.spec.ancestors(targets), self.dtype(g)
        self.loosely = self.float32() or bool(self.loose_params.intersection(order))
        fed = [i for i in order if self.spec.nodes[i][0] == "input"]
        arrays = {i: np.asarray(feed[i], dtype) for i in fed}  # the graph casts its feed to its dtype
        batched = {}
        for i in fed:  # the rule of Input's docstring
            arg = self.spec.nodes[i][2]
            batched[i] = arrays[i].ndim == len(arg["shape"]) + 1 if arg["declared"] else arrays[i].ndim >= 2
        if any(batched.values()):  # undeclared 1-D arrays beside a batch: one number per sample
            batched.update({i: True for i in fed if not self.spec.nodes[i][2]["declared"] and arrays[i].ndim == 1})
        vals, masks = {}, {}
        self.steps[g] += self.training[g]  # (a pass in training is counted before it runs)
        for i in order:
            kind, ins, arg = self.spec.nodes[i]
            if kind == "dropout":  # m/(1 − p) from default_rng((seed, k)) in the k-th pass in training, else 1
                x = vals[ins[0]]
                keep = np.random.default_rng((arg["seed"], self.steps[g])).random(x.shape) >= arg["p"]
                masks[i] = (keep * (1 / (1 - arg["p"]))).astype(dtype) if self.training[g] else None
                vals[i], batched[i] = x if masks[i] is None else x * masks[i], batched[ins[0]]
            elif kind == "input":
                vals[i] = arrays[i].astype(np.float64)
            elif not ins:  # a Parameter or a Constant, read in the graph's dtype
                vals[i], batched[i] = np.asarray(self.value_of(i), dtype).astype(np.float64), False
            else:
                args, flags = [vals[j] for j in ins], [batched[j] for j in ins]
                vals[i] = forward(kind, arg, args, flags, self.reduction.get(i))
                self.watch(kind, args, vals[i])
                batched[i] = kind not in REDUCING and any(flags)
            self.finite(vals[i])
        self.scale = largest(vals.values())  # (a value that cancels to near 0 is only that close)
        for i in order:
            if self.spec.nodes[i][0] == "input" or self.spec.nodes[i][1]:
                self.record("value", i, arrays[i] if self.spec.nodes[i][0] == "input" else vals[i], g)
        self.passes += 1
        self.fed_by.update(dict.fromkeys(fed, self.passes))
        batch = next((len(arrays[i]) for i in fed if batched[i]), None)
        self.last[g] = dict(id=self.passes, fed=fed, order=set(order), vals=vals, batched=batched, batch=batch)
        self.last[g]["masks"] = masks
        self.last[g].update(reductions=dict(self.reduction), loosely=self.loosely, replaced=False, fresh=True)
        self.last[g]["reaches"] = self.outputs[g][0] in order
        return vals

    def watch(self, kind, args, y):
        """Stop where float rounding decides: an input near a Step or ReLU kink, a LogLoss p near 0 or 1, a
        saturated Tanh or Logistic in float32 (in float64 a saturated y is flat: both get the same bits), a
        softmax of huge scores."""
        near, z = 1e-3 if self.loosely else 1e-9, np.abs(args[0])
        if kind in ("relu", "step") and np.any((z > 0) & (z < near)):
            raise Stop(f"{kind} input within {near} of 0")
        if kind in ("abs", "leaky") and np.any((z > 0) & (z < near)):
            raise Stop(f"{kind} input within {near} of 0")
        if kind == "ln" and np.any(np.abs(args[0] - CLAMP) < 1e3 * near):  # (its slope jumps by 1/ε there)
            raise Stop(f"Log input within {1e3 * near} of its clamp")
        if kind == "log" and np.any(np.minimum(args[0], 1 - args[0]) < near):
            raise Stop(f"LogLoss probability within {near} of 0 or 1")
        gap = 1 - np.abs(y)
        if kind in ("tanh", "logistic") and self.float32() and np.any((gap > 0) & (gap < 1e-3)):
            raise Stop(f"{kind} saturated in float32")
        big = 1e3 if self.loosely else 1e4  # (softmax's relative error grows with |z|·ε)
        if kind in ("softmax", "xent") and z.max(initial=0) > big:
            raise Stop(f"{kind} of scores beyond {big:g}")

    @staticmethod
    def finite(a):
        if not np.all(np.isfinite(a)) or np.abs(a).max(initial=0) > 1e8:
            raise Stop("values beyond 1e8 or non-finite")

    def may_backward(self, g):
        """What tinygraph allows: g's last pass computed its output, fed Inputs that no other pass fed
        since, and none of its leaves was given a new array."""
        last = self.last.get(g)
        ok = last is not None and last["reaches"] and not last["replaced"]
        return ok and all(self.fed_by[i] == last["id"] for i in last["fed"])

    def backward(self, g, inputs):
        """Reverse mode from graph g's first output, through the values of g's last pass."""
        last, out = self.last[g], self.outputs[g][0]
        self.loosely = last["loosely"]
        nodes, above = self.spec.ancestors(self.outputs[g]), set(self.spec.ancestors([out]))
        wanted = {}  # Parameters and what depends on them (with inputs=True: every leaf), on the way to out
        for i in nodes:
            kind, ins, _ = self.spec.nodes[i]
            wanted[i] = i in above and (kind == "param" or (inputs and not ins) or any(wanted[j] for j in ins))
        grads = {out: np.ones(())}
        for i in reversed(nodes):
            kind, ins, arg = self.spec.nodes[i]
            if not ins or not wanted[i] or grads.get(i) is None:
                continue
            v, flags = [last["vals"][j] for j in ins], [last["batched"][j] for j in ins]
            if kind == "dropout":  # ∂E/∂x = ∂E/∂y ⊙ m/(1 − p)
                mask = last["masks"][i]
                local = [grads[i] if mask is None else grads[i] * mask]
            else:
                local = backward(kind, arg, v, last["vals"][i], grads[i], flags, last["reductions"].get(i))
            for j, grad in zip(ins, local):
                if wanted[j] and grad is not None:  # summed over the consumers
                    grads[j] = grad if grads.get(j) is None else grads[j] + grad
        self.scale = largest(grads.values())  # (a gradient that cancels to near 0 is only that close)
        for i in nodes:
            grad = grads.get(i) if wanted[i] or i == out else None
            if grad is None and i in self.param:  # the output does not depend on it
                grad = np.zeros_like(self.param[i])
            if grad is not None:
                self.finite(grad)
            self.record("grad", i, grad, g)

    def step(self):
        """One SGD step as tinygraph's: v ← μ v + ∂E/∂w, w ← w − η v, in each parameter's dtype."""
        if any(self.grad[i] is None for i in self.params):
            return False
        for i in self.params:
            w, lr = self.param[i], np.array(self.lr, self.param[i].dtype)
            if self.velocity is None:
                w -= np.multiply(self.grad[i], lr)
            else:
                v = self.velocity[i]
                if v.shape != w.shape or v.dtype != w.dtype:  # a value of a new dtype: v starts again
                    v = self.velocity[i] = np.zeros_like(w)
                v *= self.momentum
                v += self.grad[i]
                w -= np.multiply(v, lr)
            self.finite(w)
            loose_v = self.velocity is not None and self.velocity_loose  # (a float32 past lives on in v)
            if self.float32() or self.how.get(("grad", i), (False,))[0] or loose_v:
                self.loose_params.add(i)
                self.velocity_loose |= self.velocity is not None
        self.velocity_scale += max(self.how.get(("grad", i), (0, 0, 0.0))[2] for i in self.params)
        self.changed_in_place(self.params)
        return True

    def changed_in_place(self, params):
        for last in self.last.values():
            last["fresh"] = last["fresh"] and not last["order"].intersection(params)

    def replace(self, i, value):
        self.param[i] = value
        self.loose_params.discard(i)
        for last in self.last.values():
            last["replaced"] = last["replaced"] or i in last["order"]

    def fit(self, data, epochs, batch_size, shuffle, seed):
        """tg.fit's loop: an epoch's order from default_rng([seed, epoch]), the last batch partial."""
        data = {i: np.asarray(a, self.dtype(0)) for i, a in data.items()}
        n, out, history, loosely = len(next(iter(data.values()))), self.outputs[0][0], [], False
        per_batch_mean = self.reduction.get(out, "mean") == "mean"
        was, self.training[0] = self.training[0], True  # fit trains in training mode, then puts it back
        for epoch in range(epochs):
            order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, batch_size):
                rows = order[start] if batch_size == 1 else order[start : start + batch_size]
                loss = float(self.run(0, self.outputs[0], {i: a[rows] for i, a in data.items()})[out])
                loosely |= self.loosely
                self.backward(0, False)
                self.step()
                total += loss * np.size(rows) if per_batch_mean else loss
            history.append(total / n)
        self.loosely, self.training[0] = loosely, was
        return history

    def value_of(self, i):
        return self.param[i] if i in self.param else self.value[i]

    def expected(self, what, i):
        """(the array node i's .value or .grad must hold, whether loosely, its dtype or None)."""
        kind = self.spec.nodes[i][0]
        if what == "value" and kind == "param":
            return self.param[i], i in self.loose_params, self.param[i].dtype, 0.0
        if what == "value" and kind == "const":
            return self.value[i], False, np.float64, 0.0
        return (getattr(self, what)[i], *self.how.get((what, i), (False, None, 0.0)))


# ---------------------------------------------------------------- random graph specs
class Spec:
    """A random graph as data: node i is (kind, input indices, arg), every input before its consumers."""

    def __init__(self, rng):
        self.rng, self.nodes, self.shape, self.batchy, self.flex, self.init = rng, [], [], [], [], {}
        self.outputs, self.second, self.flexible = [], None, False

    def add(self, kind, ins=(), arg=None, shape=()):
        self.nodes.append((kind, tuple(ins), arg))
        self.shape.append(tuple(int(d) for d in shape))
        self.batchy.append(kind == "input" or (kind not in REDUCING and any(self.batchy[j] for j in ins)))
        self.flex.append(
            (kind == "input" and arg["name"] == "x")
            or (kind in ("param", "const") and shape == ())
            or (kind in FLEXIBLE and all(self.flex[j] for j in ins))
        )
        return len(self.nodes) - 1

    def input(self, name, shape, data, declared=None, classes=None):
        declared = len(shape) >= 2 or self.rng.random() < 0.5 if declared is None else declared
        return self.add(
            "input", arg=dict(name=name, shape=shape, declared=declared, data=data, classes=classes), shape=shape
        )

    def leaf(self, shape, const=False, value=None):
        i = self.add("const" if const else "param", shape=shape)
        self.init[i] = np.array(self.rng.normal(size=shape) * 0.7 if value is None else value, dtype=np.float64)
        return i

    def pick(self, pool, ok=lambda i: True):
        found = [i for i in pool if ok(i)]
        if not found:
            return None
        return found[-1] if self.rng.random() < 0.4 else found[self.rng.integers(len(found))]

    def operand(self, pool, shape):
        """A node, a leaf used elsewhere too, or a new leaf, whose shape broadcasts with ``shape``."""
        fits = lambda i: broadcast(shape, self.shape[i]) is not None and len(broadcast(shape, self.shape[i])) <= 2
        leaves = [i for i, (_, ins, _) in enumerate(self.nodes) if not ins and i not in pool]
        found = self.pick(pool if self.rng.random() < 0.7 else leaves, fits) if self.rng.random() < 0.5 else None
        if found is not None:
            return found
        if not shape:
            return self.leaf(() if self.rng.random() < 0.5 else (int(self.rng.integers(1, 4)),))
        tail = shape[int(self.rng.integers(0, len(shape) + 1)) :]
        return self.leaf(tuple(1 if self.rng.random() < 0.25 else d for d in tail), const=self.rng.random() < 0.2)

    def grow(self, kind, pool):
        """One new node of ``kind`` on nodes of the pool (None if none fits)."""
        r, sh = self.rng, self.shape
        h = self.pick(pool, lambda i: len(sh[i]) == 1 if kind in ("wsum", "append") else len(sh[i]) >= 1)
        if kind in ACTIVATIONS or kind in UNARY or kind in ("add", "mul", "sub", "div", "scale", "sum", "mean", "loss"):
            h = self.pick(pool)
        if h is None:
            return None
        if kind == "wsum":  # the weights: a new Parameter, one used elsewhere too, or a computed value
            n = sh[h][0]
            fits = lambda i: not self.batchy[i] and len(sh[i]) in (1, 2) and sh[i][0] == n
            w = self.pick(range(len(self.nodes)), fits) if r.random() < 0.5 else None
            w = self.leaf((n,) if r.random() < 0.3 else (n, int(r.integers(1, 5)))) if w is None else w
            return self.add("wsum", [h, w] + ([self.leaf(sh[w][1:])] if r.random() < 0.5 else []), shape=sh[w][1:])
        if kind == "append":
            return self.add("append", [h], shape=(sh[h][0] + 1,))
        if kind in ("add", "mul"):
            ins = [h]
            for _ in range(1 if kind == "mul" else int(r.integers(0, 4)) or 1):
                ins.append(self.operand(pool, broadcast(*[sh[i] for i in ins])))
            return self.add(kind, ins, shape=broadcast(*[sh[i] for i in ins]))
        if kind == "scale":
            return self.add("scale", [h], arg=float(r.uniform(-2, 2)), shape=sh[h])
        if kind == "sub":
            b = self.operand(pool, sh[h])
            return self.add(kind, [h, b], shape=broadcast(sh[h], sh[b]))
        if kind == "div":  # by something away from 0: an exponential, or a new leaf of numbers beyond 1 in size
            b = self.pick(pool, lambda i: self.nodes[i][0] == "exp" and broadcast(sh[h], sh[i]) is not None)
            if b is None:
                tail = sh[h][int(r.integers(0, len(sh[h]) + 1)) :]
                value = (1 + r.exponential(size=tail)) * r.choice([-1, 1], size=tail)
                b = self.leaf(tail, const=r.random() < 0.3, value=value)
            return self.add(kind, [h, b], shape=broadcast(sh[h], sh[b]))
        if kind == "pow":
            return self.add(kind, [h], arg=int(r.choice([2, 3])), shape=sh[h])
        if kind == "dropout":
            return self.add(
                "dropout", [h], arg=dict(p=float(r.choice([0.0, 0.2, 0.5])), seed=int(r.integers(99))), shape=sh[h]
            )
        if kind == "concat":
            axis = -1 if r.random() < 0.6 else int(r.integers(-len(sh[h]), len(sh[h])))
            ax = axis % len(sh[h])
            same = lambda i: (
                self.batchy[i] == self.batchy[h]
                and len(sh[i]) == len(sh[h])
                and all(a == b for k, (a, b) in enumerate(zip(sh[i], sh[h])) if k != ax)
            )
            ins = [h] + [self.pick(pool, same) for _ in range(int(r.integers(0, 3)))]
            size = sum(sh[i][ax] for i in ins)
            return self.add("concat", ins, arg=axis, shape=sh[h][:ax] + (size,) + sh[h][ax + 1 :])
        if kind == "slice":
            m = sh[h][-1]
            a = int(r.integers(0, m))
            b = int(r.integers(a + 1, m + 1))
            start = a - m if r.random() < 0.3 else a
            stop = None if b == m and r.random() < 0.5 else b - m if b < m and r.random() < 0.3 else b
            return self.add("slice", [h], arg=(start, stop), shape=sh[h][:-1] + (b - a,))
        if kind in ("sum", "mean"):
            return self.add(kind, [h])
        if kind == "loss":
            return self.loss(r.choice(list(LOSSES)), h, pool)
        return self.add(kind, [h], shape=sh[h])  # an activation, or softmax

    def loss(self, kind, h, pool):
        """A loss on h against a target: another node, a new Input, the sum of one, or a fixed array."""
        r, S = self.rng, self.shape[h]
        if kind == "xent" and not S:
            kind = "squared"
        if kind == "log":
            h = self.add("logistic", [h], shape=S)
        data = {"squared": "real", "log": "unit"}.get(kind) or str(r.choice(["onehot", "dist", "index"]))
        like = lambda i: i != h and self.shape[i] == S and self.batchy[i] == self.batchy[h]
        t = self.pick(pool, lambda i: like(i) and (kind == "squared" or self.nodes[i][0] == "logistic"))
        if kind == "xent" or r.random() < 0.7 or t is None:
            if self.batchy[h]:
                shape = S[:-1] if data == "index" else S
                t = self.input(f"t{len(self.nodes)}", shape, data, classes=S[-1] if S else None)
            elif not S and kind != "xent" and r.random() < 0.5:
                t = self.input(f"t{len(self.nodes)}", (int(r.integers(1, 4)),), data)
                t = self.add("mean" if kind == "log" else str(r.choice(["sum", "mean"])), [t])
            else:
                data = "onehot" if kind == "xent" else data
                value = np.eye(S[-1])[r.integers(0, S[-1], size=S[:-1])] if kind == "xent" else None
                value = r.uniform(0.1, 0.9, size=S) if kind == "log" else value
                t = self.leaf(S, const=kind == "xent" or r.random() < 0.5, value=value)
        arg = dict(reduction=str(r.choice(["mean", "sum"])), index=data == "index" and self.batchy[h])
        return self.add(kind, [h, t], arg=arg)

    def ancestors(self, targets):
        """The nodes ``targets`` need, in order."""
        seen, stack = set(), list(targets)
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(self.nodes[i][1])
        return sorted(seen)

    def inputs_of(self, targets):
        return [i for i in self.ancestors(targets) if self.nodes[i][0] == "input"]

    def __str__(self):
        lines = []
        for i, (kind, ins, arg) in enumerate(self.nodes):
            text = f"{kind}{list(ins) if ins else ''}" + (f" {arg}" if arg is not None else "")
            lines.append(f"  {i}: {text} shape={self.shape[i]}{' (batch)' if self.batchy[i] else ''}")
        return "\n".join(lines + [f"  graph 0: {self.outputs}, graph 1: {self.second} (other sizes: {self.flexible})"])


def broadcast(*shapes):
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        return None


def random_spec(rng):
    """Chains, branches, shared nodes and weights, skips, reductions feeding on, losses added and scaled."""
    s = Spec(rng)
    x = s.input("x", (int(rng.integers(1, 5)),), "real")
    pool = [x]
    if rng.random() < 0.25:
        pool.append(s.input("u", tuple(rng.integers(1, 4, size=2)), "real", declared=True))
    side = []
    if rng.random() < 0.6:  # a chain that fits any feature size of x: for a second graph fed other sizes
        f = x
        for kind in rng.choice([*ACTIVATIONS, "softmax", "scale", "add", "mul"], size=int(rng.integers(1, 4))):
            ins = [f] + ([s.leaf(())] + [x] * (rng.random() < 0.5) if kind == "add" else [])
            ins += [int(rng.choice(side + [x, f]))] if kind == "mul" else []
            f = s.add(str(kind), ins, arg=float(rng.uniform(-2, 2)) if kind == "scale" else None, shape=s.shape[x])
            side.append(f)
        side.append(s.add(str(rng.choice(["sum", "mean"])), [f]))
        pool += side
    for kind in rng.choice(GROW, size=int(rng.integers(2, 10))):
        made = s.grow(str(kind), pool)
        if made is not None:
            pool.append(made)
    if not any(kind == "param" for kind, _, _ in s.nodes):
        pool.append(s.add("sum", [s.add("mul", [x, s.leaf(s.shape[x])], shape=s.shape[x])]))
    used = {j for _, ins, _ in s.nodes for j in ins}
    parts = []
    for i in range(len(s.nodes)):  # every node not consumed ends in the loss, as one number
        if i in used:
            continue
        if not s.shape[i] and not s.batchy[i]:
            parts.append(i)
        elif rng.random() < 0.25:
            parts.append(s.loss("squared", i, []))
        else:
            parts.append(s.add(str(rng.choice(["sum", "mean"])), [i]))
    parts = [s.add("scale", [p], arg=float(rng.uniform(-2, 2))) if rng.random() < 0.4 else p for p in parts]
    E = parts[0] if len(parts) == 1 else s.add("add", parts)
    s.outputs = [E]
    if rng.random() < 0.25:  # an output the loss does not depend on: its Parameter gets a zero gradient
        h = s.pick(pool)
        s.outputs.append(
            s.add("tanh", [s.add("add", [h, s.leaf(s.shape[h][-1:])], shape=s.shape[h])], shape=s.shape[h])
        )
    if side and rng.random() < 0.6:
        s.second = [int(rng.choice(side))]
        s.flexible = not s.nodes[x][2]["declared"]
    elif rng.random() < 0.3:
        s.second = [int(rng.choice([i for i in s.ancestors([E]) if s.nodes[i][1]]))]
    return s


def build(spec, rng):
    """The spec's nodes in tinygraph (some made by Python's operators)."""
    nodes = []
    for i, (kind, ins, arg) in enumerate(spec.nodes):
        a, name, operator = [nodes[j] for j in ins], f"n{i}", rng.random() < 0.3
        if kind == "input":
            node = tg.Input(arg["name"], shape=arg["shape"] if arg["declared"] else None)
        elif kind in ("param", "const"):
            node = (tg.Parameter if kind == "param" else tg.Constant)(spec.init[i], name=name)
        elif kind == "wsum":
            node = tg.WeightedSum(*a, name=name)
        elif kind == "append":
            node = tg.AppendOne(*a, name=name)
        elif kind in ACTIVATIONS:
            node = ACTIVATIONS[kind](*a, name=name)
        elif kind == "softmax":
            node = tg.Softmax(*a, name=name)
        elif kind == "add":
            node = a[0] + a[1] if operator and len(a) == 2 else tg.Add(*a, name=name)
        elif kind == "mul":
            node = a[0] * a[1] if operator else tg.Multiply(*a, name=name)
        elif kind == "scale":
            node = arg * a[0] if operator else tg.Scale(a[0], arg, name=name)
        elif kind == "concat":
            node = tg.Concat(*a, axis=arg, name=name)
        elif kind == "dropout":
            node = tg.Dropout(a[0], p=arg["p"], seed=arg["seed"], name=name)
        elif kind == "sub":
            node = a[0] - a[1] if operator else tg.Subtract(*a, name=name)
        elif kind == "div":
            node = a[0] / a[1] if operator else tg.Divide(*a, name=name)
        elif kind == "pow":
            node = a[0] ** arg if operator else tg.Power(a[0], arg, name=name)
        elif kind == "neg" and operator:
            node = -a[0]
        elif kind == "exp" and operator:
            node = a[0].exp()
        elif kind == "ln":
            node = a[0].log(clamp=CLAMP) if operator else tg.Log(a[0], clamp=CLAMP, name=name)
        elif kind in UNARY:
            node = UNARY[kind](*a, name=name)
        elif kind == "slice":
            node = tg.Slice(a[0], *arg, name=name)
        elif kind in ("sum", "mean"):
            node = (tg.Sum if kind == "sum" else tg.Mean)(*a, name=name)
        else:
            node = LOSSES[kind](*a, reduction=arg["reduction"], name=name)
        nodes.append(node)
    return nodes


# ---------------------------------------------------------------- random sequences of operations
OPERATIONS = ["train"] * 4 + ["forward"] * 2 + ["run", "backward", "step", "hyper", "reduction", "replace", "copy"]
OPERATIONS += ["fit", "mode"]


class Sequence:
    """One random graph, in tinygraph and in the reference, driven by a random sequence of operations."""

    def __init__(self, seed, index, counts):
        self.rng = rng = np.random.default_rng([seed, index])
        self.spec, self.counts, self.log, self.rows_last = random_spec(rng), counts, [], None
        self.ref = Reference(self.spec, float(rng.choice([0.003, 0.01, 0.03])), float(rng.choice([0.0, 0.5, 0.9])))

    def new_optimizer(self):
        self.ref.new_optimizer()
        params = self.graphs[0] if self.rng.random() < 0.3 else self.graphs[0].parameters()
        return tg.SGD(params, lr=self.ref.lr, momentum=self.ref.momentum)

    # -- what is fed
    def rows(self):
        """A batch size, often the last one again (None: one sample)."""
        if self.rng.random() > 0.4:
            self.rows_last = self.rng.choice([None, None, 1, 1, 2, 3, 5, 8, 65, 70, 100, 130])
        return self.rows_last

    def feed(self, inputs, rows, size=None):
        """Fresh arrays for these Inputs (x with ``size`` features if given); some float32, lists or ints."""
        r, feed, lead = self.rng, {}, () if rows is None else (int(rows),)
        for i in inputs:
            arg = self.spec.nodes[i][2]
            shape, data = (size,) if size and arg["name"] == "x" else arg["shape"], arg["data"]
            if data == "real":
                a = r.normal(size=lead + shape)
                a = a.astype(np.float32) if r.random() < 0.1 else a.tolist() if r.random() < 0.05 else a
            elif data == "unit":
                a = r.uniform(0.05, 0.95, size=lead + shape)
            elif data == "dist":  # rows of probabilities
                a = r.dirichlet(np.ones(shape[-1]), size=lead + shape[:-1])
            elif data == "onehot":
                a = np.eye(shape[-1])[r.integers(0, shape[-1], size=lead + shape[:-1])]
            else:  # class indices, as ints or floats
                a = r.integers(0, arg["classes"], size=lead + shape)
                a = a.astype(np.float64) if r.random() < 0.5 else a
            feed[i] = a
        return feed

    def keyed(self, feed):
        """The feed as tinygraph takes it: by the Inputs' names or by the nodes."""
        by_name = self.rng.random() < 0.5
        return {(self.nodes[i].name if by_name else self.nodes[i]): a for i, a in feed.items()}

    def size(self, g):
        """Another feature size for x, for the second graph when it fits any."""
        return int(self.rng.integers(1, 7)) if g == 1 and self.spec.flexible and self.rng.random() < 0.6 else None

    # -- the operations (the reference first: it may Stop before tinygraph runs)
    def forward(self, g):
        rows, size, outs, checked = self.rows(), self.size(g), self.ref.outputs[g], bool(self.rng.random() < 0.15)
        feed = self.feed(self.spec.inputs_of(outs), rows, size)
        self.log.append(f"graph {g}: forward, rows {rows}" + (f", x of {size} features" if size else ""))
        want = self.ref.run(g, outs, feed)[outs[0]]
        got = self.graphs[g].forward(self.keyed(feed), check_finite=checked)  # (check_finite: the checked loop)
        self.check("forward's result", got, want, self.ref.loosely, None, self.ref.scale)

    def run(self, g):
        r, rows, size, outs = self.rng, self.rows(), self.size(g), self.ref.outputs[g]
        nodes = self.spec.ancestors(outs)
        targets = [int(i) for i in r.choice(nodes, size=min(len(nodes), int(r.integers(1, 4))), replace=False)]
        needed = self.spec.inputs_of(targets)
        extra = [i for i in self.spec.inputs_of(outs) if i not in needed and not size and r.random() < 0.2]
        feed = self.feed(needed + extra, rows, size)  # (Inputs the targets do not need may be fed too)
        single, by_name = len(targets) == 1 and r.random() < 0.5, r.random() < 0.5
        self.log.append(f"graph {g}: run {targets[0] if single else targets}, rows {rows}, fed {sorted(feed)}")
        vals = self.ref.run(g, targets, feed)
        asked = [self.nodes[i].name if by_name else self.nodes[i] for i in targets]
        got = self.graphs[g].run(asked[0] if single else asked, self.keyed(feed))
        for i, value in zip(targets, [got] if single else got):
            self.check(f"run's value of node {i}", value, vals[i], self.ref.loosely, None, self.ref.scale)

    def backward(self, g):
        inputs, allowed = bool(self.rng.random() < 0.4), self.ref.may_backward(g)
        if allowed and not self.ref.last[g]["fresh"]:  # (a leaf changed in place since: what backward gives then
            return self.forward(g)  # mixes old values and new, not the oracle's business)
        self.log.append(f"graph {g}: backward(inputs={inputs})" + ("" if allowed else ", must be refused"))
        hook = (lambda node, grads: None) if self.rng.random() < 0.15 else None  # (a hook: the checked loop)
        if allowed:
            self.ref.backward(g, inputs)
            self.graphs[g].backward(inputs=inputs, hook=hook)
        else:
            self.refused(lambda: self.graphs[g].backward(inputs=inputs))

    def step(self):
        self.log.append("SGD step")
        if self.ref.step():
            self.opt.step()
        else:
            self.log[-1] += ", must be refused (a parameter has no gradient)"
            self.refused(self.opt.step)

    def refused(self, call):
        try:
            call()
        except tg.GraphError:
            self.counts["refusals checked"] += 1
            return
        raise Discrepancy("tinygraph did not refuse the operation")

    def train(self):
        self.forward(0)
        self.compare()
        self.backward(0)
        self.compare()
        self.step()

    def hyper(self):
        if self.rng.random() < 0.5:
            self.ref.lr = self.opt.lr = float(self.rng.choice([0.003, 0.01, 0.03]))
        else:
            self.ref.set_momentum(float(self.rng.choice([0.0, 0.3, 0.9])))
            self.opt.momentum = self.ref.momentum
        self.log.append(f"lr {self.ref.lr}, momentum {self.ref.momentum}")

    def mode(self):
        g = int(self.rng.integers(len(self.graphs)))
        self.ref.training[g] = training = bool(self.rng.random() < 0.5)
        self.graphs[g].train(training)
        self.log.append(f"graph {g}: {'train' if training else 'eval'}()")

    def reduction(self):
        if self.ref.reduction:
            i = int(self.rng.choice(list(self.ref.reduction)))
            self.ref.reduction[i] = self.nodes[i].reduction = "sum" if self.ref.reduction[i] == "mean" else "mean"
            self.log.append(f"node {i}: reduction {self.ref.reduction[i]}")

    def replace(self):
        r, ref = self.rng, self.ref
        how = str(r.choice(["new", "in place", "float32", "all float32", "float64"]))
        picked = ref.params if how in ("all float32", "float64") else [int(r.choice(ref.params))]
        self.log.append(f"parameters {picked}: {how}")
        for i in picked:
            if how in ("new", "in place", "float32"):
                value = r.normal(size=ref.param[i].shape).astype(np.float32 if how == "float32" else ref.param[i].dtype)
            else:  # the same numbers in float32, or back in float64
                value = ref.param[i].astype(np.float32 if how == "all float32" else np.float64)
            if how == "in place":
                self.nodes[i].value[...] = value
                ref.param[i][...] = value
                ref.loose_params.discard(i)
                ref.changed_in_place([i])
            else:
                self.nodes[i].value = value.copy()
                ref.replace(i, value)
        if how == "float64":  # float64 throughout again, with a new optimizer (its momentum starts at 0)
            self.opt = self.new_optimizer()

    def copy(self):
        how, whole = str(self.rng.choice(["deepcopy", "pickle", "new graphs"])), self.rng.random() < 0.7
        whole = whole or len(self.graphs) == 1
        self.log.append(f"{how} of {'everything' if whole else 'graph 0 alone (new SGD)'}")
        if how == "new graphs":  # new Graph objects on the same nodes: they have run no pass yet
            self.graphs = [tg.Graph(*[self.nodes[i] for i in outs]) for outs in self.ref.outputs]
            self.ref.last.clear()
            self.ref.training, self.ref.steps = {0: True, 1: True}, {0: 0, 1: 0}
            return
        world = (self.graphs, self.opt, self.nodes) if whole else (self.graphs[:1], None, self.nodes)
        world = copy.deepcopy(world) if how == "deepcopy" else pickle.loads(pickle.dumps(world))
        self.graphs, self.opt, self.nodes = world  # (the nodes of the copy, in the spec's order)
        if not whole:
            self.ref.outputs, self.spec.second = self.ref.outputs[:1], None
            self.ref.last.pop(1, None)
            self.opt = self.new_optimizer()
        self.counts["copies"] += 1

    def fit(self):
        r = self.rng
        epochs, batch_size, shuffle = int(r.integers(1, 3)), int(r.choice([1, 2, 3, 4, 7, 66])), r.random() < 0.5
        n, seed = int(r.integers(1, 7)), int(r.integers(100))
        if batch_size > 1:  # the last batch partial
            n = batch_size * int(r.integers(0, 3)) + int(r.integers(1, batch_size))
        data = {i: np.asarray(a) for i, a in self.feed(self.spec.inputs_of(self.ref.outputs[0]), n).items()}
        self.log.append(f"fit: {n} samples, epochs {epochs}, batch_size {batch_size}, shuffle {shuffle}, seed {seed}")
        want = self.ref.fit(data, epochs, batch_size, shuffle, seed)
        got = tg.fit(self.graphs[0], self.keyed(data), self.opt, epochs, batch_size, shuffle, seed, progress=False)
        self.check("fit's history", np.array(got), np.array(want), self.ref.loosely)
        self.counts["fits"] += 1

    # -- comparing
    def check(self, what, got, want, loose=False, dtype=None, scale=0.0):
        self.counts["comparisons"] += 1
        problem = difference(got, want, loose, dtype, scale)
        if problem:
            raise Discrepancy(f"{what}: {problem}")

    def compare(self):
        """Every node's value and gradient, the momentum and each graph's batch, against the reference."""
        for i, node in enumerate(self.nodes):
            for what in ("value", "grad"):
                self.check(f"{what} of node {i} ('{node.name}')", getattr(node, what), *self.ref.expected(what, i))
        if (self.opt.velocity is None) != (self.ref.velocity is None):
            raise Discrepancy(f"velocity is {self.opt.velocity!r}, expected {self.ref.velocity!r}")
        index = {id(node): i for i, node in enumerate(self.nodes)}
        for p, v in zip(self.opt.parameters, self.opt.velocity or ()):
            want = self.ref.velocity[index[id(p)]]
            self.check(
                f"velocity of node {index[id(p)]}", v, want, self.ref.velocity_loose, None, self.ref.velocity_scale
            )
        for g, graph in enumerate(self.graphs):
            if g in self.ref.last and graph.batch != self.ref.last[g]["batch"]:
                raise Discrepancy(f"graph {g}: batch {graph.batch}, expected {self.ref.last[g]['batch']}")
            if (graph.training, graph.mode.step) != (self.ref.training[g], self.ref.steps[g]):
                raise Discrepancy(f"graph {g}: {graph.mode}, expected {self.ref.training[g]}, {self.ref.steps[g]}")

    def play(self):
        """Build the graphs and run the operations; return None, or what went wrong."""
        r = self.rng
        try:
            self.nodes = build(self.spec, r)
            self.graphs = [tg.Graph(*[self.nodes[i] for i in outs]) for outs in self.ref.outputs]
            self.opt = self.new_optimizer()
            self.compare()
            for _ in range(int(r.integers(5, 30))):
                op = str(r.choice(OPERATIONS + ["second"] * 3 * (len(self.graphs) > 1)))
                if op == "second":  # the second graph: forward, run, and backward if its output is one number
                    out = self.ref.outputs[1][0]
                    scalar = not self.spec.shape[out] and not self.spec.batchy[out]
                    getattr(self, str(r.choice(["forward", "run"] + ["backward"] * scalar)))(1)
                else:
                    getattr(self, op)(*([0] if op in ("forward", "run", "backward") else []))
                self.compare()
                self.counts["operations"] += 1
        except Stop as stop:
            self.counts["sequences stopped early (rounding decides)"] += 1
            self.log.append(f"(stopped: {stop})")
        except Exception as exc:  # a discrepancy, or tinygraph (or the reference) raising
            return f"{type(exc).__name__}: {exc}"
        return None


def largest(arrays):
    return max((float(np.abs(a).max(initial=0)) for a in arrays if a is not None), default=0.0)


def difference(got, want, loose=False, dtype=None, scale=0.0):
    """Why ``got`` is not ``want`` within the tolerance (None when it is); ``scale``: the largest number
    of the pass that computed it (rounding leaves a result that cancels to near 0 only that close)."""
    if got is None or want is None:
        return None if got is None and want is None else f"expected {short(want)}, got {short(got)}"
    if type(got) is not np.ndarray:
        return f"expected a numpy array, got {type(got).__name__} {got!r}"
    if got.shape != np.shape(want):
        return f"expected shape {np.shape(want)}, got {got.shape}: {short(got)} vs {short(want)}"
    if dtype is not None and got.dtype != dtype:
        return f"expected dtype {np.dtype(dtype)}, got {got.dtype}"
    rtol, atol = LOOSE if loose else STRICT
    got, want = got.astype(np.float64), np.asarray(want, np.float64)
    bad = ~(np.abs(got - want) <= rtol * np.abs(want) + atol * (1 + np.abs(want).max(initial=0) + scale))
    if bad.any():
        k = tuple(np.argwhere(bad)[0])
        return f"{bad.sum()} of {bad.size} numbers differ; at {k}: got {got[k]!r}, expected {want[k]!r}"
    return None


def short(a):
    return "None" if a is None else np.array2string(np.asarray(a), precision=4, threshold=8)


def test_tinygraph_agrees_with_the_numpy_reference():
    counts, failures, start = (
        Counter(dict.fromkeys(["sequences", "operations", "discrepancies"], 0)),
        [],
        time.monotonic(),
    )
    indices = [int(ONLY)] if ONLY else itertools.count() if SECONDS else range(QUICK)
    for index in indices:
        if SECONDS and not ONLY and time.monotonic() - start > SECONDS:
            break
        sequence = Sequence(SEED, index, counts)
        counts["sequences"] += 1
        problem = sequence.play()
        if problem:
            counts["discrepancies"] += 1
            log = "\n".join(f"  {k}. {line}" for k, line in enumerate(sequence.log, 1))
            failures.append(f"seed {SEED}, sequence {index}:\n{problem}\nspec:\n{sequence.spec}\noperations:\n{log}")
    if SECONDS or ONLY:
        print(
            f"\noracle, seed {SEED}, {time.monotonic() - start:.0f} s:",
            ", ".join(f"{v} {k}" for k, v in counts.items()),
        )
    assert not failures, f"{len(failures)} discrepancies; the first:\n" + failures[0]


def test_summed_gradient_of_one_number_is_an_array():
    """Found by the oracle: a 0-d gradient summed over consumers was a numpy scalar, refused by SGD."""
    x, b = tg.Input("x", shape=(3,)), tg.Parameter(0.5, name="b")
    graph = tg.Graph(tg.Sum(tg.Add(tg.Multiply(x, b), b)))  # b: one number, with two consumers
    graph.forward({"x": np.arange(3.0)})
    graph.backward()
    assert type(b.grad) is np.ndarray and b.grad.shape == ()
    tg.SGD(graph.parameters(), lr=0.1).step()  # (SGD refuses a gradient that is not an array)


def test_run_follows_the_graphs_new_dtype():
    """Found by the oracle: graph.run of a node needing no Parameter kept the dtype of its first pass."""
    x, w = tg.Input("x", shape=(2,)), tg.Parameter(np.ones(2), name="w")
    h = tg.Tanh(x, name="h")
    graph = tg.Graph(tg.Sum(tg.Multiply(h, w)))
    graph.run(h, {"x": np.ones(2)})  # float64
    w.value = w.value.astype(np.float32)  # the graph computes in float32 from now on
    assert graph.dtype == np.float32 and graph.run(h, {"x": np.ones(2)}).dtype == np.float32
