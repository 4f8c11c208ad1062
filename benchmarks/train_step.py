"""Time one SGD training step: tinygraph against hand-written numpy (and PyTorch, when installed).

    python benchmarks/train_step.py                 # the table of issue workloads
    python benchmarks/train_step.py --json out.json # also write the numbers
    python benchmarks/train_step.py --scaling       # time per step against depth and batch size
    python benchmarks/train_step.py --quick         # only check that all implementations agree
    python benchmarks/train_step.py --before DIR    # also time the tinygraph in DIR (a git worktree
                                                    # of an earlier commit), side by side in one run

Every workload is a logistic network with squared loss E = ½ Σ (o − t)² (averaged over
the batch), and one step is forward, backward and w ← w − η ∂E/∂w.  The implementations
are interleaved repeat by repeat; the table shows medians of the per-step times and of
the per-repeat paired ratios.  One BLAS thread throughout.
"""

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import importlib.util
import json
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

import tinygraph as tg

LR = 0.1
WORKLOADS = [
    dict(name="2-3-1, batch 1", sizes=[2, 3, 1], batch=None, dtype="float64", target=1.3),
    dict(name="64-32-10, batch 1", sizes=[64, 32, 10], batch=None, dtype="float64", target=1.3),
    dict(name="784-256-10, batch 128, float64", sizes=[784, 256, 10], batch=128, dtype="float64", target=1.1),
    dict(name="784-256-10, batch 128, float32", sizes=[784, 256, 10], batch=128, dtype="float32", target=1.1),
    dict(name="16×32 hidden, batch 16", sizes=[32] + [32] * 16 + [10], batch=16, dtype="float64", target=1.3),
    dict(
        name="1024-1024-1024-10, batch 512, float32",
        sizes=[1024, 1024, 1024, 10],
        batch=512,
        dtype="float32",
        target="gemm",
    ),
]


# The convolutional rows: a workload with "layers" is a CNN trained with softmax cross-entropy on class
# indices.  ("conv", C_out, k): a k×k convolution with a bias (stride 1, no padding); ("relu",);
# ("pool", k): k×k max pooling; ("dense", n): the flattened features times W, plus b.
CNN_WORKLOADS = [
    dict(
        name="digits CNN (1,8,8) conv 8@3×3, batch 64",
        image=(1, 8, 8),
        layers=[("conv", 8, 3), ("relu",), ("pool", 2), ("dense", 10)],
        batch=64,
        dtype="float64",
        target=1.3,
    ),
    dict(
        name="MNIST-shaped CNN (1,28,28) 16@5×5, 32@3×3, batch 64, float32",
        image=(1, 28, 28),
        layers=[("conv", 16, 5), ("relu",), ("pool", 2), ("conv", 32, 3), ("relu",), ("pool", 2), ("dense", 10)],
        batch=64,
        dtype="float32",
        target=1.3,
    ),
]
WORKLOADS += CNN_WORKLOADS


def make_problem(sizes, batch, dtype, seed=0):
    """Initial weights, biases, one input and one target, identical for every implementation."""
    rng = np.random.default_rng(seed)
    Ws = [(rng.normal(size=(a, b)) / np.sqrt(a)).astype(dtype) for a, b in zip(sizes, sizes[1:])]
    bs = [(0.1 * rng.normal(size=b)).astype(dtype) for b in sizes[1:]]
    rows = () if batch is None else (batch,)
    x = rng.uniform(-1, 1, size=rows + (sizes[0],)).astype(dtype)
    t = rng.uniform(0, 1, size=rows + (sizes[-1],)).astype(dtype)
    return Ws, bs, x, t


