"""Loss nodes: a scalar error E from a prediction and a target.

Every loss sums over the output units of a sample and, for a batch, averages over its
rows (``reduction="mean"``; ``"sum"`` adds them).  For one sample both reductions give
exactly the single-sample formula.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import GraphError
from .activations import exp_limit
from .node import Node, describe, kept

REDUCTIONS = ("mean", "sum")


class Loss(Node):
    """What every loss shares: a prediction and a target, and the reduction over a batch.

    A loss is one number E: summed over the output units of a sample and, for a batch,
    averaged over its rows (``reduction="mean"``) or added (``"sum"``).  For one sample
    both reductions give exactly the single-sample formula.

    Parameters
    ----------
    prediction : Node
        What the network computes (o, p or z in the formulas of the subclasses).
    target : Node
        What it should have computed (t), usually an Input.
    reduction : {"mean", "sum"}, optional
        How the per-sample losses of a batch are combined; "mean" by default.
    name : str, optional
        The node's name; by default ``loss_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``reduction`` is neither "mean" nor "sum"; if prediction and target differ in
        their per-sample shapes (when they are known; an Input target of shape ``()`` beside
        a ``(1,)`` prediction, or the reverse, gets a hint); or if one of them is a batch
        and the other a single sample.
    TypeError
        If ``prediction`` or ``target`` is not a Node.

    See Also
    --------
    SquaredLoss, LogLoss, SoftmaxCrossEntropy : The losses of the package.

    Notes
    -----
    Shapes: prediction and target have the same per-sample shape (for
    ``SoftmaxCrossEntropy`` the target may also be class indices), and either both carry
    the batch axis or neither does.  E has shape ``()`` in either case.  A single-neuron
    output, per-sample shape ``()``, wants targets of shape ``()`` too: for a batch a flat
    ``(batch,)`` array (``T``), not a column; a ``(1,)`` output wants a column
    (``T[:, None]``).

    A subclass states ``forward``, ``backward``, its text and ``gradient_terms`` (for the
    trace, per input symbol: its gradient for one sample); it reads ``self.mean_scale()``
    in ``forward``.
    """

    prefix = "loss"
    role = "loss"
    reduces_batch = True
    rows: int | None = None  # the batch size of the prediction in this pass (None: one sample)
    scale = 1.0  # this pass's factor: 1/rows for the mean over a batch, else 1
    gradient_terms: dict[str, str] = {}  # per input symbol: its gradient, for one sample

    def __init__(self, prediction: Node, target: Node, reduction: str = "mean", name: str | None = None) -> None:
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise GraphError(f"{describe(type(self), name)}: reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self._reduction = reduction
        super().__init__(prediction, target, name=name)

    @property
    def reduction(self) -> str:
        """How a batch's per-sample losses are combined: their "mean" or their "sum".

        It may be changed between passes (it is read at every pass); setting anything else
        raises a GraphError.
        """
        return self._reduction

    @reduction.setter
    def reduction(self, reduction: str) -> None:
        if not isinstance(reduction, str) or reduction not in REDUCTIONS:
            raise self.error(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self._reduction = reduction

    def infer_shape(self, p: tuple[int, ...], t: tuple[int, ...]) -> tuple[int, ...]:
        if p != t:
            hint = ""
            if self.inputs[1].role == "input" and {p, t} == {(1,), ()}:
                hint = f"; declare the target as Input('{self.inputs[1].name}', shape={p})"
            raise self.error(
                f"prediction '{self.inputs[0].name}' has per-sample shape {p} but "
                f"target '{self.inputs[1].name}' has {t}{hint}"
            )
        return ()

    def prepare(self, p: tuple, t: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        if batched[0] != batched[1]:
            raise self.error(
                f"prediction '{self.inputs[0].name}' has shape {p} but target "
                f"'{self.inputs[1].name}' has shape {t}: both need one row per sample"
            )
        return {"rows": p[0] if batched[0] else None}

    @property
    def gradients(self) -> dict[str, str]:
        """How each input's gradient is formed, for the trace (with the 1/batch of a mean)."""
        note = f" / {self.rows} (the mean over the batch)" if self.scale != 1.0 else ""
        return {symbol: text + note for symbol, text in self.gradient_terms.items()}

    def mean_scale(self) -> float:
        """Return this pass's factor: 1/rows for a batch averaged over its rows, else 1.

        ``reduction`` is read at every pass, so a change between passes is followed.

        Returns
        -------
        float
            1/rows with ``reduction="mean"`` and a batch of ``rows`` rows; 1.0 otherwise.

        Raises
        ------
        tinygraph.GraphError
            If ``reduction`` has been set to something other than "mean" or "sum".
        """
        if self.reduction not in REDUCTIONS:
            raise self.error(f"reduction must be one of {REDUCTIONS}, got {self.reduction!r}")
        return 1.0 / self.rows if self.rows and self.reduction == "mean" else 1.0


