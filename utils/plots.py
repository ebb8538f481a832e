"""Plotting helpers shared by the notebooks. Every figure has a title and labelled axes.

Figures are drawn at the size the book shows them: a full-width figure is ``FULL_WIDTH``
inches wide (about 700 px at 100 dpi, the width of the article at a 1280 px page), so that
text drawn at ``MIN_FONT_PT`` or more stays readable without scaling. On a phone the book shows
a figure at 0.65 of its size or more (_static/phone-figures.js), scrolling sideways if it must,
so that this text is still 9 px tall there (tests/test_book.py measures it on every page).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

FULL_WIDTH = 7.0  # inches: the article's width at 100 dpi
MIN_FONT_PT = 10.0  # the smallest text of any figure (tests/test_figures.py checks it)

# ------------------------------------------------------------ chapter 1: attention


def plot_attention_weights(
    ax: plt.Axes, weights: np.ndarray, tokens: list[str], title: str
) -> None:
    """Draw one head's attention weights as a heatmap with its own colour bar.

    Args:
        ax: the axes to draw on.
        weights: (n_queries, n_keys); row i is how query token i spreads its attention.
        tokens: n labels, used for both axes (self-attention: queries and keys are the
            same tokens).
        title: the panel's title.
    """
    weights = np.asarray(weights)
    image = ax.imshow(weights, cmap="viridis")
    colorbar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    colorbar.set_label("attention weight", fontsize=10)
    colorbar.ax.tick_params(labelsize=10)
    ax.set_xticks(range(weights.shape[1]), tokens[: weights.shape[1]], rotation=60, ha="right")
    ax.set_yticks(range(weights.shape[0]), tokens[: weights.shape[0]])
    ax.set_xlabel("key token")
    ax.set_ylabel("query token")
    ax.set_title(title)
    # Nearly equal weights look very different on an auto-scaled colour bar, so small
    # matrices also get their numbers (larger ones would be too crowded).
    if max(weights.shape) <= 5:
        middle = (weights.min() + weights.max()) / 2
        for (row, column), value in np.ndenumerate(weights):
            color = "black" if value > middle else "white"
            ax.text(column, row, f"{value:.3f}", ha="center", va="center", color=color, fontsize=10)


def plot_attention_heads(weights: np.ndarray, tokens: list[str], title: str) -> plt.Figure:
    """One heatmap per attention head, two per row.

    Args:
        weights: (n_heads, n_tokens, n_tokens), head h's attention weights in ``weights[h]``.
        tokens: the n_tokens labels.
        title: the figure's title.

    Returns:
        The figure.
    """
    weights = np.asarray(weights)
    n_heads, n_tokens = weights.shape[0], weights.shape[1]
    n_rows = (n_heads + 1) // 2
    # Two panels side by side fill the full width; each panel is about square.
    side = 3.0 if n_tokens <= 5 else 3.4
    fig, axes = plt.subplots(n_rows, 2, figsize=(FULL_WIDTH, n_rows * side + 0.5), squeeze=False)
    for head, ax in enumerate(axes.flat):
        if head < n_heads:
            plot_attention_weights(ax, weights[head], tokens, f"head h = {head}")
        else:
            ax.set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    return fig


# --------------------------------------------------------- chapters 2 and 4: RNNs


def _node(ax: plt.Axes, xy: tuple[float, float], label: str, color: str) -> None:
    circle = plt.Circle(xy, 0.3, facecolor=color, edgecolor="black", linewidth=1.2, zorder=3)
    ax.add_patch(circle)
    ax.text(*xy, label, ha="center", va="center", fontsize=12, zorder=4)


def _edge(
    ax: plt.Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    label: str = "",
    offset: tuple[float, float] = (0.12, 0.0),
) -> None:
    ax.annotate(
        "",
        xy=end,
        xytext=start,
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2, "shrinkA": 17, "shrinkB": 17},
        zorder=2,
    )
    if label:
        middle = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
        ax.text(*middle, label, ha="left", va="center", fontsize=11, color="#1f5fa8")


def plot_unrolled_rnn(
    n_steps: int = 3,
    output: str = "every",
    loss: bool = True,
    tokens: list[str] | None = None,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Draw the unrolled computational graph of a one-layer RNN (Goodfellow et al. 2016, ch. 10).

    Nodes are the inputs x^(t), hidden states h^(t) (from h^(0)), outputs o^(t) and, with
    ``loss``, the losses L^(t) and targets y^(t); edges carry the shared weights U (input to
    hidden), W (hidden to hidden) and V (hidden to output).

    Args:
        n_steps: number of time steps drawn, t = 1..n_steps.
        output: ``"every"`` for an output at every step (figure 10.3) or ``"last"`` for a single
            output after the whole sequence (figure 10.5).
        loss: draw the loss and target nodes above the outputs.
        tokens: optional words written under the inputs, one per step.
        title: the axes title; a default names the figure.
        ax: axes to draw on; a new figure is made when None.
    """
    if output not in ("every", "last"):
        raise ValueError(f"output must be 'every' or 'last', got {output!r}")
    if tokens is not None and len(tokens) != n_steps:
        raise ValueError(f"got {len(tokens)} tokens for {n_steps} steps")
    if ax is None:
        # Full width; the height follows from the equal aspect of the drawing (x: n + 1.6
        # units, y: 5.1 or 3.5 units) plus room for the title and the axis label.
        height = FULL_WIDTH * (5.1 if loss else 3.5) / (n_steps + 1.6) + 0.9
        _, ax = plt.subplots(figsize=(FULL_WIDTH, height))
    last = n_steps
    _node(ax, (0, 1), r"$h^{(0)}$", "#eeeeee")
    for t in range(1, n_steps + 1):
        _node(ax, (t, 0), rf"$x^{{({t})}}$", "#cfe8cf")
        _node(ax, (t, 1), rf"$h^{{({t})}}$", "#cfe0f5")
        _edge(ax, (t, 0), (t, 1), "U")
        _edge(ax, (t - 1, 1), (t, 1), "W", offset=(-0.08, 0.14))
        if tokens is not None:
            ax.text(t, -0.55, f'"{tokens[t - 1]}"', ha="center", va="center", fontsize=10)
        if output == "every" or t == last:
            _node(ax, (t, 2), rf"$o^{{({t})}}$", "#f8dcc0")
            _edge(ax, (t, 1), (t, 2), "V")
            if loss:
                _node(ax, (t, 3), rf"$L^{{({t})}}$", "#f5c6c6")
                _node(ax, (t + 0.55, 3.75), rf"$y^{{({t})}}$", "#ffffff")
                _edge(ax, (t, 2), (t, 3))
                _edge(ax, (t + 0.55, 3.75), (t, 3))
    if title is None:
        title = (
            "Output at every step (Goodfellow et al. 2016, fig. 10.3)"
            if output == "every"
            else "One output after the whole sequence (fig. 10.5)"
        )
    ax.set_title(title)
    ax.set_xlim(-0.6, n_steps + 1.0)
    ax.set_ylim(-0.9, 4.2 if loss else 2.6)
    ax.set_aspect("equal")
    ax.set_xticks(range(n_steps + 1), [f"t = {t}" for t in range(n_steps + 1)])
    ax.set_xlabel("time step t (the graph is unrolled left to right)")
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    return ax


