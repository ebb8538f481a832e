"""The aclImdb reviews with the conventions of ``keras.datasets.imdb``, built from the archive.

Every loader returns each split in one fixed order, so that row i of :func:`load_imdb`,
:func:`load_imdb_texts` and :func:`load_imdb_movies` is the same review: the archive's
order (negatives, then positives, by review id) shuffled with Keras's seed.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
from pathlib import Path

import numpy as np

from utils.data import cache
from utils.data.archive import read_imdb_archive
from utils.data.files import IMDB_ARCHIVE, IMDB_SHA256, IMDB_URL, data_file

# Keras's conventions for `keras.datasets.imdb`: these indices are reserved.
PAD, START, OOV = 0, 1, 2
INDEX_FROM = 3
# `keras.datasets.imdb.load_data` shuffles each split with this seed.
SHUFFLE_SEED = 113
# Bump when tokenisation changes, so that old caches are never reused.
TOKENIZER_VERSION = "2"


# Downloads already checked against IMDB_SHA256 in this process: Keras re-hashes the
# 84 MB file on every get_file call, which decode_review in a loop must not pay.
_CHECKED_DOWNLOADS: set[Path] = set()


def _archive() -> Path:
    """The aclImdb archive: from COURSE_DATA_DIR, or downloaded and checked once."""
    if not os.environ.get("COURSE_DATA_DIR"):
        for path in _CHECKED_DOWNLOADS:
            if path.is_file():
                return path
    path = data_file(IMDB_ARCHIVE, IMDB_URL, sha256=IMDB_SHA256)
    if not os.environ.get("COURSE_DATA_DIR"):
        _CHECKED_DOWNLOADS.add(path)
    return path


def standardize(texts):
    """Lower-case, turn ``<br />`` into spaces, drop apostrophes, split on punctuation.

    Args:
        texts: a string tensor (any shape).

    Returns:
        A string tensor of the same shape, ready for whitespace splitting.
    """
    import tensorflow as tf

    texts = tf.strings.lower(texts)
    texts = tf.strings.regex_replace(texts, r"<br\s*/?>", " ")
    # "don't" -> "dont" as Keras's default standardisation does, but "well-made" ->
    # "well made" rather than "wellmade".
    texts = tf.strings.regex_replace(texts, "'", "")
    punctuation = re.escape(string.punctuation.replace("'", ""))
    return tf.strings.regex_replace(texts, f"[{punctuation}]", " ")


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tokenize_archive(archive: Path) -> dict[str, np.ndarray]:
    splits = read_imdb_archive(archive)  # first: a bad archive fails before TensorFlow loads
    import keras
    import tensorflow as tf

    vectorizer = keras.layers.TextVectorization(standardize=standardize, ragged=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(splits["train"][0]).batch(2048))
    # TextVectorization: 0 padding, 1 [UNK], words from 2 by frequency.
    vocabulary = np.array(vectorizer.get_vocabulary()[2:])
    arrays: dict[str, np.ndarray] = {"vocabulary": vocabulary}
    for split, (texts, labels, movies) in splits.items():
        ragged = vectorizer(tf.constant(texts))
        arrays[f"{split}_tokens"] = ragged.flat_values.numpy().astype(np.int32)
        arrays[f"{split}_lengths"] = ragged.row_lengths().numpy().astype(np.int32)
        arrays[f"{split}_labels"] = labels
        arrays[f"{split}_movies"] = movies
    return arrays


def _load_tokenized(archive: Path) -> dict[str, np.ndarray]:
    """Token ids, labels and movies of every review, in the archive's order; cached under a
    key of the archive's bytes, the tokenizer and the cache format."""
    source = f"{_file_digest(archive)}|{TOKENIZER_VERSION}|{cache.FORMAT}"
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = cache.cache_dir() / f"imdb-tokens-{key}.npz"
    arrays = cache.read_or_build(path, lambda: _tokenize_archive(archive))
    _VOCABULARIES[_stat_key(archive)] = arrays["vocabulary"]
    return arrays


# The vocabulary of each archive seen, keyed by its path, size and modification time, so
# that decode_review and word_index do not hash the archive on every call yet never use
# the vocabulary of another archive.
_VOCABULARIES: dict[tuple[str, int, int], np.ndarray] = {}


