"""The unrolled passes against the checked loop: the same calls, so the same bits, always."""

import copy
import gc
import linecache
import pickle
import traceback

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinygraph as tg
from tinygraph.core import runner

# ---------------------------------------------------------------- random graphs, built twice
BLOCKS = [
    "dense",
    "dense_append",
    "neuron",
    "bias",
    "bias3",
    "gate",
    "skip",
    "concat_slice",
    "scale",
    "shared_weight",
    "softmax",
    "reduce_feed",
    "mean_plus_param",
]
LOSSES = ["squared", "log", "xent", "xent_index", "sum", "mean", "two_losses", "reduced_squared"]


@st.composite
def specs(draw):
    """A recipe for a random graph: blocks applied to a trunk, then a loss."""
    return dict(
        seed=draw(st.integers(0, 10_000)),
        n_in=draw(st.integers(1, 4)),
        declared=draw(st.booleans()),
        blocks=draw(st.lists(st.sampled_from(BLOCKS), min_size=1, max_size=4)),
        loss=draw(st.sampled_from(LOSSES)),
        width=draw(st.integers(1, 4)),
    )


def build(spec):
    """(graph, twin, inner, loss nodes, the target's kind) from a spec; the same spec, the same graph."""
    rng = np.random.default_rng(spec["seed"])
    P = lambda *shape, name: tg.Parameter(rng.normal(size=shape), name=name)
    x = tg.Input("x", shape=(spec["n_in"],) if spec["declared"] else None)
    h, width, batched, k = x, spec["n_in"], True, spec["width"]
    inner = []
    for i, block in enumerate(spec["blocks"]):
        n = f"b{i}"
        if block == "dense":
            h = tg.Tanh(tg.WeightedSum(h, P(width, k, name=f"{n}W"), P(k, name=f"{n}b"), name=f"{n}z"), name=f"{n}h")
            width = k
        elif block == "dense_append":
            one = tg.AppendOne(h, name=f"{n}one")
            h = tg.Logistic(tg.WeightedSum(one, P(width + 1, k, name=f"{n}W"), name=f"{n}z"), name=f"{n}h")
            width = k
        elif block == "neuron":  # one number per sample, then back to k features by broadcasting
            s = tg.ReLU(tg.WeightedSum(h, P(width, name=f"{n}w"), P(name=f"{n}c"), name=f"{n}s"), name=f"{n}r")
            h, width = tg.Multiply(s, P(k, name=f"{n}g"), name=f"{n}m"), k
        elif block == "bias":
            h = tg.Add(h, P(width, name=f"{n}p"), name=f"{n}a")
        elif block == "bias3":  # a later input wider than the first two
            h = tg.Add(P(width, name=f"{n}p"), P(name=f"{n}q"), h, name=f"{n}a")
        elif block == "gate":
            g = tg.Logistic(
                tg.WeightedSum(h, P(width, width, name=f"{n}W"), P(width, name=f"{n}b"), name=f"{n}z"), name=f"{n}g"
            )
            h = tg.Multiply(h, g, name=f"{n}m")
        elif block == "skip":
            h = tg.Add(
                tg.Tanh(tg.WeightedSum(h, P(width, width, name=f"{n}W"), name=f"{n}z"), name=f"{n}t"), h, name=f"{n}a"
            )
        elif block == "concat_slice":
            c = tg.Concat(h, tg.Step(h, name=f"{n}st"), name=f"{n}c")
            h = tg.Slice(c, 1, None, name=f"{n}sl") if width > 1 or True else c
            width = 2 * width - 1
        elif block == "scale":
            h = tg.Scale(h, float(rng.uniform(-2, 2)), name=f"{n}s")
        elif block == "shared_weight":
            W = P(width, width, name=f"{n}W")
            h = tg.Add(
                tg.WeightedSum(h, W, name=f"{n}u"),
                tg.WeightedSum(tg.Tanh(h, name=f"{n}t"), W, name=f"{n}v"),
                name=f"{n}a",
            )
        elif block == "softmax":
            h = tg.Softmax(h, name=f"{n}sm")
        elif block == "reduce_feed" and batched:  # a reduction over the batch feeding other nodes
            s = tg.Tanh(tg.Sum(tg.Multiply(h, P(width, name=f"{n}w"), name=f"{n}m"), name=f"{n}s"), name=f"{n}t")
            h, width, batched = tg.Multiply(s, P(k, name=f"{n}g"), name=f"{n}o"), k, False
        elif block == "mean_plus_param" and batched:
            m = tg.Add(tg.Mean(h, name=f"{n}mean"), P(width, name=f"{n}p"), name=f"{n}a")
            h, width, batched = tg.WeightedSum(m, P(width, width, name=f"{n}W"), name=f"{n}z"), width, False
        inner.append(h)
    loss, target = spec["loss"], "features"
    t = tg.Input("t", shape=(width,) if spec["declared"] else None)
    if not batched:  # the trunk is one value for the whole batch: so must the target's part be
        loss = "reduced_squared" if loss in ("squared", "log", "xent", "xent_index", "reduced_squared") else loss
    if loss == "squared":
        E = tg.SquaredLoss(h, t, name="E")
    elif loss == "log":
        E, target = tg.LogLoss(tg.Logistic(h, name="p"), t, name="E"), "probabilities"
    elif loss == "xent":
        E, target = tg.SoftmaxCrossEntropy(h, t, name="E"), "one_hot"
    elif loss == "xent_index":
        t = tg.Input("t")
        E, target = tg.SoftmaxCrossEntropy(h, t, name="E"), "index"
    elif loss == "sum":
        E, target = tg.Sum(h, name="E"), None
    elif loss == "mean":
        E, target = tg.Mean(h, name="E"), None
    elif loss == "two_losses":
        E = tg.Add(
            tg.Scale(tg.SquaredLoss(h, t, name="E1"), 0.5, name="s1"),
            tg.Scale(tg.Sum(h, name="E2"), 0.1, name="s2"),
            name="E",
        )
    else:  # reduced_squared: SquaredLoss(Σ h, Σ t), one number each for the whole batch
        E, target = tg.SquaredLoss(tg.Sum(h, name="sh"), tg.Sum(t, name="st"), name="E"), "features"
    graph = tg.Graph(E, *inner[:1])
    twin = tg.Graph(tg.Sum(inner[0], name="twin"))  # shares the first block's nodes
    # shares the Input, fed other feature sizes, in float32 (a float32 Parameter sets the dtype)
    f = tg.Parameter(np.float32(0.5), name="f")
    stranger = tg.Graph(tg.Sum(tg.Multiply(tg.Tanh(x, name="st"), f, name="sm"), name="S"))
    losses = [n for n in graph.nodes if isinstance(n, tg.SquaredLoss | tg.LogLoss | tg.SoftmaxCrossEntropy)]
    return graph, twin, stranger, inner, losses, (target, width)


