"""Operation nodes: the weighted sum, the bias trick and the activation functions.

Each class states its forward formula and its local derivative in the docstring
and computes them in ``forward`` and ``backward`` right below, in the same symbols.
Values may carry a leading batch axis; every formula here acts row by row.
"""

import math

import numpy as np

from .node import SMALL, Node


class WeightedSum(Node):
    """z = x·w + b — one neuron (``w`` of shape ``(n_in,)``) or a layer (``(n_in, n_out)``).

    Per unit: ``z_j = Σ_i x_i w_ij + b_j``.  ``b`` is optional (leave it out when
    the bias rides on a constant-1 input, see ``AppendOne``).

    Derivatives, with ``g = ∂E/∂z``:
        ∂E/∂x = g · wᵀ          (``grad_x``, one row per sample)
        ∂E/∂w = xᵀ · g          (``grad_w``: ∂E/∂w_ij = x_i g_j, summed over the batch)
        ∂E/∂b = g               (``grad_b``, summed over the batch: 1ᵀ g)

    Shapes: x ``(n_in,)`` or ``(batch, n_in)``; z ``()``/``(n_out,)`` per sample.
    """

    prefix = "wsum"
    formula = "z = x·w + b"
    formula_tex = r"z = x \cdot w + b"
    derivative = "∂z/∂x = wᵀ, ∂z/∂w = x, ∂z/∂b = 1"
    derivative_tex = r"\frac{\partial z}{\partial x} = w^\top,\ \frac{\partial z}{\partial w} = x,\ \frac{\partial z}{\partial b} = 1"

    def __init__(self, x, w, b=None, name=None):
        inputs = (x, w) if b is None else (x, w, b)
        super().__init__(*inputs, name=name)
        if b is None:
            self.formula, self.formula_tex = "z = x·w", r"z = x \cdot w"
            self.derivative = "∂z/∂x = wᵀ, ∂z/∂w = x"
            self.derivative_tex = r"\frac{\partial z}{\partial x} = w^\top,\ \frac{\partial z}{\partial w} = x"

    def infer_shape(self, x_shape, w_shape, b_shape=None):
        x, w, b = self.inputs[0], self.inputs[1], self.inputs[2] if len(self.inputs) > 2 else None
        if len(w_shape) not in (1, 2):
            raise self.error(f"w '{w.name}' must have shape (n_in,) or (n_in, n_out), got {w_shape}")
        if len(x_shape) != 1:
            raise self.error(f"x '{x.name}' must be a vector of features per sample, "
                             f"got per-sample shape {x_shape}")
        if x_shape[0] != w_shape[0]:
            raise self.error(f"x '{x.name}' has {x_shape[0]} features but w '{w.name}' expects "
                             f"{w_shape[0]} (w shape {w_shape})")
        out = w_shape[1:]
        if b is not None and b_shape != out:
            raise self.error(f"b '{b.name}' must have shape {out} to match w '{w.name}' "
                             f"{w_shape}, got {b_shape}")
        return out

    def forward(self, x, w, b=None):
        if x.ndim == 1:                                  # one sample: a few numbers, made fresh
            z = np.dot(x, w)
            return z if b is None else z + b
        z = np.matmul(x, w, out=self.buffer("z", x.shape[:-1] + w.shape[1:], x.dtype))  # a batch
        return z if b is None else np.add(z, b, out=z)

    def backward(self, grad_out):
        x, w = self.inputs[0].value, self.inputs[1].value
        g, needs = grad_out, self.needs
        grad_x = grad_w = grad_b = None
        if x.ndim == 1:                                  # one sample
            if needs[0]:
                grad_x = np.dot(w, g)                    # w·g = g·wᵀ
            if needs[1]:                                 # ∂E/∂w_ij = x_i g_j
                # (buffer() itself returns None up to SMALL; asked first, it saves a call per step)
                out = self.buffer("grad_w", w.shape, w.dtype) if w.size > SMALL else None
                grad_w = np.multiply(x[:, None], g, out=out) if w.ndim == 2 else np.multiply(x, g, out=out)
            grad_b = g
        else:                                            # a batch: sums over its rows
            if needs[0]:
                out = self.buffer("grad_x", x.shape, x.dtype)
                grad_x = np.matmul(g, w.T, out=out) if w.ndim == 2 else np.multiply.outer(g, w, out=out)
            if needs[1]:
                grad_w = np.matmul(x.T, g, out=self.buffer("grad_w", w.shape, w.dtype))
            if len(needs) == 3 and needs[2]:             # Σ over the rows = 1ᵀ g (BLAS beats sum)
                ones = self.buffer("ones", g.shape[:1], g.dtype, fill=1.0)
                grad_b = np.matmul(ones, g, out=self.buffer("grad_b", g.shape[1:], g.dtype))
        return (grad_x, grad_w) if len(needs) == 2 else (grad_x, grad_w, grad_b)

    # Written into the graph's passes (compiled.py): the same calls as above, branch by branch.
    def forward_code(self, out, ins, arrays, namespace):
        x, w, x_node = ins[0], ins[1], self.inputs[0]
        if len(arrays.shape(x_node)) == 1:                      # one sample
            return [f"{out} = np.dot({x}, {w})" + (f" + {ins[2]}" if len(ins) == 3 else "")]
        kept = self.out_code(out, "z", arrays.shape(self), arrays.dtype(x_node), namespace)
        lines = [f"{out} = np.matmul({x}, {w}{kept})"]
        return lines + [f"{out} = np.add({out}, {ins[2]}, out={out})"] if len(ins) == 3 else lines

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        x_node, w_node = self.inputs[0], self.inputs[1]
        (x, w), (grad_x, grad_w), grad_b = ins[:2], grads[:2], grads[2] if len(grads) == 3 else None
        layer = len(w_node.shape) == 2
        lines = []
        if len(arrays.shape(x_node)) == 1:                      # one sample
            if grad_x:
                lines.append(f"{grad_x} = np.dot({w}, {g})")
            if grad_w:
                kept = self.out_code(value, "grad_w", w_node.shape, arrays.dtype(w_node), namespace)
                lines.append(f"{grad_w} = np.multiply({x + '[:, None]' if layer else x}, {g}{kept})")
            if grad_b:
                lines.append(f"{grad_b} = {g}")
            return lines
        if grad_x:                                              # a batch: sums over its rows
            kept = self.out_code(value, "grad_x", arrays.shape(x_node), arrays.dtype(x_node), namespace)
            lines.append(f"{grad_x} = np.matmul({g}, {w}.T{kept})" if layer else
                         f"{grad_x} = np.multiply.outer({g}, {w}{kept})")
        if grad_w:
            kept = self.out_code(value, "grad_w", w_node.shape, arrays.dtype(w_node), namespace)
            lines.append(f"{grad_w} = np.matmul({x}.T, {g}{kept})")
        if grad_b:
            dtype = arrays.grad_dtype(self)                     # (g's dtype)
            ones = self.kept_code(value, "ones", arrays.shape(self)[:1], dtype, namespace, fill=1.0)
            kept = self.out_code(value, "grad_b", arrays.shape(self)[1:], dtype, namespace)
            lines.append(f"{grad_b} = np.matmul({ones}, {g}{kept})")
        return lines


