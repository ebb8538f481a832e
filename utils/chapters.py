"""Generate the student notebooks in ``chapters/`` from the solutions in ``solutions/``.

Run ``python -m utils.chapters`` (``make chapters``). The conventions it applies are those of
CONTRIBUTING.md: for every ``solutions/NN_topic.ipynb`` it

* writes the generator-owned cells of the solution notebook itself: the first code cell
  (tag ``course-setup``) from ``repository.url`` in ``_config.yml``, and a last
  ``references`` cell listing the works the notebook cites (from ``references.bib``);
* writes ``chapters/NN_topic.ipynb``, in which each ``### BEGIN SOLUTION`` …
  ``### END SOLUTION`` region of a ``solution`` code cell becomes a ``raise
  NotImplementedError`` stub and the region of an ``answer`` cell a prompt; ``solution``
  cells without a region are removed; outputs of exercise cells, of ``solution-output``
  cells, of ``check_*`` calls and of every cell that reads a name the student defines (or
  one computed from it, found by data flow: :func:`student_dependent_cells`) are cleared;
  the title says "(exercises)".

It validates every notebook before it writes any: near-miss solution markers (the one form
accepted is ``### BEGIN SOLUTION`` / ``### END SOLUTION`` alone on its line, indented with
spaces), CRLF line endings, markers outside ``solution``/``answer`` cells, exercise numbering,
the title and code that does not compile (every code cell of both notebooks is compiled) are
errors that name notebook, cell and line. A chapter that differs from what the generator last
wrote (a hash of its output is kept in the chapter's metadata) is a person's work: the
generator names it and stops, unless ``--force`` is given, which saves a copy
(``NN_topic.ipynb.bak``) first. ``--check`` writes nothing and exits 1 when a chapter is
stale, edited by hand or has no solution any more, or when it leaves out a ``solution`` cell
(no markers) that a cell it keeps needs (:func:`missing_counterparts`; the generator only
warns about that). Generating twice gives identical files.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import hashlib
import json
import re
import symtable
import sys
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from utils.notebook_setup import setup_cell_source
from utils.references import cited_keys, load_references, references_markdown

ROOT = Path(__file__).resolve().parent.parent

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = 'raise NotImplementedError("Exercise: replace this line with your solution.")'
ANSWER = "**Your answer:** *(double-click this cell and replace this line with your answer)*"

SETUP_TAG = "course-setup"
REFERENCES_TAG = "references"
EXERCISE_TAG = "exercise"
SOLUTION_TAG = "solution"
ANSWER_TAG = "answer"
SOLUTION_OUTPUT_TAG = "solution-output"

# Anything a person may have meant as a marker, anywhere on a line: any number of '#', any
# case, any spacing (NBSP and zero-width characters included), '_' or '-' between the words,
# "SOLUTIONS". A line that matches this but is not exactly BEGIN or END is an error.
_GAP = r"[\s\u200b\u200c\u200d\u2060\ufeff]"
_MARKER_LIKE = re.compile(rf"#+{_GAP}*(begin|end)(?:{_GAP}|[_-])*solution", re.IGNORECASE)
_CHECK_CALL = re.compile(r"\bcheck_\w+\(")
# The first line of an exercise cell; group 1 is the title the book shows, 2 and 3 the number.
EXERCISE_TITLE = re.compile(r"^\*\*(Exercise (\d+)\.(\d+)(?: \(tasks? [^)]+\))?: \S.*)\*\*$")
_TITLE = re.compile(r"^# Chapter (\d+): .+ \(solutions\)$")


class GeneratorError(ValueError):
    """A solution notebook that the generator cannot turn into a chapter."""


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _set_tags(cell: nbformat.NotebookNode, tags: list[str]) -> None:
    if tags:
        cell.metadata["tags"] = tags
    else:
        cell.metadata.pop("tags", None)


def _marker(line: str) -> str | None:
    """BEGIN or END if ``line`` is exactly that marker after an indentation of spaces."""
    stripped = line.lstrip(" ")
    return stripped if stripped in (BEGIN, END) else None


def _near_miss(line: str) -> str:
    """Why ``line``, which looks like a marker, is not one (for the error message)."""
    start = _MARKER_LIKE.search(line)
    assert start is not None
    before, text = line[: start.start()], line[start.start() :]
    blank = re.fullmatch(f"{_GAP}*", before) is not None
    odd = [char for char in before if char != " "]
    if odd and blank:
        char = odd[0]
        name = "a tab" if char == "\t" else unicodedata.name(char, "a control character")
        return f"it is indented with {name} (U+{ord(char):04X}); indent with spaces only"
    if not blank:
        return "it follows other text on its line; put it on a line of its own"
    if "solutions" in text.lower():
        return "it says SOLUTIONS; the marker is singular"
    for marker in (BEGIN, END):
        if text.startswith(marker) and text != marker:
            return f"{text[len(marker) :]!r} follows it; nothing may follow the marker"
    return "spelling, case, spacing or the number of '#' differ"


def check_markers(source: str, where: str, allowed: bool) -> int:
    """Validate the solution markers of one cell; return how many regions it has.

    The one accepted form is ``### BEGIN SOLUTION`` / ``### END SOLUTION`` alone on its line,
    indented with spaces only (as the code around it). Carriage returns (CRLF line endings)
    are refused in every cell: they would survive into the chapter.

    Raises:
        GeneratorError: naming ``where`` and the line, for a carriage return, a near-miss
            marker, unpaired or nested markers, or markers in a cell that may not have them
            (``allowed`` false).
    """
    opened = 0  # the line of the open BEGIN, 0 outside a region
    regions = 0
    for number, line in enumerate(source.split("\n"), start=1):
        if "\r" in line:
            raise GeneratorError(
                f"{where}, line {number}: a carriage return (Windows CRLF line endings); "
                "solution notebooks use LF line endings only: replace each CRLF by LF in this cell."
            )
        marker = _marker(line)
        if marker is not None:
            if not allowed:
                raise GeneratorError(
                    f"{where}, line {number}: a solution marker in a cell that is not tagged "
                    f"'{SOLUTION_TAG}' (code) or '{ANSWER_TAG}' (markdown); tag the cell."
                )
            if marker == BEGIN:
                if opened:
                    raise GeneratorError(
                        f"{where}, line {number}: {BEGIN} inside another solution (opened on "
                        f"line {opened}); close the first with {END}."
                    )
                opened = number
                regions += 1
            else:
                if not opened:
                    raise GeneratorError(f"{where}, line {number}: {END} without {BEGIN}.")
                opened = 0
        elif _MARKER_LIKE.search(line):
            raise GeneratorError(
                f"{where}, line {number}: {line!r} looks like a solution marker but is not one "
                f"({_near_miss(line)}); write exactly '{BEGIN}' or '{END}' on a line of its own."
            )
    if opened:
        raise GeneratorError(f"{where}, line {opened}: {BEGIN} is never closed by {END}.")
    return regions


def _python(source: str) -> str:
    """The Python a cell runs: IPython's ``%magic`` and ``!shell`` lines translated, if any."""
    if not any(line.lstrip().startswith(("%", "!")) for line in source.split("\n")):
        return source
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def compile_cell(source: str, where: str) -> None:
    """Compile a code cell (nothing runs), so no notebook is written with a broken cell.

    Raises:
        GeneratorError: naming ``where``, the line and Python's reason, for a syntax error
            (an ``IndentationError`` or ``TabError`` left by a misplaced marker included).
    """
    try:
        compile(_python(source), where, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:  # ValueError: a NUL byte in the source
        line = getattr(error, "lineno", None)
        reason = getattr(error, "msg", None) or str(error)
        at = f", line {line}" if line else ""
        raise GeneratorError(
            f"{where}{at}: the cell does not compile ({type(error).__name__}: {reason})."
        ) from None


def strip_solutions(source: str, replacement: str, where: str) -> tuple[str, bool]:
    """Replace every BEGIN/END SOLUTION region of ``source`` by ``replacement``.

    The replacement keeps the indentation of the BEGIN marker. Returns the new source and
    whether any region was found.
    """
    found = check_markers(source, where, allowed=True) > 0
    out: list[str] = []
    inside = False
    for line in source.split("\n"):
        marker = _marker(line)
        if marker == BEGIN:
            inside = True
            out.append(line[: len(line) - len(line.lstrip(" "))] + replacement)
        elif marker == END:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out), found


