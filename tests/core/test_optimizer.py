"""What every optimizer shares: checks before any change, its state as a dict, put back only once checked."""

import numpy as np
import pytest

import tinygraph as tg

OPTIMIZERS = {
    "SGD": lambda ps: tg.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: tg.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "SGD nesterov": lambda ps: tg.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "Adam": lambda ps: tg.Adam(ps, lr=0.01, weight_decay=0.01),
    "RMSProp": lambda ps: tg.RMSProp(ps, lr=0.01),
    "RMSProp momentum": lambda ps: tg.RMSProp(ps, lr=0.01, momentum=0.5),
}


def three(seed=0):
    rng = np.random.default_rng(seed)
    params = [tg.Parameter(rng.normal(size=s), name=n) for n, s in (("W", (3, 2)), ("b", (2,)), ("c", ()))]
    for p in params:
        p.grad = rng.normal(size=p.shape)
    return params


def snapshot(opt):
    """Everything a step could change: the values and the whole state, copied."""
    return [p.value.copy() for p in opt.parameters], opt.state_dict()


def same(a, b):
    (values_a, state_a), (values_b, state_b) = a, b
    assert all(np.array_equal(x, y) for x, y in zip(values_a, values_b))
    assert state_a.keys() == state_b.keys()
    for k in state_a:
        assert np.array_equal(state_a[k], state_b[k]), k


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize(
    "bad, error, message",
    [
        (None, tg.GraphError, "Parameter 'c' has no gradient"),
        (np.ones(3), tg.GraphError, r"Parameter 'c': gradient shape \(3,\) does not match value shape \(\)"),
        (np.array(1, dtype=int), TypeError, "Parameter 'c': gradient must be an array of floats, got dtype int"),
        (1.0, TypeError, "Parameter 'c': gradient must be an array of floats, got float"),
    ],
)
def test_a_bad_gradient_on_the_last_parameter_changes_no_parameter_and_no_state(name, bad, error, message):
    params = three()
    opt = OPTIMIZERS[name](params)
    opt.step()  # a first step fills the state (and the next one takes the quick way, which must check too)
    before = snapshot(opt)
    params[-1].grad = bad
    with pytest.raises(error, match=message):
        opt.step()
    same(snapshot(opt), before)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_then_load_state_dict_gives_the_same_steps(name):
    params = three()
    opt = OPTIMIZERS[name](params)
    opt.step()
    saved, values = opt.state_dict(), [p.value.copy() for p in params]
    opt.step()
    opt.step()
    after_two = [p.value.copy() for p in params]
    for p, v in zip(params, values):
        p.value[...] = v
    other = OPTIMIZERS[name](params)  # a new optimizer, given the saved state
    other.load_state_dict(saved)
    other.step()
    other.step()
    assert all(np.array_equal(p.value, v) for p, v in zip(params, after_two))  # bit for bit


def test_state_dict_is_numbers_and_arrays_and_copies():
    params = three()
    opt = tg.Adam(params, lr=0.01)
    opt.step()
    state = opt.state_dict()
    assert state["optimizer"] == "Adam" and state["lr"] == 0.01 and state["betas"] == (0.9, 0.999)
    assert [state[f"t/{i}"] for i in range(3)] == [1, 1, 1]
    assert sorted(k for k in state if "/" in k) == sorted(f"{s}/{i}" for s in ("m", "v", "t") for i in range(3))
    state["m/0"][...] = 99.0
    assert not np.any(opt.m[0] == 99.0)  # a copy
    assert "velocity/0" not in tg.SGD(params).state_dict()  # no momentum: no velocity


