"""The student edition by data flow (issue 17): no stored output computed from the student's work.

`utils.chapters.student_dependent_cells` finds, with `ast` and `symtable`, every cell that reads
a name an exercise cell defines, or a name computed from one; the generator clears their
outputs. `missing_counterparts` finds the solution cells a chapter leaves out although a cell
it keeps needs them.
"""

from __future__ import annotations

import nbformat
import pytest

from utils import chapters

TITLE = "# Chapter 1: Things (solutions)"


def _dependent(*sources: str, exercises=(0,)) -> dict[int, list[str]]:
    return chapters.student_dependent_cells(list(sources), set(exercises))


# --- what one cell does with names --------------------------------------------------------


def test_cell_flow_reads_binds_and_imports():
    flow = chapters.cell_flow(
        "import numpy as np\nfrom math import pi\ny = np.sum(x) + pi\nz = [w * k for k in y]"
    )
    assert {"np", "x", "pi", "y", "w"} <= flow.reads
    assert "k" not in flow.reads  # the comprehension's own variable
    assert flow.binds == {"np", "pi", "y", "z"}
    assert flow.imports == {"np", "pi"}


def test_cell_flow_changes_are_receivers_of_method_calls_and_targets_of_stores():
    flow = chapters.cell_flow(
        "histories.append(h)\nresults['a'] = 1\nrun.score = 2\ndel cache[0]\n"
        "table['x'].iloc[0] = 3\nmake().append(1)\nsuper_list = []"
    )
    assert flow.changes == {"histories", "results", "run", "cache", "table"}


def test_a_function_body_counts_where_the_function_is_called():
    flow = chapters.cell_flow(
        "def show(a):\n    b = a + offset\n    log.append(b)\n    return helper(b)\n"
        "class Layer(Base):\n    def call(self, x):\n        super().__init__()\n"
        "        self.w = weights\n        return x"
    )
    assert flow.reads == {"Base"}  # the base class is read where the class is defined
    assert flow.binds == {"show", "Layer"}
    show = flow.scopes["show"]
    assert {"offset", "helper", "log"} <= show.reads and not {"a", "b"} & show.reads
    assert show.changes == {"log"}  # a global changed in place; the locals are not
    layer = flow.scopes["Layer"]
    assert "weights" in layer.reads and layer.changes == set()  # self and super() are not


def test_a_global_statement_is_a_change():
    flow = chapters.cell_flow("def reset():\n    global counter\n    counter = 0")
    assert flow.scopes["reset"].changes == {"counter"}


# --- which cells depend on the student ------------------------------------------------------


def test_a_cell_reading_the_students_function_depends_on_it_and_data_stays():
    dependent = _dependent(
        "def softmax(x):\n    return x",
        "scores = load()\nprint(scores)",  # data exploration: stays
        "print(softmax(scores))",
    )
    assert dependent == {2: ["softmax"]}


def test_names_computed_from_the_students_work_are_followed():
    dependent = _dependent(
        "def layer(x):\n    return x",
        "h = layer(data)",
        "table = frame(h)",
        "plot(table)",
        "plot(data)",
    )
    assert dependent == {1: ["layer"], 2: ["h"], 3: ["table"]}


@pytest.mark.parametrize(
    "change", ["results['a'] = layer(1)", "histories.append(layer(1))", "run.best = layer(1)"]
)
def test_an_object_changed_in_place_by_a_dependent_cell_becomes_the_students(change):
    target = change.split("[")[0].split(".")[0].split(" ")[0]
    dependent = _dependent(
        "def layer(x):\n    return x", f"{target} = make()", change, f"print({target})"
    )
    assert dependent == {2: ["layer"], 3: [target]}


def test_a_function_that_reads_the_students_names_makes_its_callers_depend():
    # `show` is defined before the exercise: what counts is what it reads when called.
    dependent = _dependent(
        "def show():\n    print(ht[0])",
        "ht = rnn(x)",
        "show()",
        "def table():\n    return frame(ht)",
        "display(table())",
        exercises=(1,),
    )
    assert dependent == {2: ["ht"], 4: ["ht"]}


