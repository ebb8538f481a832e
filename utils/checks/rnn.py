"""Checks for chapter 2: the RNN of Goodfellow et al. (2016), section 10.2, in NumPy.

Every student function is called on fresh copies of read-only example data, so a
function that changes its inputs can neither fool a check nor corrupt the next one. The
rules the exercises state (the ValueErrors, the empty sequence, "not np.tanh") are checked
as well, and the results for the example sentence are compared with the uuml package's
reference values, which the R assignment printed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from utils.checks._core import (
    CheckFailed,
    Student,
    agrees,
    as_array,
    as_sequence,
    close,
    expect_value_error,
    feedback_check,
    function_name,
    largest_difference,
    load_example,
    pristine,
    reject_known_mistakes,
    timed,
)

_UNIT_SHAPES = (
    "In rnn_unit, h_t_minus_one is a (4, 1) column, x_t a (1, 5) row, W is (4, 4), U is "
    "(4, 5) and b a (4, 1) column: a_t = b + W @ h_t_minus_one + U @ x_t.T is a (4, 1) column."
)
_ACTIVATION_SHAPES = "activation(a_t) works elementwise: it returns an array of the shape of a_t."
_OUTPUT_SHAPES = (
    "In output_rnn, h_t is a (4, 1) column, V is (3, 4) (outputs x hidden units) and c a "
    "(3, 1) column: o_t = c + V @ h_t is a (3, 1) column."
)
_SOFTMAX_SHAPES = (
    "softmax(o_t) has the shape of o_t: take the max and the sum over axis=0 with "
    "keepdims=True, so that each column is normalised on its own."
)
_LAYER_SHAPES = (
    "In rnn_layer, X is (T, 5), one embedding per row; x_t = X[t:t+1] is a (1, 5) row, h a "
    "(4, 1) column, U (4, 5), W (4, 4), V (3, 4), b (4, 1), c (3, 1). Return ht (T, 4) and "
    "yhat (T, 3), row t for token t."
)
_PARAMETERS = ("W", "V", "U", "b", "c")

# The uuml package's reference values for the example sentence (7 significant digits): a_1,
# h_1 and yhat_1 for "the", and h_t and yhat_t for "the quick brown".
_REF_A1 = pristine([[0.5819145], [-2.2686535], [-0.6410312], [1.4891931]])
_REF_H = pristine(
    [[0.52405551, -0.97882227, -0.5656013, 0.9031762],
     [-0.05951368, 0.03988226, 0.8241800, -0.6562744],
     [-0.08984008, 0.92822217, -0.1563247, -0.6657626]]
)  # fmt: skip
_REF_YHAT = pristine(
    [[0.3063613, 0.2930885, 0.4005502],
     [0.2838013, 0.3490452, 0.3671536],
     [0.2878002, 0.3666877, 0.3455121]]
)  # fmt: skip
_REF_ATOL = 1e-6  # the references are printed with 7 significant digits


def _compare_reference(label: str, actual: np.ndarray, reference: np.ndarray) -> None:
    """Fail unless ``actual`` matches a uuml reference value to its printed digits."""
    if not close(actual, reference, _REF_ATOL):
        raise CheckFailed(
            f"{label} does not match the uuml reference values: the "
            f"{largest_difference(actual, reference)}"
        )


def _rnn_example() -> Any:
    from utils.data import load_rnn_example

    return load_example(load_rnn_example, ("embeddings", "W", "U", "V", "b", "c"))


def _rnn_reference(
    X: np.ndarray,
    W: np.ndarray,
    U: np.ndarray,
    V: np.ndarray,
    b: np.ndarray,
    c: np.ndarray,
    h0: np.ndarray | None = None,
    carry: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Goodfellow et al. (2016) eq. 10.8-10.11, written independently of the notebook.

    X: (T, d_input); W: (H, H); U: (H, d_input); V: (n_out, H); b: (H, 1); c: (n_out, 1).
    ``carry=False`` restarts every step from ``h0``, the mistake the checks recognise.
    Returns hidden states (T, H) and softmax outputs (T, n_out), one row per step.
    """
    h = np.zeros((W.shape[0], 1)) if h0 is None else h0
    start = h
    hs, ys = [], []
    for x in X:
        h = np.tanh(b + W @ (h if carry else start) + U @ x.reshape(-1, 1))
        o = c + V @ h
        e = np.exp(o - o.max())
        hs.append(h.ravel())
        ys.append((e / e.sum()).ravel())
    return np.array(hs), np.array(ys)


