"""The documentation site: every public name in the reference, the shapes guide's examples run,
formulas typeset as MathML when the site is built, and a site that loads nothing from the network.

The tutorials themselves are executed in test_tutorials.py; the site built here executes only the
third (its stepper is tried in Chromium), and ``.ci/run`` builds the site with all of them executed.
"""

import importlib.util
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tinygraph as tg

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
DIRECTIVE = re.compile(r"^::: tinygraph\.(\w+)\s*$", re.MULTILINE)


def documented():
    return [name for page in sorted((DOCS / "reference").glob("*.md")) for name in DIRECTIVE.findall(page.read_text())]


def test_every_public_name_has_one_entry_in_the_reference():
    names = documented()
    assert sorted(names) == sorted(tg.__all__), (
        f"missing: {sorted(set(tg.__all__) - set(names))}, not public: {sorted(set(names) - set(tg.__all__))}"
    )
    assert len(names) == len(set(names)), "a name documented twice"


def test_every_page_is_in_the_navigation():
    config = (ROOT / "mkdocs.yml").read_text()
    nav = config[config.index("\nnav:") :]
    listed = set(re.findall(r"^\s*- (?:[^:\n]+: )?(\S+\.(?:md|py))$", nav, re.MULTILINE))
    pages = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    pages |= {p.relative_to(DOCS).as_posix() for p in (DOCS / "tutorials").glob("*.py")}
    assert len(pages) >= 13 and pages == listed, (sorted(pages - listed), sorted(listed - pages))


# ---- the replay guide: its code runs, and the page it writes is the recorded run ---------------------


