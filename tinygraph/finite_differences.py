"""Gradient checking: backpropagated gradients against central finite differences."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .checks import number, size, whole
from .checks import seed as seed_of
from .core import Graph, Input, Node, Parameter
from .errors import GraphError


@dataclass
class GradcheckRow:
    """How one node's backprop gradient compares with the numerical one.

    Attributes
    ----------
    name : str
        The node's name.
    kind : str
        The node's class name.
    shape : tuple of int
        The shape of the node's value (a batch axis included).
    max_abs_error : float
        The largest |analytic − numeric| over the elements.
    max_rel_error : float
        The largest |analytic − numeric| / max(|analytic|, |numeric|) (0 where both are 0).
    passed : bool
        Whether every element has |analytic − numeric| ≤ atol + rtol·|numeric|.
    analytic : numpy.ndarray
        The backprop gradient, in float64.
    numeric : numpy.ndarray
        The central differences, in float64.
    """

    name: str
    kind: str
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    passed: bool
    analytic: np.ndarray
    numeric: np.ndarray


class GradcheckReport:
    """The rows of a gradient check; true when every row passed.

    ``print(report)`` shows a table; ``report.rows`` holds the arrays compared.

    Parameters
    ----------
    rows : list of GradcheckRow
        One row per node checked.
    eps : float
        The step of the central differences.
    atol : float
        The absolute tolerance used.
    rtol : float
        The relative tolerance used.

    Attributes
    ----------
    rows : list of GradcheckRow
        The rows, in the order the nodes were checked; ``report["w"]`` finds one by name.

    See Also
    --------
    gradcheck, check_node : The checks that make a report.

    Notes
    -----
    A report with no rows checked nothing, and does not pass.
    """

    def __init__(self, rows: list[GradcheckRow], eps: float, atol: float, rtol: float) -> None:
        self.rows, self.eps, self.atol, self.rtol = rows, eps, atol, rtol

    @property
    def passed(self) -> bool:
        """Whether there are rows and every one of them passed."""
        return bool(self.rows) and all(r.passed for r in self.rows)  # nothing checked is no pass

    def __bool__(self) -> bool:
        """Return ``passed``."""
        return self.passed

    def __getitem__(self, name: str) -> GradcheckRow:
        """Return the row of the node called ``name`` (KeyError if none)."""
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def __str__(self) -> str:
        """Return the table: one line per row, then the verdict and the tolerances."""
        head = f"{'node':<16} {'kind':<11} {'shape':<12} {'max abs err':>12} {'max rel err':>12}  result"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(
                f"{r.name:<16} {r.kind:<11} {str(r.shape):<12} {r.max_abs_error:>12.2e} "
                f"{r.max_rel_error:>12.2e}  {'ok' if r.passed else 'FAIL'}"
            )
        verdict = "passed" if self.passed else "FAILED" if self.rows else "checked nothing:"
        lines.append(
            f"gradcheck {verdict} (central differences, eps={self.eps:g}, atol={self.atol:g}, rtol={self.rtol:g})"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Return the verdict in one line, with the largest absolute error."""
        worst = max((r.max_abs_error for r in self.rows), default=0.0)
        return (
            f"<GradcheckReport {'passed' if self.passed else 'FAILED'}: {len(self.rows)} nodes, "
            f"max abs error {worst:.2e}>"
        )


def _numeric(f: Callable[[], float], array: np.ndarray, eps: float) -> np.ndarray:
    """Return the central differences of the scalar f() with respect to every element of ``array``.

    Each element is nudged in place (any memory order) and restored exactly.
    """
    grad = np.zeros(array.shape, dtype=np.float64)
    for i in np.ndindex(array.shape):
        old = array[i]
        try:
            array[i] = old + eps
            up = f()
            array[i] = old - eps
            down = f()
        finally:  # (a pass that raises leaves no element nudged)
            array[i] = old
        grad[i] = (up - down) / (2 * eps)
    return grad


def _row(node: Node, analytic: Any, numeric: np.ndarray, atol: float, rtol: float) -> GradcheckRow:
    analytic = np.asarray(analytic, dtype=np.float64)
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = np.where(scale > 0, err / np.where(scale > 0, scale, 1), 0.0)
    return GradcheckRow(
        node.name,
        node.kind,
        np.shape(node.value),
        float(err.max(initial=0.0)),
        float(rel.max(initial=0.0)),
        bool(np.all(err <= atol + rtol * np.abs(numeric))),
        analytic,
        numeric,
    )


def _tolerances(eps: Any, atol: Any, rtol: Any, what: str) -> tuple[float, float, float]:
    return (
        number(f"{what}: eps", eps, low=0, strict="low"),
        number(f"{what}: atol", atol, low=0),
        number(f"{what}: rtol", rtol, low=0),
    )