def plot_hidden_states(
    ht: np.ndarray, tokens: list[str], title: str = "Hidden states of the RNN", ax=None
) -> plt.Axes:
    """Heatmap of hidden states. ht: (n_tokens, hidden), one row per token; values in [-1, 1]."""
    ht = np.asarray(ht, dtype=float)
    if ht.ndim != 2 or ht.shape[0] != len(tokens):
        raise ValueError(f"ht has shape {ht.shape}, expected ({len(tokens)}, hidden)")
    if ax is None:
        _, ax = plt.subplots(figsize=(FULL_WIDTH, 0.5 * ht.shape[1] + 1.9))
    image = ax.imshow(ht.T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for (unit, step), value in np.ndenumerate(ht.T):
        color = "white" if abs(value) > 0.6 else "black"
        ax.text(step, unit, f"{value:.2f}", ha="center", va="center", fontsize=10, color=color)
    ax.set_xticks(range(len(tokens)), [f"{t}\n(t={i + 1})" for i, t in enumerate(tokens)])
    ax.set_yticks(range(ht.shape[1]), [f"unit {k + 1}" for k in range(ht.shape[1])])
    ax.set_xlabel("token (time step)")
    ax.set_ylabel("hidden unit")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=r"$h_t$ (tanh, in $[-1, 1]$)")
    return ax


