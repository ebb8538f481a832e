"""Checks for chapter 5: position embeddings, masked attention, an encoder block's size.

Every student function is called on fresh copies of read-only references, so that a
solution that works in place is judged on its result alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils.checks._core import (
    CheckFailed,
    Student,
    as_array,
    as_count,
    as_sequence,
    close,
    expect_value_error,
    feedback_check,
    passed,
    pristine,
    reject_known_mistakes,
    rounded,
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


def _plain_softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _softmax_mistakes(scores: np.ndarray, mask: np.ndarray) -> list[tuple[np.ndarray, str]]:
    """(result of a typical mistake, what to tell the student) for the masked softmax."""
    plain = _plain_softmax(scores)
    zeroed = np.where(mask, plain, 0.0)
    return [
        (plain, "Your weights ignore the mask: the masked keys still get weight. Set their "
                "scores to -inf (or a very large negative number) BEFORE the softmax."),
        (zeroed, "You set the masked weights to 0 AFTER the softmax, so the remaining weights "
                 "of a row no longer sum to 1. Mask the scores before the softmax instead."),
        (reference_masked_softmax(scores, ~mask),
         "Your mask works the wrong way round: True means the query MAY attend to the key "
         "(as in Keras's attention_mask), so the keys where the mask is False get weight 0."),
    ]  # fmt: skip


@feedback_check
def check_masked_softmax(masked_softmax: Callable[..., Any]) -> None:
    """Check ``masked_softmax(scores, mask)``: row-wise, masked, stable, all-masked rows 0."""
    rng = np.random.default_rng(51)
    student = Student(masked_softmax, "scores mask", _MASK_SHAPES)
    scores = pristine(2.0 * rng.normal(size=(4, 5)))
    mask = np.array(
        [[1, 1, 1, 1, 1], [0, 1, 1, 0, 1], [0, 0, 0, 0, 1], [1, 0, 1, 0, 0]], dtype=bool
    )
    actual = as_array(
        "masked_softmax(scores, mask)", student(scores, mask), masked_softmax, scores.shape,
        _MASK_SHAPES,
    )  # fmt: skip
    reject_known_mistakes(actual, _softmax_mistakes(scores, mask))
    expected = reference_masked_softmax(scores, mask)
    if not close(actual, expected, atol=1e-9):
        raise CheckFailed(
            "masked_softmax(scores, mask)[i, j] should be exp(scores[i, j]) / (sum of "
            "exp(scores[i, l]) over the keys l with mask[i, l] True), and 0 where mask[i, j] is "
            f"False. For scores =\n{rounded(scores)}\nand mask =\n{mask.astype(int)}\nexpected\n"
            f"{rounded(expected)}\ngot\n{rounded(actual)}"
        )
    # Padding queries in self-attention: a row that may attend to nothing.
    empty = padding_mask(4, 4, 2)
    square = pristine(rng.normal(size=(4, 4)))
    actual = as_array(
        "masked_softmax(scores, mask)", student(square, empty), masked_softmax, (4, 4),
        _MASK_SHAPES,
    )  # fmt: skip
    if not np.all(np.isfinite(actual)):
        raise CheckFailed(
            "A row whose mask is all False (the query of a padding token) gives NaN: "
            f"with mask =\n{empty.astype(int)}\nyou got\n{rounded(actual)}\nsuch a row "
            "attends to nothing: return a row of zeros (as Keras does), e.g. by dividing only "
            "where the row's sum is positive."
        )
    if not close(actual, reference_masked_softmax(square, empty), atol=1e-9):
        raise CheckFailed(
            f"With mask =\n{empty.astype(int)}\nthe first two rows (padding queries) must be all "
            f"zeros and the others a softmax over the last two keys; got\n{rounded(actual)}"
        )
    # Stability: huge allowed scores, and a masked score far above the allowed ones.
    large = pristine([[1000.0, 1001.0, 1002.0], [5000.0, 1.0, 2.0], [-1000.0, -1001.0, 0.0]])
    large_mask = np.array([[1, 1, 1], [0, 1, 1], [1, 1, 0]], dtype=bool)
    actual = as_array(
        "masked_softmax(scores, mask)", student(large, large_mask), masked_softmax, (3, 3),
        _MASK_SHAPES,
    )  # fmt: skip
    expected = reference_masked_softmax(large, large_mask)
    if not close(actual, expected, atol=1e-9):
        raise CheckFailed(
            f"For scores =\n{large}\nand mask =\n{large_mask.astype(int)}\nexpected\n"
            f"{rounded(expected)}\ngot\n{rounded(actual)}\nSubtract each row's maximum over "
            "its ALLOWED keys (a masked score of 5000 must not set the shift, or every allowed "
            "exp underflows to 0)."
        )
    expect_value_error(
        masked_softmax, (scores, mask[:, :3]), "a mask of shape (4, 3) for scores (4, 5)",
        [["mask"], ["(4, 3)", "(4,3)"]],
        "Check that mask.shape == scores.shape and name both shapes in the message.",
    )  # fmt: skip
    student.passed(
        "masked_softmax: masked keys get weight 0, each row sums to 1 over its allowed keys, "
        "rows with no allowed key are 0, and large scores do not overflow."
    )


@feedback_check
def check_masked_attention(masked_attention: Callable[..., Any]) -> None:
    """Check ``masked_attention(Q, K, V, mask)`` -> (Z, weights), and mask=None."""
    rng = np.random.default_rng(52)
    student = Student(masked_attention, "Q K V mask", _ATTENTION_SHAPES)
    n, d_k, d_v = 6, 3, 2
    Q, K = pristine(rng.normal(size=(n, d_k))), pristine(rng.normal(size=(n, d_k)))
    V = pristine(rng.normal(size=(n, d_v)))
    mask = padding_mask(n, n, 2)
    result = as_sequence(student(Q, K, V, mask), masked_attention, 2, "(Z, attention_weights)")
    Z = as_array("Z", result[0], masked_attention, (n, d_v), _ATTENTION_SHAPES)
    weights = as_array("attention_weights", result[1], masked_attention, (n, n), _ATTENTION_SHAPES)
    expected_Z, expected_weights = reference_masked_attention(Q, K, V, mask)
    unscaled = reference_masked_softmax(Q @ K.T, mask)
    reject_known_mistakes(
        weights,
        [
            (unscaled, "Your weights are not scaled: divide the scores Q K^T by sqrt(d_k) "
                       "before the masked softmax, as in chapter 1."),
            (_plain_softmax(Q @ K.T / np.sqrt(d_k)),
             "Your weights ignore the mask: use your masked_softmax on the scaled scores."),
        ],
    )  # fmt: skip
    if not close(weights, expected_weights, atol=1e-9):
        raise CheckFailed(
            "attention_weights should be masked_softmax(Q @ K.T / sqrt(d_k), mask); for a "
            f"sequence with 2 padding tokens at the front expected\n{rounded(expected_weights)}\n"
            f"got\n{rounded(weights)}"
        )
    if not close(Z, expected_Z, atol=1e-9):
        raise CheckFailed(
            "Your weights are right but Z is not: Z = attention_weights @ V. Expected\n"
            f"{rounded(expected_Z)}\ngot\n{rounded(Z)}"
        )
    result = as_sequence(student(Q, K, V, None), masked_attention, 2, "(Z, attention_weights)")
    if not close(result[1], _plain_softmax(Q @ K.T / np.sqrt(d_k)), atol=1e-9):
        raise CheckFailed(
            "With mask=None every query attends to every key, as in chapter 1's attention; "
            "treat None as a mask of all True (np.ones((n_queries, n_keys), dtype=bool))."
        )
    student.passed(
        "masked_attention agrees with the reference: padding keys get weight 0, padding "
        "queries attend to nothing, and mask=None is chapter 1's attention."
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
    student = Student(encoder_block_count, "d_model num_heads key_dim d_ff")
    answers = [as_count(f"{name}{size}", student(*size)) for size in sizes]
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
        raise CheckFailed(
            f"{name}({d}, {h}, {k}, {f}) returned {answer:,}, but an encoder block with "
            f"d_model={d}, {h} heads of width {k} and d_ff={f} has "
            f"{encoder_block_params(d, h, k, f):,} parameters: {hint}"
        )
    passed(f"{name} agrees with the encoder block's parameter count for {len(sizes)} sizes.")


def _reference_embedding(tokens: np.ndarray, table: np.ndarray, positions: np.ndarray):
    return table[tokens] + positions[np.arange(tokens.shape[-1])]


@feedback_check
def check_position_embedding(layer_class: type) -> None:
    """Check a ``PositionEmbedding(sequence_length, vocabulary_size, d_model)`` Keras layer.

    The layer must have the sub-layers ``token_embedding`` (vocabulary_size x d_model) and
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
    length, vocabulary, d = 6, 11, 4
    try:
        layer = layer_class(length, vocabulary, d)
    except NotImplementedError:
        raise CheckFailed(f"`{name}` is not implemented yet.") from None
    for part in ("token_embedding", "position_embedding"):
        if not hasattr(layer, part):
            raise CheckFailed(
                f"`{name}` has no attribute `{part}`; keep the two Embedding layers that "
                "__init__ creates."
            )
    words = np.array([[0, 0, 3, 5, 3, 7], [4, 1, 2, 9, 10, 5]], dtype="int32")
    try:
        output = layer(words)
        mask = layer.compute_mask(words)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not implemented yet: fill in `call` and `compute_mask`."
        ) from None
    for part in (layer.token_embedding, layer.position_embedding):
        if not part.built:  # a sub-layer that `call` never used
            part.build()
    rng = np.random.default_rng(53)
    table = rng.normal(size=(vocabulary, d)).astype("float32")
    positions = rng.normal(size=(length, d)).astype("float32")
    try:
        layer.token_embedding.set_weights([table])
        layer.position_embedding.set_weights([positions])
    except ValueError as error:
        raise CheckFailed(
            f"The sub-layers of `{name}` have the wrong sizes ({error}): token_embedding is "
            "Embedding(vocabulary_size, d_model), position_embedding is "
            "Embedding(sequence_length, d_model)."
        ) from None
    output = as_array(
        "the layer's output", keras.ops.convert_to_numpy(layer(words)), name, (2, length, d),
        "word indices (batch, length) become vectors (batch, length, d_model).",
    )  # fmt: skip
    expected = _reference_embedding(words, table, positions)
    reject_known_mistakes(
        output,
        [
            (table[words], "The output is the token embedding alone: add the embedding of "
                           "each position 0, 1, ..., length - 1."),
            (table[words] + positions[words % length],
             "You look up the position table with the word indices; look it up with the "
             "positions 0, 1, ..., length - 1 (keras.ops.arange)."),
        ],
    )  # fmt: skip
    if not close(output, expected, atol=1e-5):
        raise CheckFailed(
            "The output should be token_embedding(words) + position_embedding(positions) with "
            f"positions 0..length-1; for the first review expected\n{rounded(expected[0])}\n"
            f"got\n{rounded(output[0])}"
        )
    short = words[:, 2:]
    output = keras.ops.convert_to_numpy(layer(short))
    if not close(output, _reference_embedding(short, table, positions), atol=1e-5):
        raise CheckFailed(
            "For an input shorter than sequence_length (4 of 6 tokens) the positions must be "
            "0..3: take the length from the input, keras.ops.shape(word_indices)[-1]."
        )
    mask = layer.compute_mask(words)
    if mask is None:
        raise CheckFailed(
            "compute_mask returned None: return True for real tokens and False for the "
            "padding index 0 (keras.ops.not_equal(word_indices, 0)), so that attention and "
            "pooling can ignore the padding."
        )
    mask = np.asarray(keras.ops.convert_to_numpy(mask))
    if mask.shape != words.shape or not np.array_equal(mask.astype(bool), words != 0):
        raise CheckFailed(
            f"compute_mask should be True exactly where the word index is not 0; for\n{words}\n"
            f"expected\n{(words != 0).astype(int)}\ngot\n{mask.astype(int)}"
        )
    passed(
        f"{name}: token + position embeddings for full and shorter inputs, and a mask that "
        "hides the padding."
    )