def feed_for(spec, target, rows, salt):
    """The same feed for both graphs (fresh arrays for each): ``rows`` None is one sample."""
    (kind, width), n = target, spec["n_in"]
    rng = np.random.default_rng([spec["seed"], salt])
    shape = () if rows is None else (rows,)
    feed = {"x": rng.uniform(-2, 2, size=shape + (n,))}
    if kind == "features":
        feed["t"] = rng.uniform(-1, 1, size=shape + (width,))
    elif kind == "probabilities":
        feed["t"] = rng.uniform(0, 1, size=shape + (width,))
    elif kind == "one_hot":
        feed["t"] = np.eye(width)[rng.integers(0, width, size=shape)]
    elif kind == "index":
        feed["t"] = rng.integers(0, width, size=shape).astype(float)
    return feed


def state(graph):
    """Every node's value and gradient, as (dtype, shape, bytes) to compare bit for bit."""

    def pack(a):
        return None if a is None else (type(a).__name__, np.asarray(a).dtype, np.shape(a), np.asarray(a).tobytes())

    return [(n.name, pack(n.value), pack(n.grad)) for n in graph.nodes]


def outcome(f):
    """What an operation gives: its result, or the exception's type and message."""
    try:
        result = f()
    except (tg.GraphError, TypeError, ValueError) as exc:
        return ("raised", type(exc).__name__, str(exc))
    if isinstance(result, list):
        return [(r.dtype, r.shape, r.tobytes()) for r in result]
    return None if result is None else (np.asarray(result).dtype, np.shape(result), np.asarray(result).tobytes())