def gradcheck(
    graph: Graph,
    feed: Any,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    inputs: bool = False,
    only: Any = None,
) -> GradcheckReport:
    """Compare every parameter's backprop gradient with central finite differences.

    Runs ``graph.forward(feed)`` and ``graph.backward()``, then nudges each element of each
    Parameter (and, with ``inputs=True``, of each fed Input) by ±eps and measures the
    change of the output.  Values are restored exactly; the graph is left holding the
    values and gradients of ``feed``.  ``only`` (names or nodes) limits the check to those
    nodes.  Returns a GradcheckReport.  Use float64 graphs: float32 finite differences are
    too coarse to judge (``check_node`` checks a node in float32 against float64 differences).

    Parameters
    ----------
    graph : Graph
        The graph to check; its first output must be a scalar (a loss).
    feed : dict
        What ``graph.forward`` is fed: each Input (the node or its name) to an array.
    eps : float, optional
        The step of the central differences (∂E/∂θ ≈ (E(θ + eps) − E(θ − eps)) / 2eps),
        greater than 0.
    atol : float, optional
        The absolute tolerance, ≥ 0: an element passes when |analytic − numeric| ≤
        atol + rtol·|numeric|.
    rtol : float, optional
        The relative tolerance, ≥ 0.
    inputs : bool, optional
        Also check the gradients of the fed Inputs (``backward(inputs=True)``).
    only : Node, str or list of them, optional
        Check only these nodes (by node or name); None (the default) checks them all.

    Returns
    -------
    GradcheckReport
        One row per Parameter (and Input) checked; true when every row passed.

    Raises
    ------
    TypeError
        If ``graph`` is not a Graph, a tolerance is not a number, or ``only`` is not a
        node, a name or a list of them.
    tinygraph.GraphError
        If ``eps`` is not positive, a tolerance is negative, ``only`` names a node the graph
        lacks, or the feed does not fit the graph.

    Notes
    -----
    It costs two forward passes per element checked: keep the graph and the feed small.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> w = tg.Parameter([0.5, -1.0], name="w")
    >>> b = tg.Parameter(0.0, name="b")
    >>> y = tg.Logistic(tg.WeightedSum(x, w, b, name="z"), name="y")
    >>> graph = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    >>> X, T = tg.datasets.xor()
    >>> from tinygraph import gradcheck
    >>> report = gradcheck(graph, {"x": X, "t": T})
    >>> report.passed
    True
    >>> print(report)
    node             kind        shape         max abs err  max rel err  result
    ---------------------------------------------------------------------------
    w                Parameter   (2,)          ...  ok
    b                Parameter   ()            ...  ok
    gradcheck passed (central differences, eps=1e-06, atol=1e-06, rtol=0.0001)
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"gradcheck: expected a Graph, got {type(graph).__name__}")
    eps, atol, rtol = _tolerances(eps, atol, rtol, "gradcheck")
    keep = None
    if only is not None:
        only = [only] if isinstance(only, (str, Node)) else list(only) if isinstance(only, (list, tuple, set)) else None
        if only is None or not all(isinstance(n, (str, Node)) for n in only):
            raise TypeError("gradcheck: only must be a node, a name or a list of them")
        keep = {n if isinstance(n, str) else n.name for n in only}
        unknown = sorted(k for k in keep if k not in graph)
        if unknown:
            raise GraphError(f"gradcheck: only names {unknown}, which are not nodes of this graph")
    graph.forward(feed)
    graph.backward(inputs=inputs)
    analytic = {p: p.grad.copy() for p in graph.parameters()}
    fed = {}
    if inputs:
        for inp in graph.inputs:
            if inp.grad is not None and (keep is None or inp.name in keep):
                fed[inp] = np.array(inp.value, dtype=np.float64, copy=True)
                analytic[inp] = inp.grad.copy()
    feed_by_node = {inp: feed[inp] if inp in feed else feed[inp.name] for inp in graph.inputs}
    rows = []
    for p in graph.parameters():
        if keep is None or p.name in keep:
            rows.append(_row(p, analytic[p], _numeric(lambda: float(graph.forward(feed)), p.value, eps), atol, rtol))
    for inp, arr in fed.items():
        local = {**feed_by_node, inp: arr}
        rows.append(_row(inp, analytic[inp], _numeric(lambda f=local: float(graph.forward(f)), arr, eps), atol, rtol))
    graph.forward(feed)
    graph.backward(inputs=inputs)
    return GradcheckReport(rows, eps, atol, rtol)


class _Projection(Node):
    """E = Σ r ⊙ y with a fixed random r, which turns any node into a scalar to check.  ∂E/∂y = r."""

    prefix = "projection"
    reduces_batch = True
    formula = "E = Σ r ⊙ y"
    derivative = "∂E/∂y = r"

    def __init__(self, y: Node, r: np.ndarray) -> None:
        self.r = r
        super().__init__(y, name="E")

    def infer_shape(self, y: tuple) -> tuple:
        return ()

    def forward(self, y: np.ndarray) -> Any:
        if y.shape != self.r.shape:
            raise self.error(f"expected shape {self.r.shape}, got {y.shape}")
        return (self.r.astype(y.dtype) * y).sum()

    def backward(self, grad_out: np.ndarray) -> tuple:
        return (grad_out * self.r.astype(grad_out.dtype),)


def _probe(node: Any, values: list[np.ndarray], batched: tuple, r: np.ndarray | None) -> tuple:
    """Build the node on ``values`` (Inputs for ``batched``, Parameters otherwise) and project it."""
    nodes, feed = [], {}
    for i, value in enumerate(values):
        if i in batched:
            n = Input(f"in{i}", shape=value.shape[1:])
            feed[n] = value
        else:
            n = Parameter(value, name=f"in{i}")
        nodes.append(n)
    out = node(*nodes)
    if not isinstance(out, Node):
        raise TypeError(f"check_node: the factory must return a Node, got {type(out).__name__}")
    if r is None:
        Graph(out).forward(feed)
        r = np.random.default_rng(len(values)).normal(size=np.shape(out.value))
    dtype = Parameter(np.zeros((), values[0].dtype), name="dtype")  # (the graph computes in it)
    return Graph(_Projection(out, r), dtype), feed, out, r


def _indices(what: str, indices: Any, n: int) -> None:
    """Refuse an index in ``indices`` that is no input's (check_node's ``batched`` and ``wrt``)."""
    wrong = [i for i in indices if not 0 <= i < n]
    if wrong:
        raise GraphError(f"check_node: {what} holds {wrong[0]}, which is no input's index (0..{n - 1})")


def check_node(
    node: Any,
    input_shapes: Any,
    batched: Any = (),
    wrt: Any = None,
    seed: int = 0,
    eps: float = 1e-6,
    atol: float = 1e-6,
    rtol: float = 1e-4,
    dtype: Any = np.float64,
) -> GradcheckReport:
    """Check one node type's backward against finite differences.

    ``node`` is a node class or a factory ``lambda *inputs: MyNode(*inputs, ...)``;
    ``input_shapes`` gives each input's shape — or an array to use as its value (for inputs
    that must stay in a range, like probabilities).  Inputs listed in ``batched`` carry a
    leading batch axis (their shape includes it) and are fed as data; the others are
    Parameters.  ``wrt`` limits the check to those input indices (e.g. leave out class-index
    targets).  The node's output is reduced to a scalar by a fixed random projection, so
    every output element matters.  With ``dtype=np.float32`` the node runs in float32 (its
    value and gradients must stay float32) and its gradients are compared, to float32's
    precision, with finite differences of the same node in float64.

    Parameters
    ----------
    node : type or callable
        A Node class, called with one node per input, or a factory of nodes such as
        ``lambda z: tg.Scale(z, 2.0)``.
    input_shapes : list of tuple or numpy.ndarray
        Per input, its whole shape (values drawn uniformly from [−2, 2)) or the array to
        use as its value.
    batched : int or tuple of int, optional
        The indices of the inputs that carry a leading batch axis; they are fed as Inputs
        (and checked with ``inputs=True``).  The others are Parameters.
    wrt : tuple of int, optional
        Check only these inputs; None (the default) checks them all.
    seed : int, optional
        Seeds the random input values.
    eps : float, optional
        As for ``gradcheck``.
    atol : float, optional
        As for ``gradcheck``; in float32 raised to about 1.4e-3.
    rtol : float, optional
        As for ``gradcheck``; in float32 raised to about 1.4e-3.
    dtype : numpy dtype, optional
        The float type the node runs in, float64 by default.

    Returns
    -------
    GradcheckReport
        One row per input checked, named ``in0``, ``in1``, … by index.

    Raises
    ------
    TypeError
        If ``node`` is neither a Node class nor callable, its factory returns no Node,
        ``input_shapes`` is not a list of shapes or arrays, or ``batched``, ``wrt``,
        ``seed`` or ``dtype`` are of the wrong type.
    tinygraph.GraphError
        If an index in ``batched`` or ``wrt`` is no input's, a batched input has no axis,
        a shape holds more than 10⁸ numbers, ``dtype`` is not a float type, the node
        returns no gradient for an input checked, or in float32 its value or a gradient
        is not float32.

    See Also
    --------
    gradcheck : The same check on a whole graph.

    Examples
    --------
    >>> import numpy as np
    >>> from tinygraph import Tanh, check_node
    >>> check_node(Tanh, [(4, 3)], batched=(0,)).passed
    True

    A layer's weighted sum on a batch of five rows, and a loss whose class-index
    targets have no gradient to check:

    >>> import tinygraph as tg
    >>> print(check_node(tg.WeightedSum, [(5, 3), (3, 2), (2,)], batched=(0,)))
    node             kind        shape         max abs err  max rel err  result
    ---------------------------------------------------------------------------
    in1              Parameter   (3, 2)        ...  ok
    in2              Parameter   (2,)          ...  ok
    in0              Input       (5, 3)        ...  ok
    gradcheck passed (central differences, eps=1e-06, atol=1e-06, rtol=0.0001)
    >>> targets = np.array([0.0, 2.0, 1.0, 1.0])
    >>> check_node(tg.SoftmaxCrossEntropy, [(4, 3), targets], batched=(0, 1), wrt=(0,)).passed
    True
    """
    if isinstance(batched, (int, np.integer)) and not isinstance(batched, bool):
        batched = (batched,)
    if not isinstance(batched, (tuple, list)) or not all(isinstance(i, (int, np.integer)) for i in batched):
        raise TypeError(f"check_node: batched must be a tuple of input indices, got {batched!r}")
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"check_node: dtype must be a float type, got {dtype!r}") from None
    if dtype.kind != "f":
        raise GraphError(f"check_node: dtype must be a float type, got {dtype}")
    if not isinstance(input_shapes, (list, tuple)):
        raise TypeError(
            f"check_node: input_shapes must be a list of shapes or arrays, got {type(input_shapes).__name__}"
        )
    if not (isinstance(node, type) and issubclass(node, Node)) and (isinstance(node, type) or not callable(node)):
        raise TypeError(f"check_node: node must be a Node class or a factory of nodes, got {node!r}")
    for i, spec in enumerate(input_shapes):
        if not isinstance(spec, np.ndarray):
            if not isinstance(spec, (tuple, list)):
                raise TypeError(f"check_node: input_shapes[{i}] must be a shape (a tuple) or an array, got {spec!r}")
            size(f"check_node: input_shapes[{i}]", tuple(whole(f"check_node: input_shapes[{i}]", n) for n in spec))
    _indices("batched", batched, len(input_shapes))
    if wrt is not None:
        if not isinstance(wrt, (tuple, list)) or not all(isinstance(i, (int, np.integer)) for i in wrt):
            raise TypeError(f"check_node: wrt must be a tuple of input indices or None, got {wrt!r}")
        _indices("wrt", wrt, len(input_shapes))
    rng = np.random.default_rng(seed_of("check_node: seed", seed))
    values = []
    for i, spec in enumerate(input_shapes):
        value = (
            np.array(spec, dtype=np.float64)
            if isinstance(spec, np.ndarray)
            else rng.uniform(-2.0, 2.0, size=tuple(spec))
        )
        if i in batched and value.ndim < 1:
            raise GraphError(f"check_node: input {i} is batched but its shape {value.shape} has no batch axis")
        values.append(value)
    keep = {f"in{i}" for i in (range(len(values)) if wrt is None else wrt)}
    graph, feed, out, r = _probe(node, values, tuple(batched), None)
    report = gradcheck(graph, feed, eps=eps, atol=atol, rtol=rtol, inputs=bool(batched), only=keep)
    missing = keep - {row.name for row in report.rows}
    if missing:
        raise GraphError(f"check_node: {out.kind} returned no gradient for input(s) {sorted(missing)}")
    if dtype == np.float64:
        return report
    low, feed, out, _ = _probe(node, [v.astype(dtype) for v in values], tuple(batched), r)
    low.forward(feed)
    low.backward(inputs=bool(batched))
    if np.asarray(out.value).dtype != dtype:
        raise GraphError(f"check_node: {out.kind}'s value is {np.asarray(out.value).dtype} for {dtype} inputs")
    rows = []
    fine = 4 * float(np.finfo(dtype).eps) ** 0.5  # float32: about 1.4e-3
    for row in report.rows:
        n = low[row.name]
        if n.grad is None or n.grad.dtype != dtype:
            got = "none" if n.grad is None else n.grad.dtype
            raise GraphError(f"check_node: {out.kind}'s gradient for '{row.name}' is {got} in a {dtype} pass")
        rows.append(_row(n, n.grad, row.numeric, max(atol, fine), max(rtol, fine)))
    return GradcheckReport(rows, eps, max(atol, fine), max(rtol, fine))
