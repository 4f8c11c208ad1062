"""The Node base class and the three kinds of leaf: Input, Parameter, Constant."""

import inspect
import itertools
import math
from collections import defaultdict

import numpy as np

from .errors import GraphError

_counters = defaultdict(itertools.count)

# Arrays up to this many elements are made fresh each pass; larger ones are kept and reused.
# (For a handful of numbers numpy's fixed cost per call dominates, and numpy is slow when a
# tiny array is both input and output of a ufunc; larger arrays are cheaper to reuse.)
SMALL = 64
# Nodes whose arrays are all up to this many elements may be written into the graph's passes
# as numpy lines (compiled.py); larger ones are called.
WRITTEN_OUT = 4096


class NotWrittenOut(Exception):
    """Raised by a node's forward_code/backward_code: call its method instead."""



def _auto_name(prefix):
    return f"{prefix}_{next(_counters[prefix]) + 1}"


def as_float_array(value, what, dtype=None):
    """Convert ``value`` to a float ndarray, or raise a TypeError/GraphError naming ``what``."""
    if isinstance(value, np.ndarray):
        arr = value
    else:
        try:
            arr = np.asarray(value)
        except ValueError as exc:  # ragged nested lists
            raise GraphError(f"{what}: expected a rectangular array of numbers, "
                             f"got a ragged sequence ({exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{what}: expected an array of numbers, got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{what}: expected real numbers, got dtype {arr.dtype}")
    if dtype is None:
        dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    return np.asarray(arr, dtype=dtype)


def _argument_name(node, i):
    """The name of ``node.forward``'s i-th argument (x, w, b …), for messages."""
    params = [p for p in inspect.signature(node.forward).parameters.values() if p.kind != p.VAR_POSITIONAL]
    return params[i].name if i < len(params) else None


class _NodeType(type):
    """Infers a new node's per-sample shape as soon as it is built, when its inputs' are known.

    So a shape mismatch between known shapes is reported at the line that made it.
    """

    def __call__(cls, *args, **kwargs):
        node = super().__call__(*args, **kwargs)
        if node.inputs and node.shape is None and all(i.shape is not None for i in node.inputs):
            shape = node.infer_shape(*[i.shape for i in node.inputs])
            node.shape = None if shape is None else tuple(shape)
        return node