def _column_softmax(o: np.ndarray, shift: np.ndarray | float) -> np.ndarray:
    """exp(o - shift) normalised down each column: the right softmax when shift is the
    column maxima, a typical mistake otherwise."""
    exponentials = np.exp(o - shift)
    return exponentials / exponentials.sum(axis=0, keepdims=True)


@feedback_check
def check_rnn_unit(rnn_unit: Callable[..., Any]) -> None:
    """Check ``rnn_unit(h_t_minus_one, x_t, W, U, b)`` -> a_t, a (hidden, 1) column."""
    ex = _rnn_example()
    hidden = ex.W.shape[0]
    student = Student(rnn_unit, "h_t_minus_one x_t W U b", _UNIT_SHAPES)
    h0 = pristine(np.zeros((hidden, 1)))
    x1 = ex.embeddings[0:1]
    expected = ex.b + ex.W @ h0 + ex.U @ x1.T
    actual = as_array("a_t", student(h0, x1, ex.W, ex.U, ex.b), rnn_unit)
    if actual.shape == (1, hidden) and close(actual.T, expected):
        raise CheckFailed(
            "You return a_t as a 1 x 4 row, the transpose of the answer. In Goodfellow's "
            "notation x_t is a column: compute U @ x_t.T (4 x 5 times 5 x 1), not x_t @ U.T, "
            "so that a_t is a 4 x 1 column like b and h."
        )
    array = as_array("a_t", actual, rnn_unit, (hidden, 1), _UNIT_SHAPES, finite=True)
    if close(array, expected - ex.b):
        raise CheckFailed("a_t is missing the bias: a_t = b + W h_{t-1} + U x_t.")
    if close(array, expected - 2 * ex.b):
        raise CheckFailed("a_t subtracts the bias; add it: a_t = b + W h_{t-1} + U x_t.")
    if not agrees(array, expected):
        raise CheckFailed(
            "a_1 for 'the' (from h_0 = 0) should be b + W h_0 + U x_1, with U (4 x 5) "
            f"multiplying the embedding as a column; the {largest_difference(array, expected)}"
        )
    _compare_reference("a_1 for 'the'", array, _REF_A1)
    # h_0 = 0 hides the W term, so try a non-zero previous state as well.
    h = pristine(np.random.default_rng(0).normal(size=(hidden, 1)))
    expected = ex.b + ex.W @ h + ex.U @ x1.T
    array = as_array(
        "a_t", student(h, x1, ex.W, ex.U, ex.b), rnn_unit, (hidden, 1), _UNIT_SHAPES, finite=True
    )
    if close(array, ex.b + ex.U @ x1.T):
        raise CheckFailed(
            "Right for h_0 = 0, but the previous hidden state is ignored: add W @ h_t_minus_one."
        )
    if close(array, ex.b + ex.W.T @ h + ex.U @ x1.T):
        raise CheckFailed("Use W @ h_t_minus_one, not W.T @ h_t_minus_one (W is hidden x hidden).")
    if not agrees(array, expected):
        raise CheckFailed(
            "Right for h_0 = 0 but wrong for a non-zero previous hidden state: check the term "
            f"W h_(t-1). The {largest_difference(array, expected)}"
        )
    changed = [name for name in student.changed if name in ("W", "U", "b")]
    if changed:
        name = changed[0]
        raise CheckFailed(
            f"a_t is right, but `{function_name(rnn_unit)}` changes its argument {name} in place "
            f"(e.g. `a = {name}` then `a += ...`: `a = {name}` gives the same array a second "
            "name, it does not copy). rnn_layer passes the same W, U and b at every step, so "
            f"each step would see a different {name}. Build a new array instead: "
            "`a = b + W @ h_t_minus_one + U @ x_t.T`."
        )
    # The rule the exercise states: shapes that do not fit U are a ValueError. Any ValueError
    # counts (NumPy's own, from `@` or `+`, names the sizes that differ).
    fix = "Compare the shapes with U's at the top of rnn_unit and raise ValueError(f'...')."
    bad = pristine(np.zeros((3, 1)))
    for case, args in (
        ("x_t of shape (1, 4) with U (4, 5)", (h0, x1[:, :4], ex.W, ex.U, ex.b)),
        ("W of shape (3, 3) with U (4, 5)", (h0, x1, ex.W[:3, :3], ex.U, ex.b)),
        ("b of shape (3, 1) with U (4, 5)", (h0, x1, ex.W, ex.U, bad)),
        ("h_t_minus_one of shape (3, 1) with U (4, 5)", (bad, x1, ex.W, ex.U, ex.b)),
    ):
        expect_value_error(rnn_unit, args, case, (), fix)
    student.passed(
        "rnn_unit: a_1 matches the uuml reference values, a step from a non-zero hidden "
        "state agrees with b + W h + U x, and shapes that do not fit raise ValueError."
    )


