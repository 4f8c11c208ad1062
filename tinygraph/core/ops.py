"""The neuron's own operations: the weighted sum, the bias as a constant-1 input, softmax."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..notation import element
from .activations import exp_limit
from .node import Node, Scalar, factor, kept


class WeightedSum(Node):
    """z = x·w + b — one neuron (``w`` of shape ``(n_in,)``) or a layer (``(n_in, n_out)``).

    Per unit: ``z_j = Σ_i x_i w_ij + b_j``.  ``b`` is optional (leave it out when the
    bias rides on a constant-1 input, see ``AppendOne``).

    Derivatives, with ``g = ∂E/∂z`` (the δ of the layer):

    - ∂E/∂x = g · wᵀ          (``grad_x``, one row per sample)
    - ∂E/∂w = xᵀ · g          (``grad_w``: ∂E/∂w_ij = x_i g_j, summed over the batch)
    - ∂E/∂b = g               (``grad_b``, summed over the batch: 1ᵀ g)

    Parameters
    ----------
    x : Node
        The inputs of the neurons: a vector of ``n_in`` features per sample.
    w : Node
        The weights, usually a Parameter: shape ``(n_in,)`` for one neuron, ``(n_in, n_out)``
        for a layer of ``n_out`` neurons.  The same for every sample of a batch.
    b : Node, optional
        The biases, of shape ``()`` for one neuron and ``(n_out,)`` for a layer; None (the
        default) for none.
    name : str, optional
        The node's name; by default ``wsum_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If the shapes do not fit: ``w`` neither 1-D nor 2-D, ``x`` not a vector per sample,
        x's features not w's rows, or ``b`` not shaped ``w.shape[1:]``; or if ``w`` or ``b``
        is fed a batch.  Raised when the node is built if the shapes are known then, else
        on the first forward pass, before anything changes.
    TypeError
        If an input is not a Node.

    See Also
    --------
    AppendOne : The bias as the weight of a constant-1 input.

    Notes
    -----
    Shapes: x ``(n_in,)`` or ``(batch, n_in)``; z ``()``/``(n_out,)`` per sample.  So one
    neuron gives one number per sample: z of shape ``()`` for one sample and ``(batch,)``
    for a batch, which a target must match (``Input("t", shape=())``, or ``w`` of shape
    ``(n_in, 1)`` for a column).

    Examples
    --------
    One neuron, one sample; its gradients are the derivatives above with g = 1:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> w = tg.Parameter([0.5, -1.0], name="w")
    >>> b = tg.Parameter(0.25, name="b")
    >>> z = tg.WeightedSum(x, w, b, name="z")
    >>> z.shape  # one number per sample
    ()
    >>> graph = tg.Graph(z)
    >>> float(graph.forward({"x": np.array([2.0, 1.0])}))  # 2·0.5 + 1·(−1) + 0.25
    0.25
    >>> graph.backward(inputs=True)
    >>> w.grad, b.grad, x.grad  # x, 1, w
    (array([2., 1.]), array(1.), array([ 0.5, -1. ]))

    A layer of three neurons on a batch of four rows:

    >>> W = tg.Parameter(np.ones((2, 3)), name="W")
    >>> layer = tg.WeightedSum(x, W, name="layer")
    >>> layer.shape
    (3,)
    >>> tg.Graph(layer).forward({"x": np.zeros((4, 2))}).shape
    (4, 3)
    """

    prefix = "wsum"
    layer_role = "weighted sum"
    formula = "z = x·w + b"
    formula_tex = r"z = x \cdot w + b"
    derivative = "∂z/∂x = wᵀ, ∂z/∂w = x, ∂z/∂b = 1"
    derivative_tex = (
        r"\frac{\partial z}{\partial x} = w^\top,\ \frac{\partial z}{\partial w} = x,\ "
        r"\frac{\partial z}{\partial b} = 1"
    )
    gradients = {"x": "∂E/∂z · wᵀ", "w": "xᵀ · ∂E/∂z   (∂E/∂w_ij = x_i · δ_j)", "b": "∂E/∂z"}
    z = grad_x = grad_w = grad_b = ones = None  # kept for a set of shapes (prepare)

    def __init__(self, x: Node, w: Node, b: Node | None = None, name: str | None = None) -> None:
        if b is None:
            self.formula, self.formula_tex = "z = x·w", r"z = x \cdot w"
            self.derivative = "∂z/∂x = wᵀ, ∂z/∂w = x"
            self.derivative_tex = r"\frac{\partial z}{\partial x} = w^\top,\ \frac{\partial z}{\partial w} = x"
        super().__init__(*((x, w) if b is None else (x, w, b)), name=name)

    def infer_shape(self, x: tuple, w: tuple, b: tuple | None = None) -> tuple[int, ...]:
        names = [i.name for i in self.inputs]
        if len(w) not in (1, 2):
            raise self.error(f"w '{names[1]}' must have shape (n_in,) or (n_in, n_out), got {w}")
        if len(x) != 1:
            raise self.error(f"x '{names[0]}' must be a vector of features per sample, got per-sample shape {x}")
        if x[0] != w[0]:
            raise self.error(f"x '{names[0]}' has {x[0]} features but w '{names[1]}' expects {w[0]} (w shape {w})")
        if b is not None and b != w[1:]:
            raise self.error(f"b '{names[2]}' must have shape {w[1:]} to match w '{names[1]}' {w}, got {b}")
        return w[1:]

    def prepare(self, x: tuple, w: tuple, b: tuple | None = None, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if any(batched[1:]):
            raise self.error(
                f"w '{self.inputs[1].name}' and b must be the same for every sample of "
                "a batch (Parameters, or Inputs fed one sample at a time)"
            )
        if not batched[0]:
            return {"grad_w": kept(w, dtype)}
        rows = x[0]
        return {
            "z": kept((rows,) + w[1:], dtype),
            "grad_x": None if self.inputs[0].role == "input" else kept(x, dtype),  # (rarely asked for: fresh)
            "grad_w": kept(w, dtype),
            "ones": None if b is None else np.ones(rows, dtype),
            "grad_b": kept(w[1:], dtype),
        }

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> Any:
        self.x = x  # kept for backward
        self.w = w
        if x.ndim == 1:  # one sample: a few numbers, made fresh (np.dot is the quicker call)
            z = np.dot(x, w)
            return z if b is None else z + b
        z = np.matmul(x, w, out=self.z)
        return z if b is None else np.add(z, b, out=z)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        x, w, g, needs = self.x, self.w, grad_out, self.needs
        grad_x = grad_w = grad_b = None
        if x.ndim == 1:  # one sample
            if needs[0]:
                grad_x = np.dot(w, g)  # g · wᵀ
            if needs[1]:  # ∂E/∂w_ij = x_i g_j
                grad_w = np.multiply(x[:, None] if w.ndim == 2 else x, g, out=self.grad_w)
            grad_b = g
        else:  # a batch: the sums over its rows
            if needs[0]:
                grad_x = np.matmul(g, w.T, out=self.grad_x) if w.ndim == 2 else np.multiply.outer(g, w, out=self.grad_x)
            if needs[1]:
                grad_w = np.matmul(x.T, g, out=self.grad_w)
            if len(needs) == 3 and needs[2]:  # 1ᵀ g (BLAS beats g.sum(axis=0))
                grad_b = np.matmul(self.ones, g, out=self.grad_b)  # type: ignore[call-overload]
        return (grad_x, grad_w) if len(needs) == 2 else (grad_x, grad_w, grad_b)

    def lines(self, number: Callable[[Any], str]) -> list[str] | None:
        """z[j] = x_0·w_0j + x_1·w_1j + b_j = …, unit by unit, for one sample of a few numbers.

        Parameters
        ----------
        number : callable
            Formats one number (the trace's precision).

        Returns
        -------
        list of str or None
            One line per unit, with the last forward pass's numbers put in; None for a batch,
            more than 4 inputs or more than 4 units (the trace then shows the arrays).
        """
        x, w, z = self.x, self.w, np.asarray(self.value)
        b = self.inputs[2].value if len(self.inputs) > 2 else None
        if x.ndim != 1 or x.size > 4 or (w.ndim == 2 and w.shape[1] > 4):
            return None
        columns = [w] if w.ndim == 1 else [w[:, j] for j in range(w.shape[1])]
        out = []
        for j, wj in enumerate(columns):
            terms = " + ".join(f"{factor(number, xi)}·{factor(number, wij)}" for xi, wij in zip(x, wj))
            if b is not None:
                bj = float(b if b.ndim == 0 else b[j])
                terms += f" − {number(-bj)}" if bj < 0 else f" + {number(bj)}"
            label = self.name if w.ndim == 1 else f"{self.name}[{j}]"
            out.append(f"{label} = {terms} = {number(z if z.ndim == 0 else z[j])}")
        return out

    def scalars(self, shapes, values=None, value=None, grad_out=None, number=str, needs=None) -> list[Scalar]:
        """Open the layer up, for one sample: per unit j the products x_i·w_ij, then their sum.

        ``z_j = Σ_i x_i w_ij + b_j``.  With δ_j = ∂E/∂z_j, every product's gradient is δ_j
        (a sum passes its gradient on unchanged), so ∂E/∂w_ij = x_i·δ_j, ∂E/∂x_i gets w_ij·δ_j
        from each unit, and ∂E/∂b_j = δ_j: the matrix rules of the class docstring, one
        number at a time.  The weight w_ij is written inside its product, b_j inside z_j.

        Parameters
        ----------
        shapes : sequence of tuple of int
            The inputs' per-sample shapes: x ``(n_in,)``, w ``(n_in,)`` or ``(n_in, n_out)``, b.
        values : sequence of numpy.ndarray or None, optional
            One sample's x, w (and b); None (the default) for the structure alone.
        value : numpy.ndarray or None, optional
            One sample's z.
        grad_out : numpy.ndarray or None, optional
            One sample's δ = ∂E/∂z.
        number : callable, optional
            Formats one number; ``str`` by default.
        needs : sequence of bool, optional
            Whether the gradients of x, w and b are drawn: each product then says what it
            sends x and w, each sum what it sends b.  All by default.

        Returns
        -------
        list of Scalar
            For each unit: its n_in products (keys ``p<i>_<j>``), then its sum (``s<j>``).

        Examples
        --------
        >>> import numpy as np
        >>> import tinygraph as tg
        >>> z = tg.WeightedSum(tg.Input("x", shape=(2,)), tg.Parameter(np.ones((2, 3)), name="W"), name="z")
        >>> [s.name for s in z.scalars([(2,), (2, 3)])][:3]
        ['x[0]·W[0,0]', 'x[1]·W[1,0]', 'z[0]']
        """
        given: list[Any] = [*(values or ()), None, None, None]
        x, w, b = given[:3]
        names = [i.name for i in self.inputs]
        xn, wn, bn = names[0], names[1], names[2] if len(names) > 2 else None
        known, f, out = x is not None and w is not None, (lambda v: factor(number, v)), []
        to_x, to_w, to_b = [True, True, True] if needs is None else [*needs, False][:3]
        for j in [(j,) for j in range(shapes[1][1])] if len(shapes[1]) == 2 else [()]:
            d, dj, keys = None if grad_out is None else float(grad_out[j]), element("δ", j), []
            for i in range(shapes[0][0]):
                ij, xi, wij = (i,) + j, element(xn, (i,)), element(wn, (i,) + j)
                fwd: tuple[str, ...] = (f"= {f(x[i])} · {f(w[ij])}", f"{wij} = {number(w[ij])}") if known else ()
                back: tuple[str, ...] = ()
                if known and d is not None:
                    if to_w:
                        back = (f"∂E/∂{wij} = {xi}·{dj} = {f(x[i])} · {f(d)} = {number(x[i] * d)}",)  # x_i·δ_j
                    if to_x:
                        back += (f"to ∂E/∂{xi}: {wij}·{dj} = {f(w[ij])} · {f(d)} = {number(w[ij] * d)}",)  # w_ij·δ_j
                name, key = f"{xi}·{wij}", "p" + "_".join(map(str, ij))
                value_ij = float(x[i] * w[ij]) if known else None
                grad_name = f"∂E/∂({name}) = {dj}"
                out.append(Scalar(key, "product", name, value_ij, d, grad_name, fwd, back, ((0, (i,)),), ((1, ij),)))
                keys.append(key)
            zj, bj = element(self.name, j), element(bn, j) if bn else None
            lines: tuple[str, ...] = (
                f"= Σ_i {element(xn, ('i',))}·{element(wn, ('i',) + j)}" + (f" + {bj}" if bj else ""),
            )
            if known:
                terms = [f(x[i] * w[(i,) + j]) for i in range(shapes[0][0])]
                lines += (f"= {' + '.join(terms + ([f(b[j])] if bj and b is not None else []))}",)
                lines += (f"{bj} = {number(b[j])}",) if bj and b is not None else ()
            back = (f"∂E/∂{bj} = {dj} = {number(d)}",) if bj and d is not None and to_b else ()
            z_j = None if value is None else float(value[j])
            key = "s" + "_".join(map(str, j))
            shows = ((2, j),) if bj else ()
            out.append(Scalar(key, "sum", zj, z_j, d, f"{dj} = ∂E/∂{zj}", lines, back, (), shows, tuple(keys), j))
        return out


class AppendOne(Node):
    """x̃ = [x, 1] — the bias trick: a constant-1 input element whose weight is the bias.

    With ``z = x̃·w̃`` and ``w̃ = [w; b]``, ``z = x·w + b``.
    Derivative: ∂E/∂x = (∂E/∂x̃) without its last element (the constant has no input).

    Parameters
    ----------
    x : Node
        A vector of ``n`` features per sample.
    name : str, optional
        The node's name; by default ``append_one_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``x`` is not a vector per sample (when its shape is known).
    TypeError
        If ``x`` is not a Node.

    See Also
    --------
    WeightedSum : Takes x̃ with weights of ``n + 1`` rows, the last row the biases.

    Notes
    -----
    Shapes: x̃ is ``(n + 1,)`` per sample; a batch ``(batch, n)`` becomes ``(batch, n + 1)``.
    ``mlp(sizes, bias="input")`` builds its layers this way; the gradients and the training
    are the same as with a separate bias.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> x1 = tg.AppendOne(x, name="x1")
    >>> x1.shape
    (3,)
    >>> tg.Graph(x1).forward({"x": np.array([[2.0, 3.0], [4.0, 5.0]])})
    array([[2., 3., 1.],
           [4., 5., 1.]])
    """

    prefix = "append_one"
    layer_role = "bias input"
    formula = "x̃ = [x, 1]"
    formula_tex = r"\tilde{x} = [x, 1]"
    derivative = "∂x̃/∂x = I (the appended 1 is constant)"
    derivative_tex = r"\frac{\partial \tilde{x}}{\partial x} = I"
    gradients = {"x": "∂E/∂x̃ without its last element"}

    def __init__(self, x: Node, name: str | None = None) -> None:
        super().__init__(x, name=name)

    def infer_shape(self, x: tuple[int, ...]) -> tuple[int, ...]:
        if len(x) != 1:
            raise self.error(
                f"x '{self.inputs[0].name}' must be a vector of features per sample, got per-sample shape {x}"
            )
        return (x[0] + 1,)

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(x.shape[:-1] + (x.shape[-1] + 1,), dtype=x.dtype)
        out[..., :-1] = x
        out[..., -1] = 1
        return out

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        return (grad_out[..., :-1],)


class Softmax(Node):
    """y_k = e^(z_k) / Σ_j e^(z_j) over the last axis (the probabilities of the classes).

    Derivative: ∂y_k/∂z_j = y_k(δ_kj − y_j), so ∂E/∂z = y ⊙ (g − Σ_k g_k y_k).
    Stable: the row maximum is subtracted before exponentiating.

    Parameters
    ----------
    z : Node
        The class scores (logits): a vector per sample, or more axes, the classes last.
    name : str, optional
        The node's name; by default ``softmax_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``z`` is one number per sample (shape ``()``), when its shape is known.
    TypeError
        If ``z`` is not a Node.

    See Also
    --------
    SoftmaxCrossEntropy : The loss that takes the scores z themselves, more stably.

    Notes
    -----
    y has the shape of z, one sample or a batch; each row of y sums to 1.  Here δ_kj is
    Kronecker's delta (1 if k = j, else 0), not a layer's δ.

    Examples
    --------
    With E = y_0, so that g = [1, 0]: ∂E/∂z = y ⊙ (g − y_0) = [0.25·0.75, 0.75·(−0.25)].

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> z = tg.Parameter([0.0, np.log(3.0)], name="z")
    >>> y = tg.Softmax(z, name="y")
    >>> graph = tg.Graph(tg.Sum(tg.Slice(y, 0, 1, name="y0"), name="E"))
    >>> _ = graph.forward({})
    >>> np.round(y.value, 4)
    array([0.25, 0.75])
    >>> graph.backward()
    >>> np.round(z.grad, 4)
    array([ 0.1875, -0.1875])
    """

    prefix = "softmax"
    layer_role = "activation"
    formula = "y_k = e^(z_k) / Σ_j e^(z_j)"
    formula_tex = r"y_k = \frac{e^{z_k}}{\sum_j e^{z_j}}"
    derivative = "∂y_k/∂z_j = y_k(δ_kj − y_j)"
    derivative_tex = r"\frac{\partial y_k}{\partial z_j} = y_k(\delta_{kj} - y_j)"
    gradients = {"z": "y ⊙ (∂E/∂y − Σ_k ∂E/∂y_k y_k)"}

    def __init__(self, z: Node, name: str | None = None) -> None:
        super().__init__(z, name=name)

    def infer_shape(self, z: tuple[int, ...]) -> tuple[int, ...]:
        if len(z) < 1:
            raise self.error(f"needs a vector of scores per sample, got per-sample shape {z}")
        return z

    def forward(self, z: np.ndarray) -> np.ndarray:
        shifted = z - z.max(axis=-1, keepdims=True)
        e = np.exp(np.maximum(shifted, -exp_limit(z.dtype), out=shifted))  # (no underflow warning)
        e /= e.sum(axis=-1, keepdims=True)
        return e

    def backward(self, grad_out: np.ndarray) -> tuple[np.ndarray]:
        y = self.value
        return (y * (grad_out - (grad_out * y).sum(axis=-1, keepdims=True)),)
