"""Checks for chapter 6: the tokens a review's vector predicts, the PV-DBOW loss of one review,
and the validation-chosen combination of two classifiers' log-odds.

The references are those of :mod:`utils.doc_vectors`, which the chapter's pipeline runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from utils import doc_vectors
from utils.checks._core import (
    CheckFailed,
    Student,
    as_array,
    as_sequence,
    close,
    describe,
    feedback_check,
    largest_difference,
    pristine,
    reject_known_mistakes,
)

_TOKEN_TEXTS = [
    "Not good. Not bad!",
    "Don't miss it!<br /><br />A well-made film.",
    "Wow",
    "",
]
_LOSS_SHAPES = (
    "d is (k,), positive (T, k) holds one output vector per token, negative (T, K, k) the K "
    "noise vectors drawn for each token; the loss is one number and the gradient (k,)."
)


def _tokens(function: Callable[..., Any], result: Any, text: str) -> list[str]:
    if result is None:
        raise CheckFailed(f"`{function.__name__}` returned None: did you forget `return`?")
    if isinstance(result, str) or not isinstance(result, (list, tuple)):
        raise CheckFailed(
            f"`{function.__name__}({text!r})` returned {describe(result)}; it should return a "
            "list of strings (the words, then the bigrams)."
        )
    bad = next((t for t in result if not isinstance(t, str)), None)
    if bad is not None:
        raise CheckFailed(
            f"`{function.__name__}({text!r})` returned a list holding {describe(bad)}; every "
            'token is a string, a bigram two words joined by one space ("not good").'
        )
    return list(result)


@feedback_check
def check_review_tokens(review_tokens: Callable[..., Any]) -> None:
    """Check ``review_tokens(text)``: the words of ``tokenize(text)``, then adjacent pairs."""
    student = Student(review_tokens, "text")
    for text in _TOKEN_TEXTS:
        got = _tokens(review_tokens, student(text), text)
        expected = doc_vectors.review_tokens(text)
        if got == expected:
            continue
        words = doc_vectors.tokenize(text)
        mistakes = [
            (words, "it returns the words only; add the pairs of adjacent words after them"),
            (expected[len(words) :], "it returns the bigrams only; put the words first"),
            (
                words + [f"{a}_{b}" for a, b in zip(words, words[1:], strict=False)],
                "its bigrams join the words with '_'; join them with one space, \"not good\"",
            ),
            (
                words
                + [f"{a} {b}" for a, b in zip(words, words[1:] + words[:1], strict=True)][
                    : len(words)
                ],
                "it pairs the last word with the first; a review of n words has n - 1 bigrams",
            ),
            (
                [t for pair in zip(words, words[1:], strict=False) for t in pair],
                "it returns the pairs' words one by one rather than the bigrams",
            ),
        ]
        for candidate, message in mistakes:
            if got == candidate:
                raise CheckFailed(f"For the review {text!r}, {message}.\nexpected {expected}")
        if words and got[: len(words)] != words:
            raise CheckFailed(
                f"For the review {text!r} the words should be tokenize(text) = {words}, in order; "
                f"got {got[: len(words)]}. Use the given `tokenize`, which lower-cases, drops "
                "<br /> and splits off punctuation."
            )
        raise CheckFailed(f"For the review {text!r}\nexpected {expected}\ngot      {got}")
    student.passed(
        "review_tokens returns the words, then the n - 1 bigrams of adjacent words, joined by "
        "a space."
    )


def _loss_mistakes(d: np.ndarray, positive: np.ndarray, negative: np.ndarray) -> list:
    s_pos, s_neg = positive @ d, negative @ d
    return [
        (
            np.logaddexp(0, -s_pos).sum() + np.logaddexp(0, -s_neg).sum(),
            "The loss rewards the noise tokens: a noise pair's term is -log sigma(-d . u_n), "
            "with a minus inside sigma, so that the loss falls as d moves away from the noise.",
        ),
        (
            np.logaddexp(0, -s_pos).sum(),
            "The loss leaves out the noise tokens: add -log sigma(-d . u_n) for every one of them.",
        ),
        (
            -(np.logaddexp(0, -s_pos).sum() + np.logaddexp(0, s_neg).sum()),
            "The loss has the wrong sign: it is -log of the probabilities, a positive number "
            "that training makes smaller.",
        ),
        (
            np.logaddexp(0, -s_pos).mean() + np.logaddexp(0, s_neg).mean(),
            "The loss averages where it should add up: sum the terms of every pair.",
        ),
    ]


@feedback_check
def check_dbow_objective(dbow_objective: Callable[..., Any]) -> None:
    """Check ``dbow_objective(d, positive, negative) -> (loss, gradient)``."""
    rng = np.random.default_rng(61)
    student = Student(dbow_objective, "d positive negative", _LOSS_SHAPES)
    for k, T, K in ((4, 3, 2), (6, 1, 5), (3, 7, 1)):
        d = pristine(rng.normal(size=k))
        positive = pristine(rng.normal(size=(T, k)))
        negative = pristine(rng.normal(size=(T, K, k)))
        loss, gradient = as_sequence(
            student(d, positive, negative), dbow_objective, 2, "(loss, gradient)"
        )
        loss = as_array("the loss", loss, dbow_objective, (), _LOSS_SHAPES, finite=True, part=True)
        gradient = as_array(
            "the gradient", gradient, dbow_objective, (k,), _LOSS_SHAPES, finite=True, part=True
        )
        expected_loss, expected_gradient = doc_vectors.dbow_objective(d, positive, negative)
        if not close(loss, expected_loss, atol=1e-6):
            reject_known_mistakes(loss, _loss_mistakes(d, positive, negative))
            raise CheckFailed(
                "The loss should be -sum_t log sigma(d . u_t) - sum_t sum_n log sigma(-d . u_tn); "
                f"for a review of {T} tokens with {K} noise tokens each, expected "
                f"{expected_loss:.7f}, got {float(loss):.7f}."
            )
        if not close(gradient, expected_gradient, atol=1e-6):
            if close(gradient, -expected_gradient, atol=1e-6):
                raise CheckFailed(
                    "The gradient has the wrong sign: it is the gradient of the loss (which "
                    "gradient descent subtracts), -(1 - sigma(d . u_t)) u_t for a token and "
                    "+sigma(d . u_n) u_n for a noise token."
                )
            raise CheckFailed(
                "The gradient should be sum_t -(1 - sigma(d . u_t)) u_t + sum_t sum_n "
                f"sigma(d . u_tn) u_tn; {largest_difference(gradient, expected_gradient)}"
            )
    # Large scores: a stable formula gives finite values.
    d = pristine(np.full(3, 400.0))
    positive, negative = pristine(-np.ones((2, 3))), pristine(np.ones((2, 1, 3)))
    loss, gradient = as_sequence(
        student(d, positive, negative), dbow_objective, 2, "(loss, gradient)"
    )
    if not np.isfinite(np.asarray(loss, dtype=float)).all():
        raise CheckFailed(
            "With scores d . u of +-1200 the loss is inf or NaN: compute -log sigma(x) as "
            "np.logaddexp(0, -x), which never overflows."
        )
    student.passed(
        "dbow_objective gives the negative-sampling loss of one review and its gradient."
    )


@feedback_check
def check_choose_weight(choose_weight: Callable[..., Any]) -> None:
    """Check ``choose_weight(z_bag, z_vectors, y, weights) -> (weight, accuracies)``."""
    rng = np.random.default_rng(62)
    student = Student(choose_weight, "z_bag z_vectors y weights")
    y = rng.integers(0, 2, size=400)
    sign = 2 * y - 1
    z_bag = pristine(sign * 1.0 + rng.normal(size=400) * 1.6)
    z_vec = pristine(sign * 0.6 + rng.normal(size=400) * 0.8)
    weights = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]
    expected_weight, expected_accuracy = doc_vectors.choose_weight(z_bag, z_vec, y, weights)
    weight, accuracy = as_sequence(
        student(z_bag, z_vec, y, weights), choose_weight, 2, "(weight, accuracies)"
    )
    accuracy = as_array("the accuracies", accuracy, choose_weight, (len(weights),), part=True)
    flipped = doc_vectors.choose_weight(z_vec, z_bag, y, weights)[1]
    half = [np.mean((doc_vectors.combine_log_odds(z_bag, z_vec, w) > 0.5) == y) for w in weights]
    reject_known_mistakes(
        accuracy,
        [
            (
                flipped,
                "The weights are the wrong way round: weight 0 is the bag alone, 1 the vectors "
                "alone, (1 - w) z_bag + w z_vectors.",
            ),
            (
                half,
                "The threshold is 0.5: on the log-odds scale a review is positive when the "
                "combined log-odds exceed 0 (a probability of 0.5).",
            ),
        ],
    )
    if not close(accuracy, expected_accuracy, atol=1e-9):
        raise CheckFailed(
            "The accuracy of weight w is the share of reviews whose combined log-odds "
            "(1 - w) z_bag + w z_vectors have the sign of the label (> 0 for 1). "
            f"Expected {np.round(expected_accuracy, 4)}, got {np.round(accuracy, 4)}."
        )
    if not np.isscalar(weight) and np.ndim(weight) != 0:
        raise CheckFailed(f"The chosen weight should be one number, got {describe(weight)}.")
    # float32 weights (0.1 is 0.10000000149 there) are the same choice.
    if not np.isclose(float(weight), expected_weight, rtol=1e-6, atol=1e-9):
        raise CheckFailed(
            f"The chosen weight should be the one with the highest accuracy, {expected_weight}, "
            f"got {float(weight)}."
        )
    # Ties: the first (smallest listed) weight wins.
    tie_weight, _ = as_sequence(
        student(z_bag, z_bag, y, [0.2, 0.4, 0.6]), choose_weight, 2, "(weight, accuracies)"
    )
    if not np.isclose(float(np.asarray(tie_weight)), 0.2, rtol=1e-6, atol=1e-9):
        raise CheckFailed(
            "When several weights reach the same accuracy, return the first of them in the "
            "list (np.argmax does): with equal log-odds all tie, expected 0.2, got "
            f"{float(np.asarray(tie_weight)):g}."
        )
    student.passed("choose_weight combines the log-odds and picks the most accurate weight.")
