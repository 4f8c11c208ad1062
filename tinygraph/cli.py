"""The ``tinygraph`` command: demo, render and trace."""

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import datasets, plot
from .checks import number, output_path, whole
from .core import SGD, Graph, Input, Logistic, LogLoss, Parameter, SoftmaxCrossEntropy, SquaredLoss, Tanh, WeightedSum
from .core.activations import ReLU
from .errors import GraphError
from .teaching import GraphvizNotFound, render, to_dot, trace
from .training import load, mlp
from .version import __version__


class Demo(NamedTuple):
    """What `tinygraph demo --dataset NAME` trains, and what a run on these defaults reaches."""

    data: Callable
    sizes: list
    activation: type
    loss: type
    lr: float
    epochs: int
    batch_size: int = 1
    momentum: float = 0.0
    split: bool = True  # train on 75%, report the accuracy on the other 25%
    expect: float = 0.9  # the accuracy the defaults reach: below it the demo exits 1, saying so on stderr
    sample: int = 0  # the training sample the diagrams and the trace show


DEMOS = {
    # x = [0, 1], t = 1: the sample of the README's pictures (python docs/make_diagrams.py)
    "xor": Demo(datasets.xor, [2, 2, 1], Logistic, SquaredLoss, lr=0.5, epochs=3000, split=False, expect=1.0, sample=1),
    "moons": Demo(
        lambda: datasets.moons(n=300, noise=0.15, seed=0), [2, 16, 16, 1], Tanh, LogLoss, lr=0.05, epochs=100
    ),
    # η 0.01, 100 epochs, batches of 4, momentum 0.9; ReLU units (tanh units of this size often stall near 65%)
    "spirals": Demo(
        lambda: datasets.spirals(400, 0.05, seed=0), [2, 32, 32, 1], ReLU, LogLoss, 0.01, 100, 4, 0.9, expect=0.85
    ),
    "digits": Demo(datasets.digits, [64, 32, 10], Tanh, SoftmaxCrossEntropy, lr=0.05, epochs=10),
}


def _draw(graph, path, view, made, title=None):
    """Render one diagram; without Graphviz keep the DOT source and remember why."""
    try:
        render(graph, path, format="svg", view=view, title=title)
        made.append(f"{path}.svg")
    except GraphvizNotFound as exc:
        Path(f"{path}.dot").write_text(to_dot(graph, view=view, title=title), encoding="utf-8")
        made.append(f"{path}.dot")
        return str(exc)
    return None


def _show_one_sample(net, X, T, i):
    """Forward and backward on sample ``i`` alone, so the diagrams show values and gradients; returns its feed."""
    feed = {net.input: X[i], net.target: net._targets(T[i : i + 1])[0]}
    net.graph.forward(feed)
    net.graph.backward()
    return feed


def _sample_words(X, T, i):
    """How the diagrams' titles name sample ``i``: by its numbers when there are a few, else by its place."""
    x = f"one sample x = [{', '.join(f'{v:.3g}' for v in X[i])}]" if X[i].size <= 4 else f"training sample {i}"
    return f"{x}, target t = {T[i]:.3g}"


def demo_title(dataset, sizes, when, X, T, i):
    """Return the title of the demo's diagrams (the README's pictures are the XOR demo's, with it)."""
    label = "XOR" if dataset == "xor" else dataset
    return f"{label} network {'-'.join(map(str, sizes))} {when} training: {_sample_words(X, T, i)}"