def test_a_function_that_changes_a_global_passes_the_students_work_on():
    dependent = _dependent(
        "def layer(x):\n    return x",
        "results = {}\ndef record(key, value):\n    results[key] = value",
        "record('a', layer(1))",
        "print(results)",
    )
    assert dependent == {2: ["layer"], 3: ["results"]}


def test_modules_are_never_the_students():
    dependent = _dependent(
        "import numpy as np\ndef layer(x):\n    return np.tanh(x)",
        "np.save('out.npy', layer(1))",
        "print(np.pi)",
    )
    assert dependent == {1: ["layer"]}


def test_a_name_once_the_students_stays_so():
    # Conservative: a later cell may rebind it only on one branch.
    assert _dependent("h = rnn(x)", "if ready:\n    h = zeros()", "print(h)") == {2: ["h"]}


# --- the generator clears what depends on the student ---------------------------------------


def _code(source: str, *tags: str, output: str = "stored\n"):
    cell = nbformat.v4.new_code_cell(source, execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)]
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def _notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell(TITLE), *cells]
    return notebook


def test_student_version_clears_outputs_computed_from_the_students_work():
    solution = _notebook(
        _code("scores = load()\nprint(scores)"),
        _code(
            f"def softmax(x):\n    {chapters.BEGIN}\n    return x\n    {chapters.END}", "solution"
        ),
        _code("print(softmax(scores))"),
        _code("weights = softmax(scores)"),
        _code("plot(weights)"),
        _code("plot(scores)"),
    )
    student = chapters.student_version(solution, "01_things.ipynb")
    outputs = [bool(cell.get("outputs")) for cell in student.cells[1:]]
    assert outputs == [True, False, False, False, False, True]


def test_tags_still_clear_what_data_flow_cannot_see():
    solution = _notebook(_code("print(evaluate('best'))", "solution-output"))
    assert chapters.student_version(solution, "01_things.ipynb").cells[1].outputs == []


# --- cells the chapter needs but leaves out --------------------------------------------------


def test_an_exercise_without_markers_has_no_counterpart():
    """A `solution` cell without markers is left out; the check after it then cannot run."""
    solution = _notebook(
        _code("def qkv(X):\n    return X, X, X", "solution"),  # the markers were forgotten
        _code("check_qkv(qkv)"),
        _code("reveal = 1", "solution"),  # a reveal nothing needs: fine
    )
    problems = chapters.missing_counterparts(solution, "01_things.ipynb")
    assert problems == [
        "01_things.ipynb, cell 2 reads qkv, which only cell 1 defines; tagged 'solution' "
        f"without {chapters.BEGIN}, it has no counterpart in the chapter. Mark the student's "
        f"part with {chapters.BEGIN} … {chapters.END}, or untag the cell (given code)."
    ]


def test_a_name_the_chapter_defines_as_well_is_not_missing():
    solution = _notebook(
        _code("results = {}"),
        _code("results['extra'] = 1", "solution"),
        _code("print(results)"),
        _code("total = 2", "solution"),
        _code("total = 3\nprint(total)"),
    )
    assert chapters.missing_counterparts(solution, "01_things.ipynb") == []


def test_check_fails_when_an_exercise_cell_is_dropped(tmp_path, capsys):
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    (tmp_path / "solutions").mkdir()
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/c\n")
    shutil.copy(root / "references.bib", tmp_path / "references.bib")
    solution = _notebook(
        _code("setup"),
        _code("def qkv(X):\n    return X", "solution"),
        _code("check_qkv(qkv)"),
    )
    nbformat.write(solution, tmp_path / "solutions" / "01_things.ipynb")
    assert chapters.main([], root=tmp_path) == 0  # written, with a warning
    assert "warning: no counterpart: 01_things.ipynb, cell 3 reads qkv" in capsys.readouterr().err
    assert chapters.main(["--check"], root=tmp_path) == 1
    assert "no counterpart: 01_things.ipynb, cell 3 reads qkv" in capsys.readouterr().out
    assert chapters.generate(tmp_path, check=True) == [tmp_path / "chapters" / "01_things.ipynb"]