def _box(ax: plt.Axes, xy: tuple[float, float], label: str, color: str, width: float = 1.1) -> None:
    """A gate layer: a rectangle centred on xy with its activation function written in it."""
    x, y = xy
    ax.add_patch(
        plt.Rectangle(
            (x - width / 2, y - 0.35), width, 0.7, facecolor=color, edgecolor="black", zorder=3
        )
    )
    ax.text(x, y, label, ha="center", va="center", fontsize=12, zorder=4)


def _operation(ax: plt.Axes, xy: tuple[float, float], symbol: str) -> None:
    """A pointwise operation (product or sum) drawn as a small circle."""
    ax.add_patch(plt.Circle(xy, 0.28, facecolor="#fff3c4", edgecolor="black", zorder=3))
    ax.text(*xy, symbol, ha="center", va="center", fontsize=13, zorder=4)


def _arrow(ax: plt.Axes, points: list[tuple[float, float]], shrink: float = 0.0) -> None:
    """A line through ``points`` with an arrow head at the last one."""
    xs, ys = zip(*points, strict=True)
    ax.plot(xs, ys, color="black", lw=1.3, zorder=1)
    ax.annotate(
        "",
        xy=points[-1],
        xytext=points[-2],
        arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.3, "shrinkB": shrink},
        zorder=2,
    )


def plot_lstm_cell(title: str | None = None, ax: plt.Axes | None = None) -> plt.Axes:
    """Draw one step of an LSTM cell with a forget gate (Gers et al. 2000).

    The previous hidden state h^(t-1) and the input x^(t) feed four layers, each with its own
    U_g, W_g and b_g: the forget gate f, the input gate i and the output gate o (logistic
    sigmoids) and the candidate cell state c~ (tanh). The cell state runs along the top:
    c^(t) = f * c^(t-1) + i * c~, and h^(t) = o * tanh(c^(t)), with * elementwise.

    Args:
        title: the axes title; a default names the figure.
        ax: axes to draw on; a new full-width figure is made when None.
    """
    if ax is None:
        fig, ax = plt.subplots(figsize=(FULL_WIDTH, 5.5))
        # The drawing has a fixed aspect ratio: let it use the whole figure.
        fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.93)
    cell_y, bus_y, gate_y = 5.2, 1.1, 2.5
    ax.add_patch(
        plt.Rectangle((1.4, 0.55), 8.9, 5.25, facecolor="#f2f2f2", edgecolor="#777777", zorder=0)
    )
    # The cell state: from c^(t-1) through the forget product and the sum to c^(t).
    forget_x, add_x, out_x = 2.8, 5.0, 8.7
    _arrow(ax, [(0.2, cell_y), (forget_x, cell_y)], shrink=8)
    _arrow(ax, [(forget_x, cell_y), (add_x, cell_y)], shrink=8)
    _arrow(ax, [(add_x, cell_y), (11.8, cell_y)])
    ax.text(0.2, cell_y + 0.3, r"$c^{(t-1)}$", ha="left", va="bottom", fontsize=12)
    ax.text(11.8, cell_y + 0.3, r"$c^{(t)}$", ha="right", va="bottom", fontsize=12)
    # h^(t-1) and x^(t) join on a bus that feeds the four gate layers.
    gates = [
        (forget_x, r"$\sigma$", "f"),
        (4.3, r"$\sigma$", "i"),
        (5.7, r"$\tanh$", r"\tilde{c}"),
        (7.2, r"$\sigma$", "o"),
    ]
    ax.plot([0.2, gates[-1][0]], [bus_y, bus_y], color="black", lw=1.3, zorder=1)
    ax.text(0.2, bus_y - 0.2, r"$h^{(t-1)}$", ha="left", va="top", fontsize=12)
    ax.plot([2.0, 2.0], [-0.2, bus_y], color="black", lw=1.3, zorder=1)
    ax.text(2.15, -0.05, r"$x^{(t)}$", ha="left", va="center", fontsize=12)
    for x, activation, name in gates:
        _arrow(ax, [(x, bus_y), (x, gate_y - 0.35)])
        _box(ax, (x, gate_y), activation, "#cfe0f5" if name != r"\tilde{c}" else "#f8dcc0")
        ax.text(x + 0.12, bus_y + 0.42, rf"${name}$", ha="left", va="center", fontsize=12)
    # Forget: f * c^(t-1).
    _operation(ax, (forget_x, cell_y), r"$\times$")
    _arrow(ax, [(forget_x, gate_y + 0.35), (forget_x, cell_y)], shrink=8)
    # Input: i * c~, added to the cell state.
    input_product = (add_x, 3.9)
    _operation(ax, input_product, r"$\times$")
    _arrow(ax, [(4.3, gate_y + 0.35), (4.3, 3.9), input_product], shrink=8)
    _arrow(ax, [(5.7, gate_y + 0.35), (5.7, 3.9), input_product], shrink=8)
    _operation(ax, (add_x, cell_y), "+")
    _arrow(ax, [input_product, (add_x, cell_y)], shrink=8)
    # Output: h^(t) = o * tanh(c^(t)).
    output_product = (out_x, gate_y)
    ax.add_patch(
        plt.Rectangle(
            (out_x - 0.5, 3.6), 1.0, 0.6, facecolor="#f8dcc0", edgecolor="black", zorder=3
        )
    )
    ax.text(out_x, 3.9, r"$\tanh$", ha="center", va="center", fontsize=12, zorder=4)
    _arrow(ax, [(out_x, cell_y), (out_x, 4.2)])
    _operation(ax, output_product, r"$\times$")
    _arrow(ax, [(out_x, 3.6), output_product], shrink=8)
    _arrow(ax, [(7.2 + 0.55, gate_y), output_product], shrink=8)
    _arrow(ax, [output_product, (out_x, bus_y), (11.8, bus_y)])
    ax.text(11.8, bus_y - 0.2, r"$h^{(t)}$", ha="right", va="top", fontsize=12)
    _arrow(ax, [(out_x, bus_y), (9.8, bus_y), (9.8, 6.6)])
    ax.text(9.95, 6.45, r"$h^{(t)}$ (output)", ha="left", va="center", fontsize=12)
    ax.text(
        6.0,
        -0.7,
        "$f$: forget gate, $i$: input gate, $\\tilde{c}$: candidate cell state, $o$: output gate\n"
        r"$\sigma$, $\tanh$: a layer with its own $U_g$, $W_g$, $b_g$;"
        r"  $\times$, $+$: elementwise",
        ha="center",
        va="top",
        fontsize=10,
        linespacing=1.6,
    )
    ax.set_xlim(0, 12)
    ax.set_ylim(-1.9, 6.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or "One step of an LSTM cell with a forget gate")
    return ax