class AppendOne(Node):
    """x̃ = [x, 1] — the bias trick: a constant-1 input element whose weight is the bias.

    With ``z = x̃·w̃`` and ``w̃ = [w; b]``, ``z = x·w + b``.

    Derivative: ∂E/∂x = (∂E/∂x̃) without its last element (the constant has no input).
    """

    prefix = "append_one"
    formula = "x̃ = [x, 1]"
    formula_tex = r"\tilde{x} = [x, 1]"
    derivative = "∂x̃/∂x = I (the appended 1 is constant)"
    derivative_tex = r"\frac{\partial \tilde{x}}{\partial x} = I"

    def __init__(self, x, name=None):
        super().__init__(x, name=name)

    def infer_shape(self, x_shape):
        if len(x_shape) != 1:
            raise self.error(f"x '{self.inputs[0].name}' must be a vector of features per sample, "
                             f"got per-sample shape {x_shape}")
        return (x_shape[0] + 1,)

    def forward(self, x):
        out = np.empty(x.shape[:-1] + (x.shape[-1] + 1,), dtype=x.dtype)
        out[..., :-1] = x
        out[..., -1] = 1
        return out

    def backward(self, grad_out):
        return (grad_out[..., :-1],)


class _Elementwise(Node):
    """A node applying one function to every element of a single input ``z``."""

    def __init__(self, z, name=None):
        super().__init__(z, name=name)

    def infer_shape(self, z_shape):
        return z_shape


# |z| beyond which e^(|z|) would come near overflow (Softmax and SoftmaxCrossEntropy clamp there too).
_EXP_LIMIT = {np.dtype(np.float64): 500.0, np.dtype(np.float32): 60.0, np.dtype(np.float16): 8.0}


class _PerDtype(dict):
    """{dtype: numbers as 0-d arrays of that dtype}, made on first use.

    numpy combines an array with a 0-d array of its own dtype faster than with a
    Python float, which it converts again at every call.
    """

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, dtype):
        numbers = self[dtype] = self.make(dtype)
        for a in numbers:
            a.flags.writeable = False
        return numbers


