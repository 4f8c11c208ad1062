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
# # 2. The perceptron
#
# Rosenblatt's perceptron (1958) is the neuron of the first tutorial with a hard
# threshold instead of the smooth logistic link. Its output is either 0 or 1:
#
# $$
# z = w \cdot x + b, \qquad
# y = \begin{cases} 1 & z \ge 0 \\ 0 & z < 0 \end{cases}
# $$
#
# Rosenblatt trained it with a rule that looks nothing like calculus:
#
# $$
# w \leftarrow w + \eta\,(t - y)\,x, \qquad b \leftarrow b + \eta\,(t - y).
# $$
#
# In this tutorial we derive that rule as SGD on the squared loss, see exactly where
# the derivation needs a trick, and check tinygraph's update against the rule on every
# step of a training run.

# %%
import matplotlib.pyplot as plt
import numpy as np

import tinygraph as tg

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## The unit step as a node
#
# `tg.Step` is the threshold, built from the same pieces as before. The data are two
# classes in the plane that a straight line separates, with a gap of at least 0.05
# between them and the line. We shift the points so that the line misses the origin,
# which gives the bias some work to do.

# %%
X, T = tg.datasets.linear(n=100, seed=3, margin=0.05)  # linearly separable
X = X + np.array([0.3, -0.2])  # the separating line no longer passes through 0

x = tg.Input("x", shape=(2,))
t = tg.Input("t", shape=())
w = tg.Parameter([0.0, 0.0], name="w")
b = tg.Parameter(0.0, name="b")
z = tg.WeightedSum(x, w, b, name="z")  # z = w·x + b
y = tg.Step(z, name="y")  # y = 1 if z ≥ 0 else 0
graph = tg.Graph(tg.SquaredLoss(y, t, name="E"))  # E = ½ (y − t)²
graph

# %% [markdown]
# ## The derivative that is not there
#
# Follow the chain rule of tutorial 1 with the step in place of $\sigma$:
#
# $$
# \frac{\partial E}{\partial w_i}
#   = \frac{\partial E}{\partial y}\,\frac{\partial y}{\partial z}\,\frac{\partial z}{\partial w_i}
#   = (y - t)\,\frac{\partial y}{\partial z}\,x_i .
# $$
#
# The first and the last factor are as before. The middle one is the problem. The
# step is flat on both sides of 0, so $\partial y/\partial z = 0$ for every
# $z \ne 0$, and at $z = 0$ it does not exist. Followed literally, the chain rule
# gives a gradient of 0 for every sample, and nothing would ever learn.
#
# tinygraph's `Step` does not pretend otherwise. The first paragraph of its docstring
# says what it does instead:

# %%
print(tg.Step.__doc__.split("\n\n")[0])
print("derivative:", tg.Step.derivative)

# %% [markdown]
# So the backward pass treats the step as if it were the identity: the gradient
# passes *straight through*, $\partial y/\partial z \coloneqq 1$. This is a choice, not the
# derivative. (It is known today as the *straight-through estimator*.) With it,
#
# $$
# \frac{\partial E}{\partial w_i} \coloneqq (y - t)\, x_i, \qquad
# \frac{\partial E}{\partial b} \coloneqq y - t,
# $$
#
# and the SGD step $w \leftarrow w - \eta\,\partial E/\partial w$ becomes
#
# $$
# w \leftarrow w - \eta\,(y - t)\,x = w + \eta\,(t - y)\,x ,
# $$
#
# which is **Rosenblatt's perceptron rule**. Because $y$ and $t$ are both 0 or 1,
# there are only three cases:
#
# | target $t$ | output $y$ | $t - y$ | update |
# |---|---|---|---|
# | $t = y$ | (right) | 0 | nothing changes |
# | 1 | 0 | +1 | $w \leftarrow w + \eta x$: $z = w \cdot x$ grows |
# | 0 | 1 | −1 | $w \leftarrow w - \eta x$: $z = w \cdot x$ shrinks |
#
# The perceptron learns only from its mistakes, and each correction pushes $z$ towards
# the right side of 0. Adding $\eta x$ to $w$ and $\eta$ to $b$ raises $z$ for this sample
# by $\eta\,(x \cdot x + 1) = \eta\,(\sum_i x_i^2 + 1) > 0$.
#
# On the first sample, with $w = 0$ and $b = 0$, $z = 0$ gives $y = 1$:

