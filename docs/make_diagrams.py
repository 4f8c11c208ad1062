"""Regenerate the example diagrams in docs/: python docs/make_diagrams.py (needs Graphviz)."""

import tempfile
from pathlib import Path

import tinygraph as tg
from tinygraph import render

HERE = Path(__file__).resolve().parent


def main():
    # The XOR network of `tinygraph demo`, trained, then one forward and backward pass on x = [0, 1], t = 1.
    X, T = tg.datasets.xor()
    net = tg.mlp([2, 2, 1])
    net.fit(X, T, epochs=3000, lr=0.5, seed=0, progress=False)
    net.graph.forward({"x": X[1], "t": T[1:2]})
    net.graph.backward()
    title = "XOR network 2-2-1 after training: one sample x = [0, 1], target t = 1"
    with tempfile.TemporaryDirectory() as tmp:  # render also writes the .dot source; keep only the SVG
        for view in ("graph", "network"):
            render(net, Path(tmp) / view, view=view, title=title)
            svg = (Path(tmp) / f"{view}.svg").read_bytes()
            (HERE / f"xor_{view}.svg").write_bytes(svg)
            print(f"docs/xor_{view}.svg: {len(svg) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
