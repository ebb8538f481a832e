"""The Colab path: a notebook copied out of the repository fetches `utils` by itself, and says
what to do when it cannot."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from utils import chapters
from utils.notebook_setup import setup_cell_source

ROOT = Path(__file__).resolve().parent.parent
# The lightest notebook that imports utils and reads course data.
NOTEBOOK = ROOT / "solutions" / "02_rnn.ipynb"
CLONE = "sequence-models-course"  # the folder the setup cell clones into


def _copy_outside(workdir: Path) -> Path:
    """Copy NOTEBOOK into ``workdir`` (outside the repository) and return the copy's path."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert first.source == chapters.setup_cell(ROOT, notebook), (
        f"{NOTEBOOK.name}: the setup cell is not the one utils.notebook_setup writes: "
        "run `make chapters`"
    )
    # A last cell reports where `utils` was imported from.
    notebook.cells.append(nbformat.v4.new_code_cell("import utils\nprint(utils.__file__)"))
    workdir.mkdir()
    nbformat.write(notebook, workdir / NOTEBOOK.name)
    return workdir / NOTEBOOK.name


def _execute(path: Path, timeout: int) -> None:
    import papermill

    papermill.execute_notebook(
        str(path),
        str(path.with_name("executed.ipynb")),
        cwd=str(path.parent),
        kernel_name="python3",
        progress_bar=False,
        execution_timeout=timeout,
    )


