"""Logistic regression: one neuron y = σ(w·x + b) trained by SGD, one random sample at a time.

The derivation: for one sample, z = Σ_i w_i x_i + b, y = σ(z), E = ½ (y − t)².
The chain rule gives ∂E/∂w_i = (y − t) · y(1 − y) · x_i and ∂E/∂b = (y − t) · y(1 − y);
SGD moves w ← w − η ∂E/∂w after every sample.  Here the graph does that for us.

Run:  python examples/single_neuron.py   (add --quick for a short run)
"""

import sys

import numpy as np

import tinygraph as tg


def main(quick=False):
    X, T = tg.datasets.linear(n=200, noise=0.05, seed=1)  # two classes in the plane
    X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, test=0.25, seed=0)

    # Build the neuron node by node: each line is one line of the derivation.
    x = tg.Input("x", shape=(2,))  # the features x_1, x_2
    t = tg.Input("t", shape=())  # the target, 0 or 1
    w = tg.Parameter([0.0, 0.0], name="w")  # weights w_i
    b = tg.Parameter(0.0, name="b")  # bias b, a separate term
    z = tg.WeightedSum(x, w, b, name="z")  # z = Σ_i w_i x_i + b
    y = tg.Logistic(z, name="y")  # y = σ(z)
    E = tg.SquaredLoss(y, t, name="E")  # E = ½ (y − t)²
    graph = tg.Graph(E)

    optimizer = tg.SGD(graph.parameters(), lr=0.5)
    epochs = 5 if quick else 30
    history = tg.fit(graph, {x: X_train, t: T_train}, optimizer, epochs=epochs, seed=0, progress=False)

    predictions = graph.run(y, {x: X_test}) >= 0.5
    accuracy = np.mean(predictions == (T_test == 1))
    print(f"mean loss per epoch: first {history[0]:.4f}, last {history[-1]:.4f}")
    print(f"learned w = {w.value.round(3)}, b = {float(b.value):.3f}")
    print(f"test accuracy: {accuracy:.1%}")
    return accuracy


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