_CLIP_IN_ONE_GO = 2048  # elements from which np.clip beats np.minimum and np.maximum
_SIGMOID = _PerDtype(lambda dtype: (np.array(_EXP_LIMIT.get(dtype, 500.0), dtype),
                                    np.array(-_EXP_LIMIT.get(dtype, 500.0), dtype), np.array(1, dtype)))


class Logistic(_Elementwise):
    """y = σ(z) = 1 / (1 + e^(−z)), elementwise.

    Derivative: ∂y/∂z = σ(z)(1 − σ(z)) = y(1 − y), so ∂E/∂z = g · y(1 − y).
    Stable for any z: −z is clipped to ±500 (±60 in float32) before exponentiating,
    so e^(−z) neither overflows nor underflows (no numpy warning under any error
    setting); σ is off by less than e^(−500) in float64 (e^(−60) in float32).
    """

    prefix = "logistic"
    formula = "y = σ(z) = 1/(1 + e^(−z))"
    formula_tex = r"y = \sigma(z) = \frac{1}{1 + e^{-z}}"
    derivative = "∂y/∂z = y(1 − y)"
    derivative_tex = r"\frac{\partial y}{\partial z} = y(1 - y)"

    def forward(self, z):
        limit, minus_limit, one = _SIGMOID[z.dtype]
        if z.size <= SMALL:                    # a few numbers: the formula as written
            return np.reciprocal(one + np.exp(np.maximum(np.minimum(-z, limit), minus_limit)))
        y = np.negative(z, out=self.buffer("y", z.shape, z.dtype))   # larger: in one kept array
        if y.size > _CLIP_IN_ONE_GO:           # one clip pass beats two ufuncs on large arrays
            np.clip(y, minus_limit, limit, out=y)
        else:
            np.minimum(y, limit, out=y)
            np.maximum(y, minus_limit, out=y)
        np.exp(y, out=y)
        np.add(y, one, out=y)
        return np.reciprocal(y, out=y)         # y = 1 / (1 + e^(−z))

    def backward(self, grad_out):
        y = self.value
        one = _SIGMOID[y.dtype][2]
        out = self.buffer("grad_z", y.shape, y.dtype)
        local = np.multiply(np.subtract(one, y, out=out), y, out=out)   # y(1 − y)
        return (np.multiply(local, grad_out, out=out),)                # g · y(1 − y)

    # Written into the graph's passes (compiled.py): the same calls as above, branch by branch.
    def forward_code(self, out, ins, arrays, namespace):
        namespace["_SIGMOID"] = _SIGMOID
        z, size = ins[0], math.prod(arrays.shape(self))
        lines = [f"_limit, _minus_limit, _one = _SIGMOID[{z}.dtype]"]
        if size <= SMALL:
            clipped = f"np.maximum(np.minimum(-{z}, _limit), _minus_limit)"
            return lines + [f"{out} = np.reciprocal(_one + np.exp({clipped}))"]
        kept = self.out_code(out, "y", arrays.shape(self), arrays.dtype(self.inputs[0]), namespace)
        lines.append(f"{out} = np.negative({z}{kept})")
        if size > _CLIP_IN_ONE_GO:
            lines.append(f"np.clip({out}, _minus_limit, _limit, out={out})")
        else:
            lines += [f"np.minimum({out}, _limit, out={out})", f"np.maximum({out}, _minus_limit, out={out})"]
        return lines + [f"np.exp({out}, out={out})", f"np.add({out}, _one, out={out})",
                        f"{out} = np.reciprocal({out}, out={out})"]

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        namespace["_SIGMOID"] = _SIGMOID
        kept = self.out_code(value, "grad_z", arrays.shape(self), arrays.dtype(self), namespace)
        return [f"_one = _SIGMOID[{value}.dtype][2]",
                f"{grads[0]} = np.multiply(np.multiply(np.subtract(_one, {value}{kept}), {value}{kept}), "
                f"{g}{kept})"]


class Step(_Elementwise):
    """y = 1 if z ≥ 0 else 0 — the unit step of the perceptron, elementwise.

    Its true derivative is 0 almost everywhere, which would stop all learning.
    Backward instead passes the gradient straight through (∂y/∂z taken as 1).
    With squared loss E = ½(y − t)² that gives ∂E/∂w = (y − t)·x, so the SGD step
    w ← w − η(y − t)x is exactly Rosenblatt's perceptron rule w ← w + η(t − y)x.
    """

    prefix = "step"
    formula = "y = 1 if z ≥ 0 else 0"
    formula_tex = r"y = \begin{cases}1 & z \ge 0\\ 0 & z < 0\end{cases}"
    derivative = "∂y/∂z := 1 (straight-through: perceptron rule)"
    derivative_tex = r"\frac{\partial y}{\partial z} := 1"

    def forward(self, z):
        return (z >= 0).astype(z.dtype)

    def backward(self, grad_out):
        return (grad_out,)

    def forward_code(self, out, ins, arrays, namespace):
        return [f"{out} = ({ins[0]} >= 0).astype({ins[0]}.dtype)"]

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        return [f"{grads[0]} = {g}"]


