"""Convolution: a small kernel of weights slid over an image, one weighted sum per position."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import GraphError
from .node import Node, describe, factor, kept


def whole_number(cls: type, name: str | None, what: str, value: Any, low: int) -> int:
    """Return ``value`` as an int >= ``low``, or raise a GraphError naming the node and the argument."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)) or value < low:
        kind = "positive" if low == 1 else "non-negative"
        raise GraphError(f"{describe(cls, name)}: {what} must be a {kind} whole number, got {value!r}")
    return int(value)


def own(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """Return an array the node keeps and writes into itself, whatever its size (``kept``, or a plain one)."""
    a = kept(shape, dtype)
    return np.empty(shape, dtype) if a is None else a


def index(letter: str, s: int, offset: str, p: int) -> str:
    """Write the input row of output row ``letter``: ``s·i+u−p`` with the known s and p put in."""
    text = (f"{s}·{letter}" if s != 1 else letter) + offset
    return text + (f"−{p}" if p else "")


def put_in(text: str, s: int, p: int = 0) -> str:
    """Return ``text``, in the symbols s and p (``s·i+u−p``; LaTeX ``s i+u-p``), with a node's s and p put in.

    Conv2D and the pools state their text once, in the symbols; each node shows its own numbers.
    """
    for letter, offset in (("i", "+u"), ("j", "+v")):
        plain = index(letter, s, offset, p)
        tex = plain.replace("·", " ").replace("−", "-")
        text = text.replace(f"s·{letter}{offset}−p", plain).replace(f"s {letter}{offset}-p", tex)
        text = text.replace(f"s·{letter}{offset}", plain).replace(f"s {letter}{offset}", tex)
    return text


def out_size(n: int, k: int, s: int, p: int = 0) -> int:
    """Return how many windows of k pixels, s apart, fit in n pixels with p zeros each side: (n + 2p − k) // s + 1."""
    return (n + 2 * p - k) // s + 1


def at_offset(a: np.ndarray, u: int, v: int, s: int, out: tuple[int, ...]) -> np.ndarray:
    """Return the view of ``a`` under window offset (u, v) of every output pixel (i, j): ``a[..., s·i+u, s·j+v]``.

    ``out`` is the output's (H_out, W_out); the view is that size in its last two axes.
    """
    ho, wo = out
    return a[..., u : u + s * ho : s, v : v + s * wo : s]


def col2im(grad_xp: np.ndarray, grad_cols: np.ndarray, s: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Pair each kernel offset's columns of ``grad_cols`` with the pixels of ``grad_xp`` they were taken from."""
    _, kh, kw, _, ho, wo = grad_cols.shape
    return [
        (at_offset(grad_xp, u, v, s, (ho, wo)), grad_cols[:, u, v].transpose(1, 0, 2, 3))
        for u in range(kh)
        for v in range(kw)
    ]


def terms(number: Callable[[Any], str], a: np.ndarray, b: np.ndarray, most: int = 9) -> tuple[str, str]:
    """Write the sum of the products a·b, ``a·b + c·d + …``, and how many there are when not all are shown.

    Up to ``most`` products are all shown; of a longer sum, the first three that are not 0, "…"
    and the last, and the count: ``(64 products, 30 of them 0)``.
    """
    a, b = np.ravel(a), np.ravel(b)
    shown, count = list(range(len(a))), ""
    if len(a) > most:
        zero = (a * b == 0).tolist()
        kept = [i for i in shown if not zero[i]] or shown
        shown = kept[:3] + [-1] + kept[-1:] if len(kept) > 4 else kept
        count = f" ({len(a)} products" + (f", {sum(zero)} of them 0)" if any(zero) else ")")
    return " + ".join("…" if i < 0 else f"{factor(number, a[i])}·{factor(number, b[i])}" for i in shown), count


class Conv2D(Node):
    """z[c,i,j] = Σ_{k,u,v} w[c,k,u,v] · x[k, s·i+u−p, s·j+v−p] + b[c] — a 2-D convolution layer.

    Each output channel c slides its kernel ``w[c]`` (C_in × kH × kW weights) over the input
    image, ``s`` pixels a step, with ``p`` rows and columns of zeros around it: every output
    pixel is a weighted sum of the kH × kW patch of every input channel under the kernel,
    plus the channel's bias.  (Machine learning's "convolution" is this correlation: the
    kernel is not flipped.)

    Derivatives, with ``g = ∂E/∂z`` (shaped like z), from ∂z[c,i,j]/∂w[c,k,u,v] =
    x[k, s·i+u−p, s·j+v−p] and ∂z[c,i,j]/∂x[k, s·i+u−p, s·j+v−p] = w[c,k,u,v]:

    - ∂E/∂w[c,k,u,v] = Σ_{i,j} g[c,i,j] · x[k, s·i+u−p, s·j+v−p]: a correlation of x with g
      (summed over the batch too), one number per weight.
    - ∂E/∂x[k,a,e] = Σ_{c,u,v} g[c,i,j] · w[c,k,u,v] over the (i, j, u, v) with s·i+u−p = a
      and s·j+v−p = e: a full convolution of g with the flipped kernel (with stride s, of g
      dilated by s: s − 1 zeros between its pixels), cropped by p.
    - ∂E/∂b[c] = Σ_{i,j} g[c,i,j]: g summed over the positions (and the batch).

    Computed as matrix products: the patches are laid out as the columns of a matrix
    (im2col), so that z = w·cols + b is one product, ∂E/∂w = g·colsᵀ another, and
    ∂E/∂cols = wᵀ·g a third, whose columns are added back onto the patches they came from
    (col2im, one step per kernel offset).

    Parameters
    ----------
    x : Node
        The input image, ``(C_in, H, W)`` per sample.
    w : Node
        The kernels, usually a Parameter: ``(C_out, C_in, kH, kW)``.
    b : Node, optional
        The biases, one per output channel: ``(C_out,)``; None (the default) for none.
    stride : int, optional
        The step s of the kernel, in pixels, 1 by default.
    padding : int, optional
        The rows and columns of zeros p added on each side of the image, 0 by default.
    name : str, optional
        The node's name; by default ``conv_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``stride`` is not a positive whole number or ``padding`` not a non-negative one;
        if the shapes do not fit: ``w`` not 4-D or with a size of 0, ``x`` not an image
        ``(C_in, H, W)`` per sample, x's channels not w's C_in, ``b`` not ``(C_out,)``, or the
        kernel larger than the padded image; or if ``w`` or ``b`` is fed a batch.  A shape is
        checked when the node is built if it is known then, else on the first forward pass.
    TypeError
        If an input is not a Node.

    See Also
    --------
    MaxPool2D, AvgPool2D : Pooling, usually after the activation of a convolution.
    Flatten : From images to the feature vectors a WeightedSum takes.

    Notes
    -----
    Shapes: x ``(C_in, H, W)`` or ``(batch, C_in, H, W)``; z ``(C_out, H_out, W_out)`` per
    sample, with H_out = (H + 2p − kH) // s + 1 and W_out = (W + 2p − kW) // s + 1 (rows
    and columns the kernel does not reach at the far edge are left out).  Float32 stays
    float32.  A batch's value may be a transposed view (channels first in memory).

    Examples
    --------
    A 2×2 kernel on a 3×3 image: each output pixel is the sum of the four pixels under it,
    weighted.

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(1, 3, 3))
    >>> w = tg.Parameter(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]), name="w")
    >>> z = tg.Conv2D(x, w, name="z")
    >>> z.shape
    (1, 2, 2)
    >>> graph = tg.Graph(tg.Sum(z, name="E"))
    >>> image = np.arange(9.0).reshape(1, 3, 3)
    >>> float(graph.forward({"x": image}))  # every z[0,i,j] = x[i,j] − x[i+1,j+1] = −4
    -16.0
    >>> graph.backward()
    >>> w.grad  # ∂E/∂w[0,0,u,v] = Σ_{i,j} x[u+i, v+j]: the sums of the four 2×2 corners
    array([[[[ 8., 12.],
             [20., 24.]]]])

    Stride and padding set the output size:

    >>> tg.Conv2D(tg.Input("img", shape=(3, 28, 28)), tg.Parameter(np.zeros((16, 3, 5, 5))),
    ...           stride=2, padding=2).shape
    (16, 14, 14)
    """

    prefix = "conv"
    formula = "z[c,i,j] = Σ_{k,u,v} w[c,k,u,v]·x[k, s·i+u−p, s·j+v−p] + b[c]"
    formula_tex = r"z_{c,i,j} = \sum_{k,u,v} w_{c,k,u,v}\, x_{k,\, s i+u-p,\, s j+v-p} + b_c"
    derivative = (
        "∂z[c,i,j]/∂w[c,k,u,v] = x[k, s·i+u−p, s·j+v−p], ∂z[c,i,j]/∂x[k, s·i+u−p, s·j+v−p] = w[c,k,u,v], "
        "∂z[c,i,j]/∂b[c] = 1"
    )
    derivative_tex = (
        r"\frac{\partial z_{c,i,j}}{\partial w_{c,k,u,v}} = x_{k,\, s i+u-p,\, s j+v-p},\ "
        r"\frac{\partial z_{c,i,j}}{\partial x_{k,\, s i+u-p,\, s j+v-p}} = w_{c,k,u,v},\ "
        r"\frac{\partial z_{c,i,j}}{\partial b_c} = 1"
    )
    gradients = {
        "x": "the full convolution of ∂E/∂z[c,i,j] with the flipped w",
        "w": "Σ_{i,j} ∂E/∂z[c,i,j]·x[k, s·i+u−p, s·j+v−p]   (x correlated with ∂E/∂z)",
        "b": "Σ_{i,j} ∂E/∂z[c,i,j]",
    }
    # kept for a set of shapes (prepare): the padded input, its patches as columns, the products
    xp: Any = None
    window: Any = None
    patches: tuple = ()
    cols: Any = None
    columns: Any = None
    z: Any = None
    value: Any = None
    gt: Any = None
    gt_in: Any = None
    grad_w: Any = None
    grad_w_matrix: Any = None
    grad_b: Any = None
    grad_cols: Any = None
    grad_xp: Any = None
    scatter: list = []

    def __init__(
        self, x: Node, w: Node, b: Node | None = None, stride: int = 1, padding: int = 0, name: str | None = None
    ) -> None:
        self.stride = whole_number(Conv2D, name, "stride", stride, 1)
        self.padding = p = whole_number(Conv2D, name, "padding", padding, 0)
        formula, formula_tex, derivative, derivative_tex = (
            Conv2D.formula, Conv2D.formula_tex, Conv2D.derivative, Conv2D.derivative_tex
        )  # fmt: skip
        if b is None:  # (the class states its text with the bias, last)
            formula, formula_tex = formula.removesuffix(" + b[c]"), formula_tex.removesuffix(" + b_c")
            derivative, derivative_tex = derivative.rsplit(", ", 1)[0], derivative_tex.rsplit(r",\ ", 1)[0]
        s = self.stride
        self.formula, self.formula_tex = put_in(formula, s, p), put_in(formula_tex, s, p)
        self.derivative, self.derivative_tex = put_in(derivative, s, p), put_in(derivative_tex, s, p)
        self.gradients = {symbol: put_in(text, s, p) for symbol, text in Conv2D.gradients.items()}
        super().__init__(*((x, w) if b is None else (x, w, b)), name=name)

    def infer_shape(self, x: tuple, w: tuple, b: tuple | None = None) -> tuple[int, ...]:
        names, p, s = [i.name for i in self.inputs], self.padding, self.stride
        if len(w) != 4 or 0 in w:
            raise self.error(f"w '{names[1]}' must have shape (C_out, C_in, kH, kW) of sizes >= 1, got {w}")
        if len(x) != 3:
            raise self.error(f"x '{names[0]}' must be an image (C_in, H, W) per sample, got per-sample shape {x}")
        if x[0] != w[1]:
            raise self.error(
                f"x '{names[0]}' has {x[0]} channels but w '{names[1]}' expects {w[1]} (w shape {w}, x {x})"
            )
        if b is not None and b != w[:1]:
            raise self.error(f"b '{names[2]}' must have shape {w[:1]}, one bias per output channel of w {w}, got {b}")
        height, width = x[1] + 2 * p, x[2] + 2 * p
        if w[2] > height or w[3] > width:
            raise self.error(
                f"the {w[2]}×{w[3]} kernel of w '{names[1]}' is larger than the padded image {height}×{width} "
                f"(x '{names[0]}' {x}, padding {p})"
            )
        return (w[0], out_size(x[1], w[2], s, p), out_size(x[2], w[3], s, p))

    def prepare(self, x: tuple, w: tuple, b: tuple | None = None, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if any(batched[1:]):
            raise self.error(
                f"w '{self.inputs[1].name}' and b must be the same for every sample of "
                "a batch (Parameters, or Inputs fed one sample at a time)"
            )
        n, (c, h, wd) = (x[0] if batched[0] else 1), x[-3:]
        o, _, kh, kw = w
        s, p = self.stride, self.padding
        ho, wo = out_size(h, kh, s, p), out_size(wd, kw, s, p)
        xp = np.zeros((n, c, h + 2 * p, wd + 2 * p), dtype)  # zeros around: only the middle is written
        window = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::s, ::s]
        cols = own((c, kh, kw, n, ho, wo), dtype)  # the patches: one column per (sample, i, j)
        keeps = self.inputs[0].role != "input"  # (an Input's gradient is rarely asked for: made when asked)
        grad_cols, grad_xp = (own(cols.shape, dtype), own(xp.shape, dtype)) if keeps else (None, None)
        z, gt, grad_w = own((o, n, ho, wo), dtype), own((o, n, ho, wo), dtype), own(w, dtype)
        item = np.dtype(dtype).itemsize  # the strides of a C-contiguous x, and of its patches laid out as cols
        sn, sc, sh, sw = c * h * wd * item, h * wd * item, wd * item, item
        return {
            "xp": xp,
            "window": window.transpose(1, 4, 5, 0, 2, 3),  # laid out as cols
            "patches": (sc, sh, sw, sn, s * sh, s * sw),
            "cols": cols,
            "columns": cols.reshape(c * kh * kw, n * ho * wo),
            "z": z.reshape(o, -1),
            "value": z.transpose(1, 0, 2, 3) if batched[0] else z[:, 0],  # (channels first in memory)
            "gt": gt.reshape(o, -1),
            "gt_in": gt.transpose(1, 0, 2, 3) if batched[0] else gt[:, 0],
            "grad_w": grad_w,
            "grad_w_matrix": grad_w.reshape(o, -1),
            "grad_b": kept(w[:1], dtype),
            "grad_cols": grad_cols,
            "grad_xp": grad_xp,
            "scatter": col2im(grad_xp, grad_cols, s) if grad_xp is not None and grad_cols is not None else [],
        }

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
        self.x, self.w, self.b = x, w, b  # kept for backward (and the trace)
        cols, p = self.cols, self.padding
        if p == 0 and x.flags.c_contiguous and x.dtype == cols.dtype:  # the patches straight from x
            window = np.ndarray(cols.shape, x.dtype, x, 0, self.patches)
        else:  # x into the middle of the zeros
            h, wd, window = x.shape[-2], x.shape[-1], self.window
            self.xp[..., p : p + h, p : p + wd] = x  # (one sample: broadcast onto the batch axis of 1)
        np.copyto(cols, window)  # im2col
        z = np.matmul(w.reshape(w.shape[0], -1), self.columns, out=self.z)  # z = w·cols
        if b is not None:
            z += b[:, None]
        return self.value

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        w, needs, g = self.w, self.needs, self.gt
        np.copyto(self.gt_in, grad_out)  # g laid out as z, the channels first: (C_out, batch·H_out·W_out)
        grad_x = grad_w = grad_b = None
        if needs[1]:  # ∂E/∂w = g·colsᵀ
            np.matmul(g, self.columns.T, out=self.grad_w_matrix)
            grad_w = self.grad_w
        if len(needs) == 3 and needs[2]:  # ∂E/∂b = Σ g
            grad_b = np.sum(g, axis=1, out=self.grad_b)
        if needs[0]:
            grad_x = self._grad_x(g, w)
        return (grad_x, grad_w) if len(needs) == 2 else (grad_x, grad_w, grad_b)

    def _grad_x(self, g: np.ndarray, w: np.ndarray) -> np.ndarray:
        """∂E/∂x: ∂E/∂cols = wᵀ·g, each column added back onto its patch (col2im), the padding cut off."""
        grad_cols, grad_xp, scatter = self.grad_cols, self.grad_xp, self.scatter
        if grad_cols is None or grad_xp is None:  # (an Input's gradient: made when asked)
            grad_cols, grad_xp = np.empty_like(self.cols), np.empty_like(self.xp)
            scatter = col2im(grad_xp, grad_cols, self.stride)
        np.matmul(w.reshape(w.shape[0], -1).T, g, out=grad_cols.reshape(-1, g.shape[1]))
        grad_xp.fill(0)
        for patch, column in scatter:
            patch += column
        p, (h, wd) = self.padding, self.x.shape[-2:]
        grad_x = grad_xp[:, :, p : p + h, p : p + wd]
        return grad_x[0] if self.x.ndim == 3 else grad_x

    def lines(self, number: Callable[[Any], str]) -> list[str]:
        """Write the first pixel of each channel (up to 4): its weighted sum, with the numbers put in.

        For a batch, of its first sample.  A sum of more than 9 products is shortened to its
        first three and its last, with the result.

        Parameters
        ----------
        number : callable
            Formats one number (the trace's precision).

        Returns
        -------
        list of str
            The formula of z[c,0,0], then one line per channel shown.
        """
        x, w, b, z = self.x, self.w, self.b, np.asarray(self.value)
        batch = x.ndim == 4
        x0, z0, n = (x[0], z[0], "0,") if batch else (x, z, "")
        xn, wn, zn = self.inputs[0].name, self.inputs[1].name, self.name
        bn = self.inputs[2].name if b is not None else None
        p = self.padding
        xp = np.pad(x0, ((0, 0), (p, p), (p, p)))
        kc, kh, kw = w.shape[1:]
        rows, columns = index("", 1, "u", p), index("", 1, "v", p)
        first = f"{zn}[{n}c,0,0] = Σ_{{k,u,v}} {wn}[c,k,u,v]·{xn}[{n}k, {rows}, {columns}]"
        where = "the first pixel of each channel" + (f", of sample 0 of {len(x)}" if batch else "")
        out = [first + (f" + {bn}[c]" if bn else "") + f"   ({where}{', 0 in the padding' if p else ''})"]
        for c in range(min(w.shape[0], 4)):
            text, count = terms(number, w[c], xp[:, :kh, :kw])
            if b is not None:
                text += f" − {number(-b[c])}" if b[c] < 0 else f" + {number(b[c])}"
            out.append(f"{zn}[{n}{c},0,0] = {text} = {number(z0[c, 0, 0])}{count}")
        if w.shape[0] > 4:
            more = w.shape[0] - 4
            out.append(f"… and so on for the other channel{'s' * (more > 1)} ({more} more) and every pixel")
        return out

    def backward_lines(self, number: Callable[[Any], str]) -> list[str] | None:
        """Write ∂E/∂w[0,0,0,0] as the sum it is: ∂E/∂z times the pixel under that weight, at every position.

        Parameters
        ----------
        number : callable
            Formats one number (the trace's precision).

        Returns
        -------
        list of str or None
            One line; None when w's gradient was not asked for.
        """
        if not self.needs[1] or self.grad is None:
            return None
        x, g, s, p = self.x, np.asarray(self.grad), self.stride, self.padding
        if x.ndim == 3:
            x, g = x[None], g[None]
        xp = np.pad(x[:, :1], ((0, 0), (0, 0), (p, p), (p, p)))[:, 0]
        picked = at_offset(xp, 0, 0, s, g.shape[2:])  # the pixel under w[0,0,0,0] at every position
        total = float(np.sum(g[:, 0].astype(float) * picked))
        wn, xn, zn = self.inputs[1].name, self.inputs[0].name, self.name
        sums, n = ("n,i,j", "n,") if self.x.ndim == 4 else ("i,j", "")
        rows, columns = index("i", s, "", p), index("j", s, "", p)
        text, count = terms(number, g[:, 0], picked)
        return [
            f"∂E/∂{wn}[0,0,0,0] = Σ_{{{sums}}} ∂E/∂{zn}[{n}0,i,j]·{xn}[{n}0, {rows}, {columns}] "
            f"= {text} = {number(total)}{count}"
        ]
