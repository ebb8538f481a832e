"""No exception but CheckFailed leaves any check, whatever the student's function does.

Every public check is fed functions that return None, NaN, inf, wrong types and odd
objects, that raise, and things that are not functions at all. The package split keeps
every public name importable from `utils.checks`.
"""

from __future__ import annotations

import os
import re

import numpy as np
import pytest

import utils.checks
from utils.checks import CheckFailed

pytestmark = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR (the uuml data)"
)

# Every public check of every chapter, including those a later chapter adds.
CHECKS = sorted(name for name in dir(utils.checks) if name.startswith("check_"))
CHAPTERS_1_TO_4 = {
    "check_qkv", "check_softmax", "check_attention", "check_multi_head",
    "check_rnn_unit", "check_activation", "check_output_rnn", "check_softmax_column",
    "check_rnn_layer", "check_nearest_neighbours", "check_build_dense",
    "check_build_simple_rnn", "check_build_lstm", "check_simple_rnn_count",
    "check_lstm_count", "check_rnn_model_counts", "check_stacked_lstm_counts",
}  # fmt: skip


class _Weird:
    """An object that NumPy and float() cannot use."""

    def __array__(self, *args, **kwargs):
        raise RuntimeError("no array here")

    def __float__(self):
        raise RuntimeError("no number here")

    def __len__(self):
        raise RuntimeError("no length here")


def _returns(value):
    return lambda *args, **kwargs: value


def _raises(error):
    def function(*args, **kwargs):
        raise error

    return function


FUNCTIONS = {
    "None": _returns(None),
    "nan": _returns(float("nan")),
    "inf": _returns(np.inf),
    "nan array": _returns(np.full((3, 3), np.nan)),
    "string": _returns("answer"),
    "dict": _returns({"a": 1}),
    "pair of ints": _returns((1, 2)),
    "ragged list": _returns([np.ones(2), "x", None]),
    "object": _returns(object()),
    "weird": _returns(_Weird()),
    "weird pair": _returns((_Weird(), _Weird())),
    "complex": _returns(np.ones((3, 3)) * 1j),
    "huge int": _returns(10**400),
    "empty tuple": _returns(()),
    "its input": lambda *args, **kwargs: args[0] if args else None,
    "ValueError": _raises(ValueError("shapes (3,4) and (5,3) not aligned")),
    "TypeError": _raises(TypeError("unsupported operand")),
    "KeyError": _raises(KeyError("word")),
    "IndexError": _raises(IndexError("index 9 is out of bounds")),
    "ZeroDivisionError": _raises(ZeroDivisionError("division by zero")),
    "AssertionError": _raises(AssertionError("my own assert")),
    "RuntimeError": _raises(RuntimeError("boom")),
    "RecursionError": _raises(RecursionError("maximum recursion depth exceeded")),
    "FloatingPointError": _raises(FloatingPointError("overflow encountered in exp")),
    "no arguments": lambda: 1,
    "stub": _raises(NotImplementedError),
}
NOT_FUNCTIONS = {"an int": 42, "None": None, "a result": np.ones((3, 3))}


def test_every_public_name_is_importable():
    from utils.checks import check_qkv  # noqa: F401  (the import the notebooks use)

    assert CHAPTERS_1_TO_4 <= set(utils.checks.__all__) and CHAPTERS_1_TO_4 <= set(CHECKS)
    for name in utils.checks.__all__:
        assert callable(getattr(utils.checks, name)), name


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("kind", list(FUNCTIONS))
def test_only_check_failed_escapes(check, kind, capsys):
    with np.errstate(all="raise"), pytest.raises(CheckFailed) as error:  # the student's setting
        getattr(utils.checks, check)(FUNCTIONS[kind])
    message = str(error.value)
    assert message.strip()
    if check not in CHAPTERS_1_TO_4:
        return  # a later chapter's check may take something else (a layer class, say)
    if kind == "None":
        assert "did you forget `return`" in message
    if kind == "stub":
        assert "is not implemented yet" in message
    if kind.endswith("Error") and kind != "AssertionError":
        assert f"raised {kind}" in message
    assert "\N{CHECK MARK}" not in capsys.readouterr().out


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("kind", list(NOT_FUNCTIONS))
def test_a_value_instead_of_a_function(check, kind):
    with pytest.raises(CheckFailed) as error:
        getattr(utils.checks, check)(NOT_FUNCTIONS[kind])
    if check in CHAPTERS_1_TO_4:
        assert "needs your function itself" in str(error.value)


def test_a_raised_error_is_reported_with_type_message_and_hint():
    with pytest.raises(CheckFailed) as error:
        utils.checks.check_rnn_unit(FUNCTIONS["ValueError"])
    message = str(error.value)
    assert "raised ValueError" in message and "(3,4) and (5,3)" in message
    assert "In rnn_unit, h_t_minus_one is a (4, 1) column" in message


# ------------------------------------------------------------------ one time bound per check


def test_a_slow_function_stops_the_check_and_is_named(monkeypatch):
    import time

    from utils.checks import _core

    monkeypatch.setattr(_core, "TIME_LIMIT", 0.25)

    def slow_softmax(X):
        time.sleep(0.1)
        e = np.exp(X - X.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    started = time.perf_counter()
    with pytest.raises(CheckFailed) as error:
        utils.checks.check_softmax(slow_softmax)
    message = str(error.value)
    assert "The check stopped" in message and "more than the 0 s it allows" not in message
    # Whichever of the three calls slept longest is named, with the shape it was given.
    assert re.search(r"slowest call was `slow_softmax` on an array of shape \(\d+, \d+\)", message)
    assert "Python loop" in message  # what to look for
    assert time.perf_counter() - started < 1.0  # stopped after 3 calls, not all of them


def test_the_time_bound_belongs_to_one_check(monkeypatch, capsys):
    from utils.checks import _core

    monkeypatch.setattr(_core, "TIME_LIMIT", 5.0)
    for _ in range(3):  # budgets do not add up across checks
        utils.checks.check_simple_rnn_count(lambda d, n: d * n + n * n + n)
    assert _core._BUDGETS == []
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 3


# ------------------------------------------------------------------ what the messages say


def test_no_message_refers_to_the_assignment():
    """The book does not contain the R assignment: a message says what it verified
    ("matches the uuml reference values"), never "as in the assignment"."""
    import ast
    from pathlib import Path

    folder = Path(utils.checks.__file__).parent
    for module in ("_core", "attention", "rnn", "imdb", "parameters", "transformer"):
        tree = ast.parse((folder / f"{module}.py").read_text())
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings:
                    continue
                text = node.value.lower()
                assert "in the assignment" not in text, (module, node.value)
                assert "assignment's" not in text, (module, node.value)
