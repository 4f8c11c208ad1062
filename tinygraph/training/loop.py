"""The training loop, fit — shuffle, forward, backward, step, one sample (or batch) at a time."""

from __future__ import annotations

import contextlib
import json
import math
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ..checks import shown, takes_files
from ..core import Input, as_optimizer, graph_of
from ..core.node import as_float_array
from ..core.shapes import shape_hint
from ..errors import GraphError
from .files import json_of, name_problem, pack_optimizer_state, path_of, read_npz, unpack_optimizer_state, write_npz

PROGRESS_MIN_STEPS = 20_000  # runs with at least this many steps show a progress bar

# What fit(live=True) records with: tinygraph.teaching registers its Recording here (no import of it).
RECORDING: list = []


def resolve_data(graph, data):
    """Return fit's data as (Input, rows) pairs in the order given, and the number of rows, checked."""
    if not isinstance(data, dict) or not data:
        raise GraphError("fit: data must be a non-empty dict mapping Input nodes (or their names) to arrays")
    resolved = []
    for key, arr in data.items():
        node = key if isinstance(key, Input) else graph[key] if isinstance(key, str) and key in graph else None
        if node is None or node not in graph or not isinstance(node, Input):
            name = getattr(key, "name", key)
            raise GraphError(
                f"fit: data key {name!r} is not an Input of this graph "
                f"(its inputs: {', '.join(i.name for i in graph.inputs)})"
            )
        if any(node is seen for seen, _ in resolved):
            raise GraphError(f"fit: data gives Input '{node.name}' twice (by name and by node); give it once")
        arr = as_float_array(arr, f"fit: data for Input '{node.name}'", graph.dtype)
        if arr.ndim == 0:
            raise GraphError(f"fit: data for Input '{node.name}' must have one row per sample, got a scalar")
        if node.shape is not None and arr.shape[1:] != node.shape:
            raise GraphError(_rows_message(node, arr))
        resolved.append((node, arr))
    lengths = {node.name: len(arr) for node, arr in resolved}
    if len(set(lengths.values())) > 1:
        raise GraphError(
            "fit: every data array needs the same number of samples, got "
            + ", ".join(f"'{k}': {v}" for k, v in lengths.items())
        )
    n = next(iter(lengths.values()))
    if n == 0:
        raise GraphError("fit: the data is empty (0 samples)")
    missing = [i.name for i in graph.inputs if all(i is not node for node, _ in resolved)]
    if missing:
        raise GraphError(f"fit: data is missing Input '{missing[0]}'")
    return resolved, n


def _rows_message(node, arr):
    """Say what is wrong with data whose rows are not samples of the shape ``node`` declares."""
    rows = (len(arr), *node.shape)
    return (
        f"fit: Input '{node.name}': expected shape {node.shape} for each sample, so data of shape {rows} "
        f"for {len(arr)} samples, got {arr.shape}{shape_hint(node.shape, arr.shape)}"
    )


def _not_a_number(loss_node, value):
    """Say that fit minimises the graph's first output, which is not one number."""
    return GraphError(
        f"the graph's first output is what fit minimises, so it must be one number (a loss), but "
        f"{loss_node.kind} '{loss_node.name}' has shape {value.shape}; make a loss node (or Sum) the "
        "first output, e.g. Graph(E, o) rather than Graph(o, E)"
    )


def averages_the_batch(loss_node: Any) -> bool:
    """Tell whether a loss is the mean over its batch (``reduction="mean"``, or a node with no reduction) or the sum."""
    return getattr(loss_node, "reduction", "mean") == "mean"


@contextlib.contextmanager
def in_mode(graph: Any, training: bool) -> Iterator[None]:
    """Run the block with ``graph`` in training (or evaluation) mode, then put its mode back."""
    was = graph.training
    graph.train(training)
    try:
        yield
    finally:
        graph.train(was)


def progress_bar(**options: Any) -> Any:
    """Return tqdm's bar: a widget in Jupyter when ipywidgets is installed, else text, never a warning.

    tqdm.auto warns when it is imported in a Jupyter kernel without ipywidgets, then falls back to
    the text bar; importing it here, on the first bar, keeps ``import tinygraph`` silent.

    Parameters
    ----------
    **options
        What ``tqdm`` takes: ``total``, ``disable``, ``desc``, ….

    Returns
    -------
    tqdm.tqdm
        The bar, a context manager.
    """
    from tqdm import TqdmWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TqdmWarning)
        from tqdm.auto import tqdm
    return tqdm(**options)


