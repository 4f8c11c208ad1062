"""Python's arithmetic on nodes: what each operator and method builds, and what it refuses."""

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.core.arithmetic import OPERATORS, Arithmetic


def constant(node):
    """The number of a Constant the operators made, checking it is one number."""
    assert isinstance(node, tg.Constant) and node.shape == () and node.name.startswith("const_")
    return float(node.value)


def test_every_operator_and_method_has_its_builder_registered():
    used = {"add", "radd", "sub", "rsub", "mul", "truediv", "rtruediv", "pow", "neg"}
    used |= {"relu", "tanh", "sigmoid", "exp", "log"}
    assert set(OPERATORS) == used  # (registered when tinygraph is imported)
    assert issubclass(tg.Node, Arithmetic)


def test_operators_on_two_nodes():
    a, b = tg.Input("a", shape=(3,)), tg.Input("b", shape=(3,))
    for made, cls in ((a + b, tg.Add), (a - b, tg.Subtract), (a * b, tg.Multiply), (a / b, tg.Divide)):
        assert type(made) is cls and made.inputs == (a, b) and made.shape == (3,)
    assert type(-a) is tg.Negate and (-a).inputs == (a,)


def test_a_number_becomes_a_constant_or_a_scale():
    x = tg.Input("x", shape=(3,))
    y = x + 2
    assert type(y) is tg.Add and y.inputs[0] is x and constant(y.inputs[1]) == 2.0
    y = 2 + x
    assert type(y) is tg.Add and constant(y.inputs[0]) == 2.0 and y.inputs[1] is x
    y = x - 1
    assert type(y) is tg.Subtract and y.inputs[0] is x and constant(y.inputs[1]) == 1.0
    y = 1 - x
    assert type(y) is tg.Subtract and constant(y.inputs[0]) == 1.0 and y.inputs[1] is x
    y = 10.0 / x
    assert type(y) is tg.Divide and constant(y.inputs[0]) == 10.0 and y.inputs[1] is x
    for scaled, c in ((2 * x, 2.0), (x * 2, 2.0), (x / 2.0, 0.5), (x / np.int64(4), 0.25), (x / -0.5, -2.0)):
        assert type(scaled) is tg.Scale and scaled.inputs == (x,) and scaled.c == c
    y = x**3
    assert type(y) is tg.Power and y.p == 3.0 and y.inputs == (x,)
    assert type(x ** np.float32(0.5)) is tg.Power
    assert constant((x + np.float32(0.25)).inputs[1]) == 0.25


def test_micrograds_expression_builds_the_nodes_it_says():
    x = tg.Parameter(-4.0, name="x")
    y = 2 * x + 2 + x  # Add(Add(Scale(x, 2), Constant(2)), x)
    assert type(y) is tg.Add and y.inputs[1] is x
    inner = y.inputs[0]
    assert type(inner) is tg.Add and type(inner.inputs[0]) is tg.Scale and constant(inner.inputs[1]) == 2.0
    assert x.shape == () and y.shape == ()


def test_zero_plus_a_node_is_the_node_so_sum_builds_only_adds():
    a, b, c = (tg.Input(n, shape=(2,)) for n in "abc")
    assert 0 + a is a and 0.0 + a is a and sum([a]) is a
    total = sum([a, b, c])
    assert type(total) is tg.Add and total.inputs[1] is c and total.inputs[0].inputs == (a, b)
    assert tg.Graph(total).forward({"a": [1.0, 2.0], "b": [3.0, 4.0], "c": [5.0, 6.0]}).tolist() == [9.0, 12.0]
    assert type(a + 0) is tg.Add  # (only the start of a sum is left out)


def test_methods_build_activations_and_take_a_name():
    x = tg.Input("x", shape=(2,))
    for method, cls in (("relu", tg.ReLU), ("tanh", tg.Tanh), ("sigmoid", tg.Logistic), ("exp", tg.Exp)):
        made = getattr(x, method)(name=f"h_{method}")
        assert type(made) is cls and made.inputs == (x,) and made.name == f"h_{method}"
    assert type(x.log()) is tg.Log and x.log().clamp is None and x.log(clamp=1e-6).clamp == 1e-6


