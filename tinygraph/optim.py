"""Stochastic gradient descent: w ← w − η ∂E/∂w, in place."""

import numpy as np

from .errors import GraphError
from .node import Parameter


_BLOCK = 32768  # elements updated at a time in large parameters: they stay in the CPU cache


def _descend(w, g, lr, scratch):
    """w −= lr · g in place, without touching g.

    Large arrays go in blocks, so that lr · g is still in cache when it is
    subtracted (numpy has no fused w − lr·g); small ones in one go.
    """
    if w.size <= _BLOCK:
        w -= np.multiply(g, lr, out=scratch)
        return
    wf, gf = w.reshape(-1), g.reshape(-1)
    for i in range(0, wf.size, _BLOCK):
        n = min(_BLOCK, wf.size - i)
        wf[i:i + n] -= np.multiply(gf[i:i + n], lr, out=scratch[:n])


def _check_number(what, x, low, high):
    number = isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool)
    if not number or (low is not None and not x > low) or \
            (high is not None and not 0 <= x < high) or not np.isfinite(x):
        bound = "a number > 0" if what == "lr" else "a number in [0, 1)"
        raise GraphError(f"SGD: {what} must be {bound}, got {x!r}")


def as_optimizer(optimizer, graph, what):
    """An optimizer as given, or a number: the learning rate of a new SGD over ``graph``."""
    if isinstance(optimizer, (int, float, np.integer, np.floating)) and not isinstance(optimizer, bool):
        return SGD(graph.parameters(), lr=optimizer)
    if not hasattr(optimizer, "step"):
        raise TypeError(f"{what}: optimizer must be an SGD (anything with step()) or a learning rate, "
                        f"got {type(optimizer).__name__}")
    return optimizer


class SGD:
    """Update every Parameter with its last gradient: ``w ← w − η ∂E/∂w``.

    ``parameters`` is a list of Parameter nodes or a Graph (its parameters).
    With ``momentum`` μ > 0 the step uses a velocity ``v ← μ v + ∂E/∂w``,
    ``w ← w − η v`` (off by default, as in the plain derivation).
    Values are updated in place, so arrays read from ``p.value`` follow them.
    """

    def __init__(self, parameters, lr=0.1, momentum=0.0):
        if hasattr(parameters, "parameters") and callable(parameters.parameters):
            parameters = parameters.parameters()
        self.parameters = list(parameters)
        for p in self.parameters:
            if not isinstance(p, Parameter):
                raise TypeError(f"SGD: expected Parameter nodes, got {p!r}")
        if not self.parameters:
            raise GraphError("SGD: no parameters to optimize")
        self.lr = lr
        self.velocity = None
        self.momentum = momentum
        self._scratch = [np.empty_like(p.value) if p.value.size <= _BLOCK else np.empty(_BLOCK, p.value.dtype)
                         for p in self.parameters]

    @property
    def lr(self):
        """The learning rate η (may be changed between steps)."""
        return self._lr

    @lr.setter
    def lr(self, lr):
        _check_number("lr", lr, 0.0, None)
        self._lr = float(lr)
        # η as a 0-d array of each parameter's dtype: numpy multiplies by it faster than by a float
        self._rates = [np.array(self._lr, p.value.dtype) for p in self.parameters]

    @property
    def momentum(self):
        """μ (0 for plain SGD; may be changed between steps)."""
        return self._momentum

    @momentum.setter
    def momentum(self, momentum):
        _check_number("momentum", momentum, None, 1.0)
        self._momentum = float(momentum)
        if self._momentum and self.velocity is None:   # v starts at 0
            self.velocity = [np.zeros_like(p.value) for p in self.parameters]
        elif not self._momentum:
            self.velocity = None

    def step(self):
        """Apply one update to every parameter (after ``graph.backward()``)."""
        for p in self.parameters:  # check all before changing any
            if p.grad is None or p.grad.shape != p.value.shape:
                if p.grad is None:
                    raise GraphError(f"Parameter '{p.name}' has no gradient: call graph.backward() "
                                     "before optimizer.step()")
                raise GraphError(f"Parameter '{p.name}': gradient shape {p.grad.shape} does not "
                                 f"match value shape {p.value.shape}")
        if self.velocity is None:
            for p, scratch, lr in zip(self.parameters, self._scratch, self._rates):
                if scratch.shape == p.value.shape:                # (small: in one go)
                    p.value -= np.multiply(p.grad, lr, out=scratch)   # w ← w − η ∂E/∂w
                else:
                    _descend(p.value, p.grad, lr, scratch)
        else:
            for p, v, scratch, lr in zip(self.parameters, self.velocity, self._scratch, self._rates):
                v *= self.momentum
                v += p.grad                                       # v ← μ v + ∂E/∂w
                _descend(p.value, v, lr, scratch)                 # w ← w − η v

    def __repr__(self):
        extra = f", momentum={self.momentum}" if self.momentum else ""
        return f"SGD({len(self.parameters)} parameters, lr={self.lr}{extra})"