# ---------------------------------------------------------------- chapter 3: IMDB


def plot_history(history, title: str):
    """Plot loss and accuracy per epoch, training against validation, side by side.

    Args:
        history: a ``keras.callbacks.History`` (as returned by ``model.fit``) or its
            ``.history`` dict, with lists ``loss``, ``accuracy``, ``val_loss`` and
            ``val_accuracy`` of length n_epochs (the ``val_`` lists may be missing).
        title: the figure title, e.g. the model's name.

    Returns:
        The matplotlib figure (two axes: loss, accuracy).
    """
    logs = getattr(history, "history", history)
    epochs = np.arange(1, len(logs["loss"]) + 1)
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH, 3.2))
    for ax, metric, label in (
        (axes[0], "loss", "binary cross-entropy"),
        (axes[1], "accuracy", "accuracy"),
    ):
        ax.plot(epochs, logs[metric], "o-", label="training")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], "s--", label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(metric)
        # Integer epochs only: a fractional epoch tick would be meaningless.
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_training_curves(history, title: str, best_epoch: int | None = None):
    """Loss and accuracy per epoch, training against validation, at the size they are shown.

    Drawn 7 x 2.8 inches at 100 dpi (a full-width figure on a 1280 px page) with fonts of
    at least 10 pt, so that the smallest text stays readable.

    Args:
        history: a ``keras.callbacks.History`` or its ``.history`` dict, with lists
            ``loss`` and ``accuracy`` (and optionally ``val_loss``, ``val_accuracy``) of
            length n_epochs.
        title: the figure title, e.g. the model's name.
        best_epoch: 1-based epoch whose weights were kept (early stopping); marked with a
            vertical line when given.

    Returns:
        The matplotlib figure (two axes: loss, accuracy).
    """
    from matplotlib.ticker import MaxNLocator

    logs = getattr(history, "history", history)
    if "loss" not in logs or "accuracy" not in logs:
        raise ValueError(f"history needs 'loss' and 'accuracy' lists, got keys {sorted(logs)}")
    epochs = np.arange(1, len(logs["loss"]) + 1)
    with plt.rc_context({"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 10}):
        fig, axes = plt.subplots(1, 2, figsize=(7, 2.8), dpi=100)
        for ax, metric, label in (
            (axes[0], "loss", "binary cross-entropy"),
            (axes[1], "accuracy", "accuracy"),
        ):
            ax.plot(epochs, logs[metric], "o-", markersize=4, label="training")
            if f"val_{metric}" in logs:
                ax.plot(epochs, logs[f"val_{metric}"], "s--", markersize=4, label="validation")
            if best_epoch is not None:
                ax.axvline(best_epoch, color="grey", linewidth=1, linestyle=":")
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.set_title(metric)
            # Integer epochs only (a fractional epoch is meaningless), also for a single epoch.
            ax.set_xlim(0.5, len(epochs) + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend()
        fig.suptitle(title, fontsize=11)
        fig.tight_layout()
    return fig


# ------------------------------------------------------------------ chapter 5


def plot_attended_words(
    reviews: list[tuple[list[str], np.ndarray, str]], top: int = 12
) -> plt.Figure:
    """The tokens each review's tokens attend to most, one panel per review.

    Each bar is a token's attention received relative to uniform attention: n_tokens times
    its share, so that 1 means "as much as any token would get from uniform weights".

    Args:
        reviews: (words, received, title) per panel: words (n_tokens,) the review's tokens,
            received (n_tokens,) the share of the attention each token receives (e.g. averaged
            over the queries and the heads; sums to 1), title the panel's title.
        top: how many tokens to show per panel, most attended first.

    Returns:
        The figure, 7 inches wide, fonts of at least 10 pt.
    """
    if not reviews:
        raise ValueError("plot_attended_words needs at least one (words, received, title).")
    with plt.rc_context({"font.size": 10, "axes.titlesize": 11}):
        fig, axes = plt.subplots(1, len(reviews), figsize=(7, 0.3 * top + 1.2), dpi=100)
        for ax, (words, received, title) in zip(np.atleast_1d(axes), reviews, strict=True):
            received = np.asarray(received, dtype=float)
            if len(words) != len(received):
                raise ValueError(
                    f"{title!r}: {len(words)} words but {len(received)} attention values."
                )
            relative = received * len(received)
            order = np.argsort(-relative, kind="stable")[:top]
            # Repeated words are labelled with their position so that each bar is one token.
            labels = [f"{words[i]} (#{i})" for i in order]
            # Bars start at 1 (uniform attention): the differences are what matters.
            ax.barh(np.arange(len(order)), relative[order] - 1.0, left=1.0, color="tab:blue")
            ax.set_yticks(np.arange(len(order)), labels)
            ax.invert_yaxis()
            ax.axvline(1.0, color="grey", linestyle=":", linewidth=1)
            ax.set_xlabel("attention received / uniform")
            ax.set_title(title)
            ax.grid(axis="x", alpha=0.3)
        fig.tight_layout()
    return fig


def plot_cost(lengths, seconds: dict[str, list[float]], title: str) -> plt.Figure:
    """Seconds per epoch against the sequence length, on log-log axes.

    Args:
        lengths: (n_lengths,) sequence lengths.
        seconds: model name -> (n_lengths,) seconds per epoch.
        title: the figure title.

    Returns:
        The figure, 7 x 3.2 inches, with slope-1 and slope-2 guides through the first point
        of the first model (cost proportional to n and to n squared).
    """
    lengths = np.asarray(lengths, dtype=float)
    with plt.rc_context({"font.size": 10, "axes.titlesize": 11, "legend.fontsize": 10}):
        fig, ax = plt.subplots(figsize=(7, 3.2), dpi=100)
        for name, values in seconds.items():
            if len(values) != len(lengths):
                raise ValueError(f"{name}: {len(values)} timings for {len(lengths)} lengths.")
            ax.plot(lengths, values, "o-", label=name)
        first = np.asarray(next(iter(seconds.values())), dtype=float)[0]
        for power, style in ((1, "--"), (2, ":")):
            guide = first * (lengths / lengths[0]) ** power
            label = "∝ n" if power == 1 else "∝ n²"
            ax.plot(lengths, guide, style, color="grey", linewidth=1, label=label)
        ax.set_xscale("log", base=2)
        ax.set_xticks(lengths, [str(int(n)) for n in lengths])
        ax.minorticks_off()
        ax.set_yscale("log")
        ax.set_xlabel("sequence length n (tokens)")
        ax.set_ylabel("seconds per epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3, which="both")
        ax.legend()
        fig.tight_layout()
    return fig
