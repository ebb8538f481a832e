"""Simulated student submissions for every check, written from the exercise texts (issue 19).

For each exercise with a check: at least eight plausible wrong submissions, each rejected with
the message that names its mistake, and at least three correct but unusual ones (single
precision, other NumPy idioms, lists, keyword forms, the functional API) that pass. The
chapter 3 builders and chapter 5's layer are in test_checks_keras_submissions.py (they
need Keras); this file needs only NumPy and the uuml data.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import scipy.special

from utils import checks, params
from utils.checks import CheckFailed

needs_data = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR (the uuml data)"
)
f32 = np.float32


def _rows(S, axis=-1):
    e = np.exp(S - S.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _judge(check, function, message):
    """Pass when ``message`` is None; otherwise fail with a message matching it."""
    if message is None:
        check(function)
        return
    with np.errstate(all="ignore"), pytest.raises(CheckFailed, match=message):
        check(function)


# ------------------------------------------------------------------ chapter 1


def _qkv_checks(X, Wq, Wk, Wv):
    """The shape checks that the exercise's stub gives."""
    for name, W in (("Wq", Wq), ("Wk", Wk), ("Wv", Wv)):
        if np.ndim(W) != 2 or np.shape(W)[0] != np.shape(X)[1]:
            raise ValueError(f"X has shape {np.shape(X)} but {name} has shape {np.shape(W)}")


def _qkv(compute):
    def qkv(X, Wq, Wk, Wv):
        _qkv_checks(X, Wq, Wk, Wv)
        return compute(X, Wq, Wk, Wv)

    return qkv


QKV = [
    ("float32", _qkv(lambda X, *W: tuple(X.astype(f32) @ w.astype(f32) for w in W)), None),
    ("einsum, a list", _qkv(lambda X, *W: [np.einsum("td,dk->tk", X, w) for w in W]), None),
    ("np.dot, nested lists", _qkv(lambda X, *W: [np.dot(X, w).tolist() for w in W]), None),
    ("transposed", _qkv(lambda X, *W: tuple(w.T @ X.T for w in W)), "transposed"),
    ("order Q, V, K", _qkv(lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wv, X @ Wk)), "order Q, K, V"),
    ("Q scaled", _qkv(lambda X, Wq, Wk, Wv: (X @ Wq / np.sqrt(Wq.shape[1]), X @ Wk, X @ Wv)),
     r"times 1/sqrt\(d_k\).*belongs to attention"),
    ("K scaled by sqrt(d_k)",
     _qkv(lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk * np.sqrt(Wk.shape[1]), X @ Wv)),
     r"K is X @ Wk times sqrt\(d_k\)"),
    ("two matrices", _qkv(lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk)), "3 matrices"),
    ("Wq for all", _qkv(lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wq, X @ Wv)), "equals X @ Wq"),
    ("a dict", _qkv(lambda X, Wq, Wk, Wv: {"Q": X @ Wq, "K": X @ Wk, "V": X @ Wv}),
     "returned a dict of 3 entries"),
    ("no return", _qkv(lambda X, *W: None), "forget `return`"),
    ("stub's checks removed", lambda X, Wq, Wk, Wv: (X @ Wq, X @ Wk, X @ Wv),
     "Keep the given shape checks"),
    ("elementwise bias", _qkv(lambda X, Wq, Wk, Wv: (X @ Wq + 1, X @ Wk, X @ Wv)),
     r"Q should be X @ Wq.*differs most"),
]  # fmt: skip


