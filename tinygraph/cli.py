"""The ``tinygraph`` command: ``tinygraph demo`` and friends."""

import argparse
import sys
import time

import numpy as np

from . import __version__, datasets
from .layers import mlp


def demo(args):
    """Train a 2-2-1 logistic network on XOR with per-sample SGD and show what it learned."""
    X, T = datasets.xor()
    net = mlp([2, args.hidden, 1], seed=args.seed)
    print(f"tinygraph {__version__} demo: learning XOR with a {net.sizes[0]}-{args.hidden}-1 logistic network")
    print(f"  squared loss E = ½ Σ (o − t)², per-sample SGD (batch size 1), η = {args.lr}, "
          f"{args.epochs} epochs of {len(X)} samples")
    print(f"  graph: {len(net.graph)} nodes: " + ", ".join(n.name for n in net.graph.nodes))
    every = max(1, args.epochs // 10)

    def report(epoch, loss):
        if epoch % every == 0 or epoch == 1:
            print(f"  epoch {epoch:>6}  mean loss {loss:.6f}")

    start = time.perf_counter()
    net.fit(X, T, epochs=args.epochs, lr=args.lr, seed=args.seed, progress=False, callback=report)
    seconds = time.perf_counter() - start
    P = net.predict(X).ravel()
    print(f"  trained in {seconds:.2f} s ({args.epochs * len(X) / seconds:,.0f} SGD steps/s)")
    print("\n   x1  x2 | target  output  right?")
    for x, t, p in zip(X, T, P):
        print(f"  {x[0]:3.0f} {x[1]:3.0f} | {t:6.0f}  {p:6.3f}  {'yes' if (p >= 0.5) == (t == 1) else 'NO'}")
    accuracy = net.accuracy(X, T)
    print(f"\naccuracy {accuracy:.0%}")
    return 0 if accuracy == 1.0 or args.allow_failure else 1


def build_parser():
    parser = argparse.ArgumentParser(prog="tinygraph", description=__doc__)
    parser.add_argument("--version", action="version", version=f"tinygraph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("demo", help="train a small network on XOR and show the result")
    p.add_argument("--epochs", type=int, default=3000, help="passes over the 4 XOR samples (default 3000)")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate η (default 0.5)")
    p.add_argument("--hidden", type=int, default=2, help="hidden units (default 2)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--allow-failure", action="store_true", help="exit 0 even if XOR is not learned")
    p.set_defaults(func=demo)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    np.set_printoptions(precision=4, suppress=True)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
