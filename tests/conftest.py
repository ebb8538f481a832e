"""Shared fixtures, and how the suite is split and scheduled.

* ``book``: the repository's book, built once per test session.
* ``smoke_run``: each notebook executed once per session at its smoke size, as a solution and,
  where that is another program, as the student's flow; every test about that notebook reads
  the one execution.
* ``run_notebook``: papermill with parameters of the test's own (bad values, other sizes).

Both shared fixtures are shared across pytest-xdist workers as well (a file lock in the
session's temporary folder): the first worker that needs one produces it, the others wait and
read it. Tests are marked ``slow`` by the fixtures they use (or by their own mark), so that
`make test-fast` leaves them out; each test is put in an xdist group (its file, or its
notebook) so that module-scoped fixtures are built once, and the long groups start first.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EDITIONS = ("solution", "student")
# nbval's switch for a quick run; the notebooks' own smoke parameters are passed instead.
SMOKE_VARIABLE = "COURSE_NBVAL_SMOKE"
# TensorFlow's C++ start-up lines (issue 17), which no output may show.
TF_LOG_LINES = ("absl::InitializeLog", "oneDNN custom operations", "cpu_feature_guard")
# A test that uses one of these takes seconds: it executes a notebook, builds a book or reads
# the whole IMDB archive.
SLOW_FIXTURES = {"smoke_run", "run_notebook", "book", "small_book", "real_archive"}
# Tests in files whose owners have not marked them `@pytest.mark.slow` yet (prefer the mark in
# the test file; the summary names any test over FAST_LIMIT that is not marked). Measured at 3
# s and more: they train a model, load the tokenised IMDB reviews or start a kernel or `make`.
SLOW_TESTS = {
    "tests/test_chapters.py::test_changing_the_repository_url_retargets_every_notebook",
    "tests/test_checks_imdb.py::test_builder_check_reports_a_training_history",
    "tests/test_colab.py::test_failed_clone_says_what_failed_and_what_to_do",
    "tests/test_colab.py::test_notebook_outside_the_repository_clones_utils_and_runs",
    "tests/test_data.py::test_encode_reviews_matches_the_corpus_encoding",
    "tests/test_data.py::test_imdb_indices_are_ranked_by_training_frequency",
    "tests/test_data.py::test_imdb_padding_matches_keras",
    "tests/test_data.py::test_imdb_splits_cache_and_conventions",
    "tests/test_data_cache.py::test_two_concurrent_loaders_on_an_empty_cache_both_succeed",
    "tests/test_imdb.py::test_subset_of_models_runs",
    "tests/test_imdb.py::test_the_default_probe_runs_under_determinism_on_this_machine",
    "tests/test_imdb.py::test_train_and_predict",
}
# A test of `make test-fast` (not marked slow) that takes longer than this is named at the end.
FAST_LIMIT = 1.0  # seconds


def build_book(source: Path, out: Path) -> Path:
    """Build the Jupyter Book at ``source`` into ``out`` as `make book` does; return the HTML."""
    command = [
        str(Path(sys.executable).parent / "jupyter-book"),
        "build",
        str(source),
        "--path-output",
        str(out),
        "--warningiserror",
        "--nitpick",
        "--keep-going",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, (
        f"book build failed:\n{result.stdout[-5000:]}\n{result.stderr[-2000:]}"
    )
    return out / "_build" / "html"


# --- Marks, groups and order -----------------------------------------------------------------


def pytest_configure(config):
    for line in (
        "slow: takes seconds (a notebook execution, a book build, the whole IMDB archive); "
        "`make test-fast` leaves these out",
        "stored_outputs: compares a solution's stored outputs with a new run; `make test-colab` "
        "leaves it out, since the outputs are stored from a run under requirements.txt",
    ):
        config.addinivalue_line("markers", line)


# Files whose tests are long but whose module-scoped fixtures are cheap (a browser, a local
# server; the book itself is built once per session): their tests are split into groups (see
# `group`), the ones without parameters dealt round-robin into this many, so that both
# workers share them.
SPLIT = {"test_book.py": 4}


def group(nodeid: str, index: int) -> str:
    """The group of the test ``nodeid``, the ``index``-th of its file, for pytest-xdist.

    One worker runs a whole group. The notebook runs have one group per notebook and edition
    (a solution and its student flow run on two workers at once); a file in SPLIT has that
    many; any other file is one group, so that its module-scoped fixtures are set up once.
    """
    path, _, test = nodeid.partition("::")
    file = path.rsplit("/", 1)[-1]
    function, _, notebook = test.partition("[")
    if file == "test_notebook_runs.py" and notebook:
        name = notebook.rstrip("]")
        kind = "student" if "student" in function else "solution"
        # A student flow that is the solution's program reads the solution's execution: on
        # the same worker, so that no worker waits for the other's run.
        return f"notebook-{name}-{executed_edition(name, kind)}"
    if file in SPLIT:
        # The tests of one page at one width share one visit (test_book.py's `visit`), so
        # they go together, one group per page and width: a worker that is free takes the next
        # page, which balances the two workers (four groups of pages by hash did not: the
        # slowest pages fell into one). Tests without a page are dealt round-robin.
        parameters = notebook.rstrip("]")
        if parameters:
            return f"{file}-{parameters}"
        return f"{file}-part-{index % SPLIT[file]}"
    return file


def _groups(nodeids: list[str]) -> dict[str, str]:
    counts: dict[str, int] = {}
    found = {}
    for nodeid in nodeids:
        file = nodeid.partition("::")[0]
        counts[file] = counts.get(file, -1) + 1
        found[nodeid] = group(nodeid, counts[file])
    return found


def pytest_collection_modifyitems(config, items):
    costly = {  # the notebooks that train (they have smoke parameters)
        path.name
        for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")
        if nbformat.read(path, as_version=4).metadata.get("course", {}).get("smoke_parameters")
    }
    groups = _groups([item.nodeid for item in items])
    for item in items:
        where = item.path.relative_to(ROOT).as_posix()
        function = f"{where}::{getattr(item, 'originalname', item.name)}"
        if function in SLOW_TESTS or SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
    slow_groups = {groups[item.nodeid] for item in items if "slow" in item.keywords}
    rank: dict[str, int] = {}
    for item in items:
        name = groups[item.nodeid]
        if name.startswith("notebook-"):
            rank[item.nodeid] = 0 if name.split("-")[1] in costly else 2
        elif item.path.name in SPLIT:
            rank[item.nodeid] = 1
        else:  # files with slow tests before the files of unit tests only, which fill the end
            rank[item.nodeid] = 3 if name in slow_groups else 4
    # The scheduler below hands out the groups in the order they are first collected: the
    # longest first (the notebooks that train, the browser tests, the files with slow tests),
    # so that the two workers finish together rather than one waiting for the last long group.
    items.sort(key=lambda item: rank[item.nodeid])


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, when it is installed
def pytest_xdist_make_scheduler(config, log):
    """Run each ``group`` on one worker, groups in collection order.

    (pytest-xdist's own ``--dist loadgroup`` marks cannot be used: version 3.8 rewrites
    ``item._nodeid``, which pytest 9 no longer reads.)
    """
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if not hasattr(self, "_group_of"):
                self._group_of = _groups(self.collection)
            return self._group_of[nodeid]

    config.option.loadscopereorder = False  # keep the collection order
    return GroupScheduling(config, log)


_LONG_FAST_TESTS: list[tuple[float, str]] = []
_EXECUTIONS: dict[str, float] = {}


def pytest_runtest_logreport(report):
    for name, value in report.user_properties:
        if name == "smoke_run":
            _EXECUTIONS.update(value)
    if report.when == "call" and report.duration > FAST_LIMIT and "slow" not in report.keywords:
        _LONG_FAST_TESTS.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter):
    if _EXECUTIONS:
        terminalreporter.section("notebook executions (smoke size, once each)")
        for key, seconds in sorted(_EXECUTIONS.items()):
            if isinstance(seconds, str):  # a student flow read from the solution's run
                terminalreporter.write_line(f"{'':9}  {key}: {seconds}")
            else:
                terminalreporter.write_line(f"{seconds:7.1f} s  {key}")
    if _LONG_FAST_TESTS:
        terminalreporter.section(f"tests over {FAST_LIMIT:g} s not marked slow")
        for seconds, nodeid in sorted(_LONG_FAST_TESTS, reverse=True):
            terminalreporter.write_line(f"{seconds:7.1f} s  {nodeid}")


# --- Produced once per session, across workers -----------------------------------------------


def once(factory: pytest.TempPathFactory, key: str, make: Callable[[Path], None]) -> Path:
    """``make(folder)`` run once per test session, even across pytest-xdist workers.

    The first caller runs it under a file lock; the others wait for the lock and get the same
    folder. If ``make`` raised, every later caller gets a RuntimeError with its message.

    Returns:
        the folder ``make`` filled.
    """
    import fcntl  # POSIX only, like the Makefile

    base = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # this session's folder, which its workers share
    shared = base / "once"
    shared.mkdir(exist_ok=True)
    folder, done, failed = shared / key, shared / f"{key}.done", shared / f"{key}.failed"
    with open(shared / f"{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not done.exists() and not failed.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            try:
                make(folder)
            except Exception as error:
                failed.write_text(f"{type(error).__name__}: {error}", encoding="utf-8")
                raise
            done.touch()
    if failed.exists():
        raise RuntimeError(f"{key} failed earlier in this session:\n{failed.read_text()}")
    return folder


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def book(tmp_path_factory) -> Path:
    """The repository's book, built once per test session (as `make book` builds it)."""
    if not (ROOT / "_mathjax" / "mathjax" / "tex-chtml.js").exists():
        pytest.fail("MathJax is not in _mathjax/mathjax: run `make mathjax` (make test does).")
    folder = once(tmp_path_factory, "book", lambda out: build_book(ROOT, out))
    return folder / "_build" / "html"


