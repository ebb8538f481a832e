"""The student/instructor pipeline: solution notebooks -> student chapters (utils.chapters)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils import chapters

ROOT = Path(__file__).resolve().parent.parent
TITLE = "# Chapter 1: Things (solutions)\n\nIntro."
SOLUTION_CELL = '''def qkv(X, Wq, Wk, Wv):
    """Queries, keys and values."""
    n = X.shape[0]
    ### BEGIN SOLUTION
    Q = X @ Wq
    K = X @ Wk
    ### END SOLUTION
    return Q, K'''


def _md(source, *tags):
    cell = nbformat.v4.new_markdown_cell(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _code(source, *tags, output="secret\n"):
    cell = nbformat.v4.new_code_cell(source, execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _notebook(*cells, title=TITLE):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [_md(title), *cells]
    return notebook


def _student(*cells):
    return chapters.student_version(_notebook(*cells), "01_things.ipynb")


def test_solution_region_becomes_a_stub_keeping_signature_docstring_and_outer_lines():
    cell = _student(_code(SOLUTION_CELL, "solution")).cells[1]
    assert cell.source == (
        "def qkv(X, Wq, Wk, Wv):\n"
        '    """Queries, keys and values."""\n'
        "    n = X.shape[0]\n"
        f"    {chapters.STUB}\n"
        "    return Q, K"
    )
    assert cell.outputs == [] and cell.execution_count is None
    assert "solution" not in cell.metadata.get("tags", [])


def test_title_says_exercises_and_metadata_records_the_generation():
    student = _student()
    assert student.cells[0].source == "# Chapter 1: Things (exercises)\n\nIntro."
    course = student.metadata["course"]
    assert course["edition"] == "student"
    assert course["generated_sha256"] == chapters.content_hash(student)


def test_other_cells_keep_source_and_outputs():
    plain = _code("print(1 + 1)")
    cell = _student(plain).cells[1]
    assert cell.outputs == plain.outputs and cell.execution_count == 3


def test_the_solution_notebook_is_not_modified():
    solution = _notebook(_code(SOLUTION_CELL, "solution"))
    chapters.student_version(solution, "01_things.ipynb")
    assert "### BEGIN SOLUTION" in solution.cells[1].source
    assert solution.cells[1].outputs and "(solutions)" in solution.cells[0].source


def test_answers_reveals_and_revealing_outputs_are_withheld():
    student = _student(
        _md("**Exercise 1.1 (task 1.3): Why?**\n\nExplain.", "exercise"),
        _md(f"{chapters.BEGIN}\nBecause of memory.\n{chapters.END}", "answer"),
        _md("The proof: ...", "solution"),
        _code("assert proof_holds()", "solution"),
        _code("model.fit(x, y)", "solution-output", output="val_accuracy 0.87\n"),
        _code("check_qkv(qkv)", output="✓ qkv passes\n"),
    )
    sources = [cell.source for cell in student.cells]
    assert sources[1] == "**Exercise 1.1 (task 1.3): Why?**\n\nExplain."
    assert sources[2] == chapters.ANSWER
    assert student.cells[2].metadata["tags"] == ["answer"]
    assert "The proof: ..." not in sources and "assert proof_holds()" not in sources
    assert sources[3:] == ["model.fit(x, y)", "check_qkv(qkv)"]
    assert all(cell.outputs == [] for cell in student.cells[3:])
    assert "Because of memory" not in chapters.render(student)


@pytest.mark.parametrize(
    "line",
    [
        "## BEGIN SOLUTION",
        "# BEGIN SOLUTION",
        "###BEGIN SOLUTION",
        "### Begin Solution",
        "### BEGIN SOLUTION ###",
        "### BEGIN SOLUTION  # the loop version",
        "#### END SOLUTION",
        "### end solution",
        "### BEGIN_SOLUTION",
    ],
)
def test_near_miss_markers_are_errors_naming_cell_and_line(line):
    source = f"x = 1\n{line}\ny = 2"
    with pytest.raises(
        chapters.GeneratorError, match=r"01_things.ipynb, cell 1, line 2: .*exactly"
    ):
        _student(_code(source, "solution"))


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("### BEGIN SOLUTIONS", "SOLUTIONS; the marker is singular"),
        ("    ### END SOLUTIONS", "SOLUTIONS; the marker is singular"),
        ("\t### BEGIN SOLUTION", "a tab \\(U\\+0009\\)"),
        ("  \t### END SOLUTION", "a tab"),
        ("\u00a0\u00a0\u00a0\u00a0### BEGIN SOLUTION", "NO-BREAK SPACE \\(U\\+00A0\\)"),
        ("\u2003### BEGIN SOLUTION", "EM SPACE"),
        ("\u200b### BEGIN SOLUTION", "ZERO WIDTH SPACE"),
        ("### BEGIN SOLUTION ", "' ' follows it"),
        ("### END SOLUTION.", "'.' follows it"),
        ("y = 2  ### END SOLUTION", "follows other text"),
    ],
)
def test_every_other_marker_form_is_refused_with_its_reason(line, reason):
    source = f"x = 1\n{line}\ny = 2"
    with pytest.raises(chapters.GeneratorError, match=rf"cell 1, line 2: .*{reason}.*exactly"):
        _student(_code(source, "solution"))


@pytest.mark.parametrize(
    "source",
    [
        "x = 1\r\n### BEGIN SOLUTION\r\ny = 2\r\n### END SOLUTION",
        "x = 1\n### BEGIN SOLUTION\ny = 2\r\n### END SOLUTION",
        "print('no markers here')\r\n",
    ],
)
def test_crlf_line_endings_are_refused_naming_the_line(source):
    with pytest.raises(chapters.GeneratorError, match=r"cell 1, line (1|3): .*CRLF"):
        _student(_code(source, "solution"))


def test_an_unterminated_marker_names_its_line():
    with pytest.raises(
        chapters.GeneratorError, match=r"cell 1, line 3: ### BEGIN SOLUTION is never closed"
    ):
        _student(_code("x = 1\ny = 2\n### BEGIN SOLUTION\nz = 3", "solution"))


def test_a_misindented_marker_that_would_break_the_chapter_is_refused():
    # The marker is indented less than the code around it: the stub would end the function.
    source = (
        "def f(x):\n    y = x\n  ### BEGIN SOLUTION\n    y = 2 * x\n  ### END SOLUTION\n"
        "    return y"
    )
    with pytest.raises(
        chapters.GeneratorError,
        match=r"cell 1 \(as generated for the chapter\), line 3: .*IndentationError",
    ):
        _student(_code(source, "solution"))


def test_a_solution_cell_that_does_not_compile_is_refused():
    with pytest.raises(chapters.GeneratorError, match=r"cell 1, line 2: .*does not compile"):
        _student(_code("x = 1\ny = (", "solution"))


def test_ipython_magics_are_not_syntax_errors():
    cell = _student(_code("%matplotlib inline\n!echo hi\nx = 1")).cells[1]
    assert cell.source.startswith("%matplotlib inline")


def test_plural_markers_stop_the_generator_and_check_without_writing(tmp_path, capsys):
    """Issue 21: `### BEGIN SOLUTIONS` used to drop the exercise cell and exit 0."""
    repo = _repository(tmp_path)
    path = repo / "solutions" / "01_things.ipynb"
    notebook = nbformat.read(path, as_version=4)
    notebook.cells[-1].source = SOLUTION_CELL.replace("SOLUTION\n", "SOLUTIONS\n")
    nbformat.write(notebook, path)
    assert chapters.main([], root=repo) == 2
    assert "01_things.ipynb, cell 3, line 4: " in capsys.readouterr().err
    assert not (repo / "chapters").exists()
    assert chapters.main(["--check"], root=repo) == 2


def test_markers_in_raw_cells_and_untagged_cells_are_errors():
    raw = nbformat.v4.new_raw_cell(f"{chapters.BEGIN}\nsecret\n{chapters.END}")
    with pytest.raises(chapters.GeneratorError, match="cell 1, line 1: .*not tagged"):
        _student(raw)
    with pytest.raises(chapters.GeneratorError, match="cell 1, line 1: .*tag the cell"):
        _student(_code(f"{chapters.BEGIN}\nx = 1\n{chapters.END}"))
    with pytest.raises(chapters.GeneratorError, match="tag the cell"):
        _student(_md(f"{chapters.BEGIN}\nan answer\n{chapters.END}"))


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ],
)
def test_unpaired_markers_are_errors(source, problem):
    with pytest.raises(chapters.GeneratorError, match=problem):
        _student(_code(source, "solution"))


def test_answer_cells_need_exactly_one_region():
    with pytest.raises(chapters.GeneratorError, match="exactly one"):
        _student(_md("I forgot the markers.", "answer"))


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        ("**Exercise 1.2: Skipped one**", "should be 1.1"),
        ("**Exercise 2.1: Wrong chapter**", "should be 1.1"),
        ("Exercise 1.1: not bold", "starts with"),
        ("```{exercise} MyST\n```", "starts with"),
    ],
)
def test_exercises_are_numbered_per_chapter_in_order(title, problem):
    with pytest.raises(chapters.GeneratorError, match=problem):
        _student(_md(title, "exercise"))


def test_title_must_name_the_chapter_and_the_edition():
    with pytest.raises(chapters.GeneratorError, match="must read"):
        chapters.student_version(_notebook(title="# Things"), "01_things.ipynb")
    with pytest.raises(chapters.GeneratorError, match="file name 1"):
        chapters.student_version(
            _notebook(title="# Chapter 2: Things (solutions)"), "01_things.ipynb"
        )


def test_solution_filled_restores_every_stub():
    solution = _notebook(_code(SOLUTION_CELL, "solution"), _code("check_qkv(qkv)"))
    student = chapters.student_version(solution, "01_things.ipynb")
    filled = chapters.solution_filled(student, solution)
    assert filled.cells[1].source == SOLUTION_CELL
    assert chapters.STUB not in chapters.render(filled)
    assert filled.cells[2].source == "check_qkv(qkv)"


# --- whole runs on a small repository -------------------------------------------------


def _repository(tmp_path: Path, url: str = "https://example.org/course") -> Path:
    (tmp_path / "solutions").mkdir()
    (tmp_path / "_config.yml").write_text(f"repository:\n  url: {url}\n", encoding="utf-8")
    shutil.copy(ROOT / "references.bib", tmp_path / "references.bib")
    notebook = _notebook(
        _code("placeholder setup", output=""),
        _md("As [Vaswani et al. (2017)](#ref-vaswani2017attention) show."),
        _code(SOLUTION_CELL, "solution"),
    )
    nbformat.write(notebook, tmp_path / "solutions" / "01_things.ipynb")
    return tmp_path


def test_generator_writes_setup_and_references_cells_into_the_solution(tmp_path):
    repo = _repository(tmp_path)
    chapters.generate(repo)
    for folder in ("solutions", "chapters"):
        notebook = nbformat.read(repo / folder / "01_things.ipynb", as_version=4)
        setup = notebook.cells[1]
        assert "https://example.org/course" in setup.source
        assert setup.metadata["tags"] == ["course-setup", "hide-input"]
        references = notebook.cells[-1]
        assert references.metadata["tags"] == ["references"]
        assert '<a id="ref-vaswani2017attention"></a>Vaswani, A.' in references.source


def test_generate_is_idempotent_and_check_writes_nothing(tmp_path):
    repo = _repository(tmp_path)
    assert {p.parent.name for p in chapters.generate(repo)} == {"solutions", "chapters"}
    target = repo / "chapters" / "01_things.ipynb"
    first = target.read_bytes()
    assert chapters.generate(repo) == []
    assert target.read_bytes() == first
    assert chapters.main(["--check"], root=repo) == 0
    solution = nbformat.read(repo / "solutions" / "01_things.ipynb", as_version=4)
    solution.cells.append(_md("A new paragraph."))
    nbformat.write(solution, repo / "solutions" / "01_things.ipynb")
    assert chapters.main(["--check"], root=repo) == 1
    assert target.read_bytes() == first


def test_a_person_edited_chapter_is_not_overwritten_without_force(tmp_path, capsys):
    repo = _repository(tmp_path)
    chapters.generate(repo)
    target = repo / "chapters" / "01_things.ipynb"
    edited = nbformat.read(target, as_version=4)
    edited.cells[-2].source += "\n# my own notes"
    nbformat.write(edited, target)
    mine = target.read_bytes()
    solution = nbformat.read(repo / "solutions" / "01_things.ipynb", as_version=4)
    solution.cells.insert(2, _md("New text in the solution."))
    nbformat.write(solution, repo / "solutions" / "01_things.ipynb")

    assert chapters.main([], root=repo) == 2
    assert (
        "chapters/01_things.ipynb: edited since the generator wrote it" in capsys.readouterr().err
    )
    assert target.read_bytes() == mine
    assert chapters.main(["--check"], root=repo) == 1
    assert "edited by hand: chapters/01_things.ipynb" in capsys.readouterr().out

    assert chapters.main(["--force"], root=repo) == 0
    assert (repo / "chapters" / "01_things.ipynb.bak").read_bytes() == mine
    assert "New text in the solution." in target.read_text(encoding="utf-8")


def test_check_reports_chapters_whose_solution_is_gone(tmp_path, capsys):
    repo = _repository(tmp_path)
    chapters.generate(repo)
    shutil.copy(repo / "chapters" / "01_things.ipynb", repo / "chapters" / "02_gone.ipynb")
    assert chapters.main(["--check"], root=repo) == 1
    assert "no solution: chapters/02_gone.ipynb" in capsys.readouterr().out


def test_every_notebook_is_validated_before_any_is_written(tmp_path, capsys):
    repo = _repository(tmp_path)
    (repo / "solutions" / "02_broken.ipynb").write_text("{not json", encoding="utf-8")
    assert chapters.main([], root=repo) == 2
    assert "02_broken.ipynb: not a valid notebook" in capsys.readouterr().err
    assert not (repo / "chapters").exists()
    setup = nbformat.read(repo / "solutions" / "01_things.ipynb", as_version=4).cells[1]
    assert setup.source == "placeholder setup"


def test_unknown_citation_keys_are_errors(tmp_path, capsys):
    repo = _repository(tmp_path)
    notebook = nbformat.read(repo / "solutions" / "01_things.ipynb", as_version=4)
    notebook.cells.append(_md("See [Nobody (2020)](#ref-nobody2020)."))
    nbformat.write(notebook, repo / "solutions" / "01_things.ipynb")
    assert chapters.main([], root=repo) == 2
    assert "nobody2020" in capsys.readouterr().err


def test_changing_the_repository_url_retargets_every_notebook(tmp_path):
    """One edit of _config.yml plus `make chapters` moves every setup cell to the new URL."""
    repo = tmp_path / "copy"
    repo.mkdir()
    for name in ("utils", "solutions", "chapters"):
        shutil.copytree(ROOT / name, repo / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("_config.yml", "references.bib", "Makefile"):
        shutil.copy(ROOT / name, repo / name)
    old = chapters.repository_url(ROOT)
    new = "https://github.com/someone-else/their-copy"
    config = repo / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    result = subprocess.run(
        ["make", "chapters", "STAMP=", f"PY={sys.executable}"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    notebooks = sorted((repo / "solutions").glob("*.ipynb")) + sorted(
        (repo / "chapters").glob("*.ipynb")
    )
    assert len(notebooks) >= 8
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        assert new in text, f"{path.name} does not use the new URL"
        assert old not in text, f"{path.name} still has the old URL"
