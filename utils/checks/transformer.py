"""Checks for chapter 5: position embeddings, masked attention, an encoder block's size.

Every student function is called on fresh copies of read-only references, so that a
solution that works in place is judged on its result alone.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from utils.checks._core import (
    CheckFailed,
    Student,
    agrees,
    as_array,
    as_count,
    as_sequence,
    call_without_keras,
    close,
    expect_value_error,
    feedback_check,
    largest_difference,
    passed,
    pristine,
    reject_known_mistakes,
    rounded,
    timed,
)

_MASK_SHAPES = (
    "scores and mask are both (n_queries, n_keys); the result has the same shape, with "
    "each row a distribution over the keys that row's query may attend to."
)
_ATTENTION_SHAPES = (
    "Q is (n_queries, d_k), K is (n_keys, d_k), V is (n_keys, d_v) and mask is "
    "(n_queries, n_keys): Z is (n_queries, d_v), the weights (n_queries, n_keys)."
)


def reference_masked_softmax(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The masked row-wise softmax the exercises ask for.

    scores, mask: (n_queries, n_keys); mask True where the query may attend to the key.
    Returns (n_queries, n_keys): 0 where the mask is False; a row with no True is all 0.
    """
    scores = np.asarray(scores, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    # The maximum over the allowed keys only: a masked score must not set the shift.
    shift = np.where(mask, scores, -np.inf).max(axis=-1, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0.0)
    exponentials = np.where(mask, np.exp(np.where(mask, scores - shift, 0.0)), 0.0)
    totals = exponentials.sum(axis=-1, keepdims=True)
    return np.divide(exponentials, totals, out=np.zeros_like(exponentials), where=totals > 0)


def reference_masked_attention(
    Q: np.ndarray, K: np.ndarray, V: np.ndarray, mask: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention with a mask: (Z (n_queries, d_v), weights (n_q, n_k))."""
    Q, K, V = (np.asarray(M, dtype=float) for M in (Q, K, V))
    if mask is None:
        mask = np.ones((Q.shape[0], K.shape[0]), dtype=bool)
    weights = reference_masked_softmax(Q @ K.T / np.sqrt(K.shape[1]), mask)
    return weights @ V, weights


def padding_mask(n_queries: int, n_keys: int, n_padding: int) -> np.ndarray:
    """The self-attention mask of a sequence whose first n_padding tokens are padding.

    Returns (n_queries, n_keys) bool: True where both the query and the key are real tokens
    (Keras's automatic mask from ``Embedding(mask_zero=True)``; padding is at the front,
    as ``load_imdb`` pads).
    """
    real_queries = np.arange(n_queries) >= n_padding
    real_keys = np.arange(n_keys) >= n_padding
    return real_queries[:, None] & real_keys[None, :]


def _plain_softmax(scores: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def _softmax_mistakes(scores: np.ndarray, mask: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """(result of a typical mistake, what to tell the student) for the masked softmax."""
    plain = _plain_softmax(scores)
    zeroed = np.where(mask, plain, 0.0)
    empty = ~mask.any(axis=-1, keepdims=True)
    uniform_empty = np.where(empty, 1.0 / mask.shape[-1], reference_masked_softmax(scores, mask))
    right = reference_masked_softmax(scores, mask)
    mistakes = [
        (plain, "Your weights ignore the mask: the masked keys still get weight. Set their "
                "scores to -inf (or a very large negative number) BEFORE the softmax."),
        (zeroed, "You set the masked weights to 0 AFTER the softmax, so the remaining weights "
                 "of a row no longer sum to 1. Mask the scores before the softmax instead."),
        (reference_masked_softmax(scores, ~mask),
         "Your mask works the wrong way round: True means the query MAY attend to the key "
         "(as in Keras's attention_mask), so the keys where the mask is False get weight 0."),
        (_plain_softmax(scores * mask),
         "You multiply the scores by the mask: a masked score becomes 0, and exp(0) = 1 still "
         "gives that key weight. Set the masked scores to -inf (np.where(mask, scores, "
         "-np.inf)) before the softmax."),
        (np.where(mask, _plain_softmax(scores * mask), 0.0),
         "You multiply the scores by the mask and zero the masked weights afterwards: the "
         "masked keys' exp(0) = 1 still sits in each row's sum, so the rows do not sum to 1. "
         "Set the masked scores to -inf before the softmax."),
        (reference_masked_softmax(scores.T, mask.T).T,
         "Your softmax runs down the COLUMNS: each row (one query, all keys) must sum to 1 "
         "over its allowed keys. Take the max and the sum over axis=-1 (keepdims=True)."),
        (uniform_empty,
         "A row whose mask is all False (a query that may attend to nothing) must be all "
         "zeros, as Keras makes it; yours spreads the weight evenly over the masked keys."),
    ]  # fmt: skip
    # Only mistakes that these scores and this mask tell apart from the right answer.
    return [(wrong, message) for wrong, message in mistakes if not close(wrong, right)]


def _difference(label: str, actual: np.ndarray, expected: np.ndarray) -> str:
    """`label`'s largest difference, or its shape when the shapes differ."""
    if np.shape(actual) != np.shape(expected):
        return f"{label} has shape {np.shape(actual)}, expected {np.shape(expected)}."
    return f"In {label} the {largest_difference(actual, expected)}"


@feedback_check
def check_masked_softmax(masked_softmax: Callable[..., Any]) -> None:
    """Check ``masked_softmax(scores, mask)``: row-wise, masked, stable, all-masked rows 0."""
    rng = np.random.default_rng(51)
    student = Student(masked_softmax, "scores mask", _MASK_SHAPES)
    # 4 queries, 5 keys; row 0 may see every key, row 2 one key, the mask is not symmetric.
    scores = pristine(2.0 * rng.normal(size=(4, 5)))
    mask = np.array(
        [[1, 1, 1, 1, 1], [0, 1, 1, 0, 1], [0, 0, 0, 0, 1], [1, 0, 1, 0, 0]], dtype=bool
    )
    mask.setflags(write=False)
    actual = as_array(
        "masked_softmax(scores, mask)", student(scores, mask), masked_softmax, scores.shape,
        _MASK_SHAPES,
    )  # fmt: skip
    reject_known_mistakes(actual, _softmax_mistakes(scores, mask))
    expected = reference_masked_softmax(scores, mask)
    if not agrees(actual, expected):
        raise CheckFailed(
            "masked_softmax(scores, mask)[i, j] should be exp(scores[i, j]) / (sum of "
            "exp(scores[i, l]) over the keys l with mask[i, l] True), and 0 where mask[i, j] is "
            f"False. For scores =\n{rounded(scores)}\nand mask =\n{mask.astype(int)}\nthe "
            f"{largest_difference(actual, expected)}"
        )
    # A row that may attend to nothing (the query of a padding token), in a non-square mask.
    empty = np.array([[0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 1, 1], [0, 0, 0, 0, 0, 0]], dtype=bool)
    wide = pristine(rng.normal(size=(3, 6)))
    actual = as_array(
        "masked_softmax(scores, mask)", student(wide, empty), masked_softmax, (3, 6),
        _MASK_SHAPES,
    )  # fmt: skip
    if not np.all(np.isfinite(actual)):
        raise CheckFailed(
            "A row whose mask is all False (the query of a padding token) gives NaN: "
            f"with mask =\n{empty.astype(int)}\nyou got\n{rounded(actual)}\nsuch a row "
            "attends to nothing: return a row of zeros (as Keras does), e.g. by dividing only "
            "where the row's sum is positive."
        )
    reject_known_mistakes(actual, _softmax_mistakes(wide, empty))
    expected = reference_masked_softmax(wide, empty)
    if not agrees(actual, expected):
        raise CheckFailed(
            f"With mask =\n{empty.astype(int)}\nrows 0 and 2 (no allowed key) must be all "
            "zeros and row 1 a softmax over its four allowed keys; the "
            f"{largest_difference(actual, expected)}"
        )
    # Stability: huge allowed scores, and a masked score far above the allowed ones.
    # The last row (mean 0 over its allowed keys) overflows unless the shift is the maximum.
    large = pristine(
        [[1000.0, 1001.0, 1002.0], [5000.0, 1.0, 2.0], [-1000.0, -1001.0, 0.0],
         [-1000.0, 1000.0, 0.0]]
    )  # fmt: skip
    large_mask = np.array([[1, 1, 1], [0, 1, 1], [1, 1, 0], [1, 1, 1]], dtype=bool)
    actual = as_array(
        "masked_softmax(scores, mask)", student(large, large_mask), masked_softmax, (4, 3),
        _MASK_SHAPES,
    )  # fmt: skip
    expected = reference_masked_softmax(large, large_mask)
    if not np.all(np.isfinite(actual[3])) and np.all(np.isfinite(actual[:3])):
        raise CheckFailed(
            f"The row [-1000, 1000, 0], every key allowed, gives {actual[3]}: exp(1000) "
            "overflows, so the shift is not the row's maximum (the mean or median of this row "
            "is 0). Subtract each row's maximum over its allowed keys."
        )
    if not agrees(actual, expected):
        raise CheckFailed(
            f"For scores =\n{large.astype(int)}\nand mask =\n{large_mask.astype(int)}\nthe "
            f"{largest_difference(actual, expected)} Subtract each row's maximum over its "
            "ALLOWED keys (a masked score of 5000 must not set the shift, or every allowed exp "
            "underflows to 0)."
        )
    expect_value_error(
        masked_softmax, (scores, mask[:, :3]), "a mask of shape (4, 3) for scores (4, 5)",
        [["mask"], ["(4, 3)", "(4,3)"]],
        "Keep the given shape check at the top: mask.shape must equal scores.shape.",
    )  # fmt: skip
    student.passed(
        "masked_softmax: masked keys get weight 0, each row sums to 1 over its allowed keys, "
        "rows with no allowed key are 0, and large scores do not overflow."
    )


def _attention_pair(
    student: Student, function: Callable[..., Any], args: tuple, n_q: int, n_k: int, d_v: int
) -> tuple[np.ndarray, np.ndarray]:
    """The student's (Z, attention_weights) for ``args``, shapes checked."""
    result = as_sequence(student(*args), function, 2, "(Z, attention_weights)")
    weights = as_array("attention_weights", result[1], function, None, _ATTENTION_SHAPES, part=True)
    Z = as_array("Z", result[0], function, None, _ATTENTION_SHAPES, part=True)
    if weights.shape == (n_q, d_v) and Z.shape == (n_q, n_k) and (n_k != d_v):
        raise CheckFailed("Return the pair in the order (Z, attention_weights), not the reverse.")
    as_array("attention_weights", weights, function, (n_q, n_k), _ATTENTION_SHAPES)
    as_array("Z", Z, function, (n_q, d_v), _ATTENTION_SHAPES)
    return Z, weights


@feedback_check
def check_masked_attention(masked_attention: Callable[..., Any]) -> None:
    """Check ``masked_attention(Q, K, V, mask)`` -> (Z, weights), and mask=None.

    Masks of every shape: square and not symmetric (causal, with padding), non-square
    (fewer queries than keys) with a row that may attend to nothing, and mask=None for as
    many and for fewer queries than keys.
    """
    rng = np.random.default_rng(52)
    student = Student(masked_attention, "Q K V mask", _ATTENTION_SHAPES)
    # Square: 6 tokens, the first 2 padding, and each query sees only the keys up to itself
    # (a causal mask), so that mask and mask.T differ. d_k = 3, d_v = 2.
    n, d_k, d_v = 6, 3, 2
    Q, K = pristine(1.5 * rng.normal(size=(n, d_k))), pristine(1.5 * rng.normal(size=(n, d_k)))
    V = pristine(rng.normal(size=(n, d_v)))
    mask = padding_mask(n, n, 2) & np.tri(n, dtype=bool)
    mask.setflags(write=False)
    Z, weights = _attention_pair(student, masked_attention, (Q, K, V, mask), n, n, d_v)
    expected_Z, expected_weights = reference_masked_attention(Q, K, V, mask)
    scores = Q @ K.T
    reject_known_mistakes(
        weights,
        [
            (reference_masked_softmax(scores, mask),
             "Your weights are not scaled: divide the scores Q K^T by sqrt(d_k) before the "
             "masked softmax, as in chapter 1."),
            (reference_masked_softmax(scores / np.sqrt(d_v), mask),
             "You scale by sqrt(d_v), the width of V; d_k is the width of Q and K "
             "(K.shape[1])."),
            (reference_masked_softmax(scores / d_k, mask),
             "You divide the scores by d_k; divide by its square root, np.sqrt(d_k)."),
            (_plain_softmax(scores / np.sqrt(d_k)),
             "Your weights ignore the mask: use your masked_softmax on the scaled scores."),
            (reference_masked_softmax(scores / np.sqrt(d_k), mask.T),
             "You use the mask transposed: mask[i, j] says whether query i (row i of Q) may "
             "attend to key j, the same layout as the scores Q @ K.T. Pass mask itself."),
            (reference_masked_softmax(K @ Q.T / np.sqrt(d_k), mask),
             "The score matrix is transposed: use Q @ K.T, so that row i holds query i's "
             "scores against every key."),
        ],
    )  # fmt: skip
    if not agrees(weights, expected_weights):
        raise CheckFailed(
            "attention_weights should be masked_softmax(Q @ K.T / sqrt(d_k), mask); for 6 "
            "tokens, 2 of them padding, each seeing only the keys up to itself, the "
            f"{largest_difference(weights, expected_weights)}"
        )
    if close(Z, expected_weights.T @ V):
        raise CheckFailed("Z should be attention_weights @ V, not attention_weights.T @ V.")
    if not agrees(Z, expected_Z):
        raise CheckFailed(
            "Your weights are right but Z is not: Z = attention_weights @ V. The "
            f"{largest_difference(Z, expected_Z)}"
        )
    # Non-square: 3 queries, 5 keys; query 1 may attend to nothing, d_k = 4, d_v = 2.
    n_q, n_k, d_k2 = 3, 5, 4
    Q2 = pristine(rng.normal(size=(n_q, d_k2)))
    K2 = pristine(rng.normal(size=(n_k, d_k2)))
    V2 = pristine(rng.normal(size=(n_k, d_v)))
    mask2 = np.array([[1, 0, 1, 1, 0], [0, 0, 0, 0, 0], [0, 1, 1, 1, 1]], dtype=bool)
    mask2.setflags(write=False)
    Z2, weights2 = _attention_pair(student, masked_attention, (Q2, K2, V2, mask2), n_q, n_k, d_v)
    expected_Z2, expected_weights2 = reference_masked_attention(Q2, K2, V2, mask2)
    if not (agrees(weights2, expected_weights2) and agrees(Z2, expected_Z2)):
        raise CheckFailed(
            "Right for as many queries as keys, but wrong for 3 queries and 5 keys (query 1 "
            "may attend to nothing, so its row of weights and of Z is 0). "
            + (
                _difference("attention_weights", weights2, expected_weights2)
                if not agrees(weights2, expected_weights2)
                else _difference("Z", Z2, expected_Z2)
            )
        )
    # mask=None: every query attends to every key, for a square and a non-square case.
    Z3, weights3 = _attention_pair(student, masked_attention, (Q, K, V, None), n, n, d_v)
    plain_Z, plain_weights = reference_masked_attention(Q, K, V)
    if not (agrees(weights3, plain_weights) and agrees(Z3, plain_Z)):
        raise CheckFailed(
            "With mask=None every query attends to every key, as in chapter 1's attention; "
            "treat None as a mask of all True (np.ones((n_queries, n_keys), dtype=bool)). "
            + _difference("attention_weights", weights3, plain_weights)
        )
    try:
        Z4, weights4 = _attention_pair(student, masked_attention, (Q2, K2, V2, None), n_q, n_k, d_v)
    except CheckFailed as failure:
        if isinstance(failure.__cause__, (ValueError, IndexError)):
            raise CheckFailed(
                f"With mask=None and {n_q} queries but {n_k} keys, `{student.name}` raised "
                f"{type(failure.__cause__).__name__} ({failure.__cause__}). The default mask "
                "has one row per query and one column per KEY: np.ones((Q.shape[0], "
                "K.shape[0]), dtype=bool)."
            ) from None
        raise
    plain_Z4, plain_weights4 = reference_masked_attention(Q2, K2, V2)
    if not (agrees(weights4, plain_weights4) and agrees(Z4, plain_Z4)):
        raise CheckFailed(
            f"With mask=None, {n_q} queries and {n_k} keys, every query attends to every key: "
            "the default mask is np.ones((Q.shape[0], K.shape[0]), dtype=bool). "
            + _difference("attention_weights", weights4, plain_weights4)
        )
    student.passed(
        "masked_attention agrees with the reference for square, causal and non-square masks: "
        "masked keys get weight 0, queries that may attend to nothing get 0, and mask=None is "
        "chapter 1's attention."
    )


def _block_mistakes(d: int, h: int, k: int, f: int) -> list[tuple[int, str]]:
    """(count with a typical mistake, what to tell the student) for an encoder block."""
    from utils.params import encoder_block_params, feed_forward_params, multi_head_attention_params

    right = encoder_block_params(d, h, k, f)
    return [
        (right - (3 * h * k + d), "you forgot the attention layer's biases: one per query, key "
         "and value unit (3 x num_heads x key_dim) and one per output (d_model)."),
        (right - 4 * d, "you forgot the two layer normalisations: each has a scale and an "
         "offset per feature, 2 x d_model."),
        (right - 2 * d, "each layer normalisation has TWO vectors of d_model numbers (the scale "
         "gamma and the offset beta), and the block has two of them."),
        (right - (f + d), "you forgot the feed-forward network's biases (d_ff and d_model)."),
        (right - feed_forward_params(d, f), "you forgot the feed-forward network: Dense(d_ff) "
         "then Dense(d_model), each with a bias."),
        (right - multi_head_attention_params(d, h, k), "you forgot the attention layer itself."),
        (right - (h * k * d + d), "you forgot the output projection W^O (num_heads x key_dim "
         "x d_model) and its bias."),
        (right - 2 * h * k * d + 2 * d * k, "the projections map d_model to num_heads x key_dim "
         "numbers (key_dim per head), not to key_dim in total."),
    ]  # fmt: skip


@feedback_check
def check_encoder_block_count(encoder_block_count: Callable[..., Any]) -> None:
    """Check ``encoder_block_count(d_model, num_heads, key_dim, d_ff)`` against the formula.

    The block: MultiHeadAttention(num_heads, key_dim) with biases (output width d_model),
    two LayerNormalization layers and the network Dense(d_ff, relu) -> Dense(d_model).
    ``utils.params.encoder_block_params`` gives the reference; tests compare it with Keras.
    """
    from utils.params import encoder_block_params

    name = getattr(encoder_block_count, "__name__", repr(encoder_block_count))
    sizes = [(32, 2, 16, 32), (64, 4, 16, 128), (5, 4, 3, 7), (16, 1, 16, 64), (8, 3, 5, 1)]
    rule = (
        "the exercise asks for the count from the four sizes alone, with multiplication and "
        "addition (no Keras)."
    )
    answers = [
        as_count(f"{name}{size}", call_without_keras(encoder_block_count, *size, rule=rule))
        for size in sizes
    ]
    wrong = [
        (size, a)
        for size, a in zip(sizes, answers, strict=True)
        if a != encoder_block_params(*size)
    ]
    if wrong:
        # A mistake is named only if it explains the answers for every size: one size alone
        # can make two mistakes give the same count.
        hint = next(
            (
                message
                for index, (_, message) in enumerate(_block_mistakes(*sizes[0]))
                if all(
                    _block_mistakes(*size)[index][0] == a
                    for size, a in zip(sizes, answers, strict=True)
                )
            ),
            "count W^Q, W^K, W^V (d_model x num_heads x key_dim each) with their biases, W^O "
            "(num_heads x key_dim x d_model) with a bias of d_model, 2 x d_model per layer "
            "normalisation, and the two Dense layers of the feed-forward network.",
        )
        (d, h, k, f), answer = wrong[0]
        # The message names the mistake, never the right count: that is the exercise's answer.
        raise CheckFailed(
            f"{name}({d}, {h}, {k}, {f}) returned {answer:,}, which is not the number of "
            f"parameters of an encoder block with d_model={d}, {h} heads of width {k} and "
            f"d_ff={f}: {hint}"
        )
    passed(f"{name} agrees with the encoder block's parameter count for {len(sizes)} sizes.")


# ------------------------------------------------------------------ PositionEmbedding

# The layer is tried as PositionEmbedding(6, 11, 4): 6 positions, 11 words, width 4.
_PE_LENGTH, _PE_WORDS, _PE_WIDTH = 6, 11, 4
# Eager probes, (batch, length) word indices: one review of 4 tokens (shorter than 6, batch 1,
# all indices below 6 so that positions mistaken for words still find a row), then a batch of
# 2 at the full length, then a batch of 3 reviews of 5 tokens.
_PE_PROBES = (
    np.array([[0, 3, 5, 2]]),
    np.array([[0, 0, 3, 5, 3, 7], [4, 1, 2, 9, 10, 5]]),
    np.array([[0, 2, 4, 6, 8], [1, 3, 5, 7, 9], [0, 0, 0, 10, 1]]),
)
_KERAS_OPS = (
    "use keras.ops on the input: keras.ops.shape(word_indices)[-1] for the length (the "
    "static word_indices.shape[-1] is None while Keras builds a model for reviews of any "
    "length), keras.ops.arange for the positions, and no NumPy."
)


def _reference_embedding(tokens: np.ndarray, table: np.ndarray, positions: np.ndarray):
    return table[tokens] + positions[np.arange(tokens.shape[-1])]


def _first_line(error: BaseException) -> str:
    """An error's message as one short line: Keras's wrapping ("Exception encountered when
    calling ...", "Arguments received ...") and TensorFlow's node names left out."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    text = re.sub(r"\{\{[^}]*\}\}", "", text)
    # Keras's note on a call it could not run symbolically ends with the error it met.
    inner = re.search(r"(?:Exception|Error) encountered:\s*\n*\s*(.+)", text)
    if inner:
        return f"{type(error).__name__}: {inner.group(1).strip(chr(39) + ' ')[:220]}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    useful = [
        line
        for line in lines
        if not line.startswith(("Exception encountered", "Arguments received", "\u2022"))
    ]
    line = (useful or lines or [""])[0].strip("'\" ")
    return f"{type(error).__name__}: {line[:220]}"


@contextmanager
def _quiet() -> Iterator[None]:
    """Keep Keras's warnings (a layer that fails to build) and TensorFlow's retracing notes
    out of the check's output: the check's own message says what went wrong."""
    import logging

    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _new_layer(layer_class: type, name: str) -> Any:
    """``layer_class(6, 11, 4)`` with its two Embedding sub-layers."""
    import keras

    try:
        layer = layer_class(_PE_LENGTH, _PE_WORDS, _PE_WIDTH)
    except NotImplementedError:
        raise CheckFailed(f"`{name}` is not implemented yet.") from None
    except Exception as error:
        raise CheckFailed(
            f"`{name}({_PE_LENGTH}, {_PE_WORDS}, {_PE_WIDTH})` raised {_first_line(error)}. "
            "Keep the given __init__(self, sequence_length, vocabulary_size, d_model, **kwargs)."
        ) from error
    if not isinstance(layer, keras.Layer):
        raise CheckFailed(
            f"`{name}` is not a Keras layer: it should subclass keras.layers.Layer, as given."
        )
    for part in ("token_embedding", "position_embedding"):
        if not isinstance(getattr(layer, part, None), keras.layers.Embedding):
            raise CheckFailed(
                f"`{name}` has no Embedding layer `{part}`; keep the two Embedding layers that "
                "__init__ creates."
            )
    return layer


def _set_tables(layer: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Give the sub-layers known random tables; return (token table, position table)."""
    for part in (layer.token_embedding, layer.position_embedding):
        if not part.built:  # a sub-layer that `call` has not used yet
            part.build()
    rng = np.random.default_rng(53)
    table = rng.normal(size=(_PE_WORDS, _PE_WIDTH)).astype("float32")
    positions = rng.normal(size=(_PE_LENGTH, _PE_WIDTH)).astype("float32")
    try:
        layer.token_embedding.set_weights([table])
        layer.position_embedding.set_weights([positions])
    except ValueError as error:
        raise CheckFailed(
            f"The sub-layers of `{name}` have the wrong sizes ({error}): token_embedding is "
            "Embedding(vocabulary_size, d_model), position_embedding is "
            "Embedding(sequence_length, d_model)."
        ) from None
    return table, positions


@contextmanager
def _lookups(layer: Any) -> Iterator[dict[str, list[np.ndarray]]]:
    """Record the indices that the layer looks up in each table while the block runs, even
    when the lookup then fails (an index beyond the table)."""
    import keras

    seen: dict[str, list[np.ndarray]] = {"token_embedding": [], "position_embedding": []}
    for part, record in seen.items():
        sub_layer = getattr(layer, part)
        original = sub_layer.call

        def spy(inputs: Any, *args: Any, _record=record, _original=original, **kwargs: Any) -> Any:
            _record.append(np.asarray(keras.ops.convert_to_numpy(inputs)))
            return _original(inputs, *args, **kwargs)

        sub_layer.call = spy  # an instance attribute: Keras calls self.call
    try:
        yield seen
    finally:
        for part in seen:
            del getattr(layer, part).call


def _position_mistake(positions: np.ndarray, words: np.ndarray) -> str | None:
    """What is wrong with the positions looked up for ``words`` (batch, length), if anything."""
    batch, length = words.shape
    flat = positions.reshape(-1)
    ones = np.arange(length)
    if positions.shape[-1:] == (length,) and np.array_equal(
        np.broadcast_to(positions, (batch, length)) if positions.ndim <= 2 else positions,
        np.broadcast_to(ones, (batch, length)),
    ):
        return None
    if positions.shape == words.shape and (
        np.array_equal(positions, words) or np.array_equal(positions, words % _PE_LENGTH)
    ):
        return (
            "The positions are taken from the word indices: position_embedding must look up "
            "the positions 0, 1, ..., length - 1 (keras.ops.arange(length)), whatever the words."
        )
    if np.array_equal(flat, np.arange(1, length + 1)):
        return (
            "The positions start at 1: the first token has position 0, so the positions are "
            "keras.ops.arange(length), 0 to length - 1 (with 1 to length the last position "
            "has no row in a table of sequence_length rows)."
        )
    if length != batch and np.array_equal(flat, np.arange(batch)):
        return (
            "The positions run along the batch axis: keras.ops.shape(word_indices)[0] is the "
            "number of reviews in the batch; the length is the LAST axis, "
            "keras.ops.shape(word_indices)[-1]."
        )
    if length != _PE_LENGTH and (
        np.array_equal(flat, np.arange(_PE_LENGTH))
        or np.array_equal(flat, np.arange(_PE_LENGTH - length, _PE_LENGTH))
    ):
        return (
            f"For an input of {length} tokens, shorter than sequence_length = {_PE_LENGTH}, the "
            f"positions must be 0..{length - 1}; yours come from sequence_length "
            f"({flat.tolist()}). Take the length from the input, "
            "keras.ops.shape(word_indices)[-1]."
        )
    if np.array_equal(flat, ones[::-1]):
        return (
            "The positions run backwards (length - 1 down to 0): the first token has position "
            "0, keras.ops.arange(length)."
        )
    return (
        f"For an input of {batch} review(s) of {length} tokens, position_embedding looked up "
        f"{flat.tolist()[:12]}; it should look up the positions 0..{length - 1}, "
        "keras.ops.arange(keras.ops.shape(word_indices)[-1])."
    )


def _output_mistake(
    output: np.ndarray, words: np.ndarray, table: np.ndarray, positions: np.ndarray
) -> str | None:
    """What is wrong with an eager output of the right positions, if anything."""
    length = words.shape[-1]
    expected = _reference_embedding(words, table, positions)
    if output.shape == expected.shape and close(output, expected, 1e-5):
        return None
    if output.shape[:-1] == expected.shape[:-1] and output.shape[-1] == 2 * _PE_WIDTH:
        return (
            "The output has 2 x d_model numbers per token: you concatenate the token and the "
            "position embeddings; ADD them, so that the output keeps d_model numbers per token."
        )
    padding = (words != 0)[..., None]
    mistakes = [
        (table[words], "The output is the token embedding alone: add the embedding of each "
                       "position 0, 1, ..., length - 1."),
        (np.broadcast_to(positions[np.arange(length)], expected.shape),
         "The output is the position embedding alone: add the token embedding of each word."),
        (table[words] * np.sqrt(_PE_WIDTH) + positions[np.arange(length)],
         "You scale the token embeddings by sqrt(d_model) (as Vaswani et al. do); this layer "
         "adds them unscaled: token_embedding(words) + position_embedding(positions)."),
        (expected * padding,
         "The output is zero at the padding: call returns every token's embedding, padding "
         "included; hiding the padding is the mask's job (compute_mask)."),
        (table[words] * positions[np.arange(length)],
         "You multiply the token and position embeddings; ADD them."),
    ]  # fmt: skip
    for candidate, message in mistakes:
        if close(output, candidate, 1e-5):
            return message
    if output.shape != expected.shape:
        return (
            f"For word indices of shape {words.shape} the output has shape {output.shape}; it "
            f"should be (batch, length, d_model) = {expected.shape}."
        )
    return (
        "The output should be token_embedding(words) + position_embedding(positions) with "
        f"positions 0..length-1; for word indices of shape {words.shape} the "
        f"{largest_difference(output, expected)}"
    )


def _diagnose(layer_class: type, name: str) -> str | None:
    """Run a fresh layer eagerly on the probes, its lookups recorded; the first mistake found
    (positions, then output), or None if every probe gives the right embeddings."""
    import keras

    layer = _new_layer(layer_class, name)
    table, positions = _set_tables(layer, name)
    for words in _PE_PROBES:
        failure = None
        with _lookups(layer) as seen:
            try:
                with timed(f"`{name}` on word indices of shape {words.shape}"):
                    output = layer(words)
            except NotImplementedError:
                raise CheckFailed(
                    f"`{name}` is not implemented yet: fill in `call` and `compute_mask`."
                ) from None
            except CheckFailed:
                raise
            except Exception as error:
                failure = error
        looked_up = seen["position_embedding"]
        if looked_up:
            found = [np.asarray(p) for p in looked_up]
            merged = found[0] if len(found) == 1 else np.concatenate([p.reshape(-1) for p in found])
            mistake = _position_mistake(merged, words)
            if mistake:
                return mistake
        if failure is not None:
            return (
                f"`{name}` fails on word indices of shape {words.shape} "
                f"({_first_line(failure)}). " + _KERAS_OPS
            )
        if not looked_up:
            values = np.asarray(keras.ops.convert_to_numpy(output))
            if values.shape == table[words].shape and close(values, table[words], 1e-5):
                return (
                    "The output is the token embedding alone: add the embedding of each "
                    "position 0, 1, ..., length - 1."
                )
            return (
                "call never uses self.position_embedding: look up the positions 0, 1, ..., "
                "length - 1 in it and add them to the token embeddings."
            )
        if not seen["token_embedding"]:
            return "call never uses self.token_embedding: look up the word indices in it."
        mistake = _output_mistake(
            np.asarray(keras.ops.convert_to_numpy(output)), words, table, positions
        )
        if mistake:
            return mistake
    return None


def _symbolic_model(layer: Any, layer_class: type, name: str) -> Any:
    """A functional model around the layer, for reviews of any length (length None)."""
    import keras

    words = keras.Input(shape=(None,), dtype="int32")
    try:
        layer.compute_mask(words)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not implemented yet: fill in `call` and `compute_mask`."
        ) from None
    except Exception as error:
        raise CheckFailed(
            f"compute_mask fails on a symbolic input ({_first_line(error)}). Keras calls it "
            "when it builds a model, with keras.Input placeholders that have a shape but no "
            "values, so NumPy cannot work there: return keras.ops.not_equal(word_indices, 0)."
        ) from None
    try:
        embedded = layer(words)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not implemented yet: fill in `call` and `compute_mask`."
        ) from None
    except Exception as error:
        mistake = _diagnose(layer_class, name)
        raise CheckFailed(
            mistake
            or f"`{name}` works on arrays but fails inside a model built with keras.Input("
            f"shape=(None,)), reviews of any length ({_first_line(error)}). Keras calls `call` "
            f"on placeholders that have a shape but no values: {_KERAS_OPS}"
        ) from None
    pooled = keras.layers.GlobalAveragePooling1D()(embedded)  # reads the mask
    return keras.Model(words, keras.layers.Dense(1, activation="sigmoid")(pooled))


