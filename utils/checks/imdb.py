"""Checks for chapter 3: nearest neighbours in an embedding, and the three model builders.

The builder checks import Keras only when they run, so that importing :mod:`utils.checks`
stays light for chapters 1 and 2.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from utils.checks._core import (
    CheckFailed,
    Student,
    as_count,
    call,
    close,
    describe,
    expect_value_error,
    feedback_check,
    function_name,
    passed,
    pristine,
)

# ------------------------------------------------------------------ nearest neighbours

# A toy table laid out like `word_index()`: rows 0-2 are the reserved indices (padding,
# start, unknown) and have no word; the words start at index 3. The rows are chosen so that
# each typical mistake gives a different answer for "good" (norm 2, so that a similarity
# without the query's norm differs from the cosine): the plain dot product ranks the long
# vector "huge" first, ignoring k returns too many words, and a word list shifted by the 3
# reserved rows names other words.
_TOY = pristine(
    [[0.1, 0.9, -0.3], [-0.2, -0.6, -0.6], [0.05, 0.0, 1.0],  # reserved rows 0-2
     [2.0, 0.0, 0.0], [0.9, 0.1, 0.0], [0.8, 0.4, 0.1], [6.0, 8.0, 0.0],
     [0.2, 0.3, 0.9], [0.5, -0.5, 0.7], [-1.0, 0.2, 0.0], [-0.9, -0.3, 0.2]]
)  # fmt: skip
_TOY_WORDS = ["good", "great", "fine", "huge", "plot", "actor", "bad", "awful"]
_TOY_FIRST = 3  # the index of the first word, like word_index()'s INDEX_FROM


def _toy_vocabulary() -> dict[str, int]:
    return {word: _TOY_FIRST + i for i, word in enumerate(_TOY_WORDS)}


def _toy_word(row: int, shift: int = 0) -> str:
    """The word of ``row`` (``shift`` rows off, the mistake), or ``<row>`` for a reserved row."""
    i = row + shift - _TOY_FIRST
    return _TOY_WORDS[i] if 0 <= i < len(_TOY_WORDS) else f"<{row + shift}>"


def _shifted_words(words: list[str], rows: list[int], shift: int) -> bool:
    """Whether ``words`` name ``rows`` shifted by ``shift``: the rows' real words must match;
    where the shift lands on a reserved row any word but a toy word counts ("<1>", "UNK")."""
    for word, row in zip(words, rows, strict=True):
        target = _toy_word(row, shift)
        if target in _TOY_WORDS and word != target:
            return False
        if target not in _TOY_WORDS and word in _TOY_WORDS:
            return False
    return True


def _cosines(query_row: int) -> np.ndarray:
    norms = np.linalg.norm(_TOY, axis=1)
    return _TOY @ _TOY[query_row] / (norms * norms[query_row])


def _ranking(scores: np.ndarray, exclude: int, k: int) -> list[int]:
    """The k best rows by ``scores``, leaving out row ``exclude``."""
    scores = np.array(scores, dtype=float)
    scores[exclude] = -np.inf
    return [int(i) for i in np.argsort(-scores, kind="stable")[:k]]


def _pairs(function: Callable[..., Any], found: Any, k: int) -> tuple[list[str], np.ndarray]:
    """The words and similarities of a returned list of (word, similarity) pairs."""
    name = function_name(function)
    if found is None:
        raise CheckFailed(f"`{name}` returned None: did you forget `return`?")
    shape = "a list of (word, similarity) pairs, best first, e.g. [('great', 0.99), ...]"
    if isinstance(found, (str, bytes, dict)) or not hasattr(found, "__iter__"):
        raise CheckFailed(f"`{name}` returned {describe(found)}; it should return {shape}.")
    words, similarities = [], []
    for pair in list(found):
        try:
            size = None if isinstance(pair, (str, bytes)) else len(pair)
        except Exception:  # an object that claims a length but cannot give it
            size = None
        if size != 2:
            raise CheckFailed(
                f"`{name}` returned a list whose items look like {pair!r}; it should return "
                f"{shape}."
            )
        word, similarity = pair
        try:
            similarities.append(float(similarity))
        except (TypeError, ValueError):
            raise CheckFailed(
                f"`{name}` returned the pair {pair!r}; the second item should be the cosine "
                f"similarity, a number. It should return {shape}."
            ) from None
        words.append(str(word))
    if len(words) != k:
        raise CheckFailed(
            f"`{name}` returned {len(words)} neighbours for k = {k}: return only the k most "
            "similar words (sort, then keep the first k)."
        )
    return words, np.array(similarities)


@feedback_check
def check_nearest_neighbours(nearest_neighbours: Callable[..., Any]) -> None:
    """Check ``nearest_neighbours(embeddings, vocabulary, word, k)`` on a toy table.

    The toy rows are chosen so that the common mistakes give a different answer: a plain dot
    product ranks the long vector "huge" first, a similarity without the query's norm is
    twice the cosine, ignoring ``k`` returns too many words, and a word list shifted by the
    three reserved rows names other words.
    """
    student = Student(nearest_neighbours, "embeddings vocabulary word k")
    vocabulary = _toy_vocabulary()
    query = vocabulary["good"]
    cosine = _cosines(query)
    for k in (3, 5):
        words, similarities = _pairs(nearest_neighbours, student(_TOY, vocabulary, "good", k), k)
        best = _ranking(cosine, query, k)
        expected = [_toy_word(row) for row in best]
        if words and words[0] == "good":
            raise CheckFailed(
                "The word itself came back as its own nearest neighbour: leave it out."
            )
        if words == [_toy_word(row) for row in _ranking(_TOY @ _TOY[query], query, k)]:
            raise CheckFailed(
                "The order follows the plain dot product: divide by both vectors' norms "
                "to get the cosine similarity."
            )
        if k > 1 and np.all(np.diff(similarities) > 0):
            raise CheckFailed(
                "The order is reversed (the similarities grow down the list): sort by "
                "similarity, largest first, e.g. np.argsort(-similarity)."
            )
        for shift in (-3, -2, -1, 1, 2, 3):
            if _shifted_words(words, best, shift) and close(similarities, cosine[best]):
                raise CheckFailed(
                    f"The similarities are right but each word is {abs(shift)} row"
                    f"{'s' if abs(shift) > 1 else ''} off from its vector: the word of row i "
                    "is the w with vocabulary[w] == i, e.g. from "
                    "{i: w for w, i in vocabulary.items()}. Add or subtract nothing: the "
                    "vocabulary already counts the reserved indices 0-2."
                )
            row = query + shift
            if not 0 <= row < len(_TOY):
                continue
            shifted = _ranking(_cosines(row), row, k)
            if words == [_toy_word(r) for r in shifted] and close(
                similarities, _cosines(row)[shifted]
            ):
                raise CheckFailed(
                    f"The neighbours are those of row {row}, not of row {query} = "
                    "vocabulary['good']: use embeddings[vocabulary[word]] as the query, with "
                    "no offset."
                )
        if words != expected:
            raise CheckFailed(
                f"For 'good' and k = {k} the neighbours should be {expected}, got {words}."
            )
        if close(similarities, cosine[best] * np.linalg.norm(_TOY[query])):
            raise CheckFailed(
                "The order is right but the similarities are too large by the query's length: "
                "divide the dot products by the norm of the query vector as well, "
                "u . v / (|u| |v|)."
            )
        if not close(similarities, cosine[best]):
            raise CheckFailed(
                f"The similarities should be the cosines {np.round(cosine[best], 4).tolist()}, "
                f"got {np.round(similarities, 4).tolist()}."
            )
    # The rules the exercise states: an unknown word and a word without a row are ValueErrors.
    expect_value_error(
        nearest_neighbours,
        (_TOY, vocabulary, "excellent", 2),
        "an unknown word, 'excellent'",
        [("excellent",)],
        "Test `word not in vocabulary` first and raise a ValueError that names the word.",
    )
    beyond = {**vocabulary, "rare": len(_TOY)}
    expect_value_error(
        nearest_neighbours,
        (_TOY, beyond, "rare", 2),
        f"a word whose index ({len(_TOY)}) has no row in embeddings of shape {_TOY.shape}",
        [("rare", str(len(_TOY)))],
        "Compare the index with embeddings.shape[0] and raise a ValueError that names the "
        "word or its index.",
    )
    student.passed(
        "nearest_neighbours ranks by cosine similarity, respects k and refuses unknown words "
        "and words without a row."
    )


# ------------------------------------------------------------------ the model builders

NUM_WORDS, WIDTH, UNITS, MAXLEN = 10_000, 16, 32, 20

# Layer by layer: (type, units or (input_dim, output_dim), activation).
_ARCHITECTURES: dict[str, tuple[list[tuple[str, Any, str | None]], int]] = {
    "dense": (
        [("Embedding", (NUM_WORDS, WIDTH), None), ("Flatten", None, None),
         ("Dense", UNITS, "relu"), ("Dense", 1, "sigmoid")],
        170_305,
    ),
    "simple_rnn": (
        [("Embedding", (NUM_WORDS, WIDTH), None), ("SimpleRNN", UNITS, None),
         ("Dense", 1, "sigmoid")],
        161_601,
    ),
    "lstm": (
        [("Embedding", (NUM_WORDS, WIDTH), None), ("LSTM", UNITS, None),
         ("Dense", 1, "sigmoid")],
        166_305,
    ),
}  # fmt: skip
_RECURRENT = ("SimpleRNN", "LSTM", "GRU")


def _spec_text(spec: tuple[str, Any, str | None]) -> str:
    kind, size, activation = spec
    if kind == "Embedding":
        return f"Embedding({size[0]}, {size[1]})"
    if kind == "Flatten":
        return "Flatten()"
    return f"{kind}({size}" + (f", activation='{activation}')" if activation else ")")


def _activation(layer: Any) -> str:
    function = getattr(layer, "activation", None)
    return getattr(function, "__name__", str(function)) if function is not None else "linear"


def _layer_text(layer: Any) -> str:
    kind = type(layer).__name__
    if kind == "Embedding":
        return f"Embedding({layer.input_dim}, {layer.output_dim})"
    if kind == "Dense":
        return f"Dense({layer.units}, activation='{_activation(layer)}')"
    if kind in _RECURRENT:
        extra = ", return_sequences=True" if getattr(layer, "return_sequences", False) else ""
        return f"{kind}({layer.units}{extra})"
    return f"{kind}()"


def _layers(model: Any) -> list[Any]:
    """The model's layers without its InputLayer, an Activation layer folded into the Dense
    layer before it (Dense(1) + Activation('sigmoid') is Dense(1, activation='sigmoid'))."""
    result: list[Any] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind == "Activation" and result and type(result[-1]).__name__ == "Dense":
            if _activation(result[-1]) == "linear":
                result[-1] = _FoldedDense(result[-1], layer)
                continue
        result.append(layer)
    return result


class _FoldedDense:
    """A Dense layer seen together with the Activation layer after it."""

    def __init__(self, dense: Any, activation: Any) -> None:
        self.units = dense.units
        self.activation = activation.activation

    def __repr__(self) -> str:
        return f"Dense({self.units}, activation='{_activation(self)}')"


def _type(layer: Any) -> str:
    return "Dense" if isinstance(layer, _FoldedDense) else type(layer).__name__


def _check_builder(builder: Callable[..., Any], key: str, title: str) -> None:
    """Build ``builder(20)`` and compare it, layer by layer, with the assignment's model."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    name = function_name(builder)
    architecture, expected_params = _ARCHITECTURES[key]
    wanted = " -> ".join(_spec_text(spec) for spec in architecture)
    model = call(
        builder,
        MAXLEN,
        hint=f"`{name}(maxlen)` should build and return keras.Sequential([keras.Input("
        f"shape=(maxlen,)), {', '.join(_spec_text(spec) for spec in architecture)}]).",
    )
    if model is None:
        raise CheckFailed(f"`{name}` returned None: did you forget `return`? Return the model.")
    if (
        isinstance(model, (list, tuple))
        and model
        and all(isinstance(x, keras.Layer) for x in model)
    ):
        raise CheckFailed(
            f"`{name}` returned a {type(model).__name__} of {len(model)} layers: wrap them in a "
            "model, "
            "`return keras.Sequential([...])`."
        )
    if isinstance(model, keras.callbacks.History):
        raise CheckFailed(
            f"`{name}` returned the History of model.fit; it should only build the model and "
            "return it (training comes later)."
        )
    if not isinstance(model, keras.Model):
        raise CheckFailed(
            f"`{name}` returned {describe(model)}, not a Keras model: return "
            "keras.Sequential([...])."
        )
    if not model.built:
        raise CheckFailed(
            f"The model that `{name}` returns is not built: Keras does not know the length of "
            "its input, so it has no weights yet. Start the list of layers with "
            "keras.Input(shape=(maxlen,))."
        )
    length = tuple(model.input_shape)[1:] if model.input_shape else ()
    if length != (MAXLEN,):
        raise CheckFailed(
            f"`{name}({MAXLEN})` reads inputs of shape {length}; it should read sequences of "
            f"maxlen = {MAXLEN} word indices: keras.Input(shape=(maxlen,)), using the argument "
            "maxlen rather than a fixed number."
        )
    layers = _layers(model)
    found = " -> ".join(_layer_text(layer) for layer in layers)
    if not layers or _type(layers[0]) != "Embedding":
        raise CheckFailed(
            f"The first layer should be Embedding({NUM_WORDS}, {WIDTH}), which turns each word "
            f"index into {WIDTH} numbers; your model: {found or 'no layers'}."
        )
    embedding = layers[0]
    if embedding.input_dim != NUM_WORDS:
        cause = (
            "the sequence length maxlen"
            if embedding.input_dim == MAXLEN
            else f"{embedding.input_dim:,}"
        )
        raise CheckFailed(
            f"Embedding's first argument is the vocabulary size, {NUM_WORDS:,} (NUM_WORDS): "
            f"one row per word index. Yours is {cause}."
        )
    if embedding.output_dim != WIDTH:
        raise CheckFailed(
            f"The embedding width is {embedding.output_dim}; the assignment's models give each "
            f"word {WIDTH} numbers: Embedding({NUM_WORDS}, {WIDTH})."
        )
    output_rank = len(model.output_shape)
    recurrent = [layer for layer in layers if _type(layer) in _RECURRENT]
    if key == "dense":
        if not any(_type(layer) == "Flatten" for layer in layers) and output_rank == 3:
            raise CheckFailed(
                "You forgot Flatten: without it Dense works on each of the "
                f"{MAXLEN} word vectors separately, and the model outputs {model.output_shape}, "
                "one prediction per word. Put layers.Flatten() right after the Embedding, so "
                f"that Dense({UNITS}) sees all {MAXLEN} x {WIDTH} numbers of a review at once."
            )
    else:
        kind = architecture[1][0]
        if not recurrent:
            raise CheckFailed(
                f"The model has no {kind} layer: put {kind}({UNITS}) between the Embedding and "
                f"the output layer. Your model: {found}."
            )
        layer = recurrent[0]
        if _type(layer) != kind:
            raise CheckFailed(
                f"`{name}` uses {_type(layer)}; this model is the {title}: use layers."
                f"{kind}({UNITS})."
            )
        if len(recurrent) == 1 and getattr(layer, "return_sequences", False):
            raise CheckFailed(
                f"{kind}(return_sequences=True) returns all {MAXLEN} hidden states, so the "
                f"Dense layer after it predicts once per word and the model outputs "
                f"{model.output_shape}. Leave return_sequences=False: the classifier reads "
                "the last hidden state only."
            )
        if layer.units != UNITS:
            raise CheckFailed(
                f"The {kind} layer has {layer.units} units; the assignment's model has "
                f"{UNITS}: layers.{kind}({UNITS})."
            )
    kinds = [_type(layer) for layer in layers]
    if kinds != [spec[0] for spec in architecture]:
        raise CheckFailed(f"The model should be {wanted}; yours is {found}.")
    for layer, (kind, size, activation) in zip(layers, architecture, strict=True):
        if kind != "Dense":
            continue
        last = layer is layers[-1]
        role = "output layer" if last else "hidden Dense layer"
        if layer.units != size:
            hint = (
                " One sigmoid unit gives the probability that the review is positive."
                if last
                else ""
            )
            raise CheckFailed(
                f"The {role} has {layer.units} units; it should have {size}: "
                f"{_spec_text((kind, size, activation))}.{hint}"
            )
        got = _activation(layer)
        if got != activation:
            if last and got == "softmax":
                why = "a softmax over a single unit is always 1, whatever the review"
            elif last and got == "linear":
                why = "without an activation the output is not a probability"
            else:
                why = f"the assignment's model uses {activation}"
            raise CheckFailed(
                f"The {role} uses activation '{got}': {why}. Use "
                f"{_spec_text((kind, size, activation))}."
            )
    params = as_count("model.count_params()", model.count_params())
    if params != expected_params:
        raise CheckFailed(
            f"The model has {params:,} parameters; the assignment's {title} has "
            f"{expected_params:,}. Compare model.summary() with {wanted}."
        )
    passed(f"{name}: {wanted}, {params:,} parameters, as in the assignment.")


@feedback_check
def check_build_dense(build_dense: Callable[..., Any]) -> None:
    """Check ``build_dense(maxlen)``: Embedding(10000, 16), Flatten, Dense(32, relu),
    Dense(1, sigmoid); 170,305 parameters for maxlen = 20."""
    _check_builder(build_dense, "dense", "dense model")


@feedback_check
def check_build_simple_rnn(build_simple_rnn: Callable[..., Any]) -> None:
    """Check ``build_simple_rnn(maxlen)``: Embedding(10000, 16), SimpleRNN(32),
    Dense(1, sigmoid); 161,601 parameters."""
    _check_builder(build_simple_rnn, "simple_rnn", "SimpleRNN model")


@feedback_check
def check_build_lstm(build_lstm: Callable[..., Any]) -> None:
    """Check ``build_lstm(maxlen)``: Embedding(10000, 16), LSTM(32), Dense(1, sigmoid);
    166,305 parameters."""
    _check_builder(build_lstm, "lstm", "LSTM model")
