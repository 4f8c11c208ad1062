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
# # 3. One hidden layer and backpropagation
#
# A single neuron draws one line, and the perceptron tutorial ended on XOR, which no
# line can solve. Put a layer of neurons between the inputs and the output, and train
# all the weights at once by the chain rule. That is backpropagation.
#
# The notation, for inputs $x_i$, hidden units $h_j$ and outputs $o_k$:
#
# $$
# z_j = \sum_i w_{ij} x_i + b_j, \qquad h_j = \sigma(z_j),
# $$
#
# $$
# z_k = \sum_j v_{jk} h_j + c_k, \qquad o_k = \sigma(z_k),
# $$
#
# $$
# E = \tfrac12 \sum_k (o_k - t_k)^2 .
# $$
#
# In tinygraph the weights $w_{ij}$ are the matrix `W1` (row $i$, column $j$), the
# $v_{jk}$ are `W2`, and the biases $b_j$ and $c_k$ are `b1` and `b2`.
#
# We start with the classic example that textbooks and blog posts work through by hand:
# two inputs, two hidden and two output units, fixed weights and one training sample.
# Its numbers are published, so you can compare each one with a worked solution.

# %%
import numpy as np

import tinygraph as tg

np.set_printoptions(precision=6, suppress=True)

# %% [markdown]
# ## The network, node by node

# %%
x = tg.Input("x", shape=(2,))  # x_1, x_2
t = tg.Input("t", shape=(2,))  # the targets t_1, t_2
W1 = tg.Parameter([[0.15, 0.25], [0.20, 0.30]], name="W1")  # w_ij: row i (input), column j (hidden unit)
b1 = tg.Parameter([0.35, 0.35], name="b1")  # b_j
z1 = tg.WeightedSum(x, W1, b1, name="z1")  # z_j = Σ_i w_ij x_i + b_j
h = tg.Logistic(z1, name="h")  # h_j = σ(z_j)
W2 = tg.Parameter([[0.40, 0.50], [0.45, 0.55]], name="W2")  # v_jk: row j (hidden), column k (output)
b2 = tg.Parameter([0.60, 0.60], name="b2")  # c_k
z2 = tg.WeightedSum(h, W2, b2, name="z2")  # z_k = Σ_j v_jk h_j + c_k
o = tg.Logistic(z2, name="o")  # o_k = σ(z_k)
E = tg.SquaredLoss(o, t, name="E")  # E = ½ Σ_k (o_k − t_k)²
graph = tg.Graph(E)
graph

# %% [markdown]
# The same network in the textbook picture: a circle per neuron, an edge per weight
# (blue positive, red negative, thicker when larger).

# %%
tg.render(graph, view="network")

# %% [markdown]
# ## The forward pass
#
# We feed the sample $x = (0.05, 0.10)$ with targets $t = (0.01, 0.99)$ and recompute
# every layer in numpy. `@` is the matrix product, so `x_s @ w1` is
# $\sum_i x_i w_{ij}$ for every $j$ at once.

# %%
x_s, t_s = np.array([0.05, 0.10]), np.array([0.01, 0.99])
feed = {x: x_s, t: t_s}
loss = graph.forward(feed)

sigma = lambda v: 1 / (1 + np.exp(-v))
w1, v1 = W1.value.copy(), W2.value.copy()  # the weights before any update
h_hand = sigma(x_s @ w1 + b1.value)
o_hand = sigma(h_hand @ v1 + b2.value)
E_hand = 0.5 * np.sum((o_hand - t_s) ** 2)
print("h =", h.value, "  o =", o.value, f"  E = {loss:.9f}")

np.testing.assert_allclose(h.value, h_hand)
np.testing.assert_allclose(o.value, o_hand)
np.testing.assert_allclose(loss, E_hand)
np.testing.assert_allclose(loss, 0.298371109, atol=1e-9)  # the published worked example

