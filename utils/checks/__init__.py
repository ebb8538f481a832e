"""Feedback checks that students call right after each exercise.

Each ``check_*`` function runs the student's function on the course's example data
and on random inputs, prints one success line when everything agrees, and otherwise
raises :class:`CheckFailed` with a message aimed at the most likely mistake.
One module per chapter; ``from utils.checks import check_qkv`` works for every check.
"""

from utils.checks._core import CheckFailed
from utils.checks.attention import (
    _att_multi_head,  # noqa: F401  (tests compare this reference with Keras)
    check_attention,
    check_multi_head,
    check_qkv,
    check_softmax,
)
from utils.checks.imdb import (
    check_build_dense,
    check_build_lstm,
    check_build_simple_rnn,
    check_nearest_neighbours,
)
from utils.checks.parameters import (
    check_lstm_count,
    check_rnn_model_counts,
    check_simple_rnn_count,
    check_stacked_lstm_counts,
)
from utils.checks.rnn import (
    check_activation,
    check_output_rnn,
    check_rnn_layer,
    check_rnn_unit,
    check_softmax_column,
)
from utils.checks.transformer import (  # noqa: F401  (chapter 5)
    check_encoder_block_count,
    check_masked_attention,
    check_masked_softmax,
    check_position_embedding,
)

__all__ = [
    "CheckFailed",
    "check_activation",
    "check_attention",
    "check_build_dense",
    "check_build_lstm",
    "check_build_simple_rnn",
    "check_lstm_count",
    "check_multi_head",
    "check_nearest_neighbours",
    "check_output_rnn",
    "check_qkv",
    "check_rnn_layer",
    "check_rnn_model_counts",
    "check_rnn_unit",
    "check_simple_rnn_count",
    "check_softmax",
    "check_softmax_column",
    "check_stacked_lstm_counts",
]
from utils.checks.unlabelled import check_choose_weight, check_dbow_objective, check_review_tokens  # noqa: E402, F401, I001  (chapter 6)
