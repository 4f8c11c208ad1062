"""The argument checks every entry point uses (tinygraph/checks.py): each names the argument."""

import math

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import checks


def test_whole_numbers_are_ints_in_range_never_bools_or_floats():
    assert checks.whole("n", np.int64(3)) == 3 and type(checks.whole("n", np.int64(3))) is int
    assert checks.whole("n", 0, low=0) == 0 and checks.whole("n", 5, high=5) == 5
    for bad, error, match in [
        (True, TypeError, "n must be a whole number, got bool True"),
        (2.0, TypeError, "n must be a whole number, got float 2.0"),
        ("3", TypeError, "n must be a whole number, got str '3'"),
        (0, tg.GraphError, "n must be a whole number >= 1, got 0"),
        (10**400, tg.GraphError, r"n must be a whole number from 1 to 9, got 1000.*\.\.\.$"),
    ]:
        with pytest.raises(error, match=match):
            checks.whole("n", bad, high=9 if bad == 10**400 else None)


def test_numbers_are_finite_and_inside_their_bounds():
    assert checks.number("lr", np.float32(0.5), low=0, strict="low") == 0.5
    assert checks.number("m", 0, low=0, high=1, strict="high") == 0.0
    for bad, error, match in [
        (math.nan, tg.GraphError, "lr must be a finite number > 0, got nan"),
        (math.inf, tg.GraphError, "lr must be a finite number > 0, got inf"),
        (10**400, tg.GraphError, "lr must be a finite number > 0, got 1000"),
        (0, tg.GraphError, "lr must be a finite number > 0, got 0"),
        (True, TypeError, "lr must be a number, got bool True"),
        (np.array([1.0]), TypeError, "lr must be a number, got ndarray"),
    ]:
        with pytest.raises(error, match=match):
            checks.number("lr", bad, low=0, strict="low")
    with pytest.raises(tg.GraphError, match=r"m must be a finite number >= 0 and < 1, got 1"):
        checks.number("m", 1, low=0, high=1, strict="high")


def test_flags_seeds_functions_and_sizes():
    assert checks.flag("f", np.bool_(True)) is True
    with pytest.raises(TypeError, match="f must be True or False, got ndarray"):
        checks.flag("f", np.array([True, False]))
    assert checks.seed("seed", None) is None and checks.seed("seed", np.uint32(7)) == 7
    with pytest.raises(tg.GraphError, match="seed must be a whole number >= 0, got -1"):
        checks.seed("seed", -1)
    assert checks.function("hook", print) is print and checks.function("hook", None) is None
    with pytest.raises(TypeError, match="hook must be callable or None, got int"):
        checks.function("hook", 5)
    assert checks.size("mlp", (1000, 1000)) == (1000, 1000)
    with pytest.raises(tg.GraphError, match=r"mlp: \(100000, 100000\) would hold 10000000000 numbers, more than 10+"):
        checks.size("mlp", (100_000, 100_000))


def test_output_paths_are_names_of_files_below_folders(tmp_path):
    (tmp_path / "a file").write_text("kept")
    (tmp_path / "a folder").mkdir()
    assert checks.output_path("w", tmp_path / "new" / "deeper" / "x.svg") == str(tmp_path / "new" / "deeper" / "x.svg")
    assert checks.output_path("w", tmp_path / "a folder", folder=True) == str(tmp_path / "a folder")
    for path, folder, error, match in [
        (3, False, TypeError, "w: path must be a str or os.PathLike, got int"),
        (tmp_path / "a folder", False, tg.GraphError, "is a folder; give the path of a file"),
        (tmp_path / "a file", True, tg.GraphError, "is a file; give the path of a folder"),
        (tmp_path / "a file" / "x.svg", False, tg.GraphError, "lies below '.*a file', which is a file"),
    ]:
        with pytest.raises(error, match=match):
            checks.output_path("w", path, folder=folder)
    assert (tmp_path / "a file").read_text() == "kept" and not (tmp_path / "new").exists()


def test_write_text_makes_the_folders_above_and_writes_the_text(tmp_path):
    from tinygraph.checks import write_text

    path = str(tmp_path / "a" / "b" / "page.html")
    assert write_text(path, "<p>é</p>") == path
    assert (tmp_path / "a" / "b" / "page.html").read_text(encoding="utf-8") == "<p>é</p>"


def test_takes_files_makes_and_removes_one_or_says_why_the_folder_takes_none(tmp_path, monkeypatch):
    import tempfile

    assert checks.takes_files(str(tmp_path), "w") == str(tmp_path)
    assert list(tmp_path.iterdir()) == []  # (the probe is gone)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "mkstemp", full)
    with pytest.raises(tg.GraphError, match="^w: cannot write here: No space left on device$"):
        checks.takes_files(str(tmp_path), "w: cannot write here")


def test_writable_probes_the_folder_a_file_goes_in_even_one_still_to_be_made(tmp_path, monkeypatch):
    import tempfile

    path = str(tmp_path / "new" / "page.html")
    assert checks.writable("w", path) == path
    assert list(tmp_path.iterdir()) == []  # (the folder is not made, the probe is gone)
    probed = []

    def read_only(*args, dir=None, **kwargs):
        probed.append(dir)
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(tempfile, "mkstemp", read_only)
    message = f"^w: cannot write '{path}' in the folder '{tmp_path}': Read-only file system$"
    with pytest.raises(tg.GraphError, match=message.replace("\\", "\\\\")):
        checks.writable("w", path)
    assert probed == [str(tmp_path)]  # (where "new" would be made)
    with pytest.raises(tg.GraphError, match="is a folder"):  # (output_path's own checks come first)
        checks.writable("w", str(tmp_path))
