"""Chapter 4's checks: answers of every type get an answer in the checks' voice.

The targeted messages of the counting checks are proved in test_params.py; this file adds
the patterns of issue 12: NaN, inf, None, the wrong type, and the accepted forms.
"""

from __future__ import annotations

import numpy as np
import pytest

from utils import checks
from utils.checks import CheckFailed


def _simple(d, n):
    return d * n + n * n + n


@pytest.mark.parametrize(
    ("check", "answer", "message"),
    [
        (checks.check_simple_rnn_count, lambda d, n: float("nan"), "whole number, got nan"),
        (checks.check_simple_rnn_count, lambda d, n: np.inf, "whole number, got inf"),
        (checks.check_lstm_count, lambda d, n: None, "did you forget `return`"),
        (checks.check_lstm_count, lambda d, n: [4 * _simple(d, n)], "whole number, got a list"),
        (checks.check_lstm_count, lambda d, n: 4 * _simple(d, n) + 0.5, "whole number"),
        (checks.check_lstm_count, lambda d, n: True, "whole number"),
        (checks.check_simple_rnn_count, lambda d, n: 10**400, "returned 10,000,000"),
        (checks.check_simple_rnn_count, lambda d, n: d / 0, "raised ZeroDivisionError"),
        (checks.check_rnn_model_counts, lambda: None, "did you forget `return`"),
        (checks.check_rnn_model_counts,
         lambda: {"embedding": 160000, "simple_rnn": float("nan"), "dense": 33},
         "counts\\['simple_rnn'\\] should be a whole number, got nan"),
        (checks.check_rnn_model_counts, lambda: [160000, 1568, 33],
         "returned a list of 3 values; it should return a dict"),
        (checks.check_rnn_model_counts, lambda: {"emb": 1, "rnn": 2, "dense": 3},
         "not \\['dense', 'emb', 'rnn'\\]"),
        (checks.check_stacked_lstm_counts, lambda: None, "did you forget `return`"),
        (checks.check_stacked_lstm_counts, lambda: 6272, "should return the pair"),
        (checks.check_stacked_lstm_counts, lambda: (6272, np.nan), "second count should be"),
        (checks.check_stacked_lstm_counts, lambda: ("6272", "8320"), "got str '6272'"),
    ],
)  # fmt: skip
def test_counts_of_every_type_get_the_checks_voice(check, answer, message):
    with pytest.raises(CheckFailed, match=message):
        check(answer)


def test_accepted_forms(capsys):
    checks.check_simple_rnn_count(lambda d, n: np.int64(_simple(d, n)))
    checks.check_simple_rnn_count(lambda d, n: float(_simple(d, n)))
    checks.check_lstm_count(lambda d, n: np.array(4 * _simple(d, n)))
    checks.check_stacked_lstm_counts(lambda: [6272, 8320])
    checks.check_stacked_lstm_counts(lambda: np.array([6272.0, 8320.0]).tolist())
    checks.check_rnn_model_counts(
        lambda: {"embedding": np.int32(160000), "simple_rnn": 1568.0, "dense": 33}
    )
    assert capsys.readouterr().out.count("\N{CHECK MARK}") == 6


# ------------------------------------------------------------------ no answer in a message

# The counts the exercises ask for, as a message could print them.
_SECRETS = [1_568, 2_080, 4_224, 6_272, 8_320, 16_896, 160_000, 161_601, 166_305]


def _says_a_secret(message):
    import re

    return [
        n for n in _SECRETS
        if re.search(rf"(?<![\d,.]){n:,}(?![\d,])|(?<![\d,.]){n}(?![\d,])", message)
    ]  # fmt: skip


@pytest.mark.parametrize("offset", [-33, -32, -1, 1, 16, 32, 33, 512, 1024, 1568])
@pytest.mark.parametrize("gates", [1, 4])
def test_a_wrong_count_never_gets_the_right_one_back(offset, gates):
    check = checks.check_simple_rnn_count if gates == 1 else checks.check_lstm_count
    with pytest.raises(CheckFailed) as error:
        check(lambda d, n: gates * _simple(d, n) + offset)
    assert not _says_a_secret(str(error.value)), str(error.value)


@pytest.mark.parametrize(
    "answer",
    [
        {"embedding": 160_000, "simple_rnn": 1_568 + delta, "dense": 33}
        for delta in (-544, -512, -32, -1, 1, 32, 33, 1_024, 160_000)
    ]
    + [{"embedding": 160_000 + delta, "simple_rnn": 1_568, "dense": 33} for delta in (-1, 16, 320)]
    + [{"embedding": 160_000, "simple_rnn": 1_568, "dense": 33 + delta} for delta in (-1, 1, 608)],
)
def test_model_counts_never_give_the_answer(answer):
    with pytest.raises(CheckFailed) as error:
        checks.check_rnn_model_counts(lambda: answer)
    assert not _says_a_secret(str(error.value)), str(error.value)


@pytest.mark.parametrize(
    "answer", [(6_272, 8_320 + 1), (6_272 - 32, 8_320), (1_568, 2_080), (6_272, 4 * 2_048 + 1)]
)
def test_stacked_counts_never_give_the_answer(answer):
    with pytest.raises(CheckFailed) as error:
        checks.check_stacked_lstm_counts(lambda: answer)
    message = str(error.value)
    assert not _says_a_secret(message.replace(f"{answer[0]:,}", "").replace(
        f"{answer[1]:,}", "")), message  # fmt: skip
