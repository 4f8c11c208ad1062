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


def conv_block(h, c_in, c_out, k, rng):
    """Conv2D (c_out kernels of c_in × 3 × 3, zeros around so the size stays) → ReLU → MaxPool2D 2."""
    # He initialisation: ReLU halves the variance, so the weights get variance 2/fan_in (fan_in = c_in·3·3).
    K = tg.Parameter(rng.normal(size=(c_out, c_in, 3, 3)) * np.sqrt(2 / (c_in * 9)), name=f"K{k}")
    b = tg.Parameter(np.zeros(c_out), name=f"b{k}")
    z = tg.Conv2D(h, K, b, padding=1, name=f"conv{k}")  # each output pixel: Σ over a 3×3 patch of every channel
    return tg.MaxPool2D(tg.ReLU(z, name=f"h{k}"), size=2, name=f"pool{k}")  # halves the height and the width


def build(seed=0):
    """Return the loss graph and the nodes x, t and z (the class scores)."""
    rng = np.random.default_rng(seed)
    x, t = tg.Input("x", shape=(1, 8, 8)), tg.Input("t", shape=())  # an image; its digit, a class index
    h = conv_block(x, 1, 16, 1, rng)  # (16, 4, 4): 16 feature maps
    h = conv_block(h, 16, 32, 2, rng)  # (32, 2, 2)
    flat = tg.Flatten(h, name="flat")  # (128,): the maps as one vector, for the dense layer
    W = tg.Parameter(rng.normal(size=(flat.shape[0], 10)) / np.sqrt(flat.shape[0]), name="W")
    z = tg.WeightedSum(flat, W, tg.Parameter(np.zeros(10), name="c"), name="z")  # 10 class scores
    return tg.Graph(tg.SoftmaxCrossEntropy(z, t, name="E")), x, t, z


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 epochs instead of 20")
    parser.add_argument("--seed", type=int, default=0, help="seeds the weights and the order (default 0)")
    args = parser.parse_args(argv)

    X, T = tg.datasets.digits(images=True)  # X (1797, 1, 8, 8) in [0, 1]; T the digits 0…9
    X_train, X_test, T_train, T_test = tg.datasets.train_test_split(X, T, test=0.25, seed=0)
    graph, x, t, z = build(args.seed)
    weights = sum(p.value.size for p in graph.parameters())
    print(f"{len(graph.nodes)} nodes, {weights} weights; {len(X_train)} training and {len(X_test)} test images")

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
