"""What a graph learns from what it is fed: the batch, every node's shape, kept in a Setup.

All of it belongs to the graph that was fed, never to the nodes: a node shared by two
graphs, or an Input reused with other feature sizes, behaves in each graph as if alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import GraphError
from .leaves import Input
from .node import Node, as_float_array

_MISSING = object()


class Setup:
    """What a graph knows about the passes of one plan with one set of shapes.

    The ``batch`` (or None); per node its ``shapes`` (one sample's), whether it is ``batched``,
    what it ``kept`` (``prepare``'s dict), its value's ``full`` shape; the ``runs``, unrolled
    ``code`` and ``enter`` of each plan; the leaves' ``args``.
    """

    def __init__(self, batch: int | None, shapes: dict, batched: dict, dtype: Any) -> None:
        self.batch, self.shapes, self.batched, self.dtype = batch, shapes, batched, dtype
        self.kept: dict[Node, dict] = {}
        self.full: dict[Node, tuple] = {}
        self.installs: list[tuple[Node, dict]] = []
        self.runs: dict[Any, int] = {}
        self.code: dict[Any, Any] = {}
        self.enter: dict[Any, Any] = {}
        self.loop_only: set = set()
        self.args: list[np.ndarray] = []
        self.seed: np.ndarray | None = None  # ∂E/∂E = 1 in the output's dtype
        self.mode: Any = None  # the graph's Mode, which the nodes that read it keep

    def whole(self, node: Node) -> tuple[int, ...] | None:
        """Return the shape a node's value must have in these passes (None: only its value can tell)."""
        shape = self.shapes.get(node)
        return None if shape is None else (self.batch,) + shape if self.batched[node] else shape

    def whole_of(self, node: Node) -> tuple[int, ...] | None:
        """Return the whole shape of a node's value as the first pass found it (or as it must be)."""
        return self.full.get(node) or self.whole(node)

    def __getstate__(self) -> dict:
        """Leave the unrolled code out of copies and pickles: it is bound to these nodes."""
        return dict(self.__dict__, code={}, enter={})


def read_feed(feed: Any, inputs: Sequence[Input], dtype: Any, names: Mapping[str, Node]) -> tuple[list, list]:
    """Return the array fed to each of ``inputs``, as ``dtype``, and their shapes.

    A feed that is not a mapping, lacks an Input, or holds a key that is no Input of the
    graph (or one Input twice) is a GraphError or TypeError naming what is wrong.
    """
    if type(feed) is not dict and not isinstance(feed, Mapping):
        raise TypeError(f"feed must be a dict mapping Input nodes or their names to arrays, got {type(feed).__name__}")
    arrays, shapes, get = [], [], feed.get
    for inp in inputs:
        value = get(inp.name, _MISSING)  # by name (the usual way) or by the node itself
        if value is _MISSING:
            value = get(inp, _MISSING)
            if value is _MISSING:
                given = ", ".join(k.name if isinstance(k, Node) else str(k) for k in feed)
                raise GraphError(f"feed is missing Input '{inp.name}' (it was given: {given or 'nothing'})")
        if type(value) is not np.ndarray or value.dtype is not dtype and value.dtype != dtype:
            value = as_float_array(value, f"feed for Input '{inp.name}'", dtype)
        arrays.append(value)
        shapes.append(value.shape)
    if len(feed) > len(inputs):
        _check_keys(feed, inputs, names)
    return arrays, shapes


def _check_keys(feed: Mapping, inputs: Sequence[Input], names: Mapping[str, Node]) -> None:
    wanted = {i.name for i in inputs}
    keys = []
    for key in feed:
        if isinstance(key, Node):
            if names.get(key.name) is not key:
                raise GraphError(f"feed has {key.kind} '{key.name}', which is not in this graph")
        elif not isinstance(key, str):
            raise TypeError(f"feed keys must be Input nodes or their names, got {key!r}")
        node = names.get(key if isinstance(key, str) else key.name)
        if node is None:
            listed = ", ".join(n.name for n in names.values() if isinstance(n, Input))
            raise GraphError(f"feed has '{key}', which names no node of this graph (its inputs: {listed})")
        if not isinstance(node, Input):
            raise GraphError(f"feed has {node.kind} '{node.name}': only Input nodes can be fed")
        keys.append(node.name)
    twice = sorted({k for k in keys if keys.count(k) > 1 and k in wanted})
    if twice:
        raise GraphError(f"feed gives Input '{twice[0]}' twice (as the node and by name)")


def shape_hint(declared: tuple[int, ...], got: tuple[int, ...]) -> str:
    """Return the fix for the two usual mix-ups of one number per sample, ``(n,)`` against ``(n, 1)``.

    ``declared`` is an Input's per-sample shape and ``got`` the shape of what it was fed (a batch):
    the hint starts with "; " and is empty when neither mix-up fits.
    """
    if declared == (1,) and len(got) == 1:
        return "; for one number per sample pass a column such as T[:, None], or declare shape=()"
    if declared == () and len(got) == 2 and got[1] == 1:
        return "; pass a flat array (.ravel()) or declare shape=(1,)"
    return ""


def sample_shapes(inputs: Sequence[Input], arrays: Sequence[np.ndarray]) -> tuple[dict, dict, Any]:
    """Decide the batch axis: ({Input: per-sample shape}, {Input: batched}, batch size or None)."""
    batch, batch_from, single = None, "", []  # (the name of the Input that set the batch)
    shapes, batched = {}, {}
    for inp, a in zip(inputs, arrays):
        declared = inp.shape
        if declared is not None:
            if a.shape == declared:
                is_batch = False
            elif a.ndim == len(declared) + 1 and a.shape[1:] == declared:
                is_batch = True
            else:
                rows = ", ".join(map(str, ("n",) + declared)) + ("," if not declared else "")  # (n,) like numpy
                raise GraphError(
                    f"Input '{inp.name}': expected shape {declared} (one sample) or "
                    f"({rows}) (a batch), got {a.shape}{shape_hint(declared, a.shape)}"
                )
        else:
            is_batch = a.ndim >= 2
        if is_batch:
            if batch is None:
                batch, batch_from = a.shape[0], inp.name
            elif a.shape[0] != batch:
                raise GraphError(
                    f"Input '{inp.name}' has {a.shape[0]} rows but Input "
                    f"'{batch_from}' has {batch}: batch sizes must match"
                )
            shapes[inp], batched[inp] = a.shape[1:], True
        else:
            single.append((inp, a))
            shapes[inp], batched[inp] = a.shape, False
    if batch is not None:
        if batch == 0:
            raise GraphError(f"Input '{batch_from}' is an empty batch (0 rows)")
        for inp, a in single:  # undeclared 1-D arrays beside a batch: one number per sample
            if inp.shape is not None or a.ndim != 1 or a.shape[0] != batch:
                raise GraphError(
                    f"Input '{inp.name}' has shape {a.shape}, which is not a batch of "
                    f"{batch} rows like Input '{batch_from}'"
                )
            shapes[inp], batched[inp] = (), True
    return shapes, batched, batch


def infer(nodes: Sequence[Node], shapes: dict, batched: dict) -> None:
    """Fill in the per-sample shape and the batch axis of every node, in order (raises first)."""
    for node in nodes:
        if node in shapes:
            continue
        if not node.inputs:  # a Parameter or a Constant
            shapes[node], batched[node] = node.value.shape, False
            continue
        in_shapes = [shapes[i] for i in node.inputs]
        shape = None if any(s is None for s in in_shapes) else node.infer_shape(*in_shapes)
        shapes[node] = None if shape is None else tuple(shape)
        batched[node] = not node.reduces_batch and any(batched[i] for i in node.inputs)


def setup_for(nodes: Sequence[Node], inputs: Sequence[Input], arrays: Sequence[np.ndarray], dtype: Any) -> Setup:
    """Make a new Setup for passes with these fed arrays: shapes checked before anything changes."""
    shapes, batched, batch = sample_shapes(inputs, arrays)
    infer(nodes, shapes, batched)
    return Setup(batch, shapes, batched, dtype)
