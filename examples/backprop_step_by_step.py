"""Backpropagation step by step, on the classic hand-worked example.

A network with 2 inputs, 2 hidden and 2 output logistic units, fixed weights,
one training sample (x = [0.05, 0.10], t = [0.01, 0.99]) and learning rate 0.5:
the example that textbooks and blog posts work through by hand.  Here we build it
node by node and let tinygraph print every step of the forward pass, every
chain-rule step of the backward pass and every weight update — with the numbers
the engine really computed (E = 0.298371, new w5 = 0.358916, …).

Run:  python examples/backprop_step_by_step.py [OUT_DIR]   (--no-html: the text only)
It also writes OUT_DIR/backprop_step_by_step.html: click through the steps (or use ← →).
OUT_DIR is examples/output by default (git-ignored).
"""

import argparse
from pathlib import Path

import tinygraph as tg

OUTPUT = Path(__file__).resolve().parent / "output"  # the default output folder (git-ignored)


def build():
    x = tg.Input("x", shape=(2,))  # i1, i2
    t = tg.Input("t", shape=(2,))  # the targets of o1, o2
    W1 = tg.Parameter(
        [
            [0.15, 0.25],  # w1 (i1→h1), w3 (i1→h2)
            [0.20, 0.30],
        ],
        name="W1",
    )  # w2 (i2→h1), w4 (i2→h2)
    b1 = tg.Parameter([0.35, 0.35], name="b1")
    h = tg.Logistic(tg.WeightedSum(x, W1, b1, name="z1"), name="h")
    W2 = tg.Parameter(
        [
            [0.40, 0.50],  # w5 (h1→o1), w7 (h1→o2)
            [0.45, 0.55],
        ],
        name="W2",
    )  # w6 (h2→o1), w8 (h2→o2)
    b2 = tg.Parameter([0.60, 0.60], name="b2")
    o = tg.Logistic(tg.WeightedSum(h, W2, b2, name="z2"), name="o")
    E = tg.SquaredLoss(o, t, name="E")  # E = ½ Σ_k (o_k − t_k)²
    return tg.Graph(E)


def main(html=OUTPUT / "backprop_step_by_step.html"):
    graph = build()
    trace = tg.trace(graph, {"x": [0.05, 0.10], "t": [0.01, 0.99]}, optimizer=0.5, precision=6)
    print(trace)
    if html:
        try:
            print("\ninteractive page:", trace.to_html(html))
        except tg.GraphError as exc:  # no Graphviz: the text above is the whole story
            print(f"\n(no page: {exc})")
    return trace


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=OUTPUT, help="where to write the page (default examples/output)")
    parser.add_argument("--no-html", action="store_true", help="print the steps only")
    parser.add_argument("--quick", action="store_true", help="(the same run: it is one step)")
    args = parser.parse_args()
    main(html=None if args.no_html else Path(args.out_dir) / "backprop_step_by_step.html")
