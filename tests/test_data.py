"""utils.data: real values of the uuml examples, the IMDB loader's conventions, bad input."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import lzma
import os
import shutil
import tarfile
import time
import tracemalloc
from collections import Counter
from functools import partial
from pathlib import Path

import data_fakes as fakes
import numpy as np
import pytest

from utils import data

REAL_DATA = os.environ.get("COURSE_DATA_DIR")
needs_data = pytest.mark.skipif(not REAL_DATA, reason="set COURSE_DATA_DIR to the course data")


# ------------------------------------------------------------------ uuml examples


@needs_data
def test_transformer_example_has_the_uuml_values():
    example = data.load_transformer_example()
    assert example.tokens == "the quick brown fox jumps over the lazy dog".split()
    assert example.embeddings.shape == (9, 5)
    assert example.embeddings[0, 0] == 1.8197351137237123
    for name in ("Wq", "Wk", "Wv"):
        assert getattr(example, name).shape == (5, 3, 4)
    assert example.W0.shape == (12, 3)
    # The two "the" rows are the same token, so the same embedding.
    np.testing.assert_array_equal(example.embeddings[0], example.embeddings[6])


@needs_data
def test_rnn_example_shapes():
    example = data.load_rnn_example()
    assert example.tokens[0] == "the" and len(example.tokens) == 9
    shapes = {
        name: getattr(example, name).shape for name in ("embeddings", "W", "U", "V", "b", "c")
    }
    assert shapes == {
        "embeddings": (9, 5),
        "W": (4, 4),
        "U": (4, 5),
        "V": (3, 4),
        "b": (4, 1),
        "c": (3, 1),
    }


# ------------------------------------------------------------------ missing files


def test_missing_file_offline_names_file_variable_and_url(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataError) as error:
        data.load_rnn_example()
    message = str(error.value)
    assert "uuml/rnn_example.rda" in message
    assert "COURSE_DATA_DIR" in message
    assert data.UUML_URL + "rnn_example.rda" in message


def test_missing_archive_offline_names_url(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(data.DataError, match="aclImdb_v1.tar.gz") as error:
        data.load_imdb(maxlen=10)
    assert data.IMDB_URL in str(error.value)


def test_failed_download_says_how_to_work_offline(monkeypatch):
    import keras

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)

    def no_network(*args, **kwargs):
        raise OSError("Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", no_network)
    with pytest.raises(data.DataError) as error:
        data.load_transformer_example()
    message = str(error.value)
    assert "COURSE_DATA_DIR" in message and data.UUML_URL in message


# ------------------------------------------------------------- corrupt .rda files


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "uuml").mkdir()
    return tmp_path


@needs_data
def test_truncated_rda_gives_clear_error(data_dir):
    real = Path(REAL_DATA, "uuml", "transformer_example.rda").read_bytes()
    (data_dir / "uuml" / "transformer_example.rda").write_bytes(real[: len(real) // 2])
    with pytest.raises(data.DataError, match="transformer_example.rda") as error:
        data.load_transformer_example()
    assert "corrupt" in str(error.value)


@needs_data
@pytest.mark.parametrize("from_end", [None, 40, 5])
def test_a_flipped_byte_in_a_real_rda_gives_clear_error(data_dir, from_end):
    real = Path(REAL_DATA, "uuml", "rnn_example.rda").read_bytes()
    damaged = bytearray(real)
    damaged[len(real) // 2 if from_end is None else len(real) - from_end] ^= 0xFF
    (data_dir / "uuml" / "rnn_example.rda").write_bytes(bytes(damaged))
    with pytest.raises(data.DataError, match="rnn_example.rda") as error:
        data.load_rnn_example()
    assert data.UUML_URL in str(error.value)


def test_garbage_rda_gives_clear_error(data_dir):
    (data_dir / "uuml" / "rnn_example.rda").write_bytes(b"this is not R data" * 10)
    with pytest.raises(data.DataError, match="rnn_example.rda"):
        data.load_rnn_example()


# ------------------------------------------------------- .rda size and structure


def test_an_oversized_rda_is_refused_before_it_is_read(data_dir):
    path = data_dir / "uuml" / "rnn_example.rda"
    path.write_bytes(b"\0" * (data.uuml.MAX_RDA_BYTES + 1))
    with pytest.raises(data.DataError, match="1,048,577 bytes") as error:
        data.load_rnn_example()
    assert str(path) in str(error.value) and data.UUML_URL in str(error.value)


@pytest.mark.parametrize(
    "compress",
    [gzip.compress, bz2.compress, partial(lzma.compress, preset=1)],
    ids=["gzip", "bzip2", "xz"],
)
def test_an_rda_that_inflates_past_the_bound_is_stopped_while_inflating(data_dir, compress):
    """A few KB that inflate to 32 MiB: refused at the 16 MiB bound, not after inflating it all."""
    path = data_dir / "uuml" / "rnn_example.rda"
    path.write_bytes(compress(b"RDX3\n" + b"\0" * (32 << 20)))
    assert path.stat().st_size < data.uuml.MAX_RDA_BYTES
    import rdata  # noqa: F401  (imported first: its own allocations are not the point)

    tracemalloc.start()
    try:
        with pytest.raises(data.DataError, match="inflates to more than 16,777,216 bytes"):
            data.load_rnn_example()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 << 20  # below the 32 MiB the file would inflate to


def test_an_rda_that_is_not_r_data_is_refused(data_dir):
    (data_dir / "uuml" / "rnn_example.rda").write_bytes(gzip.compress(b"PK\3\4 a zip file"))
    with pytest.raises(data.DataError, match="is not an R data file"):
        data.load_rnn_example()


def _rnn_arrays() -> dict:
    return {name: np.zeros(shape) for name, shape in data.uuml.RNN_SHAPES.items()}


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({k: v for k, v in _rnn_arrays().items() if k != "V"}, r"the object lacks \['V'\]"),
        (
            {**_rnn_arrays(), "W": np.zeros((4, 5))},
            r"W should be a numeric array of shape \(4, 4\)",
        ),
        ({**_rnn_arrays(), "b": np.zeros(4)}, r"b should be a numeric array of shape \(4, 1\)"),
        ({**_rnn_arrays(), "c": np.array(["a", "b", "c"])}, "c should be a numeric array"),
        ({**_rnn_arrays(), "U": np.full((4, 5), np.nan)}, "U contains NaN or infinite values"),
        (_rnn_arrays(), r"embeddings has no row labels"),
        (np.zeros((4, 4)), "expected an R list, found ndarray"),
    ],
    ids=[
        "missing name",
        "wrong shape",
        "wrong rank",
        "not numeric",
        "NaN",
        "no row labels",
        "not a list",
    ],
)
def test_an_rda_with_the_wrong_structure_is_refused(data_dir, obj, message):
    """Real R data files, written on the fly, with the right object name and a wrong structure."""
    import rdata

    path = data_dir / "uuml" / "rnn_example.rda"
    rdata.write_rda(path, {"rnn_example": obj})
    with pytest.raises(data.DataError, match=message) as error:
        data.load_rnn_example()
    assert str(path) in str(error.value) and data.UUML_URL in str(error.value)


def test_an_rda_without_the_object_is_refused(data_dir):
    import rdata

    rdata.write_rda(data_dir / "uuml" / "rnn_example.rda", {"other": _rnn_arrays()})
    with pytest.raises(data.DataError, match=r"does not contain the object 'rnn_example'"):
        data.load_rnn_example()


# ------------------------------------------------------------ downloads


def test_the_archive_download_is_checked_against_the_official_sha256(monkeypatch, tmp_path):
    import keras

    calls = []

    def fake_get_file(**kwargs):
        calls.append(kwargs)
        raise OSError("offline")

    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    monkeypatch.setattr(data.imdb, "_CHECKED_DOWNLOADS", set())
    with pytest.raises(data.DataError):
        data.load_imdb(maxlen=5)
    assert calls[0]["origin"] == data.IMDB_URL
    assert calls[0]["file_hash"] == data.IMDB_SHA256
    assert calls[0]["hash_algorithm"] == "sha256"
    assert data.IMDB_SHA256 == "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe"


def test_a_download_that_does_not_match_its_sha256_is_refused(monkeypatch, tmp_path):
    """Keras really downloads (from a file:// URL) and compares the hash."""
    import keras

    source = tmp_path / "served" / data.IMDB_ARCHIVE
    source.parent.mkdir()
    source.write_bytes(fakes.archive_bytes())
    real_get_file = keras.utils.get_file
    keras_dir = tmp_path / "keras"
    keras_dir.mkdir()  # get_file falls back to /tmp/.keras if its folder does not exist
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setattr(
        keras.utils,
        "get_file",
        lambda **kwargs: real_get_file(**kwargs, cache_dir=str(keras_dir)),
    )
    with pytest.raises(data.DataError, match="file hash does not match") as error:
        data.data_file(data.IMDB_ARCHIVE, source.as_uri(), sha256=data.IMDB_SHA256)
    assert "COURSE_DATA_DIR" in str(error.value)
    # The same download with its own hash is accepted: the check is real, not a refusal.
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    fetched = data.data_file(data.IMDB_ARCHIVE, source.as_uri(), sha256=digest)
    assert fetched.read_bytes() == source.read_bytes()
    assert fetched.is_relative_to(keras_dir)


# ---------------------------------------------------------------- small archives


@pytest.fixture
def small_imdb(data_dir, monkeypatch):
    """A synthetic archive with 3 reviews per class and split (the expected count lowered)."""
    monkeypatch.setattr(data.archive, "REVIEWS_PER_CLASS", fakes.PER_CLASS)
    fakes.write(data_dir / data.IMDB_ARCHIVE, fakes.archive_bytes())
    return data_dir


def test_archive_without_reviews_gives_clear_error(small_imdb):
    fakes.write(small_imdb / data.IMDB_ARCHIVE, fakes.archive_bytes({}))
    with pytest.raises(data.DataError, match="holds 0 reviews in aclImdb/train/neg/"):
        data.load_imdb(maxlen=5)


def test_tiny_archive_follows_keras_conventions(small_imdb):
    (x_train, y_train), (x_test, y_test) = data.load_imdb(num_words=10, maxlen=8)
    assert x_train.shape == (6, 8) and x_test.shape == (6, 8)
    assert sorted(y_train) == [0, 0, 0, 1, 1, 1]
    # "great" (7 times) is the most frequent training word, so index 3.
    assert data.word_index()["great"] == 3
    for row in x_train:
        nonzero = row[row > 0]
        assert nonzero[0] == data.START or len(nonzero) == 8  # truncated at the start
    assert x_train.max() < 10
    (x_small, _), _ = data.load_imdb(num_words=4, maxlen=8)
    assert set(np.unique(x_small)) == {0, 1, 2, 3}  # only "great" keeps its index
    decoded = {data.decode_review(row) for row in x_test}
    assert "[START] great great great" in decoded


def test_tiny_archive_rows_align_across_the_loaders(small_imdb):
    """Row i of load_imdb, load_imdb_texts and load_imdb_movies is the same review."""
    x = data.load_imdb(num_words=10, maxlen=8)
    texts = data.load_imdb_texts()
    movies = data.load_imdb_movies()
    for split, (x_split, y_split), (texts_split, labels), movies_split in zip(
        ("train", "test"), x, texts, movies, strict=True
    ):
        assert movies_split.shape == (6,) and movies_split.dtype == np.int64
        assert sorted(texts_split) == sorted(fakes.NEGATIVE + fakes.POSITIVE)
        assert texts_split != fakes.NEGATIVE + fakes.POSITIVE  # shuffled
        np.testing.assert_array_equal(labels, y_split)
        np.testing.assert_array_equal(data.encode_reviews(texts_split, 8, 10), x_split)
        # Each text with the movie and label its folder and URL file give it.
        truth = {
            text: (fakes.MOVIES[split, polarity][review_id], label)
            for label, (polarity, folder) in enumerate(
                (("neg", fakes.NEGATIVE), ("pos", fakes.POSITIVE))
            )
            for review_id, text in enumerate(folder)
        }
        assert [truth[text] for text in texts_split] == list(
            zip(movies_split.tolist(), labels.tolist(), strict=True)
        )


def test_cache_is_rebuilt_when_the_archive_changes(small_imdb):
    data.load_imdb(maxlen=8)
    assert data.word_index()["great"] == 3
    changed = fakes.members()
    changed["aclImdb/train/neg/2_2.txt"] = b"boring " * 8
    fakes.write(small_imdb / data.IMDB_ARCHIVE, fakes.archive_bytes(changed))
    data.load_imdb(maxlen=8)
    assert data.word_index()["boring"] == 3
    assert len(list((small_imdb / "cache").glob("imdb-tokens-*.npz"))) == 2


# ------------------------------------------------------------ decode_review


@pytest.mark.parametrize(
    ("sequence", "error", "text"),
    [
        ([-1], ValueError, "negative index -1"),
        (np.array([1, 5, -3]), ValueError, "negative index -3"),
        ([4.9], ValueError, r"whole-number word indices, got \[4.9\]"),
        (np.array([1.0, np.nan]), ValueError, "whole-number word indices"),
        (np.array([[1, 3], [1, 4]]), ValueError, r"1-D .* shape \(2, 2\).*decode_review\(row\)"),
        (np.int32(5), ValueError, r"1-D sequence of word indices, got an array of shape \(\)"),
        (["great"], TypeError, "integer word indices"),
        (np.array([True, False]), TypeError, "integer word indices"),
        ([1, 10**6], ValueError, "index 1000000, beyond the vocabulary"),
    ],
)
def test_decode_review_refuses_what_is_not_one_review_of_indices(small_imdb, sequence, error, text):
    with pytest.raises(error, match=text):
        data.decode_review(sequence)


def test_decode_review_accepts_lists_and_whole_floats(small_imdb):
    data.load_imdb(maxlen=8)
    assert data.decode_review([0, 0, 1, 3, 2]) == "[START] great [UNK]"
    assert data.decode_review(np.array([1.0, 3.0])) == "[START] great"
    assert data.decode_review(np.array([], dtype=np.int32)) == ""


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"num_words": 3}, ValueError, "num_words > 3"),
        ({"num_words": "10000"}, TypeError, "num_words must be an integer"),
        ({"num_words": 10.5}, TypeError, "num_words must be an integer"),
        ({"maxlen": 0}, ValueError, "maxlen must be a positive integer"),
        ({"maxlen": -5}, ValueError, "maxlen must be a positive integer"),
        ({"maxlen": 2.5}, TypeError, "maxlen must be a positive integer"),
    ],
)
def test_arguments_are_validated(kwargs, error, text):
    with pytest.raises(error, match=text):
        data.load_imdb(**kwargs)


