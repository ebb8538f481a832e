"""Chapter 4: parameter formulas against Keras, the parameter table, and the counting checks."""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402

from utils import checks  # noqa: E402
from utils.checks import CheckFailed  # noqa: E402
from utils.params import (  # noqa: E402
    dense_params,
    embedding_params,
    gru_params,
    lstm_params,
    parameter_table,
    simple_rnn_params,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "04_parameters.ipynb"

# A grid of a few dozen (input width, units) pairs, small enough to build layers quickly.
GRID = list(itertools.product([1, 3, 16, 32], [1, 2, 7, 32]))


def test_issue_references():
    assert embedding_params(10000, 16) == 160000
    assert dense_params(320, 32) == 10272
    assert dense_params(32, 1) == 33
    assert simple_rnn_params(16, 32) == 1568
    assert lstm_params(16, 32) == 6272
    assert lstm_params(32, 32) == 8320


def _keras_count(layer, input_shape) -> int:
    layer.build(input_shape)
    return layer.count_params()


@pytest.mark.parametrize(("d", "n"), GRID)
def test_formulas_match_keras_layers(d, n):
    assert simple_rnn_params(d, n) == _keras_count(keras.layers.SimpleRNN(n), (None, 5, d))
    assert lstm_params(d, n) == _keras_count(keras.layers.LSTM(n), (None, 5, d))
    assert gru_params(d, n) == _keras_count(keras.layers.GRU(n), (None, 5, d))
    assert gru_params(d, n, reset_after=False) == _keras_count(
        keras.layers.GRU(n, reset_after=False), (None, 5, d)
    )
    assert dense_params(d, n) == _keras_count(keras.layers.Dense(n), (None, d))
    assert dense_params(d, n, use_bias=False) == _keras_count(
        keras.layers.Dense(n, use_bias=False), (None, d)
    )
    assert embedding_params(d, n) == _keras_count(keras.layers.Embedding(d, n), (None, 4))


@pytest.mark.parametrize("function", [simple_rnn_params, lstm_params, gru_params, dense_params])
@pytest.mark.parametrize(
    ("bad", "error", "message"),
    [
        (0, ValueError, "positive integer, got 0"),
        (-3, ValueError, "got -3"),
        (2.5, TypeError, "got 2.5"),
        ("16", TypeError, "str"),
        (True, TypeError, "bool"),
    ],
)
def test_arguments_are_validated(function, bad, error, message):
    with pytest.raises(error, match=message):
        function(bad, 4)
    with pytest.raises(error, match="units"):
        function(4, bad)


def test_embedding_arguments_are_validated_and_numpy_ints_accepted():
    with pytest.raises(ValueError, match="output_dim"):
        embedding_params(10, 0)
    assert embedding_params(np.int64(10), np.int32(16)) == 160


def _sequential(*layers, length=20):
    return keras.Sequential([keras.Input(shape=(length,)), *layers])


def test_parameter_table_of_the_simple_rnn_model():
    model = _sequential(
        keras.layers.Embedding(10000, 16, name="embedding"),
        keras.layers.SimpleRNN(32, name="simple_rnn"),
        keras.layers.Dense(1, activation="sigmoid", name="output"),
    )
    table = parameter_table(model)
    assert list(table.columns) == ["layer", "weights", "formula", "by_formula", "keras", "agree"]
    assert table["agree"].all()
    assert list(table["by_formula"]) == [160000, 1568, 33, 161601]
    assert list(table["keras"]) == [160000, 1568, 33, 161601]
    rnn = table.loc[1, "weights"]
    assert "kernel (16, 32) = U" in rnn
    assert "recurrent_kernel (32, 32) = W" in rnn
    assert "bias (32,) = b" in rnn
    assert table.loc[2, "weights"] == "kernel (32, 1) = V; bias (1,) = c"
    assert "not U" in table.loc[0, "weights"]


@pytest.mark.parametrize(
    ("layers", "length", "total"),
    [
        (
            [
                keras.layers.Flatten(),
                keras.layers.Dense(32, activation="relu"),
                keras.layers.Dense(1),
            ],
            20,
            170305,
        ),
        ([keras.layers.LSTM(32), keras.layers.Dense(1)], 20, 166305),
        (
            [
                keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2, return_sequences=True),
                keras.layers.LSTM(32, dropout=0.2, recurrent_dropout=0.2),
                keras.layers.Dense(1),
            ],
            100,
            174625,
        ),
        ([keras.layers.GRU(32), keras.layers.Dense(1)], 20, 164833),
    ],
    ids=["3.1", "3.7", "3.8a", "gru"],
)
def test_parameter_table_of_the_chapter_3_models(layers, length, total):
    model = _sequential(keras.layers.Embedding(10000, 16), *layers, length=length)
    table = parameter_table(model)
    assert table["agree"].all()
    assert table["keras"].iloc[-1] == total == model.count_params()