# %% [markdown]
# ## Backpropagation by hand: the δ terms
#
# **The output layer.** $E$ depends on $z_k$ only through $o_k$, so exactly as for the
# single neuron
#
# $$
# \delta_k \equiv \frac{\partial E}{\partial z_k}
#   = \frac{\partial E}{\partial o_k}\,\frac{\partial o_k}{\partial z_k}
#   = (o_k - t_k)\, o_k (1 - o_k),
# $$
#
# $$
# \frac{\partial E}{\partial v_{jk}} = \delta_k\, h_j, \qquad
# \frac{\partial E}{\partial c_k} = \delta_k .
# $$
#
# **The hidden layer.** Here is what is new. A hidden unit $h_j$ feeds *every* output,
# so $E$ depends on $h_j$ through all the $z_k$, and the chain rule adds up the paths:
#
# $$
# \frac{\partial E}{\partial h_j}
#   = \sum_k \frac{\partial E}{\partial z_k}\,\frac{\partial z_k}{\partial h_j}
#   = \sum_k \delta_k\, v_{jk} .
# $$
#
# One more factor, the hidden unit's own $\sigma'$, gives its delta:
#
# $$
# \delta_j \equiv \frac{\partial E}{\partial z_j} = h_j (1 - h_j) \sum_k \delta_k\, v_{jk},
# \qquad
# \frac{\partial E}{\partial w_{ij}} = \delta_j\, x_i, \qquad
# \frac{\partial E}{\partial b_j} = \delta_j .
# $$
#
# The error is propagated *backwards*: each hidden delta is a weighted sum of the
# deltas of the layer above, with the same weights that carried the signal forward.
# Every weight's gradient has the same shape, (the delta at its output end) × (the
# value at its input end).
#
# In numpy, with arrays indexed by $j$ and $k$, each formula is one line:

# %%
delta_k = (o_hand - t_s) * o_hand * (1 - o_hand)  # δ_k = (o_k − t_k) o_k (1 − o_k)
dE_dh = v1 @ delta_k  # Σ_k δ_k v_jk, for every j
delta_j = h_hand * (1 - h_hand) * dE_dh  # δ_j = h_j (1 − h_j) Σ_k δ_k v_jk
dE_dv = np.outer(h_hand, delta_k)  # ∂E/∂v_jk = h_j δ_k
dE_dw = np.outer(x_s, delta_j)  # ∂E/∂w_ij = x_i δ_j
print("δ_k =", delta_k, "   δ_j =", delta_j)
print("∂E/∂v =\n", dE_dv, "\n∂E/∂w =\n", dE_dw)

# %% [markdown]
# ## The engine's numbers
#
# After `graph.backward()` every node's `.grad` is $\partial E/\partial(\text{node})$.
# The gradient at a weighted sum is that layer's delta, so `graph["z2"].grad` must be
# $\delta_k$ and `graph["z1"].grad` must be $\delta_j$:

# %%
graph.backward()

np.testing.assert_allclose(graph["z2"].grad, delta_k)  # δ_k
np.testing.assert_allclose(graph["h"].grad, dE_dh)  # Σ_k δ_k v_jk
np.testing.assert_allclose(graph["z1"].grad, delta_j)  # δ_j
np.testing.assert_allclose(W2.grad, dE_dv)
np.testing.assert_allclose(b2.grad, delta_k)
np.testing.assert_allclose(W1.grad, dE_dw)
np.testing.assert_allclose(b1.grad, delta_j)
np.testing.assert_allclose(W2.grad[0, 0], 0.082167041, atol=1e-9)  # ∂E/∂w5 of the worked example
print("z2.grad =", graph["z2"].grad, "   z1.grad =", graph["z1"].grad, "   all as derived")

# %% [markdown]
# The engine computes nothing we did not derive. Its backward pass is the chain rule
# unrolled for this network: `graph.source()` prints the code it runs, one call per
# node, each with the derivative it applies.

# %%
print(graph.source().split("def backward")[1])

# %% [markdown]
# The diagram now carries every value and, in purple, every gradient:

# %%
graph

# %% [markdown]
# ## The trace: every step, with the numbers
#
# `tg.trace` runs one forward pass, one backward pass and, with a learning rate, one
# SGD update, and records each step with its formula and the engine's own numbers.
# **It really takes the update**, so the parameters change (here $\eta = 0.5$, as in the
# worked example).
#
# Displayed in a notebook, a trace is a stepper. Click **Next ▶** (or click the
# stepper and use the arrow keys) to walk from the inputs to the loss, back to every
# weight, and through the update. The orange box is the node the step is about. The
# purple arrows are the gradient flowing back.

# %%
trace = tg.trace(graph, feed, optimizer=0.5)
trace

