"""Chapter 5 (transformer encoder, masks, ensemble): solutions, checks, formulas, notebook."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from notebook_code import notebook_definitions

from utils import params
from utils.checks import (
    CheckFailed,
    check_encoder_block_count,
    check_masked_attention,
    check_masked_softmax,
    check_position_embedding,
)
from utils.checks.transformer import (
    padding_mask,
    reference_masked_attention,
    reference_masked_softmax,
)

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "05_transformer.ipynb"
CHAPTER_1 = ROOT / "solutions" / "01_attention.ipynb"

needs_data = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR with the aclImdb archive"
)


def _definitions(path: Path) -> dict:
    """Imports, functions, classes and constant assignments of a notebook's code cells.

    Like ``notebook_definitions``, and also the ``class`` statements and the assignments of
    literal constants (``D_MODEL, NUM_HEADS = 32, 2``) that the functions use.
    """
    namespace: dict = {}
    for cell in nbformat.read(path, as_version=4).cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code" or "course-setup" in tags or "remove-cell" in tags:
            continue
        tree = ast.parse(cell.source)
        keep = []
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
                keep.append(node)
            elif isinstance(node, ast.Assign):
                try:
                    ast.literal_eval(node.value)
                except ValueError:
                    continue
                keep.append(node)
        tree.body = keep
        exec(compile(tree, str(path), "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def sol() -> dict:
    namespace = _definitions(SOLUTION)
    for name in (
        "PositionEmbedding",
        "encoder_block",
        "build_transformer",
        "encoder_block_count",
        "masked_softmax",
        "masked_attention",
        "masked_multi_head_self_attention",
        "chapter1_weights",
        "padding_self_mask",
        "logit",
        "ensemble_logit",
    ):
        assert name in namespace, f"{SOLUTION.name} defines no {name}"
    return namespace


@pytest.fixture(scope="module")
def chapter1() -> dict:
    return notebook_definitions(CHAPTER_1, ("multi_head_self_attention",))


def _random_attention(seed: int, num_heads=2, key_dim=4, d_model=8, vocabulary=50):
    import keras

    keras.utils.set_random_seed(seed)
    embedding = keras.layers.Embedding(vocabulary, d_model, mask_zero=True)
    attention = keras.layers.MultiHeadAttention(num_heads, key_dim, use_bias=False)
    # Scale the random weights up so that the attention weights are far from uniform.
    embedding.build((None, None))
    rng = np.random.default_rng(seed)
    embedding.set_weights([2.0 * rng.normal(size=(vocabulary, d_model)).astype("float32")])
    return embedding, attention


# ------------------------------------------------------------------ masked softmax / attention


def test_masked_softmax_solution(sol):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(5, 7)) * 3
    mask = rng.random((5, 7)) < 0.6
    mask[2] = False  # a row that may attend to nothing
    weights = sol["masked_softmax"](scores, mask)
    np.testing.assert_allclose(weights, reference_masked_softmax(scores, mask), atol=1e-12)
    assert np.all(weights[~mask] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=1), np.where(mask.any(axis=1), 1.0, 0.0))
    # Without any masked entry it is chapter 1's softmax.
    full = np.ones_like(mask)
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        sol["masked_softmax"](scores, full), expected / expected.sum(1, keepdims=True), atol=1e-12
    )


def test_masked_softmax_is_stable(sol):
    scores = np.array([[1000.0, 1001.0, 5000.0], [-1000.0, -1001.0, 0.0]])
    mask = np.array([[1, 1, 0], [1, 1, 0]], dtype=bool)
    with np.errstate(all="raise"):
        weights = sol["masked_softmax"](scores, mask)
    expected = np.array([[1, np.e], [np.e, 1]]) / (1 + np.e)
    np.testing.assert_allclose(weights[:, :2], expected, atol=1e-12)


def test_masked_softmax_refuses_a_mask_of_another_shape(sol):
    with pytest.raises(ValueError, match=r"mask has shape \(2, 3\) but scores has shape \(2, 4\)"):
        sol["masked_softmax"](np.zeros((2, 4)), np.ones((2, 3), dtype=bool))


@pytest.mark.parametrize("n_padding", [0, 1, 4, 9])
def test_masked_attention_agrees_with_keras_attention_mask_and_mask_zero(sol, n_padding):
    import keras

    embedding, attention = _random_attention(seed=n_padding)
    words = np.concatenate([np.zeros(n_padding, int), [7, 3, 9, 3, 5, 2, 11, 40, 1, 8]])[None]
    X_masked = embedding(words)
    X_plain = keras.ops.convert_to_tensor(keras.ops.convert_to_numpy(X_masked))
    mask = sol["padding_self_mask"](words[0])
    np.testing.assert_array_equal(mask, padding_mask(len(words[0]), len(words[0]), n_padding))
    automatic = attention(X_masked, X_masked, return_attention_scores=True)
    explicit = attention(X_plain, X_plain, attention_mask=mask[None], return_attention_scores=True)
    X = keras.ops.convert_to_numpy(X_plain)[0].astype(float)
    output, weights = sol["masked_multi_head_self_attention"](
        X, *sol["chapter1_weights"](attention), mask
    )
    assert np.abs(weights).max() > 0.2  # the weights are far from uniform: a real test
    for keras_output, keras_weights in (automatic, explicit):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras_output)[0], output, atol=1e-5, rtol=0
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras_weights)[0], weights, atol=1e-5, rtol=0
        )


def test_padding_changes_the_output_only_without_the_mask(sol):
    embedding, attention = _random_attention(seed=3)
    attention(np.zeros((1, 4, 8), "float32"), np.zeros((1, 4, 8), "float32"))
    table = np.asarray(embedding.get_weights()[0], dtype=float)
    review = np.array([7, 3, 9, 3, 5, 2])
    weights = sol["chapter1_weights"](attention)
    alone = sol["masked_multi_head_self_attention"](table[review], *weights)[0]
    for padding in (3, 30):
        padded = np.concatenate([np.zeros(padding, int), review])
        masked = sol["masked_multi_head_self_attention"](
            table[padded], *weights, sol["padding_self_mask"](padded)
        )[0]
        unmasked = sol["masked_multi_head_self_attention"](table[padded], *weights)[0]
        np.testing.assert_allclose(masked[padding:], alone, atol=1e-12)
        assert np.abs(masked[:padding]).max() == 0.0  # padding queries attend to nothing
        assert np.abs(unmasked[padding:] - alone).max() > 1e-3


def test_chapter1_weights_refuses_biases(sol):
    import keras

    layer = keras.layers.MultiHeadAttention(2, 4)
    layer(np.zeros((1, 3, 8), "float32"), np.zeros((1, 3, 8), "float32"))
    with pytest.raises(ValueError, match="use_bias=False"):
        sol["chapter1_weights"](layer)


# ------------------------------------------------------------------ the checks


def test_checks_pass_on_the_solutions(sol, capsys):
    check_masked_softmax(sol["masked_softmax"])
    check_masked_attention(sol["masked_attention"])
    check_encoder_block_count(sol["encoder_block_count"])
    check_position_embedding(sol["PositionEmbedding"])
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 4


def _plain_softmax(scores, mask):
    if np.shape(mask) != np.shape(scores):
        raise ValueError(f"mask {np.shape(mask)} does not match scores")
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _zero_after(scores, mask):
    return np.where(mask, _plain_softmax(scores, mask), 0.0)


def _inverted(scores, mask):
    return reference_masked_softmax(scores, ~np.asarray(mask))


def _nan_rows(scores, mask):
    masked = np.where(mask, scores, -np.inf)
    e = np.exp(masked - masked.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _global_shift(scores, mask):
    if np.shape(mask) != np.shape(scores):
        raise ValueError(f"mask {np.shape(mask)} does not match scores")
    e = np.where(mask, np.exp(scores - scores.max()), 0.0)
    totals = e.sum(axis=1, keepdims=True)
    return np.divide(e, totals, out=np.zeros_like(e), where=totals > 0)


def _no_shape_check(scores, mask):
    return reference_masked_softmax(scores, np.broadcast_to(True, np.shape(scores)))


@pytest.mark.parametrize(
    "wrong, message",
    [
        (_plain_softmax, "ignore the mask"),
        (_zero_after, "AFTER the softmax"),
        (_inverted, "wrong way round"),
        (_nan_rows, "all False"),
        (_global_shift, "ALLOWED keys"),
        (lambda scores, mask: None, "forget `return`"),
    ],
)
def test_check_masked_softmax_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_masked_softmax(wrong)


def test_check_masked_softmax_wants_the_shape_error(sol):
    def no_check(scores, mask):
        return sol["masked_softmax"](scores, np.broadcast_to(mask, np.shape(scores)))

    def silent(scores, mask):
        if np.shape(mask) != np.shape(scores):
            return np.zeros(np.shape(scores))
        return sol["masked_softmax"](scores, mask)

    with pytest.raises(CheckFailed, match="ValueError"):
        check_masked_softmax(silent)
    with pytest.raises(CheckFailed):
        check_masked_softmax(no_check)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda Q, K, V, mask: reference_masked_attention(Q * np.sqrt(K.shape[1]), K, V, mask),
         "not scaled"),
        (lambda Q, K, V, mask: reference_masked_attention(Q, K, V, None), "ignore the mask"),
        (lambda Q, K, V, mask: (reference_masked_attention(Q, K, V, mask)[1] @ K[:, :2],
                                reference_masked_attention(Q, K, V, mask)[1]), "Z is not"),
        (lambda Q, K, V, mask: reference_masked_attention(Q, K, V, mask)[0], "the pair"),
        (lambda Q, K, V, mask: reference_masked_attention(Q, K, V, np.zeros((1, 1), bool))
         if mask is None else reference_masked_attention(Q, K, V, mask), "mask=None"),
    ],
)  # fmt: skip
def test_check_masked_attention_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        check_masked_attention(wrong)


def _count(d, h, k, f):
    return params.encoder_block_params(d, h, k, f)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda d, h, k, f: _count(d, h, k, f) - 4 * d, "layer normalisations"),
        (lambda d, h, k, f: _count(d, h, k, f) - 2 * d, "TWO vectors"),
        (lambda d, h, k, f: _count(d, h, k, f) - 3 * h * k - d, "attention layer's biases"),
        (lambda d, h, k, f: _count(d, h, k, f) - f - d, "feed-forward network's biases"),
        (lambda d, h, k, f: params.multi_head_attention_params(d, h, k) + 4 * d, "feed-forward"),
        (lambda d, h, k, f: _count(d, h, k, f) + 1, "not the number of parameters"),
        (lambda d, h, k, f: float("nan"), "whole number"),
    ],
)
def test_check_encoder_block_count_names_the_mistake(wrong, message):
    with pytest.raises(CheckFailed, match=message) as failure:
        check_encoder_block_count(wrong)
    # The message never gives the right count away (issue 17): not for any size it checks.
    sizes = [(32, 2, 16, 32), (64, 4, 16, 128), (5, 4, 3, 7), (16, 1, 16, 64), (8, 3, 5, 1)]
    for size in sizes + [(32, 2, 16, 64)]:
        for shown in (f"{_count(*size):,}", str(_count(*size))):
            assert shown not in str(failure.value), (size, str(failure.value))


def _layer_variant(sol, call=None, compute_mask=None):
    base = sol["PositionEmbedding"]
    members = {}
    if call is not None:
        members["call"] = call
    if compute_mask is not None:
        members["compute_mask"] = compute_mask
    return type("Variant", (base,), members)


@pytest.mark.filterwarnings("ignore:`build\\(\\)` was called on layer")
@pytest.mark.parametrize(
    "variant, message",
    [
        ("tokens only", "token embedding alone"),
        ("positions from words", "positions 0, 1"),
        ("no mask", "compute_mask returned None"),
        ("inverted mask", "True exactly where"),
        ("fixed length", "shorter than sequence_length"),
    ],
)
def test_check_position_embedding_names_the_mistake(sol, variant, message):
    import keras

    def tokens_only(self, words):
        return self.token_embedding(words)

    def from_words(self, words):
        return self.token_embedding(words) + self.position_embedding(words % self.sequence_length)

    def fixed_length(self, words):
        positions = keras.ops.arange(self.sequence_length)[-keras.ops.shape(words)[-1] :]
        return self.token_embedding(words) + self.position_embedding(positions)

    layer = {
        "tokens only": _layer_variant(sol, call=tokens_only),
        "positions from words": _layer_variant(sol, call=from_words),
        "no mask": _layer_variant(sol, compute_mask=lambda self, words, mask=None: None),
        "inverted mask": _layer_variant(
            sol, compute_mask=lambda self, words, mask=None: keras.ops.equal(words, 0)
        ),
        "fixed length": _layer_variant(sol, call=fixed_length),
    }[variant]
    with pytest.raises(CheckFailed, match=message):
        check_position_embedding(layer)


def test_check_position_embedding_wants_a_class(sol):
    with pytest.raises(CheckFailed, match="layer class itself"):
        check_position_embedding(sol["PositionEmbedding"](6, 11, 4))


# ------------------------------------------------------------------ parameter formulas


@pytest.mark.parametrize(
    "num_heads, key_dim, value_dim, output_dim, use_bias",
    [
        (2, 16, None, None, False),
        (2, 16, None, None, True),
        (4, 3, 5, 7, True),
        (1, 8, 2, 3, False),
    ],
)
def test_attention_formula_agrees_with_keras(num_heads, key_dim, value_dim, output_dim, use_bias):
    import keras

    d_model = 12
    layer = keras.layers.MultiHeadAttention(
        num_heads, key_dim, value_dim=value_dim, use_bias=use_bias, output_shape=output_dim
    )
    x = np.zeros((1, 5, d_model), "float32")
    layer(x, x)
    assert layer.count_params() == params.multi_head_attention_params(
        d_model, num_heads, key_dim, value_dim, output_dim, use_bias
    )


@pytest.mark.parametrize("d_model, num_heads, key_dim, d_ff", [(32, 2, 16, 64), (5, 4, 3, 7)])
@pytest.mark.parametrize("use_bias", [True, False])
def test_encoder_block_formula_agrees_with_keras(sol, d_model, num_heads, key_dim, d_ff, use_bias):
    import keras

    inputs = keras.Input(shape=(9, d_model))
    block = keras.Model(
        inputs, sol["encoder_block"](inputs, num_heads, key_dim, d_ff, 0.0, use_bias=use_bias)
    )
    expected = params.encoder_block_params(d_model, num_heads, key_dim, d_ff, use_bias=use_bias)
    assert block.count_params() == expected
    if use_bias:
        assert sol["encoder_block_count"](d_model, num_heads, key_dim, d_ff) == expected
    norms = [layer for layer in block.layers if type(layer).__name__ == "LayerNormalization"]
    assert [layer.count_params() for layer in norms] == [params.layer_norm_params(d_model)] * 2


def test_transformer_count_by_formula(sol):
    length, words, d_model, d_ff = 40, 300, sol["D_MODEL"], sol["D_FF"]
    model = sol["build_transformer"](length, words, d_model, sol["NUM_HEADS"], d_ff, sol["DROPOUT"])
    embedding = model.get_layer("embedding")
    assert embedding.count_params() == params.embedding_params(
        words, d_model
    ) + params.position_embedding_params(length, d_model)
    expected = (
        params.embedding_params(words, d_model)
        + params.position_embedding_params(length, d_model)
        + params.encoder_block_params(d_model, sol["NUM_HEADS"], d_model // 2, d_ff, False)
        + params.dense_params(d_model, 1)
    )
    assert model.count_params() == expected
    assert params.feed_forward_params(d_model, d_ff) == 2 * d_model * d_ff + d_ff + d_model


@pytest.mark.parametrize(
    "function, args, error, text",
    [
        (params.multi_head_attention_params, (0, 2, 4), ValueError, "d_model"),
        (params.multi_head_attention_params, (8, 2.5, 4), TypeError, "num_heads"),
        (params.multi_head_attention_params, (8, 2, 4, -1), ValueError, "value_dim"),
        (params.layer_norm_params, (True,), TypeError, "d_model"),
        (params.feed_forward_params, (8, 0), ValueError, "units"),
        (params.position_embedding_params, (0, 8), ValueError, "input_dim"),
        (params.encoder_block_params, (8, 2, None, 16), TypeError, "key_dim"),
    ],
)
def test_formulas_refuse_bad_sizes(function, args, error, text):
    with pytest.raises(error, match=text):
        function(*args)


# ------------------------------------------------------------------ builders and saving


def test_build_transformer_takes_every_size_as_an_argument(sol):
    model = sol["build_transformer"](12, 50, 8, 4, 16, 0.0, learning_rate=0.01)
    expected = (
        params.embedding_params(50, 8)
        + params.position_embedding_params(12, 8)
        + params.encoder_block_params(8, 4, 2, 16, use_bias=False)
        + params.dense_params(8, 1)
    )
    assert model.count_params() == expected
    attention = model.get_layer("block_attention")
    assert (attention.num_heads, attention.key_dim) == (4, 2)
    rates = [layer.rate for layer in model.layers if type(layer).__name__ == "Dropout"]
    assert rates == [0.0] * 3
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)


def test_builders_and_helpers_read_no_module_level_sizes(sol):
    # What a function uses comes in as an argument: none of them reads the notebook's sizes,
    # data or parameters from the module (a student can copy them anywhere).
    module_state = {
        "D_MODEL", "NUM_HEADS", "D_FF", "DROPOUT", "PATIENCE", "ENSEMBLE_WEIGHTS", "SPLIT_SEED",
        "sequence_length", "num_words", "max_epochs", "seeds", "x_fit", "y_fit", "x_val", "y_val",
        "x_test", "y_test", "seed_table", "transformers", "transformer_runs", "bag_p_val",
    }  # fmt: skip
    for name in (
        "encoder_block",
        "build_transformer",
        "train_with_early_stopping",
        "describe_training",
        "choose_weight",
        "cross_fitted_answers",
        "build_stacked_lstm",
        "seconds_per_step",
        "model_results",
    ):
        assert name in sol, f"the notebook defines no {name}"
        read = set(sol[name].__code__.co_names)
        assert not read & module_state, f"{name} reads {sorted(read & module_state)}"


def test_build_transformer_refuses_heads_that_do_not_divide_d_model(sol):
    with pytest.raises(ValueError, match="d_model = 10 is not a multiple of num_heads = 4"):
        sol["build_transformer"](12, 50, 10, 4, 16, 0.1)


def test_position_embedding_round_trips_through_its_config(sol):
    import keras

    layer_class = sol["PositionEmbedding"]
    layer = layer_class(7, 30, 4, name="embedding")
    config = keras.saving.serialize_keras_object(layer)
    copy = keras.saving.deserialize_keras_object(
        config, custom_objects={"PositionEmbedding": layer_class}
    )
    assert type(copy) is layer_class
    sizes = (copy.sequence_length, copy.vocabulary_size, copy.d_model, copy.name)
    assert sizes == (7, 30, 4, "embedding")
    assert copy.get_config() == layer.get_config()


@pytest.mark.slow  # builds, saves and reloads a model: left out of `make test-fast`
def test_a_model_with_position_embeddings_saves_and_loads(sol, tmp_path):
    import warnings

    import keras

    layer_class = sol["PositionEmbedding"]
    keras.utils.set_random_seed(0)
    model = sol["build_transformer"](16, 60, 8, 2, 16, 0.1)
    words = np.random.default_rng(0).integers(1, 60, size=(5, 16))
    words[:, :6] = 0  # padding, which the reloaded mask must hide as well
    x = np.random.default_rng(1).integers(1, 60, size=(64, 16))
    model.fit(x, np.arange(64) % 2, epochs=1, verbose=0)  # weights away from their initial values
    before = model.predict(words, verbose=0)
    path = tmp_path / "transformer.keras"
    with warnings.catch_warnings():
        # A layer without `build` would be rebuilt empty, with a warning: turn that into an error.
        warnings.filterwarnings("error", message=".*build\\(\\).*")
        model.save(path)
        loaded = keras.saving.load_model(path, custom_objects={"PositionEmbedding": layer_class})
    assert type(loaded.get_layer("embedding")) is layer_class
    np.testing.assert_array_equal(loaded.predict(words, verbose=0), before)
    table = loaded.get_layer("embedding").token_embedding
    weights = table.get_weights()[0]
    weights[0] = 50.0  # the padding row: the reloaded mask must hide it
    table.set_weights([weights])
    np.testing.assert_allclose(loaded.predict(words, verbose=0), before, atol=1e-5)


@pytest.mark.slow  # trains a model: left out of `make test-fast`
def test_train_with_early_stopping_keeps_the_best_epoch(sol):
    import keras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 40)).astype("float32")
    y = (x[:, 0] + rng.normal(scale=2.0, size=300) > 0).astype("float32")  # noisy: it overfits

    def build():
        model = keras.Sequential([keras.Input(shape=(40,)), keras.layers.Dense(1, "sigmoid")])
        model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy")
        return model

    model, record = sol["train_with_early_stopping"](
        build, 0, x[:200], y[:200], x[200:], y[200:], max_epochs=30, patience=2, batch_size=32
    )
    val_loss = record["history"]["val_loss"]
    epochs_run = len(record["epoch_seconds"])
    assert epochs_run == len(val_loss) <= 30
    assert record["best_epoch"] == int(np.argmin(val_loss)) + 1
    if epochs_run < 30:  # stopped: the last `patience` epochs did not improve on the best
        assert epochs_run == record["best_epoch"] + 2
    # The returned model has the best epoch's weights.
    assert model.evaluate(x[200:], y[200:], verbose=0) == pytest.approx(min(val_loss), rel=1e-5)
    np.testing.assert_allclose(record["p_val"], model.predict(x[200:], verbose=0)[:, 0], rtol=1e-6)


# ------------------------------------------------------------------ the ensemble arithmetic


def test_logit_and_ensemble(sol):
    p = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    z = sol["logit"](p)
    assert np.all(np.isfinite(z))
    np.testing.assert_allclose(z[1:4], [np.log(1 / 9), 0.0, np.log(9)], atol=1e-12)
    a, b = np.array([0.9, 0.2]), np.array([0.3, 0.4])
    np.testing.assert_allclose(sol["ensemble_logit"](a, b, 1.0), sol["logit"](a))
    np.testing.assert_allclose(sol["ensemble_logit"](a, b, 0.0), sol["logit"](b))
    np.testing.assert_allclose(
        sol["ensemble_logit"](a, b, 0.25), 0.25 * sol["logit"](a) + 0.75 * sol["logit"](b)
    )


# ------------------------------------------------------------------ a trained model


@pytest.fixture(scope="module")
def trained(sol):
    """The chapter's transformer trained briefly on real reviews (64 tokens, 3,000 reviews)."""
    import keras

    from utils.data import load_imdb

    (x, y), _ = load_imdb(num_words=2000, maxlen=64)
    keras.utils.set_random_seed(0)
    model = sol["build_transformer"](64, 2000, sol["D_MODEL"], sol["NUM_HEADS"], sol["D_FF"], 0.1)
    model.fit(x[:3000], y[:3000], epochs=2, batch_size=64, verbose=0)
    return model, x[3000:]  # reviews the model was not fitted on


