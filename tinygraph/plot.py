"""Optional matplotlib plots: learning curves and 2-D decision boundaries (PNG via Agg)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .checks import output_path, whole
from .errors import GraphError


def _figure(ax, figsize):
    """Return the Figure to draw in and its axes: ``ax``'s own, or a new off-screen Agg figure."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError('tinygraph.plot needs matplotlib: pip install "tinygraph[plot]"') from None
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)  # renders without a display; no pyplot state, nothing to close
    return fig, fig.add_subplot()


def _finish(fig, path):
    if path is not None:
        path = output_path("plot", path)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        fig.savefig(path, format="png", dpi=100)
    return fig


def _curve(values, label):
    what = "plot.loss: history" + ("" if label is None else f" {label!r}")
    try:
        values = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a list of numbers (per-epoch losses)") from None
    if values.ndim != 1 or values.size == 0:
        raise GraphError(f"{what} must be a non-empty list of per-epoch losses, got shape {values.shape}")
    return values


def loss(history: Any, path: Any = None, ax: Any = None, title: str | None = None) -> Any:
    """Draw the learning curve: mean loss of each epoch (what ``fit`` returns) against the epoch.

    ``history`` is one list of losses, or a dict ``{label: history}`` to compare
    several runs on the same axes.  The y axis is logarithmic when the losses span
    a factor of 10 or more.  Returns the matplotlib Figure; with ``path`` also
    saves it as a PNG.  To draw into a pyplot figure pass ``ax=plt.gca()``.

    Parameters
    ----------
    history : list of float or dict
        The per-epoch mean losses of one run, or ``{label: losses}`` for several, each
        drawn as a labelled curve.
    path : str or os.PathLike, optional
        Where to save the figure as a PNG (folders above it are made); None saves nothing.
    ax : matplotlib.axes.Axes, optional
        The axes to draw into; by default a new figure of its own, drawn off-screen.
    title : str, optional
        The title; "learning curve" by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn (``ax``'s, when given).

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install "tinygraph[plot]"``).
    TypeError
        If a history is not a list of numbers, or ``path`` not a path.
    tinygraph.GraphError
        If ``history`` is empty, a dict of none, or not one loss per epoch, or ``path``
        cannot be written.

    Examples
    --------
    >>> import tinygraph as tg
    >>> fig = tg.plot.loss([0.9, 0.5, 0.3, 0.2])
    >>> ax = fig.axes[0]
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.get_yscale()
    ('epoch', 'mean loss', 'linear')
    >>> fig = tg.plot.loss({"lr 0.1": [1.0, 0.5], "lr 1": [1.0, 0.05]})
    >>> fig.axes[0].get_yscale()  # the losses span a factor of 20
    'log'
    """
    curves = history if isinstance(history, dict) else {None: history}
    if not curves:
        raise GraphError("plot.loss: history is an empty dict; give {label: per-epoch losses}")
    curves = {label: _curve(values, label) for label, values in curves.items()}
    fig, ax = _figure(ax, (6, 4))
    for label, values in curves.items():
        ax.plot(np.arange(1, len(values) + 1), values, label=label, marker="o" if len(values) <= 30 else None)
    every = np.concatenate(list(curves.values()))
    if every.min() > 0 and every.max() / every.min() >= 10:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("mean loss")
    ax.set_title(title or "learning curve")
    ax.grid(True, alpha=0.3)
    if any(label is not None for label in curves):
        ax.legend()
    return _finish(fig, path)


def _labels(T, n):
    """Return the class index per row, from labels, a column of 0/1 targets, or one-hot rows."""
    T = np.asarray(T)
    if T.ndim == 2 and T.shape[1] > 1:
        T = T.argmax(axis=1)
    T = T.reshape(len(T), -1)[:, 0] if T.ndim else T
    if T.ndim != 1 or len(T) != n:
        raise GraphError(f"plot.decision_boundary: T must hold one label per row of X ({n}), got shape {np.shape(T)}")
    labels = np.rint(T).astype(int)
    if labels.min() < 0:
        raise GraphError(f"plot.decision_boundary: class labels must be 0, 1, …; got {labels.min()}")
    return labels


