"""Parameter counts of Keras layers, by formula, and a table that compares them with Keras.

The formulas follow the layers' equations. With d inputs and n units:

* ``Embedding(input_dim=v, output_dim=k)``: a lookup table of v x k numbers.
* ``Dense(n)``: a kernel d x n and a bias n.
* ``SimpleRNN(n)``: U (Keras ``kernel``, d x n), W (``recurrent_kernel``, n x n), b (n)
  (Goodfellow et al. 2016, eq. 10.8).
* ``LSTM(n)``: the same three for each of the four gates, input i, forget f, cell
  candidate c and output o (Hochreiter and Schmidhuber 1997), stacked in that order.
* ``GRU(n)``: three gates (update z, reset r, candidate h); with ``reset_after=True`` (the
  Keras default) each has two biases, one for the input and one for the recurrent part.
"""

from __future__ import annotations

import numbers
from typing import Any

import pandas as pd

# The names of each layer type's weights in the RNN equations (Goodfellow et al. 2016, ch. 10).
RECURRENT_NAMES = {"kernel": "U", "recurrent_kernel": "W", "bias": "b"}
OUTPUT_NAMES = {"kernel": "V", "bias": "c"}
# Keras stacks the gates' matrices side by side in these orders.
GATES = {"LSTM": "i, f, c, o", "GRU": "z, r, h"}


def _positive_int(name: str, value: Any) -> int:
    """Return ``value`` as an int, or raise a clear error when it is not a positive integer."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be a positive integer, got {value!r} ({type(value).__name__})"
        )
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def embedding_params(input_dim: int, output_dim: int) -> int:
    """Weights of ``Embedding(input_dim, output_dim)``: one row of output_dim per vocabulary entry."""
    return _positive_int("input_dim", input_dim) * _positive_int("output_dim", output_dim)


def dense_params(input_dim: int, units: int, use_bias: bool = True) -> int:
    """Weights of ``Dense(units)`` on inputs of width input_dim: kernel (input_dim, units) + bias."""
    input_dim, units = _positive_int("input_dim", input_dim), _positive_int("units", units)
    return input_dim * units + (units if use_bias else 0)


def simple_rnn_params(input_dim: int, units: int, use_bias: bool = True) -> int:
    """Weights of ``SimpleRNN(units)``: U (input_dim, units), W (units, units) and b (units)."""
    input_dim, units = _positive_int("input_dim", input_dim), _positive_int("units", units)
    return input_dim * units + units * units + (units if use_bias else 0)


def lstm_params(input_dim: int, units: int, use_bias: bool = True) -> int:
    """Weights of ``LSTM(units)``: a SimpleRNN's U, W and b for each of the four gates."""
    return 4 * simple_rnn_params(input_dim, units, use_bias)


def gru_params(input_dim: int, units: int, reset_after: bool = True, use_bias: bool = True) -> int:
    """Weights of ``GRU(units)``: three gates; ``reset_after`` (Keras default) doubles the bias."""
    input_dim, units = _positive_int("input_dim", input_dim), _positive_int("units", units)
    biases = (2 if reset_after else 1) * units if use_bias else 0
    return 3 * (input_dim * units + units * units + biases)


def _input_width(layer: Any) -> int:
    shape = layer.input.shape
    if shape[-1] is None:
        raise ValueError(f"layer {layer.name!r} has an unknown input width (input shape {shape})")
    return int(shape[-1])


def _formula(layer: Any) -> tuple[str, int | None]:
    """The formula (as text) and its count for one layer; (text, None) for unknown layers."""
    kind = type(layer).__name__
    if not layer.weights:
        return "0 (no weights)", 0
    if kind == "Embedding":
        v, k = layer.input_dim, layer.output_dim
        return f"{v} x {k}", embedding_params(v, k)
    d = _input_width(layer)
    if kind == "Dense":
        n, bias = layer.units, layer.use_bias
        return f"{d} x {n}" + (f" + {n}" if bias else ""), dense_params(d, n, bias)
    if kind == "SimpleRNN":
        n, bias = layer.units, layer.use_bias
        text = f"{d} x {n} + {n} x {n}" + (f" + {n}" if bias else "")
        return text, simple_rnn_params(d, n, bias)
    if kind == "LSTM":
        n, bias = layer.units, layer.use_bias
        text = f"4 x ({d} x {n} + {n} x {n}" + (f" + {n})" if bias else ")")
        return text, lstm_params(d, n, bias)
    if kind == "GRU":
        n, bias, after = layer.units, layer.use_bias, layer.reset_after
        b = (f" + 2 x {n}" if after else f" + {n}") if bias else ""
        return f"3 x ({d} x {n} + {n} x {n}{b})", gru_params(d, n, after, bias)
    return "no formula for this layer type", None


def _weight_names(layer: Any, is_output: bool) -> str:
    """'kernel (16, 32) = U; ...': each weight tensor, its shape and its symbol, if it has one."""
    kind = type(layer).__name__
    if kind in ("SimpleRNN", "LSTM", "GRU"):
        symbols = RECURRENT_NAMES
    elif kind == "Dense" and is_output:
        symbols = OUTPUT_NAMES
    else:
        symbols = {}
    parts = []
    for weight in layer.weights:
        text = f"{weight.name} {tuple(weight.shape)}"
        if weight.name in symbols:
            symbol = symbols[weight.name]
            text += f" = {symbol}" + (f" ({GATES[kind]})" if kind in GATES else "")
        elif kind == "Embedding":
            text += " (lookup table, not U)"
        parts.append(text)
    return "; ".join(parts) if parts else "(none)"


