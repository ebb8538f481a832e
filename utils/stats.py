"""Comparing two classifiers on the same examples: a paired test and a paired interval.

Two models scored on the same test reviews are not two independent samples: most reviews
are easy (both right) or hard (both wrong), and only the reviews on which the models
disagree say which model is better. A paired comparison uses exactly those. Of the n
examples, let ``only_a`` be those model A gets right and model B wrong, and ``only_b`` the
reverse. The difference in accuracy is ``(only_a - only_b) / n``; if the models were
equally good, each disagreement would go either way with probability 1/2.

- The test is McNemar's (1947) in its mid-p form, recommended by Fagerland, Lydersen and
  Laake (2013): with m = only_a + only_b disagreements, k = min(only_a, only_b) and
  X ~ Binomial(m, 1/2),

  ``mid-p = 2 * P(X < k) + P(X = k)`` (capped at 1),

  which is the exact conditional p-value ``2 * P(X <= k)`` minus the probability of the
  observed table, ``P(X = k)``. It is 1 when only_a == only_b (no evidence either way).
- The interval for the difference of the two accuracies is Newcombe's (1998) method 10, the
  "square-and-add" interval: the Wilson score intervals of the two accuracies, combined with
  a correction for their correlation across the paired examples. Unlike the simple Wald
  interval it stays within [-1, 1] and keeps its coverage with few disagreements.

The two answer different questions (is there a difference; how large is it), so at the
border of significance one may exclude 0 while the other is just above alpha.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np


@dataclass(frozen=True)
class PairedComparison:
    """Two classifiers scored on the same n examples (see :func:`paired_comparison`).

    Attributes:
        name_a, name_b: the models' names, as printed.
        n: the number of examples.
        accuracy_a, accuracy_b: each model's accuracy, in [0, 1].
        difference: ``accuracy_a - accuracy_b``.
        ci_low, ci_high: the ``confidence`` interval for the difference (Newcombe 1998).
        only_a: examples A gets right and B wrong; ``only_b``: the reverse.
        p_value: McNemar's mid-p value (two-sided) for "A and B are equally accurate".
        confidence: the confidence level of the interval, e.g. 0.95.
    """

    name_a: str
    name_b: str
    n: int
    accuracy_a: float
    accuracy_b: float
    difference: float
    ci_low: float
    ci_high: float
    only_a: int
    only_b: int
    p_value: float
    confidence: float = 0.95

    def better(self, alpha: float = 0.05) -> str | None:
        """The name of the model that is significantly more accurate at level ``alpha``
        (mid-p < alpha), or None when the test finds no difference."""
        _check_level(alpha, "alpha")
        if self.p_value >= alpha:
            return None
        return self.name_a if self.only_a > self.only_b else self.name_b

    def sentence(self, alpha: float = 0.05, unit: str = "reviews") -> str:
        """The result in one plain-English line, for a notebook to print.

        E.g. "bag is more accurate than transformer by 5.2 points (95% CI 4.6 to 5.8) on the
        same 25,000 reviews: it alone is right on 1,801, transformer alone on 502; McNemar
        mid-p < 0.001." or "no significant difference at the 5% level between ...".
        Points are percentage points of accuracy.

        Args:
            alpha: the significance level, in (0, 1).
            unit: what the examples are, plural ("reviews").
        """
        winner = self.better(alpha)
        level = f"{self.confidence * 100:g}% CI"
        decimals = 1 if abs(self.difference) >= 0.01 else 2
        if winner is None:
            low, high = (_points(x, decimals) for x in (self.ci_low, self.ci_high))
            return (
                f"no significant difference at the {alpha * 100:g}% level between {self.name_a} "
                f"and {self.name_b} on the same {self.n:,} {unit}: accuracy "
                f"{self.accuracy_a * 100:.2f}% and {self.accuracy_b * 100:.2f}%, a difference of "
                f"{_points(self.difference, decimals)} points ({level} {low} to {high}); "
                f"{self.name_a} alone is right on {self.only_a:,}, {self.name_b} alone on "
                f"{self.only_b:,} (McNemar mid-p {_p_text(self.p_value)})."
            )
        a_wins = winner == self.name_a
        loser = self.name_b if a_wins else self.name_a
        sign = 1 if a_wins else -1
        low, high = sorted(sign * x for x in (self.ci_low, self.ci_high))
        return (
            f"{winner} is more accurate than {loser} by "
            f"{_points(sign * self.difference, decimals)} points ({level} "
            f"{_points(low, decimals)} to {_points(high, decimals)}) on the same {self.n:,} "
            f"{unit}: it alone is right on {max(self.only_a, self.only_b):,}, {loser} alone on "
            f"{min(self.only_a, self.only_b):,}; McNemar mid-p {_p_text(self.p_value)}."
        )


def _points(fraction: float, decimals: int) -> str:
    text = f"{fraction * 100:.{decimals}f}"
    return "0." + "0" * decimals if float(text) == 0 else text  # never "-0.0"


def _p_text(p: float) -> str:
    if p < 0.001:
        return "< 0.001"
    return f"= {p:.3f}" if p < 0.1 else f"= {p:.2f}"


def _check_level(value: float, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number in (0, 1), got {value!r}.")
    if not 0 < value < 1:  # also refuses NaN
        raise ValueError(f"{name} must be in (0, 1), got {value}.")


def _count(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{name} must be a count (an integer >= 0), got {value!r}.")
    return int(value)


def mcnemar_mid_p(only_a: int, only_b: int) -> float:
    """McNemar's mid-p value (two-sided) from the two counts of disagreements.

    ``mid-p = 2 * P(X < k) + P(X = k)``, capped at 1, with X ~ Binomial(only_a + only_b,
    1/2) and k = min(only_a, only_b) (McNemar 1947; Fagerland, Lydersen & Laake 2013).

    Args:
        only_a: examples model A gets right and model B wrong.
        only_b: examples model B gets right and model A wrong.

    Returns:
        The mid-p value in [0, 1]; exactly 1 when only_a == only_b (no disagreements
        included). Values below about 1e-308 come back as 0.0.

    Raises:
        ValueError: a count is not an integer >= 0.
    """
    only_a, only_b = _count(only_a, "only_a"), _count(only_b, "only_b")
    if only_a == only_b:
        return 1.0
    m, k = only_a + only_b, min(only_a, only_b)
    # P(X = k) in log space (the binomial coefficient overflows a float from m ~ 1030).
    log_pk = math.lgamma(m + 1) - math.lgamma(k + 1) - math.lgamma(m - k + 1) - m * math.log(2)
    # P(X < k) / P(X = k), summed downwards: P(X = i - 1) / P(X = i) = i / (m - i + 1), which
    # falls with i, so the terms shrink at least geometrically once the ratio is below 1
    # (k < m / 2 always). Stop when the rest is bounded by 1e-17 of the sum.
    below, term = 0.0, 1.0
    for i in range(k, 0, -1):
        ratio = i / (m - i + 1)
        term *= ratio
        below += term
        if ratio < 1 and term * ratio / (1 - ratio) < 1e-17 * below:
            break
    return min(1.0, math.exp(log_pk) * (2 * below + 1))


def _wilson(successes: int, n: int, z: float) -> tuple[float, float]:
    """The Wilson score interval of a proportion successes / n."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_interval(
    both: int, only_a: int, only_b: int, neither: int, confidence: float = 0.95
) -> tuple[float, float]:
    """Newcombe's (1998) method-10 interval for accuracy_a - accuracy_b on paired examples.

    Args:
        both, only_a, only_b, neither: examples both models get right, only A, only B, neither.
        confidence: the confidence level, in (0, 1).

    Returns:
        ``(low, high)``, within [-1, 1].
    """
    _check_level(confidence, "confidence")
    both, only_a, only_b, neither = (
        _count(value, name)
        for value, name in (
            (both, "both"),
            (only_a, "only_a"),
            (only_b, "only_b"),
            (neither, "neither"),
        )
    )
    n = both + only_a + only_b + neither
    if n == 0:
        raise ValueError("a paired comparison needs at least one example.")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    right_a, right_b = both + only_a, both + only_b
    p_a, p_b = right_a / n, right_b / n
    low_a, high_a = _wilson(right_a, n, z)
    low_b, high_b = _wilson(right_b, n, z)
    # The correlation of the two models' correctness across examples (the phi coefficient),
    # with Newcombe's continuity correction: a positive numerator is reduced by n / 2 (and
    # floored at 0), a negative one kept; 0 when a margin is empty.
    margins = right_a * (n - right_a) * right_b * (n - right_b)
    numerator = both * neither - only_a * only_b
    if margins == 0:
        phi = 0.0
    elif numerator > 0:
        phi = max(numerator - n / 2, 0) / math.sqrt(margins)
    else:
        phi = numerator / math.sqrt(margins)
    difference = p_a - p_b
    # Square-and-add: the distance from each accuracy to its Wilson limit, combined with
    # the correlation term because the two accuracies are measured on the same examples.
    below_a, above_b = p_a - low_a, high_b - p_b
    above_a, below_b = high_a - p_a, p_b - low_b
    low = difference - math.sqrt(max(below_a**2 - 2 * phi * below_a * above_b + above_b**2, 0.0))
    high = difference + math.sqrt(max(below_b**2 - 2 * phi * below_b * above_a + above_a**2, 0.0))
    return max(-1.0, low), min(1.0, high)


