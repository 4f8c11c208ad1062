"""Teaching: diagrams of a graph, the step-by-step trace, and its HTML stepper."""

from .diagrams import render, to_dot
from .drawing import GraphvizNotFound, dot_available
from .tracing import Trace, TraceStep, trace

__all__ = ["render", "to_dot", "GraphvizNotFound", "dot_available", "Trace", "TraceStep", "trace"]