@pytest.mark.slow  # its fixture trains a model: left out of `make test-fast`
@needs_data
def test_trained_layer_is_chapter_1s_layer(sol, chapter1, trained):
    import keras

    model, x_val = trained
    embedder = keras.Model(model.input, model.get_layer("embedding").output)
    inside = keras.Model(model.input, model.get_layer("block_attention").output)
    attention = model.get_layer("block_attention")
    weights = sol["chapter1_weights"](attention)
    x_val = x_val[:200]
    lengths = (x_val != 0).sum(axis=1)
    checked = 0
    for index in (int(np.argmin(lengths)), int(np.argmax(lengths))):
        words = x_val[index]
        real = words != 0
        X = np.asarray(keras.ops.convert_to_numpy(embedder(words[None]))[0], dtype=float)
        ours = chapter1["multi_head_self_attention"](X[real], *weights)
        # The attention output inside the model: Keras applied the mask by itself.
        keras_output = keras.ops.convert_to_numpy(inside(words[None]))[0]
        np.testing.assert_allclose(keras_output[real], ours, atol=1e-5, rtol=0)
        _, keras_weights = attention(
            X[None].astype("float32"),
            X[None].astype("float32"),
            attention_mask=sol["padding_self_mask"](words)[None],
            return_attention_scores=True,
        )
        _, our_weights = sol["masked_multi_head_self_attention"](
            X, *weights, sol["padding_self_mask"](words)
        )
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(keras_weights)[0], our_weights, atol=1e-5, rtol=0
        )
        checked += 1
    assert checked == 2 and lengths.min() < 64  # a padded review was among them


