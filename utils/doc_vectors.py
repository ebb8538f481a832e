"""Paragraph vectors pretrained without labels (PV-DBOW, Le and Mikolov 2014), for chapter 6.

PV-DBOW gives every document i a vector d_i (k numbers) and every token w an output vector
u_w, and trains both so that a document's vector predicts the tokens it contains: with
negative sampling (Mikolov et al. 2013) each token occurrence w of document i is one positive
pair, and K tokens drawn from the noise distribution q (unigram counts to the power 0.75) are
negative pairs, so the objective of one document maximised is

    J(d_i) = sum over its tokens w of [ log sigma(d_i . u_w) + sum_{n=1..K} log sigma(-d_i . u_n) ].

Tokens are words and, as in the document vectors of n-grams of Li et al. (2016), the pairs of
adjacent words ("not good"). Nothing here sees a label. The pieces::

    corpus = build_corpus(fit_texts, unlabelled_texts, held_out_texts=val_texts + test_texts)
    vectors = pretrain(corpus, vector_size=100, epochs=10, seed=0)   # gensim's Doc2Vec
    d_val = infer_vectors(vectors, [review_tokens(t) for t in val_texts])  # (n_val, k)

Training and inference use gensim's ``Doc2Vec`` (the reference implementation, compiled).
Inference gives a vector to a review that was not in the pretraining corpus: the output
vectors u stay fixed and only the review's d is fitted, as gensim's ``infer_vector`` does,
on two threads here.

The corpus builder is the one door to pretraining: it takes the fitting reviews, the
unlabelled reviews and the held-out (validation and test) reviews, and leaves out every
document whose text is also a held-out review's text (compared after dropping HTML line
breaks, spaces and case), so that no validation or test text is ever pretrained on.
"""

from __future__ import annotations

import hashlib
import re
import string
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation.replace(chr(39), ''))}]")
_SPACE = re.compile(r"\s+")


# ------------------------------------------------------------------ tokens


def tokenize(text: str) -> list[str]:
    """The words of a review, by the rules of :func:`utils.data.standardize`.

    Lower case, ``<br />`` as a space, apostrophes dropped ("don't" -> "dont"), every other
    punctuation mark a space, then split on white space (Python lower-cases all of Unicode,
    TensorFlow's ``standardize`` only ASCII letters).

    Args:
        text: one review.

    Returns:
        Its words, in order.
    """
    if not isinstance(text, str):
        raise TypeError(f"tokenize takes one review as a string, got {type(text).__name__}.")
    text = _BREAK.sub(" ", text.lower()).replace("'", "")
    return _PUNCTUATION.sub(" ", text).split()


def review_tokens(text: str, bigrams: bool = True) -> list[str]:
    """The tokens a review's vector learns to predict: its words, then its bigrams.

    A bigram is two adjacent words joined by a space ("not good"); words never contain one.

    Args:
        text: one review.
        bigrams: add the n - 1 bigrams of a review of n words (True) or keep words only.

    Returns:
        n words followed by n - 1 bigrams (or the n words alone), in order.
    """
    words = tokenize(text)
    if not bigrams:
        return words
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def text_key(text: str) -> str:
    """A fingerprint of a review's text that ignores HTML line breaks, white space and case.

    Two copies of one review, one with ``<br />`` line breaks and one whose breaks were
    stripped (the course's offline copy of the unlabelled reviews), get the same key.
    """
    normal = _SPACE.sub("", _BREAK.sub("", text)).lower()
    return hashlib.sha256(normal.encode("utf-8")).hexdigest()


# ------------------------------------------------------------------ the pretraining corpus


@dataclass
class PretrainingCorpus:
    """The documents PV-DBOW is pretrained on, and what was left out to keep them clean.

    documents: token lists, the kept fitting reviews first, then the kept unlabelled ones;
    keys: :func:`text_key` of each document's text, (n_documents,); fit_positions: where each
    kept fitting review stands in ``fit_texts``, (n_fit,).
    """

    documents: list[list[str]]
    keys: list[str]
    n_fit: int  # fitting reviews kept
    n_unlabelled: int  # unlabelled reviews kept
    dropped_fit: int  # fitting reviews left out: their text is also a held-out review's
    dropped_unlabelled: int  # unlabelled reviews left out for the same reason
    bigrams: bool
    fit_positions: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, int))
    held_out_keys: frozenset[str] = field(repr=False, default=frozenset())

    def __len__(self) -> int:
        return len(self.documents)


