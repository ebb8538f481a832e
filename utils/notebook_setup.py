"""The first code cell of every notebook, which makes `utils` importable anywhere.

The generator (`python -m utils.chapters`) writes this cell into every solution and
student notebook from `repository.url` in `_config.yml`, so the URL is set in one place.
"""

from __future__ import annotations

# The cell runs before `utils` can be imported, so it must be self-contained.
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


def setup_cell_source(repo_url: str) -> str:
    """The source of every notebook's first code cell, cloning from ``repo_url``."""
    return SETUP_CELL.replace("{repo_url}", repo_url)
