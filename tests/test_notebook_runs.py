"""Every notebook runs top to bottom at smoke size: the solutions, and the student flow.

Each notebook is executed once per test session (the ``smoke_run`` fixture of conftest.py) and
every assertion about it reads that one execution:

* the solution runs without an error;
* its outputs agree with the stored ones as ``pytest --nbval`` compares them
  (tests/stored_outputs.py; cells tagged ``nbval-ignore-output`` are run, not compared);
* the student flow, the student notebook with each stub replaced by its solution
  (`utils.chapters.solution_filled`): the cells a student runs, in their order, with every
  check passing and no fallback such as "Skipped" printed anywhere (issue 17). Where that is
  the solution's program cell for cell (no solution-only cells), the solution's one execution
  is the student flow's too (conftest's ``executed_edition``).

`make test-colab` runs the student-flow tests again under Google Colab's package versions (what
students run there; the solutions are run by instructors, under requirements.txt). Each notebook's smoke
parameters are in its metadata, ``course.smoke_parameters``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
import stored_outputs
from conftest import TF_LOG_LINES

from utils import chapters

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))

CHECK_CALL = re.compile(r"^\s*check_\w+\(", re.MULTILINE)
# What a cell prints when it could not do its job on the student's path (issue 17).
FALLBACK = re.compile(r"\bskipp(?:ed|ing)\b", re.IGNORECASE)
needs_data = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR with the course data"
)
pytestmark = [needs_data, pytest.mark.slow]
names = pytest.mark.parametrize("name", [p.name for p in SOLUTIONS])


def _errors(notebook: nbformat.NotebookNode) -> list[str]:
    return [
        f"{output.get('ename')}: {output.get('evalue')}"
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]


def _texts(cell: nbformat.NotebookNode) -> list[str]:
    """Every text a cell's outputs show: streams, and the text forms of displayed values."""
    found = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            found.append(output.get("text", ""))
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                found.append(value if isinstance(value, str) else "".join(value))
        if output.get("output_type") == "error":
            found.append(f"{output.get('ename')}: {output.get('evalue')}")
    return found


@names
def test_solution_runs_at_smoke_size(name, smoke_run, record_property):
    run = smoke_run(name)
    record_property("smoke_run", {f"solution {name}": run.seconds})
    assert not _errors(run.notebook)
    # TensorFlow's C++ start-up lines, which some machines print whatever
    # TF_CPP_MIN_LOG_LEVEL says (issue 17; the setup cell's quiet first import).
    logs = [
        f"cell {index}: {text.strip()[:120]!r}"
        for index, cell in enumerate(run.notebook.cells)
        for text in _texts(cell)
        if any(line in text for line in TF_LOG_LINES)
    ]
    assert not logs, f"{name}: TensorFlow's log lines reach the outputs:\n" + "\n".join(logs)


@pytest.mark.stored_outputs
@names
def test_stored_outputs_match_a_new_run(name, smoke_run):
    # What `pytest --nbval solutions/` checked, on the execution the other tests share.
    stored = nbformat.read(ROOT / "solutions" / name, as_version=4)
    found = stored_outputs.differences(stored, smoke_run(name).notebook)
    assert not found, f"{name}: outputs differ from the stored ones\n" + "\n\n".join(found)


@names
def test_student_flow_with_the_solutions_filled_in_passes_every_check(
    name, smoke_run, record_property
):
    student = nbformat.read(ROOT / "chapters" / name, as_version=4)
    filled = chapters.solution_filled(
        student, nbformat.read(ROOT / "solutions" / name, as_version=4)
    )
    assert chapters.STUB not in chapters.render(filled)
    run = smoke_run(name, "student")
    if run.edition == "student":
        record_property("smoke_run", {f"student  {name}": run.seconds})
    else:  # the solution's program, cell for cell: its one run (make test-colab runs no other)
        record_property(
            "smoke_run", {f"solution {name}": run.seconds, f"student  {name}": "the solution's run"}
        )
    executed = run.notebook
    assert not _errors(executed)
    check_cells = [
        c for c in executed.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)
    ]
    stubs = chapters.render(student).count("NotImplementedError(")
    if stubs:
        assert check_cells, f"{name} has exercises but no check_* call"
    for cell in check_cells:
        text = "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        assert text.strip(), f"{name}: the check cell {cell.source!r} printed nothing"


@names
def test_student_flow_prints_no_fallback(name, smoke_run):
    executed = smoke_run(name, "student").notebook
    fallbacks = [
        f"cell {index}: {match.group(0)!r} in {text.strip()[:200]!r}"
        for index, cell in enumerate(executed.cells)
        for text in _texts(cell)
        if (match := FALLBACK.search(text))
    ]
    assert not fallbacks, f"{name}: the student's run falls back:\n" + "\n".join(fallbacks)
