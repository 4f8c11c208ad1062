"""Adam and RMSProp: each step against the update rule written out in numpy, their settings and checks."""

import numpy as np
import pytest

import tinygraph as tg

TOL = {np.float64: {"rtol": 1e-12, "atol": 1e-15}, np.float32: {"rtol": 2e-5, "atol": 1e-7}}
SHAPES = [(3, 2), (2,), ()]  # the last parameter a scalar


def problem(dtype=np.float64, steps=4, seed=0):
    """Parameters of a few shapes and the gradients of ``steps`` steps, seeded."""
    rng = np.random.default_rng(seed)
    values = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(steps)]
    return values, grads


def run(make, values, grads):
    """The values after each step of the tinygraph optimizer ``make(params)``."""
    params = [tg.Parameter(v, name=f"p{i}") for i, v in enumerate(values)]
    opt = make(params)
    out = []
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = g.copy()
        opt.step()
        out.append([p.value.copy() for p in params])
    return opt, params, out


def adam_by_hand(values, grads, lr, b1, b2, eps, wd):
    """Adam as its rule reads, one step at a time, in float64."""
    w = [np.array(v, dtype=np.float64) for v in values]
    m, v, out = [np.zeros_like(x) for x in w], [np.zeros_like(x) for x in w], []
    for t, gs in enumerate(grads, start=1):
        for i, g in enumerate(gs):
            g = g + wd * w[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g**2
            m_hat, v_hat = m[i] / (1 - b1**t), v[i] / (1 - b2**t)
            w[i] = w[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append([x.copy() for x in w])
    return out, m, v


def rmsprop_by_hand(values, grads, lr, alpha, eps, mu, wd):
    w = [np.array(v, dtype=np.float64) for v in values]
    s, b, out = [np.zeros_like(x) for x in w], [np.zeros_like(x) for x in w], []
    for gs in grads:
        for i, g in enumerate(gs):
            g = g + wd * w[i]
            s[i] = alpha * s[i] + (1 - alpha) * g**2
            if mu:
                b[i] = mu * b[i] + g / (np.sqrt(s[i]) + eps)
                w[i] = w[i] - lr * b[i]
            else:
                w[i] = w[i] - lr * g / (np.sqrt(s[i]) + eps)
        out.append([x.copy() for x in w])
    return out, s, b


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "settings",
    [
        dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0),
        dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1),
        dict(lr=0.1, betas=(0.0, 0.5), eps=1e-6, weight_decay=0.0),
    ],
)
def test_adam_takes_the_steps_of_its_rule(dtype, settings):
    values, grads = problem(dtype)
    opt, params, got = run(lambda ps: tg.Adam(ps, **settings), values, grads)
    b1, b2 = settings["betas"]
    want, m, v = adam_by_hand(values, grads, settings["lr"], b1, b2, settings["eps"], settings["weight_decay"])
    for after_tg, after_hand in zip(got, want):  # after every step, not only the last
        for a, b in zip(after_tg, after_hand):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **TOL[dtype])
    for i in range(len(params)):
        np.testing.assert_allclose(opt.m[i], m[i], **TOL[dtype])
        np.testing.assert_allclose(opt.v[i], v[i], **TOL[dtype])
        assert opt.m[i].dtype == opt.v[i].dtype == dtype
    assert opt.t == [len(grads)] * len(params)


def test_adams_first_step_moves_every_number_by_the_learning_rate():
    w = tg.Parameter([1.0, -2.0, 3.0], name="w")
    opt = tg.Adam([w], lr=0.1, eps=1e-12)
    w.grad = np.array([1e-4, -50.0, 3.0])
    opt.step()
    np.testing.assert_allclose(w.value, [0.9, -1.9, 2.9], atol=1e-8)  # (ε/|g| aside)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "settings",
    [
        dict(lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0),
        dict(lr=0.02, alpha=0.9, eps=1e-4, momentum=0.8, weight_decay=0.0),
        dict(lr=0.03, alpha=0.5, eps=1e-6, momentum=0.5, weight_decay=0.2),
        dict(lr=0.03, alpha=0.0, eps=1e-6, momentum=0.0, weight_decay=0.05),
    ],
)
def test_rmsprop_takes_the_steps_of_its_rule(dtype, settings):
    values, grads = problem(dtype)
    opt, params, got = run(lambda ps: tg.RMSProp(ps, **settings), values, grads)
    s = settings
    want, sq, buf = rmsprop_by_hand(values, grads, s["lr"], s["alpha"], s["eps"], s["momentum"], s["weight_decay"])
    for after_tg, after_hand in zip(got, want):
        for a, b in zip(after_tg, after_hand):
            assert a.dtype == dtype
            np.testing.assert_allclose(a, b, **TOL[dtype])
    for i in range(len(params)):
        np.testing.assert_allclose(opt.mean_square[i], sq[i], **TOL[dtype])
    if s["momentum"]:
        for i in range(len(params)):
            np.testing.assert_allclose(opt.buffer[i], buf[i], **TOL[dtype])
    else:
        assert opt.buffer is None


