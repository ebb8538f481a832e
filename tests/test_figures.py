"""The figures of chapters 1, 2 and 4 are drawn at the size the book shows them.

A full-width figure is ``FULL_WIDTH`` (7 in) wide, so at 100 dpi it is shown at its own
size in the ~690 px article, and then its text must be at least 10 pt to be readable.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from utils.plots import (  # noqa: E402
    FULL_WIDTH,
    plot_attention_heads,
    plot_hidden_states,
    plot_lstm_cell,
    plot_unrolled_rnn,
)

TOKENS = "the quick brown fox jumps over the lazy dog".split()
RNG = np.random.default_rng(0)


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


@pytest.mark.parametrize(("name", "figure"), list(_figures()), ids=lambda x: str(x)[:20])
def test_full_width_with_readable_text_and_a_title(name, figure):
    try:
        assert figure.get_figwidth() == pytest.approx(FULL_WIDTH), name
        figure.canvas.draw()
        texts = [
            t for t in figure.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text()
        ]
        small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 10]
        assert not small, f"{name}: text below 10 pt: {small}"
        titles = [ax.get_title() for ax in figure.axes] + [
            figure._suptitle.get_text() if figure._suptitle else ""
        ]
        assert any(titles), f"{name} has no title"
    finally:
        plt.close(figure)
