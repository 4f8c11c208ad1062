"""Nodes that join, split and combine branches: Add, Multiply, Concat, Slice, Sum, Mean, Scale.

Add and Multiply broadcast like numpy, per sample: a bias-like ``(n,)`` Parameter
added to a ``(batch, n)`` value is added to every row, and its gradient is the
sum over the rows.  In general an input that was broadcast receives the upstream
gradient summed over the axes it was stretched along.
"""

import numpy as np

from .node import Node


def _aligned_shape(node, value, out_ndim):
    """``value``'s shape padded with 1s so that it lines up with the output's axes.

    A batched value keeps its batch axis first and gets 1s after it; an unbatched
    one (a Parameter, or a pass without a batch) gets 1s in front, as in numpy.
    """
    batched = value.ndim > len(node.shape)
    pad = (1,) * (out_ndim - value.ndim)
    return value.shape[:1] + pad + value.shape[1:] if batched else pad + value.shape


def _unbroadcast(grad, aligned, shape):
    """Sum ``grad`` over the axes its input was broadcast along; reshape to ``shape``."""
    axes = tuple(i for i, (a, g) in enumerate(zip(aligned, grad.shape)) if a == 1 and g != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class _Broadcasting(Node):
    """Shared by Add and Multiply: per-sample shapes broadcast; values are lined up first."""

    def infer_shape(self, *shapes):
        try:
            return np.broadcast_shapes(*shapes)
        except ValueError:
            listed = ", ".join(f"'{n.name}' {s}" for n, s in zip(self.inputs, shapes))
            raise self.error(f"per-sample shapes do not broadcast: {listed}") from None

    def _line_up(self, values):
        batched = any(v.ndim > len(n.shape) for n, v in zip(self.inputs, values))
        out_ndim = len(self.shape) + batched
        self.aligned = [_aligned_shape(n, v, out_ndim) for n, v in zip(self.inputs, values)]
        lined = [v.reshape(a) for v, a in zip(values, self.aligned)]
        try:
            np.broadcast_shapes(*[v.shape for v in lined])
        except ValueError:
            listed = ", ".join(f"'{n.name}' {v.shape}" for n, v in zip(self.inputs, values))
            raise self.error(f"shapes do not broadcast: {listed}") from None
        return lined


class Add(_Broadcasting):
    """y = a + b + … — elementwise sum of any number of inputs (numpy broadcasting).

    Derivative: ∂y/∂a = 1 for every input, so each input receives ``g`` itself
    (summed over the axes along which it was broadcast).  A skip connection
    ``h = f(x) + x`` is Add(f(x), x).
    """

    prefix = "add"
    formula = "y = a + b"
    formula_tex = r"y = a + b"
    derivative = "∂y/∂a = ∂y/∂b = 1"
    derivative_tex = r"\frac{\partial y}{\partial a} = \frac{\partial y}{\partial b} = 1"

    def __init__(self, *nodes, name=None):
        super().__init__(*nodes, name=name)
        if len(nodes) < 1:
            raise self.error("needs at least one input")
        terms = " + ".join(chr(ord("a") + i) for i in range(min(len(nodes), 6)))
        self.formula = f"y = {terms}" + (" + …" if len(nodes) > 6 else "")

    def forward(self, *values):
        lined = self._line_up(values)
        y = lined[0] + lined[1] if len(lined) > 1 else lined[0].copy()
        for v in lined[2:]:
            y += v
        return y

    def backward(self, grad_out):
        return tuple(_unbroadcast(grad_out, a, n.value.shape) if need else None
                     for n, a, need in zip(self.inputs, self.aligned, self.needs))


class Multiply(_Broadcasting):
    """y = a ⊙ b — elementwise product (numpy broadcasting), e.g. a gate.

    Derivatives: ∂E/∂a = g ⊙ b,  ∂E/∂b = g ⊙ a  (each summed over its broadcast axes).
    """

    prefix = "mul"
    formula = "y = a ⊙ b"
    formula_tex = r"y = a \odot b"
    derivative = "∂y/∂a = b, ∂y/∂b = a"
    derivative_tex = r"\frac{\partial y}{\partial a} = b,\ \frac{\partial y}{\partial b} = a"

    def __init__(self, a, b, name=None):
        super().__init__(a, b, name=name)

    def forward(self, a, b):
        self.a, self.b = self._line_up((a, b))
        return self.a * self.b

    def backward(self, grad_out):
        (a, b), (sa, sb) = self.inputs, self.aligned
        grad_a = _unbroadcast(grad_out * self.b, sa, a.value.shape) if self.needs[0] else None
        grad_b = _unbroadcast(grad_out * self.a, sb, b.value.shape) if self.needs[1] else None
        return grad_a, grad_b


class Concat(Node):
    """y = [a, b, …] — joins inputs along a per-sample axis (the features, by default).

    Derivative: each input receives its own slice of ``g``.
    All inputs must agree on every other axis, and on the batch.
    """

    prefix = "concat"
    formula = "y = [a, b]"
    formula_tex = r"y = [a, b]"
    derivative = "∂E/∂a = g[:n_a], ∂E/∂b = g[n_a:]"
    derivative_tex = r"\frac{\partial E}{\partial a} = g_{1..n_a},\ \frac{\partial E}{\partial b} = g_{n_a+1..}"

    def __init__(self, *nodes, axis=-1, name=None):
        super().__init__(*nodes, name=name)
        if len(nodes) < 1:
            raise self.error("needs at least one input")
        if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
            raise TypeError(f"Concat '{self.name}': axis must be an int, got {axis!r}")
        self.axis = int(axis)

    def infer_shape(self, *shapes):
        ndim = len(shapes[0])
        listed = ", ".join(f"'{n.name}' {s}" for n, s in zip(self.inputs, shapes))
        if ndim == 0 or not -ndim <= self.axis < ndim:
            raise self.error(f"axis {self.axis} is outside the per-sample shapes: {listed}")
        axis = self.axis % ndim
        rest = {s[:axis] + s[axis + 1:] for s in shapes}
        if any(len(s) != ndim for s in shapes) or len(rest) > 1:
            raise self.error(f"inputs must agree on every axis but {self.axis}: {listed}")
        return shapes[0][:axis] + (sum(s[axis] for s in shapes),) + shapes[0][axis + 1:]

    def forward(self, *values):
        listed = ", ".join(f"'{n.name}' {v.shape}" for n, v in zip(self.inputs, values))
        if len({v.ndim > len(n.shape) for n, v in zip(self.inputs, values)}) > 1:
            raise self.error(f"cannot join batched and single-sample values: {listed}")
        ndim = len(self.shape)
        self.split_axis = self.axis % ndim - ndim  # counted from the end: the same with or without a batch
        try:
            y = np.concatenate(values, axis=self.split_axis)
        except ValueError:
            raise self.error(f"inputs do not fit together (batch sizes must match): {listed}") from None
        self.bounds = np.cumsum([v.shape[self.split_axis] for v in values])[:-1]
        return y

    def backward(self, grad_out):
        return tuple(np.split(grad_out, self.bounds, axis=self.split_axis))


class Slice(Node):
    """y = x[start:stop] on the last (feature) axis — one branch takes part of a value.

    Derivative: ∂E/∂x is ``g`` in the sliced positions and 0 elsewhere.
    ``start``/``stop`` count like Python's (negative from the end) but must lie
    inside the features and select at least one.
    """

    prefix = "slice"
    derivative = "∂E/∂x = g in the slice, 0 elsewhere"
    derivative_tex = r"\frac{\partial E}{\partial x_i} = g_i \text{ in the slice, else } 0"

    def __init__(self, node, start, stop=None, name=None):
        super().__init__(node, name=name)
        for what, v in (("start", start), ("stop", stop)):
            if (v is not None or what == "start") and (not isinstance(v, (int, np.integer)) or isinstance(v, bool)):
                raise TypeError(f"Slice '{self.name}': {what} must be an int, got {v!r}")
        self.start, self.stop = start, stop
        self.formula = f"y = x[{start}:{'' if stop is None else stop}]"
        self.formula_tex = rf"y = x_{{{start}:{'' if stop is None else stop}}}"

    def _bounds(self, n):
        """(start, stop) as positions in ``n`` features."""
        start = self.start + n if self.start < 0 else self.start
        stop = n if self.stop is None else self.stop + n if self.stop < 0 else self.stop
        return start, stop

    def infer_shape(self, x_shape):
        if len(x_shape) < 1:
            raise self.error(f"x '{self.inputs[0].name}' has no feature axis (per-sample shape {x_shape})")
        n = x_shape[-1]
        start, stop = self._bounds(n)
        if not 0 <= start < stop <= n:
            raise self.error(f"slice [{self.start}:{self.stop}] is outside the {n} features of "
                             f"'{self.inputs[0].name}' (per-sample shape {x_shape})")
        return x_shape[:-1] + (stop - start,)

    def forward(self, x):
        self.bounds = start, stop = self._bounds(x.shape[-1])
        return x[..., start:stop].copy()

    def backward(self, grad_out):
        start, stop = self.bounds
        grad_x = np.zeros_like(self.inputs[0].value)
        grad_x[..., start:stop] = grad_out
        return (grad_x,)


class _ToScalar(Node):
    """A node reducing its single input to one number."""

    def __init__(self, node, name=None):
        super().__init__(node, name=name)

    def infer_shape(self, x_shape):
        return ()


class Sum(_ToScalar):
    """y = Σ_i x_i — all elements (and rows) added into one scalar.  ∂y/∂x_i = 1."""

    prefix = "sum"
    formula = "y = Σ_i x_i"
    formula_tex = r"y = \sum_i x_i"
    derivative = "∂y/∂x_i = 1"
    derivative_tex = r"\frac{\partial y}{\partial x_i} = 1"

    def forward(self, x):
        return np.asarray(x.sum())

    def backward(self, grad_out):
        return (np.full_like(self.inputs[0].value, grad_out),)


class Mean(_ToScalar):
    """y = (1/N) Σ_i x_i over all N elements (and rows).  ∂y/∂x_i = 1/N."""

    prefix = "mean"
    formula = "y = (1/N) Σ_i x_i"
    formula_tex = r"y = \frac{1}{N}\sum_i x_i"
    derivative = "∂y/∂x_i = 1/N"
    derivative_tex = r"\frac{\partial y}{\partial x_i} = \frac{1}{N}"

    def forward(self, x):
        if x.size == 0:
            raise self.error(f"cannot average the empty value of '{self.inputs[0].name}'")
        return np.asarray(x.mean())

    def backward(self, grad_out):
        x = self.inputs[0].value
        return (np.full_like(x, grad_out / x.size),)


class Scale(Node):
    """y = c · x for a fixed number c (not trained) — e.g. a weight in a sum of losses.

    Derivative: ∂y/∂x = c.
    """

    prefix = "scale"
    derivative_tex = r"\frac{\partial y}{\partial x} = c"

    def __init__(self, node, c, name=None):
        super().__init__(node, name=name)
        if not isinstance(c, (int, float, np.integer, np.floating)) or isinstance(c, bool) or not np.isfinite(c):
            raise TypeError(f"Scale '{self.name}': c must be a finite number, got {c!r}")
        self.c = float(c)
        self.formula = f"y = {self.c:g} · x"
        self.formula_tex = rf"y = {self.c:g}\,x"
        self.derivative = f"∂y/∂x = c = {self.c:g}"

    infer_shape = staticmethod(lambda x_shape: x_shape)

    def forward(self, x):
        return self.c * x

    def backward(self, grad_out):
        return (self.c * grad_out,)
