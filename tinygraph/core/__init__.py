"""The engine: nodes state their mathematics once; a Graph orders them and runs the chain rule.

What this package imports here is its public API (the names ``tinygraph`` takes from it).
"""

from .activations import Elementwise, Logistic, ReLU, Step, Tanh
from .adaptive import Adam, RMSProp
from .combine import Add, Concat, Mean, Multiply, Scale, Slice, Sum
from .conv import Conv2D
from .dropout import Dropout
from .elementary import Abs, Divide, Exp, LeakyReLU, Log, Negate, Power, Square, Subtract
from .graph import Graph, graph_of
from .leaves import Constant, Input, Parameter
from .losses import LogLoss, Loss, SoftmaxCrossEntropy, SquaredLoss
from .node import Node, kept
from .ops import AppendOne, Softmax, WeightedSum
from .optim import SGD, as_optimizer, of_graph
from .plan import topological_order
from .pooling import AvgPool2D, MaxPool2D
from .reshape import Flatten, Reshape
