"""The replay page of a recording: plain checks of its HTML, and the page itself in a real headless browser.

The browser tests (Debian's Chromium driven by Playwright) skip locally when Chromium or Playwright is
missing; with CI set they run and fail instead of skipping (tests/conftest.py).
"""

import base64
import html
import json
import math
import re

import numpy as np
import pytest

from tinygraph.errors import GraphError
from tinygraph.teaching.replay import page, widget

N, G = 30, 10
EDGES = ["L0_0->L1_0", "L0_1->L1_0", "L1_0->L2_0"]
POSITIVE, NEGATIVE = "#1f5fbf", "#d62728"
NOTE = "no network view: this graph is not a chain of layers"

# The trace: a tiny page whose button and keys work only if its script runs inside the iframe.
TRACE_HTML = (
    "<!DOCTYPE html><html><body><button id='b'>click me</button><p id='k'>no key</p>"
    "<script>document.getElementById('b').addEventListener('click', function () { this.textContent = 'clicked'; });"
    "document.addEventListener('keydown', function (e) { document.getElementById('k').textContent = e.key; });"
    "</script><!-- a </script> here must not end the replay page's data either --></body></html>"
)


def edge_svg(name):
    escaped = name.replace("-", "&#45;").replace(">", "&gt;")
    return (
        f'<g class="edge"><title>{escaped}</title><path fill="none" stroke="#000" stroke-width="1" d="M0,0L10,10"/>'
        '<polygon fill="#000" stroke="#000" points="10,10 8,12 12,8 10,10"/></g>'
    )


def weights_at(i):
    return [(i - 10) / 10, -0.5 + 0.01 * i, None if i % 7 == 0 else 2 * math.sin(i)]


