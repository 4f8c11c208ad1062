"""Bad input, numerical faults, interrupted training: clear errors, nothing corrupted."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygraph as tg


def snapshot(graph):
    return [p.value.copy() for p in graph.parameters()]


def unchanged(graph, before):
    return all(np.array_equal(p.value, v) for p, v in zip(graph.parameters(), before))


# ---------------------------------------------------------------- bad input
BAD_FEEDS = [
    ({"x": np.ones(3), "t": [1.0]}, tg.GraphError, r"Input 'x': expected shape \(2,\).*got \(3,\)"),
    ({"x": np.ones((4, 3)), "t": np.ones((4, 1))}, tg.GraphError, r"Input 'x'.*got \(4, 3\)"),
    ({"x": [1.0, 2.0]}, tg.GraphError, "missing Input 't'"),
    ({"x": [1.0, 2.0], "t": [1.0], "y": 1.0}, tg.GraphError, "'y', which names no node"),
    ({"x": ["a", "b"], "t": [1.0]}, TypeError, "Input 'x'.*array of numbers"),
    ({"x": [[1.0, 2.0], [3.0]], "t": [[1.0], [0.0]]}, tg.GraphError, "Input 'x'.*ragged"),
    ({"x": np.array([1, None]), "t": [1.0]}, TypeError, "Input 'x'.*dtype object"),
    ({"x": np.ones((0, 2)), "t": np.ones((0, 1))}, tg.GraphError, "empty batch"),
    ({"x": np.ones((3, 2)), "t": np.ones((2, 1))}, tg.GraphError, "Input 't' has 2 rows but Input 'x' has 3"),
    ({"x": np.ones(2) + 1j, "t": [1.0]}, TypeError, "real numbers"),
]


@pytest.mark.parametrize("feed,error,match", BAD_FEEDS)
def test_bad_feeds_name_the_culprit_and_change_nothing(feed, error, match):
    net = tg.mlp([2, 3, 1], seed=0)
    net.graph.forward({"x": [0.1, 0.2], "t": [1.0]})
    net.graph.backward()
    before, grads = snapshot(net.graph), [p.grad.copy() for p in net.parameters()]
    with pytest.raises(error, match=match):
        net.graph.forward(feed)
    assert unchanged(net.graph, before)
    assert all(np.array_equal(p.grad, g) for p, g in zip(net.parameters(), grads))


def test_fit_data_problems_are_named():
    net = tg.mlp([2, 3, 1], seed=0)
    before = snapshot(net.graph)
    cases = [
        ({"x": np.ones((4, 2)), "t": np.ones((5, 1))}, "same number of samples"),
        ({"x": np.ones((0, 2)), "t": np.ones((0, 1))}, "empty"),
        ({"x": np.ones((4, 3)), "t": np.ones((4, 1))}, r"Input 'x': expected shape \(2,\)"),
        ({"x": 5.0, "t": np.ones((4, 1))}, "one row per sample"),
    ]
    for data, match in cases:
        with pytest.raises(tg.GraphError, match=match):
            tg.fit(net.graph, data, 0.1, progress=False)
    with pytest.raises(TypeError, match="array of numbers"):
        tg.fit(net.graph, {"x": [["a", "b"]], "t": [[1.0]]}, 0.1, progress=False)
    assert unchanged(net.graph, before)


def test_fit_refuses_data_that_gives_an_input_twice():
    net = tg.mlp([2, 3, 1], seed=0)
    X, T = tg.datasets.xor()
    before = snapshot(net.graph)
    with pytest.raises(tg.GraphError, match="fit: data gives Input 'x' twice \\(by name and by node\\)"):
        tg.fit(net.graph, {"x": X[:2], net.input: X, "t": T[:, None]}, 0.5, progress=False)
    assert unchanged(net.graph, before)


def test_an_input_named_twice_or_fed_twice_is_refused():
    x1, x2 = tg.Input("x", shape=(2,)), tg.Input("x", shape=(2,))
    with pytest.raises(tg.GraphError, match="two nodes are named 'x'"):
        tg.Graph(tg.Add(x1, x2))
    net = tg.mlp([2, 1], seed=0)
    with pytest.raises(tg.GraphError, match="Input 'x' twice"):
        net.graph.forward({net.input: [1.0, 2.0], "x": [1.0, 2.0], "t": [1.0]})


def test_nodes_from_another_graph_are_refused():
    a, b = tg.mlp([2, 2, 1], seed=0), tg.mlp([2, 2, 1], seed=1)
    with pytest.raises(tg.GraphError, match="Logistic 'o' is not in this graph"):
        a.graph.run(b.output, {"x": [1.0, 2.0]})
    with pytest.raises(tg.GraphError, match="Input 'x', which is not in this graph"):
        a.graph.forward({b.input: [1.0, 2.0], "t": [1.0], a.input: [1.0, 2.0]})


def test_backward_of_a_non_scalar_output_changes_nothing():
    net = tg.mlp([2, 3, 1], seed=0)
    g = tg.Graph(net.graph["h1"])
    g.forward({"x": [0.1, 0.2]})
    with pytest.raises(tg.GraphError, match=r"scalar output.*Logistic 'h1' has shape \(3,\)"):
        g.backward()
    assert net.graph["W1"].grad is None


# ---------------------------------------------------------------- numerics
def test_nan_in_the_data_stops_fit_with_epoch_step_and_node_and_keeps_parameters():
    X, T = tg.datasets.moons(n=20, seed=0)
    X[13, 1] = np.nan
    net = tg.mlp([2, 4, 1], seed=0)
    seen = []
    with pytest.raises(tg.GraphError, match=r"epoch 1, step \d+.*WeightedSum 'z1' produced a non-finite value"):
        net.fit(X, T, epochs=3, lr=0.5, shuffle=False, progress=False, callback=lambda e, loss: seen.append(e))
    assert seen == []
    # with shuffle off the bad row is step 14: the parameters are those after step 13
    ref = tg.mlp([2, 4, 1], seed=0)
    ref.fit(X[:13], T[:13], epochs=1, lr=0.5, shuffle=False, progress=False)
    for p, q in zip(net.parameters(), ref.parameters()):
        assert np.array_equal(p.value, q.value)


def test_divergence_to_infinity_leaves_finite_parameters():
    X = np.array([[1e150, 1e150]])
    x, t = tg.Input("x", shape=(2,)), tg.Input("t", shape=())
    w = tg.Parameter([1.0, 1.0], name="w")
    g = tg.Graph(tg.SquaredLoss(tg.WeightedSum(x, w, name="z"), t, name="E"))
    with pytest.raises(tg.GraphError, match="non-finite at epoch"):
        with np.errstate(over="ignore", invalid="ignore"):
            tg.fit(g, {x: X, t: np.array([0.0])}, 1.0, epochs=5, progress=False)
    assert np.all(np.isfinite(w.value))


def test_chain_of_100000_nodes_and_a_10000_unit_layer():
    x = tg.Input("x", shape=(4,))
    node = x
    for _ in range(100_000):
        node = tg.Tanh(node)
    g = tg.Graph(tg.Sum(node))
    g.forward({"x": np.full(4, 0.1)})
    g.backward(inputs=True)
    assert len(g.nodes) == 100_002 and np.all(np.isfinite(x.grad))
    net = tg.mlp([20, 10_000, 3], activation=tg.ReLU, seed=0)
    rng = np.random.default_rng(0)
    report = tg.gradcheck(net.graph, {"x": rng.normal(size=(2, 20)), "t": rng.uniform(size=(2, 3))}, only=["b2"])
    assert report.passed and net.graph["W1"].grad.shape == (20, 10_000)
    net.fit(rng.normal(size=(8, 20)), rng.uniform(size=(8, 3)), epochs=1, batch_size=4, progress=False)


# ---------------------------------------------------------------- checkpoints
def test_fit_resumes_from_a_checkpoint_with_the_same_result(tmp_path):
    X, T = tg.datasets.moons(n=40, seed=1)
    full = tg.mlp([2, 5, 1], seed=3)
    full_history = full.fit(
        X, T, epochs=6, seed=9, optimizer=tg.SGD(full.parameters(), 0.3, momentum=0.5), progress=False
    )

    class Interrupted(Exception):
        pass

    def stop_after_4(epoch, loss):
        if epoch == 4:
            raise Interrupted

    path = tmp_path / "ckpt.npz"
    first = tg.mlp([2, 5, 1], seed=3)
    with pytest.raises(Interrupted):
        tg.fit(
            first.graph,
            {"x": X, "t": T[:, None]},
            tg.SGD(first.parameters(), 0.3, momentum=0.5),
            epochs=6,
            seed=9,
            progress=False,
            checkpoint=path,
            checkpoint_every=2,
            callback=stop_after_4,
        )
    second = tg.mlp([2, 5, 1], seed=3)  # a new process: fresh network, same code
    history = tg.fit(
        second.graph,
        {"x": X, "t": T[:, None]},
        tg.SGD(second.parameters(), 0.3, momentum=0.5),
        epochs=6,
        seed=9,
        progress=False,
        checkpoint=path,
        resume=True,
    )
    assert np.allclose(history, full_history, rtol=0, atol=0)
    for p, q in zip(second.parameters(), full.parameters()):
        assert np.array_equal(p.value, q.value)


def test_resume_from_a_checkpoint_of_another_graph_changes_nothing(tmp_path):
    X, T = tg.datasets.xor()
    a = tg.mlp([2, 3, 1], seed=0)
    a.fit(X, T, epochs=2, progress=False)
    tg.fit(a.graph, {"x": X, "t": T[:, None]}, 0.5, epochs=1, checkpoint=tmp_path / "c.npz", progress=False)
    b = tg.mlp([2, 4, 1], seed=0)
    before = snapshot(b.graph)
    with pytest.raises(tg.GraphError, match=r"does not fit this graph: Parameter 'W1' \(2, 4\)"):
        tg.fit(
            b.graph,
            {"x": X, "t": T[:, None]},
            0.5,
            epochs=3,
            checkpoint=tmp_path / "c.npz",
            resume=True,
            progress=False,
        )
    assert unchanged(b.graph, before)


def _checkpoint(tmp_path, state):
    """A checkpoint of xor's 2-3-1 network after one epoch, its state replaced by ``state``."""
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    tg.fit(net.graph, {"x": X, "t": T[:, None]}, 0.5, epochs=1, checkpoint=tmp_path / "c.npz", progress=False)
    with np.load(tmp_path / "c.npz") as npz:
        arrays = dict(npz)
    if state is not None:
        arrays["__tinygraph_checkpoint__"] = np.array(state)
    np.savez(tmp_path / "c.npz", **arrays)
    return X, T