class NumpyStep:
    """The hand-written reference: preallocated buffers, in-place updates, the δ recursion."""

    name = "numpy"

    def __init__(self, Ws, bs, x, t, lr=LR):
        self.W = [W.copy() for W in Ws]
        self.b = [b.copy() for b in bs]
        self.x, self.t, self.lr = x, t, lr
        rows = x.shape[:-1]
        self.batched = bool(rows)
        self.scale = 1.0 / rows[0] if rows else 1.0
        self.h = [x] + [np.empty(rows + (W.shape[1],), x.dtype) for W in Ws]
        self.delta = [np.empty_like(h) for h in self.h[1:]]
        self.tmp = [np.empty_like(h) for h in self.h[1:]]
        self.gW = [np.empty_like(W) for W in Ws]
        self.gb = [np.empty_like(b) for b in bs]

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
        np.subtract(o, self.t, out=d)  # o − t
        loss = 0.5 * self.scale * float(np.dot(d.ravel(), d.ravel()))
        np.subtract(1.0, o, out=tmp)  # δ_out = (o − t) o (1 − o) / batch
        tmp *= o
        d *= tmp
        if self.scale != 1.0:
            d *= self.scale
        for k in reversed(range(len(W))):  # backward: the δ recursion
            delta = self.delta[k]
            if self.batched:
                np.matmul(h[k].T, delta, out=self.gW[k])
                np.sum(delta, axis=0, out=self.gb[k])
            else:
                np.multiply.outer(h[k], delta, out=self.gW[k])
                self.gb[k][...] = delta
            if k > 0:
                prev, tmp = self.delta[k - 1], self.tmp[k - 1]
                np.matmul(delta, W[k].T, out=prev)
                np.subtract(1.0, h[k], out=tmp)
                tmp *= h[k]
                prev *= tmp
        self.update(W + b, self.gW + self.gb)
        return loss

    def update(self, params, grads):
        """The optimizer's step, in place: w ← w − η ∂E/∂w (benchmarks/optimizers.py puts others here)."""
        for p, g in zip(params, grads):
            g *= self.lr
            p -= g

    def weights(self):
        return [a for pair in zip(self.W, self.b) for a in pair]


def shapes_of(image, layers):
    """The per-sample shape after each layer of a CNN workload."""
    shapes, (c, h, w) = [], image
    for layer in layers:
        if layer[0] == "conv":
            c, h, w = layer[1], h - layer[2] + 1, w - layer[2] + 1
        elif layer[0] == "pool":
            h, w = (h - layer[1]) // layer[1] + 1, (w - layer[1]) // layer[1] + 1
        elif layer[0] == "dense":
            c, h, w = layer[1], None, None
        shapes.append((c,) if h is None else (c, h, w))
    return shapes


def make_cnn_problem(workload, seed=0):
    """The weights [(w, b) per conv or dense layer], a batch of random images and their class indices."""
    rng = np.random.default_rng(seed)
    dtype, image, layers = workload["dtype"], workload["image"], workload["layers"]
    shape, weights = image, []
    for layer, after in zip(layers, shapes_of(image, layers)):
        if layer[0] == "conv":
            fan_in = shape[0] * layer[2] ** 2
            w = rng.normal(size=(layer[1], shape[0], layer[2], layer[2])) * np.sqrt(2 / fan_in)
            weights.append((w.astype(dtype), (0.01 * rng.normal(size=layer[1])).astype(dtype)))
        elif layer[0] == "dense":
            fan_in = int(np.prod(shape))
            W = rng.normal(size=(fan_in, layer[1])) / np.sqrt(fan_in)
            weights.append((W.astype(dtype), (0.01 * rng.normal(size=layer[1])).astype(dtype)))
        shape = after
    x = rng.uniform(0, 1, size=(workload["batch"],) + image).astype(dtype)
    t = rng.integers(0, layers[-1][1], size=workload["batch"]).astype(dtype)  # class indices
    return weights, x, t


