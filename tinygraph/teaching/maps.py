"""Feature maps inside a diagram's node: an image stack (C, H, W) as small heat maps, a table cell a pixel.

The graph view draws the value of a node whose samples are image stacks (an image Input
``(1, 8, 8)``, a convolution's or a pooling's output) as its maps, one sample's (the
first of a batch), because a feature map is easier to look at than to read.  It decides
from the per-sample shape alone (three axes: channels, height, width), never from the
node's class, so a node of one's own that makes images is drawn the same way.

The maps are a Graphviz HTML-like table with one cell per pixel, so they look the same in
PNG, SVG and the HTML stepper, with no image files.  One colour scale per node, shared by
its maps so that they can be compared: white is exactly 0, blue positive, red negative
(the network view's colours for weights), in ``LEVELS`` steps of |value| up to the
largest |value| of the sample, which gets the darkest colour.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .words import number

MAX_CHANNELS = 16  # more maps than this: none are drawn (a line says why)
MAX_PIXELS = 4096  # the most cells a node draws in all: larger maps are averaged in blocks
MAP_POINTS = 48  # the side of a map, in points (1/72 inch), before rounding to whole points per pixel
LEVELS = 8  # colour steps of |value| on each side of 0
BLANK = "#ffffff"  # exactly 0
UNKNOWN = "#9ca3af"  # nan or inf

# The colour ramps, from the lightest step to the darkest, through a middle colour.
_POSITIVE = ((0xDE, 0xEB, 0xF7), (0x42, 0x92, 0xC6), (0x08, 0x30, 0x6B))  # blue: value > 0
_NEGATIVE = ((0xFE, 0xE0, 0xD2), (0xEF, 0x3B, 0x2C), (0x67, 0x00, 0x0D))  # red: value < 0

LEGEND = (
    "maps: the channels of sample 0, row by row; one colour scale per node: white = 0, "
    "blue > 0, red < 0, darkest = the largest |value| drawn in the node"
)


def _ramp(anchors: tuple) -> list[str]:
    """Return ``LEVELS`` colours from the first anchor through the middle one to the last."""
    out = []
    for k in range(LEVELS):
        t = 2 * k / (LEVELS - 1)
        a, b = (anchors[0], anchors[1]) if t <= 1 else (anchors[1], anchors[2])
        t = t if t <= 1 else t - 1
        out.append("#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b)))
    return out


POSITIVE_SCALE, NEGATIVE_SCALE = _ramp(_POSITIVE), _ramp(_NEGATIVE)
_TABLE = np.array([BLANK] + POSITIVE_SCALE + NEGATIVE_SCALE + [UNKNOWN])  # a colour by index: see colours


def is_stack(shape: tuple[int, ...] | None) -> bool:
    """Tell whether a per-sample shape is an image stack (channels, height, width) the graph view draws as maps."""
    return shape is not None and len(shape) == 3 and all(n > 0 for n in shape)


def colours(stack: Any, top: float | None = None) -> np.ndarray:
    """Return each pixel's colour (``#rrggbb``): |value| in ``LEVELS`` steps up to ``top``, the darkest.

    ``top`` is the largest |value| of the stack unless given; only exact 0 is white.

    Examples
    --------
    >>> colours([[[0.0, 1.0, -0.5]]]).tolist()
    [[['#ffffff', '#08306b', '#f15344']]]
    """
    a = np.asarray(stack, dtype=float)
    finite = np.isfinite(a)
    if top is None:
        top = float(np.abs(a[finite]).max()) if finite.any() else 0.0
    level = np.zeros(a.shape, dtype=int)
    if top > 0:
        level[finite] = np.clip(np.ceil(np.abs(a[finite]) / top * LEVELS), 0, LEVELS).astype(int)
    index = np.where(a < 0, LEVELS + level, level)
    return _TABLE[np.where(finite, index, 2 * LEVELS + 1)]


def _shrink(stack: np.ndarray) -> tuple[np.ndarray, int]:
    """Average the maps in k×k blocks, k the smallest that keeps the node within MAX_PIXELS; return them and k."""
    c, h, w = stack.shape
    k = 1
    while c * math.ceil(h / k) * math.ceil(w / k) > MAX_PIXELS:
        k += 1
    if k == 1:
        return stack, 1
    rows, cols = np.arange(0, h, k), np.arange(0, w, k)
    sums = np.add.reduceat(np.add.reduceat(stack, rows, axis=1), cols, axis=2)
    counts = np.outer(np.diff(np.append(rows, h)), np.diff(np.append(cols, w)))
    return sums / counts, k


def _map(pixels: np.ndarray, cell: int) -> str:
    """One map: a table of one cell per pixel (the size set on the first row and column), white left blank."""
    rows = []
    for i, line in enumerate(pixels):
        cells = []
        for j, colour in enumerate(line):
            size = (f' WIDTH="{cell}"' if i == 0 else "") + (f' HEIGHT="{cell}"' if j == 0 else "")
            fill = "" if colour == BLANK else f' BGCOLOR="{colour}"'
            cells.append(f"<TD{fill}{size}></TD>")  # (empty, unpadded: the size of its row and column)
        rows.append(f"<TR>{''.join(cells)}</TR>")
    h, w = pixels.shape
    return (
        f'<TABLE BORDER="1" COLOR="#9ca3af" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0" BGCOLOR="white" '
        f'WIDTH="{w * cell + 2}" HEIGHT="{h * cell + 2}" FIXEDSIZE="TRUE">{"".join(rows)}</TABLE>'
    )  # (fixed: a wider node does not stretch the pixels)


def _range(a: np.ndarray) -> tuple[float, float]:
    """Return the smallest and largest finite numbers of ``a`` (0, 0 if it has none)."""
    finite = a[np.isfinite(a)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)


def _scale(stack: np.ndarray, shown: np.ndarray, precision: int, k: int) -> str:
    """Write the sample's min and max and the node's colour scale: a strip of its colours, its ends labelled.

    The ends are ±the largest |value| drawn (of the block averages, when the maps are shrunk).
    """
    (lowest, highest), (low, high) = _range(stack), _range(shown)
    top = max(-low, high)
    small = '<FONT POINT-SIZE="8" COLOR="#555555">{}</FONT>'
    strip = (NEGATIVE_SCALE[::-1] if low < 0 else []) + [BLANK] + (POSITIVE_SCALE if high > 0 else [])
    steps = "".join(f'<TD BGCOLOR="{c}" WIDTH="6" HEIGHT="8"></TD>' for c in strip)
    ends = [number(-top if low < 0 else 0, precision), number(top, precision) if high > 0 else ""]
    what = f"sample 0: min {number(lowest, precision)}, max {number(highest, precision)}"
    what += f"; averaged in {k}×{k} blocks" if k > 1 else ""
    return (
        f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD COLSPAN="3">{small.format(what)}</TD></TR>'
        f'<TR><TD ALIGN="RIGHT">{small.format(ends[0])}&#160;</TD>'
        f'<TD><TABLE BORDER="1" COLOR="#9ca3af" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0" '
        f"><TR>{steps}</TR></TABLE></TD>"
        f'<TD ALIGN="LEFT">&#160;{small.format(ends[1])}</TD></TR></TABLE>'
    )


def maps_label(stack: Any, precision: int = 3) -> str:
    """Return the HTML-like label of one sample's image stack (C, H, W): its maps and its colour scale.

    Up to ``MAX_CHANNELS`` maps, about 4 to a row; a stack of more channels gets a line saying
    that its maps are not drawn.

    Parameters
    ----------
    stack : array_like of shape (C, H, W)
        One sample's value.
    precision : int, optional
        Significant digits of the numbers shown, 3 by default.

    Returns
    -------
    str
        An HTML-like table, to put in a cell of a node's label.

    Examples
    --------
    One map of 2×2 pixels: 2 is the darkest blue, the pixel 0 white (no colour of its own):

    >>> label = maps_label([[[0.0, 2.0], [-1.0, 0.5]]])
    >>> label.split("</TABLE>")[0].count("<TD"), label.count('BGCOLOR="#08306b"')  # (and once in the scale)
    (5, 2)
    >>> "sample 0: min -1, max 2" in label
    True
    """
    a = np.asarray(stack, dtype=float)
    if a.ndim != 3 or not a.size:
        return ""
    if a.shape[0] > MAX_CHANNELS:
        return (
            f'<FONT POINT-SIZE="8" COLOR="#555555">{a.shape[0]} maps: too many to draw (at most {MAX_CHANNELS})</FONT>'
        )
    shown, k = _shrink(a)
    pixels = colours(shown)
    cell = min(16, max(1, round(MAP_POINTS / max(shown.shape[1:]))))  # (points a pixel: small maps, big pixels)
    maps = [_map(p, cell) for p in pixels]
    rows = math.ceil(len(maps) / 4)
    per_row = math.ceil(len(maps) / rows)
    grid = "".join(
        f"<TR>{''.join(f'<TD>{m}</TD>' for m in maps[i : i + per_row])}</TR>" for i in range(0, len(maps), per_row)
    )
    return (
        f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="0">{grid}'
        f'<TR><TD COLSPAN="{per_row}">{_scale(a, shown, precision, k)}</TD></TR></TABLE>'
    )
