"""The one exception tinygraph raises for problems with a graph or its data."""


class GraphError(ValueError):
    """A structural, shape or data problem, raised before anything is modified.

    The message names the node (by kind and name), what was expected and what
    was received, e.g. ``WeightedSum 'z1': x has 4 features but w expects 3``.
    """