def _texts(name: str, texts: Any) -> list[str]:
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a list of reviews, got one string; wrap it in a list.")
    texts = list(texts)
    bad = next((t for t in texts if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"{name} must hold strings only, got {type(bad).__name__}.")
    return texts


def build_corpus(
    fit_texts: Sequence[str],
    unlabelled_texts: Sequence[str],
    held_out_texts: Sequence[str],
    bigrams: bool = True,
) -> PretrainingCorpus:
    """The pretraining documents: fitting and unlabelled reviews, never a held-out text.

    Args:
        fit_texts: the n_fit reviews the classifiers are fitted on (their labels are not used).
        unlabelled_texts: the unlabelled reviews.
        held_out_texts: every validation and test review: only their fingerprints are used,
            to leave out any fitting or unlabelled document with the same text.
        bigrams: documents of words and bigrams (True) or of words only.

    Returns:
        The corpus; ``dropped_fit`` and ``dropped_unlabelled`` count what was left out.

    Raises:
        TypeError: a list holds something other than strings (or a single string was given).
        ValueError: nothing is left to pretrain on.
    """
    fit = _texts("fit_texts", fit_texts)
    unlabelled = _texts("unlabelled_texts", unlabelled_texts)
    held_out = frozenset(text_key(t) for t in _texts("held_out_texts", held_out_texts))
    documents, keys, kept, dropped, fit_positions = [], [], [0, 0], [0, 0], []
    for part, texts in enumerate((fit, unlabelled)):
        for position, text in enumerate(texts):
            key = text_key(text)
            if key in held_out:
                dropped[part] += 1
                continue
            documents.append(review_tokens(text, bigrams))
            keys.append(key)
            kept[part] += 1
            if part == 0:
                fit_positions.append(position)
    if not documents:
        raise ValueError("build_corpus has no document left to pretrain on.")
    return PretrainingCorpus(
        documents,
        keys,
        kept[0],
        kept[1],
        dropped[0],
        dropped[1],
        bigrams,
        np.array(fit_positions, dtype=np.int64),
        held_out,
    )


# ------------------------------------------------------------------ pretraining


@dataclass
class PretrainedVectors:
    """A pretrained PV-DBOW model and what inference needs from it.

    Shapes: V tokens in the vocabulary, k = ``vector_size``, n documents in the corpus.
    """

    model: Any  # gensim.models.Doc2Vec
    tokens: list[str]  # (V,) the vocabulary, most frequent first
    output_vectors: np.ndarray  # (V, k) float32: u_w, what a document vector predicts with
    keep: np.ndarray  # (V,) float: the chance that subsampling keeps an occurrence of w
    noise: np.ndarray  # (V,) float: the noise distribution q (sums to 1)
    negative: int  # K, noise tokens per occurrence
    seconds: float  # wall-clock time of vocabulary building and training
    bigrams: bool

    @property
    def document_vectors(self) -> np.ndarray:
        """(n, k) the trained vectors of the corpus's documents, in the corpus's order."""
        return self.model.dv.vectors

    @property
    def index(self) -> dict[str, int]:
        """Token -> row of ``output_vectors``."""
        return self.model.wv.key_to_index


def pretrain(
    corpus: PretrainingCorpus,
    vector_size: int = 100,
    epochs: int = 10,
    min_count: int = 2,
    sample: float = 1e-4,
    negative: int = 5,
    seed: int = 0,
    workers: int = 2,
) -> PretrainedVectors:
    """Train PV-DBOW document vectors and token output vectors on ``corpus`` with gensim.

    Args:
        corpus: from :func:`build_corpus` (the only accepted source of documents).
        vector_size: k, the length of each document vector.
        epochs: passes over the corpus (the learning rate falls linearly from 0.025).
        min_count: tokens seen fewer times in the corpus are dropped.
        sample: subsampling threshold: frequent tokens are kept with a chance of about
            sqrt(sample / frequency), which saves time and weighs rare tokens up.
        negative: K, noise tokens per occurrence.
        seed: the initial vectors and the sampling; with ``workers > 1`` the threads'
            interleaving still makes runs differ slightly.
        workers: threads.

    Returns:
        The model, its output vectors, the subsampling and noise distributions, the time.

    Raises:
        TypeError: ``corpus`` is not a :class:`PretrainingCorpus`.
        ValueError: a size or count is out of range.
    """
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    if not isinstance(corpus, PretrainingCorpus):
        raise TypeError(
            "pretrain takes the corpus of build_corpus (which leaves out every validation "
            f"and test text), got {type(corpus).__name__}."
        )
    for name, value, low in (
        ("vector_size", vector_size, 1),
        ("epochs", epochs, 1),
        ("min_count", min_count, 1),
        ("negative", negative, 1),
        ("workers", workers, 1),
        ("seed", seed, 0),
    ):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    if not 0 < sample < 1:
        raise ValueError(f"sample must be a number between 0 and 1, got {sample!r}.")
    start = time.perf_counter()
    tagged = [TaggedDocument(tokens, [i]) for i, tokens in enumerate(corpus.documents)]
    model = Doc2Vec(
        dm=0,  # PV-DBOW: the document vector alone predicts each token
        vector_size=vector_size,
        negative=negative,
        hs=0,
        min_count=min_count,
        sample=sample,
        epochs=epochs,
        workers=workers,
        seed=seed,
    )
    model.build_vocab(tagged)
    model.train(tagged, total_examples=len(tagged), epochs=epochs)
    seconds = time.perf_counter() - start
    counts = np.array([model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key], float)
    # gensim keeps an occurrence of w when sample_int[w] exceeds a uniform 32-bit number.
    keep = (
        np.array([model.wv.get_vecattr(w, "sample_int") for w in model.wv.index_to_key], float)
        / 2.0**32
    )
    noise = counts**model.ns_exponent
    return PretrainedVectors(
        model=model,
        tokens=list(model.wv.index_to_key),
        output_vectors=np.asarray(model.syn1neg, dtype=np.float32),
        keep=np.minimum(keep, 1.0),
        noise=noise / noise.sum(),
        negative=int(negative),
        seconds=seconds,
        bigrams=corpus.bigrams,
    )


# ------------------------------------------------------------------ inference


def dbow_objective(
    d: np.ndarray, positive: np.ndarray, negative: np.ndarray
) -> tuple[float, np.ndarray]:
    """The negative-sampling loss of one document vector and its gradient.

    loss = -sum_t log sigma(d . u_t) - sum_t sum_n log sigma(-d . u_tn)

    Args:
        d: (k,) the document vector.
        positive: (T, k) output vectors of the document's T tokens.
        negative: (T, K, k) output vectors of the K noise tokens drawn for each.

    Returns:
        (loss, gradient of the loss with respect to d, shape (k,)).
    """
    d = np.asarray(d, dtype=float)
    s_pos = np.asarray(positive, dtype=float) @ d  # (T,)
    s_neg = np.asarray(negative, dtype=float) @ d  # (T, K)
    # log sigma(x) = -log(1 + exp(-x)), computed stably with logaddexp.
    loss = float(np.logaddexp(0.0, -s_pos).sum() + np.logaddexp(0.0, s_neg).sum())
    gradient = -(1.0 / (1.0 + np.exp(s_pos))) @ positive + np.einsum(
        "tn,tnk->k", 1.0 / (1.0 + np.exp(-s_neg)), negative
    )
    return loss, gradient


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # = 1 / (1 + exp(-x)), without overflow


def infer_vectors(
    vectors: PretrainedVectors,
    documents: Sequence[Sequence[str]],
    epochs: int | None = None,
    seed: int = 0,
    workers: int = 2,
) -> np.ndarray:
    """Vectors of new documents, with the pretrained output vectors held fixed (gensim).

    For each document, gensim's ``infer_vector`` starts d at small pseudo-random numbers
    (derived from the document's tokens) and runs ``epochs`` passes of stochastic gradient
    descent on the document's loss L(d) over its subsampled tokens and their noise tokens,
    the learning rate falling linearly from 0.025 to 0.0001; nothing but d changes.
    Documents are shared between ``workers`` threads by position (document i goes to thread
    i mod workers), each with its own random stream seeded from ``seed``, so that a run
    repeats exactly whatever the threads' timing. gensim's compiled training loop releases
    Python's global lock, so two threads use both cores. Tokens outside the vocabulary are
    ignored.

    Args:
        vectors: from :func:`pretrain`.
        documents: n token lists (:func:`review_tokens` of each review).
        epochs: passes per document; None: as many as pretraining made over the corpus.
        seed: the noise draws and the subsampling.
        workers: threads.

    Returns:
        (n, k) float32.

    Raises:
        TypeError: ``documents`` is not a list of token lists.
        ValueError: ``epochs``, ``seed`` or ``workers`` is out of range.
    """
    import copy
    from concurrent.futures import ThreadPoolExecutor

    if isinstance(documents, str) or (len(documents) and isinstance(documents[0], str)):
        raise TypeError(
            "infer_vectors takes a list of token lists: [review_tokens(t) for t in texts]."
        )
    epochs = vectors.model.epochs if epochs is None else epochs
    for name, value, low in (("epochs", epochs, 1), ("workers", workers, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}.")
    documents = [list(tokens) for tokens in documents]
    result = np.zeros((len(documents), vectors.output_vectors.shape[1]), dtype=np.float32)

    def work(part: int) -> None:
        # A shallow copy shares the (read-only) vectors but has its own random stream.
        model = copy.copy(vectors.model)
        model.random = np.random.RandomState([seed, part])
        for i in range(part, len(documents), workers):
            result[i] = model.infer_vector(documents[i], epochs=epochs)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(work, range(workers)))
    return result


# ------------------------------------------------------------------ using the labels


@dataclass
class LogisticRegression:
    """p = sigmoid(((x - mean) / scale) . w + b), fitted by :func:`fit_logistic`.

    Shapes: k features; mean, scale, w (k,).
    """

    w: np.ndarray
    b: float
    mean: np.ndarray
    scale: np.ndarray
    l2: float

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        """(n,) log-odds of the positive class for x (n, k)."""
        x = np.asarray(x, dtype=float)
        return ((x - self.mean) / self.scale) @ self.w + self.b

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n,) P(positive) for x (n, k)."""
        return _sigmoid(self.log_odds(x))


def fit_logistic(
    x: np.ndarray, y: Sequence[int] | np.ndarray, l2: float = 1.0, iterations: int = 50
) -> LogisticRegression:
    """An L2-regularised logistic regression on standardised features, by Newton's method.

    Minimises sum_i log(1 + exp(-(2 y_i - 1) z_i)) + l2 / 2 |w|^2 with z = x_std . w + b (the
    bias is not penalised). Deterministic: no seed, no learning rate.

    Args:
        x: (n, k) features; y: (n,) labels 0/1.
        l2: the penalty (> 0 makes the minimum unique even for separable data).
        iterations: at most this many Newton steps (it stops when a step changes < 1e-8).

    Returns:
        The fitted model.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.ndim != 2 or len(x) != len(y):
        raise ValueError(f"x must be (n, k) and y (n,), got {x.shape} and {y.shape}.")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("y must hold 0/1 labels only.")
    if not l2 > 0:
        raise ValueError(f"l2 must be > 0, got {l2!r}.")
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    theta = np.zeros(z.shape[1])
    penalty = np.full(z.shape[1], l2)
    penalty[-1] = 0.0
    for _ in range(iterations):
        p = _sigmoid(z @ theta)
        gradient = z.T @ (p - y) + penalty * theta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty) + 1e-9 * np.eye(len(theta))
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return LogisticRegression(theta[:-1], float(theta[-1]), mean, scale, float(l2))


def logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p clipped to [1e-7, 1 - 1e-7] (float32 probabilities saturate)."""
    p = np.clip(np.asarray(p, dtype=float), 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def combine_log_odds(z_bag: np.ndarray, z_vectors: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) z_bag + weight z_vectors: the combined log-odds, (n,)."""
    return (1.0 - weight) * np.asarray(z_bag, float) + weight * np.asarray(z_vectors, float)


def choose_weight(
    z_bag: np.ndarray, z_vectors: np.ndarray, y: np.ndarray, weights: Iterable[float]
) -> tuple[float, np.ndarray]:
    """The weight of :func:`combine_log_odds` with the highest accuracy on (validation) data.

    Ties go to the smallest weight (the bag alone is the simpler model).

    Returns:
        (the weight, the accuracy of every weight in order).
    """
    weights = list(weights)
    y = np.asarray(y)
    accuracy = np.array(
        [np.mean((combine_log_odds(z_bag, z_vectors, w) > 0) == y) for w in weights]
    )
    return float(weights[int(np.argmax(accuracy))]), accuracy


def nearest(
    vectors: np.ndarray, query: np.ndarray, k: int = 5, exclude: Iterable[int] = ()
) -> list[tuple[int, float]]:
    """The k rows of ``vectors`` (n, d) of highest cosine similarity with ``query`` (d,).

    Returns:
        (row, cosine) pairs, most similar first, without the rows in ``exclude``.
    """
    vectors = np.asarray(vectors, dtype=float)
    query = np.asarray(query, dtype=float)
    norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(query)
    cosine = np.divide(vectors @ query, norms, out=np.zeros(len(vectors)), where=norms > 0)
    for row in exclude:
        cosine[row] = -np.inf
    order = np.argsort(-cosine, kind="stable")[:k]
    return [(int(i), float(cosine[i])) for i in order]
