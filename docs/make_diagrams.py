"""Regenerate the README's pictures in docs/: python docs/make_diagrams.py (needs Graphviz).

The diagrams are those `tinygraph demo` writes after training, copied: the XOR network of the demo,
trained on its defaults, on the demo's sample x = [0, 1], t = 1 (tests/test_stumbles.py checks that
the pictures and the demo agree).  docs/replay.png is a screenshot, in headless Chromium (it needs
the playwright package and Chromium), of `tinygraph replay --sizes 2,8,8,1` halfway through training;
docs/trace_step.png one of the page of `tinygraph trace`, at step 9, and docs/exercise_step.png of its
exercise page there, partly answered; docs/trace_moons_network.png and docs/trace_moons_fit.png of the
stepper of a 2-16-16-1 network in its network view; docs/expanded_layer.png is a layer opened up into scalars.
"""

import contextlib
import io
import shutil
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
    replay_picture()
    trace_picture()
    moons_pictures()
    expanded_picture()


def screenshot(name, command, then, picture, viewport, full_page=True):
    """Run ``tinygraph <command> <page>``, open the page in headless Chromium, ``then(page)``, save ``picture``.

    ``command`` may also be a function that writes the page at the path it is given.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print(f"docs/{picture}: not made (pip install playwright, and install Chromium)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / name
        with contextlib.redirect_stdout(io.StringIO()):
            command(page_path) if callable(command) else tinygraph([*command, str(page_path)])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
            page = browser.new_page(viewport=viewport)
            page.goto(page_path.as_uri())
            then(page)
            page.screenshot(path=str(HERE / picture), full_page=full_page)
            browser.close()
    print(f"docs/{picture}: {(HERE / picture).stat().st_size / 1024:.1f} KB")


def trace_picture():
    """Screenshot the page of ``tinygraph trace`` (the 2-2-2 worked example) at step 9, z2's backward step."""

    def step_9(page):
        for _ in range(8):
            page.keyboard.press("ArrowRight")

    screenshot("trace.html", ["trace", "--html"], step_9, "trace_step.png", {"width": 1260, "height": 720}, False)

    def answered(page):  # step 9: ∂E/∂h typed right, ∂E/∂W2 half wrong, ∂E/∂b2 shown
        for _ in range(8):
            page.keyboard.press("ArrowRight")
        asks = page.locator(".tg-pair.tg-current .tg-ask")
        for box, value in zip(asks.nth(0).locator(".tg-box").all(), ["0.03635", "0.04137"]):
            box.fill(value)
        asks.nth(0).locator(".tg-check").click()
        for box, value in zip(asks.nth(1).locator(".tg-box").all(), ["0.08217", "-0.0226", "0.0827", "0.02274"]):
            box.fill(value)
        asks.nth(1).locator(".tg-check").click()
        asks.nth(2).locator(".tg-reveal").click()

    screenshot(
        "trace.html",
        ["trace", "--exercise", "--html"],
        answered,
        "exercise_step.png",
        {"width": 1260, "height": 760},
        False,
    )


def replay_picture():
    """Screenshot the replay page of a 2-8-8-1 tanh network on the moons, at its middle snapshot."""
    middle = "s => { s.value = s.max / 2; s.dispatchEvent(new Event('input')); }"
    screenshot(
        "replay.html",
        ["replay", "--sizes", "2,8,8,1", "--activation", "tanh", "--out"],
        lambda page: page.eval_on_selector("#tg-slider", middle),
        "replay.png",
        {"width": 1300, "height": 900},
    )


if __name__ == "__main__":
    main()


def moons_pictures():
    """Screenshot the stepper of an untrained 2-16-16-1 network on a moons sample: the network view of z2's backward
    step at its natural size, and fitted to the frame."""

    def write(path):
        X, T = tg.datasets.moons(200, noise=0.1, seed=0)
        net = tg.mlp([2, 16, 16, 1], seed=0)
        trace = tg.trace(net, {"x": X[0], "t": T[0:1].astype(float)}, optimizer=0.5)
        trace.to_html(path, title="One step of a 2-16-16-1 network on the moons")

    def network(fit):
        def then(page):
            for _ in range(14):
                page.keyboard.press("ArrowRight")
            page.click(".tg-views button[data-view='network']")
            if fit:
                page.click(".tg-fit")

        return then

    size = {"width": 1260, "height": 760}
    screenshot("moons.html", write, network(False), "trace_moons_network.png", size, False)
    screenshot("moons.html", write, network(True), "trace_moons_fit.png", size, False)


def expanded_picture():
    """Draw a 2-3-1 network after one forward and backward pass, its first layer opened up into scalars."""
    net = tg.mlp([2, 3, 1], seed=3)
    net.graph.forward({"x": [0.5, -1.0], "t": [1.0]})
    net.graph.backward()
    with tempfile.TemporaryDirectory() as tmp:
        tg.render(net, Path(tmp) / "expanded", format="png", expand=["z1", "h1"])
        shutil.copy(Path(tmp) / "expanded.png", HERE / "expanded_layer.png")
    print(f"docs/expanded_layer.png: {(HERE / 'expanded_layer.png').stat().st_size / 1024:.1f} KB")
