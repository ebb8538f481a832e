"""Feedback checks that students call right after each exercise.

Each ``check_*`` function runs the student's function on the course's example data
and on random inputs, prints one success line when everything agrees, and otherwise
raises :class:`CheckFailed` with a message aimed at the most likely mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """The student's function gave a wrong result; the message says what to look at."""


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Call a student's function, turning a stub's NotImplementedError into a friendly hint."""
    name = getattr(function, "__name__", repr(function))
    try:
        return function(*args)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not implemented yet: replace the `raise NotImplementedError` line "
            "with your code, run the cell, then run this check again."
        ) from None


def _passed(message: str) -> None:
    print(f"\N{CHECK MARK} {message}")


def _close(actual: Any, expected: np.ndarray, atol: float = 1e-6) -> bool:
    actual = np.asarray(actual, dtype=float)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, atol=atol))


def _reject_known_mistakes(actual: Any, mistakes: list[tuple[np.ndarray, str]]) -> None:
    """Raise the message of the first (result of a typical mistake, message) pair that matches."""
    for candidate, message in mistakes:
        if _close(actual, candidate):
            raise CheckFailed(message)


def _require_shape(name: str, actual: Any, expected_shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(actual)
    if array.shape != expected_shape:
        raise CheckFailed(
            f"`{name}` has shape {array.shape}, expected {expected_shape}. "
            "Check the order of the factors in your matrix products and what you return."
        )
    return array.astype(float)


# ------------------------------------------------------------ chapter 1: attention

# The assignment's published references (first head; tokens "the", "quick", "brown").
_ATT_Q = np.array(
    [[0.4722259, 0.04995783, -0.5350845], [-0.3662435, 0.12144160, 0.3454785],
     [-0.1029677, -0.12728414, 0.1817097]]
)  # fmt: skip
_ATT_K = np.array(
    [[0.094360579, -0.203807092, -0.1851229], [-0.033313240, 0.279012100, 0.2530560],
     [-0.004457052, 0.001013468, 0.0133802]]
)  # fmt: skip
_ATT_V = np.array(
    [[0.317318525, -0.35023010, 0.13284078], [0.009929565, 0.04208206, -0.15412097],
     [-0.316413241, 0.27717408, 0.02725089]]
)  # fmt: skip
_ATT_Z = np.array(
    [[0.012395453, -0.0212420459, 0.009404870], [-0.003759269, -0.0008360029, -0.005108890],
     [0.002412222, -0.0088974612, 0.001147999]]
)  # fmt: skip
_ATT_WEIGHTS = np.array(
    [[0.3601932, 0.3080896, 0.3317172], [0.3088780, 0.3582373, 0.3328847],
     [0.3300375, 0.3360583, 0.3339042]]
)  # fmt: skip
_ATT_MULTI_HEAD = np.array(
    [[-0.014189613, -0.0040299008, -0.006756286], [-0.009963516, -0.0010724342, -0.001996524],
     [-0.006394562, -0.0006626115, -0.002219108]]
)  # fmt: skip
# The references are printed with about 7 significant digits.
_ATT_ATOL = 1e-6


def _att_example():
    from utils.data import load_transformer_example

    return load_transformer_example()


def _att_softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax along ``axis`` (any shape)."""
    exponentials = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return exponentials / exponentials.sum(axis=axis, keepdims=True)


def _att_attention(
    Q: np.ndarray, K: np.ndarray, V: np.ndarray, scale: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reference attention, written independently of the notebook.

    Q: (n_queries, d_k); K: (n_keys, d_k); V: (n_keys, d_v). ``scale`` replaces
    sqrt(d_k), so that the checks can recognise a wrong scaling.
    Returns Z (n_queries, d_v) and the weights (n_queries, n_keys).
    """
    scale = np.sqrt(K.shape[1]) if scale is None else scale
    weights = _att_softmax(Q @ K.T / scale)
    return weights @ V, weights


def _att_heads(
    X: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray, scale: float | None = None
) -> list[np.ndarray]:
    """Each head's Z (n_tokens, d_v), in head order; W*: (d_model, d_head, n_heads)."""
    return [
        _att_attention(X @ Wq[:, :, h], X @ Wk[:, :, h], X @ Wv[:, :, h], scale)[0]
        for h in range(Wq.shape[2])
    ]


def _att_multi_head(
    X: np.ndarray, Wq: np.ndarray, Wk: np.ndarray, Wv: np.ndarray, W0: np.ndarray
) -> np.ndarray:
    """Reference multi-head self-attention: X (n_tokens, d_model) -> (n_tokens, d_out)."""
    return np.concatenate(_att_heads(X, Wq, Wk, Wv), axis=1) @ W0


def _att_run(function: Callable[..., Any], *args: Any) -> Any:
    """Like `_call`, but an error raised on valid inputs names the input shapes."""
    name = getattr(function, "__name__", repr(function))
    try:
        return _call(function, *args)
    except (ValueError, IndexError) as error:
        shapes = ", ".join(str(np.shape(arg)) for arg in args)
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__} on valid inputs of shapes {shapes}: "
            f"{error}\nCompare the shapes of the factors of each product (and mind "
            "keepdims=True when you subtract or divide by a row statistic)."
        ) from error


