"""tinygraph.io: npz round trips, all-or-nothing loading, atomic saves, refusing bad files."""

import json
import os
import pickle
import zipfile

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.training import saving as io


def hand_built_graph(rng):
    x, t = tg.Input("x", shape=(3,)), tg.Input("t", shape=(2,))
    W = tg.Parameter(rng.normal(size=(3, 2)), name="W")
    b = tg.Parameter(rng.normal(size=2), name="b")
    o = tg.Logistic(tg.WeightedSum(x, W, b, name="z"), name="o")
    return tg.Graph(tg.SquaredLoss(o, t, name="E"), o)


def values(graph):
    return {p.name: p.value.copy() for p in graph.parameters()}


def assert_values(graph, expected):
    assert [p.name for p in graph.parameters()] == list(expected)
    for p in graph.parameters():
        np.testing.assert_array_equal(p.value, expected[p.name])


def leftovers(folder):
    return sorted(f for f in os.listdir(folder) if f.endswith(".tmp"))


# -- round trips --------------------------------------------------------------
def test_round_trip_hand_built_graph(tmp_path):
    rng = np.random.default_rng(0)
    source, target = hand_built_graph(rng), hand_built_graph(rng)
    path = tmp_path / "g.npz"
    io.save(source, path)
    W_before = target["W"].value
    assert io.load_parameters(target, path) is target
    assert_values(target, values(source))
    assert target["W"].value is W_before  # copied in place: optimizers keep their arrays
    assert sorted(np.load(path, allow_pickle=False).files) == ["W", "b"]


@pytest.mark.parametrize("bias", ["separate", "input"])
def test_round_trip_mlp_parameters(tmp_path, bias):
    net = tg.mlp([2, 4, 3, 1], bias=bias, seed=1)
    other = tg.mlp([2, 4, 3, 1], bias=bias, seed=2)
    io.save(net, tmp_path / "n.npz")
    io.load_parameters(other, tmp_path / "n.npz")
    assert_values(other.graph, values(net.graph))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"activation": tg.Tanh, "loss": tg.LogLoss},
        {"activation": tg.ReLU, "loss": tg.SoftmaxCrossEntropy, "bias": "input"},
        {"activation": tg.Tanh, "output_activation": None, "dtype": np.float32},
        {"activation": None},
    ],
)
def test_network_save_load_predicts_identically(tmp_path, kwargs):
    rng = np.random.default_rng(0)
    sizes = [3, 5, 4] if kwargs.get("loss") is tg.SoftmaxCrossEntropy else [3, 5, 1]
    net = tg.mlp(sizes, seed=0, **kwargs)
    X = rng.normal(size=(20, 3))
    T = rng.integers(0, sizes[-1], 20) if sizes[-1] > 1 else rng.uniform(size=20)
    net.fit(X, T, epochs=3, lr=0.1, seed=0, progress=False)
    io.save(net, tmp_path / "net.npz")
    back = io.load(tmp_path / "net.npz")
    assert isinstance(back, tg.Network)
    assert (back.sizes, back.bias, back.activation, back.output_activation) == (
        net.sizes,
        net.bias,
        net.activation,
        net.output_activation,
    )
    assert type(back.loss) is type(net.loss) and back.graph.dtype == net.graph.dtype
    np.testing.assert_array_equal(back.predict(X), net.predict(X))


def test_load_keeps_the_parameter_dtype(tmp_path):
    net64 = tg.mlp([2, 3, 1], seed=0)
    net32 = tg.mlp([2, 3, 1], seed=1, dtype=np.float32)
    io.save(net64, tmp_path / "n.npz")
    io.load_parameters(net32, tmp_path / "n.npz")
    assert all(p.value.dtype == np.float32 for p in net32.parameters())
    np.testing.assert_allclose(net32.graph["W1"].value, net64.graph["W1"].value, rtol=1e-6)


