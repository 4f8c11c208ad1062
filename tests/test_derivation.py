"""The engine's gradients equal the textbook backprop formulas, and SGD equals its rule."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygraph as tg


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_delta_formulas_for_a_3_4_2_network():
    rng = np.random.default_rng(0)
    net = tg.mlp([3, 4, 2], seed=1)
    W, b = net.graph["W1"].value, net.graph["b1"].value  # w_ij, b_j
    V, c = net.graph["W2"].value, net.graph["b2"].value  # v_jk, c_k
    x, t = rng.normal(size=3), np.array([0.0, 1.0])
    net.graph.forward({"x": x, "t": t})
    net.graph.backward()
    # By hand, in the notation of the derivation:
    h = sigmoid(x @ W + b)  # h_j = σ(Σ_i w_ij x_i + b_j)
    o = sigmoid(h @ V + c)  # o_k = σ(Σ_j v_jk h_j + c_k)
    E = 0.5 * np.sum((o - t) ** 2)
    delta_k = (o - t) * o * (1 - o)  # δ_k = (o_k − t_k) o_k (1 − o_k)
    dE_dv = np.outer(h, delta_k)  # ∂E/∂v_jk = δ_k h_j
    delta_j = h * (1 - h) * (V @ delta_k)  # δ_j = h_j (1 − h_j) Σ_k δ_k v_jk
    dE_dw = np.outer(x, delta_j)  # ∂E/∂w_ij = δ_j x_i
    assert np.isclose(net.loss.value, E, rtol=1e-14)
    assert np.allclose(net.graph["z2"].grad, delta_k, rtol=1e-13, atol=0)
    assert np.allclose(net.graph["z1"].grad, delta_j, rtol=1e-13, atol=0)
    assert np.allclose(net.graph["W2"].grad, dE_dv, rtol=1e-13, atol=0)
    assert np.allclose(net.graph["W1"].grad, dE_dw, rtol=1e-13, atol=0)
    assert np.allclose(net.graph["b2"].grad, delta_k) and np.allclose(net.graph["b1"].grad, delta_j)


def test_one_sgd_step_by_hand_equals_sgd_step():
    net = tg.mlp([2, 3, 1], seed=2)
    before = {p.name: p.value.copy() for p in net.parameters()}
    net.graph.forward({"x": [0.5, -1.0], "t": [1.0]})
    net.graph.backward()
    grads = {p.name: p.grad.copy() for p in net.parameters()}
    tg.SGD(net.parameters(), lr=0.3).step()
    for p in net.parameters():
        assert np.array_equal(p.value, before[p.name] - 0.3 * grads[p.name])


def test_momentum_is_off_by_default_and_works_when_on():
    p = tg.Parameter([1.0], name="w")
    p.grad = np.array([2.0])
    opt = tg.SGD([p], lr=0.1, momentum=0.9)
    opt.step()
    opt.step()
    assert np.allclose(p.value, 1.0 - 0.1 * 2.0 - 0.1 * (0.9 * 2.0 + 2.0))
    assert tg.SGD([p], lr=0.1).momentum == 0.0


def bias_pair(seed=3):
    """The same 2-3-1 network with a separate bias and with the constant-1 input."""
    sep = tg.mlp([2, 3, 1], seed=seed)
    aug = tg.mlp([2, 3, 1], seed=seed, bias="input")
    for k in (1, 2):
        W, b = sep.graph[f"W{k}"], sep.graph[f"b{k}"]
        b.value[:] = np.linspace(-0.5, 0.5, b.value.size)
        aug.graph[f"W{k}"].value[:] = np.vstack([W.value, b.value])
    return sep, aug


def test_both_bias_forms_give_identical_gradients():
    sep, aug = bias_pair()
    feed = {"x": np.array([0.3, -0.7]), "t": np.array([1.0])}
    assert np.isclose(sep.graph.forward(feed), aug.graph.forward(feed), rtol=1e-15)
    sep.graph.backward()
    aug.graph.backward()
    for k in (1, 2):
        stacked = np.vstack([sep.graph[f"W{k}"].grad, sep.graph[f"b{k}"].grad])
        assert np.allclose(aug.graph[f"W{k}"].grad, stacked, rtol=1e-14, atol=1e-16)


def test_both_bias_forms_give_identical_training_trajectories():
    sep, aug = bias_pair()
    X, T = tg.datasets.xor()
    h1 = sep.fit(X, T, epochs=50, lr=0.5, seed=7, progress=False)
    h2 = aug.fit(X, T, epochs=50, lr=0.5, seed=7, progress=False)
    assert np.allclose(h1, h2, rtol=1e-12)
    for k in (1, 2):
        stacked = np.vstack([sep.graph[f"W{k}"].value, sep.graph[f"b{k}"].value])
        assert np.allclose(aug.graph[f"W{k}"].value, stacked, rtol=1e-12)


def test_step_node_with_squared_loss_is_the_perceptron_rule():
    X, T = tg.datasets.linear(n=40, seed=0)
    x = tg.Input("x", shape=(2,))
    w = tg.Parameter([0.1, -0.2], name="w")
    b = tg.Parameter(0.0, name="b")
    y = tg.Step(tg.WeightedSum(x, w, b), name="y")
    g = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    opt = tg.SGD(g.parameters(), lr=0.2)
    w_ref, b_ref = w.value.copy(), 0.0
    for _ in range(20):
        for xi, ti in zip(X, T):
            g.forward({"x": xi, "t": ti})
            g.backward()
            opt.step()
            y_ref = 1.0 if xi @ w_ref + b_ref >= 0 else 0.0
            w_ref = w_ref + 0.2 * (ti - y_ref) * xi  # Rosenblatt: w ← w + η (t − y) x
            b_ref = b_ref + 0.2 * (ti - y_ref)
            assert np.allclose(w.value, w_ref, rtol=1e-14) and np.isclose(b.value, b_ref)
    predictions = g.run(y, {"x": X})
    assert np.array_equal(predictions, T)  # separable data: the perceptron converges


def test_xor_is_learned_from_a_fixed_seed():
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 2, 1], seed=0)
    history = net.fit(X, T, epochs=3000, lr=0.5, seed=0, progress=False)
    P = net.predict(X).ravel()
    assert np.all((P >= 0.5) == (T == 1)), P
    assert history[-1] < history[0] / 10


@st.composite
def small_network(draw):
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    activation = draw(st.sampled_from([tg.Logistic, tg.Tanh]))
    loss = draw(st.sampled_from([tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy]))
    bias = draw(st.sampled_from(["separate", "input", None]))
    batch = draw(st.sampled_from([None, 1, 3]))
    seed = draw(st.integers(0, 1000))
    return sizes, activation, loss, bias, batch, seed


@settings(max_examples=40, deadline=None)
@given(small_network())
def test_random_small_networks_pass_gradcheck(spec):
    sizes, activation, loss, bias, batch, seed = spec
    if loss is tg.SoftmaxCrossEntropy and sizes[-1] < 2:
        sizes = sizes[:-1] + [2]
    net = tg.mlp(sizes, activation=activation, loss=loss, bias=bias, seed=seed)
    rng = np.random.default_rng(seed)
    rows = () if batch is None else (batch,)
    x = rng.normal(size=rows + (sizes[0],))
    if loss is tg.SoftmaxCrossEntropy:
        t = rng.integers(0, sizes[-1], size=rows).astype(float)
    else:
        t = rng.uniform(0.1, 0.9, size=rows + (sizes[-1],))
    report = tg.gradcheck(net.graph, {"x": x, "t": t})
    assert report.passed, str(report)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([tg.Logistic, tg.Tanh, tg.ReLU]), st.integers(1, 4))
def test_random_compositions_pass_gradcheck(seed, act, n):
    """A branching composition: one input through two paths that share a weight."""
    rng = np.random.default_rng(seed)
    x = tg.Input("x", shape=(n,))
    W = tg.Parameter(rng.normal(size=(n, n)), name="W")
    h = act(tg.WeightedSum(x, W), name="h")
    k = tg.Tanh(tg.WeightedSum(h, W), name="k")  # W used twice
    o = tg.WeightedSum(tg.AppendOne(k), tg.Parameter(rng.normal(size=(n + 1, 2)), name="V"))
    g = tg.Graph(tg.SquaredLoss(o, tg.Input("t", shape=(2,))))
    feed = {"x": rng.normal(size=(3, n)) + 0.1, "t": rng.normal(size=(3, 2))}
    assert tg.gradcheck(g, feed, inputs=True).passed