# %%
x0, t0 = X[0], T[0]
graph.forward({x: x0, t: t0})
graph.backward()
print(f"z = {z.value:g}, y = {y.value:g}, t = {t0:g}")
print("∂E/∂w =", w.grad, "  (y − t)·x =", (y.value - t0) * x0)
np.testing.assert_array_equal(z.grad, y.value - t0)  # ∂E/∂z = ∂E/∂y · 1: straight through
np.testing.assert_allclose(w.grad, (y.value - t0) * x0)
np.testing.assert_allclose(b.grad, y.value - t0)

# %% [markdown]
# The step-by-step trace says the same thing in words. This is its backward step at
# the `Step` node:

# %%
steps = tg.trace(graph, {x: x0, t: t0}).phase("backward")
print(next(s for s in steps if s.node is y).text())

# %% [markdown]
# ## Training: the engine's update is the perceptron rule, every time
#
# Now we train with `tg.SGD` at $\eta = 1$, one sample at a time. Before each step we
# compute Rosenblatt's update ourselves from the values of the forward pass, and after
# the step we check that the engine made exactly that update. We also count the
# mistakes of each epoch.

# %%
eta = 1.0
optimizer = tg.SGD(graph.parameters(), lr=eta)
rng = np.random.default_rng(0)

mistakes_per_epoch = []
for _ in range(50):  # at most 50 epochs
    mistakes = 0
    for i in rng.permutation(len(X)):
        graph.forward({x: X[i], t: T[i]})
        out = float(y.value)
        w_rule = w.value + eta * (T[i] - out) * X[i]  # w ← w + η (t − y) x
        b_rule = b.value + eta * (T[i] - out)  # b ← b + η (t − y)
        graph.backward()
        optimizer.step()
        np.testing.assert_array_equal(w.value, w_rule)
        np.testing.assert_array_equal(b.value, b_rule)
        mistakes += int(out != T[i])
    mistakes_per_epoch.append(mistakes)
    if mistakes == 0:
        break

print("mistakes per epoch:", mistakes_per_epoch)
print(f"w = {w.value}, b = {b.value:.4f}")
accuracy = np.mean(graph.run(y, {x: X}) == T)
print(f"training accuracy {accuracy:.0%}")
assert mistakes_per_epoch[-1] == 0 and accuracy == 1.0

# %% [markdown]
# The updates agreed to the last bit: `assert_array_equal`, not just "close".
# The number of mistakes does not fall steadily: a correction for one sample can
# misclassify another. But training stopped after an epoch without a single mistake.
# On that epoch no weight moved, so the perceptron has nothing left to learn from this
# data.


# %%
class Perceptron:
    """What tg.plot.decision_boundary needs: predict(rows) → one number per row (here 0 or 1)."""

    def predict(self, rows):
        return graph.run(y, {x: rows})


fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
tg.plot.decision_boundary(Perceptron(), X, T, ax=ax, resolution=100, title="the perceptron's line")
plt.show()

