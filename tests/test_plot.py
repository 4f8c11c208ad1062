"""tinygraph.plot: learning curves and decision boundaries drawn to PNG without a display."""

import sys

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import plot

PNG = b"\x89PNG\r\n\x1a\n"


def test_without_matplotlib_the_message_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    with pytest.raises(ImportError, match=r'pip install "tinygraph\[plot\]"'):
        plot.loss([1.0, 0.5])


@pytest.fixture
def mpl():
    return pytest.importorskip("matplotlib", reason="tinygraph.plot needs matplotlib (tinygraph[plot])")


class Fixed:
    """A stand-in network whose prediction is a known function of the inputs."""

    def __init__(self, function):
        self.function = function

    def predict(self, X):
        return self.function(np.asarray(X))


def test_loss_curve(mpl, tmp_path):
    rng = np.random.default_rng(0)
    history = list(np.sort(rng.uniform(0.3, 0.9, 12))[::-1])
    fig = plot.loss(history, path=tmp_path / "loss.png", title="my run")
    assert (tmp_path / "loss.png").read_bytes()[:8] == PNG
    (ax,) = fig.axes
    x, y = ax.lines[0].get_data()
    np.testing.assert_array_equal(x, np.arange(1, 13))
    np.testing.assert_array_equal(y, history)
    assert ax.get_yscale() == "linear"  # 0.3 .. 0.9 spans less than a decade
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("epoch", "mean loss", "my run")
    assert ax.get_legend() is None


def test_loss_log_scale_and_several_runs(mpl):
    sgd, gd = [1.0, 0.1, 0.01, 0.005], [1.0, 0.8, 0.6, 0.5]
    fig = plot.loss({"SGD": sgd, "GD": gd})
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    assert [line.get_label() for line in ax.lines] == ["SGD", "GD"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), gd)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SGD", "GD"]


def test_loss_into_given_axes(mpl):
    from matplotlib.figure import Figure

    fig = Figure()
    ax = fig.add_subplot()
    assert plot.loss([3.0, 2.0], ax=ax) is fig
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3.0, 2.0])


def test_loss_refuses_what_is_not_a_history(mpl):
    with pytest.raises(tg.GraphError, match=r"history must be a non-empty list of per-epoch losses, got shape \(0,\)"):
        plot.loss([])
    with pytest.raises(tg.GraphError, match=r"history 'GD' must be a non-empty list .* got shape \(2, 2\)"):
        plot.loss({"SGD": [1.0], "GD": [[1.0, 2.0], [3.0, 4.0]]})
    with pytest.raises(TypeError, match="history must be a list of numbers"):
        plot.loss(["low", "lower"])
    with pytest.raises(tg.GraphError, match="history is an empty dict"):
        plot.loss({})


def test_decision_boundary_one_logistic_unit(mpl, tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(60, 2))
    T = (X[:, 0] > 0.2).astype(float)
    net = Fixed(lambda Z: 1 / (1 + np.exp(-20 * (Z[:, :1] - 0.2))))  # boundary at x₁ = 0.2
    fig = plot.decision_boundary(net, X, T, path=tmp_path / "b.png", resolution=50)
    assert (tmp_path / "b.png").read_bytes()[:8] == PNG
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x₁", "x₂")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    from matplotlib.collections import PathCollection
    from matplotlib.contour import ContourSet

    points = [c for c in ax.collections if type(c) is PathCollection]
    np.testing.assert_array_equal(points[0].get_offsets(), X[T == 0])
    np.testing.assert_array_equal(points[1].get_offsets(), X[T == 1])
    assert fig.axes[1].get_ylabel() == "P(class 1)"  # the colour bar
    (line,) = [c for c in ax.collections if isinstance(c, ContourSet) and list(c.levels) == [0.5]]
    vertices = np.concatenate([p.vertices for p in line.get_paths()])
    np.testing.assert_allclose(vertices[:, 0], 0.2, atol=0.01)
    x_lo, x_hi = ax.get_xlim()
    assert x_lo < X[:, 0].min() and x_hi > X[:, 0].max()


def test_decision_boundary_softmax_classes(mpl, tmp_path):
    X, T = tg.datasets.blobs(n=90, centers=3, noise=0.3, seed=0)
    centers = np.array([X[T == c].mean(axis=0) for c in range(3)])
    net = Fixed(lambda Z: np.exp(-((Z[:, None, :] - centers) ** 2).sum(-1)))  # nearest center wins
    fig = plot.decision_boundary(net, X, tg.datasets.one_hot(T), path=tmp_path / "c.png", resolution=40)
    assert (tmp_path / "c.png").read_bytes()[:8] == PNG
    ax = fig.axes[0]
    assert len(fig.axes) == 1  # no colour bar for classes
    regions = ax.images[0].get_array()
    assert regions.shape == (40, 40) and set(np.unique(regions)) == {0, 1, 2}
    left, right, bottom, top = ax.images[0].get_extent()  # 40 pixels a side
    col = ((X[:, 0] - left) / (right - left) * 40).astype(int)
    row = ((X[:, 1] - bottom) / (top - bottom) * 40).astype(int)
    assert np.mean(regions[row, col] == T) > 0.95  # each point sits in its own class's region
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1", "class 2"]


def test_decision_boundary_of_a_trained_network(mpl, tmp_path):
    X, T = tg.datasets.moons(n=100, noise=0.1, seed=0)
    net = tg.mlp([2, 8, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=0)
    net.fit(X, T, epochs=40, lr=0.1, seed=0, progress=False)
    fig = plot.decision_boundary(net, X, T, path=tmp_path / "moons.png", resolution=60)
    assert (tmp_path / "moons.png").stat().st_size > 10_000
    assert fig.axes[0].get_title() == "decision boundary"


def test_decision_boundary_needs_2d_inputs(mpl):
    net = tg.mlp([3, 2, 1], seed=0)
    X = np.random.default_rng(0).normal(size=(10, 3))
    with pytest.raises(tg.GraphError, match=r"needs 2-D inputs, X of shape \(n, 2\); got \(10, 3\)"):
        plot.decision_boundary(net, X, np.zeros(10))
    with pytest.raises(tg.GraphError, match=r"one label per row of X \(10\), got shape \(9,\)"):
        plot.decision_boundary(net, X[:, :2], np.zeros(9))
    with pytest.raises(TypeError, match="expected a network with .predict"):
        plot.decision_boundary(object(), X[:, :2], np.zeros(10))
    with pytest.raises(tg.GraphError, match="class labels must be 0, 1, …; got -1"):
        plot.decision_boundary(net, X[:, :2], -np.ones(10))
    with pytest.raises(tg.GraphError, match="resolution must be a whole number >= 2, got 1"):
        plot.decision_boundary(Fixed(lambda Z: Z[:, 0]), X[:, :2], np.zeros(10), resolution=1)
    for wrong_type in (2.5, True):  # a wrong type is a TypeError, as everywhere in tinygraph
        with pytest.raises(TypeError, match="resolution must be a whole number, got"):
            plot.decision_boundary(Fixed(lambda Z: Z[:, 0]), X[:, :2], np.zeros(10), resolution=wrong_type)
    with pytest.raises(tg.GraphError, match=r"network.predict gave shape \(3,\) for 100 rows"):
        plot.decision_boundary(Fixed(lambda Z: np.zeros(3)), X[:, :2], np.zeros(10), resolution=10)
