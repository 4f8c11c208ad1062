"""Time one training step with each optimizer: tinygraph's SGD, Adam and RMSProp against numpy and PyTorch.

    python benchmarks/optimizers.py               # the tables (784-256-10, batch 128, float64 and float32)
    python benchmarks/optimizers.py --quick       # only check that every implementation takes the same steps
    python benchmarks/optimizers.py --json out.json

The network, its initial weights and data, the numpy reference's forward and backward pass and
the PyTorch model are train_step.py's: a logistic 784-256-10 network with squared loss, averaged
over the batch.  One step is forward, backward and the optimizer's update.  The numpy reference
updates by the formulas written out plainly (Adam: m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g²,
w ← w − η m̂/(√v̂ + ε), the rule torch.optim.Adam documents too).  When PyTorch is installed its
SGD and Adam are timed as well: Adam as it comes (on the CPU, a loop over the parameters), with
``foreach=True`` (each operation of the rule once over the list of all parameters) and with
``fused=True`` (the whole rule in one kernel per parameter), each where this torch can run it.
torch's Adam agrees with the reference to about 1e-14 in float64, not 1e-16 as tinygraph's: its
gradients differ from numpy's in the last bits (its own matrix products), and Adam divides a
gradient far below ε by ε, which turns that into ~1e-14 of the weight.

Every implementation runs in this one process, interleaved repeat by repeat (who goes first
rotates); the tables show the median time per step and the median of the per-repeat paired
ratios.  The target: Adam adds at most 10% to tinygraph's SGD step; torch's own Adam ÷ SGD
beside it shows what compiled updates reach.  One BLAS thread, one torch thread.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import importlib.util
import json
import statistics
from pathlib import Path

import numpy as np


def _load_train_step():
    """train_step.py, beside this file, whichever way this one was loaded (a script or by path, as the tests do)."""
    spec = importlib.util.spec_from_file_location("train_step", Path(__file__).resolve().with_name("train_step.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_step = _load_train_step()

SIZES, BATCH = [784, 256, 10], 128
SETTINGS = {  # the same settings in tinygraph, the reference and torch
    "SGD": dict(lr=0.1),
    "Adam": dict(lr=0.001, betas=(0.9, 0.999), eps=1e-8),
    "RMSProp": dict(lr=0.001, alpha=0.99, eps=1e-8),
}
TORCH_VARIANTS = {  # name: (its optimizer in SETTINGS, the options torch.optim adds)
    "SGD": ("SGD", {}),
    "Adam": ("Adam", {}),
    "Adam foreach": ("Adam", dict(foreach=True)),
    "Adam fused": ("Adam", dict(fused=True)),
}
TARGET = 1.10  # tinygraph Adam ÷ tinygraph SGD


class NumpyStep(train_step.NumpyStep):
    """train_step's hand-written reference, with the optimizer's rule of ``kind`` as its ``update``."""

    def __init__(self, Ws, bs, x, t, kind):
        super().__init__(Ws, bs, x, t)
        self.kind, self.settings = kind, SETTINGS[kind]
        params = self.W + self.b
        self.m, self.v = [np.zeros_like(p) for p in params], [np.zeros_like(p) for p in params]
        self.steps = 0
        self.name = f"numpy {kind}"

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


class TinygraphStep(train_step.TinygraphStep):
    """train_step's tg.mlp network, stepped by tinygraph's optimizer ``kind``."""

    def __init__(self, Ws, bs, x, t, kind):
        self.kind = kind  # (read by optimizer_for, which the base's __init__ calls)
        super().__init__(Ws, bs, x, t)
        self.name = f"tinygraph {kind}"

    def optimizer_for(self, params):
        return getattr(self.tg, self.kind)(params, **SETTINGS[self.kind])


class TorchStep(train_step.TorchStep):
    """train_step's PyTorch model, stepped by the torch.optim optimizer of ``variant`` (a key of TORCH_VARIANTS)."""

    def __init__(self, Ws, bs, x, t, variant):
        self.variant, self.kind = variant, TORCH_VARIANTS[variant][0]
        super().__init__(Ws, bs, x, t)
        self.name = f"torch {variant}"

    def optimizer_for(self, params):
        options = TORCH_VARIANTS[self.variant][1]
        return getattr(self.torch.optim, self.kind)(params, **SETTINGS[self.kind], **options)


def make_problem(dtype):
    """Initial weights, biases, one batch and its targets, identical for every implementation."""
    return train_step.make_problem(SIZES, BATCH, dtype)


def agreement(dtype, kind, steps=5, impl=TinygraphStep):
    """The largest relative weight difference between ``impl`` stepped by ``kind`` (a key of SETTINGS;
    of TORCH_VARIANTS for TorchStep) and the reference of the same optimizer, over ``steps`` steps."""
    problem = make_problem(dtype)
    other = impl(*problem, kind)
    runs, worst = [NumpyStep(*problem, other.kind), other], 0.0
    for _ in range(steps):
        for run in runs:
            run.step()
        for a, b in zip(runs[0].weights(), runs[1].weights()):
            worst = max(worst, float(np.max(np.abs(a - b) / (1.0 + np.abs(a)))))
    return worst


