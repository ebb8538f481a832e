"""Reading the aclImdb archive in one checked pass, without extracting it.

Integrity is checked from the bytes themselves, not from a pinned hash (copies in
``COURSE_DATA_DIR`` may be repacked): the gzip stream is unpacked to its end so that its
CRC-32 and length are verified, the tar stream must end in its zero-filled
end-of-archive blocks, and the reviews must be exactly the ones the dataset promises,
each with its movie in the folder's URL file.

The tar stream (214 MB for the official archive) is unpacked in memory in one go and then
read by ``tarfile``: reading the tar members through ``gzip.GzipFile`` took 9.3-10.1 s on
this course's 2-core machine, much of it in many small reads and seeks of the gzip layer;
unpacking first and reading from memory takes 6.5 s, with the same checks
(``read_imdb_archive`` timed twice each, one process, nothing else running).

Every member must be one the dataset has: a review (``aclImdb/{train,test}/{pos,neg}/``
``<id>_<rating>.txt``, ``aclImdb/train/unsup/<id>_<rating>.txt``), a URL file
(``aclImdb/{train,test}/urls_{pos,neg}.txt``, ``aclImdb/train/urls_unsup.txt``), one of
the dataset's other files (``README``, ``imdb.vocab``, ``imdbEr.txt``, the ``*Bow.feat``
files) or one of its folders. Anything else inside a review folder is a
:class:`DataError` (it looks like a review that the loader cannot place); anything else
elsewhere (``aclImdb/NOTES.txt``, an editor's backup) is ignored with a
:class:`DataWarning` that names it, since it cannot change what is read.
"""

from __future__ import annotations

import io
import re
import tarfile
import warnings
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from utils.data.files import IMDB_URL, DataError, DataWarning, caller_stacklevel, good_copy_hint

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
POLARITIES = ("neg", "pos")  # label 0, label 1
_REVIEW_FOLDERS = [(split, polarity) for split in SPLITS for polarity in POLARITIES]
# Matched with fullmatch; re.ASCII so that \d is 0-9 only.
_REVIEW_PATH = re.compile(
    r"aclImdb/(train/pos|train/neg|train/unsup|test/pos|test/neg)/(\d+)_(\d+)\.txt", re.ASCII
)
_FOLDER_PREFIX = re.compile(r"^aclImdb/(train/pos|train/neg|train/unsup|test/pos|test/neg)/.")
# The movie of each review: the URL of its IMDb user-comments page. The title number is
# bounded so that it fits an int64.
_URL_LINE = re.compile(r"http://www\.imdb\.com/title/tt(\d{1,12})/usercomments", re.ASCII)
KNOWN_FILES = frozenset(
    {
        "aclImdb/README",
        "aclImdb/imdb.vocab",
        "aclImdb/imdbEr.txt",
        "aclImdb/train/labeledBow.feat",
        "aclImdb/train/unsupBow.feat",
        "aclImdb/test/labeledBow.feat",
        "aclImdb/train/urls_unsup.txt",
    }
    | {f"aclImdb/{split}/urls_{polarity}.txt" for split, polarity in _REVIEW_FOLDERS}
)
KNOWN_FOLDERS = frozenset(
    {"aclImdb", "aclImdb/train", "aclImdb/test", "aclImdb/train/unsup"}
    | {f"aclImdb/{split}/{polarity}" for split, polarity in _REVIEW_FOLDERS}
)
_CHUNK = 1 << 20


class ImdbSplit(NamedTuple):
    """One split of the labelled reviews, row i of each field describing the same review.

    ``texts``: list of n reviews; ``labels``: (n,) int64, 1 = positive; ``movies``: (n,)
    int64, the IMDb title number of the review's movie (``tt0453418`` is 453418).
    """

    texts: list[str]
    labels: np.ndarray
    movies: np.ndarray


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


# zlib's words for a damaged gzip trailer, and what gzip.GzipFile says for them.
_TRAILER_ERRORS = {
    "incorrect data check": "CRC check failed",
    "incorrect length check": "Incorrect length of data produced",
}