def test_encode_reviews_refuses_a_bare_string():
    with pytest.raises(TypeError, match="wrap one review in a list"):
        data.encode_reviews("A great film", maxlen=10)


def test_standardize_drops_html_breaks_and_punctuation():
    import tensorflow as tf

    text = tf.constant("Don't MISS it!<br /><br />Well-made, (really).")
    assert data.standardize(text).numpy().decode().split() == [
        "dont",
        "miss",
        "it",
        "well",
        "made",
        "really",
    ]


# ------------------------------------------------------------ the real IMDB data


@pytest.fixture(scope="module")
def imdb_cache(tmp_path_factory):
    """A private cache, so the first load below really tokenises."""
    if not REAL_DATA:
        pytest.skip("set COURSE_DATA_DIR to the course data")
    cache = tmp_path_factory.mktemp("imdb-cache")
    previous = os.environ.get("COURSE_CACHE_DIR")
    os.environ["COURSE_CACHE_DIR"] = str(cache)
    yield cache
    if previous is None:
        os.environ.pop("COURSE_CACHE_DIR")
    else:
        os.environ["COURSE_CACHE_DIR"] = previous
    shutil.rmtree(cache, ignore_errors=True)


def test_imdb_splits_cache_and_conventions(imdb_cache, capsys):
    start = time.perf_counter()
    (x_train, y_train), (x_test, y_test) = data.load_imdb(num_words=10000, maxlen=20)
    first = time.perf_counter() - start
    start = time.perf_counter()
    (x_again, _), _ = data.load_imdb(num_words=10000, maxlen=20)
    cached = time.perf_counter() - start
    with capsys.disabled():
        print(f"\nload_imdb(maxlen=20): first {first:.1f} s, cached {cached:.2f} s")
    assert cached < first / 3
    np.testing.assert_array_equal(x_train, x_again)

    assert x_train.shape == (25000, 20) and x_test.shape == (25000, 20)
    assert x_train.dtype == np.int32
    assert int(y_train.sum()) == 12500 and int(y_test.sum()) == 12500
    assert x_train.max() == 9999 and x_train.min() == 0
    # validation_split=0.2 takes the last 5000 reviews: both classes must be there.
    assert 2200 < y_train[-5000:].sum() < 2800
    assert (x_train == data.OOV).any()


