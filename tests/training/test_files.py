"""Reading and writing .npz files (tinygraph/training/files.py): atomic writes, eager reads, never pickle."""

import os

import numpy as np
import pytest

import tinygraph as tg
from tinygraph.training.files import json_of, path_of, read_npz, write_npz


def test_a_round_trip_keeps_every_array_exactly(tmp_path):
    arrays = {"a": np.arange(6.0).reshape(2, 3), "b": np.float32([1.5]), "c": np.array("text")}
    write_npz(str(tmp_path / "f.npz"), arrays, "test")
    back = read_npz(tmp_path / "f.npz", "test")
    assert set(back) == set(arrays) and all(np.array_equal(back[k], v) for k, v in arrays.items())
    assert back["b"].dtype == np.float32
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]  # the temporary file is gone


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = str(tmp_path / "f.npz")
    write_npz(path, {"a": np.ones(2)}, "test")

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(tg.GraphError, match="test: cannot write .*No space left on device"):
        write_npz(path, {"a": np.zeros(2)}, "test")
    assert np.array_equal(read_npz(path, "test")["a"], np.ones(2)) and os.listdir(tmp_path) == ["f.npz"]


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "an empty file"),
        (b"\x93NUMPY...", "a single .npy array"),
        (b"\x80\x04...", "pickled Python objects"),
        (b"hello", "something else"),
    ],
)
def test_what_is_not_an_npz_is_named(tmp_path, content, reason):
    (tmp_path / "f.npz").write_bytes(content)
    with pytest.raises(tg.GraphError, match=f"is not an .npz file saved by tinygraph: it holds {reason}"):
        read_npz(tmp_path / "f.npz", "test")


def test_paths_are_strings_or_path_likes(tmp_path):
    assert path_of(tmp_path / "x", "what") == str(tmp_path / "x")
    with pytest.raises(TypeError, match="what: path must be a str or os.PathLike, got int"):
        path_of(3, "what")
    with pytest.raises(tg.GraphError, match="test: cannot read"):
        read_npz(tmp_path / "missing.npz", "test")


def _npy(header_shape, data=b"", dtype="<f8"):
    header = f"{{'descr': '{dtype}', 'fortran_order': False, 'shape': {header_shape}, }}"
    header += " " * (63 - len(header) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + data


@pytest.mark.parametrize(
    "members, reason",
    [
        ({"a.npy": _npy((10**12,), b"\0" * 80)}, "'a' claims 8000000000000 bytes of data but its member holds"),
        ({"a.npy": _npy((2,), b"\0" * 16), "b.txt": b"hello"}, "a member 'b.txt', which is not an array"),
        ({"a.npy": b"notanarray"}, "truncated or corrupt"),
        ({"a.npy": _npy((1,) * 40, b"\0" * 8)}, "'a' has 40 dimensions, more than 32"),
        ({"a.npy": _npy((2,), b"\0" * 8, "|V8")}, "'a' holds values of dtype .V8, not numbers or text"),
        ({"a.npy": _npy((2,), b"\0" * 3)}, "truncated or corrupt"),
    ],
)
def test_every_member_is_checked_before_anything_is_read(tmp_path, members, reason):
    import zipfile

    with zipfile.ZipFile(tmp_path / "f.npz", "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    with pytest.raises(tg.GraphError, match=f"test: cannot load '.*f.npz': .*{reason}"):
        read_npz(tmp_path / "f.npz", "test")


def test_a_member_twice_and_too_many_members_are_refused(tmp_path, monkeypatch):
    import zipfile

    from tinygraph.training import files

    with zipfile.ZipFile(tmp_path / "f.npz", "w") as z, pytest.warns(UserWarning, match="Duplicate name"):
        z.writestr("a.npy", _npy((1,), b"\0" * 8))
        z.writestr("a.npy", _npy((1,), b"\0" * 8))
    with pytest.raises(tg.GraphError, match="it holds 'a' twice"):
        read_npz(tmp_path / "f.npz", "test")
    monkeypatch.setattr(files, "MAX_MEMBERS", 1)
    write_npz(str(tmp_path / "g.npz"), {"a": np.ones(1), "b": np.ones(1)}, "test")
    with pytest.raises(tg.GraphError, match="it has 2 members, more than the 1 a file may hold"):
        read_npz(tmp_path / "g.npz", "test")


def test_json_of_reads_one_text_and_nothing_else(tmp_path):
    write_npz(str(tmp_path / "a.npz"), {"d": np.array('{"lr": 0.5, "t": [1, 2]}'), "n": np.array([1.0])}, "test")
    arrays = read_npz(tmp_path / "a.npz", "test")
    assert json_of(arrays["d"]) == {"lr": 0.5, "t": [1, 2]}
    assert json_of(arrays["n"]) is None  # numbers, not text
    assert json_of(np.array(["{}", "{}"])) is None  # texts, not one
    with pytest.raises(ValueError):
        json_of(np.array("{not json"))
