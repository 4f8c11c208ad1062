"""MkDocs hook: typeset the site's LaTeX as MathML when the site is built.

Browsers draw MathML themselves (Chromium, Firefox and Safari), so the pages need no
JavaScript and no CDN for their formulas. Two sources of LaTeX are converted:

- Markdown pages, where ``pymdownx.arithmatex`` (generic mode) leaves ``\\(…\\)`` in a
  ``<span class="arithmatex">`` and ``\\[…\\]`` in a ``<div class="arithmatex">``;
- the tutorials' Markdown cells, which nbconvert leaves as ``$…$`` and ``$$…$$`` inside
  ``jp-RenderedMarkdown`` blocks. Code, code output and everything else stay untouched.

A formula latex2mathml cannot read, or a command it does not know (it would come out as
``\\name`` in the page), is logged as a warning, which ``mkdocs build --strict`` turns
into a failed build. Script tags that load from another host or from nowhere, scripts that would import from
another host (nbconvert's MathJax and mermaid), are dropped: the pages load nothing from the
network. Each tutorial page starts with a link to download its notebook, and each node class in
the API reference shows its formula and derivative typeset from its own LaTeX.
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
# latex2mathml writes σ' as a superscript prime, which browsers draw as a faint tick far above the
# letter; a prime is an operator written right after it.
PRIME = re.compile(r"<msup>(<mi>[^<]*</mi>)(?:<mrow>)?<mi>&#x02032;</mi>(?:</mrow>)?</msup>")
# \log, \exp, … come out as plain identifiers, run together with their neighbours ("tlogy"); TeX
# puts a thin space on each side of an operator name.
NAMED = re.compile(r"<m[io]>(log|ln|exp|max|min|sin|cos|tanh|sign|argmax)</m[io]>")
THIN = '<mspace width="0.1667em"></mspace>'
REMOTE_INLINE = re.compile(r"<script\b[^>]*>(?:(?!</script>).)*?https?://(?:(?!</script>).)*</script>", re.DOTALL)


def mathml(latex: str, block: bool, where: str) -> str:
    """The MathML of one formula (``latex`` as it stands in the HTML, entities and all)."""
    source = html.unescape(latex).strip()
    try:
        out = convert(source, display="block" if block else "inline")
    except Exception as error:  # latex2mathml raises its own exceptions and plain ones
        log.warning("%s: cannot typeset %r: %s", where, source, error)
        return html.escape(source)
    out = PRIME.sub(r"\1<mo>&#x02032;</mo>", out)
    out = NAMED.sub(lambda m: f"{THIN}<mi>{m.group(1)}</mi>{THIN}", out)
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


HEADING = re.compile(
    r'<h\d id="tinygraph\.(\w+)" class="doc doc-heading">.*?</h\d>\s*<div class="doc-signature.*?</div>', re.DOTALL
)


def node_formulas(html_text: str, where: str) -> str:
    """Under each node class's signature in the reference, its formula and local derivative typeset
    from the node's own ``formula_tex`` and ``derivative_tex``: the text the trace shows."""
    import tinygraph

    def typeset(match: re.Match) -> str:
        node = getattr(tinygraph, match.group(1), None)
        tex = [
            getattr(node, name, None) if isinstance(node, type) and issubclass(node, tinygraph.Node) else None
            for name in ("formula_tex", "derivative_tex")
        ]
        shown = [mathml(html.escape(t), True, where) for t in tex if isinstance(t, str) and t]
        return match.group(0) + (f'<div class="tg-formula">{"".join(shown)}</div>' if shown else "")

    return HEADING.sub(typeset, html_text)


def on_page_content(html_text: str, page, config, files) -> str:  # MkDocs' signature
    where = page.file.src_path
    plain_titles(page.toc or [])
    html_text = ARITHMATEX.sub(lambda m: mathml(m.group(3), m.group(2) == "[", where), html_text)
    html_text = MARKDOWN_CELL.sub(lambda m: m.group(1) + dollars(m.group(2), where) + m.group(3), html_text)
    if page.file.src_path.startswith("reference/"):
        html_text = node_formulas(html_text, where)
    html_text = REMOTE_INLINE.sub("", MATHJAX.sub("", REMOTE_SCRIPT.sub("", html_text)))
    if page.file.src_path.startswith("tutorials/") and page.file.src_path.endswith(".py"):
        name = page.file.src_path.rsplit("/", 1)[1]
        source = (
            f'<p class="tg-source">This page is the notebook <a href="{name}" download><code>{name}</code></a>, '
            "executed when the site was built: download it and open it in JupyterLab, or run it as a "
            'script (see <a href="../../#run-the-tutorials-yourself">Run the tutorials yourself</a>).</p>'
        )
        html_text = html_text.replace("</h1>", "</h1>\n" + source, 1)
    return html_text
