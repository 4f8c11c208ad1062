"""A graph's forward and backward passes written out as straight-line Python.

``Graph.forward`` and ``Graph.backward`` are loops over the nodes (graph.py): the
reference, with every check, used for any graph.  For a graph of tinygraph's own
nodes whose shapes are known, the graph also writes the same work out once, in the
same order, and runs that code instead: the CPU runs a sequence of calls faster than
a loop that calls a different method at every turn (benchmarks/README.md has the
numbers).  Nodes that say how (``Node.forward_code`` and ``backward_code``) are
written as their numpy calls, since for a few numbers the calls cost more than the
arithmetic; the others as calls of their methods.  The code is written for one set
of shapes (one sample, or a batch of one size) and checks nothing itself: the Graph
runs it only for passes like those.  The values are the same, bit for bit.

``Graph.source()`` shows the code; it is the chain rule unrolled for that graph::

    def backward(grad_E):
        node_E.grad = grad_E
        # SquaredLoss 'E': ∂E/∂o = o − t
        grad_o = np.multiply(node_E.diff, grad_E)
        ...
"""

import itertools
import keyword
import linecache
import re
import weakref

import numpy as np

from .node import NotWrittenOut, _argument_name

MAX_NODES = 5000  # larger plans stay with the loop: writing out 50,000 nodes takes seconds
_RESERVED = ("node_", "forward_", "backward_", "grad_", "_")  # prefixes of the code's own names (and np)
_files = itertools.count(1)
_WORD = re.compile(r"[A-Za-z_]\w*")  # the names in a line of code (node variables are ASCII)


def is_builtin(node):
    """A node class of tinygraph itself: its backward returns one gradient per input, each
    an array of that input's shape or (for one number per sample) a numpy scalar."""
    return type(node).__module__.startswith("tinygraph.")


def variable_names(nodes):
    """A Python variable name for each node: its own name when that is a plain (ASCII)
    Python name, else _v<index>.  ``nodes`` is the whole graph, so both passes agree."""
    names = {}
    for i, node in enumerate(nodes):
        name = node.name
        ok = (name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
              and not name.startswith(_RESERVED) and name != "np")
        names[id(node)] = name if ok else f"_v{i}"
    return names


def _text(text):
    """Text safe to put in a comment: one line, printable characters only."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def _comment(node, formula):
    return _text(f"{node.kind} '{node.name}'" + (f": {formula}" if formula else ""))


def _symbols(node, var, ins):
    """"(y: h1, z: z1)": the variables that stand for the formula's symbols, where they differ."""
    pairs = [(node.formula.split(" = ")[0], var)] + [(_argument_name(node, i), v) for i, v in enumerate(ins)]
    shown = [f"{symbol}: {name}" for symbol, name in pairs if symbol and symbol.isidentifier() and symbol != name]
    return f"  ({', '.join(shown)})" if shown else ""


_LEGEND = [("np.", "np is numpy"),
           ("_SIGMOID[", "_SIGMOID[dtype]: σ's clip bounds and 1, as arrays of that dtype"),
           (", out=_", "out=_<node>_<array>: an array the node keeps between passes"),
           ("_asarray(", "_asarray: numpy.asarray (one number per sample comes back as a numpy scalar)")]


def _legend(lines):
    """Comment lines saying what the names the code uses but does not define are."""
    body = "\n".join(lines)
    return [f"    # {text}" for mark, text in _LEGEND if mark in body]


def _line(code, comment):
    return f"    {code:<48} # {comment}"


def _build(name, title, lines, namespace):
    """Compile ``lines`` (a function's source: its def, docstring and body) and return the
    function and its source, with a legend of the names it uses after the docstring.

    The source is registered with linecache for as long as the function lives, so a
    traceback printed by the traceback module (pytest, IPython, logging) shows the line.
    """
    lines = lines[:2] + _legend(lines[2:]) + lines[2:]
    source = "\n".join(lines) + "\n"
    filename = f"<tinygraph {name} #{next(_files)} of {_text(title)}>"
    exec(compile(source, filename, "exec"), namespace)
    function = namespace[name]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function, source