class Node(metaclass=_NodeType):
    """A value in the graph, computed from the values of its ``inputs``.

    A subclass writes two methods side by side, in the symbols of its docstring:

    - ``forward(*values)`` returns this node's value from its inputs' values;
    - ``backward(grad_out)`` receives ``grad_out`` = ∂E/∂(this node), of the same
      shape as ``self.value``, and returns one gradient per input (the chain-rule
      product ``grad_out · ∂(this node)/∂(input)``), each of that input's shape.
      It may return ``None`` for an input whose ``self.needs[i]`` is False: the
      graph does not want that gradient.  It writes into nothing but ``self``.

    Optionally it states ``infer_shape(*shapes)`` (the per-sample shape of its
    value from its inputs' per-sample shapes, raising ``GraphError`` when they do
    not fit) and the text the step-by-step trace shows: ``formula`` and
    ``derivative`` (plain text) and ``formula_tex``/``derivative_tex`` (LaTeX).

    Attributes: ``name``; ``inputs`` (tuple of nodes); ``shape`` (the shape of one
    sample's value, without the batch axis; known once the graph has inferred it);
    ``value`` after a forward pass; ``grad`` (∂E/∂value) after a backward pass.

    Built-in nodes write their values and gradients into arrays they keep from one
    pass to the next (``buffer``), as hand-written numpy code would: the next forward
    pass overwrites the values and the next backward pass the gradients, so copy
    ``node.value`` or ``node.grad`` to keep it.  (``graph.forward`` returns a fresh
    loss; ``Network.predict`` returns a copy.)
    """

    prefix = "node"
    formula = None
    formula_tex = None
    derivative = None
    derivative_tex = None
    no_gradient_for = ()  # inputs whose gradient backward may leave as None though asked for

    def __init__(self, *inputs, name=None):
        for i, node in enumerate(inputs):
            if not isinstance(node, Node):
                who = f"{type(self).__name__} '{name}'" if name else type(self).__name__
                hint = ("; wrap numbers in tg.Parameter(...) (trained) or tg.Constant(...) (fixed)"
                        if isinstance(node, (list, tuple, np.ndarray, int, float)) else "")
                arg = _argument_name(self, i)
                raise TypeError(f"{who}: input {i}{f' ({arg})' if arg else ''} must be a "
                                f"tinygraph Node, got {type(node).__name__}{hint}")
        if name is None:
            name = _auto_name(self.prefix)
        elif not isinstance(name, str) or not name:
            raise TypeError(f"{type(self).__name__}: name must be a non-empty string, got {name!r}")
        self.name = name
        self.inputs = tuple(inputs)
        self.needs = (True,) * len(inputs)
        self.shape = None
        self.value = None
        self.grad = None
        self.stamp = None  # for Inputs: the forward pass that fed .value (see Graph.backward)
        self._buffers = {}

    def buffer(self, name, shape, dtype, fill=None):
        """An array this node keeps between passes, to pass as ``out=`` to numpy.

        Made again only when shape or dtype change (then filled with ``fill``, if given).
        For small arrays it returns None, so numpy makes a fresh one: for a few numbers
        that is cheaper than reusing an array in place.
        """
        buf = self._buffers.get(name)
        if buf is not None and buf.shape == shape and buf.dtype == dtype:
            return buf
        if fill is None and math.prod(shape) <= SMALL:
            return None
        buf = self._buffers[name] = np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)
        return buf

    def forward(self, *values):
        raise NotImplementedError(f"{self.kind} must define forward(*values)")

    def backward(self, grad_out):
        raise NotImplementedError(f"{self.kind} must define backward(grad_out)")

    def infer_shape(self, *shapes):
        """Per-sample output shape from the inputs' per-sample shapes; None if unknown."""
        return None

    # The graph may write a node's numpy calls straight into its passes (compiled.py)
    # instead of calling forward and backward: for a few numbers the calls cost more than
    # the arithmetic.  A built-in node that can be written out says how, taking the same
    # branches as its methods; the lines must compute exactly what forward and backward
    # compute (a test compares both ways bit for bit).  None: the passes call the methods.
    _code_for = {}  # {"forward"/"backward": the method the class's *_code lines stand for}

    def forward_code(self, out, ins, arrays, namespace):
        """Lines whose last sets the variable ``out`` to this node's value, from the variables
        ``ins`` holding its inputs' values.  ``arrays.shape(node)`` and ``arrays.dtype(node)``
        are a node's whole shape (with the batch axis, if any) and dtype in the passes the
        code is for; names the lines use go into ``namespace``."""
        return None

    def backward_code(self, grads, g, value, ins, arrays, namespace):
        """Lines that set the variables ``grads`` (one per input, None where no gradient is
        wanted) from ``g`` (∂E/∂this node), ``value`` (this node's value) and ``ins`` (its
        inputs' values), all variable names; ``arrays`` and ``namespace`` as for forward_code."""
        return None

    def kept_code(self, var, buffer, shape, dtype, namespace, fill=None):
        """The name, in such lines, of the array this node (variable ``var``) keeps as
        ``buffer`` for ``shape`` and ``dtype``, as ``buffer()`` gives it (None where that
        makes it fresh: up to SMALL numbers, unless filled).  Raises NotWrittenOut above
        WRITTEN_OUT numbers: there a call costs little beside the arithmetic, and code that
        holds its arrays (one set per batch size it is kept for) would hold large ones."""
        size = math.prod(shape)
        if size > WRITTEN_OUT:
            raise NotWrittenOut(f"{self.kind} '{self.name}' keeps an array of {size} numbers")
        array = self.buffer(buffer, shape, dtype, fill)
        if array is None:
            return None
        namespace[f"_{var}_{buffer}"] = array
        return f"_{var}_{buffer}"

    def out_code(self, var, buffer, shape, dtype, namespace):
        """``", out=…"`` naming that array (``kept_code``), or "" where it is made fresh."""
        name = self.kept_code(var, buffer, shape, dtype, namespace)
        return "" if name is None else f", out={name}"

    def __init_subclass__(cls, **kwargs):
        """Remember which forward and backward a class's forward_code and backward_code
        were written for: a method replaced later (on the class or a node) is called."""
        super().__init_subclass__(**kwargs)
        cls._code_for = {name: vars(cls)[name] for name in ("forward", "backward")
                         if f"{name}_code" in vars(cls) and name in vars(cls)}

    @property
    def kind(self):
        return type(self).__name__

    def error(self, message):
        """A GraphError whose message starts with this node's kind and name."""
        return GraphError(f"{self.kind} '{self.name}': {message}")

    def __repr__(self):
        shape = "" if self.shape is None else f", shape={self.shape}"
        return f"{self.kind}('{self.name}'{shape})"

    # Arithmetic builds nodes: a + b is Add(a, b), a * b is Multiply(a, b), 0.3 * a is Scale(a, 0.3).
    def __add__(self, other):
        from .structure import Add
        return Add(self, other) if isinstance(other, Node) else NotImplemented

    def __mul__(self, other):
        from .structure import Multiply, Scale
        if isinstance(other, Node):
            return Multiply(self, other)
        if isinstance(other, (int, float, np.integer, np.floating)) and not isinstance(other, bool):
            return Scale(self, other)
        return NotImplemented

    __rmul__ = __mul__