# %% [markdown]
# ## Why it stops: the convergence theorem
#
# Write $\tilde{x} = [x, 1]$ and $\tilde{w} = [w, b]$ (the bias as a weight, as in
# tutorial 1), and $s = 2t - 1 \in \{-1, +1\}$. Suppose some unit vector $u$
# separates the data with margin $\gamma > 0$, that is $s\, u \cdot \tilde{x} \ge \gamma$
# for every sample, and let $R = \max \lVert \tilde{x} \rVert$.
#
# Starting from $\tilde{w} = 0$, each mistake adds $\eta s \tilde{x}$. That raises
# $\tilde{w} \cdot u$ by at least $\eta\gamma$, and it raises $\left\lVert \tilde{w} \right\rVert^2$
# by at most $\eta^2 R^2$, since $s\, \tilde{w} \cdot \tilde{x} \le 0$ on a mistake. After
# $k$ mistakes, $k\eta\gamma \le \tilde{w} \cdot u \le \lVert \tilde{w} \rVert \le \sqrt{k}\,\eta R$,
# so (Novikoff, 1962)
#
# $$
# k \le \left(\frac{R}{\gamma}\right)^2 .
# $$
#
# Any separating direction gives such a bound, so we may take the one the perceptron
# found:

# %%
X1 = np.c_[X, np.ones(len(X))]  # x̃ = [x, 1]
w_tilde = np.append(w.value, b.value)
s = 2 * T - 1
gamma = np.min(s * (X1 @ w_tilde)) / np.linalg.norm(w_tilde)
R = np.max(np.linalg.norm(X1, axis=1))
print(f"margin γ = {gamma:.4f}, R = {R:.4f}: at most (R/γ)² = {(R / gamma) ** 2:.0f} mistakes;")
print(f"the run made {sum(mistakes_per_epoch)}")
assert gamma > 0 and sum(mistakes_per_epoch) <= (R / gamma) ** 2

# %% [markdown]
# The bound is far from tight, but it is finite: on separable data the perceptron is
# guaranteed to stop, whatever order the samples come in.

# %% [markdown]
# ## Is it gradient descent after all?
#
# The straight-through step is a convenience that reproduces the rule. The rule *is*
# exact gradient descent, on a different loss: the *perceptron criterion*
# $E_p = \max(0, -s z)$. It is zero for a correctly classified sample and grows
# linearly with $|z|$ on the wrong side. Where it is positive its gradient with respect
# to $\tilde{w}$ is $-s\,\tilde{x}$, so SGD adds $\eta s \tilde{x} = \eta (t - y) \tilde{x}$,
# the same update. (The two differ only
# on the line $z = 0$ itself, where $E_p$ has a kink.)
#
# ## Where the perceptron fails
#
# When no line separates the classes, there is always a misclassified sample. The rule
# then never stops changing the weights. XOR is the classic case: $(0,0)$ and $(1,1)$
# are class 0, $(0,1)$ and $(1,0)$ class 1.

# %%
X_xor, T_xor = tg.datasets.xor()
w.value[:] = 0
b.value[...] = 0
xor_mistakes = []
for _ in range(20):  # 20 epochs
    mistakes = 0
    for i in rng.permutation(4):
        graph.forward({x: X_xor[i], t: T_xor[i]})
        mistakes += int(y.value != T_xor[i])
        graph.backward()
        optimizer.step()
    xor_mistakes.append(mistakes)
print("XOR, mistakes per epoch:", xor_mistakes)
assert min(xor_mistakes) > 0  # never a clean epoch

# %% [markdown]
# A single threshold unit can only draw one line. To solve XOR, units have to be
# stacked: a **hidden layer**. A stack of steps gives no useful gradient to pass
# back, so from here on we use smooth activations again, whose derivatives really
# exist. That is the next tutorial.
#
# ## Summary
#
# * The perceptron is $y = [\,w \cdot x + b \ge 0\,]$.
# * The step's derivative is 0 almost everywhere. tinygraph's `Step` passes the
#   gradient straight through instead ($\partial y/\partial z \coloneqq 1$), and says so in its
#   docstring and in the trace.
# * With that, SGD on $E = \frac12 (y - t)^2$ is exactly Rosenblatt's rule
#   $w \leftarrow w + \eta (t - y) x$, checked above on every step.
# * On separable data the rule stops after at most $(R/\gamma)^2$ mistakes. On XOR it
#   never stops.
