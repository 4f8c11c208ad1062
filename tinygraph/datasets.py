"""Small data sets for learning: each returns ``(X, T)``; generated ones seeded, real ones from scikit-learn.

Generated: ``xor``, ``linear``, ``blobs``, ``moons``, ``circles``, ``spirals`` (classes) and
``sine`` (regression). Real, bundled with scikit-learn (the ``data`` extra): ``digits`` (also as
8×8 images), ``iris``, ``wine``, ``breast_cancer``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from .checks import number, shown, whole
from .errors import GraphError

MAX_ROWS = 10_000_000  # rows a generated data set may have


def _check(n: Any, noise: Any, seed_value: Any = None) -> None:
    """Check the n, noise and seed of a generated data set before anything is drawn."""
    whole("datasets: n", n, high=MAX_ROWS)
    number("datasets: noise", noise, low=0)
    checks.seed("datasets: seed", seed_value)


def xor(n: int = 4, noise: float = 0.0, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Make the XOR problem: the 4 corners of the unit square (repeated to ``n`` rows), t = x₁ XOR x₂.

    No single neuron separates it; one hidden layer of two does.

    Parameters
    ----------
    n : int, optional
        The number of rows, the corners in the order (0, 0), (0, 1), (1, 0), (1, 1) over and
        over; 4 by default.
    noise : float, optional
        The standard deviation of Gaussian noise added to every coordinate, ≥ 0.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.

    Returns
    -------
    X : numpy.ndarray
        The inputs, shape ``(n, 2)``.
    T : numpy.ndarray
        The targets 0.0 or 1.0, shape ``(n,)``: feed ``T[:, None]`` to an output of shape
        ``(1,)``.

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not a whole number, or ``noise`` not a number.
    tinygraph.GraphError
        If ``n`` is not from 1 to 10⁷, ``seed`` is negative, or ``noise`` negative or not
        finite.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.xor()
    >>> X
    array([[0., 0.],
           [0., 1.],
           [1., 0.],
           [1., 1.]])
    >>> T
    array([0., 1., 1., 0.])
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    X = corners[np.arange(n) % 4] + noise * rng.normal(size=(n, 2))
    T = np.array([0, 1, 1, 0], dtype=float)[np.arange(n) % 4]
    return X, T


def linear(
    n: int = 100, noise: float = 0.0, seed: int | None = None, margin: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Make two linearly separable classes in 2-D, split by a random line with a gap of ``margin``.

    The line passes through the origin; points lie in the square [-1, 1]² and at
    least ``margin`` (0 <= margin < 1) from the line, before ``noise`` is added.

    Parameters
    ----------
    n : int, optional
        The number of rows, 100 by default.
    noise : float, optional
        The standard deviation of Gaussian noise added to every coordinate, ≥ 0.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.
    margin : float, optional
        The least distance of a point from the line (before the noise), 0 ≤ margin < 1.

    Returns
    -------
    X : numpy.ndarray
        The points, shape ``(n, 2)``.
    T : numpy.ndarray
        The class of each point, 0.0 or 1.0 (the side of the line), shape ``(n,)``.

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not a whole number, or ``noise`` or ``margin`` not a number.
    tinygraph.GraphError
        If ``n`` is not from 1 to 10⁷, ``seed`` is negative, ``noise`` negative or not
        finite, or ``margin`` not in [0, 1).

    Examples
    --------
    A single neuron, the perceptron, can learn it:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.linear(100, seed=0)
    >>> X.shape, T.shape
    ((100, 2), (100,))
    >>> np.unique(T)
    array([0., 1.])
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
    """Make Gaussian clusters around ``centers`` random points; T is the cluster index.

    Parameters
    ----------
    n : int, optional
        The number of rows, 100 by default, dealt to the clusters in turn.
    centers : int, optional
        The number of clusters, 3 by default; their centres are drawn from [−3, 3]².
    noise : float, optional
        The standard deviation of each cluster around its centre, ≥ 0; 0.5 by default.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.

    Returns
    -------
    X : numpy.ndarray
        The points, shape ``(n, 2)``.
    T : numpy.ndarray
        The cluster index of each point, 0.0 … centers − 1, shape ``(n,)``: class indices
        for ``SoftmaxCrossEntropy``, or ``one_hot(T)``.

    Raises
    ------
    TypeError
        If ``n``, ``centers`` or ``seed`` is not a whole number, or ``noise`` not a number.
    tinygraph.GraphError
        If ``n`` or ``centers`` is not from 1 to 10⁷, ``seed`` is negative, or ``noise``
        negative or not finite.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.blobs(6, centers=3, seed=0)
    >>> X.shape
    (6, 2)
    >>> T
    array([0., 1., 2., 0., 1., 2.])
    """
    _check(n, noise, seed)
    whole("datasets.blobs: centers", centers, high=MAX_ROWS)
    rng = np.random.default_rng(seed)
    points = rng.uniform(-3, 3, size=(centers, 2))
    T = np.arange(n) % centers
    X = points[T] + noise * rng.normal(size=(n, 2))
    return X, T.astype(float)


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Make two interleaving half circles.

    Class 0 is the upper half of the unit circle, class 1 the lower half of one shifted by
    (1, 0.5), so that each reaches into the other; a curved boundary separates them.

    Parameters
    ----------
    n : int, optional
        The number of rows, 200 by default, the classes taking turns.
    noise : float, optional
        The standard deviation of Gaussian noise added to every coordinate, ≥ 0.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.

    Returns
    -------
    X : numpy.ndarray
        The points, shape ``(n, 2)``.
    T : numpy.ndarray
        The class of each point, 0.0 and 1.0 in turn, shape ``(n,)``.

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not a whole number, or ``noise`` not a number.
    tinygraph.GraphError
        If ``n`` is not from 1 to 10⁷, ``seed`` is negative, or ``noise`` negative or not
        finite.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.moons(seed=0)
    >>> X.shape, T[:4]
    ((200, 2), array([0., 1., 0., 1.]))
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    T = np.arange(n) % 2
    angle = rng.uniform(0, np.pi, size=n)
    X = np.where(T[:, None] == 0, np.c_[np.cos(angle), np.sin(angle)], np.c_[1 - np.cos(angle), 0.5 - np.sin(angle)])
    return X + noise * rng.normal(size=X.shape), T.astype(float)


def circles(
    n: int = 200, noise: float = 0.05, factor: float = 0.5, seed: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Make a small circle (T=1) of radius ``factor`` (0 < factor < 1) inside a large one (T=0).

    Parameters
    ----------
    n : int, optional
        The number of rows, 200 by default, the classes taking turns.
    noise : float, optional
        The standard deviation of Gaussian noise added to every coordinate, ≥ 0.
    factor : float, optional
        The radius of the inner circle (the outer one has radius 1), 0 < factor < 1.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.

    Returns
    -------
    X : numpy.ndarray
        The points, shape ``(n, 2)``.
    T : numpy.ndarray
        0.0 on the outer circle, 1.0 on the inner one, in turn, shape ``(n,)``.

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not a whole number, or ``noise`` or ``factor`` not a number.
    tinygraph.GraphError
        If ``n`` is not from 1 to 10⁷, ``seed`` is negative, ``noise`` negative or not
        finite, or ``factor`` not in (0, 1).

    Examples
    --------
    Without noise every point lies on its circle:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.circles(4, noise=0.0, seed=0)
    >>> np.round(np.hypot(X[:, 0], X[:, 1]), 6), T
    (array([1. , 0.5, 1. , 0.5]), array([0., 1., 0., 1.]))
    """
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
    """Make two interleaved spirals of ``turns`` turns: hard for a linear model, fine for a hidden layer or two.

    Parameters
    ----------
    n : int, optional
        The number of rows, 200 by default, the classes taking turns.
    noise : float, optional
        The standard deviation of Gaussian noise added to every coordinate, ≥ 0, scaled by each point's radius.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.
    turns : float, optional
        How many times each spiral winds around the centre, 0 < turns ≤ 1000.

    Returns
    -------
    X : numpy.ndarray
        The points, at radii from 0.1 to 1, shape ``(n, 2)``.
    T : numpy.ndarray
        The spiral of each point, 0.0 and 1.0 in turn, shape ``(n,)``.

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not a whole number, or ``noise`` or ``turns`` not a number.
    tinygraph.GraphError
        If ``n`` is not from 1 to 10⁷, ``seed`` is negative, ``noise`` negative or not
        finite, or ``turns`` not in (0, 1000].

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.spirals(seed=0)
    >>> X.shape, T[:4]
    ((200, 2), array([0., 1., 0., 1.]))
    """
    _check(n, noise, seed)
    number("datasets.spirals: turns", turns, low=0, high=1000, strict="low")
    rng = np.random.default_rng(seed)
    T = np.arange(n) % 2
    r = rng.uniform(0.1, 1.0, size=n)
    angle = 2 * np.pi * turns * r + np.pi * T
    X = r[:, None] * np.c_[np.cos(angle), np.sin(angle)]
    return X + noise * rng.normal(size=X.shape) * r[:, None], T.astype(float)


