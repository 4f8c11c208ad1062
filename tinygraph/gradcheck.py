"""Gradient checking: backpropagated gradients against central finite differences."""

from dataclasses import dataclass

import numpy as np

from .errors import GraphError
from .graph import Graph
from .node import Input, Node, Parameter


@dataclass
class GradcheckRow:
    """How one node's backprop gradient compares with the numerical one."""

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
    """

    def __init__(self, rows, eps, atol, rtol):
        self.rows, self.eps, self.atol, self.rtol = rows, eps, atol, rtol

    @property
    def passed(self):
        return bool(self.rows) and all(r.passed for r in self.rows)  # nothing checked is no pass

    def __bool__(self):
        return self.passed

    def __getitem__(self, name):
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def __str__(self):
        head = f"{'node':<16} {'kind':<11} {'shape':<12} {'max abs err':>12} {'max rel err':>12}  result"
        lines = [head, "-" * len(head)]
        for r in self.rows:
            lines.append(f"{r.name:<16} {r.kind:<11} {str(r.shape):<12} {r.max_abs_error:>12.2e} "
                         f"{r.max_rel_error:>12.2e}  {'ok' if r.passed else 'FAIL'}")
        verdict = "passed" if self.passed else "FAILED" if self.rows else "checked nothing:"
        lines.append(f"gradcheck {verdict} (central differences, eps={self.eps:g}, "
                     f"atol={self.atol:g}, rtol={self.rtol:g})")
        return "\n".join(lines)

    def __repr__(self):
        worst = max((r.max_abs_error for r in self.rows), default=0.0)
        return f"<GradcheckReport {'passed' if self.passed else 'FAILED'}: {len(self.rows)} nodes, max abs error {worst:.2e}>"


def _numeric(f, array, eps):
    """Central differences of the scalar f() with respect to every element of ``array``."""
    grad = np.zeros(array.shape, dtype=np.float64)
    flat, gflat = array.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = f()
        flat[i] = old - eps
        down = f()
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def _row(node, analytic, numeric, atol, rtol):
    analytic = np.asarray(analytic, dtype=np.float64)
    err = np.abs(analytic - numeric)
    scale = np.maximum(np.abs(analytic), np.abs(numeric))
    rel = np.where(scale > 0, err / np.where(scale > 0, scale, 1), 0.0)
    return GradcheckRow(node.name, node.kind, node.value.shape,
                        float(err.max(initial=0.0)), float(rel.max(initial=0.0)),
                        bool(np.all(err <= atol + rtol * np.abs(numeric))), analytic, numeric)


def gradcheck(graph, feed, eps=1e-6, atol=1e-6, rtol=1e-4, inputs=False, only=None):
    """Compare every parameter's backprop gradient with central finite differences.

    Runs ``graph.forward(feed)`` and ``graph.backward()``, then nudges each element
    of each Parameter (and, with ``inputs=True``, of each fed Input) by ±eps and
    measures the change of the output.  Values are restored exactly; the graph is
    left holding the values and gradients of ``feed``.  ``only`` (names or nodes)
    limits the check to those nodes.  Returns a GradcheckReport.
    Use float64 graphs: float32 finite differences are too coarse to judge.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"gradcheck: expected a Graph, got {type(graph).__name__}")
    graph.forward(feed)
    graph.backward(inputs=inputs)
    analytic = {id(p): p.grad.copy() for p in graph.parameters()}
    fed = {}
    if inputs:
        for inp in graph.inputs:
            if inp.grad is not None:
                fed[inp] = np.array(inp.value, dtype=np.float64, copy=True)
                analytic[id(inp)] = inp.grad.copy()
    feed_by_node = {inp: feed[inp] if inp in feed else feed[inp.name] for inp in graph.inputs}
    if only is not None:
        only = [only] if isinstance(only, (str, Node)) else list(only)
        keep = {n if isinstance(n, str) else n.name for n in only}
        unknown = sorted(k for k in keep if k not in graph)
        if unknown:
            raise GraphError(f"gradcheck: only names {unknown}, which are not nodes of this graph")
        fed = {inp: arr for inp, arr in fed.items() if inp.name in keep}
    rows = []
    for p in graph.parameters():
        if only is not None and p.name not in keep:
            continue
        rows.append(_row(p, analytic[id(p)], _numeric(lambda: float(graph.forward(feed)), p.value, eps),
                         atol, rtol))
    for inp, arr in fed.items():
        local = dict(feed_by_node)
        local[inp] = arr
        rows.append(_row(inp, analytic[id(inp)], _numeric(lambda: float(graph.forward(local)), arr, eps),
                         atol, rtol))
    graph.forward(feed)
    graph.backward(inputs=inputs)
    return GradcheckReport(rows, eps, atol, rtol)


class _Projection(Node):
    """E = Σ r ⊙ y with a fixed random r: turns any node into a scalar to check.  ∂E/∂y = r."""

    prefix = "projection"

    def __init__(self, y, r):
        super().__init__(y, name="E")
        self.r = r

    def forward(self, y):
        if y.shape != self.r.shape:
            raise self.error(f"expected shape {self.r.shape}, got {y.shape}")
        return np.asarray((self.r * y).sum())

    def backward(self, grad_out):
        return (grad_out * self.r,)


def check_node(node, input_shapes, batched=(), wrt=None, seed=0, eps=1e-6, atol=1e-6, rtol=1e-4):
    """Check one node type's backward against finite differences.

    ``node`` is a node class or a factory ``lambda *inputs: MyNode(*inputs, ...)``;
    ``input_shapes`` gives each input's shape — or an array to use as its value
    (for inputs that must stay in a range, like probabilities).  Inputs listed in
    ``batched`` carry a leading batch axis (their shape includes it) and are fed as
    data; the others are Parameters.  ``wrt`` limits the check to those input
    indices (e.g. leave out class-index targets).  The node's output is reduced to
    a scalar by a fixed random projection, so every output element matters.

    >>> from tinygraph import Tanh
    >>> check_node(Tanh, [(4, 3)], batched=(0,)).passed
    True
    """
    if isinstance(batched, (int, np.integer)) and not isinstance(batched, bool):
        batched = (batched,)
    if not all(isinstance(i, (int, np.integer)) for i in batched):
        raise TypeError(f"check_node: batched must be a tuple of input indices, got {batched!r}")
    rng = np.random.default_rng(seed)
    nodes, feed = [], {}
    for i, spec in enumerate(input_shapes):
        value = np.asarray(spec, dtype=np.float64) if isinstance(spec, np.ndarray) else \
            rng.uniform(-2.0, 2.0, size=tuple(spec))
        if i in batched:
            if value.ndim < 1:
                raise GraphError(f"check_node: input {i} is batched but its shape {value.shape} has no batch axis")
            n = Input(f"in{i}", shape=value.shape[1:])
            feed[n] = value
        else:
            n = Parameter(value, name=f"in{i}")
        nodes.append(n)
    out = node(*nodes)
    if not isinstance(out, Node):
        raise TypeError(f"check_node: the factory must return a Node, got {type(out).__name__}")
    probe = Graph(out)
    probe.forward(feed)
    r = rng.normal(size=np.shape(out.value))
    graph = Graph(_Projection(out, r))
    keep = {f"in{i}" for i in (range(len(nodes)) if wrt is None else wrt)}
    report = gradcheck(graph, feed, eps=eps, atol=atol, rtol=rtol, inputs=bool(batched), only=keep)
    missing = keep - {r.name for r in report.rows}
    if missing:
        raise GraphError(f"check_node: {out.kind} returned no gradient for input(s) {sorted(missing)}")
    return report

