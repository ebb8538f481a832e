"""Naive-Bayes-weighted bag-of-n-grams logistic regression (Wang & Manning, 2012).

Chapter 3's best model, usable on its own (chapter 5 reuses it in an ensemble)::

    features = make_features(texts_train, y_train, texts_test, y_test, ngrams=2)
    model, history = train(features, seed=0)
    p_val = predict_proba(model, features, "val")    # (n_val,)
    p_test = predict_proba(model, features, "test")  # (n_test,)

Each review becomes a binary vector x in {0, 1}^V marking which of the V most frequent
n-grams (all orders 1..``ngrams``) of the *training part* it contains. Every column j is
scaled by the naive-Bayes log-count ratio r_j of the training part, and a logistic
regression p = sigmoid(w^T (x * r) + b) is fitted with RMSprop. The vocabulary and r are
learnt from the training part only, so validation and test reviews are truly unseen.

The validation part is the *last* ``validation_split`` of the training texts, cut where
Keras's ``validation_split`` cuts (:func:`split_point`), so that the validation accuracy
is computed on the same reviews as for the Keras sequence models.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

NGRAM_NAMES = {1: "unigram", 2: "bigram", 3: "trigram"}


def split_point(n: int, validation_split: float = 0.2) -> int:
    """How many of n training examples Keras's ``validation_split`` keeps for fitting.

    Keras (``keras/src/trainers/data_adapters/array_slicing.py``, ``train_validation_split``)
    cuts at ``floor(n * (1 - validation_split))``: rows ``[:cut]`` are fitted, rows ``[cut:]``
    validate.

    Raises:
        ValueError: if n is not a positive int, the split is not in (0, 1), or one part
            would be empty (Keras refuses that too).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive number of examples, got {n!r}.")
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}.")
    cut = int(math.floor(n * (1.0 - validation_split)))
    if cut == 0 or cut == n:
        raise ValueError(
            f"validation_split={validation_split} of {n} examples leaves an empty "
            "training or validation part; use more examples."
        )
    return cut


@dataclass
class NgramFeatures:
    """Sparse binary n-gram features of one data set, and what was learnt to build them.

    Shapes: n_fit + n_val training reviews (the validation part is the last n_val),
    n_test test reviews, V = ``vocabulary_size`` columns.
    """

    ngrams: int
    vocabulary_size: int  # V
    vectorizer: Any  # the adapted keras.layers.TextVectorization
    texts_val: list[str]  # the validation reviews, in order: (n_val,)
    x_fit: Any  # tf.SparseTensor (n_fit, V), binary
    y_fit: np.ndarray  # (n_fit,) 0/1
    x_val: Any  # tf.SparseTensor (n_val, V)
    y_val: np.ndarray  # (n_val,)
    x_test: Any  # tf.SparseTensor (n_test, V)
    y_test: np.ndarray  # (n_test,)
    r: Any  # tf.Tensor (V,): naive-Bayes log-count ratios of the fitting part
    seconds: float  # wall-clock time to build all of the above
    ngram_list: list[str] = field(default_factory=list)  # column j's n-gram: (V,)

    def vectorize(self, texts: Sequence[str]) -> Any:
        """Binary features of new texts: a tf.SparseTensor (len(texts), V)."""
        import tensorflow as tf

        x = _sparse_float(self.vectorizer(tf.constant(list(texts))[:, None]))
        # A vocabulary smaller than V (tiny subsets) is padded with empty columns.
        return tf.sparse.reset_shape(x, [len(texts), self.vocabulary_size])


def _sparse_float(x: Any) -> Any:
    import tensorflow as tf

    return tf.SparseTensor(x.indices, tf.cast(x.values, tf.float32), x.dense_shape)


def _sparse_rows(x: Any, start: int, stop: int) -> Any:
    import tensorflow as tf

    return tf.sparse.slice(x, [start, 0], [stop - start, x.dense_shape[1]])


