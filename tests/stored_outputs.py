"""Compare a notebook's stored outputs with those of a fresh execution, as ``pytest --nbval`` does.

`make test` executes every solution notebook once (papermill, at smoke size) and reuses that
execution for every assertion about it; this module is the assertion nbval made, so nbval no
longer executes each notebook a second time. The semantics are nbval 0.11's defaults
(``--nbval``, no sanitize file):

* every code cell is compared, except cells tagged ``nbval-ignore-output`` or carrying a
  ``# NBVAL_IGNORE_OUTPUT`` comment (they are run, not compared); ``nbval-check-output`` /
  ``# NBVAL_CHECK_OUTPUT`` force a comparison; a comment wins over a tag;
* a stored cell without an execution count is not compared;
* stream outputs with the same name are merged into one, then backspaces and carriage
  returns are applied as a terminal would (so a progress bar compares as its last state);
* what is compared, per cell: each stream's text (keyed by the stream's name) and each MIME
  type of ``display_data`` / ``execute_result`` outputs (keyed by the MIME type), except
  PNG and JPEG images and widget models; error names and values; not metadata, execution
  counts or tracebacks. The stored and the new cell must have the same keys and, per key,
  the same values in the same order (the order between different keys does not matter).

Tags nbval knows but a single papermill execution cannot honour (``nbval-skip``,
``nbval-raises-exception``, ``raises-exception``) are refused with a message, not ignored.
"""

from __future__ import annotations

import re
from collections import defaultdict

import nbformat

IGNORE_TAG = "nbval-ignore-output"
CHECK_TAG = "nbval-check-output"
UNSUPPORTED_TAGS = {"nbval-skip", "nbval-raises-exception", "raises-exception"}
_IGNORE_COMMENT = {"NBVAL_IGNORE_OUTPUT", "PYTEST_VALIDATE_IGNORE_OUTPUT"}
_CHECK_COMMENT = {"NBVAL_CHECK_OUTPUT"}
_UNSUPPORTED_COMMENT = {"NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION"}
# Keys of an output that nbval never compares: they change from run to run or are not output.
_NOT_COMPARED = {"metadata", "traceback", "prompt_number", "output_type", "name"}
_NOT_COMPARED |= {"execution_count", "transient"}
_MIME_NOT_COMPARED = {"image/png", "image/jpeg", "application/vnd.jupyter.widget-view+json"}
INJECTED_TAG = "injected-parameters"  # the cell papermill adds; not in the stored notebook

_BACKSPACE = re.compile(r"[^\n]\x08")
# Everything on a line up to its last carriage return that is followed by more text.
_OVERWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)

Flat = dict[str, list]


def _comments(source: str) -> set[str]:
    return {
        line.strip().lstrip("#").strip() for line in source.splitlines() if line.strip()[:1] == "#"
    }


def compared(cell: nbformat.NotebookNode) -> bool:
    """Whether nbval compares this code cell's outputs (it always runs it).

    Raises:
        ValueError: the cell asks for something a single execution cannot do (skip a cell,
            expect an error); the message names the tag or comment.
    """
    tags = set(cell.get("metadata", {}).get("tags", []))
    comments = _comments(cell.source)
    unsupported = sorted((tags & UNSUPPORTED_TAGS) | (comments & _UNSUPPORTED_COMMENT))
    if unsupported:
        raise ValueError(
            f"{unsupported} in cell {cell.source[:60]!r}: every cell must run without an error "
            "in the shared smoke run (tests/stored_outputs.py); tag it nbval-ignore-output instead"
        )
    if comments & _IGNORE_COMMENT:
        return False
    if comments & _CHECK_COMMENT:
        return True
    return IGNORE_TAG not in tags or CHECK_TAG in tags


def terminal_text(text: str) -> str:
    """``text`` as a terminal shows it: each backspace erases a character, a carriage return
    followed by more text erases its line so far."""
    previous = None
    while previous != text:
        previous, text = text, _BACKSPACE.sub("", text)
    return _OVERWRITTEN.sub("", text)


def flatten(outputs: list) -> Flat:
    """The compared values of a cell's outputs, keyed by stream name or MIME type, in order."""
    streams: dict[str, str] = {}
    flat: Flat = defaultdict(list)
    for output in outputs:
        if output["output_type"] == "stream":
            streams[output["name"]] = streams.get(output["name"], "") + output["text"]
            continue
        for key, value in output.items():
            if key == "data":
                for mime, content in value.items():
                    if mime not in _MIME_NOT_COMPARED:
                        flat[mime].append(content)
            elif key not in _NOT_COMPARED:
                flat[key].append(value)
    for name, text in streams.items():
        flat[name].append(terminal_text(text))
    return dict(flat)


def difference(stored: list, executed: list) -> str | None:
    """Why the outputs of one cell differ as nbval would see it, or None when they agree."""
    old, new = flatten(stored), flatten(executed)
    if old.keys() != new.keys():
        missing, unexpected = sorted(old.keys() - new.keys()), sorted(new.keys() - old.keys())
        return f"output kinds differ: missing {missing}, unexpected {unexpected}"
    for key, values in old.items():
        if len(values) != len(new[key]):
            return f"{len(values)} stored {key!r} outputs, {len(new[key])} now"
        for before, now in zip(values, new[key], strict=True):
            if before != now:
                return f"{key!r} differs:\n--- stored\n{before}\n--- now\n{now}"
    return None


def differences(stored: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> list[str]:
    """Every compared code cell whose new outputs differ from the stored ones, as messages.

    ``executed`` is ``stored`` run by papermill: the same code cells, in the same order, plus
    papermill's injected-parameters cell (skipped here).
    """
    old = [c for c in stored.cells if c.cell_type == "code"]
    new = [
        c
        for c in executed.cells
        if c.cell_type == "code" and INJECTED_TAG not in c.metadata.get("tags", [])
    ]
    if [c.source for c in old] != [c.source for c in new]:
        raise ValueError("the executed notebook does not have the stored notebook's code cells")
    found = []
    for number, (before, now) in enumerate(zip(old, new, strict=True)):
        if before.get("execution_count") is None:
            if before.outputs:
                found.append(f"code cell {number}: stored outputs but no execution count")
            continue
        if compared(before) and (why := difference(before.outputs, now.outputs)):
            found.append(f"code cell {number} ({before.source[:60]!r}): {why}")
    return found
