"""Nodes that join, split and combine branches: Add, Multiply, Concat, Slice, Sum, Mean, Scale.

Add and Multiply broadcast like numpy, per sample: a bias-like ``(n,)`` Parameter added to a ``(batch, n)``
value is added to every row, and its gradient is the sum over the rows.  In general an input that was
broadcast receives the upstream gradient summed over the axes it was stretched along.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..checks import shown
from .node import Node, describe


def is_number(c: Any) -> bool:
    """Tell whether ``c`` is a Python or numpy number (not a bool)."""
    return isinstance(c, (int, float, np.integer, np.floating)) and not isinstance(c, bool)


def is_finite(c: Any) -> bool:
    """Tell whether ``c`` is a finite number (an int too large for a float is not)."""
    try:
        return is_number(c) and math.isfinite(c)
    except OverflowError:  # an int too large for a float
        return False


def _listed(node: Node, shapes: tuple) -> str:
    return ", ".join(f"'{n.name}' {s}" for n, s in zip(node.inputs, shapes))


class Broadcasting(Node):
    """Add, Multiply (Subtract, Divide): per-sample shapes broadcast; values are lined up, the batch axis first."""

    aligned: list = []  # each input's whole shape padded with 1s to line up with the output's axes
    axes: list = []  # for each input, the axes its gradient is summed over (where it was stretched)
    shapes: list = []  # each input's whole shape

    def infer_shape(self, *shapes: tuple) -> tuple:
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            raise self.error(f"per-sample shapes do not broadcast: {_listed(self, shapes)}") from None

    def prepare(self, *shapes: tuple, dtype: Any, batched: tuple[bool, ...]) -> dict:
        ndim, batch = max(len(s) - b for s, b in zip(shapes, batched)), any(batched)
        aligned = [
            s[:1] + (1,) * (ndim + 1 - len(s)) + s[1:] if b else (1,) * (ndim + batch - len(s)) + s
            for s, b in zip(shapes, batched)
        ]
        out = np.broadcast_shapes(*aligned)
        axes = [tuple(i for i, (a, o) in enumerate(zip(s, out)) if a == 1 and o != 1) for s in aligned]
        return {"aligned": aligned, "axes": axes, "shapes": list(shapes)}

    def _line_up(self, values: tuple) -> list[np.ndarray]:
        return [v.reshape(a) for v, a in zip(values, self.aligned)]

    def _unbroadcast(self, grad: np.ndarray, k: int) -> np.ndarray:
        """Input k's gradient: ``grad`` summed over the axes it was stretched along."""
        return (grad.sum(axis=self.axes[k], keepdims=True) if self.axes[k] else grad).reshape(self.shapes[k])


