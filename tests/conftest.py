"""Shared fixtures: the repository root and a papermill runner for the solution notebooks."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build_book(source: Path, out: Path) -> Path:
    """Build the Jupyter Book at ``source`` into ``out`` as `make book` does; return the HTML."""
    import subprocess

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


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "solution_smoke: a papermill smoke run of a whole solution notebook; `make test` skips "
        "these because nbval executes every solution notebook there, `make test-colab` runs them",
    )


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def run_notebook(tmp_path: Path):
    """Execute a solution notebook with papermill and return the executed notebook.

    Usage: ``nb = run_notebook("solutions/01_attention.ipynb", {"param": value})``.
    The kernel starts in the repository root, as an instructor's papermill run does.
    """
    import nbformat
    import papermill

    def run(relative: str, parameters: dict | None = None, timeout: int = 600):
        output = tmp_path / Path(relative).name
        papermill.execute_notebook(
            str(ROOT / relative),
            str(output),
            parameters=parameters or {},
            cwd=str(ROOT),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
        )
        return nbformat.read(output, as_version=4)

    return run
