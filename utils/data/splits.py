"""Validation splits that keep every movie's reviews on one side.

aclImdb's train and test splits share no movie (the archive's README), and a movie has
up to 30 reviews. A validation split drawn review by review puts most movies on both
sides, so it rewards remembering movies (names, actors, plot words) that the test set
never shows, and its accuracy overstates the test accuracy. Splitting by movie makes
validation look like test.
"""

from __future__ import annotations

import numbers

import numpy as np


def movie_disjoint_split(
    movies: np.ndarray, validation_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split reviews into a fitting and a validation part with no movie in both.

    The movies are visited in a random order drawn from ``seed``; each one goes to
    validation, with all its reviews, if it still fits in ``target =
    round(validation_fraction * n)`` reviews, else to the fitting part. So validation has
    at most ``target`` reviews, and fewer only by less than the review count of every
    movie in the fitting part: exactly ``target`` whenever a one-review movie ends up in
    the fitting part, as it does on aclImdb (20 % of the 25,000 training reviews: 5,000
    exactly).

    Args:
        movies: (n,) integer movie ids, one per review (e.g. from
            :func:`utils.data.load_imdb_movies`), n >= 2.
        validation_fraction: the share of reviews wanted in validation, in (0, 1).
        seed: a non-negative integer; the same seed and movies give the same split.

    Returns:
        ``(fit_index, validation_index)``: sorted (n - m,) and (m,) int64 indices into
        ``movies``, together covering every index once, e.g.
        ``x_train[fit_index]``, ``x_train[validation_index]``.

    Raises:
        TypeError: ``movies`` is not an integer array, or the fraction or seed is not a number
            of the right kind.
        ValueError: ``movies`` is not 1-D, the fraction is not in (0, 1), or a part would
            be empty (too few reviews or movies, or every movie larger than the target).
    """
    movies = np.asarray(movies)
    if movies.ndim != 1:
        raise ValueError(
            f"movies must be a 1-D array of one movie id per review, got shape {movies.shape}."
        )
    if movies.dtype == bool or movies.dtype.kind not in "iu":
        raise TypeError(f"movies must hold integer movie ids, got {movies.dtype} values.")
    if isinstance(validation_fraction, bool) or not isinstance(validation_fraction, numbers.Real):
        raise TypeError(
            f"validation_fraction must be a number in (0, 1), got {validation_fraction!r}."
        )
    if not 0 < validation_fraction < 1:  # also refuses NaN
        raise ValueError(
            f"validation_fraction must be in (0, 1), e.g. 0.2, got {validation_fraction}."
        )
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be a non-negative integer, got {seed!r}.")
    if seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed}.")
    n = len(movies)
    target = round(validation_fraction * n)
    if not 0 < target < n:
        raise ValueError(
            f"validation_fraction={validation_fraction} of {n} reviews leaves a part empty "
            f"(validation would get {target}); use more reviews or another fraction."
        )
    ids, inverse, counts = np.unique(movies, return_inverse=True, return_counts=True)
    if len(ids) < 2:
        raise ValueError(
            f"all {n} reviews are of one movie, so no split keeps each movie on one side."
        )
    in_validation = np.zeros(len(ids), dtype=bool)
    size = 0
    for movie in np.random.default_rng(seed).permutation(len(ids)):
        if size + counts[movie] <= target:
            in_validation[movie] = True
            size += int(counts[movie])
    if size == 0:
        raise ValueError(
            f"no movie fits in a validation part of {target} reviews: the smallest movie has "
            f"{counts.min()} reviews; use a larger validation_fraction."
        )
    validation = in_validation[inverse]
    return np.flatnonzero(~validation).astype(np.int64), np.flatnonzero(validation).astype(np.int64)
