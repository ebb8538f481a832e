"""Small Sphinx fixes for the book, loaded through `sphinx.local_extensions` in _config.yml.

- sphinx-thebe 0.3.1 registers its inline configuration script while Sphinx 7.4 is already
  building, so that script lands twice on every page and the browser reports
  "Identifier 'THEBE_JS_URL' has already been declared". We keep one copy of each inline
  script (the browser test in tests/test_book.py checks that pages have no console errors).
- Terminal colours leave the outputs. Keras prints its model summaries with rich, which
  stores each one twice: as HTML, a ``<pre>`` coloured for a dark terminal (cyan "None" on
  the page's light grey is 1.6:1), and as text with ANSI escape codes. The book shows the
  text without its escape codes instead (`_plain_terminal_outputs`); the notebooks keep what
  they store.
- Accessible names match what the reader sees (axe's label-content-name-mismatch): a
  ``<summary>`` is named by its visible text, not by myst-nb's "Toggle hidden content";
  the theme's search and colour-mode buttons come from the overrides in _templates/.
- Bibliography entries are list items of their list (docutils marks them with the
  deprecated role ``doc-biblioentry``, which leaves the list without items for assistive
  technology: axe's aria-required-children).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from docutils import nodes

TEMPLATES = Path(__file__).resolve().parent.parent / "_templates"

# ECMA-48 escape sequences: CSI (ESC [ parameters intermediates final: colours, bold, cursor
# moves), OSC (ESC ] ... BEL or ESC \: titles, hyperlinks) and the two-byte ones (ESC 0x40-0x5F).
ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])")
# An HTML output that is nothing but preformatted text (what rich and IPython emit for text
# styled for a terminal).
_ONLY_PRE = re.compile(r"^\s*<pre\b[^>]*>.*</pre>\s*$", re.DOTALL | re.IGNORECASE)


def strip_ansi(text: str) -> str:
    """``text`` without its terminal escape sequences (colours, bold, cursor moves)."""
    return ANSI_ESCAPE.sub("", text)


class _Text(HTMLParser):
    """Collects the text of an HTML fragment, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_pre_text(fragment: str) -> str:
    """The text a ``<pre>`` fragment shows, without its tags."""
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    return "".join(parser.parts)


def _set_text(block: nodes.literal_block, text: str) -> None:
    block.children = []
    block.append(nodes.Text(text))
    block.rawsource = text


def _plain_terminal_outputs(app, doctree: nodes.document) -> None:
    """Show terminal-styled outputs as plain text (see the module docstring).

    myst-nb keeps each output's MIME types side by side (a ``mime_bundle`` container with one
    container per type) and picks one per builder later. A bundle whose HTML is only a
    ``<pre>`` keeps its plain text instead, or, without one, the ``<pre>``'s text; every
    output's text loses its escape codes.
    """
    for bundle in list(doctree.findall(nodes.container)):
        if bundle.get("nb_element") != "mime_bundle":
            continue
        by_type = {child.get("mime_type"): child for child in bundle.children}
        rich = by_type.get("text/html")
        if rich is None:
            continue
        markup = "".join(raw.astext() for raw in rich.findall(nodes.raw))
        if not _ONLY_PRE.match(markup):
            continue
        if "text/plain" in by_type:
            bundle.remove(rich)
        else:
            text = html_pre_text(markup)
            block = nodes.literal_block(text, text, classes=["output", "text_plain"])
            block["language"] = "none"
            rich.children = [block]
            rich["mime_type"] = "text/plain"
    for block in doctree.findall(nodes.literal_block):
        if "output" in block.get("classes", []) and "\x1b" in block.astext():
            _set_text(block, strip_ansi(block.astext()))


_SUMMARY_LABEL = re.compile(r'<summary aria-label="[^"]*">')


def _page_fixes(app, pagename, templatename, context, doctree):
    """One copy of each inline script; accessible names and roles in the page body."""
    scripts = context.get("script_files")
    if scripts:
        seen: set[str] = set()
        kept = []
        for script in scripts:
            body = getattr(script, "attributes", {}).get("body")
            if body:
                if body in seen:
                    continue
                seen.add(body)
            kept.append(script)
        context["script_files"] = kept
    body = context.get("body")
    if body:
        # A drop-down's summary ("Show code cell source") is named by what it says.
        body = _SUMMARY_LABEL.sub("<summary>", body)
        body = body.replace('role="doc-biblioentry"', 'role="listitem"')
        context["body"] = body


def _use_templates(app, config) -> None:
    """Put _templates/ first, before the themes' component folders (they append theirs)."""
    config.templates_path = [str(TEMPLATES)] + [
        path for path in config.templates_path if Path(path) != TEMPLATES
    ]


def setup(app):
    app.connect("config-inited", _use_templates)
    app.connect("doctree-read", _plain_terminal_outputs)
    app.connect("html-page-context", _page_fixes, priority=900)
    return {"env_version": 1, "parallel_read_safe": True, "parallel_write_safe": True}
