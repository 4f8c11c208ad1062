"""Stochastic gradient descent: w ← w − η ∂E/∂w, in place."""

import numpy as np

from .errors import GraphError
from .node import Parameter


_BLOCK = 32768  # elements updated at a time in large parameters: they stay in the CPU cache
_FRESH = 2048   # up to this many elements η·g is made fresh: as fast as into a kept array (measured)


def _descend(w, g, lr, scratch):
    """w −= lr · g in place, without touching g.

    Large arrays go in blocks, so that lr · g is still in cache when it is
    subtracted (numpy has no fused w − lr·g); small ones in one go.
    """
    if w.size <= _BLOCK or not (w.flags.c_contiguous and g.flags.c_contiguous):
        w -= np.multiply(g, lr, out=scratch if w.size <= _BLOCK else None)  # (flat views need C order)
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

    ``parameters`` is a list of Parameter nodes or a Graph (its parameters); the
    optimizer keeps them as a tuple (make a new SGD to train a different set).
    With ``momentum`` μ > 0 the step uses a velocity ``v ← μ v + ∂E/∂w``,
    ``w ← w − η v`` (off by default, as in the plain derivation).
    Values are updated in place, so arrays read from ``p.value`` follow them; a
    ``p.value`` replaced by a new array is updated from then on, in its own dtype.
    """

    def __init__(self, parameters, lr=0.1, momentum=0.0):
        if hasattr(parameters, "parameters") and callable(parameters.parameters):
            parameters = parameters.parameters()
        parameters = tuple(parameters)
        for p in parameters:
            if not isinstance(p, Parameter):
                raise TypeError(f"SGD: expected Parameter nodes, got {p!r}")
        if not parameters:
            raise GraphError("SGD: no parameters to optimize")
        self._parameters = parameters
        self._state = None
        self.velocity = None
        self.lr = lr
        self.momentum = momentum

    @property
    def parameters(self):
        """The Parameter nodes this optimizer updates (a tuple)."""
        return self._parameters

    @property
    def lr(self):
        """The learning rate η (may be changed between steps)."""
        return self._lr

    @lr.setter
    def lr(self, lr):
        _check_number("lr", lr, 0.0, None)
        self._lr = float(lr)
        self._state = None  # η is kept per parameter, in its dtype: made again on the next step

    @property
    def momentum(self):
        """μ (0 for plain SGD; may be changed between steps)."""
        return self._momentum

    @momentum.setter
    def momentum(self, momentum):
        _check_number("momentum", momentum, None, 1.0)
        self._momentum = float(momentum)
        if self._momentum and self.velocity is None:   # v starts at 0
            self.velocity = [np.zeros_like(p.value) for p in self._parameters]
        elif not self._momentum:
            self.velocity = None

    def _prepare(self):
        """Per parameter: (node, its value array, scratch for η·g or None, η as a 0-d array of
        its dtype, whether it is updated in blocks).  numpy multiplies by a 0-d array of the
        same dtype faster than by a Python float, and a float32 parameter stays float32."""
        state = []
        for i, p in enumerate(self._parameters):
            w = p.value
            blocked = w.size > _BLOCK
            scratch = np.empty(_BLOCK, w.dtype) if blocked else np.empty_like(w) if w.size > _FRESH else None
            state.append((p, w, scratch, np.array(self._lr, w.dtype), blocked))
            v = None if self.velocity is None else self.velocity[i]
            if v is not None and (v.shape != w.shape or v.dtype != w.dtype):
                self.velocity[i] = np.zeros_like(w)   # a value of a new shape or dtype: v starts again
        self._state = state
        return state

    def _check(self):
        """Raise unless every parameter has a gradient of its value's shape; then (values may
        have been replaced) make the per-parameter state again."""
        for p in self._parameters:  # check all before changing any
            if p.grad is None:
                raise GraphError(f"Parameter '{p.name}' has no gradient: call graph.backward() "
                                 "before optimizer.step()")
            if p.grad.shape != p.value.shape:
                raise GraphError(f"Parameter '{p.name}': gradient shape {p.grad.shape} does not "
                                 f"match value shape {p.value.shape}")
        return self._prepare()

    def step(self):
        """Apply one update to every parameter (after ``graph.backward()``)."""
        state = self._state
        if state is None:
            state = self._check()
        else:
            for p, w, _, _, _ in state:  # the usual case, checked cheaply: same arrays, gradients fit
                g = p.grad
                if g is None or p.value is not w or g.shape != w.shape:
                    state = self._check()
                    break
        if self.velocity is None:
            for p, w, scratch, lr, blocked in state:
                if blocked:
                    _descend(w, p.grad, lr, scratch)
                else:
                    w -= np.multiply(p.grad, lr, out=scratch)   # w ← w − η ∂E/∂w (_descend, inline)
        else:
            for (p, w, scratch, lr, _), v in zip(state, self.velocity):
                v *= self._momentum
                v += p.grad                                       # v ← μ v + ∂E/∂w
                _descend(w, v, lr, scratch)                       # w ← w − η v

    def __repr__(self):
        extra = f", momentum={self.momentum}" if self.momentum else ""
        return f"SGD({len(self._parameters)} parameters, lr={self.lr}{extra})"
