"""tinygraph: compose neural networks node by node, see them as diagrams, learn backprop.

Every node carries its own forward formula and hand-derived derivative; a Graph
orders the nodes once and applies the chain rule in reverse.  No autograd.

>>> import tinygraph as tg
>>> net = tg.mlp([2, 2, 1], seed=0)
>>> net.graph
Graph(SquaredLoss('E'), Logistic('o'); 11 nodes, 4 parameters)
"""

from . import datasets, plot
from .errors import GraphError
from .gradcheck import GradcheckReport, check_node, gradcheck
from .graph import Graph, topological_order
from .io import load, load_parameters, save
from .layers import Layer, Network, dense, mlp
from .losses import LogLoss, SoftmaxCrossEntropy, SquaredLoss
from .node import Constant, Input, Node, Parameter
from .ops import AppendOne, Logistic, ReLU, Softmax, Step, Tanh, WeightedSum
from .optim import SGD
from .diagrams import GraphvizNotFound, dot_available, render, to_dot
from .structure import Add, Concat, Mean, Multiply, Scale, Slice, Sum
from .tracing import Trace, TraceStep, trace
from .training import fit

__version__ = "0.1.0"

__all__ = [
    "GraphError", "Node", "Input", "Parameter", "Constant",
    "WeightedSum", "AppendOne", "Logistic", "Step", "Tanh", "ReLU", "Softmax",
    "Add", "Multiply", "Concat", "Slice", "Sum", "Mean", "Scale",
    "SquaredLoss", "LogLoss", "SoftmaxCrossEntropy",
    "Graph", "topological_order", "SGD", "fit", "dense", "mlp", "Network", "Layer",
    "gradcheck", "check_node", "GradcheckReport", "datasets", "__version__",
    "render", "to_dot", "dot_available", "GraphvizNotFound",
    "trace", "Trace", "TraceStep", "save", "load", "load_parameters", "plot",
]