class CnnNumpyStep:
    """The hand-written reference of a CNN step: im2col, one matrix product per pass, buffers made once.

    Convolution: the k×k patches of the input are copied (from a window view) into the columns of a
    matrix laid out (C·k·k, batch·H_out·W_out), so that z = w·cols, ∂E/∂w = g·colsᵀ and ∂E/∂cols = wᵀ·g
    are each one GEMM; ∂E/∂x adds each kernel offset's columns back onto the pixels (col2im).  Max
    pooling: the maximum over the k² offsets of the window, and a mask per offset of where its pixel
    was the window's first maximum (ties to the first, as the nodes).  ReLU, softmax cross-entropy,
    SGD: in place.
    """

    name = "numpy"

    spec = None  # the workload's layers (set on a subclass per workload: see cnn_classes)

    def __init__(self, weights, x, t, lr=LR):
        self.params = [(w.copy(), b.copy()) for w, b in weights]
        self.grads = [(np.empty_like(w), np.empty_like(b)) for w, b in weights]
        self.x, self.t, self.lr = x, t.astype(np.intp), lr
        self.layers, k = [], 0  # (kind, index of its weights or the pool's size)
        for layer in self.spec:
            self.layers.append((layer[0], layer[1] if layer[0] == "pool" else k))
            k += layer[0] in ("conv", "dense")
        self._buffers(len(x), x.dtype)

    def _buffers(self, n, dt):
        """Make every array of the step once, from the shapes of a pass."""
        x = self.x
        self.acts, self.plans = [x], []
        for kind, k in self.layers:
            a = self.acts[-1]
            if kind == "conv":
                w, _ = self.params[k]
                o, c, kh, kw = w.shape
                ho, wo = a.shape[2] - kh + 1, a.shape[3] - kw + 1
                cols = np.empty((c, kh, kw, n, ho, wo), dt)
                window = np.lib.stride_tricks.sliding_window_view(a, (kh, kw), axis=(2, 3))
                zt = np.empty((o, n, ho, wo), dt)
                plan = dict(
                    cols=cols,
                    cols2=cols.reshape(c * kh * kw, -1),
                    window=window.transpose(1, 4, 5, 0, 2, 3),
                    zt=zt,
                    zt2=zt.reshape(o, -1),
                    gt=np.empty((o, n, ho, wo), dt),
                )
                if a is not x:  # ∂E/∂x, for the layers below
                    gcols = np.empty_like(cols)
                    gx = np.empty_like(a)
                    plan.update(
                        gcols2=gcols.reshape(c * kh * kw, -1),
                        gx=gx,
                        scatter=[
                            (gx[:, :, u : u + ho, v : v + wo], gcols[:, u, v].transpose(1, 0, 2, 3))
                            for u in range(kh)
                            for v in range(kw)
                        ],
                    )
                self.plans.append(plan)
                self.acts.append(zt.transpose(1, 0, 2, 3))
            elif kind == "relu":
                self.plans.append(dict(mask=np.empty(a.shape, bool)))
                self.acts.append(np.empty(a.shape, dt))
            elif kind == "pool":
                s = k
                ho, wo = (a.shape[2] - s) // s + 1, (a.shape[3] - s) // s + 1
                y = np.empty(a.shape[:2] + (ho, wo), dt)
                pixels = [a[:, :, u : u + s * ho : s, v : v + s * wo : s] for u in range(s) for v in range(s)]
                gx = np.zeros(a.shape, dt)
                plan = dict(
                    pixels=pixels,
                    won=np.empty((s * s,) + y.shape, bool),
                    taken=np.empty(y.shape, bool),
                    gx=gx,
                    gpixels=[gx[:, :, u : u + s * ho : s, v : v + s * wo : s] for u in range(s) for v in range(s)],
                    covers=a.shape[2] == s * ho and a.shape[3] == s * wo,
                )
                self.plans.append(plan)
                self.acts.append(y)
            else:  # dense, on the flattened features
                W, _ = self.params[k]
                flat = np.empty((n, W.shape[0]), dt)
                self.plans.append(dict(flat=flat, z=np.empty((n, W.shape[1]), dt), gflat=np.empty_like(flat)))
                self.acts.append(self.plans[-1]["z"])
        z = self.acts[-1]
        self.p, self.rows = np.empty_like(z), np.arange(n)
        self.maxes, self.sums = np.empty((n, 1), dt), np.empty((n, 1), dt)

    def step(self):
        acts, plans = self.acts, self.plans
        for i, ((kind, k), plan) in enumerate(zip(self.layers, plans)):
            a, out = acts[i], acts[i + 1]
            if kind == "conv":  # z = w·cols + b
                w, b = self.params[k]
                np.copyto(plan["cols"], plan["window"])
                np.matmul(w.reshape(w.shape[0], -1), plan["cols2"], out=plan["zt2"])
                plan["zt2"] += b[:, None]
            elif kind == "relu":
                np.maximum(a, 0, out=out)
            elif kind == "pool":
                pixels, won, taken = plan["pixels"], plan["won"], plan["taken"]
                np.maximum(pixels[0], pixels[1], out=out)
                for pixel in pixels[2:]:
                    np.maximum(out, pixel, out=out)
                np.equal(pixels[0], out, out=won[0])
                np.copyto(taken, won[0])
                for o in range(1, len(pixels)):  # the first maximum of each window
                    np.equal(pixels[o], out, out=won[o])
                    np.greater(won[o], taken, out=won[o])
                    if o < len(pixels) - 1:
                        np.logical_or(taken, won[o], out=taken)
            else:
                W, b = self.params[k]
                np.copyto(plan["flat"], a.reshape(len(a), -1))
                np.matmul(plan["flat"], W, out=out)
                out += b
        # softmax cross-entropy, the mean over the batch: ∂E/∂z = (p − onehot)/n
        z, p, n = acts[-1], self.p, len(self.x)
        np.max(z, axis=1, keepdims=True, out=self.maxes)
        np.subtract(z, self.maxes, out=p)
        np.exp(p, out=p)
        np.sum(p, axis=1, keepdims=True, out=self.sums)
        loss = float(np.mean(np.log(self.sums[:, 0]) - (z[self.rows, self.t] - self.maxes[:, 0])))
        p /= self.sums
        p[self.rows, self.t] -= 1
        p *= 1.0 / n
        g = p
        for i in reversed(range(len(self.layers))):
            (kind, k), plan, a = self.layers[i], plans[i], acts[i]
            if kind == "dense":
                W, _ = self.params[k]
                gW, gb = self.grads[k]
                np.matmul(plan["flat"].T, g, out=gW)
                np.sum(g, axis=0, out=gb)
                np.matmul(g, W.T, out=plan["gflat"])
                g = plan["gflat"].reshape(a.shape)
            elif kind == "pool":
                gx, won, covers = plan["gx"], plan["won"], plan["covers"]
                if not covers:
                    gx.fill(0)
                for o, gpixel in enumerate(plan["gpixels"]):
                    np.multiply(g, won[o], out=gpixel)
                g = gx
            elif kind == "relu":
                np.greater(acts[i + 1], 0, out=plan["mask"])
                g *= plan["mask"]  # (g is the pool's own buffer: changed in place)
            else:  # conv
                w, _ = self.params[k]
                gw, gb = self.grads[k]
                o = w.shape[0]
                np.copyto(plan["gt"], g.transpose(1, 0, 2, 3))
                gt2 = plan["gt"].reshape(o, -1)
                np.matmul(gt2, plan["cols2"].T, out=gw.reshape(o, -1))
                np.sum(gt2, axis=1, out=gb)
                if "gx" in plan:
                    np.matmul(w.reshape(o, -1).T, gt2, out=plan["gcols2"])
                    plan["gx"].fill(0)
                    for patch, column in plan["scatter"]:
                        patch += column
                    g = plan["gx"]
        for (w, b), (gw, gb) in zip(self.params, self.grads):  # w ← w − η ∂E/∂w
            gw *= self.lr
            w -= gw
            gb *= self.lr
            b -= gb
        return loss

    def weights(self):
        return [a for pair in self.params for a in pair]


