"""utils.stats: the paired comparison of two classifiers, checked against published examples."""

from __future__ import annotations

import numpy as np
import pytest

from utils import stats


def _exact_mid_p(only_a: int, only_b: int) -> float:
    """The definition with exact integers: (2 * sum_{i<k} C(m, i) + C(m, k)) / 2^m."""
    m, k = only_a + only_b, min(only_a, only_b)
    below, term = 0, 1  # sum_{i<k} C(m, i) and C(m, i), built up from C(m, 0) = 1
    for i in range(k):
        below += term
        term = term * (m - i) // (i + 1)
    return min(1.0, (2 * below + term) / 2**m)  # int / int: correctly rounded, however large


def _predictions(both: int, only_a: int, only_b: int, neither: int, shuffle: int | None = 0):
    """y_true, pred_a, pred_b with the given counts of (A right, B right) outcomes."""
    right_a = np.repeat([1, 1, 0, 0], [both, only_a, only_b, neither]).astype(bool)
    right_b = np.repeat([1, 0, 1, 0], [both, only_a, only_b, neither]).astype(bool)
    y_true = np.random.default_rng(5).integers(0, 2, size=len(right_a))
    if shuffle is not None:
        order = np.random.default_rng(shuffle).permutation(len(y_true))
        y_true, right_a, right_b = y_true[order], right_a[order], right_b[order]
    pred_a = np.where(right_a, y_true, 1 - y_true)
    pred_b = np.where(right_b, y_true, 1 - y_true)
    return y_true, pred_a, pred_b


# ------------------------------------------------------------ published examples


def test_mid_p_of_the_worked_example_of_fagerland_et_al_2013():
    """Airway hyper-responsiveness before/after stem cell transplantation in 21 children
    (Bentur et al. 2009): 1 and 7 discordant pairs. Fagerland et al. report the mid-p value
    0.039 (exact conditional 0.070): 2 * P(X < 1) + P(X = 1) = (2 + 8) / 256."""
    assert stats.mcnemar_mid_p(1, 7) == pytest.approx(10 / 256, rel=1e-12)
    assert round(stats.mcnemar_mid_p(1, 7), 3) == 0.039


def test_paired_comparison_of_the_cavo_example_of_fagerland_et_al():
    """Complete response before/after consolidation therapy (Cavo et al. 2012), the second
    example of Fagerland, Lydersen & Laake: table [[59, 6], [16, 80]]. Their published
    results: difference -0.0621, Newcombe square-and-add 95% CI -0.1186 to -0.0046, McNemar
    mid-p 0.034690."""
    y_true, pred_a, pred_b = _predictions(59, 6, 16, 80)
    result = stats.paired_comparison(y_true, pred_a, pred_b, "before", "after")
    assert (result.n, result.only_a, result.only_b) == (161, 6, 16)
    assert result.accuracy_a == 65 / 161 and result.accuracy_b == 75 / 161
    assert round(result.difference, 4) == -0.0621
    assert (round(result.ci_low, 4), round(result.ci_high, 4)) == (-0.1186, -0.0046)
    assert round(result.p_value, 6) == 0.034690
    assert result.better() == "after" and result.better(alpha=0.01) is None


def test_the_presidential_approval_table_of_agresti():
    """Agresti, Categorical Data Analysis (2002), table 10.1: approval of the president in
    two surveys of the same 1,600 people, [[794, 150], [86, 570]]. He reports a difference of
    0.04 with the 95% CI (0.021, 0.059) (a Wald interval; at this size Newcombe's agrees to
    three decimals) and McNemar's z = 4.17, so a p-value near 3e-5."""
    y_true, pred_a, pred_b = _predictions(794, 150, 86, 570)
    result = stats.paired_comparison(y_true, pred_a, pred_b, "first", "second")
    assert result.difference == pytest.approx(0.04)
    assert (round(result.ci_low, 3), round(result.ci_high, 3)) == (0.021, 0.059)
    assert 2e-5 < result.p_value < 4e-5
    assert result.p_value == pytest.approx(_exact_mid_p(150, 86), rel=1e-9)


