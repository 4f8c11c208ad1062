"""What a graph works out once: the order of its nodes and the plans of its passes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import GraphError
from .leaves import Input, Parameter
from .node import Node


def topological_order(outputs: Sequence[Node]) -> list[Node]:
    """Every node the outputs depend on, each after all of its inputs.

    Iterative depth-first search (no recursion limit), deterministic: inputs are visited
    in the order they were given, never through a set.

    Parameters
    ----------
    outputs : sequence of Node
        The nodes to start from; each comes after everything it depends on.

    Returns
    -------
    list of Node
        Every node reached, once, each after all of its inputs: the order of a forward
        pass (backward visits it in reverse).

    Raises
    ------
    tinygraph.GraphError
        If a node depends on itself (a cycle).

    Notes
    -----
    ``Graph`` computes this order once, as ``graph.nodes``.

    Examples
    --------
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> z = tg.WeightedSum(x, tg.Parameter([1.0, 2.0], name="w"), name="z")
    >>> E = tg.SquaredLoss(tg.Logistic(z, name="y"), tg.Input("t", shape=()), name="E")
    >>> [n.name for n in tg.topological_order([E])]
    ['x', 'w', 'z', 'y', 't', 'E']
    """
    order: list[Node] = []
    done: set[int] = set()
    on_path: set[int] = set()
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


class ForwardPlan:
    """A forward pass that computes ``targets``: the nodes it needs, in topological order.

    ``args`` is the order in which the pass takes its arrays: the fed Inputs, then the
    values of the Parameters and Constants it reads, and of every other Parameter of the graph
    (they decide the graph's dtype: a pass follows them even where it does not read them).
    ``setups`` holds what the graph learns about passes of this plan, one Setup per set of
    shapes (the most recent few).
    """

    def __init__(self, nodes: Sequence[Node], targets: Sequence[Node], output: Node) -> None:
        needed = {id(n) for n in topological_order(targets)}
        self.nodes = [n for n in nodes if id(n) in needed]
        self.inputs = [n for n in self.nodes if isinstance(n, Input)]
        self.leaves = [
            n
            for n in nodes
            if (id(n) in needed and not n.inputs and not isinstance(n, Input)) or isinstance(n, Parameter)
        ]
        self.computed = [n for n in self.nodes if n.inputs]
        self.args = self.inputs + self.leaves

        self.reaches_output = id(output) in needed
        self.key: tuple = ("forward",) + tuple(targets)
        self.setups: dict[Any, Any] = {}
        self.last: Any = None  # what the last pass was fed (graph.Last)


class BackwardPlan:
    """What backward does from ``output``: which nodes send gradients, to whom, in what order.

    ``steps``: for each node whose gradient is wanted, in reverse topological order,
    ``(node, needs, sends)``; ``sends`` lists ``(k, input, first)`` for each input k that
    wants a gradient, ``first`` when no consumer before it (in this order) sends it one.
    ``reached``: the nodes that receive a gradient; ``unreached``: the others; ``zero``:
    the Parameters among them (the output does not depend on them: a zero gradient).
    """

    def __init__(self, nodes: Sequence[Node], output: Node, inputs: bool) -> None:
        ancestors = {id(n) for n in topological_order([output])}
        wants: dict[int, bool] = {}
        for node in nodes:
            leaf_wanted = isinstance(node, Parameter) or (inputs and not node.inputs)
            wants[id(node)] = id(node) in ancestors and (leaf_wanted or any(wants[id(i)] for i in node.inputs))
        self.steps, reached = [], {id(output)}
        for node in reversed(nodes):
            if wants[id(node)] and node.inputs:
                needs = tuple(wants[id(i)] for i in node.inputs)
                sends = []
                for k, inp in enumerate(node.inputs):
                    if needs[k]:
                        sends.append((k, inp, id(inp) not in reached))
                        reached.add(id(inp))
                self.steps.append((node, needs, tuple(sends)))
        self.reached = [n for n in nodes if id(n) in reached]
        self.unreached = [n for n in nodes if id(n) not in reached]
        self.zero = [n for n in self.unreached if isinstance(n, Parameter)]
        self.key = ("backward", bool(inputs))
