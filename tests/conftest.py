"""Shared test settings: deterministic hypothesis runs in CI, and tests that need a program.

``@pytest.mark.graphviz`` tests need Graphviz's ``dot``; ``@pytest.mark.browser`` tests need Chromium and the
playwright package too; ``@pytest.mark.docs`` tests need the docs extra (MkDocs and its plugins) and ``dot``.
Locally they skip, saying what is missing; with ``CI`` set they always run, so a missing program fails them.
"""

import os
import shutil

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def missing_dot():
    return None if shutil.which("dot") else "Graphviz 'dot' is not installed (apt-get install graphviz)"


def missing_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install '.[test]')"
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "Chromium is not installed (apt-get install chromium)"
    return missing_dot()


def missing_docs():
    try:
        import latex2mathml  # noqa: F401
        import mkdocs  # noqa: F401
        import mkdocs_jupyter  # noqa: F401
        import mkdocstrings  # noqa: F401
    except ImportError as error:
        return f"the docs extra is not installed ({error.name}; pip install '.[docs]')"
    return missing_dot()


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's headless Chromium driven by Playwright, shared by every browser test (mark them ``browser``)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=shutil.which("chromium") or shutil.which("chromium-browser"), args=CHROMIUM_ARGS
        )
        yield b
        b.close()


def pytest_runtest_setup(item):
    for marker, missing in (("graphviz", missing_dot), ("browser", missing_browser), ("docs", missing_docs)):
        why = item.get_closest_marker(marker) and missing()
        if why and not os.environ.get("CI"):
            pytest.skip(why)