OPERATIONS = st.one_of(
    st.tuples(st.just("forward"), st.sampled_from([None, 1, 2, 5, 65])),
    st.tuples(st.just("run"), st.sampled_from([None, 3, 65])),
    st.tuples(st.just("backward"), st.booleans()),
    st.tuples(st.just("step"), st.sampled_from([0.0, 0.9])),
    st.tuples(st.just("reduction"), st.sampled_from(["sum", "mean"])),
    st.tuples(st.just("replace"), st.sampled_from(["copy", "float32", "float64", "list", "shape"])),
    st.tuples(st.just("stranger"), st.sampled_from([(None, 3), (4, 5), (65, 1)])),
    st.tuples(st.just("twin"), st.sampled_from([None, 4, 65])),
    st.tuples(st.just("copy"), st.sampled_from(["deepcopy", "pickle"])),
)


class World:
    """One graph (with its twin and optimizer), driven either through the loop or normally."""

    def __init__(self, spec, loop):
        self.spec, self.loop = spec, loop
        self.graph, self.twin, self.stranger, self.inner, self.losses, self.target = build(spec)
        params = self.graph.parameters()
        self.opt = tg.SGD(params, lr=0.05, momentum=0.9) if params else None

    def apply(self, op, arg, salt):
        g, loop = self.graph, self.loop
        hook = (lambda node, grads: None) if loop else None  # a hook keeps backward in the loop
        if op == "forward":
            return outcome(lambda: g.forward(feed_for(self.spec, self.target, arg, salt), check_finite=loop))
        if op == "run":
            x = feed_for(self.spec, self.target, arg, salt)["x"]
            return outcome(lambda: g.run(self.inner, {"x": x}, check_finite=loop))
        if op == "backward":
            return outcome(lambda: g.backward(inputs=arg, hook=hook))
        if op == "step" and self.opt is not None:
            self.opt.momentum = arg
            return outcome(self.opt.step)
        if op == "reduction":
            for loss in self.losses:
                loss.reduction = arg
            return None
        if op == "replace" and g.parameters():
            p = g.parameters()[salt % len(g.parameters())]
            v = np.asarray(p.value)
            p.value = {
                "copy": v.copy,
                "float32": lambda: v.astype(np.float32),
                "float64": lambda: v.astype(np.float64),
                "list": v.tolist,
                "shape": lambda: v.ravel()[:1].copy(),  # (1,): fits where it broadcasts, else both refuse it
            }[arg]()
            return None
        if op == "twin":
            x = feed_for(self.spec, self.target, arg, salt)["x"]
            return [
                outcome(lambda: self.twin.forward({"x": x}, check_finite=loop)),
                outcome(lambda: self.twin.backward(hook=hook)),
            ]
        if op == "stranger" and not self.spec["declared"]:
            rows, features = arg
            shape = (() if rows is None else (rows,)) + (features,)
            x = np.random.default_rng([self.spec["seed"], salt]).normal(size=shape)
            return [
                outcome(lambda: self.stranger.forward({"x": x}, check_finite=loop)),
                outcome(lambda: self.stranger.backward(inputs=True, hook=hook)),
            ]
        if op == "copy":
            everything = (self.graph, self.twin, self.stranger, self.inner, self.losses, self.opt)
            everything = copy.deepcopy(everything) if arg == "deepcopy" else pickle.loads(pickle.dumps(everything))
            self.graph, self.twin, self.stranger, self.inner, self.losses, self.opt = everything
            return None
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(), st.lists(OPERATIONS, min_size=1, max_size=14))
def test_unrolled_passes_equal_the_loop_bit_for_bit_over_random_sequences(spec, operations):
    loop, fast = World(spec, loop=True), World(spec, loop=False)
    operations = [("forward", None), ("forward", None)] + operations + [("forward", 5), ("backward", False)] * 2
    for salt, (op, arg) in enumerate(operations):
        a, b = loop.apply(op, arg, salt), fast.apply(op, arg, salt)
        assert a == b, (op, arg)
        assert state(loop.graph) == state(fast.graph), (op, arg)
        values = [[np.asarray(p.value).tobytes() for p in w.graph.parameters()] for w in (loop, fast)]
        assert values[0] == values[1]
    assert loop.graph.ran["forward"] == "loop"  # (each really ran its own way)


