"""A graph's forward and backward passes written out as straight-line Python.

``Graph.forward`` and ``Graph.backward`` are loops over the nodes (graph.py): the
reference, with every check, used for any graph.  For a graph of tinygraph's own
nodes whose shapes are known, the graph also writes the same calls out once, one
line per node in the same order, and runs that code instead: the CPU runs a
sequence of calls faster than a loop that calls a different method at every turn
(benchmarks/README.md has the numbers).  The values are the same, bit for bit.

``Graph.source()`` shows the code; it is the chain rule unrolled for that graph::

    def backward(grad_E):
        node_E.grad = grad_E
        node_E.needs = (True, False)
        grad_o, _ = backward_E(grad_E)                 # SquaredLoss 'E': ∂E/∂o = o − t
        ...
"""

import itertools
import keyword
import linecache

import numpy as np

_RESERVED = ("node_", "forward_", "backward_", "grad_", "_")  # prefixes of the code's own names
_files = itertools.count(1)


def is_builtin(node):
    """A node class of tinygraph itself: its forward and backward return arrays of the right shapes."""
    return type(node).__module__.startswith("tinygraph.")


def _names(nodes):
    """A Python variable name for each node's value: its own name when that is one, else _v<index>."""
    names = {}
    for i, node in enumerate(nodes):
        name = node.name
        ok = name.isidentifier() and not keyword.iskeyword(name) and not name.startswith(_RESERVED)
        names[id(node)] = name if ok else f"_v{i}"
    return names


def _why(node):
    if not is_builtin(node):
        return f"{node.kind} '{node.name}' is not one of tinygraph's own nodes"
    return f"{node.kind} '{node.name}' has no known shape yet (run a forward pass first)"


def _comment(node, text):
    return f"{node.kind} '{node.name}'" + (f": {text}" if text else "")


def _build(name, title, lines, namespace):
    """Compile ``lines`` (a function's source) and return the function and its source.

    The source is registered with linecache, so a traceback through it shows the line.
    """
    source = "\n".join(lines) + "\n"
    filename = f"<tinygraph {name} #{next(_files)} of {title}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name], source


def _line(code, comment):
    return f"    {code:<48} # {comment}" if comment else f"    {code}"


def compile_forward(nodes, inputs, title):
    """``forward(*fed arrays)``: compute and store every computed node's value, in order.

    (None, the reason) if some node is not one of tinygraph's own or has no known shape.
    """
    computed = [n for n in nodes if n.inputs]
    for node in computed:
        if not is_builtin(node) or node.shape is None:
            return None, _why(node)
    names = _names(nodes)
    namespace = {"_ndarray": np.ndarray, "_asarray": np.asarray, "_type": type}
    lines = [f"def forward(_stamp, {', '.join(names[id(i)] for i in inputs)}):",
             f'    """The forward pass of {title}, one line per node."""']
    for inp in inputs:  # the fed arrays, and the number of the pass that fed them
        var = names[id(inp)]
        namespace[f"node_{var}"] = inp
        lines.append(_line(f"node_{var}.value, node_{var}.stamp = {var}, _stamp", f"{inp.kind} '{inp.name}'"))
    leaves = [n for n in nodes if not n.inputs and n not in inputs]
    for leaf in leaves:
        namespace[f"node_{names[id(leaf)]}"] = leaf
        lines.append(_line(f"{names[id(leaf)]} = node_{names[id(leaf)]}.value",
                           f"{leaf.kind} '{leaf.name}'"))
    for node in computed:
        var = names[id(node)]
        namespace[f"node_{var}"], namespace[f"forward_{var}"] = node, node.forward
        args = ", ".join(names[id(i)] for i in node.inputs)
        lines.append(_line(f"{var} = forward_{var}({args})", _comment(node, node.formula)))
        if node.shape == ():  # one number per sample: numpy may return a numpy scalar
            lines.append(f"    if _type({var}) is not _ndarray: {var} = _asarray({var})")
        lines.append(f"    node_{var}.value = {var}")
    return _build("forward", title, lines, namespace)


def compile_backward(steps, reached, output, title):
    """``backward(seed)``: the chain rule from the output back, as ``Graph.backward`` runs it.

    ``steps`` is the backward plan (node, backward, needs, sends, trusted) in reverse
    topological order and ``reached`` the nodes that receive a gradient.  Each
    node's gradient is the sum of what its consumers send; it is final, and stored
    in ``node.grad``, before the node's own backward runs.  (None, the reason) if
    some node is not one of tinygraph's own, has no known shape, or may send no gradient to an input
    it was asked for (those graphs stay with the loop, which handles them).
    """
    for node, _, needs, _, _ in steps:
        if not is_builtin(node) or node.shape is None:
            return None, _why(node)
        if any(needs[k] for k in node.no_gradient_for):
            return None, (f"{node.kind} '{node.name}' may send no gradient to "
                          f"'{node.inputs[node.no_gradient_for[0]].name}' (class indices)")
    names = _names(reached)
    namespace = {"_ndarray": np.ndarray, "_asarray": np.asarray, "_type": type}
    grad = {id(n): f"grad_{names[id(n)]}" for n in reached}
    lines = [f"def backward({grad[id(output)]}):",
             f'    """The backward pass of {title}: each node\'s gradient, then what it sends back."""']
    temps = itertools.count()
    for node, _, needs, sends, _ in steps:
        var = names[id(node)]
        namespace[f"node_{var}"], namespace[f"backward_{var}"] = node, node.backward
        lines.append(f"    node_{var}.grad = {grad[id(node)]}")
        lines.append(f"    node_{var}.needs = {needs!r}")
        targets, sums = ["_"] * len(node.inputs), []
        for k, inp, first in sends:
            if first:
                targets[k] = grad[id(inp)]
            else:
                targets[k] = f"_g{next(temps)}"
                sums.append((grad[id(inp)], targets[k]))
        unpack = ", ".join(targets) + ("," if len(targets) == 1 else "")
        lines.append(_line(f"{unpack} = backward_{var}({grad[id(node)]})",
                           _comment(node, node.derivative)))
        for k, inp, first in sends:
            if inp.shape == ():  # one number per sample: numpy may return a numpy scalar
                g = targets[k]
                lines.append(f"    if _type({g}) is not _ndarray: {g} = _asarray({g})")
        for total, part in sums:
            lines.append(_line(f"{total} = {total} + {part}", "summed over the consumers"))
    stepped = {id(s[0]) for s in steps}
    for node in reached:  # leaves (and nodes no step visits): their gradient is complete
        if id(node) not in stepped and node is not output:
            namespace[f"node_{names[id(node)]}"] = node
            lines.append(f"    node_{names[id(node)]}.grad = {grad[id(node)]}")
    return _build("backward", title, lines, namespace)
