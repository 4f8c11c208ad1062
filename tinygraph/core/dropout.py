"""Dropout: in training each element is dropped with probability p, the rest scaled by 1/(1 − p)."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from ..errors import GraphError
from .mode import Mode
from .node import Node, describe


class Dropout(Node):
    """y = m ⊙ x / (1 − p) in training, with each m_i 1 with probability 1 − p, else 0; y = x when evaluating.

    Inverted dropout: the kept elements are scaled up in training, so that the mean of
    every element stays what it is (E[m_i / (1 − p)] = 1) and evaluating needs no
    rescaling: it passes x on unchanged.

    Derivative: ∂y/∂x = m / (1 − p) in training (a dropped element passes no gradient
    back), and 1 when evaluating; so ∂E/∂x = ∂E/∂y ⊙ m / (1 − p).

    Parameters
    ----------
    x : Node
        The value to drop elements of, of any shape.
    p : float, optional
        The probability of dropping an element, in [0, 1); 0.5 by default.
    seed : int, optional
        The seed the masks are drawn from, a whole number >= 0; by default one drawn when
        the node is built (kept as ``seed``).
    name : str, optional
        The node's name; by default ``dropout_<n>``.

    Attributes
    ----------
    p : float
        The drop probability.
    seed : int
        The seed of the masks.
    mask : numpy.ndarray or None
        m / (1 − p) of the last pass in training (0 or 1/(1 − p), shaped like x); None after
        a pass in evaluation mode.

    Raises
    ------
    tinygraph.GraphError
        If ``p`` is not in [0, 1) or ``seed`` is negative.
    TypeError
        If ``x`` is not a Node, ``p`` is not a number or ``seed`` not a whole number.

    See Also
    --------
    Graph.train, Graph.eval : The graph's mode, which this node reads.

    Notes
    -----
    The mode belongs to the graph (``graph.train()``, ``graph.eval()``,
    ``graph.training``): ``fit`` trains in training mode, and ``Network.predict`` and
    ``Network.accuracy`` evaluate.  The mask is reproducible: the mask of the graph's k-th
    forward pass in training (``graph.mode.step`` during it) is drawn from
    ``numpy.random.default_rng((seed, k))``, whatever the batch, so the same seed and the
    same step give the same mask.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(6,))
    >>> graph = tg.Graph(tg.Sum(tg.Dropout(x, p=0.5, seed=1, name="d"), name="E"))
    >>> float(graph.forward({"x": np.ones(6)}))  # in training: the kept ones count twice
    6.0
    >>> graph.backward(inputs=True)
    >>> x.grad  # the gradient flows only where an element was kept
    array([0., 2., 2., 0., 2., 0.])
    >>> float(graph.eval().forward({"x": np.ones(6)}))  # evaluating: y = x
    6.0
    """

    prefix = "dropout"
    reads_mode = True
    formula = "y = m ⊙ x / (1 − p)"
    formula_tex = r"y = \frac{m \odot x}{1 - p}"
    derivative = "∂y/∂x = m / (1 − p)"
    derivative_tex = r"\frac{\partial y}{\partial x} = \frac{m}{1 - p}"
    gradients = {"x": "∂E/∂y ⊙ m / (1 − p)"}
    mode = Mode()  # (replaced by the graph's own, see Node.reads_mode)
    mask: np.ndarray | None = None

    def __init__(self, x: Node, p: float = 0.5, seed: int | None = None, name: str | None = None) -> None:
        what = describe(Dropout, name)
        if not isinstance(p, numbers.Real) or isinstance(p, bool):
            raise TypeError(f"{what}: p must be a number in [0, 1), got {type(p).__name__}")
        if not 0 <= p < 1:
            raise GraphError(f"{what}: p must be in [0, 1) (the probability of dropping an element), got {p!r}")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % 2**63)
        elif not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
            raise TypeError(f"{what}: seed must be a whole number >= 0 or None, got {type(seed).__name__}")
        elif seed < 0:
            raise GraphError(f"{what}: seed must be a whole number >= 0 or None, got {seed}")
        self.p: float = float(p)
        self.seed: int = int(seed)
        super().__init__(x, name=name)

    def infer_shape(self, x: tuple[int, ...]) -> tuple[int, ...]:
        return x

    def forward(self, x: np.ndarray) -> np.ndarray:
        mode = self.mode
        if not mode.training or self.p == 0:
            self.mask = None
            return x.copy()
        keep = np.random.default_rng((self.seed, mode.step)).random(x.shape) >= self.p
        self.mask = np.multiply(keep, 1 / (1 - self.p), dtype=x.dtype)  # m / (1 − p)
        return x * self.mask

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        return (grad_out.copy() if self.mask is None else grad_out * self.mask,)  # ∂E/∂y ⊙ m / (1 − p)

    def lines(self, number: Any) -> list[str] | None:
        """Return what the last pass did: the mask and its scale, or nothing dropped when evaluating.

        Parameters
        ----------
        number : callable
            Formats a number or an array (the trace's precision).

        Returns
        -------
        list of str
            What the last pass did.
        """
        if self.mask is None:
            return [f"evaluating (or p = 0): {self.name} = x, nothing dropped"]
        kept = int(np.count_nonzero(self.mask))
        return [
            f"training, pass {self.mode.step}: m/(1 − p) = {number(self.mask)}   ({kept} of {self.mask.size} kept)",
            f"{self.name} = {number(self.value)}",
        ]
