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
# # 1. The single neuron
#
# The smallest network there is: one neuron that reads two numbers and answers with a
# number between 0 and 1. We build it node by node, derive every derivative by hand,
# and check each one against what tinygraph computes. Then we train it by
# **stochastic gradient descent** (SGD), one random sample at a time. The result is
# logistic regression.
#
# The neuron computes
#
# $$
# z = \sum_i w_i x_i + b = w \cdot x + b, \qquad
# y = \sigma(z) = \frac{1}{1 + e^{-z}}, \qquad
# E = \tfrac{1}{2} (y - t)^2 .
# $$
#
# $z$ is the *weighted input* and $y$ the *output*. The logistic function $\sigma$
# (the *link*) squashes $z$ into $(0, 1)$, so $y$ can be read as the probability of
# class 1. $E$ is the squared error against the target $t \in \{0, 1\}$.
# (With several outputs it is $E = \frac12 \sum_k (o_k - t_k)^2$; here there is one.)

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygraph as tg

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The data
#
# Two classes of points in the plane, separated by a straight line, with a little noise.
# We keep a quarter of them aside to test on.

# %%
X, T = tg.datasets.linear(n=200, noise=0.05, seed=1)
X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, test=0.25, seed=0)
print("X:", X_train.shape, " T:", T_train.shape)
print("first samples:\n", X_train[:3], "\ntargets:", T_train[:3])

# %% [markdown]
# ## The neuron as a graph
#
# Each line of the model becomes one node. `Input`s are fed with data, `Parameter`s are
# what training changes. A sample has two features, `shape=(2,)`, and one target
# number, `shape=()`.

# %%
w0, b0 = np.array([0.3, -0.8]), 0.1  # starting weights, fixed so that the numbers below are reproducible

x = tg.Input("x", shape=(2,))  # the features x_1, x_2
t = tg.Input("t", shape=())  # the target, 0 or 1
w = tg.Parameter(w0, name="w")  # the weights w_i
b = tg.Parameter(b0, name="b")  # the bias b, a separate term
z = tg.WeightedSum(x, w, b, name="z")  # z = Σ_i w_i x_i + b
y = tg.Logistic(z, name="y")  # y = σ(z)
E = tg.SquaredLoss(y, t, name="E")  # E = ½ (y − t)²
graph = tg.Graph(E)
graph

# %% [markdown]
# The diagram shows each node with its kind, shape and formula. Inputs, parameters,
# operations and the loss each have their own shape and colour.
#
# ## The forward pass
#
# We feed one sample. Every node gets a `.value`, and we can recompute each one by
# hand with numpy.

# %%
x_s, t_s = X_train[0], T_train[0]
feed = {x: x_s, t: t_s}
loss = graph.forward(feed)

z_hand = x_s @ w0 + b0
y_hand = 1 / (1 + np.exp(-z_hand))
E_hand = 0.5 * (y_hand - t_s) ** 2
print(f"z = {z.value:.6f}   y = {y.value:.6f}   E = {loss:.6f}   (target t = {t_s:g})")

np.testing.assert_allclose(z.value, z_hand)
np.testing.assert_allclose(y.value, y_hand)
np.testing.assert_allclose(loss, E_hand)

# %% [markdown]
# ## The derivatives, by hand
#
# To learn, we need to know how $E$ changes when a weight changes. $E$ depends on $w_i$
# only through $y$, and $y$ only through $z$. So the chain rule gives
#
# $$
# \frac{\partial E}{\partial w_i}
#   = \frac{\partial E}{\partial y}\,\frac{\partial y}{\partial z}\,\frac{\partial z}{\partial w_i}.
# $$
#
# Each factor is a short derivation:
#
# * **The loss.** $E = \frac12 (y - t)^2$, so $\dfrac{\partial E}{\partial y} = y - t$.
#   The ½ is there to cancel the 2 of the square.
# * **The logistic link.** With $\sigma(z) = (1 + e^{-z})^{-1}$,
#   $$
#   \sigma'(z) = \frac{e^{-z}}{(1 + e^{-z})^2}
#              = \frac{1}{1 + e^{-z}} \cdot \frac{e^{-z}}{1 + e^{-z}}
#              = \sigma(z)\,\bigl(1 - \sigma(z)\bigr),
#   $$
#   so $\dfrac{\partial y}{\partial z} = y(1 - y)$. The output alone is enough: no
#   exponential is needed in the backward pass.
# * **The weighted sum.** $z = \sum_i w_i x_i + b$, so
#   $\dfrac{\partial z}{\partial w_i} = x_i$ and $\dfrac{\partial z}{\partial b} = 1$.
#
# Multiplied together:
#
# $$
# \delta \equiv \frac{\partial E}{\partial z} = (y - t)\, y (1 - y), \qquad
# \frac{\partial E}{\partial w_i} = \delta\, x_i, \qquad
# \frac{\partial E}{\partial b} = \delta .
# $$
#
# $\delta$, the error at the neuron's weighted input, is called the neuron's *delta*.
# It comes back in every later tutorial.
#
# First a quick check of the identity $\sigma' = \sigma(1 - \sigma)$ with a central
# difference:

# %%
sigma = lambda v: 1 / (1 + np.exp(-v))
h = 1e-6
np.testing.assert_allclose((sigma(z_hand + h) - sigma(z_hand - h)) / (2 * h), y_hand * (1 - y_hand), rtol=1e-8)

# %% [markdown]
# Now the backward pass. `graph.backward()` gives every node a `.grad` equal to
# $\partial E / \partial(\text{node})$. Our formulas say what each one must be:

# %%
graph.backward()

dE_dy = y_hand - t_s
delta = dE_dy * y_hand * (1 - y_hand)
dE_dw = delta * x_s
dE_db = delta

print(f"∂E/∂y = {y.grad:.6f}   by hand: {dE_dy:.6f}")
print(f"∂E/∂z = {z.grad:.6f}   by hand: {delta:.6f}   (δ)")
print(f"∂E/∂w = {w.grad}   by hand: {dE_dw}")
print(f"∂E/∂b = {b.grad:.6f}   by hand: {dE_db:.6f}")

np.testing.assert_allclose(y.grad, dE_dy)
np.testing.assert_allclose(z.grad, delta)
np.testing.assert_allclose(w.grad, dE_dw)
np.testing.assert_allclose(b.grad, dE_db)

# %% [markdown]
# A third, independent opinion comes from finite differences. `tg.gradcheck` nudges
# every weight by $\pm\varepsilon$, measures how $E$ changes, and compares that with
# the gradients of the backward pass:

# %%
report = tg.gradcheck(graph, feed)
print(report)
assert report.passed

# %% [markdown]
# The graph now shows the numbers too: each node's value and, in purple, its gradient
# $\partial E/\partial(\text{node})$.

# %%
graph

# %% [markdown]
# ## One step of gradient descent
#
# The gradient points uphill, so we take a small step the other way:
#
# $$
# w_i \leftarrow w_i - \eta\, \frac{\partial E}{\partial w_i}, \qquad
# b \leftarrow b - \eta\, \frac{\partial E}{\partial b},
# $$
#
# where $\eta$ is the learning rate. `tg.SGD` does exactly this:

# %%
eta = 0.5
optimizer = tg.SGD(graph.parameters(), lr=eta)
optimizer.step()

np.testing.assert_allclose(w.value, w0 - eta * dE_dw)
np.testing.assert_allclose(b.value, b0 - eta * dE_db)
E_after = graph.forward(feed)
print(f"w: {w0} → {w.value},  b: {b0} → {b.value:.4f};  E on this sample: {loss:.5f} → {E_after:.5f}")
assert E_after < loss

# %% [markdown]
# ## Stochastic gradient descent: one random sample at a time
#
# Training repeats that step over the data. Each **epoch** visits the samples in a
# fresh random order, and after *each* sample the weights move a little. This is
# *stochastic* gradient descent: every step follows the gradient of a single sample's
# error, a noisy estimate of the gradient of the total error.
#
# Written out, the whole of training is these few lines:

# %%
w.value[:] = w0  # back to the starting weights (in place: the graph keeps its arrays)
b.value[...] = b0

n_epochs = 20
rng = np.random.default_rng(42)
orders = [rng.permutation(len(X_train)) for _ in range(n_epochs)]  # the random order of each epoch

history = []
for order in orders:
    total = 0.0
    for i in order:
        total += graph.forward({x: X_train[i], t: T_train[i]})
        graph.backward()
        optimizer.step()
    history.append(total / len(X_train))
print("mean loss per epoch:", np.round(history[:3], 4), "…", np.round(history[-3:], 4))

# %% [markdown]
# Because every gradient is one we derived, the same training can be written in plain
# numpy without any graph: $\delta = (y - t)\,y(1 - y)$,
# $w \leftarrow w - \eta\,\delta x$, $b \leftarrow b - \eta\,\delta$. In the same
# sample order it must end at the same weights:

# %%
w_np, b_np = w0.copy(), b0
for order in orders:
    for i in order:
        y_i = sigma(X_train[i] @ w_np + b_np)
        delta_i = (y_i - T_train[i]) * y_i * (1 - y_i)
        w_np = w_np - eta * delta_i * X_train[i]
        b_np = b_np - eta * delta_i

print("engine:", w.value, f"{b.value:.6f}")
print("numpy: ", w_np, f"{b_np:.6f}")
np.testing.assert_allclose(w.value, w_np, rtol=1e-10)
np.testing.assert_allclose(b.value, b_np, rtol=1e-10)

# %% [markdown]
# `tg.fit` is this loop, with its own seeded shuffling. It returns the mean loss of
# each epoch. We continue training for a few more epochs with it, then measure the
# accuracy on the test samples: predict class 1 where $y \ge 0.5$.

# %%
history += tg.fit(graph, {x: X_train, t: T_train}, optimizer, epochs=10, seed=0)

