"""The node contract: a node states its formula and its derivative once, beside the code."""

from __future__ import annotations

import inspect
import itertools
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any, ClassVar, NamedTuple

import numpy as np

from ..errors import GraphError
from .arithmetic import Arithmetic

# Arrays of up to this many numbers are made fresh by numpy at every pass; larger ones are
# kept from one pass to the next.  (For a few numbers a fresh array is cheaper, measured.)
SMALL = 64

_counters: defaultdict[str, itertools.count] = defaultdict(itertools.count)
_stagger = itertools.cycle(range(8))


def kept(shape: tuple[int, ...], dtype: Any) -> np.ndarray | None:
    """Return an array for a node to keep between passes, or None (numpy makes a fresh one).

    Pass it as ``out=`` to numpy: ``np.tanh(z, out=self.out)``.
    """
    n = math.prod(shape)
    if n <= SMALL:
        return None
    pad = next(_stagger) * 64 // np.dtype(dtype).itemsize  # (arrays of 4 KiB would all start at one offset)
    return np.empty(n + pad, dtype)[pad:].reshape(shape)


def auto_name(prefix: str) -> str:
    """Return a name for a node built without one: ``logistic_1``, ``logistic_2``, …."""
    return f"{prefix}_{next(_counters[prefix]) + 1}"


