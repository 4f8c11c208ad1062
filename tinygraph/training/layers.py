"""Helpers that compose whole layers out of nodes: dense, mlp and the Network they build."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import checks
from ..checks import shown, size, whole
from ..core import (
    SGD,
    AppendOne,
    Constant,
    Graph,
    Input,
    Logistic,
    LogLoss,
    Loss,
    Node,
    Parameter,
    ReLU,
    Softmax,
    SoftmaxCrossEntropy,
    SquaredLoss,
    WeightedSum,
)
from ..core.graph import DISPLAY
from ..core.node import as_float_array
from ..errors import GraphError
from .loop import fit as _fit
from .loop import in_mode


@dataclass
class Layer:
    """The nodes of one dense layer: ``out = activation(x·W + b)``.

    ``mlp`` makes one per layer (``Network.layers``).

    Attributes
    ----------
    x : Node
        What the layer reads (an AppendOne node with ``bias="input"``).
    W : Parameter
        The weights, ``(n_in, n_out)``; with ``bias="input"`` ``(n_in + 1, n_out)``, the
        last row the bias.
    b : Parameter or None
        The biases, ``(n_out,)``; None with ``bias="input"`` or ``bias=None``.
    z : WeightedSum
        The pre-activation ``x·W + b``.
    out : Node
        The activation node (z itself when the activation is None).

    Examples
    --------
    >>> import tinygraph as tg
    >>> first = tg.mlp([2, 3, 1]).layers[0]
    >>> first.W, first.out
    (Parameter('W1', shape=(2, 3)), Logistic('h1', shape=(3,)))
    """

    x: Node
    W: Parameter
    b: Parameter | None
    z: WeightedSum
    out: Node


def _check_node_class(cls, what, allow_none=False):
    """Raise unless ``cls`` is an activation: a node class that is no leaf, WeightedSum or loss (or None)."""
    if cls is None and allow_none:
        return
    leaf = isinstance(cls, type) and issubclass(cls, (Input, Parameter, Constant, WeightedSum, Loss))
    if not (isinstance(cls, type) and issubclass(cls, Node)) or leaf:
        raise TypeError(f"{what} must be an activation node class such as tg.Tanh or tg.ReLU, got {cls!r}")


def _check_loss_class(cls, what):
    if not (isinstance(cls, type) and issubclass(cls, Loss)) or cls is Loss:
        raise TypeError(f"{what} must be a loss node class such as tg.SquaredLoss, got {cls!r}")


def _check_options(what, bias, dtype, seed_value):
    """bias, dtype and seed, checked; returns the dtype."""
    if not (bias is None or (isinstance(bias, str) and bias in ("separate", "input"))):
        raise GraphError(f"{what}: bias must be 'separate', 'input' or None, got {shown(bias)}")
    checks.seed(f"{what}: seed", seed_value)
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind != "f":
        raise TypeError(f"{what}: dtype must be a float type such as np.float64, got {shown(dtype)}")
    return dtype


INITS = ("auto", "uniform", "xavier", "he")  # how dense and mlp draw the first weights


def _check_init(what, init):
    if not (isinstance(init, str) and init in INITS):
        raise GraphError(f"{what}: init must be one of {', '.join(map(repr, INITS))}, got {shown(init)}")
    return init


def init_weights(n_in, n_out, activation, rng, dtype=np.float64, init="auto"):
    """Return initial weights ``(n_in, n_out)`` drawn by ``init`` (see ``dense``).

    "xavier" (Glorot-uniform) keeps the variance of the sums steady layer to layer for
    logistic and tanh units, "he" (He-normal) for ReLU units; "auto" takes he for ReLU and
    xavier otherwise; "uniform" draws from U(−1/√n_in, 1/√n_in).
    """
    if init == "auto":
        init = "he" if activation is ReLU else "xavier"
    if init == "he":  # N(0, 2/n_in)
        w = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_out))
    else:  # U(−a, a): variance a²/3
        limit = np.sqrt(6.0 / (n_in + n_out)) if init == "xavier" else 1.0 / np.sqrt(n_in)
        w = rng.uniform(-limit, limit, size=(n_in, n_out))
    return w.astype(dtype)


def _layer(x, n_out, activation, rng, names, bias="separate", dtype=np.float64, init="auto"):
    if x.shape is None or len(x.shape) != 1:
        raise GraphError(
            f"dense: the number of features of {x.kind} '{x.name}' is unknown "
            f"(per-sample shape {x.shape}); declare it, e.g. Input('{x.name}', shape=(n,))"
        )
    n_in, n_out = x.shape[0], whole("dense: n_out", n_out)
    size(f"dense: the weights of {x.kind} '{x.name}' ({n_in} features) and n_out={n_out}", (n_in + 1, n_out))
    W = init_weights(n_in, n_out, activation, rng, dtype, init)
    b = None
    if bias == "input":
        x = AppendOne(x, name=names["x1"])
        W = Parameter(np.vstack([W, np.zeros((1, n_out), dtype)]), name=names["W"])
    else:
        W = Parameter(W, name=names["W"])
        if bias == "separate":
            b = Parameter(np.zeros(n_out, dtype), name=names["b"])
    z = WeightedSum(x, W, b, name=names["z"])
    out = z if activation is None else activation(z, name=names["out"])
    return Layer(x, W, b, z, out)


def _place(x: Node) -> int:
    """Where a layer on ``x`` stands: 1 + the number of weighted sums (layers) in the graph ending at x."""
    seen, todo, sums = set(), [x], 0
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen.add(id(node))
            sums += isinstance(node, WeightedSum)
            todo.extend(node.inputs)
    return sums + 1


def dense(
    x: Node,
    n_out: int,
    activation: type[Node] | None = Logistic,
    seed: int | None = None,
    name: str | None = None,
    bias: str | None = "separate",
    dtype: Any = np.float64,
    init: str = "auto",
) -> Node:
    """Build a fully connected layer on ``x``: ``activation(x·W + b)``, a node.

    Creates the Parameter ``W`` (n_in, n_out) and ``b`` (n_out,), the WeightedSum and the
    activation node, named ``{name}.W``, ``{name}.b``, ``{name}.z`` and ``{name}``.

    Parameters
    ----------
    x : Node
        What the layer reads; it must have a known number of features, one-dimensional
        samples of shape ``(n_in,)`` (declare Input shapes).
    n_out : int
        The number of units, at least 1.
    activation : type, optional
        A node class of one input applied to the weighted sum: Logistic (the default),
        Tanh, ReLU, …; None returns the WeightedSum itself (named ``{name}.z``).
    seed : int, optional
        Seeds the initial weights (drawn as ``init`` says; the biases start at zero).
        None (the default) draws them at random.
    name : str, optional
        The layer's name; by default ``dense_k``, by its place (see Notes).
    bias : {"separate", "input", None}, optional
        "separate" (the default) makes ``b``; "input" puts the bias into W's last row,
        reading x through AppendOne (named ``{name}.x1``), so W is ``(n_in + 1, n_out)``;
        None leaves it out.
    dtype : numpy dtype, optional
        The float type of the parameters, float64 by default.
    init : {"auto", "uniform", "xavier", "he"}, optional
        How the weights W are drawn, for ``n_in`` inputs and ``n_out`` units:

        - "xavier" (Glorot-uniform): U(−a, a) with a = √(6/(n_in + n_out)), variance
          2/(n_in + n_out), which keeps the variance steady through logistic and tanh units;
        - "he" (He-normal): N(0, 2/n_in), variance 2/n_in, the same for ReLU units (which
          pass half of their inputs on);
        - "uniform": U(−1/√n_in, 1/√n_in), variance 1/(3 n_in) (PyTorch's ``nn.Linear``);
        - "auto" (the default): "he" for ReLU, "xavier" for any other activation.

    Returns
    -------
    Node
        The activation node (the WeightedSum when ``activation`` is None).

    Raises
    ------
    TypeError
        If ``activation`` is not an activation node class (a leaf, a WeightedSum or a loss
        is not), ``x`` is not a Node, ``name`` is not a str, ``n_out`` or ``seed`` is not a
        whole number, or ``dtype`` is not a float type.
    tinygraph.GraphError
        If ``bias`` is none of the three, ``init`` none of the four, ``seed`` or ``n_out``
        is out of range, x's number of features is unknown, or the weights would hold too
        many numbers.

    Notes
    -----
    Without a ``name`` the layer is named by its place in the network: ``dense_k`` for
    the k-th weighted sum counted through the graph that ends at ``x``.  The same code
    therefore gives the same names every time it runs (so ``load_parameters`` fits a
    network built again), and layers stacked on one another get different ones; two
    layers side by side on the same input would get the same name, so name them
    (``name="left"``, ``name="right"``).

    Shapes: x is ``(n_in,)`` per sample, the layer's value ``(n_out,)``; a batch adds a
    leading axis to both.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> h = dense(x, 3, seed=0)
    >>> o = dense(h, 1, seed=1)
    >>> h.name, o.name, [p.name for p in tg.Graph(o).parameters()]
    ('dense_1', 'dense_2', ['dense_1.W', 'dense_1.b', 'dense_2.W', 'dense_2.b'])
    >>> h, o
    (Logistic('dense_1', shape=(3,)), Logistic('dense_2', shape=(1,)))
    >>> tg.dense(x, 3, activation=None, bias="input", name="lin")
    WeightedSum('lin.z', shape=(3,))
    """
    _check_node_class(activation, "dense: activation", allow_none=True)
    dtype = _check_options("dense", bias, dtype, seed)
    _check_init("dense", init)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"dense: name must be a str or None, got {type(name).__name__} {shown(name)}")
    if not isinstance(x, Node):
        raise TypeError(f"dense: x must be a tinygraph Node, got {type(x).__name__}")
    name = name or f"dense_{_place(x)}"
    names = {"W": f"{name}.W", "b": f"{name}.b", "z": f"{name}.z", "out": name, "x1": f"{name}.x1"}
    return _layer(x, n_out, activation, np.random.default_rng(seed), names, bias, dtype, init).out


_OUTPUTS = {SquaredLoss: Logistic, LogLoss: Logistic, SoftmaxCrossEntropy: None}


class Network:
    """A layered network made by ``mlp``: nodes you can inspect, train and draw.

    Parameters
    ----------
    input : Input
        The Input ``x``.
    target : Input
        The Input ``t``.
    layers : list of Layer
        The layers, from the input.
    output : Node
        The prediction node ``o``.
    loss : Node
        The loss node ``E``.
    sizes : sequence of int
        ``[n_in, n_hidden..., n_out]``.
    bias : {"separate", "input", None}
        How the layers hold their biases.
    activation : type or None
        The hidden layers' activation class.
    output_activation : type or None
        The output layer's activation class.

    Attributes
    ----------
    input : Input
        The Input ``x``: one sample of shape ``(n_in,)``.
    target : Input
        The Input ``t``, of shape ``(n_out,)`` (undeclared with SoftmaxCrossEntropy: class
        indices or one-hot rows).
    output : Node
        The prediction, named ``o``.
    loss : Node
        The loss, named ``E``.
    graph : Graph
        ``Graph(loss, output)``: what ``fit``, ``save``, ``render`` and ``trace`` take.
    layers : list of Layer
        The nodes of each layer, from the input.
    sizes : tuple of int
        ``(n_in, n_hidden..., n_out)``.
    bias : str or None
        "separate", "input" or None, as given to ``mlp``.
    activation : type or None
        The hidden layers' activation class, as given to ``mlp``.
    output_activation : type or None
        The output layer's activation class, as given to ``mlp`` or as "auto" chose it.

    Notes
    -----
    The constructor takes the nodes ``mlp`` built: call ``mlp`` to make one.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.xor()
    >>> net = tg.mlp([2, 3, 1], seed=0)
    >>> net
    Network(2-3-1, bias='separate', loss=SquaredLoss)
    >>> history = net.fit(X, T, epochs=300, lr=2.0, seed=0)
    >>> net.predict(X).round(1)
    array([[0.1],
           [0.9],
           [0.9],
           [0.1]])
    >>> net.accuracy(X, T)
    1.0
    """

    def __init__(
        self,
        input: Input,
        target: Input,
        layers: list[Layer],
        output: Node,
        loss: Node,
        sizes: Any,
        bias: str | None,
        activation: type[Node] | None,
        output_activation: type[Node] | None,
    ) -> None:
        self.input, self.target, self.layers = input, target, layers
        self.output, self.loss = output, loss
        self.sizes, self.bias = tuple(sizes), bias
        self.activation, self.output_activation = activation, output_activation
        self.graph = Graph(loss, output)

    def parameters(self) -> list[Parameter]:
        """Return the trainable Parameter nodes of the graph, in topological order."""
        return self.graph.parameters()

    def _targets(self, T, what="fit"):
        T = as_float_array(T, f"{what}: T, the targets", self.graph.dtype)
        if isinstance(self.loss, SoftmaxCrossEntropy):
            return T
        if self.sizes[-1] == 1 and T.ndim == 1:
            return T.reshape(-1, 1)
        return T

    def fit(
        self,
        X: Any,
        T: Any,
        epochs: int = 100,
        lr: float = 0.5,
        batch_size: int = 1,
        shuffle: bool = True,
        seed: int | None = None,
        optimizer: Any = None,
        progress: bool | None = None,
        callback: Callable[[int, float], Any] | None = None,
        record: Any = None,
        live: bool = False,
    ) -> list[float]:
        """Train on rows ``X`` with targets ``T`` (see ``tg.fit``); return the loss history.

        Parameters
        ----------
        X : array_like
            The samples, ``(samples, n_in)``.
        T : array_like
            The targets: ``(samples, n_out)``, or ``(samples,)`` for one output unit; with
            SoftmaxCrossEntropy class indices ``(samples,)`` or one-hot rows.
        epochs : int, optional
            The number of passes over the data.
        lr : float, optional
            The learning rate of the SGD made when no ``optimizer`` is given.
        batch_size : int, optional
            As for ``tg.fit``.
        shuffle : bool, optional
            As for ``tg.fit``.
        seed : int, optional
            As for ``tg.fit``: seeds the order of the samples.
        optimizer : SGD, Adam, RMSProp or float, optional
            The optimizer to step, as for ``tg.fit`` (``lr`` is then not used), e.g.
            ``tg.Adam(net.parameters())``; by default a new ``SGD(self.parameters(), lr=lr)``.
        progress : bool, optional
            As for ``tg.fit``.
        callback : callable, optional
            As for ``tg.fit``.
        record : Recording, optional
            As for ``tg.fit``: a ``tg.Recording`` to keep snapshots in (its ``test`` may be
            a pair ``(X_test, T_test)``).
        live : bool, optional
            As for ``tg.fit``: in Jupyter, a view that updates as training goes.

        Returns
        -------
        list of float
            The mean loss per sample of each epoch.

        Raises
        ------
        TypeError
            If ``T`` is not of real numbers, or as for ``tg.fit``.
        tinygraph.GraphError
            As for ``tg.fit``.
        """
        optimizer = optimizer or SGD(self.parameters(), lr=lr)
        data = {self.input: X, self.target: self._targets(T)}
        return _fit(
            self.graph,
            data,
            optimizer,
            epochs=epochs,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            progress=progress,
            callback=callback,
            record=record,
            live=live,
        )

    def predict(self, X: Any) -> np.ndarray:
        """Return the output for one sample or a batch of rows (needs no targets).

        Parameters
        ----------
        X : array_like
            One sample ``(n_in,)`` or rows ``(samples, n_in)``.

        Returns
        -------
        numpy.ndarray
            A copy of ``output``'s value: ``(n_out,)``, or ``(samples, n_out)`` for rows,
            computed in evaluation mode (no dropout; the graph's mode is put back after).

        Raises
        ------
        TypeError
            If ``X`` is not of real numbers.
        tinygraph.GraphError
            If ``X`` fits neither ``(n_in,)`` nor rows of it.
        """
        with in_mode(self.graph, training=False):
            return self.graph.run(self.output, {self.input: X})

    def accuracy(self, X: Any, T: Any) -> float:
        """Return the fraction of samples classified right.

        The predicted class is the argmax for several outputs; for one output it is 1 when
        the output is >= 0.5, else 0.

        Parameters
        ----------
        X : array_like
            One sample or rows, as for ``predict``.
        T : array_like
            Per row a label (class index, or 0/1 for one output) or a row of ``n_out``
            targets, whose argmax is the class.

        Returns
        -------
        float
            From 0 to 1.

        Raises
        ------
        TypeError
            If ``X`` or ``T`` is not of real numbers.
        tinygraph.GraphError
            If ``X`` does not fit, as for ``predict``, or ``T`` has not one label or one
            row of ``n_out`` per row of ``X``.
        """
        P = self.predict(X)
        T = as_float_array(T, "accuracy: T", np.float64)
        if P.ndim == 1:  # one sample
            P, T = P[None], T[None]
        k = P.shape[-1]
        if T.ndim >= 1 and len(T) != len(P):
            raise GraphError(f"accuracy: X has {len(P)} rows but T has {len(T)}")
        if T.shape not in ((len(P),), (len(P), k)):
            raise GraphError(
                f"accuracy: T must hold a label per row of X ({len(P)},) or a row of {k} per sample "
                f"({len(P)}, {k}), got shape {T.shape}"
            )
        if k > 1:
            pred, labels = P.argmax(axis=-1), T if T.ndim == 1 else T.argmax(axis=-1)
        else:
            pred, labels = (P[:, 0] >= 0.5).astype(int), T.reshape(len(T), -1)[:, 0]
        return float(np.mean(pred == labels))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter shows a Network as its network view (text where Graphviz is missing)."""
        show = DISPLAY.get("network")
        return show(self, include, exclude) if show else {"text/plain": repr(self)}

    def __repr__(self):
        """Return ``Network(2-3-1, bias=…, loss=…)``."""
        arch = "-".join(map(str, self.sizes))
        return f"Network({arch}, bias={self.bias!r}, loss={type(self.loss).__name__})"


def mlp(
    sizes: Any,
    activation: type[Node] | None = Logistic,
    output_activation: Any = "auto",
    loss: type[Node] = SquaredLoss,
    bias: str | None = "separate",
    seed: int | None = 0,
    dtype: Any = np.float64,
    init: str = "auto",
) -> Network:
    """Build a multilayer network ``sizes = [n_in, n_hidden..., n_out]``, node by node.

    Layer k computes ``z_k = h_{k-1}·W_k + b_k`` and ``h_k = activation(z_k)``; the last
    layer uses ``output_activation``.  Names follow the derivation: input ``x``, weights
    ``W1, W2, …``, biases ``b1, …``, sums ``z1, …``, hidden ``h1, …``, output ``o``, target
    ``t``, loss ``E``.

    Parameters
    ----------
    sizes : list of int
        The number of units of each layer, the input's first: at least two, each a whole
        number of at least 1.
    activation : type, optional
        The hidden layers' activation class, Logistic by default; None makes them linear
        (their ``z_k`` is the layer's output).
    output_activation : type or "auto", optional
        The output layer's activation class, or None for none (``o`` is then ``z``).
        "auto" (the default) takes Logistic, but for SoftmaxCrossEntropy none: the loss
        reads the raw scores and ``output`` is their Softmax.
    loss : type, optional
        The loss class: SquaredLoss (the default), LogLoss, SoftmaxCrossEntropy, ….
    bias : {"separate", "input", None}, optional
        As for ``dense``: "input" uses the constant-1 input instead of ``b``, through
        AppendOne nodes named ``[x,1]``, ``[h1,1]``, ….
    seed : int, optional
        Seeds the initial weights; 0 by default, so the same network every time.
    dtype : numpy dtype, optional
        The float type of the parameters, float64 by default.
    init : {"auto", "uniform", "xavier", "he"}, optional
        How each layer's weights are drawn, as for ``dense``: "auto" (the default) takes
        He-normal for ReLU layers and Glorot-uniform ("xavier") for the others.

    Returns
    -------
    Network
        The nodes, their ``graph`` and the methods to train and use them.

    Raises
    ------
    TypeError
        If ``sizes`` is not a list of whole numbers, ``activation`` or
        ``output_activation`` is not an activation node class, ``loss`` is not a loss
        class, ``seed`` is not a whole number, or ``dtype`` is not a float type.
    tinygraph.GraphError
        If there are fewer than two sizes, one is < 1, ``bias`` is none of the three,
        ``init`` none of the four, ``seed`` is negative, a layer's weights would hold too
        many numbers, or an ``output_activation`` is given with SoftmaxCrossEntropy.

    Notes
    -----
    With SoftmaxCrossEntropy the output layer has no activation of its own (``output_activation``
    must be "auto" or None): the loss reads ``z_k`` and ``o`` is its Softmax.

    Shapes: ``x`` is ``(n_in,)`` per sample and ``o`` ``(n_out,)``; ``W_k`` is
    ``(sizes[k-1], sizes[k])`` and ``b_k`` ``(sizes[k],)``.

    Examples
    --------
    >>> net = mlp([2, 3, 1], seed=0)
    >>> net.graph["W1"].value.shape
    (2, 3)
    >>> [n.name for n in net.graph.nodes]
    ['x', 'W1', 'b1', 'z1', 'h1', 'W2', 'b2', 'z2', 'o', 't', 'E']
    >>> import tinygraph as tg
    >>> net = mlp([2, 3, 2], loss=tg.SoftmaxCrossEntropy, bias="input")
    >>> [n.name for n in net.graph.nodes]
    ['x', '[x,1]', 'W1', 'z1', 'h1', '[h1,1]', 'W2', 'z2', 't', 'E', 'o']
    >>> net.output
    Softmax('o', shape=(2,))
    """
    _check_node_class(activation, "mlp: activation", allow_none=True)
    _check_loss_class(loss, "mlp: loss")
    auto = isinstance(output_activation, str) and output_activation == "auto"
    if not auto:
        _check_node_class(output_activation, "mlp: output_activation", allow_none=True)
        if loss is SoftmaxCrossEntropy and output_activation is not None:
            raise GraphError(
                f"mlp: with SoftmaxCrossEntropy the output layer's activation is the loss's own softmax, "
                f"so output_activation must be 'auto' or None, got {output_activation.__name__}"
            )
    dtype = _check_options("mlp", bias, dtype, seed)
    _check_init("mlp", init)
    if not isinstance(sizes, (list, tuple, np.ndarray)):
        raise TypeError(f"mlp: sizes must be a list of whole numbers such as [2, 3, 1], got {shown(sizes)}")
    sizes = [whole("mlp: sizes", s) for s in sizes]
    if len(sizes) < 2:
        raise GraphError(f"mlp: sizes must be at least two whole numbers >= 1, got {sizes!r}")
    for a, b in zip(sizes, sizes[1:]):
        size(f"mlp: sizes {sizes}: the weights of a layer", (a + 1, b))
    if auto:
        output_activation = _OUTPUTS.get(loss, Logistic)
    rng = np.random.default_rng(seed)
    x = Input("x", shape=(sizes[0],))
    h, layers, depth = x, [], len(sizes) - 1
    for k in range(1, depth + 1):
        last = k == depth
        act = output_activation if last else activation
        if last and loss is SoftmaxCrossEntropy:
            act = None
        names = {"W": f"W{k}", "b": f"b{k}", "z": f"z{k}", "x1": f"[{h.name},1]", "out": "o" if last else f"h{k}"}
        if last and act is None:
            names["z"] = "o" if loss is not SoftmaxCrossEntropy else f"z{k}"
        layer = _layer(h, sizes[k], act, rng, names, bias, dtype, init)
        layers.append(layer)
        h = layer.out
    if loss is SoftmaxCrossEntropy:
        target = Input("t")  # class indices or one-hot rows
        output = Softmax(h, name="o")
        loss_node = loss(h, target, name="E")
    else:
        target = Input("t", shape=(sizes[-1],))
        output = h
        loss_node = loss(h, target, name="E")
    return Network(x, target, layers, output, loss_node, sizes, bias, activation, output_activation)
