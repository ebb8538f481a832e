"""The `uuml` toy weights (R data files), read without R and without unpickling."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from utils.data.files import UUML_URL, DataError, data_file, good_copy_hint

# The real files are 1-3 KB and inflate to a few KB: these bounds are generous, and a
# file that exceeds them is refused before it can fill the memory.
MAX_RDA_BYTES = 1 << 20
MAX_RDA_INFLATED_BYTES = 16 << 20
_CHUNK = 1 << 16


@dataclass(frozen=True)
class TransformerExample:
    """The `uuml` multi-head attention example.

    Attributes:
        tokens: the 9 tokens of "the quick brown fox jumps over the lazy dog".
        embeddings: (n_tokens, d_model) = (9, 5), one row per token.
        Wq, Wk, Wv: (d_model, d_head, n_heads) = (5, 3, 4); ``Wq[:, :, h]`` is head h.
        W0: (n_heads * d_head, d_out) = (12, 3), the output projection.
    """

    tokens: list[str]
    embeddings: np.ndarray
    Wq: np.ndarray
    Wk: np.ndarray
    Wv: np.ndarray
    W0: np.ndarray


@dataclass(frozen=True)
class RNNExample:
    """The `uuml` simple-RNN example (Goodfellow et al. 2016, eq. 10.8-10.11).

    Attributes:
        tokens: the 9 tokens.
        embeddings: (n_tokens, d_input) = (9, 5).
        W: (hidden, hidden) = (4, 4), hidden-to-hidden weights.
        U: (hidden, d_input) = (4, 5), input-to-hidden weights.
        V: (n_out, hidden) = (3, 4), hidden-to-output weights.
        b: (hidden, 1) = (4, 1), hidden bias.
        c: (n_out, 1) = (3, 1), output bias.
    """

    tokens: list[str]
    embeddings: np.ndarray
    W: np.ndarray
    U: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray


# The structure each object must have: array name -> shape. `embeddings` also needs one
# string row label (its token) per row.
TRANSFORMER_SHAPES = {
    "embeddings": (9, 5),
    "Wq": (5, 3, 4),
    "Wk": (5, 3, 4),
    "Wv": (5, 3, 4),
    "W0": (12, 3),
}
RNN_SHAPES = {"embeddings": (9, 5), "W": (4, 4), "U": (4, 5), "V": (3, 4), "b": (4, 1), "c": (3, 1)}


def _inflate(path: Path, raw: bytes) -> bytes:
    """Decompress an R data file (gzip, bzip2, xz or none), refusing oversized output."""
    if raw[:2] == b"\x1f\x8b":
        stream = gzip.GzipFile(fileobj=io.BytesIO(raw))
    elif raw[:3] == b"BZh":
        stream = bz2.BZ2File(io.BytesIO(raw))
    elif raw[:6] == b"\xfd7zXZ\x00":
        stream = lzma.LZMAFile(io.BytesIO(raw))
    else:
        return raw  # uncompressed (or not R data: the parser says so)
    parts, total = [], 0
    with stream:
        # Read in chunks so that a small file that inflates to gigabytes is stopped
        # as soon as it passes the bound, not after it has filled the memory.
        while chunk := stream.read(_CHUNK):
            total += len(chunk)
            if total > MAX_RDA_INFLATED_BYTES:
                raise DataError(
                    f"{path} inflates to more than {MAX_RDA_INFLATED_BYTES:,} bytes; the uuml "
                    "example files inflate to a few KB, so this is not one of them. "
                    + good_copy_hint(path, UUML_URL + path.name)
                )
            parts.append(chunk)
    return b"".join(parts)


def _read_rda(relative_path: str) -> tuple[Path, object]:
    """Return the path of a uuml file and the R object named after it."""
    path = data_file(relative_path, UUML_URL + Path(relative_path).name)
    fix = good_copy_hint(path, UUML_URL + path.name)
    size = path.stat().st_size
    if size > MAX_RDA_BYTES:
        raise DataError(
            f"{path} is {size:,} bytes; the uuml example files are a few KB, so this is not "
            f"one of them. {fix}"
        )
    import rdata

    try:
        inflated = _inflate(path, path.read_bytes())
        # R's save() writes "RDX2"/"RDX3" (XDR), "RDB" (native binary) or "RDA" (ASCII) first.
        if not re.match(rb"RD[XAB][23]\n", inflated[:5]):
            raise DataError(
                f"{path} is not an R data file (it starts with {inflated[:5]!r}, not RDX2 or "
                f"RDX3): it is truncated, corrupt or another kind of file. {fix}"
            )
        parsed = rdata.conversion.convert(rdata.parser.parse_data(inflated))
    except DataError:
        raise
    except Exception as error:  # decompressors and the parser signal damage in many types
        raise DataError(
            f"{path} is not a readable R data file ({type(error).__name__}: {error}). "
            f"It may be truncated or corrupt. {fix}"
        ) from error
    name = Path(relative_path).stem
    if not isinstance(parsed, dict) or name not in parsed:
        found = list(parsed) if isinstance(parsed, dict) else type(parsed).__name__
        raise DataError(f"{path} does not contain the object {name!r}; found {found}. {fix}")
    return path, parsed[name]


def _checked_arrays(
    path: Path, obj: object, shapes: dict[str, tuple[int, ...]]
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Validate an R list of numeric arrays; return the embedding row labels and the arrays.

    Raises:
        DataError: naming the file and what is wrong (a missing name, a shape, a label).
    """
    fix = good_copy_hint(path, UUML_URL + path.name)
    if not isinstance(obj, dict):
        raise DataError(f"{path}: expected an R list, found {type(obj).__name__}. {fix}")
    missing = [name for name in shapes if name not in obj]
    if missing:
        raise DataError(
            f"{path}: the object lacks {missing}; expected {list(shapes)}, "
            f"found {[str(name) for name in obj]}. {fix}"
        )
    arrays = {}
    for name, shape in shapes.items():
        value = obj[name]
        array = np.asarray(getattr(value, "values", value))
        if array.dtype.kind not in "fiu" or array.shape != shape:
            raise DataError(
                f"{path}: {name} should be a numeric array of shape {shape}, "
                f"found {array.dtype} of shape {array.shape}. {fix}"
            )
        if not np.isfinite(array).all():
            raise DataError(f"{path}: {name} contains NaN or infinite values. {fix}")
        arrays[name] = array.astype(float)
    embeddings = obj["embeddings"]
    dims = getattr(embeddings, "dims", None)
    coords = getattr(embeddings, "coords", None)
    if not dims or coords is None or dims[0] not in coords:
        raise DataError(
            f"{path}: embeddings has no row labels (its tokens); found "
            f"{type(embeddings).__name__}. {fix}"
        )
    tokens = [str(token) for token in np.asarray(coords[dims[0]].values)]
    if any(not token.strip() for token in tokens):
        raise DataError(f"{path}: embeddings has empty row labels: {tokens}. {fix}")
    return tokens, arrays


def load_transformer_example() -> TransformerExample:
    """Load `uuml::transformer_example` (real weights, no R needed).

    Returns:
        A :class:`TransformerExample` with ``embeddings`` (9, 5), ``Wq``/``Wk``/``Wv``
        (5, 3, 4) with heads on the last axis as in R, and ``W0`` (12, 3).

    Raises:
        DataError: the file is missing, damaged, too large or not structured as above.
    """
    tokens, arrays = _checked_arrays(*_read_rda("uuml/transformer_example.rda"), TRANSFORMER_SHAPES)
    return TransformerExample(tokens=tokens, **arrays)


def load_rnn_example() -> RNNExample:
    """Load `uuml::rnn_example`.

    Returns:
        An :class:`RNNExample` with ``embeddings`` (9, 5), ``W`` (4, 4), ``U`` (4, 5),
        ``V`` (3, 4), ``b`` (4, 1) and ``c`` (3, 1).

    Raises:
        DataError: the file is missing, damaged, too large or not structured as above.
    """
    tokens, arrays = _checked_arrays(*_read_rda("uuml/rnn_example.rda"), RNN_SHAPES)
    return RNNExample(tokens=tokens, **arrays)