def _run_cell(
    source: str, cwd: Path, prelude: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run a setup cell's source in a fresh interpreter that sees only the standard library.

    ``-I -S``: no site-packages, user site or PYTHONPATH, as on a machine where nothing of the
    course is installed yet. ``env``: the environment (default: this process's).
    """
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", prelude + source + "\nprint(sys.path[0])"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="no chapter 2 notebook yet")
def test_notebook_outside_the_repository_clones_utils_and_runs(tmp_path, monkeypatch):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"]).returncode != 0:
        pytest.skip("the repository has no commit to clone")
    path = _copy_outside(tmp_path / "colab")
    # Colab would clone the GitHub URL of _config.yml; here the clone points at this checkout.
    monkeypatch.setenv("COURSE_REPO_URL", str(ROOT))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    _execute(path, timeout=300)
    clone = path.parent / CLONE
    assert (clone / "utils" / "notebook_setup.py").is_file(), (
        "the setup cell did not clone the repository"
    )
    executed = nbformat.read(path.with_name("executed.ipynb"), as_version=4)
    errors = [
        output
        for cell in executed.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    assert not errors
    imported_from = Path(executed.cells[-1].outputs[0]["text"].strip())
    assert imported_from.is_relative_to(clone), f"utils came from {imported_from}, not the clone"


@pytest.mark.skipif(not NOTEBOOK.exists(), reason="no chapter 2 notebook yet")
def test_failed_clone_says_what_failed_and_what_to_do(tmp_path, monkeypatch):
    import papermill

    path = _copy_outside(tmp_path / "colab")
    missing = tmp_path / "no-such-repository"
    monkeypatch.setenv("COURSE_REPO_URL", str(missing))
    monkeypatch.delenv("PYTHONPATH", raising=False)
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        _execute(path, timeout=120)
    error = failure.value
    assert error.ename == "RuntimeError", f"expected a RuntimeError, got {error.ename}"
    message = error.evalue
    assert f"could not clone the course repository {missing}" in message
    assert "does not exist" in message, "git's own reason is missing"
    for advice in ("network", "repository.url", "COURSE_REPO_URL"):
        assert advice in message, f"the message does not mention {advice!r}: {message}"
    assert "CalledProcessError" not in "".join(error.traceback)
    # The failed clone leaves no half-made folder that would stop the next attempt.
    assert not (path.parent / CLONE).exists()


def test_a_repository_that_is_not_the_course_is_named(tmp_path):
    other = tmp_path / "other-repository"
    other.mkdir()
    (other / "README.md").write_text("not the course\n")
    git = ["git", "-C", str(other), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(other)], check=True)
    subprocess.run([*git, "add", "README.md"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "init"], check=True)
    workdir = tmp_path / "colab"
    workdir.mkdir()
    source = setup_cell_source("https://github.com/someone/course")
    prelude = f"import os\nos.environ['COURSE_REPO_URL'] = {str(other)!r}\n"
    result = _run_cell(source, workdir, prelude=prelude)
    assert result.returncode != 0
    assert f"could not clone the course repository {other}" in result.stderr
    assert "the clone has no utils/notebook_setup.py, so it is not the course" in result.stderr
    assert "COURSE_REPO_URL" in result.stderr


def test_missing_git_says_install_git(tmp_path):
    workdir = tmp_path / "colab"
    workdir.mkdir()
    no_git = tmp_path / "bin"  # a PATH with no git on it
    no_git.mkdir()
    result = _run_cell(
        setup_cell_source("https://github.com/someone/course"), workdir, env={"PATH": str(no_git)}
    )
    assert result.returncode != 0
    assert "Reason: could not run git:" in result.stderr
    assert "What to do: install git (" in result.stderr
    assert "check the network" not in result.stderr  # the network is not the problem


@pytest.mark.slow  # starts a kernel and TensorFlow: left out of `make test-fast`
def test_setup_cell_keeps_tensorflow_start_up_log_lines_out(tmp_path):
    """Issue 17: absl's and oneDNN's start-up lines ended up in stored outputs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PYTHON"))}
    setup = setup_cell_source("https://github.com/someone/course")
    # Run twice, as a student may; it imports nothing heavy itself (a notebook checks its
    # parameters right after it), and the first import of TensorFlow is the quiet one.
    code = (setup + "\n" + setup + "\nassert 'tensorflow' not in sys.modules\n") + (
        "\nimport keras\nimport numpy as np\n"
        "model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])\n"
        "model.compile('sgd', 'mse')\n"
        "model.fit(np.ones((4, 3)), np.ones(4), verbose=0)\nprint('trained')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "solutions",
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "trained"
    assert "absl::InitializeLog" not in result.stderr
    assert "oneDNN" not in result.stderr
    assert "cpu_feature_guard" not in result.stderr
    # Without the setting, this TensorFlow prints absl's line: the test can tell.
    unset = subprocess.run(
        [sys.executable, "-c", "import tensorflow"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert "absl::InitializeLog" in unset.stderr


def test_failed_install_says_what_failed_and_what_to_do(tmp_path):
    # The clone is already there; rdata is not importable (no site-packages) and pip fails as
    # it does offline: a stand-in interpreter that prints pip's error and exits 1.
    (tmp_path / CLONE / "utils").mkdir(parents=True)
    (tmp_path / CLONE / "utils" / "notebook_setup.py").write_text("")
    fake_python = tmp_path / "python-without-network"
    fake_python.write_text(
        "#!/bin/sh\necho 'ERROR: No matching distribution found for rdata' >&2\nexit 1\n"
    )
    fake_python.chmod(0o755)
    source = setup_cell_source("https://github.com/someone/course")
    result = _run_cell(
        source, tmp_path, prelude=f"import sys\nsys.executable = {str(fake_python)!r}\n"
    )
    assert result.returncode != 0
    assert "RuntimeError: Setup failed: could not install rdata with pip." in result.stderr
    assert "pip said: ERROR: No matching distribution found for rdata" in result.stderr
    assert "check the network" in result.stderr
    assert "CalledProcessError" not in result.stderr


def test_inside_the_repository_the_cell_only_puts_utils_on_the_path(tmp_path):
    source = setup_cell_source("https://github.com/someone/course")
    result = _run_cell(source, ROOT / "solutions")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == ROOT
    assert not (ROOT / "solutions" / CLONE).exists()


def test_a_half_made_clone_is_named_with_the_fix(tmp_path):
    (tmp_path / CLONE).mkdir()  # an interrupted clone: the folder, but no utils
    result = _run_cell(setup_cell_source("https://github.com/someone/course"), tmp_path)
    assert result.returncode != 0
    assert f"{tmp_path / CLONE} exists but holds no course repository" in result.stderr
    assert "Delete that folder" in result.stderr


def test_setup_cell_clones_the_url_it_is_given():
    url = "https://gitlab.example.org/teacher/sequence-models-fork"
    source = setup_cell_source(url)
    assert f'REPO_URL = os.environ.get("COURSE_REPO_URL", "{url}")' in source
    assert source.count(url) == 1


@pytest.mark.parametrize("packages", [(), ("gensim==4.4.0",)])
def test_setup_cell_is_as_ruff_writes_it(tmp_path, packages):
    # `make lint` runs ruff over the notebooks, so the generated cell must pass unchanged.
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this Python (.venv has it)")
    cell = tmp_path / "cell.py"
    cell.write_text(setup_cell_source("https://github.com/someone/course", packages) + "\n")
    config = ["--config", str(ROOT / "ruff.toml")]
    check = subprocess.run([ruff, "check", *config, cell], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    form = subprocess.run([ruff, "format", "--diff", *config, cell], capture_output=True, text=True)
    assert form.returncode == 0, form.stdout + form.stderr


@pytest.mark.parametrize(
    "url",
    [
        "",
        "github.com/someone/course",
        "http://github.com/someone/course",
        "https://github.com",
        "https://github.com/some one/course",
        'https://github.com/someone/course"); import os; ("',
        None,
    ],
)
def test_setup_cell_rejects_what_is_not_an_https_repository_url(url):
    with pytest.raises(ValueError, match=r"repository\.url in _config\.yml must be the https URL"):
        setup_cell_source(url)


def test_setup_cell_installs_what_the_notebook_needs_at_the_pinned_version():
    source = setup_cell_source("https://github.com/someone/course", ["gensim==4.4.0"])
    assert 'wanted = {"gensim": "gensim==4.4.0"}' in source
    assert "missing += [spec for module, spec in wanted.items()" in source
    # A notebook without packages of its own gets the cell every notebook had before.
    assert "wanted" not in setup_cell_source("https://github.com/someone/course")
    for bad in ("gensim>=4", "gensim; rm -rf /", "", 4):
        with pytest.raises(ValueError, match="is not a requirement of the form name"):
            setup_cell_source("https://github.com/someone/course", [bad])
    with pytest.raises(ValueError, match="must be a list of requirements"):
        setup_cell_source("https://github.com/someone/course", "gensim")


def test_every_package_a_setup_cell_installs_is_pinned_as_in_requirements():
    pins = dict(
        line.split("==", 1)
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    )
    found = 0
    for path in sorted((ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        for spec in chapters.colab_packages(notebook):
            name, _, version = spec.partition("==")
            assert version == pins[name], f"{path.name}: {spec}, requirements.txt: {pins[name]}"
            found += 1
    assert found, "chapter 6 installs gensim in Colab"