class Tanh(_Elementwise):
    """y = tanh(z), elementwise.  Derivative: ∂y/∂z = 1 − y²."""

    prefix = "tanh"
    formula = "y = tanh(z)"
    formula_tex = r"y = \tanh(z)"
    derivative = "∂y/∂z = 1 − y²"
    derivative_tex = r"\frac{\partial y}{\partial z} = 1 - y^2"

    def forward(self, z):
        return np.tanh(z, out=self.buffer("y", z.shape, z.dtype))

    def backward(self, grad_out):
        y = self.value
        out = self.buffer("grad_z", y.shape, y.dtype)
        local = np.subtract(1.0, np.multiply(y, y, out=out), out=out)  # 1 − y²
        return (np.multiply(local, grad_out, out=out),)               # g · (1 − y²)

    def forward_code(self, out, ins, arrays, namespace):
        kept = self.out_code(out, "y", arrays.shape(self), arrays.dtype(self.inputs[0]), namespace)
        return [f"{out} = np.tanh({ins[0]}{kept})"]

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        k = self.out_code(value, "grad_z", arrays.shape(self), arrays.dtype(self), namespace)
        return [f"{grads[0]} = np.multiply(np.subtract(1.0, np.multiply({value}, {value}{k}){k}), {g}{k})"]


class ReLU(_Elementwise):
    """y = max(0, z), elementwise.  Derivative: ∂y/∂z = 1 if z > 0 else 0."""

    prefix = "relu"
    formula = "y = max(0, z)"
    formula_tex = r"y = \max(0, z)"
    derivative = "∂y/∂z = 1 if z > 0 else 0"
    derivative_tex = r"\frac{\partial y}{\partial z} = [z > 0]"

    def forward(self, z):
        return np.maximum(z, 0, out=self.buffer("y", z.shape, z.dtype))

    def backward(self, grad_out):
        y = self.value
        on = np.greater(y, 0, out=self.buffer("on", y.shape, bool))          # [z > 0]
        return (np.multiply(grad_out, on, out=self.buffer("grad_z", y.shape, y.dtype)),)

    def forward_code(self, out, ins, arrays, namespace):
        kept = self.out_code(out, "y", arrays.shape(self), arrays.dtype(self.inputs[0]), namespace)
        return [f"{out} = np.maximum({ins[0]}, 0{kept})"]

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        on = self.out_code(value, "on", arrays.shape(self), np.dtype(bool), namespace)
        kept = self.out_code(value, "grad_z", arrays.shape(self), arrays.dtype(self), namespace)
        return [f"{grads[0]} = np.multiply({g}, np.greater({value}, 0{on}){kept})"]


class Softmax(Node):
    """y_k = e^(z_k) / Σ_j e^(z_j) over the last axis (the probabilities of classes).

    Derivative: ∂y_k/∂z_j = y_k(δ_kj − y_j), so ∂E/∂z = y ⊙ (g − Σ_k g_k y_k).
    Stable: the row maximum is subtracted before exponentiating.
    """

    prefix = "softmax"
    formula = "y_k = e^(z_k) / Σ_j e^(z_j)"
    formula_tex = r"y_k = \frac{e^{z_k}}{\sum_j e^{z_j}}"
    derivative = "∂E/∂z = y ⊙ (g − Σ_k g_k y_k)"
    derivative_tex = r"\frac{\partial y_k}{\partial z_j} = y_k(\delta_{kj} - y_j)"

    def __init__(self, z, name=None):
        super().__init__(z, name=name)

    def infer_shape(self, z_shape):
        if len(z_shape) < 1:
            raise self.error(f"needs a vector of scores per sample, got per-sample shape {z_shape}")
        return z_shape

    def forward(self, z):
        shifted = z - z.max(axis=-1, keepdims=True)
        # e^(−500) is 1e-217: far below anything that matters, and no underflow warning
        e = np.exp(np.maximum(shifted, -_EXP_LIMIT.get(shifted.dtype, 500.0), out=shifted))
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def backward(self, grad_out):
        y = self.value
        return (y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True)),)
