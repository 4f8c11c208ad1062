"""Stochastic gradient descent: w ← w − η ∂E/∂w, in place (with momentum, Nesterov and weight decay)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import flag
from ..errors import GraphError
from .leaves import Parameter
from .optimizer import Optimizer, Setting, fraction

BLOCK = 32768  # large parameters are updated this many numbers at a time: η·g stays in cache
FRESH = 2048  # up to this many numbers η·g is made fresh: as fast as into a kept array (measured)


def as_optimizer(optimizer: Any, graph: Any, what: str) -> Any:
    """Return an optimizer as given, or, for a number, a new SGD over ``graph`` with that learning rate."""
    if isinstance(optimizer, (int, float, np.integer, np.floating)) and not isinstance(optimizer, bool):
        return SGD(graph.parameters(), lr=optimizer)  # type: ignore[arg-type]  # (SGD checks it)
    if not hasattr(optimizer, "step"):
        raise TypeError(
            f"{what}: optimizer must be an SGD, Adam or RMSProp (anything with step()) or a learning rate, "
            f"got {type(optimizer).__name__}"
        )
    return of_graph(optimizer, graph, what)


def of_graph(optimizer: Any, graph: Any, what: str) -> Any:
    """Return ``optimizer`` once every Parameter it updates is known to be in ``graph``, else raise a GraphError.

    An optimizer of one's own without a tuple or list of ``parameters`` is taken as it is.
    """
    parameters = getattr(optimizer, "parameters", ())
    ours = {id(p) for p in graph.parameters()}
    outside = [p for p in parameters if id(p) not in ours] if isinstance(parameters, (tuple, list)) else []
    if outside:
        name = getattr(outside[0], "name", outside[0])
        raise GraphError(f"{what}: the optimizer updates Parameter '{name}', which is not in this graph")
    return optimizer


class SGD(Optimizer):
    """Update every Parameter with its last gradient: ``w ← w − η ∂E/∂w``.

    With ``momentum`` μ > 0 the step follows a velocity instead: ``v ← μ v + ∂E/∂w``,
    ``w ← w − η v`` (off by default, as in the plain derivation); with ``nesterov`` it
    looks ahead along it: ``w ← w − η (∂E/∂w + μ v)``.  With ``weight_decay`` λ > 0 every
    rule reads ``g = ∂E/∂w + λ w`` in place of ∂E/∂w.  These are PyTorch's ``torch.optim.SGD``
    (without dampening), number for number.

    Parameters
    ----------
    parameters : list of Parameter, Graph or Network
        The Parameter nodes to update (any iterable of them, kept as a tuple), or a graph
        or network, whose ``parameters()`` are taken.
    lr : float, optional
        The learning rate η, a finite number > 0.
    momentum : float, optional
        μ, from 0 (plain SGD, the default) up to but not including 1.
    nesterov : bool, optional
        Nesterov momentum (needs μ > 0); False by default.
    weight_decay : float, optional
        λ >= 0, the L2 penalty added to the gradient; 0 by default.

    Attributes
    ----------
    velocity : list of numpy.ndarray or None
        With momentum, v for each parameter, in order (zeros at first); None without.

    Raises
    ------
    TypeError
        If ``parameters`` is not an iterable of Parameter nodes (a graph's ``parameters``
        method not called, an Input, …), ``lr``, ``momentum`` or ``weight_decay`` is not a
        number, or ``nesterov`` not a bool.
    tinygraph.GraphError
        If there are no parameters, one is listed twice, ``lr`` is not > 0, ``momentum`` is
        not in [0, 1), ``weight_decay`` is < 0, any is not finite, or ``nesterov`` is given
        without momentum.

    See Also
    --------
    Adam, RMSProp : Steps scaled per number by running averages of the gradient.

    Notes
    -----
    Values are updated in place, so arrays read from ``p.value`` follow them; a replaced
    ``p.value`` is updated from then on (with momentum, v starts again from zeros when the
    new value has another shape or dtype).  η is applied in each parameter's dtype.  The
    settings may be changed between steps (``sgd.lr = 0.01``), checked as here; the state
    is saved and put back with ``state_dict`` and ``load_state_dict``.

    Examples
    --------
    E = Σ w², so ∂E/∂w = 2w:

    >>> import tinygraph as tg
    >>> w = tg.Parameter([1.0, -2.0], name="w")
    >>> graph = tg.Graph(tg.Sum(w * w, name="E"))
    >>> sgd = tg.SGD(graph, lr=0.25)
    >>> sgd
    SGD(1 parameters, lr=0.25)
    >>> _ = graph.forward({}); graph.backward()
    >>> w.grad
    array([ 2., -4.])
    >>> sgd.step()
    >>> w.value
    array([ 0.5, -1. ])
    >>> sgd.rule("w")
    'w ← w − η ∂E/∂w'
    """

    slots = ("velocity",)
    momentum = Setting(fraction)
    nesterov = Setting(flag)
    velocity: list | None

    def __init__(
        self, parameters: Any, lr: float = 0.1, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0
    ) -> None:
        super().__init__(parameters, lr=lr, momentum=momentum, nesterov=nesterov, weight_decay=weight_decay)

    def _consistent(self, settings: dict) -> None:
        if settings["nesterov"] and not settings["momentum"]:
            raise GraphError(f"SGD: nesterov needs momentum > 0, got momentum={settings['momentum']:g}")

    def _active(self, settings: dict) -> tuple[str, ...]:
        return self.slots if settings["momentum"] else ()

    def _entries(self) -> list:
        """Return the plan: per parameter (node, value, shape, gradient dtype, η in its dtype, scratch).

        η is a 0-d array of the parameter's dtype; the scratch for η·g is a block shared by the
        large parameters of a dtype, or None (η·g is made fresh).
        """
        plan, scratch = [], dict[Any, np.ndarray]()  # (one scratch block per dtype, for the large ones)
        for p in self._parameters:
            w = p.value
            block = scratch.setdefault(w.dtype, np.empty(BLOCK, w.dtype)) if w.size > FRESH else None
            plan.append((p, w, w.shape, p.grad.dtype, np.array(self.lr, w.dtype), block))
        return plan

    def step(self) -> None:
        """Apply one update to every parameter (after ``graph.backward()``).

        Every parameter is checked before any changes.

        Raises
        ------
        tinygraph.GraphError
            If a parameter has no gradient (no ``backward`` yet) or its gradient's shape is
            not its value's.
        TypeError
            If a gradient is not an array of floats, or a replaced value is not a writeable
            array of floats.
        """
        plan, settings, velocity = self._ready(), self._settings, self.velocity
        lam = settings["weight_decay"]
        # Plain SGD has a loop of its own, the update inline: through the general loop below (two tests
        # and a call of _descend more per parameter) the step of a 2-3-1 or 64-32-10 mlp at batch 1
        # takes 8 to 9% more instructions (measured with callgrind).
        if velocity is None and not lam:
            for p, w, _, _, lr, block in plan:
                if block is None:
                    w -= np.multiply(p.grad, lr)  # w ← w − η ∂E/∂w
                else:
                    _descend(w, p.grad, lr, block)
            return
        mu, nesterov = settings["momentum"], settings["nesterov"]
        for i, (p, w, _, _, lr, block) in enumerate(plan):
            g = np.multiply(w, lam) + p.grad if lam else p.grad  # g = ∂E/∂w + λ w (fresh: SGD keeps no scratch)
            if velocity is not None:
                v = velocity[i]
                v *= mu
                v += g  # v ← μ v + g
                g = g + mu * v if nesterov else v  # Nesterov looks ahead: g + μ v
            _descend(w, g, lr, block)  # w ← w − η g

    def heading(self) -> str:
        """Return ``"gradient descent, w ← w − η ∂E/∂w"`` (or the rule with its velocity)."""
        return f"gradient descent, {self.rule('w')}"

    def rule(self, name: str = "w") -> str:
        """Return the update of a parameter called ``name``, in words: ``"w ← w − η ∂E/∂w"``."""
        g = f"(∂E/∂{name} + λ {name})" if self.weight_decay else f"∂E/∂{name}"
        return f"{name} ← {name} − η " + ("(g + μ v)" if self.nesterov else "v" if self.momentum else g)

    def explain(self, parameter: Parameter, old: np.ndarray, before: dict, number: Callable[[Any], str]) -> list[str]:
        """Return the lines of the last step of ``parameter`` (see ``Optimizer.explain``)."""
        i, n, eta, mu = self._index(parameter), parameter.name, self.lr, self.momentum
        g, lines, gradient = self._gradient(parameter, old, number)
        if self.velocity is None:
            return lines + [f"new {n} = old − {eta:g} · {g} = {number(parameter.value)}"]
        v = self.velocity[i]
        lines.append(f"velocity v ← μ v + {g} = {mu:g} · {number(before[f'velocity/{i}'])} + {g} = {number(v)}")
        if self.nesterov:
            lines.append(f"Nesterov: d = {g} + μ v = {g} + {mu:g} · v = {number(gradient + mu * v)}")
        return lines + [f"new {n} = old − {eta:g} · {'d' if self.nesterov else 'v'} = {number(parameter.value)}"]


def _descend(w: np.ndarray, g: np.ndarray, lr: np.ndarray, block: np.ndarray | None) -> None:
    """Subtract lr · g from w in place, without touching g.

    Through the scratch ``block``, a block at a time, so that lr · g is still in cache when it
    is subtracted (numpy has no fused w − lr·g), or fresh.
    """
    if block is None or not (w.flags.c_contiguous and g.flags.c_contiguous):
        w -= np.multiply(g, lr)
        return
    wf, gf = w.reshape(-1), g.reshape(-1)
    for i in range(0, wf.size, BLOCK):
        n = min(BLOCK, wf.size - i)
        wf[i : i + n] -= np.multiply(gf[i : i + n], lr, out=block[:n])
