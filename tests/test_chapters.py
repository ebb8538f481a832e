"""The student/instructor pipeline: solution notebooks -> student chapters."""

from __future__ import annotations

import nbformat
import pytest

from utils import chapters

SOLUTION_CELL = '''def qkv(X, Wq, Wk, Wv):
    """Queries, keys and values."""
    n = X.shape[0]
    ### BEGIN SOLUTION
    Q = X @ Wq
    K = X @ Wk
    ### END SOLUTION
    return Q, K'''


def _notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    return notebook


def _executed(source):
    cell = nbformat.v4.new_code_cell(source, execution_count=3)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="secret\n")]
    return cell


def test_solution_region_becomes_a_stub_keeping_signature_docstring_and_outer_lines():
    student = chapters.student_version(_notebook(_executed(SOLUTION_CELL)), "t.ipynb")
    cell = student.cells[0]
    assert cell.source == (
        "def qkv(X, Wq, Wk, Wv):\n"
        '    """Queries, keys and values."""\n'
        "    n = X.shape[0]\n"
        f"    {chapters.STUB}\n"
        "    return Q, K"
    )
    assert cell.outputs == [] and cell.execution_count is None


def test_other_cells_keep_source_and_outputs():
    plain = _executed("print(1 + 1)")
    student = chapters.student_version(_notebook(plain), "t.ipynb")
    assert student.cells[0].outputs == plain.outputs
    assert student.cells[0].execution_count == 3


def test_the_solution_notebook_is_not_modified():
    solution = _notebook(_executed(SOLUTION_CELL))
    chapters.student_version(solution, "t.ipynb")
    assert "### BEGIN SOLUTION" in solution.cells[0].source
    assert solution.cells[0].outputs


def test_markdown_answers_gates_and_labels():
    notebook = _notebook(
        nbformat.v4.new_markdown_cell("```{exercise}\n:label: ex-a\nDo it.\n```"),
        nbformat.v4.new_markdown_cell("```{solution-start} ex-a\n:class: dropdown\n```"),
        _executed(SOLUTION_CELL),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```"),
        nbformat.v4.new_markdown_cell(
            "Why?\n\n### BEGIN SOLUTION\nBecause of memory.\n### END SOLUTION"
        ),
    )
    student = chapters.student_version(notebook, "t.ipynb")
    sources = [cell.source for cell in student.cells]
    assert sources[0] == "```{exercise}\nDo it.\n```"
    assert len(sources) == 3  # both gate cells dropped
    assert sources[2] == f"Why?\n\n{chapters.ANSWER}"


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("### BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n### END SOLUTION", "without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "inside another"),
    ],
)
def test_unpaired_markers_are_errors(source, problem):
    with pytest.raises(chapters.MarkerError, match=problem):
        chapters.student_version(_notebook(_executed(source)), "t.ipynb")


def test_generate_is_idempotent_and_detects_stale_chapters(tmp_path):
    (tmp_path / "solutions").mkdir()
    nbformat.write(_notebook(_executed(SOLUTION_CELL)), tmp_path / "solutions" / "01_x.ipynb")
    assert [p.name for p in chapters.generate(tmp_path)] == ["01_x.ipynb"]
    first = (tmp_path / "chapters" / "01_x.ipynb").read_bytes()
    assert chapters.generate(tmp_path) == []
    assert (tmp_path / "chapters" / "01_x.ipynb").read_bytes() == first
    assert chapters.generate(tmp_path, check=True) == []
    (tmp_path / "chapters" / "01_x.ipynb").write_text("{}")
    assert len(chapters.generate(tmp_path, check=True)) == 1
    assert (tmp_path / "chapters" / "01_x.ipynb").read_text() == "{}"  # check writes nothing


def test_check_cell_outputs_are_cleared_for_students():
    check = _executed("check_qkv(qkv)")
    student = chapters.student_version(_notebook(check), "t.ipynb")
    assert student.cells[0].source == "check_qkv(qkv)"
    assert student.cells[0].outputs == [] and student.cells[0].execution_count is None


def test_gates_inside_other_markdown_keep_the_surrounding_text():
    notebook = _notebook(
        nbformat.v4.new_markdown_cell(
            "```{exercise}\n:label: ex-b\nWhy?\n```\n\n"
            "```{solution-start} ex-b\n:class: dropdown\n```\n*Answer.* Memory."
        ),
        nbformat.v4.new_markdown_cell("A written answer in a cell of its own."),
        nbformat.v4.new_markdown_cell("```{solution-end}\n```\n\n## Next section"),
    )
    student = chapters.student_version(notebook, "t.ipynb")
    assert [cell.source for cell in student.cells] == [
        "```{exercise}\nWhy?\n```",
        "## Next section",
    ]


def test_solution_start_without_end_is_an_error():
    notebook = _notebook(nbformat.v4.new_markdown_cell("```{solution-start} ex-c\n```\nAnswer"))
    with pytest.raises(chapters.MarkerError, match="no solution-end"):
        chapters.student_version(notebook, "t.ipynb")