def tar_bytes(archive: Path) -> bytes:
    """The tar stream of the gzip file ``archive``, unpacked in memory and checked to its end.

    zlib checks each gzip member's CRC-32 and length at the member's end; a stream that
    stops before an end is truncated. As with :mod:`gzip`, members may follow one another
    and zeros may pad the file's end. At most :data:`MAX_TAR_BYTES` are unpacked.

    Raises:
        DataError: naming ``archive``: not gzip, truncated, a CRC-32 or length mismatch, or
            more than MAX_TAR_BYTES unpacked.
    """
    parts: list[bytes] = []
    total = 0
    stream = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer around the data
    try:
        with open(archive, "rb") as raw:
            pending = b""  # input that follows the end of a gzip member
            while data := pending or raw.read(_CHUNK):
                pending = b""
                if stream.eof:  # another member, or the zeros that may pad the end
                    data = data.lstrip(b"\0")
                    if not data:
                        continue
                    stream = zlib.decompressobj(wbits=31)
                unpacked = stream.decompress(data, _CHUNK)
                while True:  # at most _CHUNK bytes at a time, so the bound stops a gzip bomb
                    total += len(unpacked)
                    if total > MAX_TAR_BYTES:
                        raise _refuse(archive, f"it unpacks to more than {MAX_TAR_BYTES:,} bytes")
                    parts.append(unpacked)
                    if not stream.unconsumed_tail:
                        break
                    unpacked = stream.decompress(stream.unconsumed_tail, _CHUNK)
                if stream.eof:
                    pending = stream.unused_data
    except OSError as error:  # the file itself: missing, unreadable
        raise _refuse(archive, f"it could not be read ({type(error).__name__}: {error})") from error
    except zlib.error as error:
        words = str(error).rsplit(": ", 1)[-1]
        reason = _TRAILER_ERRORS.get(words, f"zlib.error: {error}")
        raise _refuse(archive, f"it is truncated or corrupt ({reason})") from error
    if not stream.eof:
        raise _refuse(
            archive,
            "it is truncated or corrupt (EOFError: Compressed file ended before the "
            "end-of-stream marker was reached)",
        )
    return b"".join(parts)


def open_tar(archive: Path, unpacked: bytes) -> tarfile.TarFile:
    """``tarfile`` over the tar stream ``unpacked`` (from :func:`tar_bytes`) of ``archive``."""
    return tarfile.open(name=str(archive), fileobj=io.BytesIO(unpacked), mode="r:")


def check_end(archive: Path, unpacked: bytes, position: int) -> None:
    """After the last member (at ``position``) only zeros may remain: the tar end-of-archive
    blocks and record padding. Anything else means the tar reader stopped early at a
    damaged member header."""
    rest = unpacked[position:]
    if rest.count(0) != len(rest):
        raise _refuse(
            archive,
            f"it is truncated or corrupt: its tar stream stops being readable near byte "
            f"{position:,} of {len(unpacked):,} (a damaged member header)",
        )


def _folder(split: str, polarity: str) -> str:
    return f"aclImdb/{split}/{polarity}/"


def _url_file(split: str, polarity: str) -> str:
    return f"aclImdb/{split}/urls_{polarity}.txt"


