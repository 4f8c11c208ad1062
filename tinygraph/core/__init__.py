"""The engine: nodes state their mathematics once; a Graph orders them and runs the chain rule."""

from . import combine  # noqa: F401  (registers Python's operators on nodes)
from .activations import Elementwise, Logistic, ReLU, Step, Tanh
from .combine import Add, Concat, Mean, Multiply, Scale, Slice, Sum
from .graph import Graph, graph_of
from .leaves import Constant, Input, Parameter
from .losses import LogLoss, Loss, SoftmaxCrossEntropy, SquaredLoss
from .node import Node, kept
from .ops import AppendOne, Softmax, WeightedSum
from .optim import SGD, as_optimizer
from .plan import topological_order

__all__ = [
    "Node",
    "kept",
    "Input",
    "Parameter",
    "Constant",
    "WeightedSum",
    "AppendOne",
    "Softmax",
    "Elementwise",
    "Logistic",
    "Step",
    "Tanh",
    "ReLU",
    "Add",
    "Multiply",
    "Concat",
    "Slice",
    "Sum",
    "Mean",
    "Scale",
    "Loss",
    "SquaredLoss",
    "LogLoss",
    "SoftmaxCrossEntropy",
    "Graph",
    "graph_of",
    "topological_order",
    "SGD",
    "as_optimizer",
]
