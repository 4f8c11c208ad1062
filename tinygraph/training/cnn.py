"""The digits CNN, built node by node: two convolution blocks, then a dense layer to 10 class scores."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import checks
from ..core import Conv2D, Flatten, Graph, Input, MaxPool2D, Parameter, ReLU, SoftmaxCrossEntropy, WeightedSum


def digits_cnn(seed: Any = 0) -> tuple[Graph, Input, Input, WeightedSum]:
    """Build the small CNN that reads the 8×8 digits; return its loss graph and its nodes x, t and z.

    x (1, 8, 8) → [Conv2D 3×3, padding 1 → ReLU → MaxPool2D 2] with 16, then 32 kernels →
    Flatten (128) → WeightedSum to the 10 class scores z → SoftmaxCrossEntropy with the class
    index t: 17 nodes, 6090 weights. ``examples/digits_cnn.py`` and ``tinygraph demo --dataset
    digits --model cnn`` train it (about 99% of the test digits right); its code is meant to be
    read, layer by layer.

    Parameters
    ----------
    seed : int or None, optional
        Seeds the initial weights (0 by default): the same seed, the same weights. None draws
        them afresh.

    Returns
    -------
    graph : Graph
        The loss graph, E = SoftmaxCrossEntropy(z, t).
    x : Input
        An image, shape ``(1, 8, 8)``: one grey channel, 8 rows, 8 columns.
    t : Input
        Its digit, a class index, shape ``()``.
    z : WeightedSum
        The 10 class scores, shape ``(10,)``; ``graph.run(z, {x: images})`` scores a batch.

    Raises
    ------
    tinygraph.GraphError
        If ``seed`` is negative.
    TypeError
        If ``seed`` is not a whole number or None.

    Examples
    --------
    >>> import tinygraph as tg
    >>> graph, x, t, z = tg.digits_cnn(seed=0)
    >>> graph, x.shape, z.shape
    (Graph(SoftmaxCrossEntropy('E'); 17 nodes, 6 parameters), (1, 8, 8), (10,))
    >>> [p.name for p in graph.parameters()]
    ['K1', 'b1', 'K2', 'b2', 'W', 'c']
    """
    rng = np.random.default_rng(checks.seed("digits_cnn: seed", seed))

    def conv_block(h, c_in, c_out, k):
        """Conv2D (c_out kernels of c_in × 3 × 3, zeros around so the size stays) → ReLU → MaxPool2D 2."""
        # He initialisation: ReLU halves the variance, so the weights get variance 2/fan_in (fan_in = c_in·3·3).
        K = Parameter(rng.normal(size=(c_out, c_in, 3, 3)) * np.sqrt(2 / (c_in * 9)), name=f"K{k}")
        b = Parameter(np.zeros(c_out), name=f"b{k}")
        z = Conv2D(h, K, b, padding=1, name=f"conv{k}")  # each output pixel: Σ over a 3×3 patch of every channel
        return MaxPool2D(ReLU(z, name=f"h{k}"), size=2, name=f"pool{k}")  # halves the height and the width

    x, t = Input("x", shape=(1, 8, 8)), Input("t", shape=())  # an image; its digit, a class index
    h = conv_block(x, 1, 16, 1)  # (16, 4, 4): 16 feature maps
    h = conv_block(h, 16, 32, 2)  # (32, 2, 2)
    flat = Flatten(h, name="flat")  # (128,): the maps as one vector, for the dense layer
    W = Parameter(rng.normal(size=(flat.shape[0], 10)) / np.sqrt(flat.shape[0]), name="W")  # variance 1/fan_in
    z = WeightedSum(flat, W, Parameter(np.zeros(10), name="c"), name="z")  # 10 class scores
    return Graph(SoftmaxCrossEntropy(z, t, name="E")), x, t, z
