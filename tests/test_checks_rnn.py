"""Chapter 2's checks: isolation, discriminating examples, one voice, the stated rules.

Each pattern of issue 12 is proved with a function that makes the mistake. Three cases
moved here from test_rnn.py, where they assumed what the exercise forbids: np.tanh as an
accepted `activation`, two wrong activations built on np.tanh, and an `rnn_layer` without
the empty-sequence error counted as correct.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from notebook_code import notebook_definitions

from utils import checks
from utils.checks import CheckFailed

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR (the uuml data)"
)


@pytest.fixture(scope="module")
def sol() -> dict:
    return notebook_definitions(ROOT / "solutions" / "02_rnn.ipynb")


def _tanh(a):
    """tanh from its definition, without overflow (the exercise's answer)."""
    a = np.asarray(a, dtype=float)
    decay = np.exp(-2.0 * np.abs(a))
    return np.sign(a) * (1.0 - decay) / (1.0 + decay)


def _unit(h, x, W, U, b):
    for name, array, shape in (
        ("x_t", x, (1, U.shape[1])),
        ("W", W, (U.shape[0],) * 2),
        ("b", b, (U.shape[0], 1)),
        ("h", h, (U.shape[0], 1)),
    ):
        if np.shape(array) != shape:
            raise ValueError(f"{name} has shape {np.shape(array)}, expected {shape}")
    return b + W @ h + U @ x.T  # fmt: skip


def _softmax(o):
    e = np.exp(o - o.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def _output(h, V, c):
    if np.shape(h) != (V.shape[1], 1) or np.shape(c) != (V.shape[0], 1):
        raise ValueError(f"V {V.shape}, h_t {np.shape(h)}, c {np.shape(c)} do not fit")
    return c + V @ h


def _layer(unit=_unit, steps=None, as_list=False, empty_error=True):
    def rnn_layer(X, W, V, U, b, c):
        if empty_error and len(X) == 0:
            raise ValueError("X is an empty sequence")
        T = len(X) if steps is None else steps(len(X))
        ht, yhat = np.zeros((len(X), W.shape[0])), np.zeros((len(X), V.shape[0]))
        h = np.zeros((W.shape[0], 1))
        for t in range(T):
            h = _tanh(unit(h, X[t : t + 1], W, U, b))
            ht[t], yhat[t] = h.ravel(), _softmax(_output(h, V, c)).ravel()
        return [ht, yhat] if as_list else (ht, yhat)

    return rnn_layer


def test_checks_pass_on_the_solution_and_the_references(sol, capsys):
    checks.check_rnn_unit(sol["rnn_unit"])
    checks.check_activation(sol["activation"])
    checks.check_output_rnn(sol["output_rnn"])
    checks.check_softmax_column(sol["softmax"])
    checks.check_rnn_layer(sol["rnn_layer"])
    for check, function in ((checks.check_rnn_unit, _unit), (checks.check_activation, _tanh),
                            (checks.check_output_rnn, _output),
                            (checks.check_softmax_column, _softmax),
                            (checks.check_rnn_layer, _layer())):  # fmt: skip
        check(function)
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 10


# ------------------------------------------------------------------ 1. isolation


def unit_mutating_b(h, x, W, U, b):
    _unit(h, x, W, U, b)  # the shape rules
    a = b
    a += W @ h + U @ x.T
    return a


def activation_in_place(a):
    decay = np.exp(-2.0 * np.abs(a))
    np.multiply(np.sign(a), (1.0 - decay) / (1.0 + decay), out=a)
    return a


def softmax_in_place(o):
    o -= o.max(axis=0, keepdims=True)
    np.exp(o, out=o)
    o /= o.sum(axis=0, keepdims=True)
    return o


def test_rnn_unit_that_changes_b_is_named():
    with pytest.raises(CheckFailed, match="changes its argument b in place"):
        checks.check_rnn_unit(unit_mutating_b)


def test_rnn_layer_with_a_b_changing_unit_is_named():
    with pytest.raises(CheckFailed, match="changes b in place"):
        checks.check_rnn_layer(_layer(unit=unit_mutating_b))


@pytest.mark.parametrize(
    ("check", "function", "changed"),
    [
        (checks.check_activation, activation_in_place, "`a_t`"),
        (checks.check_softmax_column, softmax_in_place, "`o_t`"),
    ],
)
def test_correct_in_place_functions_pass_with_a_note(check, function, changed, capsys):
    check(function)
    out = capsys.readouterr().out
    assert out.startswith("\N{CHECK MARK}") and f"argument {changed} in place" in out


def test_a_wrong_unit_cannot_corrupt_the_next_check(capsys):
    with pytest.raises(CheckFailed):
        checks.check_rnn_unit(unit_mutating_b)
    checks.check_rnn_unit(_unit)  # the example data are fresh for every check
    checks.check_rnn_layer(_layer())
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 2


# ------------------------------------------------------------------ 2. discriminating examples


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (lambda o: np.exp(o - o.max()) / np.exp(o - o.max()).sum(axis=0, keepdims=True),
         "maximum of the whole array"),
        (lambda o: np.exp(o - o.min(axis=0, keepdims=True))
         / np.exp(o - o.min(axis=0, keepdims=True)).sum(axis=0, keepdims=True),
         "each column's MINIMUM"),
    ],
)  # fmt: skip
def test_column_softmax_shift_mistakes(function, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_softmax_column(function)


# ------------------------------------------------------------------ 3. one voice


@pytest.mark.parametrize(
    ("check", "function", "message"),
    [
        (checks.check_activation, lambda a: None, "`<lambda>` returned None: did you forget"),
        (checks.check_softmax_column, lambda o: None, "returned None: did you forget"),
        (checks.check_rnn_unit, lambda *args: None, "returned None: did you forget"),
        (checks.check_output_rnn, lambda *args: None, "returned None: did you forget"),
        (checks.check_rnn_layer, lambda *args: None, "returned None: did you forget"),
        (checks.check_rnn_layer, lambda *args: (None, None), "returned None for ht"),
        (checks.check_activation, lambda a: "tanh", "expected a NumPy array"),
        (checks.check_activation, lambda a: _tanh(a) * np.nan, "contains NaN or inf"),
    ],
)
def test_one_voice(check, function, message):
    with pytest.raises(CheckFailed, match=message):
        check(function)


def test_output_rnn_with_v_transposed_gets_output_rnns_shapes():
    with pytest.raises(CheckFailed) as error:
        checks.check_output_rnn(lambda h, V, c: c + V.T @ h)
    message = str(error.value)
    assert "raised ValueError" in message and "In output_rnn, h_t is a (4, 1) column" in message
    assert "x_t" not in message


def test_rnn_layer_that_stops_one_step_early():
    with pytest.raises(CheckFailed, match="stops one step early"):
        checks.check_rnn_layer(_layer(steps=lambda T: T - 1))


def test_activation_without_return_is_not_a_shape_error():
    with pytest.raises(CheckFailed) as error:
        checks.check_activation(lambda a: print(a))
    assert "did you forget `return`" in str(error.value)
    assert "matrix products" not in str(error.value)


# ------------------------------------------------------------------ 4. forms and rules


def test_rnn_layer_may_return_a_list(capsys):
    checks.check_rnn_layer(_layer(as_list=True))
    checks.check_rnn_layer(lambda *args: [m.tolist() for m in _layer()(*args)])
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 2


def test_rnn_unit_rules(capsys):
    # Any ValueError counts: NumPy's own, from `@` or `+`, names the sizes that differ.
    checks.check_rnn_unit(lambda h, x, W, U, b: b + W @ h + U @ x.T)
    assert capsys.readouterr().out.startswith("\N{CHECK MARK}")

    def no_check_of_h(h, x, W, U, b):
        for name, array, shape in (("x_t", x, (1, 5)), ("W", W, (4, 4)), ("b", b, (4, 1))):
            if np.shape(array) != shape:
                raise ValueError(f"{name} has shape {np.shape(array)}, expected {shape}")
        return b + W @ np.resize(h, (4, 1)) + U @ x.T

    with pytest.raises(CheckFailed, match=r"returned an array .* for h_t_minus_one of shape"):
        checks.check_rnn_unit(no_check_of_h)


def test_output_rnn_rules(capsys):
    checks.check_output_rnn(lambda h, V, c: c + V @ h)  # NumPy's own ValueError counts
    assert capsys.readouterr().out.startswith("\N{CHECK MARK}")
    with pytest.raises(CheckFailed, match=r"returned an array .* for c of shape \(2, 1\)"):
        checks.check_output_rnn(lambda h, V, c: np.resize(c, (3, 1)) + V @ h)


def test_rnn_layer_empty_sequence_rule():
    with pytest.raises(CheckFailed, match="empty sequence X of shape \\(0, 5\\)"):
        checks.check_rnn_layer(_layer(empty_error=False))

    def vstack_layer(X, W, V, U, b, c):
        h, hs, ys = np.zeros((4, 1)), [], []
        for t in range(len(X)):
            h = _tanh(_unit(h, X[t : t + 1], W, U, b))
            hs.append(h.T)
            ys.append(_softmax(_output(h, V, c)).T)
        return np.vstack(hs), np.vstack(ys)  # ValueError for T = 0, but a NumPy one

    with pytest.raises(CheckFailed, match="does not say so"):
        checks.check_rnn_layer(vstack_layer)


def test_activation_must_not_use_np_tanh():
    with pytest.raises(CheckFailed, match="np.tanh itself"):
        checks.check_activation(np.tanh)
    with pytest.raises(CheckFailed, match="calls np.tanh"):
        checks.check_activation(lambda a: np.tanh(a))
    assert np.tanh(0.5) == pytest.approx(0.46211715726)  # the spy is gone afterwards


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda x: _tanh(np.abs(x)), "differs from tanh"),
        (lambda x: _tanh(x).ravel(), "shape"),
    ],
)
def test_check_activation_messages_without_np_tanh(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_activation(wrong)


@pytest.mark.parametrize(
    ("check", "function"),
    [
        (checks.check_rnn_unit, lambda h, x, W, U, b: (b + W @ h + U @ x.T) / 0.0 * 0.0),
        (checks.check_output_rnn, lambda h, V, c: np.full((3, 1), np.inf)),
        (checks.check_rnn_layer, lambda X, W, V, U, b, c: (np.empty((9, 4)) * np.nan,
                                                           np.zeros((9, 3)))),
    ],
)  # fmt: skip
def test_nan_and_inf_get_one_message(check, function):
    with pytest.raises(CheckFailed, match="contains NaN or inf on ordinary inputs"):
        check(function)