def as_float_array(value: Any, what: str, dtype: Any = None) -> np.ndarray:
    """Return ``value`` as an ndarray of floats, or raise a TypeError/GraphError naming ``what``."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        if value is None:
            raise TypeError(f"{what}: expected an array of numbers, got None")
        try:
            arr = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise GraphError(
                f"{what}: expected a rectangular array of numbers, got a ragged sequence ({exc})"
            ) from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what}: expected an array of numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what}: expected real numbers, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    return np.asarray(arr, dtype=dtype)


def describe(cls: type, name: str | None) -> str:
    """Return "Kind 'name'" (or just "Kind"), for messages about a node still being built."""
    return f"{cls.__name__} '{name}'" if name else cls.__name__


def factor(number: Callable[[Any], str], v: Any) -> str:
    """Format a number as a factor in a product: a negative one in parentheses."""
    text = number(v)
    return f"({text})" if text.startswith("-") else text


class Scalar(NamedTuple):
    """One number of a node's computation, as ``render(..., expand=...)`` draws it.

    A node that can be opened up into its scalars returns a list of these from its
    ``scalars`` method (see the Notes of ``Node``): the scalars state the structure (which
    numbers use which) and, when numbers are given, their values, gradients and the
    formulas with the numbers put in.

    Attributes
    ----------
    key : str
        A word (letters, digits, ``_``) unique within the node and the same on every call,
        e.g. ``"p0_1"``: the diagram builds the scalar's DOT id from it.
    kind : str
        What the scalar is, in words: ``"product"``, ``"sum"``, ``"element"``.
    name : str
        The scalar in the graph's names: ``"x[0]·W1[0,1]"``, ``"z1[1]"``.
    value : float or None
        Its number (None where not given).
    grad : float or None
        ∂E/∂(this number) (None where not given).
    grad_name : str
        What the gradient is called: ``"δ[1] = ∂E/∂z1[1]"``.
    forward : tuple of str
        How the number is formed, the formula and then the numbers put in.
    backward : tuple of str
        What its gradient gives, with the numbers: ``"∂E/∂W1[0,1] = x[0]·δ[1] = 0.5 · 0.2 = 0.1"``.
    inputs : tuple of (int, tuple of int)
        The elements of inputs it uses, drawn as edges: (input index, element index).
    shows : tuple of (int, tuple of int)
        The elements of inputs written inside it (a weight, a bias) instead of drawn as edges.
    after : tuple of str
        The keys of the node's own scalars it uses.
    output : tuple of int or None
        The element of the node's value it is; None for a number in between (a product).

    Examples
    --------
    >>> import tinygraph as tg
    >>> h = tg.Logistic(tg.Input("z", shape=(2,)), name="h")
    >>> [s.name for s in h.scalars([(2,)])]
    ['h[0]', 'h[1]']
    """

    key: str
    kind: str
    name: str
    value: float | None = None
    grad: float | None = None
    grad_name: str = ""
    forward: tuple[str, ...] = ()
    backward: tuple[str, ...] = ()
    inputs: tuple[tuple[int, tuple[int, ...]], ...] = ()
    shows: tuple[tuple[int, tuple[int, ...]], ...] = ()
    after: tuple[str, ...] = ()
    output: tuple[int, ...] | None = None


class Node(Arithmetic):
    """A value in the graph, computed from the values of its ``inputs``.

    A node class states its mathematics once, in the symbols of its docstring: its formula
    and its local derivative, beside the ``forward`` and ``backward`` that compute them.
    ``Node`` itself computes nothing; the Notes state the contract every subclass keeps.

    Parameters
    ----------
    *inputs : Node
        The nodes whose values this one is computed from, in the order of ``forward``'s
        arguments.
    name : str, optional
        The node's name, unique within a graph; without one the node is named from the
        class's ``prefix`` and a number (``node_1``, ``logistic_2``, …).

    Attributes
    ----------
    name : str
        The node's name.
    inputs : tuple of Node
        Its inputs, in order.
    shape : tuple of int or None
        One sample's shape (no batch axis), where declared or known when the node was
        built; ``graph.shape_of(node)`` tells what a graph infers.
    value : numpy.ndarray or None
        The value, after a forward pass.
    grad : numpy.ndarray or None
        ∂E/∂value, after a backward pass.
    needs : tuple of bool
        ``needs[i]`` tells ``backward`` whether input i's gradient is wanted (the graph sets
        it before calling ``backward``).
    reduces_batch : bool
        True for a node whose value is one number for a whole batch (a loss); False by
        default.
    no_gradient_for : tuple of int
        The inputs that may get None from ``backward`` though asked for (class indices);
        empty by default.
    formula : str or None
        The formula in plain text, e.g. ``"y = σ(z) = 1/(1 + e^(−z))"``; its left side is
        the output's symbol.
    formula_tex : str or None
        The same formula in LaTeX.
    derivative : str or None
        The local derivative in plain text, e.g. ``"∂y/∂z = y(1 − y)"``.
    derivative_tex : str or None
        The same derivative in LaTeX.
    gradients : dict of str to str
        For each input symbol, how its gradient is formed (``{"z": "∂E/∂y ⊙ y(1 − y)"}``).

    Raises
    ------
    TypeError
        If an input is not a Node (with a hint to wrap numbers in ``tg.Parameter`` or
        ``tg.Constant``) or ``name`` is not a non-empty string.
    tinygraph.GraphError
        If ``name`` holds a newline or another control character, or, when every input's
        shape is known, ``infer_shape`` finds that they do not fit.

    See Also
    --------
    Elementwise : The base of the elementwise activations: a subclass states f and f'.

    Notes
    -----
    The contract, in the symbols of the node's docstring:

    - ``forward(*values)``: this node's value from its inputs' values (arrays, each with a
      leading batch axis when the pass has one).  It may keep, as attributes of its own,
      what its backward needs (``self.x = x``).
    - ``backward(grad_out)``, right below it: receives ``grad_out`` = ∂E/∂(this node),
      shaped like its value, and returns one gradient per input, each shaped like that
      input's value: the chain-rule product ∂E/∂(node) · ∂(node)/∂(input).
      ``self.needs[i]`` tells whether input i's gradient is wanted; return None where it
      is not.  It writes into nothing but arrays it made itself; the graph sums what
      several consumers send.
    - ``infer_shape(*shapes)`` (optional): the per-sample shape of the value from the
      inputs' per-sample shapes (no batch axis); raise ``self.error(...)`` when they do not
      fit.  Set what it reads before calling ``Node.__init__``, which calls it.
    - ``prepare(*shapes, dtype, batched)`` (optional): what the node keeps for passes with
      these shapes (its inputs' whole shapes, batch axis included), as a dict of
      attributes, e.g. ``{"out": kept(z, dtype)}``; ``batched[i]`` tells whether input i
      carries the batch axis.  The graph calls it once per set of shapes and keeps the
      result itself, so graphs sharing a node never share its arrays.  It reads no other
      attribute: whatever may change between passes (``reduction``) is read in forward.
    - ``reduces_batch = True`` for a node whose value is one number for a whole batch.
    - ``no_gradient_for``: inputs that may get None though asked for (class indices).
    - ``reads_mode = True`` for a node that behaves differently in training and when
      evaluating: the graph then keeps its ``Mode`` in the node's attribute ``mode``
      (``self.mode.training``, ``self.mode.step``) for each of its passes.

    The text the trace, ``graph.source()`` and the diagrams show is in the same symbols
    (the output's is the formula's left side, the inputs' are forward's argument names):
    ``formula``/``formula_tex``, ``derivative``/``derivative_tex``, ``gradients`` (for each
    input symbol, how its gradient is formed), and optionally ``local()`` (the numbers of
    the local derivative) and ``lines(number)`` (the formula with the numbers put in).

    Optionally ``scalars(shapes, values=None, value=None, grad_out=None, number=str,
    needs=None)`` opens the node up for ``render(..., expand=...)``: the list of ``Scalar``
    numbers it computes for one sample, from its inputs' per-sample ``shapes`` and, where
    given, the inputs' ``values``, its ``value`` and ``grad_out`` (one sample each),
    formatted with ``number``; ``needs[i]`` tells whether input i's gradient is drawn.
    ``WeightedSum`` and ``Elementwise`` have it; a node without it is drawn as one box.

    Shapes: ``shape`` and the shapes ``infer_shape`` sees are one sample's; ``value`` and
    ``grad`` carry the batch axis in front when the pass has one (a node with
    ``reduces_batch`` has one number for the whole batch).  Values and gradients of large
    nodes are arrays reused by the next pass: copy what you keep.

    Python's operators and the methods ``relu()``, ``tanh()``, ``sigmoid()``, ``exp()`` and
    ``log()`` build nodes (``x - 1`` is ``Subtract(x, Constant(1))``; see
    ``tinygraph.core.arithmetic.Arithmetic``).

    Examples
    --------
    A node of two inputs, y = a ⊙ b, with ∂y/∂a = b and ∂y/∂b = a:

    >>> import tinygraph as tg
    >>> class Times(tg.Node):
    ...     formula, derivative = "y = a ⊙ b", "∂y/∂a = b, ∂y/∂b = a"
    ...     gradients = {"a": "∂E/∂y ⊙ b", "b": "∂E/∂y ⊙ a"}
    ...     def infer_shape(self, a, b):
    ...         if a != b:
    ...             raise self.error(f"a has shape {a} but b has {b}")
    ...         return a
    ...     def forward(self, a, b):
    ...         self.a, self.b = a, b
    ...         return a * b
    ...     def backward(self, grad_out):
    ...         return (grad_out * self.b if self.needs[0] else None,
    ...                 grad_out * self.a if self.needs[1] else None)
    >>> a = tg.Parameter([1.0, 2.0], name="a")
    >>> b = tg.Parameter([3.0, 4.0], name="b")
    >>> y = Times(a, b, name="y")
    >>> y, y.symbols()
    (Times('y', shape=(2,)), ('y', ['a', 'b']))
    >>> graph = tg.Graph(tg.Sum(y, name="E"))
    >>> float(graph.forward({}))
    11.0
    >>> graph.backward()
    >>> a.grad, b.grad
    (array([3., 4.]), array([1., 2.]))
    >>> Times(a, tg.Parameter([1.0, 2.0, 3.0]), name="bad")
    Traceback (most recent call last):
    ...
    tinygraph.errors.GraphError: Times 'bad': a has shape (2,) but b has (3,)
    """

    prefix: ClassVar[str] = "node"
    role: ClassVar[str] = "operation"  # or "input", "parameter", "constant", "loss"
    layer_role: ClassVar[str | None] = None  # "weighted sum", "bias input", "activation"
    reduces_batch: ClassVar[bool] = False
    no_gradient_for: ClassVar[tuple[int, ...]] = ()
    reads_mode: ClassVar[bool] = False  # True: the graph gives it its Mode to keep, as ``mode``
    formula: str | None = None
    formula_tex: str | None = None
    derivative: str | None = None
    derivative_tex: str | None = None
    gradients: dict[str, str] = {}
    shape: tuple[int, ...] | None = None
    value: Any = None
    grad: Any = None
    kept_now: dict | None = None  # what a graph last gave this node to keep (see ``keep``)

    def __init__(self, *inputs: Node, name: str | None = None) -> None:
        self.inputs = tuple(inputs)
        for i, node in enumerate(inputs):
            if not isinstance(node, Node):
                hint = (
                    "; wrap numbers in tg.Parameter(...) (trained) or tg.Constant(...) (fixed)"
                    if isinstance(node, (list, tuple, np.ndarray, int, float))
                    else ""
                )
                symbols = self.symbols()[1]
                arg = f" ({symbols[i]})" if i < len(symbols) else ""
                raise TypeError(
                    f"{describe(type(self), name)}: input {i}{arg} must be a tinygraph "
                    f"Node, got {type(node).__name__}{hint}"
                )
        if name is None:
            name = auto_name(self.prefix)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}: name must be a non-empty string, got {name!r}")
        elif not name.isprintable():  # it reaches diagrams, pages, file members: one line of text
            raise GraphError(f"{type(self).__name__}: name {name!r} holds a newline or another control character")
        self.name = name
        self.needs = (True,) * len(inputs)
        shapes = [i.shape for i in inputs]
        if shapes and all(s is not None for s in shapes):  # a mismatch shows where it was made
            shape = self.infer_shape(*shapes)  # type: ignore[arg-type]
            self.shape = None if shape is None else tuple(shape)

    def forward(self, *values: np.ndarray) -> Any:
        """Compute this node's value from its inputs' values.

        Parameters
        ----------
        *values : numpy.ndarray
            One array per input, in the order of ``inputs``, each with a leading batch axis
            when the pass has one.  A subclass names them after the symbols of its formula
            (``def forward(self, x, w)``): the trace and ``graph.source()`` show those names.

        Returns
        -------
        numpy.ndarray
            The value: one sample's shape, with the batch axis in front when the pass has
            one (one number for the whole batch for a node with ``reduces_batch``).

        Raises
        ------
        NotImplementedError
            Always, here: every subclass defines it.

        Notes
        -----
        It may keep, as attributes of its own, what its backward needs (``self.x = x``),
        and it reads here whatever may change between passes (a loss's ``reduction``).
        The graph stores the result as ``self.value``.
        """
        raise NotImplementedError(f"{self.kind} must define forward(*values)")

    def backward(self, grad_out: np.ndarray) -> tuple[Any, ...]:
        """Turn ∂E/∂(this node) into one gradient per input: the chain rule, one step.

        Parameters
        ----------
        grad_out : numpy.ndarray
            ∂E/∂(this node), shaped like its value (the sum of what its consumers sent).

        Returns
        -------
        tuple
            One gradient per input, in the order of ``inputs``, each shaped like that
            input's value: the chain-rule product ∂E/∂(node) · ∂(node)/∂(input).  None where
            ``self.needs[i]`` is False (input i's gradient is not wanted), and for the inputs
            in ``no_gradient_for``.

        Raises
        ------
        NotImplementedError
            Always, here: every subclass defines it.

        Notes
        -----
        The graph calls it after the forward pass, in reverse topological order, and may
        read what ``forward`` kept.  It writes into nothing but arrays it made itself (or
        that ``prepare`` gave it to keep); the graph sums what several consumers send.  The
        graph raises a GraphError naming the node when it returns the wrong number of
        gradients, a gradient of the wrong shape, or None for an input whose gradient was
        asked for.
        """
        raise NotImplementedError(f"{self.kind} must define backward(grad_out)")

    def infer_shape(self, *shapes: tuple[int, ...]) -> tuple[int, ...] | None:
        """Return the per-sample shape of the value from the inputs' per-sample shapes.

        ``Node.__init__`` calls it when every input's shape is known, and a graph calls it
        with the shapes of each pass; this base version knows nothing (None).

        Parameters
        ----------
        *shapes : tuple of int
            One sample's shape of each input (no batch axis), in the order of ``inputs``.

        Returns
        -------
        tuple of int or None
            One sample's shape of the value; None when only the value can tell.

        Raises
        ------
        tinygraph.GraphError
            In a subclass, ``self.error(...)`` when the shapes do not fit.
        """
        return None

    def prepare(self, *shapes: tuple[int, ...], dtype: Any, batched: tuple[bool, ...]) -> dict:
        """Return the attributes this node keeps for passes with these input shapes.

        The graph calls it once per set of shapes and keeps the result itself (see ``keep``),
        so graphs sharing a node never share its arrays; this base version keeps nothing.

        Parameters
        ----------
        *shapes : tuple of int
            Each input's whole shape, the batch axis included.
        dtype : numpy.dtype
            The float type of the pass.
        batched : tuple of bool
            ``batched[i]`` tells whether input i carries the batch axis.

        Returns
        -------
        dict
            Attribute names and values, e.g. ``{"out": kept(z, dtype)}``; it reads no other
            attribute of the node.
        """
        return {}

    def keep(self, kept: dict) -> None:
        """Take as attributes what a graph keeps for this node (what ``prepare`` returned).

        Parameters
        ----------
        kept : dict
            Attribute names and values; nothing is set if it is the dict given last.
        """
        if self.kept_now is not kept:
            for name, value in kept.items():  # (setattr, not __dict__.update: attribute reads stay fast)
                setattr(self, name, value)
            self.kept_now = kept

    def symbols(self) -> tuple[str, list[str]]:
        """Return the output's symbol and the inputs' symbols of the formula.

        Returns
        -------
        tuple of (str, list of str)
            The left side of ``formula`` (``"y"`` without one) and ``forward``'s argument
            names; for a ``forward(*values)`` the letters ``a``, ``b``, … (then ``x26``, …).

        Examples
        --------
        >>> import tinygraph as tg
        >>> tg.Logistic(tg.Input("z", shape=(2,))).symbols()
        ('y', ['z'])
        """
        lhs = (self.formula or "y").split(" = ")[0].split("[")[0].strip()  # (z of "z[c,i,j] = …")
        params = list(inspect.signature(self.forward).parameters.values())
        if any(p.kind == p.VAR_POSITIONAL for p in params):
            return lhs, [chr(ord("a") + i) if i < 26 else f"x{i}" for i in range(len(self.inputs))]
        return lhs, [p.name for p in params]

    @property
    def kind(self) -> str:
        """The name of the node's class: ``"Logistic"``."""
        return type(self).__name__

    def error(self, message: str) -> GraphError:
        """Return a GraphError whose message starts with this node's kind and name.

        Parameters
        ----------
        message : str
            What is wrong.

        Returns
        -------
        tinygraph.GraphError
            To raise: ``raise self.error("...")``.
        """
        return GraphError(f"{self.kind} '{self.name}': {message}")

    def __repr__(self) -> str:
        """Return ``Kind('name', shape=…)`` (no shape while it is unknown)."""
        shape = "" if self.shape is None else f", shape={self.shape}"
        return f"{self.kind}('{self.name}'{shape})"
