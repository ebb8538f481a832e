"""No answer before its question, across the whole student path (chapters 1-5 in order).

The path is what a student reads and sees, in order: each student notebook's markdown, code,
stored text outputs and figure alt text. Every count that an exercise asks for must first
appear at or after that exercise (issue 17).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "chapters").glob("[0-9][0-9]_*.ipynb"))

# count -> (chapter file, a phrase of the title of the exercise that asks for it)
ASKED = {
    1568: ("03_imdb.ipynb", "Count a SimpleRNN layer"),
    161601: ("03_imdb.ipynb", "Predict every layer"),
    6272: ("03_imdb.ipynb", "Count an LSTM layer"),
    8320: ("04_parameters.ipynb", "stacked LSTM"),
    174625: ("04_parameters.ipynb", "stacked LSTM"),
    8544: ("05_transformer.ipynb", "The parameters of an encoder block"),
}


def _cell_text(cell) -> str:
    parts = [cell.source]
    alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
    parts.append(alt)
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        parts.append(text if isinstance(text, str) else "".join(text))
        data = output.get("data", {})
        for kind in ("text/plain", "text/markdown", "text/html"):
            value = data.get(kind, "")
            parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def _plain(text: str) -> str:
    """1,568 / 1{,}568 / 1 568 are all 1568."""
    text = text.replace("{,}", ",")
    return re.sub(r"(?<=\d)[,\u202f\u00a0 ](?=\d{3}\b)", "", text)


def path() -> list[tuple[str, int, nbformat.NotebookNode]]:
    """(chapter, cell index, cell) of every cell of the student path, in reading order."""
    cells = []
    for chapter in CHAPTERS:
        notebook = nbformat.read(chapter, as_version=4)
        cells += [(chapter.name, index, cell) for index, cell in enumerate(notebook.cells)]
    return cells


def first_mention(cells, count: int) -> tuple[str, int] | None:
    pattern = re.compile(rf"(?<![\d.]){count}(?!\d)")
    for chapter, index, cell in cells:
        if pattern.search(_plain(_cell_text(cell))):
            return chapter, index
    return None


def exercise_position(cells, chapter: str, phrase: str) -> tuple[str, int]:
    for name, index, cell in cells:
        tags = cell.get("metadata", {}).get("tags", [])
        if name == chapter and "exercise" in tags and phrase in cell.source.split("\n", 1)[0]:
            return name, index
    raise AssertionError(f"no exercise titled with {phrase!r} in {chapter}")


def _order(position: tuple[str, int]) -> tuple[int, int]:
    return int(position[0][:2]), position[1]


def test_the_search_finds_a_planted_count():
    cells = path()
    chapter, index, cell = cells[3]
    planted = nbformat.v4.new_markdown_cell("a layer of 1{,}568 parameters")
    cells.insert(4, (chapter, index, planted))
    assert first_mention(cells, 1568) == (chapter, index)


@pytest.mark.parametrize("count", sorted(ASKED))
def test_no_count_appears_before_the_exercise_that_asks_for_it(count):
    cells = path()
    asked = exercise_position(cells, *ASKED[count])
    seen = first_mention(cells, count)
    assert seen is None or _order(seen) >= _order(asked), (
        f"{count:,} appears in {seen[0]} cell {seen[1]}, before its exercise in {asked[0]} "
        f"cell {asked[1]}"
    )
