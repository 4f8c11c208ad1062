"""Saving and loading parameters (and mlp networks) as ``.npz`` files: atomic writes, no pickle."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import numpy as np

from ..checks import shown
from ..core import Logistic, LogLoss, ReLU, SoftmaxCrossEntropy, SquaredLoss, Step, Tanh, graph_of, of_graph
from ..core.leaves import checked_value
from ..errors import GraphError
from ..version import __version__
from .files import json_of, name_problem, pack_optimizer_state, path_of, read_npz, unpack_optimizer_state, write_npz
from .layers import Network, mlp

ARCHITECTURE_KEY = "__tinygraph_architecture__"
OPTIMIZER_KEY = "__tinygraph_optimizer__"  # an optimizer's numbers as JSON; its arrays as OPTIMIZER_KEY/<key>
# The classes a saved architecture may name: these, and never anything else.
ACTIVATIONS = {cls.__name__: cls for cls in (Logistic, Tanh, ReLU, Step)}
LOSSES = {cls.__name__: cls for cls in (SquaredLoss, LogLoss, SoftmaxCrossEntropy)}


# -- saving -----------------------------------------------------------------
def _architecture(net: Network) -> str:
    """Return the JSON text from which ``load`` rebuilds an mlp network."""

    def class_name(cls: Any) -> str | None:
        return None if cls is None else cls.__name__

    return json.dumps(
        {
            "format": "tinygraph.mlp",
            "format_version": 1,
            "sizes": [int(s) for s in net.sizes],
            "bias": net.bias,
            "activation": class_name(net.activation),
            "output_activation": class_name(net.output_activation),
            "loss": type(net.loss).__name__,
            "dtype": str(net.graph.dtype),
            "tinygraph_version": __version__,
        }
    )


def _ours(key: str) -> bool:
    """Tell whether a key of a file is tinygraph's own (an architecture, an optimizer's state), not a Parameter."""
    return key in (ARCHITECTURE_KEY, OPTIMIZER_KEY) or key.startswith(OPTIMIZER_KEY + "/")


def save(graph_or_network: Any, path: Any, optimizer: Any = None) -> None:
    """Store every Parameter's value under its name in an ``.npz`` file at ``path``.

    A ``Network`` (from ``mlp``) also stores its architecture, so ``load(path)``
    rebuilds it; with ``optimizer``, its ``state_dict()`` is stored too, which
    ``load_parameters(net, path, optimizer=...)`` puts back.  The file is written
    exactly at ``path`` (no suffix added), and atomically: into a temporary file in
    the same folder, flushed to disk, then renamed over ``path``.  A crash mid-save leaves the previous file as it was.

    Parameters
    ----------
    graph_or_network : Graph or Network
        What to save: a Graph, or anything with a ``.graph`` such as an ``mlp`` Network.
    path : str or os.PathLike
        The file to write, usually ending in ``.npz``; it is replaced if it exists.
    optimizer : SGD, Adam or RMSProp, optional
        An optimizer of the graph's parameters whose settings and state (velocity, moments,
        step counts) to store as well, to resume training later exactly where it stopped.

    Raises
    ------
    TypeError
        If ``graph_or_network`` is neither a Graph nor has one, ``path`` is not a path,
        a Parameter's value has been replaced by something that is not an array of floats,
        or ``optimizer`` has no ``state_dict()``.
    tinygraph.GraphError
        If a Parameter's name cannot be a key of the file (empty, a control character,
        too long, reserved, or shared by two Parameters), the optimizer updates a Parameter
        that is not in the graph, or the file cannot be written.  Nothing is written then.

    See Also
    --------
    load : Rebuild a saved ``mlp`` Network.
    load_parameters : Fill a graph built by hand from a saved file.

    Notes
    -----
    The file is an ordinary ``.npz`` of float arrays (and, for a Network, its
    architecture as JSON text): ``np.load(path)`` reads it, and nothing in it is pickled.
    An optimizer's state is stored as its arrays, ``__tinygraph_optimizer__/<key>``
    (``.../m/0``), and its numbers as JSON text under ``__tinygraph_optimizer__``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "net.npz")
    >>> net = tg.mlp([2, 3, 1], seed=0)
    >>> tg.save(net, path)
    >>> sorted(np.load(path))
    ['W1', 'W2', '__tinygraph_architecture__', 'b1', 'b2']
    >>> bool(np.all(tg.load(path).predict([[0.5, 1.0]]) == net.predict([[0.5, 1.0]])))
    True
    >>> folder.cleanup()
    """
    graph = graph_of(graph_or_network, "save")
    path = path_of(path, "save")
    state = None
    if optimizer is not None:
        if not callable(getattr(optimizer, "state_dict", None)):
            raise TypeError(f"save: optimizer must be an SGD, Adam or RMSProp, got {type(optimizer).__name__}")
        state = of_graph(optimizer, graph, "save").state_dict()
    arrays = {}
    for p in graph.parameters():
        problem = "tinygraph reserves it" if _ours(p.name) else name_problem(p.name)
        if problem is None and p.name in arrays:
            problem = "another Parameter of this graph has it too, and a file holds one array per name"
        if problem is not None:
            raise GraphError(f"save: Parameter {shown(p.name)} cannot be saved under its name: {problem}; rename it")
        arrays[p.name] = checked_value(p)  # (a replaced value that is not an array of floats is refused)
    if isinstance(graph_or_network, Network):
        arrays[ARCHITECTURE_KEY] = np.array(_architecture(graph_or_network))  # 0-d unicode, no pickle
    if state is not None:
        packed, numbers = pack_optimizer_state(state, OPTIMIZER_KEY + "/")
        arrays.update(packed)
        arrays[OPTIMIZER_KEY] = np.array(json.dumps(numbers))
    write_npz(path, arrays, "save")


def _optimizer_numbers(arrays: dict, path: Any, what: str) -> dict:
    """Return the numbers of the optimizer state a file holds, its JSON read (its contents are checked on loading)."""
    if OPTIMIZER_KEY not in arrays:
        raise GraphError(f"{what}: '{path}' holds no optimizer state; save it with tg.save(net, path, optimizer=opt)")
    numbers = None
    with contextlib.suppress(ValueError):
        numbers = json_of(arrays[OPTIMIZER_KEY])
    if not isinstance(numbers, dict):
        raise GraphError(f"{what}: '{path}' has an unreadable optimizer state (nothing was changed)")
    return numbers


def _assign(graph: Any, arrays: dict, path: Any, what: str, optimizer: Any = None) -> None:
    """Check every name, shape and dtype kind (and the optimizer's state); only then copy the values in place."""
    params = {p.name: p for p in graph.parameters()}
    stored = {k: v for k, v in arrays.items() if not _ours(k)}
    problems = [f"Parameter '{n}' {params[n].value.shape} is missing from the file" for n in params if n not in stored]
    problems += [
        f"the file has '{n}' {stored[n].shape}, which is not a Parameter of this graph"
        for n in stored
        if n not in params
    ]
    for name in (n for n in params if n in stored):  # the graph's order, the same on every run
        p, a = params[name], stored[name]
        if a.dtype.kind != "f":
            problems.append(f"Parameter '{name}': expected floating-point values, got dtype {a.dtype}")
        elif a.shape != p.value.shape:
            problems.append(f"Parameter '{name}': expected shape {p.value.shape}, got {a.shape}")
    if problems:
        raise GraphError(f"{what}: '{path}' does not fit this graph (nothing was changed): " + "; ".join(problems))
    if optimizer is not None:  # (checks all of its state before it changes any)
        numbers = _optimizer_numbers(arrays, path, what)
        unpack_optimizer_state(optimizer, numbers, arrays, OPTIMIZER_KEY + "/", path, what)
    for name, p in params.items():
        p.value[...] = stored[name]  # in place, keeping the parameter's dtype


def load_parameters(graph_or_network: Any, path: Any, optimizer: Any = None) -> Any:
    """Copy the values saved at ``path`` into the Parameters of a graph; returns it.

    Every Parameter must be in the file under its name with the same shape, and
    the file must hold nothing else (an mlp's architecture aside); otherwise a
    GraphError lists every mismatch and no parameter is changed.  Values are
    copied in place (optimizers holding the parameters keep working) and keep
    the parameters' dtype.

    Parameters
    ----------
    graph_or_network : Graph or Network
        The graph to fill, or anything with a ``.graph``.
    path : str or os.PathLike
        A file written by ``save``.
    optimizer : SGD, Adam or RMSProp, optional
        An optimizer to put the saved optimizer state back into (``load_state_dict``): the
        file must hold one, saved from an optimizer of the same kind over parameters of the
        same shapes.

    Returns
    -------
    Graph or Network
        ``graph_or_network`` itself.

    Raises
    ------
    TypeError
        If ``graph_or_network`` is neither a Graph nor has one, ``path`` is not a path, or
        ``optimizer`` has no ``load_state_dict``.
    tinygraph.GraphError
        If the file cannot be read, is not an ``.npz`` of arrays tinygraph writes, or does
        not fit the graph: a Parameter missing or of another shape, values that are not
        floats, or arrays of no Parameter (the message lists every mismatch); or, with
        ``optimizer``, it holds no optimizer state or one that does not fit, or the optimizer
        updates a Parameter that is not in the graph.  Nothing is changed then.

    See Also
    --------
    save : Write such a file.

    Examples
    --------
    The parameters of one network copied into another of the same sizes:

    >>> import os, tempfile
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "net.npz")
    >>> tg.save(tg.mlp([2, 3, 1], seed=0), path)
    >>> other = tg.mlp([2, 3, 1], seed=1)
    >>> tg.load_parameters(other, path) is other
    True
    >>> bool(np.all(other.predict([[0.5, 1.0]]) == tg.load(path).predict([[0.5, 1.0]])))
    True
    >>> folder.cleanup()
    """
    graph = graph_of(graph_or_network, "load_parameters")
    if optimizer is not None and not callable(getattr(optimizer, "load_state_dict", None)):
        raise TypeError(f"load_parameters: optimizer must be an SGD, Adam or RMSProp, got {type(optimizer).__name__}")
    if optimizer is not None:
        of_graph(optimizer, graph, "load_parameters")
    _assign(graph, read_npz(path, "load_parameters"), path, "load_parameters", optimizer)
    return graph_or_network


def _node_class(table: dict, name: Any, role: str, path: Any) -> Any:
    """Return the tinygraph class called ``name`` in ``table``; never anything else."""
    cls = table.get(name) if isinstance(name, str) else None
    if cls is None:
        raise GraphError(
            f"load: '{path}' names {role} {name!r}, which is not a tinygraph class; "
            "build the network with mlp(...) yourself and use load_parameters(net, path)"
        )
    return cls


def _architecture_of(arrays: dict, path: Any) -> dict:
    """Return the architecture description, every field checked (sizes: 2 to 1000 whole numbers >= 1)."""
    problem = None
    try:
        arch = json_of(arrays[ARCHITECTURE_KEY])
    except ValueError as exc:
        arch, problem = None, f"it is not JSON ({exc})"
    keys = ("sizes", "bias", "dtype", "activation", "output_activation", "loss")
    if not isinstance(arch, dict) or any(k not in arch for k in keys):
        problem = problem or f"it is not an object with the keys {', '.join(keys)}"
    elif (arch.get("format", "tinygraph.mlp"), arch.get("format_version", 1)) != ("tinygraph.mlp", 1):
        kind = f"{arch.get('format', 'tinygraph.mlp')!r} version {arch.get('format_version', 1)!r}"
        problem = f"it is format {kind}, not tinygraph.mlp 1 (saved by a newer tinygraph?)"
    elif not (
        isinstance(arch["sizes"], list)
        and 2 <= len(arch["sizes"]) <= 1000
        and all(type(n) is int and n >= 1 for n in arch["sizes"])
    ):
        problem = f"sizes must be a list of 2 to 1000 whole numbers >= 1, got {str(arch['sizes'])[:80]}"
    elif arch["bias"] not in ("separate", "input", None):
        problem = f"bias must be 'separate', 'input' or null, got {str(arch['bias'])[:80]}"
    elif arch["dtype"] not in ("float16", "float32", "float64"):
        problem = f"dtype must be float16, float32 or float64, got {str(arch['dtype'])[:80]}"
    if problem:
        raise GraphError(f"load: '{path}' has an unreadable architecture description: {problem}")
    return arch


def load(path: Any) -> Network:
    """Rebuild the mlp ``Network`` saved at ``path`` (architecture and parameters).

    Files saved from a plain Graph hold parameters only: rebuild the graph and
    use ``load_parameters(graph, path)``.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``save`` from an ``mlp`` Network.

    Returns
    -------
    Network
        A new network of the saved sizes, activations, loss, bias and dtype, holding the
        saved parameters.

    Raises
    ------
    TypeError
        If ``path`` is not a path.
    tinygraph.GraphError
        If the file cannot be read, is not an ``.npz`` of arrays tinygraph writes, holds
        parameters only (saved from a Graph), or describes a network that does not match
        its arrays or that ``mlp`` cannot build.  Classes are looked up among
        tinygraph's own activations and losses only.

    See Also
    --------
    save, load_parameters

    Examples
    --------
    >>> import os, tempfile
    >>> import tinygraph as tg
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = os.path.join(folder.name, "net.npz")
    >>> tg.save(tg.mlp([2, 3, 1], seed=0), path)
    >>> net = tg.load(path)
    >>> net.sizes
    (2, 3, 1)
    >>> folder.cleanup()
    """
    arrays = read_npz(path, "load")
    if ARCHITECTURE_KEY not in arrays:
        raise GraphError(
            f"load: '{path}' holds parameters only, no network architecture "
            "(it was saved from a Graph); build the graph and use "
            "tinygraph.load_parameters(graph, path)"
        )
    arch = _architecture_of(arrays, path)
    sizes, bias, dtype = arch["sizes"], arch["bias"], np.dtype(arch["dtype"])
    names = arch["activation"], arch["output_activation"], arch["loss"]
    activation, output = [
        None if name is None else _node_class(ACTIVATIONS, name, role, path)
        for name, role in zip(names, ("activation", "output activation"))
    ]
    loss = _node_class(LOSSES, names[2], "loss", path)
    described = sum(a * b + b * (bias is not None) for a, b in zip(sizes, sizes[1:]))
    stored = sum(a.size for k, a in arrays.items() if not _ours(k))
    if described != stored:  # checked before building: a network bigger than its file is never made
        raise GraphError(f"load: '{path}' describes a network of {described} parameter values but holds {stored}")
    try:
        net = mlp(sizes, activation=activation, output_activation=output, loss=loss, bias=bias, dtype=dtype)
    except (GraphError, TypeError) as exc:
        raise GraphError(f"load: '{path}' describes a network mlp cannot build ({exc})") from exc
    _assign(net.graph, arrays, path, "load")
    return net
