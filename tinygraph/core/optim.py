"""Stochastic gradient descent: w ← w − η ∂E/∂w, in place."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..checks import number
from ..errors import GraphError
from .leaves import Parameter, checked_value

BLOCK = 32768  # large parameters are updated this many numbers at a time: η·g stays in cache
FRESH = 2048  # up to this many numbers η·g is made fresh: as fast as into a kept array (measured)


def as_optimizer(optimizer: Any, graph: Any, what: str) -> Any:
    """Return an optimizer as given, or, for a number, a new SGD over ``graph`` with that learning rate."""
    if isinstance(optimizer, (int, float, np.integer, np.floating)) and not isinstance(optimizer, bool):
        return SGD(graph.parameters(), lr=optimizer)  # type: ignore[arg-type]  # (SGD checks it)
    if not hasattr(optimizer, "step"):
        raise TypeError(
            f"{what}: optimizer must be an SGD (anything with step()) or a learning rate, "
            f"got {type(optimizer).__name__}"
        )
    return optimizer


def _number(what: str, x: Any, positive: bool) -> float:
    if positive:
        return number(f"SGD: {what}", x, low=0, strict="low")
    return number(f"SGD: {what}", x, low=0, high=1, strict="high")


class SGD:
    """Update every Parameter with its last gradient: ``w ← w − η ∂E/∂w``.

    With ``momentum`` μ > 0 the step follows a velocity instead: ``v ← μ v + ∂E/∂w``,
    ``w ← w − η v`` (off by default, as in the plain derivation).

    Parameters
    ----------
    parameters : list of Parameter, Graph or Network
        The Parameter nodes to update (any iterable of them, kept as a tuple), or a graph
        or network, whose ``parameters()`` are taken.
    lr : float, optional
        The learning rate η, a finite number > 0.
    momentum : float, optional
        μ, from 0 (plain SGD, the default) up to but not including 1.

    Attributes
    ----------
    velocity : list of numpy.ndarray or None
        With momentum, v for each parameter, in order (zeros at first); None without.

    Raises
    ------
    TypeError
        If ``parameters`` is not an iterable of Parameter nodes (a graph's ``parameters``
        method not called, an Input, …), or ``lr`` or ``momentum`` is not a number.
    tinygraph.GraphError
        If there are no parameters, one is listed twice, ``lr`` is not > 0, or
        ``momentum`` is not in [0, 1), or either is not finite.

    Notes
    -----
    Values are updated in place, so arrays read from ``p.value`` follow them; a replaced
    ``p.value`` is updated from then on (with momentum, v starts again from zeros when the
    new value has another shape or dtype).  η is applied in each parameter's dtype.

    Examples
    --------
    E = Σ w², so ∂E/∂w = 2w:

    >>> import tinygraph as tg
    >>> w = tg.Parameter([1.0, -2.0], name="w")
    >>> graph = tg.Graph(tg.Sum(w * w, name="E"))
    >>> sgd = tg.SGD(graph, lr=0.25)
    >>> sgd
    SGD(1 parameters, lr=0.25)
    >>> _ = graph.forward({}); graph.backward()
    >>> w.grad
    array([ 2., -4.])
    >>> sgd.step()
    >>> w.value
    array([ 0.5, -1. ])
    """

    def __init__(self, parameters: Any, lr: float = 0.1, momentum: float = 0.0) -> None:
        if callable(parameters) and not hasattr(parameters, "parameters"):
            raise TypeError(
                "SGD: parameters must be a list of Parameter nodes, got a method; call it: SGD(graph.parameters(), ...)"
            )
        if callable(getattr(parameters, "parameters", None)):
            parameters = parameters.parameters()
        try:
            parameters = tuple(parameters)
        except TypeError:
            raise TypeError(
                f"SGD: parameters must be a list of Parameter nodes, got {type(parameters).__name__}"
            ) from None
        for p in parameters:
            if not isinstance(p, Parameter):
                raise TypeError(f"SGD: expected Parameter nodes, got {p!r}")
        if not parameters:
            raise GraphError("SGD: no parameters to optimize")
        twice = [p.name for i, p in enumerate(parameters) if any(p is q for q in parameters[:i])]
        if twice:
            raise GraphError(f"SGD: Parameter '{twice[0]}' is listed twice; each parameter takes one step")
        self._parameters: tuple[Parameter, ...] = parameters
        self._state: list | None = None
        self.velocity: list | None = None
        self.lr, self.momentum = lr, momentum

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """The Parameter nodes this optimizer updates (a tuple)."""
        return self._parameters

    @property
    def lr(self) -> float:
        """The learning rate η (may be changed between steps)."""
        return self._lr

    @lr.setter
    def lr(self, lr: float) -> None:
        self._lr, self._state = _number("lr", lr, positive=True), None  # (η is kept in each parameter's dtype)

    @property
    def momentum(self) -> float:
        """The momentum μ (0 for plain SGD; may be changed between steps)."""
        return self._momentum

    @momentum.setter
    def momentum(self, momentum: float) -> None:
        self._momentum = _number("momentum", momentum, positive=False)
        if self._momentum and self.velocity is None:  # v starts at 0
            self.velocity = [np.zeros_like(p.value) for p in self._parameters]
        elif not self._momentum:
            self.velocity = None

    def _check(self) -> list:
        """Raise unless every parameter can take its step; then make the per-parameter state.

        One tuple per parameter: (node, value, its shape, η as a 0-d array of its dtype, the
        scratch for η·g or None (fresh), the gradient's dtype).
        """
        for p in self._parameters:  # all before any
            w = checked_value(p)
            if p.grad is None:
                raise GraphError(f"Parameter '{p.name}' has no gradient: call graph.backward() before optimizer.step()")
            g = p.grad
            if type(g) is not np.ndarray or g.dtype.kind != "f":
                got = f"dtype {g.dtype}" if isinstance(g, np.ndarray) else type(g).__name__
                raise TypeError(f"Parameter '{p.name}': gradient must be an array of floats, got {got}")
            if g.shape != w.shape:
                raise GraphError(f"Parameter '{p.name}': gradient shape {g.shape} does not match value shape {w.shape}")
        state, scratch = [], dict[Any, np.ndarray]()  # (one scratch block per dtype, for the large ones)
        for i, p in enumerate(self._parameters):
            w = p.value
            block = scratch.setdefault(w.dtype, np.empty(BLOCK, w.dtype)) if w.size > FRESH else None
            state.append((p, w, w.shape, np.array(self._lr, w.dtype), block, p.grad.dtype))
            if self.velocity is not None and (self.velocity[i].shape != w.shape or self.velocity[i].dtype != w.dtype):
                self.velocity[i] = np.zeros_like(w)  # a value of a new shape or dtype: v starts again
        self._state = state
        return state

    def step(self) -> None:
        """Apply one update to every parameter (after ``graph.backward()``).

        Every parameter is checked before any changes.

        Raises
        ------
        tinygraph.GraphError
            If a parameter has no gradient (no ``backward`` yet) or its gradient's shape is
            not its value's.
        TypeError
            If a gradient is not an array of floats, or a replaced value is not a writeable
            array of floats.
        """
        state: list | None = self._state
        for p, w, shape, _, _, gdtype in state or ():  # the usual case, checked cheaply: same arrays, gradients fit
            g = p.grad
            if type(g) is not np.ndarray or p.value is not w or g.shape != shape or g.dtype is not gdtype:
                state = None
                break
        if state is None:
            state = self._check()
        if self.velocity is None:
            for p, w, _, lr, block, _ in state:
                if block is None:
                    w -= np.multiply(p.grad, lr)  # w ← w − η ∂E/∂w
                else:
                    _descend(w, p.grad, lr, block)
        else:
            for (p, w, _, lr, block, _), v in zip(state, self.velocity):
                v *= self._momentum
                v += p.grad  # v ← μ v + ∂E/∂w
                _descend(w, v, lr, block)  # w ← w − η v

    def __repr__(self) -> str:
        """Return ``SGD(n parameters, lr=…)``, with the momentum when there is one."""
        extra = f", momentum={self.momentum}" if self.momentum else ""
        return f"SGD({len(self._parameters)} parameters, lr={self.lr}{extra})"


def _descend(w: np.ndarray, g: np.ndarray, lr: np.ndarray, block: np.ndarray | None) -> None:
    """Subtract lr · g from w in place, without touching g.

    Through the scratch ``block``, a block at a time, so that lr · g is still in cache when it
    is subtracted (numpy has no fused w − lr·g), or fresh.
    """
    if block is None or not (w.flags.c_contiguous and g.flags.c_contiguous):
        w -= np.multiply(g, lr)
        return
    wf, gf = w.reshape(-1), g.reshape(-1)
    for i in range(0, wf.size, BLOCK):
        n = min(BLOCK, wf.size - i)
        wf[i : i + n] -= np.multiply(gf[i : i + n], lr, out=block[:n])