def _att_matrices(name: str, result: Any, count: int, names: str) -> list[np.ndarray]:
    if not isinstance(result, (tuple, list)) or len(result) != count:
        raise CheckFailed(f"`{name}` should return the {count} matrices {names} as a tuple.")
    return [np.asarray(part, dtype=float) for part in result]


def _att_no_keepdims_softmax(scores: np.ndarray) -> np.ndarray:
    """The softmax of a square matrix written without keepdims=True (a common slip)."""
    exponentials = np.exp(scores - scores.max(axis=1))
    return exponentials / exponentials.sum(axis=1)


def _att_compare_references(rows) -> None:
    """Compare (label, actual, reference) triples of the first head on 'the quick brown'."""
    for label, got, want in rows:
        if not _close(got, want, _ATT_ATOL):
            raise CheckFailed(
                f"{label} for the first head and tokens 'the quick brown' should be\n"
                f"{_att_round(want)}\ngot\n{_att_round(got)}"
            )


def _att_round(matrix: np.ndarray) -> str:
    return np.array2string(np.asarray(matrix), precision=7, suppress_small=False)


def check_qkv(qkv: Callable[..., Any]) -> None:
    """Check ``qkv(X, Wq, Wk, Wv)`` -> ``(Q, K, V)`` = (X Wq, X Wk, X Wv)."""
    rng = np.random.default_rng(10)
    # Non-square shapes (4 tokens, d_model 5, d_k 2, d_v 3) expose transposes.
    X = rng.normal(size=(4, 5))
    Wq, Wk, Wv = rng.normal(size=(5, 2)), rng.normal(size=(5, 2)), rng.normal(size=(5, 3))
    expected = [X @ Wq, X @ Wk, X @ Wv]
    actual = _att_matrices("qkv", _att_run(qkv, X, Wq, Wk, Wv), 3, "Q, K, V")
    for label, got, want in zip("QKV", actual, expected, strict=True):
        if got.shape == want.T.shape and _close(got.T, want):
            raise CheckFailed(
                f"{label} is transposed: it should have one row per token, shape {want.shape}. "
                f"Compute X @ W{label.lower()} (tokens x d_model times d_model x d_head), "
                f"not W{label.lower()}.T @ X.T."
            )
    for index, got in enumerate(actual):
        for other, want in enumerate(expected):
            if index != other and _close(got, want):
                raise CheckFailed(
                    f"Your {'QKV'[index]} equals X @ W{'qkv'[other]}: return the matrices in "
                    "the order Q, K, V and use the matching weights for each."
                )
    for label, got, want in zip("QKV", actual, expected, strict=True):
        _require_shape(label, got, want.shape)
        if not _close(got, want):
            raise CheckFailed(f"{label} should be X @ W{label.lower()} (a matrix product).")
    example = _att_example()
    X3 = example.embeddings[:3]
    first = (example.Wq[:, :, 0], example.Wk[:, :, 0], example.Wv[:, :, 0])
    actual = _att_matrices("qkv", _att_run(qkv, X3, *first), 3, "Q, K, V")
    _att_compare_references(zip("QKV", actual, (_ATT_Q, _ATT_K, _ATT_V), strict=True))
    _passed("qkv: Q, K and V agree with X @ W for the example and for random inputs.")


def check_softmax(softmax: Callable[..., Any]) -> None:
    """Check ``softmax(X)``: row-wise, numerically stable, same shape as X."""
    rng = np.random.default_rng(11)
    for shape in ((3, 4), (3, 3)):
        scores = 2.0 * rng.normal(size=shape)
        actual = np.asarray(_att_run(softmax, scores.copy()), dtype=float)
        _require_shape("softmax(X)", actual, shape)
        if _close(actual, _att_softmax(scores, axis=0)):
            raise CheckFailed(
                "Your softmax normalises each COLUMN (the columns sum to 1). It must work row "
                "by row: take the max and the sum over axis=1 (or axis=-1) with keepdims=True."
            )
        if _close(actual, np.exp(scores) / np.exp(scores).sum()):
            raise CheckFailed(
                "Your softmax divides by the sum over the whole matrix, so the entire matrix "
                "sums to 1. Each ROW must sum to 1: sum over axis=1 with keepdims=True."
            )
        if shape[0] == shape[1] and _close(actual, _att_no_keepdims_softmax(scores)):
            raise CheckFailed(
                "For a square matrix your row maxima/sums are subtracted along the wrong axis: "
                "X.max(axis=1) has shape (n,) and broadcasts across rows. Use keepdims=True."
            )
        if not _close(actual, _att_softmax(scores), atol=1e-9):
            raise CheckFailed(
                "softmax(X)[i, j] should be exp(X[i, j]) / sum over l of exp(X[i, l]); "
                f"for X =\n{_att_round(scores)}\nexpected\n{_att_round(_att_softmax(scores))}\n"
                f"got\n{_att_round(actual)}"
            )
    # Row 0 overflows exp without a shift; row 1 underflows to 0/0 when the shift is the
    # maximum of the whole matrix instead of each row's.
    large = np.array([[1000.0, 1001.0, 1002.0], [0.0, 1.0, 2.0]])
    with np.errstate(all="ignore"):
        values = np.asarray(_att_run(softmax, large.copy()), dtype=float)
    _require_shape("softmax(X)", values, large.shape)
    if not np.all(np.isfinite(values[0])):
        raise CheckFailed(
            "softmax([[1000, 1001, 1002]]) gives nan or inf: exp(1000) overflows. Subtract "
            "each row's maximum before np.exp; this does not change the result."
        )
    if not np.all(np.isfinite(values[1])) or np.allclose(values[1], 0.0):
        raise CheckFailed(
            "With rows [1000, 1001, 1002] and [0, 1, 2] the second row breaks: you subtract "
            "the maximum of the whole matrix, so exp(-1000) underflows to 0. Subtract each "
            "row's own maximum: X.max(axis=1, keepdims=True)."
        )
    if not _close(values, _att_softmax(large), atol=1e-9):
        raise CheckFailed(
            f"For X =\n{large}\nexpected\n{_att_round(_att_softmax(large))}\n"
            f"got\n{_att_round(values)}"
        )
    _passed("softmax works row by row and stays finite for scores around 1000.")


