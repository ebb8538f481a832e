"""Loaders for the course data: the `uuml` toy weights and the aclImdb reviews.

Files are read from ``$COURSE_DATA_DIR`` when that variable is set (the layout of
``shared/data``: ``uuml/*.rda`` and ``aclImdb_v1.tar.gz``); otherwise they are
downloaded once from their public homes with ``keras.utils.get_file``.

Nothing here unpickles: ``.rda`` files are parsed by the ``rdata`` package, the
archive is read member by member with :mod:`tarfile`, and the token cache is a
``.npz`` file opened with ``allow_pickle=False``.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import string
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

UUML_URL = "https://raw.githubusercontent.com/MansMeg/IntroML/master/rpackage/data/"
IMDB_URL = "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz"
IMDB_ARCHIVE = "aclImdb_v1.tar.gz"

# Keras's conventions for `keras.datasets.imdb`: these indices are reserved.
PAD, START, OOV = 0, 1, 2
INDEX_FROM = 3
# `keras.datasets.imdb.load_data` shuffles each split with this seed.
SHUFFLE_SEED = 113
# Bump when tokenisation changes, so that old caches are never reused.
TOKENIZER_VERSION = "2"


class DataError(RuntimeError):
    """A data file is missing, truncated, corrupt or unsafe."""


@dataclass(frozen=True)
class TransformerExample:
    """The `uuml` multi-head attention example.

    Attributes:
        tokens: the 9 tokens of "the quick brown fox jumps over the lazy dog".
        embeddings: (n_tokens, d_model) = (9, 5), one row per token.
        Wq, Wk, Wv: (d_model, d_head, n_heads) = (5, 3, 4); ``Wq[:, :, h]`` is head h.
        W0: (n_heads * d_head, d_out) = (12, 3), the output projection.
    """

    tokens: list[str]
    embeddings: np.ndarray
    Wq: np.ndarray
    Wk: np.ndarray
    Wv: np.ndarray
    W0: np.ndarray


@dataclass(frozen=True)
class RNNExample:
    """The `uuml` simple-RNN example (Goodfellow et al. 2016, eq. 10.8-10.11).

    Attributes:
        tokens: the 9 tokens.
        embeddings: (n_tokens, d_input) = (9, 5).
        W: (hidden, hidden) = (4, 4), hidden-to-hidden weights.
        U: (hidden, d_input) = (4, 5), input-to-hidden weights.
        V: (n_out, hidden) = (3, 4), hidden-to-output weights.
        b: (hidden, 1) = (4, 1), hidden bias.
        c: (n_out, 1) = (3, 1), output bias.
    """

    tokens: list[str]
    embeddings: np.ndarray
    W: np.ndarray
    U: np.ndarray
    V: np.ndarray
    b: np.ndarray
    c: np.ndarray


# ---------------------------------------------------------------- file access


def data_file(relative_path: str, url: str) -> Path:
    """Return the local path of a course data file, downloading it if needed.

    Args:
        relative_path: path below ``$COURSE_DATA_DIR``, e.g. ``"uuml/rnn_example.rda"``.
        url: the file's public home, used when ``COURSE_DATA_DIR`` is not set.

    Raises:
        DataError: the file is not in ``COURSE_DATA_DIR``, or the download failed;
            the message names the file, the variable and the URL.
    """
    data_dir = os.environ.get("COURSE_DATA_DIR")
    if data_dir:
        path = Path(data_dir).expanduser() / relative_path
        if not path.is_file():
            raise DataError(
                f"Course data file {relative_path!r} not found at {path}. "
                f"COURSE_DATA_DIR is set to {data_dir!r}; put the file there "
                f"(it can be downloaded from {url}) or unset COURSE_DATA_DIR "
                "to download it automatically."
            )
        return path
    import keras

    try:
        fetched = keras.utils.get_file(
            fname=Path(relative_path).name, origin=url, cache_subdir="course_data"
        )
    except Exception as error:  # network errors come in many types
        raise DataError(
            f"Could not download {relative_path!r} from {url} ({error}). "
            "If this machine is offline, download the file elsewhere and set "
            "COURSE_DATA_DIR to the folder that holds it "
            f"(expected at $COURSE_DATA_DIR/{relative_path})."
        ) from error
    return Path(fetched)


def _read_rda(relative_path: str) -> dict:
    path = data_file(relative_path, UUML_URL + Path(relative_path).name)
    import rdata

    try:
        parsed = rdata.read_rda(path)
    except (OSError, EOFError, zlib.error, ValueError, NotImplementedError) as error:
        raise DataError(
            f"{path} is not a readable R data file ({type(error).__name__}: {error}). "
            f"It may be truncated or corrupt: delete it and fetch it again from "
            f"{UUML_URL + path.name}."
        ) from error
    name = Path(relative_path).stem
    if name not in parsed:
        raise DataError(f"{path} does not contain the object {name!r}; found {list(parsed)}.")
    return parsed[name]


def load_transformer_example() -> TransformerExample:
    """Load `uuml::transformer_example` (real weights, no R needed).

    Returns:
        A :class:`TransformerExample` with ``embeddings`` (9, 5), ``Wq``/``Wk``/``Wv``
        (5, 3, 4) with heads on the last axis as in R, and ``W0`` (12, 3).
    """
    obj = _read_rda("uuml/transformer_example.rda")
    embeddings = obj["embeddings"]
    return TransformerExample(
        tokens=[str(t) for t in embeddings.coords[embeddings.dims[0]].values],
        embeddings=np.asarray(embeddings.values, dtype=float),
        Wq=np.asarray(obj["Wq"], dtype=float),
        Wk=np.asarray(obj["Wk"], dtype=float),
        Wv=np.asarray(obj["Wv"], dtype=float),
        W0=np.asarray(obj["W0"], dtype=float),
    )


def load_rnn_example() -> RNNExample:
    """Load `uuml::rnn_example`.

    Returns:
        An :class:`RNNExample` with ``embeddings`` (9, 5), ``W`` (4, 4), ``U`` (4, 5),
        ``V`` (3, 4), ``b`` (4, 1) and ``c`` (3, 1).
    """
    obj = _read_rda("uuml/rnn_example.rda")
    embeddings = obj["embeddings"]
    return RNNExample(
        tokens=[str(t) for t in embeddings.coords[embeddings.dims[0]].values],
        embeddings=np.asarray(embeddings.values, dtype=float),
        **{name: np.asarray(obj[name], dtype=float) for name in ("W", "U", "V", "b", "c")},
    )


# ------------------------------------------------------------------- IMDB

_REVIEW_PATH = re.compile(r"^aclImdb/(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")


def _check_member(archive: Path, member: tarfile.TarInfo) -> None:
    name = member.name
    if name.startswith("/") or ".." in Path(name).parts or member.islnk() or member.issym():
        raise DataError(
            f"Refusing to read {archive}: member {name!r} has an absolute path, a '..' "
            "component or is a link. The archive is not the aclImdb archive; "
            f"download it again from {IMDB_URL}."
        )


def read_imdb_archive(archive: Path) -> dict[str, tuple[list[str], np.ndarray]]:
    """Read the raw reviews of both splits from the aclImdb archive, without extracting it.

    Returns:
        ``{"train": (texts, labels), "test": (texts, labels)}``; labels (25000,) int,
        1 = positive; reviews in a fixed order (negatives, then positives, by file id).
    """
    found: dict[str, list[tuple[int, int, str]]] = {"train": [], "test": []}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                _check_member(archive, member)
                match = _REVIEW_PATH.match(member.name)
                if not match or not member.isfile():
                    continue
                split, polarity, review_id, _rating = match.groups()
                handle = tar.extractfile(member)
                assert handle is not None
                text = handle.read().decode("utf-8")
                found[split].append((int(polarity == "pos"), int(review_id), text))
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile, OSError) as error:
        raise DataError(
            f"{archive} is not a readable aclImdb archive ({type(error).__name__}: {error}). "
            f"It is probably truncated or corrupt: delete it and download it again from "
            f"{IMDB_URL}."
        ) from error
    result = {}
    for split, reviews in found.items():
        if not reviews:
            raise DataError(
                f"{archive} holds no reviews under aclImdb/{split}/; expected the aclImdb "
                f"archive from {IMDB_URL}."
            )
        reviews.sort()
        labels = np.array([label for label, _, _ in reviews], dtype=np.int64)
        result[split] = ([text for _, _, text in reviews], labels)
    return result


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


def _cache_dir() -> Path:
    root = os.environ.get("COURSE_CACHE_DIR") or Path.home() / ".cache" / "sequence-models-course"
    return Path(root).expanduser()


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tokenize_archive(archive: Path) -> dict[str, np.ndarray]:
    import keras
    import tensorflow as tf

    splits = read_imdb_archive(archive)
    vectorizer = keras.layers.TextVectorization(standardize=standardize, ragged=True)
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(splits["train"][0]).batch(2048))
    # TextVectorization: 0 padding, 1 [UNK], words from 2 by frequency.
    vocabulary = np.array(vectorizer.get_vocabulary()[2:])
    arrays: dict[str, np.ndarray] = {"vocabulary": vocabulary}
    for split, (texts, labels) in splits.items():
        ragged = vectorizer(tf.constant(texts))
        arrays[f"{split}_tokens"] = ragged.flat_values.numpy().astype(np.int32)
        arrays[f"{split}_lengths"] = ragged.row_lengths().numpy().astype(np.int32)
        arrays[f"{split}_labels"] = labels
    return arrays


def _load_tokenized(archive: Path) -> dict[str, np.ndarray]:
    """Token ids of every review, cached under a key of the archive's bytes and the tokenizer."""
    key = hashlib.sha256(f"{_file_digest(archive)}|{TOKENIZER_VERSION}".encode()).hexdigest()[:16]
    cache = _cache_dir() / f"imdb-tokens-{key}.npz"
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as stored:
                return {name: stored[name] for name in stored.files}
        except (OSError, ValueError, zlib.error, EOFError):
            pass  # a half-written or damaged cache is rebuilt below
    arrays = _tokenize_archive(archive)
    cache.parent.mkdir(parents=True, exist_ok=True)
    partial = cache.with_suffix(".tmp.npz")
    np.savez(partial, **arrays)
    partial.replace(cache)  # atomic: a crash never leaves a half-written cache
    return arrays