def test_save_refuses_what_is_not_a_graph(tmp_path):
    with pytest.raises(TypeError, match="save: expected a tinygraph Graph or Network, got dict"):
        io.save({"W": np.zeros(2)}, tmp_path / "x.npz")
    with pytest.raises(TypeError, match="path must be a str or os.PathLike, got int"):
        io.save(tg.mlp([2, 1]), 3)


def test_save_refuses_a_reserved_name(tmp_path):
    x = tg.Input("x", shape=(2,))
    g = tg.Graph(tg.WeightedSum(x, tg.Parameter(np.ones(2), name="allow_pickle")))
    with pytest.raises(
        tg.GraphError, match="Parameter 'allow_pickle' cannot be saved under its name: np.savez reserves it"
    ):
        io.save(g, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


# -- all or nothing -------------------------------------------------------------
@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.pop("b"), r"Parameter 'b' \(2,\) is missing from the file"),
        (lambda a: a.update(extra=np.zeros(3)), r"the file has 'extra' \(3,\), which is not a Parameter"),
        (lambda a: a.update(W=np.zeros((2, 3))), r"Parameter 'W': expected shape \(3, 2\), got \(2, 3\)"),
        (
            lambda a: a.update(W=np.zeros((3, 2), dtype=np.int64)),
            "Parameter 'W': expected floating-point values, got dtype int64",
        ),
    ],
)
def test_mismatch_changes_nothing(tmp_path, change, message):
    rng = np.random.default_rng(0)
    graph = hand_built_graph(rng)
    arrays = {"W": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}
    change(arrays)
    np.savez(tmp_path / "bad.npz", **arrays)
    before = values(graph)
    with pytest.raises(tg.GraphError, match=message) as info:
        io.load_parameters(graph, tmp_path / "bad.npz")
    assert "bad.npz" in str(info.value) and "nothing was changed" in str(info.value)
    assert_values(graph, before)


def test_every_mismatch_is_listed_at_once(tmp_path):
    graph = hand_built_graph(np.random.default_rng(0))
    np.savez(tmp_path / "bad.npz", W=np.zeros((4, 2)), c=np.zeros(1))
    with pytest.raises(tg.GraphError) as info:
        io.load_parameters(graph, tmp_path / "bad.npz")
    message = str(info.value)
    assert "'b' (2,) is missing" in message and "'c' (1,)" in message and "got (4, 2)" in message


def test_load_into_a_different_network_changes_nothing(tmp_path):
    io.save(tg.mlp([2, 3, 1], seed=0), tmp_path / "small.npz")
    big = tg.mlp([2, 5, 1], seed=1)
    before = values(big.graph)
    with pytest.raises(tg.GraphError, match=r"'W1': expected shape \(2, 5\), got \(2, 3\)"):
        io.load_parameters(big, tmp_path / "small.npz")
    assert_values(big.graph, before)


def test_load_needs_an_architecture(tmp_path):
    io.save(hand_built_graph(np.random.default_rng(0)), tmp_path / "g.npz")
    with pytest.raises(tg.GraphError, match="holds parameters only.*use tinygraph.load_parameters"):
        io.load(tmp_path / "g.npz")


def test_load_refuses_an_unknown_class(tmp_path):
    net = tg.mlp([2, 3, 1], seed=0)

    class Swish(tg.Tanh):
        pass

    net.activation = Swish  # as if built with a user's own activation
    io.save(net, tmp_path / "n.npz")
    with pytest.raises(tg.GraphError, match="activation 'Swish', which is not a tinygraph class"):
        io.load(tmp_path / "n.npz")