def _validate_solution(notebook: nbformat.NotebookNode, name: str) -> None:
    """Every rule of CONTRIBUTING.md that a solution notebook must follow."""
    cells = notebook.cells
    if not cells or cells[0].cell_type != "markdown":
        raise GeneratorError(
            f"{name}: the first cell must be the title, '# Chapter C: … (solutions)'."
        )
    first_line = cells[0].source.split("\n", 1)[0].strip()
    title = _TITLE.match(first_line)
    if not title:
        raise GeneratorError(
            f"{name}, cell 0: the title {first_line!r} must read '# Chapter C: Title (solutions)'."
        )
    chapter = int(title.group(1))
    expected = int(name[:2]) if name[:2].isdigit() else chapter
    if chapter != expected:
        raise GeneratorError(
            f"{name}, cell 0: the title says chapter {chapter}, the file name {expected}."
        )
    number = 0
    for index, cell in enumerate(cells):
        where = f"{name}, cell {index}"
        tags = _tags(cell)
        if cell.cell_type == "raw":
            check_markers(cell.source, where, allowed=False)
            continue
        if cell.cell_type == "code":
            check_markers(cell.source, where, allowed=SOLUTION_TAG in tags)
            if ANSWER_TAG in tags or EXERCISE_TAG in tags:
                raise GeneratorError(
                    f"{where}: '{ANSWER_TAG}' and '{EXERCISE_TAG}' are for markdown cells."
                )
            compile_cell(cell.source, where)
            continue
        regions = check_markers(
            cell.source, where, allowed=ANSWER_TAG in tags or SOLUTION_TAG in tags
        )
        if ANSWER_TAG in tags and regions != 1:
            raise GeneratorError(
                f"{where}: an '{ANSWER_TAG}' cell holds its model answer in exactly one "
                f"{BEGIN} … {END} region (found {regions})."
            )
        if EXERCISE_TAG in tags:
            heading = cell.source.strip().split("\n", 1)[0].strip()
            match = EXERCISE_TITLE.match(heading)
            if not match:
                raise GeneratorError(
                    f"{where}: an exercise starts with '**Exercise {chapter}.K (task T.U): Title**' "
                    f"or '**Exercise {chapter}.K: Title**', not {heading!r}."
                )
            number += 1
            if (int(match.group(2)), int(match.group(3))) != (chapter, number):
                raise GeneratorError(
                    f"{where}: exercise {match.group(2)}.{match.group(3)} should be "
                    f"{chapter}.{number} (exercises are numbered per chapter, in order)."
                )


