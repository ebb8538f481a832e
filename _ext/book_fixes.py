"""Small Sphinx fixes for the book, loaded through `sphinx.local_extensions` in _config.yml.

sphinx-thebe 0.3.1 registers its inline configuration script while Sphinx 7.4 is already
building, so that script lands twice on every page and the browser reports
"Identifier 'THEBE_JS_URL' has already been declared". We keep one copy of each inline
script (the browser test in tests/test_book.py checks that pages have no console errors).
"""

from __future__ import annotations


def _drop_duplicate_inline_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
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


def setup(app):
    app.connect("html-page-context", _drop_duplicate_inline_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