@contextmanager
def _spy_on_tanh() -> Iterator[list[str]]:
    """Record calls of np.tanh and math.tanh made while the block runs."""
    calls: list[str] = []
    np_tanh, math_tanh = np.tanh, math.tanh

    def np_spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("np.tanh")
        return np_tanh(*args, **kwargs)

    def math_spy(x: float) -> float:
        calls.append("math.tanh")
        return math_tanh(x)

    np.tanh, math.tanh = np_spy, math_spy
    try:
        yield calls
    finally:
        np.tanh, math.tanh = np_tanh, math_tanh


def _tanh_names(function: Callable[..., Any]) -> list[str]:
    """The names under which ``function``'s code reaches np.tanh or math.tanh through its
    globals (``from numpy import tanh`` escapes the spy on ``np.tanh``)."""
    tanhs = (np.tanh, math.tanh)
    code = getattr(function, "__code__", None)
    scope = getattr(function, "__globals__", {})
    names: list[str] = []
    pending = [code] if code is not None else []
    while pending:
        current = pending.pop()
        for name in current.co_names:
            if any(scope.get(name) is tanh for tanh in tanhs) and name not in names:
                names.append(name)
        pending.extend(const for const in current.co_consts if hasattr(const, "co_names"))
    return names


def _clip_point(inputs: np.ndarray, values: np.ndarray) -> float | None:
    """The c of a tanh computed on np.clip(a, -c, c): where ``values`` differ from tanh, they
    all equal +-tanh(c) for one c smaller than those |a|. None if that does not explain them."""
    with np.errstate(all="ignore"):
        inputs, values = inputs.ravel(), np.asarray(values, dtype=float).ravel()
        wrong = ~np.isclose(values, np.tanh(inputs), rtol=1e-9, atol=1e-12)
        if not wrong.any() or not np.all(np.isfinite(values[wrong])):
            return None
        if np.any(np.sign(values[wrong]) != np.sign(inputs[wrong])):
            return None
        points = np.arctanh(np.clip(np.abs(values[wrong]), 0.0, 1.0 - 1e-16))
    c = float(np.median(points))
    if np.allclose(points, c, rtol=1e-3) and np.all(np.abs(inputs[wrong]) > c * (1 - 1e-3)):
        return c
    return None


