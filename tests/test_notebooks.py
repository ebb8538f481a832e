"""Repository-wide rules for the committed notebooks."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import yaml

from utils import chapters

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
COSTLY = {"03_imdb.ipynb"}


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_there_are_solution_notebooks():
    assert SOLUTIONS, "no solutions/NN_topic.ipynb found"


def test_chapters_are_up_to_date():
    stale = chapters.generate(ROOT, check=True)
    assert not stale, f"run `make chapters`: stale {[p.name for p in stale]}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_is_executed_top_to_bottom(path):
    # nbval silently skips cells without an execution count, so an unexecuted
    # solution would pass nbval while checking nothing.
    code = [cell for cell in _read(path).cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert None not in counts, f"{path.name} has unexecuted cells: run `make solutions`"
    assert counts == list(range(1, len(code) + 1)), f"{path.name} was not run top to bottom"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_student_chapter_has_stubs_not_solutions(path):
    student = (ROOT / "chapters" / path.name).read_text(encoding="utf-8")
    assert "BEGIN SOLUTION" not in student and "END SOLUTION" not in student
    solution = path.read_text(encoding="utf-8")
    if "### BEGIN SOLUTION" in solution:
        assert "NotImplementedError" in student


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_cell(path):
    notebook = _read(path)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.source == chapters.setup_cell(ROOT, notebook), (
        "the first code cell must be utils.chapters.setup_cell() "
        "(the repository URL comes from _config.yml)"
    )


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_costly_notebooks_have_a_parameters_cell(path):
    tagged = [
        cell
        for cell in _read(path).cells
        if "parameters" in cell.get("metadata", {}).get("tags", [])
    ]
    if path.name in COSTLY:
        assert len(tagged) == 1, f"{path.name} needs one cell tagged `parameters`"
    assert len(tagged) <= 1


def test_table_of_contents_lists_every_chapter_and_solution():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = {entry["file"] for part in toc["parts"] for entry in part["chapters"]}
    for path in SOLUTIONS:
        assert f"solutions/{path.stem}" in files
        assert f"chapters/{path.stem}" in files
    for name in files:
        candidates = [ROOT / f"{name}{suffix}" for suffix in (".ipynb", ".md")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists missing {name}"
