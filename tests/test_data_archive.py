"""utils.data.archive: a damaged, incomplete or crafted aclImdb archive never loads.

Every damaged input is built here, from a small synthetic archive (3 reviews per class and
split, with the expected count lowered to match) or from a copy of the real archive.
"""

from __future__ import annotations

import os
import tarfile
import time
import warnings
from pathlib import Path

import data_fakes as fakes
import numpy as np
import pytest

from utils import data

REAL_DATA = os.environ.get("COURSE_DATA_DIR")


@pytest.fixture
def imdb_dir(tmp_path, monkeypatch):
    """COURSE_DATA_DIR and COURSE_CACHE_DIR in tmp_path; 3 reviews per class expected."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data.archive, "REVIEWS_PER_CLASS", fakes.PER_CLASS)
    return tmp_path


def _refused(archive: Path, *patterns: str) -> str:
    """Assert that the archive is refused with a message naming it and how to fix it."""
    with pytest.raises(data.DataError) as error:
        data.read_imdb_archive(archive)
    message = str(error.value)
    assert str(archive) in message
    assert data.IMDB_URL in message and "good copy" in message
    for pattern in patterns:
        assert pattern in message, message
    return message


def test_the_synthetic_archive_is_good(imdb_dir):
    """The baseline the damaged variants are made from loads, in the documented order,
    each review with its movie; the dataset's own extra files raise no warning."""
    extras = {name: b"x\n" for name in ("aclImdb/imdb.vocab", "aclImdb/train/labeledBow.feat")}
    archive = fakes.write(
        imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(fakes.members() | extras)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = data.read_imdb_archive(archive)
    assert set(splits) == {"train", "test"}
    for split in ("train", "test"):
        texts, labels, movies = splits[split]
        assert texts == fakes.NEGATIVE + fakes.POSITIVE
        np.testing.assert_array_equal(labels, [0, 0, 0, 1, 1, 1])
        np.testing.assert_array_equal(
            movies, fakes.MOVIES[split, "neg"] + fakes.MOVIES[split, "pos"]
        )
        assert movies.dtype == np.int64 and labels.dtype == np.int64


def test_the_real_count_is_demanded_by_default(tmp_path):
    """Without the test override, 3 reviews per class is an incomplete archive."""
    assert data.archive.REVIEWS_PER_CLASS == 12_500
    archive = fakes.write(tmp_path / data.IMDB_ARCHIVE, fakes.archive_bytes())
    _refused(archive, "holds 3 reviews in aclImdb/train/neg/", "12,500")


# ---------------------------------------------------------------- damaged bytes


def _flip(data_bytes: bytes, position: int) -> bytes:
    damaged = bytearray(data_bytes)
    damaged[position] ^= 0xFF
    return bytes(damaged)


GOOD = fakes.archive_bytes()
# gzip.compress writes a 10-byte header, the deflate data, then CRC-32 and length (4 + 4):
# positions from the first deflate byte to the very last byte of the file.
FLIPS = [10, len(GOOD) * 3 // 5, len(GOOD) - 100, len(GOOD) - 20, len(GOOD) - 9]
TRAILER_FLIPS = [len(GOOD) - 8, len(GOOD) - 5, len(GOOD) - 4, len(GOOD) - 1]


@pytest.mark.parametrize("position", FLIPS + TRAILER_FLIPS)
def test_a_flipped_byte_is_refused(imdb_dir, position):
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, _flip(GOOD, position))
    _refused(archive, "truncated or corrupt")


@pytest.mark.parametrize("position", TRAILER_FLIPS)
def test_a_flip_in_the_gzip_trailer_is_caught_by_reading_to_the_end(imdb_dir, position):
    """The tar stream is intact; only reading the gzip stream to its end notices."""
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, _flip(GOOD, position))
    message = _refused(archive, "truncated or corrupt")
    assert "CRC check failed" in message or "Incorrect length" in message


@pytest.mark.parametrize("keep", [0.25, 0.5, 0.9, 0.99])
def test_a_truncated_archive_is_refused(imdb_dir, keep):
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, GOOD[: int(len(GOOD) * keep)])
    _refused(archive, "truncated or corrupt")


def test_the_archive_is_refused_through_load_imdb_too(imdb_dir):
    fakes.write(imdb_dir / data.IMDB_ARCHIVE, _flip(GOOD, len(GOOD) - 8))
    with pytest.raises(data.DataError, match="CRC check failed"):
        data.load_imdb(maxlen=5)
    with pytest.raises(data.DataError, match="CRC check failed"):
        data.load_imdb_texts()


def test_garbage_after_the_gzip_stream_is_refused(imdb_dir):
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, GOOD + b"not gzip")
    _refused(archive, "truncated or corrupt")


