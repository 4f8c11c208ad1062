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
# # 5. Write your own node
#
# Every node in tinygraph is a small class that states its mathematics once: its
# forward formula and its hand-derived local derivative, side by side. The graph
# does the rest. It orders the nodes, applies the chain rule, sums the gradients from
# several consumers, checks shapes, and runs the passes fast. In this tutorial we
# write two nodes of our own, check their derivatives with `tg.check_node`, and use
# them in a network that is drawn, trained and traced exactly like the built-in nodes.
#
# A node class has:
#
# * **`forward(self, *values)`**: its value from its inputs' values. The arguments'
#   names are the symbols of the formula. Values carry a leading batch axis when the
#   pass has one. It may keep what its backward needs (`self.z = z`).
# * **`backward(self, grad_out)`**: receives $g = \partial E/\partial y$ (shaped like
#   the node's value) and returns one gradient per input, shaped like that input: the
#   chain-rule product $\partial E/\partial(\text{input}) = g \cdot
#   \partial y/\partial(\text{input})$. The graph adds up what several consumers send.
# * **its text**: `formula` and `derivative` (plain text), and `formula_tex` and
#   `derivative_tex` (LaTeX), in the same symbols. The diagrams, the trace and
#   `graph.source()` show them.
# * optionally `infer_shape(*shapes)` (one sample's output shape, so that a mismatch is
#   reported where the node is built), and `gradients`, which says for each input how
#   its gradient is formed, for the trace.

# %%
import numpy as np

import tinygraph as tg

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## A first node: softplus
#
# The softplus $y = \log(1 + e^{z})$ is a smooth version of ReLU. Its derivative is
# the logistic function:
#
# $$
# \frac{\partial y}{\partial z} = \frac{e^{z}}{1 + e^{z}} = \frac{1}{1 + e^{-z}} = \sigma(z),
# \qquad\text{so}\qquad
# \frac{\partial E}{\partial z} = \frac{\partial E}{\partial y} \odot \sigma(z).
# $$
#
# For large $z$, $e^{z}$ overflows, so the forward pass uses the equivalent stable form
# $\max(z, 0) + \log(1 + e^{-|z|})$.


# %%
class Softplus(tg.Node):
    """y = log(1 + e^z), elementwise — a smooth ReLU;  ∂y/∂z = σ(z) = 1/(1 + e^(−z))."""

    prefix = "softplus"  # names the nodes built without a name: softplus_1, …
    formula = "y = log(1 + e^z)"
    formula_tex = r"y = \log(1 + e^{z})"
    derivative = "∂y/∂z = σ(z)"
    derivative_tex = r"\frac{\partial y}{\partial z} = \sigma(z)"
    gradients = {"z": "∂E/∂y ⊙ σ(z)"}

    def infer_shape(self, z):
        return z  # elementwise: the output has the input's shape

    def forward(self, z):
        self.z = z  # kept for backward
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def backward(self, grad_out):
        return (grad_out / (1 + np.exp(-self.z)),)  # ∂E/∂z = ∂E/∂y ⊙ σ(z)


# %% [markdown]
# `tg.check_node` builds the node on random inputs of the given shapes and compares its
# backward with central finite differences of its forward. `batched=(0,)` says that
# input 0 carries a batch axis, here a batch of 5 samples of 3 numbers. With
# `dtype=np.float32` it also checks that the node computes in float32 and still gets
# the gradients right to float32's precision.

# %%
report = tg.check_node(Softplus, [(5, 3)], batched=(0,))
print(report)
assert report.passed
assert tg.check_node(Softplus, [(5, 3)], batched=(0,), dtype=np.float32).passed

# %% [markdown]
# A wrong derivative does not slip through. Suppose we had confused softplus with the
# logistic function and used $\sigma(z)(1 - \sigma(z))$:


# %%
class WrongSoftplus(Softplus):
    def backward(self, grad_out):
        s = 1 / (1 + np.exp(-self.z))
        return (grad_out * s * (1 - s),)  # the derivative of σ, not of softplus


wrong = tg.check_node(WrongSoftplus, [(5, 3)], batched=(0,))
print(wrong)
assert not wrong.passed

