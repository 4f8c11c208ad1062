"""Rosenblatt's perceptron, built from the same pieces: a unit Step instead of σ.

The step y = [w·x + b ≥ 0] has derivative 0 almost everywhere, so tinygraph's Step
node passes the gradient straight through (∂y/∂z taken as 1).  With squared loss
E = ½ (y − t)² the SGD step is then w ← w − η (y − t) x = w + η (t − y) x:
exactly the perceptron rule — it changes w only when the sample is misclassified.

Run:  python examples/perceptron.py   (add --quick for a short run)
"""

import sys

import numpy as np

import tinygraph as tg


def main(quick=False):
    X, T = tg.datasets.linear(n=100, seed=3, margin=0.1)  # linearly separable

    x = tg.Input("x", shape=(2,))
    w = tg.Parameter([0.0, 0.0], name="w")
    b = tg.Parameter(0.0, name="b")
    y = tg.Step(tg.WeightedSum(x, w, b, name="z"), name="y")
    graph = tg.Graph(tg.SquaredLoss(y, tg.Input("t", shape=()), name="E"))
    optimizer = tg.SGD(graph.parameters(), lr=1.0)

    for epoch in range(1, (5 if quick else 50) + 1):
        mistakes = 0
        for i in np.random.default_rng(epoch).permutation(len(X)):
            graph.forward({"x": X[i], "t": T[i]})
            mistakes += int(y.value != T[i])
            graph.backward()
            optimizer.step()  # w ← w + η (t − y) x
        print(f"epoch {epoch:2d}: {mistakes} mistakes")
        if mistakes == 0:
            print("converged: every sample is on the right side of the line")
            break
    accuracy = np.mean(graph.run(y, {"x": X}) == T)
    print(f"w = {w.value.round(3)}, b = {float(b.value):.3f}, training accuracy {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
