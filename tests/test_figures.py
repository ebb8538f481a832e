"""The figures of chapters 1, 2 and 4 are drawn at the size the book shows them.

A full-width figure is ``FULL_WIDTH`` (7 in) wide, so at 100 dpi it is shown at its own
size in the ~690 px article, and then its text must be at least ``MIN_FONT_PT`` (10 pt) to be
readable; tests/test_book.py measures the scale the pages show them at, on a phone too.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.plots import (  # noqa: E402
    FULL_WIDTH,
    MIN_FONT_PT,
    plot_attended_words,
    plot_attention_heads,
    plot_cost,
    plot_hidden_states,
    plot_history,
    plot_lstm_cell,
    plot_training_curves,
    plot_unrolled_rnn,
)

TOKENS = "the quick brown fox jumps over the lazy dog".split()
RNG = np.random.default_rng(0)
HISTORY = {
    "loss": [0.6, 0.4, 0.3],
    "accuracy": [0.6, 0.8, 0.85],
    "val_loss": [0.5, 0.45, 0.47],
    "val_accuracy": [0.7, 0.78, 0.79],
}


def _figures():
    yield (
        "attention, 3 tokens",
        plot_attention_heads(RNG.dirichlet(np.ones(3), size=(4, 3)), TOKENS[:3], "three tokens"),
    )
    yield (
        "attention, 9 tokens",
        plot_attention_heads(RNG.dirichlet(np.ones(9), size=(4, 9)), TOKENS, "nine tokens"),
    )
    yield "unrolled", plot_unrolled_rnn(4, loss=False, tokens=TOKENS[:4]).figure
    yield "unrolled with loss", plot_unrolled_rnn(3, output="last").figure
    yield "hidden states", plot_hidden_states(np.tanh(RNG.normal(size=(9, 4))), TOKENS).figure
    yield "lstm cell", plot_lstm_cell().figure
    # Chapters 3 and 5.
    yield "history", plot_history(HISTORY, "a model")
    yield "training curves", plot_training_curves(HISTORY, "a model", best_epoch=2)
    words = TOKENS * 2
    yield (
        "attended words",
        plot_attended_words([(words, RNG.dirichlet(np.ones(len(words))), "a review")] * 2),
    )
    yield "cost", plot_cost([64, 128, 256], {"a": [1.0, 2.0, 4.5], "b": [2.0, 3.0, 4.0]}, "cost")


@pytest.mark.parametrize(("name", "figure"), list(_figures()), ids=lambda x: str(x)[:20])
def test_full_width_with_readable_text_and_a_title(name, figure):
    try:
        assert figure.get_figwidth() == pytest.approx(FULL_WIDTH), name
        figure.canvas.draw()
        texts = [
            t for t in figure.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()
        ]
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < MIN_FONT_PT]
        assert not small, f"{name}: text below {MIN_FONT_PT} pt: {small}"
        titles = [ax.get_title() for ax in figure.axes] + [
            figure._suptitle.get_text() if figure._suptitle else ""
        ]
        assert any(titles), f"{name} has no title"
    finally:
        plt.close(figure)