def _docstring(text):
    return f"    {_text(text)!r}"


def written_out(node, method, name):
    """Whether the bound ``method`` (``name`` "forward" or "backward") the plan calls is the
    one the class's ``forward_code``/``backward_code`` lines stand for (not one set since)."""
    for cls in type(node).__mro__:
        if f"{name}_code" in vars(cls):
            return getattr(method, "__func__", None) is vars(cls).get("_code_for", {}).get(name)
    return False


def _lines(namespace, code, *args):
    """The lines ``code`` (a node's forward_code or backward_code) writes, their names added to
    ``namespace``; None if the node is to be called instead."""
    names = {}
    try:
        lines = code(*args, names)
    except NotWrittenOut:
        return None
    if lines:
        namespace.update(names)
    return lines


class Arrays:
    """The arrays of the passes some code is for: ``shape(node)``, a node's whole shape (with
    the batch axis, if any), ``dtype(node)`` its value's dtype and ``grad_dtype(node)`` its
    gradient's."""

    def __init__(self, shape, dtype, grad_dtype):
        self.shape, self.dtype, self.grad_dtype = shape, dtype, grad_dtype


def compile_forward(computed, inputs, names, title, arrays):
    """``forward(stamp, *fed arrays)``: store the fed arrays in their Inputs, then compute
    and store every computed node's value, in order.

    ``computed`` is the forward plan's (node, forward, inputs) in topological order;
    ``arrays`` (an Arrays) tells the shapes and dtypes of the passes this code is for.
    Nodes that say how (``Node.forward_code``) are written out as their numpy calls,
    the others as calls of ``forward``.
    Returns (function, source), or (None, the reason) if some node is not one of
    tinygraph's own or has no known shape.
    """
    for node, _, _ in computed:
        if not is_builtin(node) or node.shape is None:
            return None, _why(node)
    namespace = {"_asarray": np.asarray, "np": np}
    lines = [f"def forward(_stamp, {', '.join(names[id(i)] for i in inputs)}):",
             _docstring(f"The forward pass of {title}, node by node.")]
    for inp in inputs:  # the fed arrays, and the number of the pass that fed them
        var = names[id(inp)]
        namespace[f"node_{var}"] = inp
        lines.append(_line(f"node_{var}.value, node_{var}.stamp = {var}, _stamp", _comment(inp, None)))
    done = {id(i) for i in inputs}
    for node, forward, ins in computed:
        for leaf in ins:  # Parameters and Constants: read when first used
            if id(leaf) not in done and not leaf.inputs:
                done.add(id(leaf))
                var = names[id(leaf)]
                namespace[f"node_{var}"] = leaf
                lines.append(_line(f"{var} = node_{var}.value", _comment(leaf, None)))
        var = names[id(node)]
        namespace[f"node_{var}"] = node
        code = written_out(node, forward, "forward") and _lines(
            namespace, node.forward_code, var, [names[id(i)] for i in ins], arrays)
        if code:  # the node's numpy calls themselves
            if node.shape == ():  # one number per sample: numpy may hand back a numpy scalar
                code[-1] = f"{var} = _asarray({code[-1].split(' = ', 1)[1]})"  # (the last line sets var)
            symbols = _symbols(node, var, [names[id(i)] for i in ins])
            lines.append(f"    # {_comment(node, node.formula)}{symbols}")
            lines += [f"    {line}" for line in code]
        else:
            namespace[f"forward_{var}"] = forward
            call = f"forward_{var}({', '.join(names[id(i)] for i in ins)})"
            if node.shape == ():
                call = f"_asarray({call})"
            lines.append(_line(f"{var} = {call}", _comment(node, node.formula)))
        lines.append(f"    node_{var}.value = {var}")
        done.add(id(node))
    return _build("forward", title, lines, namespace)