def _labels(values, name: str) -> np.ndarray:
    """``values`` as a (n,) array of 0/1 class labels; (n, 1) columns are flattened."""
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of 0/1 class labels (or a column of shape (n, 1)), "
            f"got shape {array.shape}."
        )
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold 0/1 class labels, got {array.dtype} values.")
    bad = array[(array != 0) & (array != 1)]
    if len(bad):
        raise ValueError(
            f"{name} must hold class labels 0 and 1 only, got {bad[:3].tolist()}; for "
            "probabilities from model.predict, pass (probabilities > 0.5).astype(int)."
        )
    return array.astype(bool)


def paired_comparison(
    y_true,
    pred_a,
    pred_b,
    name_a: str = "A",
    name_b: str = "B",
    confidence: float = 0.95,
) -> PairedComparison:
    """Compare two classifiers' accuracies on the same examples, with a paired test.

    Args:
        y_true: (n,) true 0/1 labels.
        pred_a, pred_b: (n,) 0/1 class labels predicted by models A and B for the same n
            examples in the same order (bool, integer or whole-number float arrays; columns
            of shape (n, 1) are accepted, probabilities are not).
        name_a, name_b: the models' names, for :meth:`PairedComparison.sentence`.
        confidence: the level of the interval for the difference, in (0, 1).

    Returns:
        A :class:`PairedComparison`: both accuracies, their difference with Newcombe's
        interval, the disagreement counts and McNemar's mid-p value (see the module
        docstring for the formulas).

    Raises:
        ValueError: the arrays differ in length, are empty, not 1-D, or hold anything but
            0 and 1; the names are empty or equal; the confidence is not in (0, 1).
        TypeError: a name is not a string, or an array is not numeric.
    """
    for value, label in ((name_a, "name_a"), (name_b, "name_b")):
        if not isinstance(value, str) or not value.strip():
            raise (ValueError if isinstance(value, str) else TypeError)(
                f"{label} must be a non-empty string naming the model, got {value!r}."
            )
    if name_a == name_b:
        raise ValueError(f"the two models need different names, both are {name_a!r}.")
    _check_level(confidence, "confidence")
    truth, a, b = (
        _labels(values, name)
        for values, name in ((y_true, "y_true"), (pred_a, "pred_a"), (pred_b, "pred_b"))
    )
    if not len(truth) == len(a) == len(b):
        raise ValueError(
            "y_true, pred_a and pred_b must describe the same examples, got lengths "
            f"{len(truth)}, {len(a)} and {len(b)}."
        )
    if len(truth) == 0:
        raise ValueError("a paired comparison needs at least one example; the arrays are empty.")
    right_a, right_b = a == truth, b == truth
    both = int(np.sum(right_a & right_b))
    only_a = int(np.sum(right_a & ~right_b))
    only_b = int(np.sum(~right_a & right_b))
    neither = len(truth) - both - only_a - only_b
    low, high = newcombe_interval(both, only_a, only_b, neither, confidence)
    n = len(truth)
    return PairedComparison(
        name_a=name_a,
        name_b=name_b,
        n=n,
        accuracy_a=(both + only_a) / n,
        accuracy_b=(both + only_b) / n,
        difference=(only_a - only_b) / n,
        ci_low=low,
        ci_high=high,
        only_a=only_a,
        only_b=only_b,
        p_value=mcnemar_mid_p(only_a, only_b),
        confidence=float(confidence),
    )
