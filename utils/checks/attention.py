"""Checks for chapter 1: queries, keys and values, a stable softmax, attention, multi-head.

Every student function is called on fresh copies; every reference is computed from
read-only data, so a solution that works in place (``Q /= np.sqrt(d_k)``) is judged on its
result alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from utils.checks._core import (
    CheckFailed,
    Student,
    agrees,
    as_array,
    as_sequence,
    close,
    expect_value_error,
    feedback_check,
    largest_difference,
    load_example,
    pristine,
    reject_known_mistakes,
    rounded,
)

# The uuml package's reference values (first head; tokens "the", "quick", "brown"), which the
# R assignment printed for students to compare with.
_ATT_Q = pristine(
    [[0.4722259, 0.04995783, -0.5350845], [-0.3662435, 0.12144160, 0.3454785],
     [-0.1029677, -0.12728414, 0.1817097]]
)  # fmt: skip
_ATT_K = pristine(
    [[0.094360579, -0.203807092, -0.1851229], [-0.033313240, 0.279012100, 0.2530560],
     [-0.004457052, 0.001013468, 0.0133802]]
)  # fmt: skip
_ATT_V = pristine(
    [[0.317318525, -0.35023010, 0.13284078], [0.009929565, 0.04208206, -0.15412097],
     [-0.316413241, 0.27717408, 0.02725089]]
)  # fmt: skip
_ATT_Z = pristine(
    [[0.012395453, -0.0212420459, 0.009404870], [-0.003759269, -0.0008360029, -0.005108890],
     [0.002412222, -0.0088974612, 0.001147999]]
)  # fmt: skip
_ATT_WEIGHTS = pristine(
    [[0.3601932, 0.3080896, 0.3317172], [0.3088780, 0.3582373, 0.3328847],
     [0.3300375, 0.3360583, 0.3339042]]
)  # fmt: skip
_ATT_MULTI_HEAD = pristine(
    [[-0.014189613, -0.0040299008, -0.006756286], [-0.009963516, -0.0010724342, -0.001996524],
     [-0.006394562, -0.0006626115, -0.002219108]]
)  # fmt: skip
# The references are printed with about 7 significant digits.
_ATT_ATOL = 1e-6

_QKV_SHAPES = (
    "X is (n_tokens, d_model), Wq and Wk are (d_model, d_k), Wv is (d_model, d_v): "
    "Q = X @ Wq is (n_tokens, d_k), one row per token."
)
_SOFTMAX_SHAPES = (
    "softmax(X) has the shape of X: take the max and the sum over axis=1 (or -1) with "
    "keepdims=True, so that they stay columns and broadcast along the rows."
)
_ATTENTION_SHAPES = (
    "Q is (n_queries, d_k), K is (n_keys, d_k), V is (n_keys, d_v): the scores Q @ K.T are "
    "(n_queries, n_keys), and Z = attention_weights @ V is (n_queries, d_v)."
)
_MULTI_HEAD_SHAPES = (
    "X is (n_tokens, d_model); head h uses Wq[:, :, h], Wk[:, :, h] (d_model, d_k) and "
    "Wv[:, :, h] (d_model, d_v); the heads' Z side by side are (n_tokens, n_heads * d_v), "
    "and W0 is (n_heads * d_v, d_out)."
)


def _att_example() -> Any:
    from utils.data import load_transformer_example

    return load_example(load_transformer_example, ("embeddings", "Wq", "Wk", "Wv", "W0"))


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


def _matrices(function: Callable[..., Any], result: Any, labels: str) -> list[np.ndarray]:
    """The matrices a function returns together (a tuple or a list), as float arrays."""
    parts = as_sequence(result, function, len(labels.split(", ")), f"({labels})", "matrices")
    return [
        as_array(label, part, function, part=True)
        for label, part in zip(labels.split(", "), parts, strict=True)
    ]


def _att_no_keepdims_softmax(scores: np.ndarray) -> np.ndarray:
    """The softmax of a square matrix written without keepdims=True (a common slip)."""
    exponentials = np.exp(scores - scores.max(axis=1))
    return exponentials / exponentials.sum(axis=1)


def _att_compare_references(
    rows: Iterable[tuple[str, np.ndarray, np.ndarray]], heads: str = "first head"
) -> None:
    """Compare (label, actual, reference) triples on 'the quick brown' with the uuml values."""
    for label, got, want in rows:
        if not close(got, want, _ATT_ATOL):
            raise CheckFailed(
                f"{label} for tokens 'the quick brown' ({heads}) does not match the "
                f"uuml reference values:\n{rounded(want)}\nyours:\n{rounded(got)}\nThe "
                f"{largest_difference(got, want)}"
            )


@feedback_check
def check_qkv(qkv: Callable[..., Any]) -> None:
    """Check ``qkv(X, Wq, Wk, Wv)`` -> ``(Q, K, V)`` = (X Wq, X Wk, X Wv)."""
    rng = np.random.default_rng(10)
    # Non-square shapes (4 tokens, d_model 5, d_k 2, d_v 3) expose transposes.
    X = pristine(rng.normal(size=(4, 5)))
    Wq, Wk, Wv = (pristine(rng.normal(size=(5, d))) for d in (2, 2, 3))
    expected = [X @ Wq, X @ Wk, X @ Wv]
    student = Student(qkv, "X Wq Wk Wv", _QKV_SHAPES)
    actual = _matrices(qkv, student(X, Wq, Wk, Wv), "Q, K, V")
    for label, got, want in zip("QKV", actual, expected, strict=True):
        if got.shape == want.T.shape and close(got.T, want):
            raise CheckFailed(
                f"{label} is transposed: it should have one row per token, shape {want.shape}. "
                f"Compute X @ W{label.lower()} (tokens x d_model times d_model x d_head), "
                f"not W{label.lower()}.T @ X.T."
            )
    for index, got in enumerate(actual):
        for other, want in enumerate(expected):
            if index != other and close(got, want):
                raise CheckFailed(
                    f"Your {'QKV'[index]} equals X @ W{'qkv'[other]}: return the matrices in "
                    "the order Q, K, V and use the matching weights for each."
                )
    d_k = Wq.shape[1]
    for label, got, want in zip("QKV", actual, expected, strict=True):
        as_array(label, got, qkv, want.shape, _QKV_SHAPES, finite=True)
        w = f"W{label.lower()}"
        factor = float(np.vdot(got, want) / np.vdot(want, want))
        if not agrees(got, want) and close(got, factor * want) and abs(factor) > 1e-12:
            named = {
                1 / np.sqrt(d_k): f"1/sqrt(d_k): you scale {label} by 1/sqrt(d_k)",
                np.sqrt(d_k): f"sqrt(d_k): you scale {label} by sqrt(d_k)",
                1 / d_k: f"1/d_k: you divide {label} by d_k",
            }
            what = next(
                (text for value, text in named.items() if abs(factor - value) < 1e-6),
                f"{factor:.4g}: {label} is scaled",
            )
            raise CheckFailed(
                f"{label} is X @ {w} times {what}. qkv returns the plain projections, "
                f"{label} = X @ {w}; the scaling by 1/sqrt(d_k) belongs to attention "
                "(exercise 1.3), where it divides the scores Q @ K.T."
            )
        if not agrees(got, want):
            raise CheckFailed(
                f"{label} should be X @ {w}, the matrix product (tokens x d_model times "
                f"d_model x d_head); on a random X the {largest_difference(got, want)}"
            )
    example = _att_example()
    X3 = example.embeddings[:3]
    first = (example.Wq[:, :, 0], example.Wk[:, :, 0], example.Wv[:, :, 0])
    actual = _matrices(qkv, student(X3, *first), "Q, K, V")
    _att_compare_references(zip("QKV", actual, (_ATT_Q, _ATT_K, _ATT_V), strict=True))
    # The rule the exercise states (the given shape checks): misfit shapes are a clear error.
    expect_value_error(
        qkv,
        (X, Wq[:4], Wk, Wv),
        "X of shape (4, 5) with Wq of shape (4, 2)",
        [("(4, 2)",)],
        "Keep the given shape checks at the top of `qkv`.",
    )
    student.passed(
        "qkv: Q, K and V agree with X @ W for random inputs and match the uuml reference "
        "values for 'the quick brown' (first head)."
    )


def _shifted_softmax(X: np.ndarray, shift: np.ndarray | float) -> np.ndarray:
    """exp(X - shift) normalised along the rows: right when shift is the row maxima, one of
    the typical mistakes otherwise (no shift, the mean, the minimum, the global maximum)."""
    exponentials = np.exp(X - shift)
    return exponentials / exponentials.sum(axis=1, keepdims=True)


@feedback_check
def check_softmax(softmax: Callable[..., Any]) -> None:
    """Check ``softmax(X)``: row-wise, numerically stable, same shape as X."""
    rng = np.random.default_rng(11)
    student = Student(softmax, "X", _SOFTMAX_SHAPES)
    for shape in ((3, 4), (3, 3)):
        scores = pristine(2.0 * rng.normal(size=shape))
        actual = as_array(
            "softmax(X)", student(scores), softmax, shape,
            _SOFTMAX_SHAPES, finite=True,
        )  # fmt: skip
        if close(actual, _att_softmax(scores, axis=0)):
            raise CheckFailed(
                "Your softmax normalises each COLUMN (the columns sum to 1). It must work row "
                "by row: take the max and the sum over axis=1 (or axis=-1) with keepdims=True."
            )
        if close(actual, np.exp(scores) / np.exp(scores).sum()):
            raise CheckFailed(
                "Your softmax divides by the sum over the whole matrix, so the entire matrix "
                "sums to 1. Each ROW must sum to 1: sum over axis=1 with keepdims=True."
            )
        if shape[0] == shape[1] and close(actual, _att_no_keepdims_softmax(scores)):
            raise CheckFailed(
                "For a square matrix your row maxima/sums are subtracted along the wrong axis: "
                "X.max(axis=1) has shape (n,) and broadcasts across rows. Use keepdims=True."
            )
        if not agrees(actual, _att_softmax(scores)):
            raise CheckFailed(
                "softmax(X)[i, j] should be exp(X[i, j]) / sum over l of exp(X[i, l]); "
                f"for X =\n{rounded(scores)}\nthe {largest_difference(actual, _att_softmax(scores))}"
            )
    # Row 0 overflows exp without a shift; row 1 underflows to 0/0 when the shift is the
    # maximum of the whole matrix; row 2 (a range of 1001) overflows when the shift is the
    # row's minimum; row 3 (mean and median 0) overflows unless the shift is the maximum.
    large = pristine(
        [[1000.0, 1001.0, 1002.0], [0.0, 1.0, 2.0], [-1000.0, 0.0, 1.0], [-1000.0, 1000.0, 0.0]]
    )
    values = as_array(
        "softmax(X)", student(large), softmax, large.shape,
        _SOFTMAX_SHAPES,
    )  # fmt: skip
    shifted = [
        (_shifted_softmax(large, 0.0),
         "softmax([[1000, 1001, 1002]]) gives nan or inf: exp(1000) overflows. Subtract "
         "each row's maximum before np.exp; this does not change the result."),
        (_shifted_softmax(large, large.max()),
         "With rows [1000, 1001, 1002] and [0, 1, 2] the second row breaks: you subtract "
         "the maximum of the whole matrix, so exp(-1000) underflows to 0. Subtract each "
         "row's own maximum: X.max(axis=1, keepdims=True)."),
        (_shifted_softmax(large, large.min(axis=1, keepdims=True)),
         "The row [-1000, 0, 1] gives nan: you subtract each row's MINIMUM, so exp(1 + 1000) "
         "overflows. Subtract the row's maximum instead; then the largest exponent is "
         "exp(0) = 1 and nothing overflows."),
        (_shifted_softmax(large, large.mean(axis=1, keepdims=True)),
         "The row [-1000, 1000, 0] gives nan: you subtract each row's MEAN (or median; 0 "
         "for this row), so exp(1000) still overflows. Subtract the row's maximum: then no "
         "exponent is above 0."),
    ]  # fmt: skip
    reject_known_mistakes(values, shifted)
    broken = [
        row for row, value in zip(large, values, strict=True)
        if not np.all(np.isfinite(value)) or np.allclose(value, 0.0)
    ]  # fmt: skip
    if broken:
        listed = " and ".join(str(row.astype(int).tolist()) for row in broken)
        raise CheckFailed(
            f"For X =\n{large.astype(int)}\nyour softmax gives\n{rounded(values)}\nThe "
            f"row{'s' if len(broken) > 1 else ''} {listed} "
            f"break{'' if len(broken) > 1 else 's'}. Subtract each row's maximum, "
            "X.max(axis=1, keepdims=True), before np.exp: no exponent is then above 0, and "
            "each row keeps an entry exp(0) = 1."
        )
    if not agrees(values, _att_softmax(large)):
        raise CheckFailed(
            f"For X =\n{large.astype(int)}\nthe {largest_difference(values, _att_softmax(large))}"
        )
    student.passed("softmax works row by row and stays finite for scores around +-1000.")


@feedback_check
def check_attention(attention: Callable[..., Any]) -> None:
    """Check ``attention(Q, K, V)`` -> ``(Z, attention_weights)``."""
    rng = np.random.default_rng(12)
    # 4 tokens, d_k = 3, d_v = 2: every intermediate has a different shape, and the
    # scores are large enough for a wrong scaling to show.
    n, d_k, d_v = 4, 3, 2
    Q, K = pristine(1.5 * rng.normal(size=(n, d_k))), pristine(1.5 * rng.normal(size=(n, d_k)))
    V = pristine(rng.normal(size=(n, d_v)))
    expected_Z, expected_weights = _att_attention(Q, K, V)
    student = Student(attention, "Q K V", _ATTENTION_SHAPES)
    result = student(Q, K, V)
    Z, weights = _matrices(attention, result, "Z, attention_weights")
    if Z.shape == (n, n) and weights.shape == (n, d_v):
        raise CheckFailed("Return the pair in the order (Z, attention_weights), not the reverse.")
    as_array("attention_weights", weights, attention, (n, n), _ATTENTION_SHAPES, finite=True)
    as_array("Z", Z, attention, (n, d_v), _ATTENTION_SHAPES, finite=True)
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
        (_att_softmax(scores * np.sqrt(d_k)),
         "You multiply the scores by sqrt(d_k); divide by it: Q @ K.T / np.sqrt(d_k)."),
    ]  # fmt: skip
    reject_known_mistakes(weights, wrong)
    if not agrees(weights, expected_weights):
        raise CheckFailed(
            "attention_weights should be softmax(Q @ K.T / sqrt(d_k)), softmax by rows; on "
            f"random Q, K, V (4 tokens, d_k = 3) the "
            f"{largest_difference(weights, expected_weights)}"
        )
    if close(Z, expected_weights.T @ V):
        raise CheckFailed("Z should be attention_weights @ V, not attention_weights.T @ V.")
    if not agrees(Z, expected_Z):
        raise CheckFailed(
            "The weights are right but Z is not: Z = attention_weights @ V. The "
            f"{largest_difference(Z, expected_Z)}"
        )
    result = student(_ATT_Q, _ATT_K, _ATT_V)
    Z, weights = _matrices(attention, result, "Z, attention_weights")
    _att_compare_references((("Z", Z, _ATT_Z), ("attention_weights", weights, _ATT_WEIGHTS)))
    student.passed(
        "attention: Z and the attention weights agree with the reference on random inputs "
        "and match the uuml reference values for 'the quick brown' (first head)."
    )


@feedback_check
def check_multi_head(multi_head_self_attention: Callable[..., Any]) -> None:
    """Check ``multi_head_self_attention(X, Wq, Wk, Wv, W0)`` -> (n_tokens, d_out)."""
    function = multi_head_self_attention
    rng = np.random.default_rng(13)
    # 6 tokens, d_model 5, d_head 2, 3 heads, d_out 4: distinct sizes expose mix-ups.
    n, d_model, d_head, n_heads, d_out = 6, 5, 2, 3, 4
    X = pristine(rng.normal(size=(n, d_model)))
    Wq, Wk, Wv = (pristine(1.5 * rng.normal(size=(d_model, d_head, n_heads))) for _ in range(3))
    W0 = pristine(rng.normal(size=(n_heads * d_head, d_out)))
    heads = _att_heads(X, Wq, Wk, Wv)
    student = Student(function, "X Wq Wk Wv W0", _MULTI_HEAD_SHAPES)
    result = student(X, Wq, Wk, Wv, W0)
    one_array = f"Return only the layer's output, of shape (n_tokens, d_out) = ({n}, {d_out})."
    actual = as_array("the result", result, function, shape_hint=one_array)
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
    as_array("the result", actual, function, (n, d_out), _MULTI_HEAD_SHAPES, finite=True)
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
    reject_known_mistakes(actual, wrong)
    expected = np.concatenate(heads, axis=1) @ W0
    if not agrees(actual, expected):
        raise CheckFailed(
            "Wrong on a random example (6 tokens, 3 heads of width 2). Compute each head with "
            "qkv and attention, concatenate the Z's in head order, multiply by W0. The "
            f"{largest_difference(actual, expected)}"
        )
    example = _att_example()
    weights = (example.Wq, example.Wk, example.Wv, example.W0)
    first = as_array(
        "the result",
        student(example.embeddings[:3], *weights),
        function,
        shape_hint=one_array,
    )
    _att_compare_references([("The output", first, _ATT_MULTI_HEAD)], "all four heads")
    everything = as_array(
        "the result", student(example.embeddings, *weights), function, shape_hint=one_array
    )
    reference = _att_multi_head(example.embeddings, *weights)
    if not agrees(everything, reference):
        raise CheckFailed(
            "Right for three tokens but wrong for all nine: the "
            f"{largest_difference(everything, reference)}"
            if everything.shape == reference.shape
            else f"For all nine tokens the result has shape {everything.shape}, expected "
            f"{reference.shape}."
        )
    student.passed(
        "multi_head_self_attention agrees with the reference on random inputs and all nine "
        "tokens, and matches the uuml reference values for 'the quick brown'."
    )
