"""Small synthetic aclImdb archives for the utils.data tests, built on the fly.

A real archive has 12,500 reviews per class and split; these have ``PER_CLASS`` (3), and
the tests lower ``utils.data.archive.REVIEWS_PER_CLASS`` to match (fixture ``small_imdb``).
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


def reviews() -> dict[str, bytes]:
    """Member name -> UTF-8 text: PER_CLASS reviews in each of train/test x pos/neg."""
    members = {}
    for split in ("train", "test"):
        for polarity, texts, rating in (("neg", NEGATIVE, 2), ("pos", POSITIVE, 9)):
            for review_id, text in enumerate(texts):
                members[f"aclImdb/{split}/{polarity}/{review_id}_{rating}.txt"] = text.encode()
    return members


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


def archive_bytes(members: dict[str, bytes] | None = None) -> bytes:
    return gz(tar_bytes(reviews() if members is None else members))


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