@feedback_check
def check_activation(activation: Callable[..., Any]) -> None:
    """Check ``activation(a)`` = tanh(a) elementwise, also for large |a|, without np.tanh."""
    not_tanh = (
        "the exercise asks for tanh from its definition, (e^a - e^-a) / (e^a + e^-a), "
        "rewritten with e^(-2|a|) so that no exponential overflows."
    )
    if activation is np.tanh or activation is math.tanh:
        raise CheckFailed(f"You passed np.tanh itself: {not_tanh}")
    aliases = _tanh_names(activation)
    if aliases:
        raise CheckFailed(
            f"`{function_name(activation)}` calls `{aliases[0]}`, which is np.tanh: {not_tanh}"
        )
    grid = pristine(np.linspace(-6, 6, 49).reshape(-1, 1))
    expected = np.tanh(grid)
    student = Student(activation, "a_t", _ACTIVATION_SHAPES)
    with _spy_on_tanh() as calls:
        result = student(grid)
    if calls:
        raise CheckFailed(f"`{student.name}` calls {calls[0]}: {not_tanh}")
    actual = as_array(
        "activation(a)", result, activation, grid.shape, _ACTIVATION_SHAPES, finite=True
    )
    large = pristine([[800.0], [-800.0], [1e4], [-1e4], [0.0], [30.0], [-30.0]])
    if not agrees(actual, expected):
        reject_known_mistakes(
            actual,
            [
                (np.abs(expected),
                 "activation(a) differs from tanh(a) for every a < 0: it is never negative, "
                 "but tanh(a) = -tanh(|a|) for a < 0. If you "
                 "compute with |a| (to keep e^(-2|a|) small), multiply by np.sign(a)."),
                (np.tanh(grid / 2),
                 "activation(a) is tanh(a / 2): with e^(-|a|) in place of e^(-2|a|) the "
                 "formula halves a. tanh(a) = (1 - e^(-2a)) / (1 + e^(-2a))."),
                (1 / (1 + np.exp(-grid)),
                 "activation(a) is the logistic sigmoid 1 / (1 + e^-a), not tanh; "
                 "tanh(a) = (e^a - e^-a) / (e^a + e^-a), between -1 and 1."),
                (np.tanh(2 * grid),
                 "activation(a) is tanh(2a): (1 - e^(-2a)) / (1 + e^(-2a)) is already tanh(a); "
                 "do not double a again."),
            ],
        )  # fmt: skip
        clip = _clip_point(grid, actual)
        if clip is not None:
            raise CheckFailed(
                f"activation(a) stops growing at |a| = {clip:.3g}: you clip a (np.clip) before "
                f"the formula, and tanh(6) = {np.tanh(6.0):.9f} is not tanh({clip:.3g}). "
                "Clipping avoids the overflow but changes the result; rewrite the formula with "
                "e^(-2|a|) <= 1 instead."
            )
        raise CheckFailed(
            "activation(a) differs from tanh(a) on [-6, 6]: the "
            f"{largest_difference(actual, expected)} tanh(a) = (e^a - e^-a) / (e^a + e^-a)."
        )
    values = as_array("activation(a)", student(large), activation, large.shape, _ACTIVATION_SHAPES)
    if not np.all(np.isfinite(values)):
        bad = ", ".join(
            f"activation({a:g}) = {v}"
            for a, v in zip(large.ravel(), values.ravel(), strict=True)
            if not np.isfinite(v)
        )
        negative_only = all(a < 0 for a, v in zip(large.ravel(), values.ravel(), strict=True)
                            if not np.isfinite(v))  # fmt: skip
        raise CheckFailed(
            f"{bad}: "
            + (
                "for negative a, e^(-2a) = e^(2|a|) overflows to inf and inf / inf = nan. "
                if negative_only
                else "e^800 overflows to inf and inf / inf = nan. "
            )
            + "Multiply numerator and denominator by e^-|a|, so that only e^(-2|a|) <= 1 "
            "is ever computed, and restore the sign with np.sign(a)."
        )
    if not agrees(values, np.tanh(large)):
        clip = _clip_point(large, values)
        if clip is not None:
            raise CheckFailed(
                f"activation(a) stops growing at |a| = {clip:.3g}: you clip a before the "
                f"formula, and tanh({clip:.3g}) = {np.tanh(clip):.12f} is not tanh(800) = 1 "
                "(to double precision). Clipping avoids the overflow but changes the result; "
                "rewrite the formula with e^(-2|a|) <= 1 instead."
            )
        raise CheckFailed(
            f"For a = {', '.join(f'{a:g}' for a in large.ravel())} the "
            f"{largest_difference(values, np.tanh(large))} Mind the sign for negative a."
        )
    with np.errstate(over="raise"):
        try:
            with timed(f"`{student.name}` on {large.shape}"):
                activation(np.array(large))
        except FloatingPointError:
            raise CheckFailed(
                "The values are right, but an exponential overflows on the way (NumPy warns "
                "'overflow encountered in exp'). Only ever compute e^(-2|a|)."
            ) from None
        except CheckFailed:
            raise
        except Exception:  # noqa: S110 (any other error was reported by the calls above)
            pass
    _compare_reference(
        "activation(a_1)",
        as_array(
            "activation(a_1)", student(_REF_A1), activation, _REF_A1.shape, _ACTIVATION_SHAPES
        ),
        _REF_H[:1].T,
    )
    student.passed(
        "activation equals np.tanh on [-6, 6], stays finite for |a| up to 10,000, and gives "
        "the uuml reference h_1 from a_1."
    )


