"""Time one training step with each optimizer: tinygraph's SGD, Adam and RMSProp against hand-written numpy.

    python benchmarks/optimizers.py               # the table (784-256-10, batch 128, float64 and float32)
    python benchmarks/optimizers.py --quick       # only check that tinygraph and numpy take the same steps
    python benchmarks/optimizers.py --json out.json

The network is train_step.py's: a logistic 784-256-10 network with squared loss, averaged over
the batch.  One step is forward, backward and the optimizer's update.  The numpy reference does
the same with preallocated buffers and the δ recursion, then updates by the formulas written
out plainly (Adam: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g², w ← w − η m̂/(√v̂ + ε)).
Every implementation runs in this one process, interleaved repeat by repeat (who goes first
rotates); the table shows the median time per step and the median of the per-repeat paired
ratios.  The target: Adam adds at most 10% to tinygraph's SGD step.  One BLAS thread.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import platform
import statistics
import time

import numpy as np

import tinygraph as tg

SIZES, BATCH = [784, 256, 10], 128
SETTINGS = {  # the same settings in tinygraph and in the reference
    "SGD": dict(lr=0.1),
    "Adam": dict(lr=0.001, betas=(0.9, 0.999), eps=1e-8),
    "RMSProp": dict(lr=0.001, alpha=0.99, eps=1e-8),
}
TARGET = 1.10  # tinygraph Adam ÷ tinygraph SGD


def make_problem(dtype, seed=0):
    """Initial weights, biases, one batch and its targets, identical for every implementation."""
    rng = np.random.default_rng(seed)
    Ws = [(rng.normal(size=(a, b)) / np.sqrt(a)).astype(dtype) for a, b in zip(SIZES, SIZES[1:])]
    bs = [(0.1 * rng.normal(size=b)).astype(dtype) for b in SIZES[1:]]
    x = rng.uniform(-1, 1, size=(BATCH, SIZES[0])).astype(dtype)
    t = rng.uniform(0, 1, size=(BATCH, SIZES[-1])).astype(dtype)
    return Ws, bs, x, t


class NumpyStep:
    """The hand-written reference: preallocated buffers, the δ recursion, then ``update``."""

    def __init__(self, Ws, bs, x, t, kind):
        self.kind, self.settings = kind, SETTINGS[kind]
        self.W, self.b = [W.copy() for W in Ws], [b.copy() for b in bs]
        self.x, self.t, self.scale = x, t, 1.0 / len(x)
        self.h = [x] + [np.empty((len(x), W.shape[1]), x.dtype) for W in Ws]
        self.delta = [np.empty_like(h) for h in self.h[1:]]
        self.tmp = [np.empty_like(h) for h in self.h[1:]]
        self.gW, self.gb = [np.empty_like(W) for W in Ws], [np.empty_like(b) for b in bs]
        params = self.W + self.b
        self.m, self.v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
        self.steps = 0
        self.name = f"numpy {kind}"

    def step(self):
        h, W, b = self.h, self.W, self.b
        for k in range(len(W)):  # forward: h_k = σ(h_{k-1} W_k + b_k)
            z = h[k + 1]
            np.matmul(h[k], W[k], out=z)
            z += b[k]
            np.negative(z, out=z)
            np.exp(z, out=z)
            z += 1.0
            np.reciprocal(z, out=z)
        o, d, tmp = h[-1], self.delta[-1], self.tmp[-1]
        np.subtract(o, self.t, out=d)
        loss = 0.5 * self.scale * float(np.dot(d.ravel(), d.ravel()))
        np.subtract(1.0, o, out=tmp)  # δ_out = (o − t) o (1 − o) / batch
        tmp *= o
        d *= tmp
        d *= self.scale
        for k in reversed(range(len(W))):  # backward: the δ recursion
            delta = self.delta[k]
            np.matmul(h[k].T, delta, out=self.gW[k])
            np.sum(delta, axis=0, out=self.gb[k])
            if k > 0:
                prev, tmp = self.delta[k - 1], self.tmp[k - 1]
                np.matmul(delta, W[k].T, out=prev)
                np.subtract(1.0, h[k], out=tmp)
                tmp *= h[k]
                prev *= tmp
        self.update(self.W + self.b, self.gW + self.gb)
        return loss

    def update(self, params, grads):
        """The optimizer's rule, written out as the formulas read."""
        s, self.steps = self.settings, self.steps + 1
        if self.kind == "SGD":
            for p, g in zip(params, grads):
                g *= s["lr"]
                p -= g  # w ← w − η g
        elif self.kind == "Adam":
            (b1, b2), t = s["betas"], self.steps
            for p, g, m, v in zip(params, grads, self.m, self.v):
                m *= b1
                m += (1 - b1) * g  # m ← β1 m + (1 − β1) g
                v *= b2
                v += (1 - b2) * g * g  # v ← β2 v + (1 − β2) g²
                m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
                p -= s["lr"] * m_hat / (np.sqrt(v_hat) + s["eps"])  # w ← w − η m̂/(√v̂ + ε)
        else:
            for p, g, sq in zip(params, grads, self.v):
                sq *= s["alpha"]
                sq += (1 - s["alpha"]) * g * g  # s ← α s + (1 − α) g²
                p -= s["lr"] * g / (np.sqrt(sq) + s["eps"])  # w ← w − η g/(√s + ε)

    def weights(self):
        return [a for pair in zip(self.W, self.b) for a in pair]


