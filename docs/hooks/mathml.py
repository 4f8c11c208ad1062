"""MkDocs hook: typeset the site's LaTeX as MathML when the site is built.

Browsers draw MathML themselves (Chromium, Firefox and Safari), so the pages need no
JavaScript and no CDN for their formulas. Two sources of LaTeX are converted:

- Markdown pages, where ``pymdownx.arithmatex`` (generic mode) leaves ``\\(…\\)`` in a
  ``<span class="arithmatex">`` and ``\\[…\\]`` in a ``<div class="arithmatex">``;
- the tutorials' Markdown cells, which nbconvert leaves as ``$…$`` and ``$$…$$`` inside
  ``jp-RenderedMarkdown`` blocks. Code, code output and everything else stay untouched.

A formula latex2mathml cannot read, or a command it does not know (it would come out as
``\\name`` in the page), is logged as a warning, which ``mkdocs build --strict`` turns
into a failed build. Script tags that load from another host or from nowhere, and nbconvert's MathJax
configuration, are dropped: the pages load nothing from the network.
"""

from __future__ import annotations

import html
import logging
import re

from latex2mathml.converter import convert

log = logging.getLogger("mkdocs.hooks.mathml")

ARITHMATEX = re.compile(r'<(span|div) class="arithmatex">\s*\\([(\[])(.*?)\\[)\]]\s*</\1>', re.DOTALL)
MARKDOWN_CELL = re.compile(
    r'(<div class="jp-RenderedHTMLCommon jp-RenderedMarkdown[^"]*"[^>]*>)(.*?)(</div>)', re.DOTALL
)
CODE = re.compile(r"(<pre.*?</pre>|<code.*?</code>)", re.DOTALL)
DOLLARS = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)(.+?)(?<![\s\\])\$(?!\d)", re.DOTALL)
REMOTE_SCRIPT = re.compile(r'<script[^>]*\ssrc="(?:(?:https?:)?//[^"]*)?"[^>]*>\s*</script>', re.IGNORECASE)
MATHJAX = re.compile(
    r'(?:<!-- (?:Load mathjax|MathJax configuration) -->\s*)?<script type="text/x-mathjax-config">.*?</script>',
    re.DOTALL,
)
UNKNOWN = re.compile(r"<m[io][^>]*>(\\[A-Za-z]+)</m[io]>")


def mathml(latex: str, block: bool, where: str) -> str:
    """The MathML of one formula (``latex`` as it stands in the HTML, entities and all)."""
    source = html.unescape(latex).strip()
    try:
        out = convert(source, display="block" if block else "inline")
    except Exception as error:  # latex2mathml raises its own exceptions and plain ones
        log.warning("%s: cannot typeset %r: %s", where, source, error)
        return html.escape(source)
    unknown = UNKNOWN.findall(out)
    if unknown:
        log.warning("%s: unknown LaTeX %s in %r", where, ", ".join(sorted(set(unknown))), source)
    return out


def dollars(text: str, where: str) -> str:
    """Typeset ``$…$`` and ``$$…$$`` in rendered Markdown, leaving code alone."""
    pieces = CODE.split(text)
    for i in range(0, len(pieces), 2):  # even pieces are outside <pre> and <code>
        pieces[i] = DOLLARS.sub(
            lambda m: mathml(m.group(1) if m.group(1) is not None else m.group(2), m.group(1) is not None, where),
            pieces[i],
        )
    return "".join(pieces)


def plain_titles(items) -> None:
    """Table-of-contents entries are plain text: ``Backpropagation through $L$ layers`` loses its dollars."""
    for item in items:
        item.title = re.sub(r"\$+([^$]*)\$+", r"\1", item.title)
        plain_titles(item.children)


def on_page_content(html_text: str, page, config, files) -> str:  # MkDocs' signature
    where = page.file.src_path
    plain_titles(page.toc or [])
    html_text = ARITHMATEX.sub(lambda m: mathml(m.group(3), m.group(2) == "[", where), html_text)
    html_text = MARKDOWN_CELL.sub(lambda m: m.group(1) + dollars(m.group(2), where) + m.group(3), html_text)
    return MATHJAX.sub("", REMOTE_SCRIPT.sub("", html_text))