def sine(n: int = 100, noise: float = 0.1, seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Make a regression problem: x drawn uniformly from [−π, π], t = sin(x) + noise.

    One period of the sine, for a network with one input and one linear output trained with
    ``SquaredLoss``: a hidden layer of a few tanh units fits it.

    Parameters
    ----------
    n : int, optional
        The number of rows, 100 by default.
    noise : float, optional
        The standard deviation of Gaussian noise added to each target, ≥ 0; 0.1 by default.
    seed : int, optional
        Seeds the random numbers (``np.random.default_rng``); None draws fresh ones.

    Returns
    -------
    X : numpy.ndarray
        The inputs, in [−π, π] and in the order drawn, shape ``(n, 1)``, float64.
    T : numpy.ndarray
        The targets sin(x) + noise, shape ``(n,)``, float64: feed ``T[:, None]`` to an output
        of shape ``(1,)``.

    Raises
    ------
    TypeError
        If ``n`` or ``seed`` is not a whole number, or ``noise`` not a number.
    tinygraph.GraphError
        If ``n`` is not from 1 to 10⁷, ``seed`` is negative, or ``noise`` negative or not
        finite.

    Examples
    --------
    Without noise the targets are the sine itself:

    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.sine(5, noise=0.0, seed=0)
    >>> X.shape, T.shape
    ((5, 1), (5,))
    >>> bool(np.all(T == np.sin(X[:, 0]))), bool(np.all(np.abs(X) <= np.pi))
    (True, True)
    """
    _check(n, noise, seed)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-np.pi, np.pi, size=(n, 1))
    return X, np.sin(X[:, 0]) + noise * rng.normal(size=n)


def _scikit_learn(what: str) -> tuple[np.ndarray, np.ndarray]:
    """Return `load_<what>()` of sklearn.datasets as (float64 features, int64 labels), or say to install it."""
    try:
        import sklearn.datasets
    except ImportError:
        raise ImportError(
            f'datasets.{what} needs scikit-learn: pip install "tinygraph[data]" (or pip install scikit-learn)'
        ) from None
    data = getattr(sklearn.datasets, f"load_{what}")()
    return data.data.astype(np.float64), data.target.astype(np.int64)


def digits(images: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Load the real 8×8 handwritten digits (UCI, 1797 images), as shipped inside scikit-learn.

    Returns ``X`` of shape (1797, 64), float64 pixel intensities scaled from 0..16
    to [0, 1] (row-major 8×8 images), and ``T`` of shape (1797,), int64 class
    labels 0..9 (feed them to ``SoftmaxCrossEntropy`` or ``one_hot`` them).
    Needs scikit-learn (no download: the data is inside the package).

    Parameters
    ----------
    images : bool, optional
        False (the default) for one row of 64 pixels per image; True for images of shape
        ``(1, 8, 8)``, channels first, for convolution. Both hold the same samples in the
        same order, the pixels scaled the same way: ``digits(images=True)[0]`` is
        ``digits()[0].reshape(-1, 1, 8, 8)``.

    Returns
    -------
    X : numpy.ndarray
        The images, values in [0, 1] (the 0..16 intensities divided by 16), float64: one
        row of 64 pixels each, shape ``(1797, 64)``, or with ``images=True`` one channel of
        8 rows of 8 pixels each, shape ``(1797, 1, 8, 8)``.
    T : numpy.ndarray
        The digit shown in each image, 0 … 9, shape ``(1797,)``, int64.

    Raises
    ------
    TypeError
        If ``images`` is not True or False.
    ImportError
        If scikit-learn is not installed (``pip install "tinygraph[data]"``).

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.digits()
    >>> X.shape, T.shape
    ((1797, 64), (1797,))
    >>> T[:10]
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> tg.datasets.digits(images=True)[0].shape
    (1797, 1, 8, 8)
    """
    images = checks.flag("datasets.digits: images", images)
    X, T = _scikit_learn("digits")
    X = X / 16.0
    return X.reshape(-1, 1, 8, 8) if images else X, T


def iris() -> tuple[np.ndarray, np.ndarray]:
    """Load Fisher's iris flowers (UCI, 150 flowers, 3 species), as shipped inside scikit-learn.

    Four measurements per flower, in centimetres as measured (not scaled): sepal length,
    sepal width, petal length, petal width, so standardize the columns before training, by
    the training rows' mean and standard deviation, after the split (as for ``wine()``).
    Setosa stands apart from the other two, which overlap a little. The rows are
    scikit-learn's ``load_iris()``, in its order (sorted by species). Needs scikit-learn
    (no download: the data is inside the package).

    Returns
    -------
    X : numpy.ndarray
        The measurements, shape ``(150, 4)``, float64.
    T : numpy.ndarray
        The species, 0 setosa, 1 versicolor, 2 virginica (50 each), shape ``(150,)``, int64:
        class indices for ``SoftmaxCrossEntropy``, or ``one_hot(T)``.

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install "tinygraph[data]"``).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.iris()
    >>> X.shape, T.shape, X.dtype, T.dtype
    ((150, 4), (150,), dtype('float64'), dtype('int64'))
    >>> X[0], np.bincount(T)
    (array([5.1, 3.5, 1.4, 0.2]), array([50, 50, 50]))
    """
    return _scikit_learn("iris")


def wine() -> tuple[np.ndarray, np.ndarray]:
    """Load the wine recognition data (UCI, 178 wines from 3 cultivars), as shipped inside scikit-learn.

    Thirteen chemical measurements per wine (alcohol, malic acid, ash, …, proline), in
    their own units and not scaled: they range from below 1 to over 1000, so standardize
    the columns before training: split first, then scale both parts by the training rows'
    mean and standard deviation (the test rows must take no part in them, as new data would
    not). The rows are scikit-learn's ``load_wine()``, in its order. Needs scikit-learn (no
    download).

    Returns
    -------
    X : numpy.ndarray
        The measurements, shape ``(178, 13)``, float64.
    T : numpy.ndarray
        The cultivar, 0, 1 or 2 (59, 71 and 48 wines), shape ``(178,)``, int64: class
        indices for ``SoftmaxCrossEntropy``, or ``one_hot(T)``.

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install "tinygraph[data]"``).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.wine()
    >>> X.shape, T.shape, np.bincount(T)
    ((178, 13), (178,), array([59, 71, 48]))
    >>> X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, seed=0)
    >>> mean, std = X_train.mean(axis=0), X_train.std(axis=0)  # the training rows' alone
    >>> X_train, X_test = (X_train - mean) / std, (X_test - mean) / std
    >>> np.round(X_train.std(axis=0), 6).tolist() == [1.0] * 13
    True
    """
    return _scikit_learn("wine")


def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    """Load the Wisconsin diagnostic breast cancer data (UCI, 569 tumours), as shipped inside scikit-learn.

    Thirty features per tumour, computed from a digitized image of a fine needle aspirate
    of the cell nuclei: the mean, standard error and worst value of ten measures (radius,
    texture, perimeter, area, …), in their own units and not scaled (from 0 to over 4000),
    so standardize the columns before training, by the training rows' mean and standard
    deviation, after the split (as for ``wine()``). The rows are scikit-learn's
    ``load_breast_cancer()``, in its order. Needs scikit-learn (no download).

    Returns
    -------
    X : numpy.ndarray
        The features, shape ``(569, 30)``, float64.
    T : numpy.ndarray
        The diagnosis, 0 malignant (212) or 1 benign (357), shape ``(569,)``, int64: a 0/1
        target for one logistic output and ``LogLoss``, or class indices for two outputs
        and ``SoftmaxCrossEntropy``.

    Raises
    ------
    ImportError
        If scikit-learn is not installed (``pip install "tinygraph[data]"``).

    Examples
    --------
    >>> import numpy as np
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.breast_cancer()
    >>> X.shape, T.shape, np.bincount(T)
    ((569, 30), (569,), array([212, 357]))
    """
    return _scikit_learn("breast_cancer")


def one_hot(labels: Any, n_classes: int | None = None) -> np.ndarray:
    """Make rows of 0s with a 1 at each label's index: ``one_hot([0, 2]) → [[1,0,0],[0,0,1]]``.

    Parameters
    ----------
    labels : array_like
        A 1-D array of class indices: non-negative whole numbers (ints, or floats such as
        the ``T`` of ``blobs``).
    n_classes : int, optional
        The number of columns; by default the largest label + 1.

    Returns
    -------
    numpy.ndarray
        Float64 rows, shape ``(len(labels), n_classes)``: targets for
        ``SoftmaxCrossEntropy`` or ``SquaredLoss`` on one output per class.

    Raises
    ------
    tinygraph.GraphError
        If ``labels`` is not a non-empty 1-D array of non-negative whole numbers below
        10⁷, or a label is not below ``n_classes``.
    TypeError
        If ``n_classes`` is not a whole number.

    Examples
    --------
    >>> import tinygraph as tg
    >>> tg.datasets.one_hot([0, 2, 1])
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> tg.datasets.one_hot([1], n_classes=3)
    array([[0., 1., 0.]])
    """
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
    """Shuffle the rows and split them: returns ``X_train, X_test, T_train, T_test``.

    Parameters
    ----------
    X : array_like
        The inputs, one row per sample.
    T : array_like
        The targets, with as many rows as X.
    test : float, optional
        The share of the rows that goes to the test set, 0 < test < 1 (a quarter by
        default); at least one row does.
    seed : int, optional
        Seeds the shuffle; None shuffles afresh.

    Returns
    -------
    X_train : numpy.ndarray
        The training rows of X, shuffled.
    X_test : numpy.ndarray
        The test rows of X, shuffled.
    T_train : numpy.ndarray
        The targets of X_train, in the same order.
    T_test : numpy.ndarray
        The targets of X_test, in the same order.

    Raises
    ------
    tinygraph.GraphError
        If X and T differ in their numbers of rows, ``test`` is not in (0, 1), the
        split would leave no training rows, or ``seed`` is negative.
    TypeError
        If ``test`` is not a number or ``seed`` not a whole number.

    Examples
    --------
    >>> import tinygraph as tg
    >>> X, T = tg.datasets.xor(8)
    >>> X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, test=0.25, seed=0)
    >>> X_train.shape, X_test.shape, T_train.shape, T_test.shape
    ((6, 2), (2, 2), (6,), (2,))
    """
    X, T = np.asarray(X), np.asarray(T)
    if len(X) != len(T):
        raise GraphError(f"train_test_split: X has {len(X)} rows but T has {len(T)}")
    number("train_test_split: test", test, low=0, high=1, strict="low high")
    checks.seed("train_test_split: seed", seed)
    order = np.random.default_rng(seed).permutation(len(X))
    n_test = max(1, int(round(test * len(X))))
    if n_test >= len(X):
        raise GraphError(
            f"train_test_split: test={test} of {len(X)} rows would leave no training rows "
            f"({n_test} test rows); give more rows or a smaller test share"
        )
    te, tr = order[:n_test], order[n_test:]
    return X[tr], X[te], T[tr], T[te]
