"""The works the course cites, read from ``references.bib``.

Notebooks cite in plain Markdown, ``[Vaswani et al. (2017)](#ref-vaswani2017attention)``,
so that Colab and Jupyter show readable text; the generator appends a "References" cell
with the anchors, and the book turns the links into bibliography citations. The
author-year texts follow sphinxcontrib-bibtex's ``author_year`` style: one author
("Chollet"), two ("Hochreiter and Schmidhuber"), three or more ("Vaswani et al.").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIBFILE = ROOT / "references.bib"

# A citation link in a notebook's markdown: [text](#ref-KEY).
CITATION = re.compile(r"\[([^\]]+)\]\(#ref-([A-Za-z0-9_:.\-]+)\)")


@dataclass(frozen=True)
class Reference:
    key: str
    authors: str  # "Vaswani et al."
    year: str
    entry: str  # the full reference as Markdown

    @property
    def textual(self) -> str:
        """The citation as part of a sentence: "Vaswani et al. (2017)"."""
        return f"{self.authors} ({self.year})"

    @property
    def parenthetical(self) -> str:
        """The citation inside the writer's own parentheses: "Vaswani et al., 2017"."""
        return f"{self.authors}, {self.year}"


@functools.cache
def _text_backend():
    # render_as("text") looks pybtex's plugins up again on every call (about 0.2 s each);
    # one backend instance renders the same way.
    from pybtex.backends.plaintext import Backend

    return Backend()


def _plain(latex: str) -> str:
    """LaTeX-encoded BibTeX text as plain Unicode ("Kaiser, {\\L}ukasz" -> "Kaiser, Łukasz")."""
    from pybtex.richtext import Text

    return Text.from_latex(latex).render(_text_backend())


def _last(person) -> str:
    return _plain(" ".join(person.prelast_names + person.last_names))


def _initials(person) -> str:
    names = [_plain(name) for name in person.first_names + person.middle_names]
    return " ".join(f"{name[0]}." for name in names if name)


def _format_entry(entry) -> str:
    people = entry.persons.get("author", []) or entry.persons.get("editor", [])
    names = [f"{_last(p)}, {_initials(p)}".rstrip(", ") for p in people]
    if len(names) <= 2:
        authors = " and ".join(names)
    else:
        authors = ", ".join(names[:-1]) + ", and " + names[-1]
    fields = {name.lower(): _plain(value) for name, value in entry.fields.items()}
    parts = [f"{authors} ({fields.get('year', 'n.d.')}). {fields.get('title', '').rstrip('.')}."]
    venue = fields.get("journal") or fields.get("booktitle")
    if venue:
        parts.append(f"*{venue}*" + (f", {fields['pages']}." if "pages" in fields else "."))
    elif entry.type == "book" and "publisher" in fields:
        parts.append(f"{fields['publisher']}.")
    elif "howpublished" in fields:
        parts.append(f"{fields['howpublished']}.")
    if "url" in fields:
        parts.append(f"<{fields['url']}>")
    return " ".join(parts).replace("--", "–")


def _author_text(entry) -> str:
    people = entry.persons.get("author", []) or entry.persons.get("editor", [])
    if not people:
        raise ValueError(f"references.bib: entry {entry.key!r} has no author or editor")
    if len(people) == 1:
        return _last(people[0])
    if len(people) == 2:
        return f"{_last(people[0])} and {_last(people[1])}"
    return f"{_last(people[0])} et al."


def load_references(path: Path = BIBFILE) -> dict[str, Reference]:
    """Every entry of the BibTeX file, by key."""
    from pybtex.database import parse_file

    database = parse_file(str(path), bib_format="bibtex")
    references = {}
    for key, entry in database.entries.items():
        year = _plain(entry.fields.get("year", ""))
        if not year:
            raise ValueError(f"{path.name}: entry {key!r} has no year")
        references[key] = Reference(key, _author_text(entry), year, _format_entry(entry))
    return references


def cited_keys(markdown: str) -> list[str]:
    """The keys cited in ``markdown``, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in CITATION.finditer(markdown):
        seen.setdefault(match.group(2), None)
    return list(seen)


def references_markdown(keys: list[str], references: dict[str, Reference]) -> str:
    """The "References" cell: one anchored entry per key, sorted by author and year."""
    ordered = sorted(keys, key=lambda k: (references[k].authors, references[k].year, k))
    lines = ["## References", ""]
    lines += [f'- <a id="ref-{key}"></a>{references[key].entry}' for key in ordered]
    return "\n".join(lines)
