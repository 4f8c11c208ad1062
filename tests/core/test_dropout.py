"""Dropout: inverted dropout in training, the identity when evaluating, masks reproducible from seed and step."""

import numpy as np
import pytest

import tinygraph as tg


def reference_mask(seed, step, shape, p):
    """m / (1 − p) as the docstring states it: kept where a uniform draw of (seed, step) is >= p."""
    keep = np.random.default_rng((seed, step)).random(shape) >= p
    return keep / (1 - p)


def dropout_graph(p=0.5, seed=3, shape=(5,)):
    x = tg.Input("x", shape=shape)
    d = tg.Dropout(x, p=p, seed=seed, name="d")
    return tg.Graph(tg.Sum(d, name="E")), x, d


@pytest.mark.parametrize("batch", [None, 4])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_training_forward_is_the_masked_input_scaled_by_one_over_one_minus_p(batch, p):
    graph, x, d = dropout_graph(p=p, seed=11)
    X = np.random.default_rng(0).normal(size=(5,) if batch is None else (batch, 5))
    for step in range(1, 7):  # the first passes run the checked loop, later ones the unrolled code
        graph.forward({"x": X})
        assert graph.mode.step == step
        np.testing.assert_array_equal(d.value, X * reference_mask(11, step, X.shape, p))
    assert graph.ran["forward"] == "unrolled"


def test_the_mean_activation_is_preserved_in_training():
    graph, x, d = dropout_graph(p=0.3, seed=0, shape=(200_000,))
    graph.forward({"x": np.ones(200_000)})
    assert abs(d.value.mean() - 1.0) < 0.01
    assert abs(np.mean(d.value == 0) - 0.3) < 0.01


def test_evaluation_mode_is_the_identity_forward_and_backward():
    graph, x, d = dropout_graph(p=0.5)
    X = np.arange(5.0)
    graph.eval()
    assert not graph.training
    graph.forward({"x": X})
    np.testing.assert_array_equal(d.value, X)
    assert d.mask is None
    graph.backward(inputs=True)
    np.testing.assert_array_equal(x.grad, np.ones(5))
    assert graph.mode.step == 0  # passes in evaluation are not counted


def test_training_backward_matches_finite_differences_with_the_mask_held():
    rng = np.random.default_rng(1)
    x = tg.Input("x", shape=(3, 4))
    w = tg.Parameter(rng.normal(size=(3, 4)), name="w")
    d = tg.Dropout(tg.Multiply(x, w, name="xw"), p=0.4, seed=5, name="d")
    r = rng.normal(size=(2, 3, 4))
    graph = tg.Graph(tg.Sum(tg.Multiply(tg.Logistic(d, name="s"), tg.Constant(r, name="r"), name="sr"), name="E"))
    X = rng.normal(size=(2, 3, 4))

    def loss(wv):
        graph.mode.step = 6  # the next pass is the 7th: the same mask every time
        w.value = wv
        return float(graph.forward({"x": X}))

    w0 = w.value.copy()
    loss(w0)
    graph.backward()
    analytic = w.grad.copy()
    numeric = np.zeros_like(w0)
    for i in np.ndindex(*w0.shape):
        e = np.zeros_like(w0)
        e[i] = 1e-6
        numeric[i] = (loss(w0 + e) - loss(w0 - e)) / 2e-6
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)
    assert np.any(analytic == 0) and np.any(analytic != 0)  # dropped elements pass nothing back


def test_the_mask_is_reproducible_from_the_seed_and_the_step():
    masks = []
    for _ in range(2):
        graph, x, d = dropout_graph(p=0.5, seed=42, shape=(50,))
        for _ in range(3):
            graph.forward({"x": np.ones(50)})
        masks.append(d.mask.copy())
    np.testing.assert_array_equal(masks[0], masks[1])
    graph, x, d = dropout_graph(p=0.5, seed=42, shape=(50,))
    graph.forward({"x": np.ones(50)})
    assert not np.array_equal(d.mask, masks[0])  # step 1 is not step 3
    graph.mode.step = 2
    graph.forward({"x": np.ones(50)})
    np.testing.assert_array_equal(d.mask, masks[0])


def test_a_refused_feed_is_not_counted_and_batch_sizes_may_change():
    graph, x, d = dropout_graph(p=0.5, seed=1)
    graph.forward({"x": np.ones((3, 5))})
    with pytest.raises(tg.GraphError, match="Input 'x'"):
        graph.forward({"x": np.ones((3, 4))})
    assert graph.mode.step == 1
    graph.forward({"x": np.ones((7, 5))})
    np.testing.assert_array_equal(d.value, reference_mask(1, 2, (7, 5), 0.5))


