"""trace: one forward pass, one backward pass and one update, explained step by step with the real numbers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import flag, output_path, shown, whole, write_text
from ..core import Graph, Node, as_optimizer, graph_of
from ..errors import GraphError
from .stepper import frames, page, widget
from .typeset import asks
from .words import (
    Layers,
    Line,
    Numbers,
    chain,
    dE,
    forward_lines,
    local_derivative,
    markdown_text,
    named,
    named_formula,
    to_tex,
)

PHASES = ("forward", "backward", "update")


@dataclass
class TraceStep:
    """One step of a trace: what happened at one node, in words, formulas and numbers.

    ``lines`` are plain text, ``tex`` the same in LaTeX, line by line; ``arrays`` holds the full
    values behind every number shown (summarised in the text when large).
    ``highlight`` are the nodes this step is about; ``flow`` the (from, to) data-flow
    edges a gradient travels back along in this step.

    Attributes
    ----------
    phase : str
        "forward", "backward" or "update".
    node : Node or None
        The node the step is about (None for the first step, which shows the leaves).
    title : str
        The step's heading, e.g. the node's formula in the graph's names.
    lines : list of str
        The explanation, with the numbers, in plain text.
    tex : list of str
        The same in LaTeX, one line an item.
    arrays : dict
        The whole arrays behind the numbers shown, by label ("grad", "local", "to w" …).
    highlight : list of Node
        The nodes this step is about.
    flow : list of tuple
        (input, consumer) edges along which a gradient travels back in this step.
    state : dict
        {node: (value, gradient)} as they stood after this step, for its picture.
    formula : str or None
        The formula the step applies, in LaTeX (a forward or update step), with the graph's names.
    parts : list of Line
        The lines with their numbers held apart (for the typeset page and the exercises).
    """

    phase: str
    node: Node | None
    title: str
    lines: list = field(default_factory=list)
    tex: list = field(default_factory=list)
    arrays: dict = field(default_factory=dict)
    highlight: list = field(default_factory=list)
    flow: list = field(default_factory=list)
    state: dict = field(default_factory=dict, repr=False)  # node -> (value, grad) to draw
    formula: str | None = None
    parts: list = field(default_factory=list, repr=False)

    def say(self, fmt: Numbers, lines: list[Line]) -> None:
        """Add lines: their text to ``lines``, their LaTeX to ``tex``, themselves to ``parts``."""
        for line in lines:
            self.parts.append(line)
            self.lines.append(line.text(fmt))
            self.tex.append(line.tex(fmt))

    def text(self) -> str:
        """Return the title and the lines below it, indented: the step as ``print(trace)`` shows it."""
        return "\n".join([self.title] + ["    " + line for line in self.lines])


class Trace:
    """The ordered steps of one forward, backward and update pass (see ``trace``).

    ``print(trace)`` walks through it in plain text; ``to_markdown()`` gives
    Markdown with LaTeX; ``to_html(path)`` writes an interactive page;
    ``render_frames(folder)`` one picture per step.  ``trace.steps`` holds them all,
    each with its full arrays in ``step.arrays``.

    Parameters
    ----------
    graph : Graph
        The graph traced.
    steps : list of TraceStep
        The steps, in order.
    loss : float
        The value of the graph's output in the forward pass.
    lr : float
        The learning rate of the update (0.0 without one).
    precision : int
        The significant digits of the numbers shown.

    Attributes
    ----------
    graph : Graph
        The graph traced.
    steps : list of TraceStep
        The steps, in order.
    loss : float
        The loss of the forward pass.
    lr : float
        The learning rate of the update.
    precision : int
        The significant digits shown.

    See Also
    --------
    trace : Makes one.

    Notes
    -----
    A trace is a sequence of its steps: ``len(trace)``, ``trace[i]`` and ``for step in
    trace`` work.  In Jupyter it shows itself as the stepper (which needs Graphviz).
    """

    def __init__(
        self, graph: Graph, steps: list[TraceStep], loss: float, lr: float, precision: int, max_elements: int = 8
    ) -> None:
        self.graph, self.steps, self.loss, self.lr, self.precision = graph, steps, loss, lr, precision
        self.numbers = Numbers(precision, max_elements)  # how its numbers are written
        self.update = "gradient descent, w ← w − η ∂E/∂w"  # the heading of its update (the optimizer's)

    def __len__(self):
        """Return the number of steps."""
        return len(self.steps)

    def __iter__(self):
        """Iterate over the steps, in order."""
        return iter(self.steps)

    def __getitem__(self, i):
        """Return step ``i`` (or a list of steps, for a slice)."""
        return self.steps[i]

    def phase(self, name: str) -> list[TraceStep]:
        """Return the steps of one phase: 'forward', 'backward' or 'update'.

        Raises
        ------
        tinygraph.GraphError
            If ``name`` is not one of the three.
        """
        if name not in PHASES:
            raise GraphError(f"Trace.phase: expected one of {PHASES}, got {name!r}")
        return [s for s in self.steps if s.phase == name]

    def __str__(self):
        """Return the whole walk-through in plain text, phase by phase, each step numbered."""
        out, phase = [], None
        heads = {
            "forward": "FORWARD PASS: each node computes its value from its inputs",
            "backward": "BACKWARD PASS: the chain rule, from the loss back to every parameter",
            "update": f"UPDATE: {self.update} with η = {self.lr:g}",
        }
        for i, step in enumerate(self.steps, start=1):
            if step.phase != phase:
                phase = step.phase
                out.append(("\n" if out else "") + heads[phase])
            out.append(f"[{i}/{len(self.steps)}] " + step.text())
        return "\n".join(out)

    def __repr__(self):
        """Return the counts of steps of each phase and the loss, in one line."""
        counts = ", ".join(f"{len(self.phase(p))} {p}" for p in PHASES)
        return f"<Trace of {len(self.steps)} steps: {counts}; loss {self.loss:.6g}>"

    def to_markdown(self, exercise: bool = False) -> str:
        r"""Return the walk-through as Markdown: every line of the text trace, in LaTeX ($$ … $$).

        With ``exercise=True`` it is a worksheet: each number a step computes is a numbered
        box, \boxed{(k)}, and the answers (the engine's numbers) are listed at the end.

        Parameters
        ----------
        exercise : bool, optional
            Write a worksheet with blanks and an answer key; False by default.

        Returns
        -------
        str
            The Markdown, with the formulas in ``$$`` blocks (GitHub, MkDocs, Jupyter and
            pandoc render them).

        Raises
        ------
        TypeError
            If ``exercise`` is not a bool.
        """
        flag("to_markdown: exercise", exercise)
        fmt, answers = self.numbers, []
        head = "# Backpropagation, step by step" + (": a worksheet" if exercise else "")
        out = [head, ""]
        if exercise:
            out += [
                "Work out the number in each numbered box from the formula and the numbers before it, "
                f"to {self.precision} significant digits. The answers are at the end.",
                "",
            ]
        for i, step in enumerate(self.steps, start=1):
            out += [f"## {i}. {markdown_text(step.title)}", ""]
            if step.formula:
                out += [f"$$ {step.formula} $$", ""]
            for line in step.parts:
                if exercise and asks(line, fmt, step):
                    answers.append((i, line))
                    blank = r"\boxed{(" + str(len(answers)) + ")}"
                    out.append(f"$$ {line.tex(fmt, blank=blank)} $$")
                else:
                    out.append(f"$$ {line.tex(fmt)} $$")
            out.append("")
        if exercise:
            out += ["## Answers", ""]
            out += [f"{k}. step {i}: `{fmt(line.answer())}`" for k, (i, line) in enumerate(answers, start=1)]
            out.append("")
        return "\n".join(out)

    def to_html(
        self,
        path: Any = None,
        title: str = "Backpropagation step by step",
        network: Any = None,
        exercise: bool = False,
        expand: Any = None,
    ) -> str:
        """Write (or, without ``path``, return) a self-contained interactive page.

        The page steps through the trace with Previous/Next (or the arrow keys), a diagram
        of the graph beside the typeset formulas and numbers of each step (MathML, which
        browsers draw without a script), in one layout and on one scale for every step (zoom with
        − + fit, the keys + − 0 or the wheel; drag to pan).  For a layered network a switch
        shows each step in the network (neuron) view too.  Without JavaScript it shows every
        step in order.  It loads nothing from the network: it works offline.

        Parameters
        ----------
        path : str or os.PathLike, optional
            The HTML file to write (folders above it are made); None returns the page.
        title : str, optional
            The page's title.
        network : bool, optional
            Whether to draw the network view too, with the switch: by default (None) when
            the graph is a chain of layers; False draws the graph view only (a page half
            the size).
        exercise : bool, optional
            Make it an exercise: each number a step computes is an input box; the page checks
            what the learner types against the engine's number (right within 0.1 %, or as
            shown to the trace's precision) and can show it.  Each diagram then shows what is
            known before its step.  False by default.
        expand : Node, str or list of them, optional
            Nodes to open up into their scalars in the graph view of every step (a WeightedSum
            as its products and sums, an activation element by element), as for ``render``;
            refused above 64 scalars a node.

        Returns
        -------
        str
            The path written, or, without ``path``, the HTML itself.

        Raises
        ------
        GraphvizNotFound
            If the Graphviz program ``dot`` is missing (it draws each step).
        TypeError
            If ``path`` is not a str or os.PathLike, ``title`` not a str, or ``network`` or
            ``exercise`` not a bool.
        tinygraph.GraphError
            If ``path`` is a folder or lies below a file, or ``expand`` names a node that is
            not in the graph, cannot be opened up, or is too large (nothing is written).
        """
        if path is not None:
            path = output_path("to_html", path)
        if not isinstance(title, str):
            raise TypeError(f"to_html: title must be a str, got {type(title).__name__} {shown(title)}")
        if network is not None:
            flag("to_html: network", network)
        flag("to_html: exercise", exercise)
        html = page(self, title, network, exercise, expand)
        if path is None:
            return html
        return write_text(path, html)

    def _repr_html_(self):
        return widget(self)

    def render_frames(self, folder: Any, format: str = "png", view: str = "graph") -> list[str]:
        """Draw one diagram per step (``step_01.png``, … zero-padded) for slides; return the paths.

        Parameters
        ----------
        folder : str or os.PathLike
            Where to write the pictures; it is made if missing.
        format : {"png", "svg", "pdf"}, optional
            The pictures' format, png by default.
        view : {"graph", "network"}, optional
            The view drawn, as for ``render``.

        Returns
        -------
        list of str
            The paths of the pictures, in the order of the steps.

        Raises
        ------
        GraphvizNotFound
            If the Graphviz program ``dot`` is missing.
        TypeError
            If ``folder`` is not a str or os.PathLike.
        tinygraph.GraphError
            If ``format`` or ``view`` is unknown, or ``folder`` is a file.
        """
        return frames(self, folder, format, view)


def trace(
    graph: Any, feed: Any, optimizer: Any = None, precision: int = 4, max_elements: int = 8, inputs: bool | None = None
) -> Trace:
    """Run one forward pass, one backward pass and (with an optimizer) one update; explain each.

    ``graph`` is a Graph (or a Network); ``optimizer`` an SGD, Adam or RMSProp, or a
    number used as the learning rate of a new SGD, or None for no update.  The numbers are the
    engine's own: the trace watches ``graph.forward``, ``graph.backward`` and
    ``optimizer.step`` as they run.  ``inputs=True`` also backpropagates to the Inputs
    (the default when the graph has no parameters).  ``precision`` is the number of
    significant digits shown; arrays of more than ``max_elements`` numbers are
    summarised (each step's ``arrays`` keeps them whole).  Returns a Trace.

    Parameters
    ----------
    graph : Graph or Network
        The graph to run, or anything with a ``.graph``; its first output is the loss.
    feed : dict
        What ``graph.forward`` is fed, usually one sample.
    optimizer : SGD, Adam, RMSProp or float, optional
        The update to take and explain, with the optimizer's rule and state (velocity;
        Adam's m, v and their bias correction): an optimizer over the graph's parameters,
        or a learning rate (plain SGD); None (the default) for none.
    precision : int, optional
        Significant digits of the numbers shown, 1 to 17; 4 by default.
    max_elements : int, optional
        The most numbers an array may have to be shown one by one; 8 by default.
    inputs : bool, optional
        Whether to backpropagate to the Inputs too; by default only when the graph has no
        parameters.

    Returns
    -------
    Trace
        The steps: forward, backward (in the order the engine takes them), then update.

    Raises
    ------
    TypeError
        If ``graph`` is neither a Graph nor has one, ``precision`` or ``max_elements`` is
        not a whole number, ``inputs`` not a bool, or ``optimizer`` neither an optimizer
        that explains its step (``heading``, ``rule``, ``explain``, ``state_dict``) nor a number.
    tinygraph.GraphError
        If ``precision`` is not from 1 to 17, ``max_elements`` not from 1 to 10⁶, a
        learning rate is not a positive finite number, the optimizer updates a Parameter that
        is not in the graph, or the feed does not fit the graph (as for ``graph.forward``).

    See Also
    --------
    Trace.to_html : The interactive page of the steps.
    render : The diagrams the steps are drawn in.

    Notes
    -----
    With an optimizer the trace takes the step: the parameters are updated in place,
    exactly as ``optimizer.step()`` would, so the graph is left one step further
    (copy the values first to keep them).  Afterwards the graph holds this pass's values
    and gradients.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> w = tg.Parameter([0.5, -1.0], name="w")
    >>> y = tg.Logistic(tg.WeightedSum(x, w, name="z"), name="y")
    >>> graph = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    >>> steps = tg.trace(graph, {"x": np.array([1.0, 1.0]), "t": np.array(1.0)}, optimizer=0.5)
    >>> steps
    <Trace of 9 steps: 4 forward, 4 backward, 1 update; loss 0.193728>
    >>> print(steps[2].text())
    y = σ(z) = 1/(1 + e^(−z))
        y = σ(-0.5) = 1/(1 + e^(−(-0.5))) = 0.3775
    >>> print(steps.phase("backward")[2].text())
    z: pass the gradient back to its inputs
        receives ∂E/∂z = -0.1463   (from y)
        δ = ∂E/∂z = -0.1463
        local derivative: ∂z/∂x = wᵀ, ∂z/∂w = x
        ∂E/∂w += xᵀ · ∂E/∂z   (∂E/∂w_ij = x_i · δ_j) = [-0.1463, -0.1463]
    >>> np.round(w.value, 4)  # the update was taken: w − 0.5 ∂E/∂w
    array([ 0.5731, -0.9269])
    """
    graph = graph_of(graph, "trace")
    whole("trace: precision", precision, low=1, high=17)
    whole("trace: max_elements", max_elements, low=1, high=10**6)
    if inputs is not None:
        flag("trace: inputs", inputs)
    if optimizer is not None:
        optimizer = as_optimizer(optimizer, graph, "trace")
        if not all(callable(getattr(optimizer, m, None)) for m in ("state_dict", "heading", "rule", "explain")):
            raise TypeError(
                "trace: optimizer must be an SGD, Adam or RMSProp (anything with state_dict(), heading(), rule() "
                f"and explain()) or a learning rate, got {type(optimizer).__name__}"
            )
    fmt = Numbers(precision, max_elements)
    loss_value = graph.forward(feed)
    steps = _forward_steps(graph, fmt)
    if inputs is None:
        inputs = not graph.parameters()
    steps += _backward_steps(graph, fmt, Layers(graph.nodes), bool(inputs))
    if optimizer is not None:
        steps += _update_steps(graph, optimizer, fmt)
    result = Trace(graph, steps, float(loss_value), optimizer.lr if optimizer else 0.0, precision, max_elements)
    if optimizer is not None:
        result.update = optimizer.heading()
    return result


def _forward_steps(graph, fmt):
    values = {n: (n.value.copy(), None) for n in graph.nodes}
    state = {}
    leaves = [n for n in graph.nodes if not n.inputs]
    for n in leaves:
        state[n] = values[n]
    given = TraceStep("forward", None, "Given: the inputs, targets and parameters", highlight=leaves, state=dict(state))
    for n in leaves:
        given.say(fmt, Line.hold(lambda number: f"{n.name} = {number(n.value)}   ({n.role})"))
        given.arrays[n.name] = n.value.copy()
    steps = [given]
    for n in graph.nodes:
        if not n.inputs:
            continue
        state[n] = values[n]
        step = TraceStep("forward", n, named_formula(n), highlight=[n], state=dict(state))
        step.formula = named(n, n.formula_tex, tex=True) or to_tex(step.title)
        given_inputs = tuple(f"{i.name} = " for i in n.inputs)  # (lines that only show an input's value)
        for line in Line.hold(lambda number: forward_lines(n, number, graph.shape_of(n)), computed=True):
            line.computed = not line.template.startswith(given_inputs)
            step.say(fmt, [line])
        rows = getattr(n, "rows", None)
        if rows and getattr(n, "scale", 1.0) != 1.0:  # a loss, the mean over the batch
            mean = f"{n.name} is the mean over the batch: (1/{rows}) Σ over its {rows} samples"
            step.say(fmt, Line.hold(lambda _: mean))
        step.arrays = {i.name: i.value.copy() for i in n.inputs}
        step.arrays[n.name] = n.value.copy()
        step.flow = []
        steps.append(step)
    return steps


def _backward_steps(graph, fmt, layers, inputs):
    received = {}  # id(node) -> [(consumer, gradient)]
    pending = {}  # id(leaf) -> consumers still to send their gradient
    order = []  # (node, grads) in the engine's order

    def hook(node, grads):
        order.append((node, tuple(None if g is None else np.array(g, copy=True) for g in grads)))

    graph.backward(inputs=inputs, hook=hook)
    out = graph.outputs[0]
    values = {n: n.value.copy() for n in graph.nodes}
    state = {n: (values[n], None) for n in graph.nodes}
    steps = []
    for node, grads in order:
        for k, (inp, g) in enumerate(zip(node.inputs, grads)):
            if g is not None and node.needs[k]:
                received.setdefault(id(inp), []).append((node, g))
                if not inp.inputs:
                    pending[id(inp)] = pending.get(id(inp), 0) + 1
    sent = {}
    for node, grads in order:
        grad = node.grad
        state[node] = (values[node], grad.copy())
        step = TraceStep(
            "backward", node, f"{node.name}: pass the gradient back to its inputs", highlight=[node], state=None
        )
        step.arrays["grad"] = grad.copy()
        _received_lines(step, node, received.get(id(node), []), grad, fmt, out)
        delta = layers.delta(node)
        if delta:
            step.say(fmt, Line.hold(lambda number: f"{delta} = ∂E/∂{node.name} = {number(grad)}"))
        local_text, local = local_derivative(node)
        if local_text:
            step.say(fmt, _local_line(node, local_text, local))
        extra = getattr(node, "backward_lines", None)  # a node's own sum written out (a Conv2D's ∂E/∂w)
        if callable(extra):
            step.say(fmt, Line.hold(lambda number: node.backward_lines(number), computed=True))
        if local is not None:
            step.arrays["local"] = np.asarray(local).copy()
        per = graph.shape_of(node)
        batch = len(grad) if per is not None and np.ndim(grad) > len(per) else None
        for k, (inp, g) in enumerate(zip(node.inputs, grads)):
            if g is None or not node.needs[k]:
                continue
            step.say(fmt, Line.hold(lambda number: f"{dE(inp.name)} += {chain(node, k)} = {number(g)}", computed=True))
            if batch and graph.shape_of(inp) is not None and np.ndim(g) == len(graph.shape_of(inp)):
                step.say(fmt, Line.hold(lambda _: f"(∂E/∂{inp.name} sums over the {batch} samples of the batch)"))
            step.arrays[f"to {inp.name}"] = g
            step.flow.append((inp, node))
            sent[id(inp)] = sent.get(id(inp), 0) + 1
            so_far = state[inp][1]
            state[inp] = (values[inp], g if so_far is None else so_far + g)
        step.state = dict(state)
        steps.append(step)
        for inp in node.inputs:  # a leaf is complete once all of its consumers have sent
            if id(inp) in pending and sent.get(id(inp)) == pending[id(inp)]:
                del pending[id(inp)]
                state[inp] = (values[inp], inp.grad.copy())
                steps.append(_leaf_step(inp, received[id(inp)], fmt, dict(state)))
    return steps


def _local_line(node, text, local):
    """Write the local derivative in words and in the node's own LaTeX, with its numbers where it has them."""
    tex = named(node, node.derivative_tex, tex=True)
    lines = Line.hold(
        lambda number: "local derivative: " + text + ("" if local is None else f" = {number(local)}"),
        computed=local is not None,
    )
    if tex:
        numbers = "" if local is None else " = " + lines[0].template.rsplit(" = ", 1)[1]
        lines[0].tex_template = r"\text{local derivative: }" + tex + numbers
    return lines


def _received_lines(step, node, contributions, grad, fmt, out):
    if node is out:
        same = "" if node.name == "E" else f"∂E/∂{node.name} = "
        step.say(fmt, Line.hold(lambda _: f"the backward pass starts here: {same}∂E/∂E = 1"))
        return
    if len(contributions) == 1:
        step.say(fmt, Line.hold(lambda n: f"receives ∂E/∂{node.name} = {n(grad)}   (from {contributions[0][0].name})"))
        return
    for consumer, g in contributions:
        step.say(fmt, Line.hold(lambda n: f"receives from {consumer.name}: {n(g)}"))
    step.say(
        fmt,
        Line.hold(lambda n: f"sum over its {len(contributions)} consumers: ∂E/∂{node.name} = {n(grad)}", computed=True),
    )


def _leaf_step(leaf, contributions, fmt, state):
    step = TraceStep(
        "backward", leaf, f"{leaf.name}: its gradient is complete ({leaf.role})", highlight=[leaf], state=state
    )
    if len(contributions) > 1:
        for consumer, g in contributions:
            step.say(fmt, Line.hold(lambda n: f"from {consumer.name}: {n(g)}"))
        step.say(fmt, Line.hold(lambda n: f"summed: ∂E/∂{leaf.name} = {n(leaf.grad)}", computed=True))
    else:
        step.say(fmt, Line.hold(lambda n: f"∂E/∂{leaf.name} = {n(leaf.grad)}   (from {contributions[0][0].name})"))
    step.arrays["grad"] = leaf.grad.copy()
    step.flow = [(leaf, consumer) for consumer, _ in contributions]
    return step


def _update_steps(graph, optimizer, fmt):
    """One step per parameter: the optimizer's rule, its state before and after, the new value.

    The optimizer says it all (``rule``, ``explain``, ``state_dict``): nothing here knows its class.
    """
    params = optimizer.parameters
    old = {id(p): p.value.copy() for p in params}
    grads = {id(p): p.grad.copy() for p in params}
    before = optimizer.state_dict()
    optimizer.step()
    after = optimizer.state_dict()
    state = {
        n: (n.value.copy() if n.value is not None else None, None if n.grad is None else n.grad.copy())
        for n in graph.nodes
    }
    for p in params:
        state[p] = (old[id(p)], grads[id(p)])
    steps = []
    eta = optimizer.lr
    for i, p in enumerate(params):
        state[p] = (p.value.copy(), grads[id(p)])
        n = p.name
        step = TraceStep("update", p, optimizer.rule(n), highlight=[p], state=dict(state))
        step.formula = to_tex(step.title)
        step.say(
            fmt, Line.hold(lambda number: [f"old {n} = {number(old[id(p)])}", f"∂E/∂{n} = {number(grads[id(p)])}"])
        )
        step.arrays = {"old": old[id(p)], "grad": grads[id(p)], "new": p.value.copy(), "lr": np.asarray(eta)}
        step.say(fmt, Line.hold(lambda number: optimizer.explain(p, old[id(p)], before, number), computed=True))
        for key, value in after.items():  # its state: SGD's velocity, Adam's m, v and t, … before and after
            slot, _, index = str(key).rpartition("/")
            if slot and index == str(i):
                if key in before:
                    step.arrays[f"{slot}_before"] = np.asarray(before[key])
                step.arrays[slot] = np.asarray(value)
        steps.append(step)
    return steps
