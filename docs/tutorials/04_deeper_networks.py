# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Deeper networks
#
# A deeper network is the same two pieces, a weighted sum and an activation, stacked
# again and again. Backpropagation through it is the hidden-layer rule of tutorial 3,
# applied once per layer. In this tutorial we stack the pieces, check the general
# recursion for the deltas against the engine on a whole batch, and then measure what
# that recursion does to the gradients of a deep sigmoid network. They *vanish*
# toward the input.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygraph as tg

# %% [markdown]
# ## Stacking layers
#
# `tg.dense(h, n_out, activation)` adds one fully connected layer on top of the node
# `h`. It creates the weights `W` and the bias `b` (as parameters), the weighted sum and
# the activation, and returns the activation node. A loop of `dense` calls is a deep
# network:

# %%
x = tg.Input("x", shape=(2,))
t = tg.Input("t", shape=(1,))
h = x
for k in (1, 2, 3):
    h = tg.dense(h, 4, activation=tg.Logistic, seed=k, name=f"h{k}")
o = tg.dense(h, 1, activation=tg.Logistic, seed=4, name="o")
E = tg.SquaredLoss(o, t, name="E")
stacked = tg.Graph(E)
print([node.name for node in stacked.nodes])

# %% [markdown]
# `tg.mlp(sizes)` builds the same kind of stack from a list of layer sizes, with the
# names of the derivation: `W1, b1, z1, h1, …, o`. It returns a `Network` that knows
# its input, target, layers and loss. Here is a network with four hidden layers of three
# units, after a forward and a backward pass on one sample. Read the deltas $\delta$
# (purple) from the output back to the input, and watch them get smaller.

# %%
X, T = tg.datasets.spirals(n=200, seed=0)
small = tg.mlp([2, 3, 3, 3, 3, 1], activation=tg.Logistic, seed=0)
small.graph.forward({small.input: X[0], small.target: T[:1]})
small.graph.backward()
tg.render(small, view="network")

# %% [markdown]
# ## Backpropagation through $L$ layers
#
# Number the layers $k = 1, \dots, L$, with $h^{(0)} = x$ and $o = h^{(L)}$ (as `mlp`
# names them: `W1`, `z1`, `h1`, …):
#
# $$
# z^{(k)} = h^{(k-1)} W^{(k)} + b^{(k)}, \qquad h^{(k)} = f(z^{(k)}).
# $$
#
# The delta of tutorial 3 becomes a recursion from the top down, with $\odot$ for the
# element-by-element product:
#
# $$
# \delta^{(L)} = (o - t) \odot f'(z^{(L)}),
# $$
#
# $$
# \delta^{(k)} = f'(z^{(k)}) \odot \bigl(\delta^{(k+1)}\, W^{(k+1)\top}\bigr) \quad \text{for } k = L-1, \dots, 1,
# $$
#
# $$
# \frac{\partial E}{\partial W^{(k)}} = h^{(k-1)\top}\, \delta^{(k)}, \qquad
# \frac{\partial E}{\partial b^{(k)}} = \text{the sum of the rows of } \delta^{(k)} .
# $$
#
# On a **batch** of $N$ samples, one per row, tinygraph's loss is the *mean* of the
# per-sample losses. Every delta then carries a factor $1/N$, and
# $h^{(k-1)\top} \delta^{(k)}$ adds up the $N$ per-sample gradients, so the weight
# gradient is their mean.
#
# We check the recursion on a six-layer sigmoid network, fed all 200 samples at once,
# where $f'(z) = h(1 - h)$:

# %%
net = tg.mlp([2, 16, 16, 16, 16, 16, 1], activation=tg.Logistic, seed=0)
graph = net.graph
graph.forward({net.input: X, net.target: T[:, None]})
graph.backward()

N = len(X)
hs = [X] + [layer.out.value for layer in net.layers]  # h^(0) = x, h^(1), …, h^(L) = o
delta = (hs[-1] - T[:, None]) * hs[-1] * (1 - hs[-1]) / N  # δ^(L), with the 1/N of the mean
for k in range(len(net.layers), 0, -1):  # k = L, …, 1
    layer = net.layers[k - 1]  # W^(k), b^(k), z^(k), h^(k)
    np.testing.assert_allclose(layer.z.grad, delta, rtol=1e-10, atol=1e-15)  # δ^(k)
    np.testing.assert_allclose(layer.W.grad, hs[k - 1].T @ delta, rtol=1e-10, atol=1e-15)  # h^(k−1)ᵀ δ^(k)
    np.testing.assert_allclose(layer.b.grad, delta.sum(axis=0), rtol=1e-10, atol=1e-15)
    if k > 1:
        delta = hs[k - 1] * (1 - hs[k - 1]) * (delta @ layer.W.value.T)  # δ^(k−1)
print("the engine's δ and ∂E/∂W agree with the recursion in all", len(net.layers), "layers")

