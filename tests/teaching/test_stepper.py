"""The HTML stepper in a real headless browser (Debian's Chromium driven by Playwright).

Locally these tests skip when Chromium, Playwright or Graphviz is missing; with CI set they run and fail
instead of skipping (tests/conftest.py).
"""

import re

import numpy as np
import pytest

import tinygraph as tg
from tinygraph import cli

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def trace_page(tmp_path_factory):
    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    path = tmp_path_factory.mktemp("stepper") / "trace.html"
    tr.to_html(path)
    return tr, path


def open_page(browser, path):
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    errors, requests = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    return page, errors, requests


def visible_state(page):
    """The counter text, the visible step's title and the names of the orange-bordered nodes."""
    return page.evaluate("""() => {
        const root = document.querySelector('.tg-stepper[id]');
        const frame = root.querySelector('.tg-pair.tg-current .tg-frame');
        const step = root.querySelector('.tg-pair.tg-current .tg-step');
        const marked = [...frame.querySelector('.tg-view[data-view="graph"]').querySelectorAll('g.node')].filter(g =>
            [...g.querySelectorAll('polygon, path, ellipse')].some(s => s.getAttribute('stroke') === '#ff8c00'));
        return {counter: root.querySelector('.tg-counter').textContent,
                title: step.querySelector('.tg-title').textContent,
                nodes: step.getAttribute('data-nodes').split(' '),
                marked: marked.map(g => g.querySelector('text').textContent),
                visibleFrames: [...root.querySelectorAll('.tg-frame')].filter(f => f.offsetParent !== null).length};
    }""")


def test_page_loads_offline_without_errors(browser, trace_page):
    tr, path = trace_page
    page, errors, requests = open_page(browser, path)
    state = visible_state(page)
    assert state["counter"] == f"Step 1 / {len(tr)}"
    assert state["visibleFrames"] == 1
    assert errors == []
    assert all(url.startswith("file://") for url in requests), requests
    page.close()


def test_next_and_arrow_keys_visit_every_step_and_highlight_its_node(browser, trace_page):
    tr, path = trace_page
    page, errors, requests = open_page(browser, path)
    seen = []
    for i, step in enumerate(tr.steps):
        state = visible_state(page)
        assert state["counter"] == f"Step {i + 1} / {len(tr)}"
        assert state["title"] == step.title
        assert sorted(state["marked"]) == sorted(n.name for n in step.highlight)
        assert sorted(state["nodes"]) == sorted(state["marked"])
        if step.node is not None:
            assert step.node.name in state["marked"] and state["title"].startswith(step.node.name)
        seen.append(state["title"])
        if i == len(tr) - 1:
            break
        if i % 2:
            page.keyboard.press("ArrowRight")
        else:
            page.click(".tg-next")
    assert len(seen) == len(tr)
    assert page.is_disabled(".tg-next")
    for i in reversed(range(len(tr) - 1)):
        if i % 2:
            page.keyboard.press("ArrowLeft")
        else:
            page.click(".tg-prev")
        assert visible_state(page)["counter"] == f"Step {i + 1} / {len(tr)}"
    assert page.is_disabled(".tg-prev")
    assert errors == [] and all(url.startswith("file://") for url in requests)
    page.close()


def test_in_a_notebook_the_keys_keep_working_after_a_button_at_either_end_is_disabled(browser, trace_page, tmp_path):
    # In Jupyter (and on the documentation site) the keys listen on the stepper, not the page: a
    # button that disables itself under the pointer dropped the focus to the page, and the keys died.
    tr, _ = trace_page
    path = tmp_path / "notebook.html"
    path.write_text(f"<!doctype html><meta charset='utf-8'><body>{tr._repr_html_()}</body>", encoding="utf-8")
    page, errors, _ = open_page(browser, path)
    for _ in range(len(tr) - 1):
        page.click(".tg-next")
    assert page.is_disabled(".tg-next")
    page.keyboard.press("ArrowLeft")
    assert visible_state(page)["counter"] == f"Step {len(tr) - 1} / {len(tr)}"
    for _ in range(len(tr) - 2):
        page.click(".tg-prev")
    assert page.is_disabled(".tg-prev")
    page.keyboard.press("ArrowRight")
    assert visible_state(page)["counter"] == f"Step 2 / {len(tr)}"
    assert errors == []
    page.close()


