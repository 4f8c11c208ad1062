"""A deeper network from the same pieces: three hidden layers on the two-spirals problem.

Nothing in the engine knows about layers: ``tg.dense`` just adds a Parameter, a
WeightedSum and an activation node, and backprop walks back through all of them.

Run:  python examples/deep_network.py   (add --quick for a short run)
"""

import sys

import tinygraph as tg


def main(quick=False):
    X, T = tg.datasets.spirals(n=300, noise=0.05, seed=0)
    X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, seed=0)

    x = tg.Input("x", shape=(2,))
    h = x
    for k, width in enumerate([16, 16, 16], start=1):
        h = tg.dense(h, width, activation=tg.Tanh, name=f"h{k}", seed=k)
    o = tg.dense(h, 1, activation=tg.Logistic, name="o", seed=9)
    t = tg.Input("t", shape=(1,))
    graph = tg.Graph(tg.LogLoss(o, t, name="E"))
    print(f"{len(graph.nodes)} nodes, {sum(p.value.size for p in graph.parameters())} weights")

    epochs = 20 if quick else 400
    history = tg.fit(
        graph,
        {x: X_train, t: T_train[:, None]},
        tg.SGD(graph.parameters(), lr=0.05, momentum=0.9),
        epochs=epochs,
        batch_size=8,
        seed=0,
        progress=False,
        callback=lambda e, loss: e % 50 == 0 and print(f"epoch {e:4d}  loss {loss:.4f}"),
    )
    accuracy = ((graph.run(o, {x: X_test})[:, 0] >= 0.5) == (T_test == 1)).mean()
    print(f"loss {history[0]:.3f} → {history[-1]:.3f}; test accuracy {accuracy:.1%}")
    return accuracy


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
