"""Every public entry point validates everything first, then acts: fuzzed arguments, valid and invalid.

A valid call gives the right result.  An invalid one raises, quickly, a ``tg.GraphError`` or ``TypeError``
whose message names the argument (never a ValueError, AttributeError, KeyError, numpy's own errors …, never
a hang or a silently wrong shape), before any parameter, optimizer state or file has changed.

Cases that still show a bug are marked ``xfail(strict=True)`` with the bug in their reason: once it is
fixed the test passes, the strict mark fails it, and the mark must go.  Huge values are chosen so that a
bug fails at once (allocations of petabytes are refused by the kernel) and every call that could loop is
run under a time limit.
"""

import contextlib
import functools
import html
import html.parser
import io
import json
import math
import os
import pathlib
import re
import shutil
import signal
import tempfile
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import tinygraph as tg
from tinygraph import cli

# ---------------------------------------------------------------------------------------------- settings
_COMMON = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=40, **_COMMON)  # cheap calls
FEW = settings(max_examples=12, **_COMMON)  # calls that train, write files or run Graphviz

CLEAR = (tg.GraphError, TypeError)
HUGE = 10**15  # elements: petabytes, refused by any kernel at once
HAS_DOT = shutil.which("dot") is not None or bool(os.environ.get("CI"))  # (under CI a missing dot fails)


def known(reason):
    """The mark of a case that shows a known bug: strict, so that it fails once the bug is fixed (then
    remove the mark)."""
    return pytest.mark.xfail(strict=True, reason=reason)


