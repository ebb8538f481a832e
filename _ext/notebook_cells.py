"""Turn the plain-Markdown, tagged notebooks into the book's exercise boxes and citations.

The notebooks hold no MyST (CONTRIBUTING.md): Colab and Jupyter show them as they are. On
Sphinx's ``source-read`` event this extension rewrites the notebook JSON that myst-nb is
about to parse (the files on disk stay as they are) following the tag table of
CONTRIBUTING.md:

* an ``exercise`` cell, first line ``**Exercise C.K (task T.U): Title**``, becomes a
  sphinx-exercise ``exercise`` box titled by that line, unnumbered (the number is in the
  title: numbers are per chapter) and labelled uniquely in the book
  (``chapters-01-attention-ex-1-1``);
* on a solution page, each run of ``solution`` / ``answer`` cells after an exercise is
  wrapped in that exercise's "Solution to Exercise C.K …" drop-down, and the
  ``### BEGIN/END SOLUTION`` lines of its cells, markdown and code, are dropped (the
  notebooks keep them: the generator needs them);
* on a chapter (student) page, an ``answer`` cell becomes a "Your answer" box; the
  generator's prompt, which tells a notebook user what to do with the cell, becomes one
  for a reader of the web page;
* ``[Vaswani et al. (2017)](#ref-KEY)`` becomes ``{cite:t}`KEY``` and
  ``[Vaswani et al., 2017](#ref-KEY)`` (inside the writer's parentheses) ``{cite:alp}`KEY```;
  the ``references`` cell is dropped (the book has a bibliography page);
* the ``course-setup`` cell's input is hidden.

It also gives the bibliography one author-year style: a pybtex label style
("Cho et al., 2014", as the text cites) with entries sorted by author and year, and a
"Cited in" line under each entry that links back to every place the entry is cited.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docutils import nodes

# The book is built from the repository root, where `utils` lives (one folder above _ext).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from utils import chapters  # noqa: E402
from utils.references import CITATION  # noqa: E402

EXERCISE_TAG = chapters.EXERCISE_TAG
SOLUTION_TAG = chapters.SOLUTION_TAG
ANSWER_TAG = chapters.ANSWER_TAG
SETUP_TAG = chapters.SETUP_TAG
REFERENCES_TAG = chapters.REFERENCES_TAG
HIDING_TAGS = {"hide-input", "remove-input", "hide-cell", "remove-cell"}

# The exercise title, the solution markers and the citation links follow the generator's
# rules, read from the course's own package so the two can never disagree.
EXERCISE_TITLE = chapters.EXERCISE_TITLE
MARKER_LINE = re.compile(
    rf"^[ \t]*(?:{re.escape(chapters.BEGIN)}|{re.escape(chapters.END)})[ \t]*$"
)
CITATION_LINK = CITATION
ANSWER_PROMPT = re.compile(r"^\*\*Your answer:?\*\*:?[ \t]*")
# What the answer box of a chapter page says instead of the generator's notebook prompt.
WEB_ANSWER = (
    "*Write your answer in this cell of the notebook: open the notebook in Colab or Jupyter "
    "with the buttons at the top of this page.*"
)
HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
FENCE_OPEN = re.compile(r"^[ ]{0,3}(`{3,}|~{3,})")
COLON_RUN = re.compile(r"^[ \t]*(:{3,})", re.MULTILINE)

EXERCISE_CLASS = "course-exercise"
ANSWER_CLASS = "course-answer"


@dataclass
class Result:
    """A rewritten notebook and the problems found in it (each names page and cell)."""

    notebook: dict[str, Any]
    problems: list[str] = field(default_factory=list)


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _tags(cell: dict[str, Any]) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _markdown(source: str, cell_id: str) -> dict[str, Any]:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def _solution_start(exercise: str, position: int) -> dict[str, Any]:
    source = f"```{{solution-start}} {exercise}\n:class: dropdown\n```"
    return _markdown(source, f"course-solution-start-{position}")


def exercise_label(docname: str, chapter: str, number: str) -> str:
    """A label unique in the book: ``chapters/01_attention``, 1.1 -> ``chapters-01-attention-ex-1-1``."""
    stem = re.sub(r"[^A-Za-z0-9]+", "-", docname).strip("-").lower()
    return f"{stem}-ex-{chapter}-{number}"


def is_solution_page(docname: str, notebook: dict[str, Any]) -> bool:
    """Solution pages show the model answers; chapter pages are the student edition.

    The generator marks student notebooks with ``metadata.course.edition == "student"``;
    without that mark the page's folder decides.
    """
    edition = notebook.get("metadata", {}).get("course", {}).get("edition")
    if edition == "student":
        return False
    if edition in ("solution", "solutions"):
        return True
    return docname.split("/", 1)[0] == "solutions"


def _fence(body: str) -> str:
    """A colon fence longer than any colon run that starts a line of ``body``."""
    longest = max((len(run) for run in COLON_RUN.findall(body)), default=0)
    return ":" * max(4, longest + 1)


def _directive(name: str, argument: str, options: dict[str, str], body: str) -> str:
    fence = _fence(body)
    lines = [f"{fence}{{{name}}} {argument}".rstrip()]
    lines += [f":{key}:" + (f" {value}" if value else "") for key, value in options.items()]
    lines += ["", body.strip("\n"), fence]
    return "\n".join(lines)


def _map_prose(markdown: str, change) -> str:
    """Apply ``change`` to each line of ``markdown`` outside fenced code blocks."""
    out: list[str] = []
    fence: str | None = None
    for line in markdown.split("\n"):
        opened = FENCE_OPEN.match(line)
        if fence is None and opened:
            fence = opened.group(1)
        elif fence is not None:
            closing = line.strip()
            if closing.startswith(fence[0] * len(fence)) and not closing.strip(fence[0]):
                fence = None
        else:
            line = change(line)
        out.append(line)
    return "\n".join(out)


def convert_citations(markdown: str) -> str:
    """Citation links to sphinxcontrib-bibtex roles, outside fenced code and code spans.

    ``[Vaswani et al. (2017)](#ref-K)`` (textual: the text has the year in parentheses)
    becomes ``{cite:t}`K```; ``[Vaswani et al., 2017](#ref-K)`` becomes ``{cite:alp}`K```,
    the author-year text without parentheses, since the writer put them around the link.
    """

    def replace(match: re.Match[str]) -> str:
        text, key = match.group(1), match.group(2)
        role = "t" if text.rstrip().endswith(")") else "alp"
        return f"{{cite:{role}}}`{key}`"

    def change(line: str) -> str:
        # Split off code spans (odd items) so that a link shown as code stays code.
        parts = re.split(r"(`+[^`]*`+)", line)
        return "".join(
            part if index % 2 else CITATION_LINK.sub(replace, part)
            for index, part in enumerate(parts)
        )

    return _map_prose(markdown, change)


def demote_headings(markdown: str) -> str:
    """Markdown headings, outside code, as rubrics (styled like headings, but not sections).

    A heading inside an exercise box or a solution drop-down would start a section there:
    docutils rejects sections inside a directive, and a section between
    ``solution-start`` and ``solution-end`` splits the drop-down.
    """

    def change(line: str) -> str:
        heading = HEADING.match(line)
        return f":::{{rubric}} {heading.group(2)}\n:::" if heading else line

    return _map_prose(markdown, change)


def _strip_markers(markdown: str) -> str:
    lines = [line for line in markdown.split("\n") if not MARKER_LINE.match(line)]
    return "\n".join(lines).strip("\n")


def transform_notebook(notebook: dict[str, Any], docname: str) -> Result:
    """The notebook (nbformat 4 JSON as a dict) with its tags turned into MyST; a new dict."""
    notebook = json.loads(json.dumps(notebook))
    result = Result(notebook)
    solution_page = is_solution_page(docname, notebook)
    cells: list[dict[str, Any]] = []
    exercise: str | None = None  # label of the latest exercise
    open_run = False  # inside a solution drop-down

    def close_run() -> None:
        nonlocal open_run
        if open_run:
            cells.append(_markdown("```{solution-end}\n```", f"course-solution-end-{len(cells)}"))
            open_run = False

    for index, cell in enumerate(notebook.get("cells", [])):
        where = f"{docname}, cell {index}"
        tags = _tags(cell)
        kind = cell.get("cell_type")
        if REFERENCES_TAG in tags:
            continue
        in_solution = solution_page and (SOLUTION_TAG in tags or ANSWER_TAG in tags)
        if not in_solution:
            close_run()
        if kind == "code" and SETUP_TAG in tags and not HIDING_TAGS & set(tags):
            cell.setdefault("metadata", {})["tags"] = tags + ["hide-input"]
        if in_solution:
            if exercise is None:
                result.problems.append(
                    f"{where}: a '{SOLUTION_TAG}'/'{ANSWER_TAG}' cell before any exercise; put "
                    f"it after the '{EXERCISE_TAG}' cell it answers."
                )
            elif not open_run:
                cells.append(_solution_start(exercise, len(cells)))
                open_run = True
        if kind != "markdown":
            if in_solution and kind == "code":
                cell["source"] = _strip_markers(_source(cell))
            cells.append(cell)
            continue

        text = convert_citations(_source(cell))
        if EXERCISE_TAG in tags:
            heading, _, body = text.strip().partition("\n")
            match = EXERCISE_TITLE.match(heading.strip())
            if not match:
                result.problems.append(
                    f"{where}: an '{EXERCISE_TAG}' cell starts with '**Exercise C.K (task T.U): "
                    f"Title**' or '**Exercise C.K: Title**', not {heading.strip()!r}."
                )
            else:
                title, chapter, number = match.groups()
                exercise = exercise_label(docname, chapter, number)
                options = {"label": exercise, "nonumber": "", "class": EXERCISE_CLASS}
                text = _directive("exercise", title, options, demote_headings(body))
        elif in_solution:
            text = demote_headings(_strip_markers(text))
        elif ANSWER_TAG in tags:
            # The box is titled "Your answer"; the generator's prompt may say so too.
            if text.strip() == chapters.ANSWER:
                text = WEB_ANSWER
            body = ANSWER_PROMPT.sub("", text.strip(), count=1)
            text = _directive(
                "admonition", "Your answer", {"class": ANSWER_CLASS}, demote_headings(body)
            )
        cell["source"] = text
        cells.append(cell)
    close_run()
    notebook["cells"] = cells
    return result


def transform_source(text: str, docname: str) -> Result:
    """:func:`transform_notebook` on the notebook's JSON text."""
    return transform_notebook(json.loads(text), docname)


# --- Sphinx -------------------------------------------------------------------------------


def _on_source_read(app, docname: str, source: list[str]) -> None:
    from sphinx.util import logging

    if not str(app.env.doc2path(docname)).endswith(".ipynb"):
        return
    result = transform_source(source[0], docname)
    logger = logging.getLogger(__name__)
    for problem in result.problems:
        logger.warning(problem, location=docname, type="notebook_cells")
    source[0] = json.dumps(result.notebook, ensure_ascii=False)


def _find_title(node):
    for child in node.children:
        if isinstance(child, nodes.title):
            return child
    return None


def _unwrap(container) -> None:
    """``Exercise (subtitle)`` -> ``subtitle`` among ``container``'s children.

    sphinx-exercise titles an unnumbered exercise "Exercise (…)" and links its solution as
    "Solution to Exercise (…)"; our subtitle is the whole title, "Exercise 2.1 (task 2.1): …".
    """
    children = list(container.children)
    if not (
        len(children) >= 3
        and isinstance(children[0], nodes.Text)
        and children[0].astext().strip() == "Exercise"
        and children[1].astext() == " ("
        and isinstance(children[-1], nodes.Text)
        and children[-1].astext() == ")"
    ):
        return
    leading = [nodes.Text(" ")] if children[0].astext().startswith(" ") else []
    container.children = []
    container.extend(leading + children[2:-1])


def _setup_post_transform(app):
    from sphinx.transforms.post_transforms import SphinxPostTransform
    from sphinx_exercise.nodes import exercise_node, solution_node

    class TitleOwnExercises(SphinxPostTransform):
        """Exercise boxes titled "Exercise 2.1 (task 2.1): Title", solutions "Solution to" it.

        A second drop-down for the same exercise says "(continued)". Runs after sphinx-exercise has written "Exercise (…)" / "Solution to Exercise (…)".
        """

        default_priority = 25

        def run(self, **kwargs) -> None:
            for node in self.document.findall(exercise_node):
                if EXERCISE_CLASS not in node.get("classes", []):
                    continue
                title = _find_title(node)
                if title is not None:
                    _unwrap(title)
            registry = getattr(self.env, "sphinx_exercise_registry", {})
            answered: set[str] = set()
            for node in self.document.findall(solution_node):
                target = registry.get(node.get("target_label"), {}).get("node")
                if target is None or EXERCISE_CLASS not in target.get("classes", []):
                    continue
                title = _find_title(node)
                if title is None:
                    continue
                for reference in list(title.findall(nodes.reference)):
                    _unwrap(reference)
                    first = reference.children[0] if reference.children else None
                    if isinstance(first, nodes.Text) and first.astext() == " ":
                        reference.remove(first)
                        reference.parent.insert(reference.parent.index(reference), nodes.Text(" "))
                # A check cell between two solution cells splits one solution in two.
                if node.get("target_label") in answered:
                    title += nodes.Text(" (continued)")
                answered.add(node.get("target_label"))
                node["title"] = title.astext()

    app.add_post_transform(TitleOwnExercises)


# --- Citations: keep the in-text ids, link the bibliography back to them --------------------


def _setup_citation_ids(app):
    from sphinx import addnodes
    from sphinx.transforms.post_transforms import SphinxPostTransform

    class KeepCitationIds(SphinxPostTransform):
        """Keep the id of each citation in the page (the cite role's node loses it).

        sphinxcontrib-bibtex gives each citation an id (for backrefs) on a pending
        reference that Sphinx then replaces; an empty span carries the id into the HTML so
        that the bibliography can link back to the citation.
        """

        default_priority = 5  # before Sphinx resolves the references (10)

        def run(self, **kwargs) -> None:
            for node in list(self.document.findall(addnodes.pending_xref)):
                if node.get("refdomain") == "cite" and node.get("ids"):
                    anchor = nodes.inline("", "", ids=list(node["ids"]), classes=["cite-anchor"])
                    node.parent.insert(node.parent.index(node), anchor)
                    node["ids"] = []

    app.add_post_transform(KeepCitationIds)


def _page_order(app, docname: str) -> tuple[int, str]:
    root = app.config.root_doc
    return (0 if docname == root else 1, docname)


def _add_cited_in(app, doctree, fromdocname: str) -> None:
    """Under each bibliography entry, "Cited in:" with a link to every citation of it."""
    domain = app.env.get_domain("cite")
    if not domain.citations:
        return
    key_by_id = {citation.citation_id: citation.key for citation in domain.citations}
    for entry in list(doctree.findall(nodes.citation)):
        key = next((key_by_id[i] for i in entry.get("ids", []) if i in key_by_id), None)
        if key is None:
            continue
        places: dict[str, list[str]] = {}
        for ref in domain.citation_refs:
            if key in {target.key for target in ref.targets}:
                places.setdefault(ref.docname, []).append(ref.citation_ref_id)
        if not places:
            continue
        paragraph = nodes.paragraph(classes=["cited-in"])
        paragraph += nodes.Text("Cited in: ")
        for number, docname in enumerate(sorted(places, key=lambda d: _page_order(app, d))):
            if number:
                paragraph += nodes.Text("; ")
            uri = app.builder.get_relative_uri(fromdocname, docname)
            title = app.env.titles[docname].astext() if docname in app.env.titles else docname
            ids = places[docname]
            paragraph += nodes.reference("", title, refuri=f"{uri}#{ids[0]}", internal=True)
            for extra, ref_id in enumerate(ids[1:], start=2):
                paragraph += nodes.Text(" ")
                paragraph += nodes.reference(
                    "",
                    f"[{extra}]",
                    refuri=f"{uri}#{ref_id}",
                    internal=True,
                    classes=["cited-again"],
                )
        entry += paragraph


# --- pybtex: author-year labels ---------------------------------------------------------------


def _plain(latex: str) -> str:
    from pybtex.richtext import Text

    return Text.from_latex(latex).render_as("text")


def author_year_label(entry) -> str:
    """``Cho et al., 2014``: the label the text cites, from the entry's authors (or editors)."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    last = [_plain(" ".join(p.prelast_names + p.last_names)) for p in people]
    if not last:
        authors = _plain(entry.fields.get("title", entry.key))
    elif len(last) == 1:
        authors = last[0]
    elif len(last) == 2:
        authors = f"{last[0]} and {last[1]}"
    else:
        authors = f"{last[0]} et al."
    year = _plain(entry.fields.get("year", "n.d."))
    return f"{authors}, {year}"


def _register_reference_style() -> None:
    """``course_author_year``: sphinxcontrib-bibtex's ``author_year`` as the notebooks write it.

    ``author_year`` puts square brackets around years ("Cho et al. [2014]"), separates
    several works by commas and sets "et al." in italics; the notebooks, read in Colab,
    write "Cho et al. (2014)", "(Cho et al., 2014; Chollet, 2021)" and a plain "et al.".
    """
    from dataclasses import dataclass, field

    from sphinxcontrib.bibtex.plugin import register_plugin
    from sphinxcontrib.bibtex.style.referencing import BracketStyle, PersonStyle
    from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

    def round_brackets() -> BracketStyle:
        return BracketStyle(left="(", right=")", sep="; ", sep2="; ", last_sep="; ")

    def plain_et_al() -> PersonStyle:
        return PersonStyle(other=" et al.")

    @dataclass
    class CourseAuthorYearReferenceStyle(AuthorYearReferenceStyle):
        bracket_textual: BracketStyle = field(default_factory=round_brackets)
        bracket_parenthetical: BracketStyle = field(default_factory=round_brackets)
        bracket_author: BracketStyle = field(default_factory=round_brackets)
        bracket_label: BracketStyle = field(default_factory=round_brackets)
        bracket_year: BracketStyle = field(default_factory=round_brackets)
        person: PersonStyle = field(default_factory=plain_et_al)

    register_plugin(
        "sphinxcontrib.bibtex.style.referencing",
        "course_author_year",
        CourseAuthorYearReferenceStyle,
        force=True,
    )


def _register_pybtex_styles() -> None:
    from pybtex.plugin import register_plugin
    from pybtex.style.formatting.plain import Style as PlainStyle
    from pybtex.style.labels import BaseLabelStyle

    class AuthorYearLabelStyle(BaseLabelStyle):
        """Labels "Cho et al., 2014"; equal labels get "a", "b", … after the year."""

        def format_labels(self, sorted_entries):
            entries = list(sorted_entries)
            labels = [author_year_label(entry) for entry in entries]
            counts = Counter(labels)
            seen: Counter[str] = Counter()
            for label in labels:
                if counts[label] > 1:
                    seen[label] += 1
                    yield f"{label}{chr(ord('a') + seen[label] - 1)}"
                else:
                    yield label

    class AuthorYearStyle(PlainStyle):
        """pybtex's plain entries, labelled and sorted by author and year."""

        default_label_style = "course_author_year"
        default_sorting_style = "author_year_title"

    register_plugin("pybtex.style.labels", "course_author_year", AuthorYearLabelStyle, force=True)
    register_plugin("pybtex.style.formatting", "course_author_year", AuthorYearStyle, force=True)


# --- Static files -----------------------------------------------------------------------------


def _drop_mathjax_from_every_page(app, config) -> None:
    """Jupyter Book adds every .js/.css file under any html_static_path to every page once a
    _static folder exists; MathJax (served from _mathjax/) loads its own components itself."""
    for name in ("html_js_files", "html_css_files"):
        files = getattr(config, name, None) or []
        kept = [
            item
            for item in files
            if not (item[0] if isinstance(item, tuple | list) else item).startswith("mathjax/")
        ]
        setattr(config, name, kept)


def setup(app):
    _register_pybtex_styles()
    _register_reference_style()
    app.connect("config-inited", _drop_mathjax_from_every_page)
    app.connect("source-read", _on_source_read)
    app.connect("doctree-resolved", _add_cited_in)
    _setup_post_transform(app)
    _setup_citation_ids(app)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
