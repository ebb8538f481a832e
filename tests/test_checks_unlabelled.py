"""Chapter 6's checks: every correct answer passes, float32 included, and each known mistake
gets a message that names it."""

from __future__ import annotations

import numpy as np
import pytest

from utils import doc_vectors as dv
from utils.checks import CheckFailed, check_choose_weight, check_dbow_objective, check_review_tokens

# ------------------------------------------------------------------ review_tokens


def _tokens_words_only(text):
    return dv.tokenize(text)


def _tokens_bigrams_only(text):
    return dv.review_tokens(text)[len(dv.tokenize(text)) :]


def _tokens_underscore(text):
    words = dv.tokenize(text)
    return words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)]


def _tokens_wrapped(text):
    words = dv.tokenize(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:] + words[:1], strict=True)]


def _tokens_split_text(text):
    words = text.split()
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (_tokens_words_only, "returns the words only"),
        (_tokens_bigrams_only, "returns the bigrams only"),
        (_tokens_underscore, "join the words with '_'"),
        (_tokens_wrapped, "n - 1 bigrams"),
        (_tokens_split_text, "Use the given `tokenize`"),
        (lambda text: None, "did you forget `return`"),
        (lambda text: " ".join(dv.review_tokens(text)), "should return a list of strings"),
        (lambda text: [len(t) for t in dv.review_tokens(text)], "every token is a string"),
    ],
)
def test_review_tokens_mistakes_are_named(answer, message):
    with pytest.raises(CheckFailed, match=message):
        check_review_tokens(answer)


def test_review_tokens_accepts_a_tuple_and_the_solution(capsys):
    check_review_tokens(dv.review_tokens)
    check_review_tokens(lambda text: tuple(dv.review_tokens(text)))
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 2


# ------------------------------------------------------------------ dbow_objective


def _solution(d, positive, negative):
    return dv.dbow_objective(d, positive, negative)


def _float32(d, positive, negative):
    # A student who works in float32 (as gensim stores its vectors) is right too.
    d, positive, negative = (np.asarray(a, np.float32) for a in (d, positive, negative))
    s_pos, s_neg = positive @ d, negative @ d
    loss = np.logaddexp(np.float32(0), -s_pos).sum() + np.logaddexp(np.float32(0), s_neg).sum()
    gradient = -(1 / (1 + np.exp(s_pos))) @ positive + np.einsum(
        "tn,tnk->k", 1 / (1 + np.exp(-s_neg)), negative
    )
    return np.float32(loss), gradient.astype(np.float32)


def _naive(d, positive, negative):
    # log(sigmoid) written out: overflows for large scores.
    s_pos, s_neg = positive @ d, negative @ d
    with np.errstate(over="ignore", divide="ignore"):
        loss = -np.log(1 / (1 + np.exp(-s_pos))).sum() - np.log(1 / (1 + np.exp(s_neg))).sum()
    return loss, dv.dbow_objective(d, positive, negative)[1]


def _with(transform):
    def answer(d, positive, negative):
        loss, gradient = dv.dbow_objective(d, positive, negative)
        return transform(d, positive, negative, loss, gradient)

    return answer


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            _with(
                lambda d, p, n, loss, g: (
                    np.logaddexp(0, -(p @ d)).sum() + np.logaddexp(0, -(n @ d)).sum(),
                    g,
                )
            ),
            "rewards the noise tokens",
        ),
        (
            _with(lambda d, p, n, loss, g: (np.logaddexp(0, -(p @ d)).sum(), g)),
            "leaves out the noise tokens",
        ),
        (_with(lambda d, p, n, loss, g: (-loss, g)), "The loss has the wrong sign"),
        (
            _with(
                lambda d, p, n, loss, g: (
                    np.logaddexp(0, -(p @ d)).mean() + np.logaddexp(0, n @ d).mean(),
                    g,
                )
            ),
            "averages where it should add up",
        ),
        (_with(lambda d, p, n, loss, g: (loss, -g)), "The gradient has the wrong sign"),
        (_with(lambda d, p, n, loss, g: (loss, 2 * g)), "The gradient should be"),
        (_with(lambda d, p, n, loss, g: (loss, g[:-1])), r"shape"),
        (_with(lambda d, p, n, loss, g: loss), r"\(loss, gradient\)"),
        (_naive, "np.logaddexp"),
    ],
)
def test_dbow_objective_mistakes_are_named(answer, message):
    with pytest.raises(CheckFailed, match=message):
        check_dbow_objective(answer)


def test_dbow_objective_accepts_float64_float32_and_a_list(capsys):
    check_dbow_objective(_solution)
    check_dbow_objective(_float32)
    check_dbow_objective(_with(lambda d, p, n, loss, g: [float(loss), list(g)]))
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 3


# ------------------------------------------------------------------ choose_weight


def _choose(z_bag, z_vectors, y, weights, threshold=0.0, flip=False, pick=np.argmax):
    if flip:
        z_bag, z_vectors = z_vectors, z_bag
    accuracies = np.array(
        [np.mean((((1 - w) * z_bag + w * z_vectors) > threshold) == y) for w in weights]
    )
    return weights[int(pick(accuracies))], accuracies


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda *a: _choose(*a, flip=True), "wrong way round"),
        (lambda *a: _choose(*a, threshold=0.5), "The threshold is 0.5"),
        (
            lambda *a: _choose(*a, pick=lambda acc: len(acc) - 1 - np.argmax(acc[::-1])),
            "return the first of them",
        ),
        (lambda *a: (_choose(*a)[1], _choose(*a)[0]), "accuracies"),
        (lambda *a: _choose(*a)[0], r"\(weight, accuracies\)"),
        (lambda *a: ([_choose(*a)[0]], _choose(*a)[1]), "one number"),
        (lambda *a: (_choose(*a)[0], 1 - _choose(*a)[1]), "Expected"),
    ],
)
def test_choose_weight_mistakes_are_named(answer, message):
    with pytest.raises(CheckFailed, match=message):
        check_choose_weight(answer)


def test_choose_weight_accepts_numpy_scalars_float32_and_lists(capsys):
    check_choose_weight(_choose)
    check_choose_weight(lambda *a: (np.float32(_choose(*a)[0]), _choose(*a)[1].astype(np.float32)))
    check_choose_weight(lambda *a: (_choose(*a)[0], list(_choose(*a)[1])))
    check_choose_weight(dv.choose_weight)
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 4