# %% [markdown]
# ## Vanishing gradients
#
# Unroll the recursion from the output down to the first layer:
#
# $$
# \delta^{(1)} = f'(z^{(1)}) \odot \Bigl(\cdots \bigl(f'(z^{(L-1)}) \odot
#   (\delta^{(L)} W^{(L)\top})\bigr) \cdots W^{(2)\top}\Bigr).
# $$
#
# On its way down, the delta is multiplied by $L - 1$ weight matrices and $L - 1$
# derivatives of the activation. For the logistic function
#
# $$
# \sigma'(z) = \sigma(z)\,\bigl(1 - \sigma(z)\bigr) \le \tfrac14 ,
# $$
#
# with equality only at $z = 0$. Each layer multiplies the delta by a factor of at
# most ¼ and by a weight matrix. Unless the weights are large, the delta shrinks at
# every layer, and the first layers of a deep sigmoid network get almost no gradient.
# They learn very slowly. This is the *vanishing gradient* problem.
#
# Two activations avoid most of the shrinking:
#
# * $\tanh$ has $\tanh'(z) = 1 - \tanh^2(z)$, which is 1 at $z = 0$, four times
#   $\sigma'(0)$;
# * ReLU, $\max(0, z)$, has derivative exactly 1 wherever the unit is active.
#
# Let us measure. For each activation we build the same six-layer network. `mlp` draws
# the starting weights with Glorot's uniform scheme (He's normal one for ReLU), which
# keeps the size of the signal steady from layer to layer. We take the gradient of the
# mean loss over all 200 samples and print $\lVert \partial E/\partial W^{(k)} \rVert$
# for every layer, from the input ($k = 1$) to the output ($k = 6$):

# %%
sizes = [2, 16, 16, 16, 16, 16, 1]
norms = {}
for activation in (tg.Logistic, tg.Tanh, tg.ReLU):
    deep = tg.mlp(sizes, activation=activation, seed=0)
    deep.graph.forward({deep.input: X, deep.target: T[:, None]})
    deep.graph.backward()
    norms[activation.__name__] = np.array([np.linalg.norm(layer.W.grad) for layer in deep.layers])

print("layer      " + "".join(f"{k:>10}" for k in range(1, len(sizes))))
for name, per_layer in norms.items():
    print(f"{name:<11}" + "".join(f"{v:10.2e}" for v in per_layer))

# %%
fig, ax = plt.subplots(figsize=(5.5, 3.2), layout="constrained")
for name, per_layer in norms.items():
    ax.semilogy(range(1, len(per_layer) + 1), per_layer, marker="o", label=name)
ax.set_xlabel("layer $k$ (1 = next to the input)")
ax.set_ylabel(r"$\Vert \partial E / \partial W^{(k)} \Vert$")
ax.set_title("gradient size per layer, at the start of training")
ax.legend()
plt.show()

# %% [markdown]
# In the sigmoid network each layer's gradient is several times smaller than the one
# above it, and the first layer's is thousands of times smaller than the last one's.
# With tanh and ReLU the gradients stay of the same order all the way down.

# %%
sig, tanh, relu = norms["Logistic"], norms["Tanh"], norms["ReLU"]
assert np.all(np.diff(sig) > 0), "sigmoid: the gradient shrinks at every layer toward the input"
assert sig[0] / sig[-1] < 1e-3
assert tanh[0] / tanh[-1] > 0.1 and relu[0] / relu[-1] > 0.1
print(f"first/last layer: sigmoid {sig[0] / sig[-1]:.1e}, tanh {tanh[0] / tanh[-1]:.2f}, ReLU {relu[0] / relu[-1]:.2f}")

# %% [markdown]
# ## What it does to training
#
# We train the three networks on the two spirals for the same budget: 200 epochs of
# SGD on mini-batches of 10 samples with $\eta = 0.5$. The sigmoid network barely moves
# away from its starting loss. The others learn, ReLU fastest.

# %%
histories, accuracies, moved = {}, {}, {}
for activation in (tg.Logistic, tg.Tanh, tg.ReLU):
    deep = tg.mlp(sizes, activation=activation, seed=0)
    start = [layer.W.value.copy() for layer in deep.layers]
    name = activation.__name__
    histories[name] = deep.fit(X, T, epochs=200, lr=0.5, batch_size=10, seed=0)
    accuracies[name] = deep.accuracy(X, T)
    moved[name] = [np.linalg.norm(layer.W.value - w) / np.linalg.norm(w) for layer, w in zip(deep.layers, start)]
    print(f"{name:<9} loss {histories[name][0]:.4f} → {histories[name][-1]:.2g}   accuracy {accuracies[name]:.0%}")

fig, ax = plt.subplots(figsize=(5.5, 3.2), layout="constrained")
tg.plot.loss(histories, ax=ax, title="six layers on the two spirals")
plt.show()
assert accuracies["ReLU"] > accuracies["Logistic"] + 0.3 and accuracies["Tanh"] > accuracies["Logistic"]

# %% [markdown]
# How far did each layer's weights move, relative to where they started? In the
# sigmoid network the layers near the input hardly changed at all:

# %%
print("relative change of W, layer 1 … 6")
for name, m in moved.items():
    print(f"{name:<9}", "  ".join(f"{v:7.4f}" for v in m))
assert moved["Logistic"][0] < moved["Logistic"][-1] / 10

# %% [markdown]
# Vanishing gradients are not a bug in the engine. The engine computed exactly the
# recursion we checked above. They are what the chain rule does when many factors
# smaller than one are multiplied together. The remedies live in the model: other
# activations, careful starting weights, and shortcuts around layers (see
# `examples/residual_network.py`, where a skip connection adds a layer's input to its
# output). (A page that replays a whole training run step by step is planned.)
#
# ## Summary
#
# * A deep network is `dense` layers stacked; `tg.mlp(sizes)` builds one with the
#   derivation's names.
# * The deltas follow
#   $\delta^{(k)} = f'(z^{(k)}) \odot (\delta^{(k+1)} W^{(k+1)\top})$, checked above
#   layer by layer on a batch. On a batch the mean loss adds a factor $1/N$.
# * With the sigmoid, $f' \le \frac14$ shrinks the delta at every layer. The first
#   layers get gradients orders of magnitude smaller and barely learn. Tanh and ReLU
#   keep the gradients of the same order.