@pytest.mark.graphviz
def test_the_replay_guide_code_runs_and_writes_its_page(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (block,) = re.findall(r"```python\n(.*?)```", (DOCS / "guide" / "replay.md").read_text(), re.DOTALL)
    namespace: dict = {}
    exec(block, namespace)
    rec = namespace["rec"]
    assert len(rec) == 200 and rec[0].step == 0 and rec[-1].step == 30 * 225
    assert rec[-1].loss < rec[0].loss and rec[-1].test_loss < rec[0].test_loss
    page = (tmp_path / "replay.html").read_text(encoding="utf-8")
    assert page.count('data-trace="') == 3


# ---- the stepper guide: its code runs and writes what it says ---------------------------------------


@pytest.mark.graphviz
def test_the_stepper_guide_code_runs_and_writes_its_pages(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in re.findall(r"```python\n(.*?)```", (DOCS / "guide" / "stepper.md").read_text(), re.DOTALL):
        exec(block, namespace)
    assert "<math" in (tmp_path / "step.html").read_text(encoding="utf-8")
    assert 'class="tg-box"' in (tmp_path / "exercise.html").read_text(encoding="utf-8")
    assert "## Answers" in namespace["sheet"] and (tmp_path / "layer.png").stat().st_size > 10_000
    assert "x[0]·W1[0,1]" in (tmp_path / "open.html").read_text(encoding="utf-8")


# ---- the shapes guide: its code blocks run, and what the comments claim holds -----------------------


def guide_blocks():
    text = (DOCS / "guide" / "shapes.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, re.DOTALL)


def test_the_shapes_guide_examples_run_and_their_comments_hold():
    namespace: dict = {}
    checked = 0
    for block in guide_blocks():
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            said = re.match(r"^(?P<code>\S.*?)\s+# (?P<shape>\([\d, ]*\))", line)
            error = i + 1 < len(lines) and lines[i + 1].startswith("# GraphError: ")
            if said:
                assert eval(said["code"], namespace) == eval(said["shape"]), line
                checked += 1
            elif error:
                message = lines[i + 1].removeprefix("# GraphError: ")
                while i + 2 < len(lines) and lines[i + 2].startswith("#   "):
                    message += " " + lines[i + 2].removeprefix("#   ")
                    i += 1
                with pytest.raises(tg.GraphError) as caught:
                    exec(line, namespace)
                assert str(caught.value) == message
                checked += 1
                i += 1
            elif line and not line.startswith("#"):
                exec(line, namespace)
            i += 1
    assert checked == 5  # the two shapes of the first example, the neuron's two, and the target error


def test_the_guides_table_of_single_neuron_shapes_is_what_the_engine_returns():
    import numpy as np

    for w_shape, one, batch in (((3,), (), (5,)), ((3, 1), (1,), (5, 1)), ((3, 4), (4,), (5, 4))):
        x = tg.Input("x", shape=(3,))
        z = tg.WeightedSum(x, tg.Parameter(np.ones(w_shape), name="w"), name="z")
        graph = tg.Graph(z)
        assert graph.run(z, {x: np.ones(3)}).shape == one
        assert graph.run(z, {x: np.ones((5, 3))}).shape == batch
    X, T = tg.datasets.xor()
    assert X.shape == (4, 2) and T.shape == (4,)


# ---- the MathML hook -------------------------------------------------------------------------------


def hook():
    spec = importlib.util.spec_from_file_location("mathml_hook", DOCS / "hooks" / "mathml.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Page:
    toc: list = []

    class file:
        src_path = "page.md"


@pytest.mark.docs
def test_the_hook_typesets_markdown_and_notebook_math_and_leaves_code_alone():
    m = hook()
    markdown = (
        '<p>loss <span class="arithmatex">\\(E = \\tfrac12 (o - t)^2\\)</span></p>'
        '<div class="arithmatex">\\[\\delta_j\\]</div>'
    )
    out = m.on_page_content(markdown, Page, None, None)
    assert out.count("<math") == 2 and 'display="block"' in out and "arithmatex" not in out
    assert "<mi>&#x003B4;</mi>" in out  # δ
    cell = (
        '<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown jp-MarkdownOutput" data-mime-type="text/markdown">'
        "<p>with $a &lt; b$ and $$\\sum_i x_i$$ but <code>$HOME $x</code> costs $5 and $3.</p></div>"
        '<div class="jp-OutputArea"><pre>$not math$</pre></div>'
    )
    out = m.on_page_content(cell, Page, None, None)
    assert out.count("<math") == 2 and "<mo>&#x0003C;</mo>" in out  # the entity became a real <
    assert "<code>$HOME $x</code>" in out and "<pre>$not math$</pre>" in out and "costs $5 and $3." in out


@pytest.mark.docs
def test_the_hook_makes_table_of_contents_titles_plain_text():
    m = hook()

    class Entry:
        def __init__(self, title, children=()):
            self.title, self.children = title, list(children)

    class Titled(Page):
        toc = [Entry("Backpropagation through $L$ layers", [Entry("the $$\\delta$$ terms")])]

    m.on_page_content("", Titled, None, None)
    assert Titled.toc[0].title == "Backpropagation through L layers"
    assert Titled.toc[0].children[0].title == "the \\delta terms"


@pytest.mark.docs
def test_the_hook_warns_on_latex_it_cannot_typeset(caplog):
    m = hook()
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.mathml"):
        m.on_page_content('<span class="arithmatex">\\(\\notacommand{x}\\)</span>', Page, None, None)
    assert "unknown LaTeX \\notacommand" in caplog.text and "page.md" in caplog.text


@pytest.mark.docs
def test_the_hook_drops_remote_and_empty_scripts():
    m = hook()
    page = (
        '<script src="https://cdn.example/mathjax.js"> </script><script src=""> </script>'
        '<script type="text/x-mathjax-config">MathJax.Hub.Config({})</script><script src="../local.js"></script>'
    )
    assert m.on_page_content(page, Page, None, None) == '<script src="../local.js"></script>'


# ---- the whole site, built as .ci/run builds it (without executing the tutorials again) ------------


def site_config(tmp_path, executed):
    """mkdocs.yml as it is, with absolute paths, and only the tutorials in ``executed`` executed."""
    text = (ROOT / "mkdocs.yml").read_text()
    ignore = [f"tutorials/{p.name}" for p in sorted((DOCS / "tutorials").glob("*.py")) if p.stem not in executed]
    replacements = {
        "docs_dir: docs": f"docs_dir: {DOCS}",
        "  - docs/hooks/mathml.py": f"  - {DOCS / 'hooks' / 'mathml.py'}",
        "paths: [.]": f"paths: [{ROOT}]",
        "execute: !ENV [TINYGRAPH_DOCS_EXECUTE, true]": f"execute: true\n      execute_ignore: {ignore}",
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    config = tmp_path / "mkdocs.yml"
    config.write_text(text)
    return config


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # Built as .ci/run builds it, strictly, but with only tutorial 3 (the stepper's) executed:
    # test_tutorials.py executes them all.
    tmp = tmp_path_factory.mktemp("site")
    config = site_config(tmp, executed={"03_hidden_layer"})
    out = tmp / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "--site-dir", str(out)],
        cwd=tmp,
        env=dict(os.environ, NO_MKDOCS_2_WARNING="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.docs
def test_the_site_builds_strictly_with_every_public_name_anchored(site):
    reference = "".join(p.read_text() for p in (site / "reference").rglob("index.html"))
    missing = [name for name in tg.__all__ if f'id="tinygraph.{name}"' not in reference]
    assert not missing
    nodes = (site / "reference" / "nodes" / "index.html").read_text()
    assert 'id="tinygraph.WeightedSum"' in nodes
    for name in tg.__all__:  # each node's own formula_tex and derivative_tex, typeset under its signature
        node = getattr(tg, name)
        if isinstance(node, type) and issubclass(node, tg.Node) and isinstance(node.__dict__.get("formula_tex"), str):
            entry = nodes[nodes.index(f'id="tinygraph.{name}"') :]
            formula = entry[entry.index("doc-signature") :][:20000]
            assert '<div class="tg-formula"><math' in formula[: formula.index("doc-contents")], name
    for page in ("index.html", "guide/shapes/index.html", "tutorials/03_hidden_layer/index.html"):
        assert (site / page).exists(), page


@pytest.mark.docs
def test_the_site_loads_nothing_from_the_network(site):
    remote = re.compile(r'<(?:script|link|img|iframe|source)\b[^>]*\s(?:src|href)="(?:https?:)?//', re.IGNORECASE)
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 10
    inline = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*https?://(?:(?!</script>).)*</script>", re.DOTALL)
    offenders = {
        p.relative_to(site).as_posix(): remote.findall(p.read_text()) + inline.findall(p.read_text()) for p in pages
    }
    assert not {page: found for page, found in offenders.items() if found}
    css = "".join(p.read_text() for p in site.rglob("*.css"))
    assert "fonts.googleapis" not in css and "fonts.gstatic" not in css


@pytest.mark.docs
def test_every_formula_on_the_site_is_mathml(site):
    for page in [site / "index.html", *site.glob("tutorials/*/index.html"), site / "guide/shapes/index.html"]:
        text = page.read_text()
        assert "arithmatex" not in text, page
        assert "x-mathjax-config" not in text, page
    assert "<math" in (site / "index.html").read_text()  # the home page's σ(w·x + b)
    assert all("<math" in p.read_text() for p in site.glob("tutorials/*/index.html"))


@pytest.mark.docs
@pytest.mark.browser
def test_the_tutorials_stepper_steps_its_diagrams_zoom_and_its_formulas_have_a_size(site, browser):
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    errors, outside = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto((site / "tutorials" / "03_hidden_layer" / "index.html").as_uri())
    stepper = page.locator(".tg-stepper").first
    counter = stepper.locator(".tg-counter")
    assert counter.inner_text().startswith("Step 1 / ")
    stepper.locator(".tg-next").click()
    assert counter.inner_text().startswith("Step 2 / ")
    diagram = page.locator(".jp-RenderedSVG img").first
    diagram.click()  # its own size; a click again fits it to the column
    assert diagram.evaluate("img => getComputedStyle(img).maxWidth") == "none"
    diagram.click()
    assert diagram.evaluate("img => getComputedStyle(img).maxWidth") == "100%"
    sizes = page.eval_on_selector_all(  # (the stepper's steps other than the one shown are hidden)
        "math",
        "ms => ms.filter(m => !m.closest('.tg-pair:not(.tg-current)')).map(m => m.getBoundingClientRect().width)",
    )
    assert len(sizes) > 20 and min(sizes) > 0
    page.close()
    assert not errors and not outside


@pytest.mark.docs
def test_the_hook_writes_primes_as_operators_and_drops_remote_inline_scripts():
    m = hook()
    out = m.on_page_content(
        '<p class="arithmatex"></p><span class="arithmatex">\\(\\sigma\'(z)\\)</span>', Page, None, None
    )
    assert "<mi>&#x003C3;</mi><mo>&#x02032;</mo>" in out and "<msup>" not in out
    inline = '<script type="module">const m = await import("https://cdn.example/mermaid.mjs");</script><p>kept</p>'
    assert m.on_page_content(inline, Page, None, None) == "<p>kept</p>"


@pytest.mark.docs
def test_each_tutorial_page_links_its_notebook_which_the_site_holds(site):
    for page in sorted(site.glob("tutorials/*/index.html")):
        name = page.parent.name + ".py"
        text = page.read_text()
        assert f'<a href="{name}" download>' in text, page
        assert text.index(f'href="{name}"') > text.index("</h1>")
        assert (page.parent / name).exists()


@pytest.mark.docs
def test_the_hook_spaces_operator_names_as_tex_does():
    out = hook().on_page_content('<span class="arithmatex">\\(t \\log y\\)</span>', Page, None, None)
    thin = '<mspace width="0.1667em"></mspace>'
    assert f"<mi>t</mi>{thin}<mi>log</mi>{thin}<mi>y</mi>" in out