def nb_log_ratio(x: Any, y: Sequence[int] | np.ndarray, alpha: float = 1.0) -> Any:
    """Naive-Bayes log-count ratios (Wang & Manning 2012, section 2.1).

    r_j = log[(alpha + p_j) / ||alpha + p||_1] - log[(alpha + q_j) / ||alpha + q||_1], with
    p = sum of the rows of positive examples, q = sum of the rows of negative ones.

    Args:
        x: binary features, a tf.SparseTensor (n, V).
        y: labels (n,), 1 positive, 0 negative.
        alpha: the smoothing count added to every column.

    Returns:
        r: a float32 tf.Tensor (V,).
    """
    import tensorflow as tf

    y = tf.constant(np.asarray(y, dtype=np.float32)[None, :])
    positive = alpha + tf.sparse.sparse_dense_matmul(y, x)[0]
    negative = alpha + tf.sparse.sparse_dense_matmul(1.0 - y, x)[0]
    return tf.math.log(positive / tf.reduce_sum(positive)) - tf.math.log(
        negative / tf.reduce_sum(negative)
    )


def scale_columns(x: Any, r: Any) -> Any:
    """x * r (column j times r_j) for a sparse x (n, V) and r (V,); returns sparse (n, V)."""
    import tensorflow as tf

    return tf.SparseTensor(x.indices, x.values * tf.gather(r, x.indices[:, 1]), x.dense_shape)


def as_dataset(x: Any, y: Sequence[int] | np.ndarray, batch_size: int, shuffle_seed=None):
    """A tf.data.Dataset of (sparse x (batch, V), y (batch,)) batches.

    With a ``shuffle_seed`` the rows are reshuffled every epoch, reproducibly.
    """
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, np.asarray(y, dtype=np.float32)))
    if shuffle_seed is not None:
        data = data.shuffle(len(y), seed=shuffle_seed, reshuffle_each_iteration=True)
    return data.batch(batch_size)


def make_features(
    texts_train: Sequence[str],
    y_train: Sequence[int] | np.ndarray,
    texts_test: Sequence[str],
    y_test: Sequence[int] | np.ndarray,
    ngrams: int = 2,
    vocabulary_size: int = 100_000,
    validation_split: float = 0.2,
) -> NgramFeatures:
    """Learn the n-gram vocabulary and the NB ratios on the fitting part; vectorise everything.

    Args:
        texts_train: n raw training reviews; the last ``validation_split`` of them (cut as
            Keras cuts, :func:`split_point`) form the validation part.
        y_train: (n,) labels, 1 positive, 0 negative.
        texts_test: n_test raw test reviews; y_test: (n_test,) labels.
        ngrams: the highest n-gram order: 1 = words, 2 = words and pairs of adjacent words
            (the default), 3 = up to triples.
        vocabulary_size: V, the number of most frequent n-grams of the fitting part kept.
        validation_split: the share of the training reviews held out for validation.

    Returns:
        The features: x_fit (n_fit, V), x_val (n_val, V), x_test (n_test, V), the ratios
        r (V,) and the adapted vectoriser.
    """
    import keras
    import tensorflow as tf

    from utils.data import standardize

    if ngrams not in NGRAM_NAMES:
        raise ValueError(f"ngrams must be 1, 2 or 3 (the highest n-gram order), got {ngrams!r}.")
    if isinstance(vocabulary_size, bool) or not isinstance(vocabulary_size, int):
        raise ValueError(f"vocabulary_size must be an int >= 2, got {vocabulary_size!r}.")
    if vocabulary_size < 2:
        raise ValueError(f"vocabulary_size must be an int >= 2, got {vocabulary_size!r}.")
    texts_train, texts_test = list(texts_train), list(texts_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if len(texts_train) != len(y_train) or len(texts_test) != len(y_test):
        raise ValueError(
            f"got {len(texts_train)} training texts for {len(y_train)} labels and "
            f"{len(texts_test)} test texts for {len(y_test)} labels; they must match."
        )
    for name, labels in (("y_train", y_train), ("y_test", y_test)):
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"{name} must hold 0/1 labels only, got {np.unique(labels)[:5]}.")
    start = time.perf_counter()
    cut = split_point(len(texts_train), validation_split)
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        ngrams=ngrams,
        output_mode="multi_hot",
        sparse=True,
        standardize=standardize,
        name=f"{NGRAM_NAMES[ngrams]}s",
    )
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(texts_train[:cut]).batch(1024))
    features = NgramFeatures(
        ngrams=ngrams,
        vocabulary_size=vocabulary_size,
        vectorizer=vectorizer,
        texts_val=texts_train[cut:],
        x_fit=None,
        y_fit=y_train[:cut],
        x_val=None,
        y_val=y_train[cut:],
        x_test=None,
        y_test=y_test,
        r=None,
        seconds=0.0,
        ngram_list=[str(g) for g in vectorizer.get_vocabulary()],
    )
    x_all = features.vectorize(texts_train)
    features.x_fit = _sparse_rows(x_all, 0, cut)
    features.x_val = _sparse_rows(x_all, cut, len(texts_train))
    features.x_test = features.vectorize(texts_test)
    features.r = nb_log_ratio(features.x_fit, features.y_fit)
    features.seconds = time.perf_counter() - start
    return features