def test_the_fast_world_really_runs_unrolled_code():
    spec = dict(seed=1, n_in=3, declared=True, blocks=["dense", "skip"], loss="squared", width=2)
    world = World(spec, loop=False)
    for salt in range(3):
        world.apply("forward", 5, salt)
        world.apply("backward", False, salt)
    assert world.graph.ran == {"forward": "unrolled", "backward": "unrolled"}


# ---------------------------------------------------------------- the wrong answers of the old code
def test_a_changed_reduction_is_followed_by_the_next_pass():
    """Regression: written-out code used to bake in the old scale (0.131 instead of 0.525)."""
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    feed = {"x": X, "t": T[:, None]}
    for _ in range(3):
        net.graph.forward(feed)
    net.graph.backward()
    net.loss.reduction = "sum"
    got = float(net.graph.forward(feed))
    net.graph.backward()
    grads = [p.grad.copy() for p in net.parameters()]
    fresh = tg.Graph(net.loss)
    assert got == float(fresh.forward(feed))
    fresh.backward()
    assert all(np.array_equal(a, p.grad) for a, p in zip(grads, net.parameters()))
    o = net.graph.run("o", {"x": X})
    assert np.isclose(got, 0.5 * np.sum((o - T[:, None]) ** 2), rtol=1e-14)  # the plain sum, by hand


def test_an_attribute_read_by_a_method_is_followed_by_the_unrolled_code():
    x = tg.Input("x", shape=(2,))
    s = tg.Scale(x, 2.0, name="s")
    g = tg.Graph(tg.Sum(s, name="E"))
    for _ in range(3):
        assert g.forward({"x": [1.0, 2.0]}) == 6.0
    s.c = -1.0
    assert g.forward({"x": [1.0, 2.0]}) == -3.0 and g.ran["forward"] == "unrolled"


# ---------------------------------------------------------------- your own node, on the fast path
class Square(tg.Node):
    """y = x²   ∂y/∂x = 2x   (the README's node)"""

    formula, derivative = "y = x²", "∂y/∂x = 2x"

    def forward(self, x):
        return x * x

    def backward(self, grad_out):
        x = self.inputs[0].value
        return (grad_out * 2 * x,)


def test_a_node_of_your_own_runs_unrolled_after_one_checked_pass():
    x = tg.Input("x", shape=(3,))
    g = tg.Graph(tg.Sum(Square(x, name="sq"), name="E"))
    ways = []
    for _ in range(3):
        g.forward({"x": [1.0, 2.0, 3.0]})
        g.backward(inputs=True)
        ways.append(dict(g.ran))
    assert ways[0] == {"forward": "loop", "backward": "loop"}
    assert ways[1:] == [{"forward": "unrolled", "backward": "unrolled"}] * 2
    assert np.array_equal(x.grad, [2.0, 4.0, 6.0])
    assert "node_sq.forward(x)" in g.source() and "# Square 'sq': y = x²" in g.source()


