"""The ``tinygraph`` command: demo, replay, render and trace."""

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from . import datasets
from .checks import writable
from .core import Graph, Input, Logistic, Parameter, SoftmaxCrossEntropy, SquaredLoss, WeightedSum
from .demos import ACTIVATIONS, DEMOS, demo, demo_title, folder, replay, show_one_sample
from .errors import GraphError
from .teaching import GraphvizNotFound, render, to_dot, trace
from .training import load, mlp
from .version import __version__

__all__ = ["DEMOS", "build_parser", "main", "worked_example"]


def worked_example():
    """Build the classic hand-worked example: 2 inputs, 2 hidden, 2 outputs, fixed weights, η = 0.5."""
    x, t = Input("x", shape=(2,)), Input("t", shape=(2,))
    W1 = Parameter([[0.15, 0.25], [0.20, 0.30]], name="W1")
    b1 = Parameter([0.35, 0.35], name="b1")
    h = Logistic(WeightedSum(x, W1, b1, name="z1"), name="h")
    W2 = Parameter([[0.40, 0.50], [0.45, 0.55]], name="W2")
    b2 = Parameter([0.60, 0.60], name="b2")
    o = Logistic(WeightedSum(h, W2, b2, name="z2"), name="o")
    return Graph(SquaredLoss(o, t, name="E")), {"x": [0.05, 0.10], "t": [0.01, 0.99]}


def _numbers(text, what):
    try:
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise GraphError(f"{what}: expected numbers separated by commas, got {text!r}") from None


def _exercise(tr, html, title):
    """Write the exercise page and the worksheet beside it; print where, and not the numbers (they are the answers)."""
    md = Path(html).with_suffix(".md")
    if Path(html).suffix.lower() == ".md":
        raise GraphError(f"--html: --exercise writes the page and a Markdown worksheet beside it (.md); got {html!r}")
    try:
        path = tr.to_html(html, title=f"Exercise: {title}", exercise=True)
    except GraphvizNotFound as exc:
        print(f"note: {exc}\nwriting only the worksheet")
    else:
        print(f"exercise page (type each number, the page checks it): {Path(path).resolve()}")
    sheet = tr.to_markdown(exercise=True)
    md.write_text(sheet, encoding="utf-8")
    print(f"worksheet in Markdown, the answers at the end: {md.resolve()}")
    print(f"{sheet.count(chr(92) + 'boxed{')} answers to work out, in {len(tr)} steps")
    return 0


def trace_command(args):
    """Print the walk-through of one training step and write it as an HTML page."""
    if args.model:
        if args.x is None or args.t is None:
            print("tinygraph trace: --model needs a sample: --x 0.1,0.2 --t 1", file=sys.stderr)
            return 2
        try:
            net = load(args.model)
        except GraphError as exc:
            raise GraphError(
                f"--model: {exc}. tinygraph trace --model takes only a network made by tg.mlp and saved "
                "with tg.save; for a graph of your own, run tg.trace(graph, feed) in Python"
            ) from exc
        t = _numbers(args.t, "--t")
        if isinstance(net.loss, SoftmaxCrossEntropy):
            if len(t) != 1:
                raise GraphError(f"--t: a softmax model's target is one class index, got {len(t)} numbers")
            t = t[0]
        graph, feed = net.graph, {net.input: _numbers(args.x, "--x"), net.target: t}
        title = f"One SGD step of {Path(args.model).name}"
    else:
        if args.x is not None or args.t is not None:
            print(
                "tinygraph trace: --x and --t give a sample for --model; without --model the "
                "worked example's own sample is used",
                file=sys.stderr,
            )
            return 2
        graph, feed = worked_example()
        title = "Backpropagation step by step: the 2-2-2 worked example"
    writable("--html", args.html)  # (a missing folder is made; a file in the way, or no room for files: refused)
    tr = trace(graph, feed, optimizer=args.lr, precision=args.precision)
    if args.exercise:
        return _exercise(tr, args.html, title)
    print(tr)
    try:
        path = tr.to_html(args.html, title=title)
        print(f"\ninteractive walk-through: {Path(path).resolve()}")
    except GraphvizNotFound as exc:
        md = Path(args.html).with_suffix(".md")
        md.write_text(tr.to_markdown(), encoding="utf-8")
        print(f"\nnote: {exc}\nwrote the Markdown walk-through instead: {md.resolve()}")
    return 0


def render_command(args):
    """Draw a demo network: trained on XOR if it has 2 inputs and 1 output, else untrained (said on stderr)."""
    X, T = datasets.xor()
    try:
        sizes = [int(s) for s in args.sizes.split(",")]
    except ValueError:
        raise GraphError(f"--sizes: expected whole numbers separated by commas, got {args.sizes!r}") from None
    net = mlp(sizes, seed=0, bias=args.bias)
    out = folder(args.out, "--out")
    if sizes[0] == 2 and sizes[-1] == 1:
        net.fit(X, T, epochs=args.epochs, lr=0.5, seed=0, progress=False)
        show_one_sample(net, X, T, DEMOS["xor"].sample)
        title = demo_title("xor", sizes, "after", X, T, DEMOS["xor"].sample)
    else:
        rng = np.random.default_rng(0)
        net.graph.forward({"x": rng.uniform(size=sizes[0]), "t": rng.uniform(size=sizes[-1])})
        net.graph.backward()
        print(
            f"tinygraph render: note: only a 2-…-1 network is trained (on XOR); this {args.sizes} network "
            "keeps its random initial weights and shows one random sample (x and t uniform in [0, 1))",
            file=sys.stderr,
        )
        title = f"{'-'.join(map(str, sizes))} network, untrained: random initial weights, one random sample"
    views = ("graph", "network") if args.view == "both" else (args.view,)
    try:
        for view in views:
            render(net, out / f"{view}", format=args.format, view=view, title=title)
            print(f"wrote {(out / f'{view}.{args.format}').resolve()}")
    except GraphvizNotFound as exc:
        for view in views:
            (out / f"{view}.dot").write_text(to_dot(net, view=view, title=title), encoding="utf-8")
            print(f"wrote {(out / f'{view}.dot').resolve()}")
        print(f"note: {exc}")
    return 0


