"""The 50,000 unlabelled reviews of aclImdb (``aclImdb/train/unsup``), read and cached.

Chapter 6 pretrains document vectors on them. They are checked as strictly as the labelled
reviews (:mod:`utils.data.archive`): the gzip stream is read to its end (CRC and length),
every member is size-bounded, every review is UTF-8, review ids are unique and run from 0 to
49,999 with the rating 0 of an unrated review (``<id>_0.txt``).

Two forms are accepted: the official archive's reviews keep their HTML line breaks
(``<br />``); the course's offline copy took its unlabelled reviews from a copy that had
stripped them. The loader returns the texts as stored; the tokenisers of the course
(:func:`utils.data.standardize`, :func:`utils.doc_vectors.tokenize`) treat ``<br />`` as a
space, so both forms tokenise alike except where a stripped break glued two words together.

The texts are cached in ``$COURSE_CACHE_DIR`` (see :func:`utils.data.cache.cache_dir`) as one
UTF-8 byte array and the length of each review (:func:`utils.data.cache.encode_texts`, as the
labelled texts are), keyed on the archive's SHA-256, so that later loads skip the 84 MB archive
(about 7 s) and never reuse another archive's reviews; like every cache of the course it is
read through :func:`utils.data.cache.read`, which checks its digest and its consistency.
"""

from __future__ import annotations

import hashlib
import re
import tarfile
from pathlib import Path

import numpy as np

from utils.data import archive as imdb_archive
from utils.data import cache
from utils.data.files import DataError

# The unlabelled reviews of aclImdb. Read at call time, so that tests can lower it.
UNLABELLED_REVIEWS = 50_000
# Bump when what is cached changes, so that old caches are never reused.
CACHE_VERSION = "1"
_UNSUP_PATH = re.compile(r"^aclImdb/train/unsup/(\d+)_(\d+)\.txt$")


def read_unlabelled_archive(archive: Path, expected: int | None = None) -> list[str]:
    """Read and verify the unlabelled reviews of the aclImdb archive.

    Args:
        archive: the ``aclImdb_v1.tar.gz`` file.
        expected: the number of unlabelled reviews; None means :data:`UNLABELLED_REVIEWS`.

    Returns:
        The ``expected`` reviews as strings, in the order of their file ids (0, 1, ...).

    Raises:
        DataError: naming the archive (and the member) when it is truncated or corrupt, a
            member is a link, oversized or repeated, a review is not UTF-8, its name does not
            have the rating 0, its id is repeated or out of range, or reviews are missing.
    """
    expected = UNLABELLED_REVIEWS if expected is None else expected
    refuse = imdb_archive._refuse
    found: dict[int, str] = {}
    names: set[str] = set()
    unpacked = imdb_archive.tar_bytes(archive)
    try:
        with imdb_archive.open_tar(archive, unpacked) as tar:
            for member in tar:
                imdb_archive._check_member(archive, member)
                if member.name in names:
                    raise refuse(archive, f"member {member.name!r} appears twice")
                names.add(member.name)
                match = _UNSUP_PATH.match(member.name)
                if not match or not member.isfile():
                    continue
                review_id, rating = int(match.group(1)), int(match.group(2))
                if rating != 0:
                    raise refuse(
                        archive,
                        f"unlabelled review {member.name!r} has the rating {rating}; "
                        "unlabelled reviews are named <id>_0.txt",
                    )
                if review_id in found:
                    raise refuse(
                        archive, f"member {member.name!r} repeats unlabelled review {review_id}"
                    )
                found[review_id] = imdb_archive.review_text(archive, tar, member)
            end = tar.offset
        imdb_archive.check_end(archive, unpacked, end)
    except DataError:
        raise
    except (tarfile.TarError, OSError) as error:
        raise refuse(
            archive, f"it is truncated or corrupt ({type(error).__name__}: {error})"
        ) from error
    if len(found) != expected:
        raise refuse(
            archive,
            f"it holds {len(found):,} reviews in aclImdb/train/unsup/ where the dataset has "
            f"{expected:,} (incomplete or repacked)",
        )
    stray = sorted(i for i in found if i >= expected)
    if stray:
        raise refuse(
            archive,
            f"unlabelled review ids run from 0 to {expected - 1:,}, but {stray[0]} is among them",
        )
    return [found[i] for i in range(expected)]


def _cache_path(archive: Path) -> Path:
    digest = hashlib.sha256()
    with open(archive, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    key = hashlib.sha256(f"{digest.hexdigest()}|unsup|{CACHE_VERSION}".encode()).hexdigest()
    return cache.cache_dir() / f"imdb-unsup-{key[:16]}.npz"


def _cache_problem(arrays: dict[str, np.ndarray], expected: int) -> str | None:
    if "text_bytes" not in arrays or "lengths" not in arrays:
        return "its arrays text_bytes and lengths are missing"
    return cache.texts_problem(arrays["text_bytes"], arrays["lengths"], expected, "unlabelled")


def load_imdb_unlabelled_texts() -> list[str]:
    """The 50,000 unlabelled reviews of aclImdb (``train/unsup``), in the order of their ids.

    They have no label and no star rating, and their movies are other movies than those of
    the labelled reviews (the archive's ``urls_unsup.txt``). Read from the archive once,
    then from a cache keyed on the archive's bytes.

    Returns:
        A list of 50,000 strings; with or without ``<br />`` line breaks, as stored.

    Raises:
        DataError: the archive is missing, damaged, or does not hold the 50,000 reviews (the
            message says how to get a good copy).
    """
    from utils.data.imdb import _archive

    archive = _archive()
    expected = UNLABELLED_REVIEWS
    path = _cache_path(archive)

    def build() -> dict[str, np.ndarray]:
        text_bytes, lengths = cache.encode_texts(read_unlabelled_archive(archive, expected))
        return {"text_bytes": text_bytes, "lengths": lengths}

    # Read like every cache of the course: its digest and its consistency are checked.
    arrays = cache.read_or_build(
        path, build, lambda found: _cache_problem(found, expected), "cache of unlabelled reviews"
    )
    return cache.decode_texts(arrays["text_bytes"], arrays["lengths"])


__all__ = ["UNLABELLED_REVIEWS", "load_imdb_unlabelled_texts", "read_unlabelled_archive"]
