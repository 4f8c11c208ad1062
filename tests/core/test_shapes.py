"""What a graph learns from its feed (shapes, the batch, dtypes, kept arrays) stays in that graph."""

import numpy as np
import pytest

import tinygraph as tg


def test_an_undeclared_input_reused_in_a_new_graph_starts_afresh():
    """Regression: a shape inferred in one graph used to stay on the Input and break the next."""
    x = tg.Input("x")
    first = tg.Graph(tg.Sum(tg.WeightedSum(x, tg.Parameter(np.ones(4), name="w4"), name="z4")))
    first.forward({"x": np.ones((3, 4))})
    assert x.shape is None and first.shape_of(x) == (4,)
    loss = tg.SquaredLoss(
        tg.WeightedSum(x, tg.Parameter(np.ones((1, 1)), name="w1"), name="z1"), tg.Input("t", shape=(1,)), name="E"
    )  # built for data with one column
    second = tg.Graph(loss)
    assert second.shape_of(x) is None and second.shape_of("z1") is None
    assert np.isclose(second.forward({"x": [[2.0], [3.0]], "t": [[1.0], [1.0]]}), 0.5 * (1 + 4) / 2)
    assert second.shape_of(x) == (1,) and first.shape_of(x) == (4,)


def test_graphs_sharing_nodes_with_other_feature_sizes_and_dtypes_keep_their_own_passes():
    x = tg.Input("x")
    m = tg.Multiply(x, tg.Parameter(np.array(2.0), name="a"), name="m")
    wide = tg.Graph(tg.Sum(tg.Tanh(m, name="t"), name="S"))
    narrow = tg.Graph(tg.Sum(tg.Multiply(m, tg.Parameter(np.ones(1, np.float32), name="f"), name="n"), name="N"))
    rng = np.random.default_rng(0)
    for rows in (100, 7, 100, None, 3):  # alternating, above and below the size of kept arrays
        xw = rng.normal(size=(rows, 5) if rows else 5)
        xn = rng.normal(size=(rows, 1) if rows else 1)
        for _ in range(2):  # (the second pass of each runs unrolled)
            got_wide = wide.forward({"x": xw})
            got_narrow = narrow.forward({"x": xn})
            assert np.isclose(got_wide, np.tanh(2 * xw).sum(), rtol=1e-12)
            assert got_narrow.dtype == np.float64 and np.isclose(got_narrow, 2 * xn.sum(), rtol=1e-12)
            narrow.backward(inputs=True)
            assert np.array_equal(x.grad, np.full_like(xn, 2.0))
        assert wide.shape_of(m) == (5,) and narrow.shape_of(m) == (1,)
    assert wide.ran == {"forward": "unrolled", "backward": None}


def test_a_node_of_your_own_without_infer_shape_shared_by_two_graphs():
    class Square(tg.Node):  # no infer_shape: each graph learns its shape from its value
        def forward(self, x):
            return x * x

        def backward(self, g):
            return (2 * self.inputs[0].value * g,)

    x = tg.Input("x", shape=(2,))
    trunk = Square(tg.WeightedSum(x, tg.Parameter(np.ones((2, 3)), name="W"), name="z"), name="sq")
    a = tg.Graph(tg.Sum(tg.Tanh(trunk, name="ta"), name="Ea"))
    b = tg.Graph(tg.Sum(tg.Logistic(trunk, name="lb"), name="Eb"))
    for _ in range(3):
        for graph in (a, b):
            graph.forward({"x": [0.1, 0.2]})
            graph.backward()
    assert a.ran == b.ran == {"forward": "unrolled", "backward": "unrolled"}
    assert trunk.shape is None and a.shape_of(trunk) == b.shape_of(trunk) == (3,)
    z = 0.1 + 0.2  # every unit: z_j = Σ_i x_i · 1
    s = 1 / (1 + np.exp(-z * z))  # σ(sq), sq = z²
    by_hand = np.outer([0.1, 0.2], [2 * z * s * (1 - s)] * 3)  # ∂Eb/∂W_ij = x_i · 2z · σ'(sq)
    assert np.allclose(b["W"].grad, by_hand, rtol=1e-12)


