"""fit: the training loop — shuffle, forward, backward, step, one sample (or batch) at a time."""

import math

import numpy as np
from tqdm.auto import tqdm

from .errors import GraphError
from .graph import Graph
from .node import Input, as_float_array
from .optim import SGD

PROGRESS_MIN_STEPS = 20_000  # runs with at least this many steps show a progress bar


def _resolve_data(graph, data):
    if not isinstance(data, dict) or not data:
        raise GraphError("fit: data must be a non-empty dict mapping Input nodes (or their names) to arrays")
    resolved = []
    for key, arr in data.items():
        node = key if isinstance(key, Input) else graph[key] if isinstance(key, str) and key in graph else None
        if node is None or node not in graph or not isinstance(node, Input):
            name = getattr(key, "name", key)
            raise GraphError(f"fit: data key {name!r} is not an Input of this graph "
                             f"(its inputs: {', '.join(i.name for i in graph.inputs)})")
        arr = as_float_array(arr, f"fit: data for Input '{node.name}'", graph.dtype)
        if arr.ndim == 0:
            raise GraphError(f"fit: data for Input '{node.name}' must have one row per sample, got a scalar")
        resolved.append((node, arr))
    lengths = {node.name: len(arr) for node, arr in resolved}
    if len(set(lengths.values())) > 1:
        raise GraphError("fit: every data array needs the same number of samples, got "
                         + ", ".join(f"'{k}': {v}" for k, v in lengths.items()))
    n = next(iter(lengths.values()))
    if n == 0:
        raise GraphError("fit: the data is empty (0 samples)")
    missing = [i.name for i in graph.inputs if all(i is not node for node, _ in resolved)]
    if missing:
        raise GraphError(f"fit: data is missing Input '{missing[0]}'")
    return resolved, n


def fit(graph, data, optimizer, epochs=1, batch_size=1, shuffle=True, seed=None, progress=None,
        callback=None):
    """Train by stochastic gradient descent; return the mean loss of each epoch.

    ``data`` maps Input nodes (or names) to arrays with one row per sample.  Each
    epoch visits the samples in a fresh random order (``shuffle``, seeded by
    ``seed``) and, for every ``batch_size`` of them (1 by default: pure SGD, one
    sample at a time as in the derivation), runs forward, backward and
    ``optimizer.step()``.  ``optimizer`` is an SGD (or any object with ``step``),
    or a number used as the learning rate of a new SGD.  A progress bar (tqdm)
    appears on long runs; ``progress=False`` silences it, ``True`` forces it.
    ``callback(epoch, loss)``, if given, is called after every epoch (epochs count
    from 1).  Stops with a GraphError naming epoch and step if the loss becomes
    nan or inf, before that step changes any parameter.
    """
    if not isinstance(graph, Graph):
        graph = getattr(graph, "graph", None) if isinstance(getattr(graph, "graph", None), Graph) else None
        if graph is None:
            raise TypeError("fit: expected a tinygraph Graph (or a network with a .graph)")
    if isinstance(optimizer, (int, float)):
        optimizer = SGD(graph.parameters(), lr=optimizer)
    if not hasattr(optimizer, "step"):
        raise TypeError(f"fit: optimizer must have a step() method, got {type(optimizer).__name__}")
    for what, v in (("epochs", epochs), ("batch_size", batch_size)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise GraphError(f"fit: {what} must be a whole number >= 1, got {v!r}")
    columns, n = _resolve_data(graph, data)
    nodes = [node for node, _ in columns]
    arrays = [arr for _, arr in columns]
    rng = np.random.default_rng(seed)
    steps_per_epoch = math.ceil(n / batch_size)
    show = progress if progress is not None else epochs * steps_per_epoch >= PROGRESS_MIN_STEPS
    history = []
    loss_node = graph.outputs[0]
    with tqdm(total=epochs, disable=not show, unit="epoch", desc="fit") as bar:
        for epoch in range(epochs):
            order = rng.permutation(n) if shuffle else np.arange(n)
            total = 0.0
            for step in range(steps_per_epoch):
                if batch_size == 1:
                    i = order[step]
                    feed = {node: arr[i] for node, arr in zip(nodes, arrays)}
                    rows = 1
                else:
                    idx = order[step * batch_size:(step + 1) * batch_size]
                    feed = {node: arr[idx] for node, arr in zip(nodes, arrays)}
                    rows = len(idx)
                loss = float(graph.forward(feed))
                if not math.isfinite(loss):
                    raise GraphError(_nonfinite_message(graph, feed, epoch, step, loss_node))
                graph.backward()
                optimizer.step()
                total += loss * rows
            history.append(total / n)
            bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
            bar.update()
            if callback is not None:
                callback(epoch + 1, history[-1])
    return history


def _nonfinite_message(graph, feed, epoch, step, loss_node):
    culprit = f"loss '{loss_node.name}'"
    try:
        graph.forward(feed, check_finite=True)
    except GraphError as exc:
        culprit = str(exc)
    return (f"fit: the loss became non-finite at epoch {epoch + 1}, step {step + 1}; "
            f"the first bad value: {culprit}. Parameters are left as they were before this step; "
            "try a smaller learning rate")