@pytest.fixture
def run_notebook(tmp_path: Path):
    """Execute a solution notebook with papermill and return the executed notebook.

    Usage: ``nb = run_notebook("solutions/01_attention.ipynb", {"param": value})``.
    The kernel starts in the repository root, as an instructor's papermill run does.
    For a run at the notebook's smoke parameters use the shared ``smoke_run`` instead.
    """

    def run(relative: str, parameters: dict | None = None, timeout: int = 600):
        return _papermill(ROOT / relative, tmp_path / Path(relative).name, parameters, timeout)

    return run


def _papermill(source: Path, output: Path, parameters: dict | None, timeout: int = 600):
    import papermill

    papermill.execute_notebook(
        str(source),
        str(output),
        parameters=parameters or {},
        cwd=str(ROOT),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout,
    )
    return nbformat.read(output, as_version=4)


# --- One smoke execution per notebook and edition ---------------------------------------------


@dataclass(frozen=True)
class SmokeRun:
    """A notebook executed top to bottom at its smoke size.

    Attributes:
        notebook: the executed notebook (papermill's injected-parameters cell included).
        parameters: what papermill passed (``course.smoke_parameters``, plus ``results_path``
            when the notebook has that parameter).
        results: the JSON the run wrote to ``results_path``, or None.
        seconds: wall-clock time of the execution.
        edition: the edition executed: ``"solution"`` also for a student flow that is the
            solution's program (`executed_edition`).
    """

    notebook: nbformat.NotebookNode
    parameters: dict
    results: dict | None
    seconds: float
    edition: str


