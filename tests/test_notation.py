"""The notation the nodes' text is written in: symbols replaced whole, numbers put in, elements named."""

from tinygraph.notation import element, put_number, substitute


def test_an_element_is_named_by_its_index_and_a_number_by_its_name():
    assert element("W1", (0, 1)) == "W1[0,1]" and element("z", (2,)) == "z[2]" and element("E", ()) == "E"


def test_symbols_are_replaced_whole_and_after_a_digit():
    assert substitute("∂y/∂z = 2z", {"y": "h[0]", "z": "z1[0]"}) == "∂h[0]/∂z1[0] = 2z1[0]"
    assert substitute("zz + z_i + \\z", {"z": "q"}) == "zz + q_i + \\z"  # (a letter or \\ before: not a symbol)
    assert substitute("y = 1", {}) == "y = 1"


def test_a_negative_number_goes_in_parentheses_once():
    assert put_number("σ(z) = 1/(1 + e^(−z))", "z", "-0.5") == "σ(-0.5) = 1/(1 + e^(−(-0.5)))"
    assert put_number("σ(z) = 1/(1 + e^(−z))", "z", "0.5") == "σ(0.5) = 1/(1 + e^(−0.5))"
    assert put_number("z²", "z", "-2") == "(-2)²"
