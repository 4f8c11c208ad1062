"""A residual (skip) connection: h = σ(W x + b) + x, trained on the circles data set.

The skip path is an Add node.  In the backward pass Add hands the same gradient to
both of its inputs, so ∂E/∂x = ∂E/∂h · (W-path derivative) + ∂E/∂h · 1: the "+ 1"
from the skip path is why deep residual networks keep their gradients alive.

Run:  python examples/residual_network.py [OUT_DIR]   (add --quick for a short run)
It writes a diagram of the graph to OUT_DIR/residual_network.svg (or .dot without Graphviz);
OUT_DIR is examples/output by default (git-ignored).
"""

import argparse
from pathlib import Path

import tinygraph as tg

OUTPUT = Path(__file__).resolve().parent / "output"  # the default output folder (git-ignored)


def build():
    x = tg.Input("x", shape=(2,))
    t = tg.Input("t", shape=(1,))
    a = tg.dense(x, 4, activation=tg.Tanh, name="a", seed=0)  # widen to 4 features
    f = tg.dense(a, 4, activation=tg.Logistic, name="f", seed=1)  # f = σ(W a + b)
    h = tg.Add(f, a, name="h")  # h = f + a  (the skip)
    o = tg.dense(h, 1, activation=tg.Logistic, name="o", seed=2)
    return tg.Graph(tg.LogLoss(o, t, name="E")), x, t, o


def main(quick=False, out_dir=OUTPUT):
    X, T = tg.datasets.circles(n=200, noise=0.05, seed=0)
    graph, x, t, o = build()
    history = tg.fit(
        graph,
        {x: X, t: T[:, None]},
        tg.SGD(graph.parameters(), lr=0.1, momentum=0.9),
        epochs=10 if quick else 150,
        batch_size=4,
        seed=0,
        progress=False,
    )
    accuracy = ((graph.run(o, {x: X})[:, 0] >= 0.5) == (T == 1)).mean()
    print(f"loss {history[0]:.3f} → {history[-1]:.3f}; training accuracy {accuracy:.1%}")
    graph.forward({x: X[:1], t: T[:1, None]})
    graph.backward()
    if out_dir is not None:
        print("diagram:", save_diagram(graph, Path(out_dir) / "residual_network"))
    return accuracy


def save_diagram(graph, path):
    """Draw ``graph`` to ``path``.svg (and its .dot source), or only the .dot without Graphviz; make the folder."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        tg.render(graph, path, format="svg")
        return f"{path}.svg"
    except tg.GraphError as exc:  # no Graphviz `dot` program: keep the source
        with open(f"{path}.dot", "w") as f:
            f.write(tg.to_dot(graph))
        print(exc)
        return f"{path}.dot"


def arguments(description):
    """The command line of an example that writes files: [OUT_DIR] [--quick]."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("out_dir", nargs="?", default=OUTPUT, help="where to write (default examples/output)")
    parser.add_argument("--quick", action="store_true", help="a short run")
    return parser.parse_args()


if __name__ == "__main__":
    args = arguments(__doc__.splitlines()[0])
    main(quick=args.quick, out_dir=args.out_dir)
