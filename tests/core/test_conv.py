"""Conv2D: a loop-by-loop numpy reference, finite differences, errors, its trace lines, a small CNN that learns."""

import re
import tracemalloc

import numpy as np
import pytest

import tinygraph as tg

DTYPES = [np.float64, np.float32]
TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-12}, np.float32: {"rtol": 1e-4, "atol": 1e-5}}
# (C_in, H, W), (C_out, kH, kW), stride, padding: square and oblong, strides that skip pixels, kernels of 1
CASES = [
    ((1, 5, 5), (2, 3, 3), 1, 0),
    ((2, 7, 6), (3, 3, 2), 2, 1),
    ((3, 6, 8), (2, 2, 4), 3, 2),
    ((2, 4, 4), (4, 1, 1), 1, 1),
    ((1, 9, 9), (2, 5, 5), 2, 0),
    ((2, 3, 3), (1, 3, 3), 1, 0),  # the kernel covers the whole image: one pixel out
]
BATCH = 3


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def reference(x, w, b, s, p):
    """z[c,i,j] = Σ_{k,u,v} w[c,k,u,v]·x[k, s·i+u−p, s·j+v−p] + b[c], one number at a time (one sample)."""
    c_in, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    ho, wo = (h + 2 * p - kh) // s + 1, (wd + 2 * p - kw) // s + 1
    z = np.zeros((c_out, ho, wo))
    for c in range(c_out):
        for i in range(ho):
            for j in range(wo):
                total = 0.0 if b is None else float(b[c])
                for k in range(c_in):
                    for u in range(kh):
                        for v in range(kw):
                            a, e = s * i + u - p, s * j + v - p
                            if 0 <= a < h and 0 <= e < wd:  # outside: the zeros of the padding
                                total += float(w[c, k, u, v]) * float(x[k, a, e])
                z[c, i, j] = total
    return z


def forward(node, feed, dtype):
    """The value from the checked loop (first pass) and the unrolled code (second and third)."""
    graph = tg.Graph(node)
    values = [graph.forward(feed).copy() for _ in range(3)]
    assert graph.dtype == dtype and graph.ran["forward"] == "unrolled"
    assert np.array_equal(values[0], values[1]) and np.array_equal(values[1], values[2])
    return values[-1]


# ---------------------------------------------------------------- forward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batch", [None, BATCH])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape,k_shape,stride,padding", CASES)
def test_forward_matches_the_loops(x_shape, k_shape, stride, padding, bias, batch, dtype, rng):
    x = rng.normal(size=x_shape if batch is None else (batch,) + x_shape).astype(dtype)
    w = rng.normal(size=(k_shape[0], x_shape[0]) + k_shape[1:]).astype(dtype)
    b = rng.normal(size=k_shape[:1]).astype(dtype)
    W, B = tg.Parameter(w, name="w"), tg.Parameter(b, name="b")
    z = tg.Conv2D(tg.Input("x", shape=x_shape), W, B if bias else None, stride=stride, padding=padding, name="z")
    got = forward(z, {"x": x}, dtype)
    samples = [x] if batch is None else list(x)
    ref = np.stack([reference(xi, w, b if bias else None, stride, padding) for xi in samples])
    ref = ref[0] if batch is None else ref
    assert got.dtype == dtype and got.shape == ref.shape and z.shape == ref.shape[-3:]
    np.testing.assert_allclose(got, ref, **TOL[dtype])


@pytest.mark.parametrize("seed", range(6))
def test_forward_matches_the_loops_on_random_shapes(seed):
    rng = np.random.default_rng(100 + seed)
    kh, kw, s, p = (int(v) for v in rng.integers(1, 4, size=4))
    p -= 1
    c_in, c_out, n = (int(v) for v in rng.integers(1, 4, size=3))
    h, wd = int(rng.integers(max(1, kh - 2 * p), 9)), int(rng.integers(max(1, kw - 2 * p), 9))
    x, w, b = rng.normal(size=(n, c_in, h, wd)), rng.normal(size=(c_out, c_in, kh, kw)), rng.normal(size=c_out)
    z = tg.Conv2D(tg.Input("x", shape=(c_in, h, wd)), tg.Parameter(w), tg.Parameter(b), stride=s, padding=p)
    got = forward(z, {"x": x}, np.float64)
    ref = np.stack([reference(xi, w, b, s, p) for xi in x])
    np.testing.assert_allclose(got, ref, **TOL[np.float64])


