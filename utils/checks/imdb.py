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
    timed,
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
        distance = np.linalg.norm(_TOY - _TOY[query], axis=1)
        if words == [_toy_word(row) for row in _ranking(-distance, query, k)]:
            raise CheckFailed(
                "The order follows the Euclidean distance |u - v| (smallest first), which "
                "depends on the vectors' lengths: the long vector of 'huge' points the same "
                "way as 'good' but is far from it. Rank by the cosine similarity "
                "u . v / (|u| |v|), largest first, and return the similarities."
            )
        if close(similarities, 1 - cosine[best]):
            raise CheckFailed(
                "The order is right, but the numbers are the cosine distances 1 - cos(u, v); "
                "return the similarities cos(u, v) = u . v / (|u| |v|), largest first."
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
# A second length: section 3.8 builds the same models for longer reviews, so a builder must
# use its argument maxlen. 37 is no length the chapter uses, so no fixed number can match it.
OTHER_MAXLEN = 37
_DENSE_PARAMS = 170_305  # the dense model at maxlen 20; the text gives this count

# Layer by layer: (type, units or (input_dim, output_dim), activation, required name).
_ARCHITECTURES: dict[str, list[tuple[str, Any, str | None, str]]] = {
    "dense": [
        ("Embedding", (NUM_WORDS, WIDTH), None, "embedding"), ("Flatten", None, None, "flatten"),
        ("Dense", UNITS, "relu", "hidden"), ("Dense", 1, "sigmoid", "output"),
    ],
    "simple_rnn": [
        ("Embedding", (NUM_WORDS, WIDTH), None, "embedding"),
        ("SimpleRNN", UNITS, "tanh", "simple_rnn"), ("Dense", 1, "sigmoid", "output"),
    ],
    "lstm": [
        ("Embedding", (NUM_WORDS, WIDTH), None, "embedding"), ("LSTM", UNITS, "tanh", "lstm"),
        ("Dense", 1, "sigmoid", "output"),
    ],
}  # fmt: skip
_RECURRENT = ("SimpleRNN", "LSTM", "GRU", "RNN", "Bidirectional")
_CELLS = {"SimpleRNNCell": "SimpleRNN", "LSTMCell": "LSTM", "GRUCell": "GRU"}
# Layers that only apply an activation: folded into the Dense layer before them.
_ACTIVATION_LAYERS = ("Activation", "ReLU", "Softmax", "LeakyReLU", "ELU")


def _spec_text(spec: tuple[str, Any, str | None, str]) -> str:
    kind, size, activation, _ = spec
    if kind == "Embedding":
        return f"Embedding({size[0]}, {size[1]})"
    if kind == "Flatten":
        return "Flatten()"
    if kind == "Dense":
        return f"Dense({size}, activation='{activation}')"
    return f"{kind}({size})"


def _reference_activations() -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    def softmax(x: np.ndarray) -> np.ndarray:
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return {
        "linear": lambda x: x,
        "relu": lambda x: np.maximum(x, 0.0),
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "tanh": np.tanh,
        "softmax": softmax,
    }


def _activation(function: Any) -> str:
    """The name of an activation function, recognised by what it computes (so that "relu",
    keras.activations.relu, tf.nn.relu and a ReLU layer are all "relu")."""
    if function is None:
        return "linear"
    import keras

    x = np.array([[-3.0, -0.5, 0.0, 0.7, 2.5]], dtype="float32")
    try:
        y = np.asarray(keras.ops.convert_to_numpy(function(x)), dtype=float)
    except Exception:  # a function that cannot run on a small array: go by its name
        y = None
    if y is not None and y.shape == x.shape:
        for name, reference in _reference_activations().items():
            if np.allclose(y, reference(x.astype(float)), atol=1e-5):
                return name
    return getattr(function, "__name__", type(function).__name__)


class _Folded:
    """A Dense layer seen together with the activation layer after it."""

    def __init__(self, dense: Any, activation_layer: Any) -> None:
        self.dense = dense
        self.units = dense.units
        self.use_bias = dense.use_bias
        self.names = (dense.name, activation_layer.name)
        kind = type(activation_layer).__name__
        self.activation = activation_layer.activation if kind == "Activation" else activation_layer


def _layers(model: Any) -> list[Any]:
    """The model's layers without its InputLayer, an activation layer folded into the Dense
    layer before it (Dense(1) + Activation('sigmoid') is Dense(1, activation='sigmoid'))."""
    result: list[Any] = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind in _ACTIVATION_LAYERS and result and _type(result[-1]) == "Dense":
            previous = result[-1]
            if not isinstance(previous, _Folded) and _activation(previous.activation) == "linear":
                result[-1] = _Folded(previous, layer)
                continue
        result.append(layer)
    return result


def _type(layer: Any) -> str:
    """The layer's type; RNN(SimpleRNNCell(...)) counts as a SimpleRNN, and so on."""
    if isinstance(layer, _Folded):
        return "Dense"
    kind = type(layer).__name__
    if kind == "RNN":
        return _CELLS.get(type(getattr(layer, "cell", None)).__name__, kind)
    return kind


def _names(layer: Any) -> tuple[str, ...]:
    return layer.names if isinstance(layer, _Folded) else (layer.name,)


def _layer_text(layer: Any) -> str:
    kind = _type(layer)
    if kind == "Embedding":
        return f"Embedding({layer.input_dim}, {layer.output_dim})"
    if kind == "Dense":
        return f"Dense({layer.units}, activation='{_activation(layer.activation)}')"
    if kind == "Bidirectional":
        return f"Bidirectional({_layer_text(layer.forward_layer)})"
    if kind in _RECURRENT:
        extra = ", return_sequences=True" if getattr(layer, "return_sequences", False) else ""
        return f"{kind}({layer.cell.units}{extra})"
    return f"{kind}()"


def _output_shape(model: Any) -> Any:
    try:
        return tuple(model.output_shape)
    except Exception:  # a model with several outputs: its shapes as Keras gives them
        return getattr(model, "output_shape", None)


def _model_from(builder: Callable[..., Any], maxlen: int, hint: str) -> Any:
    """``builder(maxlen)``, checked to be a built Keras model."""
    import keras

    name = function_name(builder)
    model = call(builder, maxlen, hint=hint)
    if model is None:
        raise CheckFailed(f"`{name}` returned None: did you forget `return`? Return the model.")
    if (
        isinstance(model, (list, tuple))
        and model
        and all(isinstance(x, keras.Layer) for x in model)
    ):
        raise CheckFailed(
            f"`{name}` returned a {type(model).__name__} of {len(model)} layers: wrap them in a "
            "model, `return keras.Sequential([...])`."
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
    return model


def _check_length(model: Any, name: str, maxlen: int, recurrent: bool) -> None:
    """The model reads (batch, maxlen) word indices (a recurrent model may read any length)."""
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1:
        raise CheckFailed(
            f"The model of `{name}({maxlen})` has {len(inputs)} inputs; it should have one, "
            "keras.Input(shape=(maxlen,)) for the word indices of a review."
        )
    length = tuple(inputs[0].shape)[1:]
    if length == (maxlen,) or (recurrent and length == (None,)):
        return
    if maxlen != MAXLEN and length == (MAXLEN,):
        raise CheckFailed(
            f"`{name}({maxlen})` builds a model for reviews of {MAXLEN} words, not {maxlen}: "
            f"the length {MAXLEN} is written into your code. Use the argument, "
            "keras.Input(shape=(maxlen,)); section 3.8 builds the model for longer reviews."
        )
    raise CheckFailed(
        f"`{name}({maxlen})` reads inputs of shape {length}; it should read sequences of "
        f"maxlen = {maxlen} word indices: keras.Input(shape=(maxlen,)), using the argument "
        "maxlen rather than a fixed number."
    )


def _after(layers: list[Any], index: int) -> str:
    """What the layers after ``layers[index]`` do with a sequence, in words."""
    rest = [_type(layer) for layer in layers[index + 1 :]]
    if "Flatten" in rest:
        return "Flatten then strings all of them together for the output layer"
    pooling = [kind for kind in rest if "Pooling" in kind]
    if pooling:
        return f"{pooling[0]} then combines them for the output layer"
    return ""


def _check_recurrent(layers: list[Any], key: str, name: str, title: str, model: Any) -> None:
    """The recurrent layer of the SimpleRNN and LSTM models, as Keras sees it."""
    kind = _ARCHITECTURES[key][1][0]
    found = " -> ".join(_layer_text(layer) for layer in layers)
    recurrent = [i for i, layer in enumerate(layers) if _type(layer) in _RECURRENT]
    if not recurrent:
        raise CheckFailed(
            f"The model has no {kind} layer: put {kind}({UNITS}) between the Embedding and "
            f"the output layer. Your model: {found}."
        )
    index = recurrent[0]
    layer = layers[index]
    if _type(layer) == "Bidirectional":
        raise CheckFailed(
            f"`{name}` wraps the {_type(layer.forward_layer)} in Bidirectional, which adds a "
            "second layer that reads each review backwards; the exercise's model reads it "
            f"once, forwards: layers.{kind}({UNITS})."
        )
    if _type(layer) != kind:
        raise CheckFailed(
            f"`{name}` uses {_type(layer)}; this model is the {title}: use layers.{kind}({UNITS})."
        )
    if len(recurrent) > 1:
        raise CheckFailed(
            f"The model stacks {len(recurrent)} recurrent layers ({found}); the {title} has "
            f"one {kind}({UNITS}) between the Embedding and the output layer."
        )
    cell = layer.cell
    shape = _output_shape(model)
    if layer.return_sequences:
        then = _after(layers, index)
        if then:
            consequence = f"{then}, so the classifier sees every step instead of the final state"
        else:
            consequence = (
                f"the Dense layer after it predicts once per word, and the model outputs "
                f"{shape} instead of (None, 1)"
            )
        raise CheckFailed(
            f"{kind}(return_sequences=True) returns all its hidden states, one per word; "
            f"{consequence}. Leave return_sequences=False: the classifier reads the last "
            "hidden state only."
        )
    if cell.units != UNITS:
        raise CheckFailed(
            f"The {kind} layer has {cell.units} units; the exercise's model has {UNITS}: "
            f"layers.{kind}({UNITS})."
        )
    activation = _activation(cell.activation)
    if activation != "tanh":
        raise CheckFailed(
            f"The {kind} layer uses activation '{activation}'; the exercise's {kind} keeps "
            "the default tanh (h_t = tanh(W h_(t-1) + U x_t + b)), which keeps the hidden "
            "state between -1 and 1. Leave out activation=..."
        )
    if kind == "LSTM":
        gates = _activation(cell.recurrent_activation)
        if gates != "sigmoid":
            raise CheckFailed(
                f"The LSTM's gates use '{gates}' (recurrent_activation); the gates i, f and o "
                "are sigmoids, between 0 and 1, so that they scale what is written, kept and "
                "shown. Leave out recurrent_activation=..."
            )
    if layer.go_backwards:
        raise CheckFailed(
            f"The {kind} layer reads each review backwards (go_backwards=True): its last state "
            "then holds mostly the review's first words, while the verdict often comes at the "
            "end. The exercise's model reads forwards, the default."
        )
    if cell.dropout or cell.recurrent_dropout:
        raise CheckFailed(
            f"The {kind} layer has dropout={cell.dropout}, recurrent_dropout="
            f"{cell.recurrent_dropout}; the exercise's model has no dropout (section 3.8 adds "
            "it as an extension, one change at a time)."
        )
    if layer.stateful:
        raise CheckFailed(
            f"The {kind} layer is stateful=True: it would carry its state from one batch of "
            "reviews into the next. Each review starts from a zero state: leave stateful out."
        )
    if not cell.use_bias:
        raise CheckFailed(
            f"The {kind} layer has no bias (use_bias=False); the exercise's model keeps b."
        )


def _check_structure(model: Any, key: str, name: str, title: str) -> list[Any]:
    """Compare the model, layer by layer, with the exercise's; return its layers."""
    architecture = _ARCHITECTURES[key]
    wanted = " -> ".join(_spec_text(spec) for spec in architecture)
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
            if embedding.input_dim in (MAXLEN, OTHER_MAXLEN)
            else f"{embedding.input_dim:,}"
        )
        raise CheckFailed(
            f"Embedding's first argument is the vocabulary size, {NUM_WORDS:,} (NUM_WORDS): "
            f"one row per word index. Yours is {cause}."
        )
    if embedding.output_dim != WIDTH:
        raise CheckFailed(
            f"The embedding width is {embedding.output_dim}; the exercise's models give each "
            f"word {WIDTH} numbers: Embedding({NUM_WORDS}, {WIDTH})."
        )
    if getattr(embedding, "mask_zero", False):
        raise CheckFailed(
            "The Embedding has mask_zero=True, so the layers after it skip the padding; the "
            "exercise's model reads the padded reviews as they are. Leave mask_zero out (a "
            "mask is a fine extension for section 3.8)."
        )
    if key == "dense":
        if (
            not any(_type(layer) == "Flatten" for layer in layers)
            and len(_output_shape(model) or ()) == 3
        ):
            raise CheckFailed(
                "You forgot Flatten: without it Dense works on each of the "
                f"{MAXLEN} word vectors separately, and the model outputs {_output_shape(model)}, "
                "one prediction per word. Put layers.Flatten() right after the Embedding, so "
                f"that Dense({UNITS}) sees all {MAXLEN} x {WIDTH} numbers of a review at once."
            )
    else:
        _check_recurrent(layers, key, name, title, model)
    kinds = [_type(layer) for layer in layers]
    if kinds != [spec[0] for spec in architecture]:
        raise CheckFailed(f"The model should be {wanted}; yours is {found}.")
    for layer, (kind, size, activation, _) in zip(layers, architecture, strict=True):
        if kind != "Dense":
            continue
        last = layer is layers[-1]
        role = "output layer" if last else "hidden Dense layer"
        spec = _spec_text((kind, size, activation, ""))
        if layer.units != size:
            hint = (
                " One sigmoid unit gives the probability that the review is positive."
                if last
                else ""
            )
            raise CheckFailed(
                f"The {role} has {layer.units} units; it should have {size}: {spec}.{hint}"
            )
        got = _activation(layer.activation)
        if got != activation:
            if last and got == "softmax":
                why = "a softmax over a single unit is always 1, whatever the review"
            elif last and got == "linear":
                why = "without an activation the output is not a probability"
            else:
                why = f"the exercise's model uses {activation}"
            raise CheckFailed(f"The {role} uses activation '{got}': {why}. Use {spec}.")
        if not layer.use_bias:
            raise CheckFailed(
                f"The {role} has no bias (use_bias=False); the exercise's model keeps it: {spec}."
            )
    shape = _output_shape(model)
    if shape != (None, 1):
        raise CheckFailed(
            f"The model outputs {shape}; it should output (None, 1), one probability per "
            f"review. Your model: {found}."
        )
    names = [spec[3] for spec in architecture]
    given = [_names(layer) for layer in layers]
    if any(want not in have for want, have in zip(names, given, strict=True)):
        yours = ", ".join(f"'{have[0]}'" for have in given)
        raise CheckFailed(
            "Name the layers " + ", ".join(f"'{n}'" for n in names) + f" (name=...); yours are "
            f"{yours}. Keras numbers unnamed layers differently in every run, and later cells "
            "find the layers by name (section 3.2 reads model.get_layer('embedding'))."
        )
    return layers


def _run(model: Any, maxlen: int, name: str) -> None:
    """Run the model on a batch of two reviews of ``maxlen`` words (one padded at the front)."""
    import keras

    words = np.random.default_rng(maxlen).integers(3, NUM_WORDS, size=(2, maxlen))
    words[0, : maxlen // 3] = 0  # padding, as load_imdb pads
    try:
        with timed(f"running the model of `{name}({maxlen})` on 2 reviews"):
            output = np.asarray(keras.ops.convert_to_numpy(model(words, training=False)))
    except CheckFailed:
        raise
    except Exception as error:
        raise CheckFailed(
            f"The model of `{name}({maxlen})` fails on a batch of 2 reviews of {maxlen} words "
            f"({type(error).__name__}: {error})."
        ) from None
    if output.shape != (2, 1) or not np.all(np.isfinite(output)):
        raise CheckFailed(
            f"On 2 reviews of {maxlen} words the model of `{name}({maxlen})` gives "
            f"{describe(output)}; it should give 2 finite probabilities, shape (2, 1)."
        )
    if np.any(output < 0) or np.any(output > 1):
        raise CheckFailed(
            f"The model of `{name}({maxlen})` gives {output.ravel()} for 2 reviews: not "
            "probabilities. The output layer is Dense(1, activation='sigmoid')."
        )


def _check_builder(builder: Callable[..., Any], key: str, title: str) -> None:
    """Build ``builder(20)`` and ``builder(37)``, compare each with the exercise's model as
    Keras sees it (layer types, sizes, activations, options, names) and run it on a batch."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    name = function_name(builder)
    architecture = _ARCHITECTURES[key]
    wanted = " -> ".join(_spec_text(spec) for spec in architecture)
    hint = (
        f"`{name}(maxlen)` should build and return keras.Sequential([keras.Input("
        f"shape=(maxlen,)), {', '.join(_spec_text(spec) for spec in architecture)}])."
    )
    recurrent = key != "dense"
    models = []
    for maxlen in (MAXLEN, OTHER_MAXLEN):
        model = _model_from(builder, maxlen, hint)
        _check_length(model, name, maxlen, recurrent)
        _check_structure(model, key, name, title)
        models.append((maxlen, model))
    for maxlen, model in models:
        _run(model, maxlen, name)
    params = as_count("model.count_params()", models[0][1].count_params())
    if key == "dense" and params != _DENSE_PARAMS:
        raise CheckFailed(
            f"The model has {params:,} parameters; the exercise's {title} has "
            f"{_DENSE_PARAMS:,} for maxlen = {MAXLEN}. Compare model.summary() with {wanted}."
        )
    if recurrent:
        kind = architecture[1][0]
        expected = (
            NUM_WORDS * WIDTH
            + (4 if kind == "LSTM" else 1) * (WIDTH * UNITS + UNITS * UNITS + UNITS)
            + UNITS
            + 1
        )
        if params != expected:  # every layer was inspected; this is the last safety net
            raise CheckFailed(
                f"The model's parameter count is not that of the exercise's {title}, although "
                f"its layers look right: compare model.summary() with {wanted}."
            )
    names = ", ".join(f"'{spec[3]}'" for spec in architecture)
    size = f"; {params:,} parameters for maxlen {MAXLEN}" if key == "dense" else ""
    passed(
        f"{name}: {wanted}, layers named {names}{size}; built and run on reviews of "
        f"{MAXLEN} and {OTHER_MAXLEN} words."
    )


@feedback_check(keras=True)
def check_build_dense(build_dense: Callable[..., Any]) -> None:
    """Check ``build_dense(maxlen)``: Embedding(10000, 16), Flatten, Dense(32, relu),
    Dense(1, sigmoid), named embedding, flatten, hidden, output; 170,305 parameters for
    maxlen = 20."""
    _check_builder(build_dense, "dense", "dense model")


@feedback_check(keras=True)
def check_build_simple_rnn(build_simple_rnn: Callable[..., Any]) -> None:
    """Check ``build_simple_rnn(maxlen)``: Embedding(10000, 16), SimpleRNN(32),
    Dense(1, sigmoid), named embedding, simple_rnn, output."""
    _check_builder(build_simple_rnn, "simple_rnn", "SimpleRNN model")


@feedback_check(keras=True)
def check_build_lstm(build_lstm: Callable[..., Any]) -> None:
    """Check ``build_lstm(maxlen)``: Embedding(10000, 16), LSTM(32) with sigmoid gates,
    Dense(1, sigmoid), named embedding, lstm, output."""
    _check_builder(build_lstm, "lstm", "LSTM model")