_VOCABULARY: np.ndarray | None = None


def _vocabulary() -> np.ndarray:
    global _VOCABULARY
    if _VOCABULARY is None:
        _VOCABULARY = _load_tokenized(data_file(IMDB_ARCHIVE, IMDB_URL))["vocabulary"]
    return _VOCABULARY


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
    """
    _validate(num_words, maxlen)
    global _VOCABULARY
    arrays = _load_tokenized(data_file(IMDB_ARCHIVE, IMDB_URL))
    _VOCABULARY = arrays["vocabulary"]
    rng = np.random.RandomState(SHUFFLE_SEED)
    result = []
    for split in ("train", "test"):
        tokens = _to_keras_indices(arrays[f"{split}_tokens"], num_words)
        bounds = np.cumsum(arrays[f"{split}_lengths"])[:-1]
        sequences = [
            np.concatenate(([START], seq)).astype(np.int32) for seq in np.split(tokens, bounds)
        ]
        order = np.arange(len(sequences))
        rng.shuffle(order)
        x = _pad([sequences[i] for i in order], maxlen)
        result.append((x, arrays[f"{split}_labels"][order]))
    return result[0], result[1]


def word_index() -> dict[str, int]:
    """Map each word to its index in :func:`load_imdb`'s sequences (3 = most frequent)."""
    return {str(word): i + INDEX_FROM for i, word in enumerate(_vocabulary())}