@pytest.mark.parametrize(
    "state, reason",
    [
        ('{"epoch": 1, "history": [0.3]}', "unreadable training state"),
        ('{"epoch": 2, "seed": 1, "history": [0.3]}', "unreadable training state"),
        ('{"epoch": 1, "seed": -1, "history": [0.3]}', "unreadable training state"),
        ('{"epoch": 1, "seed": 1, "history": [NaN]}', "unreadable training state"),
        ("[1, 2]", "unreadable training state"),
        ("not json", "unreadable training state"),
        ('{"epoch": 5, "seed": 1, "history": [1, 1, 1, 1, 1]}', "is at epoch 5, beyond epochs=3"),
    ],
)
def test_resume_from_a_bad_training_state_changes_nothing(tmp_path, state, reason):
    X, T = _checkpoint(tmp_path, state)
    b = tg.mlp([2, 3, 1], seed=1)
    optimizer = tg.SGD(b.parameters(), 0.5, momentum=0.9)
    before = snapshot(b.graph)
    with pytest.raises(tg.GraphError, match=f"fit resume: .*c.npz' .*{reason}"):
        tg.fit(b.graph, {"x": X, "t": T[:, None]}, optimizer, epochs=3, checkpoint=tmp_path / "c.npz", resume=True)
    assert unchanged(b.graph, before) and all(not v.any() for v in optimizer.velocity)


