"""The first code cell of every notebook, which makes `utils` importable anywhere.

The generator (`python -m utils.chapters`) writes this cell into every solution and
student notebook from `repository.url` in `_config.yml`, so the URL is set in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

# The placeholder `setup_cell_source` replaces; SETUP_CELL is not a format string, so the
# cell's own f-strings keep their single braces.
URL_PLACEHOLDER = "{repo_url}"
# The line that lists what every notebook needs and Colab's image lacks (rdata reads the uuml
# weights); a notebook that needs more gets its own lines after it (`setup_cell_source`).
BASE_INSTALLS = (
    '    missing = [name for name in ("rdata",) if importlib.util.find_spec(name) is None]'
)
_REQUIREMENT = re.compile(r"([A-Za-z][A-Za-z0-9_]*)(==[0-9][0-9A-Za-z.]*)?")

# The cell runs before `utils` can be imported, so it is self-contained (standard library
# only). It is written as `ruff format` would write it: `make lint` checks the notebooks.
# Failures raise a RuntimeError that says what failed and what to do, with git's or pip's own
# message, rather than a CalledProcessError that only gives the command and its exit status.
SETUP_CELL = """\
# Setup. Inside the course repository this only puts `utils` on the path. Elsewhere
# (Google Colab) it clones the repository for `utils` and installs what is missing.
import importlib.abc
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

# Before anything imports TensorFlow: its C++ start-up log lines (absl's "All log messages
# before absl::InitializeLog()", oneDNN's notice) would otherwise land in stored outputs.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# On some machines (seen on an AMD EPYC server CPU) TensorFlow prints them whatever that
# setting says, so its first import, wherever it happens, runs with the process's stderr
# sent to /dev/null; Python's own errors are still shown. (Importing it here instead would
# cost seconds before a notebook has checked its parameters.)
class QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)  # once only; the real finders locate the package
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def exec_module(module):
                stderr_fd = os.dup(2)
                with open(os.devnull, "w") as devnull:
                    os.dup2(devnull.fileno(), 2)
                    try:
                        run(module)
                    finally:
                        os.dup2(stderr_fd, 2)
                        os.close(stderr_fd)

            spec.loader.exec_module = exec_module
        return spec


if "tensorflow" not in sys.modules and not any(
    type(finder).__name__ == "QuietTensorFlowImport" for finder in sys.meta_path
):  # not yet imported, and not waiting already from an earlier run of this cell
    sys.meta_path.insert(0, QuietTensorFlowImport())
REPO_URL = os.environ.get("COURSE_REPO_URL", "{repo_url}")
MARKER = Path("utils", "notebook_setup.py")  # a file only the course repository has
here = Path.cwd().resolve()
root = next((p for p in (here, *here.parents) if (p / MARKER).is_file()), None)
if root is None:
    root = here / "sequence-models-course"
    if not (root / MARKER).is_file():
        if root.exists():
            raise RuntimeError(
                f"Setup failed: {root} exists but holds no course repository (an interrupted "
                "clone?). Delete that folder, then run this cell again."
            )
        try:
            clone = subprocess.run(
                ["git", "clone", "--depth", "1", "--quiet", REPO_URL, str(root)],
                capture_output=True,
                text=True,
                # A private or missing repository must fail, not wait for a password.
                env={**os.environ, "GIT_TERMINAL_PROMPT": "0"},
            )
            failure = clone.stderr.strip() if clone.returncode else ""
            advice = (
                "check the network connection; check that the URL is the course's repository "
                "(the course sets it in repository.url of _config.yml); or set the environment "
                "variable COURSE_REPO_URL to the repository to clone "
                "(os.environ['COURSE_REPO_URL'] = '...')"
            )
        except OSError as error:  # git itself is missing
            failure = f"could not run git: {error}"
            advice = (
                "install git (https://git-scm.com/downloads; on Debian or Ubuntu: "
                "apt-get install git)"
            )
        if not failure and not (root / MARKER).is_file():
            failure = f"the clone has no {MARKER.as_posix()}, so it is not the course repository"
        if failure:
            raise RuntimeError(
                f"Setup failed: could not clone the course repository {REPO_URL} into {root}.\\n"
                f"Reason: {failure}\\n"
                f"What to do: {advice}, then run this cell again."
            )
    missing = [name for name in ("rdata",) if importlib.util.find_spec(name) is None]
    if missing:
        install = subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", *missing],
            capture_output=True,
            text=True,
        )
        if install.returncode:
            raise RuntimeError(
                f"Setup failed: could not install {', '.join(missing)} with pip.\\n"
                f"pip said: {install.stderr.strip()}\\n"
                "What to do: check the network connection and run this cell again, or install "
                f"by hand ({sys.executable} -m pip install {' '.join(missing)})."
            )
sys.path.insert(0, str(root))"""

# What `repository.url` may be: an https URL (Colab clones it and Jupyter Book builds the
# Colab links from it), with nothing that would break the Python string it is written into.
_URL = re.compile(r"https://[^\s/\"'\\]+/[^\s\"'\\]+")


def setup_cell_source(repo_url: str, packages: Sequence[str] = ()) -> str:
    """The source of every notebook's first code cell, cloning from ``repo_url``.

    Args:
        repo_url: the https URL of the course's repository.
        packages: what this notebook needs beyond rdata and Colab's image,
            as pip requirements ``name`` or ``name==version`` (the notebook's metadata
            ``course.colab_packages``); the cell installs each whose module is missing.

    Raises:
        ValueError: ``repo_url`` is not an https URL of a repository, or a package is not a
            plain requirement.
    """
    if not isinstance(repo_url, str) or not _URL.fullmatch(repo_url):
        raise ValueError(
            f"repository.url in _config.yml must be the https URL of the course's Git "
            f"repository, such as https://github.com/OWNER/REPOSITORY; got {repo_url!r}."
        )
    if isinstance(packages, str):
        raise ValueError(f"packages must be a list of requirements, got the string {packages!r}.")
    wanted = {}
    for spec in packages:
        match = _REQUIREMENT.fullmatch(spec) if isinstance(spec, str) else None
        if match is None:
            raise ValueError(
                f"course.colab_packages: {spec!r} is not a requirement of the form name or "
                "name==version (a module name, such as gensim==4.4.0)."
            )
        wanted[match.group(1)] = spec
    source = SETUP_CELL.replace(URL_PLACEHOLDER, repo_url)
    if wanted:
        # The notebook's own installs follow the base line; without it they would be lost.
        assert BASE_INSTALLS in source, "SETUP_CELL no longer has the BASE_INSTALLS line"
        literal = "{" + ", ".join(f'"{module}": "{spec}"' for module, spec in wanted.items()) + "}"
        source = source.replace(
            BASE_INSTALLS,
            BASE_INSTALLS
            + "\n    # This notebook's own: what pip installs for each module Colab's image lacks."
            + f"\n    wanted = {literal}"
            + "\n    missing += [spec for module, spec in wanted.items() "
            + "if importlib.util.find_spec(module) is None]",
        )
    return source