def decode_review(sequence) -> str:
    """Turn a sequence of word indices back into text.

    Args:
        sequence: (length,) word indices as returned by :func:`load_imdb`.

    Returns:
        The words joined by spaces; padding is dropped, 1 is shown as ``[START]``
        and 2 (out of vocabulary) as ``[UNK]``.
    """
    vocabulary = _vocabulary()
    words = []
    for index in np.asarray(sequence).ravel():
        index = int(index)
        if index == PAD:
            continue
        if index == START:
            words.append("[START]")
        elif index == OOV or index - INDEX_FROM >= len(vocabulary):
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


def load_imdb_texts() -> tuple[tuple[list[str], np.ndarray], tuple[list[str], np.ndarray]]:
    """The raw review texts, in the same shuffled order as :func:`load_imdb`.

    ``load_imdb_texts()[0][0][i]`` is the review behind ``load_imdb()[0][0][i]``; useful for
    models that tokenise themselves (e.g. bag-of-n-grams) and for reading misclassified reviews.

    Returns:
        ``(texts_train, y_train), (texts_test, y_test)``: lists of 25000 strings, labels (25000,).
    """
    splits = read_imdb_archive(data_file(IMDB_ARCHIVE, IMDB_URL))
    rng = np.random.RandomState(SHUFFLE_SEED)
    result = []
    for split in ("train", "test"):
        texts, labels = splits[split]
        order = np.arange(len(texts))
        rng.shuffle(order)
        result.append(([texts[i] for i in order], labels[order]))
    return result[0], result[1]
