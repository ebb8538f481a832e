"""utils.data.splits: validation splits that keep every movie's reviews on one side."""

from __future__ import annotations

import os

import numpy as np
import pytest

from utils import data

REAL_DATA = os.environ.get("COURSE_DATA_DIR")


def _check(movies, fit, validation):
    """Sorted int64 indices covering every review once, no movie on both sides."""
    for part in (fit, validation):
        assert part.dtype == np.int64 and len(part) > 0
        assert (np.diff(part) > 0).all()
    np.testing.assert_array_equal(
        np.sort(np.concatenate([fit, validation])), np.arange(len(movies))
    )
    assert not set(movies[fit].tolist()) & set(movies[validation].tolist())


@pytest.fixture(scope="module")
def real_movies():
    if not REAL_DATA:
        pytest.skip("set COURSE_DATA_DIR to the course data")
    return data.load_imdb_movies()


def test_no_movie_of_the_real_training_reviews_is_on_both_sides(real_movies):
    train, test = real_movies
    for seed in range(3):
        fit, validation = data.movie_disjoint_split(train, 0.2, seed=seed)
        _check(train, fit, validation)
        assert len(validation) == 5000 and len(fit) == 20000
    fit, validation = data.movie_disjoint_split(test, 0.1, seed=0)
    _check(test, fit, validation)
    assert len(validation) == 2500


def test_the_split_is_reproducible_from_its_seed_and_differs_between_seeds():
    movies = np.random.default_rng(1).integers(0, 400, size=3000)
    first = data.movie_disjoint_split(movies, 0.25, seed=7)
    again = data.movie_disjoint_split(movies.copy(), 0.25, seed=np.int64(7))
    other = data.movie_disjoint_split(movies, 0.25, seed=8)
    for got, want in zip(first, again, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(first[1], other[1])


def test_validation_size_is_the_target_or_short_by_less_than_any_fit_movie():
    rng = np.random.default_rng(0)
    for trial in range(50):
        n_movies = int(rng.integers(2, 60))
        counts = rng.integers(1, 31, size=n_movies)
        movies = np.repeat(rng.permutation(10_000)[:n_movies], counts)
        fraction = float(rng.uniform(0.05, 0.95))
        target = round(fraction * len(movies))
        try:
            fit, validation = data.movie_disjoint_split(movies, fraction, seed=trial)
        except ValueError as error:
            assert "no movie fits" in str(error) or "leaves a part empty" in str(error)
            continue
        _check(movies, fit, validation)
        shortfall = target - len(validation)
        fit_counts = np.unique(movies[fit], return_counts=True)[1]
        assert 0 <= shortfall < fit_counts.min()


def test_movies_of_one_review_give_the_exact_target():
    movies = np.arange(10)
    fit, validation = data.movie_disjoint_split(movies, 0.3, seed=0)
    assert len(validation) == 3 and len(fit) == 7
    # A movie is placed whole or not at all: round(0.5 * 5) = 2 reviews cannot take movie 5's
    # three, so validation is movies 6 and 7, whatever the seed.
    movies = np.array([5, 5, 5, 6, 7])
    for seed in range(10):
        fit, validation = data.movie_disjoint_split(movies, 0.5, seed=seed)
        assert validation.tolist() == [3, 4] and fit.tolist() == [0, 1, 2]


@pytest.mark.parametrize(
    ("movies", "kwargs", "error", "message"),
    [
        (np.arange(10).reshape(2, 5), {}, ValueError, r"1-D array .* shape \(2, 5\)"),
        (np.arange(10.0), {}, TypeError, "integer movie ids, got float64"),
        (np.array([True, False] * 5), {}, TypeError, "integer movie ids, got bool"),
        (np.array(["tt1", "tt2"]), {}, TypeError, "integer movie ids"),
        (np.arange(10), {"validation_fraction": 0}, ValueError, r"in \(0, 1\)"),
        (np.arange(10), {"validation_fraction": 1.0}, ValueError, r"in \(0, 1\)"),
        (np.arange(10), {"validation_fraction": -0.2}, ValueError, r"in \(0, 1\)"),
        (np.arange(10), {"validation_fraction": float("nan")}, ValueError, r"in \(0, 1\)"),
        (np.arange(10), {"validation_fraction": "0.2"}, TypeError, "a number in"),
        (np.arange(10), {"validation_fraction": True}, TypeError, "a number in"),
        (np.arange(10), {"validation_fraction": 0.01}, ValueError, "leaves a part empty"),
        (np.arange(10), {"validation_fraction": 0.99}, ValueError, "leaves a part empty"),
        (np.array([], dtype=np.int64), {}, ValueError, "leaves a part empty"),
        (np.array([4, 4, 4, 4]), {}, ValueError, "all 4 reviews are of one movie"),
        (np.repeat([1, 2], 10), {"validation_fraction": 0.2}, ValueError, "no movie fits"),
        (np.arange(10), {"seed": -1}, ValueError, "non-negative integer"),
        (np.arange(10), {"seed": 1.5}, TypeError, "non-negative integer"),
        (np.arange(10), {"seed": None}, TypeError, "non-negative integer"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(movies, kwargs, error, message):
    with pytest.raises(error, match=message):
        data.movie_disjoint_split(movies, **kwargs)
