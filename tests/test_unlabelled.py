"""Chapter 6: the unlabelled reviews, the pretraining corpus that never holds a held-out text,
PV-DBOW inference, the classifiers and the combination, and the notebook's discipline."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import data_fakes as fakes
import numpy as np
import pytest

from utils import doc_vectors as dv
from utils.data import DataError, cache
from utils.data import unlabelled as unl

REAL_DATA = os.environ.get("COURSE_DATA_DIR")
needs_data = pytest.mark.skipif(
    not REAL_DATA, reason="needs COURSE_DATA_DIR with the aclImdb archive"
)

UNLABELLED = [
    "An odd little film.<br /><br />I liked the score.",
    "Never again. The worst!",
    "It was fine,so I was told.",  # a stripped line break glued two sentences together
]


def _members(unsup: dict[str, bytes] | None = None) -> dict[str, bytes]:
    members = fakes.reviews()
    if unsup is None:
        unsup = {f"aclImdb/train/unsup/{i}_0.txt": t.encode() for i, t in enumerate(UNLABELLED)}
    members.update(unsup)
    return members


@pytest.fixture
def small_dir(tmp_path, monkeypatch):
    """COURSE_DATA_DIR and COURSE_CACHE_DIR in tmp_path; 3 labelled per class, 3 unlabelled."""
    from utils import data

    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data.archive, "REVIEWS_PER_CLASS", fakes.PER_CLASS)
    monkeypatch.setattr(unl, "UNLABELLED_REVIEWS", len(UNLABELLED))
    return tmp_path


def _write(directory: Path, members) -> Path:
    return fakes.write(directory / "aclImdb_v1.tar.gz", fakes.gz(fakes.tar_bytes(members)))


# ------------------------------------------------------------------ the loader


def test_the_unlabelled_reviews_load_in_id_order_with_or_without_line_breaks(small_dir):
    _write(small_dir, _members())
    assert unl.load_imdb_unlabelled_texts() == UNLABELLED


def test_the_second_load_reads_the_cache_and_a_new_archive_gets_its_own(small_dir, monkeypatch):
    archive = _write(small_dir, _members())
    first = unl.load_imdb_unlabelled_texts()
    assert list((small_dir / "cache").glob("imdb-unsup-*.npz"))

    def no_archive(*args, **kwargs):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(unl, "read_unlabelled_archive", no_archive)
    assert unl.load_imdb_unlabelled_texts() == first
    monkeypatch.undo()
    monkeypatch.setenv("COURSE_DATA_DIR", str(small_dir))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(small_dir / "cache"))
    monkeypatch.setattr(unl, "UNLABELLED_REVIEWS", len(UNLABELLED))
    from utils import data

    monkeypatch.setattr(data.archive, "REVIEWS_PER_CLASS", fakes.PER_CLASS)
    changed = {f"aclImdb/train/unsup/{i}_0.txt": f"review {i}".encode() for i in range(3)}
    _write(small_dir, _members(changed))
    assert archive.exists()
    assert unl.load_imdb_unlabelled_texts() == ["review 0", "review 1", "review 2"]


def test_a_damaged_cache_is_discarded_with_a_warning(small_dir):
    _write(small_dir, _members())
    unl.load_imdb_unlabelled_texts()
    (path,) = (small_dir / "cache").glob("imdb-unsup-*.npz")
    bad = {"text_bytes": np.zeros(5, np.uint8), "lengths": np.array([1, 1, 1])}
    # Without a digest: refused for that, whatever the arrays.
    np.savez(path, **bad)
    with pytest.warns(cache.CacheWarning, match="no content digest"):
        assert unl.load_imdb_unlabelled_texts() == UNLABELLED
    # With a matching digest: the arrays themselves are checked.
    np.savez(path, **bad, digest=np.array(cache.content_digest(path.name, bad)))
    with pytest.warns(cache.CacheWarning, match="do not add up"):
        assert unl.load_imdb_unlabelled_texts() == UNLABELLED
    # Changed behind the digest's back (a review edited, saved again): refused.
    good = {k: v for k, v in np.load(path).items() if k != "digest"}
    digest = np.load(path)["digest"]
    edited = good["text_bytes"].copy()
    edited[0] ^= 0x20
    np.savez(path, text_bytes=edited, lengths=good["lengths"], digest=digest)
    with pytest.warns(cache.CacheWarning, match="do not match the digest"):
        assert unl.load_imdb_unlabelled_texts() == UNLABELLED


@pytest.mark.parametrize(
    "unsup, message",
    [
        (
            {"aclImdb/train/unsup/0_0.txt": b"a", "aclImdb/train/unsup/1_0.txt": b"b"},
            "holds 2 reviews",
        ),
        (
            {f"aclImdb/train/unsup/{i}_0.txt": b"x" for i in (0, 1, 7)},
            "ids run from 0 to 2",
        ),
        (
            {f"aclImdb/train/unsup/{i}_{r}.txt": b"x" for i, r in ((0, 0), (1, 0), (2, 8))},
            "has the rating 8",
        ),
        (
            {f"aclImdb/train/unsup/{i}_0.txt": t for i, t in enumerate([b"a", b"\xff\xfe", b"c"])},
            "not valid UTF-8",
        ),
    ],
)
def test_bad_unlabelled_reviews_are_refused(small_dir, unsup, message):
    archive = _write(small_dir, _members(unsup))
    with pytest.raises(DataError, match=message) as error:
        unl.load_imdb_unlabelled_texts()
    assert str(archive) in str(error.value) and "good copy" in str(error.value)


def test_a_repeated_member_an_oversized_review_and_a_truncated_archive_are_refused(
    small_dir, monkeypatch
):
    members = list(_members().items()) + [("aclImdb/train/unsup/1_0.txt", b"again")]
    _write(small_dir, members)
    with pytest.raises(DataError, match="appears twice"):
        unl.load_imdb_unlabelled_texts()
    archive = _write(small_dir, _members())
    monkeypatch.setattr(unl.imdb_archive, "MAX_REVIEW_BYTES", 10)
    with pytest.raises(DataError, match="bytes"):
        unl.read_unlabelled_archive(archive, 3)
    monkeypatch.undo()
    whole = gzip.compress(fakes.tar_bytes(_members()))
    archive.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataError, match="truncated or corrupt"):
        unl.read_unlabelled_archive(archive, 3)


# ------------------------------------------------------------------ tokens and the corpus


def test_tokenize_follows_the_course_standardisation():
    import tensorflow as tf

    from utils.data import standardize

    texts = [
        "Don't miss it!<br /><br />A well-made, 10/10 film... really.",
        "It was fine,so I was told; (twice)",
        "  THE END  ",
    ]
    for text in texts:
        expected = standardize(tf.constant([text])).numpy()[0].decode().split()
        assert dv.tokenize(text) == expected
    assert dv.tokenize("Don't") == ["dont"]
    with pytest.raises(TypeError, match="string"):
        dv.tokenize(["a list"])


def test_review_tokens_are_words_then_adjacent_pairs():
    assert dv.review_tokens("Not good. Not bad!") == [
        "not", "good", "not", "bad", "not good", "good not", "not bad"
    ]  # fmt: skip
    assert dv.review_tokens("Not good.", bigrams=False) == ["not", "good"]
    assert dv.review_tokens("One") == ["one"] and dv.review_tokens("") == []


def test_text_key_ignores_line_breaks_space_and_case_only():
    official = "Great film.<br /><br />See it."
    stripped = "Great film.See it."
    assert dv.text_key(official) == dv.text_key(stripped) == dv.text_key("great film. see it.")
    assert dv.text_key("Great film. See it!") != dv.text_key(official)


def test_build_corpus_leaves_out_every_held_out_text():
    fit = ["A fit review.", "Shared with test.<br />Yes.", "Another fit review."]
    unlabelled = ["An unlabelled one.", "shared with test. yes.", "A validation text"]
    held_out = ["Shared with test.Yes.", "A validation text", "A test review nobody else has."]
    corpus = dv.build_corpus(fit, unlabelled, held_out)
    assert (corpus.n_fit, corpus.n_unlabelled) == (2, 1)
    assert (corpus.dropped_fit, corpus.dropped_unlabelled) == (1, 2)
    assert corpus.documents[0] == dv.review_tokens(fit[0])
    assert corpus.documents[-1] == dv.review_tokens(unlabelled[0])
    assert not set(corpus.keys) & {dv.text_key(t) for t in held_out}
    with pytest.raises(TypeError, match="one string"):
        dv.build_corpus("a review", [], [])
    with pytest.raises(ValueError, match="no document"):
        dv.build_corpus(["x"], [], ["x"])


def test_pretrain_accepts_only_the_corpus_builder_output():
    with pytest.raises(TypeError, match="build_corpus"):
        dv.pretrain([["some", "tokens"]])
    corpus = dv.build_corpus(["a b"], [], [])
    with pytest.raises(ValueError, match="vector_size"):
        dv.pretrain(corpus, vector_size=0)


# ------------------------------------------------------------------ the objective and inference


def test_dbow_objective_matches_its_formula_and_finite_differences():
    rng = np.random.default_rng(0)
    d = rng.normal(size=4)
    positive, negative = rng.normal(size=(3, 4)), rng.normal(size=(3, 2, 4))
    loss, gradient = dv.dbow_objective(d, positive, negative)
    sig = lambda x: 1 / (1 + np.exp(-x))  # noqa: E731
    expected = -np.log(sig(positive @ d)).sum() - np.log(sig(-(negative @ d))).sum()
    assert loss == pytest.approx(expected)
    numeric = np.array(
        [
            (
                dv.dbow_objective(d + e, positive, negative)[0]
                - dv.dbow_objective(d - e, positive, negative)[0]
            )
            / 2e-6
            for e in 1e-6 * np.eye(4)
        ]
    )
    np.testing.assert_allclose(gradient, numeric, rtol=1e-5, atol=1e-7)


def _toy_corpus(n: int = 300, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Reviews from two topics with distinct words, labels = topic."""
    rng = np.random.default_rng(seed)
    words = [[f"good{i}" for i in range(30)], [f"bad{i}" for i in range(30)]]
    common = [f"the{i}" for i in range(20)]
    texts, labels = [], []
    for _ in range(n):
        label = int(rng.integers(2))
        chosen = list(rng.choice(words[label], 12)) + list(rng.choice(common, 12))
        rng.shuffle(chosen)
        texts.append(" ".join(chosen))
        labels.append(label)
    return texts, np.array(labels)


