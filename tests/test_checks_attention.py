"""Chapter 1's checks: isolation from in-place code, discriminating examples, one voice.

The targeted messages of the original checks are proved in test_attention.py; this file
proves the patterns of issue 12, each with a function that makes the mistake.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from utils import checks
from utils.checks import CheckFailed, attention

pytestmark = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR (the uuml data)"
)


def _rows(S):
    e = np.exp(S - S.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def qkv(X, Wq, Wk, Wv):
    if Wq.shape[0] != X.shape[1]:
        raise ValueError(f"X has shape {X.shape} but Wq has shape {Wq.shape}")
    return X @ Wq, X @ Wk, X @ Wv


def attention_fn(Q, K, V):
    A = _rows(Q @ K.T / np.sqrt(K.shape[1]))
    return A @ V, A


def multi_head(X, Wq, Wk, Wv, W0):
    heads = [attention_fn(*qkv(X, Wq[:, :, h], Wk[:, :, h], Wv[:, :, h]))[0]
             for h in range(Wq.shape[2])]  # fmt: skip
    return np.concatenate(heads, axis=1) @ W0


# ------------------------------------------------------------------ 1. isolation


def softmax_in_place(X):
    X -= X.max(axis=1, keepdims=True)
    np.exp(X, out=X)
    X /= X.sum(axis=1, keepdims=True)
    return X


def attention_scaling_q_in_place(Q, K, V):
    Q /= np.sqrt(K.shape[1])
    A = _rows(Q @ K.T)
    return A @ V, A


def multi_head_scaling_wq_in_place(X, Wq, Wk, Wv, W0):
    Wq /= np.sqrt(Wq.shape[1])  # fold 1/sqrt(d_k) into the query weights
    heads = []
    for h in range(Wq.shape[2]):
        Q, K, V = X @ Wq[:, :, h], X @ Wk[:, :, h], X @ Wv[:, :, h]
        heads.append(_rows(Q @ K.T) @ V)
    return np.concatenate(heads, axis=1) @ W0


def qkv_writing_into_x(X, Wq, Wk, Wv):
    result = qkv(X, Wq, Wk, Wv)
    X[:] = 0.0
    return result


@pytest.mark.parametrize(
    ("check", "function", "changed"),
    [
        (checks.check_softmax, softmax_in_place, "`X`"),
        (checks.check_attention, attention_scaling_q_in_place, "`Q`"),
        (checks.check_multi_head, multi_head_scaling_wq_in_place, "`Wq`"),
        (checks.check_qkv, qkv_writing_into_x, "`X`"),
    ],
)
def test_correct_in_place_solutions_pass_with_a_note(check, function, changed, capsys):
    check(function)
    out = capsys.readouterr().out
    assert out.startswith("\N{CHECK MARK}")
    assert f"changes its argument {changed} in place" in out


def test_references_are_read_only_and_survive_in_place_code():
    references = [attention._ATT_Q, attention._ATT_K, attention._ATT_V, attention._ATT_Z]
    before = [reference.copy() for reference in references]
    assert not any(reference.flags.writeable for reference in references)
    checks.check_attention(attention_scaling_q_in_place)
    checks.check_qkv(qkv_writing_into_x)
    for reference, copy in zip(references, before, strict=True):
        np.testing.assert_array_equal(reference, copy)


def test_the_check_passes_again_after_in_place_code():
    checks.check_multi_head(multi_head_scaling_wq_in_place)
    checks.check_multi_head(multi_head)


# ------------------------------------------------------------------ 2. discriminating examples


def softmax_row_minimum(X):
    e = np.exp(X - X.min(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_global_max(X):
    e = np.exp(X - X.max())
    return e / e.sum(axis=1, keepdims=True)


@pytest.mark.parametrize(
    ("function", "message"),
    [
        (softmax_row_minimum, "each row's MINIMUM"),
        (softmax_global_max, "maximum of the whole matrix"),
        (lambda X: softmax_row_minimum(X) * 0 + _rows(np.clip(X, -50, 50)), "your softmax gives"),
    ],
)
def test_softmax_shift_mistakes(function, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_softmax(function)


def test_attention_scaled_up_instead_of_down():
    def multiplies(Q, K, V):
        A = _rows(Q @ K.T * np.sqrt(K.shape[1]))
        return A @ V, A

    with pytest.raises(CheckFailed, match="multiply the scores by sqrt"):
        checks.check_attention(multiplies)


# ------------------------------------------------------------------ 3. one voice


@pytest.mark.parametrize(
    ("check", "function", "message"),
    [
        (checks.check_multi_head, lambda *a: (multi_head(*a), None),
         "returned a tuple of 2 values for the result, but the result is one array"),
        (checks.check_multi_head, lambda *a: None, "returned None: did you forget `return`"),
        (checks.check_softmax, lambda X: None, "returned None: did you forget `return`"),
        (checks.check_attention, lambda Q, K, V: None, "returned None: did you forget `return`"),
        (checks.check_qkv, lambda X, Wq, Wk, Wv: None, "returned None: did you forget `return`"),
        (checks.check_attention, lambda Q, K, V: attention_fn(Q, K, V)[0],
         "returned an array of shape \\(4, 2\\); it should return the pair"),
        (checks.check_softmax, lambda X: _rows(X).ravel(), "shape \\(12,\\), expected \\(3, 4\\)"),
        (checks.check_attention, lambda Q, K, V: (Q @ K @ V, Q),
         "raised ValueError on valid inputs \\(an array of shape \\(4, 3\\)"),
        (checks.check_qkv, lambda X, Wq, Wk, Wv: ("Q", "K", "V"), "expected a NumPy array"),
        (checks.check_softmax, lambda X: np.full(X.shape, np.nan), "contains NaN or inf"),
        (checks.check_qkv, lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk, (X @ Wv).tolist()), "qkv"),
    ],
)  # fmt: skip
def test_one_voice(check, function, message):
    with pytest.raises(CheckFailed, match=message):
        check(function)


def test_shape_errors_name_the_functions_own_shapes():
    with pytest.raises(CheckFailed) as error:
        checks.check_attention(
            lambda Q, K, V: (attention_fn(Q, K, V)[0].T, attention_fn(Q, K, V)[1])
        )
    assert "Q is (n_queries, d_k)" in str(error.value)
    with pytest.raises(CheckFailed) as error:
        checks.check_qkv(lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk, (X @ Wv)[:, :2]))
    assert "Wv is (d_model, d_v)" in str(error.value)


# ------------------------------------------------------------------ 4. return forms and rules


def test_lists_and_nested_lists_are_accepted(capsys):
    checks.check_qkv(lambda X, Wq, Wk, Wv: [m.tolist() for m in qkv(X, Wq, Wk, Wv)])
    checks.check_attention(lambda Q, K, V: [m.tolist() for m in attention_fn(Q, K, V)])
    checks.check_softmax(lambda X: _rows(np.asarray(X)).tolist())
    checks.check_multi_head(lambda *args: multi_head(*args).tolist())
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 4


def test_qkv_keeps_the_given_shape_checks():
    with pytest.raises(CheckFailed, match="Keep the given shape checks"):
        checks.check_qkv(lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk, X @ Wv))
