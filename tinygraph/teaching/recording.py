"""Watching a network learn: snapshots taken while ``fit`` trains, for the replay page and the live view.

A Recording keeps its own copy of the graph.  Every snapshot copies the live parameters into that
copy and evaluates there (the loss over the training rows, the gradients, each layer's δ, the output
over a grid), so the graph being trained, its optimizer and fit's random numbers are never touched:
training is the same, bit for bit, with or without a recording.
"""

from __future__ import annotations

import copy
import math
from typing import Any, NamedTuple

import numpy as np

from ..checks import output_path, whole, write_text
from ..core import SGD, Graph, Node
from ..errors import GraphError
from ..training import loop
from .tracing import Trace, trace
from .watching import LiveView, in_notebook, replay_data

KEEP_WHOLE = 65_536  # numbers: a larger parameter is kept as a Summary in each snapshot
EVAL_ROWS = 1_000  # the most training rows a snapshot's loss and gradients are computed over


class Summary(NamedTuple):
    """What a snapshot keeps of a parameter too large to keep whole."""

    shape: tuple
    mean: float
    std: float
    min: float
    max: float
    norm: float


class Snapshot(NamedTuple):
    """The network at one moment of training.

    Attributes
    ----------
    step : int
        The updates taken before it: 0 is the network before training.
    epoch : float
        The epochs done: ``step`` divided by the steps of one epoch.
    loss : float
        The mean loss per sample over the training rows (``Recording.loss_rows`` of them) at
        these parameters.
    test_loss : float or None
        The same over the test data, when the Recording was given some.
    parameters : dict
        Each parameter's values by name: a copy, or a `Summary` when it has more than
        ``keep_whole`` numbers.
    grad_norms : dict
        ``‖∂E/∂p‖`` by parameter name, E being the mean loss over the training rows.
    delta_norms : dict
        For each WeightedSum node (a layer's ``z``) by name, the size of its δ = ∂E/∂z: the
        root mean square over the samples of each sample's ‖δ‖.
    grid : numpy.ndarray or None
        For 2-D inputs, the network's output over ``Recording.grid_axes``: shape ``(G, G, k)``,
        float32, ``grid[r, c]`` at x₁ = u[c], x₂ = v[r].
    """

    step: int
    epoch: float
    loss: float
    test_loss: float | None
    parameters: dict
    grad_norms: dict
    delta_norms: dict
    grid: np.ndarray | None


