"""dense, mlp and the Network they build: names from the derivation, training, predicting."""

import numpy as np
import pytest

import tinygraph as tg


def test_dense_builds_named_nodes_and_needs_known_features():
    x = tg.Input("x", shape=(3,))
    h = tg.dense(x, 4, name="h", seed=0)
    assert isinstance(h, tg.Logistic) and h.name == "h" and h.shape == (4,)
    g = tg.Graph(h)
    assert g["h.W"].value.shape == (3, 4) and g["h.b"].value.shape == (4,)
    assert isinstance(g["h.z"], tg.WeightedSum)
    o = tg.dense(h, 2, activation=None, name="o", bias="input")
    assert isinstance(o, tg.WeightedSum) and tg.Graph(o)["o.W"].value.shape == (5, 2)
    relu = tg.dense(x, 5, activation=tg.ReLU, seed=1)
    assert isinstance(relu, tg.ReLU)
    with pytest.raises(tg.GraphError, match="number of features of Input 'u' is unknown"):
        tg.dense(tg.Input("u"), 3)


def test_mlp_names_follow_the_derivation():
    net = tg.mlp([3, 4, 4, 2], seed=0)
    names = [n.name for n in net.graph.nodes]
    for name in ["x", "W1", "b1", "z1", "h1", "W2", "b2", "z2", "h2", "W3", "b3", "z3", "o", "t", "E"]:
        assert name in names
    assert net.output.name == "o" and net.loss.name == "E" and len(net.layers) == 3
    assert [layer.W.value.shape for layer in net.layers] == [(3, 4), (4, 4), (4, 2)]
    assert repr(net) == "Network(3-4-4-2, bias='separate', loss=SquaredLoss)"


def test_deep_network_learns_moons():
    X, T = tg.datasets.moons(n=200, noise=0.1, seed=0)
    net = tg.mlp([2, 8, 8, 8, 1], activation=tg.Tanh, seed=0)
    net.fit(X, T, epochs=60, lr=0.1, seed=0, progress=False)
    assert net.accuracy(X, T) >= 0.95


def test_softmax_network_classifies_blobs():
    X, T = tg.datasets.blobs(n=150, centers=3, noise=0.4, seed=1)
    net = tg.mlp([2, 8, 3], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0)
    net.fit(X, T, epochs=30, lr=0.1, seed=0, progress=False)
    P = net.predict(X)
    assert P.shape == (150, 3) and np.allclose(P.sum(axis=1), 1.0)
    assert net.accuracy(X, T) >= 0.9


def test_predict_does_not_need_targets_and_returns_a_copy():
    net = tg.mlp([2, 2, 1], seed=0)
    p = net.predict(np.zeros((3, 2)))
    p[:] = 7
    assert not np.any(net.output.value == 7)
    assert net.predict([0.0, 1.0]).shape == (1,)


def test_helpers_reject_what_is_not_a_node_class():
    with pytest.raises(TypeError, match="mlp: loss must be a loss node class such as tg.SquaredLoss"):
        tg.mlp([2, 1], loss="mse")
    with pytest.raises(TypeError, match="dense: activation must be an activation node class"):
        tg.dense(tg.Input("x", shape=(2,)), 3, activation="tanh")
    net = tg.mlp([2, 1], seed=0)
    with pytest.raises(tg.GraphError, match="X has 4 rows but T has 3"):
        net.accuracy(np.zeros((4, 2)), np.zeros(3))


def test_mlp_refuses_an_output_activation_that_softmax_cross_entropy_would_ignore():
    with pytest.raises(tg.GraphError, match=r"SoftmaxCrossEntropy .* must be 'auto' or None, got Tanh"):
        tg.mlp([2, 3, 3], loss=tg.SoftmaxCrossEntropy, output_activation=tg.Tanh)
    for given in ("auto", None):
        net = tg.mlp([2, 3, 3], loss=tg.SoftmaxCrossEntropy, output_activation=given)
        assert net.output_activation is None and type(net.output).__name__ == "Softmax"