def test_parameter_table_names_no_v_in_a_model_without_recurrence():
    model = _sequential(keras.layers.Flatten(), keras.layers.Dense(1))
    assert "= V" not in " ".join(parameter_table(model)["weights"])


def test_parameter_table_flags_unknown_layers_and_rejects_non_models():
    model = _sequential(
        keras.layers.Embedding(50, 4), keras.layers.Conv1D(3, 2), keras.layers.Flatten()
    )
    table = parameter_table(model)
    assert not table.loc[1, "agree"] and table.loc[1, "formula"].startswith("no formula")
    assert not table["agree"].iloc[-1]
    with pytest.raises(ValueError, match="built Keras model"):
        parameter_table(keras.layers.Dense(3))


# ------------------------------------------------------------------ checks


def _simple(d, n):
    return d * n + n * n + n


def _lstm(d, n):
    return 4 * _simple(d, n)


def test_count_checks_pass_on_correct_answers(capsys):
    checks.check_simple_rnn_count(_simple)
    checks.check_simple_rnn_count(simple_rnn_params)
    checks.check_lstm_count(_lstm)
    checks.check_lstm_count(lstm_params)
    checks.check_rnn_model_counts(lambda: {"embedding": 160000, "simple_rnn": 1568, "dense": 33})
    checks.check_stacked_lstm_counts(lambda: (6272, 8320))
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 6


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda d, n: d * n + n * n, "forgot the bias"),
        (lambda d, n: d * n + n, "forgot the recurrent weights W"),
        (lambda d, n: n * n + n, "forgot the input weights U"),
        (lambda d, n: 2 * n * n + n, "not units x units"),
        (lambda d, n: 4 * _simple(d, n), "LSTM's count"),
        (lambda d, n: d * n, "count U"),
        (lambda d, n: "many", "whole number"),
    ],
)
def test_check_simple_rnn_count_messages(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_simple_rnn_count(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_simple, "four gates|4 gates|one gate's worth"),
        (lambda d, n: 4 * (d * n + n * n), "forgot the bias"),
        (lambda d, n: 4 * (d * n + n), "forgot the recurrent weights W"),
        (lambda d, n: 3 * _simple(d, n), "GRU"),
    ],
)
def test_check_lstm_count_messages(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_lstm_count(wrong)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"embedding": 160000, "simple_rnn": 161056, "dense": 33}, "counted the embedding as U"),
        ({"embedding": 160000, "simple_rnn": 160000, "dense": 33}, "counted the embedding as U"),
        ({"embedding": 160000, "simple_rnn": 161568, "dense": 33}, "counted the embedding as U"),
        ({"embedding": 320, "simple_rnn": 1568, "dense": 33}, "one row per vocabulary word"),
        ({"embedding": 160000, "simple_rnn": 1536, "dense": 33}, "forgot the bias"),
        ({"embedding": 160000, "simple_rnn": 544, "dense": 33}, "recurrent weights W"),
        ({"embedding": 160000, "simple_rnn": 1568, "dense": 32}, "forgot the bias"),
        ({"embedding": 160000, "simple_rnn": 1568, "dense": 641}, "last hidden state"),
        ({"embedding": 160000, "simple_rnn": 1568}, "keys"),
    ],
)
def test_check_rnn_model_counts_messages(answer, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_rnn_model_counts(lambda: answer)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((6272, 6272), "does not read the 16-number embeddings"),
        ((1568, 8320), "one gate's worth"),
        ((6272, 4 * (32 * 32 + 32 * 32)), "forgot the bias"),
        ((6272,), "pair"),
    ],
)
def test_check_stacked_lstm_counts_messages(answer, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_stacked_lstm_counts(lambda: answer)


def test_count_checks_explain_stubs():
    def stub(*args):
        raise NotImplementedError

    for check in (
        checks.check_simple_rnn_count,
        checks.check_lstm_count,
        checks.check_rnn_model_counts,
        checks.check_stacked_lstm_counts,
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(stub)


# ------------------------------------------------------------------ the stored notebook


def test_stored_notebook_shows_both_figures_and_agreeing_tables():
    notebook = nbformat.read(SOLUTION, as_version=4)
    outputs = [output for cell in notebook.cells for output in cell.get("outputs", [])]
    text = "".join(
        output.get("text", "") + output.get("data", {}).get("text/plain", "") for output in outputs
    )
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert any("with 2 Axes" in output["data"]["text/plain"] for output in figures)
    assert text.count("every row agrees with Keras: True") == 5
    assert "every row agrees with Keras: False" not in text
    for total in ["170305", "161601", "166305", "174625"]:
        assert total in text