@pytest.mark.parametrize(
    "where, reason",
    [("missing/c.npz", "the folder '.*missing' does not exist"), (".", "is a folder; give the path of a file in it")],
)
def test_a_checkpoint_fit_cannot_write_is_refused_before_training(tmp_path, where, reason):
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    before = snapshot(net.graph)
    with pytest.raises(tg.GraphError, match=f"fit: checkpoint '.*': {reason}|fit: checkpoint '.*' {reason}"):
        tg.fit(net.graph, {"x": X, "t": T[:, None]}, 0.5, epochs=2, checkpoint=tmp_path / where, progress=False)
    assert unchanged(net.graph, before)


def test_a_folder_that_takes_no_new_files_is_refused_before_training(tmp_path, monkeypatch):
    import tempfile

    def read_only(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    before = snapshot(net.graph)
    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    with pytest.raises(tg.GraphError, match="fit: cannot write checkpoint '.*c.npz': Read-only file system"):
        tg.fit(net.graph, {"x": X, "t": T[:, None]}, 0.5, epochs=2, checkpoint=tmp_path / "c.npz", progress=False)
    assert unchanged(net.graph, before)


@pytest.mark.parametrize(
    "changes, error, match",
    [
        ({"shuffle": "yes"}, TypeError, "fit: shuffle must be True or False, got 'yes'"),
        ({"resume": 1}, TypeError, "fit: resume must be True or False, got 1"),
        ({"progress": "no"}, TypeError, "fit: progress must be True or False, got 'no'"),
        ({"seed": -1}, tg.GraphError, "fit: seed must be a whole number >= 0 or None, got -1"),
        ({"seed": 1.5}, tg.GraphError, "fit: seed must be a whole number >= 0 or None, got 1.5"),
        ({"callback": 3}, TypeError, "fit: callback must be callable"),
        ({"checkpoint": 3}, TypeError, "fit: checkpoint: path must be a str or os.PathLike, got int"),
        ({"resume": True}, tg.GraphError, "fit: resume=True continues from a checkpoint file"),
    ],
)
def test_every_argument_of_fit_is_checked_before_training(changes, error, match):
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=0)
    before = snapshot(net.graph)
    with pytest.raises(error, match=match):
        tg.fit(net.graph, {"x": X, "t": T[:, None]}, 0.5, epochs=2, **changes)
    assert unchanged(net.graph, before)