def test_imdb_padding_matches_keras(imdb_cache):
    import keras

    (x_full, _), _ = data.load_imdb(num_words=10000)
    (x_short, _), _ = data.load_imdb(num_words=10000, maxlen=100)
    assert x_full.shape[1] > 1000  # padded to the longest review
    sequences = [row[np.argmax(row > 0) :].tolist() for row in x_full[:500]]
    assert all(seq[0] == data.START for seq in sequences)
    expected = keras.utils.pad_sequences(sequences, maxlen=100)  # "pre" by default
    np.testing.assert_array_equal(x_short[:500], expected)


@pytest.fixture(scope="module")
def imdb_texts(imdb_cache):
    """load_imdb_texts() once for the module (about 7 s from the archive, 0.5 s cached)."""
    return data.load_imdb_texts()


def test_imdb_indices_are_ranked_by_training_frequency(imdb_cache, imdb_texts):
    import tensorflow as tf

    (texts, _), _ = imdb_texts
    counts = Counter()
    for batch in range(0, len(texts), 5000):
        standardized = data.standardize(tf.constant(texts[batch : batch + 5000])).numpy()
        for text in standardized:
            counts.update(text.decode().split())
    data.load_imdb(maxlen=10)
    index = data.word_index()
    top = [word for word, _ in counts.most_common(30)]
    assert [index[word] for word in top] == list(range(3, 33))


