"""The nbval-style comparison of stored and new outputs (tests/stored_outputs.py)."""

from __future__ import annotations

import pytest
import stored_outputs as so
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
)


def _stream(text: str, name: str = "stdout"):
    return new_output("stream", name=name, text=text)


def _result(text: str, **more):
    return new_output("execute_result", data={"text/plain": text, **more}, execution_count=1)


def _notebook(*cells):
    return new_notebook(cells=[new_markdown_cell("# Title"), *cells])


def _cell(outputs, tags=(), source="x", count=1):
    cell = new_code_cell(source, outputs=list(outputs), execution_count=count)
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def test_equal_outputs_agree_and_a_changed_value_is_named():
    stored = _notebook(_cell([_result("1")]), _cell([_stream("a\n")], source="print('a')"))
    assert so.differences(stored, stored) == []
    new = _notebook(_cell([_result("1")]), _cell([_stream("b\n")], source="print('a')"))
    [message] = so.differences(stored, new)
    assert message.startswith("code cell 1 (\"print('a')\"): 'stdout' differs")
    assert "--- stored\na\n\n--- now\nb\n" in message


def test_ignore_tag_and_comment_run_but_are_not_compared_and_check_wins_over_ignore():
    assert not so.compared(_cell([], tags=[so.IGNORE_TAG]))
    assert not so.compared(_cell([], source="# NBVAL_IGNORE_OUTPUT\nx"))
    assert so.compared(_cell([], tags=[so.IGNORE_TAG], source="#  NBVAL_CHECK_OUTPUT\nx"))
    assert so.compared(_cell([], tags=["solution-output"]))
    stored = _notebook(_cell([_result("0.51")], tags=[so.IGNORE_TAG]))
    assert so.differences(stored, _notebook(_cell([_result("0.73")]))) == []


@pytest.mark.parametrize(
    ("tags", "source"),
    [(["nbval-skip"], "x"), (["raises-exception"], "x"), ((), "# NBVAL_RAISES_EXCEPTION\nx")],
)
def test_markers_one_execution_cannot_honour_are_refused(tags, source):
    with pytest.raises(ValueError, match="must run without an error"):
        so.compared(_cell([], tags=tags, source=source))


def test_streams_are_merged_per_name_and_read_as_a_terminal_shows_them():
    split = [_stream("ep 1\r"), _stream("ep 2\rdone\n"), _stream("warn\n", "stderr")]
    whole = [_stream("warn\n", "stderr"), _stream("done\n")]
    assert so.flatten(split) == so.flatten(whole) == {"stdout": ["done\n"], "stderr": ["warn\n"]}
    assert so.terminal_text("abx\x08c\n") == "abc\n"
    assert so.terminal_text("line\r\n") == "line\r\n"  # a CR before a newline erases nothing


def test_images_metadata_and_counts_are_not_compared_but_other_mime_types_are():
    stored = _result("<Figure>", **{"image/png": "AAAA", "text/html": "<b>1</b>"})
    new = _result("<Figure>", **{"image/png": "BBBB", "text/html": "<b>1</b>"})
    new.execution_count, new.metadata = 7, {"width": 3}
    assert so.difference([stored], [new]) is None
    new.data["text/html"] = "<b>2</b>"
    assert "'text/html' differs" in so.difference([stored], [new])


def test_a_missing_or_extra_output_kind_or_count_differs():
    assert "missing ['stdout']" in so.difference([_stream("a")], [])
    assert "unexpected ['stderr']" in so.difference([], [_stream("w", "stderr")])
    assert "1 stored 'text/plain' outputs, 2 now" in so.difference(
        [_result("1")], [_result("1"), _result("1")]
    )


def test_unrun_cells_are_not_compared_unless_they_store_outputs():
    unrun = _notebook(_cell([], count=None))
    assert so.differences(unrun, _notebook(_cell([_result("1")]))) == []
    stale = _notebook(_cell([_result("1")], count=None))
    assert "no execution count" in so.differences(stale, stale)[0]


def test_papermills_injected_cell_is_skipped_and_other_code_is_refused():
    stored = _notebook(_cell([_result("1")]))
    executed = _notebook(_cell([], tags=[so.INJECTED_TAG], source="n = 2"), _cell([_result("1")]))
    assert so.differences(stored, executed) == []
    with pytest.raises(ValueError, match="code cells"):
        so.differences(stored, _notebook(_cell([_result("1")], source="y")))
