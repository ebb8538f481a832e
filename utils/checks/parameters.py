"""Checks for chapter 4: counting the parameters of recurrent layers and models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from utils.checks._core import (
    CheckFailed,
    as_count,
    as_sequence,
    call,
    describe,
    feedback_check,
    passed,
)

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


def _check_recurrent_count(function: Callable[..., Any], gates: int, layer: str) -> None:
    name = getattr(function, "__name__", repr(function))
    for d, n in _COUNT_SIZES:
        answer = as_count(f"{name}({d}, {n})", call(function, d, n))
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
    passed(f"{name} agrees with {layer}'s parameter count for {len(_COUNT_SIZES)} sizes.")


@feedback_check
def check_simple_rnn_count(simple_rnn_count: Callable[[int, int], int]) -> None:
    """Check ``simple_rnn_count(input_dim, units)`` = input_dim*units + units*units + units."""
    _check_recurrent_count(simple_rnn_count, 1, "SimpleRNN")


@feedback_check
def check_lstm_count(lstm_count: Callable[[int, int], int]) -> None:
    """Check ``lstm_count(input_dim, units)`` = 4 * (input_dim*units + units*units + units)."""
    _check_recurrent_count(lstm_count, 4, "LSTM")


@feedback_check
def check_rnn_model_counts(rnn_model_counts: Callable[[], dict]) -> None:
    """Check the predicted per-layer counts of chapter 3's SimpleRNN model.

    The model: Embedding(10000, 16) on sequences of 20 tokens, SimpleRNN(32), Dense(1).
    ``rnn_model_counts()`` returns {"embedding": ..., "simple_rnn": ..., "dense": ...}.
    """
    vocabulary, width, length, units = 10_000, 16, 20, 32
    answer = call(rnn_model_counts)
    keys = {"embedding", "simple_rnn", "dense"}
    if answer is None:
        raise CheckFailed(
            "rnn_model_counts() returned None: did you forget `return`? It should return a dict "
            f"with the keys {sorted(keys)}."
        )
    if not isinstance(answer, dict) or set(answer) != keys:
        raise CheckFailed(
            f"rnn_model_counts() returned {describe(answer)}; it should return a dict with the "
            f"keys {sorted(keys)}"
            + (f", not {sorted(map(str, answer))}." if isinstance(answer, dict) else ".")
        )
    counts = {key: as_count(f"counts[{key!r}]", value) for key, value in answer.items()}
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
    passed(
        f"embedding {embedding:,} + SimpleRNN {rnn:,} + Dense {dense:,} = "
        f"{embedding + rnn + dense:,}, the total of model.summary()."
    )


@feedback_check
def check_stacked_lstm_counts(stacked_lstm_counts: Callable[[], tuple]) -> None:
    """Check ``stacked_lstm_counts()`` -> (first, second) LSTM(32) counts on 16-wide embeddings."""
    width, units = 16, 32
    answer = as_sequence(call(stacked_lstm_counts), stacked_lstm_counts, 2, "(first, second)")
    first, second = (
        as_count(f"The {name} count", value)
        for name, value in zip(["first", "second"], answer, strict=True)
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
    passed(f"first LSTM {expected_first:,}, second LSTM {expected_second:,}.")
