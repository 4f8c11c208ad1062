"""Graph: orders the nodes once, then runs forward passes and backpropagation."""

import itertools
import operator

import numpy as np

from . import compiled
from .errors import GraphError
from .node import Constant, Input, Node, Parameter, as_float_array


def graph_of(obj, what):
    """``obj`` itself if it is a Graph, or its ``.graph`` (an ``mlp`` Network's); else TypeError."""
    if isinstance(obj, Graph):
        return obj
    if isinstance(getattr(obj, "graph", None), Graph):
        return obj.graph
    raise TypeError(f"{what}: expected a tinygraph Graph or Network, got {type(obj).__name__}")


def topological_order(outputs):
    """Every node the outputs depend on, each after all of its inputs.

    Iterative depth-first search (no recursion limit), deterministic: inputs are
    visited in the order they were given, never through a set.
    """
    order, done, on_path = [], set(), set()
    for root in outputs:
        if id(root) in done:
            continue
        stack = [(root, 0)]
        on_path.add(id(root))
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                child = node.inputs[i]
                if id(child) in on_path:
                    raise GraphError(f"{child.kind} '{child.name}' depends on itself (a cycle)")
                if id(child) not in done:
                    on_path.add(id(child))
                    stack.append((child, 0))
            else:
                stack.pop()
                on_path.discard(id(node))
                done.add(id(node))
                order.append(node)
    return order