def frame(i):
    """Snapshot i's probabilities: the lower half (rows 0-4, low x2) i*8/255, the upper half 1 - that."""
    grid = np.empty((G, G), dtype=np.uint8)
    grid[: G // 2], grid[G // 2 :] = i * 8, 255 - i * 8
    return base64.b64encode(grid.tobytes()).decode("ascii")


def synthetic(**changes):
    """A small data dict as replay_data makes it: 30 snapshots, 3 edges, a 10 x 10 boundary, one trace."""
    rows = [weights_at(i) for i in range(N)]
    data = {
        "title": "synthetic: a 2-1-1 network",
        "summary": "SGD η = 0.1, 30 snapshots",
        "loss_label": "mean loss over the training samples",
        "step": [10 * i for i in range(N)],
        "epoch": [i / 3 for i in range(N)],
        "loss": [0.7 * math.exp(-i / 8) + 0.05 for i in range(N)],
        "test_loss": [0.75 * math.exp(-i / 9) + 0.08 for i in range(N)],
        "norms": {
            "weights": [
                {"label": "layer 1 (W1)", "values": [1e-4 * (1 + i) for i in range(N)]},
                {"label": "layer 2 (W2)", "values": [0.0 if i == 3 else 0.5 / (1 + i) for i in range(N)]},
            ],
            "deltas": [
                {"label": "layer 1 (z1)", "values": [None if i == 0 else 3e-3 for i in range(N)]},
                {"label": "layer 2 (z2)", "values": [0.2 for i in range(N)]},
            ],
        },
        "network": {
            "svg": '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100pt" height="60pt" '
            'viewBox="0 0 100 60"><g class="graph">' + "".join(edge_svg(e) for e in EDGES) + "</g></svg>",
            "edges": EDGES,
            "weights": rows,
            "biggest": max(abs(w) for row in rows for w in row if w is not None),
            "positive": POSITIVE,
            "negative": NEGATIVE,
        },
        "boundary": {
            "size": G,
            "extent": [-1.0, 1.0, -2.0, 2.0],
            "kind": "probability",
            "classes": 2,
            "frames": [frame(i) for i in range(N)],
            "confidence": None,
            "points": [[-0.95, -1.9, 0], [0.95, -1.9, 1], [-0.95, 1.9, None]],
            "colors": ["#1f77b4", "#ff7f0e"],
        },
        "traces": [{"snapshot": 12, "label": "step 120", "html": TRACE_HTML}],
        "notes": [],
    }
    data.update(changes)
    return data


def embedded(text):
    """The JSON the page embeds, read back."""
    match = re.search(r'<script type="application/json" id="tg-data">(.*?)</script>', text, re.S)
    assert match
    return match.group(1)


# ---- the HTML itself ---------------------------------------------------------------------------------------------


def test_the_page_asks_for_nothing_outside_itself():
    text = page(synthetic())
    assert not re.search(r"<(script|img|iframe|link)[^>]*\s(src|href)=", text)
    assert "url(" not in text and "@import" not in text
    svg = re.search(r'<div id="tg-network">(.*?)</div>', text, re.S).group(1)
    assert svg.startswith("<svg") and "<?xml" not in text  # inlined without its prolog
    rest = text.replace(svg, "")
    assert "http://" not in rest and "https://" not in rest
    assert re.findall(r"https?://[^\s\"']+", svg) == ["http://www.w3.org/2000/svg"]  # only the SVG's xmlns


def test_the_data_survives_a_script_end_tag_and_numbers_json_cannot_hold():
    data = synthetic(loss=[float("nan")] + [0.5] * (N - 1))
    data["network"]["weights"][1] = np.array([np.inf, np.float32(0.25), None], dtype=object)
    block = embedded(page(data))
    assert "</" not in block and "<" not in block
    back = json.loads(block)
    assert back["traces"][0]["html"] == TRACE_HTML
    assert back["loss"][:2] == [None, 0.5] and back["network"]["weights"][1] == [None, 0.25, None]
    assert "svg" not in back["network"]  # the SVG is in the page once, inlined


def test_the_text_of_the_data_is_escaped():
    text = page(synthetic(title="a <b>bold</b> & run", notes=["<i>note</i>"]))
    assert "<b>bold</b>" not in text and "a &lt;b&gt;bold&lt;/b&gt; &amp; run" in text
    assert "&lt;i&gt;note&lt;/i&gt;" in text


def test_widget_puts_the_escaped_page_in_an_iframe_srcdoc():
    data = synthetic()
    out = widget(data)
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" style="width:100%;height:900px;border:0"></iframe>', out)
    assert match and "<" not in match.group(1)
    assert html.unescape(match.group(1)) == page(data)


def test_sections_without_data_are_left_out():
    text = page(synthetic(network=None, boundary=None, traces=[], norms={"weights": [], "deltas": []}, notes=[NOTE]))
    for hook in ("tg-network", "tg-boundary", "tg-norms", "tg-traces", "tg-trace-dialog"):
        assert f'id="{hook}"' not in text
    assert 'id="tg-loss"' in text and f'<p class="tg-note">{NOTE}</p>' in text


def test_the_norm_toggle_only_when_both_kinds_are_there():
    assert 'data-kind="deltas"' in page(synthetic())
    one = page(synthetic(norms={"weights": [], "deltas": [{"label": "z1", "values": [1.0] * N}]}))
    assert 'id="tg-norms"' in one and "data-kind" not in one


def test_a_recording_without_snapshots_is_an_error():
    with pytest.raises(GraphError, match="no snapshots"):
        page(synthetic(step=[]))


# ---- in the browser ----------------------------------------------------------------------------------------------


@pytest.fixture
def open_page(browser, tmp_path):
    """Open a page from a file and, when the test is done, check it logged no error and asked for nothing."""
    opened = []

    def open_(text, name="replay.html"):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        errors, requests = [], []
        tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.on("request", lambda r: requests.append(r.url))
        tab.goto(path.as_uri())
        opened.append((tab, errors, requests, path.as_uri()))
        return tab

    yield open_
    for tab, errors, requests, url in opened:
        assert errors == []
        assert requests == [url]
        tab.close()


def current(tab):
    return int(tab.get_attribute("#tg-replay", "data-current"))


def move_slider(tab, i):
    tab.evaluate(
        "i => { const s = document.getElementById('tg-slider'); s.value = i; s.dispatchEvent(new Event('input')); }", i
    )


def edges(tab):
    return tab.evaluate("""() => [...document.querySelectorAll('#tg-network g.edge')].map(g => {
        const path = g.querySelector('path'), head = g.querySelector('polygon');
        return {title: g.querySelector('title').textContent, stroke: path.getAttribute('stroke'),
                width: Number(path.getAttribute('stroke-width')), fill: head.getAttribute('fill'),
                head: head.getAttribute('stroke')};
    })""")


def pixel(tab, row, col):
    """The colour of grid cell (row, col) on the boundary canvas: row 0 is the lowest x2."""
    return tab.evaluate(
        """([row, col, G]) => {
        const canvas = document.getElementById('tg-boundary');
        const [left, top, size] = canvas.dataset.plot.split(' ').map(Number), k = size / G;
        const x = left + col * k + k / 2, y = top + (G - 1 - row) * k + k / 2;
        return [...canvas.getContext('2d').getImageData(x, y, 1, 1).data];
    }""",
        [row, col, G],
    )


def cursor_x(tab, chart="tg-loss"):
    return float(tab.get_attribute(f"#{chart} .tg-cursor", "x"))


@pytest.mark.browser
def test_the_slider_redraws_the_network_the_boundary_and_the_cursors(open_page):
    data = synthetic()
    tab = open_page(page(data))
    assert tab.text_content("#tg-counter") == "snapshot 1 / 30 · step 0 · epoch 0.00 · loss 0.75 · test loss 0.83"
    before = (pixel(tab, 2, 7), pixel(tab, 7, 7), cursor_x(tab), cursor_x(tab, "tg-norms"))
    low, high = before[0], before[1]
    assert low[2] > low[0] + 60 and high[0] > high[2] + 60  # P = 0 blue at the bottom, P = 1 red at the top
    for i in (5, 14, 29, 0):
        move_slider(tab, i)
        assert current(tab) == i
        rows = data["network"]["weights"][i]
        for edge, w in zip(edges(tab), rows):
            color = "#aaaaaa" if w is None else POSITIVE if w >= 0 else NEGATIVE
            width = 0.6 + 3.4 * abs(w or 0) / data["network"]["biggest"]
            assert edge["stroke"] == edge["fill"] == edge["head"] == color, (i, edge)
            assert edge["width"] == pytest.approx(width, abs=1e-3), (i, edge)
        if i:
            assert pixel(tab, 2, 7) != before[0] and pixel(tab, 7, 7) != before[1]
            assert cursor_x(tab) > before[2] and cursor_x(tab, "tg-norms") > before[3]
    assert [e["title"] for e in edges(tab)] == EDGES
    assert (pixel(tab, 2, 7), pixel(tab, 7, 7), cursor_x(tab)) == before[:3]
    move_slider(tab, 14)
    assert tab.text_content("#tg-counter").startswith("snapshot 15 / 30 · step 140 · epoch 4.67 · loss ")


@pytest.mark.browser
def test_play_pause_the_arrow_keys_home_and_end(open_page):
    tab = open_page(page(synthetic()))
    tab.click("#tg-play")
    tab.wait_for_timeout(600)
    tab.click("#tg-play")
    stopped = current(tab)
    assert 2 <= stopped < 10
    tab.wait_for_timeout(400)
    assert current(tab) == stopped
    tab.keyboard.press("ArrowRight")
    assert current(tab) == stopped + 1
    tab.keyboard.press("ArrowLeft")
    tab.keyboard.press("ArrowLeft")
    assert current(tab) == stopped - 1
    tab.focus("#tg-slider")  # the slider's own arrow keys must not move it a second time
    tab.keyboard.press("ArrowRight")
    assert current(tab) == stopped and tab.input_value("#tg-slider") == str(stopped)
    tab.keyboard.press("End")
    assert current(tab) == N - 1
    tab.keyboard.press("ArrowRight")
    assert current(tab) == N - 1
    tab.keyboard.press("Home")
    assert current(tab) == 0
    tab.keyboard.press("ArrowLeft")
    assert current(tab) == 0
    move_slider(tab, N - 3)
    tab.click("#tg-play")  # plays to the end and stops there
    tab.wait_for_timeout(700)
    assert current(tab) == N - 1 and "Play" in tab.text_content("#tg-play")


@pytest.mark.browser
def test_a_trace_opens_in_the_page_and_works(open_page):
    tab = open_page(page(synthetic()))
    assert tab.text_content("#tg-traces button") == "Step-by-step trace at step 120"
    tab.click("#tg-traces button")
    assert tab.is_visible("#tg-trace-frame") and current(tab) == 12
    inner = tab.frame_locator("#tg-trace-frame")
    inner.locator("#b").click()
    assert inner.locator("#b").text_content() == "clicked"
    tab.keyboard.press("ArrowRight")  # the stepper's keys are its own: the replay stays where it is
    assert inner.locator("#k").text_content() == "ArrowRight" and current(tab) == 12
    tab.click("#tg-trace-close")
    assert not tab.is_visible("#tg-trace-frame")
    tab.keyboard.press("ArrowRight")
    assert current(tab) == 13
    assert tab.evaluate("typeof window.broken") == "undefined"
    tab.click("#tg-traces button")
    tab.frame_locator("#tg-trace-frame").locator("#b").click()  # the trace has the keys now
    tab.keyboard.press("Escape")  # and Esc still closes the dialog
    assert not tab.is_visible("#tg-trace-frame")


@pytest.mark.browser
def test_the_norms_toggle_between_weights_and_deltas(open_page):
    tab = open_page(page(synthetic()))

    def chart():
        return (
            tab.eval_on_selector_all("#tg-norms path", "ps => ps.map(p => p.getAttribute('d'))"),
            tab.text_content("#tg-norms-legend"),
        )

    weights = chart()
    assert "layer 1 (W1)" in weights[1] and "layer 2 (W2)" in weights[1]
    assert tab.get_attribute('button[data-kind="weights"]', "aria-pressed") == "true"
    assert "10⁻⁴" in tab.text_content("#tg-norms") and "10⁰" in tab.text_content("#tg-norms")  # decades apart
    tab.click('button[data-kind="deltas"]')
    deltas = chart()
    assert deltas != weights and "layer 1 (z1)" in deltas[1] and "W1" not in deltas[1]
    assert tab.get_attribute('button[data-kind="deltas"]', "aria-pressed") == "true"
    move_slider(tab, 3)
    assert "layer 1 (z1) 0.003" in tab.text_content("#tg-norms-legend")
    tab.click('button[data-kind="weights"]')
    assert chart()[0] == weights[0]
    assert "layer 1 (W1) 4.000e-4" in chart()[1] and "layer 2 (W2) 0" in chart()[1]  # a 0 at the bottom


@pytest.mark.browser
def test_a_page_without_network_boundary_test_loss_norms_or_traces(open_page):
    data = synthetic(
        network=None, boundary=None, test_loss=None, traces=[], norms={"weights": [], "deltas": []}, notes=[NOTE]
    )
    tab = open_page(page(data))
    for hook in ("#tg-network", "#tg-boundary", "#tg-norms", "#tg-traces"):
        assert tab.query_selector(hook) is None
    assert tab.is_visible(f"text={NOTE}")
    assert tab.text_content("#tg-loss-legend").startswith("training") and "test" not in tab.text_content(
        "#tg-loss-legend"
    )
    x = cursor_x(tab)
    tab.keyboard.press("End")
    assert cursor_x(tab) > x and current(tab) == N - 1


@pytest.mark.browser
def test_classes_one_snapshot_and_the_jupyter_widget(open_page):
    grid = np.arange(G * G, dtype=np.uint8).reshape(G, G) % 3  # the class index
    frame = base64.b64encode(grid.tobytes()).decode("ascii")
    sure = base64.b64encode(np.full(G * G, 250, dtype=np.uint8).tobytes()).decode("ascii")
    boundary = dict(synthetic()["boundary"], kind="classes", classes=3, frames=[frame], confidence=[sure])
    boundary["colors"] = ["#ff0000", "#00ff00", "#0000ff"]
    one = {"step": [0], "epoch": [0.0], "loss": [0.5], "test_loss": None, "network": None, "traces": []}
    one["norms"] = {"weights": [{"label": "W1", "values": [0.1]}], "deltas": []}
    tab = open_page(page(synthetic(boundary=boundary, **one)))
    for row, col in ((2, 7), (7, 7), (4, 4)):
        rgb = pixel(tab, row, col)[:3]
        assert int(np.argmin(rgb)) != int(grid[row, col]) and rgb[int(grid[row, col])] == 255  # the class's colour
    tab.keyboard.press("ArrowRight")
    assert current(tab) == 0 and tab.text_content("#tg-counter").startswith("snapshot 1 / 1 · step 0")
    host = open_page(f"<!DOCTYPE html><meta charset='utf-8'><body>{widget(synthetic())}</body>", "notebook.html")
    inside = host.frame_locator("iframe")
    assert inside.locator("#tg-counter").text_content().startswith("snapshot 1 / 30")
    assert host.query_selector("#tg-slider") is None  # the page stays inside its iframe


# -- a real run, end to end: fit with a Recording, its page, its traces ---------------------------------
@pytest.mark.browser
def test_the_page_of_a_real_run_replays_it_and_opens_its_traces(open_page):
    import tinygraph as tg

    X, T = tg.datasets.moons(n=60, noise=0.1, seed=0)
    net = tg.mlp([2, 3, 1], activation=tg.Tanh, loss=tg.LogLoss, seed=0)
    rec = tg.Recording(max_snapshots=40, test=(X[:20], T[:20]))
    net.fit(X[20:], T[20:], epochs=10, lr=0.1, seed=0, record=rec)
    tab = open_page(rec.to_html(traces=[0, -1]))
    assert tab.locator("#tg-counter").text_content().startswith("snapshot 1 / 40 · step 0 ·")

    def widths():  # each drawn weight's line width, by its edge's title
        return {e["title"]: e["width"] for e in edges(tab)}

    first, W1 = widths(), rec[0].parameters["W1"]
    biggest = max(
        abs(float(rec[k].parameters[w].reshape(-1)[i]))
        for k in range(40)
        for w in ("W1", "W2")
        for i in range(rec[k].parameters[w].size)
    )
    assert first["L0_1->L1_2"] == pytest.approx(0.6 + 3.4 * abs(W1[1, 2]) / biggest, abs=0.01)
    cursor = tab.get_attribute("#tg-loss .tg-cursor", "x")
    picture = tab.evaluate("() => document.getElementById('tg-boundary').toDataURL()")
    tab.keyboard.press("End")
    assert current(tab) == 39 and widths() != first
    assert tab.get_attribute("#tg-loss .tg-cursor", "x") != cursor
    assert tab.evaluate("() => document.getElementById('tg-boundary').toDataURL()") != picture
    tab.click("#tg-traces button[data-trace='0']")
    assert current(tab) == 0
    inner, steps = tab.frame_locator("#tg-trace-frame"), len(rec.trace_at(0, 0))  # (forward, backward, update)
    assert inner.locator(".tg-counter").text_content() == f"Step 1 / {steps}"
    inner.locator(".tg-next").click()
    assert inner.locator(".tg-counter").text_content() == f"Step 2 / {steps}"
    assert "<iframe srcdoc=" in rec._repr_html_()  # how Jupyter shows it


@pytest.mark.browser
def test_a_click_shows_the_network_at_its_actual_size(open_page):
    tab = open_page(page(synthetic()))
    width = tab.evaluate("() => document.querySelector('#tg-network svg').getBoundingClientRect().width")
    tab.click("#tg-network svg")
    assert tab.evaluate("() => document.getElementById('tg-network').classList.contains('tg-actual')")
    assert tab.evaluate("() => document.querySelector('#tg-network svg').getBoundingClientRect().width") != width
    tab.click("#tg-network svg")
    assert tab.evaluate("() => document.querySelector('#tg-network svg').getBoundingClientRect().width") == width