def _scan(
    archive: Path, folders: list[tuple[str, str]]
) -> tuple[dict[tuple[str, str], dict[int, str]], dict[tuple[str, str], bytes]]:
    """One pass over the archive: the reviews and URL file of each of ``folders``.

    Every member is checked (see the module docstring); the reviews of other folders are
    checked by name only, not read.

    Returns:
        ``({folder: {review id: text}}, {folder: bytes of its URL file})``.
    """
    reviews: dict[tuple[str, str], dict[int, str]] = {folder: {} for folder in folders}
    url_files: dict[tuple[str, str], bytes] = {}
    wanted_urls = {_url_file(*folder): folder for folder in folders}
    names: set[str] = set()
    unexpected: list[str] = []
    unpacked = tar_bytes(archive)
    try:
        with open_tar(archive, unpacked) as tar:
            for member in tar:
                _check_member(archive, member)
                name = member.name
                if name in names:
                    raise _refuse(archive, f"member {name!r} appears twice")
                names.add(name)
                match = _REVIEW_PATH.fullmatch(name)
                if match:
                    split, polarity = match[1].split("/")
                    folder = (split, polarity)
                    if not member.isfile():
                        raise _refuse(
                            archive, f"member {name!r} is named like a review but is not a file"
                        )
                    if folder in reviews:
                        _read_review(archive, tar, member, reviews[folder], int(match[2]))
                elif name in KNOWN_FILES or (name in KNOWN_FOLDERS and member.isdir()):
                    if name in wanted_urls:
                        if not member.isfile():
                            raise _refuse(archive, f"member {name!r} is not a file")
                        handle = tar.extractfile(member)
                        assert handle is not None  # a regular file always has contents
                        url_files[wanted_urls[name]] = handle.read()
                elif _FOLDER_PREFIX.match(name):
                    raise _refuse(
                        archive,
                        f"member {name!r} is in a review folder but is not a review named "
                        "<id>_<rating>.txt",
                    )
                else:
                    unexpected.append(name)
            end = tar.offset
        check_end(archive, unpacked, end)
    except DataError:
        raise
    except (tarfile.TarError, OSError) as error:
        raise _refuse(
            archive, f"it is truncated or corrupt ({type(error).__name__}: {error})"
        ) from error
    if unexpected:
        shown = ", ".join(repr(name) for name in unexpected[:5])
        more = f" and {len(unexpected) - 5:,} more" if len(unexpected) > 5 else ""
        warnings.warn(
            f"{archive} holds {len(unexpected):,} member(s) that the aclImdb dataset does not "
            f"have: {shown}{more}. They are ignored; the reviews are read and checked as usual.",
            DataWarning,
            stacklevel=caller_stacklevel(),
        )
    return reviews, url_files


def _read_review(
    archive: Path,
    tar: tarfile.TarFile,
    member: tarfile.TarInfo,
    reviews: dict[int, str],
    review_id: int,
) -> None:
    name = member.name
    if review_id in reviews:
        raise _refuse(
            archive, f"member {name!r} repeats review {review_id} of {name.rsplit('/', 1)[0]}/"
        )
    reviews[review_id] = review_text(archive, tar, member)