# ---------------------------------------------------------------- what a differential fuzzer once found
# Each test is one class of disagreement found against another engine, checked against plain numpy
# over several passes (the first runs the checked loop, the later ones the unrolled code).
REDUCERS = {"Sum": (tg.Sum, np.sum), "Mean": (tg.Mean, np.mean)}
AFTER = {
    "Tanh": (tg.Tanh, np.tanh),
    "Logistic": (tg.Logistic, lambda a: 1 / (1 + np.exp(-a))),
    "ReLU": (tg.ReLU, lambda a: np.maximum(a, 0)),
    "Scale": (lambda n: tg.Scale(n, 2.5), lambda a: 2.5 * a),
    "Add": (lambda n: tg.Add(n, tg.Constant(np.array(0.5))), lambda a: a + 0.5),
    "Multiply": (lambda n: tg.Multiply(n, n), lambda a: a * a),
}


@pytest.mark.parametrize("batch", [1, 5, 70])
@pytest.mark.parametrize("reducer", REDUCERS)
@pytest.mark.parametrize("after", AFTER)
def test_a_node_after_a_reduction_over_the_batch_keeps_one_number(after, reducer, batch):
    rng = np.random.default_rng(batch)
    x, w = tg.Input("x", shape=(3,)), tg.Parameter(rng.normal(size=3), "w")
    (make_r, ref_r), (make_a, ref_a) = REDUCERS[reducer], AFTER[after]
    graph = tg.Graph(tg.Sum(make_a(make_r(tg.Multiply(x, w)))))
    X = rng.normal(size=(batch, 3))
    for _ in range(4):
        assert np.allclose(graph.forward({"x": X}), np.sum(ref_a(ref_r(X * w.value))), rtol=1e-12)
        graph.backward()
        assert w.grad.shape == (3,)
    assert graph.ran == {"forward": "unrolled", "backward": "unrolled"}


