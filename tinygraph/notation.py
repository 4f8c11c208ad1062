"""The notation the nodes' own text is written in: symbols replaced by names and numbers, elements named.

Shared by the nodes (``scalars``) and the trace's words, so that both put names and numbers into a
node's text the same way.
"""

from __future__ import annotations

import re


def element(name: str, index: tuple) -> str:
    """Name one element of a node's value: ``W1[0,1]``; the name itself for a number (index ``()``)."""
    return f"{name}[{','.join(map(str, index))}]" if index else name


def substitute(text: str, mapping: dict[str, str]) -> str:
    r"""Return ``text`` with each symbol (a whole word of letters and digits) replaced from ``mapping``.

    A symbol right after a digit is replaced too (``2z``); one after a letter, ``_`` or ``\`` is not.

    >>> substitute("y = σ(z) = 1/(1 + e^(−z))", {"y": "h", "z": "z1"})
    'h = σ(z1) = 1/(1 + e^(−z1))'
    """
    symbols = sorted((s for s in mapping if s), key=len, reverse=True)
    if not symbols:
        return text
    pattern = re.compile(r"(?<![A-Za-z_\\])(" + "|".join(map(re.escape, symbols)) + r")(?![A-Za-z0-9])")
    return pattern.sub(lambda m: mapping[m.group(1)], text)


def put_number(text: str, symbol: str, number: str) -> str:
    """Put a formatted number in for ``symbol``; a negative one in parentheses, but never two: σ(-0.5), e^(−(-0.5)).

    >>> put_number("σ(z) = 1/(1 + e^(−z))", "z", "-0.5")
    'σ(-0.5) = 1/(1 + e^(−(-0.5)))'
    """
    if not number.startswith("-"):
        return substitute(text, {symbol: number})
    return substitute(text, {symbol: f"({number})"}).replace(f"(({number}))", f"({number})")