class SquaredLoss(Loss):
    """E = ½ Σ_k (o_k − t_k)² — squared error, summed over the output units.

    Derivatives: ∂E/∂o = o − t,  ∂E/∂t = −(o − t)   (times 1/batch for a mean).

    Parameters
    ----------
    prediction : Node
        The output o, of any per-sample shape.
    target : Node
        The target t, of the same per-sample shape.
    reduction : {"mean", "sum"}, optional
        The mean (default) or the sum over the rows of a batch.
    name : str, optional
        The node's name; by default ``loss_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``reduction`` is neither "mean" nor "sum", or the shapes do not fit (see ``Loss``).
    TypeError
        If ``prediction`` or ``target`` is not a Node.

    Notes
    -----
    With a logistic output o = σ(z), ∂E/∂z = (o − t) o (1 − o): the output δ of the
    classic derivation.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> o = tg.Parameter([0.8, 0.2], name="o")
    >>> t = tg.Input("t", shape=(2,))
    >>> graph = tg.Graph(tg.SquaredLoss(o, t, name="E"))
    >>> round(float(graph.forward({"t": np.array([1.0, 0.0])})), 6)  # ½(0.2² + 0.2²)
    0.04
    >>> graph.backward()
    >>> np.round(o.grad, 6)  # o − t
    array([-0.2,  0.2])

    For a batch the mean over the rows, or with ``reduction="sum"`` their sum:

    >>> x = tg.Input("x", shape=(2,))
    >>> E = tg.SquaredLoss(x, t, name="E")
    >>> feed = {"x": np.array([[1.0, 0.0], [0.0, 0.0]]), "t": np.zeros((2, 2))}
    >>> float(tg.Graph(E).forward(feed))  # (½ + 0) / 2
    0.25
    >>> E.reduction = "sum"
    >>> float(tg.Graph(E).forward(feed))
    0.5
    """

    formula = "E = ½ Σ_k (o_k − t_k)²"
    formula_tex = r"E = \tfrac{1}{2} \sum_k (o_k - t_k)^2"
    derivative = "∂E/∂o = o − t"
    derivative_tex = r"\frac{\partial E}{\partial o} = o - t"
    gradient_terms = {"o": "(o − t)", "t": "−(o − t)"}
    diff_out = grad_o = None

    def prepare(self, o: tuple, t: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        return dict(super().prepare(o, t, dtype=dtype, batched=batched), diff_out=kept(o, dtype), grad_o=kept(o, dtype))

    def forward(self, o: np.ndarray, t: np.ndarray) -> Any:
        self.scale = self.mean_scale()
        d = self.diff = np.subtract(o, t, out=self.diff_out)  # o − t, kept for backward
        return 0.5 * self.scale * np.vdot(d, d)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        g = grad_out if self.scale == 1.0 else grad_out * self.scale
        grad_o = np.multiply(self.diff, g, out=self.grad_o)  # g · (o − t)
        return grad_o, (-grad_o if self.needs[1] else None)

    def local(self) -> np.ndarray:
        """Return the local derivative ∂E/∂o = o − t of the last forward pass (before any 1/batch)."""
        return self.diff

    def lines(self, number: Any) -> list[str] | None:
        """E = ½(o_0 − t_0)² + … = E, for one sample of a few numbers.

        Parameters
        ----------
        number : callable
            Formats one number (the trace's precision).

        Returns
        -------
        list of str or None
            The formula with the last forward pass's numbers put in, as one line; None for a
            batch or more than 4 output units.
        """
        o, t = self.inputs[0].value, self.inputs[1].value
        if self.rows is not None or np.size(o) > 4:
            return None
        terms = " + ".join(
            f"½({number(a)} − {number(b) if b >= 0 else f'({number(b)})'})²" for a, b in zip(np.ravel(o), np.ravel(t))
        )
        return [f"{self.name} = {terms} = {number(self.value)}"]


class LogLoss(Loss):
    """E = −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)] — binary cross-entropy on probabilities.

    Derivatives: ∂E/∂p = (p − t) / (p(1 − p)),  ∂E/∂t = log(1 − p) − log p.
    ``p`` is clipped to [ε, 1 − ε] (ε the dtype's machine epsilon) so saturated
    probabilities give finite values and gradients.

    Parameters
    ----------
    prediction : Node
        The probabilities p, each in [0, 1] (a ``Logistic`` output), of any per-sample shape.
    target : Node
        The targets t, 0 or 1 (or probabilities), of the same per-sample shape.
    reduction : {"mean", "sum"}, optional
        The mean (default) or the sum over the rows of a batch.
    name : str, optional
        The node's name; by default ``loss_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``reduction`` is neither "mean" nor "sum", or the shapes do not fit (see ``Loss``).
    TypeError
        If ``prediction`` or ``target`` is not a Node.

    Notes
    -----
    With p = σ(z) the chain rule gives ∂E/∂z = p − t: the σ'(z) = p(1 − p) of the logistic
    cancels the denominator.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> p = tg.Parameter([0.5], name="p")
    >>> t = tg.Input("t", shape=(1,))
    >>> graph = tg.Graph(tg.LogLoss(p, t, name="E"))
    >>> round(float(graph.forward({"t": np.array([1.0])})), 4)  # −log 0.5
    0.6931
    >>> graph.backward()
    >>> p.grad  # (0.5 − 1) / (0.5 · 0.5)
    array([-2.])
    """

    formula = "E = −Σ_k [t_k log p_k + (1 − t_k) log(1 − p_k)]"
    formula_tex = r"E = -\sum_k \left[t_k \log p_k + (1 - t_k)\log(1 - p_k)\right]"
    derivative = "∂E/∂p = (p − t) / (p(1 − p))"
    derivative_tex = r"\frac{\partial E}{\partial p} = \frac{p - t}{p(1 - p)}"
    gradient_terms = {"p": "(p − t) / (p(1 − p))", "t": "log(1 − p) − log p"}

    def forward(self, p: np.ndarray, t: np.ndarray) -> Any:
        self.scale, self.t = self.mean_scale(), t
        eps = np.finfo(p.dtype).eps
        self.p = np.clip(p, eps, 1.0 - eps)
        self.log_p, self.log_q = np.log(self.p), np.log1p(-self.p)
        return np.asarray(self.scale * -(t * self.log_p + (1.0 - t) * self.log_q).sum(), p.dtype)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        g = grad_out * self.scale
        grad_p = g * (self.p - self.t) / (self.p * (1.0 - self.p))
        grad_t = g * (self.log_q - self.log_p) if self.needs[1] else None
        return grad_p, grad_t


class SoftmaxCrossEntropy(Loss):
    """E = −Σ_k t_k log softmax(z)_k — cross-entropy of class scores (logits) ``z``.

    ``target`` is either the class index per sample (shape of ``z`` without its last
    axis) or one-hot/probability rows of the same shape as ``z``.

    Derivatives: ∂E/∂z = softmax(z)·Σ_k t_k − t, which is softmax(z) − t for one-hot rows
    and class indices;  ∂E/∂t = −log softmax(z) (one-hot or probability targets; class
    indices are not differentiable and get no gradient).  Stable for huge logits:
    log-softmax is computed as z − max − log Σ e^(z − max).

    Parameters
    ----------
    prediction : Node
        The class scores z, a vector per sample (not probabilities: the softmax is taken
        here).
    target : Node
        The class index of each sample (per-sample shape ``()`` for a vector z), or one-hot
        or probability rows shaped like z.
    reduction : {"mean", "sum"}, optional
        The mean (default) or the sum over the rows of a batch.
    name : str, optional
        The node's name; by default ``loss_<n>``.

    Raises
    ------
    tinygraph.GraphError
        If ``reduction`` is neither "mean" nor "sum"; if z is not a vector per sample or
        the target's shape is neither z's nor z's without its last axis; or, in the forward
        pass, if class indices are not whole numbers in 0 … k − 1 for k classes.
    TypeError
        If ``prediction`` or ``target`` is not a Node.

    See Also
    --------
    Softmax : The probabilities themselves, as a node.

    Notes
    -----
    Whether the target holds indices is decided from its shape: per-sample shape z[:-1]
    means indices (``datasets.digits`` gives them as ``T``), z's own shape means rows
    (``datasets.one_hot(T)``).

    Examples
    --------
    Three classes, the right one (index 2) with the score ln 2, the others 0: softmax(z) =
    [¼, ¼, ½].

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> z = tg.Parameter([0.0, 0.0, np.log(2.0)], name="z")
    >>> t = tg.Input("t", shape=())
    >>> graph = tg.Graph(tg.SoftmaxCrossEntropy(z, t, name="E"))
    >>> round(float(graph.forward({"t": np.array(2.0)})), 4)  # −log ½
    0.6931
    >>> graph.backward()
    >>> np.round(z.grad, 4)  # softmax(z) − t
    array([ 0.25,  0.25, -0.5 ])
    """

    formula = "E = −Σ_k t_k log softmax(z)_k"
    formula_tex = r"E = -\sum_k t_k \log \mathrm{softmax}(z)_k"
    derivative = "∂E/∂z = softmax(z) − t"
    derivative_tex = r"\frac{\partial E}{\partial z} = \mathrm{softmax}(z) - t"
    gradient_terms = {"z": "softmax(z) − t", "t": "−log softmax(z)"}
    no_gradient_for = (1,)  # class indices
    indices = False

    def infer_shape(self, z: tuple[int, ...], t: tuple[int, ...]) -> tuple[int, ...]:
        if len(z) < 1:
            raise self.error(
                f"logits '{self.inputs[0].name}' need a vector of class scores per sample, got per-sample shape {z}"
            )
        if t not in (z, z[:-1]):
            raise self.error(
                f"target '{self.inputs[1].name}' must be class indices (per-sample "
                f"shape {z[:-1]}) or one-hot rows (per-sample shape {z}), got {t}"
            )
        return ()

    def prepare(self, z: tuple, t: tuple, *, dtype: Any, batched: tuple[bool, ...]) -> dict:
        return dict(super().prepare(z, t, dtype=dtype, batched=batched), indices=t == z[:-1])

    def forward(self, z: np.ndarray, t: np.ndarray) -> Any:
        self.scale = self.mean_scale()
        shifted = z - z.max(axis=-1, keepdims=True)
        floor = -exp_limit(z.dtype)  # e^floor is negligible and does not underflow
        self.log_p = shifted - np.log(np.exp(np.maximum(shifted, floor)).sum(axis=-1, keepdims=True))
        self.p = np.exp(np.maximum(self.log_p, floor))
        if self.indices:
            k, idx = z.shape[-1], t.astype(np.intp)
            if np.any(idx != t) or np.any(idx < 0) or np.any(idx >= k):
                raise self.error(
                    f"target '{self.inputs[1].name}' must hold class indices 0..{k - 1}, got values {np.unique(t)[:10]}"
                )
            self.onehot = np.zeros_like(z)
            np.put_along_axis(self.onehot, idx[..., None], 1.0, axis=-1)
        else:
            self.onehot = t
        return np.asarray(-self.scale * (self.onehot * self.log_p).sum(), dtype=z.dtype)

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        g, p, t = grad_out * self.scale, self.p, self.onehot
        grad_z = g * (p - t) if self.indices else g * (p * t.sum(axis=-1, keepdims=True) - t)
        grad_t = -g * self.log_p if self.needs[1] and not self.indices else None
        return grad_z, grad_t
