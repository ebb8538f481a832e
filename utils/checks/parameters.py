"""Checks for chapter 4: counting the parameters of recurrent layers and models.

A wrong count never gets the right number back: the messages say what the answer counted
too much or too little ("you forgot the recurrent weights W", "one gate's worth"), never the
count itself, so that the student still has to find it. The counting functions are run with
Keras out of reach: the exercises ask for counts from the sizes alone, without building a
layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from utils.checks._core import (
    CheckFailed,
    as_count,
    as_sequence,
    call_without_keras,
    describe,
    feedback_check,
    passed,
)

# (input width, units) pairs the counting functions are tried on; (16, 32) is our model's.
_COUNT_SIZES = [(16, 32), (32, 32), (5, 4), (3, 7), (100, 1), (1, 64)]
_NO_KERAS = (
    "the exercise asks for the count from the sizes alone, without building a layer: "
    "multiply and add the sizes of U, W and b."
)


def _recurrent_mistakes(d: int, n: int, gates: int) -> list[tuple[int, str]]:
    """(count with a typical mistake, what the mistake is) for a recurrent layer with ``gates``
    gates (1: SimpleRNN, 4: LSTM) of ``n`` units on inputs of width ``d``. No message
    contains the right count."""
    per_gate = d * n + n * n + n
    each = ", per gate" if gates > 1 else ""
    mistakes = [
        (gates * (d * n + n * n), f"you forgot the bias b (one number per unit{each})."),
        (gates * (d * n + n), f"you forgot the recurrent weights W (units x units{each})."),
        (gates * (n * n + n), f"you forgot the input weights U (input width x units{each})."),
        (gates * (2 * n * n + n), "U is input width x units, not units x units."),
        (gates * (2 * d * n + n), "W is units x units (it maps the previous state, which has "
                                  "one number per unit), not input width x units."),
        (gates * (d * n + n * n + 2 * n), "you count the bias twice: b has one number per "
                                          f"unit{each}, once."),
        (gates * (d * n + n * n + 1), "b has one number per unit, not one number in all."),
        (gates * (d * n + n * n + d), "b has one number per unit, not one per input."),
        (gates * per_gate + n + 1, "you added the output layer Dense(1) (V and c); the count "
                                   "is for the recurrent layer alone."),
        (gates * d * n, "your count has U only: count U, W (units x units) and b (units)."),
        (gates * n * n, "your count has W only: count U (input width x units), W and b "
                        "(units)."),
    ]  # fmt: skip
    if gates > 1:
        mistakes += [
            (per_gate, f"that is one gate's worth: an LSTM has {gates} gates (i, f, c, o), "
                       "each with its own U, W and b."),
            (gates * (d * n + n * n) + n, f"each of the {gates} gates has its own bias b, "
                                          "not one bias for the whole layer."),
            (gates * (d * n + n) + n * n, f"each of the {gates} gates has its own recurrent "
                                          "weights W, not one W for the whole layer."),
            (gates * d * n + n * n + n, f"only U is per gate in your count; each of the {gates} "
                                        "gates has its own W and b as well."),
        ]  # fmt: skip
    if gates == 4:
        mistakes.append((3 * per_gate, "that is 3 gates (a GRU's count); an LSTM has 4 "
                                       "(i, f, c, o)."))  # fmt: skip
    if gates == 1:
        mistakes.append((4 * per_gate, "that is an LSTM's count (4 gates); a SimpleRNN has one "
                                       "U, one W and one b."))  # fmt: skip
    return mistakes


def _recurrent_mistake(answer: Any, d: int, n: int, gates: int) -> str | None:
    """Name the likely mistake when ``answer`` is a wrong count for a recurrent layer."""
    right = gates * (d * n + n * n + n)
    for count, message in _recurrent_mistakes(d, n, gates):
        if count == answer and count != right:
            return message
    return None


def _direction(answer: int, right: int) -> str:
    return "too large" if answer > right else "too small"


def _check_recurrent_count(function: Callable[..., Any], gates: int, layer: str) -> None:
    name = getattr(function, "__name__", repr(function))
    answers = [
        as_count(f"{name}({d}, {n})", call_without_keras(function, d, n, rule=_NO_KERAS))
        for d, n in _COUNT_SIZES
    ]
    wrong = [
        (size, answer)
        for size, answer in zip(_COUNT_SIZES, answers, strict=True)
        if answer != gates * (size[0] * size[1] + size[1] ** 2 + size[1])
    ]
    if not wrong:
        passed(f"{name} agrees with {layer}'s parameter count for {len(_COUNT_SIZES)} sizes.")
        return
    # A mistake is named when it explains every size's answer, else the first size's alone.
    mistakes = [_recurrent_mistakes(d, n, gates) for d, n in _COUNT_SIZES]
    hint = next(
        (
            message
            for index, (_, message) in enumerate(mistakes[0])
            if all(m[index][0] == a for m, a in zip(mistakes, answers, strict=True))
        ),
        None,
    )
    (d, n), answer = wrong[0]
    right = gates * (d * n + n * n + n)
    hint = hint or _recurrent_mistake(answer, d, n, gates)
    if hint is None:
        hint = (
            f"it is {_direction(answer, right)}. Count U (input width x units), W (units x "
            "units) and b (units)" + (f" for each of the {gates} gates." if gates > 1 else ".")
        )
    raise CheckFailed(
        f"{name}({d}, {n}) returned {answer:,}, which is not the number of parameters of "
        f"{layer}({n}) on inputs of width {d}: {hint}"
    )


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
    answer = call_without_keras(
        rnn_model_counts,
        rule="the exercise asks you to predict the counts from the layers' sizes, without "
        "building the model.",
    )
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
                "The embedding table has one row per vocabulary word, not one per position in "
                "the review: 10,000 rows of 16 numbers."
            )
        if counts["embedding"] == embedding + vocabulary:
            raise CheckFailed("An Embedding layer has no bias: it is only the lookup table.")
        raise CheckFailed(
            f"counts['embedding'] = {counts['embedding']:,} is {_direction(counts['embedding'], embedding)}: "
            "the embedding layer stores a 16-number vector for each of 10,000 words, and "
            "nothing else."
        )
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
    if (
        counts["simple_rnn"] == length * rnn
        or counts["simple_rnn"] == length * (width * units) + units * units + units
    ):
        raise CheckFailed(
            "You counted the SimpleRNN's weights once per word: the same U, W and b are used "
            "at every one of the 20 steps, so they count once."
        )
    if counts["simple_rnn"] != rnn:
        hint = _recurrent_mistake(counts["simple_rnn"], width, units, 1) or (
            f"it is {_direction(counts['simple_rnn'], rnn)}; count U (16 x 32), W (32 x 32) "
            "and b (32)."
        )
        raise CheckFailed(
            f"counts['simple_rnn'] = {counts['simple_rnn']:,} is not the SimpleRNN layer's "
            f"count: {hint}"
        )
    if counts["dense"] != dense:
        if counts["dense"] == units:
            raise CheckFailed("Dense(1) is V (32 x 1) plus the bias c: you forgot the bias.")
        if counts["dense"] in (length * units + 1, length * units):
            raise CheckFailed(
                "The SimpleRNN returns only its last hidden state (32 numbers), not one per step: "
                "Dense(1) sees 32 inputs."
            )
        if counts["dense"] in (width + 1, width):
            raise CheckFailed(
                "Dense(1) reads the SimpleRNN's last hidden state (32 numbers), not an "
                "embedding (16 numbers)."
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
    answer = as_sequence(
        call_without_keras(
            stacked_lstm_counts,
            rule="the exercise asks you to predict the counts from the layers' sizes, "
            "without building the model.",
        ),
        stacked_lstm_counts,
        2,
        "(first, second)",
    )
    first, second = (
        as_count(f"The {name} count", value)
        for name, value in zip(["first", "second"], answer, strict=True)
    )
    expected_first = 4 * (width * units + units * units + units)
    expected_second = 4 * (units * units + units * units + units)
    if first == expected_second and second == expected_first:
        raise CheckFailed(
            "The two counts are in the wrong order: the first LSTM reads the 16-number "
            "embeddings, the second the first LSTM's 32-number hidden states."
        )
    if first != expected_first:
        hint = _recurrent_mistake(first, width, units, 4) or (
            f"it is {_direction(first, expected_first)}; the first LSTM reads 16-number "
            "embeddings: 4 gates, each with U (16 x 32), W (32 x 32) and b (32)."
        )
        raise CheckFailed(f"The first count, {first:,}, is not the first LSTM's: {hint}")
    if second == expected_first:
        raise CheckFailed(
            "The second LSTM does not read the 16-number embeddings: its inputs are the first "
            "LSTM's hidden states (return_sequences=True), 32 numbers per step. So its U is "
            "32 x 32 per gate."
        )
    if second != expected_second:
        hint = _recurrent_mistake(second, units, units, 4) or (
            f"it is {_direction(second, expected_second)}; the second LSTM reads the first's "
            "32-number hidden states: 4 gates, each with U (32 x 32), W (32 x 32) and b (32)."
        )
        raise CheckFailed(f"The second count, {second:,}, is not the second LSTM's: {hint}")
    passed(f"first LSTM {expected_first:,}, second LSTM {expected_second:,}.")
