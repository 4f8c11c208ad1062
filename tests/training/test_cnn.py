"""digits_cnn: the nodes it builds, the numbers they compute (against plain numpy), its weights and seed."""

import numpy as np
import pytest

import tinygraph as tg


def test_the_digits_cnn_is_two_conv_blocks_and_a_dense_layer():
    graph, x, t, z = tg.digits_cnn(seed=0)
    built = [(type(n).__name__, n.name, n.shape) for n in graph.nodes if not isinstance(n, (tg.Input, tg.Parameter))]
    assert built == [
        ("Conv2D", "conv1", (16, 8, 8)),  # padding 1: the 3×3 kernels keep the 8×8 size
        ("ReLU", "h1", (16, 8, 8)),
        ("MaxPool2D", "pool1", (16, 4, 4)),
        ("Conv2D", "conv2", (32, 4, 4)),
        ("ReLU", "h2", (32, 4, 4)),
        ("MaxPool2D", "pool2", (32, 2, 2)),
        ("Flatten", "flat", (128,)),
        ("WeightedSum", "z", (10,)),
        ("SoftmaxCrossEntropy", "E", ()),
    ]
    shapes = {p.name: p.value.shape for p in graph.parameters()}
    assert shapes == {"K1": (16, 1, 3, 3), "b1": (16,), "K2": (32, 16, 3, 3), "b2": (32,), "W": (128, 10), "c": (10,)}
    assert sum(p.value.size for p in graph.parameters()) == 144 + 16 + 4608 + 32 + 1280 + 10  # 6090
    assert (x.name, x.shape, t.name, t.shape, z.name) == ("x", (1, 8, 8), "t", (), "z")


def numpy_scores(P, images):
    """The class scores of the network, in plain numpy loops: conv (padding 1), ReLU, 2×2 max pool, twice."""
    h = images
    for K, b in ((P["K1"], P["b1"]), (P["K2"], P["b2"])):
        n, c_in, size, _ = h.shape
        padded = np.zeros((n, c_in, size + 2, size + 2))
        padded[:, :, 1:-1, 1:-1] = h
        conv = np.empty((n, len(K), size, size))
        for i in range(size):
            for j in range(size):
                patch = padded[:, :, i : i + 3, j : j + 3]  # (n, c_in, 3, 3)
                conv[:, :, i, j] = np.tensordot(patch, K, axes=([1, 2, 3], [1, 2, 3])) + b
        relu = np.maximum(conv, 0)
        h = relu.reshape(n, len(K), size // 2, 2, size // 2, 2).max(axis=(3, 5))
    return h.reshape(len(h), -1) @ P["W"] + P["c"]


def test_the_digits_cnn_computes_its_scores_and_loss_like_plain_numpy():
    graph, x, t, z = tg.digits_cnn(seed=1)
    rng = np.random.default_rng(0)
    P = {p.name: p.value for p in graph.parameters()}
    P["b1"], P["b2"], P["c"] = rng.normal(size=16), rng.normal(size=32), rng.normal(size=10)  # (not only zeros)
    for name in ("b1", "b2", "c"):
        graph[name].value = P[name].copy()
    images, digits = rng.uniform(size=(5, 1, 8, 8)), rng.integers(0, 10, size=5)
    want = numpy_scores(P, images)
    np.testing.assert_allclose(graph.run(z, {x: images}), want, rtol=1e-10, atol=1e-12)
    log_softmax = want - want.max(axis=1, keepdims=True)
    log_softmax -= np.log(np.exp(log_softmax).sum(axis=1, keepdims=True))
    loss = graph.forward({x: images, t: digits})
    assert np.isclose(loss, -log_softmax[np.arange(5), digits].mean())


def test_its_weights_are_he_initialised_and_follow_the_seed():
    graph, *_ = tg.digits_cnn(seed=0)
    K1, K2, W = (graph[name].value for name in ("K1", "K2", "W"))
    assert abs(K2.std() / np.sqrt(2 / (16 * 9)) - 1) < 0.05  # 4608 draws: the std within about 1%
    assert abs(K1.std() / np.sqrt(2 / 9) - 1) < 0.25 and abs(W.std() * np.sqrt(128) - 1) < 0.1  # 144, 1280 draws
    assert all(not graph[name].value.any() for name in ("b1", "b2", "c"))  # biases start at 0
    same, other = tg.digits_cnn(seed=0)[0], tg.digits_cnn(seed=1)[0]
    for p, q, r in zip(graph.parameters(), same.parameters(), other.parameters()):
        assert np.array_equal(p.value, q.value) and (not p.value.any() or not np.array_equal(p.value, r.value))
    assert tg.digits_cnn(seed=None)[0]["K1"].value.shape == (16, 1, 3, 3)  # fresh weights


@pytest.mark.parametrize("seed, error", [(-1, tg.GraphError), (1.5, TypeError), ("0", TypeError), (True, TypeError)])
def test_a_bad_seed_is_named(seed, error):
    with pytest.raises(error, match="digits_cnn: seed"):
        tg.digits_cnn(seed=seed)