class Add(Broadcasting):
    """y = a + b + … — elementwise sum of any number of inputs (numpy broadcasting).

    Derivative: ∂y/∂a = 1 for every input, so each input receives ``g`` itself (summed over the axes along
    which it was broadcast).  A skip connection ``h = f(x) + x`` is Add(f(x), x).

    Parameters
    ----------
    *nodes : Node
        One or more inputs whose per-sample shapes broadcast together.
    name : str, optional
        The node's name; by default ``add_<n>``.

    Raises
    ------
    TypeError
        If no input is given, or one is not a Node.
    tinygraph.GraphError
        If the per-sample shapes do not broadcast (when they are known).

    Notes
    -----
    Shapes broadcast per sample, batch axes lined up first: a ``(n,)`` Parameter added to a
    ``(batch, n)`` value is added to every row, and its gradient is the sum over the rows.
    ``a + b`` for two nodes builds ``Add(a, b)``.

    Examples
    --------
    A bias added to a batch of two rows; its gradient sums the rows:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(3,))
    >>> b = tg.Parameter([1.0, 2.0, 3.0], name="b")
    >>> y = tg.Add(x, b, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({"x": np.zeros((2, 3))}))
    12.0
    >>> graph.backward()
    >>> b.grad
    array([2., 2., 2.])
    >>> (x + b).kind
    'Add'
    """

    prefix = "add"
    derivative = "∂y/∂a = ∂y/∂b = 1"
    derivative_tex = r"\frac{\partial y}{\partial a} = \frac{\partial y}{\partial b} = 1"

    def __init__(self, *nodes: Node, name: str | None = None) -> None:
        if not nodes:
            raise TypeError(f"{describe(Add, name)}: needs at least one input")
        self.formula = "y = " + " + ".join(chr(97 + i) for i in range(min(len(nodes), 6))) + " + …" * (len(nodes) > 6)
        self.formula_tex = self.formula.replace("…", r"\dots")
        super().__init__(*nodes, name=name)

    gradients = property(lambda self: {s: "∂E/∂y · 1" for s in self.symbols()[1]})

    def forward(self, *values: np.ndarray) -> np.ndarray:
        lined = self._line_up(values)
        y = lined[0] + lined[1] if len(lined) > 1 else lined[0].copy()
        for v in lined[2:]:
            y = y + v  # (not in place: a later input may be wider than the first two)
        return y

    def backward(self, grad_out: np.ndarray) -> tuple:
        return tuple(self._unbroadcast(grad_out, k) if need else None for k, need in enumerate(self.needs))


class Multiply(Broadcasting):
    """y = a ⊙ b — elementwise product (numpy broadcasting), e.g. a gate.

    Derivatives: ∂E/∂a = g ⊙ b,  ∂E/∂b = g ⊙ a  (each summed over its broadcast axes).

    Parameters
    ----------
    a : Node
        The first factor.
    b : Node
        The second factor; the per-sample shapes of the two broadcast together, as in
        ``Add``.
    name : str, optional
        The node's name; by default ``mul_<n>``.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not a Node.
    tinygraph.GraphError
        If the per-sample shapes do not broadcast (when they are known).

    Notes
    -----
    ``a * b`` for two nodes builds ``Multiply(a, b)``; a node times a number is a ``Scale``.

    Examples
    --------
    >>> import tinygraph as tg
    >>> a = tg.Parameter([1.0, 2.0], name="a")
    >>> b = tg.Parameter([3.0, 4.0], name="b")
    >>> y = tg.Multiply(a, b, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))  # 1·3 + 2·4
    11.0
    >>> graph.backward()
    >>> a.grad, b.grad  # b and a
    (array([3., 4.]), array([1., 2.]))
    """

    prefix = "mul"
    formula, formula_tex = "y = a ⊙ b", r"y = a \odot b"
    derivative = "∂y/∂a = b, ∂y/∂b = a"
    derivative_tex = r"\frac{\partial y}{\partial a} = b,\ \frac{\partial y}{\partial b} = a"
    gradients = {"a": "∂E/∂y ⊙ b", "b": "∂E/∂y ⊙ a"}

    def __init__(self, a: Node, b: Node, name: str | None = None) -> None:
        super().__init__(a, b, name=name)

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        self.a, self.b = self._line_up((a, b))
        return self.a * self.b

    def backward(self, grad_out: np.ndarray) -> tuple:
        return (
            self._unbroadcast(grad_out * self.b, 0) if self.needs[0] else None,
            self._unbroadcast(grad_out * self.a, 1) if self.needs[1] else None,
        )