def update_solution(
    notebook: nbformat.NotebookNode, name: str, repo_url: str, references: dict
) -> nbformat.NotebookNode:
    """The solution notebook with its generator-owned cells (setup, references) written."""
    notebook = copy.deepcopy(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code:
        raise GeneratorError(f"{name}: has no code cell for the setup cell.")
    setup = next((cell for cell in code if SETUP_TAG in _tags(cell)), code[0])
    setup.source = setup_cell_source(repo_url, colab_packages(notebook))
    tags = _tags(setup)
    _set_tags(setup, tags + [tag for tag in (SETUP_TAG, "hide-input") if tag not in tags])

    cells = [cell for cell in notebook.cells if REFERENCES_TAG not in _tags(cell)]
    text = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    keys = cited_keys(text)
    unknown = [key for key in keys if key not in references]
    if unknown:
        raise GeneratorError(f"{name}: cites {unknown}, which references.bib does not have.")
    if keys:
        old = next((c for c in notebook.cells if REFERENCES_TAG in _tags(c)), None)
        cell = nbformat.v4.new_markdown_cell(references_markdown(keys, references))
        if old is not None and "id" in old:
            cell["id"] = old["id"]
        else:
            cell["id"] = "references"
        _set_tags(cell, [REFERENCES_TAG])
        cells.append(cell)
    notebook.cells = cells
    return notebook


def _clear_outputs(cell: nbformat.NotebookNode) -> None:
    cell.outputs = []
    cell.execution_count = None


def student_version(solution: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    """The student notebook for one (validated) solution notebook; the input is not modified."""
    _validate_solution(solution, name)
    notebook = copy.deepcopy(solution)
    cells = []
    flow: list[tuple[nbformat.NotebookNode, str]] = []  # code cells, the code they run
    exercises: set[int] = set()  # positions in `flow` of the cells the student writes
    for index, cell in enumerate(notebook.cells):
        where = f"{name}, cell {index}"
        tags = _tags(cell)
        for noise in ("papermill", "execution"):
            cell.metadata.pop(noise, None)
        if cell.cell_type == "markdown":
            if SOLUTION_TAG in tags:
                continue
            if ANSWER_TAG in tags:
                cell.source, _ = strip_solutions(cell.source, ANSWER, where)
                cell.source = cell.source.strip("\n")
        elif cell.cell_type == "code":
            if SOLUTION_TAG in tags:
                cell.source, found = strip_solutions(cell.source, STUB, where)
                if not found:
                    continue
                compile_cell(cell.source, f"{where} (as generated for the chapter)")
                _clear_outputs(cell)
                _set_tags(cell, [tag for tag in tags if tag != SOLUTION_TAG])
                exercises.add(len(flow))
            if SOLUTION_OUTPUT_TAG in tags or _CHECK_CALL.search(cell.source):
                _clear_outputs(cell)
            # A student who solved the exercise runs the solution's code.
            flow.append((cell, solution.cells[index].source))
        cells.append(cell)
    # Outputs computed from the student's work (in the solution: from the model solution)
    # would show the student the answer, or results their own code may not give.
    dependent = student_dependent_cells([source for _, source in flow], exercises)
    for position in dependent:
        _clear_outputs(flow[position][0])
    notebook.cells = cells
    title, _, rest = cells[0].source.partition("\n")
    cells[0].source = title.replace("(solutions)", "(exercises)") + ("\n" + rest if rest else "")
    notebook.metadata.pop("papermill", None)
    course = dict(notebook.metadata.get("course", {}))
    course.update(edition="student", generated_from=f"solutions/{name}")
    course.pop("generated_sha256", None)
    notebook.metadata["course"] = course
    notebook.metadata["course"]["generated_sha256"] = content_hash(notebook)
    return notebook


# --- Data flow: the cells of a student notebook whose results are the student's work -------

# Scopes that run where they are written (a comprehension, a lambda passed on at once), as
# symtable names them; their reads are the cell's own.
_INLINE_SCOPES = {"lambda", "listcomp", "setcomp", "dictcomp", "genexpr"}


@dataclass(frozen=True)
class Scope:
    """The global names a function or class reads and changes when it runs."""

    reads: frozenset[str]
    changes: frozenset[str]


@dataclass(frozen=True)
class CellFlow:
    """What one code cell does with the notebook's (global) names.

    ``reads``: names its own code reads when it runs (comprehensions included; the body of a
    function it defines counts only where the function is called, see ``scopes``).
    ``binds``: names it assigns, defines or imports. ``changes``: names whose objects it may
    change in place: receivers of method calls (``histories.append(h)``) and targets of item
    or attribute stores (``results[key] = r``). ``imports``: names bound by an import.
    ``scopes``: each function or class it defines -> what its body reads and changes.
    """

    reads: frozenset[str]
    binds: frozenset[str]
    changes: frozenset[str]
    imports: frozenset[str]
    scopes: dict[str, Scope]


def _root(node: ast.AST) -> str | None:
    """The name an object is reached from: ``results`` for ``results["a"].values``.

    None for a call's result (``f(x).y``, ``super().__init__``: a new object, or one that
    the call's own reads account for) and for literals.
    """
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed_roots(nodes: list[ast.AST]) -> set[str]:
    """Names whose objects ``nodes`` may change in place (before any scope filtering)."""
    roots: set[str | None] = set()
    for node in nodes:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            roots.add(_root(node.func.value))
        elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(
            node.ctx, (ast.Store, ast.Del)
        ):
            roots.add(_root(node.value))
    roots.discard(None)
    return roots  # type: ignore[return-value]


def _own_nodes(tree: ast.AST) -> list[ast.AST]:
    """The nodes of ``tree`` that run with it: not the bodies of functions or classes."""
    nodes, todo = [], [tree]
    while todo:
        node = todo.pop()
        nodes.append(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            todo += node.decorator_list  # these run where the definition is
            if not isinstance(node, ast.ClassDef):
                todo += node.args.defaults + [d for d in node.args.kw_defaults if d]
            else:
                todo += node.bases + [keyword.value for keyword in node.keywords]
            continue
        todo += ast.iter_child_nodes(node)
    return nodes


def _scope_names(table: symtable.SymbolTable) -> tuple[set[str], set[str], set[str]]:
    """Global names read, global names assigned (``global x``), and local names of a scope
    and every scope nested in it."""
    reads, assigned, local = set(), set(), set()
    for symbol in table.get_symbols():
        name = symbol.get_name()
        if symbol.is_global():
            if symbol.is_referenced():
                reads.add(name)
            if symbol.is_assigned():
                assigned.add(name)
        elif symbol.is_local() or symbol.is_parameter():
            local.add(name)
    for child in table.get_children():
        child_reads, child_assigned, child_local = _scope_names(child)
        reads |= child_reads
        assigned |= child_assigned
        local |= child_local
    return reads, assigned, local


def cell_flow(source: str) -> CellFlow:
    """The names one code cell reads, binds and changes (it is parsed, not run).

    Raises:
        SyntaxError: the cell is not Python (IPython magics are translated first).
    """
    source = _python(source)
    tree = ast.parse(source)
    table = symtable.symtable(source, "<cell>", "exec")
    symbols = table.get_symbols()
    reads = {symbol.get_name() for symbol in symbols if symbol.is_referenced()}
    binds = {
        symbol.get_name()
        for symbol in symbols
        if symbol.is_assigned() or symbol.is_imported() or symbol.is_namespace()
    }
    imports = {symbol.get_name() for symbol in symbols if symbol.is_imported()}
    definitions = {
        node.name: node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
    }
    scopes: dict[str, Scope] = {}
    for child in table.get_children():
        child_reads, child_assigned, child_local = _scope_names(child)
        name = child.get_name()
        if name in _INLINE_SCOPES or name not in definitions:
            reads |= child_reads
            continue
        roots = _changed_roots(list(ast.walk(definitions[name]))) - child_local
        previous = scopes.get(name, Scope(frozenset(), frozenset()))
        scopes[name] = Scope(
            previous.reads | child_reads, previous.changes | roots | child_assigned
        )
    return CellFlow(
        reads=frozenset(reads),
        binds=frozenset(binds),
        changes=frozenset(_changed_roots(_own_nodes(tree))),
        imports=frozenset(imports),
        scopes=scopes,
    )


def _when_run(
    reads: frozenset[str], changes: frozenset[str], scopes: dict[str, Scope]
) -> tuple[set[str], set[str]]:
    """What code that reads ``reads`` reads and changes, the functions it may call included."""
    all_reads, all_changes = set(reads), set(changes)
    todo = [name for name in reads if name in scopes]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        all_reads |= scopes[name].reads
        all_changes |= scopes[name].changes
        todo += [other for other in scopes[name].reads if other in scopes]
    return all_reads, all_changes


def student_dependent_cells(
    sources: Sequence[str], exercises: Collection[int]
) -> dict[int, list[str]]:
    """The code cells whose results depend on what the student writes, with the names why.

    A name is the student's when an exercise cell defines, assigns or changes it, or when a
    cell that reads a student's name assigns or changes it (so it is computed from the
    student's work). A cell reads a name directly or through a function it calls (a function
    whose body reads a student's name makes its callers depend on the student, whenever it was
    defined). Conservative: a name once the student's stays so, and a method call on a name or
    a store into it (``results[k] = ...``) in such a cell counts as changing it. Modules are
    never the student's.

    Args:
        sources: the notebook's code cells in order; an exercise cell with the code a student
            who solved it runs (the solution's).
        exercises: positions in ``sources`` of the exercise cells.

    Returns:
        position of each cell, exercise cells left out -> the student's names it reads, sorted.

    Raises:
        SyntaxError: a cell is not Python.
    """
    student: set[str] = set()
    imports: set[str] = set()
    scopes: dict[str, Scope] = {}
    dependent: dict[int, list[str]] = {}
    for position, source in enumerate(sources):
        flow = cell_flow(source)
        scopes.update(flow.scopes)
        imports |= flow.imports
        reads, changes = _when_run(flow.reads, flow.changes, scopes)
        touched = reads & student
        if position in exercises or touched:
            if position not in exercises:
                dependent[position] = sorted(touched)
            student |= (flow.binds | changes) - imports
    return dependent


# Names every notebook has without defining them.
_PREDEFINED = frozenset(dir(builtins)) | {"In", "Out", "get_ipython", "display", "exit", "quit"}


def missing_counterparts(solution: nbformat.NotebookNode, name: str) -> list[str]:
    """Cells the chapter leaves out although a cell it keeps needs what they define.

    A ``solution`` code cell without markers has no counterpart in the chapter (it reveals
    the answer). When a cell the chapter keeps reads a name that only such cells define
    (directly, or through a function it calls), the student's notebook cannot run that cell:
    an exercise cell lost its markers, or the student's path needs the cell. One message per
    reading cell, naming both cells and the names.
    """
    problems = []
    defined = set(_PREDEFINED)  # by the cells the chapter keeps, so far
    left_out: dict[str, int] = {}  # name -> the first left-out cell that defines it
    scopes: dict[str, Scope] = {}
    for index, cell in enumerate(solution.cells):
        if cell.cell_type != "code":
            continue
        flow = cell_flow(cell.source)
        lines = cell.source.split("\n")
        if SOLUTION_TAG in _tags(cell) and not any(_marker(line) == BEGIN for line in lines):
            for defined_there in flow.binds - defined:
                left_out.setdefault(defined_there, index)
            continue
        scopes.update(flow.scopes)
        reads, _ = _when_run(flow.reads, flow.changes, scopes)
        # A name the cell binds itself is taken as bound before it is read.
        needed = sorted(read for read in reads - defined - flow.binds if read in left_out)
        if needed:
            cells = sorted({left_out[read] for read in needed})
            which = (
                f"only cell {cells[0]} defines; tagged '{SOLUTION_TAG}' without {BEGIN}, it has"
                if len(cells) == 1
                else f"only cells {', '.join(map(str, cells))} define; tagged '{SOLUTION_TAG}' "
                f"without {BEGIN}, they have"
            )
            problems.append(
                f"{name}, cell {index} reads {', '.join(needed)}, which {which} no counterpart "
                f"in the chapter. Mark the student's part with {BEGIN} … {END}, or untag the "
                "cell (given code)."
            )
        defined |= flow.binds
    return problems


def content_hash(notebook: nbformat.NotebookNode) -> str:
    """SHA-256 of a notebook's content, leaving out the hash the generator stores in it."""
    data = json.loads(nbformat.writes(notebook))
    data.get("metadata", {}).get("course", {}).pop("generated_sha256", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def solution_filled(
    student: nbformat.NotebookNode, solution: nbformat.NotebookNode
) -> nbformat.NotebookNode:
    """The student notebook with every stubbed cell replaced by the solution's cell.

    This is the student's flow with correct answers: the cells of the student notebook, in
    its order, each exercise filled in. Cells are matched by their notebook cell id.
    """
    by_id = {cell.get("id"): cell for cell in solution.cells}
    filled = copy.deepcopy(student)
    for cell in filled.cells:
        if cell.cell_type == "code" and STUB in cell.source:
            original = by_id.get(cell.get("id"))
            if original is None:
                raise GeneratorError(f"no solution cell with id {cell.get('id')!r} for a stub")
            cell.source = original.source
    return filled


def render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook) + "\n"


def repository_url(root: Path = ROOT) -> str:
    """`repository.url` from _config.yml, the one place the URL is set."""
    import yaml

    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    try:
        url = config["repository"]["url"]
    except (KeyError, TypeError):
        raise GeneratorError(
            "_config.yml: set repository.url (the repository students clone)."
        ) from None
    if not isinstance(url, str) or not url.strip():
        raise GeneratorError("_config.yml: repository.url must be a non-empty URL.")
    return url.strip()


def colab_packages(notebook: nbformat.NotebookNode) -> list[str]:
    """What a notebook's setup cell installs in Colab beyond the base packages.

    Its metadata ``course.colab_packages``: pip requirements, such as ``["gensim==4.4.0"]``.
    """
    packages = notebook.metadata.get("course", {}).get("colab_packages", [])
    if not isinstance(packages, list):
        raise GeneratorError(
            f"course.colab_packages must be a list of requirements, got {packages!r}."
        )
    return packages


def setup_cell(root: Path = ROOT, notebook: nbformat.NotebookNode | None = None) -> str:
    """The source the first code cell of ``notebook`` (by default: any without extra
    packages) must have."""
    packages = colab_packages(notebook) if notebook is not None else []
    return setup_cell_source(repository_url(root), packages)


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        raise GeneratorError(f"{path}: not a valid notebook (JSON): {error}") from None
    except nbformat.ValidationError as error:
        raise GeneratorError(f"{path}: not a valid notebook: {error.message}") from None


def _person_edited(target: Path) -> bool:
    """Whether ``target`` differs from what the generator last wrote there."""
    try:
        current = _read(target)
    except GeneratorError:
        return True
    stored = current.metadata.get("course", {}).get("generated_sha256")
    return stored is None or stored != content_hash(current)


@dataclass
class Plan:
    """What a run of the generator would write, and what stops it."""

    writes: dict[Path, str] = field(default_factory=dict)  # path -> new text
    edited: list[Path] = field(default_factory=list)  # chapters a person changed
    orphans: list[Path] = field(default_factory=list)  # chapters without a solution
    # chapter -> solution cells it needs but leaves out (see `missing_counterparts`)
    unmatched: dict[Path, list[str]] = field(default_factory=dict)


def _solutions(root: Path, only: list[str] | None) -> list[Path]:
    solutions = sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))
    if not only:
        return solutions
    wanted = {Path(name).name for name in only}
    missing = wanted - {path.name for path in solutions}
    if missing:
        raise GeneratorError(f"no solution notebook {sorted(missing)} in solutions/")
    return [path for path in solutions if path.name in wanted]


def plan(root: Path = ROOT, only: list[str] | None = None) -> Plan:
    """Validate the solutions (all, or ``only`` these names) and work out what to write."""
    result = Plan()
    repo_url = repository_url(root)
    references = load_references(root / "references.bib")
    solutions = _solutions(root, only)
    for source in solutions:
        solution = update_solution(_read(source), source.name, repo_url, references)
        student = student_version(solution, source.name)
        problems = missing_counterparts(solution, source.name)
        if problems:
            result.unmatched[root / "chapters" / source.name] = problems
        for path, notebook in ((source, solution), (root / "chapters" / source.name, student)):
            text = render(notebook)
            current = path.read_text(encoding="utf-8") if path.exists() else None
            if current == text:
                continue
            result.writes[path] = text
            if path.parent.name == "chapters" and current is not None and _person_edited(path):
                result.edited.append(path)
    names = {path.name for path in sorted((root / "solutions").glob("[0-9][0-9]_*.ipynb"))}
    result.orphans = [
        path for path in sorted((root / "chapters").glob("*.ipynb")) if path.name not in names
    ]
    return result


def generate(
    root: Path = ROOT, check: bool = False, force: bool = False, only: list[str] | None = None
) -> list[Path]:
    """Write (or with ``check``, only compare) every notebook; return the stale paths.

    With ``check``, a chapter that leaves out a solution cell it needs (``Plan.unmatched``)
    counts as stale too.

    Raises:
        GeneratorError: a solution breaks a rule, or (without ``force``) a chapter was edited
            by a person; nothing is written then.
    """
    result = plan(root, only)
    if check:
        return sorted(set(result.writes) | set(result.orphans) | set(result.unmatched))
    return write(result, root, force)


def write(result: Plan, root: Path = ROOT, force: bool = False) -> list[Path]:
    """Write what ``result`` plans; return the paths written.

    Raises:
        GeneratorError: (without ``force``) a chapter was edited by a person; nothing is
            written then.
    """
    if result.edited and not force:
        names = ", ".join(str(p.relative_to(root)) for p in result.edited)
        raise GeneratorError(
            f"{names}: edited since the generator wrote it (its content no longer matches the "
            "hash in its metadata). Move your changes into solutions/ and run again, or run "
            "`python -m utils.chapters --force`, which saves a copy as .ipynb.bak first."
        )
    for path, text in result.writes.items():
        if path in result.edited:
            backup = path.with_name(path.name + ".bak")
            backup.write_bytes(path.read_bytes())
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(result.writes)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument(
        "--force", action="store_true", help="overwrite hand-edited chapters (after a .bak copy)"
    )
    parser.add_argument("notebooks", nargs="*", help="only these solution notebooks (default: all)")
    args = parser.parse_args(argv)
    try:
        result = plan(root, args.notebooks)
        unmatched = [problem for problems in result.unmatched.values() for problem in problems]
        if args.check:
            for path in sorted(result.writes):
                kind = "edited by hand" if path in result.edited else "stale"
                print(f"{kind}: {path.relative_to(root)}")
            for path in result.orphans:
                print(f"no solution: {path.relative_to(root)} (solutions/{path.name} is gone)")
            for problem in unmatched:
                print(f"no counterpart: {problem}")
            return 1 if (result.writes or result.orphans or unmatched) else 0
        written = write(result, root, force=args.force)
    except GeneratorError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote: {path.relative_to(root)}")
    for problem in unmatched:  # written all the same: the chapter follows the tags
        print(f"warning: no counterpart: {problem}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
