"""Chapter 1 (self-attention): the solution functions, the Keras comparison and the checks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from notebook_code import notebook_definitions

from utils import checks
from utils.checks import CheckFailed

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "01_attention.ipynb"
CHAPTER = ROOT / "chapters" / "01_attention.ipynb"
FUNCTIONS = (
    "qkv",
    "softmax",
    "attention",
    "validate_multi_head_inputs",
    "multi_head_self_attention",
    "multi_head_self_attention_einsum",
)

# The references: first head, tokens "the", "quick", "brown".
Q_REF = [[0.4722259, 0.04995783, -0.5350845], [-0.3662435, 0.12144160, 0.3454785],
         [-0.1029677, -0.12728414, 0.1817097]]  # fmt: skip
K_REF = [[0.094360579, -0.203807092, -0.1851229], [-0.033313240, 0.279012100, 0.2530560],
         [-0.004457052, 0.001013468, 0.0133802]]  # fmt: skip
V_REF = [[0.317318525, -0.35023010, 0.13284078], [0.009929565, 0.04208206, -0.15412097],
         [-0.316413241, 0.27717408, 0.02725089]]  # fmt: skip
Z_REF = [[0.012395453, -0.0212420459, 0.009404870], [-0.003759269, -0.0008360029, -0.005108890],
         [0.002412222, -0.0088974612, 0.001147999]]  # fmt: skip
WEIGHTS_REF = [[0.3601932, 0.3080896, 0.3317172], [0.3088780, 0.3582373, 0.3328847],
               [0.3300375, 0.3360583, 0.3339042]]  # fmt: skip
MULTI_HEAD_REF = [[-0.014189613, -0.0040299008, -0.006756286],
                  [-0.009963516, -0.0010724342, -0.001996524],
                  [-0.006394562, -0.0006626115, -0.002219108]]  # fmt: skip


@pytest.fixture(scope="module")
def sol() -> dict:
    return notebook_definitions(SOLUTION, FUNCTIONS)


@pytest.fixture(scope="module")
def example():
    from utils.data import load_transformer_example

    return load_transformer_example()


def _weights(example):
    return example.Wq, example.Wk, example.Wv, example.W0


def _random_layer(seed: int, n=7, d_model=6, d_head=2, n_heads=3, d_out=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d_model))
    Wq, Wk, Wv = (rng.normal(size=(d_model, d_head, n_heads)) for _ in range(3))
    return X, Wq, Wk, Wv, rng.normal(size=(n_heads * d_head, d_out))


# --------------------------------------------------------------- the references


def test_task_1_1_queries_keys_values(sol, example):
    first = (example.Wq[:, :, 0], example.Wk[:, :, 0], example.Wv[:, :, 0])
    Q, K, V = sol["qkv"](example.embeddings[:3], *first)
    np.testing.assert_allclose(Q, Q_REF, atol=1e-6, rtol=0)
    np.testing.assert_allclose(K, K_REF, atol=1e-6, rtol=0)
    np.testing.assert_allclose(V, V_REF, atol=1e-6, rtol=0)


def test_task_1_2_attention(sol, example):
    first = (example.Wq[:, :, 0], example.Wk[:, :, 0], example.Wv[:, :, 0])
    Z, weights = sol["attention"](*sol["qkv"](example.embeddings[:3], *first))
    np.testing.assert_allclose(Z, Z_REF, atol=1e-6, rtol=0)
    np.testing.assert_allclose(weights, WEIGHTS_REF, atol=1e-6, rtol=0)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0)


def test_task_1_4_multi_head(sol, example):
    output = sol["multi_head_self_attention"](example.embeddings[:3], *_weights(example))
    np.testing.assert_allclose(output, MULTI_HEAD_REF, atol=1e-6, rtol=0)


def test_the_two_thes_get_identical_rows(sol, example):
    assert example.tokens[0] == example.tokens[6] == "the"
    output = sol["multi_head_self_attention"](example.embeddings, *_weights(example))
    assert output.shape == (9, 3)
    np.testing.assert_array_equal(output[0], output[6])


def test_softmax_is_stable_and_row_wise(sol):
    scores = np.array([[1000.0, 1001.0, 1002.0], [0.0, 1.0, 2.0]])
    with np.errstate(all="raise"):
        result = sol["softmax"](scores)
    np.testing.assert_allclose(result[0], result[1])
    np.testing.assert_allclose(result.sum(axis=1), 1.0)


def test_einsum_version_equals_loop_version(sol, example):
    for args in (
        (example.embeddings, *_weights(example)),
        _random_layer(0),
        _random_layer(1, n=4, d_model=5, d_head=3, n_heads=2, d_out=5),
    ):
        np.testing.assert_allclose(
            sol["multi_head_self_attention_einsum"](*args),
            sol["multi_head_self_attention"](*args),
            atol=1e-12,
            rtol=0,
        )


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("function", "make_args", "shapes"),
    [
        ("qkv", lambda: (np.ones((3, 4)), np.ones((5, 3)), np.ones((5, 3)), np.ones((5, 3))),
         ["(3, 4)", "(5, 3)"]),
        ("qkv", lambda: (np.ones((3, 5)), np.ones((5, 3)), np.ones((5, 2)), np.ones((5, 3))),
         ["(5, 3)", "(5, 2)"]),
        ("attention", lambda: (np.ones((3, 2)), np.ones((3, 3)), np.ones((3, 3))),
         ["(3, 2)", "(3, 3)"]),
        ("attention", lambda: (np.ones((3, 3)), np.ones((3, 3)), np.ones((4, 3))),
         ["(3, 3)", "(4, 3)"]),
        ("multi_head_self_attention",
         lambda: (np.ones((3, 4)), *(np.ones((5, 3, 4)),) * 3, np.ones((12, 3))),
         ["(3, 4)", "(5, 3, 4)"]),
        ("multi_head_self_attention",
         lambda: (np.ones((3, 5)), *(np.ones((5, 3, 4)),) * 3, np.ones((9, 3))),
         ["(5, 3, 4)", "(9, 3)"]),
        ("multi_head_self_attention_einsum",
         lambda: (np.ones((3, 4)), *(np.ones((5, 3, 4)),) * 3, np.ones((12, 3))),
         ["(3, 4)", "(5, 3, 4)"]),
    ],
)  # fmt: skip
def test_mismatched_shapes_raise_value_error_naming_both(sol, function, make_args, shapes):
    with pytest.raises(ValueError) as error:
        sol[function](*make_args())
    for shape in shapes:
        assert shape in str(error.value)


# --------------------------------------------------------------------- Keras


def _keras_layer(Wq, Wk, Wv, W0, d_model):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras

    d_head, n_heads = Wq.shape[1], Wq.shape[2]
    layer = keras.layers.MultiHeadAttention(
        num_heads=n_heads, key_dim=d_head, use_bias=False, output_shape=W0.shape[1]
    )
    dummy = np.zeros((1, 2, d_model), dtype="float32")
    layer(dummy, dummy)
    layer.set_weights(
        [np.transpose(W, (0, 2, 1)) for W in (Wq, Wk, Wv)]
        + [W0.reshape(n_heads, d_head, W0.shape[1])]
    )

    def run(X):
        batch = X[np.newaxis].astype("float32")
        return keras.ops.convert_to_numpy(layer(batch, batch))[0]

    return run


def test_keras_multi_head_attention_agrees(sol, example):
    keras_layer = _keras_layer(*_weights(example), d_model=5)
    for X in (example.embeddings, example.embeddings[:3]):
        expected = keras_layer(X)
        np.testing.assert_allclose(
            sol["multi_head_self_attention"](X, *_weights(example)), expected, atol=1e-6, rtol=0
        )
        # The checks' own reference must agree with Keras as well.
        np.testing.assert_allclose(
            checks._att_multi_head(X, *_weights(example)), expected, atol=1e-6, rtol=0
        )


def test_keras_agrees_on_random_weights(sol):
    X, Wq, Wk, Wv, W0 = _random_layer(3, n=6, d_model=5, d_head=4, n_heads=2, d_out=3)
    X, Wq, Wk, Wv, W0 = X, Wq / 2, Wk / 2, Wv / 2, W0 / 2
    expected = _keras_layer(Wq, Wk, Wv, W0, d_model=5)(X)
    np.testing.assert_allclose(
        sol["multi_head_self_attention"](X, Wq, Wk, Wv, W0), expected, atol=1e-5, rtol=1e-5
    )


# -------------------------------------------------------------------- checks


def test_checks_pass_for_the_solution(sol, capsys):
    checks.check_qkv(sol["qkv"])
    checks.check_softmax(sol["softmax"])
    checks.check_attention(sol["attention"])
    checks.check_multi_head(sol["multi_head_self_attention"])
    checks.check_multi_head(sol["multi_head_self_attention_einsum"])
    # One success message per check (a long one wraps onto indented lines).
    lines = capsys.readouterr().out.strip().splitlines()
    starts = [line for line in lines if not line.startswith("  ")]
    assert len(starts) == 5 and all(line.startswith("\N{CHECK MARK}") for line in starts)
    assert all(len(line) <= 76 for line in lines)


def test_student_stubs_get_the_not_implemented_message():
    student = notebook_definitions(CHAPTER, FUNCTIONS)
    for name, check in (
        ("qkv", checks.check_qkv),
        ("softmax", checks.check_softmax),
        ("attention", checks.check_attention),
        ("multi_head_self_attention", checks.check_multi_head),
    ):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(student[name])


def _stable_rows(S, axis=-1):
    e = np.exp(S - S.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# Buggy versions of the exercises, one per targeted message.
def qkv_transposed(X, Wq, Wk, Wv):
    return Wq.T @ X.T, Wk.T @ X.T, Wv.T @ X.T


def qkv_wrong_order(X, Wq, Wk, Wv):
    return X @ Wq, X @ Wv, X @ Wk


def softmax_columns(X):
    return _stable_rows(X, axis=0)


def softmax_whole_matrix(X):
    return np.exp(X) / np.exp(X).sum()


def softmax_naive(X):
    return np.exp(X) / np.exp(X).sum(axis=1, keepdims=True)


def softmax_global_max(X):
    e = np.exp(X - X.max())
    return e / e.sum(axis=1, keepdims=True)


def softmax_no_keepdims(X):
    e = np.exp(X - X.max(axis=1))
    return e / e.sum(axis=1)


def make_attention(scores, weights_of=lambda S: _stable_rows(S), combine=lambda A, V: A @ V):
    def attention(Q, K, V):
        A = weights_of(scores(Q, K, V))
        return combine(A, V), A

    return attention


def attention_swapped(Q, K, V):
    A = _stable_rows(Q @ K.T / np.sqrt(K.shape[1]))
    return A, A @ V


def _scaled(Q, K, V):
    return Q @ K.T / np.sqrt(K.shape[1])


def make_multi_head(concat=lambda Zs: np.concatenate(Zs, axis=1), scale=None, head=None):
    def multi_head_self_attention(X, Wq, Wk, Wv, W0):
        Zs = []
        for h in range(Wq.shape[2]):
            g = h if head is None else head
            Q, K, V = X @ Wq[:, :, g], X @ Wk[:, :, g], X @ Wv[:, :, g]
            d = np.sqrt(K.shape[1]) if scale is None else scale(Wq)
            Zs.append(_stable_rows(Q @ K.T / d) @ V)
        return concat(Zs) @ W0

    return multi_head_self_attention


def multi_head_without_W0(X, Wq, Wk, Wv, W0):
    return np.concatenate(
        [
            _stable_rows(X @ Wq[:, :, h] @ (X @ Wk[:, :, h]).T / np.sqrt(Wq.shape[1]))
            @ (X @ Wv[:, :, h])
            for h in range(Wq.shape[2])
        ],
        axis=1,
    )


def multi_head_per_head_outputs(X, Wq, Wk, Wv, W0):
    return np.stack([multi_head_without_W0(X, Wq, Wk, Wv, W0)] * 2)


def raises_value_error(*args):
    raise ValueError("shapes (3,4) and (5,3) not aligned")


@pytest.mark.parametrize(
    ("check", "function", "message"),
    [
        ("check_qkv", qkv_transposed, "transposed"),
        ("check_qkv", qkv_wrong_order, "order Q, K, V"),
        ("check_qkv", lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk), "3 matrices"),
        ("check_qkv", raises_value_error, "raised ValueError on valid inputs"),
        ("check_softmax", softmax_columns, "normalises each COLUMN"),
        ("check_softmax", softmax_whole_matrix, "whole matrix"),
        ("check_softmax", softmax_naive, "exp(1000) overflows"),
        ("check_softmax", softmax_global_max, "maximum of the whole matrix"),
        ("check_softmax", softmax_no_keepdims, "keepdims"),
        ("check_softmax", lambda X: X, "exp(X[i, j])"),
        ("check_attention", attention_swapped, "(Z, attention_weights), not the reverse"),
        ("check_attention", make_attention(_scaled, lambda S: _stable_rows(S, axis=0)),
         "wrong axis"),
        ("check_attention", make_attention(lambda Q, K, V: Q @ K.T), "not scaled"),
        ("check_attention", make_attention(lambda Q, K, V: Q @ K.T / K.shape[1]),
         "square root"),
        ("check_attention", make_attention(lambda Q, K, V: Q @ K.T / np.sqrt(V.shape[1])),
         "sqrt(d_v)"),
        ("check_attention", make_attention(lambda Q, K, V: Q @ K.T / np.sqrt(len(Q))),
         "number of tokens"),
        ("check_attention", make_attention(lambda Q, K, V: K @ Q.T / np.sqrt(K.shape[1])),
         "transposed"),
        ("check_attention", make_attention(_scaled, combine=lambda A, V: A.T @ V),
         "not attention_weights.T @ V"),
        ("check_attention", make_attention(_scaled, combine=lambda A, V: 2 * A @ V),
         "Z = attention_weights @ V"),
        ("check_multi_head", multi_head_without_W0, "multiply them by W0"),
        ("check_multi_head", multi_head_per_head_outputs, "should be (n_tokens, d_out)"),
        ("check_multi_head", make_multi_head(lambda Zs: np.concatenate(Zs[::-1], axis=1)),
         "wrong order"),
        ("check_multi_head",
         make_multi_head(lambda Zs: np.stack(Zs, axis=2).reshape(len(Zs[0]), -1)),
         "interleaved"),
        ("check_multi_head", make_multi_head(scale=lambda Wq: 1.0), "not scaled"),
        ("check_multi_head",
         make_multi_head(scale=lambda Wq: np.sqrt(Wq.shape[1] * Wq.shape[2])),
         "width of ONE head"),
        ("check_multi_head", make_multi_head(head=0), "first head's weights"),
    ],
)  # fmt: skip
def test_targeted_messages(check, function, message):
    with np.errstate(all="ignore"), pytest.raises(CheckFailed) as error:
        getattr(checks, check)(function)
    assert message in str(error.value)
