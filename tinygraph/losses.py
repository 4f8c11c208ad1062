"""Loss nodes: a scalar error E from a prediction and a target.

Every loss sums over the output units of a sample and, for a batch, averages
over its rows (``reduction="mean"``; ``"sum"`` adds them).  For one sample both
reductions give exactly the single-sample formula.
"""

import numpy as np

from .node import Input, Node
from .ops import _EXP_LIMIT

_REDUCTIONS = ("mean", "sum")


class _Loss(Node):
    prefix = "loss"

    def __init__(self, prediction, target, reduction="mean", name=None):
        super().__init__(prediction, target, name=name)
        if reduction not in _REDUCTIONS:
            raise self.error(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction
        self.scale = 1.0

    def _set_scale(self, prediction):
        """1/batch for a batch with reduction 'mean', else 1 (stored for backward)."""
        self.scale = self._scale_for(prediction.shape)

    def _scale_for(self, shape):
        batched = len(shape) > len(self.inputs[0].shape)
        return 1.0 / shape[0] if batched and self.reduction == "mean" else 1.0

    def _check_same(self, p_shape, t_shape):
        if p_shape != t_shape:
            p, t = self.inputs
            hint = ""
            if isinstance(t, Input) and {p_shape, t_shape} == {(1,), ()}:
                hint = f"; declare the target as Input('{t.name}', shape={p_shape})"
            raise self.error(f"prediction '{p.name}' has per-sample shape {p_shape} but "
                             f"target '{t.name}' has {t_shape}{hint}")
        return ()

    def _check_values(self, prediction, target):
        if prediction.shape != target.shape:
            p, t = self.inputs
            raise self.error(f"prediction '{p.name}' has shape {prediction.shape} but "
                             f"target '{t.name}' has shape {target.shape}")


class SquaredLoss(_Loss):
    """E = ½ Σ_k (o_k − t_k)² — squared error, summed over the output units.

    Derivatives: ∂E/∂o = o − t,  ∂E/∂t = −(o − t)   (times 1/batch for a mean).
    """

    formula = "E = ½ Σ_k (o_k − t_k)²"
    formula_tex = r"E = \tfrac{1}{2} \sum_k (o_k - t_k)^2"
    derivative = "∂E/∂o = o − t"
    derivative_tex = r"\frac{\partial E}{\partial o} = o - t"

    def infer_shape(self, o_shape, t_shape):
        return self._check_same(o_shape, t_shape)

    def forward(self, o, t):
        if o.shape != t.shape:
            self._check_values(o, t)
        self._set_scale(o)
        self.diff = d = np.subtract(o, t, out=self.buffer("diff", o.shape, o.dtype))  # o − t
        return np.asarray(0.5 * self.scale * np.vdot(d, d))

    def backward(self, grad_out):
        d = self.diff
        g = grad_out if self.scale == 1.0 else grad_out * self.scale
        grad_o = np.multiply(d, g, out=self.buffer("grad_o", d.shape, d.dtype))   # g · (o − t)
        grad_t = -grad_o if self.needs[1] else None
        return grad_o, grad_t

    # Written into the graph's passes (compiled.py): the same calls as above, the scale known.
    def forward_code(self, out, ins, arrays, namespace):
        (o, t), o_node = ins, self.inputs[0]
        if arrays.shape(o_node) != arrays.shape(self.inputs[1]):             # (forward reports it)
            return None
        kept = self.out_code(out, "diff", arrays.shape(o_node), arrays.dtype(o_node), namespace)
        scale = self._scale_for(arrays.shape(o_node))
        rows = arrays.shape(o_node)[0] if scale != 1.0 else None
        mean = "" if rows is None else f"  # the mean over {rows} rows: 1/{rows}"
        return [f"_diff = np.subtract({o}, {t}{kept})",
                f"node_{out}.diff, node_{out}.scale = _diff, {scale!r}{mean}",
                f"{out} = 0.5{'' if scale == 1.0 else f' * {scale!r}'} * np.vdot(_diff, _diff)"]

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        o_node = self.inputs[0]
        kept = self.out_code(value, "grad_o", arrays.shape(o_node), arrays.dtype(o_node), namespace)
        scale = self._scale_for(arrays.shape(o_node))
        grad_o = grads[0] or "_grad_o"
        scaled = g if scale == 1.0 else f"{g} * {scale!r}"
        lines = [f"{grad_o} = np.multiply(node_{value}.diff, {scaled}{kept})"]
        if grads[1]:
            lines.append(f"{grads[1]} = -{grad_o}")
        return lines


class LogLoss(_Loss):
    """E = −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)] — binary cross-entropy on probabilities.

    Derivatives: ∂E/∂p = (p − t) / (p(1 − p)),  ∂E/∂t = log(1 − p) − log p.
    ``p`` is clipped to [ε, 1 − ε] (ε the dtype's machine epsilon) so saturated
    probabilities give finite values and gradients.
    """

    formula = "E = −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)]"
    formula_tex = r"E = -\sum_k \left[t_k \log p_k + (1 - t_k)\log(1 - p_k)\right]"
    derivative = "∂E/∂p = (p − t) / (p(1 − p))"
    derivative_tex = r"\frac{\partial E}{\partial p} = \frac{p - t}{p(1 - p)}"

    def infer_shape(self, p_shape, t_shape):
        return self._check_same(p_shape, t_shape)

    def forward(self, p, t):
        self._check_values(p, t)
        self._set_scale(p)
        eps = np.finfo(p.dtype).eps
        self.p = np.clip(p, eps, 1.0 - eps)
        self.log_p, self.log_q = np.log(self.p), np.log1p(-self.p)
        total = -(t * self.log_p + (1.0 - t) * self.log_q).sum()
        return np.asarray(self.scale * total, dtype=p.dtype)

    def backward(self, grad_out):
        t = self.inputs[1].value
        g = grad_out * self.scale
        grad_p = g * (self.p - t) / (self.p * (1.0 - self.p))
        grad_t = g * (self.log_q - self.log_p) if self.needs[1] else None
        return grad_p, grad_t


class SoftmaxCrossEntropy(_Loss):
    """E = −Σ_k t_k log softmax(z)_k — cross-entropy of class scores (logits) ``z``.

    ``target`` is either the class index per sample (shape of ``z`` without its
    last axis) or one-hot/probability rows of the same shape as ``z``.

    Derivatives: ∂E/∂z = softmax(z)·Σ_k t_k − t, which is softmax(z) − t for one-hot
    rows and class indices;  ∂E/∂t = −log softmax(z)  (one-hot or probability targets;
    class indices are not differentiable and get no gradient).
    Stable for huge logits: log-softmax is computed as z − max − log Σ e^(z − max).
    """

    formula = "E = −Σ_k t_k log softmax(z)_k"
    formula_tex = r"E = -\sum_k t_k \log \mathrm{softmax}(z)_k"
    derivative = "∂E/∂z = softmax(z) − t"
    derivative_tex = r"\frac{\partial E}{\partial z} = \mathrm{softmax}(z) - t"
    no_gradient_for = (1,)  # class indices

    def infer_shape(self, z_shape, t_shape):
        z, t = self.inputs
        if len(z_shape) < 1:
            raise self.error(f"logits '{z.name}' need a vector of class scores per sample, "
                             f"got per-sample shape {z_shape}")
        if t_shape not in (z_shape, z_shape[:-1]):
            raise self.error(f"target '{t.name}' must be class indices (per-sample shape "
                             f"{z_shape[:-1]}) or one-hot rows (per-sample shape {z_shape}), "
                             f"got {t_shape}")
        return ()

    def forward(self, z, t):
        self._set_scale(z)
        shifted = z - z.max(axis=-1, keepdims=True)
        floor = -_EXP_LIMIT.get(shifted.dtype, 500.0)  # e^floor is negligible and does not underflow
        self.log_p = shifted - np.log(np.exp(np.maximum(shifted, floor)).sum(axis=-1, keepdims=True))
        self.p = np.exp(np.maximum(self.log_p, floor))
        self.indices = t.shape == z.shape[:-1]
        if self.indices:
            k = z.shape[-1]
            idx = t.astype(np.intp)
            if np.any(idx != t) or np.any(idx < 0) or np.any(idx >= k):
                raise self.error(f"target '{self.inputs[1].name}' must hold class indices "
                                 f"0..{k - 1}, got values {np.unique(t)[:10]}")
            self.onehot = np.zeros_like(z)
            np.put_along_axis(self.onehot, idx[..., None], 1.0, axis=-1)
        elif t.shape == z.shape:
            self.onehot = t
        else:
            raise self.error(f"target '{self.inputs[1].name}' has shape {t.shape}; expected "
                             f"{z.shape[:-1]} (class indices) or {z.shape} (one-hot)")
        return np.asarray(-self.scale * (self.onehot * self.log_p).sum(), dtype=z.dtype)

    def backward(self, grad_out):
        g = grad_out * self.scale
        p, t = self.p, self.onehot
        grad_z = g * (p - t) if self.indices else g * (p * t.sum(axis=-1, keepdims=True) - t)
        grad_t = None
        if self.needs[1] and not self.indices:
            grad_t = -g * self.log_p
        return grad_z, grad_t
