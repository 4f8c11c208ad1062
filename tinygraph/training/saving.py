"""Saving and loading parameters (and mlp networks) as ``.npz`` files: atomic writes, no pickle."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ..core import Logistic, LogLoss, ReLU, SoftmaxCrossEntropy, SquaredLoss, Step, Tanh, graph_of
from ..errors import GraphError
from ..version import __version__
from .files import path_of, read_npz, write_npz
from .layers import Network, mlp

ARCHITECTURE_KEY = "__tinygraph_architecture__"
_NPZ_OPTIONS = ("file", "allow_pickle")  # names np.savez takes as options, not arrays
# The classes a saved architecture may name: these, and never anything else.
ACTIVATIONS = {cls.__name__: cls for cls in (Logistic, Tanh, ReLU, Step)}
LOSSES = {cls.__name__: cls for cls in (SquaredLoss, LogLoss, SoftmaxCrossEntropy)}


# -- saving -----------------------------------------------------------------
def _architecture(net: Network) -> str:
    """The JSON text from which ``load`` rebuilds an mlp network."""

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


def save(graph_or_network: Any, path: Any) -> None:
    """Store every Parameter's value under its name in an ``.npz`` file at ``path``.

    A ``Network`` (from ``mlp``) also stores its architecture, so ``load(path)``
    rebuilds it.  The file is written exactly at ``path`` (no suffix added), and
    atomically: into a temporary file in the same folder, flushed to disk, then
    renamed over ``path``.  A crash mid-save leaves the previous file as it was.

    >>> import tempfile, tinygraph as tg
    >>> net = tg.mlp([2, 3, 1], seed=0)
    >>> path = tempfile.mkdtemp() + "/net.npz"
    >>> save(net, path)
    >>> bool(np.all(load(path).predict([[0.5, 1.0]]) == net.predict([[0.5, 1.0]])))
    True
    """
    graph = graph_of(graph_or_network, "save")
    path = path_of(path, "save")
    arrays = {}
    for p in graph.parameters():
        if p.name == ARCHITECTURE_KEY or p.name in _NPZ_OPTIONS:
            raise GraphError(f"save: Parameter '{p.name}' has a name the .npz format reserves; rename it")
        arrays[p.name] = p.value
    if isinstance(graph_or_network, Network):
        arrays[ARCHITECTURE_KEY] = np.array(_architecture(graph_or_network))  # 0-d unicode, no pickle
    write_npz(path, arrays, "save")


def _assign(graph: Any, arrays: dict, path: Any, what: str) -> None:
    """Check every name, shape and dtype kind; only then copy the values in place."""
    params = {p.name: p for p in graph.parameters()}
    stored = {k: v for k, v in arrays.items() if k != ARCHITECTURE_KEY}
    problems = [f"Parameter '{n}' {params[n].value.shape} is missing from the file" for n in params if n not in stored]
    problems += [
        f"the file has '{n}' {stored[n].shape}, which is not a Parameter of this graph"
        for n in stored
        if n not in params
    ]
    for name in params.keys() & stored.keys():
        p, a = params[name], stored[name]
        if a.dtype.kind != "f":
            problems.append(f"Parameter '{name}': expected floating-point values, got dtype {a.dtype}")
        elif a.shape != p.value.shape:
            problems.append(f"Parameter '{name}': expected shape {p.value.shape}, got {a.shape}")
    if problems:
        raise GraphError(f"{what}: '{path}' does not fit this graph (nothing was changed): " + "; ".join(problems))
    for name, p in params.items():
        p.value[...] = stored[name]  # in place, keeping the parameter's dtype


def load_parameters(graph_or_network: Any, path: Any) -> Any:
    """Copy the values saved at ``path`` into the Parameters of a graph; returns it.

    Every Parameter must be in the file under its name with the same shape, and
    the file must hold nothing else (an mlp's architecture aside); otherwise a
    GraphError lists every mismatch and no parameter is changed.  Values are
    copied in place (optimizers holding the parameters keep working) and keep
    the parameters' dtype.
    """
    graph = graph_of(graph_or_network, "load_parameters")
    _assign(graph, read_npz(path, "load_parameters"), path, "load_parameters")
    return graph_or_network


def _node_class(table: dict, name: Any, role: str, path: Any) -> Any:
    """The tinygraph class called ``name`` in ``table``; never anything else."""
    cls = table.get(name) if isinstance(name, str) else None
    if cls is None:
        raise GraphError(
            f"load: '{path}' names {role} {name!r}, which is not a tinygraph class; "
            "build the network with mlp(...) yourself and use load_parameters(net, path)"
        )
    return cls


def load(path: Any) -> Network:
    """Rebuild the mlp ``Network`` saved at ``path`` (architecture and parameters).

    Files saved from a plain Graph hold parameters only: rebuild the graph and
    use ``load_parameters(graph, path)``.
    """
    arrays = read_npz(path, "load")
    if ARCHITECTURE_KEY not in arrays:
        raise GraphError(
            f"load: '{path}' holds parameters only, no network architecture "
            "(it was saved from a Graph); build the graph and use "
            "tinygraph.load_parameters(graph, path)"
        )
    try:
        arch = json.loads(str(arrays[ARCHITECTURE_KEY]))
        sizes, bias, dtype = arch["sizes"], arch["bias"], np.dtype(arch["dtype"])
        names = arch["activation"], arch["output_activation"], arch["loss"]
        if dtype.kind != "f":
            raise ValueError(f"dtype {dtype} is not a float type")
    except (ValueError, KeyError, TypeError) as exc:
        raise GraphError(f"load: '{path}' has an unreadable architecture description ({exc})") from exc
    activation, output = [
        None if name is None else _node_class(ACTIVATIONS, name, role, path)
        for name, role in zip(names, ("activation", "output activation"))
    ]
    loss = _node_class(LOSSES, names[2], "loss", path)
    try:
        net = mlp(sizes, activation=activation, output_activation=output, loss=loss, bias=bias, dtype=dtype)
    except (GraphError, TypeError) as exc:
        raise GraphError(f"load: '{path}' describes a network mlp cannot build ({exc})") from exc
    _assign(net.graph, arrays, path, "load")
    return net