def test_each_pass_computes_afresh_and_leaves_its_inputs_alone(rng):
    x = tg.Input("x", shape=(2, 6, 6))
    w, b = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    graph = tg.Graph(tg.Conv2D(x, tg.Parameter(w), tg.Parameter(b), padding=1))
    a, c = rng.normal(size=(4, 2, 6, 6)), rng.normal(size=(4, 2, 6, 6))
    a_before = a.copy()
    first = graph.forward({"x": a}).copy()
    second = graph.forward({"x": c}).copy()
    again = graph.forward({"x": a})
    assert np.array_equal(first, again) and not np.allclose(first, second) and np.array_equal(a, a_before)
    np.testing.assert_allclose(second[1], reference(c[1], w, b, 1, 1), rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- backward
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [False, True])
@pytest.mark.parametrize("x_shape,k_shape,stride,padding", CASES[:4])
def test_backward_matches_finite_differences(x_shape, k_shape, stride, padding, batched, dtype):
    shapes = [(BATCH,) + x_shape if batched else x_shape, (k_shape[0], x_shape[0]) + k_shape[1:], k_shape[:1]]
    report = tg.check_node(
        lambda x, w, b: tg.Conv2D(x, w, b, stride=stride, padding=padding),
        shapes,
        batched=(0,) if batched else (),
        dtype=dtype,
    )
    assert report.passed, str(report)
    assert len(report.rows) == 3


@pytest.mark.parametrize("batched", [False, True])
def test_backward_without_a_bias_matches_finite_differences(batched):
    shapes = [(2, 2, 5, 5) if batched else (2, 5, 5), (3, 2, 2, 2)]
    report = tg.check_node(lambda x, w: tg.Conv2D(x, w, stride=2), shapes, batched=(0,) if batched else ())
    assert report.passed and len(report.rows) == 2, str(report)