def test_without_javascript_every_step_shows_in_order_with_its_diagram(browser, trace_page):
    tr, path = trace_page
    context = browser.new_context(java_script_enabled=False)  # an untrusted notebook, an email, a script blocker
    page = context.new_page()
    page.goto(path.as_uri())
    shown = page.evaluate("""() => [...document.querySelectorAll('.tg-pair')].map(p => ({
        visible: p.offsetParent !== null, diagram: p.querySelector('.tg-frame svg').getBoundingClientRect().width,
        heading: p.querySelector('h2').innerText}))""")
    assert len(shown) == len(tr) and all(s["visible"] and s["diagram"] > 100 for s in shown)
    assert [s["heading"] for s in shown] == [
        f"{i}/{len(tr)} {step.phase} · {step.title}" for i, step in enumerate(tr, 1)
    ]
    assert not page.is_visible(".tg-bar")  # (no buttons that could not work)
    context.close()


def test_in_an_untrusted_notebook_the_widget_shows_every_step(browser, trace_page):
    tr, _ = trace_page
    context = browser.new_context(java_script_enabled=False)  # (an untrusted notebook runs no script)
    page = context.new_page()
    page.set_content(f"<!DOCTYPE html><html><body>{tr._repr_html_()}</body></html>")
    visible = page.evaluate("() => [...document.querySelectorAll('.tg-step')].filter(s => s.offsetParent).length")
    assert visible == len(tr)
    context.close()


def diagram(page):
    """The current step's diagram: its size on screen, its natural size, its smallest text, the frame's box."""
    return page.evaluate("""() => {
        const frame = document.querySelector('.tg-pair.tg-current .tg-frame'), svg = frame.querySelector('svg');
        const r = svg.getBoundingClientRect(), f = frame.getBoundingClientRect();
        const texts = [...svg.querySelectorAll('text')].map(t => t.getBoundingClientRect().height).filter(h => h > 0);
        const mark = [...svg.querySelectorAll('g.node')].find(g => g.querySelector('[stroke="#ff8c00"]'));
        const m = mark && mark.getBoundingClientRect();
        return {width: r.width, natural: Number(svg.dataset.w), smallest: Math.min(...texts),
                zoom: Number(document.querySelector('.tg-stepper[id]').dataset.zoom),
                frame: [f.left, f.top, f.right, f.bottom], mark: m && [m.left + m.width / 2, m.top + m.height / 2],
                scroll: [frame.scrollLeft, frame.scrollTop]};
    }""")


def test_one_scale_for_every_step_readable_text_and_the_node_in_view(browser, trace_page):
    tr, path = trace_page
    page, errors, _ = open_page(browser, path)
    scales = []
    for i in range(len(tr)):
        d = diagram(page)
        scales.append(d["width"] / d["natural"])
        assert d["smallest"] >= 11  # (text boxes a little taller than the 12 px font)
        if d["mark"] is not None:  # the step's orange node is brought into view
            left, top, right, bottom = d["frame"]
            assert left <= d["mark"][0] <= right and top <= d["mark"][1] <= bottom, (i, d)
        page.keyboard.press("ArrowRight")
    assert max(scales) - min(scales) < 1e-4 and abs(scales[0] - 1) < 1e-4  # (sub-pixel rounding)
    assert errors == []
    page.close()


