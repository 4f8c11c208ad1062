"""The two ways a graph runs its passes: a checked loop, and the same calls unrolled.

The loop is the reference: it asks each node for what it keeps (``prepare``, once per set of shapes),
calls its ``forward`` or ``backward`` and checks what comes back.  It runs the first pass of every plan
with new shapes, and every pass with ``hook=`` or ``check_finite=``.  From then on the graph runs
straight-line code that makes the very same calls and sums the gradients in the same order, so the
results are the same bit for bit.  It knows nothing about particular nodes: the methods it calls read
the nodes' attributes at run time.  ``graph.source()`` shows it.
"""

from __future__ import annotations

import inspect
import itertools
import keyword
import linecache
import textwrap
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import GraphError
from .node import Node
from .plan import BackwardPlan, ForwardPlan
from .shapes import Setup

MAX_NODES = 5000  # larger plans stay in the loop: unrolling 50,000 nodes takes seconds
_files = itertools.count(1)


def _summary(a: np.ndarray) -> str:
    bad = np.flatnonzero(~np.isfinite(a))
    return f"shape {a.shape}, {bad.size} of {a.size} elements non-finite (first at flat index {bad[0]})"


def _prepare(node: Node, setup: Setup, values: list[np.ndarray]) -> dict:
    """Give a node its first pass with these shapes: its shape if still unknown, and what it keeps."""
    if setup.shapes[node] is None and all(setup.shapes[i] is not None for i in node.inputs):
        shape = node.infer_shape(*[setup.shapes[i] for i in node.inputs])
        setup.shapes[node] = None if shape is None else tuple(shape)
    floats = [v.dtype for v in values if v.dtype.kind == "f"]
    kept = node.prepare(
        *[v.shape for v in values],
        dtype=np.result_type(*floats) if floats else setup.dtype,
        batched=tuple(setup.batched[i] for i in node.inputs),
    )
    if not isinstance(kept, dict):
        raise node.error(f"prepare must return a dict of the attributes it keeps, got {type(kept).__name__}")
    if node.reads_mode:  # the graph's mode, kept by the node as ``mode`` (see Node.reads_mode)
        kept = dict(kept, mode=setup.mode)
    setup.kept[node] = kept
    if kept:
        setup.installs.append((node, kept))
    return kept


def _checked_value(node: Node, value: Any, setup: Setup) -> np.ndarray:
    if type(value) is not np.ndarray:
        if not isinstance(value, (np.ndarray, np.generic, int, float)) or isinstance(value, bool):
            raise node.error(f"forward returned {type(value).__name__}, expected a numpy array")
        value = np.asarray(value)
    expected, batch = setup.whole(node), setup.batch if setup.batched[node] else None
    if expected is None:  # a node without infer_shape: its value tells its shape
        if batch is not None and value.shape[:1] != (batch,):
            raise node.error(
                f"forward returned shape {value.shape}, but in a batch of {batch} every value "
                "has one row per sample (a node whose value is one number for the whole "
                "batch sets reduces_batch = True)"
            )
        setup.shapes[node] = value.shape[1:] if batch is not None else value.shape
    elif value.shape != expected:
        per = setup.shapes[node]
        raise node.error(
            f"forward returned shape {value.shape}, expected {expected} (per-sample shape "
            f"{per}{f', a batch of {batch}' if batch is not None else ''})"
        )
    setup.full[node] = value.shape
    return value


def forward_loop(plan: ForwardPlan, setup: Setup, args: Sequence[np.ndarray], check_finite: bool) -> None:
    """Compute each node's value from its inputs', in topological order, checking each."""
    values = dict(zip(plan.args, args))
    for node in plan.computed:
        ins = [values[i] for i in node.inputs]
        kept = setup.kept.get(node)
        if kept is None:
            kept = _prepare(node, setup, ins)
        node.keep(kept)
        value = node.value = values[node] = _checked_value(node, node.forward(*ins), setup)
        if check_finite and not np.all(np.isfinite(value)):
            raise GraphError(
                f"{node.kind} '{node.name}' produced a non-finite value (nan or inf) in the forward "
                f"pass: {_summary(value)}"
            )


