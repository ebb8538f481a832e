"""Generate the student notebooks in ``chapters/`` from the solutions in ``solutions/``.

Run ``python -m utils.chapters`` (``make chapters``). For every
``solutions/NN_topic.ipynb`` it writes ``chapters/NN_topic.ipynb`` in which

* each code region between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
  ``raise NotImplementedError(...)`` at the marker's indentation (the function's
  signature, docstring and any lines outside the markers are kept), and the
  outputs of such exercise cells are cleared, and so are the outputs of the cells that
  call a ``check_*`` function (a stored tick would tell students their stub passed);
* each such region in a markdown cell becomes "*Your answer here.*";
* sphinx-exercise's ``solution-start`` / ``solution-end`` directives are removed, and
  so is all markdown between them (a written answer, which the book shows inside the
  solution's drop-down); code cells between them are kept, with their solution regions
  stubbed; exercise labels are removed, so the two versions of a chapter can live in
  one book;
* everything else is copied unchanged. Generating twice gives identical files.

``python -m utils.chapters --check`` exits 1 when ``chapters/`` is stale.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your solution.")'
ANSWER = "*Your answer here.*"
# A whole sphinx-exercise gate directive, from its opening fence to its closing fence.
_GATE_START = re.compile(r"^(`{3,}|:{3,})\{solution-start\}.*?^\1[ \t]*$\n?", re.M | re.S)
_GATE_END = re.compile(r"^(`{3,}|:{3,})\{solution-end\}.*?^\1[ \t]*$\n?", re.M | re.S)
_LABEL = re.compile(r"^:label:.*\n?", flags=re.MULTILINE)
_CHECK_CALL = re.compile(r"\bcheck_\w+\(")

ROOT = Path(__file__).resolve().parent.parent

# The first code cell of every notebook; {repo_url} is `repository.url` of _config.yml.
SETUP_CELL = """\
# Setup. Inside the course repository this only puts `utils` on the path. Elsewhere
# (Google Colab) it clones the repository for `utils` and installs what is missing.
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

REPO_URL = os.environ.get("COURSE_REPO_URL", "{repo_url}")
here = Path.cwd().resolve()
root = next((p for p in (here, *here.parents) if (p / "utils" / "data.py").is_file()), None)
if root is None:
    root = here / "sequence-models-course"
    if not root.exists():
        subprocess.run(["git", "clone", "--depth", "1", REPO_URL, str(root)], check=True)
    missing = [name for name in ("rdata",) if importlib.util.find_spec(name) is None]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *missing], check=True)
sys.path.insert(0, str(root))"""


def repository_url(root: Path = ROOT) -> str:
    """`repository.url` from _config.yml, the one place the URL is set."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    return config["repository"]["url"]


def setup_cell(root: Path = ROOT) -> str:
    """The source every notebook's first code cell must have."""
    return SETUP_CELL.format(repo_url=repository_url(root))


class MarkerError(ValueError):
    """Solution markers that do not pair up."""


def strip_solutions(source: str, replacement: str, where: str) -> tuple[str, bool]:
    """Replace every BEGIN/END SOLUTION region of ``source`` by ``replacement``.

    Returns:
        The new source and whether any region was found.
    """
    lines = source.split("\n")
    out: list[str] = []
    inside = False
    found = False
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise MarkerError(f"{where}, line {number}: {BEGIN} inside another solution.")
            inside, found = True, True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(indent + replacement)
        elif stripped == END:
            if not inside:
                raise MarkerError(f"{where}, line {number}: {END} without {BEGIN}.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise MarkerError(f"{where}: {BEGIN} is never closed by {END}.")
    return "\n".join(out), found


def _strip_gates(source: str, inside: bool) -> tuple[str, bool]:
    """Remove solution gates, and the written answers between them, from markdown.

    Returns the text students see and whether the cell ends inside a solution block.
    """
    kept = []
    position = 0
    while True:
        pattern = _GATE_END if inside else _GATE_START
        match = pattern.search(source, position)
        if not inside:
            kept.append(source[position : match.start() if match else len(source)])
        if not match:
            return "".join(kept), inside
        inside, position = not inside, match.end()


def student_version(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student notebook for one solution notebook (the input is not modified)."""
    notebook = copy.deepcopy(solution)
    cells = []
    inside_gate = False
    for index, cell in enumerate(notebook.cells):
        where = f"{name}, cell {index}"
        if cell.cell_type == "markdown":
            cell.source, inside_gate = _strip_gates(cell.source, inside_gate)
            if not cell.source.strip():
                continue
            cell.source = cell.source.strip("\n")
            cell.source, _ = strip_solutions(cell.source, ANSWER, where)
            if "{exercise" in cell.source:
                cell.source = _LABEL.sub("", cell.source)
        elif cell.cell_type == "code":
            cell.source, found = strip_solutions(cell.source, STUB, where)
            if found or _CHECK_CALL.search(cell.source):
                cell.outputs = []
                cell.execution_count = None
        cells.append(cell)
    if inside_gate:
        raise MarkerError(f"{name}: a solution-start directive has no solution-end.")
    notebook.cells = cells
    return notebook


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def generate(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Write (or with ``check``, compare) every chapter; return the stale or written paths."""
    changed = []
    solutions = sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    for source in solutions:
        target = root / "chapters" / source.name
        expected = render(student_version(nbformat.read(source, as_version=4), source.name))
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != expected:
            changed.append(target)
            if not check:
                target.parent.mkdir(exist_ok=True)
                target.write_text(expected, encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only report stale chapters")
    args = parser.parse_args(argv)
    try:
        changed = generate(check=args.check)
    except MarkerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in changed:
        print(("stale: " if args.check else "wrote: ") + str(path.relative_to(ROOT)))
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
