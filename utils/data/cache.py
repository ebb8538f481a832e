"""The token cache: a ``.npz`` file per archive and tokenizer, checked on every read.

A cache that cannot be read or does not add up is discarded with a warning and rebuilt;
a cache that cannot be written costs only time (a warning, and the data uncached).
Writes go to a unique temporary file in the cache directory, then an atomic rename, so
concurrent loaders never see or clobber each other's half-written files.
"""

from __future__ import annotations

import os
import tempfile
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from utils.data import archive as imdb_archive

ARRAYS = ("vocabulary",) + tuple(
    f"{split}_{part}" for split in imdb_archive.SPLITS for part in ("tokens", "lengths", "labels")
)


class CacheWarning(UserWarning):
    """The token cache was discarded or could not be written; the data are still correct."""


def cache_dir() -> Path:
    """``$COURSE_CACHE_DIR``, else ``~/.cache/sequence-models-course``."""
    root = os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "sequence-models-course"
    return Path(root).expanduser()


def problem(arrays: dict[str, np.ndarray], reviews_per_class: int) -> str | None:
    """What is wrong with a set of token arrays, or None when they are consistent.

    Expected: ``vocabulary`` (n_words,) str; for each split ``{split}_tokens``
    (total_tokens,) int with TextVectorization indices in [0, n_words + 2),
    ``{split}_lengths`` (n_reviews,) int >= 0 summing to total_tokens and
    ``{split}_labels`` (n_reviews,) in {0, 1} with ``reviews_per_class`` of each.
    """
    missing = [name for name in ARRAYS if name not in arrays]
    if missing:
        return f"arrays {missing} are missing"
    vocabulary = arrays["vocabulary"]
    if vocabulary.ndim != 1 or vocabulary.dtype.kind != "U" or len(vocabulary) == 0:
        return f"vocabulary is {vocabulary.dtype} of shape {vocabulary.shape}, not a list of words"
    for split in imdb_archive.SPLITS:
        tokens, lengths, labels = (
            arrays[f"{split}_{part}"] for part in ("tokens", "lengths", "labels")
        )
        if any(a.ndim != 1 or a.dtype.kind not in "iu" for a in (tokens, lengths, labels)):
            return f"the {split} arrays are not 1-D integer arrays"
        if len(lengths) != len(labels):
            return f"{len(lengths)} {split} lengths for {len(labels)} labels"
        if len(lengths) and (lengths.min() < 0 or int(lengths.sum()) != len(tokens)):
            return f"the {split} lengths do not add up to the {len(tokens)} tokens"
        if len(labels) != 2 * reviews_per_class:
            return f"{len(labels)} {split} reviews instead of {2 * reviews_per_class}"
        if not np.isin(labels, (0, 1)).all() or int(labels.sum()) != reviews_per_class:
            return f"the {split} labels are not {reviews_per_class} positive + {reviews_per_class} negative"
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= len(vocabulary) + 2):
            return f"the {split} tokens are outside the vocabulary"
    return None


def read(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays at ``path``; None (and the file removed, with a warning) if bad."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as stored:
            # Reading each array to its end makes zipfile check its CRC-32.
            arrays = {name: stored[name] for name in stored.files}
        reason = problem(arrays, imdb_archive.REVIEWS_PER_CLASS)
    except (OSError, ValueError, EOFError, KeyError, zlib.error, zipfile.BadZipFile) as error:
        reason = f"{type(error).__name__}: {error}"
    if reason is None:
        return arrays
    warnings.warn(
        f"Discarding the token cache {path}: it cannot be used ({reason}). It is rebuilt "
        "from the archive now (about 15 s).",
        CacheWarning,
        stacklevel=3,
    )
    try:
        path.unlink()
    except OSError:
        pass  # e.g. another loader removed it first; the rebuilt cache replaces it anyway
    return None


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Store ``arrays`` at ``path`` atomically; warn (never raise) if that is impossible."""
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique name per writer: two loaders filling an empty cache do not share it.
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            np.savez(stream, **arrays)
        os.chmod(partial, 0o644)  # mkstemp makes it private; a cache is not a secret
        os.replace(partial, path)  # atomic: readers see the old file or the whole new one
        _remove_stale_partials(path)
    except OSError as error:
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
        warnings.warn(
            f"Could not write the token cache to {path} ({type(error).__name__}: {error}); "
            "the data are returned uncached, so the next load tokenises again. Set "
            "COURSE_CACHE_DIR to a writable folder to keep the cache.",
            CacheWarning,
            stacklevel=3,
        )


def _remove_stale_partials(path: Path, age_seconds: float = 3600.0) -> None:
    """Delete temporary files of ``path`` that a killed loader left (older than an hour)."""
    now = time.time()
    for partial in path.parent.glob(path.name + ".*.tmp"):
        try:
            if now - partial.stat().st_mtime > age_seconds:
                partial.unlink()
        except OSError:
            pass  # another loader finished or removed it meanwhile
