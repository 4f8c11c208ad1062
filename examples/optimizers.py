"""Four optimizers on the same network and data: SGD, SGD with momentum, RMSProp and Adam.

Every run starts from the same weights and sees the same mini-batches in the same order;
only the update rule differs.  After every step the loss on the whole data set is measured,
so the curves show what each rule makes of the same gradients.

Run:  python examples/optimizers.py [OUT_DIR]   (--quick for a short run)
With matplotlib (pip install "tinygraph[plot]") it saves the curves to OUT_DIR/optimizers.png
(OUT_DIR is examples/output by default, git-ignored); without, it prints the table only.
"""

import argparse
import os

import numpy as np

import tinygraph as tg

OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output")  # the default folder (git-ignored)
BATCH = 20

# The update rules, each with a learning rate picked by hand for this problem.  SGD's η multiplies
# the gradient; Adam's and RMSProp's is about the largest step one weight takes, whatever its gradient.
OPTIMIZERS = {
    "SGD": lambda ps: tg.SGD(ps, lr=0.1),
    "SGD momentum": lambda ps: tg.SGD(ps, lr=0.1, momentum=0.9),
    "RMSProp": lambda ps: tg.RMSProp(ps, lr=0.01),
    "Adam": lambda ps: tg.Adam(ps, lr=0.03),
}


def train(make, X, T, steps):
    """Train a fresh network with the optimizer ``make`` builds; the loss on all data after each step."""
    net = tg.mlp([2, 16, 16, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=0)  # the same start every time
    optimizer = make(net.parameters())
    everything = {net.input: X, net.target: T[:, None]}
    rng = np.random.default_rng(0)  # one shuffled pass over the rows after another
    order = np.concatenate([rng.permutation(len(X)) for _ in range(steps * BATCH // len(X) + 1)])
    curve = [float(net.graph.forward(everything))]
    for step in range(steps):
        rows = order[step * BATCH : (step + 1) * BATCH]  # the same batches for every optimizer
        net.graph.forward({net.input: X[rows], net.target: T[rows, None]})
        net.graph.backward()
        optimizer.step()  # the only line that differs between the runs
        curve.append(float(net.graph.forward(everything)))
    return np.array(curve), net.accuracy(X, T)


def main(quick=False, out_dir=OUTPUT):
    X, T = tg.datasets.moons(n=200, noise=0.15, seed=0)
    steps = 60 if quick else 600
    print(f"moons: {len(X)} samples; a 2-16-16-1 tanh network with log loss, batches of {BATCH}, {steps} steps\n")
    results = {name: train(make, X, T, steps) for name, make in OPTIMIZERS.items()}

    print("log loss on all samples after each step")
    print("  step" + "".join(f"{name:>14}" for name in results))
    for s in sorted({0, 1, 2, 5, 10, 20, 30, 50, 100, 200, 300, 400, 500, 600} & set(range(steps + 1))):
        print(f"{s:6d}" + "".join(f"{curve[s]:14.4f}" for curve, _ in results.values()))
    print("\naccuracy after the last step:")
    for name, (_, accuracy) in results.items():
        print(f"  {name:13} {accuracy:.0%}")
    # Plain SGD stays on the plateau near 0.32: its steps are η times gradients that are small
    # there.  Momentum adds up the steps that keep pointing the same way and gets off it.  RMSProp
    # and Adam divide each weight's gradient by the root of its recent mean square, so weights
    # with small gradients move as fast as the others; Adam also averages the gradient itself (m),
    # which damps the zigzag of single mini-batches.

    try:
        from tinygraph import plot

        fig = plot.loss({name: curve[1:] for name, (curve, _) in results.items()}, title="four optimizers (moons)")
        fig.axes[0].set_xlabel("steps (mini-batches of 20)")
        fig.axes[0].set_ylabel("log loss on all samples")
        path = os.path.join(out_dir, "optimizers.png")
        os.makedirs(out_dir, exist_ok=True)
        fig.savefig(path)
        print(f"\nplot saved to {path}")
    except ImportError:
        print('\n(no plot: matplotlib is not installed; pip install "tinygraph[plot]")')
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=OUTPUT, help="where to save the plot (default examples/output)")
    parser.add_argument("--quick", action="store_true", help="a short run (60 steps)")
    args = parser.parse_args()
    main(quick=args.quick, out_dir=args.out_dir)
