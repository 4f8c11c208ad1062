"""Two branches from one input, joined by Concat, then a head.

One branch looks at the features through tanh units, the other through ReLU units;
Concat lays their outputs side by side and a logistic head reads both.  In the
backward pass Concat hands each branch its own slice of the gradient, and the input
x, feeding both branches, receives the sum of what comes back from each.

Run:  python examples/two_branches.py [OUT_DIR]   (add --quick for a short run)
It writes a diagram of the graph to OUT_DIR/two_branches.svg (or .dot without Graphviz);
OUT_DIR is examples/output by default (git-ignored).
"""

from pathlib import Path

from residual_network import OUTPUT, arguments, save_diagram

import tinygraph as tg


def main(quick=False, out_dir=OUTPUT):
    X, T = tg.datasets.moons(n=200, noise=0.1, seed=0)
    x = tg.Input("x", shape=(2,))
    left = tg.dense(x, 4, activation=tg.Tanh, name="left", seed=0)
    right = tg.dense(x, 4, activation=tg.ReLU, name="right", seed=1)
    both = tg.Concat(left, right, name="both")  # 8 features
    o = tg.dense(both, 1, activation=tg.Logistic, name="o", seed=2)
    t = tg.Input("t", shape=(1,))
    graph = tg.Graph(tg.LogLoss(o, t, name="E"))

    history = tg.fit(
        graph,
        {x: X, t: T[:, None]},
        tg.SGD(graph.parameters(), lr=0.1, momentum=0.9),
        epochs=10 if quick else 100,
        batch_size=4,
        seed=0,
        progress=False,
    )
    accuracy = ((graph.run(o, {x: X})[:, 0] >= 0.5) == (T == 1)).mean()
    print(f"loss {history[0]:.3f} → {history[-1]:.3f}; training accuracy {accuracy:.1%}")
    graph.forward({x: X[:1], t: T[:1, None]})
    graph.backward(inputs=True)
    print(f"∂E/∂x = {x.grad}  (the sum of both branches' contributions)")
    if out_dir is not None:
        print("diagram:", save_diagram(graph, Path(out_dir) / "two_branches"))
    return accuracy


if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0])
    main(quick=args.quick, out_dir=args.out_dir)