def test_a_loss_of_two_reductions_is_divided_by_the_batch_once():
    rng = np.random.default_rng(0)
    x, t, w = tg.Input("x", shape=(3,)), tg.Input("t", shape=(1,)), tg.Parameter(rng.normal(size=3), "w")
    graph = tg.Graph(tg.SquaredLoss(tg.Sum(tg.Multiply(x, w)), tg.Sum(t)))
    X, T = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    expected = 0.5 * ((X * w.value).sum() - T.sum()) ** 2  # one prediction, one target: no batch to average
    grad = ((X * w.value).sum() - T.sum()) * X.sum(axis=0)
    for _ in range(4):
        assert np.isclose(graph.forward({"x": X, "t": T}), expected, rtol=1e-12)
        graph.backward()
        assert np.allclose(w.grad, grad, rtol=1e-12)


def test_weights_fed_by_a_mean_over_the_batch_get_gradients_of_their_own_shape():
    rng = np.random.default_rng(1)
    x, P = tg.Input("x", shape=(2,)), tg.Parameter(rng.normal(size=2), "P")
    w = tg.Parameter(rng.normal(size=(2, 2)), "w")
    graph = tg.Graph(tg.Sum(tg.WeightedSum(tg.Add(tg.Mean(x), P), w)))
    X = rng.normal(size=(4, 2))
    for _ in range(4):
        graph.forward({"x": X})
        graph.backward()
        h = X.mean() + P.value
        assert w.grad.shape == (2, 2) and np.allclose(w.grad, np.outer(h, np.ones(2)), rtol=1e-12)
        assert np.allclose(P.grad, w.value.sum(axis=1), rtol=1e-12)


def summed_to(a, shape):
    """What broadcasting ``shape`` up to ``a``'s shape makes of a gradient: ``a`` summed back."""
    a = a.sum(axis=tuple(range(a.ndim - len(shape))))
    return a.sum(axis=tuple(i for i, n in enumerate(shape) if n == 1), keepdims=True)


@pytest.mark.parametrize("shapes, fed", [([(2,), (2,)], (3, 2)), ([(3, 1)], (1,)), ([(1, 2), (3, 1)], (2,))])
def test_add_of_three_inputs_broadcasts_whichever_is_widest(shapes, fed):
    rng = np.random.default_rng(2)
    x = tg.Input("x", shape=fed[-1:])
    params = [tg.Parameter(rng.normal(size=s), f"p{i}") for i, s in enumerate(shapes)]
    inputs = (params + [x]) if len(params) == 2 else [x, x, *params]
    graph = tg.Graph(tg.Sum(tg.Add(*inputs)))
    X = rng.normal(size=fed)
    terms = [X if n is x else n.value for n in inputs]
    widest = np.broadcast_shapes(*[t.shape for t in terms])
    for _ in range(3):
        assert np.isclose(graph.forward({"x": X}), np.sum(sum(np.broadcast_to(t, widest) for t in terms)))
        graph.backward()
        for p in params:
            assert np.array_equal(p.grad, summed_to(np.ones(widest), p.value.shape))


