"""Every tutorial (docs/tutorials/*.py, jupytext percent format) runs top to bottom as a notebook.

The tutorials assert the engine against the hand derivation, so a broken engine fails them here.  Each is
executed with nbclient in a fresh kernel, in an empty folder, which it must leave empty.  They draw diagrams
(Graphviz's dot) and use matplotlib and scikit-learn, so they skip locally where those are missing and run
whenever CI is set.
"""

import importlib.util
import os
from pathlib import Path

import pytest

TUTORIALS = Path(__file__).resolve().parent.parent / "docs" / "tutorials"
EXPECTED = [
    "01_single_neuron.py",
    "02_perceptron.py",
    "03_hidden_layer.py",
    "04_deeper_networks.py",
    "05_your_own_node.py",
    "06_real_data.py",
]
NEEDED = ("jupytext", "nbclient", "ipykernel", "matplotlib", "sklearn")  # the test, plot and data extras
# What each page must show besides text: diagrams (a Graph or tg.render as SVG), the stepper of a
# tg.trace (HTML), matplotlib figures (PNG).
SHOWS = {
    "01_single_neuron.py": {"diagram", "figure"},
    "02_perceptron.py": {"diagram", "figure"},
    "03_hidden_layer.py": {"diagram", "stepper"},
    "04_deeper_networks.py": {"diagram", "figure"},
    "05_your_own_node.py": {"diagram", "stepper"},
    "06_real_data.py": {"figure"},
}


def shown(notebook):
    """What the executed notebook's outputs display."""
    out = set()
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if "<svg" in data.get("image/svg+xml", ""):
                out.add("diagram")
            if 'class="tg-stepper"' in data.get("text/html", ""):
                out.add("stepper")
            if "image/png" in data:
                out.add("figure")
    return out


def test_there_are_exactly_the_six_tutorials():
    assert sorted(p.name for p in TUTORIALS.glob("*.py")) == EXPECTED
    assert sorted(SHOWS) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_every_tutorial_is_a_jupytext_percent_notebook(name):
    text = (TUTORIALS / name).read_text(encoding="utf-8")
    assert text.startswith("# ---\n# jupyter:\n#   jupytext:\n#     formats: py:percent\n")
    assert "\n# %% [markdown]\n# # " in text  # it opens with a title cell
    assert "\n# %%\n" in text


@pytest.mark.graphviz
@pytest.mark.parametrize("name", EXPECTED)
def test_tutorial_runs(name, tmp_path):
    missing = [m for m in NEEDED if importlib.util.find_spec(m) is None]
    if missing and not os.environ.get("CI"):
        pytest.skip(f"needs {', '.join(missing)} (pip install '.[test,plot,data]')")
    import jupytext
    import nbclient

    notebook = jupytext.read(TUTORIALS / name)
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell raises
    errors = [o for cell in notebook.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert shown(notebook) >= SHOWS[name]
    assert list(tmp_path.iterdir()) == [], "a tutorial must not write into its working directory"
