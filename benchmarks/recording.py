"""What a tg.Recording costs: fit with a Recording against the same fit without one, in one process.

    python benchmarks/recording.py [--repeats 5]

Each workload trains the same network from the same seed both ways, interleaved repeat by repeat
(who goes first alternates); the table shows the median time of each and the median of the paired
ratios. Before timing, it checks that both ways give the same losses and parameters bit for bit.
Writing the page (rec.to_html, which draws the network view and traces three snapshots with
Graphviz) is timed apart, once.
"""

import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # (before numpy loads: one BLAS thread)

import numpy as np

import tinygraph as tg


def workloads():
    """(name, make network, X, T, fit options) of each row."""
    moons = tg.datasets.moons(n=300, noise=0.15, seed=0)
    xor = tg.datasets.xor()
    rng = np.random.default_rng(0)
    digits_like = (rng.normal(size=(1200, 64)), rng.integers(0, 10, 1200))  # (64 features, 10 classes)
    return [
        ("xor 2-2-1, 3000 epochs of 4, batch 1", lambda: tg.mlp([2, 2, 1], seed=0), *xor, dict(epochs=3000, lr=0.5)),
        (
            "moons 2-16-16-1 tanh, 20 epochs of 300, batch 1",
            lambda: tg.mlp([2, 16, 16, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=0),
            *moons,
            dict(epochs=20, lr=0.05),
        ),
        (
            "64-32-10 softmax, 10 epochs of 1200, batch 1",
            lambda: tg.mlp([64, 32, 10], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0),
            *digits_like,
            dict(epochs=10, lr=0.05),
        ),
        (
            "64-32-10 softmax, 50 epochs of 1200, batch 32",
            lambda: tg.mlp([64, 32, 10], activation=tg.Tanh, loss=tg.SoftmaxCrossEntropy, seed=0),
            *digits_like,
            dict(epochs=50, lr=0.1, batch_size=32),
        ),
    ]


def run(make, X, T, options, record):
    net = make()
    start = time.perf_counter()
    history = net.fit(X, T, seed=0, progress=False, record=record, **options)
    return time.perf_counter() - start, history, [p.value.copy() for p in net.parameters()]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| workload | steps | fit alone | fit with a Recording (200 snapshots) | ratio (median) | to_html |")
    print("|---|---|---|---|---|---|")
    for name, make, X, T, options in workloads():
        _, h0, p0 = run(make, X, T, options, None)
        _, h1, p1 = run(make, X, T, options, tg.Recording())
        assert h0 == h1 and all(np.array_equal(a, b) for a, b in zip(p0, p1)), f"{name}: recording changed training"
        alone, recorded, ratios = [], [], []
        for r in range(args.repeats):
            order = [None, "rec"] if r % 2 == 0 else ["rec", None]
            times = {}
            for which in order:
                rec = tg.Recording() if which else None
                times[which] = run(make, X, T, options, rec)[0]
            alone.append(times[None])
            recorded.append(times["rec"])
            ratios.append(times["rec"] / times[None])
        rec = tg.Recording()
        run(make, X, T, options, rec)
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            size = os.path.getsize(rec.to_html(os.path.join(tmp, "replay.html")))
            page = time.perf_counter() - start
        steps = options["epochs"] * -(-len(X) // options.get("batch_size", 1))
        print(
            f"| {name} | {steps:,} | {statistics.median(alone):.2f} s | {statistics.median(recorded):.2f} s | "
            f"{statistics.median(ratios):.3f}× | {page:.1f} s, {size / 1e6:.1f} MB |"
        )


if __name__ == "__main__":
    main()