def test_a_subclass_of_a_built_in_node_runs_unrolled_too():
    class Sigmoid(tg.Logistic):
        pass

    x = tg.Input("x", shape=(2,))
    g = tg.Graph(tg.Sum(Sigmoid(x, name="s"), name="E"))
    for _ in range(2):
        g.forward({"x": [0.0, 1.0]})
        g.backward(inputs=True)
    assert g.ran == {"forward": "unrolled", "backward": "unrolled"}


def test_a_node_breaking_the_contract_is_told_on_its_checked_pass():
    class Wrong(tg.Node):
        def forward(self, x):
            return x.sum(axis=-1)  # one number per sample, but no infer_shape says so

        def backward(self, grad_out):
            return (grad_out,)  # the wrong shape

    x = tg.Input("x", shape=(3,))
    g = tg.Graph(tg.Sum(Wrong(x, name="w"), name="E"))
    g.forward({"x": [1.0, 2.0, 3.0]})
    with pytest.raises(
        tg.GraphError, match=r"Wrong 'w': backward returned a gradient of shape \(\) for input 'x' of shape \(3,\)"
    ):
        g.backward(inputs=True)


# ---------------------------------------------------------------- source(): a teaching tool
def test_source_is_the_calls_each_with_its_formula_and_symbols():
    net = tg.mlp([2, 3, 1], seed=0)
    text = tg.Graph(net.loss).source()
    forward, backward = text.split("\ndef backward")
    assert (
        "    # WeightedSum 'z1': z = x·w + b  (z: z1, w: W1, b: b1)\n"
        "    z1 = node_z1.value = node_z1.forward(x, W1, b1)" in forward
    )
    assert (
        "    # Logistic 'h1': y = σ(z) = 1/(1 + e^(−z))  (y: h1, z: z1)\n    h1 = node_h1.value = node_h1.forward(z1)"
        in forward
    )
    assert (
        "    # SquaredLoss 'E': ∂E/∂o = o − t\n    node_E.needs = (True, False)\n"
        "    grad_o, _ = node_E.backward(grad_E)" in backward
    )
    assert "    # Logistic 'o': ∂y/∂z = y(1 − y)  (y: o, z: z2)" in backward
    assert "    grad_h1, grad_W2, grad_b2 = node_z2.backward(grad_z2)" in backward
    assert "    _, grad_W1, grad_b1 = node_z1.backward(grad_z1)" in backward  # no ∂E/∂x wanted
    assert "grad_x" in tg.Graph(net.loss).source(inputs=True)


def test_source_sums_what_a_shared_node_receives_and_expands_the_methods():
    x = tg.Input("x", shape=(2,))
    h = tg.Tanh(x, name="h")
    g = tg.Graph(tg.Sum(tg.Add(tg.Logistic(h, name="a"), tg.ReLU(h, name="b"), name="s"), name="E"))
    text = g.source(inputs=True)
    assert "grad_h = grad_h + _g0  # summed over its consumers" in text
    expanded = g.source(inputs=True, expand=True)
    assert "    #   | def forward(self, z: np.ndarray) -> np.ndarray:" in expanded
    assert "(Elementwise.backward: shown above)" in expanded
    assert expanded.count("# ∂E/∂z = g ⊙ ∂y/∂z") == 1  # Elementwise.backward's body, shown once


