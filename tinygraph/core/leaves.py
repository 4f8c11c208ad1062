"""The leaves of a graph: Input (data fed at run time), Parameter (trained), Constant (fixed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .node import Node, as_float_array


class Input(Node):
    """Data fed at run time: ``graph.forward({"x": array})``.

    ``shape`` is the shape of one sample (``(2,)`` for two features).  A fed array of that
    shape is one sample; one with an extra leading axis is a batch of rows.  Without a
    declared shape a 1-D array is one sample and a 2-D array a batch; 1-D arrays fed beside
    a batch (targets of a single output unit) are batches of scalars.  What a graph infers
    about an undeclared Input stays in that graph (``graph.shape_of(x)``).

    Parameters
    ----------
    name : str
        The name the feed uses for it (``{"x": X}``); a node object works as a key too.
    shape : tuple of int or int, optional
        One sample's shape, without the batch axis: ``(2,)`` for two features, ``()`` for
        one number per sample; an int n means ``(n,)``.  None (the default) leaves it to
        what is fed.

    Attributes
    ----------
    shape : tuple of int or None
        The declared per-sample shape.
    value : numpy.ndarray or None
        What the last pass fed it, in the graph's dtype.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or ``shape`` is not a tuple of
        non-negative ints.
    tinygraph.GraphError
        If ``name`` holds a newline or another control character.

    Notes
    -----
    A declared shape makes the batch axis explicit and lets shape mismatches be reported
    when the nodes are built.  With a declared shape, a feed that fits neither the sample
    nor a batch of it is a GraphError naming the Input, with a hint for the usual mix-ups
    of ``(n,)`` and ``(n, 1)`` targets.  An Input gets a gradient only from ``graph.backward(inputs=True)``.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> z = tg.WeightedSum(x, tg.Parameter([[1.0, 2.0], [3.0, 4.0]], name="W"), name="z")
    >>> graph = tg.Graph(z)
    >>> graph.forward({"x": np.array([1.0, 1.0])})  # one sample
    array([4., 6.])
    >>> graph.forward({"x": np.array([[1.0, 1.0], [0.0, 1.0]])})  # a batch of two rows
    array([[4., 6.],
           [3., 4.]])
    >>> graph.batch
    2
    """

    prefix = "input"
    role = "input"
    formula = "given"
    fed_by: object = None  # the pass that last fed it (a graph checks it before backward)

    def __init__(self, name: str, shape: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise TypeError(f"Input: name must be a non-empty string, got {name!r}")
        super().__init__(name=name)
        if shape is not None:
            try:
                shape = tuple(shape)
            except TypeError:  # one number
                shape = (shape,)
            if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise TypeError(f"Input '{name}': shape must be a tuple of non-negative ints, got {shape!r}")
            shape = tuple(int(d) for d in shape)
        self.shape = shape

    def backward(self, grad_out: np.ndarray) -> tuple:
        return ()


class Parameter(Node):
    """A trainable array (weights, biases); optimizers update ``value`` in place.

    The array given is copied, so the caller's array never changes.  Integer values become
    float64; float32 stays float32.  ``p.value`` may be replaced by another float array
    (optimizers and graphs follow it from their next step or pass, after checking it).

    Parameters
    ----------
    value : array_like
        The initial values: numbers of any shape (``(n_in, n_out)`` for the weights of a
        layer, ``(n_out,)`` for its biases).
    name : str, optional
        The node's name, unique within a graph (and the key under which ``save`` stores
        it); by default ``param_<n>``.

    Attributes
    ----------
    value : numpy.ndarray
        The current values, a C-ordered float array.
    grad : numpy.ndarray or None
        ∂E/∂value after ``graph.backward()``; zeros when the output does not depend on it.

    Raises
    ------
    TypeError
        If ``value`` is None, not numbers, or complex, or ``name`` is not a non-empty string.
    tinygraph.GraphError
        If ``value`` is a ragged sequence or ``name`` holds a control character.

    Notes
    -----
    A Parameter's value is the same for every sample of a batch: its shape has no batch
    axis.  The dtype of a graph's Parameters is the dtype the graph computes in.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> w = tg.Parameter([1, 2, 3], name="w")
    >>> w
    Parameter('w', shape=(3,))
    >>> w.value  # integers become float64
    array([1., 2., 3.])
    >>> tg.Parameter(np.zeros(2, np.float32)).value.dtype
    dtype('float32')
    """

    prefix = "param"
    role = "parameter"
    formula = "trainable"

    def __init__(self, value: Any, name: str | None = None) -> None:
        super().__init__(name=name)
        self.value = np.array(as_float_array(value, f"Parameter '{self.name}'"), order="C")

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of its value (a Parameter has no batch axis)."""
        return np.shape(self.value)

    def backward(self, grad_out: np.ndarray) -> tuple:
        return ()

    def __repr__(self) -> str:
        """Return ``Parameter('name', shape=…)``."""
        return f"Parameter('{self.name}', shape={self.shape})"


class Constant(Node):
    """A fixed array that is never updated (a read-only copy of ``value``).

    A graph whose parameters are float32 reads it as float32, without changing the constant, so graphs of
    two dtypes can share it.

    Parameters
    ----------
    value : array_like
        The numbers, of any shape; integers become float64.
    name : str, optional
        The node's name; by default ``const_<n>``.

    Raises
    ------
    TypeError
        If ``value`` is None, not numbers, or complex, or ``name`` is not a non-empty string.
    tinygraph.GraphError
        If ``value`` is a ragged sequence or ``name`` holds a control character.

    Notes
    -----
    Like a Parameter's, its value is the same for every sample of a batch.  It gets a
    gradient only from ``graph.backward(inputs=True)``; no optimizer changes it.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> x = tg.Input("x", shape=(2,))
    >>> y = tg.Add(x, tg.Constant([10, 20], name="c"), name="y")
    >>> tg.Graph(y).forward({"x": np.array([1.0, 2.0])})
    array([11., 22.])
    """

    prefix = "const"
    role = "constant"
    formula = "fixed"

    def __init__(self, value: Any, name: str | None = None) -> None:
        super().__init__(name=name)
        self.value = np.array(as_float_array(value, f"Constant '{self.name}'"))
        self.value.flags.writeable = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of its value (a Constant has no batch axis)."""
        return np.shape(self.value)

    def backward(self, grad_out: np.ndarray) -> tuple:
        return ()


def checked_value(node: Node) -> np.ndarray:
    """Return a Parameter's or Constant's value, which may have been replaced, once checked.

    Checked before a pass or a step uses it: it must be an array of floats (and a
    Parameter's writeable), else a TypeError names the node.
    """
    value = node.value
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        got = "None" if value is None else type(value).__name__
        got += f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else ""
        raise TypeError(
            f"{node.kind} '{node.name}': value must be a numpy array of floats, got {got}; assign "
            f"one, e.g. {node.name}.value = np.array(...)"
        )
    if node.role == "parameter" and not value.flags.writeable:
        raise TypeError(
            f"Parameter '{node.name}': value must be a writeable array (optimizers update it in "
            "place), got a read-only one; assign a copy"
        )
    return value