def test_zoom_buttons_keys_wheel_fit_and_drag(browser, trace_page):
    tr, path = trace_page
    page, errors, _ = open_page(browser, path)
    start = diagram(page)
    page.click(".tg-in")
    assert diagram(page)["zoom"] == pytest.approx(1.25) and diagram(page)["width"] == pytest.approx(
        start["width"] * 1.25, abs=0.05
    )  # (layout rounds to 1/64 px)
    page.click(".tg-out")
    page.keyboard.press("-")
    assert diagram(page)["zoom"] == pytest.approx(0.8)
    page.keyboard.press("ArrowRight")  # the zoom stays from step to step
    assert diagram(page)["width"] / diagram(page)["natural"] == pytest.approx(0.8, rel=1e-4)
    page.click(".tg-fit")
    d = diagram(page)
    assert d["width"] <= d["frame"][2] - d["frame"][0]
    page.click(".tg-one")
    assert diagram(page)["zoom"] == 1
    box = page.locator(".tg-pair.tg-current .tg-frame").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -200)  # the wheel alone scrolls
    assert diagram(page)["zoom"] == 1
    page.keyboard.down("Control")
    page.mouse.wheel(0, -200)  # ctrl and the wheel (a pinch) zoom
    page.keyboard.up("Control")
    assert diagram(page)["zoom"] > 1
    page.keyboard.press("Control+-")  # the browser's own zoom keys are left to the browser
    assert diagram(page)["zoom"] > 1
    before = diagram(page)["scroll"]
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 150, box["y"] + box["height"] / 2 - 100, steps=5)
    page.mouse.up()
    after = diagram(page)["scroll"]
    assert after[0] > before[0]  # dragged left: the view moves right
    assert errors == []
    page.close()


def unshared(page):
    """The page with each <use> of a drawing the steps share replaced by that drawing."""
    defs = dict(re.findall(r'<g id="(tg-trace-\w+-\d+)">\n(.*?)\n</g>(?=<g id="tg-trace-|</defs>)', page, re.S))
    return re.sub(r'<use href="#([\w-]+)"/>', lambda found: defs[found.group(1)], page)


def test_the_page_draws_each_step_as_the_step_alone_would_be_drawn(trace_page):
    from tinygraph.teaching import stepper

    tr, path = trace_page  # (the diagrams are drawn several at a time; each must land at its own step)
    text = unshared(path.read_text(encoding="utf-8"))
    places = [text.index(stepper._svg(dot)) for dot in stepper.drawings(tr, "graph")]
    assert places == sorted(places)


@pytest.fixture(scope="module")
def image_trace():
    """A trace of x (18,) → img (2, 3, 3) → h = tanh → Sum E: two nodes drawn as feature maps."""
    x = tg.Input("x", shape=(18,))
    graph = tg.Graph(tg.Sum(tg.Tanh(tg.Reshape(x, (2, 3, 3), name="img"), name="h"), name="E"))
    return tg.trace(graph, {"x": np.linspace(-1, 1, 18)})


def test_a_drawing_the_steps_repeat_is_written_once_and_drawn_in_each(browser, image_trace, tmp_path, monkeypatch):
    from tinygraph.teaching import maps, stepper

    page = image_trace.to_html()
    alone = [stepper._svg(dot) for dot in stepper.drawings(image_trace, "graph")]
    text = unshared(page)
    places = [text.index(svg) for svg in alone]  # every step as it is drawn alone, in order
    assert places == sorted(places)
    darkest = f'fill="{maps.NEGATIVE_SCALE[-1]}"'  # (x = -1: a pixel of img's maps, and of its scale)
    assert 0 < page.count(darkest) < sum(svg.count(darkest) for svg in alone)
    (tmp_path / "shared.html").write_text(page, encoding="utf-8")
    monkeypatch.setattr(stepper, "SHARED", 10**9)  # (every step with its own copy)
    assert "<use " not in image_trace.to_html(tmp_path / "copies.html") and "<use " in page
    pictures = []
    for name in ("shared.html", "copies.html"):
        shown, errors, _ = open_page(browser, tmp_path / name)
        for _ in range(len(image_trace) - 1):  # the last step: img and h drawn, neither of them orange
            shown.keyboard.press("ArrowRight")
        pictures.append(shown.locator(".tg-pair.tg-current .tg-frame svg").screenshot())
        assert errors == []
        shown.close()
    assert pictures[0] == pictures[1]