def test_the_gradients_are_the_sums_of_the_docstring(rng):
    """∂E/∂w[c,k,u,v] = Σ g·x under it, ∂E/∂b = Σ g, ∂E/∂x = Σ g·w over the outputs that used x."""
    x, w, b = rng.normal(size=(2, 1, 4, 5)), rng.normal(size=(2, 1, 2, 3)), rng.normal(size=2)
    X, W, B = tg.Input("x", shape=(1, 4, 5)), tg.Parameter(w, name="w"), tg.Parameter(b, name="b")
    z = tg.Conv2D(X, W, B, stride=1, padding=1, name="z")
    g = rng.normal(size=(2, 2, 5, 5))
    graph = tg.Graph(tg.Sum(tg.Multiply(z, tg.Input("g", shape=(2, 5, 5))), name="E"))  # so that ∂E/∂z = g
    for _ in range(2):  # the loop, then the unrolled code
        graph.forward({"x": x, "g": g})
        graph.backward(inputs=True)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    grad_w, grad_x = np.zeros_like(w), np.zeros_like(xp)
    for n in range(2):
        for c in range(2):
            for i in range(5):
                for j in range(5):
                    grad_w[c] += g[n, c, i, j] * xp[n, :, i : i + 2, j : j + 3]
                    grad_x[n, :, i : i + 2, j : j + 3] += g[n, c, i, j] * w[c]
    np.testing.assert_allclose(W.grad, grad_w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(B.grad, g.sum(axis=(0, 2, 3)), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad, grad_x[:, :, 1:-1, 1:-1], rtol=1e-12, atol=1e-12)


def test_float32_stays_float32(rng):
    x = tg.Input("x", shape=(1, 6, 6))
    w = tg.Parameter(rng.normal(size=(2, 1, 3, 3)).astype(np.float32), name="w")
    b = tg.Parameter(np.zeros(2, np.float32), name="b")
    z = tg.Conv2D(x, w, b, padding=1)
    graph = tg.Graph(tg.Sum(z))
    for _ in range(2):
        graph.forward({"x": rng.normal(size=(4, 1, 6, 6))})
        graph.backward(inputs=True)
        assert z.value.dtype == w.grad.dtype == b.grad.dtype == x.grad.dtype == np.float32


def test_a_training_step_allocates_little(rng):
    """The padded input, the columns and the products are kept between passes, not made anew."""
    x = tg.Input("x", shape=(4, 12, 12))
    w, b = tg.Parameter(rng.normal(size=(8, 4, 3, 3))), tg.Parameter(np.zeros(8))
    relu = tg.ReLU(tg.Conv2D(tg.ReLU(x), w, b, padding=1))  # (the ReLU before asks for ∂E/∂x too)
    graph = tg.Graph(tg.Sum(relu))
    feed = {"x": rng.normal(size=(16, 4, 12, 12))}
    for _ in range(3):
        graph.forward(feed)
        graph.backward()
    tracemalloc.start()
    graph.forward(feed)
    graph.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    columns = 16 * 4 * 9 * 12 * 12 * 8  # bytes of the im2col matrix
    assert peak < columns / 4, peak


# ---------------------------------------------------------------- errors
def test_shapes_that_do_not_fit_are_refused_naming_the_node():
    x, w = tg.Input("img", shape=(3, 8, 8)), tg.Parameter(np.zeros((4, 3, 3, 3)), name="K")
    with pytest.raises(
        tg.GraphError, match=r"Conv2D 'c': w 'K2' must have shape \(C_out, C_in, kH, kW\) of sizes >= 1, got \(4, 9\)"
    ):
        tg.Conv2D(x, tg.Parameter(np.zeros((4, 9)), name="K2"), name="c")
    with pytest.raises(
        tg.GraphError, match=r"Conv2D 'c': x 'flat' must be an image \(C_in, H, W\) per sample, got .* \(64,\)"
    ):
        tg.Conv2D(tg.Input("flat", shape=(64,)), w, name="c")
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': x 'gray' has 1 channels but w 'K' expects 3"):
        tg.Conv2D(tg.Input("gray", shape=(1, 8, 8)), w, name="c")
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': b 'b' must have shape \(4,\), .* got \(3,\)"):
        tg.Conv2D(x, w, tg.Parameter(np.zeros(3), name="b"), name="c")
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': the 3×3 kernel of w 'K' is larger than the padded image 2×4"):
        tg.Conv2D(tg.Input("small", shape=(3, 2, 4)), w, name="c")
    assert tg.Conv2D(tg.Input("small", shape=(3, 1, 1)), w, padding=1).shape == (4, 1, 1)  # the padding makes room


@pytest.mark.parametrize("k_shape", [(4, 1, 0, 3), (4, 1, 3, 0), (0, 1, 3, 3), (4, 0, 3, 3)])
def test_a_kernel_with_a_side_of_zero_is_refused(k_shape):
    # A 0×3 kernel would give more output rows than the image has (5 of 4), a kernel of 0 channels no output.
    x = tg.Input("img", shape=(k_shape[1], 4, 4))
    with pytest.raises(
        tg.GraphError, match=rf"Conv2D 'c': w 'K' must have shape .* of sizes >= 1, got {re.escape(str(k_shape))}"
    ):
        tg.Conv2D(x, tg.Parameter(np.zeros(k_shape), name="K"), name="c")


def test_shapes_known_only_when_fed_are_checked_on_the_first_pass():
    z = tg.Conv2D(tg.Input("x"), tg.Parameter(np.zeros((2, 3, 3, 3)), name="K"), name="c")
    graph = tg.Graph(z)
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': x 'x' has 1 channels but w 'K' expects 3"):
        graph.forward({"x": np.zeros((5, 1, 8, 8))})
    assert graph.forward({"x": np.zeros((5, 3, 8, 8))}).shape == (5, 2, 6, 6)


@pytest.mark.parametrize("stride", [0, -1, 1.5, "2", True, None])
def test_a_stride_that_is_not_a_positive_whole_number_is_refused(stride):
    x, w = tg.Input("x", shape=(1, 4, 4)), tg.Parameter(np.zeros((1, 1, 2, 2)))
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': stride must be a positive whole number, got"):
        tg.Conv2D(x, w, stride=stride, name="c")


@pytest.mark.parametrize("padding", [-1, 0.5, "1", False])
def test_a_padding_that_is_not_a_whole_number_is_refused(padding):
    x, w = tg.Input("x", shape=(1, 4, 4)), tg.Parameter(np.zeros((1, 1, 2, 2)))
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': padding must be a non-negative whole number, got"):
        tg.Conv2D(x, w, padding=padding, name="c")
    assert tg.Conv2D(x, w, stride=np.int64(2), padding=np.int64(1)).shape == (1, 3, 3)


def test_weights_fed_a_batch_are_refused():
    x, w = tg.Input("x", shape=(1, 4, 4)), tg.Input("w", shape=(2, 1, 2, 2))
    graph = tg.Graph(tg.Conv2D(x, w, name="c"))
    with pytest.raises(tg.GraphError, match=r"Conv2D 'c': w 'w' and b must be the same for every sample of a batch"):
        graph.forward({"x": np.zeros((3, 1, 4, 4)), "w": np.zeros((3, 2, 1, 2, 2))})


def test_an_input_that_is_not_a_node_is_a_type_error():
    with pytest.raises(TypeError, match=r"Conv2D 'c': input 1 \(w\) must be a tinygraph Node, got ndarray"):
        tg.Conv2D(tg.Input("x"), np.zeros((1, 1, 2, 2)), name="c")


# ---------------------------------------------------------------- the trace
def factor(v):
    """A number as the trace writes it in a product (6 digits): a negative one in parentheses."""
    return f"({v:.6g})" if v < 0 else f"{v:.6g}"


def small_cnn(rng, n_classes=3):
    """x (1, 6, 6) → Conv2D 2@3×3 (padding 1) → ReLU → MaxPool2D 2 → Flatten → WeightedSum → SoftmaxCrossEntropy."""
    x, t = tg.Input("x", shape=(1, 6, 6)), tg.Input("t", shape=())
    K = tg.Parameter(rng.normal(size=(2, 1, 3, 3)) / 3, name="K")
    b = tg.Parameter(np.zeros(2), name="b")
    h = tg.ReLU(tg.Conv2D(x, K, b, padding=1, name="conv"), name="h")
    flat = tg.Flatten(tg.MaxPool2D(h, name="pool"), name="flat")
    W = tg.Parameter(rng.normal(size=(18, n_classes)) / 4, name="W")
    z = tg.WeightedSum(flat, W, tg.Parameter(np.zeros(n_classes), name="c"), name="z")
    return tg.Graph(tg.SoftmaxCrossEntropy(z, t, name="E")), K, b


def small_cnn_weight_gradient(image, target, K, b, graph):
    """∂E/∂K[0,0,0,0] of small_cnn, back-propagated by hand in plain numpy (one sample)."""
    W, c = graph["W"].value, graph["c"].value
    z = reference(image, K, b, 1, 1)  # (2, 6, 6)
    h = np.maximum(z, 0)
    windows = h.reshape(2, 3, 2, 3, 2).transpose(0, 1, 3, 2, 4).reshape(2, 3, 3, 4)  # [c, i, j, 2·u + v]
    scores = windows.max(axis=-1).ravel() @ W + c
    p = np.exp(scores - scores.max())
    grad_scores = p / p.sum() - np.eye(len(scores))[target]  # softmax − one-hot
    grad_pooled = (W @ grad_scores).reshape(2, 3, 3)
    grad_h = np.zeros_like(h)
    for ch, i, j in np.ndindex(2, 3, 3):  # each window's gradient to its first maximum
        u, v = divmod(int(np.argmax(windows[ch, i, j])), 2)
        grad_h[ch, 2 * i + u, 2 * j + v] = grad_pooled[ch, i, j]
    grad_z = grad_h * (z > 0)
    padded = np.pad(image[0], 1)  # x[0, i−1, j−1]: under K[0,0,0,0] at output pixel (i, j)
    return float(np.sum(grad_z[0] * padded[:6, :6]))


def test_the_trace_writes_one_pixel_per_channel_and_the_weight_gradient_as_its_sum(rng):
    graph, K, b = small_cnn(rng)
    image = rng.normal(size=(1, 6, 6))
    steps = tg.trace(graph, {"x": image, "t": np.array(2.0)}, precision=6)
    conv = next(s for s in steps.phase("forward") if s.node is not None and s.node.name == "conv")
    assert conv.title == "conv[c,i,j] = Σ_{k,u,v} K[c,k,u,v]·x[k, i+u−1, j+v−1] + b[c]"
    assert conv.lines[0].startswith("conv[c,0,0] = Σ_{k,u,v} K[c,k,u,v]·x[k, u−1, v−1] + b[c]")
    z00 = reference(image, K.value, b.value, 1, 1)[:, 0, 0]
    for c in range(2):
        line = conv.lines[1 + c]
        assert line.startswith(f"conv[{c},0,0] = ") and line.count("·") == 9  # 1·3·3 products, written out
        assert float(line.rsplit(" = ", 1)[1]) == pytest.approx(z00[c], rel=1e-5)
        products = line.split(" = ")[1].split(" + ")
        assert products[0] == f"{factor(K.value[c, 0, 0, 0])}·0"  # x[0, −1, −1]: the padding
        assert products[4] == f"{factor(K.value[c, 0, 1, 1])}·{factor(image[0, 0, 0])}"  # x[0, 0, 0]
    back = next(s for s in steps.phase("backward") if s.node is not None and s.node.name == "conv")
    line = next(x for x in back.lines if x.startswith("∂E/∂K[0,0,0,0] = Σ_{i,j} ∂E/∂conv[0,i,j]·x[0, i−1, j−1] = "))
    assert "…" in line and re.search(r"\(36 products, \d+ of them 0\)$", line)  # 6×6 positions: shortened
    assert "…" not in line.split(" = ")[2].split(" + ")[0]  # (it starts with a product that is not 0)
    expected = small_cnn_weight_gradient(image, 2, K.value, b.value, graph)
    assert float(line.split(" = ")[-1].split()[0]) == pytest.approx(expected, rel=1e-5)
    assert K.grad[0, 0, 0, 0] == pytest.approx(expected, rel=1e-10)
    assert back.parts[back.lines.index(line)].computed  # an exercise asks for it
    pool = next(s for s in steps.phase("forward") if s.node is not None and s.node.name == "pool")
    assert pool.lines[0].startswith("window (0,0): max(") and " at h[0," in pool.lines[0]
    assert len(pool.lines) == 5 and "9 windows of the first channel" in pool.lines[4]


def test_the_trace_of_a_batch_writes_its_first_sample_and_long_sums_shortened(rng):
    x = tg.Input("x", shape=(2, 5, 5))
    K = tg.Parameter(rng.normal(size=(5, 2, 3, 3)), name="K")
    z = tg.Conv2D(x, K, name="z")
    images = rng.normal(size=(3, 2, 5, 5))
    steps = tg.trace(tg.Graph(tg.Sum(z, name="E")), {"x": images})
    lines = next(s for s in steps if s.phase == "forward" and s.node is z).lines
    assert "of sample 0 of 3" in lines[0] and len(lines) == 6  # the formula, 4 channels, then words
    assert lines[1].startswith("z[0,0,0,0] = ") and "…" in lines[1] and lines[1].endswith("(18 products)")
    assert float(lines[1].split(" = ")[-1].split()[0]) == pytest.approx(
        reference(images[0], K.value, None, 1, 0)[0, 0, 0], rel=1e-3
    )
    assert "the other channel (1 more)" in lines[5]
    back = next(s for s in steps if s.phase == "backward" and s.node is z).lines
    assert any(x.startswith("∂E/∂K[0,0,0,0] = Σ_{n,i,j} ∂E/∂z[n,0,i,j]·x[n,0, i, j] = ") for x in back)
    assert any(x.endswith(f"= {images[:, 0, :3, :3].sum():.4g} (27 products)") for x in back)  # ∂E/∂z = 1


def test_a_convolution_of_a_convolution_and_the_whole_small_cnn_pass_gradcheck(rng):
    """The second Conv2D reads the first's value (channels first in memory, not C-contiguous)."""
    x = tg.Input("x", shape=(2, 7, 7))
    w1, w2 = rng.normal(size=(3, 2, 3, 3)), rng.normal(size=(2, 3, 2, 2))
    z1 = tg.Conv2D(x, tg.Parameter(w1, name="w1"), stride=2, name="z1")
    z2 = tg.Conv2D(z1, tg.Parameter(w2, name="w2"), tg.Parameter(rng.normal(size=2), name="b2"), padding=1)
    images = rng.normal(size=(2, 2, 7, 7))
    got = forward(z2, {"x": images}, np.float64)
    ref = [reference(reference(i, w1, None, 2, 0), w2, z2.inputs[2].value, 1, 1) for i in images]
    np.testing.assert_allclose(got, np.stack(ref), rtol=1e-12, atol=1e-12)
    report = tg.gradcheck(tg.Graph(tg.Sum(tg.Tanh(z2))), {"x": images}, inputs=True)
    assert report.passed, str(report)
    graph, _, _ = small_cnn(rng)
    report = tg.gradcheck(graph, {"x": rng.normal(size=(3, 1, 6, 6)), "t": np.array([0.0, 2.0, 1.0])}, inputs=True)
    assert report.passed, str(report)


# ---------------------------------------------------------------- a small CNN learns
def test_a_small_cnn_trains_with_fit_and_its_loss_falls():
    rng = np.random.default_rng(1)
    graph, _, _ = small_cnn(rng, n_classes=2)
    images = rng.normal(size=(40, 1, 6, 6)) * 0.3
    labels = rng.integers(0, 2, size=40)
    images[labels == 1, 0, :3, :3] += 1.0  # class 1: a bright top-left corner
    history = tg.fit(
        graph, {"x": images, "t": labels}, tg.SGD(graph.parameters(), lr=0.1), epochs=8, batch_size=8, seed=0
    )
    assert history[-1] < 0.5 * history[0], history