def check_attention(attention: Callable[..., Any]) -> None:
    """Check ``attention(Q, K, V)`` -> ``(Z, attention_weights)``."""
    rng = np.random.default_rng(12)
    # 4 tokens, d_k = 3, d_v = 2: every intermediate has a different shape, and the
    # scores are large enough for a wrong scaling to show.
    n, d_k, d_v = 4, 3, 2
    Q, K = 1.5 * rng.normal(size=(n, d_k)), 1.5 * rng.normal(size=(n, d_k))
    V = rng.normal(size=(n, d_v))
    expected_Z, expected_weights = _att_attention(Q, K, V)
    Z, weights = _att_matrices(
        "attention", _att_run(attention, Q, K, V), 2, "(Z, attention_weights)"
    )
    if Z.shape == (n, n) and weights.shape == (n, d_v):
        raise CheckFailed("Return the pair in the order (Z, attention_weights), not the reverse.")
    _require_shape("attention_weights", weights, (n, n))
    _require_shape("Z", Z, (n, d_v))
    scores = Q @ K.T
    wrong = [
        (_att_softmax(scores / np.sqrt(d_k), axis=0),
         "The attention weights are normalised over the wrong axis: each ROW (one query, "
         "all keys) must sum to 1. Apply softmax row by row."),
        (_att_softmax(scores),
         "The scores are not scaled: divide Q @ K.T by sqrt(d_k) before the softmax, "
         "d_k being the number of columns of K."),
        (_att_softmax(scores / d_k),
         "You divide the scores by d_k; divide by its square root, np.sqrt(d_k)."),
        (_att_softmax(scores / np.sqrt(d_v)),
         "You scale by sqrt(d_v), the width of V; d_k is the width of Q and K (K.shape[1])."),
        (_att_softmax(scores / np.sqrt(n)),
         "You scale by sqrt(number of tokens); d_k is the width of Q and K (K.shape[1])."),
        (_att_softmax(K @ Q.T / np.sqrt(d_k)),
         "The score matrix is transposed: use Q @ K.T, so that row i holds query i's "
         "scores against every key."),
    ]  # fmt: skip
    _reject_known_mistakes(weights, wrong)
    if not _close(weights, expected_weights):
        raise CheckFailed(
            "attention_weights should be softmax(Q @ K.T / sqrt(d_k)), softmax by rows."
        )
    if _close(Z, expected_weights.T @ V):
        raise CheckFailed("Z should be attention_weights @ V, not attention_weights.T @ V.")
    if not _close(Z, expected_Z):
        raise CheckFailed("The weights are right but Z is not: Z = attention_weights @ V.")
    Z, weights = _att_matrices(
        "attention", _att_run(attention, _ATT_Q, _ATT_K, _ATT_V), 2, "(Z, attention_weights)"
    )
    _att_compare_references((("Z", Z, _ATT_Z), ("attention_weights", weights, _ATT_WEIGHTS)))
    _passed("attention: Z and the attention weights agree for the example and random inputs.")