def parameter_table(model: Any) -> pd.DataFrame:
    """One row per layer of a built Keras model: its weights, the count by formula and by Keras.

    Columns: ``layer`` (name and type), ``weights`` (each weight tensor with its shape and its
    name in the RNN equations: recurrent layers' ``kernel`` = U, ``recurrent_kernel`` = W,
    ``bias`` = b; in a model with a recurrent layer the last Dense layer's ``kernel`` = V and
    ``bias`` = c), ``formula``, ``by_formula``, ``keras`` (``count_params()``) and ``agree``.
    A last row holds the totals.
    """
    if not getattr(model, "built", False) or not hasattr(model, "layers"):
        raise ValueError("parameter_table needs a built Keras model (start it with keras.Input)")
    layers = list(model.layers)
    recurrent = any(type(layer).__name__ in ("SimpleRNN", "LSTM", "GRU") for layer in layers)
    dense = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Dense"]
    output_index = dense[-1] if (recurrent and dense) else None
    rows = []
    for index, layer in enumerate(layers):
        formula, count = _formula(layer)
        keras_count = int(layer.count_params())
        rows.append(
            {
                "layer": f"{layer.name} ({type(layer).__name__})",
                "weights": _weight_names(layer, index == output_index),
                "formula": formula,
                "by_formula": count,
                "keras": keras_count,
                "agree": count == keras_count,
            }
        )
    table = pd.DataFrame(rows)
    known = table["by_formula"].notna().all()
    total_formula = int(table["by_formula"].sum()) if known else None
    total_keras = int(model.count_params())
    table.loc[len(table)] = {
        "layer": "total",
        "weights": "",
        "formula": "sum of the rows",
        "by_formula": total_formula,
        "keras": total_keras,
        "agree": total_formula == total_keras,
    }
    return table.astype({"by_formula": "Int64", "keras": "int64", "agree": bool})


# ------------------------------------------------ the transformer encoder (chapter 5)
#
# With d = d_model, H heads of width d_k (queries, keys) and d_v (values), and d_ff hidden
# units in the feed-forward network (Vaswani et al. 2017, sections 3.1-3.3):
#
# * ``MultiHeadAttention``: W^Q and W^K (d x H d_k each), W^V (d x H d_v), W^O (H d_v x d_out),
#   and with ``use_bias=True`` a bias per projection: H d_k, H d_k, H d_v and d_out.
# * ``LayerNormalization``: a scale (gamma) and an offset (beta) per feature, 2 d.
# * the position-wise feed-forward network: Dense(d_ff) then Dense(d), each with a bias.
# * learned position embeddings: one row of d per position, sequence_length x d.


def position_embedding_params(sequence_length: int, d_model: int) -> int:
    """Weights of learned position embeddings: a table of sequence_length x d_model."""
    return embedding_params(sequence_length, d_model)


def multi_head_attention_params(
    d_model: int,
    num_heads: int,
    key_dim: int,
    value_dim: int | None = None,
    output_dim: int | None = None,
    use_bias: bool = True,
) -> int:
    """Weights of ``MultiHeadAttention(num_heads, key_dim, value_dim, use_bias, output_shape)``.

    Self-attention on inputs (n_tokens, d_model): W^Q, W^K (d_model, num_heads, key_dim),
    W^V (d_model, num_heads, value_dim), W^O (num_heads, value_dim, output_dim) and, with
    ``use_bias``, biases (num_heads, key_dim) twice, (num_heads, value_dim) and (output_dim,).
    ``value_dim`` defaults to ``key_dim`` and ``output_dim`` to ``d_model``, as in Keras.
    """
    d = _positive_int("d_model", d_model)
    heads = _positive_int("num_heads", num_heads)
    d_k = _positive_int("key_dim", key_dim)
    d_v = d_k if value_dim is None else _positive_int("value_dim", value_dim)
    d_out = d if output_dim is None else _positive_int("output_dim", output_dim)
    weights = 2 * d * heads * d_k + d * heads * d_v + heads * d_v * d_out
    biases = 2 * heads * d_k + heads * d_v + d_out
    return weights + (biases if use_bias else 0)


def layer_norm_params(d_model: int) -> int:
    """Weights of ``LayerNormalization()`` over the last axis of width d_model: gamma and beta."""
    return 2 * _positive_int("d_model", d_model)


def feed_forward_params(d_model: int, d_ff: int) -> int:
    """Weights of the position-wise network Dense(d_ff, relu) -> Dense(d_model), with biases."""
    return dense_params(d_model, d_ff) + dense_params(d_ff, d_model)


def encoder_block_params(
    d_model: int, num_heads: int, key_dim: int, d_ff: int, use_bias: bool = True
) -> int:
    """Weights of one encoder block: attention, two layer norms and the feed-forward network.

    ``use_bias`` applies to the attention layer only (the feed-forward network keeps its
    biases). Residual connections and dropout have no weights.
    """
    return (
        multi_head_attention_params(d_model, num_heads, key_dim, use_bias=use_bias)
        + 2 * layer_norm_params(d_model)
        + feed_forward_params(d_model, d_ff)
    )