class CnnTinygraphStep:
    """The same CNN built of tinygraph nodes: Conv2D, ReLU, MaxPool2D, Flatten, WeightedSum; fit's step."""

    name = "tinygraph"
    spec = None

    def __init__(self, weights, x, t, lr=LR):
        layer = tg.Input("x", shape=x.shape[1:])
        params, k = [], 0
        for spec in self.spec:
            if spec[0] == "conv":
                w, b = (tg.Parameter(a.copy(), name=f"{n}{k}") for a, n in zip(weights[k], "wb"))
                layer, k = tg.Conv2D(layer, w, b, name=f"conv{k}"), k + 1
                params += [w, b]
            elif spec[0] == "relu":
                layer = tg.ReLU(layer)
            elif spec[0] == "pool":
                layer = tg.MaxPool2D(layer, spec[1])
            else:
                W, b = (tg.Parameter(a.copy(), name=f"{n}{k}") for a, n in zip(weights[k], "Wb"))
                layer, k = tg.WeightedSum(tg.Flatten(layer), W, b, name=f"dense{k}"), k + 1
                params += [W, b]
        self.graph = tg.Graph(tg.SoftmaxCrossEntropy(layer, tg.Input("t", shape=()), name="E"))
        self.params = params
        self.feed = {"x": x, "t": t}
        self.optimizer = tg.SGD(params, lr=lr)

    def step(self):
        loss = self.graph.forward(self.feed)
        self.graph.backward()
        self.optimizer.step()
        return loss

    def weights(self):
        return [p.value for p in self.params]