def quietly(test):
    """Report the test's failure as its message alone: formatting a traceback for each known-bug case
    would cost more time than running them."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        __tracebackhide__ = True
        try:
            return test(*args, **kwargs)
        except Exception as exc:
            pytest.fail(f"{type(exc).__name__}: {exc}", pytrace=False)

    return run


# ---------------------------------------------------------------------------------------------- helpers
class TooSlow(Exception):
    pass


@contextlib.contextmanager
def within(seconds):
    """Fail (instead of hanging) if the block runs longer than ``seconds``."""

    def alarm(signum, frame):
        raise TooSlow(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def refused(call, *names, seconds=20):
    """``call()`` must raise, within ``seconds``, a GraphError or TypeError whose message names one of
    ``names``; returns the exception."""
    __tracebackhide__ = True
    try:
        with within(seconds):
            got = call()
    except CLEAR as exc:
        message = str(exc)
        assert any(n in message for n in names), f"{type(exc).__name__} names none of {names}: {message}"
        return exc
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__} instead of a GraphError/TypeError naming {names}: {exc}") from exc
    raise AssertionError(f"accepted: returned {got!r:.300}")


def outcome(call, seconds=20):
    """("ok", result) or ("error", exc) for a GraphError/TypeError; anything else fails the test."""
    __tracebackhide__ = True
    try:
        with within(seconds):
            return "ok", call()
    except CLEAR as exc:
        assert str(exc), "an error without a message"
        return "error", exc
    except Exception as exc:
        raise AssertionError(f"{type(exc).__name__} instead of a GraphError/TypeError: {exc}") from exc


def files_in(folder):
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


def graph_of(obj):
    return obj.graph if isinstance(obj, tg.Network) else obj


class Unchanged:
    """What a failing call must leave as it was: parameter values, optimizer state, the files of a folder."""

    def __init__(self, graph=None, optimizer=None, folder=None):
        params = [] if graph is None else graph_of(graph).parameters()
        self.params = [(p, p.value, np.array(p.value, copy=True)) for p in params]
        self.optimizer = optimizer
        if optimizer is not None:
            velocity = getattr(optimizer, "velocity", None)
            self.state = (optimizer.lr, optimizer.momentum, None if velocity is None else [v.copy() for v in velocity])
        self.folder = folder
        self.files = None if folder is None else files_in(folder)

    def check(self):
        for p, array, copy in self.params:
            assert p.value is array, f"Parameter '{p.name}' was given a new array"
            assert array.dtype == copy.dtype and np.array_equal(array, copy, equal_nan=True), (
                f"Parameter '{p.name}' changed"
            )
        if self.optimizer is not None:
            lr, momentum, velocity = self.state
            assert (self.optimizer.lr, self.optimizer.momentum) == (lr, momentum), "the optimizer's lr/momentum changed"
            now = self.optimizer.velocity
            assert (now is None) == (velocity is None), "the optimizer's velocity appeared or vanished"
            for v, old in zip(now or [], velocity or []):
                assert np.array_equal(v, old), "the optimizer's velocity changed"
        if self.folder is not None:
            assert files_in(self.folder) == self.files, "files on disk changed"


@contextlib.contextmanager
def folder():
    with tempfile.TemporaryDirectory(prefix="tg-entry-") as d:
        yield d


def small_net(seed=0, sizes=(2, 3, 1), **kw):
    return tg.mlp(list(sizes), seed=seed, **kw)


XOR_X, XOR_T = tg.datasets.xor()
XOR = {"x": XOR_X, "t": XOR_T[:, None]}
ONE = {"x": np.array([0.1, 0.2]), "t": np.array([1.0])}

# ---------------------------------------------------------------------------------------------- values
NAN, INF = float("nan"), float("inf")
NOT_NUMBERS = st.sampled_from(
    [None, "1", b"1", [1.0], (1,), {"a": 1}, 1j, np.array([1.0, 2.0]), np.array(1.0), object()]
)
BOOLS = st.sampled_from([True, False, np.True_, np.False_])
NONFINITE = st.sampled_from([NAN, INF, -INF, np.float32("nan"), np.float64("inf"), np.float64("-inf")])
FLOATS = st.floats(-1e6, 1e6, allow_nan=False)
NON_INTEGRAL = st.floats(-5, 5).filter(lambda v: v != int(v)) | st.sampled_from([2.0, 1.0, np.float64(3.0)])
# Anything but a whole number >= 1: what a count (epochs, n, sizes …) must refuse.
NOT_COUNTS = st.one_of(
    st.integers(-5, 0), st.integers(-5, 0).map(np.int64), NON_INTEGRAL, NONFINITE, NOT_NUMBERS, BOOLS
)
# Anything but a finite real number.
TOO_LARGE = st.sampled_from([10**400, -(10**309), 2**1100])  # ints no float can hold
NOT_REALS = st.one_of(NONFINITE, NOT_NUMBERS, BOOLS, TOO_LARGE)


def is_whole(v, minimum=1):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= minimum


is_count = is_whole


def is_real(v):
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, (bool, np.bool_)):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # an int too large for a float
        return False


# ====================================================================================== node constructors
SHAPE_DIMS = st.one_of(
    st.integers(-2, 4), st.sampled_from([2.0, True, False, "2", None, np.int64(3), np.float64(2.0), np.bool_(True)])
)
SHAPES = st.one_of(
    st.none(),
    st.integers(-2, 4),
    st.lists(st.integers(0, 4), max_size=3).map(tuple),
    st.lists(SHAPE_DIMS, max_size=3).map(tuple),
    st.lists(st.integers(0, 4), max_size=3),
    st.sampled_from(["ab", 2.5, True, np.array([2, 3]), np.int64(2), {"a": 1}]),
)
NAMES = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=5),
    st.sampled_from(["", None, 5, b"x", ["x"], ("x",), 1.5]),
)


def declared(shape):
    """The tuple of dims an Input must keep for ``shape``, or None where it must refuse it."""
    if shape is None:
        return ()
    try:
        dims = tuple(shape)
    except TypeError:
        dims = (shape,)
    ok = all(isinstance(d, (int, np.integer)) and not isinstance(d, (bool, np.bool_)) and d >= 0 for d in dims)
    return tuple(int(d) for d in dims) if ok else None


@FUZZ
@given(name=NAMES, shape=SHAPES)
def test_input_keeps_a_name_and_a_shape_or_names_what_is_wrong(name, shape):
    dims = declared(shape)
    good_name = isinstance(name, str) and name != ""
    if good_name and dims is not None and name.isprintable():
        x = tg.Input(name, shape=shape)
        assert x.name == name and x.shape == (None if shape is None else dims)
    elif not good_name:
        refused(lambda: tg.Input(name, shape=shape), "name")
    elif dims is None:
        refused(lambda: tg.Input(name, shape=shape), "shape", "name")
    else:  # a name with a control character: kept or refused, said so
        kind, _ = outcome(lambda: tg.Input(name, shape=shape))
        if kind == "error":
            refused(lambda: tg.Input(name, shape=shape), "name")


NUMERIC_ARRAYS = hnp.arrays(
    st.sampled_from([np.float64, np.float32, np.int64, np.int8, np.uint16, np.bool_]),
    hnp.array_shapes(min_dims=0, max_dims=3, max_side=3),
)
BAD_ARRAYS = st.sampled_from(
    [
        np.array(["a", "b"]),
        np.array([1 + 2j]),
        np.array([1.0, None]),
        np.array(["2020-01-01"], dtype="datetime64[D]"),
        np.zeros(2, dtype=[("a", "f8")]),
        "1.0",
        None,
        {"a": 1},
        {1.0, 2.0},
        [[1.0], [1.0, 2.0]],
        [1, 10**400],
        10**400,
        b"12",
    ]
)


@FUZZ
@given(value=st.one_of(NUMERIC_ARRAYS, FLOATS, st.integers(-100, 100), st.lists(FLOATS, max_size=4), BAD_ARRAYS))
@pytest.mark.parametrize("cls", [tg.Parameter, tg.Constant])
def test_parameters_and_constants_copy_numbers_as_floats_or_refuse_the_value(cls, value):
    arr = None
    with contextlib.suppress(Exception):
        arr = np.asarray(value)
    numeric = arr is not None and arr.dtype != object and arr.dtype.kind in "biuf"
    if not numeric:
        refused(lambda: cls(value, name="p"), "'p'")
        return
    node = cls(value, name="p")
    assert isinstance(node.value, np.ndarray) and node.value.dtype.kind == "f"
    assert node.value.shape == arr.shape and node.shape == arr.shape
    assert np.array_equal(node.value, arr.astype(node.value.dtype), equal_nan=True)
    assert not np.shares_memory(node.value, arr)  # a copy: the caller's array never changes
    if cls is tg.Parameter:
        assert node.value.flags.c_contiguous and node.value.flags.writeable
    else:
        assert not node.value.flags.writeable


def _node(spec, name):
    """A leaf from ``spec``: ("in", shape) an Input, ("p", shape) a Parameter, anything else as it is."""
    if isinstance(spec, tuple) and spec[:1] == ("in",):
        return tg.Input(name, shape=spec[1])
    if isinstance(spec, tuple) and spec[:1] == ("p",):
        return tg.Parameter(np.random.default_rng(len(name)).normal(size=spec[1]), name=name)
    return spec


SMALL_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3)
LEAVES = st.one_of(
    st.tuples(st.just("in"), SMALL_SHAPES),
    st.tuples(st.just("p"), SMALL_SHAPES),
    st.sampled_from([np.ones(2), [1.0, 2.0], 1.0, None, "x"]),
)


@FUZZ
@given(x=LEAVES, w=LEAVES, b=st.none() | LEAVES)
def test_weighted_sum_checks_its_shapes_when_built_and_computes_x_w_plus_b(x, w, b):
    nodes = [_node(s, n) for s, n in ((x, "x"), (w, "w"), (b, "b"))]
    if not all(isinstance(n, tg.Node) for n in nodes[:2]) or not (b is None or isinstance(nodes[2], tg.Node)):
        refused(lambda: tg.WeightedSum(*nodes, name="z"), "input", "Node")
        return
    xs, ws, bs = (None if n is None else n.shape for n in nodes)
    fits = len(ws) in (1, 2) and len(xs) == 1 and xs[0] == ws[0] and (bs is None or bs == ws[1:])
    if not fits:
        refused(lambda: tg.WeightedSum(*nodes, name="z"), "WeightedSum 'z'")
        return
    z = tg.WeightedSum(*nodes, name="z")
    assert z.shape == ws[1:]
    feed = {"x": np.linspace(-1, 1, xs[0])} if isinstance(nodes[0], tg.Input) else {}
    if isinstance(nodes[1], tg.Input) or isinstance(nodes[2], tg.Input):
        feed.update({n.name: np.ones(n.shape) for n in nodes[1:] if isinstance(n, tg.Input)})
    value = tg.Graph(z).forward(feed)
    xv = feed.get("x", nodes[0].value)
    wv = feed.get("w", nodes[1].value)
    expected = np.dot(xv, wv) + (0 if b is None else feed.get("b", nodes[2].value))
    assert value.shape == ws[1:] and np.allclose(value, expected)


@FUZZ
@given(c=st.one_of(FLOATS, st.integers(-(10**6), 10**6), NOT_REALS, st.just(np.float32(0.5))))
def test_scale_takes_a_finite_number(c):
    x = tg.Input("x", shape=(2,))
    if is_real(c):
        for node in (tg.Scale(x, c, name="s"), x * c, c * x):
            assert isinstance(node, tg.Scale) and node.c == float(c)
        assert np.allclose(tg.Graph(tg.Scale(x, c)).forward({"x": [1.0, -2.0]}), [c, -2.0 * c])
    else:
        refused(lambda: tg.Scale(x, c, name="s"), " c ", "c must")
        refused(lambda: x * c, " c ", "c must", "unsupported operand", "multiply", "Scale")
        if isinstance(c, np.ndarray):
            refused(lambda: c * x, " c ", "c must", "unsupported operand", "multiply", "Scale")


@pytest.mark.parametrize("c", [10**400, -(10**309)], ids=["1e400", "-1e309"])
def test_scale_refuses_an_int_too_large_for_a_float_naming_c(c):
    x = tg.Input("x", shape=(2,))
    refused(lambda: tg.Scale(x, c), " c ", "c must")


@pytest.mark.parametrize("c", [np.array([1.0, 2.0]), np.ones((2, 2))], ids=["vector", "matrix"])
def test_an_array_times_a_node_is_refused(c):
    x = tg.Input("x", shape=(2,))
    refused(lambda: c * x, "Scale", "unsupported operand", "Node")
    refused(lambda: x * c, "Scale", "unsupported operand", "Node")


BOUNDS = st.one_of(st.integers(-6, 6), st.just(None), NON_INTEGRAL, BOOLS, st.sampled_from(["1", 1j]))


@FUZZ
@given(n=st.integers(0, 5), start=BOUNDS, stop=BOUNDS, declared_shape=st.booleans())
def test_slice_selects_a_non_empty_part_of_the_features_or_says_why_not(n, start, stop, declared_shape):
    x = tg.Input("x", shape=(n,) if declared_shape else None)
    ints = [
        v is None or (isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))) for v in (start, stop)
    ]
    if start is None or not all(ints):
        refused(lambda: tg.Slice(x, start, stop, name="s"), "start", "stop")
        return
    s = start + n if start < 0 else start
    e = n if stop is None else stop + n if stop < 0 else stop
    fits = 0 <= s < e <= n
    feed = {"x": np.arange(float(n))}
    if not fits:
        if declared_shape:
            refused(lambda: tg.Slice(x, start, stop, name="s"), "Slice 's'")
        else:
            node = tg.Slice(x, start, stop, name="s")
            refused(lambda: tg.Graph(node).forward(feed), "Slice 's'")
        return
    node = tg.Slice(x, start, stop, name="s")
    if declared_shape:
        assert node.shape == (e - s,)
    assert np.array_equal(tg.Graph(node).forward(feed), np.arange(float(n))[s:e])


@FUZZ
@given(
    shapes=st.lists(hnp.array_shapes(min_dims=0, max_dims=2, min_side=1, max_side=3), min_size=1, max_size=3),
    axis=st.one_of(st.integers(-3, 3), NON_INTEGRAL, BOOLS, st.just(None)),
)
def test_concat_joins_along_an_axis_they_share_or_says_why_not(shapes, axis):
    nodes = [tg.Parameter(np.full(s, float(i)), name=f"p{i}") for i, s in enumerate(shapes)]
    if not (isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_))):
        refused(lambda: tg.Concat(*nodes, axis=axis, name="c"), "axis")
        return
    try:
        expected = np.concatenate([n.value for n in nodes], axis=axis)
    except (ValueError, np.exceptions.AxisError):
        expected = None
    if expected is None or np.ndim(nodes[0].value) == 0:
        refused(lambda: tg.Concat(*nodes, axis=axis, name="c"), "Concat 'c'")
        return
    node = tg.Concat(*nodes, axis=axis, name="c")
    assert node.shape == expected.shape
    assert np.array_equal(tg.Graph(node).forward({}), expected)


REDUCTIONS = st.one_of(
    st.sampled_from(["mean", "sum", "MEAN", "Sum", "", "none", None, 0, 1.0, b"mean", ["mean"], ("sum",)]),
    st.sampled_from([np.array(["mean", "sum"]), np.array([1, 2]), np.array("mean")]),
    st.text(max_size=4),
)


@FUZZ
@given(reduction=REDUCTIONS, loss=st.sampled_from([tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy]))
def test_losses_take_mean_or_sum_as_their_reduction(reduction, loss):
    o, t = tg.Input("o", shape=(2,)), tg.Input("t", shape=(2,))
    if isinstance(reduction, str) and reduction in ("mean", "sum"):
        node = loss(o, t, reduction=reduction, name="E")
        assert node.reduction == reduction
        node.reduction = "sum" if reduction == "mean" else "mean"
        return
    refused(lambda: loss(o, t, reduction=reduction, name="E"), "reduction")
    node = loss(o, t, name="E")

    def change():
        node.reduction = reduction

    refused(change, "reduction")
    assert node.reduction == "mean"


@pytest.mark.parametrize("reduction", [np.array(["mean", "sum"]), np.array([1, 2])], ids=["strings", "ints"])
def test_losses_refuse_an_array_as_reduction(reduction):
    o, t = tg.Input("o", shape=(2,)), tg.Input("t", shape=(2,))
    refused(lambda: tg.SquaredLoss(o, t, reduction=reduction), "reduction")


# ============================================================================================ Graph passes
def other_graph_node():
    return tg.mlp([2, 1], seed=5).graph["W1"]


SELECTIONS = st.one_of(
    st.sampled_from(["x", "W1", "z1", "h1", "o", "E", "t"]),
    st.lists(st.sampled_from(["x", "W1", "z1", "h1", "o", "E", "t", "b2"]), max_size=3),
    st.lists(st.sampled_from(["o", "E"]), max_size=2).map(tuple),
    st.sampled_from(["nope", 5, None, {"o"}, np.array(["o"]), ["o", 5], ["o", None], ["nope"], "other"]),
)


@FUZZ
@given(selection=SELECTIONS, batch=st.sampled_from([None, 1, 3]), seed=st.integers(0, 3))
def test_run_returns_fresh_copies_of_what_forward_computes_or_names_the_problem(selection, batch, seed):
    net = small_net(seed)
    g = net.graph
    rng = np.random.default_rng(seed)
    feed = {"x": rng.normal(size=(2,) if batch is None else (batch, 2))}
    feed["t"] = rng.uniform(size=(1,) if batch is None else (batch, 1))
    if selection == "other":
        selection = other_graph_node()
    before = Unchanged(g)
    single = isinstance(selection, (str, tg.Node))
    items = [selection] if single else selection
    valid = isinstance(selection, (str, tg.Node, list, tuple)) and all(
        isinstance(i, str) and i in g or isinstance(i, tg.Node) and i in g for i in items
    )
    if not valid:
        refused(lambda: g.run(selection, feed), "run")
        before.check()
        return
    needs_t = any(i in ("t", "E") for i in items)
    got = g.run(selection, feed if needs_t else {"x": feed["x"]})
    before.check()
    g.forward(feed)
    values = [got] if single else got
    assert len(values) == len(items)
    for item, value in zip(items, values):
        node = g[item] if isinstance(item, str) else item
        assert isinstance(value, np.ndarray) and np.array_equal(value, node.value)
        assert value is not node.value and not np.shares_memory(value, node.value)
        shape = g.shape_of(node)
        batched = batch is not None and (node.inputs or isinstance(node, tg.Input)) and node is not g["E"]
        assert value.shape == ((batch,) + shape if batched else shape)


GOOD_X = [np.array([0.1, 0.2]), np.ones((3, 2)), np.ones((1, 2), np.float32), [0.5, -0.5], np.array([1, 2])]
FEED_PARTS = st.one_of(
    st.tuples(st.sampled_from(GOOD_X), st.sampled_from([np.array([1.0]), np.ones((3, 1)), np.ones((1, 1)), [0.0]])),
    st.tuples(
        st.sampled_from(GOOD_X + [np.ones(3), np.ones((3, 3)), np.ones((3, 2, 1)), "ab", None, [[1.0], [1.0, 2.0]]]),
        st.sampled_from([np.array([1.0]), np.ones((3, 1)), np.ones(3), np.ones((2, 1)), np.ones((3, 2)), "t"]),
    ),
)
EXTRAS = st.sampled_from([{}, {}, {"y": 1.0}, {5: 1.0}, {"W1": np.ones((2, 3))}, "drop t", "not a dict", "other"])


def make_feed(parts, extra):
    x, t = parts
    if extra == "not a dict":
        return [x, t]
    feed = {"x": x, "t": t}
    if extra == "drop t":
        del feed["t"]
    elif extra == "other":
        feed[tg.Input("t", shape=(1,))] = t
    else:
        feed.update(extra)
    return feed


def same_pass(g, fresh, feed):
    """forward and backward on g and on a fresh copy of it: the same numbers, or the same clear error."""
    kind, got = outcome(lambda: (g.forward(feed), g.backward()))
    fresh_kind, fresh_got = outcome(lambda: (fresh.forward(feed), fresh.backward()))
    assert kind == fresh_kind, (got, fresh_got)
    if kind == "ok":
        assert np.array_equal(got[0], fresh_got[0], equal_nan=True)
        for p, q in zip(g.parameters(), fresh.parameters()):
            assert np.array_equal(p.grad, q.grad, equal_nan=True), p.name
    return kind


@FUZZ
@given(feeds=st.lists(st.tuples(FEED_PARTS, EXTRAS), min_size=1, max_size=6), seed=st.integers(0, 3))
def test_a_failed_pass_changes_nothing_and_the_next_pass_is_as_on_a_fresh_graph(feeds, seed):
    """The loop and the unrolled code alike: a feed that is refused leaves values, parameters and
    gradients as they were, and the graph computes the next pass exactly as a graph that never saw it."""
    g = small_net(seed).graph
    for parts, extra in feeds:
        feed = make_feed(parts, extra)
        before = Unchanged(g)
        grads = [None if p.grad is None else p.grad.copy() for p in g.parameters()]
        kind, _ = outcome(lambda: g.forward(feed))
        if kind == "error":
            before.check()
            assert all(
                (a is None and p.grad is None) or np.array_equal(a, p.grad) for a, p in zip(grads, g.parameters())
            )
        else:
            g.backward()
    for _ in range(2):  # a pass like the last (the unrolled code), then the same again
        assert same_pass(g, small_net(seed).graph, {"x": np.array([0.3, -0.1]), "t": np.array([1.0])}) == "ok"


FLAGS = st.one_of(st.booleans(), st.sampled_from([np.True_, np.False_, None, 0, 1, "yes", "", np.array([True, False])]))


@FUZZ
@given(inputs=FLAGS, check_finite=FLAGS)
def test_backward_takes_flags_and_gives_gradients_of_the_right_shapes(inputs, check_finite):
    g = small_net().graph
    g.forward({"x": np.ones((3, 2)), "t": np.ones((3, 1))})
    kind, _ = outcome(lambda: g.backward(inputs=inputs, check_finite=check_finite))
    if kind == "error":
        refused(lambda: g.backward(inputs=inputs, check_finite=check_finite), "inputs", "check_finite")
        return
    for node in g.nodes:
        if node.grad is not None:
            assert np.shape(node.grad) == np.shape(node.value), node
    assert (g["x"].grad is not None) == bool(inputs)
    assert all(p.grad is not None for p in g.parameters())


@pytest.mark.parametrize("call", ["backward(inputs=)", "backward(check_finite=)", "forward(check_finite=)"])
def test_passes_refuse_an_array_as_a_flag(call):
    g = small_net().graph
    g.forward(ONE)
    flag = np.array([True, False])
    method, arg = call.split("(")
    arg = arg.rstrip("=)")
    args = (ONE,) if method == "forward" else ()
    refused(lambda: getattr(g, method)(*args, **{arg: flag}), arg)


def test_backward_refuses_a_hook_that_is_not_callable_before_it_starts():
    g = small_net().graph
    g.forward(ONE)
    g.backward()
    grads = [p.grad.copy() for p in g.parameters()]
    refused(lambda: g.backward(hook=5), "hook")
    assert all(np.array_equal(a, p.grad) for a, p in zip(grads, g.parameters()))


# ================================================================================================= SGD
RATES = st.one_of(
    st.floats(-2, 2, allow_nan=False), st.integers(-2, 3), NOT_REALS, st.sampled_from([np.float32(0.1), np.int64(1)])
)


@FUZZ
@given(lr=RATES, momentum=RATES)
def test_sgd_takes_a_positive_learning_rate_and_a_momentum_in_0_1(lr, momentum):
    net = small_net()
    params = net.parameters()
    good_lr, good_momentum = is_real(lr) and lr > 0, is_real(momentum) and 0 <= momentum < 1
    if good_lr and good_momentum:
        opt = tg.SGD(params, lr=lr, momentum=momentum)
        assert opt.lr == float(lr) and opt.momentum == float(momentum) and opt.parameters == tuple(params)
        assert (opt.velocity is None) == (momentum == 0)
    else:
        refused(lambda: tg.SGD(params, lr=lr, momentum=momentum), *(["lr"] * (not good_lr) + ["momentum"]))
    opt = tg.SGD(params, lr=0.5, momentum=0.5)
    before = Unchanged(net, opt)

    def set_lr():
        opt.lr = lr

    def set_momentum():
        opt.momentum = momentum

    if not good_lr:
        refused(set_lr, "lr")
    if not good_momentum:
        refused(set_momentum, "momentum")
    before.check()


@pytest.mark.parametrize("arg", ["lr", "momentum"])
def test_sgd_refuses_an_int_too_large_for_a_float(arg):
    refused(lambda: tg.SGD(small_net().parameters(), **{arg: 10**400}), arg)


PARAMETER_LISTS = st.sampled_from(
    ["params", "graph", "network", "tuple", "generator", "method", "empty", "input", "twice", 5, None]
)


@FUZZ
@given(kind=PARAMETER_LISTS)
def test_sgd_takes_parameters_or_names_what_it_got(kind):
    net = small_net()
    g = net.graph
    given_ = {
        "params": g.parameters(),
        "graph": g,
        "network": net,
        "tuple": tuple(g.parameters()),
        "generator": (p for p in g.parameters()),
        "method": g.parameters,
        "empty": [],
        "input": [g["x"]],
        "twice": g.parameters() + g.parameters()[:1],
    }.get(kind, kind)
    if kind in ("params", "graph", "network", "tuple", "generator"):
        assert tg.SGD(given_, lr=0.1).parameters == tuple(g.parameters())
    else:
        refused(lambda: tg.SGD(given_, lr=0.1), "parameters", "Parameter")


def test_sgd_refuses_a_parameter_listed_twice_or_steps_it_once():
    g = small_net().graph
    g.forward(ONE)
    g.backward()
    W = g["W1"]
    kind, opt = outcome(lambda: tg.SGD([W, W], lr=0.1))
    if kind == "ok":
        old = W.value.copy()
        opt.step()
        assert np.array_equal(W.value, old - np.multiply(W.grad, np.array(0.1))), "W was stepped twice"


GRADS = st.sampled_from(["ok", "ok", "ok", "float32", "none", "wrong shape", "scalar", "strings", "complex"])
VALUES = st.sampled_from(["same", "same", "same", "new array", "new shape", "ints", "read-only", "none"])


@FUZZ
@given(
    shapes=st.lists(hnp.array_shapes(min_dims=0, max_dims=2, max_side=3), min_size=1, max_size=3),
    grads=st.lists(GRADS, min_size=3, max_size=3),
    values=st.lists(VALUES, min_size=3, max_size=3),
    momentum=st.sampled_from([0.0, 0.5]),
    steps=st.integers(1, 3),
)
def test_sgd_step_checks_every_parameter_before_it_changes_any(shapes, grads, values, momentum, steps):
    rng = np.random.default_rng(len(shapes))
    params = [tg.Parameter(rng.normal(size=s), name=f"p{i}") for i, s in enumerate(shapes)]
    opt = tg.SGD(params, lr=0.25, momentum=momentum)
    for _ in range(steps):
        valid = True
        for p, grad, value in zip(params, grads, values):
            shape = p.value.shape
            if value == "new array":
                p.value = rng.normal(size=shape)
            elif value == "new shape":
                p.value = rng.normal(size=shape + (2,))
                valid = False  # (its gradient no longer fits)
            elif value == "ints":
                p.value, valid = np.ones(shape, int), False
            elif value == "read-only":
                p.value = rng.normal(size=shape)
                p.value.flags.writeable, valid = False, False
            elif value == "none":
                p.value, valid = None, False
            p.grad = {
                "ok": rng.normal(size=shape),
                "float32": rng.normal(size=shape).astype(np.float32),
                "none": None,
                "wrong shape": rng.normal(size=shape + (1,)),
                "scalar": np.array(1.0) if shape != () else None,
                "strings": np.full(shape, "a"),
                "complex": np.ones(shape, complex),
            }[grad]
            valid = valid and grad in ("ok", "float32")
        before = Unchanged(None, opt)
        olds = [(p.value, None if not isinstance(p.value, np.ndarray) else p.value.copy()) for p in params]
        velocity = None if opt.velocity is None else [v.copy() for v in opt.velocity]
        if not valid:
            refused(opt.step, "Parameter 'p")
            before.check()
            for p, (array, copy) in zip(params, olds):
                assert p.value is array and (copy is None or np.array_equal(array, copy))
            return
        opt.step()
        for i, (p, (array, old)) in enumerate(zip(params, olds)):
            lr = np.array(0.25, old.dtype)
            if momentum:
                v = velocity[i] if velocity[i].shape == old.shape else np.zeros_like(old)
                expected = old - np.multiply(v * 0.5 + p.grad, lr)
            else:
                expected = old - np.multiply(p.grad, lr)
            assert p.value is array and np.allclose(p.value, expected, rtol=1e-12, atol=0)
        values = ["same"] * 3  # (the next steps keep the arrays)


@pytest.mark.parametrize("bad", [np.array(["a", "b"]), np.array([1 + 1j, 2])], ids=["strings", "complex"])
def test_sgd_step_refuses_a_gradient_that_is_not_real_numbers_before_changing_any(bad):
    first, second = tg.Parameter(np.ones(2), name="first"), tg.Parameter(np.ones(2), name="second")
    first.grad, second.grad = np.ones(2), bad
    opt = tg.SGD([first, second], lr=0.1)
    refused(opt.step, "Parameter 'second'")
    assert np.array_equal(first.value, np.ones(2))


@pytest.mark.parametrize("grad", [1.0, [1.0]], ids=["float", "list"])
def test_sgd_step_takes_or_refuses_a_gradient_that_is_not_an_array_every_time(grad):
    p = tg.Parameter(np.ones(()) if grad == 1.0 else np.ones(1), name="p")
    p.grad = grad
    opt = tg.SGD([p], lr=0.1)
    for _ in range(2):
        kind, _ = outcome(opt.step)
        if kind == "error":
            refused(opt.step, "Parameter 'p'")


# ================================================================================================= fit
CHECKPOINTS = ["file", "no folder", "a folder", 5, b"bytes", "under a file"]
# For each argument of fit: (good values, bad values).  A call has at most two bad ones.
FIT_ARGUMENTS = {
    "epochs": (st.integers(1, 2), NOT_COUNTS),
    "batch_size": (st.integers(1, 5) | st.integers(1, 2**100) | st.just(10**400), NOT_COUNTS),
    "checkpoint_every": (st.integers(1, 3), NOT_COUNTS),
    "seed": (
        st.none() | st.integers(0, 2**64) | st.sampled_from([np.int64(3), np.uint32(7)]),
        st.integers(-5, -1) | NON_INTEGRAL | BOOLS | st.sampled_from([NAN, "1"]),
    ),
    "shuffle": (st.booleans() | st.sampled_from([np.True_, np.False_]), FLAGS),
    "resume": (st.just(False), FLAGS),
    "progress": (st.sampled_from([None, False]), FLAGS),
    "callback": (st.sampled_from([None, "function"]), st.sampled_from([5, "text"])),
    "optimizer": (
        st.floats(0.01, 1.0) | st.sampled_from(["sgd", 2, np.float32(0.1)]),
        st.sampled_from([0, -0.5, NAN, INF, True, "0.1", None, "object", 10**400]),
    ),
    "checkpoint": (st.sampled_from([None, "file"]), st.sampled_from(CHECKPOINTS)),
}


@st.composite
def fit_arguments(draw):
    bad = draw(st.sets(st.sampled_from(sorted(FIT_ARGUMENTS)), max_size=2))
    return {k: draw(FIT_ARGUMENTS[k][k in bad]) for k in FIT_ARGUMENTS}


def checkpoint_path(kind, d):
    return {
        None: None,
        "file": os.path.join(d, "run.npz"),
        "no folder": os.path.join(d, "missing", "run.npz"),
        "a folder": d,
        "under a file": os.path.join(d, "existing.txt", "run.npz"),
    }.get(kind, kind)


@settings(FEW, max_examples=30)
@given(args=fit_arguments())
def test_fit_checks_every_argument_before_it_trains(args):
    net = small_net()
    with folder() as d:
        open(os.path.join(d, "existing.txt"), "w").close()
        kwargs = dict(args)
        optimizer, checkpoint, callback = kwargs.pop("optimizer"), kwargs["checkpoint"], kwargs["callback"]
        path = kwargs["checkpoint"] = checkpoint_path(checkpoint, d)
        opt = tg.SGD(net.parameters(), lr=0.1, momentum=0.5) if optimizer == "sgd" else None
        optimizer = opt or (object() if optimizer == "object" else optimizer)
        calls = []
        kwargs["callback"] = (lambda e, loss: calls.append(e)) if callback == "function" else callback
        seed = kwargs["seed"]
        wrong = [k for k in ("epochs", "batch_size", "checkpoint_every") if not is_count(kwargs[k])]
        if seed is not None and not is_whole(seed, 0):
            wrong.append("seed")
        if callback in (5, "text"):
            wrong.append("callback")
        if checkpoint not in (None, "file"):
            wrong.append("checkpoint")
        if opt is None and not (is_real(optimizer) and optimizer > 0):
            wrong += ["optimizer", "lr"]
        maybe = [k for k in ("shuffle", "resume", "progress") if not isinstance(kwargs[k], (bool, np.bool_))]
        maybe = [k for k in maybe if not (k == "progress" and kwargs[k] is None)]
        if isinstance(kwargs["resume"], (bool, np.bool_)) and kwargs["resume"] and path is None:  # (np.True_ too)
            maybe += ["resume", "checkpoint"]
        before = Unchanged(net, opt, d)
        event("refused" if wrong else "maybe" if maybe else "valid")
        if wrong:
            refused(lambda: tg.fit(net.graph, XOR, optimizer, **kwargs), *wrong, *maybe)
            before.check()
            return
        kind, history = outcome(lambda: tg.fit(net.graph, XOR, optimizer, **kwargs))
        if kind == "error":  # only a flag that is not True/False may be refused
            assert maybe, history
            refused(lambda: tg.fit(net.graph, XOR, optimizer, **kwargs), *maybe)
            before.check()
            return
        epochs = kwargs["epochs"]
        assert len(history) == epochs and all(math.isfinite(h) for h in history)
        assert calls == (list(range(1, epochs + 1)) if callback == "function" else [])
        assert sorted(os.listdir(d)) == sorted(["existing.txt"] + ["run.npz"] * (path is not None))


@FEW
@given(
    bad=st.sampled_from(["seed", "callback", "checkpoint", "optimizer", "batch_size", "progress"]),
    epochs=st.sampled_from([10**6, 10**12, 2**62]),
)
def test_fit_refuses_a_bad_argument_at_once_even_for_a_huge_number_of_epochs(bad, epochs):
    net = small_net()
    with folder() as d:
        kwargs = {
            "seed": dict(seed=-1),
            "callback": dict(callback="not callable"),
            "checkpoint": dict(checkpoint=os.path.join(d, "missing", "c.npz")),
            "optimizer": dict(optimizer=-1.0),
            "batch_size": dict(batch_size=0),
            "progress": dict(progress="yes"),
        }[bad]
        optimizer = kwargs.pop("optimizer", 0.1)
        before = Unchanged(net, None, d)
        refused(lambda: tg.fit(net.graph, XOR, optimizer, epochs=epochs, **kwargs), bad, "lr", seconds=5)
        before.check()


@pytest.mark.parametrize("seed", [np.int64(3), np.uint32(7)], ids=["int64", "uint32"])
def test_fit_takes_a_numpy_integer_seed_with_a_checkpoint(seed):
    net = small_net()
    with folder() as d:
        history = tg.fit(net.graph, XOR, 0.1, seed=seed, checkpoint=os.path.join(d, "run.npz"), progress=False)
        assert len(history) == 1 and os.listdir(d) == ["run.npz"]


@pytest.mark.parametrize("seed", [np.int64(3), np.uint32(7)], ids=["int64", "uint32"])
def test_fit_takes_a_numpy_integer_seed(seed):
    a, b = small_net(), small_net()
    assert tg.fit(a.graph, XOR, 0.1, seed=seed, progress=False) == tg.fit(b.graph, XOR, 0.1, seed=int(seed))


def test_fit_with_an_absurd_batch_size_takes_one_step_per_epoch_or_refuses_it():
    net = small_net()
    before = Unchanged(net)
    kind, history = outcome(lambda: tg.fit(net.graph, XOR, 0.5, epochs=1, batch_size=10**400, progress=False))
    if kind == "error":
        refused(lambda: tg.fit(net.graph, XOR, 0.5, batch_size=10**400), "batch_size")
        before.check()
    else:
        assert history[0] > 0, f"no step was taken: history {history}"


@pytest.mark.parametrize("entry", ["fit", "trace"])
def test_a_learning_rate_too_large_for_a_float_is_refused(entry):
    net = small_net()
    before = Unchanged(net)
    if entry == "fit":
        refused(lambda: tg.fit(net.graph, XOR, 10**400, progress=False), "lr", "optimizer")
    else:
        refused(lambda: tg.trace(net, ONE, optimizer=10**400), "lr", "optimizer")
    before.check()


DATA_KEYS = st.sampled_from(["x", "t", "x-node", "other-x", "W1", "nope", 5, None])
DATA_VALUES = st.sampled_from(
    [
        "X",
        "T",
        np.ones((4, 3)),
        np.ones((5, 2)),
        np.ones((4,)),
        np.ones((4, 2, 1)),
        np.ones((0, 2)),
        5.0,
        [["a", "b"]] * 4,
        [[1.0], [1.0, 2.0], [1.0], [1.0]],
        None,
        np.ones((4, 1)) + 1j,
    ]
)


@FUZZ
@given(entries=st.lists(st.tuples(DATA_KEYS, DATA_VALUES), max_size=3), extra=st.booleans())
def test_fit_checks_its_data_before_it_trains(entries, extra):
    net = small_net()
    g = net.graph
    data = {"x": XOR_X, "t": XOR_T[:, None]} if extra else {}
    for key, value in entries:
        key = {"x-node": g["x"], "other-x": tg.mlp([2, 1]).input}.get(key, key) if isinstance(key, str) else key
        data[key] = {"X": XOR_X, "T": XOR_T[:, None]}.get(value, value) if isinstance(value, str) else value
    before = Unchanged(net)
    kind, history = outcome(lambda: tg.fit(g, data, 0.1, epochs=1, progress=False))
    event(kind)
    if kind == "error":
        refused(lambda: tg.fit(g, data, 0.1, epochs=1, progress=False), "data", "Input", "feed", "fit")
        before.check()
    else:
        assert len(history) == 1 and math.isfinite(history[0])


@quietly
@pytest.mark.parametrize("rows", [0, 2, 4], ids=["0 rows", "2 rows", "4 rows"])
def test_fit_refuses_data_for_one_input_given_twice(rows):
    net = small_net()
    data = {"x": np.zeros((rows, 2)), net.input: XOR_X, "t": XOR_T[:, None]}
    before = Unchanged(net)
    refused(lambda: tg.fit(net.graph, data, 0.5, progress=False), "twice", "Input 'x'")
    before.check()


def test_fit_checks_class_index_targets_before_it_trains():
    net = tg.mlp([2, 3], loss=tg.SoftmaxCrossEntropy, seed=0)
    before = Unchanged(net)
    targets = np.array([0.0, 1.0, 2.0, 7.0])  # the last is no class of 3
    refused(lambda: net.fit(XOR_X, targets, epochs=1, shuffle=False, progress=False), "target", "class")
    before.check()


STATE_EDITS = st.sampled_from(
    [
        None,
        "{",
        "[]",
        "1.5",
        json.dumps({"seed": 1, "history": [0.5]}),
        json.dumps({"epoch": "1", "seed": 1, "history": [0.5]}),
        json.dumps({"epoch": -3, "seed": 1, "history": []}),
        json.dumps({"epoch": 1, "seed": -1, "history": [0.5]}),
        json.dumps({"epoch": 1, "seed": 1.5, "history": [0.5]}),
        json.dumps({"epoch": 1, "seed": 1, "history": 5}),
        json.dumps({"epoch": 1, "seed": 1, "history": ["a"]}),
        json.dumps({"epoch": 2, "seed": 1, "history": [0.5]}),
        json.dumps({"epoch": 9, "seed": 1, "history": [0.5] * 9}),
        json.dumps({"epoch": True, "seed": 1, "history": [0.5]}),
        "float",
        "bytes",
    ]
)
ARRAY_EDITS = st.sampled_from(
    [
        None,
        ("param/W1", np.ones((3, 2))),
        ("param/W1", np.array([["a", "b", "c"], ["d", "e", "f"]])),
        ("param/b2", np.array(["a"])),
        ("param/b2", np.array([1 + 1j])),
        ("param/b2", np.array([1], dtype=np.int64)),
        ("param/b2", None),
        ("velocity/0", None),
        ("velocity/3", np.ones(2)),
        ("param/extra", np.ones(1)),
    ]
)


@FEW
@given(state=STATE_EDITS, edit=ARRAY_EDITS, momentum=st.sampled_from([0.0, 0.5]))
def test_fit_resume_checks_the_whole_checkpoint_before_changing_anything(state, edit, momentum):
    with folder() as d:
        path = os.path.join(d, "run.npz")
        first = small_net()
        tg.fit(first.graph, XOR, tg.SGD(first.parameters(), 0.1, momentum=momentum), epochs=1, seed=1, checkpoint=path)
        arrays = {k: v for k, v in np.load(path).items()}
        if state is not None:
            arrays["__tinygraph_checkpoint__"] = {"float": np.array(1.0), "bytes": np.array(b"{}")}.get(
                state, np.array(state)
            )
        if edit is not None:
            key, value = edit
            if value is None:
                arrays.pop(key, None)
            else:
                arrays[key] = value
        np.savez(path, **arrays)
        net = small_net(seed=7)
        opt = tg.SGD(net.parameters(), 0.1, momentum=momentum)
        before = Unchanged(net, opt, d)
        kind, history = outcome(
            lambda: tg.fit(net.graph, XOR, opt, epochs=3, seed=1, checkpoint=path, resume=True, progress=False)
        )
        event(kind)
        if kind == "error":
            refused(
                lambda: tg.fit(net.graph, XOR, opt, epochs=3, checkpoint=path, resume=True, progress=False),
                "resume",
                "checkpoint",
                path,
            )
            before.check()
        else:
            assert len(history) == 3 and all(math.isfinite(h) for h in history)


# ====================================================================================== save and load
NAME_CHARS = st.characters(codec="utf-8") | st.sampled_from(list("/\\.\"'<>&{}\n\x00 ") + ["\ud800", "é", "∂"])


@FUZZ
@given(
    names=st.lists(st.text(NAME_CHARS, min_size=1, max_size=6), min_size=1, max_size=3, unique=True),
    dtype=st.sampled_from([np.float64, np.float32, np.float16]),
    where=st.sampled_from(["file", "file", "path object", "folder", "no folder", 5, b"bytes", None]),
)
def test_save_writes_what_load_parameters_reads_back_or_changes_no_file(names, dtype, where):
    rng = np.random.default_rng(len(names))
    params = []
    for i, name in enumerate(names):
        kind, p = outcome(lambda: tg.Parameter(rng.normal(size=(i + 1,)).astype(dtype), name=name))
        if kind == "error":
            refused(lambda: tg.Parameter(1.0, name=name), "name")
            return
        params.append(p)
    g = tg.Graph(*params)
    with folder() as d:
        target = os.path.join(d, "net.npz")
        with open(target, "wb") as f:
            f.write(b"the previous file")
        path = {
            "file": target,
            "path object": pathlib.Path(target),
            "folder": d,
            "no folder": os.path.join(d, "missing", "net.npz"),
        }.get(where, where)
        before = Unchanged(g, None, d)
        kind, _ = outcome(lambda: tg.save(g, path))
        if kind == "error" or where not in ("file", "path object"):
            refused(lambda: tg.save(g, path), "save", "path")
            before.check()
            return
        assert os.listdir(d) == ["net.npz"]  # no temporary file left behind
        copies = [tg.Parameter(np.zeros(p.shape, dtype), name=p.name) for p in params]
        tg.load_parameters(tg.Graph(*copies), target)
        for p, q in zip(params, copies):
            assert q.value.dtype == p.value.dtype and np.array_equal(q.value, p.value)


@pytest.mark.parametrize(
    "value",
    [None, "abc", np.array(["a", "b"]), np.ones(1, int), np.ones(1, complex)],
    ids=["None", "str", "text array", "ints", "complex"],
)
def test_save_refuses_a_parameter_whose_value_is_not_floats(value):
    net = small_net()
    net.graph["b2"].value = value
    with folder() as d:
        refused(lambda: tg.save(net.graph, os.path.join(d, "net.npz")), "Parameter 'b2'")
        assert os.listdir(d) == []


def npy(header, data=b""):
    """The bytes of a .npy member with the header dict ``header`` (text), as numpy writes it."""
    text = header.encode("latin1")
    pad = (64 - (10 + len(text) + 1) % 64) % 64
    text += b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(text).to_bytes(2, "little") + text + data


def npy_of(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=True)
    return buffer.getvalue()


MEMBERS = st.sampled_from(
    [
        ("extra.npy", npy_of(np.ones(2))),
        ("readme.txt", b"hello"),
        ("W1", npy_of(np.ones((2, 3)))),
        ("dir/W1.npy", npy_of(np.ones((2, 3)))),
        ("W1.npy", b"\x00" * 40),
        ("W1.npy", npy_of(np.array([{"a": 1}], dtype=object))),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }", b"\x00" * 64)),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (4611686018427387904, 8), }")),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }")),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': ('a',), }")),
        ("W1.npy", npy("{'descr': 'O', 'fortran_order': False, 'shape': (2, 3), }", b"\x80\x04N." * 6)),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': __import__('os'), }")),
        ("W1.npy", npy("{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2, 3), }", b"\x00" * 48)),
        ("W1.npy", npy("{'descr': '<U100000000', 'fortran_order': False, 'shape': (2, 3), }", b"\x00" * 48)),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", b"\x00" * 48)),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }", b"\x00" * 10)),
        ("W1.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': " + "(1, " * 40 + ")" * 40 + ", }")),
        ("W1.npy", npy_of(np.ones((3, 2)))),
        ("W1.npy", npy_of(np.array([["a", "b", "c"], ["d", "e", "f"]]))),
        ("W1.npy", npy_of(np.ones((2, 3), complex))),
        ("W1.npy", npy_of(np.ones((2, 3), np.int64))),
        ("W1.npy", npy_of(np.ones((2, 3), np.float16))),
        ("W1.npy", npy_of(np.ones((2, 3), ">f8"))),
        ("__tinygraph_architecture__.npy", npy_of(np.array("{"))),
        ("__tinygraph_architecture__.npy", npy_of(np.array(b"{}"))),
        ("__tinygraph_architecture__.npy", npy_of(np.ones(3))),
    ]
)
ARCH_FIELDS = {
    "sizes": st.sampled_from(
        [[2, 3, 1], [2, 3, 1], [3, 2, 1], [2, 10**15, 1], [2, -3, 1], [2, True, 1], [2.0, 3, 1], "23", []]
    ),
    "bias": st.sampled_from(["separate", "separate", "input", None, "x", 5]),
    "activation": st.sampled_from(["Logistic", "Tanh", None, "Input", "Parameter", "__import__", "os.system", 5]),
    "output_activation": st.sampled_from(["Logistic", None, "SquaredLoss", "eval"]),
    "loss": st.sampled_from(["SquaredLoss", "LogLoss", "Loss", "Tanh", None]),
    "dtype": st.sampled_from(["float64", "float32", "int64", "object", "<U1", "float128", "complex128", 5]),
    "format": st.sampled_from(["tinygraph.mlp", "tinygraph.mlp", "other"]),
    "format_version": st.sampled_from([1, 1, 2, "1"]),
}
MUTATIONS = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(
        st.just("flip"),
        st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=3),
    ),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("random"), st.binary(max_size=300)),
    st.tuples(st.just("random"), st.binary(max_size=60).map(lambda b: b"PK\x03\x04" + b)),
    st.tuples(st.just("member"), MEMBERS),
    st.tuples(st.just("drop"), st.sampled_from(["W1", "b2", "__tinygraph_architecture__"])),
    st.tuples(st.just("arch"), st.fixed_dictionaries({}, optional=ARCH_FIELDS)),
    st.tuples(st.just("comment"), st.binary(max_size=20)),
)


def mutate(raw, mutation):
    """The bytes of a saved file after ``mutation``."""
    kind, arg = mutation
    if kind == "truncate":
        return raw[: int(len(raw) * arg)]
    if kind == "flip":
        out = bytearray(raw)
        for where, value in arg:
            out[int(where * len(out))] = value
        return bytes(out)
    if kind == "append":
        return raw + arg
    if kind == "random":
        return arg
    members = {}
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        for info in z.infolist():
            members[info.filename] = z.read(info)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        if kind == "member":
            name, content = arg
            members.pop(name, None)
            members[name] = content
        elif kind == "drop":
            members.pop(arg + ".npy")
        elif kind == "arch":
            arch = json.loads(str(np.load(io.BytesIO(members["__tinygraph_architecture__.npy"]))))
            arch.update(arg)
            members["__tinygraph_architecture__.npy"] = npy_of(np.array(json.dumps(arch)))
        elif kind == "comment":
            z.comment = arg
        for name, content in members.items():
            z.writestr(name, content)
    return buffer.getvalue()


def stored_arrays(path):
    """What numpy itself reads from the file (None if it cannot): what a successful load must hold."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in npz.files}
    except Exception:
        return None


