"""conftest.once: what the shared book build and notebook executions rely on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from conftest import ROOT, executed_edition, once, program


def test_made_once_then_reused(tmp_path_factory):
    calls = []

    def make(folder):
        calls.append(folder)
        (folder / "out.txt").write_text("made", encoding="utf-8")

    first = once(tmp_path_factory, "test-once-reused", make)
    second = once(tmp_path_factory, "test-once-reused", make)
    assert first == second and calls == [first]
    assert (first / "out.txt").read_text(encoding="utf-8") == "made"


def test_a_failure_is_raised_once_and_remembered_without_a_retry(tmp_path_factory):
    calls = []

    def make(folder):
        calls.append(folder)
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        once(tmp_path_factory, "test-once-failed", make)
    with pytest.raises(RuntimeError, match="failed earlier in this session:\nOSError: disk full"):
        once(tmp_path_factory, "test-once-failed", make)
    assert len(calls) == 1


@pytest.mark.slow  # two Python processes
def test_workers_of_one_session_share_and_wait(tmp_path):
    # Two processes standing for two xdist workers: the second waits for the first's lock
    # and reuses its folder instead of making it again.
    script = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT / "tests")!r})
        from pathlib import Path
        from conftest import once

        class Factory:  # a worker's TempPathFactory: its folder is inside the session's
            def getbasetemp(self):
                path = Path({str(tmp_path)!r}) / os.environ["PYTEST_XDIST_WORKER"]
                path.mkdir(exist_ok=True)
                return path

        def make(folder):
            time.sleep(0.5)
            (folder / "by").write_text(os.environ["PYTEST_XDIST_WORKER"])

        folder = once(Factory(), "shared", make)
        print((folder / "by").read_text())
        """
    )
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTEST_XDIST_WORKER": name},
            stdout=subprocess.PIPE,
            text=True,
        )
        for name in ("gw0", "gw1")
    ]
    makers = {worker.communicate(timeout=60)[0].strip() for worker in workers}
    assert all(worker.returncode == 0 for worker in workers)
    assert len(makers) == 1 and makers <= {"gw0", "gw1"}  # both read the one maker's output


def _notebook(*cells: tuple[str, list[str]]) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Chapter")] + [
        nbformat.v4.new_code_cell(source, metadata={"tags": tags}) for source, tags in cells
    ]
    return notebook


def test_a_student_flow_shares_the_solutions_run_only_when_it_is_the_same_program():
    solution = _notebook(("n = 1", ["parameters"]), ("x = n + 1", ["solution"]), ("print(x)", []))
    same = _notebook(("n = 1", ["parameters"]), ("x = n + 1", ["exercise"]), ("print(x)", []))
    same.cells.insert(2, nbformat.v4.new_markdown_cell("**Your answer:**"))  # text only
    assert program(same) == program(solution)
    # A solution-only cell left out, a cell changed, the parameters cell moved: not the same.
    assert program(_notebook(("n = 1", ["parameters"]), ("print(x)", []))) != program(solution)
    assert program(_notebook(("n = 1", ["parameters"]), ("x = n", []), ("print(x)", []))) != (
        program(solution)
    )
    assert program(_notebook(("n = 1", []), ("x = n + 1", ["parameters"]), ("print(x)", []))) != (
        program(solution)
    )


@pytest.mark.parametrize(
    "name", [path.name for path in sorted(ROOT.glob("solutions/[0-9]*.ipynb"))]
)
def test_the_edition_executed_for_a_student_flow(name):
    from utils import chapters

    solution = nbformat.read(ROOT / "solutions" / name, as_version=4)
    filled = chapters.solution_filled(
        nbformat.read(ROOT / "chapters" / name, as_version=4), solution
    )
    expected = "solution" if program(filled) == program(solution) else "student"
    assert executed_edition(name, "student") == expected
    assert executed_edition(name, "solution") == "solution"