class Concat(Node):
    """y = [a, b, …] — joins inputs along a per-sample axis (the features, by default).

    Derivative: each input receives its own slice of ``g``.  All inputs must agree on every other axis.

    Parameters
    ----------
    *nodes : Node
        One or more inputs, each with the same number of per-sample axes.
    axis : int, optional
        The per-sample axis to join along, counted without the batch axis; -1 (the
        default) is the last, the features.
    name : str, optional
        The node's name; by default ``concat_<n>``.

    Raises
    ------
    TypeError
        If no input is given, one is not a Node, or ``axis`` is not an int.
    tinygraph.GraphError
        If ``axis`` lies outside the per-sample shapes, the inputs disagree on another
        axis, or some are batched and others are single samples.

    Notes
    -----
    Per sample, inputs of shapes ``(n_a,)`` and ``(n_b,)`` give ``(n_a + n_b,)``; a batch
    keeps its batch axis in front.

    Examples
    --------
    Two branches joined; each gets back its own part of the gradient:

    >>> import tinygraph as tg
    >>> a = tg.Parameter([1.0, 2.0], name="a")
    >>> b = tg.Parameter([5.0], name="b")
    >>> y = tg.Concat(a, b, name="y")
    >>> y.shape
    (3,)
    >>> graph = tg.Graph(tg.Sum(y * tg.Constant([1.0, 2.0, 3.0], name="r"), name="E"))
    >>> _ = graph.forward({})
    >>> y.value
    array([1., 2., 5.])
    >>> graph.backward()
    >>> a.grad, b.grad
    (array([1., 2.]), array([3.]))
    """

    prefix = "concat"
    derivative = "∂E/∂a = g[:n_a], ∂E/∂b = g[n_a:]"
    derivative_tex = r"\frac{\partial E}{\partial a} = g_{1..n_a},\ \frac{\partial E}{\partial b} = g_{n_a+1..}"
    split_axis, bounds = -1, ()

    def __init__(self, *nodes: Node, axis: int = -1, name: str | None = None) -> None:
        if not nodes:
            raise TypeError(f"{describe(Concat, name)}: needs at least one input")
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"{describe(Concat, name)}: axis must be an int, got {axis!r}")
        self.axis = int(axis)
        self.formula = (
            "y = [" + ", ".join(chr(97 + i) for i in range(min(len(nodes), 6))) + ", …" * (len(nodes) > 6) + "]"
        )
        self.formula_tex = self.formula.replace("…", r"\dots")
        super().__init__(*nodes, name=name)

    gradients = property(lambda self: {s: "its own slice of ∂E/∂y" for s in self.symbols()[1]})

    def infer_shape(self, *shapes: tuple) -> tuple:
        ndim = len(shapes[0])
        if ndim == 0 or not -ndim <= self.axis < ndim:
            raise self.error(f"axis {self.axis} is outside the per-sample shapes: {_listed(self, shapes)}")
        axis = self.axis % ndim
        if any(len(s) != ndim for s in shapes) or len({s[:axis] + s[axis + 1 :] for s in shapes}) > 1:
            raise self.error(f"inputs must agree on every axis but {self.axis}: {_listed(self, shapes)}")
        return shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1 :]

    def prepare(self, *shapes: tuple, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if len(set(batched)) > 1:
            raise self.error(f"cannot join batched and single-sample values: {_listed(self, shapes)}")
        ndim = len(shapes[0]) - batched[0]
        axis = self.axis % ndim - ndim  # counted from the end: the same with or without a batch
        return {"split_axis": axis, "bounds": list(np.cumsum([s[axis] for s in shapes])[:-1])}

    def forward(self, *values: np.ndarray) -> np.ndarray:
        return np.concatenate(values, axis=self.split_axis)

    def backward(self, grad_out: np.ndarray) -> tuple:
        return tuple(np.split(grad_out, self.bounds, axis=self.split_axis))


class Slice(Node):
    """y = x[start:stop] on the last (feature) axis — one branch takes part of a value.

    Derivative: ∂E/∂x is ``g`` in the sliced positions and 0 elsewhere.  ``start`` and ``stop`` count like
    Python's (negative from the end) but must lie inside the features and select at least one.

    Parameters
    ----------
    x : Node
        A value with a feature axis (its last).
    start : int
        The first feature taken.
    stop : int, optional
        The feature after the last one taken; None (the default) takes them to the end.
    name : str, optional
        The node's name; by default ``slice_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node, or ``start`` or ``stop`` is not an int.
    tinygraph.GraphError
        If ``x`` has no feature axis, or the slice is empty or reaches outside the
        features (when x's shape is known).

    Notes
    -----
    Per sample, ``(…, n)`` becomes ``(…, stop − start)``; a batch keeps its batch axis.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Parameter([1.0, 2.0, 3.0, 4.0], name="x")
    >>> y = tg.Slice(x, 1, 3, name="y")
    >>> y.formula, y.shape
    ('y = x[1:3]', (2,))
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))  # 2 + 3
    5.0
    >>> graph.backward()
    >>> x.grad
    array([0., 1., 1., 0.])
    """

    prefix = "slice"
    derivative = "∂E/∂x = g in the slice, 0 elsewhere"
    derivative_tex = r"\frac{\partial E}{\partial x_i} = g_i \text{ in the slice, else } 0"
    gradients = {"x": "∂E/∂y in the slice, 0 elsewhere"}

    def __init__(self, x: Node, start: int, stop: int | None = None, name: str | None = None) -> None:
        for what, v in (("start", start), ("stop", stop)):
            if (v is not None or what == "start") and (not isinstance(v, (int, np.integer)) or isinstance(v, bool)):
                raise TypeError(f"{describe(Slice, name)}: {what} must be an int, got {v!r}")
        self.start, self.stop = int(start), None if stop is None else int(stop)
        end = "" if stop is None else stop
        self.formula, self.formula_tex = f"y = x[{start}:{end}]", rf"y = x_{{{start}:{end}}}"
        super().__init__(x, name=name)

    def _bounds(self, n: int) -> tuple[int, int]:
        stop = n if self.stop is None else self.stop + n if self.stop < 0 else self.stop
        return (self.start + n if self.start < 0 else self.start), stop

    def infer_shape(self, x: tuple) -> tuple:
        if len(x) < 1:
            raise self.error(f"x '{self.inputs[0].name}' has no feature axis (per-sample shape {x})")
        start, stop = self._bounds(x[-1])
        if not 0 <= start < stop <= x[-1]:
            raise self.error(
                f"slice [{self.start}:{self.stop}] is outside the {x[-1]} features of "
                f"'{self.inputs[0].name}' (per-sample shape {x})"
            )
        return x[:-1] + (stop - start,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x_shape, self.x_dtype, self.bounds = x.shape, x.dtype, self._bounds(x.shape[-1])
        return x[..., self.bounds[0] : self.bounds[1]].copy()

    def backward(self, grad_out: np.ndarray) -> tuple:
        grad_x = np.zeros(self.x_shape, self.x_dtype)
        grad_x[..., self.bounds[0] : self.bounds[1]] = grad_out
        return (grad_x,)


class Sum(Node):
    """y = Σ_i x_i — all elements (and rows) added into one number.  ∂y/∂x_i = 1.

    Parameters
    ----------
    x : Node
        A value of any shape.
    name : str, optional
        The node's name; by default ``sum_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node.

    Notes
    -----
    y is one number, ``()``, for one sample and for a whole batch alike: the rows of a
    batch are added too.  So a Sum can be the output that ``backward`` differentiates.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> graph = tg.Graph(tg.Sum(x, name="E"))
    >>> float(graph.forward({"x": np.array([[1.0, 2.0], [3.0, 4.0]])}))
    10.0
    >>> graph.backward(inputs=True)
    >>> x.grad
    array([[1., 1.],
           [1., 1.]])
    """

    prefix = "sum"
    reduces_batch = True
    formula, formula_tex = "y = Σ_i x_i", r"y = \sum_i x_i"
    derivative, derivative_tex = "∂y/∂x_i = 1", r"\frac{\partial y}{\partial x_i} = 1"
    gradients = {"x": "∂E/∂y · 1 for every element"}

    def __init__(self, x: Node, name: str | None = None) -> None:
        super().__init__(x, name=name)

    def infer_shape(self, x: tuple) -> tuple:
        return ()

    def forward(self, x: np.ndarray) -> Any:
        self.x_shape, self.x_dtype = x.shape, x.dtype
        return x.sum()

    def backward(self, grad_out: np.ndarray) -> tuple:
        return (np.full(self.x_shape, grad_out, self.x_dtype),)


class Mean(Sum):
    """y = (1/N) Σ_i x_i over all N elements (and rows).  ∂y/∂x_i = 1/N.

    Parameters
    ----------
    x : Node
        A value of any shape.
    name : str, optional
        The node's name; by default ``mean_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node.
    tinygraph.GraphError
        If x's value is empty (N = 0), on the first pass with that shape.

    Notes
    -----
    As for ``Sum``, y is one number for one sample or a whole batch, whose rows count
    among the N elements.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> graph = tg.Graph(tg.Mean(x, name="E"))
    >>> float(graph.forward({"x": np.array([[1.0, 2.0], [3.0, 4.0]])}))
    2.5
    >>> graph.backward(inputs=True)
    >>> x.grad  # 1/N with N = 4
    array([[0.25, 0.25],
           [0.25, 0.25]])
    """

    prefix = "mean"
    formula, formula_tex = "y = (1/N) Σ_i x_i", r"y = \frac{1}{N}\sum_i x_i"
    derivative, derivative_tex = "∂y/∂x_i = 1/N", r"\frac{\partial y}{\partial x_i} = \frac{1}{N}"
    gradients = {"x": "∂E/∂y / N"}

    def prepare(self, x: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if 0 in x:
            raise self.error(f"cannot average the empty value of '{self.inputs[0].name}' (shape {x})")
        return {}

    def forward(self, x: np.ndarray) -> Any:
        self.x_shape, self.x_dtype = x.shape, x.dtype
        return x.mean()

    def backward(self, grad_out: np.ndarray) -> tuple:
        return (np.full(self.x_shape, grad_out / np.prod(self.x_shape), self.x_dtype),)


class Scale(Node):
    """y = c · x for a fixed number c (not trained) — e.g. a weight in a sum of losses.  ∂y/∂x = c.

    Parameters
    ----------
    x : Node
        A value of any shape; y has the same.
    c : float
        The factor, a finite number.
    name : str, optional
        The node's name; by default ``scale_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node or ``c`` is not a finite number.

    Notes
    -----
    ``0.3 * a`` and ``a * 0.3`` build ``Scale(a, 0.3)``.  Its ``formula`` and
    ``derivative`` show the number itself.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Parameter([1.0, -2.0], name="x")
    >>> y = tg.Scale(x, 3, name="y")
    >>> y.formula, y.derivative
    ('y = 3 · x', '∂y/∂x = c = 3')
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))
    -3.0
    >>> graph.backward()
    >>> x.grad
    array([3., 3.])
    >>> (0.5 * x).kind
    'Scale'
    """

    prefix = "scale"
    derivative_tex = r"\frac{\partial y}{\partial x} = c"
    formula = property(lambda self: f"y = {self.c:g} · x")
    formula_tex = property(lambda self: rf"y = {self.c:g}\,x")
    derivative = property(lambda self: f"∂y/∂x = c = {self.c:g}")
    gradients = property(lambda self: {"x": f"{self.c:g} · ∂E/∂y"})

    def __init__(self, x: Node, c: float, name: str | None = None) -> None:
        if not is_finite(c):
            raise TypeError(f"{describe(Scale, name)}: c must be a finite number, got {shown(c)}")
        self.c = float(c)
        super().__init__(x, name=name)

    def infer_shape(self, x: tuple) -> tuple:
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.c * x

    def backward(self, grad_out: np.ndarray) -> tuple:
        return (self.c * grad_out,)
