"""Every notebook runs top to bottom at smoke size: the solutions, and the student flow.

The student flow is the student notebook with each stub replaced by its solution
(`utils.chapters.solution_filled`): the cells a student runs, in their order, with every
check passing. `make test-colab` runs this file again under Google Colab's package versions.
Each notebook's smoke parameters are in its metadata, `course.smoke_parameters`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest

from utils import chapters

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))

CHECK_CALL = re.compile(r"^\s*check_\w+\(", re.MULTILINE)
needs_data = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR with the course data"
)


def _parameters(notebook: nbformat.NotebookNode, tmp_path: Path) -> dict:
    parameters = dict(notebook.metadata.get("course", {}).get("smoke_parameters", {}))
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is not None and "results_path" in cell.source:
        parameters["results_path"] = str(tmp_path / "results.json")
    return parameters


def _execute(notebook: nbformat.NotebookNode, name: str, tmp_path: Path) -> nbformat.NotebookNode:
    import papermill

    source = tmp_path / f"in-{name}"
    output = tmp_path / f"out-{name}"
    nbformat.write(notebook, source)
    papermill.execute_notebook(
        str(source),
        str(output),
        parameters=_parameters(notebook, tmp_path),
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=600,
    )
    return nbformat.read(output, as_version=4)


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


@needs_data
@pytest.mark.solution_smoke
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_solution_runs_at_smoke_size(path, tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_NBVAL_SMOKE", raising=False)
    executed = _execute(nbformat.read(path, as_version=4), path.name, tmp_path)
    assert not _errors(executed)


@needs_data
@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_student_flow_with_the_solutions_filled_in_passes_every_check(path, tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_NBVAL_SMOKE", raising=False)
    solution = nbformat.read(path, as_version=4)
    student = nbformat.read(ROOT / "chapters" / path.name, as_version=4)
    filled = chapters.solution_filled(student, solution)
    assert chapters.STUB not in chapters.render(filled)
    executed = _execute(filled, path.name, tmp_path)
    assert not _errors(executed)
    check_cells = [
        c for c in executed.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)
    ]
    stubs = chapters.render(student).count("NotImplementedError(")
    if stubs:
        assert check_cells, f"{path.name} has exercises but no check_* call"
    for cell in check_cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        assert text.strip(), f"{path.name}: the check cell {cell.source!r} printed nothing"