# ------------------------------------------------------------------ properties


@pytest.mark.parametrize(
    ("only_a", "only_b"),
    [(0, 1), (0, 5), (2, 9), (10, 11), (150, 86), (3, 1000), (1200, 1300), (4999, 5001)],
)
def test_mid_p_matches_its_definition_in_exact_arithmetic(only_a, only_b):
    assert stats.mcnemar_mid_p(only_a, only_b) == pytest.approx(
        _exact_mid_p(only_a, only_b), rel=1e-9
    )


def test_mid_p_is_symmetric_and_one_without_evidence():
    assert stats.mcnemar_mid_p(0, 0) == 1.0  # no discordant pairs
    assert stats.mcnemar_mid_p(40, 40) == 1.0
    for only_a, only_b in ((3, 12), (502, 1801), (0, 7)):
        assert stats.mcnemar_mid_p(only_a, only_b) == stats.mcnemar_mid_p(only_b, only_a)
    assert stats.mcnemar_mid_p(0, 3000) == 0.0  # 2^-3000 underflows
    assert stats.mcnemar_mid_p(np.int64(1), np.int64(7)) == stats.mcnemar_mid_p(1, 7)


def test_swapping_the_models_mirrors_the_result():
    y_true, pred_a, pred_b = _predictions(900, 40, 25, 35)
    ab = stats.paired_comparison(y_true, pred_a, pred_b, "a", "b")
    ba = stats.paired_comparison(y_true, pred_b, pred_a, "b", "a")
    assert ba.difference == -ab.difference and ba.p_value == ab.p_value
    assert ba.ci_low == pytest.approx(-ab.ci_high) and ba.ci_high == pytest.approx(-ab.ci_low)


def test_identical_predictions_are_no_evidence():
    y_true, pred, _ = _predictions(80, 0, 0, 20)
    result = stats.paired_comparison(y_true, pred, pred.copy(), "a", "b")
    assert (result.only_a, result.only_b, result.difference, result.p_value) == (0, 0, 0.0, 1.0)
    assert result.ci_low < 0 < result.ci_high and result.better() is None


def test_the_interval_covers_the_difference_and_stays_in_range():
    for counts in ((0, 10, 0, 0), (0, 0, 10, 0), (10, 0, 0, 0), (0, 0, 0, 10), (1, 1, 7, 12)):
        low, high = stats.newcombe_interval(*counts)
        n = sum(counts)
        difference = (counts[1] - counts[2]) / n
        assert -1 <= low <= difference <= high <= 1
    low99, high99 = stats.newcombe_interval(59, 6, 16, 80, confidence=0.99)
    assert low99 < -0.1186 and high99 > -0.0046  # a wider interval at 99%


# ------------------------------------------------------------------ sentences


def test_the_sentence_of_a_significant_difference():
    """The numbers of the brief's example: 25,000 reviews, 1,801 against 502 disagreements."""
    y_true, pred_a, pred_b = _predictions(21_000, 1801, 502, 1697)
    result = stats.paired_comparison(y_true, pred_a, pred_b, "bag_of_trigrams", "transformer")
    assert result.difference == pytest.approx((1801 - 502) / 25_000)
    low, high = result.ci_low * 100, result.ci_high * 100
    assert result.sentence() == (
        f"bag_of_trigrams is more accurate than transformer by 5.2 points (95% CI {low:.1f} to "
        f"{high:.1f}) on the same 25,000 reviews: it alone is right on 1,801, transformer "
        "alone on 502; McNemar mid-p < 0.001."
    )
    # The same models in the other order: the winner is still named first, the CI flipped.
    swapped = stats.paired_comparison(y_true, pred_b, pred_a, "transformer", "bag_of_trigrams")
    assert swapped.sentence() == result.sentence()
    assert swapped.better() == "bag_of_trigrams"