# -- atomic saves ---------------------------------------------------------------
def _fail_savez_midway(file, **arrays):
    file.write(b"PK\x03\x04 half an archive")
    raise OSError(28, "No space left on device")


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "target, fake, raised",
    [
        ("numpy.savez", _fail_savez_midway, tg.GraphError),
        ("numpy.savez", _interrupt, KeyboardInterrupt),
        ("os.fsync", _interrupt, KeyboardInterrupt),
        ("os.fsync", lambda fd: (_ for _ in ()).throw(OSError(5, "I/O error")), tg.GraphError),
        ("os.replace", lambda a, b: (_ for _ in ()).throw(OSError(13, "Permission denied")), tg.GraphError),
        ("os.replace", _interrupt, KeyboardInterrupt),
    ],
)
def test_interrupted_save_keeps_the_previous_file(tmp_path, monkeypatch, target, fake, raised):
    old, new = tg.mlp([2, 3, 1], seed=0), tg.mlp([2, 3, 1], seed=1)
    path = tmp_path / "net.npz"
    io.save(old, path)
    monkeypatch.setattr(target, fake)
    with pytest.raises(raised):
        io.save(new, path)
    monkeypatch.undo()
    assert_values(io.load(path).graph, values(old.graph))
    assert leftovers(tmp_path) == []
    assert os.listdir(tmp_path) == ["net.npz"]


def test_save_reports_a_missing_folder(tmp_path):
    with pytest.raises(tg.GraphError, match="save: cannot write '.*nowhere.*net.npz': No such file"):
        io.save(tg.mlp([2, 1]), tmp_path / "nowhere" / "net.npz")


def test_save_replaces_the_previous_file(tmp_path):
    path = tmp_path / "net.npz"
    io.save(tg.mlp([2, 3, 1], seed=0), path)
    newer = tg.mlp([2, 3, 1], seed=1)
    io.save(newer, path)
    assert_values(io.load(path).graph, values(newer.graph))
    assert os.listdir(tmp_path) == ["net.npz"]


