"""The neuron view's reading of a graph (tinygraph/teaching/network.py): which graphs are layered networks."""

import warnings

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.teaching.network import NotLayered, find_layers


def test_an_mlp_is_found_layer_by_layer():
    for bias in ("separate", "input"):
        net = tg.mlp([3, 4, 2], bias=bias, seed=0)
        layers = find_layers(net.graph)
        assert [layer.z.name for layer in layers] == ["z1", "z2"]
        assert [layer.W.name for layer in layers] == ["W1", "W2"]
        assert [layer.act.name for layer in layers] == ["h1", "o"]
        assert (layers[0].one is None) == (bias == "separate") and (layers[0].b is None) == (bias == "input")


def test_a_layer_of_your_own_activation_is_a_layer():
    class Square(tg.Elementwise):  # any elementwise node is an activation
        formula, derivative = "y = z²", "∂y/∂z = 2z"

        def forward(self, z):
            return z * z

        def local(self, out=None):
            return np.multiply(2, self.inputs[0].value, out=out)

    x = tg.Input("x", shape=(2,))
    h = Square(tg.WeightedSum(x, tg.Parameter(np.ones((2, 3)), name="W"), name="z"), name="sq")
    graph = tg.Graph(tg.SquaredLoss(h, tg.Input("t", shape=(3,)), name="E"))
    assert [layer.act.name for layer in find_layers(graph)] == ["sq"]


@pytest.mark.parametrize(
    "build,reason",
    [
        (lambda x: tg.Sum(tg.Tanh(x)), "no WeightedSum layers|Inputs feed a WeightedSum"),
        (lambda x: tg.Sum(tg.Add(tg.WeightedSum(x, tg.Parameter(np.ones((2, 2)))), tg.Tanh(x))), "feeds 2 nodes"),
        (lambda x: tg.Sum(tg.WeightedSum(x, tg.Constant(np.ones((2, 2))))), "not followed by a WeightedSum"),
    ],
)
def test_other_graphs_are_not_layered_networks_and_say_why(build, reason):
    with pytest.raises(NotLayered, match=reason):
        find_layers(tg.Graph(build(tg.Input("x", shape=(2,)))))


# -- graphs of images: the fully connected part ------------------------------------
def image_net(fully_connected=True, conv=False):
    """x (1, 4, 4) → h → flat (16,) → z → o → E; h = tanh(x), or with conv a convolution, ReLU and pooling."""
    x = tg.Input("x", shape=(1, 4, 4))
    if conv:
        kernels = tg.Parameter(np.ones((2, 1, 3, 3)), name="K")
        h = tg.MaxPool2D(tg.ReLU(tg.Conv2D(x, kernels, padding=1, name="conv"), name="r"), 1, name="h")
    else:
        h = tg.Tanh(x, name="h")
    if not fully_connected:
        return tg.Graph(tg.Sum(h, name="E"))
    flat = tg.Flatten(h, name="flat")
    z = tg.WeightedSum(flat, tg.Parameter(np.ones((flat.shape[0], 2)), name="W"), name="z")
    o = tg.Logistic(z, name="o")
    return tg.Graph(tg.SquaredLoss(o, tg.Input("t", shape=(2,)), name="E"))


@pytest.mark.parametrize("conv", [False, True])
def test_a_graph_of_images_has_its_fully_connected_part_found(conv):
    graph = image_net(conv=conv)
    with pytest.raises(NotLayered, match="0 Inputs feed a WeightedSum"):
        find_layers(graph)  # (as a whole it is no chain of layers)
    layers = find_layers(graph, partial=True)
    assert [(layer.source.name, layer.z.name, layer.act.name) for layer in layers] == [("flat", "z", "o")]


def test_the_network_view_says_it_draws_only_the_fully_connected_part():
    graph = image_net()
    graph.forward({"x": np.ones((2, 1, 4, 4)), "t": np.zeros((2, 2))})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (a partial view is no fallback: no warning)
        source = tg.to_dot(graph, view="network")
    note = "the network view draws only the fully connected part, from &#x27;flat&#x27; on;"
    assert note in source and "&#x27;x&#x27;, &#x27;h&#x27; have samples of more than one axis (images)" in source
    assert source.count("shape=circle") == 16 + 2  # the 16 features of flat, the 2 outputs
    assert "from the images<BR/>flat" in source
    from tinygraph.teaching import stepper

    tr = tg.trace(graph, {"x": np.ones((1, 4, 4)), "t": np.zeros(2)})
    assert stepper._views(tr, None) == ["graph", "network"]  # the stepper offers it too


@pytest.mark.parametrize("conv,names", [(False, "'x', 'h'"), (True, "'x', 'conv', 'r', 'h'")])
def test_without_a_fully_connected_part_the_network_view_does_not_apply(conv, names):
    graph = image_net(fully_connected=False, conv=conv)
    with pytest.raises(NotLayered, match=f"the network view does not apply: {names} have samples of more than one"):
        find_layers(graph, partial=True)
    with pytest.warns(UserWarning, match="does not apply"):
        source = tg.to_dot(graph, view="network")
    assert "no fully connected layers follow them" in source and "shape=circle" not in source