@pytest.fixture(scope="module")
def toy_vectors():
    texts, labels = _toy_corpus()
    corpus = dv.build_corpus(texts[:200], [], texts[200:], bigrams=False)
    vectors = dv.pretrain(
        corpus, vector_size=8, epochs=20, min_count=1, sample=0.05, workers=1, seed=0
    )
    return texts, labels, vectors


def test_pretraining_and_inference_separate_topics_without_labels(toy_vectors):
    texts, labels, vectors = toy_vectors
    assert vectors.output_vectors.shape == (len(vectors.tokens), 8)
    assert np.isclose(vectors.noise.sum(), 1) and ((vectors.keep > 0) & (vectors.keep <= 1)).all()
    docs = [dv.review_tokens(t, bigrams=False) for t in texts]
    inferred = dv.infer_vectors(vectors, docs, epochs=10)
    assert inferred.shape == (300, 8) and inferred.dtype == np.float32
    model = dv.fit_logistic(inferred[:200], labels[:200])
    assert np.mean((model.log_odds(inferred[200:]) > 0) == labels[200:]) > 0.95
    # A document of unknown tokens keeps its small random start, as in gensim.
    assert np.all(np.abs(dv.infer_vectors(vectors, [["unknown", "words"]])) <= 0.5 / 8)
    with pytest.raises(TypeError, match="token lists"):
        dv.infer_vectors(vectors, ["a review as a string"])