@FUZZ
@given(mutation=MUTATIONS)
def test_load_and_load_parameters_refuse_a_damaged_file_or_read_exactly_what_it_holds(mutation):
    saved = small_net(seed=3)
    with folder() as d:
        path = os.path.join(d, "net.npz")
        tg.save(saved, path)
        with open(path, "rb") as f:
            raw = f.read()
        with open(path, "wb") as f:
            f.write(mutate(raw, mutation))
        target = small_net(seed=4)
        for entry in ("load_parameters", "load"):
            before = Unchanged(target, None, d)
            call = (lambda: tg.load_parameters(target, path)) if entry == "load_parameters" else (lambda: tg.load(path))
            kind, got = outcome(call, seconds=10)
            event(f"{entry}: {kind}")
            if kind == "error":
                refused(call, path, seconds=10)
                before.check()
                continue
            stored = stored_arrays(path)
            assert stored is not None, "tinygraph read a file numpy cannot"
            net = target if entry == "load_parameters" else got
            assert isinstance(net, tg.Network)
            for p in net.parameters():
                assert p.value.shape == stored[p.name].shape
                assert np.array_equal(p.value, stored[p.name].astype(p.value.dtype), equal_nan=True), p.name
            before.folder, before.params = None, []  # (load_parameters changes the parameters: that is its job)
            before.check()
            assert files_in(d) == before.files