def bench(dtype, repeats=15, seconds=0.05, torch_variants=()):
    """Median time per step of each implementation (torch: the ``torch_variants``), and the paired ratios."""
    problem = make_problem(dtype)
    runs = [impl(*problem, kind) for impl in (TinygraphStep, NumpyStep) for kind in SETTINGS]
    runs += [TorchStep(*problem, variant) for variant in torch_variants]
    for run in runs:  # warm up: tinygraph writes out its passes on the second step
        run.step(), run.step(), run.step()
    n = max(1, round(seconds / train_step._per_step(runs[0], 3)))
    times = {run.name: [] for run in runs}
    for r in range(repeats):
        order = runs[r % len(runs) :] + runs[: r % len(runs)]
        for run in order:
            times[run.name].append(train_step._per_step(run, n))
    result = {"dtype": str(np.dtype(dtype)), "repeats": repeats, "steps_per_repeat": n}
    result.update({f"{name} s": statistics.median(ts) for name, ts in times.items()})

    def ratio(a, b):
        return statistics.median(x / y for x, y in zip(times[a], times[b]))

    for who in ("tinygraph", "numpy"):
        for kind in ("Adam", "RMSProp"):
            result[f"{who} {kind} ÷ SGD"] = ratio(f"{who} {kind}", f"{who} SGD")
    for kind in SETTINGS:
        result[f"{kind}: tinygraph ÷ numpy"] = ratio(f"tinygraph {kind}", f"numpy {kind}")
    for variant in torch_variants:
        kind = TORCH_VARIANTS[variant][0]
        if variant != "SGD":
            result[f"torch {variant} ÷ SGD"] = ratio(f"torch {variant}", "torch SGD")
        result[f"{kind}: tinygraph ÷ torch {variant}"] = ratio(f"tinygraph {kind}", f"torch {variant}")
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


def torch_table(results):
    """PyTorch's optimizers: each one's time, ÷ torch's SGD, and tinygraph's same optimizer ÷ it."""
    lines = [
        "| dtype | torch optimizer | torch | torch: ÷ its SGD | tinygraph | tg ÷ torch |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        for variant, (kind, _) in TORCH_VARIANTS.items():
            if f"torch {variant} s" not in r:
                continue  # (this torch cannot run it: said with the agreement checks)
            own = "1" if variant == "SGD" else f"{r[f'torch {variant} ÷ SGD']:.3f}"
            lines.append(
                f"| {r['dtype']} | {variant} | {r[f'torch {variant} s'] * 1e3:.2f} ms | {own} "
                f"| {kind} {r[f'tinygraph {kind} s'] * 1e3:.2f} ms | {r[f'{kind}: tinygraph ÷ torch {variant}']:.3f} |"
            )
    return "\n".join(lines)


def check(dtype, kind, impl=TinygraphStep):
    """Print the agreement of ``impl`` stepped by ``kind`` with the reference; whether it is within tolerance."""
    tol = 1e-12 if dtype == np.float64 else 1e-4
    worst = agreement(dtype, kind, impl=impl)
    who = f"torch {kind}" if impl is TorchStep else kind
    status = "ok" if worst <= tol else "MISMATCH"
    print(f"agreement over five steps, {who}, {np.dtype(dtype)}: max relative difference {worst:.1e} ({status})")
    return worst <= tol


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only check that the implementations agree")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="write the results to this file")
    args = parser.parse_args(argv)
    print(train_step.describe_machine())
    has_torch = importlib.util.find_spec("torch") is not None
    if not has_torch:
        print("PyTorch is not installed: its optimizers are not timed")
    dtypes, torch_variants = (np.float64, np.float32), {}
    for dtype in dtypes:
        if not all([check(dtype, kind) for kind in SETTINGS]):
            return 1
        torch_variants[dtype] = []
        for variant in TORCH_VARIANTS if has_torch else ():
            try:
                if not check(dtype, variant, impl=TorchStep):
                    return 1
            except (RuntimeError, TypeError) as error:  # (an option this torch does not have, or not on the CPU)
                print(f"torch {variant}, {np.dtype(dtype)}: skipped, this torch cannot run it ({error})")
                continue
            torch_variants[dtype].append(variant)
    if args.quick:
        return 0
    results = [bench(dtype, args.repeats, torch_variants=torch_variants[dtype]) for dtype in dtypes]
    print(table(results))
    if has_torch:
        print(torch_table(results))
    for r in results:
        met = r["tinygraph Adam ÷ SGD"] <= TARGET
        print(f"{r['dtype']}: Adam adds {r['tinygraph Adam ÷ SGD'] - 1:+.1%} to tinygraph's SGD step "
              f"(target ≤ {TARGET - 1:+.0%}: {'met' if met else 'NOT met'})")  # fmt: skip
        torch_adams = [v for v in torch_variants[np.dtype(r["dtype"]).type] if v != "SGD"]
        if torch_adams:
            own = ", ".join(f"{r[f'torch {v} ÷ SGD'] - 1:+.1%} ({v})" for v in torch_adams)
            print(f"{r['dtype']}: torch's Adam adds {own} to torch's SGD step")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