def _checked_grads(node: Node, grads: Any, needs: tuple[bool, ...]) -> list:
    if not isinstance(grads, (tuple, list)) or len(grads) != len(needs):
        got = f"{len(grads)} gradients" if isinstance(grads, (tuple, list)) else type(grads).__name__
        raise node.error(f"backward returned {got} for {len(needs)} inputs (one gradient per input)")
    checked = []
    for k, (inp, g) in enumerate(zip(node.inputs, grads)):
        if g is not None:
            if type(g) is not np.ndarray:
                g = np.asarray(g)
            if g.shape != np.shape(inp.value):
                raise node.error(
                    f"backward returned a gradient of shape {g.shape} for input '{inp.name}' "
                    f"of shape {np.shape(inp.value)}"
                )
        elif needs[k] and k not in node.no_gradient_for:
            raise node.error(
                f"backward returned None for input '{inp.name}', whose gradient was asked for "
                "(list it in no_gradient_for if it has none)"
            )
        checked.append(g)
    return checked


def backward_loop(plan: BackwardPlan, hook: Callable | None, check_finite: bool) -> bool:
    """Visit the nodes in reverse order: each turns its gradient into its inputs' (the chain rule).

    An input fed to several consumers receives the sum.  Returns True if every gradient
    asked for came back (the unrolled code may then run this plan).
    """
    complete = True
    for node, needs, sends in plan.steps:
        grad_out = node.grad
        if grad_out is None:  # no consumer sent this node a gradient: neither does it
            complete = False
            for _, inp, first in sends:
                if first:
                    inp.grad = None
            continue
        node.needs = needs
        grads = _checked_grads(node, node.backward(grad_out), needs)
        for k, inp, first in sends:
            g = grads[k]
            complete = complete and g is not None
            if first or inp.grad is None:
                inp.grad = g
            elif g is not None:
                total = inp.grad + g  # the sum over consumers
                inp.grad = total if type(total) is np.ndarray else np.asarray(total)  # (0-d stays an array)
        if hook is not None:
            hook(node, grads)
        if check_finite:
            for inp, g in zip(node.inputs, grads):
                if g is not None and not np.all(np.isfinite(g)):
                    raise GraphError(
                        f"{node.kind} '{node.name}' produced a non-finite gradient for "
                        f"'{inp.name}' in the backward pass: {_summary(g)}"
                    )
    return complete


# -- which way a pass runs -----------------------------------------------------------------
def run_forward(plan: ForwardPlan, setup: Setup, arrays: list, check_finite: bool, names: dict, title: str) -> str:
    """Run a forward pass whose feed has been checked; return which way it ran.

    The loop on the first pass with these shapes (and with ``check_finite``), the unrolled
    code from then on.
    """
    runs = setup.runs.get(plan.key, 0)
    code = None if check_finite or not runs else setup.code.get(plan.key)
    if code is None and runs and not check_finite and plan.key not in setup.loop_only:
        if len(plan.computed) > MAX_NODES:
            setup.loop_only.add(plan.key)
        else:
            code = setup.code[plan.key] = unroll_forward(plan, setup.whole_of, names, title)[0]
    if code is None:
        forward_loop(plan, setup, arrays + setup.args, check_finite)
        setup.runs[plan.key] = runs + 1
        return "loop"
    if plan.key not in setup.enter:  # (made again after a Parameter's array was replaced)
        setup.enter[plan.key] = unroll_enter(plan, setup, names, title)
    code(*arrays, *setup.args)
    return "unrolled"


def run_backward(
    plan: BackwardPlan,
    setup: Setup,
    output: Node,
    seed: np.ndarray,
    hook: Callable | None,
    check_finite: bool,
    names: dict,
    title: str,
) -> str:
    """Run a backward pass from ``output``; return which way it ran.

    The loop on the first pass with these shapes (and with a hook or ``check_finite``), the
    unrolled code from then on.
    """
    checked = hook is not None or check_finite
    code = None if checked else setup.code.get(plan.key)
    if code is not None:
        code(seed)  # (it also clears the gradients of the nodes it does not reach)
        return "unrolled"
    runs = setup.runs.get(plan.key, 0)
    if runs and not checked and plan.key not in setup.loop_only:
        if len(plan.steps) > MAX_NODES:
            setup.loop_only.add(plan.key)
        else:
            code = setup.code[plan.key] = unroll_backward(plan, output, setup.whole_of, names, title)[0]
    if code is not None:
        code(seed)  # (it also clears the gradients of the nodes it does not reach)
        return "unrolled"
    for node in plan.unreached:
        node.grad = None
    output.grad = seed
    if not backward_loop(plan, hook, check_finite):
        setup.loop_only.add(plan.key)  # a gradient asked for came back None: stay in the loop
    setup.runs[plan.key] = runs + 1
    for node in plan.zero + [n for n in plan.reached if n.role == "parameter" and n.grad is None]:
        node.grad = np.zeros_like(node.value)  # the output does not depend on it: a zero gradient
    return "loop"


