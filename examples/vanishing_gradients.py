"""Vanishing gradients: the same deep network with Logistic, Tanh and ReLU units, watched as it learns.

Backprop multiplies the δ of a layer by its weights and by each unit's local derivative to get the
δ of the layer below.  σ'(z) = σ(z)(1 − σ(z)) is at most 1/4, so in a deep sigmoid network δ shrinks
by a factor of about four or more per layer: the first layers hardly learn.  tanh' is at most 1 and
ReLU' is 1 wherever a unit is on, so their δ reaches the first layers.

This trains 8 hidden layers of 16 units on the two moons, once per activation, records each run with
a tg.Recording, prints each layer's gradient norm ‖∂E/∂W‖ at the start, and writes a replay page per
run: its gradient-norm chart shows the difference at a glance.

Run:  python examples/vanishing_gradients.py [OUT]   (pages in OUT, default examples/output;
      add --quick for a short run)
"""

import sys
from pathlib import Path

import tinygraph as tg

HIDDEN = [16] * 8
OUTPUT = Path(__file__).resolve().parent / "output"  # (git ignores it)


def train(activation, X, T, epochs):
    """Train the deep network with ``activation`` units; return the network and its Recording."""
    net = tg.mlp([2, *HIDDEN, 1], activation=activation, loss=tg.LogLoss, seed=0)
    rec = tg.Recording(max_snapshots=100)
    net.fit(X, T, epochs=epochs, batch_size=8, seed=0, optimizer=tg.SGD(net, lr=0.05), progress=False, record=rec)
    return net, rec


def main(out=OUTPUT, quick=False):
    X, T = tg.datasets.moons(n=200, noise=0.1, seed=0)
    epochs = 3 if quick else 150
    out = Path(out)
    print(f"{len(HIDDEN)} hidden layers of {HIDDEN[0]}, {epochs} epochs; ‖∂E/∂W‖ of each layer before training:")
    print("  layer  " + "".join(f"{cls.__name__:>12}" for cls in (tg.Logistic, tg.Tanh, tg.ReLU)))
    runs = {cls.__name__: train(cls, X, T, epochs) for cls in (tg.Logistic, tg.Tanh, tg.ReLU)}
    layers = [name for name in runs["Logistic"][1][0].grad_norms if name.startswith("W")]
    for k, name in enumerate(layers, start=1):
        norms = [rec[0].grad_norms[name] for _, rec in runs.values()]
        print(f"  {k:>5}  " + "".join(f"{v:12.2e}" for v in norms))
    print("\nfirst layer ÷ last layer, before training and at the end:")
    for kind, (net, rec) in runs.items():
        first, last = layers[0], layers[-1]
        start, end = rec[0].grad_norms, rec[-1].grad_norms
        print(
            f"  {kind:<9} {start[first] / start[last]:9.2e}   {end[first] / end[last]:9.2e}"
            f"   (accuracy {net.accuracy(X, T):.0%}, loss {rec[0].loss:.3f} → {rec[-1].loss:.3f})"
        )
    for kind, (_, rec) in runs.items():  # (--quick: without the step-by-step traces, which take a while)
        title = f"8 hidden layers of {kind} units learning the moons"
        path = rec.to_html(out / f"{kind.lower()}.html", title=title, traces=[] if quick else None)
        print(f"wrote {path}")
    return runs


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--quick"]
    main(*args[:1], quick="--quick" in sys.argv)