def test_encode_reviews_matches_the_corpus_encoding(imdb_cache, imdb_texts):
    (x_train, _), _ = data.load_imdb(num_words=10000, maxlen=50)
    (texts, _), _ = imdb_texts
    encoded = data.encode_reviews(texts[:20], maxlen=50)
    np.testing.assert_array_equal(encoded, x_train[:20])
    decoded = data.decode_review(data.encode_reviews(["An excellent, moving film."], maxlen=10)[0])
    assert decoded == "[START] an excellent moving film"


def _raw_reviews_and_movies(wanted: dict[tuple[str, str], list[int]]) -> list[tuple]:
    """Straight from the archive, with tarfile alone: (split, label, text, movie) of the
    reviews ``wanted[split, polarity]``, the movie from line id + 1 of the folder's URL file."""
    texts, url_lines = {}, {}
    with tarfile.open(Path(REAL_DATA, data.IMDB_ARCHIVE), "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")  # aclImdb/train/pos/0_9.txt, aclImdb/train/urls_pos.txt
            if len(parts) == 4 and tuple(parts[1:3]) in wanted:
                review_id = int(parts[3].split("_")[0])
                if review_id in wanted[parts[1], parts[2]]:
                    texts[parts[1], parts[2], review_id] = tar.extractfile(member).read().decode()
            elif len(parts) == 3 and parts[2].startswith("urls_"):
                polarity = parts[2].removeprefix("urls_").removesuffix(".txt")
                lines = tar.extractfile(member).read().decode().splitlines()
                url_lines[parts[1], polarity] = lines
    result = []
    for (split, polarity), ids in wanted.items():
        for review_id in ids:
            url = url_lines[split, polarity][review_id]
            movie = int(url.removeprefix("http://www.imdb.com/title/tt").split("/")[0])
            label = int(polarity == "pos")
            result.append((split, label, texts[split, polarity, review_id], movie))
    return result


