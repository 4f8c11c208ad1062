"""Activation functions, applied element by element: Logistic, Step, Tanh, ReLU."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ..notation import element, put_number, substitute
from .node import Node, Scalar, factor, kept


def exp_limit(dtype: Any) -> float:
    """Return the |z| beyond which e^|z| comes near overflow in ``dtype``.

    500 in float64, 60 in float32 and 8 in float16.
    """
    return {np.dtype(np.float32): 60.0, np.dtype(np.float16): 8.0}.get(np.dtype(dtype), 500.0)


class _Numbers(dict):
    """{dtype.char: (1, the exp limit, minus it) as 0-d arrays of that dtype}.

    Numpy combines an array with a 0-d array of its own dtype faster than with a Python float
    (and a char hashes faster than a dtype).
    """

    def __missing__(self, dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        limit = exp_limit(dtype)
        numbers = self[dtype] = (np.array(1, dtype), np.array(limit, dtype), np.array(-limit, dtype))
        return numbers


NUMBERS = _Numbers()


class Elementwise(Node):
    """y = f(z) for every element of one input z.

    A subclass states ``forward`` (f) and ``local`` (f', the local derivative ∂y/∂z); the
    chain rule is the same for all of them: ∂E/∂z = ∂E/∂y ⊙ ∂y/∂z.

    Parameters
    ----------
    z : Node
        The input, of any shape.
    name : str, optional
        The node's name, unique within a graph; without one the node is named from the
        class's ``prefix`` and a number (``logistic_1``, …).

    Raises
    ------
    TypeError
        If ``z`` is not a Node (numbers go into a ``Parameter`` or a ``Constant``) or
        ``name`` is not a non-empty string.

    See Also
    --------
    Logistic, Tanh, ReLU, Step : The elementwise activations of the package.

    Notes
    -----
    y has the shape of z: one sample's shape and, for a batch, the same with the batch
    axis in front.  Besides ``forward`` and ``local`` the base class supplies
    ``backward`` (the chain rule above), ``infer_shape`` (z's shape), ``prepare`` (the
    arrays ``out`` and ``grad_z`` it keeps for large values; None for small ones, so numpy
    makes them fresh) and ``gradients`` (for the trace).  CONTRIBUTING.md works through
    such a subclass, Softplus.

    Examples
    --------
    The square, elementwise, with its local derivative 2z:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> class Square(tg.Elementwise):
    ...     formula, derivative = "y = z²", "∂y/∂z = 2z"
    ...     def forward(self, z):
    ...         self.z = z
    ...         return z * z
    ...     def local(self, out=None):
    ...         return np.multiply(2, self.z, out=out)
    >>> z = tg.Parameter([1.0, -3.0], name="z")
    >>> graph = tg.Graph(tg.Sum(Square(z, name="y"), name="E"))
    >>> float(graph.forward({}))
    10.0
    >>> graph.backward()
    >>> z.grad
    array([ 2., -6.])
    """

    layer_role = "activation"
    out = grad_z = None  # the arrays kept for large values (see prepare), else made fresh

    def __init__(self, z: Node, name: str | None = None) -> None:
        super().__init__(z, name=name)

    @property
    def gradients(self) -> dict[str, str]:
        """How the input's gradient is formed, for the trace: ∂E/∂y ⊙ the right side of ``derivative``."""
        return {self.symbols()[1][0]: f"∂E/∂y ⊙ {self.derivative.split(' = ', 1)[1]}"} if self.derivative else {}

    def infer_shape(self, z: tuple[int, ...]) -> tuple[int, ...]:
        return z

    def prepare(self, z: tuple[int, ...], *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        return {"out": kept(z, dtype), "grad_z": kept(z, dtype)}

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        """Return the local derivative ∂y/∂z, element by element, at the last forward pass.

        Parameters
        ----------
        out : numpy.ndarray or None, optional
            An array of z's shape to write the result into (the kept ``grad_z``), or None
            for a fresh one.

        Returns
        -------
        numpy.ndarray
            ∂y/∂z, shaped like z (``out`` itself when given).

        Raises
        ------
        NotImplementedError
            Always, here: every subclass defines it.
        """
        raise NotImplementedError(f"{self.kind} must define local(out=None), its ∂y/∂z")

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        out = self.grad_z
        return (np.multiply(grad_out, self.local(out), out=out),)  # ∂E/∂z = g ⊙ ∂y/∂z

    def scalars(self, shapes, values=None, value=None, grad_out=None, number=str, needs=None) -> list[Scalar]:
        """Open the node up, for one sample: y_j = f(z_j), element by element.

        Each element passes its gradient back by the chain rule, one number at a time:
        ∂E/∂z_j = ∂E/∂y_j · ∂y_j/∂z_j, with ∂y_j/∂z_j from ``local`` at these z (worked out
        on a copy of the node, so that the node's own state stays as it is).

        Parameters
        ----------
        shapes : sequence of tuple of int
            z's per-sample shape, in a sequence of one.
        values : sequence of numpy.ndarray or None, optional
            One sample's z, in a sequence of one; None (the default) for the structure alone.
        value : numpy.ndarray or None, optional
            One sample's y.
        grad_out : numpy.ndarray or None, optional
            One sample's ∂E/∂y.
        number : callable, optional
            Formats one number; ``str`` by default.
        needs : sequence of bool, optional
            ``needs[0]``: whether z's gradient is drawn (then each element says what it sends
            back to z); True by default.

        Returns
        -------
        list of Scalar
            One per element of y (keys ``e<index>``), each using the same element of z.

        Examples
        --------
        >>> import numpy as np
        >>> import tinygraph as tg
        >>> h = tg.Logistic(tg.Input("z", shape=(2,)), name="h")
        >>> s = h.scalars([(2,)], [np.array([0.0, 1.0])], np.array([0.5, 0.731]), np.array([1.0, 0.0]))
        >>> s[0].name, s[0].forward, s[0].backward[0]
        ('h[0]', ('= σ(z[0])', '= σ(0.0)'), '∂h[0]/∂z[0] = h[0](1 − h[0]) = 0.25')
        """
        (y, (symbol, *_)), zn = self.symbols(), self.inputs[0].name
        z = None if values is None else values[0]
        sends = needs is None or needs[0]  # (z's gradient drawn)
        local = self._local_at(z) if z is not None and grad_out is not None and sends else None
        rhs = (self.formula or f"{y} = {self.kind}({symbol})").split(" = ")[1]
        derivative = (self.derivative or "").split(" = ")
        f, out = (lambda v: factor(number, v)), []
        for j in np.ndindex(*shapes[0]):
            yj, zj = element(self.name, j), element(zn, j)
            fwd: tuple[str, ...] = (f"= {substitute(rhs, {symbol: zj})}",)
            if z is not None:
                fwd += (f"= {put_number(rhs, symbol, number(z[j]))}",)
            back: tuple[str, ...] = ()
            if local is not None and grad_out is not None:  # ∂E/∂z_j = ∂E/∂y_j · ∂y_j/∂z_j
                g, d = float(grad_out[j]), float(local[j])
                how = f" = {substitute(derivative[1], {y: yj, symbol: zj})}" if len(derivative) == 2 else ""
                back = (
                    f"∂{yj}/∂{zj}{how} = {number(d)}",
                    f"∂E/∂{zj} = ∂E/∂{yj} · ∂{yj}/∂{zj} = {f(g)} · {f(d)} = {number(g * d)}",
                )
            v, g_j = None if value is None else float(value[j]), None if grad_out is None else float(grad_out[j])
            key = "e" + "_".join(map(str, j))
            out.append(Scalar(key, "element", yj, v, g_j, f"∂E/∂{yj}", fwd, back, ((0, j),), output=j))
        return out

    def _local_at(self, z: np.ndarray) -> np.ndarray:
        """Return ∂y/∂z at these z: ``forward`` and ``local`` run on a copy, without the arrays the node keeps."""
        twin = copy.copy(self)
        for name in self.kept_now or {}:  # (None: numpy makes fresh arrays, the node's own stay untouched)
            setattr(twin, name, None)
        twin.value = twin.forward(np.array(z, dtype=float))
        return np.asarray(twin.local(), dtype=float)


class Logistic(Elementwise):
    """y = σ(z) = 1/(1 + e^(−z)), elementwise;  ∂y/∂z = σ(z)(1 − σ(z)) = y(1 − y).

    The logistic (sigmoid) function squashes any number into (0, 1); its derivative comes
    from its own value, so backward needs no exponential.

    Parameters
    ----------
    z : Node
        The weighted input, of any shape.
    name : str, optional
        The node's name; by default ``logistic_<n>``.

    Raises
    ------
    TypeError
        If ``z`` is not a Node or ``name`` is not a non-empty string.

    See Also
    --------
    Tanh : The same S-shape on (−1, 1).
    LogLoss : The loss to pair it with for probabilities.

    Notes
    -----
    Stable for any z: −z is clipped to ±500 (±60 in float32) before exponentiating, so
    e^(−z) neither overflows nor underflows; σ is off by less than e^(−500) (e^(−60)).

    y has the shape of z, one sample or a batch.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> z = tg.Parameter([-2.0, 0.0, 2.0], name="z")
    >>> y = tg.Logistic(z, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> _ = graph.forward({})
    >>> np.round(y.value, 4)  # σ(0) = 0.5
    array([0.1192, 0.5   , 0.8808])
    >>> graph.backward()
    >>> np.round(z.grad, 4)  # y(1 − y), with ∂E/∂y = 1
    array([0.105, 0.25 , 0.105])
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
    """y = tanh(z), elementwise;  ∂y/∂z = 1 − y².

    Parameters
    ----------
    z : Node
        The weighted input, of any shape.
    name : str, optional
        The node's name; by default ``tanh_<n>``.

    Raises
    ------
    TypeError
        If ``z`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    tanh(z) = 2σ(2z) − 1: the logistic curve stretched to (−1, 1) and centred on 0.
    y has the shape of z, one sample or a batch.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> z = tg.Parameter([-2.0, 0.0, 2.0], name="z")
    >>> y = tg.Tanh(z, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> _ = graph.forward({})
    >>> np.round(y.value, 4)
    array([-0.964,  0.   ,  0.964])
    >>> graph.backward()
    >>> np.round(z.grad, 4)  # 1 − y²
    array([0.0707, 1.    , 0.0707])
    """

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
    """y = max(0, z), elementwise;  ∂y/∂z = 1 if z > 0 else 0.

    Parameters
    ----------
    z : Node
        The weighted input, of any shape.
    name : str, optional
        The node's name; by default ``relu_<n>``.

    Raises
    ------
    TypeError
        If ``z`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    At z = 0 the derivative is taken as 0.  y has the shape of z, one sample or a batch.

    Examples
    --------
    >>> import tinygraph as tg
    >>> z = tg.Parameter([-2.0, 0.0, 2.0], name="z")
    >>> y = tg.ReLU(z, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> _ = graph.forward({})
    >>> y.value
    array([0., 0., 2.])
    >>> graph.backward()
    >>> z.grad  # [z > 0]
    array([0., 0., 1.])
    """

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

    Parameters
    ----------
    z : Node
        The weighted input, of any shape.
    name : str, optional
        The node's name; by default ``step_<n>``.

    Raises
    ------
    TypeError
        If ``z`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    y has the shape and the dtype of z, one sample or a batch.  ``examples/perceptron.py``
    trains a perceptron with it.

    Examples
    --------
    >>> import tinygraph as tg
    >>> z = tg.Parameter([-2.0, 0.0, 2.0], name="z")
    >>> y = tg.Step(z, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> _ = graph.forward({})
    >>> y.value  # the step at 0 is 1
    array([0., 1., 1.])
    >>> graph.backward()
    >>> z.grad  # straight through
    array([1., 1., 1.])
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