@pytest.mark.slow  # its fixture trains a model: left out of `make test-fast`
@needs_data
def test_trained_model_ignores_the_padding(trained):
    model, x_val = trained
    x_val = x_val[(x_val == 0).any(axis=1)][:200]  # reviews shorter than 64 tokens: padded
    before = model.predict(x_val, verbose=0)
    table = model.get_layer("embedding").token_embedding
    original = table.get_weights()[0]
    changed = original.copy()
    changed[0] = 100.0  # the padding row: with the mask it must not matter
    table.set_weights([changed])
    try:
        after = model.predict(x_val, verbose=0)
    finally:
        table.set_weights([original])
    assert len(x_val) > 10
    np.testing.assert_allclose(after, before, atol=1e-5)


# ------------------------------------------------------------------ the notebook


def test_notebook_structure():
    notebook = nbformat.read(SOLUTION, as_version=4)
    assert notebook.cells[0].source.startswith("# Chapter 5: ")
    assert "(solutions)" in notebook.cells[0].source.split("\n", 1)[0]
    assert "## What you need" in notebook.cells[0].source
    parameters = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1 and "remove-cell" in parameters[0].metadata["tags"]
    smoke = notebook.metadata["course"]["smoke_parameters"]
    defined = {node.targets[0].id for node in ast.parse(parameters[0].source).body}
    assert set(smoke) <= defined and "results_path" in defined
    exercises = [c.source.split("\n", 1)[0] for c in notebook.cells if "exercise" in c.metadata.get("tags", [])]  # fmt: skip
    assert [e.split(":")[0] for e in exercises] == [f"**Exercise 5.{k}" for k in range(1, 5)]
    for cell in notebook.cells:
        if cell.cell_type == "code" and ("plt.show()" in cell.source):
            assert cell.metadata.get("mystnb", {}).get("image", {}).get("alt"), cell.source[:60]