# ============================================================================ gradcheck and check_node
TOLERANCES = st.one_of(
    st.floats(0, 1e-2),
    st.just(0.0),
    st.just(0),
    st.floats(-1, -1e-9),
    NONFINITE,
    NOT_NUMBERS,
    BOOLS,
    TOO_LARGE,
    st.integers(1, 3),
)


def good_tolerance(name, v):
    return is_real(v) and v >= 0 and not (name == "eps" and v == 0)


@FUZZ
@given(eps=TOLERANCES, atol=TOLERANCES, rtol=TOLERANCES)
def test_gradcheck_and_check_node_take_finite_tolerances_and_change_no_parameter(eps, atol, rtol):
    net = small_net()
    before = Unchanged(net)
    tolerances = dict(eps=eps, atol=atol, rtol=rtol)
    wrong = [k for k, v in tolerances.items() if not good_tolerance(k, v)]
    if wrong:
        refused(lambda: tg.gradcheck(net.graph, ONE, **tolerances), *wrong)
        refused(lambda: tg.check_node(tg.Tanh, [(2, 3)], batched=0, **tolerances), *wrong)
    else:
        report = tg.gradcheck(net.graph, ONE, **tolerances)
        assert isinstance(report, tg.GradcheckReport) and len(report.rows) == 4
        assert isinstance(tg.check_node(tg.Tanh, [(2, 3)], batched=0, **tolerances), tg.GradcheckReport)
    before.check()