def check_multi_head(multi_head_self_attention: Callable[..., Any]) -> None:
    """Check ``multi_head_self_attention(X, Wq, Wk, Wv, W0)`` -> (n_tokens, d_out)."""
    rng = np.random.default_rng(13)
    # 6 tokens, d_model 5, d_head 2, 3 heads, d_out 4: distinct sizes expose mix-ups.
    n, d_model, d_head, n_heads, d_out = 6, 5, 2, 3, 4
    X = rng.normal(size=(n, d_model))
    Wq, Wk, Wv = (1.5 * rng.normal(size=(d_model, d_head, n_heads)) for _ in range(3))
    W0 = rng.normal(size=(n_heads * d_head, d_out))
    heads = _att_heads(X, Wq, Wk, Wv)
    actual = np.asarray(_att_run(multi_head_self_attention, X, Wq, Wk, Wv, W0), dtype=float)
    if actual.shape == (n, n_heads * d_head):
        raise CheckFailed(
            f"The result has shape {actual.shape}, the concatenated heads: multiply them by "
            f"W0 ({n_heads * d_head} x {d_out}) to get one row of {d_out} numbers per token."
        )
    if actual.shape != (n, d_out):
        raise CheckFailed(
            f"The result has shape {actual.shape}; it should be (n_tokens, d_out) = "
            f"({n}, {d_out}): the heads' Z side by side, (n_tokens, n_heads * d_v), times W0."
        )
    wrong = [
        (np.concatenate(heads[::-1], axis=1) @ W0,
         "The heads are in the wrong order: concatenate Z_0, Z_1, ... for h = 0, 1, ... "
         "(head h uses Wq[:, :, h]); row block h of W0 belongs to head h."),
        (np.stack(heads, axis=2).reshape(n, -1) @ W0,
         "The heads' columns are interleaved: put whole heads side by side with "
         "np.concatenate([Z_0, Z_1, ...], axis=1) rather than stacking on a new last axis "
         "and reshaping."),
        (np.concatenate(_att_heads(X, Wq, Wk, Wv, scale=1.0), axis=1) @ W0,
         "The scores inside each head are not scaled by 1/sqrt(d_k)."),
        (np.concatenate(_att_heads(X, Wq, Wk, Wv, np.sqrt(n_heads * d_head)), axis=1) @ W0,
         "You scale by sqrt(n_heads * d_k); d_k is the width of ONE head (Wq.shape[1])."),
        (np.concatenate([heads[0]] * n_heads, axis=1) @ W0,
         "Every head uses the first head's weights: head h needs Wq[:, :, h], Wk[:, :, h], "
         "Wv[:, :, h]."),
    ]  # fmt: skip
    _reject_known_mistakes(actual, wrong)
    if not _close(actual, np.concatenate(heads, axis=1) @ W0):
        raise CheckFailed(
            "Wrong on a random example (6 tokens, 3 heads of width 2). Compute each head with "
            "qkv and attention, concatenate the Z's in head order, multiply by W0."
        )
    example = _att_example()
    weights = (example.Wq, example.Wk, example.Wv, example.W0)
    first = _att_run(multi_head_self_attention, example.embeddings[:3], *weights)
    if not _close(first, _ATT_MULTI_HEAD, _ATT_ATOL):
        raise CheckFailed(
            "For the tokens 'the quick brown' the output should be\n"
            f"{_att_round(_ATT_MULTI_HEAD)}\ngot\n{_att_round(np.asarray(first))}"
        )
    everything = _att_run(multi_head_self_attention, example.embeddings, *weights)
    if not _close(everything, _att_multi_head(example.embeddings, *weights)):
        raise CheckFailed("Right for three tokens but wrong for all nine.")
    _passed("multi_head_self_attention agrees for the example (3 and 9 tokens) and random inputs.")


# ------------------------------------------------------------------ chapter 2: RNN


def _rnn_example():
    from utils.data import load_rnn_example

    return load_rnn_example()