@feedback_check
def check_output_rnn(output_rnn: Callable[..., Any]) -> None:
    """Check ``output_rnn(h_t, V, c)`` -> o_t = c + V h_t, an (n_out, 1) column."""
    ex = _rnn_example()
    n_out = ex.V.shape[0]
    h = pristine(np.tanh(np.random.default_rng(1).normal(size=(ex.W.shape[0], 1))))
    expected = ex.c + ex.V @ h
    student = Student(output_rnn, "h_t V c", _OUTPUT_SHAPES)
    actual = as_array("o_t", student(h, ex.V, ex.c), output_rnn)
    if actual.shape == (1, n_out) and close(actual.T, expected):
        raise CheckFailed("Return o_t as a column (3 x 1): V @ h_t, not h_t.T @ V.T.")
    if actual.shape == (n_out, n_out):
        raise CheckFailed(
            f"o_t has shape {actual.shape}: a (3, 1) column plus a (1, 3) row broadcasts to a "
            "3 x 3 matrix. Keep c and V @ h_t both (3, 1) columns: o_t = c + V @ h_t."
        )
    array = as_array("o_t", actual, output_rnn, expected.shape, _OUTPUT_SHAPES, finite=True)
    if close(array, expected - ex.c):
        raise CheckFailed("o_t is missing the output bias: o_t = c + V h_t.")
    if close(array, np.tanh(expected)):
        raise CheckFailed(
            "o_t is tanh(c + V h_t): the output layer has no activation of its own; "
            "o_t = c + V @ h_t, and the softmax comes after it."
        )
    if not agrees(array, expected):
        raise CheckFailed(
            "o_t should be c + V @ h_t (V is 3 x 4, h_t is 4 x 1); for a random h_t the "
            f"{largest_difference(array, expected)}"
        )
    # The rule the exercise states: shapes that do not fit V are a ValueError (any ValueError:
    # NumPy's own, from `@` or `+`, names the sizes that differ).
    fix = "Compare the shapes with V's at the top of output_rnn and raise ValueError(f'...')."
    for case, args in (
        ("h_t of shape (5, 1) with V (3, 4)", (pristine(np.ones((5, 1))), ex.V, ex.c)),
        ("c of shape (2, 1) with V (3, 4)", (h, ex.V, ex.c[:2])),
    ):
        expect_value_error(output_rnn, args, case, (), fix)
    student.passed("output_rnn gives o_t = c + V h_t, and shapes that do not fit raise ValueError.")


