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
# and look at the ones it gets wrong. Then a convolutional network, which knows that
# the pixels form an image, reads them better still.
#
# `tg.datasets.digits()` takes the images from scikit-learn, which ships them (nothing
# is downloaded). Install it with `pip install "tinygraph[data]"`. The plots need
# matplotlib, `pip install "tinygraph[plot]"`.

# %%
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from threadpoolctl import threadpool_limits  # (scikit-learn's; used for the CNN below)

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
# ## A convolutional network
#
# The network above treats the 64 pixels as 64 unrelated numbers. Shuffle the pixels of
# every image in the same way and it would learn just as well. It knows nothing of
# neighbouring pixels, or that a stroke is the same stroke one pixel to the left. A
# **convolutional layer** builds that in: a small kernel of $3 \times 3$ weights slides
# over the image, so the same weights look for the same stroke everywhere.
#
# An image is now `(C, H, W)`: channels, rows, columns. A digit is `(1, 8, 8)`, one grey
# channel. `tg.Conv2D(x, w, b, padding=p)` with kernels `w` of shape `(C_out, C, 3, 3)`
# puts $p$ rings of zeros around the image and computes, for each output channel $c$, row
# $i$ and column $j$,
#
# $$
# z_{c,i,j} = \sum_{k,u,v} w_{c,k,u,v}\, x_{k,\,i+u-p,\,j+v-p} + b_c .
# $$
#
# It is a weighted sum like the others, with its weights shared between positions. So its
# derivatives come out the same way, and a shared weight's gradient adds up what it gets
# at every position, just as the graph adds up the gradients of a node with several
# consumers:
#
# $$
# \frac{\partial E}{\partial w_{c,k,u,v}} = \sum_{i,j} \delta_{c,i,j}\, x_{k,\,i+u-p,\,j+v-p},
# \qquad
# \frac{\partial E}{\partial b_c} = \sum_{i,j} \delta_{c,i,j},
# \qquad
# \delta_{c,i,j} = \frac{\partial E}{\partial z_{c,i,j}} .
# $$
#
# We check both on one digit, with two kernels and the loss $E = \sum_{c,i,j} z_{c,i,j}^2$,
# whose $\delta$ is $2z$, against loops written out in numpy:

# %%
images_train = X_train.reshape(-1, 1, 8, 8)  # the same images, as (channel, row, column)
images_test = X_test.reshape(-1, 1, 8, 8)
K0, kb0 = np.random.default_rng(1).normal(size=(2, 1, 3, 3)) / 3, np.array([0.1, -0.1])

image = tg.Input("image", shape=(1, 8, 8))
K, kb = tg.Parameter(K0, name="K"), tg.Parameter(kb0, name="b")
conv = tg.Conv2D(image, K, kb, padding=1, name="conv")  # (2, 8, 8): with padding 1 the size stays
probe = tg.Graph(tg.Sum(tg.Square(conv, name="sq"), name="E"))  # E = Σ z²
probe.forward({image: images_train[0]})
probe.backward()

x_pad = np.pad(images_train[0, 0], 1)  # the image with p = 1 ring of zeros: x_pad[i + u, j + v]
z_hand = np.zeros((2, 8, 8))
for ch in range(2):
    for i in range(8):
        for j in range(8):
            z_hand[ch, i, j] = np.sum(K0[ch, 0] * x_pad[i : i + 3, j : j + 3]) + kb0[ch]
delta = 2 * z_hand  # δ = ∂E/∂z = 2z
dE_dK = np.zeros_like(K0)
for ch in range(2):
    for u in range(3):
        for v in range(3):
            dE_dK[ch, 0, u, v] = np.sum(delta[ch] * x_pad[u : u + 8, v : v + 8])  # Σ_ij δ x

np.testing.assert_allclose(conv.value, z_hand)
np.testing.assert_allclose(conv.grad, delta)
np.testing.assert_allclose(K.grad, dE_dK)
np.testing.assert_allclose(kb.grad, delta.sum(axis=(1, 2)))
print("∂E/∂K of the first kernel, as derived:\n", K.grad[0, 0])

# %% [markdown]
# `tg.digits_cnn` builds a small convolutional network from such nodes, in about twenty
# lines that are worth reading (`tinygraph/training/cnn.py`): twice a block of `Conv2D`
# (16, then 32 kernels) → `ReLU` → `MaxPool2D`, which keeps the largest number of each
# $2 \times 2$ window and sends its gradient back to that winner alone, then `Flatten` and
# a `WeightedSum` to the 10 class scores, read by `SoftmaxCrossEntropy` as before.
#
# We train it as `examples/digits_cnn.py` does: with `tg.Adam`, which scales each weight's
# step by the size of its recent gradients, on mini-batches of 32, with a learning rate
# that shrinks by 10 % each epoch. Its matrix products are small, and numpy's BLAS would
# spread each of them over all the cores; limited to one thread (with `threadpoolctl`,
# which scikit-learn brings) training is several times quicker.

# %%
cnn, image, label, scores = tg.digits_cnn(seed=0)
print(cnn, "with", sum(p.value.size for p in cnn.parameters()), "weights")
adam = tg.Adam(cnn.parameters(), lr=0.005)


def shrink(epoch, loss):
    adam.lr *= 0.9  # smaller steps as training settles


with threadpool_limits(1, user_api="blas"):
    cnn_history = tg.fit(
        cnn, {image: images_train, label: T_train}, adam, epochs=10, batch_size=32, seed=0, callback=shrink
    )
cnn_accuracy = np.mean(cnn.run(scores, {image: images_test}).argmax(axis=1) == T_test)
print(f"mean loss: first epoch {cnn_history[0]:.3f}, last {cnn_history[-1]:.4f}")
print(f"test accuracy: convolutional {cnn_accuracy:.1%}, dense 64-32-10 {test_accuracy:.1%}")
assert cnn_accuracy >= 0.96

# %% [markdown]
# The graph view draws each feature map as a small heat map inside its node. Here is one
# test image on its way through, after a forward and a backward pass. The diagram is wide:
# on the site, click it to see it at its own size (and scroll along it), click again to fit it.

# %%
cnn.forward({image: images_test[0], label: T_test[0]})
cnn.backward()
cnn

# %% [markdown]
# ## Summary
#
# * `tg.datasets.digits()` gives 1797 real 8×8 images (via scikit-learn).
#   `train_test_split` keeps a test set aside.
# * For several classes: softmax outputs and the cross-entropy loss. Its output delta
#   is $p - \text{one-hot}(c)$, checked above.
# * A 64-32-10 ReLU network reaches about 97% on the test images within a few seconds
#   of SGD. The confusion matrix and the misclassified images show where it fails.
# * A convolution is a weighted sum whose weights are shared across the image's
#   positions; a shared weight's gradient sums over them. A small convolutional network,
#   `tg.digits_cnn`, reads about 98% of the test digits right.