def test_two_graphs_sharing_a_dropout_keep_their_own_modes():
    x = tg.Input("x", shape=(8,))
    d = tg.Dropout(x, p=0.5, seed=0, name="d")
    training, evaluating = tg.Graph(tg.Sum(d, name="E")), tg.Graph(tg.Sum(d, name="E")).eval()
    X = np.ones(8)
    for _ in range(3):
        training.forward({"x": X})
        np.testing.assert_array_equal(d.value, reference_mask(0, training.mode.step, (8,), 0.5))
        evaluating.forward({"x": X})
        np.testing.assert_array_equal(d.value, X)


def test_float32_stays_float32():
    x = tg.Input("x", shape=(4,))
    w = tg.Parameter(np.ones(4, np.float32), name="w")
    graph = tg.Graph(tg.Sum(tg.Dropout(tg.Multiply(x, w, name="xw"), p=0.5, seed=0, name="d"), name="E"))
    graph.forward({"x": np.ones((3, 4), np.float32)})
    graph.backward()
    assert graph["d"].value.dtype == np.float32 and w.grad.dtype == np.float32


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"p": 1.0}, tg.GraphError, r"Dropout 'bad': p must be in \[0, 1\).*got 1.0"),
        ({"p": -0.1}, tg.GraphError, r"p must be in \[0, 1\).*got -0.1"),
        ({"p": "half"}, TypeError, "p must be a number in .*got str"),
        ({"p": True}, TypeError, "got bool"),
        ({"seed": -1}, tg.GraphError, "seed must be a whole number >= 0 or None, got -1"),
        ({"seed": 1.5}, TypeError, "seed must be a whole number .*got float"),
    ],
)
def test_bad_arguments_name_the_node_and_what_was_received(kwargs, error, match):
    with pytest.raises(error, match=match):
        tg.Dropout(tg.Input("x", shape=(2,)), name="bad", **kwargs)


def test_p_zero_drops_nothing_and_a_seed_is_drawn_when_none_is_given():
    graph, x, d = dropout_graph(p=0.0)
    graph.forward({"x": np.arange(5.0)})
    np.testing.assert_array_equal(d.value, np.arange(5.0))
    a, b = tg.Dropout(x), tg.Dropout(x)
    assert isinstance(a.seed, int) and a.seed != b.seed


def network_with_dropout():
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=(1,))
    h = tg.dense(x, 16, tg.Tanh, seed=0)
    o = tg.dense(tg.Dropout(h, p=0.5, seed=0, name="drop"), 1, tg.Logistic, seed=1, name="o")
    loss = tg.SquaredLoss(o, t, name="E")
    layers = []
    return tg.Network(x, t, layers, o, loss, (2, 16, 1), "separate", tg.Tanh, tg.Logistic)


def test_fit_trains_in_training_mode_and_puts_the_mode_back():
    net = network_with_dropout()
    X, T = tg.datasets.xor()
    seen = []
    net.graph.eval()
    tg.fit(
        net,
        {"x": X, "t": T[:, None]},
        0.5,
        epochs=3,
        seed=0,
        callback=lambda epoch, loss: seen.append(net.graph.training),
    )
    assert seen == [True, True, True]
    assert not net.graph.training
    assert net.graph.mode.step == 12  # 3 epochs of 4 samples, one pass each
    with pytest.raises(tg.GraphError):
        tg.fit(net, {"x": X[:, :1], "t": T[:, None]}, 0.5, epochs=1)
    assert not net.graph.training


def test_predict_and_accuracy_evaluate_and_put_the_mode_back():
    net = network_with_dropout()
    X, T = tg.datasets.xor()
    net.graph.train()
    first = net.predict(X)
    np.testing.assert_array_equal(net.predict(X), first)  # no mask: the same every time
    assert net.graph.training and net.graph.mode.step == 0
    manual = net.graph.eval().run("o", {"x": X})
    np.testing.assert_array_equal(first, manual)
    net.graph.train()
    assert net.accuracy(X, T) == np.mean((first.ravel() >= 0.5) == (T == 1))  # from the evaluated output
    assert net.graph.training and net.graph.mode.step == 0  # the mode put back, no pass in training


def test_the_trace_shows_the_mask():
    graph, x, d = dropout_graph(p=0.5, seed=2, shape=(4,))
    tr = tg.trace(graph, {"x": np.ones(4)}, inputs=True)
    text = str(tr)
    assert "d = m ⊙ x / (1 − p)" in text
    assert "m/(1 − p) = [2, 2, 0, 2]" in text and "3 of 4 kept" in text