@feedback_check
def check_softmax_column(softmax: Callable[..., Any]) -> None:
    """Check ``softmax(o)`` over the output units, i.e. down each column of ``o``."""
    student = Student(softmax, "o_t", _SOFTMAX_SHAPES)
    o = pristine([[0.5], [-1.0], [2.0]])
    expected = np.exp(o) / np.exp(o).sum()
    actual = as_array("softmax(o)", student(o), softmax, o.shape, _SOFTMAX_SHAPES, finite=True)
    if np.allclose(actual, 1.0):
        raise CheckFailed(
            "Every entry is 1: you normalised over axis 1, but a column has one entry per row. "
            "The output units are the rows of o_t: sum over axis=0 (keepdims=True)."
        )
    if not agrees(actual, expected):
        raise CheckFailed(
            "softmax(o) should be exp(o) / sum(exp(o)) over the output units; for o = "
            f"[0.5, -1, 2] the {largest_difference(actual, expected)}"
        )
    several = pristine([[0.5, 3.0], [-1.0, 0.0], [2.0, -2.0]])
    values = as_array("softmax(o)", student(several), softmax, several.shape, _SOFTMAX_SHAPES)
    if not np.allclose(values.sum(axis=0), 1.0):
        raise CheckFailed(
            "With several columns (one output vector each) the columns must each sum to 1: "
            "sum over axis=0 with keepdims=True, not over the whole array."
        )
    # Column 0 overflows without a shift; column 1 underflows to 0 / 0 when the shift is the
    # maximum of the whole array; column 2 (a range of 1001) overflows when the shift is
    # the column's minimum; column 3 (mean and median 0) overflows unless it is the maximum.
    big = pristine(
        [[1000.0, 0.0, -1000.0, -1000.0], [1001.0, 1.0, 0.0, 1000.0], [1002.0, 2.0, 1.0, 0.0]]
    )
    values = as_array("softmax(o)", student(big), softmax, big.shape, _SOFTMAX_SHAPES)
    reject_known_mistakes(
        values,
        [
            (_column_softmax(big, 0.0),
             "softmax of the column [1000, 1001, 1002] is not finite: exp(1000) overflows. "
             "Subtract the largest entry first; softmax(o - max(o)) = softmax(o)."),
            (_column_softmax(big, big.max()),
             "With columns [1000, 1001, 1002] and [0, 1, 2] the second column breaks: you "
             "subtract the maximum of the whole array, so exp(-1000) underflows to 0 and you "
             "divide 0 by 0. Subtract each column's own maximum: o.max(axis=0, keepdims=True)."),
            (_column_softmax(big, big.min(axis=0, keepdims=True)),
             "The column [-1000, 0, 1] gives nan: you subtract each column's MINIMUM, so "
             "exp(1 + 1000) overflows. Subtract the column's maximum instead; then the largest "
             "exponent is exp(0) = 1 and nothing overflows."),
            (_column_softmax(big, big.mean(axis=0, keepdims=True)),
             "The column [-1000, 1000, 0] gives nan: you subtract each column's MEAN (or "
             "median; 0 for this column), so exp(1000) still overflows. Subtract the column's "
             "maximum: then no exponent is above 0."),
        ],
    )  # fmt: skip
    expected_big = _column_softmax(big, big.max(axis=0, keepdims=True))
    if not np.all(np.isfinite(values)):
        raise CheckFailed(
            f"For o =\n{big.astype(int)}\nyour softmax is not finite:\n{values}\nSubtract each "
            "column's "
            "maximum, o.max(axis=0, keepdims=True), before np.exp: no exponent is then above "
            "0."
        )
    if not agrees(values, expected_big):
        raise CheckFailed(
            f"For o =\n{big.astype(int)}\nthe {largest_difference(values, expected_big)}"
        )
    ex = _rnn_example()
    o_1 = pristine(ex.c + ex.V @ _REF_H[:1].T)
    yhat_1 = as_array("softmax(o_1)", student(o_1), softmax, o_1.shape, _SOFTMAX_SHAPES)
    _compare_reference("softmax(o_1) for 'the'", yhat_1, _REF_YHAT[:1].T)
    student.passed(
        "softmax normalises over the output units, is stable for large inputs, and gives "
        "the uuml reference yhat_1."
    )


