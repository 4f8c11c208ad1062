"""The node contract: a node states its formula and its derivative once, beside the code."""

from __future__ import annotations

import inspect
import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ..errors import GraphError

# Arrays of up to this many numbers are made fresh by numpy at every pass; larger ones are
# kept from one pass to the next.  (For a few numbers a fresh array is cheaper, measured.)
SMALL = 64

# Python's operators build nodes (a + b is Add(a, b) …); combine.py registers what they make.
OPERATORS: dict[str, Callable[..., Any]] = {}

_counters: defaultdict[str, itertools.count] = defaultdict(itertools.count)
_stagger = itertools.cycle(range(8))


def kept(shape: tuple[int, ...], dtype: Any) -> np.ndarray | None:
    """An array for a node to keep between passes, or None (numpy makes a fresh one).

    Pass it as ``out=`` to numpy: ``np.tanh(z, out=self.out)``.
    """
    n = math.prod(shape)
    if n <= SMALL:
        return None
    pad = next(_stagger) * 64 // np.dtype(dtype).itemsize  # (arrays of 4 KiB would all start at one offset)
    return np.empty(n + pad, dtype)[pad:].reshape(shape)


def auto_name(prefix: str) -> str:
    """A name for a node built without one: ``logistic_1``, ``logistic_2`` …"""
    return f"{prefix}_{next(_counters[prefix]) + 1}"