def test_add_of_shapes_that_do_not_broadcast_names_the_node():
    a, b, x = tg.Parameter(np.ones(2), "a"), tg.Parameter(np.ones(2), "b"), tg.Input("x", shape=(3,))
    with pytest.raises(tg.GraphError, match="Add '.*'"):
        tg.Graph(tg.Sum(tg.Add(a, b, x))).forward({"x": np.ones((4, 3))})


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_after_a_batch_pass_keeps_what_it_needs(how):
    import copy
    import pickle

    rng = np.random.default_rng(3)
    net = tg.mlp([2, 3, 1], seed=0)
    X, T = rng.normal(size=(6, 2)), rng.normal(size=(6, 1))
    for _ in range(2):
        net.graph.forward({"x": X, "t": T})
    net.graph.backward()
    expected = [p.grad.copy() for p in net.parameters()]
    twin = copy.deepcopy(net.graph) if how == "deepcopy" else pickle.loads(pickle.dumps(net.graph))
    for _ in range(2):
        twin.backward()
        assert [p.grad.shape for p in twin.parameters()] == [e.shape for e in expected]
        assert all(np.array_equal(p.grad, e) for p, e in zip(twin.parameters(), expected))


def test_sgd_with_momentum_copied_with_its_graph_goes_on_as_the_original():
    import copy

    rng = np.random.default_rng(4)
    net = tg.mlp([2, 3, 1], seed=0)
    opt = tg.SGD(net.parameters(), 0.1, momentum=0.9)
    feed = {"x": rng.normal(size=(4, 2)), "t": rng.normal(size=(4, 1))}
    for _ in range(3):
        net.graph.forward(feed), net.graph.backward(), opt.step()
    graph2, opt2 = copy.deepcopy((net.graph, opt))
    for _ in range(3):
        for g, o in ((net.graph, opt), (graph2, opt2)):
            g.forward(feed), g.backward(), o.step()
    assert all(np.array_equal(p.value, q.value) for p, q in zip(net.parameters(), graph2.parameters()))
    assert all(q.value is not p.value for p, q in zip(net.parameters(), graph2.parameters()))


def test_gradcheck_of_a_non_contiguous_parameter_passes_and_eps_zero_is_refused():
    rng = np.random.default_rng(5)
    x, w = tg.Input("x", shape=(3,)), tg.Parameter(np.zeros((3, 2)), "w")
    w.value = rng.normal(size=(2, 3)).T  # a view: what SGD and the passes accept
    graph = tg.Graph(tg.Sum(tg.Logistic(tg.WeightedSum(x, w))))
    assert not w.value.flags.c_contiguous
    assert tg.gradcheck(graph, {"x": rng.normal(size=3)}).passed
    with pytest.raises(tg.GraphError, match="eps must be a finite number > 0, got 0"):
        tg.gradcheck(graph, {"x": rng.normal(size=3)}, eps=0)


@pytest.mark.parametrize("value", [np.float64(0.5), 1.5, [1.0, 2.0], None, np.ones(3, dtype=int)])
def test_a_replaced_value_that_is_not_an_array_of_floats_is_refused_by_name(value):
    net = tg.mlp([2, 3, 1], seed=0)
    b1 = net.graph["b1"]
    net.graph.forward({"x": np.ones(2), "t": np.ones(1)})
    net.graph.backward()
    before = snapshot(net.graph)[:2]
    b1.value = value
    with pytest.raises(TypeError, match="Parameter 'b1': value must be a numpy array of floats"):
        tg.SGD(net.parameters(), 0.1).step()
    with pytest.raises(TypeError, match="Parameter 'b1': value must be a numpy array of floats"):
        net.graph.forward({"x": np.ones(2), "t": np.ones(1)})
    assert np.array_equal(net.graph["W1"].value, before[0])


