"""A small convolutional network reads the 8×8 handwritten digits: about 99% of the test images right.

    python examples/digits_cnn.py            # the full run: 20 epochs, a few seconds
    python examples/digits_cnn.py --quick    # 2 epochs (the test suite's run)

The images are ``(1, 8, 8)``: one channel (grey), 8 rows, 8 columns.  A dense layer would see
64 unrelated numbers; a convolution instead slides a small 3×3 kernel over the image, so that
the same 9 weights look for the same stroke everywhere.  The network:

    x (1, 8, 8)
    → Conv2D 16 kernels 3×3, padding 1 → ReLU → MaxPool2D 2   (16, 4, 4)
    → Conv2D 32 kernels 3×3, padding 1 → ReLU → MaxPool2D 2   (32, 2, 2)
    → Flatten (128,) → WeightedSum: 10 class scores → SoftmaxCrossEntropy

``tg.digits_cnn(seed)`` builds it, node by node, in ``tinygraph/training/cnn.py``: about twenty
lines to read beside this file (or ``print(inspect.getsource(tg.digits_cnn))``), a ``conv_block``
(Conv2D → ReLU → MaxPool2D, with the He initialisation of its kernels) used twice, then Flatten
and the dense layer.  The network is written there once, for this example and for ``tinygraph
demo --dataset digits --model cnn``.  This run prints it as built: each node, what it is computed
from, and the shape of one image's value.

The data: scikit-learn's 1797 digits, split 75% / 25% (1348 to train on, 449 to test on) by
``train_test_split(test=0.25, seed=0)``.  The full run reaches at least 98% test accuracy
(``tests/test_demos.py`` checks it through ``tinygraph demo --dataset digits --model cnn``, which
trains this network).
"""

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # (before numpy: small matrices are quicker on one thread)

import numpy as np

import tinygraph as tg


def show(graph):
    """Print the computed nodes in the order the graph runs them: what each is made from, and its shape."""
    for node in graph.nodes:
        if node.inputs:  # (the leaves, x, t and the weights, are what these are computed from)
            made = f"{type(node).__name__}({', '.join(i.name for i in node.inputs)})"
            print(f"  {node.name:>5} = {made:<26} {node.shape}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs instead of 20")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights and the order (default 0)")
    args = parser.parse_args(argv)

    X, T = tg.datasets.digits(images=True)  # X (1797, 1, 8, 8) in [0, 1]; T the digits 0…9
    X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, test=0.25, seed=0)
    graph, x, t, z = tg.digits_cnn(args.seed)  # the network: read it in tinygraph/training/cnn.py
    weights = sum(p.value.size for p in graph.parameters())
    print(f"{len(graph.nodes)} nodes, {weights} weights; {len(X_train)} training and {len(X_test)} test images")
    show(graph)

    # Adam scales each weight's step by the size of its recent gradients; the learning rate shrinks
    # by 10% an epoch, so that the last epochs settle instead of jumping around the minimum.
    adam = tg.Adam(graph.parameters(), lr=0.005)

    def after_epoch(epoch, loss):
        adam.lr *= 0.9
        print(f"epoch {epoch:2d}  mean loss {loss:.4f}")

    epochs = 2 if args.quick else 20
    start = time.perf_counter()
    tg.fit(graph, {x: X_train, t: T_train}, adam, epochs=epochs, batch_size=32, seed=args.seed, callback=after_epoch)
    seconds = time.perf_counter() - start

    scores = graph.run(z, {x: X_test})  # the whole test set as one batch: (449, 10)
    accuracy = float(np.mean(np.argmax(scores, axis=1) == T_test))
    print(f"trained in {seconds:.1f} s; test accuracy {accuracy:.1%}")
    return accuracy


if __name__ == "__main__":
    main()