# %% [markdown]
# ### The shortcut for elementwise nodes
#
# Nodes that act element by element share their chain rule,
# $\partial E/\partial z = \partial E/\partial y \odot \partial y/\partial z$. A subclass
# of `tg.Elementwise` states only `forward` and `local()`, the local derivative
# $\partial y/\partial z$. It inherits `backward`, `infer_shape` and `gradients`
# (the last made from `derivative`). This is how tinygraph's own `Logistic`, `Tanh`,
# `ReLU` and `Step` are written.


# %%
class Softplus2(tg.Elementwise):
    """y = log(1 + e^z), elementwise;  ∂y/∂z = σ(z)."""

    prefix = "softplus"
    formula = "y = log(1 + e^z)"
    formula_tex = r"y = \log(1 + e^{z})"
    derivative = "∂y/∂z = σ(z)"
    derivative_tex = r"\frac{\partial y}{\partial z} = \sigma(z)"

    def forward(self, z):
        self.z = z
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))

    def local(self, out=None):
        return 1 / (1 + np.exp(-self.z))  # σ(z)  (out: an array it may write into, or None)


assert tg.check_node(Softplus2, [(5, 3)], batched=(0,)).passed
z = tg.Input("z", shape=(3,))
both = tg.Graph(tg.Sum(Softplus(z, name="a")), tg.Sum(Softplus2(z, name="b")))
print(both.run(["a", "b"], {z: np.array([-30.0, 0.0, 30.0])}))  # the same numbers, and no overflow

# %% [markdown]
# ## A node with a parameter: PReLU
#
# The *parametric ReLU* (He et al., 2015) lets each unit learn the slope $a$ of its
# negative side:
#
# $$
# y = \max(0, z) + a \min(0, z) =
# \begin{cases} z & z > 0 \\ a z & z \le 0 \end{cases}
# $$
#
# It has two inputs, so backward returns two gradients:
#
# $$
# \frac{\partial E}{\partial z} = \frac{\partial E}{\partial y} \odot \bigl([z > 0] + a\,[z \le 0]\bigr),
# \qquad
# \frac{\partial E}{\partial a} = \sum_{\text{batch}} \frac{\partial E}{\partial y} \odot \min(0, z).
# $$
#
# $[\cdot]$ is 1 where the condition holds and 0 elsewhere. The sum is the new
# point. The same slope $a$ serves every sample of a batch, so its gradient adds up
# the contributions of all the samples. In general, a gradient always has the shape of
# its input. Here $a$ has one number per unit (or a single number for all units), so
# we sum $g \odot \min(0, z)$ over every axis that $a$ does not have.
#
# `self.needs[i]` tells whether input $i$'s gradient is wanted. Where it is not,
# backward may return `None` and skip the work.


# %%
class PReLU(tg.Node):
    """y = max(0, z) + a·min(0, z), a learnable slope for z ≤ 0 (one per unit, or one for all).

    ∂y/∂z = [z > 0] + a·[z ≤ 0],   ∂y/∂a = min(0, z)   (summed over the batch for ∂E/∂a).
    """

    prefix = "prelu"
    formula = "y = max(0, z) + a·min(0, z)"
    formula_tex = r"y = \max(0, z) + a \min(0, z)"
    derivative = "∂y/∂z = [z > 0] + a·[z ≤ 0], ∂y/∂a = min(0, z)"
    derivative_tex = (
        r"\frac{\partial y}{\partial z} = [z > 0] + a\,[z \le 0],\ \frac{\partial y}{\partial a} = \min(0, z)"
    )
    gradients = {"z": "∂E/∂y ⊙ ([z > 0] + a·[z ≤ 0])", "a": "Σ ∂E/∂y ⊙ min(0, z)   (summed over the batch)"}

    def infer_shape(self, z, a):
        if a not in ((), z):
            raise self.error(f"a must be one number, or one per unit {z}; got shape {a}")
        return z

    def forward(self, z, a):
        self.z, self.a = z, a
        return np.maximum(z, 0) + a * np.minimum(z, 0)

    def backward(self, grad_out):
        z, a = self.z, self.a
        grad_z = grad_a = None
        if self.needs[0]:
            grad_z = grad_out * np.where(z > 0, 1.0, a)
        if self.needs[1]:
            per_element = grad_out * np.minimum(z, 0)
            grad_a = per_element.sum(axis=tuple(range(per_element.ndim - a.ndim)))  # down to a's shape
        return grad_z, grad_a


# %% [markdown]
# Inputs that are not batched are made Parameters by `check_node`. We check one slope
# per unit, one slope for all units, one sample and float32:

# %%
for shapes, batched in [([(5, 3), (3,)], (0,)), ([(5, 3), ()], (0,)), ([(3,), (3,)], ())]:
    assert tg.check_node(PReLU, shapes, batched=batched).passed
    assert tg.check_node(PReLU, shapes, batched=batched, dtype=np.float32).passed
print(tg.check_node(PReLU, [(5, 3), (3,)], batched=(0,)))

# %% [markdown]
# If we forget the sum over the batch, the gradient for $a$ has the wrong shape. The
# graph checks every node's gradients on its first pass with new shapes, and it says
# which node and which input:


# %%
class UnsummedPReLU(PReLU):
    def backward(self, grad_out):
        return grad_out * np.where(self.z > 0, 1.0, self.a), grad_out * np.minimum(self.z, 0)


try:
    tg.check_node(UnsummedPReLU, [(5, 3), (3,)], batched=(0,))
except tg.GraphError as error:
    print("GraphError:", error)

# %% [markdown]
# ## Our node in a network
#
# A hidden layer of 8 PReLU units on the two moons, with every slope starting at
# $a = 0.25$. Nothing else needs to change: the node goes into the graph like any
# other.

# %%
X, T = tg.datasets.moons(n=200, noise=0.1, seed=0)
rng = np.random.default_rng(0)

x = tg.Input("x", shape=(2,))
t = tg.Input("t", shape=(1,))
W1 = tg.Parameter(rng.normal(0, 1, (2, 8)), name="W1")
b1 = tg.Parameter(np.zeros(8), name="b1")
a = tg.Parameter(np.full(8, 0.25), name="a")  # one slope per hidden unit
h = PReLU(tg.WeightedSum(x, W1, b1, name="z1"), a, name="h")
W2 = tg.Parameter(rng.normal(0, 8**-0.5, (8, 1)), name="W2")
b2 = tg.Parameter(np.zeros(1), name="b2")
o = tg.Logistic(tg.WeightedSum(h, W2, b2, name="z2"), name="o")
graph = tg.Graph(tg.SquaredLoss(o, t, name="E"))
graph

# %% [markdown]
# It is drawn with its own formula. Finite differences agree with backpropagation
# through the whole graph, on a batch of 10 samples:

# %%
report = tg.gradcheck(graph, {x: X[:10], t: T[:10, None]})
print(report)
assert report.passed

# %% [markdown]
# `graph.source()` calls its methods with its derivative as the comment, just like
# the built-in nodes. Here is the backward step through `h`:

# %%
backward_code = graph.source().split("def backward")[1]
print("\n".join(line for line in backward_code.splitlines() if "'h'" in line or "node_h." in line))

# %% [markdown]
# The trace explains it too, with this graph's names put into our formula. We trace
# one sample before training (without an optimizer, so nothing changes), a sample on
# which some hidden units are active ($z > 0$) and some are not. Step through it to
# the `h` node in both passes.

# %%
trace = tg.trace(graph, {x: X[2], t: T[2:3]})
print(next(s for s in trace.phase("backward") if s.node is h).text())
trace

# %% [markdown]
# Finally we train it. The slopes $a$ are parameters like the weights, so SGD learns
# them too:

# %%
history = tg.fit(graph, {x: X, t: T[:, None]}, tg.SGD(graph.parameters(), lr=0.1), epochs=60, seed=0)
accuracy = np.mean((graph.run(o, {x: X})[:, 0] >= 0.5) == (T == 1))
print(f"loss {history[0]:.4f} → {history[-1]:.4f};  training accuracy {accuracy:.0%}")
print("learned slopes a =", a.value)
assert accuracy >= 0.85 and not np.allclose(a.value, 0.25)

# %% [markdown]
# ## Summary
#
# * A node is `forward` and `backward` side by side, plus its formula and derivative
#   as text (`formula`, `derivative`, `formula_tex`, `derivative_tex`).
# * `backward` receives $\partial E/\partial y$ and returns one gradient per input,
#   shaped like that input. A parameter shared by the samples of a batch sums their
#   contributions.
# * `tg.check_node` compares your backward with finite differences, in float64 and
#   float32. The graph checks shapes on the first pass.
# * `tg.Elementwise` is the shortcut for elementwise nodes: `forward` and `local()`.
# * Your node is drawn, traced, unrolled into `graph.source()` and trained like the
#   built-in ones. CONTRIBUTING.md shows how a node joins the package itself.