class CnnTorchStep:
    """PyTorch eager mode: nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten, nn.Linear, cross_entropy, optim.SGD."""

    name = "torch"
    spec = None

    def __init__(self, weights, x, t, lr=LR):
        import torch

        torch.set_num_threads(1)
        self.torch, dtype, modules, k = torch, getattr(torch, str(x.dtype)), [], 0
        for spec in self.spec:
            if spec[0] == "conv":
                w, b = weights[k]
                conv = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], dtype=dtype)
                with torch.no_grad():
                    conv.weight.copy_(torch.from_numpy(w))
                    conv.bias.copy_(torch.from_numpy(b))
                modules.append(conv)
                k += 1
            elif spec[0] == "relu":
                modules.append(torch.nn.ReLU())
            elif spec[0] == "pool":
                modules.append(torch.nn.MaxPool2d(spec[1]))
            else:
                W, b = weights[k]
                lin = torch.nn.Linear(*W.shape, dtype=dtype)
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(W.T.copy()))
                    lin.bias.copy_(torch.from_numpy(b))
                modules += [torch.nn.Flatten(), lin]
                k += 1
        self.model = torch.nn.Sequential(*modules)
        self.x, self.t = torch.from_numpy(x), torch.from_numpy(t.astype(np.int64))
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr)

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.torch.nn.functional.cross_entropy(self.model(self.x), self.t)
        loss.backward()
        self.optimizer.step()
        return loss

    def weights(self):
        out = []
        for module in self.model:
            if isinstance(module, self.torch.nn.Linear):
                out += [module.weight.detach().numpy().T, module.bias.detach().numpy()]
            elif hasattr(module, "weight"):
                out += [module.weight.detach().numpy(), module.bias.detach().numpy()]
        return out


def cnn_classes(workload):
    """The numpy, tinygraph and torch steps of a CNN workload (its layers set on each)."""
    return [
        type(cls.__name__, (cls,), {"spec": workload["layers"]})
        for cls in (CnnNumpyStep, CnnTinygraphStep, CnnTorchStep)
    ]


class TinygraphStep:
    """The same network built by tg.mlp: forward, backward, SGD.step."""

    name = "tinygraph"
    tg = tg  # (BeforeStep: the tinygraph of an earlier commit)

    def __init__(self, Ws, bs, x, t, lr=LR):
        sizes = [Ws[0].shape[0]] + [W.shape[1] for W in Ws]
        tg = self.tg
        self.net = tg.mlp(sizes, dtype=Ws[0].dtype)
        for layer, W, b in zip(self.net.layers, Ws, bs):
            layer.W.value[...] = W
            layer.b.value[...] = b
        self.graph = self.net.graph
        self.loss_graph = tg.Graph(self.net.loss)  # the step needs the loss only, not o's Softmax
        self.feed = {"x": x, "t": t}
        self.lr = lr
        self.optimizer = self.optimizer_for(self.graph.parameters())

    def optimizer_for(self, params):
        """The optimizer of the step: SGD (benchmarks/optimizers.py builds others here)."""
        return self.tg.SGD(params, lr=self.lr)

    def step(self):
        loss = self.loss_graph.forward(self.feed)
        self.loss_graph.backward()
        self.optimizer.step()
        return loss

    def weights(self):
        return [p.value for p in self.graph.parameters()]


