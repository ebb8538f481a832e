"""Feedback checks that students call right after each exercise.

Each ``check_*`` function runs the student's function on the course's example data
and on random inputs, prints one success line when everything agrees, and otherwise
raises :class:`CheckFailed` with a message aimed at the most likely mistake.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


class CheckFailed(AssertionError):
    """The student's function gave a wrong result; the message says what to look at."""


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """Call a student's function, turning a stub's NotImplementedError into a friendly hint."""
    name = getattr(function, "__name__", repr(function))
    try:
        return function(*args)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not implemented yet: replace the `raise NotImplementedError` line "
            "with your code, run the cell, then run this check again."
        ) from None


def _passed(message: str) -> None:
    print(f"\N{CHECK MARK} {message}")


def _close(actual: Any, expected: np.ndarray, atol: float = 1e-6) -> bool:
    actual = np.asarray(actual, dtype=float)
    return actual.shape == expected.shape and bool(np.allclose(actual, expected, atol=atol))


def _require_shape(name: str, actual: Any, expected_shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(actual)
    if array.shape != expected_shape:
        raise CheckFailed(
            f"`{name}` has shape {array.shape}, expected {expected_shape}. "
            "Check the order of the factors in your matrix products and what you return."
        )
    return array.astype(float)


# ------------------------------------------------------------ chapter 1: attention


# ------------------------------------------------------------------ chapter 2: RNN


# ----------------------------------------------------------- chapter 4: parameters