def demo(args):
    """Train a small network with per-sample SGD, then write its diagrams, a trace and plots."""
    spec = DEMOS[args.dataset]
    try:
        X, T = spec.data()
    except ImportError as exc:
        print(f"tinygraph demo: {exc}", file=sys.stderr)
        return 2
    if spec.split:
        X_train, X_test, T_train, T_test = datasets.train_test_split(X, T, test=0.25, seed=args.seed)
    else:
        X_train, X_test, T_train, T_test = X, X, T, T
    sizes = list(spec.sizes)
    if args.hidden is not None:
        whole("--hidden", args.hidden)
        if args.dataset != "xor":
            print("tinygraph demo: --hidden applies to --dataset xor only", file=sys.stderr)
            return 2
        sizes[1] = args.hidden
    epochs = spec.epochs if args.epochs is None else args.epochs
    lr = spec.lr if args.lr is None else args.lr
    whole("--epochs", epochs)
    number("--lr", lr, low=0, strict="low")
    net = mlp(sizes, activation=spec.activation, loss=spec.loss, seed=args.seed)
    out = _folder(args.out, "--out")
    arch = "-".join(map(str, sizes))
    print(
        f"tinygraph {__version__} demo: {args.dataset} with a {arch} network "
        f"({spec.activation.__name__} units, {spec.loss.__name__})"
    )
    momentum = spec.momentum
    kind = "per-sample SGD" if spec.batch_size == 1 else f"minibatch SGD (batch size {spec.batch_size})"
    print(
        f"  {kind}, η = {lr}{f', momentum {momentum}' if momentum else ''}, {epochs} epochs of "
        f"{len(X_train)} samples; {len(net.graph)} nodes"
    )
    made, missing_dot = [], None
    shown = spec.sample  # the training sample the diagrams and the trace show
    _show_one_sample(net, X_train, T_train, shown)
    title = demo_title(args.dataset, sizes, "before", X_train, T_train, shown)
    for view in ("graph", "network"):
        missing_dot = _draw(net, out / f"{view}_before", view, made, title) or missing_dot
    every = max(1, epochs // 10)

    def report(epoch, loss):
        if epoch % every == 0 or epoch == 1:
            print(f"  epoch {epoch:>6}  mean loss {loss:.6f}")

    start = time.perf_counter()
    history = net.fit(
        X_train,
        T_train,
        epochs=epochs,
        batch_size=spec.batch_size,
        seed=args.seed,
        optimizer=SGD(net.parameters(), lr=lr, momentum=momentum),
        progress=False,
        callback=report,
    )
    seconds = time.perf_counter() - start
    steps = epochs * -(-len(X_train) // spec.batch_size)
    print(f"  trained in {seconds:.2f} s ({steps / seconds:,.0f} SGD steps/s)")
    if args.dataset == "xor":
        P = net.predict(X).ravel()
        print("\n   x1  x2 | target  output  right?")
        for x, t, p in zip(X, T, P):
            print(f"  {x[0]:3.0f} {x[1]:3.0f} | {t:6.0f}  {p:6.3f}  {'yes' if (p >= 0.5) == (t == 1) else 'NO'}")
    accuracy = net.accuracy(X_test, T_test)
    if spec.split:
        print(f"\ntrain accuracy {net.accuracy(X_train, T_train):.1%}, test accuracy {accuracy:.1%}")
    else:
        print(f"\naccuracy {accuracy:.0%}")
    feed = _show_one_sample(net, X_train, T_train, shown)
    title = demo_title(args.dataset, sizes, "after", X_train, T_train, shown)
    for view in ("graph", "network"):
        missing_dot = _draw(net, out / f"{view}_after", view, made, title) or missing_dot
    step = trace(net, feed, optimizer=lr)
    try:
        made.append(step.to_html(out / "trace.html", title=f"One SGD step of the {args.dataset} network"))
    except GraphvizNotFound as exc:
        missing_dot = str(exc)
        (out / "trace.md").write_text(step.to_markdown(), encoding="utf-8")
        made.append(str(out / "trace.md"))
    if args.plot or args.dataset != "xor":
        made += _plots(net, history, X, T, out)
    print(f"\nwrote to {out.resolve()}/ (each diagram with its .dot source):")
    for path in made:
        print(f"  {Path(path).name}")
    print(f"the diagrams and the trace show {_sample_words(X_train, T_train, shown)}")
    if missing_dot:
        print(
            f"\nnote: {missing_dot}\n  then render a .dot file with: dot -Tsvg {out}/graph_after.dot -o graph_after.svg"
        )
    if accuracy >= spec.expect:
        return 0
    which = "test accuracy" if spec.split else "accuracy"
    then = "--allow-failure: exit 0" if args.allow_failure else "try more --epochs, or pass --allow-failure to exit 0"
    print(
        f"tinygraph demo: the network did not learn {args.dataset} well enough: {which} {accuracy:.1%}, below "
        f"the {spec.expect:.0%} this demo expects (its defaults reach it); {then}",
        file=sys.stderr,
    )
    return 0 if args.allow_failure else 1


def _plots(net, history, X, T, out):
    try:
        made = [str(out / "loss.png")]
        plot.loss(history, path=made[0], title="mean loss per epoch")
        if X.shape[1] == 2:
            made.append(str(out / "decision_boundary.png"))
            plot.decision_boundary(net, X, T, path=made[1])
        return made
    except ImportError as exc:
        print(f"  plots skipped: {exc}")
        return []


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


def _folder(path, what):
    """Return the output folder ``path``, made if need be, once it is known to be one (before any work)."""
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise GraphError(f"{what}: '{out}' is a file; give a folder for the output")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GraphError(f"{what}: cannot make the folder '{out}': {exc.strerror or exc}") from exc
    return out


def _numbers(text, what):
    try:
        return np.array([float(v) for v in text.split(",")])
    except ValueError:
        raise GraphError(f"{what}: expected numbers separated by commas, got {text!r}") from None


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
    output_path("--html", args.html)  # (a missing folder is made; a file in the way is refused)
    tr = trace(graph, feed, optimizer=args.lr, precision=args.precision)
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
    out = _folder(args.out, "--out")
    if sizes[0] == 2 and sizes[-1] == 1:
        net.fit(X, T, epochs=args.epochs, lr=0.5, seed=0, progress=False)
        _show_one_sample(net, X, T, DEMOS["xor"].sample)
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
