"""XOR with one hidden layer, built node by node — the classic backprop example.

h_j = σ(Σ_i w_ij x_i + b_j),  o = σ(Σ_j v_j h_j + c),  E = ½ (o − t)².
Backprop: δ_o = (o − t) o (1 − o), ∂E/∂v_j = δ_o h_j, δ_j = h_j (1 − h_j) δ_o v_j,
∂E/∂w_ij = δ_j x_i.  The engine computes the same numbers; after a backward pass
``z2.grad`` is δ_o and ``z1.grad`` holds the δ_j.

Run:  python examples/xor_network.py   (add --quick for a short run)
"""

import sys

import numpy as np

import tinygraph as tg


def main(quick=False):
    X, T = tg.datasets.xor()
    rng = np.random.default_rng(0)

    x = tg.Input("x", shape=(2,))
    t = tg.Input("t", shape=(1,))
    W1 = tg.Parameter(rng.uniform(-1, 1, size=(2, 2)), name="W1")  # w_ij
    b1 = tg.Parameter(np.zeros(2), name="b1")  # b_j
    h = tg.Logistic(tg.WeightedSum(x, W1, b1, name="z1"), name="h")  # hidden layer
    W2 = tg.Parameter(rng.uniform(-1, 1, size=(2, 1)), name="W2")  # v_j
    b2 = tg.Parameter(np.zeros(1), name="b2")  # c
    o = tg.Logistic(tg.WeightedSum(h, W2, b2, name="z2"), name="o")  # output
    graph = tg.Graph(tg.SquaredLoss(o, t, name="E"))

    history = tg.fit(
        graph,
        {x: X, t: T[:, None]},
        tg.SGD(graph.parameters(), lr=0.5),
        epochs=300 if quick else 4000,
        seed=0,
        progress=False,
    )
    print(f"loss: {history[0]:.4f} → {history[-1]:.5f}")

    graph.forward({x: X[1], t: T[1:2]})
    graph.backward()
    print("one sample, x = [0, 1], t = 1:")
    print(f"  δ_o = {graph['z2'].grad}   δ_j = {graph['z1'].grad}")
    outputs = graph.run(o, {x: X}).ravel()
    for xi, ti, oi in zip(X, T, outputs):
        print(f"  x = {xi}  t = {ti:.0f}  o = {oi:.3f}")
    return outputs


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