# %% [markdown]
# The same steps are plain text too. Here is the backward step at the hidden layer's
# weighted sum, where the hidden deltas $\delta_j$ appear:

# %%
print(next(s for s in trace.phase("backward") if s.node is z1).text())

# %% [markdown]
# And the update applied $w \leftarrow w - \eta\, \partial E/\partial w$ to every
# weight. The new $v_{11}$ (called $w_5$ in the worked example) is the published
# 0.35891648:

# %%
np.testing.assert_allclose(W2.value, v1 - 0.5 * dE_dv)
np.testing.assert_allclose(W1.value, w1 - 0.5 * dE_dw)
np.testing.assert_allclose(W2.value[0, 0], 0.35891648, atol=1e-8)
print("W2 after the update:\n", W2.value)

# %% [markdown]
# ## Solving XOR
#
# The same pieces learn XOR. Here is a 2-2-1 network with random starting weights,
# trained by SGD one sample at a time, as in tutorial 1. The output layer has one
# unit, so the target is a column of one number per sample, `T[:, None]`.

# %%
X, T = tg.datasets.xor()
rng = np.random.default_rng(0)

x = tg.Input("x", shape=(2,))
t = tg.Input("t", shape=(1,))
W1 = tg.Parameter(rng.uniform(-1, 1, (2, 2)), name="W1")
b1 = tg.Parameter(np.zeros(2), name="b1")
h = tg.Logistic(tg.WeightedSum(x, W1, b1, name="z1"), name="h")
W2 = tg.Parameter(rng.uniform(-1, 1, (2, 1)), name="W2")
b2 = tg.Parameter(np.zeros(1), name="b2")
o = tg.Logistic(tg.WeightedSum(h, W2, b2, name="z2"), name="o")
xor = tg.Graph(tg.SquaredLoss(o, t, name="E"))

history = tg.fit(xor, {x: X, t: T[:, None]}, tg.SGD(xor.parameters(), lr=0.5), epochs=4000, seed=0)
outputs = xor.run(o, {x: X})
for xi, ti, oi in zip(X, T, outputs[:, 0]):
    print(f"x = {xi}   t = {ti:.0f}   o = {oi:.3f}")
print(f"mean loss: first epoch {history[0]:.4f}, last {history[-1]:.5f}")
np.testing.assert_array_equal(outputs[:, 0] >= 0.5, T == 1)

# %% [markdown]
# What did the hidden layer learn? Each hidden unit is a single neuron, so it draws
# one line through the plane. Here are the two hidden outputs on the four corners:

# %%
H = xor.run(h, {x: X})
for xi, hi in zip(X, H):
    print(f"x = {xi}   h = {hi.round(2)}")
np.testing.assert_array_equal(H.round(), [[0, 1], [0, 0], [1, 1], [0, 1]])

# %% [markdown]
# Rounded, $h_1$ (numpy's `h[0]`: code and diagrams count from 0, the formulas from 1) is on
# only for $x = (1, 0)$, and $h_2$ (`h[1]`) is off only for $x = (0, 1)$.
# The output weights (`W2`: a large positive weight on $h_1$ and a large negative one
# on $h_2$) turn the output on when $h_1$ is on or $h_2$ is off: exactly the two XOR
# corners. Two lines, combined by a third neuron.
#
# The network view after a forward and a backward pass on the sample $x = (0, 1)$
# shows each neuron's weighted input $z$, output $y$ and delta $\delta$:

# %%
xor.forward({x: X[1], t: T[1:2]})
xor.backward()
print("W2 =", xor["W2"].value.ravel())
tg.render(xor, view="network")

# %% [markdown]
# ## Summary
#
# * Output deltas: $\delta_k = (o_k - t_k)\, o_k (1 - o_k)$.
#   Hidden deltas: $\delta_j = h_j (1 - h_j) \sum_k \delta_k v_{jk}$.
#   A weight's gradient is (delta at its output end) × (value at its input end).
# * In tinygraph the delta of a layer is the `.grad` of its weighted sum:
#   `graph["z2"].grad` is $\delta_k$ and `graph["z1"].grad` is $\delta_j$. Each one was
#   checked above against the hand derivation and the published worked example.
# * `tg.trace` shows every step with the engine's numbers. It takes the update too.
#
# Next: stack more layers, and see what happens to the deltas on their way down.
