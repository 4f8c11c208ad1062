"""Regenerate the README's diagrams in docs/: python docs/make_diagrams.py (needs Graphviz).

They are the diagrams `tinygraph demo` writes after training, copied: the XOR network of the demo,
trained on its defaults, on the demo's sample x = [0, 1], t = 1 (tests/test_stumbles.py checks that
the pictures and the demo agree).
"""

import contextlib
import io
import tempfile
from pathlib import Path

import tinygraph as tg
from tinygraph.cli import main as tinygraph

HERE = Path(__file__).resolve().parent


def main():
    if HERE.parent not in Path(tg.__file__).resolve().parents:  # (pictures of another copy would be wrong)
        raise SystemExit(f"this draws with {tg.__file__}: install this folder's tinygraph (pip install -e .)")
    with tempfile.TemporaryDirectory() as tmp:  # the demo also writes .dot sources and a trace: keep the SVGs
        with contextlib.redirect_stdout(io.StringIO()) as said:
            code = tinygraph(["demo", "--dataset", "xor", "--out", tmp])
        if code != 0 or not (Path(tmp) / "graph_after.svg").exists():
            raise SystemExit(f"tinygraph demo did not draw the diagrams (exit {code}):\n{said.getvalue()}")
        for view in ("graph", "network"):
            svg = (Path(tmp) / f"{view}_after.svg").read_bytes()
            (HERE / f"xor_{view}.svg").write_bytes(svg)
            print(f"docs/xor_{view}.svg: {len(svg) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
