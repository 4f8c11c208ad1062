"""Small data sets for learning: each returns ``(X, T)``, generated ones seeded, ``digits`` real."""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .checks import number, shown, whole
from .errors import GraphError

MAX_ROWS = 10_000_000  # rows a generated data set may have


def _check(n: Any, noise: Any, seed_value: Any = None) -> None:
    """n, noise and seed of a generated data set, checked before anything is drawn."""
    whole("datasets: n", n, high=MAX_ROWS)
    number("datasets: noise", noise, low=0)
    checks.seed("datasets: seed", seed_value)


def xor(n: int = 4, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The XOR problem: the 4 corners of the unit square (repeated to ``n`` rows), t = x₁ XOR x₂."""
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    X = corners[np.arange(n) % 4] + noise * rng.normal(size=(n, 2))
    T = np.array([0, 1, 1, 0], dtype=float)[np.arange(n) % 4]
    return X, T


def linear(
    n: int = 100, noise: float = 0.0, seed: int | None = None, margin: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Two linearly separable classes in 2-D, split by a random line with a gap of ``margin``.

    The line passes through the origin; points lie in the square [-1, 1]² and at
    least ``margin`` (0 <= margin < 1) from the line, before ``noise`` is added.
    """
    _check(n, noise, seed)
    number("datasets.linear: margin", margin, low=0, high=1, strict="high")
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)])
    X = np.empty((0, 2))
    while len(X) < n:  # draw until n points fall outside the gap
        more = rng.uniform(-1, 1, size=(4 * n, 2))
        X = np.vstack([X, more[np.abs(more @ normal) > margin]])
    X = X[:n]
    T = (X @ normal > 0).astype(float)
    return X + noise * rng.normal(size=X.shape), T


def blobs(n: int = 100, centers: int = 3, noise: float = 0.5, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian clusters around ``centers`` random points; T is the cluster index."""
    _check(n, noise, seed)
    whole("datasets.blobs: centers", centers, high=MAX_ROWS)
    rng = np.random.default_rng(seed)
    points = rng.uniform(-3, 3, size=(centers, 2))
    T = np.arange(n) % centers
    X = points[T] + noise * rng.normal(size=(n, 2))
    return X, T.astype(float)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles."""
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    T = np.arange(n) % 2
    angle = rng.uniform(0, np.pi, size=n)
    X = np.where(T[:, None] == 0, np.c_[np.cos(angle), np.sin(angle)], np.c_[1 - np.cos(angle), 0.5 - np.sin(angle)])
    return X + noise * rng.normal(size=X.shape), T.astype(float)


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A small circle (T=1) of radius ``factor`` (0 < factor < 1) inside a large one (T=0)."""
    _check(n, noise, seed)
    number("datasets.circles: factor", factor, low=0, high=1, strict="low high")
    rng = np.random.default_rng(seed)
    T = np.arange(n) % 2
    angle = rng.uniform(0, 2 * np.pi, size=n)
    radius = np.where(T == 1, factor, 1.0)
    X = radius[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + noise * rng.normal(size=X.shape), T.astype(float)


def spirals(
    n: int = 200, noise: float = 0.1, turns: float = 1.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of ``turns`` turns: hard for a linear model, fine for a hidden layer or two."""
    _check(n, noise, seed)
    number("datasets.spirals: turns", turns, low=0, high=1000, strict="low")
    rng = np.random.default_rng(seed)
    T = np.arange(n) % 2
    r = rng.uniform(0.1, 1.0, size=n)
    angle = 2 * np.pi * turns * r + np.pi * T
    X = r[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + noise * rng.normal(size=X.shape) * r[:, None], T.astype(float)


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The real 8×8 handwritten digits (UCI, 1797 images), as shipped inside scikit-learn.

    Returns ``X`` of shape (1797, 64), float64 pixel intensities scaled from 0..16
    to [0, 1] (row-major 8×8 images), and ``T`` of shape (1797,), int64 class
    labels 0..9 (feed them to ``SoftmaxCrossEntropy`` or ``one_hot`` them).
    Needs scikit-learn (no download: the data is inside the package).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError(
            'datasets.digits needs scikit-learn: pip install "tinygraph[data]" (or pip install scikit-learn)'
        ) from None
    data = load_digits()
    return data.data.astype(np.float64) / 16.0, data.target.astype(np.int64)


def one_hot(labels: Any, n_classes: int | None = None) -> np.ndarray:
    """Rows of 0s with a 1 at each label's index: ``one_hot([0, 2]) → [[1,0,0],[0,0,1]]``."""
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0 or labels.dtype.kind not in "iuf":
        raise GraphError(f"one_hot: expected a 1-D array of non-negative whole numbers, got {shown(labels)}")
    with np.errstate(invalid="ignore"):
        idx = labels.astype(np.int64)
    if np.any(idx != labels) or np.any(idx < 0) or np.any(idx >= MAX_ROWS):
        raise GraphError(f"one_hot: expected non-negative whole numbers below {MAX_ROWS}, got {shown(labels[:10])}")
    n_classes = int(idx.max()) + 1 if n_classes is None else whole("one_hot: n_classes", n_classes, high=MAX_ROWS)
    if idx.size and idx.max() >= n_classes:
        raise GraphError(f"one_hot: label {idx.max()} is out of range for {n_classes} classes")
    out = np.zeros((len(idx), n_classes))
    out[np.arange(len(idx)), idx] = 1.0
    return out


def train_test_split(X: Any, T: Any, test: float = 0.25, seed: int | None = None) -> tuple[np.ndarray, ...]:
    """Shuffle the rows and split them: returns ``X_train, X_test, T_train, T_test``."""
    X, T = np.asarray(X), np.asarray(T)
    if len(X) != len(T):
        raise GraphError(f"train_test_split: X has {len(X)} rows but T has {len(T)}")
    number("train_test_split: test", test, low=0, high=1, strict="low high")
    checks.seed("train_test_split: seed", seed)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, int(round(test * len(X))))
    te, tr = order[:n_test], order[n_test:]
    return X[tr], X[te], T[tr], T[te]
