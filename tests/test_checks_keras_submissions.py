"""Simulated student submissions for the checks that need Keras (issue 19).

Chapter 3's three model builders and chapter 5's PositionEmbedding: at least eight plausible
wrong submissions each, every one rejected with the message that names its mistake, and at
least three correct but unusual ones (the functional API, keyword forms, activation layers,
a cell wrapped in RNN, a length-free input) that pass. The counting checks are also tried
here with Keras imported, where a layer built to read off its count is caught by name.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from utils import checks
from utils.checks import CheckFailed

keras = pytest.importorskip("keras")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
layers, ops = keras.layers, keras.ops
NUM_WORDS = 10_000


def _judge(check, function, message, capsys):
    if message is None:
        check(function)
        out = capsys.readouterr().out
        assert out.startswith("\N{CHECK MARK}"), out
        return
    with pytest.raises(CheckFailed, match=message):
        check(function)
    assert "\N{CHECK MARK}" not in capsys.readouterr().out


# ------------------------------------------------------------------ chapter 3's builders


def _sequential(*stack, maxlen=20, fixed=None):
    return keras.Sequential([keras.Input(shape=(fixed or maxlen,)), *stack])


def _embedding(**options):
    return layers.Embedding(options.pop("words", NUM_WORDS), options.pop("width", 16),
                            name=options.pop("name", "embedding"), **options)  # fmt: skip


def _dense_builder(hidden=None, output=None, middle=None, embedding=None, fixed=None):
    def build_dense(maxlen=20):
        return _sequential(
            embedding() if embedding else _embedding(),
            *(middle() if middle else [layers.Flatten(name="flatten")]),
            hidden() if hidden else layers.Dense(32, activation="relu", name="hidden"),
            output() if output else layers.Dense(1, activation="sigmoid", name="output"),
            maxlen=maxlen, fixed=fixed,
        )  # fmt: skip

    return build_dense


def _dense_functional(maxlen=20):
    words = keras.Input(shape=(maxlen,), dtype="int32", name="words")
    x = layers.Embedding(input_dim=NUM_WORDS, output_dim=16, name="embedding")(words)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(units=32, activation=keras.activations.relu, name="hidden")(x)
    return keras.Model(words, layers.Dense(units=1, activation="sigmoid", name="output")(x))


def _dense_activation_layers(maxlen=20):
    return _sequential(
        _embedding(), layers.Flatten(name="flatten"), layers.Dense(32, name="hidden"),
        layers.ReLU(), layers.Dense(1, name="output"), layers.Activation("sigmoid"),
        maxlen=maxlen,
    )  # fmt: skip


def _dense_built_later(maxlen=20):
    model = keras.Sequential([_embedding(), layers.Flatten(name="flatten"),
                              layers.Dense(32, activation="relu", name="hidden"),
                              layers.Dense(1, activation="sigmoid", name="output")])  # fmt: skip
    model.build((None, maxlen))
    return model


DENSE = [
    ("functional, keywords", _dense_functional, None),
    ("ReLU and Activation layers", _dense_activation_layers, None),
    ("built with model.build", _dense_built_later, None),
    ("length 20 written in", _dense_builder(fixed=20), "written into your code"),
    ("no Flatten", _dense_builder(middle=lambda: []), "You forgot Flatten"),
    ("pooling", _dense_builder(middle=lambda: [layers.GlobalAveragePooling1D()]),
     "yours is .*GlobalAveragePooling1D"),
    ("sigmoid hidden", _dense_builder(hidden=lambda: layers.Dense(32, activation="sigmoid",
                                                                 name="hidden")),
     "hidden Dense layer uses activation 'sigmoid'"),
    ("softmax output", _dense_builder(output=lambda: layers.Dense(1, activation="softmax",
                                                                 name="output")),
     "always 1"),
    ("hidden without bias", _dense_builder(hidden=lambda: layers.Dense(
        32, activation="relu", use_bias=False, name="hidden")), "hidden Dense layer has no bias"),
    ("width 8", _dense_builder(embedding=lambda: _embedding(width=8)), "embedding width is 8"),
    ("vocabulary maxlen", lambda maxlen=20: _dense_builder(
        embedding=lambda: _embedding(words=maxlen))(maxlen), "the sequence length maxlen"),
    ("mask_zero", _dense_builder(embedding=lambda: _embedding(mask_zero=True)), "mask_zero"),
    ("unnamed", lambda maxlen=20: _sequential(
        layers.Embedding(NUM_WORDS, 16), layers.Flatten(), layers.Dense(32, activation="relu"),
        layers.Dense(1, activation="sigmoid"), maxlen=maxlen), "Name the layers"),
]  # fmt: skip

_KIND_NAMES = {"SimpleRNN": "simple_rnn", "LSTM": "lstm", "GRU": "gru"}


def _rnn_builder(kind="SimpleRNN", fixed=None, names=True, extra=(), output=None, **options):
    def build(maxlen=20):
        name = {"name": _KIND_NAMES[kind]} if names else {}
        stack = [
            _embedding() if names else layers.Embedding(NUM_WORDS, 16),
            getattr(layers, kind)(32, **name, **options),
            *[make() for make in extra],
            output() if output else layers.Dense(1, activation="sigmoid",
                                                 **({"name": "output"} if names else {})),
        ]  # fmt: skip
        return _sequential(*stack, maxlen=maxlen, fixed=fixed)

    return build


def _rnn_functional(kind):
    def build(maxlen=20):
        words = keras.Input(shape=(maxlen,), dtype="int32")
        x = layers.Embedding(input_dim=NUM_WORDS, output_dim=16, name="embedding")(words)
        x = getattr(layers, kind)(units=32, name=_KIND_NAMES[kind])(x)
        x = layers.Dense(units=1, name="output")(x)
        return keras.Model(words, layers.Activation(keras.activations.sigmoid)(x))

    return build


def _rnn_cell(maxlen=20):
    return _sequential(
        _embedding(), layers.RNN(layers.SimpleRNNCell(32), name="simple_rnn"),
        layers.Dense(1, activation=keras.activations.sigmoid, name="output"), maxlen=maxlen,
    )  # fmt: skip


def _any_length(kind):
    def build(maxlen=20):
        return keras.Sequential([
            keras.Input(shape=(None,)), _embedding(),
            getattr(layers, kind)(32, name=_KIND_NAMES[kind]),
            layers.Dense(1, activation="sigmoid", name="output"),
        ])  # fmt: skip

    return build


SIMPLE_RNN = [
    ("functional, Activation layer", _rnn_functional("SimpleRNN"), None),
    ("RNN(SimpleRNNCell)", _rnn_cell, None),
    ("any length", _any_length("SimpleRNN"), None),
    ("relu", _rnn_builder(activation="relu"), "SimpleRNN layer uses activation 'relu'"),
    ("all states, Flatten", _rnn_builder(return_sequences=True, extra=[layers.Flatten]),
     "Flatten then strings all of them together"),
    ("all states", _rnn_builder(return_sequences=True), r"predicts once per word.*\(None, 20, 1\)"),
    ("backwards", _rnn_builder(go_backwards=True), "backwards"),
    ("Bidirectional", lambda maxlen=20: _sequential(
        _embedding(), layers.Bidirectional(layers.SimpleRNN(32), name="simple_rnn"),
        layers.Dense(1, activation="sigmoid", name="output"), maxlen=maxlen), "Bidirectional"),
    ("an LSTM", _rnn_builder("LSTM"), "uses LSTM"),
    ("length 20 written in", _rnn_builder(fixed=20), "written into your code"),
    ("unnamed", _rnn_builder(names=False), "Name the layers"),
    ("stacked", _rnn_builder(return_sequences=True, extra=[lambda: layers.SimpleRNN(32)]),
     "stacks 2 recurrent layers"),
    ("dropout", _rnn_builder(dropout=0.2), "no dropout"),
]  # fmt: skip

LSTM = [
    ("functional, Activation layer", _rnn_functional("LSTM"), None),
    ("any length", _any_length("LSTM"), None),
    ("defaults spelt out", _rnn_builder("LSTM", activation="tanh", recurrent_activation="sigmoid",
                                        unroll=True), None),
    ("tanh gates", _rnn_builder("LSTM", recurrent_activation="tanh"), "gates use 'tanh'"),
    ("relu", _rnn_builder("LSTM", activation="relu"), "LSTM layer uses activation 'relu'"),
    ("64 units", lambda maxlen=20: _sequential(
        _embedding(), layers.LSTM(64, name="lstm"),
        layers.Dense(1, activation="sigmoid", name="output"), maxlen=maxlen), "has 64 units"),
    ("length 20 written in", _rnn_builder("LSTM", fixed=20), "written into your code"),
    ("a GRU", _rnn_builder("GRU"), "uses GRU"),
    ("no bias", _rnn_builder("LSTM", use_bias=False), "LSTM layer has no bias"),
    ("linear output", _rnn_builder("LSTM", output=lambda: layers.Dense(1, name="output")),
     "not a probability"),
    ("not built", lambda maxlen=20: keras.Sequential([_embedding(), layers.LSTM(32)]), "not built"),
    ("a list", lambda maxlen=20: [_embedding(), layers.LSTM(32)], "wrap them"),
    ("unnamed", _rnn_builder("LSTM", names=False), "Name the layers"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore:Layer 'flatten'")  # mask_zero before Flatten: Keras warns
@pytest.mark.parametrize(
    ("check", "function", "message"),
    [
        pytest.param(check, function, message, id=f"{check.__name__}: {label}")
        for check, table in ((checks.check_build_dense, DENSE),
                             (checks.check_build_simple_rnn, SIMPLE_RNN),
                             (checks.check_build_lstm, LSTM))
        for label, function, message in table
    ],
)  # fmt: skip
def test_builders(check, function, message, capsys):
    _judge(check, function, message, capsys)


def test_builder_success_shows_no_recurrent_count(capsys):
    checks.check_build_lstm(_rnn_builder("LSTM"))
    out = capsys.readouterr().out
    assert "maxlen" not in out or "20 and 37" in out
    for count in ("166,305", "6,272", "166305", "6272", "161,601", "1,568"):
        assert count not in out


# ------------------------------------------------------------------ chapter 5's layer


class PositionEmbedding(layers.Layer):
    """The exercise's layer: given __init__, the solution's call and compute_mask."""

    def __init__(self, sequence_length, vocabulary_size, d_model, **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = sequence_length
        self.token_embedding = layers.Embedding(vocabulary_size, d_model, name="tokens")
        self.position_embedding = layers.Embedding(sequence_length, d_model, name="positions")

    def call(self, word_indices):
        positions = ops.arange(ops.shape(word_indices)[-1])
        return self.token_embedding(word_indices) + self.position_embedding(positions)

    def compute_mask(self, word_indices, mask=None):
        return ops.not_equal(word_indices, 0)


def _variant(call=None, compute_mask=None):
    members = {"call": call} if call else {}
    if compute_mask:
        members["compute_mask"] = compute_mask
    return type("PositionEmbedding", (PositionEmbedding,), members)


def _with(positions, combine=lambda tokens, places: tokens + places):
    """A call that looks up ``positions(self, word_indices)`` and combines the two tables."""
    return lambda self, w: combine(
        self.token_embedding(w), self.position_embedding(positions(self, w))
    )


def _explicit_broadcast(self, word_indices):
    length = ops.shape(word_indices)[-1]
    places = ops.expand_dims(self.position_embedding(ops.arange(0, length, 1)), axis=0)
    return self.token_embedding(word_indices) + places


def _cast_first(self, word_indices):
    word_indices = ops.cast(word_indices, "int32")
    places = self.position_embedding(ops.arange(start=0, stop=ops.shape(word_indices)[1]))
    return ops.add(self.token_embedding(word_indices), places)


POSITION_EMBEDDING = [
    ("explicit broadcast, keyword mask", _variant(
        _explicit_broadcast, lambda self, word_indices, mask=None: word_indices != 0), None),
    ("cast, ops.add, shape[1]", _variant(_cast_first), None),
    ("mask via ops.greater", _variant(
        compute_mask=lambda self, word_indices, mask=None: ops.greater(word_indices, 0)), None),
    ("NumPy mask", _variant(compute_mask=lambda self, w, mask=None: np.not_equal(w, 0)),
     "compute_mask fails on a symbolic input"),
    ("from 1", _variant(_with(lambda s, w: ops.arange(1, ops.shape(w)[-1] + 1))),
     "positions start at 1"),
    ("batch axis", _variant(_with(lambda s, w: ops.arange(ops.shape(w)[0]))), "batch axis"),
    ("sequence_length", _variant(_with(lambda s, w: ops.arange(s.sequence_length))),
     r"yours come from sequence_length \(\[0, 1, 2, 3, 4, 5\]\)"),
    ("from the words", _variant(_with(lambda s, w: w)), "taken from the word indices"),
    ("static shape", _variant(_with(lambda s, w: ops.arange(w.shape[-1]))),
     r"fails inside a model built with keras.Input\(shape=\(None,\)\)"),
    ("concatenated", _variant(_with(lambda s, w: ops.arange(ops.shape(w)[-1]),
                                    lambda t, p: ops.concatenate(
                                        [t, ops.broadcast_to(p, ops.shape(t))], axis=-1))),
     "concatenate"),
    ("scaled tokens", _variant(_with(lambda s, w: ops.arange(ops.shape(w)[-1]),
                                     lambda t, p: t * 2.0 + p)),
     "sqrt\\(d_model\\)"),
    ("no mask", _variant(compute_mask=lambda self, w, mask=None: None), "returned None"),
    ("inverted mask", _variant(compute_mask=lambda self, w, mask=None: ops.equal(w, 0)),
     "True exactly where"),
]  # fmt: skip


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize(
    ("layer_class", "message"),
    [pytest.param(c, m, id=label) for label, c, m in POSITION_EMBEDDING],
)
def test_position_embedding(layer_class, message, capsys):
    _judge(checks.check_position_embedding, layer_class, message, capsys)


@pytest.mark.parametrize(
    "table", [DENSE, SIMPLE_RNN, LSTM, POSITION_EMBEDDING], ids=["dense", "rnn", "lstm", "pe"]
)
def test_eight_wrong_and_three_unusual_correct(table):
    assert sum(m is not None for _, _, m in table) >= 8
    assert sum(m is None for _, _, m in table) >= 3


# ------------------------------------------------------------------ counts, Keras imported


def _simple_rnn_layer(d, n):
    layer = keras.layers.SimpleRNN(n)
    layer.build((None, None, d))
    return layer.count_params()


def _encoder_from_keras(d, h, k, f):
    attention = keras.layers.MultiHeadAttention(h, k)
    x = np.zeros((1, 2, d), "float32")
    attention(x, x)
    return attention.count_params() + 4 * d + 2 * d * f + f + d


@pytest.mark.parametrize(
    ("check", "function", "message"),
    [
        (checks.check_simple_rnn_count, _simple_rnn_layer, "builds a Keras SimpleRNN"),
        (checks.check_lstm_count, lambda d, n: 4 * _simple_rnn_layer(d, n), "builds a Keras SimpleRNN"),
        (checks.check_encoder_block_count, _encoder_from_keras,
         "builds a Keras MultiHeadAttention"),
        (checks.check_stacked_lstm_counts, lambda: (
            keras.layers.LSTM(32).count_params(), 8_320), "builds a Keras LSTM"),
    ],
)  # fmt: skip
def test_counts_built_with_keras_are_named(check, function, message):
    with pytest.raises(CheckFailed, match=message):
        check(function)
    assert keras.Layer.__init__.__name__ == "__init__"  # the spy is gone
