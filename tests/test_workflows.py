"""The GitHub Actions workflows: valid for actionlint, and deploying the book as documented."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
BOOK = ROOT / ".github" / "workflows" / "book.yml"
# The oldest major versions that work: the v2 pair stopped working in January 2025 when the
# artifact actions v3 were retired (jupyter-book issue 2311).
MINIMUM_MAJOR = {"actions/upload-pages-artifact": 3, "actions/deploy-pages": 4}


def _actionlint() -> str:
    here = Path(sys.executable).parent / "actionlint"
    found = str(here) if here.exists() else shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is not installed: `make venv` installs it from requirements.txt")
    return found


def _lint(*paths: Path) -> list[dict]:
    result = subprocess.run(
        [_actionlint(), "-no-color", "-format", "{{json .}}", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.stdout.strip(), f"actionlint printed nothing: {result.stderr}"
    return json.loads(result.stdout)


def _load(path: Path) -> dict:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean True.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def _commands(path: Path) -> list[str]:
    """The lines of a script or workflow that are not comments, stripped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _uses(workflow: dict) -> list[str]:
    return [
        step["uses"]
        for job in workflow["jobs"].values()
        for step in job.get("steps", [])
        if "uses" in step
    ]


def test_there_is_a_book_workflow():
    assert BOOK in WORKFLOWS


def test_actionlint_passes():
    errors = _lint(*WORKFLOWS)
    assert not errors, "\n".join(
        f"{e['filepath']}:{e['line']}:{e['column']}: {e['message']}" for e in errors
    )


def test_actionlint_catches_a_broken_workflow(tmp_path):
    # The check above is only worth something if actionlint reads what it is given.
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    text = BOOK.read_text(encoding="utf-8")
    text = text.replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    nedds: build", 1)
    text = text.replace("github.event_name", "github.event_nmae", 1)
    broken.write_text(text, encoding="utf-8")
    messages = " ".join(error["message"] for error in _lint(broken))
    assert "nedds" in messages
    assert "event_nmae" in messages


def test_pages_actions_are_recent_enough():
    uses = _uses(_load(BOOK))
    for action, minimum in MINIMUM_MAJOR.items():
        versions = [use.split("@", 1)[1] for use in uses if use.split("@", 1)[0] == action]
        assert versions, f"{BOOK.name} does not use {action}"
        for version in versions:
            major = re.fullmatch(r"v(\d+)(?:\.\d+)*", version)
            assert major, f"{action}@{version}: pin a release tag such as v{minimum}"
            assert int(major.group(1)) >= minimum, f"{action}@{version} is older than v{minimum}"


def test_every_action_is_pinned_to_a_release():
    for path in WORKFLOWS:
        for use in _uses(_load(path)):
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+(\.\d+)*", use), f"{path.name}: {use}"