def schedule(first: int, last: int, every: Any, limit: int) -> list[int]:
    """Return the steps from ``first`` to ``last`` (both included) at which snapshots are taken.

    ``every="auto"`` takes every step while there are at most ``limit``; otherwise ``limit``
    steps spaced as the square of their count, dense early and sparse late (half of them in the
    first quarter).  A whole number takes the multiples of ``every`` (and the first and the last
    step), doubling ``every`` until there are at most ``limit``.

    Examples
    --------
    >>> schedule(0, 5, "auto", 200)
    [0, 1, 2, 3, 4, 5]
    >>> schedule(0, 1000, "auto", 6)
    [0, 40, 160, 360, 640, 1000]
    >>> schedule(0, 10, 4, 200)
    [0, 4, 8, 10]
    """
    total = last - first
    if every == "auto":
        if total + 1 <= limit:
            return list(range(first, last + 1))
        steps = [round(total * (k / (limit - 1)) ** 2) for k in range(limit)]
        for k in range(1, limit):  # at least one step apart, and room left for the rest
            steps[k] = max(steps[k], steps[k - 1] + 1)
        for k in range(limit - 1, -1, -1):
            steps[k] = min(steps[k], total - (limit - 1 - k))
        return [first + s for s in steps]

    def count(every: int) -> int:  # (how many there would be, counted before any list is made)
        multiples = max(0, last // every + (-first // every) + 1)
        return multiples + (first % every != 0) + (last != first and last % every != 0)

    while count(every) > limit:  # (ends, since past ``last`` only the two ends are left)
        every *= 2
    # the multiples of every between first and last (a resumed run keeps to them), and both ends
    return sorted({first, last, *range(-(-first // every) * every, last + 1, every)})


def _prediction(graph: Graph) -> Any:
    """Return the node whose value the network predicts: the graph's second output, else None."""
    return graph.outputs[1] if len(graph.outputs) > 1 else None


class Recording:
    """Snapshots of a network while it trains: pass it as ``fit(..., record=rec)``.

    Each snapshot (a `Snapshot`) holds the step and epoch, the training loss (and a test
    loss with ``test``), the parameters, the norm of each parameter's gradient and of each
    layer's δ, and for 2-D inputs the network's output over a grid covering the data.
    Recording never changes training: ``fit`` gives the same losses and parameters, bit for
    bit, with and without it (a snapshot is computed on the Recording's own copy of the graph).

    Parameters
    ----------
    every : "auto" or int, optional
        When to take snapshots.  ``"auto"`` (the default): dense early and sparse late,
        because most change happens early: every step while the run has at most
        ``max_snapshots`` steps, else steps spaced as the square of their count (half of
        the snapshots in the first quarter of the run).  A whole number: the steps that are
        its multiples (it is doubled until they are at most ``max_snapshots``).  The first
        (step 0, before any update) and the last step are always taken.
    max_snapshots : int, optional
        The most snapshots kept, at least 2; 200 by default.
    test : dict or tuple, optional
        Test data for a test loss per snapshot: a dict like fit's ``data``, or a pair
        ``(X, T)`` for the data's first and second Inputs (``net.fit``'s X and T).
    grid : int, optional
        Points a side of the grid the output is computed over, for 2-D inputs (40 by
        default).
    keep_whole : int, optional
        A parameter of more numbers than this is kept as a `Summary` (mean, std, min, max,
        norm) rather than whole; 65,536 by default.

    Attributes
    ----------
    snapshots : list of Snapshot
        The snapshots, oldest first.
    loss_rows : int
        How many training rows each snapshot's loss is over: all of them, or a fixed random
        1000 of a larger set.
    grid_axes : tuple of numpy.ndarray or None
        ``(u, v)``: the grid's x₁ and x₂ values, for 2-D inputs.

    Notes
    -----
    Memory: a snapshot holds about 8 bytes per parameter number kept whole (4 for float32)
    plus 4·G²·k bytes of grid for k outputs; the Recording also keeps its copy of the graph.
    A 64-32-10 network with 200 snapshots keeps about 6 MB (4 MB of it the parameters), far
    under 50 MB; no parameter costs more than ``keep_whole`` numbers a snapshot.  The
    training rows are referenced, not copied (at most 1000 of a larger set are).

    Time: a snapshot costs one forward and backward pass over the training rows (at most
    1000), a forward pass over the test rows and one over the G² grid points, whatever the
    length of the run: about
    2 ms for a 2-16-16-1 network on 300 points, so 200 snapshots add about half a second
    (``benchmarks/recording.py`` measures it).

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.xor()
    >>> net = tg.mlp([2, 2, 1], seed=0)
    >>> rec = tg.Recording(max_snapshots=50)
    >>> history = net.fit(X, T, epochs=100, lr=0.5, seed=0, record=rec)
    >>> len(rec), rec[0].step, rec[-1].step
    (50, 0, 400)
    >>> rec[-1].loss < rec[0].loss
    True
    """

    def __init__(
        self,
        every: Any = "auto",
        max_snapshots: int = 200,
        test: Any = None,
        grid: int = 40,
        keep_whole: int = KEEP_WHOLE,
    ) -> None:
        if every != "auto" or not isinstance(every, str):
            whole('Recording: every (or "auto")', every, low=1)
        self.every = every
        self.max_snapshots = whole("Recording: max_snapshots", max_snapshots, low=2)
        if test is not None and not isinstance(test, (dict, tuple)):
            raise TypeError(
                f"Recording: test must be a dict like fit's data or a pair (X, T), got {type(test).__name__}"
            )
        if isinstance(test, tuple) and len(test) != 2:
            raise GraphError(f"Recording: test as a tuple must be a pair (X, T), got {len(test)} items")
        self.test = test
        self.grid = whole("Recording: grid", grid, low=2, high=400)
        self.keep_whole = whole("Recording: keep_whole", keep_whole, low=1)
        self.snapshots: list[Snapshot] = []
        self.loss_rows = 0
        self.grid_axes: tuple | None = None
        self.why_no_grid = ""  # when grid_axes is None: why there is no grid
        self.grid_extent: tuple | None = None  # (x₁ from, to, x₂ from, to): the plane the grid's cells cover
        self.grid_input = ""  # the name of the Input the grid feeds
        self.planned = (0, 0)  # the first and last step of the run
        self.graph: Graph | None = None  # the Recording's own copy of the graph
        self.lr: float | None = None  # the run's learning rate, when it was plain SGD
        self.optimizer_text = ""  # what trained it, as the page says: "SGD η = 0.05, momentum 0.9"
        self.steps_per_epoch = 1
        self._todo: list[int] = []
        self._used = False
        self.columns: list = []  # fit's data, (Input, rows) pairs
        self.listeners: list = []  # called with the Recording after each snapshot (the live view)

    # -- what fit calls ---------------------------------------------------------------
    @classmethod
    def for_live(cls) -> Recording | None:
        """Return a new Recording for ``fit(live=True)`` in Jupyter; None elsewhere (nothing to show)."""
        return cls() if in_notebook() else None

    def start(self, graph: Graph, optimizer: Any, columns: list, steps_per_epoch: int, live: bool = False) -> None:
        """Check everything and make the copy the snapshots are computed on (``fit`` calls it).

        Changes nothing of ``graph`` or ``optimizer``.  ``columns`` is fit's data as
        (Input, rows) pairs.
        """
        if self._used:
            raise GraphError(
                f"fit: this Recording already holds a run ({len(self.snapshots)} snapshots); "
                "give each fit a new tg.Recording()"
            )
        clone = fresh_copy(graph)
        rows = len(columns[0][1])
        pick = slice(None) if rows <= EVAL_ROWS else np.sort(np.random.default_rng(0).choice(rows, EVAL_ROWS, False))
        self._train = {clone[node.name]: arr[pick] for node, arr in columns}
        self.columns = columns
        self._test = self._test_feed(clone, columns)
        self.loss_rows = len(next(iter(self._train.values())))
        self._mean = loop.averages_the_batch(clone.outputs[0])  # (as fit counts the loss per sample)
        self._grid_feed = self._grid(clone, columns)
        self.graph, self.steps_per_epoch = clone, steps_per_epoch
        plain = isinstance(optimizer, SGD) and not optimizer.momentum and not optimizer.weight_decay
        self.lr = optimizer.lr if plain else None
        self.optimizer_text = type(optimizer).__name__ + (
            f" η = {optimizer.lr:g}"
            + (f", momentum {optimizer.momentum:g}" if optimizer.momentum else "")
            + (f", weight decay {optimizer.weight_decay:g}" if optimizer.weight_decay else "")
            if isinstance(optimizer, SGD)
            else f" η = {optimizer.lr:g}"
            if hasattr(optimizer, "lr")
            else ""
        )
        self._live = graph.parameters()
        try:  # one snapshot's work, thrown away: a graph that cannot take it is refused before training
            self._measure(0)
        except GraphError as exc:
            raise GraphError(
                f"Recording: a snapshot computes the loss over the training rows as one batch of {self.loss_rows} "
                f"(and the output over a grid), which this graph cannot take: {exc}"
            ) from None
        if live and in_notebook():
            self.listeners = [LiveView(self)]

    def _test_feed(self, clone: Graph, columns: list) -> dict | None:
        if self.test is None:
            return None
        if isinstance(self.test, tuple):
            if len(columns) < 2:
                raise GraphError("Recording: test as a pair (X, T) needs data of two Inputs; give a dict")
            test = {node: arr for (node, _), arr in zip(columns, self.test)}
        else:
            test = self.test
        trained = {node.name: arr for node, arr in columns}
        named = {}
        for key, arr in test.items():  # a column of one number per sample, shaped like the training rows
            name = key.name if isinstance(key, Node) else key
            like = trained.get(name)
            if like is not None and np.ndim(arr) == 1 and like.ndim == 2 and like.shape[1] == 1:
                arr = np.reshape(arr, (-1, 1))
            named[name] = arr
        try:
            resolved, _ = loop.resolve_data(clone, named)
        except (GraphError, TypeError) as exc:
            raise type(exc)(f"Recording: test data: {str(exc).removeprefix('fit: ')}") from None
        return dict(resolved)

    def _grid(self, clone: Graph, columns: list) -> dict | None:
        out = _prediction(clone)
        if out is None:
            self.why_no_grid = "the graph has no second output to predict with (Graph(loss, output))"
            return None
        needed = Graph(out).inputs
        data = {node.name: arr for node, arr in columns}
        if len(needed) != 1 or needed[0].name not in data or data[needed[0].name].shape[1:] != (2,):
            shapes = ", ".join(f"'{i.name}' {data[i.name].shape[1:]}" for i in needed if i.name in data)
            self.why_no_grid = f"it is drawn for one Input of 2 features per sample, and '{out.name}' needs {shapes}"
            return None
        X = data[needed[0].name]
        low, high = X.min(axis=0), X.max(axis=0)
        pad = np.where(high > low, 0.1 * (high - low), 1.0)  # (a constant column: one either side)
        lo, hi = low - pad, high + pad
        self.grid_extent = (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))
        self.grid_input = needed[0].name
        # the centres of G × G cells covering the extent, as a picture of the cells draws them
        u, v = [lo[i] + (np.arange(self.grid) + 0.5) * (hi[i] - lo[i]) / self.grid for i in (0, 1)]
        self.grid_axes = (u, v)
        U, V = np.meshgrid(u, v)
        return {needed[0]: np.c_[U.ravel(), V.ravel()].astype(X.dtype)}

    def begin(self, first: int, last: int) -> None:
        """Plan the snapshots of steps ``first`` to ``last`` (fit calls it once it knows them)."""
        self._todo, self._used = schedule(first, last, self.every, self.max_snapshots)[::-1], True
        self.planned = (first, last)

    @property
    def next_step(self) -> int:
        """The step of the next snapshot (-1 when none is left)."""
        return self._todo[-1] if self._todo else -1

    def take(self, step: int) -> None:
        """Take the snapshot of ``step`` from the live parameters (``fit`` calls it)."""
        self._todo.pop()
        self.snapshots.append(self._measure(step))
        for listener in self.listeners:
            listener(self)

    def _measure(self, step: int) -> Snapshot:
        """Copy the live parameters into the copy of the graph, and compute a snapshot there."""
        clone = self.graph
        assert clone is not None
        params = clone.parameters()
        for mine, live in zip(params, self._live):
            if mine.value.shape == live.value.shape and mine.value.dtype == live.value.dtype:
                mine.value[...] = live.value  # (in place: the copy keeps running its fast path)
            else:  # the live array was replaced by one of another shape or dtype
                mine.value = np.array(live.value)
        loss = float(clone.forward(self._train))
        clone.backward()
        n = self.loss_rows
        per_sample = 1.0 if self._mean else 1.0 / n
        grads = {p.name: float(np.linalg.norm(p.grad)) * per_sample for p in params}
        deltas = {}
        for z in clone.nodes:
            if z.layer_role == "weighted sum" and z.grad is not None:
                g = np.asarray(z.grad, dtype=np.float64) * (n if self._mean else 1.0)
                deltas[z.name] = float(np.sqrt(np.sum(g * g) / n))
        test = None
        if self._test is not None:
            rows = len(next(iter(self._test.values())))
            test = float(clone.forward(self._test)) * (1.0 if self._mean else 1.0 / rows)
        grid = None
        if self._grid_feed is not None:
            values = np.asarray(clone.run(_prediction(clone), self._grid_feed))
            with np.errstate(over="ignore"):  # (beyond float32: inf, as it is)
                grid = values.astype(np.float32).reshape(self.grid, self.grid, -1)
        kept = {p.name: p.value.copy() if p.value.size <= self.keep_whole else _summary(p.value) for p in params}
        return Snapshot(step, step / self.steps_per_epoch, loss * per_sample, test, kept, grads, deltas, grid)

    # -- reading it -------------------------------------------------------------------
    def __len__(self) -> int:
        """Return the number of snapshots."""
        return len(self.snapshots)

    def __getitem__(self, k: int) -> Snapshot:
        """Snapshot ``k`` (negative counts from the end)."""
        return self.snapshots[k]

    def __iter__(self) -> Any:
        """Iterate over the snapshots, oldest first."""
        return iter(self.snapshots)

    def __repr__(self) -> str:
        """Return ``<Recording of N snapshots, steps a to b>``."""
        if not self.snapshots:
            return "<Recording, empty: pass it to fit(..., record=rec)>"
        return f"<Recording of {len(self)} snapshots, steps {self[0].step} to {self[-1].step}>"

    def index(self, k: Any, what: str = "Recording") -> int:
        """Return snapshot ``k`` as an index from 0, checked (negative counts from the end)."""
        if not self.snapshots:
            raise GraphError(f"{what}: the Recording has no snapshots yet; pass it to fit(..., record=rec) first")
        k = whole(f"{what}: k", k, low=-len(self), high=len(self) - 1)
        return k % len(self)

    def with_parameters(self, k: int) -> Graph:
        """Return a new copy of the graph holding snapshot ``k``'s parameters (the live graph is untouched).

        Raises
        ------
        tinygraph.GraphError
            If ``k`` is not a snapshot, or a parameter was kept only as a `Summary`.
        """
        k = self.index(k, "with_parameters")
        assert self.graph is not None
        graph = fresh_copy(self.graph)
        for p in graph.parameters():
            kept = self[k].parameters[p.name]
            if isinstance(kept, Summary):
                raise GraphError(
                    f"snapshot {k} kept Parameter '{p.name}' ({math.prod(kept.shape)} numbers) only as a "
                    f"summary; record with tg.Recording(keep_whole={math.prod(kept.shape)}) to keep it whole"
                )
            p.value[...] = kept
        return graph

    def trace_at(self, k: int, sample: Any = 0, precision: int = 4) -> Trace:
        """Return the step-by-step Trace of one sample under snapshot ``k``'s parameters.

        The live graph is not changed: the trace runs on a copy.  It shows the update too
        when the run's optimizer was plain SGD (its learning rate, no momentum or weight
        decay); otherwise it stops after the backward pass, since the optimizer's state
        is not recorded.

        Parameters
        ----------
        k : int
            The snapshot (negative counts from the end).
        sample : int or dict, optional
            A training row by its index (0 by default), or a feed dict as for ``tg.trace``.
        precision : int, optional
            Significant digits shown, as for ``tg.trace``.

        Returns
        -------
        Trace

        Raises
        ------
        tinygraph.GraphError
            If there is no snapshot ``k``, the sample is not a training row, or a parameter
            was kept only as a summary.
        """
        graph = self.with_parameters(k)
        if isinstance(sample, dict):  # (by name: the live graph's Inputs are not the copy's)
            feed = {key.name if isinstance(key, Node) else key: value for key, value in sample.items()}
        else:
            rows = len(self.columns[0][1])
            i = whole("trace_at: sample", sample, low=-rows, high=rows - 1)
            feed = {node.name: arr[i] for node, arr in self.columns}
        try:
            return trace(graph, feed, optimizer=None if self.lr is None else self.lr, precision=precision)
        except GraphError as exc:
            raise GraphError(f"trace_at: {exc}") from None

    def to_html(self, path: Any = None, traces: Any = None, sample: int = 0, title: str | None = None) -> str:
        """Write (or, without ``path``, return) the replay page: one offline HTML file.

        A slider and play/pause run over the snapshots (the arrow keys step one); the page
        shows the network view with each weight by colour and width, the loss curve with a
        cursor, for 2-D inputs the output over the plane with the data, a per-layer chart
        of gradient norms on a log scale, and the step-by-step traces of chosen snapshots.

        Parameters
        ----------
        path : str or os.PathLike, optional
            The file to write (folders above it are made); None returns the page.
        traces : list of int, optional
            The snapshots to trace one sample at; by default the first, the middle and the
            last, for graphs of at most 24 nodes (each trace draws the whole graph at every
            step, megabytes for a larger one: it then gets none, with a note).  ``[]`` for none.
        sample : int, optional
            The training row the traces follow (0 by default).
        title : str, optional
            The page's title.

        Returns
        -------
        str
            The path written, or, without ``path``, the page.

        Raises
        ------
        tinygraph.GraphError
            If the Recording is empty, a trace index is not a snapshot, or ``path`` cannot
            be written.
        """
        if path is not None:
            path = output_path("Recording.to_html", path)
        self.index(0, "Recording.to_html")
        rows = len(self.columns[0][1])
        sample = whole("Recording.to_html: sample", sample, low=-rows, high=rows - 1) % rows
        from .replay import page  # (the page's HTML and script: loaded when a page is written)

        html = page(replay_data(self, traces, sample, title))
        if path is None:
            return html
        return write_text(path, html)

    def _repr_html_(self) -> str:
        if not self.snapshots:
            return f"<pre>{repr(self)}</pre>"
        from .replay import widget

        return widget(replay_data(self, None, 0, None))


def fresh_copy(graph: Graph) -> Graph:
    """Return a new Graph, in evaluation mode, over copies of ``graph``'s nodes: their parameters and constants.

    (A deep copy of the graph itself would also copy its plans and the values and arrays of
    its last passes, which can be far larger than the network.)
    """
    leaves = {id(n.value) for n in graph.nodes if n.role in ("parameter", "constant")}
    memo: dict[int, Any] = {}
    for node in graph.nodes:
        kept = list((node.kept_now or {}).values())
        for array in (node.value, node.grad, *kept) if node.role not in ("parameter", "constant") else (node.grad,):
            if isinstance(array, np.ndarray) and id(array) not in leaves:
                memo[id(array)] = None  # (left out of the copy)
    return Graph(*copy.deepcopy(graph.outputs, memo)).eval()  # (the network as it is: no dropout)


def _summary(a: np.ndarray) -> Summary:
    return Summary(a.shape, float(a.mean()), float(a.std()), float(a.min()), float(a.max()), float(np.linalg.norm(a)))


loop.RECORDING.append(Recording)  # fit(live=True) makes one without importing teaching