def test_inference_raises_the_objective(toy_vectors):
    texts, _, vectors = toy_vectors
    doc = dv.review_tokens(texts[250], bigrams=False)
    ids = [vectors.index[t] for t in doc]
    rng = np.random.default_rng(1)
    noise = rng.choice(len(vectors.tokens), size=(len(ids), 5), p=vectors.noise)
    U = vectors.output_vectors.astype(float)

    def loss(d):
        return dv.dbow_objective(d, U[ids], U[noise])[0]

    inferred = dv.infer_vectors(vectors, [doc], epochs=10)[0]
    assert loss(inferred) < loss(np.zeros(8)) - 1.0
    # The same inference is reproducible from its seed.
    np.testing.assert_array_equal(inferred, dv.infer_vectors(vectors, [doc], epochs=10)[0])


# ------------------------------------------------------------------ classifiers and combination


def test_fit_logistic_finds_the_penalised_optimum():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 3)) * [1.0, 5.0, 0.1] + [0.0, 2.0, -1.0]
    y = (x @ [1.0, -0.3, 4.0] + rng.normal(size=400) > -3.0).astype(int)
    model = dv.fit_logistic(x, y, l2=2.0)
    z = (x - model.mean) / model.scale
    p = model.predict_proba(x)
    # At the optimum the gradient vanishes: z^T (p - y) + l2 w = 0, sum(p - y) = 0.
    np.testing.assert_allclose(z.T @ (p - y) + 2.0 * model.w, 0, atol=1e-6)
    assert abs(np.sum(p - y)) < 1e-6
    with pytest.raises(ValueError, match="0/1"):
        dv.fit_logistic(x, y + 1)


