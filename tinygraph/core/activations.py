"""Activation functions, applied element by element: Logistic, Step, Tanh, ReLU."""

from __future__ import annotations

from typing import Any

import numpy as np

from .node import Node, kept


def exp_limit(dtype: Any) -> float:
    """|z| beyond which e^|z| comes near overflow in ``dtype`` (500 in float64, 60 in float32)."""
    return {np.dtype(np.float32): 60.0, np.dtype(np.float16): 8.0}.get(np.dtype(dtype), 500.0)


class _Numbers(dict):
    """{dtype.char: (1, the exp limit, minus it) as 0-d arrays of that dtype}: numpy combines an array with
    a 0-d array of its own dtype faster than with a Python float (and a char hashes faster than a dtype)."""

    def __missing__(self, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        limit = exp_limit(dtype)
        numbers = self[dtype] = (np.array(1, dtype), np.array(limit, dtype), np.array(-limit, dtype))
        return numbers


NUMBERS = _Numbers()


class Elementwise(Node):
    """y = f(z) for every element of one input z.

    A subclass states ``forward`` (f) and ``local`` (f', the local derivative ∂y/∂z); the
    chain rule is the same for all of them: ∂E/∂z = ∂E/∂y ⊙ ∂y/∂z.
    """

    layer_role = "activation"
    out = grad_z = None  # the arrays kept for large values (see prepare), else made fresh

    def __init__(self, z: Node, name: str | None = None) -> None:
        super().__init__(z, name=name)

    @property
    def gradients(self) -> dict[str, str]:
        return {"z": f"∂E/∂y ⊙ {self.derivative.split(' = ', 1)[1]}"} if self.derivative else {}

    def infer_shape(self, z: tuple[int, ...]) -> tuple[int, ...]:
        return z

    def prepare(self, z: tuple[int, ...], *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        return {"out": kept(z, dtype), "grad_z": kept(z, dtype)}

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        raise NotImplementedError(f"{self.kind} must define local(out=None), its ∂y/∂z")

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        out = self.grad_z
        return (np.multiply(grad_out, self.local(out), out=out),)  # ∂E/∂z = g ⊙ ∂y/∂z


class Logistic(Elementwise):
    """y = σ(z) = 1/(1 + e^(−z)), elementwise;  ∂y/∂z = σ(z)(1 − σ(z)) = y(1 − y).

    Stable for any z: −z is clipped to ±500 (±60 in float32) before exponentiating, so
    e^(−z) neither overflows nor underflows; σ is off by less than e^(−500) (e^(−60)).
    """

    prefix = "logistic"
    formula = "y = σ(z) = 1/(1 + e^(−z))"
    formula_tex = r"y = \sigma(z) = \frac{1}{1 + e^{-z}}"
    derivative = "∂y/∂z = y(1 − y)"
    derivative_tex = r"\frac{\partial y}{\partial z} = y(1 - y)"

    def forward(self, z: np.ndarray) -> np.ndarray:
        one, limit, minus_limit = NUMBERS[z.dtype.char]
        out = self.out  # each step into the kept array, or a fresh one (out=None)
        y = np.negative(z, out=out)
        y = np.maximum(np.minimum(y, limit, out=out), minus_limit, out=out)
        y = np.add(np.exp(y, out=out), one, out=out)
        return np.reciprocal(y, out=out)  # 1 / (1 + e^(−z))

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        y = self.value
        return np.multiply(np.subtract(NUMBERS[y.dtype.char][0], y, out=out), y, out=out)  # y(1 − y)


class Tanh(Elementwise):
    """y = tanh(z), elementwise;  ∂y/∂z = 1 − y²."""

    prefix = "tanh"
    formula = "y = tanh(z)"
    formula_tex = r"y = \tanh(z)"
    derivative = "∂y/∂z = 1 − y²"
    derivative_tex = r"\frac{\partial y}{\partial z} = 1 - y^2"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.tanh(z, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        y = self.value
        return np.subtract(NUMBERS[y.dtype.char][0], np.multiply(y, y, out=out), out=out)  # 1 − y²


class ReLU(Elementwise):
    """y = max(0, z), elementwise;  ∂y/∂z = 1 if z > 0 else 0."""

    prefix = "relu"
    formula = "y = max(0, z)"
    formula_tex = r"y = \max(0, z)"
    derivative = "∂y/∂z = [z > 0]"
    derivative_tex = r"\frac{\partial y}{\partial z} = [z > 0]"

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(z, 0, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        return np.greater(self.value, 0, out=out)  # y > 0 exactly where z > 0


class Step(Elementwise):
    """y = 1 if z ≥ 0 else 0 — the unit step of the perceptron, elementwise.

    Its true derivative is 0 almost everywhere, which would stop all learning.  Backward
    instead passes the gradient straight through (∂y/∂z taken as 1).  With squared loss
    E = ½(y − t)² that gives ∂E/∂w = (y − t)·x, so the SGD step w ← w − η(y − t)x is
    exactly Rosenblatt's perceptron rule w ← w + η(t − y)x.
    """

    prefix = "step"
    formula = "y = 1 if z ≥ 0 else 0"
    formula_tex = r"y = \begin{cases}1 & z \ge 0\\ 0 & z < 0\end{cases}"
    derivative = "∂y/∂z := 1 (straight through: the perceptron rule)"
    derivative_tex = r"\frac{\partial y}{\partial z} := 1"
    gradients = {"z": "∂E/∂y · 1   (straight through)"}

    def forward(self, z: np.ndarray) -> np.ndarray:
        return np.greater_equal(z, 0, out=self.out).astype(z.dtype, copy=False)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:  # ∂y/∂z taken as 1
            return np.ones_like(self.value)
        out.fill(1)
        return out