def compile_backward(steps, reached, output, names, title, arrays):
    """``backward(seed)``: the chain rule from the output back, as ``Graph.backward`` runs it.

    ``steps`` is the backward plan (node, backward, needs, sends, trusted) in reverse
    topological order and ``reached`` the nodes that receive a gradient.  Each
    node's gradient is the sum of what its consumers send; it is final, and stored
    in ``node.grad``, before the node's own backward runs.  Nodes that say how
    (``Node.backward_code``) are written out as their numpy calls, reading the values
    they need from the nodes once; ``arrays`` as for ``compile_forward``.  Returns
    (function, source), or (None, the reason) if some node is not one of tinygraph's own, has
    no known shape, or may send no gradient to an input it was asked for (those
    graphs stay with the loop, which handles them).
    """
    for node, _, needs, _, _ in steps:
        if not is_builtin(node) or node.shape is None:
            return None, _why(node)
        for k in node.no_gradient_for:
            if needs[k]:
                return None, (f"{node.kind} '{node.name}' may send no gradient to "
                              f"'{node.inputs[k].name}' (it sends none for class indices)")
    namespace = {"_asarray": np.asarray, "np": np}
    grad = {id(n): f"grad_{names[id(n)]}" for n in reached}
    loaded = set()  # the nodes whose value a variable holds
    lines = [f"def backward({grad[id(output)]}):",
             _docstring(f"The backward pass of {title}: each node's gradient, then what it sends back.")]
    temps = itertools.count()
    for node, backward, needs, sends, _ in steps:
        var = names[id(node)]
        namespace[f"node_{var}"] = node
        lines.append(f"    node_{var}.grad = {grad[id(node)]}")
        targets, sums = ["_"] * len(node.inputs), []
        for k, inp, first in sends:
            if first:
                targets[k] = grad[id(inp)]
            else:
                targets[k] = f"_g{next(temps)}"
                sums.append((grad[id(inp)], targets[k]))
        code = written_out(node, backward, "backward") and _lines(
            namespace, node.backward_code, [t if t != "_" else None for t in targets], grad[id(node)],
            var, [names[id(i)] for i in node.inputs], arrays)
        if code:  # the node's numpy calls themselves, after reading the values they use
            lines.append(f"    # {_comment(node, node.derivative)}"
                         f"{_symbols(node, var, [names[id(i)] for i in node.inputs])}")
            used = set(_WORD.findall("\n".join(code)))
            for n in (node,) + tuple(node.inputs):
                name = names[id(n)]
                if id(n) not in loaded and name in used:
                    loaded.add(id(n))
                    namespace[f"node_{name}"] = n
                    lines.append(f"    {name} = node_{name}.value")
            lines += [f"    {line}" for line in code]
        else:  # (needs: which gradients the method is asked for)
            namespace[f"backward_{var}"] = backward
            lines.append(f"    node_{var}.needs = {needs!r}")
            unpack = ", ".join(targets) + ("," if len(targets) == 1 else "")
            call = f"{unpack} = backward_{var}({grad[id(node)]})"
            lines.append(_line(call, _comment(node, node.derivative)))
        for k, inp, first in sends:
            if inp.shape == ():  # one number per sample: numpy may hand back a numpy scalar
                lines.append(f"    {targets[k]} = _asarray({targets[k]})")
        for total, part in sums:
            lines.append(_line(f"{total} = {total} + {part}", "summed over the consumers"))
    stepped = {id(s[0]) for s in steps}
    for node in reached:  # leaves (and nodes no step visits): their gradient is complete
        if id(node) not in stepped and node is not output:
            namespace[f"node_{names[id(node)]}"] = node
            lines.append(f"    node_{names[id(node)]}.grad = {grad[id(node)]}")
    return _build("backward", title, lines, namespace)


def _why(node):
    if not is_builtin(node):
        return f"{node.kind} '{_text(node.name)}' is not one of tinygraph's own nodes"
    return f"{node.kind} '{_text(node.name)}' has no known shape yet (run a forward pass first)"
