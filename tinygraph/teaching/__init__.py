"""Teaching: diagrams of a graph, the step-by-step trace and its HTML stepper, and training replays."""

from .diagrams import render, to_dot
from .drawing import GraphvizNotFound, dot_available
from .recording import Recording, Snapshot
from .tracing import Trace, TraceStep, trace

__all__ = [
    "render",
    "to_dot",
    "GraphvizNotFound",
    "dot_available",
    "Trace",
    "TraceStep",
    "trace",
    "Recording",
    "Snapshot",
]
