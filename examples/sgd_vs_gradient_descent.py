"""Per-sample SGD against full-batch gradient descent: same data, same start, loss per pass.

Gradient descent computes the gradient on *all* samples and then takes one
careful step.  Stochastic gradient descent takes a step after *every* sample,
following a noisy estimate of that gradient.  After one pass over the data both
have done the same work (one gradient per sample), but SGD has moved n times.

Run:  python examples/sgd_vs_gradient_descent.py [OUT_DIR]   (--quick for a short run)
It saves the plot to OUT_DIR/sgd_vs_gradient_descent.png (--out PATH: another file);
OUT_DIR is examples/output by default (git-ignored).
"""

import argparse
import os
import time

import numpy as np

import tinygraph as tg

TARGET = 0.1  # "got there": the log loss on the whole data set falls below this
OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")  # the default folder (git-ignored)


def train(X, T, batch_size, lr, epochs):
    """Train a fresh 2-8-1 network; return the loss on all data after each pass, and the seconds."""
    # seed=0 every time: every run starts from exactly the same weights.
    net = tg.mlp([2, 8, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=0)
    feed = {net.input: X, net.target: T[:, None]}
    # fit reports the loss averaged *during* each epoch, while the weights move;
    # to compare fairly we measure the loss on all the data after every pass.
    curve = [float(net.graph.forward(feed))]
    start = time.perf_counter()
    net.fit(
        X,
        T,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        seed=0,
        progress=False,
        callback=lambda epoch, loss: curve.append(float(net.graph.forward(feed))),
    )
    return np.array(curve), time.perf_counter() - start


def main(quick=False, out=None):
    X, T = tg.datasets.moons(n=200, noise=0.1, seed=0)
    n, epochs = len(X), 30 if quick else 200
    # batch_size=1 is per-sample SGD: n updates per pass.  batch_size=n is
    # full-batch gradient descent: the mean gradient of all samples, one update
    # per pass.  With the same learning rate GD hardly moves, so we also give it
    # a 40 times larger step (about as large as it tolerates here: try 10 and
    # watch the loss jump).
    runs = {"SGD lr=0.1": (1, 0.1), "GD lr=0.1": (n, 0.1), "GD lr=4": (n, 4.0)}
    print(f"moons: {n} samples; a 2-8-1 tanh network with log loss, the same initial weights for every run\n")
    results = {name: train(X, T, bs, lr, epochs) for name, (bs, lr) in runs.items()}

    print("log loss on all samples after each pass over the data")
    print("  pass" + "".join(f"{name:>13}" for name in results))
    shown = [e for e in (0, 1, 2, 5, 10, 20, 30, 50, 100, 150, 200) if e <= epochs]
    for e in shown:
        print(f"{e:6d}" + "".join(f"{curve[e]:13.4f}" for curve, _ in results.values()))

    print(f"\nwork needed to reach loss < {TARGET}:")
    for name, (curve, seconds) in results.items():
        updates_per_pass = n // runs[name][0]
        hit = np.flatnonzero(curve < TARGET)
        if hit.size:
            print(
                f"  {name:11} first reaches it after {hit[0]:4d} passes ({hit[0] * updates_per_pass} updates), "
                f"{seconds:.2f} s in all"
            )
        else:
            print(
                f"  {name:11} does not reach it in {epochs} passes ({epochs * updates_per_pass} updates), "
                f"{seconds:.2f} s in all"
            )
    # SGD's curve zigzags (each step follows one sample, not the whole data) but
    # heads down fast; GD's smooth curve with lr=4 wobbles too: a step that large
    # is at the edge of what the average gradient can be trusted for.
    # Passes over the data measure the arithmetic (one gradient per sample per
    # pass).  Seconds tell another story here: per-sample SGD pays Python's
    # overhead on every one of its many small steps, while a full batch is one
    # vectorised numpy call.  Mini-batches (batch_size=16, say) take the best of
    # both: many steps per pass, each one vectorised.

    try:
        from tinygraph import plot

        curves = {name: curve[1:] for name, (curve, _) in results.items()}
        fig = plot.loss(curves, title="per-sample SGD vs full-batch gradient descent (moons)")
        fig.axes[0].set_xlabel("passes over the data (epochs)")
        fig.axes[0].set_ylabel("log loss on all samples")
        out = out or os.path.join(OUTPUT, "sgd_vs_gradient_descent.png")
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        fig.savefig(out)
        print(f"\nplot saved to {out}")
    except ImportError:
        print('\n(no plot: matplotlib is not installed; pip install "tinygraph[plot]")')
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=OUTPUT, help="where to save the plot (default examples/output)")
    parser.add_argument("--quick", action="store_true", help="a short run (30 passes)")
    parser.add_argument("--out", help="the PNG file itself (default OUT_DIR/sgd_vs_gradient_descent.png)")
    args = parser.parse_args()
    main(quick=args.quick, out=args.out or os.path.join(args.out_dir, "sgd_vs_gradient_descent.png"))
