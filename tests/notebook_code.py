"""Load the functions a notebook defines, so tests can call the solutions directly."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat


def notebook_definitions(path: Path, required: tuple[str, ...] = ()) -> dict:
    """Execute the imports and function definitions of a notebook's code cells.

    Only top-level ``import`` and ``def`` statements run (not the setup cell, which may
    clone the repository, nor cells that compute or plot), in notebook order.

    Args:
        path: the notebook.
        required: names that must be defined; a missing one fails with its name.
    """
    namespace: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        setup = "course-setup" in cell.get("metadata", {}).get("tags", [])
        if cell.cell_type != "code" or setup or "REPO_URL" in cell.source:
            continue
        tree = ast.parse(cell.source)
        keep = (ast.Import, ast.ImportFrom, ast.FunctionDef)
        tree.body = [node for node in tree.body if isinstance(node, keep)]
        exec(compile(tree, str(path), "exec"), namespace)
    missing = [name for name in required if name not in namespace]
    assert not missing, f"{path.name} defines no {missing}"
    return namespace