class TorchStep:
    """PyTorch eager mode, written as its users would: modules, autograd, torch.optim.SGD."""

    name = "torch"

    def __init__(self, Ws, bs, x, t, lr=LR):
        import torch

        torch.set_num_threads(1)
        self.torch = torch
        layers = []
        for W, b in zip(Ws, bs):
            lin = torch.nn.Linear(*W.shape, dtype=getattr(torch, str(W.dtype)))
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(W.T.copy()))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers)
        self.x, self.t = torch.from_numpy(x), torch.from_numpy(t)
        self.scale = 1.0 / x.shape[0] if x.ndim > 1 else 1.0
        self.lr = lr
        self.optimizer = self.optimizer_for(self.model.parameters())

    def optimizer_for(self, params):
        """The optimizer of the step: torch.optim.SGD (benchmarks/optimizers.py builds others here)."""
        return self.torch.optim.SGD(params, lr=self.lr)

    def step(self):
        self.optimizer.zero_grad(set_to_none=True)
        loss = 0.5 * self.scale * ((self.model(self.x) - self.t) ** 2).sum()
        loss.backward()
        self.optimizer.step()
        return loss

    def weights(self):
        out = []
        for module in self.model:
            if hasattr(module, "weight"):
                out += [module.weight.detach().numpy().T, module.bias.detach().numpy()]
        return out


class BeforeStep(TinygraphStep):
    """TinygraphStep with the tinygraph given by --before (None: not measured)."""

    name = "before"
    tg = None


def load_before(folder):
    """The tinygraph package in ``folder`` (a checkout), imported beside this one.

    It is imported under its own name ``tinygraph``, and this checkout's under ``tinygraph_now``
    (its imports are all relative), since an earlier tinygraph may tell its own node classes by their
    module name."""
    global tg
    here = Path(__file__).resolve().parent.parent / "tinygraph"
    for name in [m for m in sys.modules if m == "tinygraph" or m.startswith("tinygraph.")]:
        del sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        "tinygraph_now", here / "__init__.py", submodule_search_locations=[str(here)]
    )
    now = importlib.util.module_from_spec(spec)
    sys.modules["tinygraph_now"] = now
    spec.loader.exec_module(now)
    sys.path.insert(0, str(Path(folder).resolve()))
    import tinygraph as before

    if Path(before.__file__).resolve().parent == here:
        raise SystemExit(f"--before {folder}: no tinygraph package there")
    TinygraphStep.tg, BeforeStep.tg, tg = now, before, now
    return before


def problem_of(workload):
    """The initial weights and the data of a workload, identical for every implementation."""
    if "layers" in workload:
        return make_cnn_problem(workload)
    return make_problem(workload["sizes"], workload["batch"], workload["dtype"])


def implementations(workload=None, torch=True):
    """The steps to time: numpy first, then tinygraph (and the --before one), then torch when installed
    (and ``torch`` is True).

    A CNN workload has steps of its own; the --before tinygraph, which may have no Conv2D, is not
    timed on those."""
    cnn = workload is not None and "layers" in workload
    numpy_step, tinygraph_step, torch_step = cnn_classes(workload) if cnn else (NumpyStep, TinygraphStep, TorchStep)
    impls = [numpy_step, tinygraph_step] + ([BeforeStep] if BeforeStep.tg is not None and not cnn else [])
    if not torch:
        return impls
    try:
        import torch

        impls.append(torch_step)
    except ImportError:
        pass
    return impls


def check_agreement(workload, impls=None, steps=3):
    """Run ``steps`` steps in every implementation; return the largest weight difference
    seen after any of them.  (tinygraph runs its first step in its loops and later ones
    as written-out code, so three steps check both.)"""
    impls = impls or implementations(workload)
    problem = problem_of(workload)
    runs = [impl(*problem) for impl in impls]
    worst = 0.0
    for _ in range(steps):
        for run in runs:
            run.step()
        ref = runs[0].weights()
        for run in runs[1:]:
            for a, b in zip(ref, run.weights()):
                worst = max(worst, float(np.max(np.abs(a - b) / (1.0 + np.abs(a)))))
    return worst


def _per_step(run, n):
    start = time.perf_counter()
    for _ in range(n):
        run.step()
    return (time.perf_counter() - start) / n


def _calibrate(run, seconds=0.02):
    n = 1
    while _per_step(run, n) * n < seconds:
        n *= 2
    return n


def peak_memory(impl, problem):
    """(peak, steady): peak bytes allocated while building ``impl`` and running two steps
    (tracemalloc sees numpy's buffers: weights, gradients, activations and temporaries
    alike), and the peak of everything held during steps 4 and 5, once tinygraph's
    one-time work (its written-out passes, compiled on the second step) is done."""
    tracemalloc.start()
    run = impl(*problem)
    run.step()
    run.step()
    peak = tracemalloc.get_traced_memory()[1]
    run.step()
    tracemalloc.reset_peak()
    run.step()
    run.step()
    steady = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, steady