def _rnn_reference(
    X: np.ndarray,
    W: np.ndarray,
    U: np.ndarray,
    V: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    h0: np.ndarray | None = None,
    carry: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Goodfellow et al. (2016) eq. 10.8-10.11, written independently of the notebook.

    X: (T, d_input); W: (H, H); U: (H, d_input); V: (n_out, H); b: (H, 1); c: (n_out, 1).
    ``carry=False`` restarts every step from ``h0``, the mistake the checks recognise.
    Returns hidden states (T, H) and softmax outputs (T, n_out), one row per step.
    """
    h = np.zeros((W.shape[0], 1)) if h0 is None else h0
    start = h
    hs, ys = [], []
    for x in X:
        h = np.tanh(b + W @ (h if carry else start) + U @ x.reshape(-1, 1))
        o = c + V @ h
        e = np.exp(o - o.max())
        hs.append(h.ravel())
        ys.append((e / e.sum()).ravel())
    return np.array(hs), np.array(ys)


def _student_result(function: Callable[..., Any], *args: Any) -> Any:
    """Like `_call`, but a shape error inside the student's code becomes a hint."""
    name = getattr(function, "__name__", repr(function))
    try:
        return _call(function, *args)
    except ValueError as error:
        raise CheckFailed(
            f"`{name}` raised ValueError: {error}\n"
            "Compare the shapes of the factors of each matrix product: x_t is a 1 x 5 row, "
            "U is 4 x 5, W is 4 x 4, h and b are 4 x 1 columns."
        ) from None


def check_rnn_unit(rnn_unit: Callable[..., Any]) -> None:
    """Check ``rnn_unit(h_t_minus_one, x_t, W, U, b)`` -> a_t, a (hidden, 1) column."""
    ex = _rnn_example()
    hidden = ex.W.shape[0]
    h0 = np.zeros((hidden, 1))
    x1 = ex.embeddings[0:1]
    expected = ex.b + ex.W @ h0 + ex.U @ x1.T
    actual = np.asarray(_student_result(rnn_unit, h0, x1, ex.W, ex.U, ex.b), dtype=float)
    if actual.shape == (1, hidden) and _close(actual.T, expected):
        raise CheckFailed(
            "You return a_t as a 1 x 4 row, the transpose of the answer. In Goodfellow's "
            "notation x_t is a column: compute U @ x_t.T (4 x 5 times 5 x 1), not x_t @ U.T, "
            "so that a_t is a 4 x 1 column like b and h."
        )
    array = _require_shape("a_t", actual, (hidden, 1))
    if _close(array, expected - ex.b):
        raise CheckFailed("a_t is missing the bias: a_t = b + W h_{t-1} + U x_t.")
    if not _close(array, expected):
        raise CheckFailed(
            f"a_1 for 'the' should be {np.round(expected.ravel(), 7)}, got "
            f"{np.round(array.ravel(), 7)}. Is it b + W h_(t-1) + U x_t with U (4 x 5) "
            "multiplying the embedding as a column?"
        )
    # h_0 = 0 hides the W term, so try a non-zero previous state as well.
    rng = np.random.default_rng(0)
    h = rng.normal(size=(hidden, 1))
    expected = ex.b + ex.W @ h + ex.U @ x1.T
    array = np.asarray(_student_result(rnn_unit, h, x1, ex.W, ex.U, ex.b), dtype=float)
    if _close(array, ex.b + ex.U @ x1.T):
        raise CheckFailed(
            "Right for h_0 = 0, but the previous hidden state is ignored: add W @ h_t_minus_one."
        )
    if _close(array, ex.b + ex.W.T @ h + ex.U @ x1.T):
        raise CheckFailed("Use W @ h_t_minus_one, not W.T @ h_t_minus_one (W is hidden x hidden).")
    if not _close(array, expected):
        raise CheckFailed(
            "Right for h_0 = 0 but wrong for a non-zero previous hidden state: "
            "check the term W h_(t-1)."
        )
    _passed("rnn_unit: a_1 and a step from a non-zero hidden state agree with b + W h + U x.")


def check_activation(activation: Callable[..., Any]) -> None:
    """Check ``activation(a)`` = tanh(a) elementwise, also for large |a|."""
    grid = np.linspace(-6, 6, 49).reshape(-1, 1)
    actual = np.asarray(_call(activation, grid), dtype=float)
    _require_shape("activation(a)", actual, grid.shape)
    if not _close(actual, np.tanh(grid), atol=1e-9):
        raise CheckFailed(
            "activation(a) differs from tanh(a) on [-6, 6]: use (e^a - e^-a) / (e^a + e^-a)."
        )
    large = np.array([[800.0], [-800.0], [1e4], [-1e4], [0.0]])
    with np.errstate(all="ignore"):
        values = np.asarray(_call(activation, large), dtype=float)
    if not np.all(np.isfinite(values)):
        raise CheckFailed(
            "activation(800) is not a number: e^800 overflows to inf and inf / inf = nan. "
            "Multiply numerator and denominator by e^-|a|, so that only e^(-2|a|) <= 1 "
            "is ever computed."
        )
    if not _close(values, np.tanh(large), atol=1e-12):
        raise CheckFailed(
            f"For a = 800, -800, 1e4, -1e4, 0 expected {np.tanh(large).ravel()}, got "
            f"{values.ravel()}. Mind the sign for negative a."
        )
    with np.errstate(over="raise"):
        try:
            _call(activation, large)
        except FloatingPointError:
            raise CheckFailed(
                "The values are right, but an exponential overflows on the way (NumPy warns "
                "'overflow encountered in exp'). Only ever compute e^(-2|a|)."
            ) from None
    _passed("activation equals np.tanh on [-6, 6] and stays finite for |a| up to 10,000.")


def check_output_rnn(output_rnn: Callable[..., Any]) -> None:
    """Check ``output_rnn(h_t, V, c)`` -> o_t = c + V h_t, an (n_out, 1) column."""
    ex = _rnn_example()
    rng = np.random.default_rng(1)
    h = np.tanh(rng.normal(size=(ex.W.shape[0], 1)))
    expected = ex.c + ex.V @ h
    actual = np.asarray(_student_result(output_rnn, h, ex.V, ex.c), dtype=float)
    if actual.shape == (1, expected.shape[0]) and _close(actual.T, expected):
        raise CheckFailed("Return o_t as a column (3 x 1): V @ h_t, not h_t.T @ V.T.")
    array = _require_shape("o_t", actual, expected.shape)
    if _close(array, expected - ex.c):
        raise CheckFailed("o_t is missing the output bias: o_t = c + V h_t.")
    if not _close(array, expected):
        raise CheckFailed("o_t should be c + V @ h_t (V is 3 x 4, h_t is 4 x 1).")
    _passed("output_rnn gives o_t = c + V h_t.")


def check_softmax_column(softmax: Callable[..., Any]) -> None:
    """Check ``softmax(o)`` over the output units, i.e. down each column of ``o``."""
    o = np.array([[0.5], [-1.0], [2.0]])
    expected = np.exp(o) / np.exp(o).sum()
    actual = np.asarray(_call(softmax, o), dtype=float)
    _require_shape("softmax(o)", actual, o.shape)
    if np.allclose(actual, 1.0):
        raise CheckFailed(
            "Every entry is 1: you normalised over axis 1, but a column has one entry per row. "
            "The output units are the rows of o_t: sum over axis=0 (keepdims=True)."
        )
    if not _close(actual, expected):
        raise CheckFailed("softmax(o) should be exp(o) / sum(exp(o)) over the output units.")
    several = np.array([[0.5, 3.0], [-1.0, 0.0], [2.0, -2.0]])
    values = np.asarray(_call(softmax, several), dtype=float)
    if values.shape == several.shape and not np.allclose(values.sum(axis=0), 1.0):
        raise CheckFailed(
            "With several columns (one output vector each) the columns must each sum to 1: "
            "sum over axis=0 with keepdims=True, not over the whole array."
        )
    big = np.array([[1000.0], [1001.0], [1002.0]])
    with np.errstate(all="ignore"):
        values = np.asarray(_call(softmax, big), dtype=float)
    if not np.all(np.isfinite(values)):
        raise CheckFailed(
            "softmax([1000, 1001, 1002]) is not finite: exp(1000) overflows. Subtract the "
            "largest entry first; softmax(o - max(o)) = softmax(o)."
        )
    expected_big = np.exp(big - big.max()) / np.exp(big - big.max()).sum()
    if not _close(values, expected_big):
        raise CheckFailed(f"softmax([1000, 1001, 1002]) should be {expected_big.ravel()}.")
    _passed("softmax normalises over the output units and is stable for large inputs.")


def check_rnn_layer(rnn_layer: Callable[..., Any]) -> None:
    """Check ``rnn_layer(X, W, V, U, b, c)`` -> (ht (T, hidden), yhat (T, n_out))."""
    ex = _rnn_example()
    X = ex.embeddings
    T, hidden, n_out = X.shape[0], ex.W.shape[0], ex.V.shape[0]
    args = (ex.W, ex.V, ex.U, ex.b, ex.c)
    result = _student_result(rnn_layer, X, *args)
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed("rnn_layer should return a pair (ht, yhat).")
    ht, yhat = (np.asarray(part, dtype=float) for part in result)
    expected_h, expected_y = _rnn_reference(X, ex.W, ex.U, ex.V, ex.b, ex.c)
    if ht.size == hidden and _close(ht.reshape(-1), expected_h[-1]):
        raise CheckFailed(
            "ht holds only the last hidden state. Collect h_t at every step: ht has one row "
            f"per token, shape ({T}, {hidden})."
        )
    if ht.shape == (hidden, T) or yhat.shape == (n_out, T):
        raise CheckFailed(
            f"Transpose your results: one ROW per token, ht ({T}, {hidden}) and yhat ({T}, {n_out})."
        )
    _require_shape("ht", ht, (T, hidden))
    _require_shape("yhat", yhat, (T, n_out))
    no_carry, _ = _rnn_reference(X, ex.W, ex.U, ex.V, ex.b, ex.c, carry=False)
    if _close(ht, no_carry) and not _close(ht, expected_h):
        raise CheckFailed(
            "Every step starts again from h_0: carry the hidden state, i.e. feed h_t "
            "into the next step as h_t_minus_one."
        )
    if not _close(ht[0], expected_h[0]):
        # If the later rows follow from the student's first row, only h_0 is off.
        h_rest, _ = _rnn_reference(X[1:], ex.W, ex.U, ex.V, ex.b, ex.c, h0=ht[:1].T)
        if _close(ht[1:], h_rest):
            raise CheckFailed(
                "The first hidden state is wrong but the recurrence is right: h_0 must be "
                f"zeros of shape ({hidden}, 1)."
            )
        raise CheckFailed(
            f"h_1 for 'the' should be {np.round(expected_h[0], 7)}, got {np.round(ht[0], 7)}."
        )
    if not _close(ht, expected_h):
        raise CheckFailed(
            "h_1 is right but later hidden states are not: feed h_t (after tanh) into the "
            "next step."
        )
    if np.allclose(yhat, 1.0) or not np.allclose(yhat.sum(axis=1), 1.0):
        raise CheckFailed(
            "Each row of yhat should be a probability vector over the 3 outputs (rows sum to "
            "1). Is softmax taken over the output units (axis 0 of the column o_t)?"
        )
    if not _close(yhat, expected_y):
        raise CheckFailed("ht is right but yhat is not: yhat_t = softmax(c + V h_t).")
    # A second, random sequence guards against anything tied to the example's length.
    rng = np.random.default_rng(2)
    X2 = rng.normal(size=(3, X.shape[1]))
    ht2, yhat2 = (np.asarray(p, dtype=float) for p in _student_result(rnn_layer, X2, *args))
    h2, y2 = _rnn_reference(X2, ex.W, ex.U, ex.V, ex.b, ex.c)
    if not (_close(ht2, h2) and _close(yhat2, y2)):
        raise CheckFailed("Right on the example but wrong on a random 3-token sequence.")
    _passed(f"rnn_layer: all {T} hidden states and outputs agree with the reference.")


# ---------------------------------------------------------------- chapter 3: IMDB


def check_nearest_neighbours(nearest_neighbours: Callable[..., Any]) -> None:
    """Check ``nearest_neighbours(embeddings, vocabulary, word, k)`` on a toy table.

    The toy rows are chosen so that the common mistakes give a different order: a plain dot
    product (no normalisation) ranks the long vector "huge" first, and forgetting to leave out
    the word itself ranks "good" first.
    """
    toy = np.array([[1.0, 0.0], [0.9, 0.1], [5.0, 5.0], [0.0, 1.0], [-1.0, 0.0]])
    vocabulary = {"good": 0, "great": 1, "huge": 2, "plot": 3, "bad": 4}
    norms = np.linalg.norm(toy, axis=1)
    cosine = toy @ toy[0] / (norms * norms[0])
    expected = ["great", "huge", "plot", "bad"]
    found = _call(nearest_neighbours, toy, vocabulary, "good", 4)
    try:
        words = [str(word) for word, _ in found]
        similarities = np.array([float(sim) for _, sim in found])
    except (TypeError, ValueError):
        raise CheckFailed(
            f"nearest_neighbours should return a list of (word, similarity) pairs, got {found!r}."
        ) from None
    if words and words[0] == "good":
        raise CheckFailed("The word itself came back as its own nearest neighbour: leave it out.")
    if words == ["huge", "great", "plot", "bad"]:
        raise CheckFailed(
            "The order follows the plain dot product: divide by both vectors' norms "
            "to get the cosine similarity."
        )
    if words == expected[::-1]:
        raise CheckFailed("The order is reversed: sort by similarity, largest first.")
    if words != expected:
        raise CheckFailed(f"For 'good' the neighbours should be {expected}, got {words}.")
    if not _close(similarities, cosine[[1, 2, 3, 4]]):
        raise CheckFailed(
            f"The similarities should be the cosines {np.round(cosine[1:], 4).tolist()}, "
            f"got {np.round(similarities, 4).tolist()}."
        )
    try:
        nearest_neighbours(toy, vocabulary, "excellent", 2)
    except ValueError:
        pass
    except NotImplementedError:
        raise
    except Exception as error:  # a KeyError or IndexError tells the student nothing
        raise CheckFailed(
            f"An unknown word raised {type(error).__name__}; raise a ValueError that names "
            "the word instead."
        ) from None
    else:
        raise CheckFailed("An unknown word must raise a ValueError that names the word.")
    _passed("nearest_neighbours ranks by cosine similarity and refuses unknown words.")


# ----------------------------------------------------------- chapter 4: parameters

# (input width, units) pairs the counting functions are tried on; (16, 32) is our model's.
_COUNT_SIZES = [(16, 32), (32, 32), (5, 4), (3, 7), (100, 1), (1, 64)]


def _recurrent_mistake(answer: Any, d: int, n: int, gates: int) -> str | None:
    """Name the likely mistake when ``answer`` is a wrong count for a recurrent layer."""
    per_gate = d * n + n * n + n
    guesses = {
        gates * (d * n + n * n): "you forgot the bias b (one per unit"
        + (", per gate)." if gates > 1 else ")."),
        gates * (d * n + n): "you forgot the recurrent weights W (units x units"
        + (", per gate)." if gates > 1 else ")."),
        gates * (n * n + n): "you forgot the input weights U (input width x units).",
        gates * (2 * n * n + n): "U is input width x units, not units x units.",
    }
    if gates > 1:
        guesses[per_gate] = (
            f"that is one gate's worth: an LSTM has {gates} gates (i, f, c, o), "
            "each with its own U, W and b."
        )
    if gates == 4:
        guesses[3 * per_gate] = "that is 3 gates (a GRU's count); an LSTM has 4 (i, f, c, o)."
    if gates == 1:
        guesses[4 * per_gate] = "that is an LSTM's count (4 gates); a SimpleRNN has one U, W, b."
    return guesses.get(answer)


def _as_count(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise CheckFailed(f"{name} should be a whole number, got {value!r}.")
    if float(value) != int(value):
        raise CheckFailed(f"{name} should be a whole number, got {value!r}.")
    return int(value)


def _check_recurrent_count(function: Callable[..., Any], gates: int, layer: str) -> None:
    name = getattr(function, "__name__", repr(function))
    for d, n in _COUNT_SIZES:
        answer = _as_count(f"{name}({d}, {n})", _call(function, d, n))
        expected = gates * (d * n + n * n + n)
        if answer != expected:
            hint = _recurrent_mistake(answer, d, n, gates) or (
                "count U (input x units), W (units x units) and b (units)"
                + (f" for each of the {gates} gates." if gates > 1 else ".")
            )
            raise CheckFailed(
                f"{name}({d}, {n}) returned {answer:,}, but {layer} with {n} units on inputs of "
                f"width {d} has {expected:,} parameters: {hint}"
            )
    _passed(f"{name} agrees with {layer}'s parameter count for {len(_COUNT_SIZES)} sizes.")


def check_simple_rnn_count(simple_rnn_count: Callable[[int, int], int]) -> None:
    """Check ``simple_rnn_count(input_dim, units)`` = input_dim*units + units*units + units."""
    _check_recurrent_count(simple_rnn_count, 1, "SimpleRNN")


def check_lstm_count(lstm_count: Callable[[int, int], int]) -> None:
    """Check ``lstm_count(input_dim, units)`` = 4 * (input_dim*units + units*units + units)."""
    _check_recurrent_count(lstm_count, 4, "LSTM")


def check_rnn_model_counts(rnn_model_counts: Callable[[], dict]) -> None:
    """Check the predicted per-layer counts of chapter 3's SimpleRNN model.

    The model: Embedding(10000, 16) on sequences of 20 tokens, SimpleRNN(32), Dense(1).
    ``rnn_model_counts()`` returns {"embedding": ..., "simple_rnn": ..., "dense": ...}.
    """
    vocabulary, width, length, units = 10_000, 16, 20, 32
    answer = _call(rnn_model_counts)
    keys = {"embedding", "simple_rnn", "dense"}
    if not isinstance(answer, dict) or set(answer) != keys:
        raise CheckFailed(f"rnn_model_counts() should return a dict with the keys {sorted(keys)}.")
    counts = {key: _as_count(f"counts[{key!r}]", value) for key, value in answer.items()}
    embedding = vocabulary * width
    rnn = width * units + units * units + units
    dense = units + 1
    if counts["embedding"] != embedding:
        if counts["embedding"] == length * width:
            raise CheckFailed(
                "The embedding table has one row per vocabulary word (10,000), not one per "
                "position in the sequence (20): 10,000 x 16."
            )
        raise CheckFailed("The embedding layer stores a 16-number vector for each of 10,000 words.")
    embedding_as_u = {
        embedding + units * units + units,
        embedding + rnn,
        vocabulary * units + units * units + units,
        embedding,
    }
    if counts["simple_rnn"] in embedding_as_u:
        raise CheckFailed(
            "You counted the embedding as U. The embedding is a separate layer, a lookup table "
            "that turns each word index into a 16-number vector; U maps that 16-number vector to "
            "the 32 hidden units: 16 x 32."
        )
    if counts["simple_rnn"] != rnn:
        hint = _recurrent_mistake(counts["simple_rnn"], width, units, 1) or (
            "count U (16 x 32), W (32 x 32) and b (32)."
        )
        raise CheckFailed(
            f"The SimpleRNN layer has {rnn:,} parameters, not {counts['simple_rnn']:,}: {hint}"
        )
    if counts["dense"] != dense:
        if counts["dense"] == units:
            raise CheckFailed("Dense(1) is V (32 x 1) plus the bias c: you forgot the bias.")
        if counts["dense"] == length * units + 1:
            raise CheckFailed(
                "The SimpleRNN returns only its last hidden state (32 numbers), not one per step: "
                "Dense(1) sees 32 inputs."
            )
        raise CheckFailed("Dense(1) on the 32-number last hidden state: V is 32 x 1, plus c.")
    _passed(
        f"embedding {embedding:,} + SimpleRNN {rnn:,} + Dense {dense:,} = "
        f"{embedding + rnn + dense:,}, the total of model.summary()."
    )


def check_stacked_lstm_counts(stacked_lstm_counts: Callable[[], tuple]) -> None:
    """Check ``stacked_lstm_counts()`` -> (first, second) LSTM(32) counts on 16-wide embeddings."""
    width, units = 16, 32
    answer = _call(stacked_lstm_counts)
    if not isinstance(answer, tuple | list) or len(answer) != 2:
        raise CheckFailed("stacked_lstm_counts() should return a pair (first, second).")
    first, second = (
        _as_count(name, value) for name, value in zip(["first", "second"], answer, strict=True)
    )
    expected_first = 4 * (width * units + units * units + units)
    expected_second = 4 * (units * units + units * units + units)
    if first != expected_first:
        hint = _recurrent_mistake(first, width, units, 4) or "4 x (16 x 32 + 32 x 32 + 32)."
        raise CheckFailed(
            f"The first LSTM has {expected_first:,} parameters, not {first:,}: {hint}"
        )
    if second == expected_first:
        raise CheckFailed(
            "The second LSTM does not read the 16-number embeddings: its inputs are the first "
            "LSTM's hidden states (return_sequences=True), 32 numbers per step. So its U is "
            "32 x 32 per gate."
        )
    if second != expected_second:
        hint = _recurrent_mistake(second, units, units, 4) or "4 x (32 x 32 + 32 x 32 + 32)."
        raise CheckFailed(
            f"The second LSTM has {expected_second:,} parameters, not {second:,}: {hint}"
        )
    _passed(f"first LSTM {expected_first:,}, second LSTM {expected_second:,}.")