def _stat_key(archive: Path) -> tuple[str, int, int]:
    stat = archive.stat()
    return str(archive.resolve()), stat.st_size, stat.st_mtime_ns


def _vocabulary() -> np.ndarray:
    archive = _archive()
    vocabulary = _VOCABULARIES.get(_stat_key(archive))
    if vocabulary is None:
        vocabulary = _load_tokenized(archive)["vocabulary"]
    return vocabulary


def _shuffled_orders(sizes: list[int]) -> list[np.ndarray]:
    """The order of each split in every loader: one RandomState(113) shuffles the train
    split, then the test split, as ``keras.datasets.imdb.load_data`` does."""
    rng = np.random.RandomState(SHUFFLE_SEED)
    orders = []
    for size in sizes:
        order = np.arange(size)
        rng.shuffle(order)
        orders.append(order)
    return orders


def _validate(num_words: int, maxlen: int | None) -> None:
    if isinstance(num_words, bool) or not isinstance(num_words, (int, np.integer)):
        raise TypeError(f"num_words must be an integer such as 10000, got {num_words!r}.")
    if num_words <= INDEX_FROM:
        raise ValueError(
            f"num_words={num_words} leaves no room for words: indices 0-2 are reserved "
            "(padding, start, out-of-vocabulary), so use num_words > 3, e.g. 10000."
        )
    if maxlen is not None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, (int, np.integer)):
            raise TypeError(f"maxlen must be a positive integer or None, got {maxlen!r}.")
        if maxlen < 1:
            raise ValueError(f"maxlen must be a positive integer or None, got {maxlen}.")


def _to_keras_indices(tokens: np.ndarray, num_words: int) -> np.ndarray:
    # TextVectorization index i >= 2 is the (i-1)-th most frequent word; Keras puts it
    # at i + 1 so that 0, 1, 2 stay padding, start and out-of-vocabulary.
    shifted = np.where(tokens >= 2, tokens + 1, OOV).astype(np.int32)
    shifted[shifted >= num_words] = OOV
    return shifted


def _pad(sequences: list[np.ndarray], maxlen: int | None) -> np.ndarray:
    """Pad and truncate at the start, as ``keras.utils.pad_sequences`` (and R) do."""
    if maxlen is None:
        maxlen = max(len(seq) for seq in sequences)
    padded = np.zeros((len(sequences), maxlen), dtype=np.int32)
    for row, seq in enumerate(sequences):
        tail = seq[-maxlen:]
        if len(tail):
            padded[row, maxlen - len(tail) :] = tail
    return padded