def as_float_array(value: Any, what: str, dtype: Any = None) -> np.ndarray:
    """``value`` as an ndarray of floats, or a TypeError/GraphError naming ``what``."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        if value is None:
            raise TypeError(f"{what}: expected an array of numbers, got None")
        try:
            arr = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise GraphError(
                f"{what}: expected a rectangular array of numbers, got a ragged sequence ({exc})"
            ) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what}: expected an array of numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what}: expected real numbers, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    return np.asarray(arr, dtype=dtype)


def describe(cls: type, name: str | None) -> str:
    """ "Kind 'name'" (or just "Kind"), for messages about a node still being built."""
    return f"{cls.__name__} '{name}'" if name else cls.__name__


class Node:
    """A value in the graph, computed from the values of its ``inputs``.

    A node class states its mathematics once, in the symbols of its docstring:

    - ``forward(*values)``: this node's value from its inputs' values (arrays, each with a
      leading batch axis when the pass has one).  It may keep, as attributes of its own,
      what its backward needs (``self.x = x``).
    - ``backward(grad_out)``, right below: receives ``grad_out`` = ∂E/∂(this node), shaped
      like its value, and returns one gradient per input, each shaped like that input's
      value: the chain-rule product ∂E/∂(node) · ∂(node)/∂(input).  ``self.needs[i]`` tells
      whether input i's gradient is wanted; return None where it is not.  It writes into
      nothing but arrays it made itself; the graph sums what several consumers send.
    - ``infer_shape(*shapes)`` (optional): the per-sample shape of the value from the
      inputs' per-sample shapes (no batch axis); raise ``self.error(...)`` when they do not
      fit.  Set what it reads before calling ``Node.__init__``, which calls it.
    - ``prepare(*shapes, dtype, batched)`` (optional): what the node keeps for passes with
      these shapes (its inputs' whole shapes, batch axis included), as a dict of
      attributes, e.g. ``{"out": kept(z, dtype)}``; ``batched[i]`` tells whether input i
      carries the batch axis.  The graph calls it once per set of shapes and keeps the
      result itself, so graphs sharing a node never share its arrays.  It reads no other
      attribute: whatever may change between passes (``reduction``) is read in forward.
    - ``reduces_batch = True`` for a node whose value is one number for a whole batch.
    - ``no_gradient_for``: inputs that may get None though asked for (class indices).

    The text the trace, ``graph.source()`` and the diagrams show, in the same symbols (the
    output's is the formula's left side, the inputs' are forward's argument names):
    ``formula``/``formula_tex``, ``derivative``/``derivative_tex``, ``gradients`` (for each
    input symbol, how its gradient is formed), and optionally ``local()`` (the numbers of
    the local derivative) and ``lines(number)`` (the formula with the numbers put in).

    Attributes: ``name``; ``inputs``; ``shape`` (one sample's shape, where declared or
    known when the node was built; ``graph.shape_of(node)`` tells what a graph infers);
    ``value`` after a forward pass; ``grad`` (∂E/∂value) after a backward pass.  Values
    and gradients of large nodes are arrays reused by the next pass: copy what you keep.
    """

    prefix: ClassVar[str] = "node"
    role: ClassVar[str] = "operation"  # or "input", "parameter", "constant", "loss"
    layer_role: ClassVar[str | None] = None  # "weighted sum", "bias input", "activation"
    reduces_batch: ClassVar[bool] = False
    no_gradient_for: ClassVar[tuple[int, ...]] = ()
    formula: str | None = None
    formula_tex: str | None = None
    derivative: str | None = None
    derivative_tex: str | None = None
    gradients: dict[str, str] = {}
    shape: tuple[int, ...] | None = None
    value: Any = None
    grad: Any = None
    kept_now: dict | None = None  # what a graph last gave this node to keep (see ``keep``)

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        self.inputs = tuple(inputs)
        for i, node in enumerate(inputs):
            if not isinstance(node, Node):
                hint = (
                    "; wrap numbers in tg.Parameter(...) (trained) or tg.Constant(...) (fixed)"
                    if isinstance(node, (list, tuple, np.ndarray, int, float))
                    else ""
                )
                symbols = self.symbols()[1]
                arg = f" ({symbols[i]})" if i < len(symbols) else ""
                raise TypeError(
                    f"{describe(type(self), name)}: input {i}{arg} must be a tinygraph "
                    f"Node, got {type(node).__name__}{hint}"
                )
        if name is None:
            name = auto_name(self.prefix)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}: name must be a non-empty string, got {name!r}")
        elif not name.isprintable():  # it reaches diagrams, pages, file members: one line of text
            raise GraphError(f"{type(self).__name__}: name {name!r} holds a newline or another control character")
        self.name = name
        self.needs = (True,) * len(inputs)
        shapes = [i.shape for i in inputs]
        if shapes and all(s is not None for s in shapes):  # a mismatch shows where it was made
            shape = self.infer_shape(*shapes)  # type: ignore[arg-type]
            self.shape = None if shape is None else tuple(shape)

    def forward(self, *values: np.ndarray) -> Any:
        raise NotImplementedError(f"{self.kind} must define forward(*values)")

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        raise NotImplementedError(f"{self.kind} must define backward(grad_out)")

    def infer_shape(self, *shapes: tuple[int, ...]) -> tuple[int, ...] | None:
        """The per-sample shape of the value from the inputs'; None: only the value can tell."""
        return None

    def prepare(self, *shapes: tuple[int, ...], dtype: Any, batched: tuple[bool, ...]) -> dict:
        """The attributes this node keeps for passes with these input shapes (none here)."""
        return {}

    def keep(self, kept: dict) -> None:
        """Take as attributes what a graph keeps for this node (what ``prepare`` returned)."""
        if self.kept_now is not kept:
            for name, value in kept.items():  # (setattr, not __dict__.update: attribute reads stay fast)
                setattr(self, name, value)
            self.kept_now = kept

    def symbols(self) -> tuple[str, list[str]]:
        """(the output's symbol, the inputs' symbols) of the formula: ("y", ["z"]) for σ."""
        lhs = (self.formula or "y").split(" = ")[0].strip()
        params = list(inspect.signature(self.forward).parameters.values())
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            return lhs, [chr(ord("a") + i) if i < 26 else f"x{i}" for i in range(len(self.inputs))]
        return lhs, [p.name for p in params]

    @property
    def kind(self) -> str:
        return type(self).__name__

    def error(self, message: str) -> GraphError:
        """A GraphError whose message starts with this node's kind and name."""
        return GraphError(f"{self.kind} '{self.name}': {message}")

    def __repr__(self) -> str:
        shape = "" if self.shape is None else f", shape={self.shape}"
        return f"{self.kind}('{self.name}'{shape})"

    def __add__(self, other: Any) -> Any:
        return OPERATORS["add"](self, other)

    def __mul__(self, other: Any) -> Any:
        return OPERATORS["mul"](self, other)

    __rmul__ = __mul__
    __array_ufunc__ = None  # ``array * node``: numpy defers to the node, which refuses an array