@pytest.mark.parametrize("name", ["eps", "atol", "rtol"])
def test_gradcheck_refuses_a_tolerance_too_large_for_a_float(name):
    refused(lambda: tg.gradcheck(small_net().graph, ONE, **{name: 10**400}), name)


ONLY = st.one_of(
    st.none(),
    st.sampled_from(["W1", "b2", "nope", "x"]),
    st.lists(st.sampled_from(["W1", "b1", "W2", "nope"]), max_size=3),
    st.just("node"),
    st.sampled_from([5, [5], [None], ["W1", 5], {"W1": 1}]),
)


@FUZZ
@given(only=ONLY, inputs=st.booleans())
def test_gradcheck_checks_only_the_nodes_asked_for(only, inputs):
    net = small_net()
    if only == "node":
        only = net.graph["W2"]
    names = (
        None
        if only is None
        else {only if isinstance(only, str) else only.name}
        if isinstance(only, (str, tg.Node))
        else set(only)
        if isinstance(only, list)
        else None
    )
    if isinstance(only, (int, dict)) or not (names is None or all(isinstance(n, str) for n in names)):
        refused(lambda: tg.gradcheck(net.graph, ONE, only=only, inputs=inputs), "only")
        return
    if names is not None and "nope" in names:
        refused(lambda: tg.gradcheck(net.graph, ONE, only=only, inputs=inputs), "only", "nope")
        return
    report = tg.gradcheck(net.graph, ONE, only=only, inputs=inputs)
    checked = {r.name for r in report.rows}
    everything = {p.name for p in net.parameters()} | ({"x", "t"} if inputs else set())
    assert checked == (everything if names is None else names & everything)
    assert report.passed or not report.rows


@pytest.mark.parametrize("only", [[5], [None], 5], ids=["[5]", "[None]", "5"])
def test_gradcheck_refuses_an_only_that_is_no_name_or_node(only):
    refused(lambda: tg.gradcheck(small_net().graph, ONE, only=only), "only")


class Checked(tg.Node):
    """Like SoftmaxCrossEntropy with class indices: forward refuses values off the integers."""

    def forward(self, x):
        if np.any(x != np.round(x)):
            raise self.error("x must hold whole numbers")
        return np.asarray(x.sum())

    def backward(self, grad_out):
        return (np.full(self.inputs[0].value.shape, grad_out),)


def test_gradcheck_restores_every_parameter_when_a_pass_fails():
    w = tg.Parameter(np.array([1.0, 2.0]), name="w")
    g = tg.Graph(Checked(w, name="E"))
    before = Unchanged(g)
    refused(lambda: tg.gradcheck(g, {}), "whole numbers")
    before.check()


SPECS = st.one_of(
    st.lists(st.integers(1, 3), max_size=2).map(tuple), st.sampled_from([(-1,), (1.5,), 3, ("a",), None, (HUGE, HUGE)])
)


@FUZZ
@given(
    shapes=st.lists(SPECS, min_size=1, max_size=2),
    batched=st.one_of(st.just(()), st.just(0), st.sampled_from([(0,), [0], (0, 1), "0", None, (1.5,)])),
    dtype=st.sampled_from([np.float64, np.float32, "float64", np.int64, complex, np.bool_, "foo"]),
    seed=st.one_of(st.integers(0, 2**32), st.sampled_from([-1, 1.5, "0", True])),
)
def test_check_node_takes_shapes_batched_indices_a_float_dtype_and_a_seed(shapes, batched, dtype, seed):
    def factory(*nodes):
        return tg.Tanh(nodes[0]) if len(nodes) == 1 else tg.Multiply(*nodes)

    index = (batched,) if isinstance(batched, int) else batched
    wrong = []
    if not (isinstance(index, (tuple, list)) and all(is_whole(i, 0) and i < len(shapes) for i in index)):
        wrong.append("batched")
    if dtype == "foo" or np.dtype(dtype).kind != "f":
        wrong.append("dtype")
    if not all(isinstance(s, tuple) and all(is_whole(d, 1) for d in s) and math.prod(s) < HUGE for s in shapes):
        wrong.append("input_shapes")
    if not is_whole(seed, 0):
        wrong.append("seed")
    call = lambda: tg.check_node(factory, shapes, batched=batched, dtype=dtype, seed=seed)
    if wrong:
        refused(call, *wrong, seconds=10)
    else:
        kind, report = outcome(call)
        if kind == "ok":
            assert report.passed, str(report)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(input_shapes=[(-1,)]),
        dict(input_shapes=[(1.5,)]),
        dict(input_shapes=[3]),
        dict(input_shapes=[(3,)], seed=-1),
        dict(input_shapes=[(3,)], seed=1.5),
        dict(input_shapes=[(3,)], dtype="foo"),
        dict(input_shapes=[(3,)], wrt=5),
        dict(input_shapes=[(3,)], wrt=(5,)),
        dict(input_shapes=[(2, 3)], batched=(5,)),
        dict(input_shapes=[(2, 3)], batched=(-1,)),
        dict(input_shapes=[(HUGE, HUGE)]),
        dict(input_shapes=[(3,)], node=5),
    ],
    ids=[
        "negative dim",
        "float dim",
        "int not shape",
        "seed -1",
        "seed 1.5",
        "dtype foo",
        "wrt 5",
        "wrt (5,)",
        "batched (5,)",
        "batched (-1,)",
        "huge shape",
        "node 5",
    ],
)
def test_check_node_names_each_bad_argument(kwargs):
    name = next(k for k in kwargs if k != "input_shapes") if len(kwargs) > 1 else "input_shapes"
    kwargs = dict(kwargs)
    node = kwargs.pop("node", tg.Tanh)
    refused(lambda: tg.check_node(node, **kwargs), name, seconds=10)