def build_model(n_features: int = 100_000, ngrams: int = 2) -> Any:
    """The logistic regression: sparse input (batch, n_features) -> P(positive) (batch, 1).

    n_features + 1 parameters (one weight per n-gram and a bias).
    """
    import keras

    name = NGRAM_NAMES.get(ngrams, "ngram")
    inputs = keras.Input(shape=(n_features,), sparse=True, name=f"{name}s")
    outputs = keras.layers.Dense(1, activation="sigmoid", name="output")(inputs)
    return keras.Model(inputs, outputs, name=f"nb_{name}_logistic")


def train(
    features: NgramFeatures,
    seed: int,
    nb_weights: bool = True,
    epochs: int = 10,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    callbacks: Sequence[Any] = (),
    verbose: int = 0,
) -> tuple[Any, Any]:
    """Fit the logistic regression on (NB-scaled) features of the fitting part.

    The seed fixes the initial weights and the order of the mini-batches; the validation
    part is evaluated after every epoch (``history.history["val_accuracy"]``).

    Args:
        features: from :func:`make_features`.
        seed: for ``keras.utils.set_random_seed`` and the shuffling.
        nb_weights: scale the columns by r (True) or fit the plain binary features (False).
        epochs, batch_size, learning_rate: of RMSprop on binary cross-entropy.
        callbacks: extra Keras callbacks (e.g. a timer).

    Returns:
        (model, history): the trained keras.Model and its keras.callbacks.History.
    """
    import keras
    import tensorflow as tf

    r = features.r if nb_weights else tf.ones_like(features.r)
    keras.utils.set_random_seed(seed)
    model = build_model(features.vocabulary_size, features.ngrams)
    model.compile(
        optimizer=keras.optimizers.RMSprop(learning_rate),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(
        as_dataset(scale_columns(features.x_fit, r), features.y_fit, batch_size, seed),
        validation_data=as_dataset(scale_columns(features.x_val, r), features.y_val, 1024),
        epochs=epochs,
        shuffle=False,  # the dataset shuffles itself, with `seed`
        callbacks=list(callbacks),
        verbose=verbose,
    )
    return model, history


def predict_proba(
    model: Any, features: NgramFeatures, part: Literal["val", "test"] | Sequence[str]
) -> np.ndarray:
    """P(positive) of a model from :func:`train` (with NB weights).

    Args:
        part: "val" or "test" for those parts of ``features``, or a list of new texts.

    Returns:
        (n,) float32 probabilities, in the order of the part's reviews.
    """
    if isinstance(part, str):
        if part not in ("val", "test"):
            raise ValueError(f"part must be 'val', 'test' or a list of texts, got {part!r}.")
        x, y = (
            (features.x_val, features.y_val)
            if part == "val"
            else (features.x_test, features.y_test)
        )
    else:
        x = features.vectorize(part)
        y = np.zeros(len(part))
    data = as_dataset(scale_columns(x, features.r), y, 1024)
    return model.predict(data, verbose=0)[:, 0]


def evaluate(model: Any, features: NgramFeatures, part: Literal["val", "test"]) -> float:
    """The accuracy of a model from :func:`train` (with NB weights) on the "val" or "test" part."""
    if part not in ("val", "test"):
        raise ValueError(f"part must be 'val' or 'test', got {part!r}.")
    x, y = (features.x_val, features.y_val) if part == "val" else (features.x_test, features.y_test)
    return float(model.evaluate(as_dataset(scale_columns(x, features.r), y, 1024), verbose=0)[1])