def test_the_values_of_the_operators_against_numpy():
    a, b = np.array([1.5, -2.0, 0.5]), np.array([0.5, 4.0, -1.0])
    A, B = tg.Input("a", shape=(3,)), tg.Input("b", shape=(3,))
    feed = {"a": a, "b": b}
    for made, ref in (
        (A - B, a - b),
        (A / B, a / b),
        (1 - A, 1 - a),
        (A - 1, a - 1),
        (3.0 / B, 3.0 / b),
        (A / 4, a / 4),
        (A**2, a**2),
        (-A + 2 * B, -a + 2 * b),
        (A.sigmoid(), 1 / (1 + np.exp(-a))),
    ):
        graph = tg.Graph(made)
        np.testing.assert_allclose(graph.forward({k: v for k, v in feed.items() if k in graph}), ref, rtol=1e-15)


def test_operators_refuse_what_they_cannot_build():
    a = tg.Input("a", shape=(3,))
    wrap = r"expected a node or a number; wrap arrays in tg\.Constant\(\.\.\.\) \(fixed\) or tg\.Parameter"
    for make, match in [
        (lambda: a + np.ones(3), rf"^Input 'a' \+ ndarray: {wrap}"),
        (lambda: np.ones(3) + a, rf"^ndarray \+ Input 'a': {wrap}"),
        (lambda: a - [1.0], rf"^Input 'a' - list: {wrap}"),
        (lambda: np.ones(3) - a, rf"^ndarray - Input 'a': {wrap}"),
        (lambda: a / np.ones(3), rf"^Input 'a' / ndarray: {wrap}"),
        (lambda: (1.0, 2.0) / a, rf"^tuple / Input 'a': {wrap}"),
        (lambda: a + None, r"^Input 'a' \+ NoneType: expected a node or a number$"),
        (lambda: None + a, r"^NoneType \+ Input 'a': expected a node or a number$"),
        (lambda: "s" - a, r"^str - Input 'a': expected a node or a number$"),
        (lambda: a + True, r"^Input 'a' \+ bool: expected a node or a number$"),
        (lambda: a - float("inf"), r"^Input 'a' - float: a number must be finite, got inf$"),
        (lambda: float("nan") / a, r"^float / Input 'a': a number must be finite, got nan$"),
        (lambda: a / float("inf"), r"^Input 'a' / float: a number must be finite, got inf$"),
        (lambda: a ** tg.Parameter(2.0, name="p"), r"^Input 'a' \*\* Parameter 'p': the exponent must be a fixed"),
        (lambda: a ** np.ones(2), r"^Input 'a' \*\* ndarray: the exponent must be a number$"),
        (lambda: a**True, r"^Input 'a' \*\* bool: the exponent must be a number$"),
        (lambda: 2**a, r"unsupported operand type\(s\) for \*\* or pow\(\): 'int' and 'Input'"),
        (lambda: a * np.ones(3), r"^Input 'a' \* ndarray: multiply by a number \(Scale\) or a node; wrap arrays"),
        (lambda: np.ones(3) * a, r"^Input 'a' \* ndarray"),
    ]:
        with pytest.raises(TypeError, match=match):
            make()
    with pytest.raises(ZeroDivisionError, match=r"^Input 'a' / 0: division by zero$"):
        a / 0
    with pytest.raises(ZeroDivisionError, match=r"^Input 'a' / 0\.0: division by zero$"):
        a / 0.0


def test_augmented_assignment_builds_a_new_node_and_leaves_the_old_one():
    c = tg.Parameter(1.0, name="c")
    old = c
    c += c + 1  # c = c + (c + 1)
    assert type(c) is tg.Add and c.inputs[0] is old and old.kind == "Parameter"
    assert float(tg.Graph(c).forward({})) == 3.0
