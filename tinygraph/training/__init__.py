"""Training: the fit loop, layers and networks built from nodes, saving and loading."""

from .fit import fit
from .layers import Layer, Network, dense, mlp
from .saving import load, load_parameters, save

__all__ = ["fit", "Layer", "Network", "dense", "mlp", "load", "load_parameters", "save"]