def gemm_seconds(workload):
    """Time of the matrix products one step needs, as bare preallocated np.matmul calls."""
    Ws, _, x, _ = make_problem(workload["sizes"], workload["batch"], workload["dtype"])
    B = x.shape[0]
    hs = [x] + [np.ones((B, W.shape[1]), x.dtype) for W in Ws]
    products = []
    for k, W in enumerate(Ws):
        products.append((hs[k], W, np.empty((B, W.shape[1]), x.dtype)))  # forward
        products.append((hs[k].T, hs[k + 1], np.empty_like(W)))  # ∂E/∂W
        if k > 0:
            products.append((hs[k + 1], W.T, np.empty((B, W.shape[0]), x.dtype)))  # δ back
    flops = sum(2 * a.shape[0] * a.shape[1] * b.shape[1] for a, b, _ in products)

    class Gemm:
        def step(self):
            for a, b, out in products:
                np.matmul(a, b, out=out)

    return Gemm(), flops


def bench(workload, repeats=15, seconds=0.02):
    problem = problem_of(workload)
    impls = implementations(workload)
    runs = [impl(*problem) for impl in impls]
    extra = {}
    if workload["target"] == "gemm":
        gemm, flops = gemm_seconds(workload)
        runs.append(gemm)
        extra["flops"] = flops
    counts = [_calibrate(run, seconds) for run in runs]
    times = [[] for _ in runs]
    for r in range(repeats):
        order = list(range(len(runs)))
        order = order[r % len(order) :] + order[: r % len(order)]  # interleave, rotating who goes first
        for i in order:
            times[i].append(_per_step(runs[i], counts[i]))
    names = [getattr(run, "name", "gemm") for run in runs]
    result = dict(name=workload["name"], target=workload["target"], repeats=repeats)
    for name, ts in zip(names, times):
        result[f"{name}_s"] = statistics.median(ts)
    np_times = times[0]
    for name, ts in zip(names[1:], times[1:]):
        result[f"{name}_ratio"] = statistics.median(a / b for a, b in zip(ts, np_times))
    if "flops" in extra:
        gemm_rate = extra["flops"] / result["gemm_s"]
        for name in names[:-1]:
            result[f"{name}_gemm_fraction"] = extra["flops"] / result[f"{name}_s"] / gemm_rate
        result["gemm_gflops"] = gemm_rate / 1e9
    result["tinygraph_peak_bytes"], result["tinygraph_steady_bytes"] = peak_memory(impls[1], problem)
    result["numpy_peak_bytes"], result["numpy_steady_bytes"] = peak_memory(impls[0], problem)
    if BeforeStep in impls:
        result["before_peak_bytes"], result["before_steady_bytes"] = peak_memory(BeforeStep, problem)
    result["memory_ratio"] = result["tinygraph_peak_bytes"] / result["numpy_peak_bytes"]
    result["steady_memory_ratio"] = result["tinygraph_steady_bytes"] / result["numpy_steady_bytes"]
    return result


def _fmt_bytes(n):
    return f"{n / 1024:,.0f} KiB" if n < 1024**2 else f"{n / 1024**2:,.1f} MiB"


def _fmt_time(s):
    return f"{s * 1e6:,.1f} µs" if s < 1e-3 else f"{s * 1e3:,.2f} ms"


def _met(r):
    """Whether a row meets its target: a ratio, or (the GEMM row) within 5 points of numpy's share."""
    if r["target"] == "gemm":
        return r["tinygraph_gemm_fraction"] >= r["numpy_gemm_fraction"] - 0.05
    return r["tinygraph_ratio"] <= r["target"]


