"""utils.data.cache: a damaged token cache heals itself; an unwritable one costs only time.

Each damaged cache is made here from a good one built from a small synthetic archive.
"""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import data_fakes as fakes
import numpy as np
import pytest

from utils import data

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def imdb_dir(tmp_path, monkeypatch):
    """A synthetic archive in COURSE_DATA_DIR, an empty COURSE_CACHE_DIR; 3 reviews per class."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data.archive, "REVIEWS_PER_CLASS", fakes.PER_CLASS)
    fakes.write(tmp_path / data.IMDB_ARCHIVE, fakes.archive_bytes())
    return tmp_path


@pytest.fixture
def expected(imdb_dir):
    """What load_imdb returns from a fresh cache, and the cache file it wrote."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # building a cache in a good place warns of nothing
        result = data.load_imdb(num_words=10, maxlen=8)
    (cache,) = (imdb_dir / "cache").glob("imdb-tokens-*.npz")
    return result, cache


def _assert_same(result, expected_result):
    for got, want in zip(result, expected_result, strict=True):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _stored(cache: Path) -> dict[str, np.ndarray]:
    with np.load(cache, allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _flipped(raw: bytes, member: str, fraction: float) -> bytes:
    """Flip a byte of the stored data of one array (not of zip metadata that nobody reads)."""
    info = zipfile.ZipFile(io.BytesIO(raw)).getinfo(member + ".npy")
    name_length, extra_length = struct.unpack(
        "<HH", raw[info.header_offset + 26 : info.header_offset + 30]
    )
    start = info.header_offset + 30 + name_length + extra_length
    damaged = bytearray(raw)
    damaged[start + int(info.compress_size * fraction)] ^= 0xFF
    return bytes(damaged)


def _without(arrays, name):
    return {key: value for key, value in arrays.items() if key != name}


def _changed(arrays, **changes):
    return {**arrays, **changes}


# Each damage maps the good cache's bytes and arrays to the damaged file's bytes.
DAMAGE = {
    "empty": lambda raw, arrays: b"",
    "garbage": lambda raw, arrays: b"garbage" * 50,
    "truncated": lambda raw, arrays: raw[: len(raw) // 2],
    "cut before the directory": lambda raw, arrays: raw[:-30],
    "flip in the vocabulary": lambda raw, arrays: _flipped(raw, "vocabulary", 0.5),
    "flip in the tokens": lambda raw, arrays: _flipped(raw, "train_tokens", 0.6),
    "flip in the last array's last byte": lambda raw, arrays: _flipped(raw, "test_labels", 0.999),
    "missing array": lambda raw, arrays: _npz(_without(arrays, "test_labels")),
    "lengths do not add up": lambda raw, arrays: _npz(
        _changed(arrays, train_lengths=arrays["train_lengths"] + 1)
    ),
    "lengths and labels differ": lambda raw, arrays: _npz(
        _changed(arrays, test_lengths=arrays["test_lengths"][:-1])
    ),
    "labels not balanced": lambda raw, arrays: _npz(
        _changed(arrays, train_labels=np.ones_like(arrays["train_labels"]))
    ),
    "labels not 0/1": lambda raw, arrays: _npz(
        _changed(arrays, test_labels=arrays["test_labels"] * 2)
    ),
    "tokens outside the vocabulary": lambda raw, arrays: _npz(
        _changed(arrays, train_tokens=arrays["train_tokens"] + 1000)
    ),
    "vocabulary not words": lambda raw, arrays: _npz(
        _changed(arrays, vocabulary=np.arange(len(arrays["vocabulary"])))
    ),
    "pickled objects": lambda raw, arrays: _npz(
        _changed(arrays, vocabulary=np.array(list(arrays["vocabulary"]), dtype=object))
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_is_discarded_with_a_warning_and_rebuilt(expected, damage):
    expected_result, cache = expected
    good = _stored(cache)
    cache.write_bytes(DAMAGE[damage](cache.read_bytes(), good))
    with pytest.warns(data.CacheWarning, match="Discarding the token cache") as caught:
        result = data.load_imdb(num_words=10, maxlen=8)
    assert str(cache) in str(caught[0].message)
    _assert_same(result, expected_result)
    # Rebuilt: a later load reads it back without a warning.
    rebuilt = _stored(cache)
    assert sorted(rebuilt) == sorted(good)
    for name, array in good.items():
        np.testing.assert_array_equal(rebuilt[name], array)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_same(data.load_imdb(num_words=10, maxlen=8), expected_result)


def test_a_damaged_cache_heals_word_index_and_decode_too(expected):
    expected_result, cache = expected
    cache.write_bytes(b"garbage")
    data.imdb._VOCABULARIES.clear()  # as in a new Python session
    with pytest.warns(data.CacheWarning, match=str(cache)):
        assert data.word_index()["great"] == 3
    assert data.decode_review(expected_result[1][0][0]).startswith("[START]")


def test_cache_below_a_file_warns_and_returns_the_data(expected, imdb_dir, monkeypatch):
    expected_result, _ = expected
    blocker = imdb_dir / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(blocker / "cache"))
    with pytest.warns(data.CacheWarning, match="Could not write the token cache") as caught:
        result = data.load_imdb(num_words=10, maxlen=8)
    message = str(caught[0].message)
    assert str(blocker / "cache") in message and "COURSE_CACHE_DIR" in message
    _assert_same(result, expected_result)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write to a read-only folder")
def test_a_read_only_cache_folder_warns_and_returns_the_data(expected, imdb_dir, monkeypatch):
    expected_result, _ = expected
    read_only = imdb_dir / "read-only"
    read_only.mkdir(mode=0o555)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(read_only))
    with pytest.warns(data.CacheWarning, match="Could not write the token cache"):
        result = data.load_imdb(num_words=10, maxlen=8)
    _assert_same(result, expected_result)


@pytest.mark.parametrize(
    "error", [PermissionError(13, "Permission denied"), OSError(28, "No space left")]
)
def test_a_failed_write_warns_returns_the_data_and_leaves_no_temporary_file(
    expected, imdb_dir, monkeypatch, error
):
    """Permission denied (what a read-only folder gives a normal user) or a full disk."""
    expected_result, cache = expected
    cache.unlink()

    def failing_savez(file, **arrays):
        file.write(b"partial")
        raise error

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.warns(data.CacheWarning, match="Could not write the token cache"):
        result = data.load_imdb(num_words=10, maxlen=8)
    _assert_same(result, expected_result)
    assert list((imdb_dir / "cache").iterdir()) == []


# The two loaders of the concurrency test: each waits for the go file, then loads with
# np.savez slowed down, so that their cache writes certainly overlap.
LOADER = """
import os, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
from utils import data

data.archive.REVIEWS_PER_CLASS = 3
save = np.savez
def slow_savez(file, **arrays):
    save(file, **arrays)
    time.sleep(1.5)
np.savez = slow_savez
open(sys.argv[2] + ".ready", "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.01)
(x, y), _ = data.load_imdb(num_words=10, maxlen=8)
np.save(sys.argv[2], x)
"""


def test_two_concurrent_loaders_on_an_empty_cache_both_succeed(imdb_dir, tmp_path):
    go = tmp_path / "go"
    outputs = [tmp_path / f"x{i}.npy" for i in range(2)]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    loaders = [
        subprocess.Popen(
            [
                sys.executable,
                "-W",
                "error::UserWarning",
                "-c",
                LOADER,
                str(ROOT),
                str(out),
                str(go),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for out in outputs
    ]
    deadline = time.monotonic() + 120
    while not all(Path(f"{out}.ready").exists() for out in outputs):
        assert time.monotonic() < deadline, "the loaders did not start"
        assert all(p.poll() is None for p in loaders), [p.communicate() for p in loaders]
        time.sleep(0.05)
    go.touch()
    for loader in loaders:
        _, stderr = loader.communicate(timeout=120)
        assert loader.returncode == 0, stderr[-3000:]
    first, second = (np.load(out) for out in outputs)
    np.testing.assert_array_equal(first, second)
    # One valid cache, no temporary files left, and it serves the same data.
    (cache,) = (imdb_dir / "cache").iterdir()
    assert cache.name.startswith("imdb-tokens-") and cache.suffix == ".npz"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        (x_train, _), _ = data.load_imdb(num_words=10, maxlen=8)
    np.testing.assert_array_equal(x_train, first)


def test_temporary_files_of_killed_loaders_are_removed_once_stale(expected):
    """Partial files older than an hour are swept by the next write; a fresh one (a loader
    writing right now) is left alone."""
    _, cache = expected
    stale, fresh = (cache.parent / f"{cache.name}.{tag}.tmp" for tag in ("killed", "writing"))
    for partial in (stale, fresh):
        partial.write_bytes(b"half a cache")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    cache.unlink()
    data.load_imdb(num_words=10, maxlen=8)
    assert not stale.exists() and fresh.exists() and cache.is_file()
