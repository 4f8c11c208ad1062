"""The node contract (tinygraph/core/node.py): kept arrays, names, conversions, symbols, errors."""

import re

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.core.node import SMALL, as_float_array, auto_name, describe, kept


def test_kept_arrays_only_above_a_few_numbers():
    assert kept((SMALL,), np.float64) is None and kept((8, 8), np.float32) is None
    big = kept((SMALL + 1,), np.float32)
    assert big.shape == (SMALL + 1,) and big.dtype == np.float32
    assert kept((3, 40), np.float64).shape == (3, 40)


def test_auto_names_count_per_prefix():
    first, second = auto_name("zzz"), auto_name("zzz")
    assert first.startswith("zzz_") and int(second.split("_")[1]) == int(first.split("_")[1]) + 1
    a, b = tg.Tanh(tg.Input("x")), tg.Tanh(tg.Input("y"))
    assert a.name.startswith("tanh_") and a.name != b.name


@pytest.mark.parametrize(
    "value,dtype,expected",
    [
        ([1, 2], None, np.float64),
        (np.arange(3, dtype=np.int32), None, np.float64),
        (np.ones(2, np.float32), None, np.float32),
        ([True, False], None, np.float64),
        ([1.5], np.float32, np.float32),
    ],
)
def test_as_float_array_converts_numbers(value, dtype, expected):
    arr = as_float_array(value, "what", dtype)
    assert arr.dtype == expected and np.array_equal(arr, np.asarray(value, dtype=float))


@pytest.mark.parametrize(
    "value,error,message",
    [
        (None, TypeError, "what: expected an array of numbers, got None"),
        (["a"], TypeError, "what: expected an array of numbers, got dtype <U1"),
        ([1j], TypeError, "what: expected real numbers, got dtype complex128"),
        ([[1, 2], [3]], tg.GraphError, "what: expected a rectangular array of numbers, got a ragged sequence"),
        ([object()], TypeError, "what: expected an array of numbers, got dtype object"),
    ],
)
def test_as_float_array_names_what_it_refuses(value, error, message):
    with pytest.raises(error, match=f"^{message}"):
        as_float_array(value, "what")


def test_describe_names_a_node_still_being_built():
    assert describe(tg.Add, "s") == "Add 's'" and describe(tg.Add, None) == "Add"


def test_inputs_must_be_nodes_and_names_strings():
    x = tg.Input("x", shape=(2,))
    with pytest.raises(TypeError, match=r"^WeightedSum 'z': input 1 \(w\) must be a tinygraph Node, got list; wrap"):
        tg.WeightedSum(x, [[1.0], [2.0]], name="z")
    with pytest.raises(TypeError, match=r"^Logistic: input 0 \(z\) must be a tinygraph Node, got str$"):
        tg.Logistic("x")
    for bad in ("", 3, ("a",)):
        with pytest.raises(TypeError, match=f"^Tanh: name must be a non-empty string, got {re.escape(repr(bad))}$"):
            tg.Tanh(x, name=bad)


def test_symbols_come_from_the_formula_and_forwards_arguments():
    x = tg.Input("x", shape=(2,))
    assert tg.WeightedSum(x, tg.Parameter(np.ones(2))).symbols() == ("z", ["x", "w", "b"])
    assert tg.Logistic(x).symbols() == ("y", ["z"])
    assert tg.SquaredLoss(x, x).symbols() == ("E", ["o", "t"])
    assert tg.Add(x, x, x).symbols() == ("y", ["a", "b", "c"])

    class Mine(tg.Node):  # no formula: the output is y
        def forward(self, u, v):
            return u

    assert Mine(x, x).symbols() == ("y", ["u", "v"])


def test_shapes_are_inferred_where_the_node_is_built():
    x = tg.Input("x", shape=(3,))
    z = tg.WeightedSum(x, tg.Parameter(np.ones((3, 2))), name="z")
    assert z.shape == (2,) and tg.Tanh(z).shape == (2,) and tg.Sum(z).shape == ()
    with pytest.raises(tg.GraphError, match=r"^WeightedSum 'bad': x 'x' has 3 features but w '\w+' expects 4"):
        tg.WeightedSum(x, tg.Parameter(np.ones((4, 2))), name="bad")
    assert tg.Tanh(tg.Input("u")).shape is None  # not known until a graph is fed


def test_keep_gives_a_node_what_a_graph_keeps_for_it():
    node = tg.Tanh(tg.Input("x"), name="t")
    first, second = {"out": np.zeros(100)}, {"out": np.ones(100)}
    node.keep(first)
    assert node.out is first["out"] and node.kept_now is first
    node.keep(second)
    assert node.out is second["out"]
    node.out = "changed by hand"
    node.keep(second)  # the same dict: nothing is installed again
    assert node.out == "changed by hand"
    assert tg.Node.prepare(node, (3,), dtype=np.float64, batched=(False,)) == {}


def test_a_node_without_its_methods_says_so():
    class Half(tg.Node):
        pass

    h = Half(tg.Input("x"), name="h")
    with pytest.raises(NotImplementedError, match="Half must define forward"):
        h.forward(np.ones(2))
    with pytest.raises(NotImplementedError, match="Half must define backward"):
        h.backward(np.ones(2))


def test_errors_and_repr_name_the_node():
    t = tg.Tanh(tg.Input("x", shape=(2,)), name="t")
    assert str(t.error("something")) == "Tanh 't': something" and isinstance(t.error(""), tg.GraphError)
    assert repr(t) == "Tanh('t', shape=(2,))" and repr(tg.Tanh(tg.Input("u"), name="u2")) == "Tanh('u2')"
    assert t.kind == "Tanh" and t.role == "operation" and t.layer_role == "activation"
