"""The student notebooks answer nothing before the student does (issue: the student edition)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from conftest import TF_LOG_LINES

from utils import chapters

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "chapters" / name, as_version=4)


def _visible_text(notebook: nbformat.NotebookNode, sources: bool = True) -> str:
    """Sources and the text a student sees in stored outputs (images left out: base64)."""
    parts = []
    for cell in notebook.cells:
        if sources:
            parts.append(cell.source)
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts += [data.get(kind, "") for kind in ("text/plain", "text/html", "text/markdown")]
    return "\n".join(p if isinstance(p, str) else "".join(p) for p in parts)


def _tagged(notebook: nbformat.NotebookNode, tag: str) -> list:
    return [cell for cell in notebook.cells if tag in cell.metadata.get("tags", [])]


def test_every_written_question_has_an_answer_cell():
    answers = sum(len(_tagged(_read(path.name), "answer")) for path in CHAPTERS)
    assert answers >= 8, f"only {answers} answer-tagged cells in chapters/"
    for path in CHAPTERS:
        for cell in _tagged(_read(path.name), "answer"):
            assert cell.cell_type == "markdown"
            assert "BEGIN SOLUTION" not in cell.source and len(cell.source.splitlines()) == 1


def test_chapter_4_never_states_the_counts_it_asks_for():
    text = _visible_text(_read("04_parameters.ipynb"))
    # 1,568 / 1 568 / 1568 are one number: drop thousands separators first.
    plain = re.sub(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)", "", text)
    for count in ("512", "1024", "1568", "6272", "8320"):
        found = re.search(rf"(?<![\d.]){count}(?![\d])", plain)
        assert not found, (
            f"chapter 4 shows {count}: {plain[found.start() - 60 : found.end() + 20]!r}"
        )
    assert "is figure 10.5" not in text


def test_chapter_3_stores_no_training_log_summary_or_result_of_the_solution():
    # Code may name these; no stored output may show them.
    outputs = _visible_text(_read("03_imdb.ipynb"), sources=False)
    for sign in ("val_acc", "Total params", "Trainable params", "loss", "epoch"):
        assert sign not in outputs, f"chapter 3 shows {sign!r} in a stored output"
    solution_outputs = _visible_text(
        nbformat.read(ROOT / "solutions" / "03_imdb.ipynb", as_version=4), sources=False
    )
    assert "Total params" in solution_outputs and "epoch" in solution_outputs


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_exercises_are_numbered_per_chapter(path):
    notebook = _read(path.name)
    chapter = int(path.name[:2])
    exercises = _tagged(notebook, "exercise")
    titles = [cell.source.split("\n", 1)[0] for cell in exercises]
    assert titles, f"{path.name} has no exercise"
    for number, title in enumerate(titles, start=1):
        assert title.startswith(f"**Exercise {chapter}.{number}"), title
    assert notebook.cells[0].source.split("\n", 1)[0].endswith("(exercises)")


def _code_cells(notebook: nbformat.NotebookNode) -> list[tuple[int, nbformat.NotebookNode]]:
    return [(index, cell) for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_no_stored_output_reads_a_name_the_student_defines(path):
    """Issue 17: outputs under a stub showed what the solution's code computed.

    The names the student defines are those of the exercise cells as the solution fills
    them; a cell depends on them if it reads one, directly, through a name computed from one,
    or through a function it calls.
    """
    student = _read(path.name)
    solution = nbformat.read(ROOT / "solutions" / path.name, as_version=4)
    filled = _code_cells(chapters.solution_filled(student, solution))
    exercises = {
        position
        for position, (index, _) in enumerate(filled)
        if chapters.STUB in student.cells[index].source
    }
    assert exercises, f"{path.name} has no exercise cell"
    dependent = chapters.student_dependent_cells([cell.source for _, cell in filled], exercises)
    assert dependent, f"{path.name}: no cell uses the student's work?"
    stored = {
        filled[position][0]: names
        for position, names in dependent.items()
        if student.cells[filled[position][0]].get("outputs")
    }
    assert not stored, (
        f"{path.name}: cells store outputs computed from the student's names {stored}: run "
        "`make chapters`"
    )


@pytest.mark.parametrize(
    ("name", "start", "kept"),
    [
        ("01_attention.ipynb", "print(softmax(scores))", "example = load_transformer_example()"),
        ("02_rnn.ipynb", "pd.DataFrame(ht_3", "rnn_example = load_rnn_example()"),
        ("02_rnn.ipynb", "plot_hidden_states(ht", "rnn_example = load_rnn_example()"),
    ],
)
def test_the_cells_of_the_issue_are_cleared_and_data_exploration_stays(name, start, kept):
    cells = {cell.source.split("\n", 1)[0]: cell for _, cell in _code_cells(_read(name))}
    cleared = [cell for first, cell in cells.items() if first.startswith(start)]
    assert cleared and all(not cell.outputs for cell in cleared), f"{name}: {start}"
    assert any(first.startswith(kept) and cell.outputs for first, cell in cells.items()), kept


@pytest.mark.parametrize(
    "path",
    CHAPTERS + sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_stored_output_has_tensorflow_log_lines(path):
    """The setup cell sets TF_CPP_MIN_LOG_LEVEL before TensorFlow is imported (issue 17)."""
    text = _visible_text(nbformat.read(path, as_version=4), sources=False)
    found = [line for line in TF_LOG_LINES if line in text]
    assert not found, f"{path.parent.name}/{path.name} stores TensorFlow's log lines {found}"