def _softmax_mean(X):
    e = np.exp(X - X.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


SOFTMAX = [
    ("float32", lambda X: _rows(np.asarray(X, f32)), None),
    ("scipy, axis=-1", lambda X: scipy.special.softmax(X, axis=-1), None),
    ("log-sum-exp", lambda X: np.exp(X - scipy.special.logsumexp(X, axis=1, keepdims=True)), None),
    ("a list", lambda X: _rows(X).tolist(), None),
    ("columns", lambda X: _rows(X, axis=0), "normalises each COLUMN"),
    ("whole matrix", lambda X: np.exp(X) / np.exp(X).sum(), "whole matrix"),
    ("no keepdims", lambda X: np.exp(X - X.max(axis=1)) / np.exp(X - X.max(axis=1)).sum(axis=1),
     "keepdims"),
    ("no shift", lambda X: np.exp(X) / np.exp(X).sum(axis=1, keepdims=True), "exp\\(1000\\) overflows"),
    ("global maximum", lambda X: np.exp(X - X.max()) / np.exp(X - X.max()).sum(axis=1, keepdims=True),
     "maximum of the whole matrix"),
    ("row minimum", lambda X: _rows(X) * 0 + np.exp(X - X.min(axis=1, keepdims=True))
     / np.exp(X - X.min(axis=1, keepdims=True)).sum(axis=1, keepdims=True), "MINIMUM"),
    ("row mean", _softmax_mean, "MEAN"),
    ("row median", lambda X: np.exp(X - np.median(X, axis=1, keepdims=True))
     / np.exp(X - np.median(X, axis=1, keepdims=True)).sum(axis=1, keepdims=True), "MEAN \\(or median"),
    ("sigmoid", lambda X: 1 / (1 + np.exp(-X)), r"(?s)exp\(X\[i, j\]\).*differs most"),
    ("clipped scores", lambda X: _rows(np.clip(X, -50, 50)),
     r"(?s)For X =.*differs most: expected 0\.0900305"),
]  # fmt: skip


def _attention(scores=lambda Q, K: Q @ K.T / np.sqrt(K.shape[1]), axis=-1, combine=None):
    def attention(Q, K, V):
        A = _rows(scores(Q, K), axis)
        return (A @ V if combine is None else combine(A, V)), A

    return attention


ATTENTION = [
    ("float32", lambda Q, K, V: _attention()(*(np.asarray(M, f32) for M in (Q, K, V))), None),
    ("a list", lambda Q, K, V: list(_attention()(Q, K, V)), None),
    ("einsum and scipy", lambda Q, K, V: (
        np.einsum("qk,kv->qv", scipy.special.softmax(np.einsum("qd,kd->qk", Q, K)
                                                      / math.sqrt(K.shape[-1]), axis=1), V),
        scipy.special.softmax(Q @ K.T / math.sqrt(K.shape[-1]), axis=1)), None),
    ("reversed pair", lambda Q, K, V: _attention()(Q, K, V)[::-1], "not the reverse"),
    ("columns", _attention(axis=0), "wrong axis"),
    ("unscaled", _attention(lambda Q, K: Q @ K.T), "not scaled"),
    ("divided by d_k", _attention(lambda Q, K: Q @ K.T / K.shape[1]), "square root"),
    ("sqrt(d_v)", lambda Q, K, V: _attention(lambda q, k: q @ k.T / np.sqrt(V.shape[1]))(Q, K, V),
     r"sqrt\(d_v\)"),
    ("sqrt(tokens)", _attention(lambda Q, K: Q @ K.T / np.sqrt(len(Q))), "number of tokens"),
    ("K Q^T", _attention(lambda Q, K: K @ Q.T / np.sqrt(K.shape[1])), "transposed"),
    ("times sqrt(d_k)", _attention(lambda Q, K: Q @ K.T * np.sqrt(K.shape[1])), "multiply the scores"),
    ("A^T V", _attention(combine=lambda A, V: A.T @ V), r"not attention_weights\.T @ V"),
    ("Z only", lambda Q, K, V: _attention()(Q, K, V)[0], "should return the pair"),
]  # fmt: skip


def _multi_head(order=None, scale=None, head=None, W0=True, stack=False, dtype=float):
    def multi_head_self_attention(X, Wq, Wk, Wv, W0_):
        X, Wq, Wk, Wv, W0_ = (np.asarray(M, dtype) for M in (X, Wq, Wk, Wv, W0_))
        Zs = []
        for h in range(Wq.shape[2]):
            g = h if head is None else head
            Q, K, V = X @ Wq[:, :, g], X @ Wk[:, :, g], X @ Wv[:, :, g]
            s = np.sqrt(K.shape[1]) if scale is None else scale(Wq)
            Zs.append(_rows(Q @ K.T / s) @ V)
        if order is not None:
            Zs = order(Zs)
        joined = np.stack(Zs, axis=2).reshape(len(X), -1) if stack else np.concatenate(Zs, 1)
        return joined @ W0_ if W0 else joined

    return multi_head_self_attention


def _multi_head_einsum(X, Wq, Wk, Wv, W0):
    Q, K, V = (np.einsum("td,dkh->htk", X, W) for W in (Wq, Wk, Wv))
    A = _rows(Q @ K.transpose(0, 2, 1) / np.sqrt(Wq.shape[1]))
    return np.concatenate(list(A @ V), axis=1) @ W0


MULTI_HEAD = [
    ("float32", _multi_head(dtype=f32), None),
    ("einsum over heads", _multi_head_einsum, None),
    ("a list", lambda *a: _multi_head()(*a).tolist(), None),
    ("no W0", _multi_head(W0=False), "multiply them by W0"),
    ("heads reversed", _multi_head(order=lambda Zs: Zs[::-1]), "wrong order"),
    ("interleaved", _multi_head(stack=True), "interleaved"),
    ("unscaled", _multi_head(scale=lambda Wq: 1.0), "not scaled"),
    ("all heads' width", _multi_head(scale=lambda Wq: np.sqrt(Wq.shape[1] * Wq.shape[2])),
     "width of ONE head"),
    ("first head only", _multi_head(head=0), "first head's weights"),
    ("pair", lambda *a: (_multi_head()(*a), None), "the result is one array"),
    ("per head", lambda *a: np.stack([_multi_head(W0=False)(*a)] * 2), r"should be \(n_tokens, d_out\)"),
    ("W0 transposed", lambda X, Wq, Wk, Wv, W0: _multi_head(W0=False)(X, Wq, Wk, Wv, W0) @ W0.T
     if W0.shape[0] == W0.shape[1] else _multi_head(W0=False)(X, Wq, Wk, Wv, W0) @ W0 * 1.01,
     "Wrong on a random example"),
]  # fmt: skip


# ------------------------------------------------------------------ chapter 2


def _unit_checks(h, x, W, U, b):
    hidden, d = U.shape
    if np.shape(x) != (1, d) or np.shape(W) != (hidden, hidden):
        raise ValueError(f"x_t {np.shape(x)} or W {np.shape(W)} do not fit U {U.shape}")
    if np.shape(b) != (hidden, 1) or np.shape(h) != (hidden, 1):
        raise ValueError(f"b {np.shape(b)} or h {np.shape(h)} do not fit U {U.shape}")


def _unit(compute, checked=True):
    def rnn_unit(h_t_minus_one, x_t, W, U, b):
        if checked:
            _unit_checks(h_t_minus_one, x_t, W, U, b)
        return compute(h_t_minus_one, x_t, W, U, b)

    return rnn_unit


def _unit_mutating_b(h, x, W, U, b):
    _unit_checks(h, x, W, U, b)
    a = b
    a += W @ h + U @ x.T
    return a


RNN_UNIT = [
    ("float32", _unit(lambda h, x, W, U, b: (b + W @ h + U @ x.T).astype(f32)), None),
    ("NumPy's own errors", _unit(lambda h, x, W, U, b: b + W @ h + U @ x.T, checked=False), None),
    ("np.dot, x as column", _unit(lambda h, x, W, U, b: np.dot(W, h) + np.dot(U, x.reshape(-1, 1)) + b),
     None),
    ("a row", _unit(lambda h, x, W, U, b: (b + W @ h + U @ x.T).T), "1 x 4 row"),
    ("x U + b", lambda h, x, W, U, b: x @ U + b, "raised ValueError on valid inputs"),
    ("no bias", _unit(lambda h, x, W, U, b: W @ h + U @ x.T), "missing the bias"),
    ("minus bias", _unit(lambda h, x, W, U, b: W @ h + U @ x.T - b), "subtracts the bias"),
    ("no W", _unit(lambda h, x, W, U, b: b + U @ x.T), "previous hidden state is ignored"),
    ("W.T", _unit(lambda h, x, W, U, b: b + W.T @ h + U @ x.T), r"not W\.T"),
    ("tanh already", _unit(lambda h, x, W, U, b: np.tanh(b + W @ h + U @ x.T)), "should be b \\+ W h_0"),
    ("b changed in place", _unit_mutating_b, "changes its argument b in place"),
    ("any h", lambda h, x, W, U, b: b + W @ np.resize(h, (4, 1)) + U @ x.T,
     r"returned an array of shape \(4, 1\) for h_t_minus_one of shape \(3, 1\)"),
    ("no return", _unit(lambda *a: None), "forget `return`"),
]  # fmt: skip


def _stable_tanh(a, dtype=float):
    a = np.asarray(a, dtype=dtype)
    decay = np.exp(-2 * np.abs(a))
    return np.sign(a) * (1 - decay) / (1 + decay)


def _expm1_tanh(a):
    t = -np.expm1(-2 * np.abs(a))
    return np.sign(a) * t / (2 - t)


def _loop_tanh(a):
    out = np.empty_like(np.asarray(a, dtype=float))
    for index, value in np.ndenumerate(a):
        decay = math.exp(-2 * abs(value))
        out[index] = math.copysign((1 - decay) / (1 + decay), value)
    return out


def _from_numpy_tanh():
    namespace: dict = {}
    exec("from numpy import tanh\ndef activation(a_t):\n    return tanh(a_t)", namespace)
    return namespace["activation"]


ACTIVATION = [
    ("float32", lambda a: _stable_tanh(a, f32), None),
    ("expm1", _expm1_tanh, None),
    ("math, entry by entry", _loop_tanh, None),
    ("clipped at 25, exact", lambda a: (np.exp(np.clip(a, -25, 25)) - np.exp(-np.clip(a, -25, 25)))
     / (np.exp(np.clip(a, -25, 25)) + np.exp(-np.clip(a, -25, 25))), None),
    ("np.tanh itself", np.tanh, "np.tanh itself"),
    ("calls np.tanh", lambda a: np.tanh(a), "calls np.tanh"),
    ("from numpy import tanh", _from_numpy_tanh(), "calls `tanh`, which is np.tanh"),
    ("naive", lambda a: (np.exp(a) - np.exp(-a)) / (np.exp(a) + np.exp(-a)),
     r"activation\(800\) = nan.*overflows"),
    ("e^-2a for every a", lambda a: (1 - np.exp(-2 * a)) / (1 + np.exp(-2 * a)),
     r"activation\(-800\) = nan.*for negative a"),
    ("sigmoid form", lambda a: 2 / (1 + np.exp(-2 * np.asarray(a))) - 1, "overflows on the way"),
    ("no sign", lambda a: _stable_tanh(np.abs(a)), "for every a < 0"),
    ("tanh(a/2)", lambda a: _stable_tanh(np.asarray(a) / 2), r"tanh\(a / 2\)"),
    ("logistic", lambda a: 1 / (1 + np.exp(-np.clip(a, -500, 500))), "logistic sigmoid"),
    ("clipped at 5", lambda a: _stable_tanh(np.clip(a, -5, 5)), r"stops growing at \|a\| = 5"),
    ("clipped at 6.5", lambda a: (np.exp(np.clip(a, -6.5, 6.5)) - np.exp(-np.clip(a, -6.5, 6.5)))
     / (np.exp(np.clip(a, -6.5, 6.5)) + np.exp(-np.clip(a, -6.5, 6.5))),
     r"stops growing at \|a\| = 6\.5"),
    ("flattened", lambda a: _stable_tanh(a).ravel(), "shape"),
]  # fmt: skip


def _output(compute, checked=True):
    def output_rnn(h_t, V, c):
        if checked and (np.shape(h_t) != (V.shape[1], 1) or np.shape(c) != (V.shape[0], 1)):
            raise ValueError(f"V {V.shape}, h_t {np.shape(h_t)}, c {np.shape(c)}")
        return compute(h_t, V, c)

    return output_rnn


OUTPUT_RNN = [
    ("float32", _output(lambda h, V, c: (c + V @ h).astype(f32)), None),
    ("NumPy's own errors", _output(lambda h, V, c: c + V @ h, checked=False), None),
    ("np.dot, a list", _output(lambda h, V, c: (np.dot(V, h) + c).tolist()), None),
    ("a row", _output(lambda h, V, c: (c + V @ h).T), "as a column"),
    ("no bias", _output(lambda h, V, c: V @ h), "missing the output bias"),
    ("c as a row", _output(lambda h, V, c: c.T + V @ h), "3 x 3 matrix"),
    ("tanh", _output(lambda h, V, c: np.tanh(c + V @ h)), "no activation of its own"),
    ("columns reversed", _output(lambda h, V, c: c + V[:, ::-1] @ h), r"c \+ V @ h_t"),
    ("V.T", lambda h, V, c: c + V.T @ h, "raised ValueError on valid inputs"),
    ("c resized", lambda h, V, c: np.resize(c, (3, 1)) + V @ h, r"for c of shape \(2, 1\)"),
    ("no return", _output(lambda h, V, c: None), "forget `return`"),
]  # fmt: skip


def _shifted(o, shift):
    e = np.exp(o - shift)
    return e / e.sum(axis=0, keepdims=True)


SOFTMAX_COLUMN = [
    ("float32", lambda o: _shifted(np.asarray(o, f32), np.asarray(o, f32).max(axis=0)), None),
    ("scipy", lambda o: scipy.special.softmax(o, axis=0), None),
    ("a list", lambda o: _shifted(o, o.max(axis=0, keepdims=True)).tolist(), None),
    ("axis 1", lambda o: np.exp(o) / np.exp(o).sum(axis=1, keepdims=True), "axis 1"),
    ("whole array", lambda o: np.exp(o - o.max()) / np.exp(o - o.max()).sum(), "columns must each"),
    ("no shift", lambda o: _shifted(o, 0.0), "not finite"),
    ("global maximum", lambda o: _shifted(o, o.max()), "maximum of the whole array"),
    ("column minimum", lambda o: _shifted(o, o.min(axis=0, keepdims=True)), "MINIMUM"),
    ("column mean", lambda o: _shifted(o, o.mean(axis=0, keepdims=True)), "MEAN"),
    ("column median", lambda o: _shifted(o, np.median(o, axis=0, keepdims=True)), "or median"),
    ("sigmoid", lambda o: 1 / (1 + np.exp(-o)), "should be"),
    ("no return", lambda o: None, "forget `return`"),
]  # fmt: skip


def _layer(unit=None, carry=True, h0=0.0, last_only=False, transpose=False, axis=0, steps=None,
           empty_error=True, dtype=float, as_list=False):  # fmt: skip
    unit = unit or (lambda h, x, W, U, b: b + W @ h + U @ x.T)

    def rnn_layer(X, W, V, U, b, c):
        X = np.asarray(X, dtype)
        if empty_error and len(X) == 0:
            raise ValueError("X is an empty sequence: no hidden states")
        start = np.full((W.shape[0], 1), h0, dtype)
        h = start
        ht, yhat = np.zeros((len(X), W.shape[0]), dtype), np.zeros((len(X), V.shape[0]), dtype)
        for t in range(len(X) if steps is None else steps(len(X))):
            h = _stable_tanh(unit(h if carry else start, X[t : t + 1], W, U, b), dtype)
            o = c + V @ h
            e = np.exp(o - o.max(axis=axis, keepdims=True))
            ht[t], yhat[t] = h.ravel(), (e / e.sum(axis=axis, keepdims=True)).ravel()
        if last_only:
            return h, yhat
        if transpose:
            return ht.T, yhat.T
        return [ht.tolist(), yhat.tolist()] if as_list else (ht, yhat)

    return rnn_layer


def _layer_vstack(X, W, V, U, b, c):
    if X.shape[0] == 0:
        raise ValueError(f"X has shape {X.shape}: an empty sequence")
    h, hs, ys = np.zeros((W.shape[0], 1)), [], []
    for x in X:
        h = _stable_tanh(b + W @ h + U @ x[:, None])
        hs.append(h.T)
        ys.append(scipy.special.softmax(c + V @ h, axis=0).T)
    return np.vstack(hs), np.vstack(ys)


RNN_LAYER = [
    ("float32", _layer(dtype=f32), None),
    ("nested lists", _layer(as_list=True), None),
    ("vstack and scipy", _layer_vstack, None),
    ("last state only", _layer(last_only=True), "only the last hidden state"),
    ("no carry", _layer(carry=False), "starts again from h_0"),
    ("h_0 of ones", _layer(h0=1.0), "h_0 must be zeros"),
    ("transposed", _layer(transpose=True), "one ROW per token"),
    ("softmax over axis 1", _layer(axis=1), "softmax taken over the output units"),
    ("one step early", _layer(steps=lambda T: T - 1), "stops one step early"),
    ("no empty error", _layer(empty_error=False), r"empty sequence X of shape \(0, 5\)"),
    ("b changed in place", _layer(unit=_unit_mutating_b), "changes b in place"),
    ("ht only", lambda *a: _layer()(*a)[0], "pair"),
    ("W.T inside", _layer(unit=lambda h, x, W, U, b: b + W.T @ h + U @ x.T),
     "later hidden states are not"),
]  # fmt: skip


# ------------------------------------------------------------------ chapter 3 (NumPy part)


def _neighbours(score="cosine", exclude=True, ascending=False, dtype=float, as_tuples=False):
    def nearest_neighbours(embeddings, vocabulary, word, k=8):
        if word not in vocabulary:
            raise ValueError(f"{word!r} is not in the vocabulary")
        index = vocabulary[word]
        if index >= len(embeddings):
            raise ValueError(f"{word!r} has index {index}, no row in {np.shape(embeddings)}")
        E = np.asarray(embeddings, dtype)
        if score == "euclidean":
            scores = -np.linalg.norm(E - E[index], axis=1)
        else:
            scores = E @ E[index] / (np.linalg.norm(E, axis=1) * np.linalg.norm(E[index]))
        if exclude:
            scores[index] = -np.inf
        order = np.argsort(scores if ascending else -scores, kind="stable")[:k]
        words = {i: w for w, i in vocabulary.items()}
        value = (lambda i: -scores[i]) if score == "euclidean" else (lambda i: scores[i])
        pairs = [(words.get(i, "<unk>"), float(value(i))) for i in order]
        return tuple(tuple(p) for p in pairs) if as_tuples else pairs

    return nearest_neighbours


def _neighbours_sorted(embeddings, vocabulary, word, k=8):
    if word not in vocabulary or vocabulary[word] >= len(embeddings):
        raise ValueError(f"no row for {word!r}")
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    similar = unit @ unit[vocabulary[word]]
    pairs = [(w, similar[i]) for w, i in vocabulary.items() if w != word and i < len(unit)]
    return sorted(pairs, key=lambda pair: pair[1], reverse=True)[:k]


NEAREST = [
    ("float32", _neighbours(dtype=f32), None),
    ("tuples", _neighbours(as_tuples=True), None),
    ("sorted over the vocabulary", _neighbours_sorted, None),
    ("dot product", lambda e, v, w, k=8: _plain_dot(e, v, w, k), "plain dot product"),
    ("Euclidean", _neighbours(score="euclidean"), "Euclidean distance"),
    ("itself", _neighbours(exclude=False), "its own nearest neighbour"),
    ("reversed", _neighbours(ascending=True), "reversed|its own"),
    ("ignores k", lambda e, v, w, k=8: _neighbours()(e, v, w, 8), "returned 8 neighbours for k = 3"),
    ("words only", lambda e, v, w, k=8: [x for x, _ in _neighbours()(e, v, w, k)], "pairs"),
    ("KeyError", lambda e, v, w, k=8: _neighbours()(e, v, w, k) if v[w] < len(e) else None,
     "raised KeyError"),
    ("cosine distance", lambda e, v, w, k=8: [(x, 1 - s) for x, s in _neighbours()(e, v, w, k)],
     "cosine distances"),
]  # fmt: skip


def _plain_dot(embeddings, vocabulary, word, k):
    if word not in vocabulary or vocabulary[word] >= len(embeddings):
        raise ValueError(f"no row for {word!r}")
    index = vocabulary[word]
    scores = embeddings @ embeddings[index]
    scores[index] = -np.inf
    words = {i: w for w, i in vocabulary.items()}
    return [(words.get(i, "<unk>"), float(scores[i])) for i in np.argsort(-scores)[:k]]


# ------------------------------------------------------------------ chapter 4


def _builds_rnn(d, n):
    import keras

    layer = keras.layers.SimpleRNN(n)
    layer.build((None, None, d))
    return layer.count_params()


def _imports_keras(d, n):
    import keras  # noqa: F401  (the import alone is what the check refuses)

    return d * n + n * n + n


SIMPLE_RNN_COUNT = [
    ("numpy int", lambda d, n: np.int64(d * n + n * n + n), None),
    ("factorised float", lambda input_dim, units: float(units * (input_dim + units + 1)), None),
    ("utils.params", params.simple_rnn_params, None),
    ("no b", lambda d, n: d * n + n * n, "forgot the bias b"),
    ("no W", lambda d, n: d * n + n, "forgot the recurrent weights W"),
    ("no U", lambda d, n: n * n + n, "forgot the input weights U"),
    ("U square", lambda d, n: 2 * n * n + n, "not units x units"),
    ("W like U", lambda d, n: 2 * d * n + n, "W is units x units"),
    ("bias twice", lambda d, n: d * n + n * n + 2 * n, "bias twice"),
    ("one bias", lambda d, n: d * n + n * n + 1, "not one number in all"),
    ("an LSTM", lambda d, n: 4 * (d * n + n * n + n), "LSTM's count"),
    ("with Dense(1)", lambda d, n: d * n + n * n + n + n + 1, "output layer Dense"),
    ("builds a layer", _builds_rnn, "builds a Keras SimpleRNN|imports Keras"),
    ("a string", lambda d, n: str(d * n + n * n + n), "whole number"),
]  # fmt: skip


def _builds_lstm(d, n):
    import keras

    layer = keras.layers.LSTM(n)
    layer.build((None, None, d))
    return layer.count_params()


LSTM_COUNT = [
    ("float", lambda d, n: 4.0 * (d * n + n * n + n), None),
    ("gate by gate", lambda input_dim, units: sum(input_dim * units + units * units + units
                                                 for _ in "ifco"), None),
    ("utils.params", params.lstm_params, None),
    ("one gate", lambda d, n: d * n + n * n + n, "one gate's worth"),
    ("GRU", lambda d, n: 3 * (d * n + n * n + n), "GRU"),
    ("no b", lambda d, n: 4 * (d * n + n * n), "forgot the bias b"),
    ("no W", lambda d, n: 4 * (d * n + n), "forgot the recurrent weights W"),
    ("one bias", lambda d, n: 4 * (d * n + n * n) + n, "its own bias"),
    ("one W", lambda d, n: 4 * (d * n + n) + n * n, "its own recurrent"),
    ("U per gate only", lambda d, n: 4 * d * n + n * n + n, "only U is per gate"),
    ("builds a layer", _builds_lstm, "builds a Keras LSTM|imports Keras"),
    ("None", lambda d, n: None, "forget `return`"),
]  # fmt: skip

_RIGHT = {"embedding": 160_000, "simple_rnn": 1_568, "dense": 33}


def _counts(**changes):
    return lambda: {**_RIGHT, **changes}


def _builds_model():
    import keras

    model = keras.Sequential([keras.Input(shape=(20,)), keras.layers.Embedding(10_000, 16),
                              keras.layers.SimpleRNN(32), keras.layers.Dense(1)])  # fmt: skip
    return dict(zip(_RIGHT, (layer.count_params() for layer in model.layers), strict=True))


RNN_MODEL_COUNTS = [
    ("numpy ints", lambda: {k: np.int32(v) for k, v in _RIGHT.items()}, None),
    ("floats", lambda: {k: float(v) for k, v in _RIGHT.items()}, None),
    ("by formula", lambda: {"embedding": params.embedding_params(10_000, 16),
                            "simple_rnn": params.simple_rnn_params(16, 32),
                            "dense": params.dense_params(32, 1)}, None),
    ("embedding per position", _counts(embedding=20 * 16), "one row per vocabulary word"),
    ("embedding bias", _counts(embedding=170_000), "no bias"),
    ("embedding as U", _counts(simple_rnn=160_000 + 32 * 32 + 32), "counted the embedding as U"),
    ("per step", _counts(simple_rnn=20 * 1_568), "once per word"),
    ("no b", _counts(simple_rnn=1_536), "forgot the bias"),
    ("no W", _counts(simple_rnn=544), "recurrent weights W"),
    ("dense without bias", _counts(dense=32), "forgot the bias"),
    ("dense on every state", _counts(dense=641), "last hidden state"),
    ("dense on the embedding", _counts(dense=17), "not an embedding"),
    ("builds the model", _builds_model, "builds a Keras Embedding|imports Keras"),
    ("a list", lambda: list(_RIGHT.values()), "should return a dict"),
]  # fmt: skip


def _builds_stacked():
    import keras

    first, second = keras.layers.LSTM(32, return_sequences=True), keras.layers.LSTM(32)
    keras.Sequential([keras.Input(shape=(20, 16)), first, second])
    return first.count_params(), second.count_params()


STACKED = [
    ("a list", lambda: [6_272, 8_320], None),
    ("numpy", lambda: tuple(np.array([6_272, 8_320]).tolist()), None),
    ("formulas", lambda: (params.lstm_params(16, 32), params.lstm_params(32, 32)), None),
    ("same twice", lambda: (6_272, 6_272), "does not read the 16-number embeddings"),
    ("swapped", lambda: (8_320, 6_272), "wrong order"),
    ("one gate", lambda: (1_568, 8_320), "one gate's worth"),
    ("second without b", lambda: (6_272, 4 * (32 * 32 + 32 * 32)), "forgot the bias"),
    ("second, W like U", lambda: (6_272, 4 * (2 * 32 * 32) + 32), "one bias for the whole|not"),
    ("first GRU", lambda: (3 * 1_568, 8_320), "GRU"),
    ("builds them", _builds_stacked, "builds a Keras LSTM|imports Keras"),
    ("one number", lambda: 6_272, "should return the pair"),
    ("strings", lambda: ("6272", "8320"), "whole number"),
]  # fmt: skip


# ------------------------------------------------------------------ chapter 5 (NumPy part)


def _block(d, h, k, f):
    return params.encoder_block_params(d, h, k, f)


def _builds_attention(d, h, k, f):
    import keras

    layer = keras.layers.MultiHeadAttention(h, k)
    x = np.zeros((1, 2, d), "float32")
    layer(x, x)
    return layer.count_params() + 4 * d + params.feed_forward_params(d, f)


ENCODER = [
    ("float", lambda d, h, k, f: float(_block(d, h, k, f)), None),
    ("numpy", lambda d_model, num_heads, key_dim, d_ff: np.int64(
        4 * d_model * num_heads * key_dim + 3 * num_heads * key_dim + d_model + 4 * d_model
        + 2 * d_model * d_ff + d_ff + d_model), None),
    ("by pieces", lambda d, h, k, f: params.multi_head_attention_params(d, h, k)
     + 2 * params.layer_norm_params(d) + params.feed_forward_params(d, f), None),
    ("no norms", lambda d, h, k, f: _block(d, h, k, f) - 4 * d, "layer normalisations"),
    ("one vector per norm", lambda d, h, k, f: _block(d, h, k, f) - 2 * d, "TWO vectors"),
    ("no attention biases", lambda d, h, k, f: _block(d, h, k, f) - 3 * h * k - d,
     "attention layer's biases"),
    ("no FFN biases", lambda d, h, k, f: _block(d, h, k, f) - f - d, "feed-forward network's biases"),
    ("no FFN", lambda d, h, k, f: params.multi_head_attention_params(d, h, k) + 4 * d,
     "forgot the feed-forward network"),
    ("no W^O", lambda d, h, k, f: _block(d, h, k, f) - h * k * d - d, "output projection"),
    ("key_dim in total", lambda d, h, k, f: _block(d, h, k, f) - 2 * h * k * d + 2 * d * k,
     "not to key_dim in total"),
    ("off by one", lambda d, h, k, f: _block(d, h, k, f) + 1, "not the number of parameters"),
    ("builds Keras layers", _builds_attention, "builds a Keras MultiHeadAttention|imports Keras"),
    ("nan", lambda d, h, k, f: float("nan"), "whole number"),
]  # fmt: skip


def _reference_softmax(scores, mask):
    return checks.transformer.reference_masked_softmax(scores, mask)


def _masked(compute):
    def masked_softmax(scores, mask):
        if np.shape(mask) != np.shape(scores):
            raise ValueError(f"mask has shape {np.shape(mask)} but scores {np.shape(scores)}")
        return compute(np.asarray(scores), np.asarray(mask, bool))

    return masked_softmax


def _fill(scores, mask, value=-1e9, dtype=float):
    s = np.where(mask, scores, value).astype(dtype)
    e = np.exp(s - s.max(axis=-1, keepdims=True)) * mask
    total = e.sum(axis=-1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def _nan_rows(scores, mask):
    s = np.where(mask, scores, -np.inf)
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _mean_shift(scores, mask):
    mean = np.where(mask, scores, 0).sum(1, keepdims=True) / np.maximum(
        mask.sum(1, keepdims=True), 1
    )
    e = np.where(mask, np.exp(scores - mean), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


def _global_shift(scores, mask):
    e = np.where(mask, np.exp(scores - scores.max()), 0.0)
    total = e.sum(axis=1, keepdims=True)
    return np.divide(e, total, out=np.zeros_like(e), where=total > 0)


MASKED_SOFTMAX = [
    ("float32", _masked(lambda s, m: _fill(s, m, dtype=f32)), None),
    ("-1e9 fill", _masked(_fill), None),
    ("masked arrays", _masked(lambda s, m: np.ma.filled(
        np.ma.exp(np.ma.array(s, mask=~m) - np.ma.array(s, mask=~m).max(axis=1, keepdims=True))
        / np.ma.exp(np.ma.array(s, mask=~m) - np.ma.array(s, mask=~m).max(axis=1, keepdims=True))
        .sum(axis=1, keepdims=True), 0.0)), None),
    ("mask ignored", _masked(lambda s, m: _rows(s)), "ignore the mask"),
    ("zeroed after", _masked(lambda s, m: np.where(m, _rows(s), 0.0)), "AFTER the softmax"),
    ("inverted", _masked(lambda s, m: _reference_softmax(s, ~m)), "wrong way round"),
    ("scores times mask", _masked(lambda s, m: _rows(s * m)), "multiply the scores by the mask"),
    ("columns", _masked(lambda s, m: _reference_softmax(s.T, m.T).T), "COLUMNS"),
    ("NaN rows", _masked(_nan_rows), "all False"),
    ("uniform empty rows", _masked(lambda s, m: np.where(
        m.any(axis=1, keepdims=True), _reference_softmax(s, m), 1 / m.shape[1])), "evenly"),
    ("global shift", _masked(_global_shift), "ALLOWED keys"),
    ("mean shift", _masked(_mean_shift), r"\[-1000, 1000, 0\], every key allowed"),
    ("shape check removed", lambda s, m: _reference_softmax(s, np.broadcast_to(True, np.shape(s))),
     "ignore the mask"),
    ("no return", _masked(lambda s, m: None), "forget `return`"),
]  # fmt: skip


def _attend(scale=None, transpose_mask=False, default=None, combine=None, dtype=float,
            scores=None, pair=lambda Z, A: (Z, A)):  # fmt: skip
    def masked_attention(Q, K, V, mask=None):
        Q, K, V = (np.asarray(M, dtype) for M in (Q, K, V))
        if mask is None:
            mask = (default or (lambda Q, K: np.ones((len(Q), len(K)), bool)))(Q, K)
        mask = mask.T if transpose_mask else mask
        S = Q @ K.T if scores is None else scores(Q, K)
        A = _masked(lambda s, m: _fill(s, m, dtype=dtype))(
            S / (np.sqrt(K.shape[1]) if scale is None else scale(Q, K, V)), mask
        )
        return pair(A @ V if combine is None else combine(A, V), A)

    return masked_attention


MASKED_ATTENTION = [
    ("float32", _attend(dtype=f32), None),
    ("ones_like default", _attend(default=lambda Q, K: np.ones_like(Q @ K.T, dtype=bool)), None),
    ("einsum, a list", lambda Q, K, V, mask=None: list(_attend(
        scores=lambda q, k: np.einsum("qd,kd->qk", q, k))(Q, K, V, mask)), None),
    ("unscaled", _attend(scale=lambda Q, K, V: 1.0), "not scaled"),
    ("sqrt(d_v)", _attend(scale=lambda Q, K, V: np.sqrt(V.shape[1])), r"sqrt\(d_v\)"),
    ("d_k", _attend(scale=lambda Q, K, V: K.shape[1]), "square root"),
    ("mask ignored", lambda Q, K, V, mask=None: _attend()(Q, K, V, None), "ignore the mask"),
    ("mask.T", _attend(transpose_mask=True), "mask transposed"),
    ("K Q^T", _attend(scores=lambda Q, K: K @ Q.T), "score matrix is transposed"),
    ("A^T V", _attend(combine=lambda A, V: A.T @ V), r"not attention_weights\.T @ V"),
    ("default from queries", _attend(default=lambda Q, K: np.ones((len(Q), len(Q)), bool)),
     "one column per KEY"),
    ("reversed pair", _attend(pair=lambda Z, A: (A, Z)), "not the reverse"),
    ("Z only", _attend(pair=lambda Z, A: Z), "the pair"),
]  # fmt: skip


CASES = [
    (checks.check_qkv, QKV, True),
    (checks.check_softmax, SOFTMAX, False),
    (checks.check_attention, ATTENTION, True),
    (checks.check_multi_head, MULTI_HEAD, True),
    (checks.check_rnn_unit, RNN_UNIT, True),
    (checks.check_activation, ACTIVATION, True),
    (checks.check_output_rnn, OUTPUT_RNN, True),
    (checks.check_softmax_column, SOFTMAX_COLUMN, True),
    (checks.check_rnn_layer, RNN_LAYER, True),
    (checks.check_nearest_neighbours, NEAREST, False),
    (checks.check_simple_rnn_count, SIMPLE_RNN_COUNT, False),
    (checks.check_lstm_count, LSTM_COUNT, False),
    (checks.check_rnn_model_counts, RNN_MODEL_COUNTS, False),
    (checks.check_stacked_lstm_counts, STACKED, False),
    (checks.check_encoder_block_count, ENCODER, False),
    (checks.check_masked_softmax, MASKED_SOFTMAX, False),
    (checks.check_masked_attention, MASKED_ATTENTION, False),
]
PARAMETERS = [
    pytest.param(check, function, message, id=f"{check.__name__}: {label}",
                 marks=[needs_data] if data else [])
    for check, table, data in CASES
    for label, function, message in table
]  # fmt: skip


@pytest.mark.parametrize(("check", "function", "message"), PARAMETERS)
def test_each_submission_is_classified_with_its_message(check, function, message, capsys):
    _judge(check, function, message)
    out = capsys.readouterr().out
    assert out.count("\N{CHECK MARK}") == (1 if message is None else 0)


@pytest.mark.parametrize(("check", "table", "data"), CASES, ids=[c[0].__name__ for c in CASES])
def test_every_check_has_eight_wrong_and_three_unusual_correct_submissions(check, table, data):
    wrong = [label for label, _, message in table if message is not None]
    right = [label for label, _, message in table if message is None]
    assert len(wrong) >= 8 and len(right) >= 3, check.__name__