# -- bad files --------------------------------------------------------------------
def test_truncated_file(tmp_path):
    io.save(tg.mlp([2, 3, 1], seed=0), tmp_path / "net.npz")
    data = (tmp_path / "net.npz").read_bytes()
    for cut in (len(data) // 3, len(data) - 10, len(data) - 1):
        (tmp_path / "cut.npz").write_bytes(data[:cut])
        with pytest.raises(tg.GraphError, match="cannot load '.*cut.npz': it is truncated or corrupt"):
            io.load(tmp_path / "cut.npz")


def test_corrupt_bytes_in_the_data(tmp_path):
    net = tg.mlp([2, 3, 1], seed=0)
    io.save(net, tmp_path / "net.npz")
    data = bytearray((tmp_path / "net.npz").read_bytes())
    with zipfile.ZipFile(tmp_path / "net.npz") as z:
        start = data.index(b"\x93NUMPY", z.getinfo("W1.npy").header_offset)
    data[start + 128 + 8] ^= 0xFF  # inside W1's numbers, after its 128-byte .npy header
    (tmp_path / "bad.npz").write_bytes(bytes(data))
    before = values(net.graph)
    with pytest.raises(tg.GraphError, match="'.*bad.npz': it is truncated or corrupt"):
        io.load_parameters(net, tmp_path / "bad.npz")
    assert_values(net.graph, before)


@pytest.mark.parametrize(
    "content, kind",
    [
        (b"", "an empty file"),
        (b"W1,W2\n0.5,0.25\n", "something else"),
        (pickle.dumps({"W1": [1.0]}), "pickled Python objects"),
    ],
)
def test_not_an_npz_file(tmp_path, content, kind):
    (tmp_path / "f.npz").write_bytes(content)
    with pytest.raises(tg.GraphError, match=f"'.*f.npz' is not an .npz file saved by tinygraph: it holds {kind}"):
        io.load_parameters(tg.mlp([2, 1]), tmp_path / "f.npz")


def test_a_single_npy_array(tmp_path):
    np.save(tmp_path / "w.npy", np.zeros(3))
    with pytest.raises(tg.GraphError, match="it holds a single .npy array"):
        io.load(tmp_path / "w.npy")


class _Payload:
    """Unpickling this creates a folder: proof that code ran."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_pickled_objects_are_refused_and_never_run(tmp_path):
    marker = str(tmp_path / "code_ran")
    payload = np.empty(1, dtype=object)
    payload[0] = _Payload(marker)
    np.savez(tmp_path / "evil.npz", W=payload, b=np.zeros(2))  # numpy pickles object arrays
    with open(tmp_path / "evil.pkl", "wb") as f:
        pickle.dump(_Payload(marker), f)
    graph = hand_built_graph(np.random.default_rng(0))
    before = values(graph)
    with pytest.raises(tg.GraphError, match="'.*evil.npz': 'W' holds pickled \\(object\\) arrays"):
        io.load_parameters(graph, tmp_path / "evil.npz")
    with pytest.raises(tg.GraphError, match="'.*evil.pkl' is not an .npz.*pickled Python objects"):
        io.load(tmp_path / "evil.pkl")
    assert not os.path.exists(marker)
    assert_values(graph, before)


def test_missing_path(tmp_path):
    with pytest.raises(tg.GraphError, match="load: cannot read '.*absent.npz': No such file"):
        io.load(tmp_path / "absent.npz")
    with pytest.raises(tg.GraphError, match="load_parameters: cannot read '.*absent.npz'"):
        io.load_parameters(tg.mlp([2, 1]), tmp_path / "absent.npz")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{not json", "unreadable architecture description"),
        ('{"format": "tinygraph.mlp", "sizes": [2, 3, 1]}', "unreadable architecture description"),
        (
            '{"sizes": [2, 3, 1], "bias": "separate", "dtype": "int64", "activation": "Tanh", '
            '"output_activation": null, "loss": "SquaredLoss"}',
            "dtype must be float16, float32 or float64, got int64",
        ),
        (
            '{"sizes": [2, 3, 1], "bias": "separate", "dtype": "float64", "activation": "Graph", '
            '"output_activation": null, "loss": "SquaredLoss"}',
            "activation 'Graph', which is not a tinygraph class",
        ),
        (
            '{"sizes": [2, 3, 1], "bias": "sideways", "dtype": "float64", "activation": "Tanh", '
            '"output_activation": null, "loss": "SquaredLoss"}',
            "bias must be .separate., .input. or null, got sideways",
        ),
    ],
)
def test_unreadable_architecture(tmp_path, text, reason):
    net = tg.mlp([2, 3, 1], seed=0)
    arrays = {p.name: p.value for p in net.parameters()}
    np.savez(tmp_path / "a.npz", **arrays, __tinygraph_architecture__=np.array(text))
    with pytest.raises(tg.GraphError, match=reason):
        io.load(tmp_path / "a.npz")


def test_architecture_is_one_readable_json_string(tmp_path):
    io.save(tg.mlp([2, 4, 3], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0), tmp_path / "n.npz")
    with np.load(tmp_path / "n.npz", allow_pickle=False) as npz:
        stored = npz[io.ARCHITECTURE_KEY]
    assert stored.shape == () and stored.dtype.kind == "U"
    arch = json.loads(str(stored))
    assert arch["sizes"] == [2, 4, 3] and arch["bias"] == "separate" and arch["dtype"] == "float64"
    assert (arch["activation"], arch["output_activation"], arch["loss"]) == ("Tanh", None, "SoftmaxCrossEntropy")
    assert arch["tinygraph_version"] == tg.__version__


def _with_architecture(path, arrays, **changes):
    arch = {"sizes": [2, 3, 1], "bias": "separate", "dtype": "float64", "activation": "Tanh"}
    arch |= {"output_activation": None, "loss": "SquaredLoss"} | changes
    np.savez(path, **arrays, __tinygraph_architecture__=np.array(json.dumps(arch)))


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"sizes": [2, True, 1]}, "sizes must be a list of 2 to 1000 whole numbers >= 1"),
        ({"sizes": [2]}, "sizes must be a list of 2 to 1000"),
        ({"sizes": [2, 0, 1]}, "sizes must be a list of 2 to 1000"),
        ({"sizes": [2] * 1001}, "sizes must be a list of 2 to 1000"),
        ({"sizes": "231"}, "sizes must be a list"),
        ({"format_version": 2}, "it is format 'tinygraph.mlp' version 2, not tinygraph.mlp 1"),
        ({"dtype": "object"}, "dtype must be float16, float32 or float64, got object"),
    ],
)
def test_every_field_of_the_architecture_is_checked(tmp_path, changes, reason):
    arrays = {p.name: p.value for p in tg.mlp([2, 3, 1], seed=0).parameters()}
    _with_architecture(tmp_path / "a.npz", arrays, **changes)
    with pytest.raises(tg.GraphError, match=f"unreadable architecture description: {reason}"):
        io.load(tmp_path / "a.npz")


def test_a_network_bigger_than_its_file_is_never_built(tmp_path):
    import tracemalloc

    arrays = {p.name: p.value for p in tg.mlp([2, 3, 1], seed=0).parameters()}
    _with_architecture(tmp_path / "a.npz", arrays, sizes=[100_000, 100_000, 1])  # 80 GB of weights
    tracemalloc.start()
    try:
        with pytest.raises(tg.GraphError, match="describes a network of 10000200001 parameter values but holds 13"):
            io.load(tmp_path / "a.npz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_save_refuses_a_name_a_file_member_cannot_hold(tmp_path):
    # (names with NUL, newlines or other control characters are refused when the node is made)
    x = tg.Input("x", shape=(2,))
    g = tg.Graph(tg.Sum(tg.Multiply(x, tg.Parameter(np.ones(2), name="a" * 70_000))))
    with pytest.raises(tg.GraphError, match="cannot be saved under its name: it is 70000 bytes long in UTF-8"):
        io.save(g, tmp_path / "a.npz")
    assert not (tmp_path / "a.npz").exists()


def test_load_parameters_lists_shape_mismatches_in_the_graphs_order_whatever_the_hash_seed(tmp_path):
    # The mismatches came from a set of names, in an order that changed with PYTHONHASHSEED.
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import tinygraph as tg, sys\n"
        "tg.save(tg.mlp([2, 3, 1], seed=0), sys.argv[1])\n"
        "try:\n"
        "    tg.load_parameters(tg.mlp([3, 4, 2], seed=0).graph, sys.argv[1])\n"
        "except tg.GraphError as error:\n"
        "    print(error)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    path = str(tmp_path / "net.npz")
    said = {
        subprocess.run(
            [sys.executable, "-c", script, path], env=dict(env, PYTHONHASHSEED=seed), capture_output=True, text=True
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(said) == 1
    (message,) = said
    assert message.index("'W1'") < message.index("'b1'") < message.index("'W2'") < message.index("'b2'")


# -- optimizer state ------------------------------------------------------------
def trained(optimizer, steps=3, seed=0):
    """An mlp and its optimizer after a few steps of xor, batches of 2."""
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 3, 1], seed=seed)
    opt = optimizer(net.parameters())
    tg.fit(net, {"x": X, "t": T[:, None]}, opt, epochs=steps, batch_size=2, seed=0, progress=False)
    return net, opt


@pytest.mark.parametrize(
    "make", [lambda ps: tg.Adam(ps, lr=0.05), lambda ps: tg.SGD(ps, lr=0.5, momentum=0.9), tg.RMSProp]
)
def test_save_with_the_optimizer_and_load_it_back_continues_the_same_run(tmp_path, make):
    X, T = tg.datasets.xor()
    data = {"x": X, "t": T[:, None]}
    net, opt = trained(make)
    io.save(net, tmp_path / "n.npz", optimizer=opt)
    assert io.OPTIMIZER_KEY in np.load(tmp_path / "n.npz").files
    tg.fit(net, data, opt, epochs=2, batch_size=2, seed=1, progress=False)  # the run, on
    again = io.load(tmp_path / "n.npz")  # load rebuilds the network; the optimizer's state is left aside
    opt_again = make(again.parameters())
    io.load_parameters(again, tmp_path / "n.npz", optimizer=opt_again)
    tg.fit(again, data, opt_again, epochs=2, batch_size=2, seed=1, progress=False)
    assert_values(again.graph, values(net.graph))  # bit for bit
    for key, value in opt.state_dict().items():
        assert np.array_equal(opt_again.state_dict()[key], value)


def test_a_file_without_an_optimizer_state_or_with_another_ones_changes_nothing(tmp_path):
    net, adam = trained(tg.Adam)
    io.save(net, tmp_path / "plain.npz")
    io.save(net, tmp_path / "adam.npz", optimizer=adam)
    other = tg.mlp([2, 3, 1], seed=5)
    before = values(other.graph)
    rms = tg.RMSProp(other.parameters())
    state = rms.state_dict()
    with pytest.raises(
        tg.GraphError, match=r"^load_parameters: '[^']*plain.npz' holds no optimizer state; save it with"
    ):
        io.load_parameters(other, tmp_path / "plain.npz", optimizer=rms)
    with pytest.raises(tg.GraphError, match=r"adam.npz' holds an optimizer state that does not fit .*not RMSProp"):
        io.load_parameters(other, tmp_path / "adam.npz", optimizer=rms)
    assert_values(other.graph, before)
    assert all(np.array_equal(v, rms.state_dict()[k]) for k, v in state.items())
    with pytest.raises(TypeError, match="load_parameters: optimizer must be an SGD, Adam or RMSProp, got float"):
        io.load_parameters(other, tmp_path / "adam.npz", optimizer=0.5)
    io.load_parameters(other, tmp_path / "adam.npz")  # the parameters alone, as ever
    assert_values(other.graph, values(net.graph))


def test_save_refuses_an_optimizer_of_other_parameters(tmp_path):
    net = tg.mlp([2, 3, 1])
    with pytest.raises(tg.GraphError, match="save: the optimizer updates Parameter 'w', which is not in this graph"):
        io.save(net, tmp_path / "n.npz", optimizer=tg.Adam([tg.Parameter([1.0], name="w")]))
    with pytest.raises(TypeError, match="save: optimizer must be an SGD, Adam or RMSProp, got str"):
        io.save(net, tmp_path / "n.npz", optimizer="adam")
    assert not os.listdir(tmp_path)


def test_load_parameters_refuses_an_optimizer_of_other_parameters(tmp_path):
    net, sgd = trained(lambda ps: tg.SGD(ps, lr=0.1, momentum=0.9))
    io.save(net, tmp_path / "n.npz", optimizer=sgd)
    fresh, other = tg.mlp([2, 3, 1], seed=1), tg.mlp([2, 3, 1], seed=2)
    theirs = tg.SGD(other.parameters(), lr=0.5)
    before = [p.value.copy() for p in fresh.parameters()]
    match = "load_parameters: the optimizer updates Parameter 'W1', which is not in this graph"
    with pytest.raises(tg.GraphError, match=match):
        io.load_parameters(fresh, tmp_path / "n.npz", optimizer=theirs)
    assert all(np.array_equal(p.value, v) for p, v in zip(fresh.parameters(), before))
    assert theirs.lr == 0.5 and theirs.momentum == 0.0  # its settings are not the file's


def test_an_unreadable_optimizer_state_is_refused(tmp_path):
    net, adam = trained(tg.Adam)
    io.save(net, tmp_path / "n.npz", optimizer=adam)
    arrays = dict(np.load(tmp_path / "n.npz"))
    arrays[io.OPTIMIZER_KEY] = np.array("[not json")
    np.savez(tmp_path / "n.npz", **arrays)
    with pytest.raises(tg.GraphError, match="has an unreadable optimizer state"):
        io.load_parameters(net, tmp_path / "n.npz", optimizer=adam)


@pytest.mark.parametrize("name", ["__tinygraph_optimizer__", "__tinygraph_optimizer__/m/0"])
def test_save_refuses_the_names_the_optimizer_state_takes(tmp_path, name):
    x = tg.Input("x", shape=(2,))
    g = tg.Graph(tg.WeightedSum(x, tg.Parameter(np.ones(2), name=name)))
    with pytest.raises(tg.GraphError, match="cannot be saved under its name: tinygraph reserves it"):
        io.save(g, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []
