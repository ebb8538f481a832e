"""Naive-Bayes-weighted bag-of-n-grams logistic regression (Wang & Manning, 2012).

Chapter 3's last extension, usable on its own (chapter 5 reuses it in an ensemble)::

    features = make_features(texts_fit, y_fit, texts_val, y_val, texts_test, y_test, ngrams=2)
    model, history = train(features, seed=0)
    p_val = predict_proba(model, features, "val")    # (n_val,)
    p_test = predict_proba(model, features, "test")  # (n_test,)

Each review becomes a binary vector x in {0, 1}^V marking which of the V most frequent
n-grams (all orders 1..``ngrams``) of the *training part* it contains. Every column j is
scaled by the naive-Bayes log-count ratio r_j of the training part, and a logistic
regression p = sigmoid(w^T (x * r) + b) is fitted with RMSprop. The vocabulary and r are
learnt from the training part only, so validation and test reviews are truly unseen.

The caller chooses the three parts; the chapters pass the movie-disjoint split of
:func:`utils.data.movie_disjoint_split`, so that the validation reviews are about other
movies than the fitted ones, as the test reviews are.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

NGRAM_NAMES = {1: "unigram", 2: "bigram", 3: "trigram"}


@dataclass
class NgramFeatures:
    """Sparse binary n-gram features of one data set, and what was learnt to build them.

    Shapes: n_fit fitted, n_val validation and n_test test reviews, V = ``vocabulary_size``
    columns.
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
    texts_fit: Sequence[str],
    y_fit: Sequence[int] | np.ndarray,
    texts_val: Sequence[str],
    y_val: Sequence[int] | np.ndarray,
    texts_test: Sequence[str],
    y_test: Sequence[int] | np.ndarray,
    ngrams: int = 2,
    vocabulary_size: int = 100_000,
) -> NgramFeatures:
    """Learn the n-gram vocabulary and the NB ratios on the fitting part; vectorise everything.

    Args:
        texts_fit: n_fit raw reviews to fit on; y_fit: (n_fit,) labels, 1 positive, 0 negative.
        texts_val: n_val raw validation reviews; y_val: (n_val,) labels.
        texts_test: n_test raw test reviews; y_test: (n_test,) labels.
        ngrams: the highest n-gram order: 1 = words, 2 = words and pairs of adjacent words
            (the default), 3 = up to triples.
        vocabulary_size: V, the number of most frequent n-grams of the fitting part kept.

    Returns:
        The features: x_fit (n_fit, V), x_val (n_val, V), x_test (n_test, V), the ratios
        r (V,) and the adapted vectoriser. Nothing is learnt from the validation or test texts.

    Raises:
        ValueError: a bad ``ngrams`` or ``vocabulary_size``, texts and labels of different
            lengths, labels other than 0/1, or an empty fitting part.
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
    parts = {}
    for name, texts, labels in (
        ("fit", texts_fit, y_fit),
        ("val", texts_val, y_val),
        ("test", texts_test, y_test),
    ):
        texts, labels = list(texts), np.asarray(labels)
        if len(texts) != len(labels):
            raise ValueError(
                f"got {len(texts)} texts_{name} for {len(labels)} labels y_{name}; they must match."
            )
        if not np.isin(labels, (0, 1)).all():
            raise ValueError(f"y_{name} must hold 0/1 labels only, got {np.unique(labels)[:5]}.")
        parts[name] = (texts, labels)
    if not parts["fit"][0]:
        raise ValueError("texts_fit is empty: there is nothing to learn the vocabulary from.")
    start = time.perf_counter()
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocabulary_size,
        ngrams=ngrams,
        output_mode="multi_hot",
        sparse=True,
        standardize=standardize,
        name=f"{NGRAM_NAMES[ngrams]}s",
    )
    vectorizer.adapt(tf.data.Dataset.from_tensor_slices(parts["fit"][0]).batch(1024))
    features = NgramFeatures(
        ngrams=ngrams,
        vocabulary_size=vocabulary_size,
        vectorizer=vectorizer,
        texts_val=parts["val"][0],
        x_fit=None,
        y_fit=parts["fit"][1],
        x_val=None,
        y_val=parts["val"][1],
        x_test=None,
        y_test=parts["test"][1],
        r=None,
        seconds=0.0,
        ngram_list=[str(g) for g in vectorizer.get_vocabulary()],
    )
    features.x_fit = features.vectorize(parts["fit"][0])
    features.x_val = features.vectorize(parts["val"][0])
    features.x_test = features.vectorize(parts["test"][0])
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
    # Every new model traces its own predict function; after five, TensorFlow logs a note on
    # "retracing" that says nothing about the results (chapter 6 predicts with one per seed).
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return model.predict(data, verbose=0)[:, 0]
    finally:
        logger.setLevel(level)


def evaluate(model: Any, features: NgramFeatures, part: Literal["val", "test"]) -> float:
    """The accuracy of a model from :func:`train` (with NB weights) on the "val" or "test" part."""
    if part not in ("val", "test"):
        raise ValueError(f"part must be 'val' or 'test', got {part!r}.")
    x, y = (features.x_val, features.y_val) if part == "val" else (features.x_test, features.y_test)
    return float(model.evaluate(as_dataset(scale_columns(x, features.r), y, 1024), verbose=0)[1])