def good_state():
    params = three()
    opt = tg.Adam(params, lr=0.01)
    opt.step()
    return opt, opt.state_dict()


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda s: [1, 2], TypeError, r"Adam.load_state_dict: state must be a dict from state_dict\(\), got list"),
        (lambda s: {**s, "optimizer": "SGD"}, tg.GraphError, "the state is of optimizer 'SGD', not Adam"),
        (lambda s: {k: v for k, v in s.items() if k != "m/2"}, tg.GraphError, "'m/2' is missing"),
        (lambda s: {k: v for k, v in s.items() if k != "eps"}, tg.GraphError, "'eps' is missing"),
        (lambda s: {**s, "m/3": np.ones(1)}, tg.GraphError, "'m/3' is unknown"),
        (lambda s: {**s, "momentum": 0.9}, tg.GraphError, "'momentum' is unknown"),
        (lambda s: {**s, "lr": -1.0}, tg.GraphError, "Adam: lr must be a finite number > 0, got -1.0"),
        (lambda s: {**s, "betas": (0.9, 1.5)}, tg.GraphError, r"Adam: betas\[1\], β2, must be"),
        (
            lambda s: {**s, "v/1": np.ones(3)},
            tg.GraphError,
            r"'v/1' must be an array of floats of shape \(2,\) \(Parameter 'b'\), got shape \(3,\)",
        ),
        (lambda s: {**s, "v/1": [1.0, 2.0]}, tg.GraphError, "'v/1' must be an array of floats .*got list"),
        (lambda s: {**s, "m/0": np.ones((3, 2), int)}, tg.GraphError, "'m/0' must be an array of floats"),
        (lambda s: {**s, "t/1": -1}, tg.GraphError, "'t/1' must be a whole number >= 0, got -1"),
        (lambda s: {**s, "t/1": 1.5}, TypeError, "'t/1' must be a whole number, got float 1.5"),
    ],
)
def test_load_state_dict_checks_everything_before_it_changes_anything(change, error, message):
    opt, state = good_state()
    opt.step()
    before = snapshot(opt)
    with pytest.raises(error, match=message):
        opt.load_state_dict(change(state))
    same(snapshot(opt), before)


def test_load_state_dict_sets_the_settings_and_makes_or_drops_the_state_they_use():
    params = three()
    sgd = tg.SGD(params, lr=0.5)
    assert sgd.velocity is None
    momentum = tg.SGD(params, lr=0.1, momentum=0.9)
    momentum.step()
    sgd.load_state_dict(momentum.state_dict())
    assert sgd.lr == 0.1 and sgd.momentum == 0.9
    assert all(np.array_equal(a, b) for a, b in zip(sgd.velocity, momentum.velocity))
    assert all(a is not b for a, b in zip(sgd.velocity, momentum.velocity))
    sgd.load_state_dict(tg.SGD(params, lr=0.2).state_dict())
    assert sgd.velocity is None and sgd.lr == 0.2


def test_the_state_of_a_float32_parameter_is_loaded_in_float32():
    w = tg.Parameter(np.ones(2, np.float32), name="w")
    opt = tg.RMSProp([w])
    state = opt.state_dict()
    state["mean_square/0"] = np.array([0.25, 0.5])  # float64
    opt.load_state_dict(state)
    assert opt.mean_square[0].dtype == np.float32 and opt.mean_square[0].tolist() == [0.25, 0.5]


def test_parameters_are_checked_as_for_every_optimizer():
    w = tg.Parameter([1.0], name="w")
    with pytest.raises(tg.GraphError, match="Adam: Parameter 'w' is listed twice"):
        tg.Adam([w, w])
    with pytest.raises(TypeError, match=r"RMSProp: parameters must be a list of Parameter nodes, got a method"):
        tg.RMSProp(tg.mlp([2, 1]).graph.parameters)
    with pytest.raises(TypeError, match="Adam: parameters must be a list of Parameter nodes, got int"):
        tg.Adam(3)
    net = tg.mlp([2, 3, 1])
    assert tg.Adam(net).parameters == tuple(net.parameters())  # a network's parameters


def test_explain_is_only_for_its_own_parameters():
    params = three()
    opt = tg.Adam(params)
    opt.step()
    with pytest.raises(tg.GraphError, match=r"Adam: Parameter\('x', shape=\(1,\)\) is not one of the parameters"):
        opt.explain(tg.Parameter([1.0], name="x"), np.ones(1), opt.state_dict(), str)