def test_deploys_main_and_manual_runs_and_only_builds_pull_requests():
    workflow = _load(BOOK)
    triggers = workflow["on"]
    assert triggers["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in triggers and "pull_request" in triggers
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    for command in ("make test", "make test-colab", "make book"):
        assert command in runs, f"the build job does not run `{command}`"
    assert runs.index("make test") < runs.index("make book")
    upload = next(s for s in build["steps"] if "upload-pages-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "_build/html"
    assert upload["if"] == "github.event_name != 'pull_request'"
    assert deploy["if"] == "github.event_name != 'pull_request'"
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    # Nothing but the deploy job may write: the workflow's default token only reads.
    assert workflow["permissions"] == {"contents": "read"}
    assert "group" in workflow["concurrency"]


def test_the_browser_is_installed_by_one_script_that_ci_and_the_workflow_call():
    script = ROOT / ".ci" / "install-browser"
    assert "chromium-driver" in script.read_text(encoding="utf-8")
    runs = [step.get("run", "") for step in _load(BOOK)["jobs"]["build"]["steps"]]
    assert "bash .ci/install-browser" in runs
    ci_run = _commands(ROOT / ".ci" / "run")
    assert any("bash .ci/install-browser" in line for line in ci_run)
    # No second copy of the install step.
    assert not any("chromium" in line for line in ci_run)
    assert not any("chromium" in line for line in _commands(BOOK))


def _ci_run(tmp_path: Path, failing: str = "") -> tuple[subprocess.CompletedProcess, list[str]]:
    """.ci/run in a copy of the repository's .ci, with stand-ins for `make` (which logs each
    call with its CPU niceness and fails for the target ``failing``) and the browser install."""
    (tmp_path / ".ci").mkdir()
    shutil.copy(ROOT / ".ci" / "run", tmp_path / ".ci" / "run")
    (tmp_path / ".ci" / "install-browser").write_text('echo "browser $(nice)" >> calls\n')
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_make = bin_dir / "make"
    fake_make.write_text(
        "#!/usr/bin/env bash\n"
        'echo "make $* $(nice)" >> calls\n'
        f'if [ "${{@: -1}}" = "{failing}" ]; then echo "{failing} failed"; exit 2; fi\n'
    )
    fake_make.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", str(tmp_path / ".ci" / "run")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    calls = (tmp_path / "calls").read_text(encoding="utf-8").splitlines()
    return result, calls


def test_ci_runs_both_test_steps_after_the_environments_and_the_browser(tmp_path):
    result, calls = _ci_run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    niceness = {" ".join(c.split()[:-1]): int(c.split()[-1]) for c in calls}
    assert set(niceness) == {"browser", "make -j 2 venv venv-colab", "make test", "make test-colab"}
    order = [" ".join(c.split()[:-1]) for c in calls]
    for step in ("make test", "make test-colab"):
        assert order.index("browser") < order.index(step), order
        assert order.index("make -j 2 venv venv-colab") < order.index(step), order
    # test-colab runs beside make test at a lower priority, so make test keeps the cores.
    assert niceness["make test-colab"] > niceness["make test"] == niceness["browser"]
    assert "make test-colab (ran beside make test, niced)" in result.stdout


@pytest.mark.parametrize("failing", ["test", "test-colab", "venv-colab"])
def test_ci_fails_when_any_step_fails(tmp_path, failing):
    result, calls = _ci_run(tmp_path, failing)
    assert result.returncode != 0, f"{failing} failed but .ci/run passed:\n{result.stdout}"
    assert f"{failing} failed" in result.stdout  # its output is shown, not swallowed


def test_the_workflow_fetches_the_data_before_the_tests():
    runs = [step.get("run", "") for step in _load(BOOK)["jobs"]["build"]["steps"]]
    fetch = next(i for i, run in enumerate(runs) if ".ci/fetch_data.py" in run)
    assert 'COURSE_DATA_DIR=$RUNNER_TEMP/course-data" >> "$GITHUB_ENV"' in runs[fetch]
    assert fetch < runs.index("make test")


@pytest.mark.skipif(not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR")
def test_fetch_data_lays_the_files_out_for_course_data_dir(tmp_path):
    # With COURSE_DATA_DIR set the loaders return its files, so this checks the layout and
    # the copy offline; on GitHub the same calls download.
    source = Path(os.environ["COURSE_DATA_DIR"])
    result = subprocess.run(
        [sys.executable, str(ROOT / ".ci" / "fetch_data.py"), str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for relative in ("uuml/transformer_example.rda", "uuml/rnn_example.rda", "aclImdb_v1.tar.gz"):
        copied = tmp_path / "data" / relative
        assert copied.is_file(), relative
        assert filecmp.cmp(copied, source / relative, shallow=False), relative


@pytest.mark.parametrize("target", ["test", "test-colab", "book", "venv", "venv-colab"])
def test_the_make_targets_the_workflow_runs_exist(target):
    # `make -n` only prints the commands: it fails on a target that does not exist.
    result = subprocess.run(
        ["make", "-n", target], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
