"""Training: the fit loop, layers and networks built from nodes, saving and loading."""

from .cnn import digits_cnn
from .layers import Layer, Network, dense, mlp
from .loop import fit
from .saving import load, load_parameters, save

__all__ = ["fit", "Layer", "Network", "dense", "mlp", "digits_cnn", "load", "load_parameters", "save"]