def _step_function(model: Any) -> Callable[[np.ndarray, np.ndarray], Any]:
    """One training step (binary cross-entropy, SGD) of ``model``. On TensorFlow it is one
    graph for batches of any size and length, traced once, as strict as the graphs of
    ``model.fit`` and half the tracing time of two ``train_on_batch`` calls."""
    import keras

    if keras.backend.backend() != "tensorflow":
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
        return model.train_on_batch
    import tensorflow as tf

    optimizer = keras.optimizers.SGD(0.1)
    loss_function = keras.losses.BinaryCrossentropy()
    weights = model.trainable_variables
    optimizer.build(weights)

    @tf.function(
        input_signature=[tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None], tf.float32)]
    )
    def step(words: Any, labels: Any) -> Any:
        with tf.GradientTape() as tape:
            loss = loss_function(labels[:, None], model(words, training=True))
        gradients = tape.gradient(loss, weights)
        used = [(g, w) for g, w in zip(gradients, weights, strict=True) if g is not None]
        optimizer.apply([g for g, _ in used], [w for _, w in used])
        return loss

    return lambda words, labels: step(words.astype("int32"), labels)


def _train_step(model: Any, layer_class: type, name: str) -> np.ndarray:
    """One training step on a batch of 6-token reviews, one on 4-token reviews; the losses."""
    labels = np.array([0.0, 1.0], dtype="float32")
    losses: list[float] = []
    step = _step_function(model)
    for words in (_PE_PROBES[1], _PE_PROBES[1][:, 2:]):
        try:
            with timed(f"a training step of a model with `{name}` on {words.shape}"):
                loss = step(words, labels)
        except CheckFailed:
            raise
        except Exception as error:
            mistake = _diagnose(layer_class, name)
            raise CheckFailed(
                mistake
                or f"Training a model that uses `{name}` fails on reviews of {words.shape[1]} "
                f"tokens ({_first_line(error)}). During training Keras runs `call` as a "
                f"TensorFlow graph, where the input has no values: {_KERAS_OPS}"
            ) from None
        losses.append(float(np.asarray(loss, dtype=float).reshape(-1)[0]))
    return np.array(losses)