def test_rmsprops_momentum_buffer_comes_and_goes_with_momentum():
    w = tg.Parameter([1.0], name="w")
    opt = tg.RMSProp([w], lr=0.1)
    assert opt.buffer is None
    opt.momentum = 0.5
    assert [b.tolist() for b in opt.buffer] == [[0.0]]
    opt.momentum = 0
    assert opt.buffer is None


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: tg.Adam(ps, lr=0), r"Adam: lr must be a finite number > 0, got 0"),
        (lambda ps: tg.Adam(ps, lr=np.inf), r"Adam: lr must be a finite number > 0, got inf"),
        (
            lambda ps: tg.Adam(ps, betas=(0.9, 1.0)),
            r"Adam: betas\[1\], β2, must be a finite number >= 0 and < 1, got 1",
        ),
        (lambda ps: tg.Adam(ps, betas=(-0.1, 0.9)), r"Adam: betas\[0\], β1, must be .*, got -0.1"),
        (lambda ps: tg.Adam(ps, betas=0.9), r"Adam: betas must be a pair of numbers \(β1, β2\), got float 0.9"),
        (lambda ps: tg.Adam(ps, betas=(0.9,)), r"Adam: betas must be a pair .*got tuple \(0.9,\)"),
        (lambda ps: tg.Adam(ps, eps=0.0), r"Adam: eps must be a finite number > 0, got 0.0"),
        (lambda ps: tg.Adam(ps, weight_decay=-1e-3), r"Adam: weight_decay must be a finite number >= 0, got -0.001"),
        (lambda ps: tg.Adam(ps, eps="small"), r"Adam: eps must be a number, got str 'small'"),
        (lambda ps: tg.RMSProp(ps, alpha=1.0), r"RMSProp: alpha must be a finite number >= 0 and < 1, got 1.0"),
        (lambda ps: tg.RMSProp(ps, momentum=-0.5), r"RMSProp: momentum must be .*, got -0.5"),
        (lambda ps: tg.RMSProp(ps, eps=-1), r"RMSProp: eps must be a finite number > 0, got -1"),
        (lambda ps: tg.RMSProp(ps, lr=True), r"RMSProp: lr must be a number, got bool True"),
        (lambda ps: tg.RMSProp(ps, weight_decay=np.nan), r"RMSProp: weight_decay must be a finite number"),
        (lambda ps: tg.Adam([]), r"Adam: no parameters to optimize"),
        (lambda ps: tg.RMSProp([tg.Input("x")]), r"RMSProp: expected Parameter nodes, got Input\('x'\)"),
    ],
)
def test_bad_settings_are_refused_naming_the_argument_and_what_was_given(make, message):
    with pytest.raises((tg.GraphError, TypeError), match=message):
        make([tg.Parameter([1.0], name="w")])


def test_settings_can_be_changed_between_steps_and_are_checked_first():
    w = tg.Parameter([1.0, 2.0], name="w")
    opt = tg.Adam([w], lr=0.1)
    opt.lr, opt.betas = 0.2, [0.5, 0.75]  # a list is taken as the pair
    assert opt.lr == 0.2 and opt.betas == (0.5, 0.75)
    with pytest.raises(tg.GraphError, match="Adam: betas"):
        opt.betas = (0.5, 2.0)
    assert opt.betas == (0.5, 0.75)
    with pytest.raises(tg.GraphError, match="RMSProp: alpha"):
        tg.RMSProp([w]).alpha = -1


def test_float32_parameters_stay_float32_with_float64_gradients():
    w = tg.Parameter(np.ones(3, np.float32), name="w")
    for opt in (tg.Adam([w], weight_decay=0.1), tg.RMSProp([w], momentum=0.5, weight_decay=0.1)):
        w.grad = np.array([0.5, -0.5, 1.0])  # float64
        opt.step()
        assert w.value.dtype == np.float32
        assert all(a.dtype == np.float32 for name in opt.slots for a in getattr(opt, name) or [])


def test_a_value_replaced_by_one_of_another_shape_starts_its_moments_again():
    w, u = tg.Parameter([1.0], name="w"), tg.Parameter([2.0], name="u")
    opt = tg.Adam([w, u], lr=0.1)
    w.grad, u.grad = np.array([1.0]), np.array([1.0])
    opt.step()
    opt.step()
    w.value, w.grad = np.array([1.0, 1.0]), np.array([3.0, -3.0])
    opt.step()  # w's first step again: it moves by η
    np.testing.assert_allclose(w.value, [0.9, 1.1], atol=1e-8)
    assert opt.t == [1, 3] and opt.m[0].shape == (2,)


def test_large_parameters_take_the_same_steps():
    rng = np.random.default_rng(1)
    values, grads = [rng.normal(size=(300, 200))], [[rng.normal(size=(300, 200))] for _ in range(3)]
    _, _, got = run(lambda ps: tg.Adam(ps, lr=0.01, weight_decay=0.01), values, grads)
    want, _, _ = adam_by_hand(values, grads, 0.01, 0.9, 0.999, 1e-8, 0.01)
    np.testing.assert_allclose(got[-1][0], want[-1][0], rtol=1e-12, atol=1e-15)


def test_rules_in_words():
    w = [tg.Parameter([1.0], name="w")]
    assert tg.Adam(w).rule("W1") == "W1 ← W1 − η m̂/(√v̂ + ε)"
    assert tg.RMSProp(w).rule() == "w ← w − η ∂E/∂w/(√s + ε)"
    assert tg.RMSProp(w, weight_decay=0.1).rule("b") == "b ← b − η (∂E/∂b + λ b)/(√s + ε)"
    assert tg.RMSProp(w, momentum=0.9).rule("b") == "b ← b − η b"
    assert repr(tg.Adam(w, lr=0.01, betas=(0.8, 0.9))) == "Adam(1 parameters, lr=0.01, betas=(0.8, 0.9))"
    assert repr(tg.RMSProp(w)) == "RMSProp(1 parameters, lr=0.01)"
