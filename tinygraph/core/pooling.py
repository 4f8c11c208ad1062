"""Pooling: each window of an image becomes one number, its maximum (MaxPool2D) or its mean (AvgPool2D)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .conv import at_offset, out_size, own, put_in, whole_number
from .node import Node


class Pool2D(Node):
    """What MaxPool2D and AvgPool2D share: square windows of ``size`` pixels a side, ``stride`` apart.

    The windows are visited offset by offset: for the offset (u, v) inside the window,
    ``x[..., u::s, v::s]`` (cut to the output's size) holds that pixel of every window at
    once, so each pass over the k² offsets works on whole images, never window by window.

    A subclass states its formula, derivative and gradient in the symbols k and s, beside its
    forward and backward; each node's text has its own k and s put in.

    Parameters
    ----------
    x : Node
        The image, ``(C, H, W)`` per sample.
    size : int, optional
        The side k of the square window, 2 by default.
    stride : int, optional
        The step s from one window to the next; None (the default) is ``size``: windows
        side by side, not overlapping.
    name : str, optional
        The node's name.

    Raises
    ------
    tinygraph.GraphError
        If ``size`` or ``stride`` is not a positive whole number, ``x`` is not an image
        ``(C, H, W)`` per sample, or the window is larger than the image.
    TypeError
        If ``x`` is not a Node.

    Notes
    -----
    y is ``(C, H_out, W_out)`` per sample, with H_out = (H − k) // s + 1 and W_out =
    (W − k) // s + 1; every channel is pooled on its own.
    """

    # kept for a set of shapes (prepare): the output, the gradient, where each window's maximum was
    y: Any = None
    grad_x: Any = None
    into: list = []
    won: Any = None
    taken: Any = None
    part: Any = None
    scaled: Any = None
    covers = True
    x: Any = None  # the last input (for the trace)
    winners = False  # MaxPool2D keeps where each window's maximum was
    # stated by each subclass in the symbols k and s; each node's own numbers are put in (numbered)
    formula: str
    formula_tex: str
    derivative: str
    derivative_tex: str
    word: str  # what the trace calls a window's number: "max", "mean"

    def __init__(self, x: Node, size: int = 2, stride: int | None = None, name: str | None = None) -> None:
        self.size = whole_number(type(self), name, "size", size, 1)
        self.stride = self.size if stride is None else whole_number(type(self), name, "stride", stride, 1)
        super().__init__(x, name=name)
        cls = type(self)
        self.formula, self.formula_tex = self.numbered(cls.formula), self.numbered(cls.formula_tex)
        self.derivative, self.derivative_tex = self.numbered(cls.derivative), self.numbered(cls.derivative_tex)
        self.gradients = {symbol: self.numbered(text) for symbol, text in cls.gradients.items()}

    def numbered(self, text: str) -> str:
        """Return ``text``, in the symbols k and s, with this node's k and s put in: ``2·i+u``, ``1/4``."""
        k = self.size
        for symbols, numbers in {"k²": str(k * k), "k^2": str(k * k), "< k": f"< {k}"}.items():
            text = text.replace(symbols, numbers)
        return put_in(text, self.stride)

    def infer_shape(self, x: tuple) -> tuple[int, ...]:
        k, s = self.size, self.stride
        if len(x) != 3:
            raise self.error(
                f"x '{self.inputs[0].name}' must be an image (C, H, W) per sample, got per-sample shape {x}"
            )
        if k > x[1] or k > x[2]:
            raise self.error(
                f"the {k}×{k} window is larger than the {x[1]}×{x[2]} image of x '{self.inputs[0].name}' {x}"
            )
        return (x[0], out_size(x[1], k, s), out_size(x[2], k, s))

    def prepare(self, x: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        k, s, (h, w) = self.size, self.stride, x[-2:]
        ho, wo = out_size(h, k, s), out_size(w, k, s)
        out, covers = x[:-2] + (ho, wo), s == k and h == k * ho and w == k * wo  # every pixel in one window
        grad_x = own(x, dtype)
        return {
            "y": own(out, dtype),
            "grad_x": grad_x,
            "into": self.pixels(grad_x, (ho, wo)),  # ∂E/∂x's pixels at each window offset
            "won": list(own((k * k,) + out, np.bool_)) if self.winners else None,  # one array per offset
            "taken": own(out, np.bool_) if self.winners else None,
            "part": None if covers else own(out, dtype),  # what one offset sends, added where windows overlap
            "scaled": None if self.winners else own(out, dtype),
            "covers": covers,
        }

    def pixels(self, x: np.ndarray, out: tuple[int, ...]) -> list[np.ndarray]:
        """Return, per window offset (u, v) in row-major order, that pixel of every window: ``x[..., u::s, v::s]``.

        ``out`` is the output's (H_out, W_out).
        """
        k, s = self.size, self.stride
        return [at_offset(x, u, v, s, out) for u in range(k) for v in range(k)]

    def send(self, part: Callable[[int, np.ndarray], Any]) -> np.ndarray:
        """Return ∂E/∂x; ``part(o, out)`` writes what the pixels at window offset o receive."""
        grad_x, covers, buffer = self.grad_x, self.covers, self.part
        if not covers:
            grad_x.fill(0)
        for o, pixel in enumerate(self.into):
            if covers:  # every pixel in one window: written once
                part(o, pixel)
            else:
                part(o, buffer)
                pixel += buffer
        return grad_x

    def lines(self, number: Callable[[Any], str]) -> list[str]:
        """Write the first windows of the first channel (up to 4) as ``max(…) = …`` or ``mean(…) = …``.

        For a batch, of its first sample; a maximum also says which pixel it is.

        Parameters
        ----------
        number : callable
            Formats one number (the trace's precision).

        Returns
        -------
        list of str
            One line per window shown, then a line on the others.
        """
        x, y, xn = self.x, np.asarray(self.value), self.inputs[0].name
        lead = (0, 0) if x.ndim == 4 else (0,)
        k, s = self.size, self.stride
        ho, wo = y.shape[-2:]
        out = []
        for i, j in [(i, j) for i in range(ho) for j in range(wo)][:4]:
            window = x[lead + (slice(s * i, s * i + k), slice(s * j, s * j + k))]
            numbers = ", ".join(number(v) for v in window.ravel())
            text = f"window ({i},{j}): {self.word}({numbers}) = {number(y[lead + (i, j)])}"
            if self.winners:
                u, v = divmod(int(np.argmax(window)), k)
                text += f" at {xn}[{','.join(map(str, lead + (s * i + u, s * j + v)))}]"
            out.append(text)
        if ho * wo > 4:
            where = "of the first channel of the first sample" if x.ndim == 4 else "of the first channel"
            out.append(f"… {ho * wo} windows {where}, {ho}×{wo}, and the same in every channel")
        return out


class MaxPool2D(Pool2D):
    """y[c,i,j] = max_{u,v} x[c, s·i+u, s·j+v] — the largest pixel of each k×k window.

    Derivative: a window's maximum passes its gradient on to the pixel it came from, and the
    window's other pixels get 0:  ∂E/∂x[c, s·i+u, s·j+v] = ∂E/∂y[c,i,j] if that pixel is
    the window's maximum, else 0 (summed over the windows a pixel belongs to, when they
    overlap).  Of pixels tied for the maximum, the first (in row-major order in the
    window) is taken, as numpy's ``argmax`` takes it.

    Parameters
    ----------
    x : Node
        The image, ``(C, H, W)`` per sample (the output of a Conv2D's activation, usually).
    size : int, optional
        The side k of the square window, 2 by default.
    stride : int, optional
        The step s from one window to the next; None (the default) is ``size``.
    name : str, optional
        The node's name; by default ``maxpool_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``size`` or ``stride`` is not a positive whole number, ``x`` is not an image per
        sample, or the window is larger than the image.
    TypeError
        If ``x`` is not a Node.

    See Also
    --------
    AvgPool2D : The mean of each window.
    Conv2D : What usually comes before.

    Notes
    -----
    y is ``(C, (H − k) // s + 1, (W − k) // s + 1)`` per sample.  The forward pass keeps,
    for each window offset, where the first maximum was (the winners), and the backward
    pass sends each gradient there.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Parameter(np.array([[[1.0, 5.0, 2.0, 2.0],
    ...                               [3.0, 4.0, 0.0, 1.0]]]), name="x")
    >>> y = tg.MaxPool2D(x, size=2, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))  # 5 + 2
    7.0
    >>> graph.backward()
    >>> x.grad  # to the maxima; of the tied 2s, the first
    array([[[0., 1., 1., 0.],
            [0., 0., 0., 0.]]])
    """

    prefix = "maxpool"
    winners = True
    word = "max"
    formula = "y[c,i,j] = max_{u,v < k} x[c, s·i+u, s·j+v]"
    formula_tex = r"y_{c,i,j} = \max_{u,v < k} x_{c,\, s i+u,\, s j+v}"
    derivative = "∂y[c,i,j]/∂x[c, s·i+u, s·j+v] = 1 for the window's (first) maximum, else 0"
    derivative_tex = r"\frac{\partial y_{c,i,j}}{\partial x_{c,\, s i+u,\, s j+v}} = [\text{it is the maximum}]"
    gradients = {"x": "∂E/∂y[c,i,j] to the maximum of its window, 0 elsewhere"}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x  # kept for the trace
        y, won, taken = self.y, self.won, self.taken
        pixels = self.pixels(x, y.shape[-2:])
        if len(pixels) == 1:
            np.copyto(y, pixels[0])
        else:
            np.maximum(pixels[0], pixels[1], out=y)
        for pixel in pixels[2:]:
            np.maximum(y, pixel, out=y)
        np.equal(pixels[0], y, out=won[0])
        np.copyto(taken, won[0])
        for o in range(1, len(pixels)):  # the winners: equal to the maximum, where no earlier pixel was
            np.equal(pixels[o], y, out=won[o])
            np.greater(won[o], taken, out=won[o])
            if o < len(pixels) - 1:
                np.logical_or(taken, won[o], out=taken)
        return y

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        won = self.won  # ∂E/∂x at window offset o: ∂E/∂y where offset o won, else 0
        return (self.send(lambda o, out: np.multiply(grad_out, won[o], out=out)),)


class AvgPool2D(Pool2D):
    """y[c,i,j] = (1/k²) Σ_{u,v} x[c, s·i+u, s·j+v] — the mean of each k×k window.

    Derivative: ∂y[c,i,j]/∂x[c, s·i+u, s·j+v] = 1/k², so each pixel of a window receives
    ∂E/∂y[c,i,j] / k² (summed over the windows it belongs to, when they overlap).

    Parameters
    ----------
    x : Node
        The image, ``(C, H, W)`` per sample.
    size : int, optional
        The side k of the square window, 2 by default.
    stride : int, optional
        The step s from one window to the next; None (the default) is ``size``.
    name : str, optional
        The node's name; by default ``avgpool_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``size`` or ``stride`` is not a positive whole number, ``x`` is not an image per
        sample, or the window is larger than the image.
    TypeError
        If ``x`` is not a Node.

    See Also
    --------
    MaxPool2D : The largest pixel of each window.

    Notes
    -----
    y is ``(C, (H − k) // s + 1, (W − k) // s + 1)`` per sample.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Parameter(np.arange(8.0).reshape(1, 2, 4), name="x")
    >>> y = tg.AvgPool2D(x, name="y")
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))  # (0 + 1 + 4 + 5)/4 + (2 + 3 + 6 + 7)/4
    7.0
    >>> graph.backward()
    >>> x.grad  # 1/k² to every pixel
    array([[[0.25, 0.25, 0.25, 0.25],
            [0.25, 0.25, 0.25, 0.25]]])
    """

    prefix = "avgpool"
    word = "mean"
    formula = "y[c,i,j] = (1/k²) Σ_{u,v < k} x[c, s·i+u, s·j+v]"
    formula_tex = r"y_{c,i,j} = \frac{1}{k^2} \sum_{u,v < k} x_{c,\, s i+u,\, s j+v}"
    derivative = "∂y[c,i,j]/∂x[c, s·i+u, s·j+v] = 1/k²"
    derivative_tex = r"\frac{\partial y_{c,i,j}}{\partial x_{c,\, s i+u,\, s j+v}} = \frac{1}{k^2}"
    gradients = {"x": "∂E/∂y[c,i,j]/k² to every pixel of its window"}

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x  # kept for the trace
        y = self.y
        pixels = self.pixels(x, y.shape[-2:])
        np.copyto(y, pixels[0])
        for pixel in pixels[1:]:
            y += pixel
        y *= np.asarray(1 / self.size**2, x.dtype)
        return y

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        scaled = np.multiply(grad_out, np.asarray(1 / self.size**2, grad_out.dtype), out=self.scaled)  # ∂E/∂y / k²
        return (self.send(lambda o, out: np.copyto(out, scaled)),)
