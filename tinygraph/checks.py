"""Checks of the arguments every entry point takes: each names the argument, what it expected, what it got.

Every public function checks all its arguments with these before it changes anything.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np

from .errors import GraphError

MAX_ELEMENTS = 10**8  # the most numbers one array made from a size argument may hold (800 MB of float64)


def shown(value: Any) -> str:
    """Return ``repr(value)``, cut short (to 80 characters) when long."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def whole(what: str, value: Any, low: int = 1, high: int | None = None) -> int:
    """Return ``value`` as an int in [low, high]: a Python or numpy integer, never a bool or a float.

    Parameters
    ----------
    what : str
        What the value is, for the message: ``"fit: epochs"``.
    value : object
        The argument to check.
    low : int, optional
        The least value allowed, 1 by default.
    high : int, optional
        The greatest value allowed; None (the default) for no bound.

    Returns
    -------
    int
        The value, as a Python int.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (a bool or a float is not).
    tinygraph.GraphError
        If it lies outside [low, high].

    Examples
    --------
    >>> whole("fit: epochs", 3)
    3
    >>> whole("fit: epochs", 0)
    Traceback (most recent call last):
    ...
    tinygraph.errors.GraphError: fit: epochs must be a whole number >= 1, got 0
    """
    if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a whole number, got {type(value).__name__} {shown(value)}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"from {low} to {high}"
        raise GraphError(f"{what} must be a whole number {bound}, got {shown(value)}")
    return int(value)


def number(what: str, value: Any, low: float = -math.inf, high: float = math.inf, strict: str = "") -> float:
    """Return ``value`` as a finite float in the range; ``strict`` holds "low" and/or "high" for open ends.

    Parameters
    ----------
    what : str
        What the value is, for the message: ``"SGD: lr"``.
    value : object
        The argument to check.
    low : float, optional
        The lower bound, included unless ``strict`` names it; −inf by default.
    high : float, optional
        The upper bound, included unless ``strict`` names it; inf by default.
    strict : str, optional
        "low", "high" or both ("low high") for bounds that are excluded.

    Returns
    -------
    float
        The value, as a Python float.

    Raises
    ------
    TypeError
        If ``value`` is not a number (a bool is not).
    tinygraph.GraphError
        If it is nan or infinite, or outside the range.

    Examples
    --------
    >>> number("SGD: lr", 0.5, low=0, strict="low")
    0.5
    >>> number("SGD: lr", 0, low=0, strict="low")
    Traceback (most recent call last):
    ...
    tinygraph.errors.GraphError: SGD: lr must be a finite number > 0, got 0
    """
    if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a number, got {type(value).__name__} {shown(value)}")
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    below = x <= low if "low" in strict else x < low
    above = x >= high if "high" in strict else x > high
    if not math.isfinite(x) or below or above:
        lo = "" if low == -math.inf else f"{'>' if 'low' in strict else '>='} {low:g}"
        hi = "" if high == math.inf else f"{'<' if 'high' in strict else '<='} {high:g}"
        bound = " and ".join(b for b in (lo, hi) if b)
        raise GraphError(f"{what} must be a finite number{' ' + bound if bound else ''}, got {shown(value)}")
    return x


def flag(what: str, value: Any) -> bool:
    """Return ``value`` as True or False, or raise a TypeError naming ``what`` for anything else."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be True or False, got {type(value).__name__} {shown(value)}")
    return bool(value)


def seed(what: str, value: Any) -> int | None:
    """Return a seed for ``np.random.default_rng``: None or a whole number >= 0."""
    return None if value is None else whole(what, value, low=0)


def function(what: str, value: Any) -> Callable | None:
    """Return ``value`` if it is callable or None, else raise a TypeError naming ``what``."""
    if value is not None and not callable(value):
        raise TypeError(f"{what} must be callable or None, got {type(value).__name__}")
    return value


def size(what: str, shape: tuple) -> tuple:
    """Return ``shape`` if its array would hold at most MAX_ELEMENTS numbers, else raise a GraphError."""
    if math.prod(shape) > MAX_ELEMENTS:
        raise GraphError(f"{what}: {shape} would hold {math.prod(shape)} numbers, more than {MAX_ELEMENTS}")
    return shape


def output_path(what: str, path: Any, folder: bool = False) -> str:
    """Return a path to write a file (or, with ``folder``, a folder) at, as a str.

    It must be a str or os.PathLike, not an open file's number, not a folder (or, with
    ``folder``, a file), below no file; missing folders above it may be made.  Nothing is
    written: a TypeError or GraphError naming ``what`` says what is wrong.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what}: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str) or not path:
        raise TypeError(f"{what}: path must be a non-empty str, got {path!r}")
    if os.path.isdir(path) != folder and os.path.exists(path):
        kind, wanted = ("file", "folder") if folder else ("folder", "file")
        raise GraphError(f"{what}: '{path}' is a {kind}; give the path of a {wanted}")
    above = existing_above(path)
    if not os.path.isdir(above):
        raise GraphError(f"{what}: '{path}' lies below '{above}', which is a file")
    return path


def existing_above(path: str) -> str:
    """Return the nearest folder (or file) above ``path`` that exists: where its missing folders would be made."""
    above = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(above):
        above = os.path.dirname(above)
    return above


def takes_files(folder: str, what: str) -> str:
    """Return ``folder`` once it is known to take new files, else raise a GraphError: ``what``, then the reason.

    The one sure test is to make one (permissions, a read-only file system, a quota): a
    temporary file is made there and removed.
    """
    try:
        fd, probe = tempfile.mkstemp(prefix=".tinygraph-probe-", dir=folder)
        os.close(fd)
        os.remove(probe)
    except OSError as exc:
        raise GraphError(f"{what}: {exc.strerror or exc}") from exc
    return folder


def writable(what: str, path: Any) -> str:
    """Return ``output_path(what, path)`` once the folder it goes in takes new files (see ``takes_files``).

    A folder still to be made is probed where it would be made.  Nothing is left behind.
    """
    path = output_path(what, path)
    folder = path if os.path.isdir(path) else existing_above(path)
    takes_files(folder, f"{what}: cannot write '{path}' in the folder '{folder}'")
    return path


def write_text(path: str, text: str) -> str:
    """Write ``text`` to ``path``, making the folders above it; return it (check it first with ``output_path``)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
