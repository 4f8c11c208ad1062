"""SGD: the update rule, its checks, and how it follows replaced values."""

import numpy as np
import pytest

import tinygraph as tg


def test_sgd_refuses_to_step_without_gradients():
    net = tg.mlp([2, 2, 1], seed=0)
    before = [p.value.copy() for p in net.parameters()]
    with pytest.raises(tg.GraphError, match="Parameter 'W1' has no gradient"):
        tg.SGD(net.parameters(), 0.1).step()
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters(), before))
    with pytest.raises(tg.GraphError, match="SGD: lr must be a finite number > 0, got -1"):
        tg.SGD(net.parameters(), lr=-1)
    with pytest.raises(TypeError, match="expected Parameter nodes"):
        tg.SGD([net.input], lr=0.1)


def test_sgd_momentum_and_lr_can_be_changed_between_steps_and_are_checked():
    w = tg.Parameter(np.array([1.0]), name="w")
    opt = tg.SGD([w], lr=0.1)
    w.grad = np.array([1.0])
    opt.step()  # w = 0.9
    opt.momentum = 0.5  # v starts at 0
    opt.step()  # v = 1, w = 0.8
    opt.step()  # v = 1.5, w = 0.65
    opt.lr = 0.2
    opt.step()  # v = 1.75, w = 0.3
    assert np.allclose(w.value, [0.3])
    for what, bad in (("momentum", 1.0), ("momentum", "0.5"), ("lr", 0.0), ("lr", np.nan)):
        with pytest.raises((tg.GraphError, TypeError), match=f"SGD: {what} must be"):
            setattr(opt, what, bad)
    assert opt.momentum == 0.5 and opt.lr == 0.2


def test_sgd_keeps_its_parameters_and_follows_values_that_are_replaced():
    w = tg.Parameter(np.array([1.0, 2.0], dtype=np.float32), name="w")
    v = tg.Parameter(np.array([3.0]), name="v")
    opt = tg.SGD([w, v], lr=0.5)
    assert opt.parameters == (w, v)
    with pytest.raises(AttributeError):
        opt.parameters.append(tg.Parameter([0.0]))  # a new set needs a new SGD
    w.grad, v.grad = np.array([1.0, 1.0], dtype=np.float32), np.array([2.0])
    opt.step()
    assert w.value.dtype == np.float32 and np.array_equal(w.value, np.float32([0.5, 1.5]))
    old = w.value
    w.value = np.array([10.0, 20.0, 30.0])  # replaced: another shape and dtype
    w.grad = np.array([2.0, 2.0, 2.0])
    opt.step()
    assert w.value.dtype == np.float64 and np.array_equal(w.value, [9.0, 19.0, 29.0])
    assert np.array_equal(old, np.float32([0.5, 1.5]))  # the old array is left alone
    assert np.array_equal(v.value, [1.0])  # 3 − 0.5·2 − 0.5·2
    w.grad = np.array([1.0])  # wrong shape: nothing changes
    with pytest.raises(tg.GraphError, match=r"Parameter 'w': gradient shape \(1,\) does not match value shape \(3,\)"):
        opt.step()
    assert np.array_equal(w.value, [9.0, 19.0, 29.0]) and np.array_equal(v.value, [1.0])


def test_sgd_momentum_starts_again_for_a_value_of_a_new_shape():
    w = tg.Parameter(np.array([1.0]), name="w")
    opt = tg.SGD([w], lr=0.1, momentum=0.5)
    w.grad = np.array([1.0])
    opt.step()  # v = 1, w = 0.9
    w.value, w.grad = np.array([1.0, 1.0]), np.array([1.0, 1.0])
    opt.step()  # v = 0·0.5 + 1 = 1, w = 0.9
    assert np.allclose(w.value, [0.9, 0.9]) and np.allclose(opt.velocity[0], [1.0, 1.0])


def test_sgd_updates_large_parameters_of_any_memory_order():
    rng = np.random.default_rng(0)
    w = tg.Parameter(np.zeros((300, 200)), name="w")  # over SGD's block size
    opt = tg.SGD([w], lr=0.5)
    w.value = np.asfortranarray(rng.normal(size=(300, 200)))  # set by hand, column-major
    start = w.value.copy()
    w.grad = rng.normal(size=(300, 200))
    opt.step()
    assert np.array_equal(w.value, start - np.float64(0.5) * w.grad)
    assert tg.Parameter(np.ones((3, 4)).T).value.flags.c_contiguous  # kept in C order


def test_sgd_refuses_a_parameter_twice_and_sizes_no_float_holds():
    w = tg.Parameter(np.array([1.0]), name="w")
    with pytest.raises(tg.GraphError, match="SGD: Parameter 'w' is listed twice"):
        tg.SGD([w, w], lr=0.1)
    for what in ("lr", "momentum"):
        with pytest.raises(tg.GraphError, match=f"SGD: {what} must be a finite number"):
            tg.SGD([w], **{what: 10**400})


