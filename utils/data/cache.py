"""The token cache: a ``.npz`` file per archive and tokenizer, checked on every read.

A cache that cannot be read, does not prove its content or does not add up is discarded
with a warning and rebuilt; a cache that cannot be written costs only time (a warning,
and the data uncached). Writes go to a unique temporary file in the cache directory,
then an atomic rename, so concurrent loaders never see or clobber each other's
half-written files. Loaders that find the same cache missing at the same time (notebooks and
tests started together) take turns (:func:`read_or_build`): the first builds it, the others
wait and read it, instead of each decompressing and tokenising the archive.

Each cache holds, besides its arrays, a SHA-256 digest of them and of its own file name
(:func:`content_digest`), stored as its last member. The zip format's CRC-32 already
catches damaged bytes; the digest catches a file whose arrays were changed and saved
again as a valid ``.npz`` (labels flipped, reviews reordered) and a file copied under
another cache's name. It is a check against accidents, not a signature: whoever can
write the cache can recompute it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
import warnings
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from utils.data import archive as imdb_archive
from utils.data.files import caller_stacklevel

# Bump when the arrays a cache holds change: the cache key includes it, so caches of an
# older format are never read. 2: the movies of the reviews and the content digest.
FORMAT = "2"
DIGEST = "digest"
ARRAYS = ("vocabulary",) + tuple(
    f"{split}_{part}"
    for split in imdb_archive.SPLITS
    for part in ("tokens", "lengths", "labels", "movies")
)


# How long a loader waits for another that builds the same cache (seconds; tokenising the
# whole archive takes about 15 s on 2 cores) before it builds its own.
BUILD_PATIENCE_SECONDS = 300.0


class CacheWarning(UserWarning):
    """The token cache was discarded or could not be written; the data are still correct."""


def cache_dir() -> Path:
    """``$COURSE_CACHE_DIR``, else ``~/.cache/sequence-models-course``."""
    root = os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "sequence-models-course"
    return Path(root).expanduser()


def content_digest(name: str, arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 (hex) of a cache file's name and of each array's name, dtype, shape and bytes.

    Arrays are taken in sorted order of their names, so the digest does not depend on
    the order they were stored in; the ``digest`` array itself is left out.
    """
    digest = hashlib.sha256(f"{name}\n".encode())
    for key in sorted(arrays):
        if key == DIGEST:
            continue
        array = np.ascontiguousarray(arrays[key])
        digest.update(f"{key}|{array.dtype.str}|{array.shape}\n".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def problem(arrays: dict[str, np.ndarray], reviews_per_class: int) -> str | None:
    """What is wrong with a set of token arrays, or None when they are consistent.

    Expected: ``vocabulary`` (n_words,) str; for each split ``{split}_tokens``
    (total_tokens,) int with TextVectorization indices in [0, n_words + 2),
    ``{split}_lengths`` (n_reviews,) int >= 0 summing to total_tokens,
    ``{split}_labels`` (n_reviews,) in {0, 1} with ``reviews_per_class`` of each and
    ``{split}_movies`` (n_reviews,) int > 0 (IMDb title numbers).
    """
    missing = [name for name in ARRAYS if name not in arrays]
    if missing:
        return f"arrays {missing} are missing"
    vocabulary = arrays["vocabulary"]
    if vocabulary.ndim != 1 or vocabulary.dtype.kind != "U" or len(vocabulary) == 0:
        return f"vocabulary is {vocabulary.dtype} of shape {vocabulary.shape}, not a list of words"
    for split in imdb_archive.SPLITS:
        tokens, lengths, labels, movies = (
            arrays[f"{split}_{part}"] for part in ("tokens", "lengths", "labels", "movies")
        )
        if any(a.ndim != 1 or a.dtype.kind not in "iu" for a in (tokens, lengths, labels, movies)):
            return f"the {split} arrays are not 1-D integer arrays"
        if len(lengths) != len(labels) or len(movies) != len(labels):
            return (
                f"{len(lengths)} {split} lengths and {len(movies)} movies for {len(labels)} labels"
            )
        if len(lengths) and (lengths.min() < 0 or int(lengths.sum()) != len(tokens)):
            return f"the {split} lengths do not add up to the {len(tokens)} tokens"
        if len(labels) != 2 * reviews_per_class:
            return f"{len(labels)} {split} reviews instead of {2 * reviews_per_class}"
        if not np.isin(labels, (0, 1)).all() or int(labels.sum()) != reviews_per_class:
            return f"the {split} labels are not {reviews_per_class} positive + {reviews_per_class} negative"
        if len(tokens) and (tokens.min() < 0 or tokens.max() >= len(vocabulary) + 2):
            return f"the {split} tokens are outside the vocabulary"
        if len(movies) and movies.min() <= 0:
            return f"the {split} movies are not IMDb title numbers"
    return None


def encode_texts(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Texts as arrays a cache can hold: ``(utf8, sizes)``, the UTF-8 bytes of every text one
    after another, (total_bytes,) uint8, and each text's byte count, (n_texts,) int64."""
    encoded = [text.encode("utf-8") for text in texts]
    utf8 = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return utf8, np.array([len(e) for e in encoded], dtype=np.int64)


def decode_texts(utf8: np.ndarray, sizes: np.ndarray) -> list[str]:
    """The texts that :func:`encode_texts` stored; UnicodeDecodeError if they are not UTF-8."""
    raw = utf8.tobytes()
    ends = np.cumsum(sizes).tolist()
    return [raw[a:b].decode("utf-8") for a, b in zip([0] + ends[:-1], ends, strict=True)]


def texts_problem(utf8: np.ndarray, sizes: np.ndarray, expected: int, name: str) -> str | None:
    """What is wrong with ``expected`` texts stored by :func:`encode_texts` (``name`` says
    whose, in the message), or None when they decode."""
    if utf8.ndim != 1 or utf8.dtype != np.uint8:
        return f"the {name} texts are {utf8.dtype} of shape {utf8.shape}, not bytes"
    if sizes.ndim != 1 or sizes.dtype.kind not in "iu" or len(sizes) != expected:
        return f"{sizes.dtype} sizes of shape {sizes.shape} for {expected} {name} texts"
    if len(sizes) and (sizes.min() < 0 or int(sizes.sum()) != len(utf8)):
        return f"the {name} sizes do not add up to the {len(utf8)} bytes"
    try:
        decode_texts(utf8, sizes)
    except UnicodeDecodeError as error:
        return f"the {name} texts are not UTF-8 ({error.reason})"
    return None


def read(
    path: Path,
    check: Callable[[dict[str, np.ndarray]], str | None] | None = None,
    what: str = "token cache",
) -> dict[str, np.ndarray] | None:
    """The cached arrays at ``path``; None (and the file removed, with a warning) if bad.

    Any cache the course writes with :func:`write` is read here, so that each proves its
    content the same way.

    Args:
        path: the ``.npz`` file.
        check: what is wrong with the arrays, or None when they are consistent; None means
            the token cache's :func:`problem`.
        what: the cache's name in the warning.

    Returns:
        The arrays, without the ``digest`` entry; None when the file is missing or bad:
        unreadable, without a digest or not matching it (:func:`content_digest`), or
        inconsistent by ``check``.
    """
    if not path.is_file():
        return None
    try:
        # Our own file handle, closed by `with` even when np.load fails on a damaged file
        # (np.load leaves a path it opened to the garbage collector: a ResourceWarning).
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
            # Reading each array to its end makes zipfile check its CRC-32.
            arrays = {name: stored[name] for name in stored.files}
        if check is None:
            reason = _digest_problem(path, arrays) or problem(
                arrays, imdb_archive.REVIEWS_PER_CLASS
            )
        else:
            reason = _digest_problem(path, arrays) or check(_without_digest(arrays))
    except (OSError, ValueError, EOFError, KeyError, zlib.error, zipfile.BadZipFile) as error:
        reason = f"{type(error).__name__}: {error}"
    if reason is None:
        return _without_digest(arrays)
    warnings.warn(
        f"Discarding the {what} {path}: it cannot be used ({reason}). It is rebuilt "
        "from the archive now.",
        CacheWarning,
        stacklevel=caller_stacklevel(),
    )
    try:
        path.unlink()
    except OSError:
        pass  # e.g. another loader removed it first; the rebuilt cache replaces it anyway
    return None


def read_or_build(
    path: Path,
    build: Callable[[], dict[str, np.ndarray]],
    check: Callable[[dict[str, np.ndarray]], str | None] | None = None,
    what: str = "token cache",
) -> dict[str, np.ndarray]:
    """The cached arrays at ``path`` (:func:`read`), or ``build()``'s, then stored (:func:`write`).

    Only one loader at a time builds a missing cache: the others wait for it and then read
    what it wrote, rather than spending the same seconds on the same arrays. Where the
    cache folder allows no lock (no ``fcntl``, as on Windows; a folder that cannot be
    written), each builds its own, as before; the atomic write keeps that correct.
    """
    arrays = read(path, check, what)
    if arrays is None:
        with _one_builder(path):
            arrays = read(path, check, what)  # built by the loader we waited for
            if arrays is None:
                arrays = build()
                write(path, arrays, what)
    return arrays


@contextlib.contextmanager
def _one_builder(path: Path) -> Iterator[None]:
    """Held while this process builds the cache at ``path``: an exclusive lock on
    ``path.lock``, removed once the cache is written (a loader that arrives later finds the
    cache and never locks). Without a lock it does nothing."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here, and none needed for correctness
        yield
        return
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(lock, "w")  # closed below, after the build
    except OSError:
        yield  # an unwritable folder: write() warns about the cache itself
        return
    try:
        waited = 0.0
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if waited >= BUILD_PATIENCE_SECONDS:  # a builder that hangs must not stall us
                    warnings.warn(
                        f"Another process has been building {path} for {waited:.0f} s; "
                        "building it here as well. If no other notebook or script is "
                        f"loading the data, delete {lock} before the next load.",
                        CacheWarning,
                        stacklevel=caller_stacklevel(),
                    )
                    break
                time.sleep(0.2)
                waited += 0.2
        yield
    finally:
        lock.unlink(missing_ok=True)
        handle.close()  # releases the lock; a waiter now finds the cache written


def _without_digest(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: array for name, array in arrays.items() if name != DIGEST}


def _digest_problem(path: Path, arrays: dict[str, np.ndarray]) -> str | None:
    stored = arrays.get(DIGEST)
    if stored is None:
        return "it has no content digest"
    if stored.shape != () or stored.dtype.kind != "U":
        return f"its digest is {stored.dtype} of shape {stored.shape}, not one string"
    if str(stored) != content_digest(path.name, arrays):
        return "its arrays do not match the digest written with them: they changed since"
    return None


def write(path: Path, arrays: dict[str, np.ndarray], what: str = "token cache") -> None:
    """Store ``arrays`` and their digest at ``path`` atomically; warn (never raise) if that
    is impossible (``what`` names the cache in the warning). No array may be named
    ``digest``."""
    if DIGEST in arrays:
        raise ValueError(f"a cache array may not be named {DIGEST!r}: the digest is stored there.")
    partial = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A unique name per writer: two loaders filling an empty cache do not share it.
        handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        with os.fdopen(handle, "wb") as stream:
            # The digest is of the final name, and the last member written.
            np.savez(stream, **arrays, **{DIGEST: np.array(content_digest(path.name, arrays))})
        os.chmod(partial, 0o644)  # mkstemp makes it private; a cache is not a secret
        os.replace(partial, path)  # atomic: readers see the old file or the whole new one
        _remove_stale_partials(path)
    except OSError as error:
        if partial is not None:
            Path(partial).unlink(missing_ok=True)
        warnings.warn(
            f"Could not write the {what} to {path} ({type(error).__name__}: {error}); "
            "the data are returned uncached, so the next load tokenises again. Set "
            "COURSE_CACHE_DIR to a writable folder to keep the cache.",
            CacheWarning,
            stacklevel=caller_stacklevel(),
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