def test_a_damaged_member_header_does_not_end_the_archive_silently(imdb_dir):
    """tarfile stops quietly at a bad header in mid-archive; the data after it is noticed."""
    good = fakes.tar_bytes(fakes.members())
    blocks = [good[i : i + 512] for i in range(0, len(good), 512)]
    # The header of a review in mid-archive (a header block starts with the member's name).
    header = next(
        i for i, block in enumerate(blocks) if block.startswith(b"aclImdb/test/pos/2_9.txt")
    )
    assert header < len(blocks) - 10
    blocks[header] = b"x" * 512
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.gz(b"".join(blocks)))
    _refused(archive, "stops being readable")


# ------------------------------------------------------------ wrong structure


def test_a_tar_cut_at_a_member_boundary_and_regzipped_is_refused(imdb_dir):
    members = list(fakes.reviews().items())
    for cut in (len(members) - 1, len(members) // 2, 1):
        for end in (True, False):
            tar = fakes.tar_bytes(dict(members[:cut]), end=end)
            archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.gz(tar))
            _refused(archive, "reviews in aclImdb/", "where the dataset has 3")


def test_a_missing_class_is_refused(imdb_dir):
    members = {n: t for n, t in fakes.members().items() if "/test/pos/" not in n}
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, "holds 0 reviews in aclImdb/test/pos/")


def test_an_extra_review_is_refused(imdb_dir):
    members = {**fakes.members(), "aclImdb/train/pos/3_10.txt": b"Great!"}
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, "holds 4 reviews in aclImdb/train/pos/")


def test_a_duplicate_member_is_refused(imdb_dir):
    members = list(fakes.members().items())
    # Drop one review and repeat another: the counts alone would still add up.
    doubled = members[1:] + [members[3]]
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.gz(fakes.tar_bytes(doubled)))
    _refused(archive, f"member {members[3][0]!r} appears twice")


def test_a_review_id_under_two_names_is_refused(imdb_dir):
    members = fakes.members()
    del members["aclImdb/train/pos/2_9.txt"]
    members["aclImdb/train/pos/1_10.txt"] = b"Great again."  # review 1 exists as 1_9.txt
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, "'aclImdb/train/pos/1_10.txt' repeats review 1 of aclImdb/train/pos/")


@pytest.mark.parametrize("payload", [b"\xff\xfe bad bytes", b"caf\xe9 (latin-1)", b"cut \xe2\x82"])
def test_a_review_that_is_not_utf8_is_refused(imdb_dir, payload):
    members = {**fakes.members(), "aclImdb/test/neg/1_2.txt": payload}
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, "review 'aclImdb/test/neg/1_2.txt' is not valid UTF-8")


# ------------------------------------------------------- movies and other members


def _with(changes: dict[str, bytes | None]) -> dict[str, bytes]:
    """The good members with some replaced or added (``None`` removes one)."""
    members = fakes.members()
    for name, payload in changes.items():
        if payload is None:
            del members[name]
        else:
            members[name] = payload
    return members


URLS = fakes.urls()["aclImdb/test/urls_pos.txt"].decode()


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "member 'aclImdb/test/urls_pos.txt' (the movie of each review) is missing"),
        (URLS.rsplit("\n", 2)[0].encode(), "has 2 lines where its folder has 3 reviews"),
        ((URLS + fakes.url(7) + "\n").encode(), "has 4 lines where its folder has 3 reviews"),
        (
            URLS.replace("\n", "\r\n").encode(),
            "line 1 of member 'aclImdb/test/urls_pos.txt' is not",
        ),
        (URLS.replace("tt0000021", "tt21x").encode(), "line 2 of member"),
        (URLS.replace("tt0000021", "tt0000000").encode(), "line 2 of member"),
        (URLS.replace("http:", "https:", 1).encode(), "line 1 of member"),
        (URLS.replace("\n", "\n\n", 1).encode(), "has 4 lines"),
        (URLS.replace("title", "tïtle").encode(), "is not plain ASCII text"),
        (
            b"tt0000023\ntt0000021\ntt0453418\n",
            "'http://www.imdb.com/title/tt0453418/usercomments'",
        ),
    ],
    ids=[
        "missing",
        "a line short",
        "a line too many",
        "CRLF",
        "not a number",
        "title 0",
        "https",
        "blank line",
        "not ASCII",
        "bare ids",
    ],
)
def test_a_bad_url_file_is_refused(imdb_dir, payload, message):
    members = _with({"aclImdb/test/urls_pos.txt": payload})
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, message)


def test_a_url_file_without_its_last_newline_is_accepted(imdb_dir):
    members = _with({"aclImdb/test/urls_pos.txt": URLS.rstrip("\n").encode()})
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    assert data.read_imdb_archive(archive)["test"].movies[-1] == 453418


def test_reviews_that_cannot_be_matched_to_url_lines_are_refused(imdb_dir):
    """Line i + 1 is the movie of review i: ids must run from 0 without a gap."""
    members = _with({"aclImdb/train/pos/2_9.txt": None, "aclImdb/train/pos/5_9.txt": b"Great."})
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(
        archive,
        "the reviews in aclImdb/train/pos/ are not numbered 0 to 2 (review 2 is missing), so "
        "the lines of 'aclImdb/train/urls_pos.txt' cannot be matched to them",
    )