# ============================================================================== render, to_dot, trace
SPECIAL = "\"'\\<>&{}[]|$#`*_NGlrn"  # (with \\N, \\G, \\l … Graphviz's escapes)
DRAWN_NAMES = st.text(st.sampled_from(list(SPECIAL + "ab")), min_size=1, max_size=5) | st.text(
    st.sampled_from(list(SPECIAL + "a\n\r\t\x00\x01\x0b\u2028\ud800 ")), min_size=1, max_size=4
)


def named_graph(name):
    """A one-layer network whose every node's name holds ``name``."""
    x = tg.Input(name, shape=(2,))
    W = tg.Parameter(np.array([[0.5], [-0.25]]), name="W" + name)
    b = tg.Parameter(np.zeros(1), name="b" + name)
    z = tg.WeightedSum(x, W, b, name="z" + name)
    o = tg.Logistic(z, name=name + "o")
    t = tg.Input("t" + name, shape=(1,))
    return tg.Graph(tg.SquaredLoss(o, t, name="E" + name)), {x: np.array([1.0, 2.0]), t: np.array([1.0])}


def svg_texts(source):
    """The texts Graphviz draws for a DOT source (its syntax checked by Graphviz itself)."""
    import subprocess

    done = subprocess.run(["dot", "-Tsvg"], input=source.encode("utf-8"), capture_output=True, timeout=20)
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    svg = done.stdout.decode("utf-8")
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)], svg


def drawing_of(name, view):
    g, feed = named_graph(name)
    g.forward(feed)
    g.backward()
    return tg.to_dot(g, view=view, flow=[(g["z" + name], g[name + "o"])], highlight=[name], title=name)


def plain_texts(name, view):
    """What Graphviz draws for names "ZZ", with ``name`` put in: what it must draw for ``name``."""
    return [t.replace("ZZ", name) for t in svg_texts(drawing_of("ZZ", view))[0]]


@FEW
@given(name=DRAWN_NAMES, view=st.sampled_from(["graph", "network"]))
def test_diagrams_show_any_name_as_it_is_or_refuse_it_when_the_node_is_made(name, view):
    kind, built = outcome(lambda: named_graph(name))
    if kind == "error":
        refused(lambda: named_graph(name), "name")
        assert not name.isprintable(), f"a printable name was refused: {built}"
        return
    g, feed = built
    g.forward(feed)
    g.backward()
    z, o = g["z" + name], g[name + "o"]
    source = tg.to_dot(g, view=view, flow=[(z, o)], highlight=[name], title=name)
    assert isinstance(source, str)
    if not HAS_DOT:
        return
    texts, _ = svg_texts(source)
    if name.isprintable() and not any(c.isspace() for c in name):  # (Graphviz trims and wraps whitespace)
        assert texts == plain_texts(name, view), "the names are not drawn as they are"
    with folder() as d:
        tg.render(g, os.path.join(d, "g"), view=view, flow=[(z, o)])
        assert sorted(os.listdir(d)) == ["g.dot", "g.svg"]


_MATHML = {"mrow", "mi", "mn", "mo", "mtext", "mfrac", "msub", "msup", "msubsup", "mover", "munder", "mtable", "mtr"}
_MATHML |= {"mtd", "mspace", "mstyle", "msqrt", "mpadded", "menclose", "munderover"}


class _Structure(html.parser.HTMLParser):
    """The tags of a page, in order, and its text; a formula (MathML) counts as one tag, and holds only MathML."""

    def __init__(self, page):
        super().__init__()
        self.tags, self.text, self.in_math = [], [], 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        if self.in_math:  # (a name's letters are MathML identifiers: how many depends on the name)
            assert tag in _MATHML, f"<{tag}> inside a formula"
            return
        self.in_math += tag == "math"
        self.tags.append(tag)

    def handle_endtag(self, tag):
        if self.in_math and tag != "math":
            return
        self.in_math -= tag == "math"
        self.tags.append("/" + tag)

    def handle_data(self, data):
        self.text.append(data)


def markup(markdown):
    """The characters Markdown reads as HTML or entities, where no backslash escapes them."""
    return re.findall(r"(?<!\\)[<>&]", markdown)


def trace_pages(name, d):
    """The trace of ``named_graph(name)``, its Markdown and its HTML page (written to folder ``d``)."""
    g, feed = named_graph(name)
    tr = tg.trace(g, feed, optimizer=0.1)
    with open(tr.to_html(os.path.join(d, "t.html"), title=name), encoding="utf-8") as f:
        return tr, tr.to_markdown(), f.read()


@functools.lru_cache(maxsize=1)
def plain_pages():
    with folder() as d:
        _, markdown, page = trace_pages("q", d)
    return markup(markdown), _Structure(page).tags


@pytest.mark.graphviz
@settings(FEW, max_examples=4)
@given(name=st.text(st.sampled_from(list(SPECIAL + "ab")), min_size=1, max_size=4))
def test_trace_pages_escape_any_name(name):
    """The Markdown and the HTML page of a graph with odd names have the markup of one with plain names."""
    with folder() as d:
        tr, markdown, page = trace_pages(name, d)
    plain_markup, plain_tags = plain_pages()
    assert name in str(tr)
    assert markup(markdown) == plain_markup, "a name is read as markup in the Markdown"
    headings = [line for line in markdown.splitlines() if line.startswith("#")]
    assert len(headings) == len(tr.steps) + 1
    structure = _Structure(page)
    assert structure.tags == plain_tags, "a name is read as markup in the HTML page"
    assert name in "".join(structure.text)


@pytest.mark.graphviz
@pytest.mark.parametrize("name", ["\\N", "\\G", "a\\\\b"], ids=["N", "G", "two backslashes"])
@pytest.mark.parametrize("view", ["graph", "network"])
def test_diagrams_draw_backslashes_as_they_are(name, view):
    assert svg_texts(drawing_of(name, view))[0] == plain_texts(name, view)


@pytest.mark.graphviz
@pytest.mark.parametrize("name", ["]", "]]"])
def test_a_node_named_only_closing_brackets_can_be_drawn(name):
    g, feed = named_graph(name)
    g.forward(feed)
    svg_texts(tg.to_dot(g))
    with folder() as d:
        tg.render(g, os.path.join(d, "g"))


PRECISIONS = st.one_of(st.integers(1, 30), NOT_COUNTS, st.sampled_from([2**31, 10**20]))


@FUZZ
@given(
    precision=PRECISIONS,
    view=st.one_of(st.sampled_from(["graph", "network", "Graph", "", None, 1]), st.text(max_size=3)),
    fmt=st.one_of(st.sampled_from(["svg", "png", "pdf", "jpg", "SVG", "", None, 5])),
    suffix=st.sampled_from(["", ".svg", ".png", ".dot", ".txt"]),
)
def test_render_checks_precision_view_and_format_before_it_writes(precision, view, fmt, suffix):
    net = small_net()
    net.graph.forward(ONE)
    too_many = is_count(precision) and precision > 17  # (float64 has 17 significant digits)
    if too_many and precision < 2**31 and outcome(lambda: tg.to_dot(net, precision=precision))[0] == "ok":
        too_many = False  # (drawn with all the digits there are: fine too)
    wrong = ["precision"] * (not is_count(precision) or too_many) + ["view"] * (view not in ("graph", "network"))
    if wrong:
        refused(lambda: tg.to_dot(net, precision=precision, view=view), *wrong)
    else:
        assert "digraph" in tg.to_dot(net, precision=precision, view=view)
    if fmt not in ("svg", "png", "pdf"):
        wrong.append("format")
    elif suffix in (".svg", ".png", ".dot") and suffix != f".{fmt}":
        wrong += ["path", "format"]
    with folder() as d:
        path = os.path.join(d, "out" + suffix)
        before = Unchanged(net, None, d)
        if wrong:
            refused(lambda: tg.render(net, path, format=fmt, precision=precision, view=view), *wrong)
            before.check()
        elif HAS_DOT:
            tg.render(net, path, format=fmt, precision=precision, view=view)
            stem = "out" if suffix in (".svg", ".png", ".dot") else "out" + suffix
            assert sorted(os.listdir(d)) == sorted([f"{stem}.dot", f"{stem}.{fmt}"])


@pytest.mark.parametrize("precision", [2**31, 10**20], ids=["2**31", "1e20"])
def test_render_refuses_a_precision_too_large_to_format(precision):
    net = small_net()
    refused(lambda: tg.to_dot(net, precision=precision), "precision", seconds=5)


MARKS = st.one_of(
    st.none(),
    st.sampled_from(["W1", "o", "nope", ("z1", "h1"), ("h1", "z1"), ("x", "E"), ("o",), ("W1", "z1", "h1")]),
    st.lists(st.sampled_from(["W1", "z1", "h1", "nope", ("z1", "h1"), ("W2", "z2"), ("x", "E"), 5]), max_size=3),
    st.sampled_from([5, 1.5, {"W1"}]),
)


@FUZZ
@given(highlight=MARKS, flow=MARKS, view=st.sampled_from(["graph", "network"]))
def test_render_takes_nodes_to_highlight_and_edges_of_the_graph_as_flow(highlight, flow, view):
    net = small_net()
    kind, source = outcome(lambda: tg.to_dot(net, highlight=highlight, flow=flow, view=view))
    if kind == "error":
        refused(lambda: tg.to_dot(net, highlight=highlight, flow=flow, view=view), "highlight", "flow")
    else:
        assert source.startswith("digraph")


@pytest.mark.parametrize(
    "kwargs", [dict(highlight=5), dict(flow=5), dict(flow=[5])], ids=["highlight=5", "flow=5", "flow=[5]"]
)
def test_render_refuses_numbers_as_highlight_or_flow(kwargs):
    refused(lambda: tg.to_dot(small_net(), **kwargs), *kwargs)


@FUZZ
@given(
    optimizer=st.one_of(st.none(), st.floats(0.01, 1), st.sampled_from([0, -1.0, NAN, True, "sgd", "object", "other"])),
    inputs=st.sampled_from([None, True, False]),
    precision=st.one_of(st.integers(1, 8), st.integers(1, 8), NOT_COUNTS, st.sampled_from([2**31, "4"])),
    max_elements=st.one_of(st.integers(1, 20), st.integers(1, 20), NOT_COUNTS),
)
def test_trace_takes_an_sgd_or_a_learning_rate_and_changes_parameters_only_by_its_step(
    optimizer, inputs, precision, max_elements
):
    net = small_net()
    given_opt = {"sgd": tg.SGD(net.parameters(), lr=0.2), "object": object(), "other": "fast"}.get(optimizer, optimizer)
    before = Unchanged(net)
    wrong = []
    if not (optimizer is None or optimizer == "sgd" or is_real(optimizer) and optimizer > 0):
        wrong += ["optimizer", "lr"]
    if not (is_count(precision) and precision <= 17):
        wrong.append("precision")
    if not is_count(max_elements):
        wrong.append("max_elements")
    call = lambda: tg.trace(
        net, ONE, optimizer=given_opt, inputs=inputs, precision=precision, max_elements=max_elements
    )
    if wrong:
        refused(call, *wrong)
        before.check()
        return
    tr = call()
    phases = [s.phase for s in tr]
    assert phases.count("update") == (0 if optimizer is None else 4)
    if optimizer is None:
        before.check()
    assert tr.loss == pytest.approx(float(small_net().graph.forward(ONE)))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(precision=-1),
        dict(precision=0),
        dict(precision=2.5),
        dict(precision="4"),
        dict(precision=True),
        dict(precision=2**31),
        dict(max_elements=-1),
        dict(max_elements="8"),
        dict(max_elements=NAN),
    ],
    ids=[
        "precision -1",
        "precision 0",
        "precision 2.5",
        "precision '4'",
        "precision True",
        "precision 2**31",
        "max_elements -1",
        "max_elements '8'",
        "max_elements nan",
    ],
)
def test_trace_checks_its_precision_and_max_elements_before_it_steps(kwargs):
    net = small_net()
    before = Unchanged(net)
    refused(lambda: tg.trace(net, ONE, optimizer=0.5, **kwargs), *kwargs)
    before.check()