def build_parser():
    """Build the argument parser of the ``tinygraph`` command and its subcommands."""
    parser = argparse.ArgumentParser(prog="tinygraph", description="tinygraph: " + __doc__.split(":")[1].strip())
    parser.add_argument("--version", action="version", version=f"tinygraph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="train a small network, write its diagrams, a trace and plots")
    p.add_argument("--dataset", choices=sorted(DEMOS), default="xor", help="what to learn (default xor)")
    p.add_argument(
        "--model",
        choices=["mlp", "cnn"],
        default="mlp",
        help="mlp: a dense network (default); cnn: a convolutional network, for --dataset digits (as 8×8 images)",
    )
    p.add_argument("--epochs", type=int, help="passes over the data (default: per data set)")
    p.add_argument("--lr", type=float, help="learning rate η (default: per data set)")
    p.add_argument("--hidden", type=int, help="hidden units for xor (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="tinygraph-output", help="output folder (default ./tinygraph-output)")
    p.add_argument(
        "--plot",
        action="store_true",
        help="also plot the learning curve and decision boundary (always on for the other data sets)",
    )
    p.add_argument(
        "--allow-failure",
        action="store_true",
        help="exit 0 even if the accuracy is below what the demo expects ("
        + ", ".join(f"{name} {spec.expect:.0%}" for name, spec in DEMOS.items()).replace("%", "%%")
        + ", on the test split where there is one); without it a low accuracy exits 1, saying why",
    )
    p.set_defaults(func=demo)
    p = sub.add_parser(
        "replay",
        help="train a network while recording it, and write the replay page",
        description=(
            "Train a network on a demo data set while recording snapshots, and write one offline page to watch it "
            "learn: the weights, the loss, the boundary and the gradient norms, with a slider, and step-by-step "
            "traces of chosen moments."
        ),
    )
    p.add_argument("--dataset", choices=sorted(DEMOS), default="moons", help="what to learn (default moons)")
    p.add_argument("--sizes", help="layer sizes, e.g. 2,8,8,1 (default: the demo's network for the data set)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), help="hidden units (default: the demo's)")
    p.add_argument("--epochs", type=int, help="passes over the data (default: per data set)")
    p.add_argument("--lr", type=float, help="learning rate η (default: per data set)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--out", default="replay.html", help="the page to write (default replay.html)")
    p.set_defaults(func=replay)
    untrained = "other sizes are drawn untrained, with random initial weights, on one random sample"
    p = sub.add_parser(
        "render",
        help="draw a small demo network (graph and network views)",
        description=(
            f"Draw a demo network: 2 inputs and 1 output are trained on XOR and show x = [0, 1], t = 1; {untrained}."
        ),
    )
    p.add_argument("--sizes", default="2,2,1", help=f"layer sizes (default 2,2,1, trained on XOR); {untrained}")
    p.add_argument(
        "--bias",
        choices=["separate", "input"],
        default="separate",
        help="bias as a separate term b (default) or as a constant-1 input",
    )
    p.add_argument(
        "--view",
        choices=["graph", "network", "both"],
        default="both",
        help="the computational graph, the neuron diagram, or both (default)",
    )
    p.add_argument("--format", choices=["svg", "png", "pdf"], default="svg", help="file format (default svg)")
    p.add_argument("--epochs", type=int, default=3000, help="XOR training epochs before drawing (default 3000)")
    p.add_argument("--out", default="tinygraph-output", help="output folder (default ./tinygraph-output)")
    p.set_defaults(func=render_command)
    only_mlp = "--model takes only a network made by tg.mlp and saved with tg.save"
    p = sub.add_parser(
        "trace",
        help="backprop step by step: the worked example, or a saved network",
        description=(
            "One SGD step (forward, backward, update) with its formulas and numbers, printed and as an HTML page, "
            f"of the 2-2-2 hand-worked example or of a saved network: {only_mlp} (other graphs: tg.trace(graph, feed))."
        ),
    )
    p.add_argument("--model", help=f"a saved network (default: the 2-2-2 worked example); {only_mlp}")
    p.add_argument("--x", help="the sample's inputs, comma separated (with --model)")
    p.add_argument("--t", help="its target, comma separated (with --model)")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate η (default 0.5)")
    p.add_argument("--precision", type=int, default=4, help="significant digits (default 4)")
    p.add_argument("--html", default="trace.html", help="where to write the page (default trace.html)")
    p.add_argument(
        "--exercise",
        action="store_true",
        help="make it an exercise: each computed number is a box to fill in, checked by the page; also writes "
        "a Markdown worksheet with the answers at the end (beside the page, .md)",
    )
    p.set_defaults(func=trace_command)
    return parser


def main(argv=None):
    """Run the ``tinygraph`` command with ``argv`` (default: the process's arguments); return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (GraphError, TypeError) as exc:  # (tinygraph's own errors: each says what was wrong)
        print(f"tinygraph {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # e.g. `tinygraph trace | head`: the reader has gone; stop quietly
        sys.stdout = open(os.devnull, "w")
        return 0


if __name__ == "__main__":
    sys.exit(main())
