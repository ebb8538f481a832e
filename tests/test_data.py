"""utils.data: real values of the uuml examples, the IMDB loader's conventions, bad input."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
import time
from collections import Counter
from pathlib import Path

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


def test_garbage_rda_gives_clear_error(data_dir):
    (data_dir / "uuml" / "rnn_example.rda").write_bytes(b"this is not R data" * 10)
    with pytest.raises(data.DataError, match="rnn_example.rda"):
        data.load_rnn_example()


# ---------------------------------------------------------------- bad archives


def _write_archive(path: Path, members: dict[str, str]) -> None:
    with tarfile.open(path, "w:gz") as tar:
        for name, text in members.items():
            payload = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


TINY = {
    "aclImdb/train/neg/0_1.txt": "Awful, awful film.<br /><br />Boring!",
    "aclImdb/train/neg/1_2.txt": "A boring plot and awful acting.",
    "aclImdb/train/pos/0_9.txt": "A great film. Great acting, great plot!",
    "aclImdb/train/pos/1_8.txt": "Great fun; I'd watch it again.",
    "aclImdb/test/neg/0_2.txt": "Awful.",
    "aclImdb/test/pos/0_10.txt": "Great great GREAT.",
}


def test_archive_with_parent_path_is_refused(data_dir):
    _write_archive(data_dir / data.IMDB_ARCHIVE, {**TINY, "aclImdb/../../evil.txt": "x"})
    with pytest.raises(data.DataError, match=r"'\.\.'"):
        data.load_imdb(maxlen=5)


def test_archive_with_absolute_path_is_refused(data_dir):
    _write_archive(data_dir / data.IMDB_ARCHIVE, {"/etc/evil.txt": "x", **TINY})
    with pytest.raises(data.DataError, match="absolute path"):
        data.load_imdb(maxlen=5)


@needs_data
def test_truncated_archive_gives_clear_error(data_dir):
    with open(Path(REAL_DATA, data.IMDB_ARCHIVE), "rb") as handle:
        (data_dir / data.IMDB_ARCHIVE).write_bytes(handle.read(2_000_000))
    with pytest.raises(data.DataError, match="truncated or corrupt") as error:
        data.load_imdb(maxlen=5)
    assert data.IMDB_ARCHIVE in str(error.value)


def test_archive_without_reviews_gives_clear_error(data_dir):
    _write_archive(data_dir / data.IMDB_ARCHIVE, {"aclImdb/README": "no reviews here"})
    with pytest.raises(data.DataError, match="no reviews"):
        data.load_imdb(maxlen=5)


def test_tiny_archive_follows_keras_conventions(data_dir):
    _write_archive(data_dir / data.IMDB_ARCHIVE, TINY)
    (x_train, y_train), (x_test, y_test) = data.load_imdb(num_words=10, maxlen=8)
    assert x_train.shape == (4, 8) and x_test.shape == (2, 8)
    assert sorted(y_train) == [0, 0, 1, 1]
    # "great" (6 times) is the most frequent training word, so index 3.
    assert data.word_index()["great"] == 3
    for row in x_train:
        nonzero = row[row > 0]
        assert nonzero[0] == data.START or len(nonzero) == 8  # truncated at the start
    assert x_train.max() < 10
    (x_small, _), _ = data.load_imdb(num_words=4, maxlen=8)
    assert set(np.unique(x_small)) == {0, 1, 2, 3}  # only "great" keeps its index
    decoded = {data.decode_review(row) for row in x_test}
    assert "[START] great great great" in decoded


def test_cache_is_rebuilt_when_the_archive_changes(data_dir):
    _write_archive(data_dir / data.IMDB_ARCHIVE, TINY)
    data.load_imdb(maxlen=8)
    assert data.word_index()["great"] == 3
    changed = dict(TINY)
    changed["aclImdb/train/neg/1_2.txt"] = "boring boring boring boring boring boring boring"
    _write_archive(data_dir / data.IMDB_ARCHIVE, changed)
    data.load_imdb(maxlen=8)
    assert data.word_index()["boring"] == 3
    assert len(list((data_dir / "cache").glob("imdb-tokens-*.npz"))) == 2


def test_damaged_cache_is_rebuilt(data_dir):
    _write_archive(data_dir / data.IMDB_ARCHIVE, TINY)
    expected = data.load_imdb(maxlen=8)
    (cache,) = (data_dir / "cache").glob("imdb-tokens-*.npz")
    cache.write_bytes(b"garbage")
    again = data.load_imdb(maxlen=8)
    np.testing.assert_array_equal(expected[0][0], again[0][0])


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


def test_imdb_indices_are_ranked_by_training_frequency(imdb_cache):
    import tensorflow as tf

    (texts, _), _ = data.load_imdb_texts()
    counts = Counter()
    for batch in range(0, len(texts), 5000):
        standardized = data.standardize(tf.constant(texts[batch : batch + 5000])).numpy()
        for text in standardized:
            counts.update(text.decode().split())
    data.load_imdb(maxlen=10)
    index = data.word_index()
    top = [word for word, _ in counts.most_common(30)]
    assert [index[word] for word in top] == list(range(3, 33))


def test_encode_reviews_matches_the_corpus_encoding(imdb_cache):
    (x_train, _), _ = data.load_imdb(num_words=10000, maxlen=50)
    (texts, _), _ = data.load_imdb_texts()
    encoded = data.encode_reviews(texts[:20], maxlen=50)
    np.testing.assert_array_equal(encoded, x_train[:20])
    decoded = data.decode_review(data.encode_reviews(["An excellent, moving film."], maxlen=10)[0])
    assert decoded == "[START] an excellent moving film"