# ========================================================================================= mlp and dense
SIZE_ITEMS = st.one_of(
    st.integers(-1, 4), st.integers(1, 4).map(np.int64), NON_INTEGRAL, st.sampled_from(["2", None, True, HUGE])
)
SIZES = st.one_of(
    st.lists(SIZE_ITEMS, max_size=4),
    st.lists(st.integers(1, 4), min_size=2, max_size=4),
    st.lists(st.integers(1, 4), min_size=2, max_size=4).map(tuple),
    st.lists(st.integers(1, 4), min_size=2, max_size=3).map(np.array),
    st.sampled_from(["ab", 5, None]),
)


@FUZZ
@given(
    sizes=SIZES,
    activation=st.sampled_from(
        [tg.Logistic, tg.Tanh, tg.ReLU, tg.Step, None, "tanh", 5, np.tanh, tg.Tanh(tg.Input("q"))]
        + [tg.Input, tg.SquaredLoss, tg.WeightedSum, tg.Parameter]
    ),
    loss=st.sampled_from([tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy, "mse", None, tg.Tanh, tg.Loss]),
    bias=st.sampled_from(["separate", "input", None, "both", 1, ["input"], np.array(["input", "x"])]),
    seed=st.one_of(st.none(), st.integers(0, 2**64), st.sampled_from([-1, 1.5, True, "0"])),
    dtype=st.sampled_from([np.float64, np.float32, "float32", np.float16, int, "foo", complex]),
)
def test_mlp_builds_the_layers_it_is_asked_for_or_names_the_problem(sizes, activation, loss, bias, seed, dtype):
    items = list(sizes) if isinstance(sizes, (list, tuple, np.ndarray, str)) else None
    wrong = []
    if not (items and len(items) >= 2 and all(is_count(s) and s < HUGE for s in items)):
        wrong.append("sizes")
    activations = (tg.Logistic, tg.Tanh, tg.ReLU, tg.Step)
    if not (activation is None or activation in activations):
        wrong.append("activation")
    if loss not in (tg.SquaredLoss, tg.LogLoss, tg.SoftmaxCrossEntropy):
        wrong.append("loss")
    if not (isinstance(bias, str) and bias in ("separate", "input") or bias is None):
        wrong.append("bias")
    if not (seed is None or is_whole(seed, 0)):
        wrong.append("seed")
    if dtype in (int, "foo", complex):
        wrong.append("dtype")
    call = lambda: tg.mlp(sizes, activation=activation, loss=loss, bias=bias, seed=seed, dtype=dtype)
    if wrong:
        refused(call, *wrong)
        return
    net = call()
    ins, outs = items[:-1], items[1:]
    shapes = [(a + (bias == "input"), b) for a, b in zip(ins, outs)]
    assert [layer.W.value.shape for layer in net.layers] == shapes
    assert all(p.value.dtype == np.dtype(dtype) for p in net.parameters())
    assert net.sizes == tuple(items) and net.graph.dtype == np.dtype(dtype)
    again = tg.mlp(sizes, activation=activation, loss=loss, bias=bias, seed=seed, dtype=dtype)
    if seed is not None:
        assert all(np.array_equal(p.value, q.value) for p, q in zip(net.parameters(), again.parameters()))
    X = np.ones((3, items[0]))
    assert net.predict(X).shape == (3, items[-1])


@pytest.mark.parametrize(
    "sizes",
    [[2, True, 1], [True, 1], 5, None, [2, HUGE, 1], [HUGE, 1]],
    ids=["[2, True, 1]", "[True, 1]", "5", "None", "[2, huge, 1]", "[huge, 1]"],
)
def test_mlp_refuses_bools_huge_numbers_and_non_lists_as_sizes(sizes):
    refused(lambda: tg.mlp(sizes), "sizes", seconds=10)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
        (dict(seed=True), "seed"),
        (dict(seed="0"), "seed"),
        (dict(dtype=int), "dtype"),
        (dict(dtype="foo"), "dtype"),
        (dict(bias=np.array(["input", "x"])), "bias"),
        (dict(output_activation=np.array([1, 2])), "output_activation"),
        (dict(activation=tg.Input), "activation"),
        (dict(activation=tg.SquaredLoss), "activation"),
        (dict(activation=tg.WeightedSum), "activation"),
        (dict(loss=tg.Tanh), "loss"),
        (dict(loss=tg.Loss), "loss"),
    ],
    ids=[
        "seed -1",
        "seed 1.5",
        "seed True",
        "seed '0'",
        "dtype int",
        "dtype foo",
        "bias array",
        "output_activation array",
        "activation Input",
        "activation SquaredLoss",
        "activation WeightedSum",
        "loss Tanh",
        "loss Loss",
    ],
)
def test_mlp_names_each_bad_option(kwargs, name):
    refused(lambda: tg.mlp([2, 3, 1], **kwargs), name)


@quietly
@pytest.mark.parametrize(
    "method,T,name",
    [
        pytest.param("fit", np.ones((4, 2)), "t", id="fit-two columns"),
        pytest.param("fit", ["a"] * 4, "t", id="fit-text targets"),
        pytest.param("fit", [[1.0], [1.0, 2.0], [0.0], [0.0]], "t", id="fit-ragged targets"),
        pytest.param("accuracy", XOR_T[:3], "T", id="accuracy-fewer rows"),
        pytest.param("accuracy", np.array(["a"] * 4), "T", id="accuracy-text targets"),
        pytest.param("accuracy", np.ones((4, 3)), "T", id="accuracy-three columns"),
        pytest.param("accuracy", 1.0, "T", id="accuracy-one number"),
    ],
)
def test_network_methods_check_their_targets(method, T, name):
    net = small_net()
    before = Unchanged(net)
    call = (lambda: net.fit(XOR_X, T, epochs=1, progress=False)) if method == "fit" else lambda: net.accuracy(XOR_X, T)
    refused(call, name)
    before.check()


@FUZZ
@given(
    n_out=st.one_of(st.integers(1, 4), NOT_COUNTS, st.just(HUGE)),
    shape=st.sampled_from([(2,), (3,), None, (), (2, 2), (10**30,)]),
    activation=st.sampled_from([tg.Tanh, None, "tanh", 5]),
    bias=st.sampled_from(["separate", "input", None, "x"]),
    name=st.sampled_from([None, "layer", 5, ""]),
)
def test_dense_makes_a_layer_on_a_vector_of_features_or_names_the_problem(n_out, shape, activation, bias, name):
    x = tg.Input("x", shape=shape)
    call = lambda: tg.dense(x, n_out, activation=activation, bias=bias, name=name, seed=0)
    wrong = ["activation"] * (activation in ("tanh", 5)) + ["bias"] * (bias == "x") + ["name"] * (name == 5)
    if shape is None or len(shape) != 1:
        wrong.append("'x'")
    if not is_count(n_out) or n_out >= HUGE:
        wrong.append("n_out")
    if shape == (10**30,):
        wrong += ["'x'", "n_out", "dense"]
    if wrong:
        refused(call, *wrong, seconds=10)
        return
    out = call()
    assert out.shape == (n_out,)
    value = tg.Graph(out).forward({"x": np.ones(shape)})
    assert value.shape == (n_out,)


def test_dense_refuses_a_name_that_is_not_text():
    refused(lambda: tg.dense(tg.Input("x", shape=(2,)), 2, activation=None, name=5), "name")


@pytest.mark.parametrize("case", ["n_out=True", "n_out huge", "features huge"])
def test_dense_refuses_bools_and_absurd_sizes(case):
    x = tg.Input("x", shape=(10**30,) if case == "features huge" else (2,))
    n_out = {"n_out=True": True, "n_out huge": HUGE}.get(case, 2)
    refused(lambda: tg.dense(x, n_out), "n_out", "'x'", seconds=10)


@FUZZ
@given(seed=st.one_of(st.none(), st.integers(0, 2**64), st.sampled_from([-1, 1.5, True, "0", NAN, np.int64(3)])))
def test_digits_cnn_builds_for_any_seed_or_names_it(seed):
    call = lambda: tg.digits_cnn(seed)
    if not (seed is None or is_whole(seed, 0)):
        refused(call, "seed")
        return
    graph, x, t, z = call()
    assert graph.run(z, {x: np.ones((2, 1, 8, 8))}).shape == (2, 10)
    if seed is not None:
        again = tg.digits_cnn(seed)[0]
        assert all(np.array_equal(p.value, q.value) for p, q in zip(graph.parameters(), again.parameters()))


# ============================================================================================= datasets
GENERATED = [
    tg.datasets.xor,
    tg.datasets.linear,
    tg.datasets.blobs,
    tg.datasets.moons,
    tg.datasets.circles,
    tg.datasets.spirals,
]


@FUZZ
@given(
    make=st.sampled_from(GENERATED),
    n=st.one_of(
        st.integers(1, 40), st.integers(-3, 0), NON_INTEGRAL, st.sampled_from([np.int64(5), np.bool_(True), True, HUGE])
    ),
    noise=st.one_of(st.floats(0, 2), st.floats(-2, -1e-9), st.just(0), NOT_REALS),
    seed=st.one_of(st.none(), st.integers(0, 2**32), st.sampled_from([-1, 1.5, "a", NAN, True])),
)
def test_data_sets_have_n_rows_of_finite_numbers_or_name_the_problem(make, n, noise, seed):
    call = lambda: make(n=n, noise=noise, seed=seed)
    wrong = ["n "] * bool(not is_count(n) or n >= HUGE) + ["noise"] * bool(not is_real(noise) or noise < 0)
    wrong += ["seed"] * (seed is not None and not is_whole(seed, 0))
    if wrong:
        refused(call, *wrong, seconds=10)
        return
    X, T = call()
    assert X.shape == (n, 2) and T.shape == (n,)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(T))
    if seed is not None:
        X2, T2 = call()
        assert np.array_equal(X, X2) and np.array_equal(T, T2)


@pytest.mark.parametrize("noise", [NAN, INF, "0.1", None, np.array([0.1, 0.2]), True], ids=repr)
def test_data_sets_refuse_a_noise_that_is_not_a_finite_number(noise):
    for make in GENERATED:
        refused(lambda: make(n=8, noise=noise, seed=0), "noise")


@pytest.mark.parametrize("seed", [-1, 1.5, "a", NAN, True], ids=repr)
def test_data_sets_refuse_a_bad_seed(seed):
    for make in GENERATED:
        refused(lambda: make(n=8, seed=seed), "seed")


@pytest.mark.parametrize("n", [True, HUGE], ids=["True", "huge"])
def test_data_sets_refuse_bools_and_absurd_sizes(n):
    for make in GENERATED:
        refused(lambda: make(n=n), "n ", seconds=10)


@pytest.mark.parametrize(
    "make,kwargs",
    [
        (tg.datasets.linear, dict(margin="a")),
        (tg.datasets.blobs, dict(centers=True)),
        (tg.datasets.blobs, dict(centers=HUGE)),
        (tg.datasets.circles, dict(factor=NAN)),
        (tg.datasets.circles, dict(factor="a")),
        (tg.datasets.spirals, dict(turns=NAN)),
        (tg.datasets.spirals, dict(turns=INF)),
    ],
    ids=["margin 'a'", "centers True", "centers huge", "factor nan", "factor 'a'", "turns nan", "turns inf"],
)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_data_sets_check_their_shape_options(make, kwargs):
    refused(lambda: make(n=8, **kwargs), *kwargs, seconds=10)