def test_source_is_the_code_that_runs():
    net = tg.mlp([2, 3, 1], seed=0)
    g = tg.Graph(net.loss)
    feed = {"x": np.ones((4, 2)), "t": np.ones((4, 1))}
    for _ in range(2):
        g.forward(feed)
        g.backward()
    shown = g.source()
    gc.disable()  # (dead graphs' code leaves linecache from a finalizer)
    try:
        ran = [
            text
            for name, (_, _, text, _) in list(linecache.cache.items())
            if str(name).startswith(("<tinygraph forward", "<tinygraph backward"))
            and "Graph(SquaredLoss('E')" in str(name)
        ]
    finally:
        gc.enable()
    assert len(ran) >= 2 and sum("".join(text) in shown for text in ran) >= 2


def test_source_needs_known_shapes():
    g = tg.Graph(tg.Sum(tg.Tanh(tg.Input("x"), name="t")))
    with pytest.raises(tg.GraphError, match="source\\(\\) needs every node's shape, and Input 'x' has none"):
        g.source()
    g.forward({"x": [1.0, 2.0]})
    assert "node_t.forward(x)" in g.source()


def test_names_that_are_not_python_names_get_placeholders():
    x = tg.Input("x in", shape=(2,))
    g = tg.Graph(tg.Sum(tg.Tanh(x, name="for"), name="grad_E"))
    text = g.source(inputs=True)
    assert "_v0" in text and "_v1" in text and "def backward(grad__v2)" in text
    for _ in range(3):
        g.forward({"x in": [1.0, 2.0]})
        g.backward(inputs=True)
    assert g.ran["backward"] == "unrolled" and np.allclose(x.grad, 1 - np.tanh([1.0, 2.0]) ** 2)


def test_a_traceback_shows_the_unrolled_line():
    class Fails(tg.Node):
        def infer_shape(self, x):
            return x

        def forward(self, x):
            if self.fail:
                raise RuntimeError("boom")
            return x

        def backward(self, grad_out):
            return (grad_out,)

    f = Fails(tg.Input("x", shape=(2,)), name="f")
    f.fail = False
    g = tg.Graph(tg.Sum(f))
    g.forward({"x": [1.0, 2.0]})
    g.forward({"x": [1.0, 2.0]})
    f.fail = True
    with pytest.raises(RuntimeError) as info:
        g.forward({"x": [1.0, 2.0]})
    text = "".join(traceback.format_exception(info.value))
    assert "f = node_f.value = node_f.forward(x)" in text


def test_huge_plans_stay_in_the_loop(monkeypatch):
    monkeypatch.setattr(runner, "MAX_NODES", 3)
    net = tg.mlp([2, 3, 1], seed=0)
    for _ in range(3):
        net.graph.forward({"x": [1.0, 2.0], "t": [1.0]})
        net.graph.backward()
    assert net.graph.ran == {"forward": "loop", "backward": "loop"}


def test_a_summed_gradient_of_one_number_stays_a_0d_array_in_both_runners():
    x, b = tg.Input("x", shape=(3,)), tg.Parameter(0.5, name="b")
    graph = tg.Graph(tg.Sum(tg.Add(tg.Multiply(x, b), b)))  # b: one number, with two consumers
    for ran in ("loop", "unrolled", "unrolled"):
        graph.forward({"x": np.arange(3.0)})
        graph.backward()
        assert graph.ran["backward"] == ran
        assert type(b.grad) is np.ndarray and b.grad.shape == () and b.grad == 3.0 + 3.0
        tg.SGD(graph.parameters(), lr=1e-9).step()  # (SGD takes the gradient)


def test_a_run_that_reads_no_parameter_follows_the_graphs_new_dtype():
    x, w = tg.Input("x", shape=(2,)), tg.Parameter(np.ones(2), name="w")
    h = tg.Tanh(x, name="h")
    graph = tg.Graph(tg.Sum(tg.Multiply(h, w)))
    for _ in range(3):
        assert graph.run(h, {"x": np.ones(2)}).dtype == np.float64
    w.value = w.value.astype(np.float32)  # the graph computes in float32 from now on
    for _ in range(3):
        assert graph.dtype == np.float32 and graph.run(h, {"x": np.ones(2)}).dtype == np.float32