def decision_boundary(
    network: Any, X: Any, T: Any, path: Any = None, ax: Any = None, resolution: int = 200, title: str | None = None
) -> Any:
    """Draw what a classifier predicts over the plane, with the data points on top.

    ``network.predict(rows)`` must return, for rows of 2-D inputs, either one
    probability per row (one logistic output unit: the background shades
    P(class 1) and a black line marks 0.5) or one column per class (softmax: the
    background shows the argmax class).  ``X`` is (n, 2); ``T`` class labels, a
    column of 0/1 targets, or one-hot rows.  The grid covers the data with a
    margin, ``resolution`` points a side.  Returns the Figure; with ``path`` also
    saves it as a PNG.

    Parameters
    ----------
    network : object
        Anything with ``predict(rows)``, such as an ``mlp`` Network.
    X : array_like
        The data points, shape ``(n, 2)``.
    T : array_like
        Their classes: labels ``(n,)``, a column of 0/1 targets ``(n, 1)``, or one-hot
        rows ``(n, k)``.
    path : str or os.PathLike, optional
        Where to save the figure as a PNG (folders above it are made); None saves nothing.
    ax : matplotlib.axes.Axes, optional
        The axes to draw into; by default a new figure of its own, drawn off-screen.
    resolution : int, optional
        The grid's points a side (≥ 2), 200 by default: ``network.predict`` gets
        resolution² rows at once.
    title : str, optional
        The title; "decision boundary" by default.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn (``ax``'s, when given); with one output unit it has a colour bar.

    Raises
    ------
    ImportError
        If matplotlib is not installed (``pip install "tinygraph[plot]"``).
    TypeError
        If ``network`` has no ``predict``, ``resolution`` is not a whole number, or
        ``path`` is not a path.
    tinygraph.GraphError
        If X is not of shape ``(n, 2)``, T does not hold one label ≥ 0 per row,
        ``resolution`` is < 2, ``predict`` returns neither one number
        nor one row per grid point, or ``path`` cannot be written.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.xor()
    >>> net = tg.mlp([2, 2, 1], seed=0)
    >>> fig = tg.plot.decision_boundary(net, X, T, resolution=50)
    >>> fig.axes[0].get_title(), fig.axes[1].get_ylabel()
    ('decision boundary', 'P(class 1)')
    """
    if not hasattr(network, "predict"):
        raise TypeError(f"plot.decision_boundary: expected a network with .predict(X), got {type(network).__name__}")
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise GraphError(f"plot.decision_boundary: needs 2-D inputs, X of shape (n, 2); got {X.shape}")
    labels = _labels(T, len(X))
    resolution = whole("plot.decision_boundary: resolution", resolution, low=2)
    fig, ax = _figure(ax, (6.4, 5))
    low, high = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(high - low, 1e-9)
    u = np.linspace(low[0] - pad[0], high[0] + pad[0], resolution)
    v = np.linspace(low[1] - pad[1], high[1] + pad[1], resolution)
    U, V = np.meshgrid(u, v)
    P = np.asarray(network.predict(np.c_[U.ravel(), V.ravel()]), dtype=float)
    if P.ndim not in (1, 2) or len(P) != U.size:
        raise GraphError(
            f"plot.decision_boundary: network.predict gave shape {P.shape} for {U.size} "
            "rows; expected one probability or one row of class scores per row"
        )
    P = P.reshape(U.size, -1)
    n_classes = max(P.shape[1], labels.max() + 1, 2)
    colours = _colours(n_classes)
    if P.shape[1] == 1:  # one logistic unit: shade P(class 1), blue (0) to red (1)
        shade = ax.contourf(U, V, P[:, 0].reshape(U.shape), levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(U, V, P[:, 0].reshape(U.shape), levels=[0.5], colors="black", linewidths=1.5)
        fig.colorbar(shade, ax=ax, label="P(class 1)")
    else:  # several classes: colour each point of the plane by its argmax class
        from matplotlib.colors import ListedColormap

        k = P.shape[1]
        du, dv = u[1] - u[0], v[1] - v[0]  # each pixel centred on its grid point
        ax.imshow(
            P.argmax(axis=1).reshape(U.shape),
            origin="lower",
            aspect="auto",
            extent=(u[0] - du / 2, u[-1] + du / 2, v[0] - dv / 2, v[-1] + dv / 2),
            cmap=ListedColormap(colours[:k]),
            vmin=-0.5,
            vmax=k - 0.5,
            alpha=0.35,
            interpolation="nearest",
        )
        for c in range(k):  # class c wins where its probability beats every other class's
            margin = P[:, c] - np.delete(P, c, axis=1).max(axis=1)
            if margin.min() < 0 < margin.max():
                ax.contour(U, V, margin.reshape(U.shape), levels=[0.0], colors="black", linewidths=1)
    for c in np.unique(labels):
        mine = labels == c
        ax.scatter(
            X[mine, 0], X[mine, 1], s=22, color=colours[c], edgecolors="white", linewidths=0.6, label=f"class {c}"
        )
    ax.set_xlim(u[0], u[-1])
    ax.set_ylim(v[0], v[-1])
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(title or "decision boundary")
    ax.legend(loc="best", framealpha=0.9)
    return _finish(fig, path)


def _colours(n):
    """Return the class colours: blue and red for two classes (matching the shading), tab10/tab20 beyond."""
    from matplotlib import colormaps

    if n <= 2:
        return ["#2166ac", "#b2182b"]
    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]