def smoke_parameters(notebook: nbformat.NotebookNode, folder: Path) -> dict:
    """``course.smoke_parameters`` from the metadata, and a ``results_path`` in ``folder`` when
    the notebook's ``parameters`` cell has one."""
    parameters = dict(notebook.metadata.get("course", {}).get("smoke_parameters", {}))
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is not None and "results_path" in cell.source:
        parameters["results_path"] = str(folder / "results.json")
    return parameters


def edition(name: str, kind: str) -> nbformat.NotebookNode:
    """The notebook ``name`` (``"03_imdb.ipynb"``) as a solution, or as the student's flow:
    the student notebook with each stub filled by the solution (`utils.chapters`)."""
    from utils import chapters

    if kind not in EDITIONS:
        raise ValueError(f"kind must be one of {EDITIONS}, got {kind!r}")
    solution = nbformat.read(ROOT / "solutions" / name, as_version=4)
    if kind == "solution":
        return solution
    student = nbformat.read(ROOT / "chapters" / name, as_version=4)
    return chapters.solution_filled(student, solution)


def program(notebook: nbformat.NotebookNode) -> list[tuple[str, bool]]:
    """What a kernel executes for ``notebook``: each code cell's source, in order, and whether
    it is the ``parameters`` cell (papermill injects the parameters after it)."""
    return [
        (cell.source, "parameters" in cell.metadata.get("tags", []))
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


@functools.cache
def executed_edition(name: str, kind: str) -> str:
    """The edition whose execution serves ``kind``: ``"solution"`` for a student flow that is
    the solution's program cell for cell (a notebook without solution-only cells), otherwise
    ``kind``. Executing the same program twice would only repeat the same outputs."""
    if kind == "student" and program(edition(name, "student")) == program(
        edition(name, "solution")
    ):
        return "solution"
    return kind


def _execute(name: str, kind: str, folder: Path) -> None:
    """Execute ``edition(name, kind)`` into ``folder``: out.ipynb, parameters.json, seconds."""
    notebook = edition(name, kind)
    nbformat.write(notebook, folder / "in.ipynb")
    parameters = smoke_parameters(notebook, folder)
    (folder / "parameters.json").write_text(json.dumps(parameters), encoding="utf-8")
    saved = os.environ.pop(SMOKE_VARIABLE, None)  # the smoke parameters say the size
    start = time.perf_counter()
    try:
        _papermill(folder / "in.ipynb", folder / "out.ipynb", parameters)
    finally:
        (folder / "seconds").write_text(f"{time.perf_counter() - start:.3f}", encoding="utf-8")
        if saved is not None:
            os.environ[SMOKE_VARIABLE] = saved


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(name, kind="solution") -> SmokeRun``: the notebook executed once per session.

    ``name`` is a notebook's file name (``"03_imdb.ipynb"``); ``kind`` is ``"solution"`` or
    ``"student"`` (the student notebook with the solutions filled in; when that is the
    solution's program cell for cell, the solution's execution serves it). Every test that needs
    an execution at the smoke size (no errors, nbval's comparison, checks that printed,
    results written) shares this one. A failed execution is not repeated: every test that
    needs it fails with papermill's message.
    """
    loaded: dict[tuple[str, str], SmokeRun] = {}

    def run(name: str, kind: str = "solution") -> SmokeRun:
        executed = executed_edition(name, kind)
        if (name, executed) not in loaded:
            key = f"{executed}-{Path(name).stem}"
            folder = once(tmp_path_factory, key, lambda out: _execute(name, executed, out))
            parameters = json.loads((folder / "parameters.json").read_text(encoding="utf-8"))
            results = Path(parameters.get("results_path", folder / "none"))
            loaded[name, executed] = SmokeRun(
                nbformat.read(folder / "out.ipynb", as_version=4),
                parameters,
                json.loads(results.read_text(encoding="utf-8")) if results.is_file() else None,
                float((folder / "seconds").read_text()),
                executed,
            )
        return loaded[name, executed]

    return run