class TinygraphStep:
    """The same network built by tg.mlp: forward, backward and the optimizer's step()."""

    def __init__(self, Ws, bs, x, t, kind):
        net = tg.mlp(SIZES, dtype=Ws[0].dtype)
        for layer, W, b in zip(net.layers, Ws, bs):
            layer.W.value[...] = W
            layer.b.value[...] = b
        self.graph, self.loss_graph = net.graph, tg.Graph(net.loss)
        self.feed = {"x": x, "t": t}
        self.optimizer = getattr(tg, kind)(self.graph.parameters(), **SETTINGS[kind])
        self.name = f"tinygraph {kind}"

    def step(self):
        loss = self.loss_graph.forward(self.feed)
        self.loss_graph.backward()
        self.optimizer.step()
        return loss

    def weights(self):
        return [p.value for p in self.graph.parameters()]


def agreement(dtype, kind, steps=5):
    """The largest relative weight difference between tinygraph and the reference over ``steps`` steps."""
    problem = make_problem(dtype)
    runs, worst = [NumpyStep(*problem, kind), TinygraphStep(*problem, kind)], 0.0
    for _ in range(steps):
        for run in runs:
            run.step()
        for a, b in zip(runs[0].weights(), runs[1].weights()):
            worst = max(worst, float(np.max(np.abs(a - b) / (1.0 + np.abs(a)))))
    return worst


def _per_step(run, n):
    start = time.perf_counter()
    for _ in range(n):
        run.step()
    return (time.perf_counter() - start) / n


def bench(dtype, repeats=15, seconds=0.05):
    """Median time per step of each implementation, and the paired ratios, in one process."""
    problem = make_problem(dtype)
    runs = [impl(*problem, kind) for impl in (TinygraphStep, NumpyStep) for kind in SETTINGS]
    for run in runs:  # warm up: tinygraph writes out its passes on the second step
        run.step(), run.step(), run.step()
    n = max(1, round(seconds / _per_step(runs[0], 3)))
    times = {run.name: [] for run in runs}
    for r in range(repeats):
        order = runs[r % len(runs) :] + runs[: r % len(runs)]
        for run in order:
            times[run.name].append(_per_step(run, n))
    result = {"dtype": str(np.dtype(dtype)), "repeats": repeats, "steps_per_repeat": n}
    result.update({f"{name} s": statistics.median(ts) for name, ts in times.items()})

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    for who in ("tinygraph", "numpy"):
        for kind in ("Adam", "RMSProp"):
            result[f"{who} {kind} ÷ SGD"] = ratio(f"{who} {kind}", f"{who} SGD")
    for kind in SETTINGS:
        result[f"{kind}: tinygraph ÷ numpy"] = ratio(f"tinygraph {kind}", f"numpy {kind}")
    return result


def table(results):
    lines = [
        "| dtype | optimizer | tinygraph | numpy | tg ÷ numpy | tg: ÷ its SGD | numpy: ÷ its SGD |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        for kind in SETTINGS:
            own = "1" if kind == "SGD" else f"{r[f'tinygraph {kind} ÷ SGD']:.3f}"
            ref = "1" if kind == "SGD" else f"{r[f'numpy {kind} ÷ SGD']:.3f}"
            own_s, ref_s = r[f"tinygraph {kind} s"] * 1e3, r[f"numpy {kind} s"] * 1e3
            lines.append(
                f"| {r['dtype']} | {kind} | {own_s:.2f} ms | {ref_s:.2f} ms "
                f"| {r[f'{kind}: tinygraph ÷ numpy']:.3f} | {own} | {ref} |"
            )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only check that tinygraph and numpy agree")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}")
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-4)):
        for kind in SETTINGS:
            worst = agreement(dtype, kind)
            status = "ok" if worst <= tol else "MISMATCH"
            print(
                f"agreement over five steps, {kind}, {np.dtype(dtype)}: max relative difference {worst:.1e} ({status})"
            )
            if worst > tol:
                return 1
    if args.quick:
        return 0
    results = [bench(dtype, args.repeats) for dtype in (np.float64, np.float32)]
    print(table(results))
    for r in results:
        met = r["tinygraph Adam ÷ SGD"] <= TARGET
        print(f"{r['dtype']}: Adam adds {r['tinygraph Adam ÷ SGD'] - 1:+.1%} to tinygraph's SGD step "
              f"(target ≤ {TARGET - 1:+.0%}: {'met' if met else 'NOT met'})")  # fmt: skip
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