def _code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_smoke_parameters_in_metadata_match_the_smoke_branch():
    notebook = nbformat.read(SOLUTION, as_version=4)
    declared = notebook.metadata["course"]["smoke_parameters"]
    cell = next(c for c in _code_cells(notebook) if "if run_config.smoke_run():" in c.source)
    branch = next(
        node
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.If) and ast.unparse(node.test) == "run_config.smoke_run()"
    )
    assigned = {}
    for statement in branch.body:
        names = [target.id for target in statement.targets[0].elts]
        assigned.update(zip(names, ast.literal_eval(statement.value), strict=True))
    assert assigned == declared


def test_the_notebook_writes_no_globals():
    notebook = nbformat.read(SOLUTION, as_version=4)
    for cell in _code_cells(notebook):
        assert "globals()" not in cell.source, cell.source[:80]


# Calls that score a model on data; on test data they are allowed in one cell only.
_SCORING = {"predict", "predict_proba", "predict_on_batch", "evaluate", "test_on_batch"}


def _scores_test_data(source: str) -> list[str]:
    """The calls in ``source`` that score a model on test data (names with "test", or "test")."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in _SCORING:
            continue
        for argument in [*node.args, *(keyword.value for keyword in node.keywords)]:
            for part in ast.walk(argument):
                if (isinstance(part, ast.Name) and "test" in part.id) or (
                    isinstance(part, ast.Constant) and part.value == "test"
                ):
                    found.append(ast.unparse(node))
    return found


def test_scoring_on_test_data_finds_the_calls():
    source = (
        "model.predict(x_val)\nbag_of_ngrams.predict_proba(m, f, 'test')\n"
        "bag_of_ngrams.evaluate(m, f, part='test')\nmodel.predict(x_test[:10], verbose=0)\n"
        "make_features(texts_fit, y_fit, texts_val, y_val, texts_test, y_test)"
    )
    assert len(_scores_test_data(source)) == 3


def test_the_test_set_is_used_once_in_the_marked_cell():
    notebook = nbformat.read(SOLUTION, as_version=4)
    headings = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown" and cell.source.startswith("## The test set, once")
    ]
    assert len(headings) == 1, "one markdown cell headed '## The test set, once'"
    test_cell = next(c for c in notebook.cells[headings[0] :] if c.cell_type == "code")
    assert _scores_test_data(test_cell.source), "the marked cell scores the models on test"
    for cell in _code_cells(notebook):
        if cell is not test_cell:
            assert not _scores_test_data(cell.source), (cell.id, _scores_test_data(cell.source))
    # Nothing after the marked cell changes a choice: no training and no new weights there.
    later = "\n".join(c.source for c in notebook.cells[headings[0] :] if c.cell_type == "code")
    for call in ("fit(", "train(", "choose_weight(", "make_features("):
        assert call not in later.replace("def ", ""), call


# ---------------------------------------------- the claims agree with the stored results
#
# The test cell stores every number of the run in its output's metadata ("course_results",
# the results JSON); the cell after exercise 5.4 prints the verdicts. The prose about the
# ensemble is conditional; these tests check the printed verdicts against the numbers, so that
# a re-run can never leave a claim that its own results contradict.

ENSEMBLE, BAG = "the ensemble", "the bag of n-grams"
TALLY = re.compile(
    r"significantly more accurate than the bag of n-grams alone for (\d+) of (\d+) seed\(s\), "
    r"significantly less accurate for (\d+), and not significantly different for (\d+)"
)
# Phrases of the old text that claimed a gain whatever the run showed.
UNCONDITIONAL = (
    "can beat both models because",
    "net gain of a few dozen",
    "why the combination helps",
    "Why does the ensemble help",
    "the ensemble helps",
)


def _outputs_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        parts.append(text if isinstance(text, str) else "".join(text))
        for kind in ("text/markdown", "text/plain"):
            value = output.get("data", {}).get(kind, "")
            parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


def stored_results(notebook) -> dict | None:
    """The results JSON that the test cell stored in its output's metadata, if any."""
    for cell in _code_cells(notebook):
        for output in cell.get("outputs", []):
            results = output.get("metadata", {}).get("course_results")
            if results:
                return results
    return None