@feedback_check
def check_rnn_layer(rnn_layer: Callable[..., Any]) -> None:
    """Check ``rnn_layer(X, W, V, U, b, c)`` -> (ht (T, hidden), yhat (T, n_out))."""
    ex = _rnn_example()
    X = ex.embeddings
    T, hidden, n_out = X.shape[0], ex.W.shape[0], ex.V.shape[0]
    args = (ex.W, ex.V, ex.U, ex.b, ex.c)
    student = Student(rnn_layer, "X W V U b c", _LAYER_SHAPES)
    parts = as_sequence(student(X, *args), rnn_layer, 2, "(ht, yhat)", "arrays")
    ht, yhat = (
        as_array(name, part, rnn_layer, part=True)
        for name, part in zip(("ht", "yhat"), parts, strict=True)
    )
    expected_h, expected_y = _rnn_reference(X, ex.W, ex.U, ex.V, ex.b, ex.c)
    if ht.size == hidden and close(ht.reshape(-1), expected_h[-1]):
        raise CheckFailed(
            "ht holds only the last hidden state. Collect h_t at every step: ht has one row "
            f"per token, shape ({T}, {hidden})."
        )
    if ht.shape == (hidden, T) or yhat.shape == (n_out, T):
        raise CheckFailed(
            f"Transpose your results: one ROW per token, ht ({T}, {hidden}) and yhat ({T}, {n_out})."
        )
    as_array("ht", ht, rnn_layer, (T, hidden), _LAYER_SHAPES, finite=True)
    as_array("yhat", yhat, rnn_layer, (T, n_out), _LAYER_SHAPES, finite=True)
    changed = [name for name in student.changed if name in _PARAMETERS]
    if changed and not agrees(ht, expected_h):
        raise CheckFailed(
            f"ht is wrong because your code changes {changed[0]} in place while it runs, so "
            f"every step sees a different {changed[0]}. Look for `a = {changed[0]}` followed by "
            "`a += ...` (in rnn_layer or in rnn_unit): `a = b` does not copy. Write "
            "`a = b + W @ h + U @ x_t.T`, which builds a new array."
        )
    no_carry, _ = _rnn_reference(X, ex.W, ex.U, ex.V, ex.b, ex.c, carry=False)
    if close(ht, no_carry) and not agrees(ht, expected_h):
        raise CheckFailed(
            "Every step starts again from h_0: carry the hidden state, i.e. feed h_t "
            "into the next step as h_t_minus_one."
        )
    if not agrees(ht[0], expected_h[0]):
        # If the later rows follow from the student's first row, only h_0 is off.
        h_rest, _ = _rnn_reference(X[1:], ex.W, ex.U, ex.V, ex.b, ex.c, h0=ht[:1].T)
        if close(ht[1:], h_rest):
            raise CheckFailed(
                "The first hidden state is wrong but the recurrence is right: h_0 must be "
                f"zeros of shape ({hidden}, 1)."
            )
        raise CheckFailed(
            f"h_1 for 'the' (the first row of ht) is wrong: the "
            f"{largest_difference(ht[0], expected_h[0])}"
        )
    if agrees(ht[:-1], expected_h[:-1]) and not agrees(ht[-1], expected_h[-1]):
        raise CheckFailed(
            f"ht is right for the first {T - 1} tokens, but its last row (token {T}, "
            f"'{ex.tokens[-1]}') is {np.round(ht[-1], 7)} instead of "
            f"{np.round(expected_h[-1], 7)}: the loop stops one step early. "
            "`for t in range(X.shape[0])` visits all T tokens."
        )
    if not agrees(ht, expected_h):
        raise CheckFailed(
            "h_1 is right but later hidden states are not: feed h_t (after tanh) into the "
            f"next step. The {largest_difference(ht, expected_h)}"
        )
    if np.allclose(yhat, 1.0) or not np.allclose(yhat.sum(axis=1), 1.0):
        raise CheckFailed(
            "Each row of yhat should be a probability vector over the 3 outputs (rows sum to "
            "1). Is softmax taken over the output units (axis 0 of the column o_t)?"
        )
    if agrees(yhat[:-1], expected_y[:-1]) and not agrees(yhat[-1], expected_y[-1]):
        raise CheckFailed(
            f"yhat is right for the first {T - 1} tokens but not its last row: compute "
            "yhat_t at every step, the last one included."
        )
    if not agrees(yhat, expected_y):
        raise CheckFailed(
            "ht is right but yhat is not: yhat_t = softmax(c + V h_t). The "
            f"{largest_difference(yhat, expected_y)}"
        )
    _compare_reference("ht for 'the quick brown'", ht[:3], _REF_H)
    _compare_reference("yhat for 'the quick brown'", yhat[:3], _REF_YHAT)
    # A second, random sequence guards against anything tied to the example's length.
    X2 = pristine(np.random.default_rng(2).normal(size=(3, X.shape[1])))
    parts = as_sequence(student(X2, *args), rnn_layer, 2, "(ht, yhat)", "arrays")
    ht2, yhat2 = (
        as_array(name, part, rnn_layer, part=True)
        for name, part in zip(("ht", "yhat"), parts, strict=True)
    )
    h2, y2 = _rnn_reference(X2, ex.W, ex.U, ex.V, ex.b, ex.c)
    if not (agrees(ht2, h2) and agrees(yhat2, y2)):
        raise CheckFailed(
            "Right on the example but wrong on a random 3-token sequence: does anything in "
            "your loop depend on the example's 9 tokens?"
        )
    # The rule the exercise states: an empty sequence is a ValueError that says so.
    expect_value_error(
        rnn_layer,
        (pristine(np.zeros((0, X.shape[1]))), *args),
        "an empty sequence X of shape (0, 5)",
        [("empty", "(0, 5)", "no token", "0 token", "T = 0", "length 0")],
        "Before the loop, raise a ValueError when X.shape[0] == 0: an empty sequence has no "
        "hidden states.",
    )
    student.passed(
        f"rnn_layer: all {T} hidden states and outputs agree with the reference, and those "
        "of 'the quick brown' match the uuml reference values."
    )
