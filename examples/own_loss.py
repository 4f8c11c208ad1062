"""Your own loss, from elementary nodes: the squared loss written out, trained beside SquaredLoss.

For one sample SquaredLoss is E = ½ Σ_k (o_k − t_k)².  For a batch of N rows it takes the
mean over the rows (its default reduction="mean"):  E = (1/N) Σ_n ½ Σ_k (o_nk − t_nk)².

Written out node by node that is four elementary steps, each with its own local derivative:

    d = o − t        Subtract   ∂d/∂o = 1
    s = d²           Square     ∂s/∂d = 2d
    S = Σ s          Sum        ∂S/∂s = 1
    E = (½/N) · S    Scale      ∂E/∂S = ½/N

and the chain rule through them gives ∂E/∂o = (½/N) · 1 · 2d · 1 = (o − t)/N: the very
gradient that SquaredLoss states in one step.  This script trains the same network twice,
from the same initial weights and on the same data, once with each loss, and checks that
the two runs agree step by step.

Run:  python examples/own_loss.py   (add --quick for a short run)
"""

import sys

import numpy as np

import tinygraph as tg


def network(name):
    """One input, a hidden layer of 8 tanh units, one linear output; the same weights on every call."""
    x = tg.Input("x", shape=(1,))
    h = tg.dense(x, 8, activation=tg.Tanh, seed=1, name=f"{name}.hidden")
    o = tg.dense(h, 1, activation=None, seed=2, name=f"{name}.out")  # the prediction o
    return x, o


def main(quick=False):
    X, T = tg.datasets.sine(n=64, noise=0.05, seed=0)  # t = sin(x) + noise
    T = T[:, None]  # one target per row, shaped like the output (1,)
    N = len(X)  # we train on the whole batch at every step, so N is fixed

    # Model A: the ready-made loss.
    x_a, o_a = network("A")
    t_a = tg.Input("t", shape=(1,))
    loss_a = tg.SquaredLoss(o_a, t_a, name="E")  # reduction="mean": the mean over the N rows
    graph_a = tg.Graph(loss_a)

    # Model B: the same network, and the loss built from elementary nodes.
    x_b, o_b = network("B")
    t_b = tg.Input("t", shape=(1,))
    d = tg.Subtract(o_b, t_b, name="d")  # d = o − t
    s = tg.Square(d, name="s")  # s = d²
    S = tg.Sum(s, name="S")  # S = Σ s, over the rows and the output units
    loss_b = tg.Scale(S, 0.5 / N, name="E")  # E = ½ S / N: the mean reduction, written out
    graph_b = tg.Graph(loss_b)

    # Python's operators build the same nodes: 0.5 / N * tg.Sum((o - t) ** 2) is
    # Scale(Sum(Power(Subtract(o, t), 2)), 0.5 / N).  Each node states its derivative:
    print("the composed loss, node by node:")
    for node in (d, s, S, loss_b):
        print(f"  {node.kind:9} {node.name}: {node.formula:22} {node.derivative}")

    # Train both with plain gradient descent on the whole batch, side by side.
    opt_a = tg.SGD(graph_a.parameters(), lr=0.2)
    opt_b = tg.SGD(graph_b.parameters(), lr=0.2)
    steps = 40 if quick else 400
    print(f"\n{'step':>5} {'SquaredLoss':>14} {'composed loss':>14} {'difference':>11}")
    worst = 0.0
    for step in range(1, steps + 1):
        e_a = float(graph_a.forward({x_a: X, t_a: T}))
        graph_a.backward()
        opt_a.step()
        e_b = float(graph_b.forward({x_b: X, t_b: T}))
        graph_b.backward()
        opt_b.step()
        worst = max(worst, abs(e_a - e_b))
        if step == 1 or step % (steps // 8) == 0:
            print(f"{step:>5} {e_a:>14.8f} {e_b:>14.8f} {abs(e_a - e_b):>11.1e}")

    # The gradients are the same numbers bit for bit (½/N · 2d is exactly d/N in floating
    # point), so every step moves the parameters alike and they stay identical.  The losses
    # may differ in their last bit: SquaredLoss adds the squares with one dot product, Sum
    # with numpy's sum, in another order.
    same = all(np.array_equal(p.value, q.value) for p, q in zip(graph_a.parameters(), graph_b.parameters()))
    print(f"\nlargest difference between the two losses: {worst:.1e}")
    print(f"parameters identical: {same}")
    return same


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
