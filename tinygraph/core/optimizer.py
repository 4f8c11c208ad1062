"""What every optimizer shares: its parameters, settings checked before they change, its state as a dict."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from ..checks import number, shown, whole
from ..errors import GraphError
from .leaves import Parameter, checked_value


def parameters_of(parameters: Any, what: str) -> tuple[Parameter, ...]:
    """Return the Parameter nodes an optimizer is given, as a tuple, every one checked.

    ``parameters`` is an iterable of Parameter nodes, or a graph or network, whose
    ``parameters()`` are taken; ``what`` names the optimizer in the messages.
    """
    if callable(parameters) and not hasattr(parameters, "parameters"):
        raise TypeError(
            f"{what}: parameters must be a list of Parameter nodes, got a method; call it: "
            f"{what}(graph.parameters(), ...)"
        )
    if callable(getattr(parameters, "parameters", None)):
        parameters = parameters.parameters()
    try:
        parameters = tuple(parameters)
    except TypeError:
        raise TypeError(
            f"{what}: parameters must be a list of Parameter nodes, got {type(parameters).__name__}"
        ) from None
    for p in parameters:
        if not isinstance(p, Parameter):
            raise TypeError(f"{what}: expected Parameter nodes, got {p!r}")
    if not parameters:
        raise GraphError(f"{what}: no parameters to optimize")
    twice = [p.name for i, p in enumerate(parameters) if any(p is q for q in parameters[:i])]
    if twice:
        raise GraphError(f"{what}: Parameter '{twice[0]}' is listed twice; each parameter takes one step")
    return parameters


def rate(what: str, value: Any) -> float:
    """Return a learning rate or an ε, checked: a finite number > 0."""
    return number(what, value, low=0, strict="low")


def fraction(what: str, value: Any) -> float:
    """Return a momentum, α or β, checked: a finite number from 0 up to but not including 1."""
    return number(what, value, low=0, high=1, strict="high")


def decay(what: str, value: Any) -> float:
    """Return a weight decay λ, checked: a finite number >= 0."""
    return number(what, value, low=0)


def pair(what: str, value: Any) -> tuple[float, float]:
    """Return Adam's betas, checked: two fractions (β1, β2), given as a tuple or a list."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{what} must be a pair of numbers (β1, β2), got {type(value).__name__} {shown(value)}")
    return fraction(f"{what}[0], β1,", value[0]), fraction(f"{what}[1], β2,", value[1])


def decayed(grad: np.ndarray, w: np.ndarray, lam: float, out: np.ndarray | None) -> np.ndarray:
    """Return the gradient every rule reads with weight decay λ > 0, ``g = ∂E/∂w + λ w`` (into ``out``, or fresh)."""
    g = np.multiply(w, lam, out)  # (out given by position: numpy reads a keyword out=None far more slowly)
    g += grad
    return g


def _scratch(parameters: tuple[Parameter, ...], wanted: bool) -> list:
    """One scratch array per parameter, shaped like its value: views of one buffer per dtype (None if not wanted)."""
    if not wanted:
        return [None] * len(parameters)
    largest: dict = {}
    for p in parameters:
        largest[p.value.dtype] = max(largest.get(p.value.dtype, 0), p.value.size)
    buffers = {dtype: np.empty(n, dtype) for dtype, n in largest.items()}
    return [buffers[p.value.dtype][: p.value.size].reshape(p.value.shape) for p in parameters]


class Setting:
    """One setting of an optimizer (``lr``, ``momentum``, …): read like an attribute, set through its check.

    Setting it checks the new value, and the settings together, before anything changes;
    ``check(what, value)`` returns the value to keep or raises naming ``what``.
    """

    def __init__(self, check: Callable[[str, Any], Any]) -> None:
        self.check, self.name = check, ""

    def __set_name__(self, owner: type, name: str) -> None:
        """Learn the attribute's name (the setting's key)."""
        self.name = name

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        """Return the optimizer's value of the setting."""
        return self if obj is None else obj._settings[self.name]

    def __set__(self, obj: Any, value: Any) -> None:
        """Check the new value (with the other settings), then keep it."""
        obj._configure({self.name: value})


