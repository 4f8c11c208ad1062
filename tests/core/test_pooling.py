"""MaxPool2D and AvgPool2D: window-by-window references, finite differences, ties, errors, trace lines."""

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
POOLS = [tg.MaxPool2D, tg.AvgPool2D]
# (C, H, W), size, stride: side by side, overlapping, with gaps, edges left over, windows of 1
CASES = [((2, 4, 4), 2, None), ((1, 7, 6), 3, 2), ((3, 7, 7), 2, 3), ((2, 5, 6), 2, 1), ((1, 3, 3), 1, 1)]
BATCH = 3


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def reference(x, k, s, pick):
    """y[c,i,j] = pick(the window of x[c] at (s·i, s·j)), one window at a time (one sample)."""
    c, h, w = x.shape
    ho, wo = (h - k) // s + 1, (w - k) // s + 1
    y = np.zeros((c, ho, wo))
    for ch in range(c):
        for i in range(ho):
            for j in range(wo):
                y[ch, i, j] = pick(x[ch, s * i : s * i + k, s * j : s * j + k].astype(np.float64))
    return y


def max_gradient(x, g, k, s):
    """∂E/∂x of a max pool: each window's g to its first maximum, window by window (one sample)."""
    grad = np.zeros(x.shape)
    for ch in range(x.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                u, v = np.unravel_index(np.argmax(x[ch, s * i : s * i + k, s * j : s * j + k]), (k, k))
                grad[ch, s * i + u, s * j + v] += g[ch, i, j]
    return grad


PICK = {tg.MaxPool2D: np.max, tg.AvgPool2D: np.mean}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("shape,size,stride", CASES)
@pytest.mark.parametrize("cls", POOLS)
def test_forward_matches_the_windows_one_by_one(cls, shape, size, stride, batch, dtype, rng):
    x = rng.normal(size=shape if batch is None else (batch,) + shape).astype(dtype)
    y = cls(tg.Input("x", shape=shape), size=size, stride=stride, name="y")
    graph = tg.Graph(y, tg.Parameter(np.zeros((), dtype)))
    values = [graph.forward({"x": x}).copy() for _ in range(3)]  # the loop, then the unrolled code
    s = size if stride is None else stride
    ref = np.stack([reference(xi, size, s, PICK[cls]) for xi in ([x] if batch is None else x)])
    ref = ref[0] if batch is None else ref
    assert values[-1].dtype == dtype and values[-1].shape == ref.shape and y.shape == ref.shape[-3:]
    for v in values:
        np.testing.assert_allclose(v, ref, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=1e-7)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("shape,size,stride", CASES)
@pytest.mark.parametrize("cls", POOLS)
def test_backward_matches_finite_differences(cls, shape, size, stride, batched, dtype):
    report = tg.check_node(
        lambda x: cls(x, size=size, stride=stride),
        [(BATCH,) + shape if batched else shape],
        batched=(0,) if batched else (),
        dtype=dtype,
    )
    assert report.passed, str(report)


@pytest.mark.parametrize("shape,size,stride", CASES)
def test_max_sends_each_gradient_to_its_windows_first_maximum(shape, size, stride, rng):
    x = rng.integers(0, 3, size=(BATCH,) + shape).astype(float)  # few values: many ties
    g = rng.normal(size=(BATCH,) + tg.MaxPool2D(tg.Input("x", shape=shape), size, stride).shape)
    X = tg.Input("x", shape=shape)
    y = tg.MaxPool2D(X, size, stride)
    graph = tg.Graph(tg.Sum(tg.Multiply(y, tg.Input("g", shape=g.shape[1:]))))  # ∂E/∂y = g
    s = size if stride is None else stride
    for _ in range(2):
        graph.forward({"x": x, "g": g})
        graph.backward(inputs=True)
        expected = np.stack([max_gradient(xi, gi, size, s) for xi, gi in zip(x, g)])
        np.testing.assert_allclose(X.grad, expected, rtol=1e-14, atol=1e-14)


def mean_gradient(x, g, k, s):
    """∂E/∂x of an average pool: each window's g/k² to each of its pixels, window by window (one sample)."""
    grad = np.zeros(x.shape)
    for ch, i, j in np.ndindex(g.shape):
        grad[ch, s * i : s * i + k, s * j : s * j + k] += g[ch, i, j] / k**2
    return grad


GRADIENT = {tg.MaxPool2D: max_gradient, tg.AvgPool2D: mean_gradient}


@pytest.mark.parametrize("size,stride", [(2, None), (2, 1)])  # windows side by side, overlapping
@pytest.mark.parametrize("cls", POOLS)
def test_a_pool_shared_by_two_graphs_of_other_shapes_works_in_each_as_if_alone(cls, size, stride, rng):
    X, G = tg.Input("x"), tg.Input("g")  # (shapes unknown: each graph learns its own)
    pool = cls(X, size, stride, name="pool")
    graphs = [tg.Graph(tg.Sum(tg.Multiply(pool, G), name=f"E{n}")) for n in range(2)]  # ∂E/∂pool = g
    s = size if stride is None else stride
    feeds = []
    for shape in [(3, 1, 5, 5), (2, 2, 4, 6)]:
        x = rng.normal(size=shape)
        ho, wo = (shape[2] - size) // s + 1, (shape[3] - size) // s + 1
        feeds.append({"x": x, "g": rng.normal(size=shape[:2] + (ho, wo))})
    for _ in range(3):  # the loop, then the unrolled code, each graph in turn
        for graph, feed in zip(graphs, feeds):
            x, g = feed["x"], feed["g"]
            y = np.stack([reference(xi, size, s, PICK[cls]) for xi in x])
            assert np.isclose(graph.forward(feed), np.sum(y * g), rtol=1e-12)
            graph.backward(inputs=True)
            expected = np.stack([GRADIENT[cls](xi, gi, size, s) for xi, gi in zip(x, g)])
            np.testing.assert_allclose(X.grad, expected, rtol=1e-12, atol=1e-14)


def test_of_tied_pixels_the_first_in_row_major_order_wins():
    x = tg.Parameter(np.array([[[1.0, 2.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0]]]), name="x")
    graph = tg.Graph(tg.Sum(tg.MaxPool2D(x, name="y"), name="E"))
    graph.forward({})
    graph.backward()
    assert np.array_equal(x.grad, [[[0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])


def test_average_sends_a_share_to_every_pixel_of_its_windows():
    x = tg.Parameter(np.zeros((1, 3, 3)), name="x")
    graph = tg.Graph(tg.Sum(tg.AvgPool2D(x, size=2, stride=1), name="E"))
    graph.forward({})
    graph.backward()
    assert np.array_equal(x.grad, [[[0.25, 0.5, 0.25], [0.5, 1.0, 0.5], [0.25, 0.5, 0.25]]])  # 1, 2 or 4 windows


# ---------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", POOLS)
@pytest.mark.parametrize("what", ["size", "stride"])
@pytest.mark.parametrize("bad", [0, -2, 1.5, "2", True])
def test_size_and_stride_must_be_positive_whole_numbers(cls, what, bad):
    with pytest.raises(tg.GraphError, match=rf"{cls.__name__} 'p': {what} must be a positive whole number, got"):
        cls(tg.Input("x", shape=(1, 4, 4)), **{what: bad}, name="p")


@pytest.mark.parametrize("cls", POOLS)
def test_a_window_larger_than_the_image_or_no_image_is_refused(cls):
    with pytest.raises(tg.GraphError, match=rf"{cls.__name__} 'p': the 3×3 window is larger than the 2×5 image"):
        cls(tg.Input("img", shape=(1, 2, 5)), size=3, name="p")
    with pytest.raises(tg.GraphError, match=rf"{cls.__name__} 'p': x 'v' must be an image \(C, H, W\) per sample"):
        cls(tg.Input("v", shape=(16,)), name="p")
    graph = tg.Graph(cls(tg.Input("late"), size=3, name="p"))
    with pytest.raises(tg.GraphError, match=r"the 3×3 window is larger than the 2×2 image of x 'late'"):
        graph.forward({"late": np.zeros((4, 1, 2, 2))})


# ---------------------------------------------------------------- the trace
def test_max_pool_lines_show_which_pixel_won_each_window():
    image = np.array([[[0.1, 0.5, 3.0, 3.0, 9.0], [-0.2, 0.3, 1.0, 2.0, 9.0], [7.0, 7.0, 7.0, 7.0, 9.0]]])
    pool = tg.MaxPool2D(tg.Input("x", shape=(1, 3, 5)), name="pool")
    steps = tg.trace(tg.Graph(tg.Sum(pool, name="E")), {"x": image}, precision=3)
    assert steps[1].lines == [
        "window (0,0): max(0.1, 0.5, -0.2, 0.3) = 0.5 at x[0,0,1]",
        "window (0,1): max(3, 3, 1, 2) = 3 at x[0,0,2]",  # the first of the tied 3s
    ]
    batch = np.stack([np.arange(36.0).reshape(1, 6, 6)] * 2)
    pool = tg.MaxPool2D(tg.Input("x", shape=(1, 6, 6)), name="pool")
    steps = tg.trace(tg.Graph(tg.Sum(pool, name="E")), {"x": batch})
    assert steps[1].lines[0] == "window (0,0): max(0, 1, 6, 7) = 7 at x[0,0,1,1]"
    assert len(steps[1].lines) == 5 and steps[1].lines[4].startswith("… 9 windows of the first channel of the first")


def test_avg_pool_lines_show_the_means():
    pool = tg.AvgPool2D(tg.Input("x", shape=(1, 2, 2)), name="pool")
    steps = tg.trace(tg.Graph(tg.Sum(pool, name="E")), {"x": np.array([[[1.0, 2.0], [3.0, 6.0]]])})
    assert steps[1].title == "pool[c,i,j] = (1/4) Σ_{u,v < 2} x[c, 2·i+u, 2·j+v]"
    assert steps[1].lines == ["window (0,0): mean(1, 2, 3, 6) = 3"]


def test_each_pool_states_its_text_in_k_and_s_and_each_node_has_its_own_numbers():
    assert tg.MaxPool2D.formula == "y[c,i,j] = max_{u,v < k} x[c, s·i+u, s·j+v]"
    assert tg.AvgPool2D.derivative == "∂y[c,i,j]/∂x[c, s·i+u, s·j+v] = 1/k²"
    x = tg.Input("x", shape=(1, 6, 6))
    big, small = tg.MaxPool2D(x, size=3, stride=1), tg.MaxPool2D(x, size=2)
    assert big.formula == "y[c,i,j] = max_{u,v < 3} x[c, i+u, j+v]"
    assert big.formula_tex == r"y_{c,i,j} = \max_{u,v < 3} x_{c,\, i+u,\, j+v}"
    assert small.derivative == "∂y[c,i,j]/∂x[c, 2·i+u, 2·j+v] = 1 for the window's (first) maximum, else 0"
    mean = tg.AvgPool2D(x, size=3, stride=2)
    assert mean.formula == "y[c,i,j] = (1/9) Σ_{u,v < 3} x[c, 2·i+u, 2·j+v]"
    assert mean.derivative_tex == r"\frac{\partial y_{c,i,j}}{\partial x_{c,\, 2 i+u,\, 2 j+v}} = \frac{1}{9}"
    assert mean.gradients == {"x": "∂E/∂y[c,i,j]/9 to every pixel of its window"}
