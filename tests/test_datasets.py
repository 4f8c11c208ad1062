"""tinygraph.datasets: shapes, dtypes, seeding, noise, separability, the real digits."""

import sys
import time

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import datasets

GENERATORS = ["xor", "linear", "blobs", "moons", "circles", "spirals"]


@pytest.mark.parametrize("name", GENERATORS)
@pytest.mark.parametrize("n", [1, 7, 50])
def test_shapes_and_dtypes(name, n):
    X, T = getattr(datasets, name)(n=n, noise=0.1, seed=0)
    assert X.shape == (n, 2) and T.shape == (n,)
    assert X.dtype == np.float64 and T.dtype == np.float64
    assert np.all(np.isfinite(X)) and np.all(T == np.rint(T)) and T.min() >= 0


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_same_data_other_seed_other_data(name):
    make = getattr(datasets, name)
    X1, T1 = make(n=40, noise=0.1, seed=3)
    X2, T2 = make(n=40, noise=0.1, seed=3)
    X3, _ = make(n=40, noise=0.1, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(T1, T2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("name", GENERATORS)
def test_noise_moves_the_points(name):
    make = getattr(datasets, name)
    X0, T0 = make(n=40, noise=0.0, seed=1)
    X1, T1 = make(n=40, noise=0.2, seed=1)
    np.testing.assert_array_equal(T0, T1)
    offsets = np.linalg.norm(X1 - X0, axis=1)
    assert 0.01 < offsets.mean() < 0.6


@pytest.mark.parametrize("name", GENERATORS)
def test_bad_size_or_noise(name):
    make = getattr(datasets, name)
    with pytest.raises(tg.GraphError, match="datasets: n must be a whole number from 1 to 10000000, got 0"):
        make(n=0)
    with pytest.raises(tg.GraphError, match="datasets: noise must be a finite number >= 0, got -1"):
        make(n=5, noise=-1)


def test_two_class_generators_are_balanced():
    for name in ["xor", "moons", "circles", "spirals"]:
        _, T = getattr(datasets, name)(n=100, seed=0)
        assert set(np.unique(T)) == {0.0, 1.0} and T.sum() == 50, name


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("margin", [0.05, 0.1, 0.9])
def test_linear_is_separable_with_a_margin(seed, margin):
    X, T = datasets.linear(n=200, seed=seed, margin=margin)
    assert X.shape == (200, 2) and 0 < T.sum() < 200
    # The perceptron rule converges on separable data: run it until no mistakes.
    Xb = np.c_[X, np.ones(len(X))]
    w = np.zeros(3)
    for _ in range(10_000):
        wrong = (Xb @ w > 0) != (T == 1)
        if not wrong.any():
            break
        i = np.flatnonzero(wrong)[0]
        w += (2 * T[i] - 1) * Xb[i]
    assert not ((Xb @ w > 0) != (T == 1)).any()


def test_linear_bad_margin():
    with pytest.raises(tg.GraphError, match="margin must be a finite number >= 0 and < 1, got 1.5"):
        datasets.linear(margin=1.5)


def test_blobs_classes_and_centers():
    X, T = datasets.blobs(n=90, centers=3, noise=0.1, seed=0)
    assert set(np.unique(T)) == {0.0, 1.0, 2.0}
    means = np.array([X[T == c].mean(axis=0) for c in range(3)])
    spread = max(X[T == c].std(axis=0).max() for c in range(3))
    assert spread < 0.2 and np.min(np.linalg.norm(means[:, None] - means[None], axis=2) + np.eye(3) * 99) > spread
    with pytest.raises(tg.GraphError, match="centers must be a whole number from 1 to 10000000, got 0"):
        datasets.blobs(centers=0)


def test_one_hot_and_split_still_work():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(datasets.one_hot([0, 2]), [[1, 0, 0], [0, 0, 1]])
    X, T = rng.normal(size=(20, 2)), rng.integers(0, 3, 20)
    Xtr, Xte, Ttr, Tte = datasets.train_test_split(X, T, test=0.25, seed=0)
    assert len(Xtr) == 15 and len(Xte) == 5
    assert sorted(map(tuple, np.r_[Xtr, Xte])) == sorted(map(tuple, X))


# -- the real digits (needs scikit-learn) -----------------------------------------
def test_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "tinygraph\[data\]".*pip install scikit-learn'):
        datasets.digits()


def test_digits_shape_and_labels():
    pytest.importorskip("sklearn", reason="datasets.digits needs scikit-learn (tinygraph[data])")
    X, T = datasets.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    assert T.shape == (1797,) and T.dtype == np.int64
    np.testing.assert_array_equal(np.unique(T), np.arange(10))


def test_digits_a_small_network_learns_them():
    pytest.importorskip("sklearn", reason="datasets.digits needs scikit-learn (tinygraph[data])")
    X, T = datasets.digits()
    X_train, X_test, T_train, T_test = datasets.train_test_split(X, T, test=0.25, seed=0)
    net = tg.mlp([64, 32, 10], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0)
    start = time.perf_counter()
    history = net.fit(X_train, T_train, epochs=10, lr=0.05, batch_size=1, seed=0, progress=False)
    seconds = time.perf_counter() - start
    assert history[-1] < history[0] / 5
    assert net.accuracy(X_test, T_test) >= 0.95  # measured: 0.969, in about 1.3 s
    assert seconds < 20


def test_train_test_split_refuses_a_split_that_leaves_no_training_rows():
    X, T = tg.datasets.xor()
    with pytest.raises(tg.GraphError, match=r"test=0.9 of 4 rows would leave no training rows \(4 test rows\)"):
        tg.datasets.train_test_split(X, T, test=0.9, seed=0)
    with pytest.raises(tg.GraphError, match="of 1 rows would leave no training rows"):
        tg.datasets.train_test_split(X[:1], T[:1], test=0.5)
    X_train, X_test, _, _ = tg.datasets.train_test_split(X, T, test=0.75, seed=0)
    assert (len(X_train), len(X_test)) == (1, 3)


# -- sine, a regression set ---------------------------------------------------------
def test_sine_shapes_interval_and_targets():
    X, T = datasets.sine(n=50, noise=0.0, seed=0)
    assert X.shape == (50, 1) and T.shape == (50,)
    assert X.dtype == np.float64 and T.dtype == np.float64
    assert np.all(-np.pi <= X) and np.all(X <= np.pi) and X.min() < -2 and X.max() > 2
    np.testing.assert_allclose(T, np.sin(X[:, 0]), rtol=0, atol=1e-15)


def test_sine_is_seeded_and_its_noise_has_the_asked_standard_deviation():
    X1, T1 = datasets.sine(n=40, seed=3)
    X2, T2 = datasets.sine(n=40, seed=3)
    X3, T3 = datasets.sine(n=40, seed=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(T1, T2)
    assert not np.allclose(X1, X3) and not np.allclose(T1, T3)
    for noise in (0.05, 0.3):
        X, T = datasets.sine(n=20_000, noise=noise, seed=0)
        assert abs((T - np.sin(X[:, 0])).std() / noise - 1) < 0.03, noise  # 20,000 draws: about 0.5% off


def test_sine_default_size_and_validation():
    X, T = datasets.sine()
    assert X.shape == (100, 1) and T.shape == (100,)
    with pytest.raises(tg.GraphError, match="datasets: n must be a whole number from 1 to 10000000, got 0"):
        datasets.sine(n=0)
    with pytest.raises(tg.GraphError, match="datasets: noise must be a finite number >= 0, got -1"):
        datasets.sine(noise=-1)
    with pytest.raises(tg.GraphError, match="datasets: noise must be a finite number >= 0, got nan"):
        datasets.sine(noise=float("nan"))
    with pytest.raises(tg.GraphError, match="datasets: seed must be a whole number >= 0, got -1"):
        datasets.sine(seed=-1)
    with pytest.raises(TypeError, match="datasets: n must be a whole number, got float 10.0"):
        datasets.sine(n=10.0)
    with pytest.raises(TypeError, match="datasets: noise must be a number, got str '0.1'"):
        datasets.sine(noise="0.1")


# -- digits as images, iris, wine, breast_cancer (need scikit-learn) ----------------
REAL = {"iris": ("load_iris", 150, 4, 3), "wine": ("load_wine", 178, 13, 3)}
REAL["breast_cancer"] = ("load_breast_cancer", 569, 30, 2)


@pytest.mark.parametrize("name", ["digits", *REAL])
def test_real_data_sets_without_scikit_learn_name_the_extra(name, monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    message = rf'datasets.{name} needs scikit-learn: pip install "tinygraph\[data\]" \(or pip install scikit-learn\)'
    with pytest.raises(ImportError, match=message):
        getattr(datasets, name)()


@pytest.mark.parametrize("name", REAL)
def test_real_data_sets_are_scikit_learns_rows_as_float64_and_int64(name):
    sk = pytest.importorskip("sklearn.datasets", reason="the real data sets need scikit-learn (tinygraph[data])")
    loader, rows, features, classes = REAL[name]
    X, T = getattr(datasets, name)()
    assert X.shape == (rows, features) and X.dtype == np.float64
    assert T.shape == (rows,) and T.dtype == np.int64
    np.testing.assert_array_equal(np.unique(T), np.arange(classes))
    reference = getattr(sk, loader)()
    np.testing.assert_array_equal(X, reference.data)
    np.testing.assert_array_equal(T, reference.target)
    X[0, 0] = -1.0  # a fresh copy each call: changing one does not change the next
    assert getattr(datasets, name)()[0][0, 0] == reference.data[0, 0]


def test_real_data_sets_class_counts():
    pytest.importorskip("sklearn", reason="the real data sets need scikit-learn (tinygraph[data])")
    assert np.bincount(datasets.iris()[1]).tolist() == [50, 50, 50]
    assert np.bincount(datasets.wine()[1]).tolist() == [59, 71, 48]
    assert np.bincount(datasets.breast_cancer()[1]).tolist() == [212, 357]


def test_digits_as_images_are_the_same_numbers_channels_first():
    sk = pytest.importorskip("sklearn.datasets", reason="datasets.digits needs scikit-learn (tinygraph[data])")
    X, T = datasets.digits()
    images, T_images = datasets.digits(images=True)
    assert images.shape == (1797, 1, 8, 8) and images.dtype == np.float64
    np.testing.assert_array_equal(images[:, 0], sk.load_digits().images / 16.0)  # row-major 8×8, scaled to [0, 1]
    np.testing.assert_array_equal(images.reshape(1797, 64), X)
    np.testing.assert_array_equal(T_images, T)
    assert datasets.digits(images=False)[0].shape == (1797, 64)


@pytest.mark.parametrize("images", [1, 0, "yes", None])
def test_digits_images_must_be_a_bool(images):
    with pytest.raises(TypeError, match=r"datasets.digits: images must be True or False, got"):
        datasets.digits(images=images)
