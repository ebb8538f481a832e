"""The Colab path: a notebook copied out of the repository fetches `utils` by itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
# The lightest notebook that imports utils and reads course data.
NOTEBOOK = ROOT / "solutions" / "02_rnn.ipynb"


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="no chapter 2 notebook yet")
def test_notebook_outside_the_repository_clones_utils_and_runs(tmp_path, monkeypatch):
    import papermill

    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]).returncode != 0:
        pytest.skip("the repository has no commit to clone")
    workdir = tmp_path / "colab"
    workdir.mkdir()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # A last cell reports where `utils` was imported from.
    notebook.cells.append(nbformat.v4.new_code_cell("import utils\nprint(utils.__file__)"))
    nbformat.write(notebook, workdir / NOTEBOOK.name)
    # Colab would clone the GitHub URL of _config.yml; here the clone points at this checkout.
    monkeypatch.setenv("COURSE_REPO_URL", str(ROOT))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    papermill.execute_notebook(
        str(workdir / NOTEBOOK.name),
        str(workdir / "executed.ipynb"),
        cwd=str(workdir),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=300,
    )
    clone = workdir / "sequence-models-course"
    assert (clone / "utils" / "data.py").is_file(), "the setup cell did not clone the repository"
    executed = nbformat.read(workdir / "executed.ipynb", as_version=4)
    errors = [
        output
        for cell in executed.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    imported_from = Path(executed.cells[-1].outputs[0]["text"].strip())
    assert imported_from.is_relative_to(clone), f"utils came from {imported_from}, not the clone"
