"""Loss nodes: a scalar error E from a prediction and a target.

Every loss sums over the output units of a sample and, for a batch, averages over its
rows (``reduction="mean"``; ``"sum"`` adds them).  For one sample both reductions give
exactly the single-sample formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import GraphError
from .activations import exp_limit
from .node import Node, describe, kept

REDUCTIONS = ("mean", "sum")


class Loss(Node):
    """What every loss shares: a prediction and a target, and the reduction over a batch."""

    prefix = "loss"
    role = "loss"
    reduces_batch = True
    rows: int | None = None  # the batch size of the prediction in this pass (None: one sample)
    scale = 1.0  # this pass's factor: 1/rows for the mean over a batch, else 1
    gradient_terms: dict[str, str] = {}  # per input symbol: its gradient, for one sample

    def __init__(self, prediction: Node, target: Node, reduction: str = "mean", name: str | None = None) -> None:
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise GraphError(f"{describe(type(self), name)}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self._reduction = reduction
        super().__init__(prediction, target, name=name)

    @property
    def reduction(self) -> str:
        """ "mean" (of the per-sample losses of a batch) or "sum"; may be changed between passes."""
        return self._reduction

    @reduction.setter
    def reduction(self, reduction: str) -> None:
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise self.error(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self._reduction = reduction

    def infer_shape(self, p: tuple[int, ...], t: tuple[int, ...]) -> tuple[int, ...]:
        if p != t:
            hint = ""
            if self.inputs[1].role == "input" and {p, t} == {(1,), ()}:
                hint = f"; declare the target as Input('{self.inputs[1].name}', shape={p})"
            raise self.error(
                f"prediction '{self.inputs[0].name}' has per-sample shape {p} but "
                f"target '{self.inputs[1].name}' has {t}{hint}"
            )
        return ()

    def prepare(self, p: tuple, t: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if batched[0] != batched[1]:
            raise self.error(
                f"prediction '{self.inputs[0].name}' has shape {p} but target "
                f"'{self.inputs[1].name}' has shape {t}: both need one row per sample"
            )
        return {"rows": p[0] if batched[0] else None}

    @property
    def gradients(self) -> dict[str, str]:
        note = f" / {self.rows} (the mean over the batch)" if self.scale != 1.0 else ""
        return {symbol: text + note for symbol, text in self.gradient_terms.items()}

    def mean_scale(self) -> float:
        """1/rows for a batch averaged over its rows, else 1 (``reduction`` is read at every pass)."""
        if self.reduction not in REDUCTIONS:
            raise self.error(f"reduction must be one of {REDUCTIONS}, got {self.reduction!r}")
        return 1.0 / self.rows if self.rows and self.reduction == "mean" else 1.0


class SquaredLoss(Loss):
    """E = ½ Σ_k (o_k − t_k)² — squared error, summed over the output units.

    Derivatives: ∂E/∂o = o − t,  ∂E/∂t = −(o − t)   (times 1/batch for a mean).
    """

    formula = "E = ½ Σ_k (o_k − t_k)²"
    formula_tex = r"E = \tfrac{1}{2} \sum_k (o_k - t_k)^2"
    derivative = "∂E/∂o = o − t"
    derivative_tex = r"\frac{\partial E}{\partial o} = o - t"
    gradient_terms = {"o": "(o − t)", "t": "−(o − t)"}
    diff_out = grad_o = None

    def prepare(self, o: tuple, t: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        return dict(super().prepare(o, t, dtype=dtype, batched=batched), diff_out=kept(o, dtype), grad_o=kept(o, dtype))

    def forward(self, o: np.ndarray, t: np.ndarray) -> Any:
        self.scale = self.mean_scale()
        d = self.diff = np.subtract(o, t, out=self.diff_out)  # o − t, kept for backward
        return 0.5 * self.scale * np.vdot(d, d)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        g = grad_out if self.scale == 1.0 else grad_out * self.scale
        grad_o = np.multiply(self.diff, g, out=self.grad_o)  # g · (o − t)
        return grad_o, (-grad_o if self.needs[1] else None)

    def local(self) -> np.ndarray:
        return self.diff

    def lines(self, number: Any) -> list[str] | None:
        """E = ½(o_0 − t_0)² + … = E, for one sample of a few numbers."""
        o, t = self.inputs[0].value, self.inputs[1].value
        if self.rows is not None or np.size(o) > 4:
            return None
        terms = " + ".join(
            f"½({number(a)} − {number(b) if b >= 0 else f'({number(b)})'})²" for a, b in zip(np.ravel(o), np.ravel(t))
        )
        return [f"{self.name} = {terms} = {number(self.value)}"]


class LogLoss(Loss):
    """E = −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)] — binary cross-entropy on probabilities.

    Derivatives: ∂E/∂p = (p − t) / (p(1 − p)),  ∂E/∂t = log(1 − p) − log p.
    ``p`` is clipped to [ε, 1 − ε] (ε the dtype's machine epsilon) so saturated
    probabilities give finite values and gradients.
    """

    formula = "E = −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)]"
    formula_tex = r"E = -\sum_k \left[t_k \log p_k + (1 - t_k)\log(1 - p_k)\right]"
    derivative = "∂E/∂p = (p − t) / (p(1 − p))"
    derivative_tex = r"\frac{\partial E}{\partial p} = \frac{p - t}{p(1 - p)}"
    gradient_terms = {"p": "(p − t) / (p(1 − p))", "t": "log(1 − p) − log p"}

    def forward(self, p: np.ndarray, t: np.ndarray) -> Any:
        self.scale, self.t = self.mean_scale(), t
        eps = np.finfo(p.dtype).eps
        self.p = np.clip(p, eps, 1.0 - eps)
        self.log_p, self.log_q = np.log(self.p), np.log1p(-self.p)
        return np.asarray(self.scale * -(t * self.log_p + (1.0 - t) * self.log_q).sum(), p.dtype)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        g = grad_out * self.scale
        grad_p = g * (self.p - self.t) / (self.p * (1.0 - self.p))
        grad_t = g * (self.log_q - self.log_p) if self.needs[1] else None
        return grad_p, grad_t


class SoftmaxCrossEntropy(Loss):
    """E = −Σ_k t_k log softmax(z)_k — cross-entropy of class scores (logits) ``z``.

    ``target`` is either the class index per sample (shape of ``z`` without its last
    axis) or one-hot/probability rows of the same shape as ``z``.

    Derivatives: ∂E/∂z = softmax(z)·Σ_k t_k − t, which is softmax(z) − t for one-hot rows
    and class indices;  ∂E/∂t = −log softmax(z) (one-hot or probability targets; class
    indices are not differentiable and get no gradient).  Stable for huge logits:
    log-softmax is computed as z − max − log Σ e^(z − max).
    """

    formula = "E = −Σ_k t_k log softmax(z)_k"
    formula_tex = r"E = -\sum_k t_k \log \mathrm{softmax}(z)_k"
    derivative = "∂E/∂z = softmax(z) − t"
    derivative_tex = r"\frac{\partial E}{\partial z} = \mathrm{softmax}(z) - t"
    gradient_terms = {"z": "softmax(z) − t", "t": "−log softmax(z)"}
    no_gradient_for = (1,)  # class indices
    indices = False

    def infer_shape(self, z: tuple[int, ...], t: tuple[int, ...]) -> tuple[int, ...]:
        if len(z) < 1:
            raise self.error(
                f"logits '{self.inputs[0].name}' need a vector of class scores per sample, got per-sample shape {z}"
            )
        if t not in (z, z[:-1]):
            raise self.error(
                f"target '{self.inputs[1].name}' must be class indices (per-sample "
                f"shape {z[:-1]}) or one-hot rows (per-sample shape {z}), got {t}"
            )
        return ()

    def prepare(self, z: tuple, t: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        return dict(super().prepare(z, t, dtype=dtype, batched=batched), indices=t == z[:-1])

    def forward(self, z: np.ndarray, t: np.ndarray) -> Any:
        self.scale = self.mean_scale()
        shifted = z - z.max(axis=-1, keepdims=True)
        floor = -exp_limit(z.dtype)  # e^floor is negligible and does not underflow
        self.log_p = shifted - np.log(np.exp(np.maximum(shifted, floor)).sum(axis=-1, keepdims=True))
        self.p = np.exp(np.maximum(self.log_p, floor))
        if self.indices:
            k, idx = z.shape[-1], t.astype(np.intp)
            if np.any(idx != t) or np.any(idx < 0) or np.any(idx >= k):
                raise self.error(
                    f"target '{self.inputs[1].name}' must hold class indices 0..{k - 1}, got values {np.unique(t)[:10]}"
                )
            self.onehot = np.zeros_like(z)
            np.put_along_axis(self.onehot, idx[..., None], 1.0, axis=-1)
        else:
            self.onehot = t
        return np.asarray(-self.scale * (self.onehot * self.log_p).sum(), dtype=z.dtype)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        g, p, t = grad_out * self.scale, self.p, self.onehot
        grad_z = g * (p - t) if self.indices else g * (p * t.sum(axis=-1, keepdims=True) - t)
        grad_t = -g * self.log_p if self.needs[1] and not self.indices else None
        return grad_z, grad_t
