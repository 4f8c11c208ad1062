"""Graph: orders the nodes once, checks what it is fed, and runs forward passes and backpropagation."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

import numpy as np

from ..checks import flag, function
from ..errors import GraphError
from .leaves import Constant, Input, Parameter, checked_value
from .mode import Mode
from .node import Node
from .plan import BackwardPlan, ForwardPlan, topological_order
from .runner import run_backward, run_forward, unroll_backward, unroll_forward, variable_names
from .shapes import Setup, read_feed, setup_for

SETUPS = 8  # a plan keeps what it knows about this many sets of shapes (the most recent)
_VALUE = operator.attrgetter("value")
_BACKWARD = {False: ("backward", False), True: ("backward", True)}  # the backward plans' keys

# How Jupyter shows a Graph: tinygraph.teaching registers its diagram here (no import of it).
DISPLAY: dict[str, Callable[..., dict]] = {}


class Last(NamedTuple):
    """What a plan's last pass was fed: its leaves' arrays, the fed shapes, its Setup."""

    leaves: list
    shapes: list
    setup: Setup


def _read_only(value: np.ndarray, dtype: Any) -> np.ndarray:
    """Return a Constant's value in the graph's dtype, read-only."""
    value = value.astype(dtype, copy=value.dtype != dtype)
    value.flags.writeable = False
    return value


def graph_of(obj: Any, what: str) -> Graph:
    """Return ``obj`` itself if it is a Graph, or its ``.graph`` (a Network's); else raise a TypeError."""
    if isinstance(obj, Graph):
        return obj
    if isinstance(getattr(obj, "graph", None), Graph):
        return obj.graph
    raise TypeError(f"{what}: expected a tinygraph Graph or Network, got {type(obj).__name__}")


class Graph:
    """The computation that produces ``outputs``: forward passes and backpropagation.

    A graph orders its nodes once, checks what it is fed, and runs forward passes and the
    backward pass of the chain rule from its first output, the one ``backward``
    differentiates.

    Parameters
    ----------
    *outputs : Node
        The nodes to compute.  The first is what ``backward`` differentiates (a loss); the
        others are computed with it (a network's prediction, say).

    Attributes
    ----------
    nodes : list of Node
        Every node the outputs depend on, in topological order (computed once).
    inputs : list of Input
        The Input nodes, in that order.
    outputs : tuple of Node
        The outputs, as given.
    ran : dict of str to str or None
        How the last passes ran, under ``"forward"`` and ``"backward"``: ``"loop"``, the
        checked reference, or ``"unrolled"``, the same calls as straight-line code; None
        before the first pass.

    Raises
    ------
    TypeError
        If an output is not a Node.
    tinygraph.GraphError
        If there is no output, a node depends on itself (a cycle), or two nodes share a
        name (names are unique in a graph).

    See Also
    --------
    topological_order : The order of ``nodes``.

    Notes
    -----
    A graph holds its nodes as a collection: ``len(graph)``, ``for node in graph`` (in
    topological order), ``"z" in graph`` or ``node in graph``, and ``graph["z"]`` (the
    node named "z"; a KeyError listing the names when there is none).  ``dtype`` is the
    parameters' float type (float64 if there are none); ``batch`` and ``shape_of(node)``
    tell what the last pass was fed.  What a graph learns from its feed stays in the
    graph, so graphs may share nodes.  In Jupyter a graph shows itself as its diagram (as
    text where Graphviz is missing).

    Shapes: a feed holds one sample, of the Inputs' per-sample shapes, or a batch, with a
    leading axis; the values of the computed nodes follow, and a loss is one number for
    the whole batch.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,)); w = tg.Parameter([0.5, -1.0], name="w")
    >>> y = tg.Logistic(tg.WeightedSum(x, w, name="z"), name="y")
    >>> g = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    >>> g
    Graph(SquaredLoss('E'); 6 nodes, 1 parameters)
    >>> [n.name for n in g.nodes]
    ['x', 'w', 'z', 'y', 't', 'E']
    >>> float(g.forward({"x": [1.0, 1.0], "t": 1.0}))  # ½(σ(−0.5) − 1)²
    0.1937...
    >>> g.backward()
    >>> w.grad
    array([-0.146..., -0.146...])
    >>> float(g["y"].value), g.ran["forward"]
    (0.377..., 'loop')
    """

    def __init__(self, *outputs: Node) -> None:
        if not outputs:
            raise GraphError("Graph needs at least one output node")
        for i, out in enumerate(outputs):
            if not isinstance(out, Node):
                raise TypeError(f"Graph: output {i} must be a tinygraph Node, got {type(out).__name__}")
        self.outputs = tuple(outputs)
        self.nodes = topological_order(self.outputs)
        self._by_name: dict[str, Node] = {}
        for node in self.nodes:
            other = self._by_name.setdefault(node.name, node)
            if other is not node:
                layer = node.name.startswith("dense_")  # (a name tg.dense gave: the layer's place)
                raise GraphError(
                    f"two nodes are named '{node.name}': {other.kind} and {node.kind}; names must be unique in a "
                    "graph, so give one of them a name= of its own"
                    + (
                        " (tg.dense names a layer by its place, dense_k for the k-th weighted sum from the "
                        "input, so two layers side by side need names: dense(x, n, name='left'))"
                        if layer
                        else ""
                    )
                )
        self.inputs = [n for n in self.nodes if isinstance(n, Input)]
        self._params = [n for n in self.nodes if isinstance(n, Parameter)]
        self._names = variable_names(self.nodes)
        self._plans: dict[tuple[Node, ...], ForwardPlan] = {}
        self._backward: dict[tuple, BackwardPlan] = {}
        self._setup: Setup | None = None  # of the last pass
        self._fed: Sequence[Input] = ()
        self._pass_plan: ForwardPlan | None = None  # of the last pass
        self._token: object = None  # of the last pass, given to the Inputs it fed
        self._ready = False
        self.ran: dict[str, str | None] = {"forward": None, "backward": None}
        self.mode = Mode()
        self._title = repr(self)  # (names the unrolled code)

    # -- lookup -----------------------------------------------------------------------
    def __getitem__(self, name: str) -> Node:
        """Return the node named ``name`` (a KeyError listing the names if there is none)."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no node named {name!r} in this graph; names: {', '.join(self._by_name)}") from None

    def __contains__(self, node: Any) -> bool:
        """Tell whether ``node`` (a node, or a name) is in this graph."""
        return self._by_name.get(node.name) is node if isinstance(node, Node) else node in self._by_name

    def __len__(self) -> int:
        """Return the number of nodes."""
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        """Iterate over the nodes, in topological order."""
        return iter(self.nodes)

    def parameters(self) -> list[Parameter]:
        """Return the trainable Parameter nodes, in topological order (never Constants).

        Returns
        -------
        list of Parameter
            A new list: what ``SGD`` takes.
        """
        return list(self._params)

    def consumers(self, node: Node | str) -> list[Node]:
        """Return the nodes of this graph that take ``node`` as an input, in order.

        Parameters
        ----------
        node : Node or str
            A node of this graph, or its name.

        Returns
        -------
        list of Node
            Its consumers, in topological order; empty for an output.

        Raises
        ------
        TypeError
            If ``node`` is neither a Node nor a str.
        tinygraph.GraphError
            If it is not in this graph.
        """
        node = self._node(node, "consumers")
        return [n for n in self.nodes if any(i is node for i in n.inputs)]

    @property
    def training(self) -> bool:
        """True while the graph is in training mode (the default); see ``train`` and ``eval``."""
        return self.mode.training

    def train(self, training: bool = True) -> Graph:
        """Put the graph in training mode (or, with False, evaluation mode); return the graph.

        The mode is the graph's own: it changes what the nodes that read it do in this
        graph's passes (a ``Dropout`` drops in training and passes its input on unchanged
        when evaluating), and nothing in other graphs that share the nodes.  ``fit`` trains
        in training mode and puts the mode back afterwards; ``Network.predict`` and
        ``Network.accuracy`` evaluate.

        Parameters
        ----------
        training : bool, optional
            True (the default) for training mode, False for evaluation mode.

        Returns
        -------
        Graph
            This graph, so that ``graph.train().forward(feed)`` reads as one call.

        Raises
        ------
        TypeError
            If ``training`` is not a bool.

        Examples
        --------
        >>> import tinygraph as tg
        >>> x = tg.Input("x", shape=(4,))
        >>> graph = tg.Graph(tg.Dropout(x, p=0.5, seed=2, name="d"))
        >>> graph.training
        True
        >>> graph.eval().forward({"x": [1.0, 2.0, 3.0, 4.0]})  # evaluating: y = x
        array([1., 2., 3., 4.])
        >>> graph.train().forward({"x": [1.0, 2.0, 3.0, 4.0]})  # training: kept ones doubled
        array([2., 4., 0., 8.])
        """
        self.mode.training = flag("train: training", training)
        return self

    def eval(self) -> Graph:
        """Put the graph in evaluation mode (``train(False)``); return the graph.

        Returns
        -------
        Graph
            This graph.
        """
        return self.train(False)

    @property
    def dtype(self) -> np.dtype:
        """The float type the graph computes in: its parameters' (float64 if it has none)."""
        values = [checked_value(p) for p in self._params]  # (replaced values are checked here)
        return np.result_type(*[v.dtype for v in values]) if values else np.dtype(np.float64)

    @property
    def batch(self) -> int | None:
        """The batch size of the last pass (None: one sample, or no pass yet)."""
        return None if self._setup is None else self._setup.batch

    def shape_of(self, node: Node | str) -> tuple[int, ...] | None:
        """Return one sample's shape of ``node`` in this graph.

        Parameters
        ----------
        node : Node or str
            A node of this graph, or its name.

        Returns
        -------
        tuple of int or None
            The shape without the batch axis: declared, known when the node was built, or
            inferred from what the last pass was fed; None while unknown.

        Raises
        ------
        TypeError
            If ``node`` is neither a Node nor a str.
        tinygraph.GraphError
            If it is not in this graph.
        """
        node = self._node(node, "shape_of")
        shape = self._setup.shapes.get(node) if self._setup is not None else None
        return node.shape if shape is None else shape

    def _node(self, item: Any, what: str) -> Node:
        if not isinstance(item, (Node, str)):
            raise TypeError(f"{what}: expected a tinygraph Node or its name, got {type(item).__name__}")
        if item not in self:
            raise GraphError(
                f"{what}: no node named {item!r} in this graph (names: {', '.join(self._by_name)})"
                if isinstance(item, str)
                else f"{what}: {item.kind} '{item.name}' is not in this graph"
            )
        return self._by_name[item] if isinstance(item, str) else item

    # -- forward ----------------------------------------------------------------------
    def forward(self, feed: Any, check_finite: bool = False) -> np.ndarray:
        """Compute every node's ``.value``; return a copy of the value of the first output.

        Parameters
        ----------
        feed : dict
            Maps each Input (the node or its name) to an array: one sample, or a batch
            with a leading axis.
        check_finite : bool, optional
            If True, raise a GraphError naming the first node whose value is nan or inf.

        Returns
        -------
        numpy.ndarray
            A copy of the first output's value (0-d for a loss: ``float(...)`` reads it).

        Raises
        ------
        TypeError
            If ``feed`` is not a dict, or an array in it is not of real numbers.
        tinygraph.GraphError
            If an Input is missing, a key names no Input of the graph, an array fits
            neither its Input's shape nor a batch of it, the batch sizes differ, the nodes'
            shapes do not fit, or (``check_finite``) a value is not finite.

        Notes
        -----
        Everything is checked before any value changes.
        """
        self._evaluate(self._plans.get(self.outputs) or self._plan(self.outputs), feed, check_finite)
        return self.outputs[0].value.copy()

    def run(self, nodes: Any, feed: Any, check_finite: bool = False) -> Any:
        """Evaluate only what ``nodes`` need; return copies of their values.

        Parameters
        ----------
        nodes : Node, str or list
            A node or a name, or a list (or tuple) of them.
        feed : dict
            As for ``forward``; Inputs those nodes do not depend on need not be fed.
        check_finite : bool, optional
            As for ``forward``.

        Returns
        -------
        numpy.ndarray or list of numpy.ndarray
            A copy of the value, or a list of them for a list of nodes.

        Raises
        ------
        TypeError
            If ``nodes`` is not a node, a name or a list of them, or as for ``forward``.
        tinygraph.GraphError
            If a node is not in this graph, or as for ``forward``.

        Notes
        -----
        A pass that does not compute the first output leaves nothing for ``backward``.

        Examples
        --------
        >>> import tinygraph as tg
        >>> x = tg.Input("x", shape=(2,))
        >>> z = tg.WeightedSum(x, tg.Parameter([1.0, 2.0], name="w"), name="z")
        >>> g = tg.Graph(tg.SquaredLoss(z, tg.Input("t", shape=()), name="E"))
        >>> g.run("z", {"x": [1.0, 1.0]})  # no target needed
        array(3.)
        """
        single = isinstance(nodes, (Node, str))
        if not single and not isinstance(nodes, (list, tuple)):
            raise TypeError(f"run: expected a node, a name or a list of them, got {type(nodes).__name__}")
        targets = tuple(self._node(t, "run") for t in ((nodes,) if single else nodes))
        self._evaluate(self._plan(targets), feed, check_finite)
        return targets[0].value.copy() if single else [t.value.copy() for t in targets]

    def _plan(self, targets: tuple[Node, ...]) -> ForwardPlan:
        plan = self._plans.get(targets)
        if plan is None:
            plan = self._plans[targets] = ForwardPlan(self.nodes, targets, self.outputs[0])
        return plan

    def _evaluate(self, plan: ForwardPlan, feed: Any, check_finite: bool) -> None:
        if check_finite.__class__ is not bool:
            check_finite = flag("check_finite", check_finite)
        self._ready = False  # until this pass has finished
        last, token, mode = plan.last, object(), self.mode
        count = int(mode.training)  # a pass in training is counted (a Dropout's mask is drawn for it)
        mode.step += count
        enter = last.setup.enter.get(plan.key) if last is not None and type(feed) is dict else None
        if enter is not None and not check_finite and enter(feed, token):
            setup, self.ran["forward"] = last.setup, "unrolled"  # a pass like the last, checked and run
        else:  # anything else: everything checked before anything changes
            mode.step -= count  # (counted once the feed is checked)
            leaves = list(map(_VALUE, plan.leaves))
            same = last is not None and not any(map(operator.is_not, leaves, last.leaves))
            dtype = last.setup.dtype if same else self.dtype
            arrays, shapes = read_feed(feed, plan.inputs, dtype, self._by_name)
            setup = last.setup if same and shapes == last.shapes else self._setup_for(plan, arrays, shapes, dtype)
            for node, kept in setup.installs:  # (another graph sharing the node may have given it its own)
                node.keep(kept)
            for inp, a in zip(plan.inputs, arrays):
                inp.value, inp.fed_by = a, token
            mode.step += count
            self.ran["forward"] = run_forward(plan, setup, arrays, check_finite, self._names, self._title)
        self._token, self._setup, self._fed, self._pass_plan = token, setup, plan.inputs, plan
        self._ready = plan.reaches_output

    def _setup_for(self, plan: ForwardPlan, arrays: list, shapes: list, dtype: Any) -> Setup:
        """Return the Setup for these shapes (checking them all first, if they are new)."""
        leaves = [checked_value(n) for n in plan.leaves]
        key = (tuple(shapes), tuple((v.shape, v.dtype) for v in leaves), dtype)
        setup = plan.setups.pop(key, None) or setup_for(plan.nodes, plan.inputs, arrays, dtype)
        setup.mode = self.mode
        if len(plan.setups) >= SETUPS:  # forget the least recently used
            del plan.setups[next(iter(plan.setups))]
        plan.setups[key] = setup
        setup.args[:] = [_read_only(v, dtype) if isinstance(n, Constant) else v for n, v in zip(plan.leaves, leaves)]
        setup.enter.clear()  # (it knows the leaves' arrays: made again with the code's next pass)
        plan.last = Last(leaves, shapes, setup)
        return setup

    # -- backward ---------------------------------------------------------------------
    def backward(self, inputs: bool = False, check_finite: bool = False, hook: Callable | None = None) -> None:
        """Backpropagate from the first output: fill ``.grad`` = ∂E/∂(node).

        Seeds ∂E/∂E = 1 at the (scalar) output, then visits the nodes in reverse topological
        order; each node's ``backward`` turns its ``grad`` into one gradient per input, and an
        input that feeds several consumers receives the sum.  Gradients are recomputed from
        zero on every call.

        Parameters
        ----------
        inputs : bool, optional
            Parameters and the computed nodes that depend on them always get a ``.grad``;
            Inputs and Constants (and nodes computed from them alone) only with
            ``inputs=True``, else their ``.grad`` is None.
        check_finite : bool, optional
            If True, raise a GraphError naming the first node that sends a gradient with
            nan or inf.
        hook : callable, optional
            ``hook(node, grads)`` is called after each node's backward with the gradients
            it returned (``tg.trace`` records the steps this way; the arrays are reused by
            the next pass: copy what you keep).

        Raises
        ------
        TypeError
            If ``inputs`` or ``check_finite`` is not a bool, or ``hook`` is not callable.
        tinygraph.GraphError
            If the last pass did not compute the first output (no forward pass yet, a
            ``run`` of other nodes, or a forward pass that failed); an Input was fed by
            another graph or a leaf given a new value since; the first output is not one
            number; or a node's backward returns the wrong gradients.

        Notes
        -----
        Each ``.grad`` is shaped like the node's value, batch axis included.  A Parameter
        the first output does not depend on gets zeros.
        """
        if inputs.__class__ is not bool or check_finite.__class__ is not bool or hook is not None:
            inputs, check_finite = flag("backward: inputs", inputs), flag("backward: check_finite", check_finite)
            function("backward: hook", hook)
        out = self.outputs[0]
        if not self._ready:
            why = (
                f"the last pass did not compute output {out.kind} '{out.name}' (a graph.run of other "
                "nodes, or a forward pass that failed)"
                if self._setup is not None
                else f"output {out.kind} '{out.name}' has no value yet"
            )
            raise GraphError(
                f"backward needs a forward pass first: call graph.forward(feed) before graph.backward() ({why})"
            )
        for inp in self._fed:
            if inp.fed_by is not self._token:
                raise GraphError(
                    f"{inp.kind} '{inp.name}' was fed by another graph since this graph's "
                    "forward pass; call forward again before backward"
                )
        done = self._pass_plan
        for changed, v in zip(done.leaves, done.last.leaves) if done is not None else ():
            if changed.value is not v:
                raise GraphError(
                    f"{changed.kind} '{changed.name}' was given a new value since the forward pass; "
                    "call forward again before backward"
                )
        value, setup = out.value, self._setup
        assert setup is not None  # (ready implies a pass)
        if value.size != 1:
            raise GraphError(
                f"backward needs a scalar output, but {out.kind} '{out.name}' has shape "
                f"{value.shape}; use a loss node (or Sum) as the first output"
            )
        seed = setup.seed
        if seed is None or seed.dtype is not value.dtype:  # ∂E/∂E = 1, read-only: shared between passes
            seed = setup.seed = np.ones((), value.dtype)
            seed.flags.writeable = False
        key = _BACKWARD[bool(inputs)]
        plan = self._backward.get(key) or self._backward.setdefault(key, BackwardPlan(self.nodes, out, key[1]))
        self.ran["backward"] = run_backward(plan, setup, out, seed, hook, check_finite, self._names, self._title)

    # -- showing ------------------------------------------------------------------------
    def source(self, inputs: bool = False, expand: bool = False) -> str:
        """Return the Python code this graph runs for a forward and a backward pass.

        Node by node, in the order the passes visit them: each node's ``forward`` and
        ``backward`` called in turn, commented with its formula or derivative and which
        variable stands for which symbol; the gradients a node receives from several consumers
        are summed.  It is the code the graph runs from the second pass with the shapes of the
        last pass (one sample of the declared shapes before any pass).

        Parameters
        ----------
        inputs : bool, optional
            As for ``backward``: the code of ``backward(inputs=True)``.
        expand : bool, optional
            If True, also show each method's body.

        Returns
        -------
        str
            Two functions, ``forward`` and ``backward``.

        Raises
        ------
        tinygraph.GraphError
            If a node's shape is unknown before any pass (declare the Inputs' shapes).

        Examples
        --------
        >>> import tinygraph as tg
        >>> x = tg.Input("x", shape=(2,)); w = tg.Parameter([0.5, -1.0], name="w")
        >>> y = tg.Logistic(tg.WeightedSum(x, w, name="z"), name="y")
        >>> print(tg.Graph(y).source())
        def forward(x, w):
            "The forward pass of Graph(Logistic('y'); 4 nodes, 1 parameters), node by node."
            # WeightedSum 'z': z = x·w
            z = node_z.value = _asarray(node_z.forward(x, w))
            # Logistic 'y': y = σ(z) = 1/(1 + e^(−z))
            y = node_y.value = _asarray(node_y.forward(z))
        <BLANKLINE>
        def backward(grad_y):
            "The backward pass of Graph(Logistic('y'); 4 nodes, 1 parameters): each node passes its gradient back."
            node_x.grad = None  # no gradient reaches it
            node_y.grad = grad_y  # ∂E/∂E = 1
            # Logistic 'y': ∂y/∂z = y(1 − y)
            node_y.needs = (True,)
            grad_z, = node_y.backward(grad_y)
            grad_z = _asarray(grad_z)
            node_z.grad = grad_z
            # WeightedSum 'z': ∂z/∂x = wᵀ, ∂z/∂w = x
            node_z.needs = (False, True)
            _, grad_w = node_z.backward(grad_z)
            node_w.grad = grad_w
        """
        plan = self._plan(self.outputs)
        setup = plan.last.setup if plan.last is not None else None
        unknown = [n for n in self.nodes if n.shape is None]
        if setup is None and unknown:
            raise GraphError(
                f"source() needs every node's shape, and {unknown[0].kind} '{unknown[0].name}' has "
                "none yet: declare the Inputs' shapes or run a forward pass first"
            )
        whole = setup.whole_of if setup is not None else (lambda n: n.shape)  # (before any pass: one sample)
        backward = BackwardPlan(self.nodes, self.outputs[0], bool(inputs))  # (as backward makes it)
        return (
            unroll_forward(plan, whole, self._names, repr(self), expand)[1]
            + "\n"
            + unroll_backward(backward, self.outputs[0], whole, self._names, repr(self), expand)[1]
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        """Jupyter shows a Graph as its diagram (text where Graphviz is missing)."""
        show = DISPLAY.get("graph")
        return show(self, include, exclude) if show else {"text/plain": repr(self)}

    def __repr__(self) -> str:
        """Return ``Graph(Kind('name'), …; n nodes, m parameters)``."""
        outs = ", ".join(f"{o.kind}('{o.name}')" for o in self.outputs)
        return f"Graph({outs}; {len(self.nodes)} nodes, {len(self._params)} parameters)"