def _recomputed(record: dict):
    """paired_comparison on answers rebuilt from a stored record's counts."""
    from utils.stats import paired_comparison

    n, only_a, only_b = record["n"], record["only_a"], record["only_b"]
    both = round(record["accuracy_b"] * n) - only_b  # right in both
    truth = np.ones(n, dtype=int)
    answers_a, answers_b = np.zeros(n, dtype=int), np.zeros(n, dtype=int)
    answers_a[:both] = answers_b[:both] = 1
    answers_a[both : both + only_a] = 1
    answers_b[both + only_a : both + only_a + only_b] = 1
    return paired_comparison(truth, answers_a, answers_b, record["name_a"], record["name_b"])


def claim_problems(notebook) -> list[str]:
    """Every disagreement between the chapter's claims and its stored results."""
    results = stored_results(notebook)
    if results is None:
        return ["no stored results: re-run the notebook (make solutions)"]
    problems = []
    ensemble = results["ensemble"]
    seeds = ensemble["seeds"]
    for field in ("params", "val_accuracy", "test_accuracy", "train_seconds", "epochs"):
        for model in ("transformer", "ensemble"):
            if field not in results[model]:
                problems.append(f"results[{model!r}] lacks the field {field!r}")
    for kind, records in ensemble["comparison_with_bag"].items():
        if len(records) != len(seeds):
            problems.append(f"{kind}: {len(records)} comparisons for {len(seeds)} seeds")
        for seed, record in zip(seeds, records, strict=False):
            where = f"{kind}, seed {seed}"
            if (record["name_a"], record["name_b"]) != (ENSEMBLE, BAG):
                problems.append(f"{where}: compares {record['name_a']} with {record['name_b']}")
            redone = _recomputed(record)
            if not np.isclose(redone.p_value, record["p_value"], rtol=1e-9, atol=1e-12):
                problems.append(f"{where}: p-value {record['p_value']} but {redone.p_value}")
            if redone.better() != record["better"]:
                problems.append(f"{where}: stored verdict {record['better']!r}, counts say "
                                f"{redone.better()!r}")  # fmt: skip
            if redone.sentence() != record["sentence"]:
                problems.append(f"{where}: the sentence does not match its counts")
    for index, record in enumerate(ensemble["comparison_with_bag"]["test"]):
        for side, field in (("accuracy_a", "test_accuracy_per_seed"),
                            ("accuracy_b", "bag_test_accuracy_per_seed")):  # fmt: skip
            if not np.isclose(record[side], ensemble[field][index]):
                problems.append(f"test, seed {seeds[index]}: {side} differs from {field}")
    verdict_cell = next((c for c in _code_cells(notebook) if "def tally(" in c.source), None)
    if verdict_cell is None:
        return problems + ["no verdict cell (def tally) before the answer to exercise 5.4"]
    printed = _outputs_text(verdict_cell)
    for kind, records in ensemble["comparison_with_bag"].items():
        for seed, record in zip(seeds, records, strict=False):
            if record["sentence"] not in printed:
                problems.append(
                    f"the verdict cell does not print the {kind} verdict of seed {seed}"
                )
    tally = TALLY.search(printed)
    verdicts = [record["better"] for record in ensemble["comparison_with_bag"]["test"]]
    expected = (verdicts.count(ENSEMBLE), len(seeds), verdicts.count(BAG))
    expected += (len(seeds) - expected[0] - expected[2],)
    if tally is None or tuple(int(g) for g in tally.groups()) != expected:
        problems.append(f"the verdict cell's tally should read {expected}")
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for phrase in UNCONDITIONAL:
        if phrase.lower() in markdown.lower():
            problems.append(f"the text claims {phrase!r} whatever the results")
    return problems


