"""An mlp in plain numpy, written apart from tinygraph: what the Recording tests check snapshots against.

The layers are ``z_k = h_{k-1} W_k + b_k`` with tanh (or another) hidden units and a logistic (or
identity) output; the losses are the mean over the rows, as tinygraph's default ``reduction="mean"``.
"""

import numpy as np

import tinygraph as tg


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def identity(z):
    return z


def relu(z):
    return np.maximum(z, 0.0)


def forward(params, X, hidden=np.tanh, output=sigmoid):
    """The mlp's forward pass: the weighted sums z_k and the activations h_k of every layer (h_0 = X)."""
    zs, hs, k = [], [np.asarray(X, dtype=np.float64)], 1
    while f"W{k}" in params:
        z = hs[-1] @ params[f"W{k}"] + params[f"b{k}"]
        zs.append(z)
        hs.append((output if f"W{k + 1}" not in params else hidden)(z))
        k += 1
    return zs, hs


def log_loss(P, T):
    """The mean over the rows of −Σ_k [t log p + (1 − t) log(1 − p)] (p clipped as LogLoss does)."""
    eps = np.finfo(np.float64).eps
    P = np.clip(P, eps, 1 - eps)
    return float(np.mean(-np.sum(T * np.log(P) + (1 - T) * np.log1p(-P), axis=1)))


def squared_loss(Y, T):
    return float(np.mean(0.5 * np.sum((Y - T) ** 2, axis=1)))


def softmax_ce(Z, labels):
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(Z)), labels.astype(int)]))


def backprop(params, X, T):
    """Gradients of the mean log loss of a tanh-hidden, logistic-output 2-layer net, and each sample's δ."""
    (_, _), (_, H, P) = forward(params, X)
    n = len(X)
    d2 = P - T  # ∂E_i/∂z2: logistic + log loss
    d1 = (d2 @ params["W2"].T) * (1 - H**2)
    grads = {"W1": X.T @ d1 / n, "b1": d1.sum(0) / n, "W2": H.T @ d2 / n, "b2": d2.sum(0) / n}
    return grads, {"z1": d1, "z2": d2}


def rms_norm(delta):
    """The root mean square over the samples of each sample's ‖δ‖."""
    return float(np.sqrt(np.mean(np.sum(delta**2, axis=1))))


def values(net):
    return {p.name: p.value.copy() for p in net.parameters()}


def load(net, params):
    for p in net.parameters():
        p.value[...] = params[p.name]


def moons(n=20):
    X, T = tg.datasets.moons(n=n, seed=0)
    return X, T[:, None]


def tanh_net(seed=0):
    return tg.mlp([2, 3, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=seed)
