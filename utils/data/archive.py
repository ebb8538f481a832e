"""Reading the aclImdb archive in one checked pass, without extracting it.

Integrity is checked from the bytes themselves, not from a pinned hash (copies in
``COURSE_DATA_DIR`` may be repacked): the gzip stream is read to its end so that its
CRC-32 and length are verified, the tar stream must end in its zero-filled
end-of-archive blocks, and the reviews must be exactly the ones the dataset promises.
"""

from __future__ import annotations

import gzip
import re
import tarfile
import zlib
from pathlib import Path

import numpy as np

from utils.data.files import IMDB_URL, DataError, good_copy_hint

# Reviews per class (positive, negative) in each split (train, test) of aclImdb. Read at
# call time, so that tests can build small archives and lower it.
REVIEWS_PER_CLASS = 12_500
# The largest real review is about 14 KB and the largest member of the official archive
# (a bag-of-words .feat file) tens of MB; the bounds are generous and stop a crafted
# archive from filling the memory or the time of a run.
MAX_REVIEW_BYTES = 1 << 20
MAX_MEMBER_BYTES = 256 << 20
MAX_TAR_BYTES = 2 << 30

SPLITS = ("train", "test")
_REVIEW_PATH = re.compile(r"^aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
_CHUNK = 1 << 20


def _refuse(archive: Path, problem: str) -> DataError:
    return DataError(
        f"{archive} is not a good copy of the aclImdb archive: {problem}. "
        + good_copy_hint(archive, IMDB_URL)
    )


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    name = member.name
    if name.startswith("/") or ".." in Path(name).parts or member.islnk() or member.issym():
        raise _refuse(
            archive, f"member {name!r} has an absolute path, a '..' component or is a link"
        )
    if member.size > MAX_MEMBER_BYTES:
        raise _refuse(
            archive, f"member {name!r} is {member.size:,} bytes (the bound is {MAX_MEMBER_BYTES:,})"
        )
    if member.offset_data + member.size > MAX_TAR_BYTES:
        raise _refuse(archive, f"it unpacks to more than {MAX_TAR_BYTES:,} bytes at {name!r}")


def _check_end(archive: Path, stream: gzip.GzipFile, position: int) -> None:
    """Read the gzip stream to its end: gzip checks the CRC-32 and the length there.

    Only zeros (the tar end-of-archive blocks and record padding) may remain; anything
    else means the tar reader stopped early at a damaged member header.
    """
    while chunk := stream.read(_CHUNK):
        if chunk.count(0) != len(chunk):
            raise _refuse(
                archive,
                f"it is truncated or corrupt: its tar stream stops being readable near byte {position:,} of "
                f"{stream.tell():,} (a damaged member header)",
            )
        if stream.tell() > MAX_TAR_BYTES:
            raise _refuse(archive, f"it unpacks to more than {MAX_TAR_BYTES:,} bytes")


def read_imdb_archive(
    archive: Path, reviews_per_class: int | None = None
) -> dict[str, tuple[list[str], np.ndarray]]:
    """Read and verify the raw reviews of both splits of the aclImdb archive.

    Args:
        archive: the ``aclImdb_v1.tar.gz`` file.
        reviews_per_class: reviews expected in each of ``aclImdb/{train,test}/{pos,neg}``;
            None means :data:`REVIEWS_PER_CLASS` (12,500).

    Returns:
        ``{"train": (texts, labels), "test": (texts, labels)}``; labels (2 * reviews_per_class,)
        int64, 1 = positive; reviews in a fixed order (negatives, then positives, by file id).

    Raises:
        DataError: naming the file (and the member, where there is one) when the archive is
            truncated or corrupt (a gzip CRC or length mismatch included), holds a review that
            is duplicated, oversized or not UTF-8, or does not hold exactly
            ``reviews_per_class`` reviews in each class of each split.
    """
    expected = REVIEWS_PER_CLASS if reviews_per_class is None else reviews_per_class
    found: dict[tuple[str, str], dict[int, str]] = {
        (split, polarity): {} for split in SPLITS for polarity in ("neg", "pos")
    }
    names: set[str] = set()
    try:
        with open(archive, "rb") as raw, gzip.GzipFile(fileobj=raw) as stream:
            # "r:" on the decompressed stream: members are read in order, with no seeking back.
            with tarfile.open(fileobj=stream, mode="r:") as tar:
                for member in tar:
                    _check_member(archive, member)
                    if member.name in names:
                        raise _refuse(archive, f"member {member.name!r} appears twice")
                    names.add(member.name)
                    match = _REVIEW_PATH.match(member.name)
                    if not match or not member.isfile():
                        continue
                    split, polarity, review_id, _rating = match.groups()
                    reviews = found[split, polarity]
                    if int(review_id) in reviews:
                        raise _refuse(
                            archive,
                            f"member {member.name!r} repeats review {review_id} of "
                            f"aclImdb/{split}/{polarity}/",
                        )
                    if member.size > MAX_REVIEW_BYTES:
                        raise _refuse(
                            archive,
                            f"review {member.name!r} is {member.size:,} bytes (real reviews "
                            f"are at most about 14 KB; the bound is {MAX_REVIEW_BYTES:,})",
                        )
                    handle = tar.extractfile(member)
                    assert handle is not None  # a regular file always has contents
                    try:
                        reviews[int(review_id)] = handle.read().decode("utf-8")
                    except UnicodeDecodeError as error:
                        raise _refuse(
                            archive, f"review {member.name!r} is not valid UTF-8 ({error})"
                        ) from error
                end = tar.offset
            _check_end(archive, stream, end)
    except DataError:
        raise
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:  # BadGzipFile: OSError
        raise _refuse(
            archive, f"it is truncated or corrupt ({type(error).__name__}: {error})"
        ) from error
    for (split, polarity), reviews in found.items():
        if len(reviews) != expected:
            raise _refuse(
                archive,
                f"it holds {len(reviews):,} reviews in aclImdb/{split}/{polarity}/ "
                f"where the dataset has {expected:,} (incomplete or repacked)",
            )
    result = {}
    for split in SPLITS:
        texts, labels = [], []
        for label, polarity in enumerate(("neg", "pos")):
            reviews = found[split, polarity]
            texts.extend(reviews[review_id] for review_id in sorted(reviews))
            labels.extend([label] * len(reviews))
        result[split] = (texts, np.array(labels, dtype=np.int64))
    return result