def review_text(archive: Path, tar: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    """The text of the review ``member``: at most MAX_REVIEW_BYTES, valid UTF-8, else a
    DataError naming ``archive`` and the member. Shared by the labelled and the unlabelled
    reviews."""
    name = member.name
    if member.size > MAX_REVIEW_BYTES:
        raise _refuse(
            archive,
            f"review {name!r} is {member.size:,} bytes (real reviews are at most about 14 KB; "
            f"the bound is {MAX_REVIEW_BYTES:,})",
        )
    handle = tar.extractfile(member)
    assert handle is not None  # a regular file always has contents
    try:
        return handle.read().decode("utf-8")
    except UnicodeDecodeError as error:
        raise _refuse(archive, f"review {name!r} is not valid UTF-8 ({error})") from error


def _ordered(
    archive: Path,
    folder: tuple[str, str],
    reviews: dict[int, str],
    url_file: bytes | None,
    expected: int,
) -> tuple[list[str], np.ndarray]:
    """The texts of one folder by review id, and the movie of each from its URL file."""
    _check_count(archive, folder, reviews, expected)
    name = _url_file(*folder)
    if url_file is None:
        raise _refuse(archive, f"member {name!r} (the movie of each review) is missing")
    # Line i of the URL file is the movie of review i, so the ids must be exactly 0 .. n-1.
    if expected and max(reviews) != expected - 1:
        missing = min(set(range(expected)) - set(reviews))
        raise _refuse(
            archive,
            f"the reviews in {_folder(*folder)} are not numbered 0 to {expected - 1:,} (review "
            f"{missing:,} is missing), so the lines of {name!r} cannot be matched to them",
        )
    return [reviews[i] for i in range(expected)], _movies(archive, name, url_file, expected)


def _check_count(
    archive: Path, folder: tuple[str, str], reviews: dict[int, str], expected: int
) -> None:
    if len(reviews) != expected:
        raise _refuse(
            archive,
            f"it holds {len(reviews):,} reviews in {_folder(*folder)} where the dataset has "
            f"{expected:,} (incomplete or repacked)",
        )


def _movies(archive: Path, name: str, payload: bytes, expected: int) -> np.ndarray:
    """The IMDb title number on each line of a URL file: (expected,) int64."""
    try:
        text = payload.decode("ascii")
    except UnicodeDecodeError as error:
        raise _refuse(archive, f"member {name!r} is not plain ASCII text ({error})") from error
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the newline that ends the last line
    if len(lines) != expected:
        raise _refuse(
            archive,
            f"member {name!r} has {len(lines):,} lines where its folder has {expected:,} reviews "
            "(line i + 1 names the movie of review i)",
        )
    movies = np.empty(expected, dtype=np.int64)
    for i, line in enumerate(lines):
        match = _URL_LINE.fullmatch(line)
        if match is None or int(match[1]) == 0:
            raise _refuse(
                archive,
                f"line {i + 1:,} of member {name!r} is not an IMDb title URL like "
                f"'http://www.imdb.com/title/tt0453418/usercomments': {line[:80]!r}",
            )
        movies[i] = int(match[1])
    return movies


def read_imdb_archive(archive: Path, reviews_per_class: int | None = None) -> dict[str, ImdbSplit]:
    """Read and verify the labelled reviews of both splits of the aclImdb archive.

    Args:
        archive: the ``aclImdb_v1.tar.gz`` file.
        reviews_per_class: reviews expected in each of ``aclImdb/{train,test}/{pos,neg}``;
            None means :data:`REVIEWS_PER_CLASS` (12,500).

    Returns:
        ``{"train": ImdbSplit, "test": ImdbSplit}``, each with n = 2 * reviews_per_class rows
        in a fixed order (negatives, then positives, by review id): ``texts``, ``labels``
        (n,) int64 with 1 = positive, ``movies`` (n,) int64 IMDb title numbers read from
        ``urls_neg.txt`` / ``urls_pos.txt`` (line i + 1 is the movie of review id i).

    Raises:
        DataError: naming the file (and the member, where there is one) when the archive is
            truncated or corrupt (a gzip CRC or length mismatch included), holds a review that
            is duplicated, oversized or not UTF-8, does not hold exactly
            ``reviews_per_class`` reviews numbered 0 to reviews_per_class - 1 in each class
            of each split, lacks a URL file or has one whose line count or lines are wrong,
            or has a member in a review folder that is not a review.

    Warns:
        DataWarning: members that the dataset does not have, outside the review folders
            (named in the message; they are ignored).
    """
    expected = REVIEWS_PER_CLASS if reviews_per_class is None else reviews_per_class
    reviews, url_files = _scan(archive, _REVIEW_FOLDERS)
    for folder in _REVIEW_FOLDERS:  # first, so that a cut archive is named as incomplete
        _check_count(archive, folder, reviews[folder], expected)
    ordered = {
        folder: _ordered(archive, folder, reviews[folder], url_files.get(folder), expected)
        for folder in _REVIEW_FOLDERS
    }
    result = {}
    for split in SPLITS:
        texts: list[str] = []
        labels, movies = [], []
        for label, polarity in enumerate(POLARITIES):
            folder_texts, folder_movies = ordered[split, polarity]
            texts.extend(folder_texts)
            labels.append(np.full(len(folder_texts), label, dtype=np.int64))
            movies.append(folder_movies)
        result[split] = ImdbSplit(texts, np.concatenate(labels), np.concatenate(movies))
    return result
