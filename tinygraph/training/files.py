"""Reading and writing ``.npz`` files: atomic writes, eager reads, never pickle; an optimizer's state in them."""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
import zipfile
from typing import Any

import numpy as np

from ..checks import shown
from ..errors import GraphError

MAX_MEMBERS = 100_000  # arrays in one file
MAX_NDIM = 32  # dimensions of one array
MAX_NAME_BYTES = 1000  # a key in UTF-8 (a zip member's name may have 65,535)


def path_of(path: Any, what: str) -> str:
    """Return ``path`` as a str, or raise a TypeError naming ``what``."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what}: path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fspath(path)


def write_npz(path: str, arrays: dict, what: str) -> None:
    """Write ``arrays`` to ``path`` atomically: a temporary file, flushed, then renamed.

    Parameters
    ----------
    path : str
        The file to write (or replace).
    arrays : dict
        The arrays to store, by key (checked beforehand with ``name_problem``).
    what : str
        Who writes, for the message: ``"save"``.

    Raises
    ------
    tinygraph.GraphError
        If the file cannot be written (the temporary file is removed, ``path`` untouched).
    """
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


def json_of(text: np.ndarray) -> Any:
    """Return what a 0-d text array of a file holds, read as JSON; None if it is not one text.

    tinygraph stores its descriptions (an architecture, an optimizer's numbers, a checkpoint's
    state) so: ``np.array(json.dumps(...))``.  Text that is not JSON raises a ValueError.
    """
    return json.loads(str(text)) if text.dtype.kind == "U" and text.ndim == 0 else None


def pack_optimizer_state(state: dict, prefix: str) -> tuple[dict, dict]:
    """Split an optimizer's ``state_dict()`` for an ``.npz`` file: ``(arrays, numbers)``.

    ``arrays`` holds its arrays under ``prefix`` + key (``"optimizer/m/0"``), ``numbers`` the
    rest (the class name, the settings, the counts), for the file's JSON text.
    ``unpack_optimizer_state`` puts the two together again.
    """
    arrays = {prefix + k: v for k, v in state.items() if isinstance(v, np.ndarray)}
    return arrays, {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}


def unpack_optimizer_state(optimizer: Any, numbers: Any, arrays: dict, prefix: str, path: Any, what: str) -> None:
    """Put a state that ``pack_optimizer_state`` split back into ``optimizer``, or change nothing.

    ``numbers`` is what the file's JSON holds, ``arrays`` the file's arrays, of which those
    under ``prefix`` are the state's.  ``optimizer.load_state_dict`` checks all of it before
    it changes anything; what it refuses is a GraphError naming ``what`` and ``path``.
    """
    state = numbers
    if isinstance(numbers, dict):  # (anything else is refused by load_state_dict, with its reason)
        state = {**numbers, **{k.removeprefix(prefix): v for k, v in arrays.items() if k.startswith(prefix)}}
    try:
        optimizer.load_state_dict(state)
    except (GraphError, TypeError) as exc:
        raise GraphError(
            f"{what}: '{path}' holds an optimizer state that does not fit this optimizer (nothing was changed): {exc}"
        ) from None


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
    """Every array in the ``.npz`` file at ``path``, read eagerly, never unpickling.

    A file from elsewhere is untrusted, so every member is checked before anything is read:
    at most ``MAX_MEMBERS`` members, each a ``.npy`` array whose key is a name tinygraph writes
    (see ``name_problem``), of a number dtype (or text, for tinygraph's own descriptions), with at
    most ``MAX_NDIM`` dimensions; and all their bytes together no more than the file's own size
    (tinygraph writes uncompressed files).  Reading one therefore costs no more memory than the
    file.  Anything else is a GraphError that says what the file holds.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read.
    what : str
        Who reads, for the message: ``"load"``.

    Returns
    -------
    dict of str to numpy.ndarray
        Every array of the file, by key.

    Raises
    ------
    TypeError
        If ``path`` is not a str or os.PathLike.
    tinygraph.GraphError
        If the file cannot be read, is not a zip (a single ``.npy``, a pickle, empty …),
        holds a member tinygraph does not read, or is truncated or corrupt.
    """
    path = path_of(path, what)
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        size = os.path.getsize(path)
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
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise _Refused(f"it has {len(members)} members, more than the {MAX_MEMBERS} a file may hold")
            headers, budget = {}, size
            for info in members:
                key, header = _member(archive, info)
                if key in headers:
                    raise _Refused(f"it holds '{key}' twice")
                budget -= header[2]
                if budget < 0:
                    raise _Refused("its arrays claim more bytes than the file holds")
                headers[key] = info
            out = {}
            for key, info in headers.items():
                with archive.open(info) as f:
                    out[key] = np.lib.format.read_array(f, allow_pickle=False)
            return out
    except _Refused as exc:
        raise GraphError(f"{what}: cannot load '{path}': {exc}") from None
    except Exception as exc:  # zipfile, zlib, numpy-format and OS errors alike: a bad file
        raise GraphError(f"{what}: cannot load '{path}': it is truncated or corrupt ({exc})") from exc


class _Refused(Exception):
    """A member of an .npz file that tinygraph does not read."""


def _member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[str, tuple]:
    """(key, (shape, dtype, nbytes)) of one member, from its header alone."""
    name = info.filename
    key = name[: -len(".npy")]
    if not name.endswith(".npy") or name_problem(key):
        raise _Refused(f"it holds a member {shown(name)}, which is not an array tinygraph writes")
    with archive.open(info) as f:
        version = np.lib.format.read_magic(f)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = read(f)
    if dtype.hasobject:
        raise _Refused(f"'{key}' holds pickled (object) arrays, which tinygraph never loads")
    if dtype.kind not in "biufcU" or dtype.fields is not None or dtype.subdtype is not None:
        raise _Refused(f"'{key}' holds values of dtype {dtype}, not numbers or text")
    if len(shape) > MAX_NDIM:
        raise _Refused(f"'{key}' has {len(shape)} dimensions, more than {MAX_NDIM}")
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes > info.file_size:
        raise _Refused(f"'{key}' claims {nbytes} bytes of data but its member holds {info.file_size}")
    return key, (shape, dtype, nbytes)


def name_problem(name: Any) -> str | None:
    """Why ``name`` cannot be the key of an array in an .npz file, or None if it can.

    A key is a non-empty str of at most ``MAX_NAME_BYTES`` bytes in UTF-8, without NUL or
    other control characters, and not ``file`` or ``allow_pickle`` (np.savez's own options).
    """
    if not isinstance(name, str):
        return f"it is a {type(name).__name__}, not a str"
    if not name:
        return "it is empty"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return "it is not valid Unicode text"
    if not name.isprintable():
        return "it holds a NUL, a newline or another control character, which a file member cannot hold"
    if size > MAX_NAME_BYTES:
        return f"it is {size} bytes long in UTF-8, more than the {MAX_NAME_BYTES} a file member may have"
    if name in ("file", "allow_pickle"):
        return "np.savez reserves it"
    return None