@pytest.mark.slow  # reads the whole archive with tarfile: left out of `make test-fast`
def test_imdb_movies_align_with_the_reviews_of_the_raw_archive(imdb_cache, imdb_texts):
    """A few reviews read with tarfile alone: each sits in the same row of load_imdb_texts,
    load_imdb_movies and load_imdb, with the movie of its line in the URL file."""
    wanted = {("train", "pos"): [0, 4321], ("train", "neg"): [12499], ("test", "neg"): [7]}
    raw = _raw_reviews_and_movies(wanted)
    assert raw[0][3] == 453418  # train/pos/0: http://www.imdb.com/title/tt0453418/usercomments
    movies = dict(zip(("train", "test"), data.load_imdb_movies(), strict=True))
    texts = dict(zip(("train", "test"), imdb_texts, strict=True))
    x = dict(zip(("train", "test"), data.load_imdb(num_words=10000, maxlen=60), strict=True))
    for split, label, text, movie in raw:
        (row,) = [i for i, candidate in enumerate(texts[split][0]) if candidate == text]
        assert movies[split][row] == movie
        assert texts[split][1][row] == label and x[split][1][row] == label
        np.testing.assert_array_equal(x[split][0][row], data.encode_reviews([text], 60)[0])


@pytest.mark.slow  # tokenises the whole archive into a private cache: left out of `make test-fast`
def test_imdb_movies_match_the_dataset(imdb_cache):
    train, test = data.load_imdb_movies()
    assert train.shape == test.shape == (25000,) and train.dtype == test.dtype == np.int64
    # The archive's README: at most 30 reviews per movie, and no movie in both splits, which
    # holds for every movie but one (tt0406816: 2 train and 23 test reviews).
    for movies, count in ((train, 3456), (test, 3581)):
        ids, reviews = np.unique(movies, return_counts=True)
        assert len(ids) == count and reviews.max() == 30
    (shared,) = np.intersect1d(train, test)
    assert shared == 406816 and (train == shared).sum() == 2 and (test == shared).sum() == 23