def shapes_of(svg):
    """{node title: the coordinates of its outline} of one drawn SVG."""
    found = re.findall(
        r'<g id="node\d+" class="node">\s*<title>([^<]*)</title>.*?<(?:polygon|ellipse|path)([^>]*)>', svg, re.S
    )
    geometry = r'\b(points|d|cx|cy|rx|ry)="([^"]*)"'
    return {title: re.findall(geometry, attrs) for title, attrs in found}


@pytest.mark.graphviz
@pytest.mark.parametrize("view", ["graph", "network"])
def test_one_layout_for_every_step_only_the_marks_and_labels_change(view):
    from tinygraph.teaching import stepper

    net = tg.mlp([2, 3, 2], seed=4)  # (values of changing widths: signs, digits, pending "…")
    x, t = np.array([[0.3, -1.7], [2.0, 0.1]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    tr = tg.trace(net, {"x": x, "t": t}, optimizer=0.7)
    svgs = [stepper._svg(dot) for dot in stepper.drawings(tr, view)]
    outlines = [shapes_of(svg) for svg in svgs]
    assert len(outlines[0]) >= 5 and all(o == outlines[0] for o in outlines)
    heights = {re.search(r'height="([\d.]+)pt"', svg).group(1) for svg in svgs}
    assert len(heights) == 1  # the legend and the labels take the same room in every step
    labels = [re.findall(r"<text[^>]*>([^<]*)</text>", svg) for svg in svgs]
    assert len({tuple(t) for t in labels}) > len(svgs) // 2  # what they say does change


def test_the_switch_shows_each_step_in_the_network_view(browser, trace_page):
    tr, path = trace_page  # (the worked example is a chain of layers)
    page, errors, _ = open_page(browser, path)
    visible = "v => [...document.querySelectorAll('.tg-pair.tg-current .tg-view')].filter(e => e.offsetParent)"
    assert page.evaluate(f"() => ({visible})().map(e => e.dataset.view)") == ["graph"]
    page.click(".tg-views button[data-view='network']")
    assert page.evaluate(f"() => ({visible})().map(e => e.dataset.view)") == ["network"]
    neurons = page.evaluate(f"() => ({visible})()[0].querySelectorAll('g.node').length")
    assert neurons >= 6  # x[0], x[1], h[0], h[1], o[0], o[1] at least
    page.keyboard.press("ArrowRight")  # the view stays from step to step
    assert page.evaluate(f"() => ({visible})().map(e => e.dataset.view)") == ["network"]
    page.click(".tg-views button[data-view='graph']")
    assert page.evaluate(f"() => ({visible})().map(e => e.dataset.view)") == ["graph"]
    assert errors == []
    page.close()


def test_the_network_view_is_left_out_on_request_and_for_graphs_that_are_no_chain_of_layers(trace_page):
    tr, _ = trace_page
    view = '<div class="tg-view" data-view="network">'
    assert view in tr.to_html() and view not in tr.to_html(network=False)
    x = tg.Input("x", shape=(2,))
    w = tg.Parameter([0.5, -0.5], name="w")
    loss = tg.Sum(tg.Multiply(x, w), name="s")  # (no WeightedSum: no layers)
    lone = tg.trace(tg.Graph(loss), {"x": [1.0, 2.0]})
    assert view not in lone.to_html() and 'class="tg-views"' not in lone.to_html()
    with pytest.raises(TypeError, match="to_html: network"):
        tr.to_html(network="yes")


def test_every_steps_formulas_are_mathml_drawn_with_a_size(browser, trace_page):
    tr, path = trace_page
    page, errors, requests = open_page(browser, path)
    for i, step in enumerate(tr.steps):
        sizes = page.evaluate("""() => [...document.querySelectorAll('.tg-pair.tg-current .tg-step math')].map(m => {
            const r = m.getBoundingClientRect(); return [r.width, r.height]; })""")
        assert len(sizes) == len(step.lines) + bool(step.formula), (i, step.title)
        assert all(w > 5 and h > 5 for w, h in sizes), (i, sizes)
        page.keyboard.press("ArrowRight")
    assert page.locator("code.tg-tex").count() == 0  # (no formula fell back to its LaTeX)
    assert errors == [] and all(url.startswith("file://") for url in requests)
    page.close()


def test_without_javascript_every_steps_typeset_lines_are_visible(browser, trace_page):
    tr, path = trace_page
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    shown = page.evaluate("""() => [...document.querySelectorAll('.tg-step')].map(s =>
        [...s.querySelectorAll('.tg-line math')].filter(m => m.getBoundingClientRect().width > 5).length)""")
    assert shown == [len(step.lines) for step in tr.steps]
    context.close()


@pytest.fixture(scope="module")
def exercise_page(tmp_path_factory):
    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    path = tmp_path_factory.mktemp("exercise") / "exercise.html"
    tr.to_html(path, exercise=True)
    return tr, path


def test_an_exercise_marks_the_engines_number_right_and_another_wrong(browser, exercise_page):
    tr, path = exercise_page
    page, errors, requests = open_page(browser, path)
    page.keyboard.press("ArrowRight")  # step 2: z1[0] and z1[1], each one box
    line = page.locator(".tg-pair.tg-current .tg-ask").first
    box = line.locator(".tg-box")
    z1 = tr.graph["z1"].value
    box.fill(repr(float(z1[0])))  # the engine's number
    box.press("Enter")
    assert line.get_attribute("data-result") == "right" and "tg-right" in box.get_attribute("class")
    box.fill(f"{z1[0] * 1.0005:.6f}")  # within 0.1 %
    box.press("Enter")
    assert line.get_attribute("data-result") == "right"
    box.fill("0.3775")  # as the page would show it (4 digits)
    line.locator(".tg-check").click()
    assert line.get_attribute("data-result") == "right"
    box.fill("0.38")  # 0.7 % off, and not what the page shows
    box.press("Enter")
    assert line.get_attribute("data-result") == "wrong" and "tg-wrong" in box.get_attribute("class")
    assert "not yet" in line.locator(".tg-mark").inner_text()
    box.press("ArrowRight")  # (typing in a box does not step)
    assert visible_state(page)["counter"] == f"Step 2 / {len(tr)}"
    for _ in range(7):  # step 9: z2's backward, ∂E/∂W2 is a 2 × 2 answer
        page.click(".tg-next")
    asks = page.locator(".tg-pair.tg-current .tg-ask")
    matrix = [asks.nth(i) for i in range(asks.count()) if asks.nth(i).locator(".tg-box").count() == 4][0]
    for box, v in zip(matrix.locator(".tg-box").all(), tr.steps[8].arrays["to W2"].ravel()):
        box.fill(str(v))
    matrix.locator(".tg-check").click()
    assert matrix.get_attribute("data-result") == "right"
    other = asks.first
    other.locator(".tg-reveal").click()
    assert other.get_attribute("data-result") == "shown" and other.locator(".tg-box").first.input_value() != ""
    assert errors == [] and all(url.startswith("file://") for url in requests)
    page.close()


def test_an_exercise_diagram_shows_only_what_is_known_before_its_step(exercise_page):
    from tinygraph.teaching import stepper

    tr, path = exercise_page
    svgs = [stepper._svg(dot) for dot in stepper.drawings(tr, "graph", exercise=True)]
    assert "0.378" in svgs[2] and "0.378" not in svgs[1]  # z1's value appears only after its step
    text = path.read_text(encoding="utf-8")
    assert "full values" not in text and text.count('class="tg-box"') == sum(
        a.size for a in (line.answer() for s in tr for line in s.parts) if a is not None
    )


@pytest.mark.graphviz
def test_the_stepper_opens_layers_up_into_scalars_in_one_layout(tmp_path):
    from tinygraph.teaching import stepper

    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5)
    svgs = [stepper._svg(dot) for dot in stepper.drawings(tr, "graph", expand=["z1", "h"])]
    outlines = [shapes_of(svg) for svg in svgs]
    assert all(o == outlines[0] for o in outlines)  # the scalars keep their places from step to step too
    assert all("x[1]·W1[1,0]" in svg and "h[1]" in svg for svg in svgs)
    shown = svgs[12].replace("&#183;", "·").replace("&#160;", " ")  # z1's backward step
    assert "∂E/∂W1[1,0] = x[1]·δ[0] = 0.1 · 0.00877 = 0.000877" in shown
    update = stepper._svg(stepper.drawings(tr, "graph", expand="z2")[17]).replace("&#183;", "·")  # W2's update
    assert "[[0.359, 0.511]" in update and "= 0.593 · 0.4<" in update  # W2 is new; the products use the pass's
    page = tr.to_html(tmp_path / "open.html", expand=["z1", "h"])
    assert open(page, encoding="utf-8").read().count("x[0]·W1[0,1]") >= 2 * len(tr)  # (graph view only)
    with pytest.raises(tg.GraphError, match="SquaredLoss 'E' cannot be opened up"):
        tr.to_html(tmp_path / "bad.html", expand="E")
    assert not (tmp_path / "bad.html").exists()


def test_an_opened_up_layer_is_readable_at_the_default_zoom(browser, tmp_path):
    graph, feed = cli.worked_example()
    path = tmp_path / "open.html"
    tg.trace(graph, feed, optimizer=0.5).to_html(path, expand=["z1", "h"])
    page, errors, requests = open_page(browser, path)
    for _ in range(12):  # z1's backward step: its scalars carry their gradients
        page.keyboard.press("ArrowRight")
    d = diagram(page)
    assert d["smallest"] >= 11 and d["zoom"] == 1
    assert page.locator(".tg-pair.tg-current .tg-view[data-view='graph'] g.cluster").count() >= 2
    assert errors == [] and all(url.startswith("file://") for url in requests)
    page.close()


def test_an_exercise_accepts_what_the_digits_shown_allow_and_reads_numbers_as_typed(browser, tmp_path):
    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed, optimizer=0.5, precision=3)
    path = tmp_path / "p3.html"
    tr.to_html(path, exercise=True)
    page, errors, _ = open_page(browser, path)
    for _ in range(4):  # step 5: o[1] = σ(1.22), shown to 3 digits; σ(1.22) = 0.77211, the engine's 0.77292
        page.click(".tg-next")
    line = page.locator(".tg-pair.tg-current .tg-ask").nth(1)
    for typed, result in [("0.772", "right"), ("0.773", "right"), ("0.76", "wrong"), ("0.773abc", "wrong")]:
        line.locator(".tg-box").fill(typed)
        line.locator(".tg-box").press("Enter")
        assert line.get_attribute("data-result") == result, typed
    for _ in range(3):  # step 8: ∂E/∂z2 = [0.139, −0.0381]
        page.click(".tg-next")
    line = page.locator(".tg-pair.tg-current .tg-ask").nth(1)
    for box, typed in zip(line.locator(".tg-box").all(), ["1.385e−1", "−3.81e−2"]):  # (Unicode minus signs)
        box.fill(typed)
    line.locator(".tg-check").click()
    assert line.get_attribute("data-result") == "right"
    assert errors == []
    page.close()


def test_two_steppers_on_one_page_have_their_own_ids():
    graph, feed = cli.worked_example()
    tr = tg.trace(graph, feed)
    ids = [re.search(r'class="tg-stepper" id="([^"]+)"', tr._repr_html_()).group(1) for _ in range(2)]
    assert ids[0] != ids[1]
