"""Chapter 2: the NumPy RNN of the solution notebook, its checks, and Keras's SimpleRNN."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import numpy as np
import pytest
from notebook_code import notebook_definitions

from utils import checks
from utils.checks import CheckFailed
from utils.data import load_rnn_example

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "02_rnn.ipynb"
STUDENT = ROOT / "chapters" / "02_rnn.ipynb"
ATOL = 1e-6

pytestmark = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR (the uuml data)"
)


@pytest.fixture(scope="module")
def sol() -> dict:
    return notebook_definitions(SOLUTION)


@pytest.fixture(scope="module")
def ex():
    return load_rnn_example()


def _layer(ex, sol):
    return sol["rnn_layer"](ex.embeddings, ex.W, ex.V, ex.U, ex.b, ex.c)


# ------------------------------------------------------------------ references


def test_reference_a1_h1_yhat1(ex, sol):
    a_1 = sol["rnn_unit"](np.zeros((4, 1)), ex.embeddings[0:1], ex.W, ex.U, ex.b)
    assert a_1.shape == (4, 1)
    np.testing.assert_allclose(
        a_1.ravel(), [0.5819145, -2.2686535, -0.6410312, 1.4891931], atol=ATOL
    )
    h_1 = sol["activation"](a_1)
    assert h_1.shape == (4, 1)
    np.testing.assert_allclose(
        h_1.ravel(), [0.5240555, -0.9788223, -0.5656013, 0.9031762], atol=ATOL
    )
    yhat_1 = sol["softmax"](sol["output_rnn"](h_1, ex.V, ex.c))
    assert yhat_1.shape == (3, 1)
    np.testing.assert_allclose(yhat_1.ravel(), [0.3063613, 0.2930885, 0.4005502], atol=ATOL)


def test_reference_rnn_layer_first_three_tokens(ex, sol):
    ht, yhat = sol["rnn_layer"](ex.embeddings[:3], ex.W, ex.V, ex.U, ex.b, ex.c)
    assert ht.shape == (3, 4) and yhat.shape == (3, 3)
    expected_h = [
        [0.52405551, -0.97882227, -0.5656013, 0.9031762],
        [-0.05951368, 0.03988226, 0.8241800, -0.6562744],
        [-0.08984008, 0.92822217, -0.1563247, -0.6657626],
    ]
    expected_y = [
        [0.3063613, 0.2930885, 0.4005502],
        [0.2838013, 0.3490452, 0.3671536],
        [0.2878002, 0.3666877, 0.3455121],
    ]
    np.testing.assert_allclose(ht, expected_h, atol=ATOL)
    np.testing.assert_allclose(yhat, expected_y, atol=ATOL)


def test_memory_the_two_the_tokens_differ(ex, sol):
    ht, _ = _layer(ex, sol)
    assert ht.shape == (9, 4)
    assert np.array_equal(ex.embeddings[0], ex.embeddings[6])
    assert not np.allclose(ht[0], ht[6], atol=1e-3)


def test_activation_equals_tanh_and_does_not_overflow(sol):
    x = np.concatenate([np.linspace(-20, 20, 401), [800.0, -800.0, 1e300, -1e300, 0.0]])
    with np.errstate(over="raise", invalid="raise"):  # underflow to 0 is harmless
        values = sol["activation"](x)
    np.testing.assert_allclose(values, np.tanh(x), atol=1e-12)


def test_keras_simple_rnn_reproduces_ht_and_yhat(ex, sol):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    inputs = keras.Input(shape=(None, 5), dtype="float64")
    states = keras.layers.SimpleRNN(4, return_sequences=True, dtype="float64", name="rnn")(inputs)
    probs = keras.layers.Dense(3, activation="softmax", dtype="float64", name="out")(states)
    model = keras.Model(inputs, [states, probs])
    model.get_layer("rnn").set_weights([ex.U.T, ex.W.T, ex.b.ravel()])
    model.get_layer("out").set_weights([ex.V.T, ex.c.ravel()])
    keras_h, keras_y = (np.asarray(out)[0] for out in model(ex.embeddings[np.newaxis]))
    ht, yhat = _layer(ex, sol)
    np.testing.assert_allclose(ht, keras_h, rtol=0, atol=ATOL)
    np.testing.assert_allclose(yhat, keras_y, rtol=0, atol=ATOL)


def test_stored_outputs_show_the_references():
    text = ""
    for cell in nbformat.read(SOLUTION, as_version=4).cells:
        for output in cell.get("outputs", []):
            text += output.get("text", "") + output.get("data", {}).get("text/plain", "")
    for reference in [
        "0.5819145 -2.2686535 -0.6410312  1.4891931",
        "0.5240555 -0.9788223 -0.5656013  0.9031762",
        "0.3063613 0.2930885 0.4005502",
        "brown -0.08984008  0.92822217 -0.15632471 -0.66576260",
        "quick  0.28380127  0.34904517  0.36715356",
        "agree with ours to 1e-6: True",
    ]:
        assert reference in text


# ------------------------------------------------------------------ bad input


def test_wrong_embedding_width_names_the_shapes(ex, sol):
    with pytest.raises(ValueError, match=r"\(1, 4\).*\(4, 5\)"):
        sol["rnn_unit"](np.zeros((4, 1)), np.zeros((1, 4)), ex.W, ex.U, ex.b)
    with pytest.raises(ValueError, match=r"\(1, 4\)"):
        sol["rnn_layer"](np.zeros((3, 4)), ex.W, ex.V, ex.U, ex.b, ex.c)


def test_disagreeing_weight_shapes_name_the_shapes(ex, sol):
    with pytest.raises(ValueError, match=r"W has shape \(3, 3\)"):
        sol["rnn_unit"](np.zeros((4, 1)), ex.embeddings[0:1], np.eye(3), ex.U, ex.b)
    with pytest.raises(ValueError, match=r"b has shape \(3, 1\)"):
        sol["rnn_unit"](np.zeros((4, 1)), ex.embeddings[0:1], ex.W, ex.U, np.zeros((3, 1)))
    with pytest.raises(ValueError, match=r"V has shape \(3, 5\)"):
        sol["output_rnn"](np.zeros((4, 1)), np.zeros((3, 5)), ex.c)
    with pytest.raises(ValueError, match=r"\(3, 5\)"):
        sol["rnn_layer"](ex.embeddings, ex.W, np.zeros((3, 5)), ex.U, ex.b, ex.c)


def test_empty_sequence_is_a_clear_error(ex, sol):
    with pytest.raises(ValueError, match="empty sequence"):
        sol["rnn_layer"](np.zeros((0, 5)), ex.W, ex.V, ex.U, ex.b, ex.c)


# ------------------------------------------------------------------ checks


def test_checks_pass_on_the_solution(sol, capsys):
    checks.check_rnn_unit(sol["rnn_unit"])
    checks.check_activation(sol["activation"])
    checks.check_output_rnn(sol["output_rnn"])
    checks.check_softmax_column(sol["softmax"])
    checks.check_rnn_layer(sol["rnn_layer"])
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 5


def test_checks_explain_stubs():
    student = notebook_definitions(STUDENT)
    for check, name in [
        (checks.check_rnn_unit, "rnn_unit"),
        (checks.check_activation, "activation"),
        (checks.check_output_rnn, "output_rnn"),
        (checks.check_softmax_column, "softmax"),
        (checks.check_rnn_layer, "rnn_layer"),
    ]:
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(student[name])


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda h, x, W, U, b: (b + W @ h + U @ x.T).T, "1 x 4 row"),
        (lambda h, x, W, U, b: x @ U + b, "raised ValueError"),
        (lambda h, x, W, U, b: W @ h + U @ x.T, "missing the bias"),
        (lambda h, x, W, U, b: b + U @ x.T, "previous hidden state is ignored"),
        (lambda h, x, W, U, b: b + W.T @ h + U @ x.T, r"not W\.T"),
        (lambda h, x, W, U, b: b + W @ h + U @ x.T + 1, "should be"),
    ],
)
def test_check_rnn_unit_messages(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_rnn_unit(wrong)


def _naive(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


def _stable(x):
    """tanh from its definition without np.tanh (the check rejects np.tanh itself)."""
    decay = np.exp(-2.0 * np.abs(np.asarray(x, dtype=float)))
    return np.sign(x) * (1.0 - decay) / (1.0 + decay)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_naive, "overflows to inf"),
        (lambda x: 1 - 2 / (np.exp(2 * np.asarray(x)) + 1), "overflows on the way"),
        (lambda x: _stable(np.abs(x)), "differs from tanh"),
        (lambda x: _stable(x).ravel(), "shape"),
    ],
)
def test_check_activation_messages(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_activation(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda h, V, c: (c + V @ h).T, "as a column"),
        (lambda h, V, c: V @ h, "missing the output bias"),
        (lambda h, V, c: c + V[:, ::-1] @ h, "c \\+ V @ h_t"),
    ],
)
def test_check_output_rnn_messages(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        checks.check_output_rnn(wrong)


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (lambda o: np.exp(o) / np.exp(o).sum(axis=1, keepdims=True), "axis 1"),
        (lambda o: np.exp(o - np.max(o)) / np.exp(o - np.max(o)).sum(), "columns must each"),
        (lambda o: np.exp(o) / np.exp(o).sum(axis=0, keepdims=True), "not finite"),
        (lambda o: 1 / (1 + np.exp(-o)), "should be"),
    ],
)
def test_check_softmax_column_messages(wrong, message):
    with np.errstate(all="ignore"):
        with pytest.raises(CheckFailed, match=message):
            checks.check_softmax_column(wrong)


def _wrong_layer(sol, h0=0.0, carry=True, last_only=False, transpose=False, softmax_axis=0):
    """A deliberately wrong rnn_layer, built from the solution's correct pieces."""

    def rnn_layer(X, W, V, U, b, c):
        if X.shape[0] == 0:
            raise ValueError("X is an empty sequence")
        start = np.full((W.shape[0], 1), h0)
        h, hs, ys = start, [], []
        for t in range(X.shape[0]):
            h = sol["activation"](sol["rnn_unit"](h if carry else start, X[t : t + 1], W, U, b))
            o = sol["output_rnn"](h, V, c)
            ys.append((np.exp(o) / np.exp(o).sum(axis=softmax_axis, keepdims=True)).ravel())
            hs.append(h.ravel())
        ht, yhat = np.array(hs), np.array(ys)
        if last_only:
            return h, yhat
        if transpose:
            return ht.T, yhat.T
        return ht, yhat

    return rnn_layer


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, None),
        ({"last_only": True}, "only the last hidden state"),
        ({"carry": False}, "starts again from h_0"),
        ({"h0": 1.0}, "h_0 must be zeros"),
        ({"transpose": True}, "one ROW per token"),
        ({"softmax_axis": 1}, "softmax taken over the output units"),
    ],
)
def test_check_rnn_layer_messages(sol, options, message):
    wrong = _wrong_layer(sol, **options)
    if message is None:
        checks.check_rnn_layer(wrong)
    else:
        with pytest.raises(CheckFailed, match=message):
            checks.check_rnn_layer(wrong)


def test_check_rnn_layer_wants_a_pair(sol):
    with pytest.raises(CheckFailed, match="pair"):
        checks.check_rnn_layer(lambda *args: sol["rnn_layer"](*args)[0])


# ------------------------------------------------------------------ plots


def test_plots_draw_and_validate():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.plots import plot_hidden_states, plot_unrolled_rnn

    ax = plot_unrolled_rnn(3, output="last")
    labels = {text.get_text() for text in ax.texts}
    assert {"U", "W", "V", r"$x^{(1)}$", r"$h^{(3)}$", r"$o^{(3)}$"} <= labels
    assert r"$o^{(1)}$" not in labels
    ax = plot_unrolled_rnn(3, output="every", loss=False, tokens=["a", "b", "c"])
    assert r"$o^{(1)}$" in {text.get_text() for text in ax.texts}
    with pytest.raises(ValueError, match="output"):
        plot_unrolled_rnn(3, output="first")
    with pytest.raises(ValueError, match="tokens"):
        plot_unrolled_rnn(3, tokens=["a"])
    plot_hidden_states(np.zeros((2, 4)), ["a", "b"])
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        plot_hidden_states(np.zeros((3, 4)), ["a", "b"])
    plt.close("all")
