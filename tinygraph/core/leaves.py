"""The leaves of a graph: Input (data fed at run time), Parameter (trained), Constant (fixed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .node import Node, as_float_array


class Input(Node):
    """Data fed at run time: ``graph.forward({"x": array})``.

    ``shape`` is the shape of one sample (``(2,)`` for two features).  A fed array of that
    shape is one sample; one with an extra leading axis is a batch of rows.  Without a
    declared shape a 1-D array is one sample and a 2-D array a batch; 1-D arrays fed beside
    a batch (targets of a single output unit) are batches of scalars.  What a graph infers
    about an undeclared Input stays in that graph (``graph.shape_of(x)``).
    """

    prefix = "input"
    role = "input"
    formula = "given"
    fed_by: object = None  # the pass that last fed it (a graph checks it before backward)

    def __init__(self, name: str, shape: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Input: name must be a non-empty string, got {name!r}")
        super().__init__(name=name)
        if shape is not None:
            try:
                shape = tuple(shape)
            except TypeError:  # one number
                shape = (shape,)
            if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise TypeError(f"Input '{name}': shape must be a tuple of non-negative ints, got {shape!r}")
            shape = tuple(int(d) for d in shape)
        self.shape = shape

    def backward(self, grad_out: np.ndarray) -> tuple:
        return ()


class Parameter(Node):
    """A trainable array (weights, biases); optimizers update ``value`` in place.

    The array given is copied, so the caller's array never changes.  Integer values become
    float64; float32 stays float32.  ``p.value`` may be replaced by another float array
    (optimizers and graphs follow it from their next step or pass, after checking it).
    """

    prefix = "param"
    role = "parameter"
    formula = "trainable"

    def __init__(self, value: Any, name: str | None = None) -> None:
        super().__init__(name=name)
        self.value = np.array(as_float_array(value, f"Parameter '{self.name}'"), order="C")

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    def backward(self, grad_out: np.ndarray) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"Parameter('{self.name}', shape={self.shape})"


class Constant(Node):
    """A fixed array that is never updated (a read-only copy of ``value``).

    A graph whose parameters are float32 reads it as float32, without changing the constant, so graphs of
    two dtypes can share it.
    """

    prefix = "const"
    role = "constant"
    formula = "fixed"

    def __init__(self, value: Any, name: str | None = None) -> None:
        super().__init__(name=name)
        self.value = np.array(as_float_array(value, f"Constant '{self.name}'"))
        self.value.flags.writeable = False

    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    def backward(self, grad_out: np.ndarray) -> tuple:
        return ()


def checked_value(node: Node) -> np.ndarray:
    """A Parameter's or Constant's value, which may have been replaced: a float array, or a TypeError
    naming the node (checked before a pass or a step uses it)."""
    value = node.value
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        got = "None" if value is None else type(value).__name__
        got += f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else ""
        raise TypeError(
            f"{node.kind} '{node.name}': value must be a numpy array of floats, got {got}; assign "
            f"one, e.g. {node.name}.value = np.array(...)"
        )
    if node.role == "parameter" and not value.flags.writeable:
        raise TypeError(
            f"Parameter '{node.name}': value must be a writeable array (optimizers update it in "
            "place), got a read-only one; assign a copy"
        )
    return value