def table(results):
    has_torch = any("torch_s" in r for r in results)
    has_before = any("before_s" in r for r in results)
    head = ["workload", "numpy", "tinygraph", "tg ÷ numpy", "target", "met"]
    head += ["before ÷ numpy"] if has_before else []
    head += ["torch", "torch ÷ numpy", "tg ÷ torch"] if has_torch else []
    head += ["peak memory tg ÷ np", "from step 4"]
    rows = [head]
    for r in results:
        gemm = r["target"] == "gemm"
        if gemm:
            ratio = f"{r['tinygraph_gemm_fraction']:.0%} of GEMM (numpy {r['numpy_gemm_fraction']:.0%})"
            target = "≥ numpy's share − 5 points"
        else:
            ratio, target = f"{r['tinygraph_ratio']:.2f}×", f"≤ {r['target']}×"
        row = [
            r["name"],
            _fmt_time(r["numpy_s"]),
            _fmt_time(r["tinygraph_s"]),
            ratio,
            target,
            "yes" if _met(r) else "NO",
        ]
        if has_before and "before_s" not in r:
            row.append("–")  # (not timed: a CNN row)
        elif has_before:
            row.append(f"{r['before_gemm_fraction']:.0%} of GEMM" if gemm else f"{r['before_ratio']:.2f}×")
        if has_torch:
            torch_ratio = f"{r['torch_gemm_fraction']:.0%} of GEMM" if gemm else f"{r['torch_ratio']:.2f}×"
            row += [_fmt_time(r["torch_s"]), torch_ratio, f"{r['tinygraph_s'] / r['torch_s']:.2f}×"]
        row.append(
            f"{r['memory_ratio']:.2f} ({_fmt_bytes(r['tinygraph_peak_bytes'])} vs {_fmt_bytes(r['numpy_peak_bytes'])})"
        )
        row.append(f"{r['steady_memory_ratio']:.2f}")
        rows.append(row)
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def scaling(repeats=7):
    """Time per step against depth (width 32, batch 16) and batch size (64-32-10)."""
    rows = []
    for depth in (1, 2, 4, 8, 16, 32, 64):
        w = dict(name=f"depth {depth}", sizes=[32] + [32] * depth + [10], batch=16, dtype="float64", target=1.5)
        rows.append(("depth", depth, bench(w, repeats)))
    for batch in (1, 4, 16, 64, 256, 1024):
        w = dict(name=f"batch {batch}", sizes=[64, 32, 10], batch=batch, dtype="float64", target=1.5)
        rows.append(("batch", batch, bench(w, repeats)))
    lines = ["| varied | value | numpy | tinygraph | tg ÷ numpy |", "|---|---|---|---|---|"]
    for kind, value, r in rows:
        lines.append(
            f"| {kind} | {value} | {_fmt_time(r['numpy_s'])} | {_fmt_time(r['tinygraph_s'])} | "
            f"{r['tinygraph_ratio']:.2f}× |"
        )
    return "\n".join(lines), rows


def describe_machine():
    text = (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, numpy {np.__version__}"
    )
    try:
        from threadpoolctl import threadpool_info

        blas = [
            f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, {i['num_threads']} thread)"
            for i in threadpool_info()
            if i["user_api"] == "blas"
        ]
        text += ", " + ", ".join(blas)
    except ImportError:
        pass
    try:
        import torch

        text += f", torch {torch.__version__}"
    except ImportError:
        pass
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="only check that the implementations agree")
    parser.add_argument("--scaling", action="store_true", help="time against depth and batch size")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--only", help="run only workloads whose name contains this text")
    parser.add_argument("--before", help="a checkout (e.g. a git worktree) whose tinygraph to time beside this one")
    args = parser.parse_args(argv)
    if args.before:
        load_before(args.before)
    print(describe_machine())
    for w in WORKLOADS:
        if args.only and args.only not in w["name"]:
            continue
        tol = 1e-12 if w["dtype"] == "float64" else 1e-4
        worst = check_agreement(w)
        status = "ok" if worst <= tol else "MISMATCH"
        print(f"agreement over the first three steps, {w['name']}: max relative difference {worst:.1e} ({status})")
        if worst > tol:
            return 1
    if args.quick:
        return 0
    if args.scaling:
        text, rows = scaling(max(3, args.repeats // 2))
        print(text)
        results = [dict(r, kind=k, value=v) for k, v, r in rows]
    else:
        results = [bench(w, args.repeats) for w in WORKLOADS if not args.only or args.only in w["name"]]
        print(table(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(machine=describe_machine(), results=results), f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