def test_a_step_that_cannot_update_every_parameter_updates_none():
    net = tg.mlp([2, 3, 1], seed=0)
    net.graph.forward({"x": np.ones(2), "t": np.ones(1)})
    net.graph.backward()
    last = net.parameters()[-1]
    last.value = last.value.copy()
    last.value.setflags(write=False)
    before = snapshot(net.graph)
    with pytest.raises(TypeError, match=f"Parameter '{last.name}': value must be a writeable array"):
        tg.SGD(net.parameters(), 0.1).step()
    assert unchanged(net.graph, before)


def test_a_weighted_sum_of_weights_fed_per_sample_says_it_cannot():
    x, w = tg.Input("x", shape=(3,)), tg.Input("w", shape=(3, 2))
    graph = tg.Graph(tg.Sum(tg.WeightedSum(x, w)))
    with pytest.raises(tg.GraphError, match="WeightedSum .*w 'w' and b must be the same for every sample"):
        graph.forward({"x": np.ones((4, 3)), "w": np.ones((4, 3, 2))})
    assert np.isclose(graph.forward({"x": np.ones(3), "w": np.ones((3, 2))}), 6.0)  # one sample: fine


# ---------------------------------------------------------------- fuzz
@st.composite
def graph_and_feed(draw):
    """A recipe for a small random graph (built inside the test) and random feeds."""
    rng = np.random.default_rng(draw(st.integers(0, 99)))
    n_in, width = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    spec = dict(
        n_in=n_in,
        width=width,
        declared=draw(st.booleans()),
        rng=rng,
        kind=draw(st.sampled_from(["dense", "add", "concat", "mul"])),
        extra=draw(st.sampled_from([width, 1, width + 1])),
        cut=draw(st.integers(1, 5)),
        loss=draw(st.sampled_from([tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy])),
    )
    shape = tuple(draw(st.lists(st.integers(0, 5), min_size=0, max_size=3)))
    x_value = draw(
        st.sampled_from(
            [
                rng.normal(size=shape),
                rng.normal(size=(3, n_in)),
                rng.normal(size=(n_in,)),
                [1.0, np.nan],
                "text",
                None,
                [[1.0], [1.0, 2.0]],
                np.inf,
            ]
        )
    )
    t_value = draw(
        st.sampled_from(
            [rng.uniform(size=shape), rng.uniform(size=(3, width)), rng.integers(0, 2, size=3).astype(float), 0.0]
        )
    )
    return spec, x_value, t_value


def build(spec):
    rng, n_in, width = spec["rng"], spec["n_in"], spec["width"]
    x = tg.Input("x", shape=(n_in,) if spec["declared"] else None)
    h = tg.Tanh(tg.WeightedSum(x, tg.Parameter(rng.normal(size=(n_in, width)), name="W"), name="z"), name="h")
    if spec["kind"] == "add":
        h = tg.Add(h, tg.Parameter(rng.normal(size=(spec["extra"],)), name="c"))
    elif spec["kind"] == "concat":
        h = tg.Concat(h, tg.Slice(x, 0, spec["cut"]))
    elif spec["kind"] == "mul":
        h = tg.Multiply(h, x)
    loss = spec["loss"]
    return tg.Graph(loss(tg.Logistic(h) if loss is tg.LogLoss else h, tg.Input("t")))


@settings(max_examples=200, deadline=None)
@given(graph_and_feed())
def test_fuzz_only_correct_results_or_clear_errors(case):
    """Random graphs and feeds: a finite scalar with gradients of the right shapes, or a
    GraphError/TypeError with a message — never another exception or a wrong shape."""
    spec, x_value, t_value = case
    try:
        graph = build(spec)
        value = graph.forward({"x": x_value, "t": t_value})
        graph.backward(inputs=True)
    except (tg.GraphError, TypeError) as exc:
        assert str(exc)
        return
    assert np.shape(value) == ()
    for node in graph.nodes:
        if node.grad is not None:
            assert node.grad.shape == node.value.shape, node
