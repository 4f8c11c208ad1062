"""A graph's mode: training or evaluating, and how many passes it has run in training."""

from __future__ import annotations


class Mode:
    """Whether a graph is training, and the number of its forward passes in training so far.

    A graph owns one (``graph.mode``); the nodes that behave differently in training
    (``Dropout``) read it as an attribute the graph gives them to keep (``reads_mode``
    on the node class), so that two graphs sharing a node each keep their own mode.

    Attributes
    ----------
    training : bool
        True in training (the default), False when evaluating.
    step : int
        How many forward passes the graph has run in training, the one running now included
        (a pass whose feed is refused is not counted): a Dropout draws the mask of pass k
        (k = 1, 2, …) from its seed and k.

    Examples
    --------
    >>> import tinygraph as tg
    >>> graph = tg.Graph(tg.Parameter(1.0, name="w"))
    >>> graph.mode
    Mode(training=True, step=0)
    >>> graph.eval().mode
    Mode(training=False, step=0)
    """

    __slots__ = ("training", "step")

    def __init__(self, training: bool = True, step: int = 0) -> None:
        self.training, self.step = training, step

    def __repr__(self) -> str:
        """Return ``Mode(training=…, step=…)``."""
        return f"Mode(training={self.training}, step={self.step})"
