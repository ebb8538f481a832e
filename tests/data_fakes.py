"""Small synthetic aclImdb archives for the utils.data tests, built on the fly.

A real archive has 12,500 reviews per class and split and 50,000 unlabelled reviews;
these have ``PER_CLASS`` (3) and four unlabelled reviews, and the tests lower
``utils.data.archive.REVIEWS_PER_CLASS`` to match (fixture ``small_imdb``). Each review's
movie is in its folder's URL file, as in the real archive; movies have one or two reviews,
none in both splits.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

PER_CLASS = 3

POSITIVE = [
    "A great film. Great acting, great plot!",
    "Great fun; I'd watch it again.",
    "Great great GREAT.",
]
NEGATIVE = [
    "Awful, awful film.<br /><br />Boring!",
    "A boring plot and awful acting.",
    "Awful.",
]
# The IMDb title number of each review's movie, by folder and review id.
MOVIES = {
    ("train", "neg"): [11, 11, 12],
    ("train", "pos"): [13, 12, 14],
    ("test", "neg"): [21, 22, 22],
    ("test", "pos"): [23, 21, 453418],
}
# The unlabelled reviews: one with the official archive's HTML line breaks, the others as
# the course's shared copy has them (breaks stripped, so sentences run together).
UNLABELLED = [
    "Not sure what to think.<br /><br />Long, though.",
    "Watched it twice.So I was wrong.",
    "A film with actors in it.",
    "Great sets, awful script.",
]
UNLABELLED_MOVIES = [31, 31, 32, 33]


def url(movie: int) -> str:
    """The URL of a movie's user comments, as a line of the archive's URL files has it."""
    return f"http://www.imdb.com/title/tt{movie:07d}/usercomments"


def reviews() -> dict[str, bytes]:
    """Member name -> UTF-8 text: PER_CLASS reviews in each of train/test x pos/neg."""
    members = {}
    for split in ("train", "test"):
        for polarity, texts, rating in (("neg", NEGATIVE, 2), ("pos", POSITIVE, 9)):
            for review_id, text in enumerate(texts):
                members[f"aclImdb/{split}/{polarity}/{review_id}_{rating}.txt"] = text.encode()
    return members


def urls() -> dict[str, bytes]:
    """Member name -> bytes of the URL files of the labelled reviews (line i + 1: review i)."""
    return {
        f"aclImdb/{split}/urls_{polarity}.txt": "".join(url(m) + "\n" for m in movies).encode()
        for (split, polarity), movies in MOVIES.items()
    }


def unlabelled() -> dict[str, bytes]:
    """Member name -> bytes of the unlabelled reviews and their URL file."""
    members = {
        f"aclImdb/train/unsup/{review_id}_0.txt": text.encode()
        for review_id, text in enumerate(UNLABELLED)
    }
    lines = "".join(url(movie) + "\n" for movie in UNLABELLED_MOVIES)
    members["aclImdb/train/urls_unsup.txt"] = lines.encode()
    return members


def members() -> dict[str, bytes]:
    """Every member of a good small archive: labelled reviews, URL files, unlabelled reviews."""
    return {**reviews(), **urls(), **unlabelled()}


def tar_bytes(members: dict[str, bytes] | list[tuple[str, bytes]], *, end: bool = True) -> bytes:
    """An uncompressed tar of ``members`` (a list allows repeated names)."""
    items = members.items() if isinstance(members, dict) else members
    buffer = io.BytesIO()
    tar = tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT)
    tar.addfile(_directory("aclImdb"))
    readme = b"Large Movie Review Dataset (synthetic)\n"
    tar.addfile(_file("aclImdb/README", readme), io.BytesIO(readme))
    for name, payload in items:
        tar.addfile(_file(name, payload), io.BytesIO(payload))
    body = buffer.getvalue()  # the members; close() adds the end-of-archive blocks
    tar.close()
    return buffer.getvalue() if end else body


def gz(data: bytes) -> bytes:
    """gzip with a fixed header (no name, mtime 0), so the bytes are reproducible."""
    return gzip.compress(data, mtime=0)


def archive_bytes(contents: dict[str, bytes] | None = None) -> bytes:
    """A gzipped tar of ``contents``, by default :func:`members` (a good small archive)."""
    return gz(tar_bytes(members() if contents is None else contents))


def _file(name: str, payload: bytes) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    return info


def _directory(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    return info


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