def test_combination_and_the_choice_of_weight():
    z_bag = np.array([2.0, -1.0, 1.0, -0.2])
    z_vec = np.array([-1.0, -2.0, -1.0, 1.0])
    np.testing.assert_allclose(dv.combine_log_odds(z_bag, z_vec, 0.25), 0.75 * z_bag + 0.25 * z_vec)
    y = np.array([1, 0, 1, 1])
    weight, accuracy = dv.choose_weight(z_bag, z_vec, y, [0.0, 0.2, 0.5, 1.0])
    np.testing.assert_allclose(accuracy, [0.75, 1.0, 0.75, 0.5])  # w = 0.5: z = 0 is negative
    assert weight == 0.2
    assert dv.choose_weight(z_bag, z_bag, y, [0.3, 0.1])[0] == 0.3  # a tie keeps the first
    np.testing.assert_allclose(dv.logit([0.5, 1.0]), [0.0, np.log(1 - 1e-7) - np.log(1e-7)])


def test_nearest_by_cosine():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, 0.0]])
    assert [i for i, _ in dv.nearest(vectors, vectors[0], k=2, exclude=[0])] == [1, 2]


# ------------------------------------------------------------------ real data


@pytest.mark.slow  # reads all 100,000 reviews: left out of `make test-fast`
@needs_data
def test_the_real_unlabelled_reviews_and_a_corpus_without_held_out_text():
    """No validation or test text reaches pretraining, checked on the real reviews."""
    from utils.data import load_imdb_texts

    texts = unl.load_imdb_unlabelled_texts()
    assert len(texts) == 50_000 and len(set(map(dv.text_key, texts))) > 49_000
    (train, _), (test, _) = load_imdb_texts()
    fit, validation = train[:20_000], train[20_000:]
    corpus = dv.build_corpus(fit, texts, validation + test, bigrams=False)
    held_out = {dv.text_key(t) for t in validation + test}
    assert not held_out & set(corpus.keys)
    # The archive repeats some reviews across its parts: they are really left out.
    assert corpus.dropped_unlabelled > 0 and corpus.dropped_fit > 0
    assert corpus.n_fit + corpus.dropped_fit == 20_000
    assert corpus.n_unlabelled + corpus.dropped_unlabelled == 50_000