class Graph:
    """The computation that produces ``outputs`` (the first one is what ``backward`` differentiates).

    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,)); w = tg.Parameter([0.5, -1.0], name="w")
    >>> y = tg.Logistic(tg.WeightedSum(x, w, name="z"), name="y")
    >>> g = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    >>> [n.name for n in g.nodes]
    ['x', 'w', 'z', 'y', 't', 'E']
    >>> float(g.forward({"x": [1.0, 1.0], "t": 1.0}))  # ½(σ(−0.5) − 1)²
    0.1937...

    Attributes: ``nodes`` (topological order, computed once), ``inputs`` (the Input
    nodes), ``outputs``, ``dtype`` (the parameters' float type; float64 if none).
    """

    def __init__(self, *outputs):
        if not outputs:
            raise GraphError("Graph needs at least one output node")
        for i, out in enumerate(outputs):
            if not isinstance(out, Node):
                raise TypeError(f"Graph: output {i} must be a tinygraph Node, got {type(out).__name__}")
        self.outputs = tuple(outputs)
        self.nodes = topological_order(self.outputs)
        self._by_name = {}
        for node in self.nodes:
            other = self._by_name.setdefault(node.name, node)
            if other is not node:
                raise GraphError(f"two nodes are named '{node.name}': {other.kind} and {node.kind}; "
                                 "names must be unique in a graph")
        self.inputs = [n for n in self.nodes if isinstance(n, Input)]
        params = self._parameters = [n for n in self.nodes if isinstance(n, Parameter)]
        self.dtype = np.result_type(*[p.value.dtype for p in params]) if params else np.dtype(np.float64)
        self._constants = [n for n in self.nodes if isinstance(n, Constant)]
        self._leaves = params + self._constants  # their value arrays are watched (see _evaluate)
        self._seed = np.ones(())
        self._seed.flags.writeable = False
        self._stamp = self._fed = None  # the last pass's number, and the Inputs it fed
        self._ready = False
        self._start()
        self._infer_shapes({n: n.declared_shape for n in self.inputs}, self.nodes, partial=True)

    def _start(self):
        """The lookups keyed by the nodes' id(), and the plans and code made from them."""
        self._index = {id(n): i for i, n in enumerate(self.nodes)}
        data = {}  # which nodes depend on fed data (they carry the batch axis when it is present)
        for node in self.nodes:
            data[id(node)] = isinstance(node, Input) or any(data[id(i)] for i in node.inputs)
        self._data_dependent = data
        self._plans, self._forward_plan, self._backward_plans = {}, None, {}
        self._shapes = self._shaped = None  # the fed shapes and plan of the last shape check
        self._shape_count = None  # _clock.shapes at that check
        self._forgotten = {}  # {node id: shape} of nodes whose shape only their next value can tell
        self._codes = {}     # {signature (see _evaluate): {plan: its written-out code}} (compiled.py)
        self._compiled = {}  # the entry for the current shapes
        self._rows = None    # the batch size of the last pass (None: one sample)
        self._values = None  # the Parameters' and Constants' value arrays at the last shape check

    def __getstate__(self):
        """Copies and pickles leave plans and code behind: they are keyed by and bound to these nodes."""
        state = dict(self.__dict__)
        for key in ("_index", "_data_dependent", "_plans", "_forward_plan", "_backward_plans",
                    "_forgotten", "_codes", "_compiled", "_values"):
            del state[key]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._start()

    # -- lookup -------------------------------------------------------------
    def __getitem__(self, name):
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no node named {name!r} in this graph; names: "
                           f"{', '.join(self._by_name)}") from None

    def __contains__(self, node):
        return id(node) in self._index if isinstance(node, Node) else node in self._by_name

    def __len__(self):
        return len(self.nodes)

    def __iter__(self):
        return iter(self.nodes)

    def parameters(self):
        """The trainable Parameter nodes, in topological order (never Constants)."""
        return [n for n in self.nodes if isinstance(n, Parameter)]

    def consumers(self, node):
        """The nodes of this graph that take ``node`` as an input, in order."""
        return [n for n in self.nodes if any(i is node for i in n.inputs)]

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Jupyter shows a Graph as its diagram (text where Graphviz is missing)."""
        from .diagrams import _repr_mimebundle_
        return _repr_mimebundle_(self, include, exclude)

    def __repr__(self):
        outs = ", ".join(f"{o.kind}('{o.name}')" for o in self.outputs)
        return f"Graph({outs}; {len(self.nodes)} nodes, {len(self.parameters())} parameters)"

    def source(self, inputs=False):
        """The Python code this graph runs for a forward and a backward pass (compiled.py).

        Node by node, in the order the passes visit them — WeightedSum, the activations
        and SquaredLoss as their numpy calls, other nodes as calls of their methods: the
        chain rule written out for this graph, for passes like the last one (one sample,
        or a batch of its size; one sample before any).  ``inputs`` as for ``backward``.
        Needs the shapes known (declared Inputs, or one forward pass); raises GraphError
        for graphs that run in the loop instead (nodes of your own, or targets given as
        class indices).
        """
        _, inputs_fed, computed, _ = self._plan(self.outputs)
        steps, _, reached, _ = self._backward_plan(bool(inputs))
        parts = [self._compile(compiled.compile_forward, computed, inputs_fed),
                 self._compile(compiled.compile_backward, steps, reached, self.outputs[0])]
        for run, text in parts:
            if run is None:
                raise GraphError(f"this graph runs its passes as a loop, not as written-out code: {text}")
        return "\n".join(text for _, text in parts)

    # -- shapes -------------------------------------------------------------
    def _infer_shapes(self, input_shapes, nodes, partial=False):
        """Per-sample shapes of ``nodes``; raises before any node is changed."""
        shapes = {}
        for node in nodes:
            if isinstance(node, Input):
                shape = input_shapes.get(node)
            elif not node.inputs:
                shape = node.value.shape
            else:
                in_shapes = [shapes.get(id(i), i.shape) for i in node.inputs]
                shape = None if any(s is None for s in in_shapes) else node.infer_shape(*in_shapes)
            shapes[id(node)] = shape
        for node in nodes:
            shape = shapes[id(node)]
            if shape is not None or not partial:
                shape = None if shape is None else tuple(shape)
                if shape != node.shape:  # (nodes may be shared: other graphs re-check theirs)
                    if shape is None:    # to be learned from its value: counted then, if it differs
                        self._forgotten[id(node)] = node.shape
                    else:
                        _clock.shapes += 1
                    node.shape = shape

    def _feed_arrays(self, feed, inputs):
        """Look up and convert the fed array of each Input in ``inputs``; return them and their shapes."""
        if not isinstance(feed, dict):
            raise TypeError(f"feed must be a dict mapping Input nodes or names to arrays, "
                            f"got {type(feed).__name__}")
        arrays, shapes = [], []
        dtype = self.dtype
        for inp in inputs:
            value = feed.get(inp.name, _MISSING)  # by name (the usual way) or by the node itself
            if value is _MISSING:
                value = feed.get(inp, _MISSING)
                if value is _MISSING:
                    raise GraphError(f"feed is missing Input '{inp.name}' (it was given: "
                                     f"{', '.join(_key_name(k) for k in feed) or 'nothing'})")
            if type(value) is not np.ndarray or value.dtype != dtype:  # the fast path: already right
                value = as_float_array(value, f"feed for Input '{inp.name}'", dtype)
            arrays.append(value)
            shapes.append(value.shape)
        if len(feed) > len(inputs):
            self._check_unknown_keys(feed, inputs)
        return arrays, shapes

    def _check_unknown_keys(self, feed, inputs):
        wanted = {id(i) for i in inputs} | {i.name for i in inputs}
        for key in feed:
            if (id(key) if isinstance(key, Node) else key) in wanted:
                continue
            if isinstance(key, Node):
                if id(key) not in self._index:
                    raise GraphError(f"feed has {key.kind} '{key.name}', which is not in this graph")
                if not isinstance(key, Input):
                    raise GraphError(f"feed has {key.kind} '{key.name}': only Input nodes can be fed")
                continue  # an Input of this graph that this run does not need
            if not isinstance(key, str):
                raise TypeError(f"feed keys must be Input nodes or their names, got {key!r}")
            if key not in self._by_name:
                raise GraphError(f"feed has '{key}', which names no node of this graph "
                                 f"(its inputs: {', '.join(i.name for i in self.inputs)})")
            node = self._by_name[key]
            if not isinstance(node, Input):
                raise GraphError(f"feed has {node.kind} '{key}': only Input nodes can be fed")
            # A name appearing twice (as node and as name) is caught here.
        keys = [_key_name(k) for k in feed]
        dup = {k for k in keys if keys.count(k) > 1}
        if dup:
            raise GraphError(f"feed gives Input '{sorted(dup)[0]}' twice (as the node and by name)")

    def _sample_shapes(self, inputs, arrays):
        """Decide the batch axis: returns ({Input: per-sample shape}, batch size or None) for this pass."""
        batch, batch_from = None, None
        one_sample = []
        shapes = {}
        for inp, a in zip(inputs, arrays):
            declared = inp.declared_shape
            if declared is not None:
                if a.shape == declared:
                    is_batch = False
                elif a.ndim == len(declared) + 1 and a.shape[1:] == declared:
                    is_batch = True
                else:
                    expected = f"{declared} (one sample) or (n, {', '.join(map(str, declared))}) (a batch)"
                    hint = ""
                    if declared == (1,) and a.ndim == 1:
                        hint = "; for one number per sample pass a column such as T[:, None], or declare shape=()"
                    elif declared == () and a.ndim == 2 and a.shape[1] == 1:
                        hint = "; pass a flat array (.ravel()) or declare shape=(1,)"
                    raise GraphError(f"Input '{inp.name}': expected shape {expected.replace(', )', ')')}, "
                                     f"got {a.shape}{hint}")
            else:
                is_batch = a.ndim >= 2
            if is_batch:
                if batch is None:
                    batch, batch_from = a.shape[0], inp
                elif a.shape[0] != batch:
                    raise GraphError(f"Input '{inp.name}' has {a.shape[0]} rows but Input "
                                     f"'{batch_from.name}' has {batch}: batch sizes must match")
                shapes[inp] = a.shape[1:]
            else:
                one_sample.append((inp, a))
                shapes[inp] = a.shape
        if batch is not None:
            if batch == 0:
                raise GraphError(f"Input '{batch_from.name}' is an empty batch (0 rows)")
            for inp, a in one_sample:
                if inp.declared_shape is None and a.ndim == 1 and a.shape[0] == batch:
                    shapes[inp] = ()
                else:
                    raise GraphError(f"Input '{inp.name}' has shape {a.shape}, which is not a batch of "
                                     f"{batch} rows like Input '{batch_from.name}' {arrays[inputs.index(batch_from)].shape}")
        return shapes, batch

    # -- forward ------------------------------------------------------------
    def _plan(self, targets):
        """(nodes, inputs, computed, reaches_output) of a pass that computes ``targets``, made once
        (``_forward_plan`` keeps the outputs' plan at hand for ``_evaluate``)."""
        key = tuple(id(t) for t in targets)
        plan = self._plans.get(key)
        if plan is None:
            for t in targets:
                if not isinstance(t, Node):
                    raise TypeError(f"expected a tinygraph Node to run, got {type(t).__name__}")
                if id(t) not in self._index:
                    raise GraphError(f"{t.kind} '{t.name}' is not in this graph")
            needed = {id(n) for n in topological_order(targets)}
            nodes = [n for n in self.nodes if id(n) in needed]
            inputs = [n for n in nodes if isinstance(n, Input)]
            computed = [(n, n.forward, n.inputs) for n in nodes if n.inputs]
            reaches_output = any(n is self.outputs[0] for n in nodes)
            plan = self._plans[key] = (nodes, inputs, computed, reaches_output)
            if targets is self.outputs:
                self._forward_plan = plan
        return plan

    def _evaluate(self, targets, feed, check_finite):
        self._ready = False  # until this pass has finished: a failed pass leaves nothing to differentiate
        plan = self._forward_plan if targets is self.outputs else None
        nodes, inputs, computed, reaches_output = plan or self._plan(targets)
        arrays, shapes = self._feed_arrays(feed, inputs)
        for constant in self._constants:  # shared with a graph of another dtype: ours again
            if constant.value.dtype != self.dtype:
                constant.value = constant.as_dtype(self.dtype)
        if shapes != self._shapes or nodes is not self._shaped or self._shape_count != _clock.shapes or \
                any(map(operator.is_not, map(_VALUE, self._leaves), self._values)):
            # new shapes, here or (in shared nodes) from another graph, or a Parameter's or
            # Constant's value replaced (maybe by one of another shape or dtype): check them all first
            sample_shapes, self._rows = self._sample_shapes(inputs, arrays)
            self._infer_shapes(sample_shapes, nodes)
            self._shapes, self._shaped, self._shape_count = shapes, nodes, _clock.shapes
            self._values = [n.value for n in self._leaves]
            # the code knows every array's shape and the leaves' dtypes
            signature = (self._rows, tuple(v.dtype for v in self._values)) + tuple(n.shape for n in self.nodes)
            code = self._codes.pop(signature, None)
            if code is None and len(self._codes) >= 8:  # keep the code of the last few sets of shapes
                del self._codes[next(iter(self._codes))]
            self._compiled = self._codes[signature] = code or {}
        stamp = self._stamp = _clock.last = next(_passes)
        code = None if check_finite else self._compiled.get(id(nodes), _MISSING)
        if code is _MISSING or code is _NEXT_TIME:
            code = self._write(id(nodes), code, compiled.compile_forward, computed, inputs)
        if code is not None:
            code(stamp, *arrays)  # the loop's work, written out for this graph (compiled.py)
        else:
            for inp, a in zip(inputs, arrays):
                inp.value = a
                inp.stamp = stamp
            self._forward_loop(computed, inputs, check_finite)
            self._note_dtypes(id(nodes))
        self._ready = reaches_output
        self._fed = inputs

    def _forward_loop(self, computed, inputs, check_finite):
        """Compute each node's value from its inputs', in topological order."""
        for node, forward, ins in computed:
            relearn = node.shape is None  # (below a user node without infer_shape)
            unknown = relearn and self._shape_from_inputs(node, ins)
            value = forward(*[i.value for i in ins])
            node.value = value if type(value) is np.ndarray else np.asarray(value)
            if unknown:  # a user node without infer_shape: learn its shape from its value
                batched = self._data_dependent[id(node)] and any(
                    i.value.ndim > len(i.shape) for i in inputs)
                node.shape = node.value.shape[1:] if batched else node.value.shape
            if relearn and node.shape != self._forgotten.pop(id(node), None):
                _clock.shapes += 1  # a real change: graphs sharing the node check theirs again
            if check_finite and not np.all(np.isfinite(node.value)):
                raise GraphError(f"{node.kind} '{node.name}' produced a non-finite value "
                                 f"(nan or inf) in the forward pass: {_summary(node.value)}")

    @staticmethod
    def _shape_from_inputs(node, ins):
        """Infer a node's per-sample shape once its inputs' are known; True if only its value can tell."""
        shapes = [i.shape for i in ins]
        if any(s is None for s in shapes):
            return True
        shape = node.infer_shape(*shapes)
        node.shape = None if shape is None else tuple(shape)
        return node.shape is None

    def forward(self, feed, check_finite=False):
        """Compute every node's ``.value``; return the value of the first output.

        ``feed`` maps each Input (the node or its name) to an array: one sample,
        or a batch with a leading axis.  ``check_finite=True`` names the first node
        whose value is nan or inf.  The returned array is a copy: the nodes' own
        ``.value`` arrays are reused by the next pass.
        """
        self._evaluate(self.outputs, feed, check_finite)
        return self.outputs[0].value.copy()

    def run(self, nodes, feed, check_finite=False):
        """Evaluate only what ``nodes`` (a node or name, or a list of them) need; return their values.

        Inputs that those nodes do not depend on need not be fed (predicting
        needs no targets).  The returned arrays are copies.
        """
        single = isinstance(nodes, (Node, str))
        targets = tuple(self._node(t, "run") for t in ((nodes,) if single else nodes))
        self._evaluate(targets, feed, check_finite)
        return targets[0].value.copy() if single else [t.value.copy() for t in targets]

    def _node(self, item, what):
        if isinstance(item, str):
            if item not in self._by_name:
                raise GraphError(f"{what}: no node named {item!r} in this graph (names: "
                                 f"{', '.join(self._by_name)})")
            return self._by_name[item]
        return item

    # -- backward -----------------------------------------------------------
    def _backward_plan(self, inputs):
        """What backward does, worked out once: ``(steps, unreached, reached, zero)``.

        ``steps``: for each node whose gradient is wanted, in reverse order, its backward
        method, its needs, and the inputs it sends a gradient to, each marked ``first``
        if no consumer before it (in reverse order) sends it one.  ``unreached``: the
        nodes no gradient reaches (``zero``: the Parameters among them); ``reached``:
        the others, in topological order.
        """
        plan = self._backward_plans.get(inputs)
        if plan is None:
            ancestors = {id(n) for n in topological_order(self.outputs[:1])}
            wants = {}
            for node in self.nodes:
                leaf_wanted = isinstance(node, Parameter) or (inputs and not node.inputs)
                wants[id(node)] = id(node) in ancestors and (
                    leaf_wanted or any(wants[id(i)] for i in node.inputs))
            steps, reached = [], {id(self.outputs[0])}
            for n in reversed(self.nodes):
                if wants[id(n)] and n.inputs:
                    needs = tuple(wants[id(i)] for i in n.inputs)
                    sends = []
                    for k, i in enumerate(n.inputs):
                        if needs[k]:
                            sends.append((k, i, id(i) not in reached))
                            reached.add(id(i))
                    trusted = compiled.is_builtin(n)  # ours return gradients of the right shapes
                    steps.append((n, n.backward, needs, tuple(sends), trusted))
            unreached = [n for n in self.nodes if id(n) not in reached]
            reached = [n for n in self.nodes if id(n) in reached]
            zero = [n for n in unreached if isinstance(n, Parameter)]  # the output does not depend on them
            plan = self._backward_plans[inputs] = (steps, unreached, reached, zero)
        return plan

    def backward(self, inputs=False, check_finite=False, hook=None):
        """Backpropagate from the first output: fill ``.grad`` = ∂E/∂(node).

        Seeds ∂E/∂E = 1 at the (scalar) output, then visits the nodes in reverse
        topological order; each node's ``backward`` turns its ``grad`` into one
        gradient per input, and an input that feeds several consumers receives the
        sum.  Gradients are recomputed from zero on every call.  Parameters and
        the computed nodes that depend on them get a ``.grad``; Inputs and
        Constants (and nodes computed from them alone) only with ``inputs=True``.
        ``hook(node, grads)``, if given, is called after each node's backward with
        the gradients it returned (``tg.trace`` records the steps this way; the arrays
        are the nodes' own, reused by the next pass: copy what you keep).
        """
        out = self.outputs[0]
        if not self._ready:
            why = (f"the last pass did not compute output {out.kind} '{out.name}' (a graph.run of "
                   "other nodes, or a forward pass that failed)" if self._fed is not None else
                   f"output {out.kind} '{out.name}' has no value yet")
            raise GraphError(f"backward needs a forward pass first: call graph.forward(feed) "
                             f"before graph.backward() ({why})")
        if _clock.last != self._stamp:  # another graph ran since: did it feed one of our Inputs?
            for node in self._fed:
                if node.stamp != self._stamp:
                    raise GraphError(f"{node.kind} '{node.name}' was fed by another graph since this "
                                     "graph's forward pass; call forward again before backward")
        value = out.value
        if value.size != 1:
            raise GraphError(f"backward needs a scalar output, but {out.kind} '{out.name}' has "
                             f"shape {value.shape}; use a loss node (or Sum) as the first output")
        steps, unreached, reached, zero = self._backward_plan(bool(inputs))
        for node in unreached:  # the rest get their gradient (or None) from their first consumer
            node.grad = None
        seed = self._seed
        if seed.shape != value.shape or seed.dtype != value.dtype:
            seed = self._seed = np.ones_like(value)
            seed.flags.writeable = False
        out.grad = seed                             # ∂E/∂E = 1 (read-only: shared between calls)
        code = None
        if hook is None and not check_finite:
            code = self._compiled.get(id(steps), _MISSING)
            if code is _MISSING or code is _NEXT_TIME:
                code = self._write(id(steps), code, compiled.compile_backward, steps, reached, out)
        if code is not None:
            code(seed)  # the loop's calls, written out for this graph (compiled.py)
        else:
            self._backward_loop(steps, hook, check_finite)
            self._note_dtypes(id(steps))
            zero = [p for p in self._parameters if p.grad is None]  # (or given None: class indices)
        for node in zero:  # a parameter the output does not depend on: a zero gradient
            node.grad = np.zeros_like(node.value)

    def _write(self, key, before, compile_plan, plan, *args):
        """The written-out code of a plan, or None: the loop runs it this time.

        A plan is written out on its second pass with the same shapes (a graph run
        once never pays for it) and only up to ``compiled.MAX_NODES`` nodes (writing
        out costs 25–35 µs a node).
        """
        if len(plan) > compiled.MAX_NODES:
            self._compiled[key] = None
            return None
        if before is _MISSING:  # the plan's first pass with these shapes: the loop runs it
            self._compiled[key] = _NEXT_TIME
            return None
        code, _ = self._compile(compile_plan, plan, *args, seen=self._compiled.get(("dtypes", key)))
        if code is not None or all(entry[0].shape is not None for entry in plan):
            self._compiled[key] = code  # (a shape still unknown: try again on the next pass)
        return code

    def _note_dtypes(self, key):
        """After a plan's first pass in the loop: the dtypes of this graph's values and gradients,
        for its code (written on the next pass, when nodes shared with another graph may hold
        that graph's arrays)."""
        if self._compiled.get(key) is _NEXT_TIME:
            self._compiled["dtypes", key] = {id(n): (_dtype(n.value), _dtype(n.grad)) for n in self.nodes}

    def _compile(self, compile_plan, plan, *args, seen=None):
        """(function, source) of a plan written out by ``compile_plan``, or (None, why not).

        The code is for passes of this graph with the current shapes: the nodes' shapes
        with the batch axis, if any, and the dtypes of their values and gradients as
        ``seen`` holds them (node id: (dtype, gradient's dtype), from such a pass of this
        graph) or, without them, as the nodes' arrays have them now (the graph's dtype if none).
        """
        rows, data = self._rows, self._data_dependent

        def shape(node):
            return node.shape if rows is None or not data[id(node)] else (rows,) + node.shape

        def dtype(node):
            known = seen.get(id(node), (None,))[0] if seen else None
            return known or _dtype(node.value) or self.dtype

        def grad_dtype(node):
            known = seen.get(id(node), (None, None))[1] if seen else None
            return known or _dtype(node.grad) or dtype(node)
        arrays = compiled.Arrays(shape, dtype, grad_dtype)
        return compile_plan(plan, *args, compiled.variable_names(self.nodes), repr(self), arrays)

    @staticmethod
    def _backward_loop(steps, hook, check_finite):
        """Visit the nodes in reverse order: each turns its gradient into its inputs' (the chain rule)."""
        for node, backward, needs, sends, trusted in steps:  # reverse order: consumers first
            grad_out = node.grad
            if grad_out is None:  # no consumer sent this node a gradient: neither does it
                for k, inp, first in sends:
                    if first:
                        inp.grad = None
                continue
            node.needs = needs
            grads = backward(grad_out)
            if not trusted:
                grads = _checked_gradients(node, needs, grads)
            for k, inp, first in sends:
                g = grads[k]
                if type(g) is not np.ndarray and g is not None:
                    g = np.asarray(g)  # (a numpy scalar)
                if first or inp.grad is None:
                    inp.grad = g
                elif g is not None:
                    inp.grad = inp.grad + g  # the sum over consumers
            if hook is not None:
                hook(node, grads)
            if check_finite:
                for inp, g in zip(node.inputs, grads):
                    if g is not None and not np.all(np.isfinite(g)):
                        raise GraphError(f"{node.kind} '{node.name}' produced a non-finite gradient "
                                         f"for '{inp.name}' in the backward pass: {_summary(g)}")


def _checked_gradients(node, needs, grads):
    """The gradients a user node's backward returned, as arrays of its inputs' shapes."""
    if len(grads) != len(needs):
        raise GraphError(f"{node.kind} '{node.name}': backward returned {len(grads)} "
                         f"gradients for {len(needs)} inputs")
    checked = []
    for inp, g in zip(node.inputs, grads):
        if g is not None:
            g = np.asarray(g)
            if g.shape != inp.value.shape:
                raise GraphError(f"{node.kind} '{node.name}': backward returned a gradient of shape "
                                 f"{g.shape} for input '{inp.name}' of shape {inp.value.shape}")
        checked.append(g)
    return checked


_MISSING = object()
_VALUE = operator.attrgetter("value")
_NEXT_TIME = object()  # a plan's first pass ran in the loop: write it out on the next
_passes = itertools.count(1)  # every forward pass of every graph gets its own number


class _Clock:
    last = 0    # the number of the latest forward pass of any graph
    shapes = 0  # how many times any graph has changed a node's inferred shape


_clock = _Clock()


def _dtype(array):
    return None if array is None else array.dtype


def _key_name(key):
    return key.name if isinstance(key, Node) else str(key)


def _summary(a):
    a = np.asarray(a)
    bad = np.flatnonzero(~np.isfinite(a))
    return f"shape {a.shape}, {bad.size} of {a.size} elements non-finite (first at flat index {bad[0]})"