def test_a_member_outside_the_dataset_is_named_in_a_warning_and_ignored(imdb_dir):
    good = data.read_imdb_archive(fakes.write(imdb_dir / "good.tar.gz", fakes.archive_bytes()))
    members = _with({"aclImdb/NOTES.txt": b"my notes", "aclImdb/train/.DS_Store": b""})
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    with pytest.warns(data.DataWarning) as caught:
        splits = data.read_imdb_archive(archive)
    (warning,) = caught
    message = str(warning.message)
    assert str(archive) in message and "2 member(s)" in message
    assert "'aclImdb/NOTES.txt'" in message and "'aclImdb/train/.DS_Store'" in message
    assert warning.filename == __file__  # points at the caller, not at utils.data
    for split in ("train", "test"):
        assert splits[split].texts == good[split].texts
        np.testing.assert_array_equal(splits[split].movies, good[split].movies)


@pytest.mark.parametrize(
    "name", ["aclImdb/train/pos/notes.txt", "aclImdb/test/neg/1_2.txt.bak", "aclImdb/train/unsup/x"]
)
def test_a_member_in_a_review_folder_that_is_not_a_review_is_refused(imdb_dir, name):
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(_with({name: b"x"})))
    _refused(archive, f"member {name!r} is in a review folder but is not a review")


# ----------------------------------------------------------------- size limits


def test_an_oversized_review_is_refused(imdb_dir):
    members = {
        **fakes.members(),
        "aclImdb/train/neg/0_2.txt": b"a" * (data.archive.MAX_REVIEW_BYTES + 1),
    }
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, "review 'aclImdb/train/neg/0_2.txt' is 1,048,577 bytes")


def test_a_huge_member_is_refused_from_its_header_before_it_is_read(imdb_dir):
    """A 2 GiB member declared in a tiny archive is refused at its header, at once."""
    info = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
    info.size = 2 << 30
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.gz(header + b"\0" * 4096))
    start = time.perf_counter()
    _refused(archive, "member 'aclImdb/train/pos/0_9.txt' is 2,147,483,648 bytes")
    assert time.perf_counter() - start < 1.0


def test_a_large_non_review_member_is_refused(imdb_dir, monkeypatch):
    """Members that are not reviews are skipped, not read, but are bounded too."""
    monkeypatch.setattr(data.archive, "MAX_MEMBER_BYTES", 1000)
    members = {**fakes.members(), "aclImdb/imdb.vocab": b"word\n" * 250}
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
    _refused(archive, "member 'aclImdb/imdb.vocab' is 1,250 bytes (the bound is 1,000)")


def test_an_archive_that_unpacks_past_the_total_bound_is_refused(imdb_dir, monkeypatch):
    monkeypatch.setattr(data.archive, "MAX_TAR_BYTES", 4096)
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes())
    _refused(archive, "unpacks to more than 4,096 bytes")


def test_unsafe_paths_and_links_are_refused(imdb_dir):
    for name in ("aclImdb/../../evil.txt", "/etc/evil.txt"):
        members = {**fakes.members(), name: b"x"}
        archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.archive_bytes(members))
        _refused(archive, f"member {name!r} has an absolute path, a '..' component or is a link")
    link = tarfile.TarInfo("aclImdb/train/pos/0_9.txt")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    tar = link.tobuf(format=tarfile.GNU_FORMAT) + b"\0" * 1024
    archive = fakes.write(imdb_dir / data.IMDB_ARCHIVE, fakes.gz(tar))
    _refused(
        archive,
        "member 'aclImdb/train/pos/0_9.txt' has an absolute path, a '..' component or is a link",
    )


# ------------------------------------------------------------ the real archive


@pytest.fixture(scope="module")
def real_archive() -> bytes:
    if not REAL_DATA:
        pytest.skip("set COURSE_DATA_DIR to the course data")
    return Path(REAL_DATA, data.IMDB_ARCHIVE).read_bytes()


@pytest.mark.parametrize("from_end", [None, 3_000, 600])
def test_a_flipped_byte_in_the_real_archive_is_refused(tmp_path, real_archive, from_end):
    """The issue's probes: 60 % in, and 3,000 and 600 bytes before the end (which loaded)."""
    position = len(real_archive) * 3 // 5 if from_end is None else len(real_archive) - from_end
    archive = fakes.write(tmp_path / data.IMDB_ARCHIVE, _flip(real_archive, position))
    with pytest.raises(data.DataError, match="truncated or corrupt") as error:
        data.read_imdb_archive(archive)
    assert str(archive) in str(error.value)


@pytest.mark.parametrize("keep", [2_000_000, -3_000, -8])
def test_a_truncated_real_archive_is_refused(tmp_path, real_archive, keep):
    archive = fakes.write(tmp_path / data.IMDB_ARCHIVE, real_archive[:keep])
    with pytest.raises(data.DataError, match="truncated or corrupt") as error:
        data.read_imdb_archive(archive)
    assert str(archive) in str(error.value)
