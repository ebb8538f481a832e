"""The book's notebook transform (_ext/notebook_cells.py) on small synthetic notebooks.

Unit tests of the rewrite from tagged plain Markdown to MyST, of the author-year
bibliography labels, and one small book built with the real _config.yml, whose HTML shows
the exercise boxes, the solution drop-downs, the citations and the bibliography.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from conftest import build_book
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "_ext"))

import notebook_cells as nc  # noqa: E402  (the extension lives in _ext, not a package)


def _cell(kind: str, source: str, *tags: str, **metadata):
    make = new_markdown_cell if kind == "md" else new_code_cell
    cell = make(source, metadata=dict(metadata))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _solution_notebook(chapter: int = 2) -> nbformat.NotebookNode:
    c = chapter
    notebook = new_notebook(
        cells=[
            _cell("md", f"# Chapter {c}: Synthetic (solutions)\n\nText."),
            _cell("code", "print('setup')", "course-setup"),
            _cell(
                "md",
                f"**Exercise {c}.1 (task {c}.1): Queries and $Q$**\n\nImplement `qkv`.\n\n"
                "```python\nqkv(X)\n```\n\n::: not a fence here",
                "exercise",
            ),
            _cell(
                "code",
                "def qkv(X):\n    ### BEGIN SOLUTION\n    return X\n    ### END SOLUTION",
                "solution",
            ),
            _cell("code", "check_qkv(qkv)"),
            _cell("code", "Q = qkv(X)", "solution"),
            _cell("md", f"**Exercise {c}.2: Why?**\n\nExplain.", "exercise"),
            _cell("md", "### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "answer"),
            _cell("md", "### Check your answer\n\nA proof.", "solution"),
            _cell("code", "print(1)", "solution"),
            _cell("md", "## Summary"),
            _cell("md", '## References\n\n- <a id="ref-x"></a>X.', "references"),
        ]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def _student_notebook(chapter: int = 2) -> nbformat.NotebookNode:
    notebook = _solution_notebook(chapter)
    del notebook.cells[5]  # Q = qkv(X): the student writes it (the stub is not needed here)
    notebook.cells[3].source = "def qkv(X):\n    raise NotImplementedError()"
    notebook.cells[3].metadata.pop("tags")
    notebook.cells[6].source = nc.chapters.ANSWER  # the generator's prompt
    del notebook.cells[7:9]
    notebook.metadata["course"] = {"edition": "student"}
    return notebook


def _sources(result: nc.Result) -> list[str]:
    return [cell["source"] for cell in result.notebook["cells"]]


def test_exercise_becomes_an_unnumbered_box_with_its_title_and_a_unique_label():
    result = nc.transform_notebook(_student_notebook(), "chapters/02_rnn")
    assert result.problems == []
    exercise = _sources(result)[2]
    lines = exercise.split("\n")
    # The body has a ":::" run of 3 colons: the fence is longer.
    assert lines[0] == "::::{exercise} Exercise 2.1 (task 2.1): Queries and $Q$"
    assert lines[1:4] == [":label: chapters-02-rnn-ex-2-1", ":nonumber:", ":class: course-exercise"]
    assert lines[-1] == "::::"
    assert "```python\nqkv(X)\n```" in exercise  # the code fence inside stays intact
    assert "**Exercise" not in exercise


def test_labels_differ_between_chapter_and_solution_pages_and_chapters():
    labels = {
        nc.exercise_label(docname, chapter, "1")
        for docname in ("chapters/01_attention", "solutions/01_attention")
        for chapter in ("1", "2")
    }
    assert len(labels) == 4
    assert nc.exercise_label("solutions/01_attention", "1", "1") == "solutions-01-attention-ex-1-1"


def test_fence_is_longer_than_any_colon_run_in_the_body():
    text = nc._directive("exercise", "T", {}, "a\n::::::\nb")
    assert text.startswith(":::::::{exercise} T") and text.endswith("\n:::::::")


def test_solution_page_wraps_each_run_of_solution_and_answer_cells_in_a_drop_down():
    result = nc.transform_notebook(_solution_notebook(), "solutions/02_rnn")
    assert result.problems == []
    cells = result.notebook["cells"]
    sources = _sources(result)
    start_1 = "```{solution-start} solutions-02-rnn-ex-2-1\n:class: dropdown\n```"
    start_2 = "```{solution-start} solutions-02-rnn-ex-2-2\n:class: dropdown\n```"
    end = "```{solution-end}\n```"
    assert sources[3] == start_1
    assert sources[4] == "def qkv(X):\n    return X"  # marker lines dropped from code too
    assert sources[5] == end
    assert sources[6] == "check_qkv(qkv)"
    assert sources[7] == start_1  # the same exercise's solution, continued after the check
    assert sources[8] == "Q = qkv(X)"
    assert sources[9] == end
    assert sources[11] == start_2
    assert sources[12] == "Because."  # marker lines dropped from markdown
    # A heading would start a section and split the drop-down: it becomes a rubric.
    assert sources[13] == ":::{rubric} Check your answer\n:::\n\nA proof."
    assert sources[14] == "print(1)"
    assert sources[15] == end
    assert sources[16] == "## Summary"
    assert len(sources) == 17  # the references cell is dropped
    assert len({cell["id"] for cell in cells}) == len(cells)  # gate cells get ids of their own


def test_headings_inside_boxes_become_rubrics_but_not_in_code():
    markdown = "## Part (a) ##\n\n```python\n# a comment, not a heading\n```\nText # not one"
    assert nc.demote_headings(markdown) == (
        ":::{rubric} Part (a)\n:::\n\n```python\n# a comment, not a heading\n```\nText # not one"
    )


def test_student_page_shows_answer_cells_as_answer_boxes_and_wraps_nothing():
    result = nc.transform_notebook(_student_notebook(), "chapters/02_rnn")
    sources = _sources(result)
    assert not any("solution-start" in s for s in sources)
    answer = sources[6]
    assert answer.startswith("::::{admonition} Your answer\n:class: course-answer\n")
    assert "**Your answer:**" not in answer
    # The notebook's prompt says what to do in a notebook; the web page, what to do on it.
    assert nc.WEB_ANSWER in answer and "double-click" not in answer.lower()


def test_an_answer_prompt_of_the_authors_own_is_kept():
    notebook = _student_notebook()
    notebook.cells[6].source = "**Your answer:** *(three sentences at most)*"
    answer = _sources(nc.transform_notebook(notebook, "chapters/02_rnn"))[6]
    assert "*(three sentences at most)*" in answer and nc.WEB_ANSWER not in answer


NOTEBOOKS = sorted(ROOT.glob("chapters/[0-9][0-9]_*.ipynb")) + sorted(
    ROOT.glob("solutions/[0-9][0-9]_*.ipynb")
)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_page_shows_a_marker_line_or_says_double_click(path):
    """Issue 17: solution pages showed the marker lines; answer boxes said "double-click"."""
    docname = f"{path.parent.name}/{path.stem}"
    result = nc.transform_source(path.read_text(encoding="utf-8"), docname)
    for index, cell in enumerate(result.notebook["cells"]):
        source = nc._source(cell)
        assert "BEGIN SOLUTION" not in source and "END SOLUTION" not in source, (docname, index)
        if cell["cell_type"] == "markdown":
            assert "double-click" not in source.lower(), (docname, index)


def test_edition_metadata_decides_before_the_folder():
    notebook = _solution_notebook()
    assert nc.is_solution_page("solutions/02_rnn", notebook)
    assert not nc.is_solution_page("chapters/02_rnn", notebook)
    notebook.metadata["course"] = {"edition": "student"}
    assert not nc.is_solution_page("solutions/02_rnn", notebook)


def test_setup_cell_input_is_hidden_unless_already_hidden_or_removed():
    result = nc.transform_notebook(_solution_notebook(), "solutions/02_rnn")
    assert result.notebook["cells"][1]["metadata"]["tags"] == ["course-setup", "hide-input"]
    notebook = _solution_notebook()
    notebook.cells[1].metadata["tags"] = ["course-setup", "remove-input"]
    result = nc.transform_notebook(notebook, "solutions/02_rnn")
    assert result.notebook["cells"][1]["metadata"]["tags"] == ["course-setup", "remove-input"]


def test_citation_links_become_textual_and_parenthetical_citations():
    markdown = (
        "[Vaswani et al. (2017)](#ref-vaswani2017attention) showed it "
        "([Cho et al., 2014](#ref-cho2014learning); [Chollet, 2021](#ref-chollet2021deep)). "
        "Code `[Cho et al., 2014](#ref-cho2014learning)` stays.\n\n"
        "```markdown\n[Chollet, 2021](#ref-chollet2021deep)\n```\n"
        "[chapter 1](01_attention.ipynb)"
    )
    assert nc.convert_citations(markdown) == (
        "{cite:t}`vaswani2017attention` showed it "
        "({cite:alp}`cho2014learning`; {cite:alp}`chollet2021deep`). "
        "Code `[Cho et al., 2014](#ref-cho2014learning)` stays.\n\n"
        "```markdown\n[Chollet, 2021](#ref-chollet2021deep)\n```\n"
        "[chapter 1](01_attention.ipynb)"
    )


def test_citations_are_converted_in_exercises_and_answers_too():
    notebook = _solution_notebook()
    notebook.cells[2].source += "\n\nSee [Cho et al. (2014)](#ref-cho2014learning)."
    answer = "([Chollet, 2021](#ref-chollet2021deep))"
    notebook.cells[7].source = f"### BEGIN SOLUTION\n{answer}\n### END SOLUTION"
    sources = _sources(nc.transform_notebook(notebook, "solutions/02_rnn"))
    assert "See {cite:t}`cho2014learning`." in sources[2]
    assert sources[12] == "({cite:alp}`chollet2021deep`)"


def test_bad_exercise_title_and_orphan_solution_are_reported_by_page_and_cell():
    notebook = _solution_notebook()
    notebook.cells[2].source = "**Exercise 2: Queries**\n\nText."
    notebook.cells.insert(1, _cell("md", "An answer too early.", "solution"))
    problems = nc.transform_notebook(notebook, "solutions/02_rnn").problems
    assert problems[0].startswith(
        "solutions/02_rnn, cell 1: a 'solution'/'answer' cell before any exercise"
    )
    assert problems[1].startswith(
        "solutions/02_rnn, cell 3: an 'exercise' cell starts with '**Exercise C.K (task T.U): Title**'"
    )
    assert "'**Exercise 2: Queries**'" in problems[1]


def test_transform_source_reads_and_the_result_stays_a_valid_notebook():
    text = nbformat.writes(_solution_notebook())
    result = nc.transform_source(text, "solutions/02_rnn")
    nbformat.validate(nbformat.reads(json.dumps(result.notebook), as_version=4))


# --- Bibliography labels -------------------------------------------------------------------


def test_labels_are_the_author_year_text_the_notebooks_cite():
    from pybtex.database import parse_file

    from utils.references import load_references

    references = load_references()
    database = parse_file(str(ROOT / "references.bib"))
    for key, entry in database.entries.items():
        assert nc.author_year_label(entry) == references[key].parenthetical, key


def test_label_style_sorts_by_author_and_year_and_disambiguates_equal_labels():
    import pybtex.plugin
    from pybtex.database import parse_string

    nc._register_pybtex_styles()
    bib = parse_string(
        """
        @book{b, author={Zed, Anna}, title={Z}, year={2001}}
        @book{a2, author={Smith, John and Doe, Jane and Roe, Rick}, title={B}, year={2017}}
        @book{a1, author={Smith, John and Roe, Rick and Doe, Jane}, title={A}, year={2017}}
        @book{c, author={Hochreiter, Sepp and Schmidhuber, J{\\"u}rgen}, title={L}, year={1997}}
        """,
        "bibtex",
    )
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "course_author_year")()
    entries = style.sort(bib.entries.values())
    assert [entry.key for entry in entries] == ["c", "a2", "a1", "b"]
    assert list(style.format_labels(entries)) == [
        "Hochreiter and Schmidhuber, 1997",
        "Smith et al., 2017a",
        "Smith et al., 2017b",
        "Zed, 2001",
    ]


# --- A small book ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_book(tmp_path_factory) -> Path:
    """The real configuration and extensions, two synthetic chapters, built with -W."""
    source = tmp_path_factory.mktemp("src")
    for name in ("_config.yml", "references.bib", "bibliography.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("_ext", "_static", "utils"):  # the extension reads the generator's rules
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    (source / "_mathjax").mkdir()  # html_static_path; these pages need no typeset maths
    (source / "chapters").mkdir()
    (source / "solutions").mkdir()
    (source / "intro.md").write_text(
        "# Small book\n\nAs {cite:t}`goodfellow2016deep` write ({cite:alp}`chollet2021deep`).\n",
        encoding="utf-8",
    )
    cite = "Read [Cho et al. (2014)](#ref-cho2014learning) ([Chollet, 2021](#ref-chollet2021deep))."
    for chapter, name in ((1, "01_one"), (2, "02_two")):
        solution = _solution_notebook(chapter)
        solution.cells[0].source += "\n\n" + cite
        student = _student_notebook(chapter)
        student.cells[0].source = solution.cells[0].source.replace("(solutions)", "(exercises)")
        nbformat.write(solution, source / "solutions" / f"{name}.ipynb")
        nbformat.write(student, source / "chapters" / f"{name}.ipynb")
    (source / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nparts:\n"
        "  - caption: Chapters (exercises)\n    chapters:\n"
        "      - file: chapters/01_one\n      - file: chapters/02_two\n"
        "  - caption: Solutions (executed)\n    chapters:\n"
        "      - file: solutions/01_one\n      - file: solutions/02_two\n"
        "  - caption: Back matter\n    chapters:\n      - file: bibliography\n",
        encoding="utf-8",
    )
    return build_book(source, tmp_path_factory.mktemp("out"))


def _text(path: Path) -> str:
    page = path.read_text(encoding="utf-8")
    article = page[page.index("<article") : page.index("</article>")]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", article)))


def test_book_titles_exercises_per_chapter_and_solutions_with_the_same_number(small_book):
    chapter = _text(small_book / "chapters" / "02_two.html")
    assert "Exercise 2.1 (task 2.1): Queries and \\(Q\\)" in chapter
    assert "Exercise 2.2: Why?" in chapter
    assert "Your answer" in chapter and "Solution to" not in chapter
    assert not re.search(r"Exercise \d+ ", chapter)  # no book-wide number
    assert "Exercise (" not in chapter
    solution = _text(small_book / "solutions" / "02_two.html")
    assert "Solution to Exercise 2.1 (task 2.1): Queries and \\(Q\\)" in solution
    assert "Solution to Exercise 2.2: Why? Because. Check your answer A proof." in solution
    for page in small_book.rglob("*.html"):  # every page, code and answers included
        text = page.read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text, page.name
        assert "double-click" not in text.lower(), page.name
    assert nc.WEB_ANSWER.strip("*") in chapter
    page = (small_book / "solutions" / "02_two.html").read_text(encoding="utf-8")
    assert page.count('class="solution dropdown admonition"') == 3
    # The check cell splits the solution of 2.1; its second part says so.
    assert "Solution to Exercise 2.1 (task 2.1): Queries and \\(Q\\) (continued)" in solution


def test_book_citations_read_as_the_notebooks_write_them(small_book):
    chapter = _text(small_book / "chapters" / "01_one.html")
    assert "Read Cho et al. (2014) (Chollet, 2021)." in chapter
    intro = _text(small_book / "intro.html")
    assert "As Goodfellow et al. (2016) write (Chollet, 2021)." in intro


def test_bibliography_is_author_year_sorted_and_links_back_to_each_citation(small_book):
    page = (small_book / "bibliography.html").read_text(encoding="utf-8")
    labels = re.findall(r'<span class="label"><span class="fn-bracket">\[</span>(.*?)<', page)
    assert labels == ["Cho et al., 2014", "Chollet, 2021", "Goodfellow et al., 2016"]
    links = re.findall(r'<a class="reference internal" href="([^"#]+)#(id\d+)"', page)
    targets = {(href, anchor) for href, anchor in links}
    pages = {href for href, _ in targets}
    assert pages == {
        "intro.html",
        "chapters/01_one.html",
        "chapters/02_two.html",
        "solutions/01_one.html",
        "solutions/02_two.html",
    }
    for href, anchor in targets:  # each link lands on its citation
        assert f'id="{anchor}"' in (small_book / href).read_text(encoding="utf-8"), (href, anchor)
    cho = page[page.index("Cho et al., 2014") :].split('class="citation"')[0]
    assert "Cited in:" in cho and "intro.html" not in cho
