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
# # 6. Real data: handwritten digits
#
# Everything so far ran on small made-up data sets. Now we use real data: 1797
# handwritten digits, each an 8×8 grey image, from the UCI repository. We train a
# multilayer network to read them, measure its accuracy on images it has never seen,
# and look at the ones it gets wrong.
#
# `tg.datasets.digits()` takes the images from scikit-learn, which ships them (nothing
# is downloaded). Install it with `pip install "tinygraph[data]"`. The plots need
# matplotlib, `pip install "tinygraph[plot]"`.

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np

import tinygraph as tg

np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## The data
#
# `X` has one row per image: the 64 pixel intensities, row by row, scaled to $[0, 1]$.
# `T` holds each image's label, the digit 0 to 9. We keep a quarter of the images
# aside as a test set.

# %%
X, T = tg.datasets.digits()
print("X:", X.shape, X.dtype, " T:", T.shape, T.dtype, " labels:", np.unique(T))
X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, test=0.25, seed=0)
print(f"{len(X_train)} training images, {len(X_test)} test images")

fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
for digit, ax in enumerate(axes):
    ax.imshow(X_train[T_train == digit][0].reshape(8, 8), cmap="gray_r")
    ax.set_title(str(digit))
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Ten classes: softmax and cross-entropy
#
# With ten classes, the network has ten output units with scores $z_0, \dots, z_9$
# (one per digit). The **softmax** turns the scores into probabilities, and the
# **cross-entropy** is the negative log-probability of the right class $c$:
#
# $$
# p_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \qquad E = -\log p_c .
# $$
#
# The derivative is as simple as it gets. From
# $E = -z_c + \log \sum_j e^{z_j}$ and
# $\frac{\partial}{\partial z_k} \log \sum_j e^{z_j} = \frac{e^{z_k}}{\sum_j e^{z_j}} = p_k$,
#
# $$
# \frac{\partial E}{\partial z_k} = p_k - [k = c] ,
# $$
#
# the predicted probabilities minus the one-hot target. This is the output delta of
# this network, in the role that $(o_k - t_k)\,o_k(1 - o_k)$ played for logistic outputs
# with the squared loss.
#
# `tg.mlp` with `loss=tg.SoftmaxCrossEntropy` builds the network 64 → 32 → 10. The
# loss reads the raw scores `z2`, and the output node `o` is their softmax. The target
# is the class index itself.

# %%
net = tg.mlp([64, 32, 10], activation=tg.ReLU, loss=tg.SoftmaxCrossEntropy, seed=0)
print(net)
print([node.name for node in net.graph.nodes])

# %% [markdown]
# We check the output delta by hand on one training image:

# %%
graph = net.graph
x_s, c = X_train[0], T_train[0]
loss = graph.forward({net.input: x_s, net.target: c})
graph.backward()

scores = graph["z2"].value
p = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()  # softmax (stable)
np.testing.assert_allclose(graph["o"].value, p)
np.testing.assert_allclose(loss, -np.log(p[c]))
np.testing.assert_allclose(graph["z2"].grad, p - np.eye(10)[c])  # δ = p − one-hot(c)
print(f"label {c}: p = {p}")
print(f"E = −log p_{c} = {loss:.4f}")
print("∂E/∂z2 =", graph["z2"].grad)

# %% [markdown]
# ## Training
#
# SGD on mini-batches of 16 images: each step follows the mean gradient of 16 images,
# which is less noisy than one image and cheaper per image. Thirty passes over the
# training set take a second or two.

# %%
history = net.fit(X_train, T_train, epochs=30, lr=0.2, batch_size=16, seed=0)
train_accuracy = net.accuracy(X_train, T_train)
test_accuracy = net.accuracy(X_test, T_test)
print(f"mean loss: first epoch {history[0]:.3f}, last {history[-1]:.4f}")
print(f"accuracy: training {train_accuracy:.1%}, test {test_accuracy:.1%}")
assert test_accuracy >= 0.93

fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
tg.plot.loss(history, ax=ax, title="64-32-10 on the digits")
plt.show()

# %% [markdown]
# The test accuracy is the number that matters. Those images took no part in
# training, so it estimates how well the network reads digits it has never seen.
# The training accuracy is higher: the network has partly memorised its training
# images.
#
# ## Which digits get confused?
#
# The **confusion matrix** counts, for each true digit (row), how often each digit
# was predicted (column). A perfect classifier has everything on the diagonal.

# %%
probabilities = net.predict(X_test)  # one row of 10 probabilities per image
predicted = probabilities.argmax(axis=1)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (T_test, predicted), 1)

print("true \\ predicted " + " ".join(f"{k:3d}" for k in range(10)))
for digit in range(10):
    print(f"{digit:16d} " + " ".join(f"{n:3d}" for n in confusion[digit]))
assert confusion.sum() == len(T_test)
assert np.isclose(np.trace(confusion) / len(T_test), test_accuracy)  # the diagonal is the accuracy

# %% [markdown]
# And the images behind the off-diagonal counts. Some of them are hard to read for a
# person too.

# %%
wrong = np.flatnonzero(predicted != T_test)
print(f"{len(wrong)} of {len(T_test)} test images are misclassified")
shown = wrong[:8]
fig, axes = plt.subplots(1, len(shown), figsize=(1.25 * len(shown), 1.7))
for ax, i in zip(np.atleast_1d(axes), shown):
    ax.imshow(X_test[i].reshape(8, 8), cmap="gray_r")
    ax.set_title(f"{T_test[i]} → {predicted[i]}\n({probabilities[i, predicted[i]]:.0%})", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# Each title reads "true → predicted", with the probability the network gave its
# (wrong) answer.
#
# ## What the hidden units look at
#
# Each hidden unit $j$ computes $z_j = \sum_i w_{ij} x_i + b_j$ over the 64 pixels, so
# its 64 weights can be drawn as an 8×8 image: where they are positive (red) the unit
# is excited by ink, and where they are negative (blue) it is inhibited.

# %%
W1 = graph["W1"].value  # (64, 32): column j holds hidden unit j's weights
fig, axes = plt.subplots(1, 8, figsize=(10, 1.5))
for j, ax in enumerate(axes):
    weights = W1[:, j].reshape(8, 8)
    limit = np.abs(weights).max()
    ax.imshow(weights, cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_title(f"unit {j}", fontsize=9)
    ax.axis("off")
plt.show()

# %% [markdown]
# ## Saving the trained network
#
# `tg.save` stores the parameters by name, and for an `mlp` its architecture too, in
# one `.npz` file. `tg.load` rebuilds the network. (We write into a temporary folder
# here.)

# %%
with tempfile.TemporaryDirectory() as folder:
    path = os.path.join(folder, "digits.npz")
    tg.save(net, path)
    again = tg.load(path)
np.testing.assert_array_equal(again.predict(X_test), net.predict(X_test))
print(again, f"test accuracy {again.accuracy(X_test, T_test):.1%}")

# %% [markdown]
# ## What comes next
#
# The network treats the 64 pixels as 64 unrelated numbers. Shuffle the pixels of
# every image in the same way and it would learn just as well. It knows nothing of
# neighbouring pixels, or that a stroke is the same stroke one pixel to the left. A
# **convolutional network** builds that in: small filters slide over the image and
# share their weights across positions. tinygraph has no convolution nodes yet. This
# tutorial will continue with a CNN on the same digits once it does.
#
# ## Summary
#
# * `tg.datasets.digits()` gives 1797 real 8×8 images (via scikit-learn).
#   `train_test_split` keeps a test set aside.
# * For several classes: softmax outputs and the cross-entropy loss. Its output delta
#   is $p - \text{one-hot}(c)$, checked above.
# * A 64-32-10 ReLU network reaches about 97% on the test images within a few seconds
#   of SGD. The confusion matrix and the misclassified images show where it fails.