@pytest.mark.parametrize("grad", [np.array(["a"]), np.array([1j]), 1.0, [1.0], np.array([1], dtype=int)])
def test_a_step_with_a_gradient_that_is_not_floats_changes_nothing(grad):
    w, v = tg.Parameter(np.array([1.0]), name="w"), tg.Parameter(np.array([2.0]), name="v")
    opt = tg.SGD([w, v], lr=0.1, momentum=0.5)
    w.grad, v.grad = np.array([1.0]), np.array([1.0])
    opt.step()  # a first step: the next one takes the quick way, which must check as well
    v.grad = grad
    with pytest.raises(TypeError, match="Parameter 'v': gradient must be an array of floats"):
        opt.step()
    assert w.value[0] == 0.9 and v.value[0] == 1.9 and opt.velocity[0][0] == 1.0


def sgd_by_hand(values, grads, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
    """PyTorch's SGD as its documentation writes it, one step at a time."""
    w, v, out = [x.copy() for x in values], [np.zeros_like(x) for x in values], []
    for gs in grads:
        for i, g in enumerate(gs):
            g = g + weight_decay * w[i]
            if momentum:
                v[i] = momentum * v[i] + g
                g = g + momentum * v[i] if nesterov else v[i]
            w[i] = w[i] - lr * g
        out.append([x.copy() for x in w])
    return out, v


@pytest.mark.parametrize(
    "settings",
    [
        dict(lr=0.1),
        dict(lr=0.1, weight_decay=0.05),
        dict(lr=0.05, momentum=0.9),
        dict(lr=0.05, momentum=0.5, weight_decay=0.1),
        dict(lr=0.05, momentum=0.9, nesterov=True),
        dict(lr=0.02, momentum=0.8, nesterov=True, weight_decay=0.01),
    ],
)
@pytest.mark.parametrize("shape", [(3, 2), (300, 200)])  # the second over SGD's block size
def test_sgd_takes_the_steps_of_its_rule(settings, shape):
    rng = np.random.default_rng(0)
    values = [rng.normal(size=shape), rng.normal(size=shape[-1:])]
    grads = [[rng.normal(size=v.shape) for v in values] for _ in range(4)]
    params = [tg.Parameter(v, name=f"p{i}") for i, v in enumerate(values)]
    opt = tg.SGD(params, **settings)
    want, velocity = sgd_by_hand(values, grads, **settings)
    for gs, after in zip(grads, want):
        for p, g in zip(params, gs):
            p.grad = g.copy()  # (a step that wrote into it would then differ from grads)
        opt.step()
        for p, w in zip(params, after):
            np.testing.assert_allclose(p.value, w, rtol=1e-12, atol=1e-15)
    if settings.get("momentum"):
        for a, b in zip(opt.velocity, velocity):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    assert all(np.array_equal(g, gs) for g, gs in zip([p.grad for p in params], grads[-1]))  # gradients untouched


def test_nesterov_needs_momentum_and_the_settings_are_checked_together():
    w = tg.Parameter([1.0], name="w")
    with pytest.raises(tg.GraphError, match=r"SGD: nesterov needs momentum > 0, got momentum=0"):
        tg.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="SGD: nesterov must be True or False, got int 1"):
        tg.SGD([w], lr=0.1, momentum=0.9, nesterov=1)
    opt = tg.SGD([w], lr=0.1, momentum=0.9, nesterov=True)
    with pytest.raises(tg.GraphError, match="SGD: nesterov needs momentum > 0"):
        opt.momentum = 0  # would leave nesterov without momentum
    assert opt.momentum == 0.9 and opt.velocity is not None
    for bad, message in ((-0.1, ">= 0, got -0.1"), (np.inf, ">= 0, got inf"), ("0.1", "a number, got str '0.1'")):
        with pytest.raises((tg.GraphError, TypeError), match=f"SGD: weight_decay must be .*{message}"):
            tg.SGD([w], weight_decay=bad)


def test_sgd_states_its_rule_in_words():
    w = [tg.Parameter([1.0], name="w")]
    assert tg.SGD(w).rule("W1") == "W1 ← W1 − η ∂E/∂W1"
    assert tg.SGD(w, weight_decay=0.1).rule() == "w ← w − η (∂E/∂w + λ w)"
    assert tg.SGD(w, momentum=0.9).rule() == "w ← w − η v"
    assert tg.SGD(w, momentum=0.9, nesterov=True).rule() == "w ← w − η (g + μ v)"
    shown = repr(tg.SGD(w, lr=0.1, momentum=0.9, nesterov=True))
    assert shown == "SGD(1 parameters, lr=0.1, momentum=0.9, nesterov=True)"


@pytest.mark.parametrize("run", ["fit", "trace"])
def test_an_optimizer_of_another_graphs_parameters_is_refused_naming_one(run):
    X, T = tg.datasets.xor()
    net, other = tg.mlp([2, 3, 1], seed=0), tg.mlp([2, 3, 1], seed=1)
    sgd = tg.SGD(other.parameters(), lr=0.1, momentum=0.9)
    before = [p.value.copy() for p in net.parameters() + other.parameters()]
    with pytest.raises(tg.GraphError, match=f"^{run}: the optimizer updates Parameter 'W1', which is not in this"):
        if run == "fit":
            tg.fit(net, {"x": X, "t": T[:, None]}, sgd, epochs=1)
        else:
            tg.trace(net, {"x": X[0], "t": T[:1]}, optimizer=sgd)
    assert all(np.array_equal(p.value, v) for p, v in zip(net.parameters() + other.parameters(), before))
    assert not any(v.any() for v in sgd.velocity)
