"""Reading and writing ``.npz`` files: atomic writes, eager reads, never pickle."""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any

import numpy as np

from ..errors import GraphError


def path_of(path: Any, what: str) -> str:
    """``path`` as a str, or a TypeError naming ``what``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what}: path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def write_npz(path: str, arrays: dict, what: str) -> None:
    """Write ``arrays`` to ``path`` atomically: a temporary file, flushed, then renamed."""
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "xb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the rename makes them visible
        os.replace(tmp, path)  # atomic: readers see the old file or the new one, never half
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise GraphError(f"{what}: cannot write '{path}': {exc.strerror or exc}") from exc
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    """Make the rename itself durable (POSIX; a no-op where folders cannot be opened)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_npz(path: Any, what: str) -> dict[str, np.ndarray]:
    """Every array in the ``.npz`` file at ``path``, read eagerly, never unpickling."""
    path = path_of(path, what)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
    except OSError as exc:
        raise GraphError(f"{what}: cannot read '{path}': {exc.strerror or exc}") from exc
    if not magic.startswith(b"PK"):
        kind = (
            "a single .npy array"
            if magic.startswith(b"\x93NUMPY")
            else "pickled Python objects, which tinygraph never loads"
            if magic[:1] == b"\x80"
            else "an empty file"
            if not magic
            else "something else"
        )
        raise GraphError(f"{what}: '{path}' is not an .npz file saved by tinygraph: it holds {kind}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except Exception as exc:  # zipfile, zlib, numpy-format and OS errors alike: a bad file
        reason = (
            "it holds pickled (object) arrays, which tinygraph never loads"
            if "allow_pickle" in str(exc)
            else f"it is truncated or corrupt ({exc})"
        )
        raise GraphError(f"{what}: cannot load '{path}': {reason}") from exc