class Optimizer:
    """The part every tinygraph optimizer shares (``SGD``, ``Adam``, ``RMSProp`` inherit it).

    An optimizer holds Parameter nodes, its settings (``lr`` η, ``weight_decay`` λ, …, each
    checked when it is given or changed) and, per parameter, the arrays of its state: SGD's
    velocity, Adam's moments.  ``step()`` checks every parameter and its gradient, then
    updates each value in place.

    Parameters
    ----------
    parameters : list of Parameter, Graph or Network
        The Parameter nodes to update (any iterable of them, kept as a tuple), or a graph or
        network, whose ``parameters()`` are taken.
    **settings
        The settings, by name, in the order of the optimizer's signature.

    Raises
    ------
    TypeError
        If ``parameters`` is not an iterable of Parameter nodes, or a setting is not a number
        (a flag not a bool).
    tinygraph.GraphError
        If there are no parameters, one is listed twice, or a setting is out of its range.

    Notes
    -----
    Weight decay is L2 regularisation added to the gradient, as in PyTorch: every rule
    reads ``g = ∂E/∂w + λ w`` where it reads the gradient (λ = 0, the default, leaves it).

    ``state_dict()`` holds everything a step depends on, as numbers and arrays: what
    ``tg.save(net, path, optimizer=opt)`` and ``fit``'s checkpoints store, so that training
    resumed from one continues exactly as if it had not stopped.

    A subclass names the arrays it keeps per parameter in ``slots`` (attributes holding one
    array per parameter, or None while a setting leaves them out), its whole-number counts
    in ``counts``, and writes ``step``, ``rule`` and ``explain``.
    """

    slots: tuple[str, ...] = ()  # the arrays kept per parameter, by attribute name
    counts: tuple[str, ...] = ()  # whole numbers kept per parameter (Adam's step t)
    lr = Setting(rate)
    weight_decay = Setting(decay)

    def __init__(self, parameters: Any, **settings: Any) -> None:
        self._parameters = parameters_of(parameters, type(self).__name__)
        self._settings: dict[str, Any] = {}
        self._plan: list | None = None
        for name in self.slots + self.counts:
            setattr(self, name, None)
        self._configure(settings)

    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """The Parameter nodes this optimizer updates (a tuple)."""
        return self._parameters

    # -- settings -----------------------------------------------------------------------------
    def _checked(self, changes: dict) -> dict:
        """Return the settings with ``changes`` made, each checked and all together; change nothing."""
        settings = dict(self._settings)
        for key, value in changes.items():
            settings[key] = getattr(type(self), key).check(f"{type(self).__name__}: {key}", value)
        self._consistent(settings)
        return settings

    def _configure(self, changes: dict) -> None:
        self._settings = self._checked(changes)
        self._configured()

    def _consistent(self, settings: dict) -> None:
        """Raise unless the settings make sense together (SGD: nesterov needs momentum)."""

    def _active(self, settings: dict) -> tuple[str, ...]:
        """Return the slots these settings use (all of them, unless a subclass says otherwise)."""
        return self.slots

    def _configured(self) -> None:
        """Make the slots the settings use (zeros at first), drop the others; forget the plan."""
        active = self._active(self._settings)
        for name in self.slots:
            if name not in active:
                setattr(self, name, None)
            elif getattr(self, name) is None:
                setattr(self, name, [np.zeros_like(p.value) for p in self._parameters])
        for name in self.counts:
            if getattr(self, name) is None:
                setattr(self, name, [0] * len(self._parameters))
        self._plan = None

    # -- checks before a step -------------------------------------------------------------------
    def _ready(self) -> list:
        """Return the plan of the step: per parameter (node, value, shape, gradient dtype, and two more), checked.

        The usual case, the same arrays and gradients that fit, is checked cheaply; anything
        else runs the whole check (``_check``) first.
        """
        plan = self._plan
        for p, w, shape, gdtype, _, _ in plan or ():
            g = p.grad
            if type(g) is not np.ndarray or p.value is not w or g.shape != shape or g.dtype is not gdtype:
                plan = None
                break
        return self._check() if plan is None else plan

    def _check(self) -> list:
        """Raise unless every parameter can take its step; then fit the state to the values and plan."""
        for p in self._parameters:  # all before any
            w = checked_value(p)
            if p.grad is None:
                raise GraphError(f"Parameter '{p.name}' has no gradient: call graph.backward() before optimizer.step()")
            g = p.grad
            if type(g) is not np.ndarray or g.dtype.kind != "f":
                got = f"dtype {g.dtype}" if isinstance(g, np.ndarray) else type(g).__name__
                raise TypeError(f"Parameter '{p.name}': gradient must be an array of floats, got {got}")
            if g.shape != w.shape:
                raise GraphError(f"Parameter '{p.name}': gradient shape {g.shape} does not match value shape {w.shape}")
        active = self._active(self._settings)
        for i, p in enumerate(self._parameters):  # a value of a new shape or dtype: its state starts again
            w = p.value
            if any(getattr(self, s)[i].shape != w.shape or getattr(self, s)[i].dtype != w.dtype for s in active):
                for s in active:
                    getattr(self, s)[i] = np.zeros_like(w)
                for c in self.counts:
                    getattr(self, c)[i] = 0
        self._plan = self._entries()
        return self._plan

    def _entries(self) -> list:
        """Return the plan: per parameter (node, value, shape, gradient dtype, scratch, scratch for g + λw).

        The scratch arrays are shaped like the value (the second None without weight decay);
        ``_ready`` checks the first four, the step uses the two after them.
        """
        tmp, g_tmp = _scratch(self._parameters, True), _scratch(self._parameters, bool(self.weight_decay))
        return [(p, p.value, p.value.shape, p.grad.dtype, a, b) for p, a, b in zip(self._parameters, tmp, g_tmp)]

    def _index(self, parameter: Parameter) -> int:
        for i, p in enumerate(self._parameters):
            if p is parameter:
                return i
        raise GraphError(f"{type(self).__name__}: {parameter!r} is not one of the parameters it updates")

    # -- state ----------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Return the settings and the state, as a new dict of numbers and arrays (copies).

        Returns
        -------
        dict
            ``"optimizer"``: the class name; each setting by name (``"lr"``, ``"momentum"``,
            ``"betas"`` …); for the i-th parameter (in the order of ``parameters``) each array
            it keeps as ``"<slot>/i"`` (``"velocity/0"``, ``"m/0"``, ``"v/0"`` …) and each
            count as ``"<count>/i"`` (Adam's ``"t/0"``).

        Examples
        --------
        >>> import tinygraph as tg
        >>> sgd = tg.SGD([tg.Parameter([1.0, 2.0], name="w")], lr=0.5, momentum=0.9)
        >>> sgd.state_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'optimizer': 'SGD', 'lr': 0.5, 'momentum': 0.9, 'nesterov': False, 'weight_decay': 0.0,
         'velocity/0': array([0., 0.])}
        """
        state: dict[str, Any] = {"optimizer": type(self).__name__, **self._settings}
        for name in self._active(self._settings):
            state.update({f"{name}/{i}": a.copy() for i, a in enumerate(getattr(self, name))})
        for name in self.counts:
            state.update({f"{name}/{i}": int(k) for i, k in enumerate(getattr(self, name))})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Put back the settings and the state of a ``state_dict()``, once all of it is checked.

        Arrays are copied in (in each parameter's dtype); nothing given is kept.

        Parameters
        ----------
        state : dict
            What ``state_dict()`` returned, from an optimizer of the same class over parameters
            of the same shapes, in the same order.

        Raises
        ------
        TypeError
            If ``state`` is not a dict, or a setting or count is not a number.
        tinygraph.GraphError
            If it is another optimizer's state, a key is missing or unknown, a setting is out
            of range, or an array is not floats of its parameter's shape.  Nothing is changed.

        Examples
        --------
        >>> import numpy as np
        >>> import tinygraph as tg
        >>> w = tg.Parameter([1.0, 2.0], name="w")
        >>> adam = tg.Adam([w], lr=0.1)
        >>> w.grad = np.array([0.5, -0.5])
        >>> saved = adam.state_dict()
        >>> adam.step()
        >>> adam.load_state_dict(saved)
        >>> adam.t, adam.m
        ([0], [array([0., 0.])])
        """
        name, n = type(self).__name__, len(self._parameters)
        what = f"{name}.load_state_dict"
        if not isinstance(state, dict):
            raise TypeError(f"{what}: state must be a dict from state_dict(), got {type(state).__name__}")
        if state.get("optimizer") != name:
            raise GraphError(f"{what}: the state is of optimizer {shown(state.get('optimizer'))}, not {name}")
        unknown = [k for k in state if k != "optimizer" and k not in self._settings]
        settings = self._checked({k: v for k, v in state.items() if k in self._settings})
        active = self._active(settings)
        wanted = [f"{s}/{i}" for s in active + self.counts for i in range(n)]
        unknown = [k for k in unknown if k not in wanted]
        missing = [k for k in (*self._settings, *wanted) if k not in state]
        if missing or unknown:
            problems = [f"{shown(k)} is missing" for k in missing] + [f"{shown(k)} is unknown" for k in unknown]
            raise GraphError(
                f"{what}: the state does not fit this {name} of {n} parameters: " + "; ".join(problems[:5])
            )
        for s in active:
            for i, p in enumerate(self._parameters):
                a = state[f"{s}/{i}"]
                if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.shape != p.value.shape:
                    got = f"shape {a.shape}, dtype {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
                    raise GraphError(
                        f"{what}: '{s}/{i}' must be an array of floats of shape {p.value.shape} "
                        f"(Parameter '{p.name}'), got {got}"
                    )
        for c in self.counts:
            for i in range(n):
                whole(f"{what}: '{c}/{i}'", state[f"{c}/{i}"], low=0)
        self._settings = settings  # all checked: now change
        self._configured()
        for s in active:
            arrays = getattr(self, s)
            for i, p in enumerate(self._parameters):
                if arrays[i].shape == p.value.shape and arrays[i].dtype == p.value.dtype:
                    arrays[i][...] = state[f"{s}/{i}"]
                else:
                    arrays[i] = np.array(state[f"{s}/{i}"], dtype=p.value.dtype)
        for c in self.counts:
            getattr(self, c)[:] = [int(state[f"{c}/{i}"]) for i in range(n)]

    # -- words ----------------------------------------------------------------------------------
    def heading(self) -> str:
        """Return what the update is, for a trace's heading: ``"Adam, w ← w − η m̂/(√v̂ + ε)"``."""
        return f"{type(self).__name__}, {self.rule('w')}"

    def rule(self, name: str = "w") -> str:
        """Return the update of a parameter called ``name``, in plain text: ``"w ← w − η ∂E/∂w"``."""
        raise NotImplementedError

    def explain(self, parameter: Parameter, old: np.ndarray, before: dict, number: Callable[[Any], str]) -> list[str]:
        """Return the lines that say how the last step changed ``parameter``, with the numbers.

        ``tg.trace`` calls it after the step it explains.

        Parameters
        ----------
        parameter : Parameter
            One of the parameters, after the step.
        old : numpy.ndarray
            Its value before the step.
        before : dict
            What ``state_dict()`` returned just before the step.
        number : callable
            Writes an array or number into a line: ``f"v = {number(v)}"``.

        Returns
        -------
        list of str
            One line per quantity the step computes (the new state, then the new value), each
            ending in its numbers.
        """
        raise NotImplementedError

    def _gradient(self, parameter: Parameter, old: np.ndarray, number: Callable) -> tuple[str, list[str], Any]:
        """Return the gradient a rule reads, for ``explain``: its symbol, the line that makes it, its value."""
        n, lam = parameter.name, self.weight_decay
        if not lam:
            return f"∂E/∂{n}", [], parameter.grad
        g = parameter.grad + lam * old
        return "g", [f"with weight decay g = ∂E/∂{n} + λ {n} = ∂E/∂{n} + {lam:g} · old = {number(g)}"], g

    def __repr__(self) -> str:
        """Return ``Name(n parameters, lr=…)``, with each setting that is not its default."""
        defaults = {k: p.default for k, p in inspect.signature(type(self)).parameters.items()}
        settings = [f"{k}={v}" for k, v in self._settings.items() if k == "lr" or v != defaults.get(k)]
        return f"{type(self).__name__}({len(self._parameters)} parameters, {', '.join(settings)})"