@feedback_check(keras=True)
def check_position_embedding(layer_class: type) -> None:
    """Check a ``PositionEmbedding(sequence_length, vocabulary_size, d_model)`` Keras layer.

    As Keras uses it first: inside a functional model whose input has no fixed length
    (``keras.Input(shape=(None,))``), trained for one step on reviews of 6 and of 4 tokens.
    Then eagerly, with known tables, while recording the indices each table looks up, so
    that each position mistake (from 1, along the batch axis, from sequence_length, from
    the words) gets its own message even when the lookup itself fails. The layer must have
    the sub-layers ``token_embedding`` (vocabulary_size x d_model) and
    ``position_embedding`` (sequence_length x d_model), return token + position embedding
    (batch, length, d_model) for word indices (batch, length), and a mask that is True
    for real tokens (index > 0).
    """
    import keras

    name = getattr(layer_class, "__name__", repr(layer_class))
    if not isinstance(layer_class, type):
        raise CheckFailed(
            f"The check needs your layer class itself (e.g. check_position_embedding"
            f"(PositionEmbedding)), got {type(layer_class).__name__}."
        )
    with _quiet():
        model = _symbolic_model(_new_layer(layer_class, name), layer_class, name)
        losses = _train_step(model, layer_class, name)
        mistake = _diagnose(layer_class, name)
    if mistake:
        raise CheckFailed(mistake)
    layer = _new_layer(layer_class, name)
    for words in _PE_PROBES:
        try:
            layer(words)
            mask = layer.compute_mask(words)
        except Exception as error:
            raise CheckFailed(
                f"compute_mask fails on word indices of shape {words.shape} "
                f"({_first_line(error)}): return keras.ops.not_equal(word_indices, 0)."
            ) from None
        if mask is None:
            raise CheckFailed(
                "compute_mask returned None: return True for real tokens and False for the "
                "padding index 0 (keras.ops.not_equal(word_indices, 0)), so that attention and "
                "pooling can ignore the padding."
            )
        mask = np.asarray(keras.ops.convert_to_numpy(mask))
        if mask.shape != words.shape or not np.array_equal(mask.astype(bool), words != 0):
            raise CheckFailed(
                f"compute_mask should be True exactly where the word index is not 0; for\n"
                f"{words}\nexpected\n{(words != 0).astype(int)}\ngot\n{mask.astype(int)}"
            )
    if not np.all(np.isfinite(losses)):
        raise CheckFailed(
            f"A training step of a model that uses `{name}` gives the loss {losses}, although "
            "the layer's embeddings and mask are right on their own: does the layer keep "
            "state between calls?"
        )
    passed(
        f"{name}: trained inside a model for reviews of any length, token + position "
        "embeddings for full and shorter inputs, and a mask that hides the padding."
    )
