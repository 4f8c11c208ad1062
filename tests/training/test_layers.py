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


N_IN, N_OUT = 400, 300  # 120 000 weights: sample variances within about 1% of the true ones


@pytest.mark.parametrize(
    "init, activation, draw, variance",
    [
        ("xavier", tg.ReLU, "uniform", 2 / (N_IN + N_OUT)),
        ("he", tg.Tanh, "normal", 2 / N_IN),
        ("uniform", tg.Logistic, "uniform", 1 / (3 * N_IN)),
        ("auto", tg.Logistic, "uniform", 2 / (N_IN + N_OUT)),  # auto: xavier ...
        ("auto", tg.ReLU, "normal", 2 / N_IN),  # ... and he for ReLU
    ],
)
def test_init_draws_the_weights_it_names(init, activation, draw, variance):
    x = tg.Input("x", shape=(N_IN,))
    W = tg.Graph(tg.dense(x, N_OUT, activation=activation, seed=0, init=init)).parameters()[0].value
    assert W.shape == (N_IN, N_OUT)
    assert abs(W.var() / variance - 1) < 0.03 and abs(W.mean()) < 0.02 * np.sqrt(variance)
    if draw == "uniform":  # U(−a, a): every weight within a = √(3 variance), the extremes close to it
        a = np.sqrt(3 * variance)
        assert np.abs(W).max() <= a and np.abs(W).max() > 0.999 * a
    else:  # normal: about 0.27% of the weights beyond 3σ
        beyond = np.mean(np.abs(W) > 3 * np.sqrt(variance))
        assert 0.002 < beyond < 0.0035
    again = tg.Graph(tg.dense(x, N_OUT, activation=activation, seed=0, init=init)).parameters()[0].value
    other = tg.Graph(tg.dense(x, N_OUT, activation=activation, seed=1, init=init)).parameters()[0].value
    assert np.array_equal(W, again) and not np.array_equal(W, other)  # seeded


def test_mlp_init_applies_to_every_layer_and_auto_is_the_default():
    rng_net = tg.mlp([50, 40, 30], activation=tg.ReLU, seed=2)
    auto = tg.mlp([50, 40, 30], activation=tg.ReLU, seed=2, init="auto")
    assert all(np.array_equal(p.value, q.value) for p, q in zip(rng_net.parameters(), auto.parameters()))
    he = tg.mlp([50, 40, 30], activation=tg.ReLU, seed=2, init="he")
    assert np.array_equal(he.graph["W1"].value, auto.graph["W1"].value)
    assert not np.array_equal(he.graph["W2"].value, auto.graph["W2"].value)  # the output layer is logistic: xavier
    uniform = tg.mlp([50, 40, 30], seed=2, init="uniform", bias="input")
    assert np.abs(uniform.graph["W1"].value[:-1]).max() <= 1 / np.sqrt(50)
    assert not uniform.graph["W1"].value[-1].any()  # the bias row starts at zero


@pytest.mark.parametrize("bad", ["glorot", "He", None, 3])
def test_an_unknown_init_is_refused_naming_the_argument(bad):
    x = tg.Input("x", shape=(2,))
    with pytest.raises(
        tg.GraphError, match=rf"dense: init must be one of 'auto', 'uniform', 'xavier', 'he', got {bad!r}"
    ):
        tg.dense(x, 3, init=bad)
    with pytest.raises(tg.GraphError, match="mlp: init must be one of"):
        tg.mlp([2, 3, 1], init=bad)