def test_the_claims_agree_with_the_stored_results():
    problems = claim_problems(nbformat.read(SOLUTION, as_version=4))
    assert not problems, "\n".join(problems)


def _first_test_record(notebook) -> dict:
    return stored_results(notebook)["ensemble"]["comparison_with_bag"]["test"][0]


def test_claim_problems_catches_a_wrong_verdict():
    notebook = nbformat.read(SOLUTION, as_version=4)
    if stored_results(notebook) is None:
        pytest.skip("no stored results: test_the_claims_agree_with_the_stored_results fails")
    record = _first_test_record(notebook)
    record["better"] = BAG if record["better"] != BAG else ENSEMBLE
    assert any("stored verdict" in problem for problem in claim_problems(notebook))
    notebook = nbformat.read(SOLUTION, as_version=4)
    _first_test_record(notebook)["p_value"] += 0.5
    assert any("p-value" in problem for problem in claim_problems(notebook))
    notebook = nbformat.read(SOLUTION, as_version=4)
    cell = next(c for c in _code_cells(notebook) if "def tally(" in c.source)
    for output in cell.outputs:
        if "text/markdown" in output.get("data", {}):
            text = output.data["text/markdown"]
            output.data["text/markdown"] = TALLY.sub(
                lambda m: m.group(0).replace(
                    f"for {m.group(1)} of", f"for {int(m.group(1)) + 1} of"
                ),
                text,
            )
    assert any("tally" in problem for problem in claim_problems(notebook))
    notebook = nbformat.read(SOLUTION, as_version=4)
    notebook.cells[-2].source += "\n\nThe ensemble helps."
    assert any("whatever the results" in problem for problem in claim_problems(notebook))


@needs_data
def test_smoke_run_writes_the_results(smoke_run):
    # The session's one execution of the solution at its smoke size (tests/conftest.py).
    run = smoke_run("05_transformer.ipynb")
    parameters, results = run.parameters, run.results
    assert results is not None, "the smoke run wrote no results JSON"
    assert set(results) == {"transformer", "ensemble"}
    for row in results.values():
        assert isinstance(row["params"], int) and row["params"] > 0
        assert isinstance(row["epochs"], int) and row["epochs"] >= 1
        for field in ("val_accuracy", "test_accuracy"):
            assert 0.5 < row[field] <= 1.0
        assert row["train_seconds"] > 0
        assert row["seeds"] == parameters["seeds"]
    assert results["ensemble"]["params"] > results["transformer"]["params"]


def test_bad_parameters_fail_before_any_work(run_notebook):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as failure:
        run_notebook(
            "solutions/05_transformer.ipynb",
            {"ngram_orders": [2, 4], "seeds": [0, 0], "sequence_length": "long"},
        )
    text = str(failure.value)
    assert "ngram_orders must hold integers from 1 to 3" in text
    assert "seeds lists a value more than once" in text
    assert "sequence_length must be an integer >= 8" in text
