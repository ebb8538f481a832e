"""Chapter 3's checks: nearest neighbours on the toy table, and the three model builders.

Each targeted message is proved by a function that makes the mistake. The nearest-neighbour
check tests moved here from test_imdb.py (their correct fake now follows every rule of the
exercise, including the ValueError for an index without a row).
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

# ------------------------------------------------------------------ nearest neighbours


def _neighbours(
    normalise=True,
    exclude_self=True,
    query_norm=True,
    ascending=False,
    fixed_k=None,
    word_shift=0,
    row_shift=0,
    unknown_error=ValueError,
    row_guard=True,
):
    """A nearest-neighbour function, correct by default, with one mistake switched on."""

    def nearest_neighbours(embeddings, vocabulary, word, k=8):
        if word not in vocabulary:
            if unknown_error is KeyError:
                vocabulary[word]
            raise unknown_error(f"{word!r} is not in the vocabulary")
        index = vocabulary[word] + row_shift
        if row_guard and index >= len(embeddings):
            raise ValueError(f"{word!r} has index {index}; embeddings {embeddings.shape}")
        scores = embeddings @ embeddings[index]
        if normalise:
            norms = np.linalg.norm(embeddings, axis=1)
            scores = scores / (norms * (norms[index] if query_norm else 1.0))
        if exclude_self:
            scores[index] = -np.inf
        order = np.argsort(scores if ascending else -scores, kind="stable")
        if ascending:
            order = [i for i in order if np.isfinite(scores[i])]
        words = {i: w for w, i in vocabulary.items()}
        best = order[: fixed_k or k]
        return [(words.get(i + word_shift, f"<{i}>"), float(scores[i])) for i in best]

    return nearest_neighbours


def _stub(embeddings, vocabulary, word, k=8):
    raise NotImplementedError


def test_check_nearest_neighbours_passes_a_correct_function(capsys):
    checks.check_nearest_neighbours(_neighbours())
    assert capsys.readouterr().out.startswith("\N{CHECK MARK}")


def test_check_nearest_neighbours_passes_the_solution(capsys):
    solution = notebook_definitions(ROOT / "solutions" / "03_imdb.ipynb")
    checks.check_nearest_neighbours(solution["nearest_neighbours"])
    assert "\N{CHECK MARK}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_neighbours(normalise=False), "plain dot product"),
        (_neighbours(exclude_self=False), "its own nearest neighbour"),
        (_neighbours(ascending=True), "reversed"),
        (_neighbours(unknown_error=KeyError), "raised KeyError"),
        (_stub, "not implemented yet"),
        # The example query has length 2: a similarity without its norm is twice the cosine.
        (_neighbours(query_norm=False), "query's length"),
        (_neighbours(fixed_k=8), "returned 8 neighbours for k = 3"),
        (_neighbours(fixed_k=3), "returned 3 neighbours for k = 5"),
        (_neighbours(word_shift=3), "3 rows off"),
        (_neighbours(word_shift=-3), "3 rows off"),
        (_neighbours(row_shift=-3), "those of row 0"),
        (_neighbours(row_guard=False), "raised IndexError"),
        (_neighbours(unknown_error=LookupError), "raised LookupError"),
        (lambda e, v, w, k=8: [w for w, _ in _neighbours()(e, v, w, k)], "pairs"),
        (lambda e, v, w, k=8: dict(_neighbours()(e, v, w, k)), "pairs"),
        (lambda e, v, w, k=8: [(w, "high") for w, _ in _neighbours()(e, v, w, k)], "a number"),
    ],
)
def test_check_nearest_neighbours_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_nearest_neighbours(wrong)


def test_nearest_neighbours_message_for_an_unnamed_value_error():
    def silent(embeddings, vocabulary, word, k=8):
        if word not in vocabulary:
            raise ValueError("not found")
        return _neighbours()(embeddings, vocabulary, word, k)

    with pytest.raises(CheckFailed, match="does not say so.*Name excellent"):
        checks.check_nearest_neighbours(silent)


def test_nearest_neighbours_may_change_its_inputs(capsys):
    def in_place(embeddings, vocabulary, word, k=8):
        result = _neighbours()(embeddings, vocabulary, word, k)
        embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
        vocabulary.clear()
        return result

    checks.check_nearest_neighbours(in_place)
    out = capsys.readouterr().out
    assert "\N{CHECK MARK}" in out and "`embeddings`, `vocabulary` in place" in out


# ------------------------------------------------------------------ model builders

keras = pytest.importorskip("keras")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
layers = keras.layers


def _model(*stack, maxlen=20, with_input=True):
    first = [keras.Input(shape=(maxlen,))] if with_input else []
    return keras.Sequential(first + list(stack))


def _embedding(words=10_000, width=16, **options):
    return layers.Embedding(words, width, name="embedding", **options)


def _dense(maxlen=20):
    return _model(
        _embedding(), layers.Flatten(name="flatten"),
        layers.Dense(32, activation="relu", name="hidden"),
        layers.Dense(1, activation="sigmoid", name="output"), maxlen=maxlen,
    )  # fmt: skip


_NAMES = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def _recurrent(kind="SimpleRNN", units=32, output="sigmoid", out_units=1, **options):
    def build(maxlen=20):
        return _model(
            _embedding(), getattr(layers, kind)(units, name=_NAMES[kind], **options),
            layers.Dense(out_units, activation=output, name="output"), maxlen=maxlen,
        )  # fmt: skip

    return build


@pytest.fixture(scope="module")
def solution_builders():
    namespace = notebook_definitions(ROOT / "solutions" / "03_imdb.ipynb")
    namespace["NUM_WORDS"] = 10_000  # a top-level constant of the notebook
    return namespace


def test_builder_checks_pass_the_solution(solution_builders, capsys):
    # Equivalent forms (functional API, activation layers, RNN cells, ...) are in
    # test_checks_keras_submissions.py.
    checks.check_build_dense(solution_builders["build_dense"])
    checks.check_build_simple_rnn(solution_builders["build_simple_rnn"])
    checks.check_build_lstm(solution_builders["build_lstm"])
    out = capsys.readouterr().out
    assert out.count("\N{CHECK MARK}") == 3
    assert "170,305" in out  # the text gives the dense model's count
    # The recurrent models' counts are exercises (counted before the summaries show them).
    for count in ("161,601", "166,305", "1,568", "6,272", "161601", "166305", "1568", "6272"):
        assert count not in out
    assert "assignment" not in out


@pytest.mark.parametrize(
    ("check", "builder", "message"),
    [
        ("check_build_dense",
         lambda m: _model(_embedding(), layers.Dense(32, activation="relu"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "You forgot Flatten"),
        ("check_build_dense",
         lambda m: _model(_embedding(10_000, 8), layers.Flatten(),
                          layers.Dense(32, activation="relu"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "embedding width is 8"),
        ("check_build_dense",
         lambda m: _model(_embedding(m, 16), layers.Flatten(),
                          layers.Dense(32, activation="relu"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "Yours is the sequence length maxlen"),
        ("check_build_dense",
         lambda m: _model(_embedding(5_000), layers.Flatten(),
                          layers.Dense(32, activation="relu"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "vocabulary size, 10,000"),
        ("check_build_dense",
         lambda m: _model(_embedding(), layers.Flatten(), layers.Dense(32, activation="sigmoid"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "hidden Dense layer uses activation 'sigmoid'"),
        ("check_build_dense",
         lambda m: _model(_embedding(), layers.Flatten(), layers.Dense(64, activation="relu"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "hidden Dense layer has 64 units"),
        ("check_build_dense",
         lambda m: _model(_embedding(), layers.GlobalAveragePooling1D(),
                          layers.Dense(32, activation="relu"),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "yours is .*GlobalAveragePooling1D"),
        ("check_build_dense", lambda m: _dense(100), "inputs of shape \\(100,\\)"),
        ("check_build_simple_rnn", _recurrent(return_sequences=True),
         "return_sequences=True"),
        ("check_build_simple_rnn", _recurrent(output="softmax"),
         "softmax over a single unit is always 1"),
        ("check_build_simple_rnn", _recurrent(output=None), "activation 'linear'"),
        ("check_build_simple_rnn", _recurrent(output="relu"), "activation 'relu'"),
        ("check_build_simple_rnn", _recurrent(units=64), "SimpleRNN layer has 64 units"),
        ("check_build_simple_rnn", _recurrent("LSTM"), "uses LSTM"),
        ("check_build_simple_rnn", _recurrent("GRU"), "uses GRU"),
        ("check_build_simple_rnn",
         lambda m: _model(_embedding(), layers.Flatten(), layers.Dense(1, activation="sigmoid"),
                          maxlen=m),
         "no SimpleRNN layer"),
        ("check_build_lstm", _recurrent("SimpleRNN"), "uses SimpleRNN"),
        ("check_build_lstm", _recurrent("LSTM", output="softmax", out_units=2),
         "output layer has 2 units"),
        ("check_build_lstm", _recurrent("LSTM", units=16), "LSTM layer has 16 units"),
        ("check_build_lstm",
         lambda m: _model(_embedding(), layers.LSTM(32), layers.Dropout(0.5),
                          layers.Dense(1, activation="sigmoid"), maxlen=m),
         "yours is .*Dropout"),
        ("check_build_lstm",
         lambda m: _model(_embedding(), layers.LSTM(32), layers.Dense(1, activation="sigmoid"),
                          with_input=False),
         "not built"),
        ("check_build_lstm", lambda m: None, "did you forget `return`"),
        ("check_build_lstm", lambda m: [_embedding(), layers.LSTM(32)],
         "list of 2 layers: wrap them"),
        ("check_build_lstm", lambda m: "lstm", "not a Keras model"),
        ("check_build_lstm", lambda: _dense(), "(?s)raised TypeError.*build and return"),
        ("check_build_lstm",
         lambda m: _model(layers.Flatten(), layers.Dense(1, activation="sigmoid"), maxlen=m),
         "first layer should be Embedding"),
    ],
)  # fmt: skip
def test_builder_checks_name_the_mistake(check, builder, message):
    with pytest.raises(CheckFailed, match=message):
        getattr(checks, check)(builder)


def test_builder_check_reports_a_training_history():
    def trains(maxlen):
        model = _recurrent("LSTM")(maxlen)
        model.compile(loss="binary_crossentropy", optimizer="rmsprop")
        return model.fit(np.zeros((4, maxlen)), np.zeros(4), epochs=1, verbose=0)

    with pytest.raises(CheckFailed, match="History of model.fit"):
        checks.check_build_lstm(trains)
