"""Python's arithmetic on nodes: ``a + b``, ``2 * x``, ``x - 1``, ``x ** 3``, ``-x``, ``x.relu()`` build nodes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# What each operator builds; elementary.py registers the builders (it knows the node classes).
OPERATORS: dict[str, Callable[..., Any]] = {}


class Arithmetic:
    """The operators and methods every ``Node`` has: each builds the node that computes it.

    | written | built |
    | --- | --- |
    | ``a + b``, ``a - b`` | ``Add(a, b)``, ``Subtract(a, b)`` |
    | ``a * b``, ``a / b`` | ``Multiply(a, b)``, ``Divide(a, b)`` |
    | ``x + 2``, ``2 + x`` | ``Add(x, Constant(2))``, ``Add(Constant(2), x)`` |
    | ``x - 1``, ``1 - x`` | ``Subtract(x, Constant(1))``, ``Subtract(Constant(1), x)`` |
    | ``2 * x``, ``x * 2``, ``x / 2`` | ``Scale(x, 2)``, ``Scale(x, 2)``, ``Scale(x, 0.5)`` |
    | ``10 / x`` | ``Divide(Constant(10), x)`` |
    | ``x ** 3`` | ``Power(x, 3)`` |
    | ``-x`` | ``Negate(x)`` |
    | ``x.relu()``, ``x.tanh()``, ``x.sigmoid()`` | ``ReLU(x)``, ``Tanh(x)``, ``Logistic(x)`` |
    | ``x.exp()``, ``x.log()`` | ``Exp(x)``, ``Log(x)`` |

    A number is a finite int or float (numpy's too, not a bool); it becomes a ``Constant``
    of shape ``()`` (named ``const_<n>``), or the factor of a ``Scale`` where that is what
    it means.  ``0 + x`` is ``x`` itself, so that ``sum(nodes)`` builds only the Adds.

    Raises
    ------
    TypeError
        For any other operand: an array or a list (wrap it in ``tg.Constant(...)`` or
        ``tg.Parameter(...)``), None, a string …; a node as the exponent of ``**``.
    ZeroDivisionError
        For ``x / 0``.

    See Also
    --------
    Subtract, Divide, Negate, Power : The nodes of the new operators.

    Notes
    -----
    A graph of scalars reads like micrograd's: ``y = (2 * x + 2 + x).relu()``, then
    ``graph = tg.Graph(y)``, ``graph.forward({})`` and ``graph.backward()`` fill every
    ``.grad``.  ``node.backward(grad_out)`` is the node's own step of the chain rule (the
    node contract); the whole backward pass is the graph's.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Parameter(-4.0, name="x")
    >>> y = (2 * x + 2 + x).relu() + x ** 2
    >>> graph = tg.Graph(y)
    >>> float(graph.forward({}))  # relu(−10) + 16
    16.0
    >>> graph.backward()
    >>> float(x.grad)  # 0 + 2x
    -8.0
    """

    __array_ufunc__ = None  # ``array * node``: numpy defers to the node, which refuses an array

    def __add__(self, other: Any) -> Any:
        """Return ``Add(self, other)``; a number becomes a ``Constant``."""
        return OPERATORS["add"](self, other)

    def __radd__(self, other: Any) -> Any:
        """Return ``Add(Constant(other), self)`` for ``2 + x``; ``0 + x`` is ``x`` (for ``sum``)."""
        return OPERATORS["radd"](self, other)

    def __sub__(self, other: Any) -> Any:
        """Return ``Subtract(self, other)``; a number becomes a ``Constant``."""
        return OPERATORS["sub"](self, other)

    def __rsub__(self, other: Any) -> Any:
        """Return ``Subtract(Constant(other), self)`` for ``1 - x``."""
        return OPERATORS["rsub"](self, other)

    def __mul__(self, other: Any) -> Any:
        """Return ``Multiply(self, other)`` for a node, ``Scale(self, other)`` for a number."""
        return OPERATORS["mul"](self, other)

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Any:
        """Return ``Divide(self, other)`` for a node, ``Scale(self, 1 / other)`` for a number."""
        return OPERATORS["truediv"](self, other)

    def __rtruediv__(self, other: Any) -> Any:
        """Return ``Divide(Constant(other), self)`` for ``10 / x``."""
        return OPERATORS["rtruediv"](self, other)

    def __pow__(self, other: Any) -> Any:
        """Return ``Power(self, other)`` for a fixed number ``other``."""
        return OPERATORS["pow"](self, other)

    def __neg__(self) -> Any:
        """Return ``Negate(self)``."""
        return OPERATORS["neg"](self)

    def relu(self, name: str | None = None) -> Any:
        """Return ``ReLU(self, name=name)``: max(0, x)."""
        return OPERATORS["relu"](self, name=name)

    def tanh(self, name: str | None = None) -> Any:
        """Return ``Tanh(self, name=name)``."""
        return OPERATORS["tanh"](self, name=name)

    def sigmoid(self, name: str | None = None) -> Any:
        """Return ``Logistic(self, name=name)``: σ(x) = 1/(1 + e^(−x))."""
        return OPERATORS["sigmoid"](self, name=name)

    def exp(self, name: str | None = None) -> Any:
        """Return ``Exp(self, name=name)``: e^x."""
        return OPERATORS["exp"](self, name=name)

    def log(self, clamp: float | None = None, name: str | None = None) -> Any:
        """Return ``Log(self, clamp=clamp, name=name)``: log x, or log(max(x, clamp))."""
        return OPERATORS["log"](self, clamp=clamp, name=name)
