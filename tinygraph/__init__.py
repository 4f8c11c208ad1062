"""tinygraph: compose neural networks node by node, see them as diagrams, learn backprop.

Every node carries its own forward formula and hand-derived derivative; a Graph
orders the nodes once and applies the chain rule in reverse.  No autograd.

The public names, by what they are for:

- leaves: ``Input``, ``Parameter``, ``Constant``
- nodes: ``WeightedSum``, ``AppendOne``, ``Logistic``, ``Step``, ``Tanh``, ``ReLU``,
  ``Softmax``; ``Add``, ``Multiply``, ``Concat``, ``Slice``, ``Sum``, ``Mean``, ``Scale``; ``Dropout``
- convolution and pooling: ``Conv2D``, ``MaxPool2D``, ``AvgPool2D``, ``Flatten``, ``Reshape``
- elementary operations: ``Subtract``, ``Divide``, ``Negate``, ``Square``, ``Power``, ``Exp``,
  ``Log``, ``Abs``, ``LeakyReLU`` (and Python's ``+ - * / **`` on nodes build them)
- losses: ``SquaredLoss``, ``LogLoss``, ``SoftmaxCrossEntropy``
- your own nodes: ``Node``, ``Elementwise``, ``Loss``; ``check_node``
- the engine: ``Graph``, ``topological_order``, ``GraphError``
- training: ``SGD``, ``Adam``, ``RMSProp``, ``fit``, ``dense``, ``mlp``, ``Network``, ``Layer``;
  ``digits_cnn`` (a small CNN, built node by node)
- checking: ``gradcheck``, ``check_node``, ``GradcheckReport``
- seeing: ``render``, ``to_dot``, ``dot_available``, ``GraphvizNotFound``, ``trace``,
  ``Trace``, ``TraceStep``
- saving: ``save``, ``load``, ``load_parameters``
- modules: ``datasets`` (small data sets), ``plot`` (matplotlib plots)

Examples
--------
>>> import tinygraph as tg
>>> net = tg.mlp([2, 2, 1], seed=0)
>>> net.graph
Graph(SquaredLoss('E'), Logistic('o'); 11 nodes, 4 parameters)
"""

from . import datasets, plot
from .core import (
    SGD,
    Abs,
    Adam,
    Add,
    AppendOne,
    AvgPool2D,
    Concat,
    Constant,
    Conv2D,
    Divide,
    Dropout,
    Elementwise,
    Exp,
    Flatten,
    Graph,
    Input,
    LeakyReLU,
    Log,
    Logistic,
    LogLoss,
    Loss,
    MaxPool2D,
    Mean,
    Multiply,
    Negate,
    Node,
    Parameter,
    Power,
    ReLU,
    Reshape,
    RMSProp,
    Scale,
    Slice,
    Softmax,
    SoftmaxCrossEntropy,
    Square,
    SquaredLoss,
    Step,
    Subtract,
    Sum,
    Tanh,
    WeightedSum,
    topological_order,
)
from .errors import GraphError
from .finite_differences import GradcheckReport, check_node, gradcheck
from .teaching import GraphvizNotFound, Recording, Snapshot, Trace, TraceStep, dot_available, render, to_dot, trace
from .training import Layer, Network, dense, digits_cnn, fit, load, load_parameters, mlp, save
from .version import __version__

__all__ = [
    "GraphError",
    "Node",
    "Input",
    "Parameter",
    "Constant",
    "WeightedSum",
    "AppendOne",
    "Elementwise",
    "Logistic",
    "Step",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Softmax",
    "Add",
    "Multiply",
    "Concat",
    "Slice",
    "Sum",
    "Mean",
    "Scale",
    "Subtract",
    "Divide",
    "Negate",
    "Square",
    "Power",
    "Exp",
    "Log",
    "Abs",
    "Dropout",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "Reshape",
    "Loss",
    "SquaredLoss",
    "LogLoss",
    "SoftmaxCrossEntropy",
    "Graph",
    "topological_order",
    "SGD",
    "Adam",
    "RMSProp",
    "fit",
    "dense",
    "mlp",
    "digits_cnn",
    "Network",
    "Layer",
    "gradcheck",
    "check_node",
    "GradcheckReport",
    "datasets",
    "__version__",
    "render",
    "to_dot",
    "dot_available",
    "GraphvizNotFound",
    "trace",
    "Trace",
    "TraceStep",
    "Recording",
    "Snapshot",
    "save",
    "load",
    "load_parameters",
    "plot",
]