def test_the_sentence_of_no_significant_difference():
    y_true, pred_a, pred_b = _predictions(4500, 50, 41, 409)
    result = stats.paired_comparison(y_true, pred_a, pred_b, "ensemble", "bag")
    assert result.better() is None
    p = result.p_value
    assert 0.1 < p < 1
    assert result.sentence(unit="validation reviews") == (
        "no significant difference at the 5% level between ensemble and bag on the same 5,000 "
        f"validation reviews: accuracy {result.accuracy_a * 100:.2f}% and "
        f"{result.accuracy_b * 100:.2f}%, a difference of 0.18 points (95% CI "
        f"{result.ci_low * 100:.2f} to {result.ci_high * 100:.2f}); ensemble alone is right on "
        f"50, bag alone on 41 (McNemar mid-p = {p:.2f})."
    )


def test_the_p_value_is_printed_with_enough_digits_near_the_level():
    y_true, pred_a, pred_b = _predictions(100, 6, 16, 40)  # mid-p 0.0347
    result = stats.paired_comparison(y_true, pred_a, pred_b, "a", "b")
    assert result.sentence().endswith("McNemar mid-p = 0.035.")
    assert result.sentence(alpha=0.01).startswith("no significant difference at the 1% level")


# ---------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (([0, 1, 1], [0, 1], [1, 1, 1]), {}, ValueError, "lengths 3, 2 and 3"),
        (([], [], []), {}, ValueError, "at least one example"),
        (([0, 1], [0.2, 0.9], [0, 1]), {}, ValueError, r"pred_a .* 0 and 1 only, got \[0.2, 0.9\]"),
        (([0, 1], [0, 1], [0, 2]), {}, ValueError, r"pred_b .* 0 and 1 only, got \[2\]"),
        (([0, np.nan], [0, 1], [0, 1]), {}, ValueError, "y_true .* 0 and 1 only"),
        (([[0, 1], [1, 0]], [0, 1], [0, 1]), {}, ValueError, r"y_true must be a 1-D .* \(2, 2\)"),
        ((["0", "1"], [0, 1], [0, 1]), {}, TypeError, "y_true must hold 0/1 class labels"),
        (([0, 1], [0, 1], [1, 0]), {"name_a": "x", "name_b": "x"}, ValueError, "different names"),
        (([0, 1], [0, 1], [1, 0]), {"name_a": ""}, ValueError, "name_a must be a non-empty"),
        (([0, 1], [0, 1], [1, 0]), {"name_b": 3}, TypeError, "name_b must be a non-empty"),
        (
            ([0, 1], [0, 1], [1, 0]),
            {"confidence": 95},
            ValueError,
            r"confidence must be in \(0, 1\)",
        ),
        (
            ([0, 1], [0, 1], [1, 0]),
            {"confidence": "0.95"},
            TypeError,
            "confidence must be a number",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        stats.paired_comparison(*args, **kwargs)


def test_labels_may_be_bool_whole_floats_or_a_column():
    y_true = np.array([1, 0, 1, 1])
    column = (np.array([[0.9], [0.2], [0.4], [0.8]]) > 0.5).astype("float32")  # model.predict
    result = stats.paired_comparison(y_true.astype(bool), column, np.array([1, 0, 1, 0]))
    assert (result.only_a, result.only_b, result.accuracy_a) == (1, 1, 0.75)


@pytest.mark.parametrize(("only_a", "only_b"), [(-1, 3), (1.5, 2), (True, 2), ("3", 2), (2, None)])
def test_mid_p_refuses_what_is_not_a_count(only_a, only_b):
    with pytest.raises(ValueError, match="must be a count"):
        stats.mcnemar_mid_p(only_a, only_b)


def test_better_and_sentence_check_alpha():
    y_true, pred_a, pred_b = _predictions(10, 2, 1, 1)
    result = stats.paired_comparison(y_true, pred_a, pred_b)
    for alpha in (0, 1, -0.1, float("nan")):
        with pytest.raises(ValueError, match=r"alpha must be in \(0, 1\)"):
            result.better(alpha)
    with pytest.raises(TypeError, match="alpha must be a number"):
        result.sentence(alpha="5%")