class Input(Node):
    """Data fed at run time: ``graph.forward({"x": array})``.

    ``shape`` is the shape of one sample (``(2,)`` for two features).  A fed
    array of that shape is one sample; one with an extra leading axis is a batch
    of rows.  Without a declared shape a 1-D array is one sample and a 2-D array
    a batch; 1-D arrays fed beside a batch (targets of a single output unit) are
    batches of scalars.
    """

    prefix = "input"
    formula = "given"

    def __init__(self, name, shape=None):
        if not isinstance(name, str) or not name:
            raise TypeError(f"Input: name must be a non-empty string, got {name!r}")
        super().__init__(name=name)
        if shape is not None:
            shape = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
            if not all(isinstance(d, (int, np.integer)) and d >= 0 for d in shape):
                raise TypeError(f"Input '{name}': shape must be a tuple of non-negative ints, got {shape!r}")
            shape = tuple(int(d) for d in shape)
        self.declared_shape = shape
        self.shape = shape

    def backward(self, grad_out):
        return ()


class Parameter(Node):
    """A trainable array (weights, biases); the optimizer updates ``value`` in place.

    The array is copied, so the caller's array is never changed.  Integer values
    become float64; float32 stays float32.
    """

    prefix = "param"
    formula = "trainable"

    def __init__(self, value, name=None):
        super().__init__(name=name)
        self.value = np.array(as_float_array(value, f"Parameter '{self.name}'"), copy=True, order="C")
        self.shape = self.value.shape

    def backward(self, grad_out):
        return ()

    def __repr__(self):
        return f"Parameter('{self.name}', shape={self.shape})"


class Constant(Node):
    """A fixed array that is never updated (a copy of ``value``)."""

    prefix = "const"
    formula = "fixed"

    def __init__(self, value, name=None):
        super().__init__(name=name)
        self._original = np.array(as_float_array(value, f"Constant '{self.name}'"), copy=True)
        self._original.flags.writeable = False
        self.value = self._given = self._original
        self.shape = self.value.shape

    def as_dtype(self, dtype):
        """The constant's value in ``dtype`` (a graph computes in its parameters' dtype).

        Made from the value as given, so graphs of different dtypes sharing the constant
        lose nothing; a value set by hand since (``c.value = …``) is the constant from then on.
        """
        if self.value is not self._given:
            self._original = np.array(as_float_array(self.value, f"Constant '{self.name}'"), copy=True)
            self._original.flags.writeable = False
        value = self._original.astype(dtype, copy=self._original.dtype != dtype)
        value.flags.writeable = False
        self._given = value
        return value

    def backward(self, grad_out):
        return ()
