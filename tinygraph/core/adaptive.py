"""Adaptive optimizers: Adam and RMSProp scale each number's step by a running average of its squared gradient."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .leaves import Parameter
from .optimizer import Optimizer, Setting, decayed, fraction, pair, rate


class Adam(Optimizer):
    """Adam: steps scaled by running averages of the gradient (m) and of its square (v), bias-corrected.

    At step t (counted per parameter from 1), with g = ∂E/∂w:

    - ``m ← β1 m + (1 − β1) g``: the mean of the recent gradients;
    - ``v ← β2 v + (1 − β2) g²``: the mean of their squares (each number its own);
    - ``m̂ = m/(1 − β1ᵗ)``, ``v̂ = v/(1 − β2ᵗ)``: m and v start at 0, which this corrects;
    - ``w ← w − η m̂/(√v̂ + ε)``.

    Each number of w thus moves by about η at most, whatever the scale of its gradient.  With
    ``weight_decay`` λ > 0, g is ``∂E/∂w + λ w`` (L2 added to the gradient, as in PyTorch's
    ``torch.optim.Adam``; not AdamW's decoupled decay).  The numbers are PyTorch's, to rounding.

    Parameters
    ----------
    parameters : list of Parameter, Graph or Network
        The Parameter nodes to update (any iterable of them, kept as a tuple), or a graph or
        network, whose ``parameters()`` are taken.
    lr : float, optional
        The learning rate η, a finite number > 0; 0.001 by default.
    betas : tuple of float, optional
        (β1, β2), each from 0 up to but not including 1; (0.9, 0.999) by default.
    eps : float, optional
        ε > 0, which keeps the step finite where v̂ is 0; 1e-8 by default.
    weight_decay : float, optional
        λ >= 0, the L2 penalty added to the gradient; 0 by default.

    Attributes
    ----------
    m : list of numpy.ndarray
        The first moment m of each parameter, in order (zeros at first).
    v : list of numpy.ndarray
        The second moment v of each parameter (zeros at first).
    t : list of int
        The steps each parameter has taken.

    Raises
    ------
    TypeError
        If ``parameters`` is not an iterable of Parameter nodes, ``betas`` is not a pair, or a
        setting is not a number.
    tinygraph.GraphError
        If there are no parameters, one is listed twice, or ``lr`` or ``eps`` is not > 0, a
        beta not in [0, 1), ``weight_decay`` < 0, or any of them not finite.

    See Also
    --------
    SGD : The plain rule, with momentum.
    RMSProp : v without m or bias correction.

    Notes
    -----
    Each step updates w, m and v in place, every parameter checked first.  The bias
    corrections are folded into two numbers per step: ``w ← w − (η √(1 − β2ᵗ)/(1 − β1ᵗ)) ·
    m/(√v + ε √(1 − β2ᵗ))``, the same rule, in fewer passes over the arrays.  A replaced value
    of another shape or dtype starts its m, v and t again.

    Examples
    --------
    The first step moves every number by η (m̂ = g and v̂ = g²), whatever its gradient:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> w = tg.Parameter([1.0, -2.0], name="w")
    >>> graph = tg.Graph(tg.Sum(w * w, name="E"))
    >>> adam = tg.Adam(graph, lr=0.1)
    >>> _ = graph.forward({}); graph.backward()
    >>> adam.step()
    >>> w.value
    array([ 0.9, -1.9])
    >>> adam.m[0], adam.t
    (array([ 0.2, -0.4]), [1])
    >>> adam.rule("w")
    'w ← w − η m̂/(√v̂ + ε)'
    """

    slots = ("m", "v")
    counts = ("t",)
    betas = Setting(pair)
    eps = Setting(rate)
    m: list
    v: list
    t: list

    def __init__(
        self,
        parameters: Any,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)

    def step(self) -> None:
        """Apply one update to every parameter (after ``graph.backward()``); every one is checked first.

        Raises
        ------
        tinygraph.GraphError
            If a parameter has no gradient or its gradient's shape is not its value's.
        TypeError
            If a gradient is not an array of floats, or a replaced value is not a writeable
            array of floats.
        """
        plan = self._ready()
        (b1, b2), eps, lr, lam = self.betas, self.eps, self.lr, self.weight_decay
        for i, (p, w, _, _, tmp, g_tmp) in enumerate(plan):
            t = self.t[i] = self.t[i] + 1
            g = decayed(p.grad, w, lam, g_tmp) if lam else p.grad  # g = ∂E/∂w + λ w
            root = math.sqrt(1 - b2**t)  # √(1 − β2ᵗ): v̂ = v/(1 − β2ᵗ), so √v̂ = √v/root
            _adam(w, g, self.m[i], self.v[i], tmp, b1, b2, eps * root, lr * root / (1 - b1**t))

    def rule(self, name: str = "w") -> str:
        """Return the update of a parameter called ``name``, in words: ``"w ← w − η m̂/(√v̂ + ε)"``."""
        return f"{name} ← {name} − η m̂/(√v̂ + ε)"

    def explain(self, parameter: Parameter, old: np.ndarray, before: dict, number: Callable[[Any], str]) -> list[str]:
        """Return the lines of the last step of ``parameter`` (see ``Optimizer.explain``)."""
        i, n, (b1, b2) = self._index(parameter), parameter.name, self.betas
        g, lines, _ = self._gradient(parameter, old, number)
        m, v, t = self.m[i], self.v[i], self.t[i]
        square = _squared(g)
        return lines + [
            f"m ← β1 m + (1 − β1) {g} = {b1:g} · {number(before[f'm/{i}'])} + {1 - b1:g} · {g} = {number(m)}",
            f"v ← β2 v + (1 − β2) {square} = {b2:g} · {number(before[f'v/{i}'])} + {1 - b2:g} · {square} = {number(v)}",
            f"bias correction at step t = {t}: m̂ = m/(1 − β1ᵗ) = m/{1 - b1**t:.4g} = {number(m / (1 - b1**t))}",
            f"v̂ = v/(1 − β2ᵗ) = v/{1 - b2**t:.4g} = {number(v / (1 - b2**t))}",
            f"new {n} = old − {self.lr:g} · m̂/(√v̂ + ε) = {number(parameter.value)}",
        ]


def _adam(w, g, m, v, tmp, b1, b2, eps, step):
    """Update in place, through ``tmp``: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g², w ← w − step · m/(√v + eps)."""
    np.multiply(g, 1 - b1, out=tmp)
    m *= b1
    m += tmp  # m ← β1 m + (1 − β1) g
    _mean_of_squares(v, g, b2, tmp)  # v ← β2 v + (1 − β2) g²
    np.sqrt(v, out=tmp)
    tmp += eps
    np.divide(m, tmp, out=tmp)
    tmp *= step
    w -= tmp  # w ← w − η m̂/(√v̂ + ε)


def _mean_of_squares(mean: np.ndarray, g: np.ndarray, beta: float, tmp: np.ndarray) -> None:
    """Update the running mean of the squares in place, through ``tmp``: mean ← β mean + (1 − β) g²."""
    np.multiply(g, g, out=tmp)
    tmp *= 1 - beta
    mean *= beta
    mean += tmp


def _squared(g: str) -> str:
    """Write the square of the gradient ``g`` names: ``(∂E/∂w)²``, or ``g²``."""
    return f"({g})²" if g.startswith("∂") else f"{g}²"


class RMSProp(Optimizer):
    """RMSProp: each number's step divided by the root of a running mean of its squared gradient.

    With g = ∂E/∂w:

    - ``s ← α s + (1 − α) g²``: the running mean of the squares;
    - ``w ← w − η g/(√s + ε)``;
    - or, with ``momentum`` μ > 0, a buffer b of those steps: ``b ← μ b + g/(√s + ε)``,
      ``w ← w − η b``.

    With ``weight_decay`` λ > 0, g is ``∂E/∂w + λ w``.  This is PyTorch's
    ``torch.optim.RMSprop`` (not centered), number for number up to rounding.

    Parameters
    ----------
    parameters : list of Parameter, Graph or Network
        The Parameter nodes to update (any iterable of them, kept as a tuple), or a graph or
        network, whose ``parameters()`` are taken.
    lr : float, optional
        The learning rate η, a finite number > 0; 0.01 by default.
    alpha : float, optional
        α, the decay of the running mean, from 0 up to but not including 1; 0.99 by default.
    eps : float, optional
        ε > 0, which keeps the step finite where s is 0; 1e-8 by default.
    momentum : float, optional
        μ, from 0 (none, the default) up to but not including 1.
    weight_decay : float, optional
        λ >= 0, the L2 penalty added to the gradient; 0 by default.

    Attributes
    ----------
    mean_square : list of numpy.ndarray
        s for each parameter, in order (zeros at first).
    buffer : list of numpy.ndarray or None
        With momentum, b for each parameter (zeros at first); None without.

    Raises
    ------
    TypeError
        If ``parameters`` is not an iterable of Parameter nodes, or a setting is not a number.
    tinygraph.GraphError
        If there are no parameters, one is listed twice, ``lr`` or ``eps`` is not > 0,
        ``alpha`` or ``momentum`` not in [0, 1), ``weight_decay`` < 0, or any not finite.

    See Also
    --------
    Adam : RMSProp's s (Adam's v) with a running mean of the gradient and bias correction.

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> w = tg.Parameter([1.0, -2.0], name="w")
    >>> rms = tg.RMSProp([w], lr=0.01, alpha=0.75)
    >>> w.grad = np.array([2.0, -4.0])
    >>> rms.step()  # s = 0.25 g², so every number moves by η/√0.25 = 2η
    >>> rms.mean_square[0], w.value
    (array([1., 4.]), array([ 0.98, -1.98]))
    """

    slots = ("mean_square", "buffer")
    alpha = Setting(fraction)
    eps = Setting(rate)
    momentum = Setting(fraction)
    mean_square: list
    buffer: list | None

    def __init__(
        self,
        parameters: Any,
        lr: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(parameters, lr=lr, alpha=alpha, eps=eps, momentum=momentum, weight_decay=weight_decay)

    def _active(self, settings: dict) -> tuple[str, ...]:
        return self.slots if settings["momentum"] else self.slots[:1]

    def step(self) -> None:
        """Apply one update to every parameter (after ``graph.backward()``); every one is checked first.

        Raises
        ------
        tinygraph.GraphError
            If a parameter has no gradient or its gradient's shape is not its value's.
        TypeError
            If a gradient is not an array of floats, or a replaced value is not a writeable
            array of floats.
        """
        plan = self._ready()
        alpha, eps, lr, mu, lam = self.alpha, self.eps, self.lr, self.momentum, self.weight_decay
        for i, (p, w, _, _, tmp, g_tmp) in enumerate(plan):
            g = decayed(p.grad, w, lam, g_tmp) if lam else p.grad  # g = ∂E/∂w + λ w
            s = self.mean_square[i]
            _mean_of_squares(s, g, alpha, tmp)  # s ← α s + (1 − α) g²
            np.sqrt(s, out=tmp)
            tmp += eps
            np.divide(g, tmp, out=tmp)  # g/(√s + ε)
            if self.buffer is None:
                tmp *= lr
                w -= tmp  # w ← w − η g/(√s + ε)
            else:
                b = self.buffer[i]
                b *= mu
                b += tmp  # b ← μ b + g/(√s + ε)
                w -= np.multiply(b, lr, out=tmp)  # w ← w − η b

    def rule(self, name: str = "w") -> str:
        """Return the update of a parameter called ``name``, in words: ``"w ← w − η ∂E/∂w/(√s + ε)"``."""
        g = f"(∂E/∂{name} + λ {name})" if self.weight_decay else f"∂E/∂{name}"
        return f"{name} ← {name} − η " + ("b" if self.momentum else f"{g}/(√s + ε)")

    def explain(self, parameter: Parameter, old: np.ndarray, before: dict, number: Callable[[Any], str]) -> list[str]:
        """Return the lines of the last step of ``parameter`` (see ``Optimizer.explain``)."""
        i, n, a, eta = self._index(parameter), parameter.name, self.alpha, self.lr
        g, lines, _ = self._gradient(parameter, old, number)
        square = _squared(g)
        s_old = number(before[f"mean_square/{i}"])
        lines.append(
            f"s ← α s + (1 − α) {square} = {a:g} · {s_old} + {1 - a:g} · {square} = {number(self.mean_square[i])}"
        )
        if self.buffer is None:
            return lines + [f"new {n} = old − {eta:g} · {g}/(√s + ε) = {number(parameter.value)}"]
        b_old, mu = number(before[f"buffer/{i}"]), self.momentum
        lines.append(f"buffer b ← μ b + {g}/(√s + ε) = {mu:g} · {b_old} + {g}/(√s + ε) = {number(self.buffer[i])}")
        return lines + [f"new {n} = old − {eta:g} · b = {number(parameter.value)}"]
