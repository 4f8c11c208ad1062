"""Elementary operations to compose losses and functions by hand, and what Python's operators build.

Subtract, Divide, Negate, Square, Power, Exp, Log, Abs and LeakyReLU each state their formula and
their local derivative once, like every node.  With them (and Add, Multiply, Scale, Sum, Mean) a
loss can be written out instead of taken ready-made: ``SquaredLoss(o, t)`` for one sample is
``Scale(Sum(Square(o - t)), 0.5)``.

Python's operators on nodes build these nodes (``x - 1``, ``x ** 3``, ``10 / x``, ``-x``; see
``Arithmetic``); the builders are here and registered when ``tinygraph`` is imported.  A graph of
scalars reads like micrograd's:

>>> import tinygraph as tg
>>> a, b = tg.Parameter(2.0, name="a"), tg.Parameter(-3.0, name="b")
>>> y = (a * b + 1) ** 2 / 2.0
>>> graph = tg.Graph(y)
>>> float(graph.forward({}))  # (2·(−3) + 1)² / 2
12.5
>>> graph.backward()  # ∂y/∂a = (ab + 1)·b, ∂y/∂b = (ab + 1)·a
>>> float(a.grad), float(b.grad)
(15.0, -10.0)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import number
from .activations import NUMBERS, Elementwise, Logistic, ReLU, Tanh
from .arithmetic import OPERATORS
from .combine import Add, Broadcasting, Multiply, Scale, is_finite, is_number
from .leaves import Constant
from .node import Node, describe


def _index(mask: np.ndarray) -> tuple[int, ...]:
    """Return the index of the first True of ``mask``."""
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(mask)), mask.shape))


def _where(mask: np.ndarray) -> str:
    """Say where the first True of ``mask`` is: " at index (1, 2)" (nothing for one number)."""
    return f" at index {_index(mask)}" if mask.ndim else ""


def _first(x: np.ndarray, mask: np.ndarray) -> str:
    """Name the first element of x where ``mask`` holds: "-1.0 at index (0, 2)"."""
    return f"{float(x[_index(mask)])!r}{_where(mask)}"


class _Unary(Elementwise):
    """An Elementwise node whose input is called x (the symbol of its formula)."""

    def __init__(self, x: Node, name: str | None = None) -> None:
        super().__init__(x, name=name)


class Subtract(Broadcasting):
    """y = a − b — elementwise difference (numpy broadcasting, as in ``Add``).

    Derivatives: ∂y/∂a = 1, ∂y/∂b = −1, so a receives ``g`` and b receives ``−g`` (each summed
    over the axes it was broadcast along).

    Parameters
    ----------
    a : Node
        What is subtracted from.
    b : Node
        What is subtracted; the per-sample shapes of a and b broadcast together.
    name : str, optional
        The node's name; by default ``sub_<n>``.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not a Node.
    tinygraph.GraphError
        If the per-sample shapes do not broadcast (when they are known).

    Notes
    -----
    ``a - b`` builds ``Subtract(a, b)``; ``x - 1`` and ``1 - x`` put the number in a
    ``Constant``.

    Examples
    --------
    >>> import tinygraph as tg
    >>> a = tg.Parameter([5.0, 7.0], name="a")
    >>> b = tg.Parameter(2.0, name="b")
    >>> graph = tg.Graph(tg.Sum(tg.Subtract(a, b, name="y"), name="E"))
    >>> float(graph.forward({}))  # (5 − 2) + (7 − 2)
    8.0
    >>> graph.backward()
    >>> a.grad, b.grad  # 1 each; −1 summed over the two elements b was broadcast to
    (array([1., 1.]), array(-2.))
    """

    prefix = "sub"
    formula, formula_tex = "y = a − b", r"y = a - b"
    derivative = "∂y/∂a = 1, ∂y/∂b = −1"
    derivative_tex = r"\frac{\partial y}{\partial a} = 1,\ \frac{\partial y}{\partial b} = -1"
    gradients = {"a": "∂E/∂y · 1", "b": "∂E/∂y · (−1)"}

    def __init__(self, a: Node, b: Node, name: str | None = None) -> None:
        super().__init__(a, b, name=name)

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        a, b = self._line_up((a, b))
        return a - b

    def backward(self, grad_out: np.ndarray) -> tuple:
        return (
            self._unbroadcast(grad_out, 0) if self.needs[0] else None,  # g · 1
            np.negative(self._unbroadcast(grad_out, 1)) if self.needs[1] else None,  # g · (−1)
        )


class Divide(Broadcasting):
    """y = a / b — elementwise quotient (numpy broadcasting, as in ``Multiply``).

    Derivatives: ∂y/∂a = 1/b, ∂y/∂b = −a/b², so ∂E/∂a = g ⊙ 1/b and ∂E/∂b = −g ⊙ a/b²
    (each summed over the axes it was broadcast along).

    Parameters
    ----------
    a : Node
        The numerator.
    b : Node
        The denominator; the per-sample shapes of a and b broadcast together.
    name : str, optional
        The node's name; by default ``div_<n>``.

    Raises
    ------
    TypeError
        If ``a`` or ``b`` is not a Node.
    tinygraph.GraphError
        If the per-sample shapes do not broadcast (when they are known); in the forward
        pass, if b holds a 0 (the message names b and where).

    Notes
    -----
    Division by zero is refused, not turned into inf or nan: a 0 in b is a GraphError
    naming this node, b and the index.  ``a / b`` builds ``Divide(a, b)``, ``10 / x``
    builds ``Divide(Constant(10), x)``; ``x / 2`` is ``Scale(x, 0.5)``.  The backward
    pass reads y: ∂E/∂b = −(g/b) ⊙ y.

    Examples
    --------
    >>> import tinygraph as tg
    >>> a = tg.Parameter([1.0, 6.0], name="a")
    >>> b = tg.Parameter([2.0, 3.0], name="b")
    >>> graph = tg.Graph(tg.Sum(tg.Divide(a, b, name="y"), name="E"))
    >>> float(graph.forward({}))  # 1/2 + 6/3
    2.5
    >>> graph.backward()
    >>> a.grad, b.grad  # 1/b and −a/b²
    (array([0.5       , 0.33333333]), array([-0.25      , -0.66666667]))
    """

    prefix = "div"
    formula, formula_tex = "y = a / b", r"y = \frac{a}{b}"
    derivative = "∂y/∂a = 1/b, ∂y/∂b = −a/b²"
    derivative_tex = r"\frac{\partial y}{\partial a} = \frac{1}{b},\ \frac{\partial y}{\partial b} = -\frac{a}{b^2}"
    gradients = {"a": "∂E/∂y ⊙ 1/b", "b": "−∂E/∂y ⊙ a/b²"}

    def __init__(self, a: Node, b: Node, name: str | None = None) -> None:
        super().__init__(a, b, name=name)

    def forward(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if not b.all():
            zero = b == 0
            raise self.error(f"division by zero: b '{self.inputs[1].name}' holds 0{_where(zero)}")
        a, self.b = self._line_up((a, b))
        return a / self.b

    def backward(self, grad_out: np.ndarray) -> tuple:
        q = grad_out / self.b  # g ⊙ 1/b
        return (
            self._unbroadcast(q, 0) if self.needs[0] else None,
            self._unbroadcast(np.negative(q * self.value), 1) if self.needs[1] else None,  # −g ⊙ (a/b)/b
        )


class Negate(_Unary):
    """y = −a, elementwise;  ∂y/∂a = −1.

    Parameters
    ----------
    a : Node
        The input, of any shape.
    name : str, optional
        The node's name; by default ``neg_<n>``.

    Raises
    ------
    TypeError
        If ``a`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    ``-x`` builds ``Negate(x)``.  y has the shape of a, one sample or a batch.

    Examples
    --------
    >>> import tinygraph as tg
    >>> a = tg.Parameter([1.0, -2.0], name="a")
    >>> graph = tg.Graph(tg.Sum(-a, name="E"))
    >>> float(graph.forward({}))
    1.0
    >>> graph.backward()
    >>> a.grad
    array([-1., -1.])
    """

    prefix = "neg"
    formula, formula_tex = "y = −a", r"y = -a"
    derivative, derivative_tex = "∂y/∂a = −1", r"\frac{\partial y}{\partial a} = -1"
    gradients = {"a": "−∂E/∂y"}

    def __init__(self, a: Node, name: str | None = None) -> None:
        super().__init__(a, name=name)

    def forward(self, a: np.ndarray) -> np.ndarray:
        return np.negative(a, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty_like(self.value) if out is None else out
        out.fill(-1)
        return out

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        return (np.negative(grad_out, out=self.grad_z),)  # ∂E/∂a = −∂E/∂y


class Square(_Unary):
    """y = x², elementwise;  ∂y/∂x = 2x.

    Parameters
    ----------
    x : Node
        The input, of any shape.
    name : str, optional
        The node's name; by default ``square_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    The same as ``Power(x, 2)`` (which ``x ** 2`` builds), by multiplication.  y has the
    shape of x, one sample or a batch.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Parameter([3.0, -1.0], name="x")
    >>> graph = tg.Graph(tg.Sum(tg.Square(x, name="y"), name="E"))
    >>> float(graph.forward({}))
    10.0
    >>> graph.backward()
    >>> x.grad
    array([ 6., -2.])
    """

    prefix = "square"
    formula, formula_tex = "y = x²", r"y = x^2"
    derivative, derivative_tex = "∂y/∂x = 2x", r"\frac{\partial y}{\partial x} = 2x"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.multiply(x, x, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        return np.add(self.x, self.x, out=out)  # 2x


def _power(p: float) -> str:
    """Write x^p in plain text: ``x^3``, ``x^(-1)``, ``x`` for p = 1, ``1`` for p = 0."""
    return "1" if p == 0 else "x" if p == 1 else f"x^{p:g}" if p > 0 else f"x^({p:g})"


class Power(_Unary):
    """y = x^p for a fixed number p, elementwise;  ∂y/∂x = p·x^(p−1).

    Parameters
    ----------
    x : Node
        The base, of any shape.
    p : float
        The exponent, a finite number, fixed (not trained).
    name : str, optional
        The node's name; by default ``pow_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node or ``p`` is not a number (a bool is not).
    tinygraph.GraphError
        If ``p`` is nan or infinite; in the forward pass, if x holds a negative number and
        p is not an integer (x^p is then not a real number), or x holds a 0 and p < 0
        (division by zero).  The message names the node, x and where.

    Notes
    -----
    ``x ** p`` builds ``Power(x, p)``.  For an integer p any x is allowed (``(-2) ** 3`` is
    −8); for a non-integer p, x must be ≥ 0.  With 0 < p < 1 the derivative at x = 0 is
    infinite: backward sends inf there (``check_finite=True`` names the node).  ``formula``
    and ``derivative`` show the number: ``y = x^3``, ``∂y/∂x = 3·x^2``.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Parameter([2.0, -1.0], name="x")
    >>> y = tg.Power(x, 3, name="y")
    >>> y.formula, y.derivative
    ('y = x^3', '∂y/∂x = 3·x^2')
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))  # 8 − 1
    7.0
    >>> graph.backward()
    >>> x.grad  # 3x²
    array([12.,  3.])
    >>> graph = tg.Graph(tg.Sum(tg.Power(x, 0.5, name="root"), name="E"))
    >>> graph.forward({})
    Traceback (most recent call last):
    ...
    tinygraph.errors.GraphError: Power 'root': x^0.5 is not a real number for x < 0: x 'x' holds -1.0 at index (1,)
    """

    prefix = "pow"
    formula, formula_tex = "y = x^p", r"y = x^p"
    derivative, derivative_tex = "∂y/∂x = p·x^(p−1)", r"\frac{\partial y}{\partial x} = p\,x^{p-1}"

    def __init__(self, x: Node, p: float, name: str | None = None) -> None:
        self.p = number(f"{describe(Power, name)}: p", p)
        self.integer = self.p.is_integer()
        self.formula, self.formula_tex = f"y = {_power(self.p)}", rf"y = x^{{{self.p:g}}}"
        self.derivative = f"∂y/∂x = {self.p:g}" + (f"·{_power(self.p - 1)}" if self.p not in (0, 1) else "")
        self.derivative_tex = rf"\frac{{\partial y}}{{\partial x}} = {self.p:g}\,x^{{{self.p - 1:g}}}"
        super().__init__(x, name=name)

    def forward(self, x: np.ndarray) -> np.ndarray:
        if not self.integer and (x < 0).any():
            raise self.error(
                f"x^{self.p:g} is not a real number for x < 0: x '{self.inputs[0].name}' holds {_first(x, x < 0)}"
            )
        if self.p < 0 and not x.all():
            raise self.error(f"x^({self.p:g}) divides by zero: x '{self.inputs[0].name}' holds {_first(x, x == 0)}")
        self.x = x
        return np.power(x, self.p, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        if self.p == 0:  # y = 1: flat
            out = np.empty_like(self.x) if out is None else out
            out.fill(0)
            return out
        with np.errstate(divide="ignore"):  # (0 < p < 1 at x = 0: an infinite slope, sent as inf)
            return np.multiply(np.power(self.x, self.p - 1, out=out), self.p, out=out)  # p·x^(p−1)


class Exp(_Unary):
    """y = e^x, elementwise;  ∂y/∂x = e^x = y.

    Parameters
    ----------
    x : Node
        The input, of any shape.
    name : str, optional
        The node's name; by default ``exp_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    No overflow: x above ``exp_limit`` (500 in float64, 60 in float32) is taken as the
    limit, so y is at most e^500 (e^60), never inf, and no warning is raised.  There the
    gradient is y too, the slope at the limit (not the 0 of the flat, clipped curve).
    Below, e^x underflows quietly to 0 (x < −745 in float64).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Parameter([0.0, 1.0], name="x")
    >>> graph = tg.Graph(tg.Sum(x.exp(), name="E"))
    >>> round(float(graph.forward({})), 4)  # 1 + e
    3.7183
    >>> graph.backward()
    >>> np.round(x.grad, 4)  # e^x
    array([1.    , 2.7183])
    """

    prefix = "exp"
    formula, formula_tex = "y = e^x", r"y = e^x"
    derivative, derivative_tex = "∂y/∂x = y", r"\frac{\partial y}{\partial x} = e^x = y"

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = self.out  # each step into the kept array, or a fresh one (out=None)
        return np.exp(np.minimum(x, NUMBERS[x.dtype.char][1], out=out), out=out)  # e^min(x, limit): no overflow

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        if out is None:
            return self.value.copy()
        np.copyto(out, self.value)
        return out  # y


class Log(_Unary):
    """y = log x (natural), elementwise;  ∂y/∂x = 1/x.  With ``clamp=ε``: y = log(max(x, ε)).

    Parameters
    ----------
    x : Node
        The input, of any shape: positive numbers (without ``clamp``).
    clamp : float, optional
        ε > 0: compute log(max(x, ε)), finite for any x ≥ 0 (``Log(p, clamp=1e-12)`` for a
        probability that may be 0).  None (the default) refuses x ≤ 0.
    name : str, optional
        The node's name; by default ``log_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node or ``clamp`` is not a number.
    tinygraph.GraphError
        If ``clamp`` is not > 0 (or is 0 in the dtype of the pass); in the forward pass
        without ``clamp``, if x holds a number ≤ 0 (or nan): the message names the node, x
        and where.

    Notes
    -----
    With ``clamp=ε`` the gradient is that of log(max(x, ε)): 1/x where x > ε, and 0 where
    x ≤ ε (there y is the constant log ε).  ``x.log()`` builds ``Log(x)``.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Parameter([1.0, 4.0], name="x")
    >>> graph = tg.Graph(tg.Sum(tg.Log(x, name="y"), name="E"))
    >>> round(float(graph.forward({})), 4)  # log 4
    1.3863
    >>> graph.backward()
    >>> x.grad  # 1/x
    array([1.  , 0.25])
    >>> x.value[0] = 0.0
    >>> graph.forward({})
    Traceback (most recent call last):
    ...
    tinygraph.errors.GraphError: Log 'y': log needs positive numbers: x 'x' holds 0.0 at index (0,); give clamp=ε ...
    >>> graph = tg.Graph(tg.Sum(tg.Log(x, clamp=1e-12), name="E"))
    >>> round(float(graph.forward({})), 4)  # log 1e-12 + log 4
    -26.2447
    >>> graph.backward()
    >>> x.grad  # 0 where x ≤ ε
    array([0.  , 0.25])
    """

    prefix = "log"
    formula, formula_tex = "y = log(x)", r"y = \log x"
    derivative, derivative_tex = "∂y/∂x = 1/x", r"\frac{\partial y}{\partial x} = \frac{1}{x}"

    def __init__(self, x: Node, clamp: float | None = None, name: str | None = None) -> None:
        self.clamp = None if clamp is None else number(f"{describe(Log, name)}: clamp", clamp, low=0, strict="low")
        if self.clamp is not None:
            eps = f"{self.clamp:g}"
            self.formula, self.formula_tex = f"y = log(max(x, {eps}))", rf"y = \log\max(x, {eps})"
            self.derivative = f"∂y/∂x = 1/x if x > {eps} else 0"
            self.derivative_tex = rf"\frac{{\partial y}}{{\partial x}} = [x > {eps}]\,\frac{{1}}{{x}}"
        super().__init__(x, name=name)

    def prepare(self, x: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if self.clamp is not None and np.array(self.clamp, dtype) == 0:
            raise self.error(f"clamp={self.clamp:g} is 0 in {np.dtype(dtype).name}: give a larger one")
        return super().prepare(x, dtype=dtype, batched=batched)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        if self.clamp is not None:
            return np.log(np.maximum(x, self.clamp, out=self.out), out=self.out)  # log(max(x, ε))
        if not (x > 0).all():
            raise self.error(
                f"log needs positive numbers: x '{self.inputs[0].name}' holds {_first(x, ~(x > 0))}; "
                "give clamp=ε to take log(max(x, ε))"
            )
        return np.log(x, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        if self.clamp is None:
            return np.reciprocal(self.x, out=out)  # 1/x
        grad = np.reciprocal(np.maximum(self.x, self.clamp, out=out), out=out)
        return np.multiply(grad, self.x > self.clamp, out=out)  # 1/x where x > ε, else 0


class Abs(_Unary):
    """y = |x|, elementwise;  ∂y/∂x = sign(x), taken as 0 at x = 0.

    Parameters
    ----------
    x : Node
        The input, of any shape.
    name : str, optional
        The node's name; by default ``abs_<n>``.

    Raises
    ------
    TypeError
        If ``x`` is not a Node or ``name`` is not a non-empty string.

    Notes
    -----
    At x = 0, where |x| has a kink, the derivative is taken as 0 (numpy's sign(0)), as
    ReLU's is.  y has the shape of x, one sample or a batch.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Parameter([-2.0, 0.0, 3.0], name="x")
    >>> graph = tg.Graph(tg.Sum(tg.Abs(x, name="y"), name="E"))
    >>> float(graph.forward({}))
    5.0
    >>> graph.backward()
    >>> x.grad  # sign(x)
    array([-1.,  0.,  1.])
    """

    prefix = "abs"
    formula, formula_tex = "y = |x|", r"y = |x|"
    derivative, derivative_tex = "∂y/∂x = sign(x)", r"\frac{\partial y}{\partial x} = \mathrm{sign}(x)"

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        return np.absolute(x, out=self.out)

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        return np.sign(self.x, out=out)


class LeakyReLU(_Unary):
    """y = z if z > 0 else α·z, elementwise;  ∂y/∂z = 1 if z > 0 else α.

    Parameters
    ----------
    z : Node
        The weighted input, of any shape.
    slope : float, optional
        α, the slope for z ≤ 0: a finite number, 0.01 by default.
    name : str, optional
        The node's name; by default ``leaky_relu_<n>``.

    Raises
    ------
    TypeError
        If ``z`` is not a Node or ``slope`` is not a number.
    tinygraph.GraphError
        If ``slope`` is nan or infinite.

    Notes
    -----
    Unlike ReLU, a unit with z < 0 still passes back α times its gradient, so it can
    recover.  At z = 0 the derivative is taken as α.  ``formula`` and ``derivative`` show
    the slope's number.

    Examples
    --------
    >>> import tinygraph as tg
    >>> z = tg.Parameter([-2.0, 0.0, 3.0], name="z")
    >>> y = tg.LeakyReLU(z, slope=0.1, name="y")
    >>> y.formula
    'y = z if z > 0 else 0.1·z'
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))  # −0.2 + 0 + 3
    2.8
    >>> graph.backward()
    >>> z.grad
    array([0.1, 0.1, 1. ])
    """

    prefix = "leaky_relu"
    formula = "y = z if z > 0 else α·z"
    formula_tex = r"y = \begin{cases}z & z > 0\\ \alpha z & z \le 0\end{cases}"
    derivative = "∂y/∂z = 1 if z > 0 else α"
    derivative_tex = r"\frac{\partial y}{\partial z} = \begin{cases}1 & z > 0\\ \alpha & z \le 0\end{cases}"

    def __init__(self, z: Node, slope: float = 0.01, name: str | None = None) -> None:
        self.slope = number(f"{describe(LeakyReLU, name)}: slope", slope)
        s = f"{self.slope:g}"
        self.formula, self.derivative = f"y = z if z > 0 else {s}·z", f"∂y/∂z = 1 if z > 0 else {s}"
        self.formula_tex = rf"y = \begin{{cases}}z & z > 0\\ {s} z & z \le 0\end{{cases}}"
        self.derivative_tex = (
            rf"\frac{{\partial y}}{{\partial z}} = \begin{{cases}}1 & z > 0\\ {s} & z \le 0\end{{cases}}"
        )
        super().__init__(z, name=name)

    def forward(self, z: np.ndarray) -> np.ndarray:
        self.z = z
        y = np.multiply(z, self.slope, out=self.out) if z.ndim else np.array(z * self.slope)  # α·z
        np.copyto(y, z, where=z > 0)  # then z where z > 0
        return y

    def local(self, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty_like(self.z) if out is None else out
        out.fill(self.slope)
        np.copyto(out, 1, where=self.z > 0)
        return out


# ---------------------------------------------------------------- what the operators build
def _refused(node: Node, op: str, other: Any, reflected: bool = False) -> TypeError:
    me, it = f"{node.kind} '{node.name}'", type(other).__name__
    if is_number(other):
        why = f"a number must be finite, got {other!r}"
    elif isinstance(other, (list, tuple, np.ndarray)):
        why = "expected a node or a number; wrap arrays in tg.Constant(...) (fixed) or tg.Parameter(...) (trained)"
    else:
        why = "expected a node or a number"
    return TypeError(f"{it} {op} {me}: {why}" if reflected else f"{me} {op} {it}: {why}")


def _operand(node: Node, op: str, other: Any, reflected: bool = False) -> Node:
    """Return the other operand as a node: a node itself, a finite number as a Constant of shape ()."""
    if isinstance(other, Node):
        return other
    if is_finite(other):
        return Constant(float(other))
    raise _refused(node, op, other, reflected)


def _add(a: Node, b: Any) -> Node:
    return Add(a, _operand(a, "+", b))


def _radd(a: Node, b: Any) -> Node:
    if is_number(b) and b == 0:  # 0 + a is a: sum(nodes) starts from 0
        return a
    return Add(_operand(a, "+", b, reflected=True), a)


def _sub(a: Node, b: Any) -> Node:
    return Subtract(a, _operand(a, "-", b))


def _rsub(a: Node, b: Any) -> Node:
    return Subtract(_operand(a, "-", b, reflected=True), a)


def _mul(a: Node, b: Any) -> Node:
    if isinstance(b, Node):
        return Multiply(a, b)
    if is_number(b):
        return Scale(a, b)
    raise TypeError(
        f"{a.kind} '{a.name}' * {type(b).__name__}: multiply by a number (Scale) or a node; "
        "wrap arrays in tg.Constant(...) or tg.Parameter(...)"
    )


def _truediv(a: Node, b: Any) -> Node:
    if isinstance(b, Node):
        return Divide(a, b)
    if is_number(b) and b == 0:
        raise ZeroDivisionError(f"{a.kind} '{a.name}' / {b!r}: division by zero")
    if is_finite(b):
        return Scale(a, 1.0 / float(b))
    raise _refused(a, "/", b)


def _rtruediv(a: Node, b: Any) -> Node:
    return Divide(_operand(a, "/", b, reflected=True), a)


def _pow(a: Node, p: Any) -> Node:
    if isinstance(p, Node):
        raise TypeError(f"{a.kind} '{a.name}' ** {p.kind} '{p.name}': the exponent must be a fixed number")
    if not is_number(p):
        raise TypeError(f"{a.kind} '{a.name}' ** {type(p).__name__}: the exponent must be a number")
    return Power(a, p)


OPERATORS.update(
    add=_add,
    radd=_radd,
    sub=_sub,
    rsub=_rsub,
    mul=_mul,
    truediv=_truediv,
    rtruediv=_rtruediv,
    pow=_pow,
    neg=Negate,
    relu=ReLU,
    tanh=Tanh,
    sigmoid=Logistic,
    exp=Exp,
    log=Log,
)