@FUZZ
@given(
    labels=st.one_of(st.lists(st.integers(0, 4), min_size=1, max_size=5), st.sampled_from([[0.5], [-1], [[0, 1]]])),
    n_classes=st.one_of(st.none(), st.integers(1, 6)),
)
def test_one_hot_makes_rows_with_a_single_one_or_names_the_problem(labels, n_classes):
    call = lambda: tg.datasets.one_hot(labels, n_classes)
    flat = np.asarray(labels)
    if flat.ndim != 1 or np.any(flat < 0) or np.any(flat != np.round(flat)):
        refused(call, "one_hot")
        return
    k = int(flat.max()) + 1 if n_classes is None else n_classes
    if flat.max() >= k:
        refused(call, "one_hot")
        return
    out = call()
    assert out.shape == (len(labels), k) and np.array_equal(out.argmax(axis=1), flat)
    assert np.array_equal(out.sum(axis=1), np.ones(len(labels)))


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: tg.datasets.one_hot([]), "one_hot"),
        (lambda: tg.datasets.one_hot(["a"]), "one_hot"),
        (lambda: tg.datasets.one_hot([0], n_classes=-1), "n_classes"),
        (lambda: tg.datasets.one_hot([0], n_classes=1.5), "n_classes"),
        (lambda: tg.datasets.one_hot([0], n_classes=True), "n_classes"),
        (lambda: tg.datasets.one_hot([HUGE]), "one_hot"),
        (lambda: tg.datasets.train_test_split(np.ones((4, 2)), np.ones(4), test="a"), "test"),
        (lambda: tg.datasets.train_test_split(np.ones((4, 2)), np.ones(4), seed=-1), "seed"),
    ],
    ids=["[]", "['a']", "n_classes -1", "n_classes 1.5", "n_classes True", "huge label", "test 'a'", "seed -1"],
)
def test_one_hot_and_train_test_split_name_bad_arguments(call, name):
    refused(call, name, seconds=10)


# ================================================================================================== CLI
def run_cli(argv, seconds=60):
    """(exit status, stdout, stderr) of ``tinygraph argv`` run in this process; an exception escaping main
    (a traceback for the user) fails the test, argparse's usage error (SystemExit) is an exit status."""
    out, err = io.StringIO(), io.StringIO()
    try:
        with within(seconds), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = cli.main(argv)
    except SystemExit as exc:
        status = exc.code
    except Exception as exc:
        raise AssertionError(f"tinygraph {' '.join(argv)}: a traceback ({type(exc).__name__}: {exc})") from None
    return status, out.getvalue(), err.getvalue()


def saved_models(d):
    tg.save(small_net(), os.path.join(d, "net.npz"))
    tg.save(tg.mlp([2, 3, 3], loss=tg.SoftmaxCrossEntropy, seed=0), os.path.join(d, "sce.npz"))
    with open(os.path.join(d, "junk.npz"), "wb") as f:
        f.write(b"PK\x03\x04 not really a zip")


BAD_COMMANDS = st.sampled_from(
    [
        (["demo", "--epochs", "0"], "epochs"),
        (["demo", "--epochs", "-5"], "epochs"),
        (["demo", "--epochs", "abc"], "--epochs"),
        (["demo", "--epochs", "1.5"], "--epochs"),
        (["demo", "--lr", "nan", "--epochs", "1"], "lr"),
        (["demo", "--lr", "inf", "--epochs", "1"], "lr"),
        (["demo", "--lr", "-1", "--epochs", "1"], "lr"),
        (["demo", "--lr", "0", "--epochs", "1"], "lr"),
        (["demo", "--lr", "x"], "--lr"),
        (["demo", "--hidden", "-1", "--epochs", "1"], ("--hidden", "sizes")),
        (["demo", "--hidden", "0", "--epochs", "1"], ("--hidden", "sizes")),
        (["demo", "--seed", "-1", "--epochs", "1"], "seed"),
        (["demo", "--epochs", "1", "--out", "{d}/net.npz"], "--out"),
        (["demo", "--epochs", "1", "--out", "{d}/net.npz/sub"], "--out"),
        (["render", "--sizes", f"2,{HUGE},1"], "sizes"),
        (["render", "--epochs", "1", "--out", "{d}/net.npz"], "--out"),
        (["trace", "--precision", "-1"], "precision"),
        (["trace", "--precision", "99999999999"], "precision"),
        (["trace", "--html", "{d}"], "--html"),
        (["trace", "--model", "{d}/sce.npz", "--x", "1,2", "--t", "1,2"], "--t"),
        (["demo", "--hidden", "3", "--dataset", "moons"], "--hidden"),
        (["demo", "--dataset", "nope"], "--dataset"),
        (["demo", "--seed", "x"], "--seed"),
        (["render", "--sizes", "2,0,1"], "sizes"),
        (["render", "--sizes", "2,-1,1"], "sizes"),
        (["render", "--sizes", ""], "--sizes"),
        (["render", "--sizes", "2"], "sizes"),
        (["render", "--sizes", "1e3,1"], "--sizes"),
        (["render", "--sizes", "a,b"], "--sizes"),
        (["render", "--sizes", "2,1", "--epochs", "0"], "epochs"),
        (["render", "--view", "side"], "--view"),
        (["render", "--format", "jpg"], "--format"),
        (["render", "--bias", "none"], "--bias"),
        (["trace", "--precision", "0"], "precision"),
        (["trace", "--precision", "x"], "--precision"),
        (["trace", "--lr", "nan"], "lr"),
        (["trace", "--lr", "-1"], "lr"),
        (["trace", "--x", "1,2"], "--x"),
        (["trace", "--model", "{d}/net.npz"], "--x"),
        (["trace", "--model", "{d}/missing.npz", "--x", "1,2", "--t", "1"], "missing.npz"),
        (["trace", "--model", "{d}/junk.npz", "--x", "1,2", "--t", "1"], "junk.npz"),
        (["trace", "--model", "{d}", "--x", "1,2", "--t", "1"], "load"),
        (["trace", "--model", "{d}/net.npz", "--x", "1,2,3", "--t", "1"], "Input 'x'"),
        (["trace", "--model", "{d}/net.npz", "--x", "a,b", "--t", "1"], "--x"),
        (["trace", "--model", "{d}/net.npz", "--x", "", "--t", "1"], "--x"),
        (["trace", "--model", "{d}/net.npz", "--x", "1,2", "--t", "a"], "--t"),
        (["trace", "--model", "{d}/sce.npz", "--x", "1,2", "--t", "7"], "class"),
        (["trace", "--model", "{d}/sce.npz", "--x", "1,2", "--t", "1.5"], "class"),
        (["nonsense"], "COMMAND"),
        (["demo", "--nonsense"], "--nonsense"),
    ]
)


@FUZZ
@given(case=BAD_COMMANDS)
def test_the_command_line_refuses_bad_arguments_with_a_message_not_a_traceback(case):
    argv, named = case
    with folder() as d:
        saved_models(d)
        argv = [a.replace("{d}", d) for a in argv]
        if "--out" not in argv and "--html" not in argv:
            argv += ["--out", os.path.join(d, "out")] if argv[0] in ("demo", "render") else ["--html", d + "/t.html"]
        if argv[0] == "demo" and "--epochs" not in argv:
            argv += ["--epochs", "1"]
        status, _, err = run_cli(argv)
    assert status not in (0, None), f"tinygraph {' '.join(argv)} succeeded"
    named = (named,) if isinstance(named, str) else named
    assert "tinygraph" in err and any(n in err for n in named), err


@quietly
@pytest.mark.parametrize("where", ["missing/t.html", "net.npz/t.html"], ids=["missing folder", "under a file"])
def test_the_command_line_makes_a_missing_folder_and_refuses_a_file_in_the_way_of_html(where):
    with folder() as d:
        saved_models(d)
        status, _, err = run_cli(["trace", "--html", os.path.join(d, where)])
        if where.startswith("missing"):
            assert status == 0 and os.path.isfile(os.path.join(d, where)), err
        else:
            assert status == 2 and "--html" in err, err


def test_python_m_tinygraph_refuses_a_bad_argument_without_a_traceback():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "tinygraph", "render", "--sizes", "2,0,1", "--out", tempfile.gettempdir()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr and "sizes" in done.stderr


@pytest.mark.parametrize(
    "argv,named",
    [
        (["demo", "--seed", "-1", "--epochs", "1", "--out", "{d}/out"], "seed"),
        (["demo", "--epochs", "1", "--out", "{d}/net.npz"], "--out"),
        (["demo", "--hidden", "0", "--epochs", "1", "--out", "{d}/out"], "--hidden"),
        (["render", "--sizes", f"2,{HUGE},1", "--out", "{d}/out"], "sizes"),
        (["render", "--epochs", "1", "--out", "{d}/net.npz"], "--out"),
        (["trace", "--precision", "-1", "--html", "{d}/t.html"], "precision"),
        (["trace", "--precision", "99999999999", "--html", "{d}/t.html"], "precision"),
        (["trace", "--html", "{d}"], "--html"),
        (["trace", "--model", "{d}/sce.npz", "--x", "1,2", "--t", "1,2", "--html", "{d}/t.html"], "--t"),
    ],
    ids=[
        "seed -1",
        "out is a file",
        "hidden 0",
        "huge sizes",
        "render out is a file",
        "precision -1",
        "precision huge",
        "html is a folder",
        "two targets for softmax",
    ],
)
def test_the_command_line_refuses_these_with_a_message(argv, named):
    with folder() as d:
        saved_models(d)
        argv = [a.replace("{d}", d) for a in argv]
        status, _, err = run_cli(argv)
    assert status not in (0, None) and named in err, f"status {status}: {err}"


# ====================================================================================== files written
def _trace():
    x, w = tg.Input("x", shape=(2,)), tg.Parameter([0.5, -0.5], name="w")
    return tg.trace(tg.Graph(tg.Sum(tg.WeightedSum(x, w, name="z"), name="E")), {"x": [1.0, 2.0]}, optimizer=0.1)


WRITERS = {
    "save": lambda path: tg.save(small_net(), path),
    "render": lambda path: tg.render(small_net(), path),
    "Trace.to_html": lambda path: _trace().to_html(path),
    "Trace.render_frames": lambda path: _trace().render_frames(path, format="svg"),
    "plot.loss": lambda path: tg.plot.loss([1.0, 0.5], path=path),
}
PATHS = ["missing folder", "under a file", "a folder", "an int"]


def writer_cases():
    for writer in WRITERS:
        for where in PATHS:
            yield pytest.param(writer, where, id=f"{writer}-{where}")


@pytest.mark.graphviz
@quietly
@pytest.mark.parametrize("writer,where", list(writer_cases()))
def test_entry_points_that_write_files_refuse_a_path_they_cannot_use_and_write_nothing(writer, where):
    pytest.importorskip("matplotlib")
    with folder() as d:
        with open(os.path.join(d, "file"), "w") as f:
            f.write("kept")
        os.mkdir(os.path.join(d, "out.svg"))
        path = {
            "missing folder": os.path.join(d, "missing", "out.svg"),
            "under a file": os.path.join(d, "file", "out.svg"),
            "a folder": os.path.join(d, "out.svg"),
            "an int": 10**6,  # (no such file descriptor: open(5, "w") would write into descriptor 5 and close it)
        }[where]
        before = Unchanged(None, None, d)
        kind, _ = outcome(lambda: WRITERS[writer](path), seconds=30)
        if kind == "ok":  # (making a missing folder and writing into it is fine; render_frames writes into one)
            made = os.path.join(d, "missing") if where == "missing folder" else path
            assert where != "under a file" and os.path.isdir(made), where
            assert where == "missing folder" or writer == "Trace.render_frames", where
            return
        refused(lambda: WRITERS[writer](path), "path", str(path), "folder", seconds=30)
        before.check()