def load_imdb(
    num_words: int = 10000, maxlen: int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The aclImdb reviews as padded word-index sequences, like Keras's IMDB loader.

    Equivalent to ``keras.datasets.imdb.load_data(num_words=num_words)`` followed by
    ``keras.utils.pad_sequences(x, maxlen=maxlen)`` but built from the original
    reviews: 0 is padding, 1 starts each review, 2 is an out-of-vocabulary word and
    the words of the training reviews take 3, 4, ... by falling frequency; only
    indices below ``num_words`` are used. Each split is shuffled with Keras's seed
    (113), so ``validation_split`` sees both classes.

    Args:
        num_words: keep words with index below this (the ``num_words - 3`` most frequent).
        maxlen: pad/truncate at the start to this length; None pads to the longest review.

    Returns:
        ``(x_train, y_train), (x_test, y_test)``: x (25000, maxlen) int32,
        y (25000,) int64 with 1 = positive.

    Raises:
        DataError: the archive is missing, damaged or not the aclImdb archive.
    """
    _validate(num_words, maxlen)
    arrays = _load_tokenized(_archive())
    orders = _shuffled_orders([len(arrays[f"{split}_labels"]) for split in ("train", "test")])
    result = []
    for split, order in zip(("train", "test"), orders, strict=True):
        tokens = _to_keras_indices(arrays[f"{split}_tokens"], num_words)
        bounds = np.cumsum(arrays[f"{split}_lengths"])[:-1]
        sequences = [
            np.concatenate(([START], seq)).astype(np.int32) for seq in np.split(tokens, bounds)
        ]
        x = _pad([sequences[i] for i in order], maxlen)
        result.append((x, arrays[f"{split}_labels"][order]))
    return result[0], result[1]


def word_index() -> dict[str, int]:
    """Map each word to its index in :func:`load_imdb`'s sequences (3 = most frequent)."""
    return {str(word): i + INDEX_FROM for i, word in enumerate(_vocabulary())}


def _word_indices(sequence) -> np.ndarray:
    """Check that ``sequence`` is one review of whole, non-negative word indices."""
    array = np.asarray(sequence)
    if array.ndim != 1:
        hint = (
            " Decode one row at a time: [decode_review(row) for row in x]."
            if array.ndim == 2
            else ""
        )
        raise ValueError(
            "decode_review decodes one review: a 1-D sequence of word indices, got an "
            f"array of shape {array.shape}.{hint}"
        )
    if array.dtype == bool or array.dtype.kind not in "iuf":
        raise TypeError(
            f"decode_review needs integer word indices, got {array.dtype} values "
            f"(e.g. {array[:3].tolist()})."
        )
    if array.dtype.kind == "f":
        fractional = array[~np.isfinite(array) | (array != np.round(array))]
        if len(fractional):
            raise ValueError(
                "decode_review needs whole-number word indices, got "
                f"{fractional[:3].tolist()}; model outputs are not word indices."
            )
    if len(array) and array.min() < 0:
        raise ValueError(
            f"decode_review got the negative index {array.min():g}; word indices are >= 0 "
            "(0 padding, 1 start, 2 unknown, 3... words)."
        )
    return array.astype(np.int64)


def decode_review(sequence) -> str:
    """Turn a sequence of word indices back into text.

    Args:
        sequence: (length,) word indices as returned by :func:`load_imdb` (whole numbers
            >= 0; a float array of whole numbers is accepted).

    Returns:
        The words joined by spaces; padding is dropped, 1 is shown as ``[START]``
        and 2 (out of vocabulary) as ``[UNK]``.

    Raises:
        ValueError: ``sequence`` is not 1-D, holds fractions or negative numbers, or an
            index beyond the vocabulary.
        TypeError: ``sequence`` is not numeric.
    """
    indices = _word_indices(sequence)
    vocabulary = _vocabulary()
    if len(indices) and indices.max() >= len(vocabulary) + INDEX_FROM:
        raise ValueError(
            f"decode_review got the index {indices.max()}, beyond the vocabulary "
            f"(indices 3 to {len(vocabulary) + INDEX_FROM - 1} are words)."
        )
    words = []
    for index in indices.tolist():
        if index == PAD:
            continue
        if index == START:
            words.append("[START]")
        elif index == OOV:
            words.append("[UNK]")
        else:
            words.append(str(vocabulary[index - INDEX_FROM]))
    return " ".join(words)


def encode_reviews(texts, maxlen: int, num_words: int = 10000) -> np.ndarray:
    """Encode new raw reviews exactly as :func:`load_imdb` encodes the corpus.

    Args:
        texts: a list of review strings (a single string is refused, to avoid
            encoding it character by character).
        maxlen: pad/truncate at the start to this length (the model's input length).
        num_words: the vocabulary size the model was trained with.

    Returns:
        (len(texts), maxlen) int32 word indices, ready for ``model.predict``.
    """
    if isinstance(texts, str):
        raise TypeError(
            "encode_reviews takes a list of reviews; wrap one review in a list: [text]."
        )
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise TypeError("encode_reviews needs a non-empty list of strings.")
    if maxlen is None:
        raise ValueError("encode_reviews needs maxlen: use the length the model was trained on.")
    _validate(num_words, maxlen)
    import keras
    import tensorflow as tf

    vectorizer = keras.layers.TextVectorization(
        standardize=standardize, vocabulary=list(_vocabulary()), ragged=True
    )
    ragged = vectorizer(tf.constant(texts))
    sequences = [
        np.concatenate(([START], _to_keras_indices(np.asarray(row), num_words)))
        for row in ragged.numpy()
    ]
    return _pad(sequences, maxlen)


# Bump when the text cache's arrays change: the key includes it.
TEXTS_VERSION = "1"


def texts_problem(arrays: dict[str, np.ndarray], reviews_per_class: int) -> str | None:
    """What is wrong with the arrays of a text cache, or None when they are consistent.

    Expected for each split: ``{split}_utf8`` and ``{split}_sizes``, its reviews as
    :func:`utils.data.cache.encode_texts` stores them, and ``{split}_labels`` (n_reviews,)
    in {0, 1}, ``reviews_per_class`` of each.
    """
    for split in ("train", "test"):
        names = [f"{split}_{part}" for part in ("utf8", "sizes", "labels")]
        missing = [name for name in names if name not in arrays]
        if missing:
            return f"arrays {missing} are missing"
        utf8, sizes, labels = (arrays[name] for name in names)
        reason = cache.texts_problem(utf8, sizes, 2 * reviews_per_class, split)
        if reason:
            return reason
        if labels.shape != sizes.shape or labels.dtype.kind not in "iu":
            return f"the {split} labels are not one integer per review"
        if not np.isin(labels, (0, 1)).all() or int(labels.sum()) != reviews_per_class:
            return f"the {split} labels are not {reviews_per_class} positive + {reviews_per_class} negative"
    return None


def _archive_texts(archive: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Texts and labels of each split in the archive's order, from the text cache (keyed by
    the archive's bytes), which is filled from the archive when missing or bad.

    Reading the archive decompresses all 84 MB and walks 100,000 members (seconds); the
    cache is read in a fraction of that and proves its content as the token cache does.
    """
    from utils.data import archive as imdb_archive

    source = f"{_file_digest(archive)}|texts {TEXTS_VERSION}|{cache.FORMAT}"
    key = hashlib.sha256(source.encode()).hexdigest()[:16]
    path = cache.cache_dir() / f"imdb-texts-{key}.npz"

    def build() -> dict[str, np.ndarray]:
        splits = read_imdb_archive(archive)
        arrays = {}
        for split in ("train", "test"):
            utf8, sizes = cache.encode_texts(splits[split].texts)
            arrays[f"{split}_utf8"], arrays[f"{split}_sizes"] = utf8, sizes
            arrays[f"{split}_labels"] = np.asarray(splits[split].labels)
        return arrays

    arrays = cache.read_or_build(
        path,
        build,
        lambda found: texts_problem(found, imdb_archive.REVIEWS_PER_CLASS),
        "text cache",
    )
    return {
        split: (
            cache.decode_texts(arrays[f"{split}_utf8"], arrays[f"{split}_sizes"]),
            arrays[f"{split}_labels"],
        )
        for split in ("train", "test")
    }


def load_imdb_texts() -> tuple[tuple[list[str], np.ndarray], tuple[list[str], np.ndarray]]:
    """The raw review texts, in the same shuffled order as :func:`load_imdb`.

    ``load_imdb_texts()[0][0][i]`` is the review behind ``load_imdb()[0][0][i]``; useful for
    models that tokenise themselves (e.g. bag-of-n-grams) and for reading misclassified reviews.

    Returns:
        ``(texts_train, y_train), (texts_test, y_test)``: lists of 25000 strings, labels (25000,).

    Raises:
        DataError: the archive is missing, damaged or not the aclImdb archive.
    """
    splits = _archive_texts(_archive())
    orders = _shuffled_orders([len(splits[split][0]) for split in ("train", "test")])
    result = []
    for split, order in zip(("train", "test"), orders, strict=True):
        texts, labels = splits[split]
        result.append(([texts[i] for i in order], labels[order]))
    return result[0], result[1]


def load_imdb_movies() -> tuple[np.ndarray, np.ndarray]:
    """The movie of each review, in the same shuffled order as :func:`load_imdb`.

    ``load_imdb_movies()[0][i]`` is the IMDb title number of the movie reviewed by
    ``load_imdb()[0][0][i]`` and ``load_imdb_texts()[0][0][i]`` (the same row of the
    test split likewise): ``http://www.imdb.com/title/tt0453418/`` is 453418. Read from the
    archive's ``aclImdb/{train,test}/urls_{pos,neg}.txt`` (line i + 1 is the movie of
    review i) and kept in the token cache. A movie has up to 30 reviews, all in one split;
    :func:`utils.data.splits.movie_disjoint_split` keeps them together in a validation split.

    Returns:
        ``(train_movies, test_movies)``: (25000,) int64 each.

    Raises:
        DataError: the archive is missing, damaged or not the aclImdb archive.
    """
    arrays = _load_tokenized(_archive())
    movies = [arrays[f"{split}_movies"] for split in ("train", "test")]
    orders = _shuffled_orders([len(split_movies) for split_movies in movies])
    train, test = (split_movies[order] for split_movies, order in zip(movies, orders, strict=True))
    return train, test