def test_a_constant_shared_by_graphs_of_two_dtypes_serves_each_in_its_own():
    c = tg.Constant([0.1, 0.2], name="c")
    x = tg.Input("x", shape=(2,))
    w = tg.Parameter(np.ones(2, np.float32), name="w")
    g32 = tg.Graph(tg.Sum(tg.Multiply(tg.Add(x, c, name="a"), w, name="m"), name="E"))
    g64 = tg.Graph(tg.Sum(tg.Add(x, c, name="a2"), name="E2"))
    feed = {"x": [0.0, 0.0]}
    for _ in range(2):
        assert g32.forward(feed) == np.float32(0.1) + np.float32(0.2) and g32.dtype == np.float32
        assert g64.forward(feed) == 0.1 + 0.2  # nothing lost on the way
        assert c.value.dtype == np.float64  # the constant itself never changes
    c.value = np.array([1.5, 2.5])  # set by hand: both graphs follow
    assert g32.forward(feed) == 4.0 and g64.forward(feed) == 4.0
    with pytest.raises(TypeError, match="Constant 'c': value must be a numpy array of floats, got list"):
        c.value = [1.0, 2.0]
        g64.forward(feed)


def test_the_batch_and_shapes_a_graph_infers_are_public_and_its_own():
    net = tg.mlp([2, 3, 1], seed=0)
    g = net.graph
    assert g.batch is None and g.shape_of("h1") == (3,)
    g.run("o", {"x": np.ones((6, 2))})
    assert g.batch == 6 and g.shape_of(net.output) == (1,)
    g.run("o", {"x": np.ones(2)})
    assert g.batch is None
    with pytest.raises(tg.GraphError, match="shape_of: no node named 'nope'"):
        g.shape_of("nope")


def test_a_replaced_parameter_of_another_dtype_or_shape_is_checked_before_the_pass():
    x = tg.Input("x", shape=(2,))
    w = tg.Parameter([[1.0, 0.0], [0.0, 1.0]], name="w")
    g = tg.Graph(tg.Sum(tg.WeightedSum(x, w, name="z"), name="E"))
    for _ in range(2):
        assert g.forward({"x": [1.0, 2.0]}) == 3.0
    w.value = np.array([[2.0], [1.0]], np.float32)  # another shape and dtype
    assert g.forward({"x": [1.0, 2.0]}) == 4.0 and g.dtype == np.float32
    assert g.shape_of("z") == (1,)
    w.value = np.ones((3, 1))  # no longer fits: nothing changes
    before = g["z"].value.copy()
    with pytest.raises(tg.GraphError, match=r"WeightedSum 'z': x 'x' has 2 features but w 'w' expects 3"):
        g.forward({"x": [5.0, 5.0]})
    assert np.array_equal(g["z"].value, before) and np.array_equal(x.value, [1.0, 2.0])
    for bad, message in (
        ([1.0, 2.0], "got list"),
        (None, "got None"),
        (np.float64(2.0), "got float64"),
        (np.ones((2, 1), int), "got ndarray of dtype int64"),
    ):
        w.value = bad
        with pytest.raises(TypeError, match=f"Parameter 'w': value must be a numpy array of floats, {message}"):
            g.forward({"x": [1.0, 2.0]})


def test_a_scalar_input_fed_a_column_names_the_batch_shape_as_numpy_writes_it():
    t = tg.Input("t", shape=())
    with pytest.raises(
        tg.GraphError, match=r"^Input 't': expected shape \(\) \(one sample\) or \(n,\) \(a batch\), got \(3, 1\)"
    ):
        tg.Graph(tg.Sum(t)).forward({t: np.ones((3, 1))})
