"""Reshaping: the same numbers in another per-sample shape (Flatten: images into feature vectors)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import GraphError
from .node import Node, describe


class Reshape(Node):
    """y = reshape(x, shape) — the same numbers, in row-major order, in another per-sample shape.

    Derivative: every number of y is one number of x, so ∂E/∂x is ∂E/∂y reshaped back to
    x's shape.

    Parameters
    ----------
    x : Node
        A value of any per-sample shape.
    shape : int or tuple of int
        The per-sample shape of y (no batch axis), with as many numbers as x's; one entry
        may be −1, worked out from the others.
    name : str, optional
        The node's name; by default ``reshape_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``shape`` is not a whole number or a tuple of them, each ≥ 1 (or one −1), or
        holds a different number of numbers than x's per-sample shape (when it is known).
    TypeError
        If ``x`` is not a Node.

    See Also
    --------
    Flatten : Any shape into a vector.

    Notes
    -----
    A batch keeps its batch axis in front: ``(batch, 8, 3, 3)`` becomes ``(batch, 72)`` with
    shape ``(72,)``.  The value may be a view of x's.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(6,))
    >>> y = tg.Reshape(x, (2, 3), name="y")
    >>> y.shape
    (2, 3)
    >>> tg.Graph(y).forward({"x": np.arange(12.0).reshape(2, 6)}).shape  # a batch of two
    (2, 2, 3)
    >>> tg.Reshape(x, (4, 2), name="bad")
    Traceback (most recent call last):
    ...
    tinygraph.errors.GraphError: Reshape 'bad': cannot reshape x 'x' of per-sample shape (6,) (6 numbers) to (4, 2) ...
    """

    prefix = "reshape"
    derivative = "∂E/∂x = ∂E/∂y reshaped to x's shape"
    derivative_tex = r"\frac{\partial E}{\partial x} = \frac{\partial E}{\partial y} \text{ reshaped to x's shape}"
    gradients = {"x": "∂E/∂y reshaped like x"}
    x_shape: tuple = ()  # the whole shapes of x and y in these passes (prepare)
    y_shape: tuple = ()

    def __init__(self, x: Node, shape: Any, name: str | None = None) -> None:
        entries = (shape,) if isinstance(shape, (int, np.integer)) else shape
        ok = isinstance(entries, (tuple, list)) and all(
            isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)) and (n >= 1 or n == -1)
            for n in entries
        )
        if not ok or list(entries).count(-1) > 1:
            raise GraphError(
                f"{describe(type(self), name)}: shape must be a whole number or a tuple of them, each >= 1 "
                f"(one may be -1), got {shape!r}"
            )
        self.target = tuple(int(n) for n in entries)
        self.formula = self.formula or f"y = reshape(x, {self.target})"
        self.formula_tex = self.formula_tex or rf"y = \mathrm{{reshape}}(x, {self.target})"
        super().__init__(x, name=name)

    def infer_shape(self, x: tuple) -> tuple[int, ...]:
        size, known = math.prod(x), math.prod(n for n in self.target if n != -1)
        shape = tuple(size // known if n == -1 else n for n in self.target)
        if math.prod(shape) != size:
            wanted = f"{known}·k numbers" if -1 in self.target else f"{known} numbers"
            raise self.error(
                f"cannot reshape x '{self.inputs[0].name}' of per-sample shape {x} ({size} numbers) "
                f"to {self.target} ({wanted})"
            )
        return shape

    def prepare(self, x: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        lead = int(batched[0])  # (the batch axis, kept as it is)
        return {"x_shape": x, "y_shape": x[:lead] + self.infer_shape(x[lead:])}

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.reshape(self.y_shape)

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        return (grad_out.reshape(self.x_shape),)


class Flatten(Reshape):
    """y = flatten(x) — an image ``(C, H, W)`` (any per-sample shape) as one vector of its numbers.

    y[(c·H + i)·W + j] = x[c, i, j], row-major, so ∂E/∂x is ∂E/∂y reshaped back to x's
    shape.  It takes a convolution's feature maps to the vector a WeightedSum takes.

    Parameters
    ----------
    x : Node
        A value of any per-sample shape.
    name : str, optional
        The node's name; by default ``flatten_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node.

    See Also
    --------
    Reshape : Any other shape.

    Notes
    -----
    Per sample ``(C, H, W)`` becomes ``(C·H·W,)``; a batch keeps its batch axis in front.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> maps = tg.Input("maps", shape=(8, 3, 3))
    >>> h = tg.Flatten(maps, name="h")
    >>> h.shape
    (72,)
    >>> tg.Graph(h).forward({"maps": np.zeros((5, 8, 3, 3))}).shape
    (5, 72)
    """

    prefix = "flatten"
    formula, formula_tex = "y = flatten(x)", r"y = \mathrm{flatten}(x)"

    def __init__(self, x: Node, name: str | None = None) -> None:
        super().__init__(x, -1, name=name)