# -- the unrolled code -------------------------------------------------------------------
def variable_names(nodes: Sequence[Node]) -> dict[Node, str]:
    """Name a Python variable per node: its own name when that is a plain ASCII identifier, else _v<i>."""
    names = {}
    for i, node in enumerate(nodes):
        name = node.name
        ok = (
            name.isascii()
            and name.isidentifier()
            and not keyword.iskeyword(name)
            and not name.startswith(("node_", "grad_", "_"))
            and name != "np"
        )
        names[node] = name if ok else f"_v{i}"
    return names


def _text(text: Any) -> str:
    """Text safe in a comment or a docstring: one line of printable characters."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def _comment(node: Node, text: str | None, var: str, ins: Sequence[str]) -> str:
    """Write "# Logistic 'h': ∂y/∂z = y(1 − y)  (y: h, z: z1)": the text, and which variable is which symbol."""
    out, symbols = node.symbols()
    pairs = [(out, var)] + list(zip(symbols, ins))
    shown = [f"{s}: {v}" for s, v in pairs if s.isidentifier() and s != v]
    return _text(
        f"    # {node.kind} '{node.name}'"
        + (f": {text}" if text else "")
        + (f"  ({', '.join(shown)})" if shown else "")
    )


class _Body:
    """The method bodies ``source(expand=True)`` shows, each once."""

    def __init__(self, expand: bool) -> None:
        self.expand, self.seen = expand, set[str]()

    def __call__(self, node: Node, method: str) -> list[str]:
        function = getattr(type(node), method, None)
        if not self.expand or function is None:
            return []
        where = f"{function.__qualname__}"
        if where in self.seen:
            return [f"    #   ({where}: shown above)"]
        self.seen.add(where)
        try:
            body = textwrap.dedent(inspect.getsource(function)).splitlines()
        except (OSError, TypeError):
            return [f"    #   ({where}: its source is not available)"]
        return [f"    #   | {_text(line)}".rstrip() for line in body]


def unroll_forward(plan: ForwardPlan, whole: Callable, names: dict, title: str, expand: bool = False) -> tuple:
    """Return (function, source) of ``forward(*args)``: each node's forward called in order.

    Each value is stored in ``node.value``.  ``whole(node)`` is the whole shape of its value.
    """
    namespace: dict[str, Any] = {"_asarray": np.asarray}
    lines = [
        f"def forward({', '.join(names[n] for n in plan.args)}):",
        f"    {_text(f'The forward pass of {title}, node by node.')!r}",
    ]
    return _build("forward", title, lines + _forward_body(plan, whole, names, namespace, _Body(expand)), namespace)


def _forward_body(plan: ForwardPlan, whole: Callable, names: dict, namespace: dict, body: _Body) -> list[str]:
    lines = []
    for node in plan.computed:
        var, ins = names[node], [names[i] for i in node.inputs]
        namespace[f"node_{var}"] = node
        call = f"node_{var}.forward({', '.join(ins)})"
        if whole(node) == ():  # one number: a numpy scalar becomes a 0-d array, as in the loop
            call = f"_asarray({call})"
        lines += [_comment(node, node.formula, var, ins), f"    {var} = node_{var}.value = {call}"]
        lines += body(node, "forward")
    return lines


def unroll_backward(
    plan: BackwardPlan, output: Node, whole: Callable, names: dict, title: str, expand: bool = False
) -> tuple:
    """Return (function, source) of ``backward(seed)``: each node's backward called in reverse order.

    What a node sends is summed into its inputs' gradients as the loop sums them.
    """
    namespace: dict[str, Any] = {"_asarray": np.asarray}
    body, temps = _Body(expand), itertools.count()
    grad = {n: f"grad_{names[n]}" for n in plan.reached}
    lines = [
        f"def backward({grad[output]}):",
        f"    {_text(f'The backward pass of {title}: each node passes its gradient back.')!r}",
    ]
    for node in plan.unreached:  # (a gradient of an earlier pass, with inputs=True, is gone)
        namespace[f"node_{names[node]}"] = node
        lines.append(f"    node_{names[node]}.grad = None  # no gradient reaches it")
    namespace[f"node_{names[output]}"] = output
    lines.append(f"    node_{names[output]}.grad = {grad[output]}  # ∂E/∂E = 1")
    for node, needs, sends in plan.steps:
        var = names[node]
        namespace[f"node_{var}"] = node
        if node is not output:
            lines.append(f"    node_{var}.grad = {grad[node]}")
        targets, sums = ["_"] * len(node.inputs), []
        for k, inp, first in sends:
            targets[k] = grad[inp] if first else f"_g{next(temps)}"
            if not first:
                sums.append((grad[inp], targets[k], whole(inp) == ()))
        lines += [
            _comment(node, node.derivative, var, [names[i] for i in node.inputs]),
            f"    node_{var}.needs = {needs!r}",
            f"    {', '.join(targets)}{',' * (len(targets) == 1)} = node_{var}.backward({grad[node]})",
        ]
        lines += body(node, "backward")
        for k, inp, _ in sends:
            if whole(inp) == ():  # one number: a numpy scalar becomes a 0-d array, as in the loop
                lines.append(f"    {targets[k]} = _asarray({targets[k]})")
        for total, part, one in sums:
            sum_ = f"_asarray({total} + {part})" if one else f"{total} + {part}"
            lines.append(f"    {total} = {sum_}  # summed over its consumers")
    stepped = {step[0] for step in plan.steps}
    for node in plan.reached:  # leaves: their gradient is complete
        if node not in stepped and node is not output:
            namespace[f"node_{names[node]}"] = node
            lines.append(f"    node_{names[node]}.grad = {grad[node]}")
    namespace["_zeros_like"] = np.zeros_like
    for p in plan.zero:  # the output does not depend on them
        lines.append(f"    node_{names[p]}.grad = _zeros_like(node_{names[p]}.value)")
    return _build("backward", title, lines, namespace)


def unroll_enter(plan: ForwardPlan, setup: Setup, names: dict, title: str) -> Any:
    """Return ``enter(feed, token)``: a whole pass exactly like the last of this plan, as straight-line code.

    The graph's own work before the pass is included, then the same forward calls as
    ``forward``.  It returns False, having changed nothing, unless the feed holds exactly the
    inputs (by name or node), each an ndarray of the last pass's dtype and shape, and every
    Parameter and Constant holds the array it held (the graph then checks everything itself).
    """
    namespace: dict[str, Any] = {"_asarray": np.asarray, "_ndarray": np.ndarray, "_dtype": setup.dtype, "_missing": ...}
    fed = [names[n] for n in plan.inputs]
    lines = ["def enter(feed, _token):", f"    {_text(f'A pass of {title} like the last.')!r}"]
    for v, n in zip(fed, plan.inputs):  # by name, or by the node itself
        lines += [
            f"    {v} = feed.get({n.name!r}, _missing)",
            f"    if {v} is _missing:",
            f"        {v} = feed.get(node_{v})",
        ]
    tests = [f"len(feed) != {len(fed)}"] + [f"type({v}) is not _ndarray" for v in fed]
    for k, (v, n) in enumerate(zip(fed, plan.inputs)):
        namespace[f"node_{v}"], namespace[f"_shape{k}"] = n, setup.whole(n)
        tests += [f"{v}.dtype is not _dtype", f"{v}.shape != _shape{k}"]
    for leaf, arg in zip(plan.leaves, setup.args):
        var = names[leaf]
        namespace[f"node_{var}"], namespace[f"_{var}"], namespace[var] = leaf, leaf.value, arg
        tests.append(f"node_{var}.value is not _{var}")
    lines += ["    if (" + "\n            or ".join(tests) + "):", "        return False"]
    for k, (node, kept) in enumerate(setup.installs):
        namespace[f"_node{k}"], namespace[f"_kept{k}"] = node, kept
        lines += [f"    if _node{k}.kept_now is not _kept{k}:", f"        _node{k}.keep(_kept{k})"]
    lines += [f"    node_{v}.value, node_{v}.fed_by = {v}, _token" for v in fed]
    lines += _forward_body(plan, setup.whole_of, names, namespace, _Body(False)) + ["    return True"]
    return _build("enter", title, lines, namespace)[0]


def _build(name: str, title: str, lines: list[str], namespace: dict) -> tuple:
    """Compile the function; its source stays in linecache while it lives (for tracebacks)."""
    source = "\n".join(lines) + "\n"
    filename = f"<tinygraph {name} #{next(_files)} of {_text(title)}>"
    exec(compile(source, filename, "exec"), namespace)
    function = namespace[name]
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(function, linecache.cache.pop, filename, None)
    return function, source