def fit(
    graph: Any,
    data: dict,
    optimizer: Any,
    epochs: int = 1,
    batch_size: int = 1,
    shuffle: bool = True,
    seed: int | None = None,
    progress: bool | None = None,
    callback: Callable[[int, float], Any] | None = None,
    checkpoint: Any = None,
    checkpoint_every: int = 1,
    resume: bool = False,
    record: Any = None,
    live: bool = False,
) -> list[float]:
    """Train by stochastic gradient descent; return the mean loss per sample of each epoch.

    Each epoch visits the samples in a fresh random order and, for every ``batch_size`` of
    them (1 by default: pure SGD, one sample at a time as in the derivation), runs
    ``graph.forward``, ``graph.backward`` and ``optimizer.step()``, minimising the graph's
    first output.

    Parameters
    ----------
    graph : Graph or Network
        What to train (a Network's ``graph``); its first output is the loss, one number.
    data : dict
        Maps every Input of the graph (the node or its name) to an array with one row per
        sample, the same number of rows in each.
    optimizer : SGD, Adam, RMSProp or float
        An optimizer (or any object with ``step()``), or a number used as the learning rate
        of a new SGD over the graph's parameters.
    epochs : int, optional
        The number of passes over the data, at least 1.  With ``resume``, the total,
        counting the epochs already in the checkpoint.
    batch_size : int, optional
        The samples per step; the last step of an epoch takes what is left.
    shuffle : bool, optional
        If True (the default), each epoch visits the samples in a fresh random order,
        which depends only on ``seed`` and the epoch; if False, in the order of the rows.
    seed : int, optional
        Seeds the order (a whole number >= 0); None draws one at random.
    progress : bool, optional
        Whether to show a progress bar (tqdm): None (the default) shows it on runs of at
        least 20 000 steps; False silences it, True forces it.
    callback : callable, optional
        ``callback(epoch, loss)`` is called after every epoch (epochs count from 1) with
        that epoch's mean loss, after the checkpoint is written.
    checkpoint : str or os.PathLike, optional
        A file to save the parameters, the optimizer's ``state_dict()`` (its settings and
        state: momentum, moments, step counts), the seed and the history to, atomically,
        every ``checkpoint_every`` epochs and after the last.
    checkpoint_every : int, optional
        How many epochs apart the checkpoint is written, at least 1.
    resume : bool, optional
        If True, continue from ``checkpoint`` when that file exists (else start afresh):
        its parameters, the optimizer's settings and state, the epoch, history and seed are
        used, which gives the same result as an uninterrupted run with that seed (a ``seed``
        given must be that one).  Give an optimizer of the same kind over the same parameters:
        its settings (η, …) are then the checkpoint's.
    record : Recording, optional
        A ``tg.Recording`` to keep snapshots of the training in, for ``rec.to_html`` (the
        replay page) and ``rec.trace_at``.  Training is the same, bit for bit, with or
        without it.
    live : bool, optional
        In Jupyter, show the loss curve, the network view and (for 2-D inputs) the output
        over the plane in one output that updates as training goes (with ``record`` or a
        Recording of its own).  In a terminal it shows nothing more than the progress bar.

    Returns
    -------
    list of float
        The mean loss per sample of each epoch, those of a resumed checkpoint included.

    Raises
    ------
    TypeError
        If ``graph`` is neither a Graph nor a Network, ``optimizer`` neither a number nor
        anything with ``step()``, ``shuffle``, ``resume`` or ``progress`` not a bool,
        ``callback`` not callable, ``checkpoint`` not a path, ``record`` not a Recording,
        ``live`` not a bool, or an array of ``data`` not of real numbers.
    tinygraph.GraphError
        If ``epochs``, ``batch_size`` or ``checkpoint_every`` is not a whole number >= 1 or
        ``seed`` not one >= 0; ``data`` is not a non-empty dict, a key is no Input of the
        graph, an Input is missing or given twice, an array's rows do not fit its Input's
        declared shape, or the arrays differ in length or are empty; the optimizer updates a
        Parameter that is not in the graph; the first output is not one number; ``resume``
        is given without ``checkpoint``, the checkpoint cannot be written, does not fit the
        graph or holds nan or inf; ``record`` already holds a run, its test data does not fit,
        or the graph cannot take the training rows as one batch (what a snapshot evaluates);
        or the loss becomes nan or inf.

    Notes
    -----
    A GraphError or TypeError that a step raises in the first epoch this call runs (bad
    data its first pass over the rows finds) leaves every parameter and the optimizer's
    state as they were before ``fit``; the message names the epoch and the step.

    If the loss becomes nan or inf, fit stops with a GraphError naming the epoch, the
    step and the first node with a non-finite value.  That step changes no parameter: the
    parameters keep their values from before it, unless an update had made some of them
    non-finite; then all of them, and the optimizer's state, are put back to their values
    at the start of the epoch (and the message may name only the loss).

    Shapes: each array of ``data`` is ``(samples, *shape)`` for its Input's per-sample
    shape; a step feeds one row (``batch_size=1``) or a batch of rows.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.xor()
    >>> net = tg.mlp([2, 3, 1], seed=0)
    >>> history = tg.fit(net, {"x": X, "t": T[:, None]}, 0.5, epochs=200, seed=0)
    >>> len(history), history[-1] < history[0]
    (200, True)
    """
    graph = graph_of(graph, "fit")
    optimizer = as_optimizer(optimizer, graph, "fit")
    for what, v in (("epochs", epochs), ("batch_size", batch_size), ("checkpoint_every", checkpoint_every)):
        if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
            raise GraphError(f"fit: {what} must be a whole number >= 1, got {v!r}")
    for what, flag in (("shuffle", shuffle), ("resume", resume), ("progress", progress), ("live", live)):
        if not isinstance(flag, (bool, np.bool_)) and not (what == "progress" and flag is None):
            raise TypeError(f"fit: {what} must be True or False, got {flag!r}")
    if seed is not None and (not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0):
        raise GraphError(f"fit: seed must be a whole number >= 0 or None, got {seed!r}")
    seed = None if seed is None else int(seed)  # (a numpy integer too: the checkpoint stores it as JSON)
    if callback is not None and not callable(callback):
        raise TypeError(f"fit: callback must be callable (epoch, loss), got {type(callback).__name__}")
    if checkpoint is not None:
        checkpoint = _writable(path_of(checkpoint, "fit: checkpoint"), graph)
    elif resume:
        raise GraphError("fit: resume=True continues from a checkpoint file; give its path as checkpoint=")
    if record is not None and not all(hasattr(record, m) for m in ("start", "begin", "take", "next_step")):
        raise TypeError(f"fit: record must be a tg.Recording, got {type(record).__name__}")
    columns, n = resolve_data(graph, data)
    nodes = [node for node, _ in columns]
    arrays = [arr for _, arr in columns]
    steps_per_epoch = -(-n // batch_size)  # (whole numbers: exact for any batch_size)
    if live and record is None:
        record = RECORDING[-1].for_live()  # (None outside Jupyter: a terminal shows the progress bar only)
    if record is not None:  # (checks its own settings, and changes nothing here)
        record.start(graph, optimizer, columns, steps_per_epoch, live=live)
    given_seed = seed
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % 2**63)
    history, first, before_fit = [], 0, None
    if resume and os.path.exists(checkpoint):
        before_fit = [p.value.copy() for p in graph.parameters()], _optimizer_state(optimizer), graph.mode.step
        first, seed, history = _restore(graph, optimizer, checkpoint, epochs, given_seed)
    if record is not None:
        record.begin(first * steps_per_epoch, epochs * steps_per_epoch)
    snap = record.next_step if record is not None else -1  # the step of the next snapshot
    show = progress if progress is not None else epochs * steps_per_epoch >= PROGRESS_MIN_STEPS
    loss_node = graph.outputs[0]
    per_batch_mean = averages_the_batch(loss_node)
    params = graph.parameters()
    bar = progress_bar(total=epochs, initial=first, disable=not show, unit="epoch", desc="fit")
    with bar, in_mode(graph, training=True):
        for epoch in range(first, epochs):
            rng = np.random.default_rng([seed, epoch])
            order = rng.permutation(n) if shuffle else np.arange(n)
            start_of_epoch = [p.value.copy() for p in params]
            start_state = _optimizer_state(optimizer)
            total = 0.0
            for step in range(steps_per_epoch):
                if snap == epoch * steps_per_epoch + step:
                    record.take(snap)
                    snap = record.next_step
                if batch_size == 1:
                    i = order[step]
                    feed = {node: arr[i] for node, arr in zip(nodes, arrays)}
                    rows = 1
                else:
                    idx = order[step * batch_size : (step + 1) * batch_size]
                    feed = {node: arr[idx] for node, arr in zip(nodes, arrays)}
                    rows = len(idx)
                try:
                    value = graph.forward(feed)
                    if value.ndim:
                        raise _not_a_number(loss_node, value)
                    loss = float(value)
                    finite = math.isfinite(loss)
                    if finite:
                        graph.backward()
                        optimizer.step()
                except (GraphError, TypeError) as exc:  # bad data the first pass over it finds
                    if epoch != first:
                        raise
                    if before_fit is None:  # (the start of the first epoch is the state before fit)
                        _put_back(params, start_of_epoch, optimizer, start_state)
                    else:  # resumed: back to before the checkpoint was loaded
                        _put_back(params, before_fit[0], optimizer, before_fit[1])
                        graph.mode.step = before_fit[2]
                    raise type(exc)(
                        f"fit: epoch {epoch + 1}, step {step + 1}: {exc} (every parameter and the "
                        "optimizer's state are as they were before fit)"
                    ) from exc
                if not finite:
                    restored = _keep_finite(params, start_of_epoch, optimizer, start_state)
                    raise GraphError(_nonfinite_message(graph, feed, epoch, step, loss_node, restored))
                total += loss * rows if per_batch_mean else loss  # back to a sum over samples
            history.append(total / n)
            bar.set_postfix(loss=f"{history[-1]:.4g}", refresh=False)
            bar.update()
            if checkpoint is not None and ((epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs):
                _save_checkpoint(graph, optimizer, checkpoint, epoch + 1, seed, history)
            if callback is not None:
                callback(epoch + 1, history[-1])
    if snap == epochs * steps_per_epoch:
        record.take(snap)
    return history


_STATE = "__tinygraph_checkpoint__"


def _save_checkpoint(graph, optimizer, path, epoch, seed, history):
    arrays = {f"param/{p.name}": p.value for p in graph.parameters()}
    info: dict[str, Any] = {"epoch": epoch, "seed": seed, "history": history}
    info["passes"] = graph.mode.step  # (the graph's passes in training: a Dropout's next mask)
    state = _optimizer_state(optimizer)
    if state is not None:  # its arrays as arrays, its numbers (settings, counts) in the JSON
        packed, info["optimizer"] = pack_optimizer_state(state, "optimizer/")
        arrays.update(packed)
    arrays[_STATE] = np.array(json.dumps(info, default=lambda x: x.item() if isinstance(x, np.generic) else str(x)))
    write_npz(path, arrays, "fit checkpoint")


def _writable(path, graph):
    """Return the checkpoint path, once it is known that fit can write there (before any training)."""
    for p in graph.parameters():
        problem = name_problem(f"param/{p.name}")
        if problem is not None:
            raise GraphError(f"fit: Parameter {shown(p.name)} cannot be saved in a checkpoint: {problem}")
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise GraphError(f"fit: checkpoint '{path}' is a folder; give the path of a file in it")
    if not os.path.basename(path):  # "" or "new/": a file cannot be written there
        raise GraphError(f"fit: checkpoint '{path}' names no file; give the path of a file")
    if not os.path.isdir(folder):
        raise GraphError(f"fit: checkpoint '{path}': the folder '{folder}' does not exist")
    takes_files(folder, f"fit: cannot write checkpoint '{path}'")
    return path


def _state(arrays, path, epochs):
    """Return what the checkpoint's JSON holds, read once (a dict), its epoch, seed and history checked."""
    state = None
    with contextlib.suppress(ValueError):
        state = json_of(arrays[_STATE])
    ok = isinstance(state, dict) and {"epoch", "seed", "history"} <= state.keys()
    epoch, seed, history = (state["epoch"], state["seed"], state["history"]) if ok else (None, None, None)
    if not (
        type(epoch) is int
        and type(seed) is int
        and seed >= 0
        and isinstance(history, list)
        and len(history) == epoch >= 1
        and all(type(h) in (int, float) and math.isfinite(h) for h in history)
    ):
        raise GraphError(
            f"fit resume: '{path}' has an unreadable training state (an epoch >= 1, a seed >= 0 and "
            "one finite loss per epoch were expected; nothing was changed)"
        )
    if epoch > epochs:
        raise GraphError(f"fit resume: '{path}' is at epoch {epoch}, beyond epochs={epochs} (nothing was changed)")
    return state


def _restore(graph, optimizer, path, epochs, given_seed):
    """Load a checkpoint written by fit, checking everything before changing anything."""
    arrays = read_npz(path, "fit resume")
    if _STATE not in arrays:
        raise GraphError(f"fit resume: '{path}' is not a checkpoint written by fit")
    state = _state(arrays, path, epochs)
    seed = state["seed"]
    if given_seed is not None and int(given_seed) != seed:
        raise GraphError(
            f"fit resume: '{path}' was trained with seed={seed}, but seed={given_seed} was given; "
            f"pass seed={seed} (or None) to continue that run (nothing was changed)"
        )
    params = graph.parameters()
    names = {f"param/{p.name}" for p in params}
    extra = [k for k in arrays if k.startswith("param/") and k not in names]  # (a checkpoint of another graph)
    if extra:
        raise GraphError(
            f"fit resume: '{path}' does not fit this graph: it holds Parameter '{extra[0].removeprefix('param/')}' "
            f"{arrays[extra[0]].shape}, which this graph has not (nothing was changed)"
        )
    for p in params:
        stored = arrays.get(f"param/{p.name}")
        if stored is None or stored.shape != p.value.shape or stored.dtype.kind != "f":
            got = "missing" if stored is None else f"shape {stored.shape}, dtype {stored.dtype}"
            raise GraphError(
                f"fit resume: '{path}' does not fit this graph: Parameter '{p.name}' "
                f"{p.value.shape} is {got} there (nothing was changed)"
            )
    kept = ("param/", "optimizer/", "velocity/")  # (fit stops at non-finite numbers: it cannot go on from them)
    bad = [k for k, v in arrays.items() if k.startswith(kept) and v.dtype.kind == "f" and not np.isfinite(v).all()]
    if bad:
        raise GraphError(
            f"fit resume: '{path}' holds non-finite numbers (nan or inf) in '{bad[0]}' (nothing was changed)"
        )
    passes = state.get("passes")  # (none in a checkpoint of an earlier tinygraph)
    if passes is not None and not (type(passes) is int and passes >= 0):
        raise GraphError(f"fit resume: '{path}' holds an unreadable count of passes, {passes!r} (nothing was changed)")
    current = _optimizer_state(optimizer)
    if current is not None:  # checked, then put back (or refused: nothing changes)
        numbers = state.get("optimizer")
        if numbers is None:  # written by an earlier tinygraph: SGD's velocity/i only, with the settings given
            numbers = pack_optimizer_state(current, "")[1]
            arrays = {**arrays, **{f"optimizer/{k}": v for k, v in arrays.items() if k.startswith("velocity/")}}
        unpack_optimizer_state(optimizer, numbers, arrays, "optimizer/", path, "fit resume")
    for p in params:
        p.value[...] = arrays[f"param/{p.name}"]
    if passes is not None:
        graph.mode.step = passes
    return state["epoch"], seed, [float(h) for h in state["history"]]


def _optimizer_state(optimizer):
    """Return the optimizer's ``state_dict()`` (a copy), or None for one without."""
    return optimizer.state_dict() if callable(getattr(optimizer, "state_dict", None)) else None


def _put_back(params, values, optimizer, state):
    for p, saved in zip(params, values):
        p.value[...] = saved
    if state is not None:
        optimizer.load_state_dict(state)


def _keep_finite(params, start_of_epoch, optimizer, start_state):
    """Put parameters made non-finite by the last update back to the start of the epoch.

    The optimizer's state goes back with them, so that the two stay a state fit really passed
    through. Return whether anything was put back.
    """
    if all(np.all(np.isfinite(p.value)) for p in params):
        return False
    _put_back(params, start_of_epoch, optimizer, start_state)
    return True


def _nonfinite_message(graph, feed, epoch, step, loss_node, restored):
    culprit = f"loss '{loss_node.name}'"
    try:
        graph.forward(feed, check_finite=True)
    except GraphError as exc:
        culprit = str(exc)
    return (
        f"fit: the loss became non-finite at epoch {epoch + 1}, step {step + 1}; "
        f"the first bad value: {culprit}. "
        + (
            "The last update had made parameters non-finite, so they and the optimizer's state (momentum, "
            "moments) were put back to their values at the start of this epoch"
            if restored
            else "The parameters keep their last finite values (this step changed none)"
        )
        + "; check the data for nan/inf, or try a smaller learning rate"
    )
