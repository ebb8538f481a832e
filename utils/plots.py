"""Plotting helpers shared by the notebooks. Every figure has a title and labelled axes."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

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
    ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="attention weight")
    ax.set_xticks(range(weights.shape[1]), tokens[: weights.shape[1]], rotation=45, ha="right")
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
            ax.text(column, row, f"{value:.3f}", ha="center", va="center", color=color)


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
    side = 3.0 if n_tokens <= 5 else 4.6
    fig, axes = plt.subplots(
        n_rows, 2, figsize=(2 * side + 2.0, n_rows * side + 0.6), squeeze=False
    )
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
        ax.text(*middle, label, ha="left", va="center", fontsize=11, color="tab:blue")


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
        _, ax = plt.subplots(figsize=(1.9 * n_steps + 1.6, 5.2 if loss else 4.0))
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
        _, ax = plt.subplots(figsize=(0.8 * len(tokens) + 2, 0.5 * ht.shape[1] + 1.8))
    image = ax.imshow(ht.T, cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    for (unit, step), value in np.ndenumerate(ht.T):
        color = "white" if abs(value) > 0.6 else "black"
        ax.text(step, unit, f"{value:.2f}", ha="center", va="center", fontsize=8, color=color)
    ax.set_xticks(range(len(tokens)), [f"{t}\n(t={i + 1})" for i, t in enumerate(tokens)])
    ax.set_yticks(range(ht.shape[1]), [f"unit {k + 1}" for k in range(ht.shape[1])])
    ax.set_xlabel("token (time step)")
    ax.set_ylabel("hidden unit")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=r"$h_t$ (tanh, in $[-1, 1]$)")
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
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
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