y_test = graph.run(y, {x: X_test})  # a batch: one row per sample, y has one value per row
accuracy = np.mean((y_test >= 0.5) == (T_test == 1))
print(f"learned w = {w.value}, b = {b.value:.4f};  test accuracy {accuracy:.1%}")
assert accuracy >= 0.9

# %% [markdown]
# The learning curve, and what the neuron has learned: its output $y$ over the plane.
# The decision boundary $y = 0.5$ is where $z = w \cdot x + b = 0$, a straight line.
# A single neuron can only ever draw a straight line.


# %%
class Neuron:
    """What tg.plot.decision_boundary needs: predict(rows) → one probability per row."""

    def predict(self, rows):
        return graph.run(y, {x: rows})


fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
tg.plot.loss(history, ax=left)
tg.plot.decision_boundary(Neuron(), X_test, T_test, ax=right, resolution=100, title="test samples")
plt.show()

# %% [markdown]
# ## The bias as a constant-1 input
#
# Textbooks often hide the bias in the weights. Append a constant 1 to the input,
# $\tilde{x} = [x_1, x_2, 1]$, and give it the weight $b$,
# $\tilde{w} = [w_1, w_2, b]$. Then
#
# $$
# z = \tilde{x} \cdot \tilde{w} = w_1 x_1 + w_2 x_2 + b \cdot 1 ,
# $$
#
# the same $z$. The gradient of the last weight is
# $\delta \cdot \tilde{x}_3 = \delta \cdot 1 = \partial E/\partial b$.
# `tg.AppendOne` is the node that appends the 1.

# %%
w_tilde = tg.Parameter(np.append(w0, b0), name="w̃")  # [w_1, w_2, b]
x_tilde = tg.AppendOne(x, name="x̃")  # [x_1, x_2, 1]
y2 = tg.Logistic(tg.WeightedSum(x_tilde, w_tilde, name="z"), name="y")
graph2 = tg.Graph(tg.SquaredLoss(y2, t, name="E"))

graph2.forward(feed)  # the sample from above, at the starting weights
graph2.backward()
print("x̃ =", x_tilde.value, "  ∂E/∂w̃ =", w_tilde.grad)
np.testing.assert_allclose(x_tilde.value, np.append(x_s, 1.0))
np.testing.assert_allclose(w_tilde.grad, np.append(dE_dw, dE_db))  # the same numbers as before
graph2

# %% [markdown]
# Both ways give the same gradients, so they train the same. We start both neurons from
# the same weights and fit them with the same seed:

# %%
w.value[:] = w0
b.value[...] = b0
tg.fit(graph, {x: X_train, t: T_train}, tg.SGD(graph.parameters(), lr=eta), epochs=5, seed=7)
tg.fit(graph2, {x: X_train, t: T_train}, tg.SGD(graph2.parameters(), lr=eta), epochs=5, seed=7)
print("separate bias:  w =", w.value, f" b = {b.value:.6f}")
print("constant-1 input: w̃ =", w_tilde.value)
np.testing.assert_allclose(w_tilde.value, np.append(w.value, b.value), rtol=1e-12)

# %% [markdown]
# ## Aside: the log loss
#
# Logistic regression is usually trained with the log loss (cross-entropy)
# $E = -\,[\,t \log y + (1 - t) \log (1 - y)\,]$ instead of the squared loss. Its
# derivative $\partial E/\partial y = \dfrac{y - t}{y (1 - y)}$ cancels the factor
# $y(1 - y)$ of the link, which leaves
#
# $$
# \delta = \frac{\partial E}{\partial z} = y - t .
# $$
#
# With the squared loss, $\delta$ keeps the factor $y(1-y)$, which is tiny when the
# neuron is confidently wrong ($y \approx 0$ with $t = 1$), so learning is slow there.
# tinygraph's `LogLoss` checks out the same way:

# %%
y3 = tg.Logistic(tg.WeightedSum(x, tg.Parameter(w0, name="w"), tg.Parameter(b0, name="b"), name="z"), name="y")
graph3 = tg.Graph(tg.LogLoss(y3, t, name="E"))
graph3.forward(feed)
graph3.backward()
np.testing.assert_allclose(graph3["z"].grad, y_hand - t_s)
print(f"log loss: δ = {graph3['z'].grad:.6f} = y − t;   squared loss: δ = {delta:.6f} = (y − t)·y(1 − y)")

# %% [markdown]
# ## Summary
#
# * A neuron is three nodes: a weighted sum $z = w \cdot x + b$, a link $y = \sigma(z)$
#   and a loss $E = \frac12 (y - t)^2$.
# * The chain rule multiplies one local derivative per node:
#   $\partial E/\partial w_i = (y - t)\, y(1 - y)\, x_i$. tinygraph computes exactly
#   these numbers, and finite differences agree.
# * SGD moves the weights against the gradient of one random sample at a time.
#   `tg.fit` is that loop.
# * The bias can be a separate term or the weight of a constant-1 input. Both train
#   identically.
#
# Next: replace the smooth $\sigma$ by a hard step and you get the **perceptron**.
