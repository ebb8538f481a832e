"""Shared machinery of the checks: one failure type, one voice, isolated calls.

Every chapter module builds its checks from these pieces, so that all checks

* call the student's function on fresh copies of their inputs (:func:`call`), so that a
  function that works in place can neither corrupt the check's references nor the next call,
* describe what came back in the same words (:func:`as_array`, :func:`as_sequence`,
  :func:`as_count`): ``None`` ("did you forget `return`?"), a wrong type, NaN or inf, a wrong
  shape with the right function's shapes,
* report an exception raised inside the student's code with its type and message, then a hint,
* and let no exception other than :class:`CheckFailed` escape (:func:`feedback_check`).

A check in a chapter module follows one pattern::

    @feedback_check
    def check_f(f):
        X = pristine(...)                       # read-only inputs and references
        student = Student(f, "X W", SHAPES)     # SHAPES: f's own shapes, for every hint
        out = as_array("the result", student(X, W), f, shape, SHAPES, finite=True)
        reject_known_mistakes(out, [(result_of_a_mistake, "what the mistake is"), ...])
        expect_value_error(f, bad_args, "X of shape (3, 2)", [("(3, 2)",)])  # stated rules
        student.passed("f agrees with ...")
"""

from __future__ import annotations

import copy
import functools
import sys
import textwrap
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any, TypeVar

import numpy as np

F = TypeVar("F", bound=Callable[..., Any])


class CheckFailed(AssertionError):
    """The student's function gave a wrong result; the message says what to look at."""


# ------------------------------------------------------------------ calling student code


def function_name(function: Any) -> str:
    """The name a student gave their function (``repr`` for anything without one)."""
    return getattr(function, "__name__", None) or repr(function)


def describe(value: Any) -> str:
    """A short description of an argument or a returned value, for messages."""
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        kind = "a complex array" if np.iscomplexobj(value) else "an array"
        return f"{kind} of shape {value.shape}"
    if isinstance(value, (tuple, list)):
        kind = "a tuple" if isinstance(value, tuple) else "a list"
        return f"{kind} of {len(value)} value{'' if len(value) == 1 else 's'}"
    if isinstance(value, dict):
        return f"a dict of {len(value)} entr{'y' if len(value) == 1 else 'ies'}"
    try:
        text = repr(value)
    except Exception:  # a student's object whose repr fails still gets described
        text = "(no repr)"
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _fresh(value: Any) -> Any:
    """A copy that the student's code may change freely (arrays, lists and dicts)."""
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)  # writeable even when ``value`` is read-only
    if isinstance(value, (list, dict, set)):
        return copy.deepcopy(value)
    return value


def pristine(array: Any) -> np.ndarray:
    """A read-only float copy: a reference that no student code can change."""
    result = np.array(array, dtype=float, copy=True)
    result.setflags(write=False)
    return result


def call(function: Callable[..., Any], *args: Any, hint: str = "") -> Any:
    """Call the student's ``function`` on fresh copies of ``args``.

    A stub's NotImplementedError becomes the friendly "not implemented yet"; any other
    exception raised inside the student's code becomes a :class:`CheckFailed` that gives
    its type and message, the inputs' shapes, and then ``hint``.
    """
    return call_tracked(function, *args, hint=hint)[0]


def call_tracked(function: Callable[..., Any], *args: Any, hint: str = "") -> tuple[Any, list[int]]:
    """Like :func:`call`, and also return the positions of the arguments it changed in place."""
    fresh = [_fresh(arg) for arg in args]
    name = function_name(function)
    if not callable(function):
        raise CheckFailed(
            f"The check needs your function itself, but got {describe(function)}. Pass the "
            "function's name without calling it, e.g. check_qkv(qkv), not check_qkv(qkv(...))."
        )
    try:
        with timed(f"`{name}` on {', '.join(describe(arg) for arg in args) or 'no arguments'}"):
            result = function(*fresh)
    except NotImplementedError:
        raise CheckFailed(
            f"`{name}` is not implemented yet: replace the `raise NotImplementedError` line "
            "with your code, run the cell, then run this check again."
        ) from None
    except CheckFailed:
        raise
    except Exception as error:  # the student's own error: say what and where, then help
        inputs = ", ".join(describe(arg) for arg in args)
        # Chained (not `from None`), so that the traceback above shows the failing line.
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__} on valid inputs ({inputs}): {error}"
            + (f"\n{hint}" if hint else "")
        ) from error
    changed = [i for i, (a, b) in enumerate(zip(args, fresh, strict=True)) if _differs(a, b)]
    return result, changed


def _differs(before: Any, after: Any) -> bool:
    if isinstance(before, np.ndarray):
        try:
            return not (
                isinstance(after, np.ndarray)
                and after.shape == before.shape
                and bool(np.array_equal(after, before, equal_nan=before.dtype.kind in "fc"))
            )
        except Exception:  # arrays that cannot be compared: say nothing rather than guess
            return False
    if isinstance(before, (list, dict, set)):
        try:
            return bool(before != after)
        except Exception:  # e.g. lists of arrays: compare element-wise is ambiguous
            return False
    return False


def note_changed(function: Callable[..., Any], names: Sequence[str]) -> None:
    """Tell the student, without failing, that their function changed its inputs in place."""
    if names:
        listed = ", ".join(f"`{name}`" for name in names)
        note = (
            f"Note: `{function_name(function)}` changes its argument{'s' if len(names) > 1 else ''}"
            f" {listed} in place. The result is right, but code that uses "
            f"{'them' if len(names) > 1 else 'it'} after the call sees the changed values; "
            "prefer `x = x / s` to `x /= s`."
        )
        print(textwrap.fill(note, width=76, subsequent_indent="  "))


class Student:
    """A student's function as a check calls it: on fresh copies, remembering what it changed.

    ``Student(rnn_unit, "h_t_minus_one x_t W U b", hint)(h, x, W, U, b)`` calls
    ``rnn_unit`` like :func:`call`; ``changed`` collects the names of the arguments it
    changed in place over all calls, and :meth:`passed` prints the success line followed
    by one note about them.
    """

    def __init__(self, function: Callable[..., Any], arguments: str, hint: str = "") -> None:
        self.function = function
        self.name = function_name(function)
        self.arguments = arguments.split()
        self.hint = hint
        self.changed: list[str] = []

    def __call__(self, *args: Any) -> Any:
        result, changed = call_tracked(self.function, *args, hint=self.hint)
        for index in changed:
            name = self.arguments[index] if index < len(self.arguments) else f"#{index + 1}"
            if name not in self.changed:
                self.changed.append(name)
        return result

    def passed(self, message: str) -> None:
        passed(message)
        note_changed(self.function, self.changed)


# ------------------------------------------------------------------ reading results


def as_array(
    name: str,
    value: Any,
    function: Callable[..., Any] | str,
    shape: tuple[int, ...] | None = None,
    shape_hint: str = "",
    finite: bool = False,
    part: bool = False,
) -> np.ndarray:
    """The float array a student's function returned, or a :class:`CheckFailed` saying why not.

    name: what the value is (``"Q"``, ``"the result"``); function: the student's function (or
    its name); shape: the required shape, if any; shape_hint: how to get the right shape (the
    function's own shapes); finite: also reject NaN and inf; part: the value is one of
    several that the function returns (messages then name it).
    """
    owner = function if isinstance(function, str) else function_name(function)
    if value is None:
        raise CheckFailed(
            f"`{owner}` returned None{f' for {name}' if part else ''}: did you forget `return`?"
        )
    if isinstance(value, (tuple, list)) and _several_results(value, len(shape) if shape else 2):
        raise CheckFailed(
            f"`{owner}` returned {describe(value)} for {name}, but {name} is one array"
            + (f" of shape {tuple(shape)}. " if shape is not None else ". ")
            + (shape_hint or "Return only that array.")
        )
    if isinstance(value, (str, bytes, dict, set)) or not _numeric(value):
        raise CheckFailed(
            f"`{owner}` returned {describe(value)}{f' for {name}' if part else ''}; expected a "
            "NumPy array" + (f" of shape {shape}" if shape is not None else "") + "."
        )
    array = as_float(value)
    if shape is not None and array.ndim == 0 and len(shape) > 0:
        raise CheckFailed(
            f"`{owner}` returned {describe(value)}"
            + (f" for {name}" if part else "")
            + f", a single number; expected an array of shape {tuple(shape)}. "
            + shape_hint
        )
    if shape is not None and array.shape != tuple(shape):
        raise CheckFailed(
            f"{_label(name)} has shape {array.shape}, expected {tuple(shape)}. "
            + (shape_hint or "Check the order of the factors in your matrix products.")
        )
    if finite and not np.all(np.isfinite(array)):
        raise CheckFailed(
            f"{_label(name)} contains NaN or inf on ordinary inputs:\n{rounded(array)}\n"
            "Look for a division by zero (0 / 0 is NaN), an exponential of a large number, "
            "or an array used before all its entries are filled (np.empty)."
        )
    return array


def as_float(value: Any) -> np.ndarray:
    """``value`` as a float array that keeps its precision, so that it is compared at that
    precision: a float32 array stays float32, a float64 one float64. Lists and tuples carry
    no dtype (their numbers may come from a float32 computation): they become float32."""
    array = np.asarray(value)
    if array.dtype.kind == "f" and array.dtype.itemsize <= 4:
        return array
    if isinstance(value, np.ndarray) or np.ndim(value) == 0:
        return np.asarray(value, dtype=float)
    return np.asarray(value, dtype=float).astype(np.float32)


def _label(name: str) -> str:
    """``name`` as the subject of a sentence: code in backticks, words capitalised."""
    return name[:1].upper() + name[1:] if " " in name else f"`{name}`"


def _numeric(value: Any) -> bool:
    """Whether ``value`` converts to a float array (arrays, numbers, nested lists of them)."""
    if isinstance(value, (str, bytes)) or value is None:
        return False
    try:
        with np.errstate(all="ignore"):
            if np.asarray(value).dtype.kind == "c":  # complex: the imaginary part would be lost
                return False
            array = np.asarray(value, dtype=float)
    except Exception:  # whatever NumPy cannot turn into floats is not an array of numbers
        return False
    return array.dtype.kind == "f"


def _several_results(value: Sequence[Any], ndim: int) -> bool:
    """Whether a tuple or list holds several results (e.g. ``(out, weights)``), not the rows
    of one nested array: a part has as many dimensions as the whole should have."""
    for part in value:
        try:
            if np.ndim(part) >= ndim:
                return True
        except Exception:  # a part NumPy cannot even look at: not an array of rows either
            return True
    return False


def as_sequence(
    value: Any, function: Callable[..., Any] | str, count: int, names: str, kind: str = "values"
) -> list[Any]:
    """The ``count`` values a function returns together, as a tuple or a list.

    names: how to call them in messages, e.g. ``"(Z, attention_weights)"``; kind: what
    they are ("values", "matrices").
    """
    owner = function if isinstance(function, str) else function_name(function)
    what = "the pair" if count == 2 else f"the {count} {kind}"
    if value is None:
        raise CheckFailed(
            f"`{owner}` returned None: did you forget `return`? It should return {what} {names}."
        )
    if not isinstance(value, (tuple, list)):
        raise CheckFailed(
            f"`{owner}` returned {describe(value)}; it should return {what} {names} together, "
            f"e.g. `return {names.strip('()')}`."
        )
    if len(value) != count:
        raise CheckFailed(f"`{owner}` returned {describe(value)}; it should return {what} {names}.")
    return list(value)


def as_count(name: str, value: Any) -> int:
    """A whole number answered by a student (ints, whole floats, NumPy scalars)."""
    if value is None:
        raise CheckFailed(f"{name} is None: did you forget `return`?")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, np.integer, float, np.floating)
    ):
        raise CheckFailed(f"{name} should be a whole number, got {describe(value)}.")
    if isinstance(value, (int, np.integer)):
        return int(value)
    if not np.isfinite(float(value)):
        raise CheckFailed(
            f"{name} should be a whole number, got {value!r}: is something divided by zero "
            "or raised to a huge power? A parameter count only adds and multiplies sizes."
        )
    if float(value) != int(value):
        raise CheckFailed(f"{name} should be a whole number, got {value!r}.")
    return int(value)


# ------------------------------------------------------------------ comparing

# (relative, absolute) tolerances; the absolute one is multiplied by the size of the largest
# expected entry (at least 1), so that it scales with the inputs. Single precision carries
# about 7 significant digits and loses a few more in sums and exponentials; double about 16.
# A float64 result gets 1e-6: ten times tighter than single precision, and still loose enough
# for float32 work that NumPy turned into float64 at the last step (a float32 array divided by
# np.sqrt(d_k), a float64 number, is float64).
SINGLE = (1e-5, 1e-5)
DOUBLE = (1e-6, 1e-6)


def single_precision(value: Any) -> bool:
    """Whether a returned value is a float array of at most 32 bits (float32, float16)."""
    try:
        dtype = np.asarray(value).dtype
    except Exception:  # whatever NumPy cannot look at is judged elsewhere
        return False
    return dtype.kind == "f" and dtype.itemsize <= 4


def _within(actual: Any, expected: Any, rtol: float, atol: float, equal_nan: bool = False) -> bool:
    try:
        with np.errstate(all="ignore"):
            actual = np.asarray(actual, dtype=float)
            expected = np.asarray(expected, dtype=float)
            if actual.shape != expected.shape:
                return False
            finite = expected[np.isfinite(expected)]
            scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
            return bool(
                np.allclose(actual, expected, rtol=rtol, atol=atol * scale, equal_nan=equal_nan)
            )
    except (TypeError, ValueError, OverflowError):
        return False


def close(actual: Any, expected: Any, atol: float = 1e-6, equal_nan: bool = False) -> bool:
    """Same shape and equal to ``atol`` (at least single precision's tolerance for a float32
    ``actual``); never raises, whatever ``actual`` is. For recognising known mistakes."""
    if single_precision(actual):
        return _within(actual, expected, SINGLE[0], max(atol, SINGLE[1]), equal_nan)
    return _within(actual, expected, 0.0, atol, equal_nan)


def agrees(actual: Any, expected: Any) -> bool:
    """Whether ``actual`` equals ``expected`` to the precision of ``actual``'s own dtype:
    1e-5 relative for a float32 result, 1e-6 for a float64 one."""
    rtol, atol = SINGLE if single_precision(actual) else DOUBLE
    return _within(actual, expected, rtol, atol)


def largest_difference(actual: Any, expected: Any) -> str:
    """The entry where ``actual`` and ``expected`` (same shape) differ most for the tolerance
    of ``actual``'s dtype, both values shown with enough digits to see the difference."""
    rtol, atol = SINGLE if single_precision(actual) else DOUBLE
    with np.errstate(all="ignore"):
        got = np.asarray(actual, dtype=float)
        want = np.asarray(expected, dtype=float)
        finite = want[np.isfinite(want)]
        scale = max(1.0, float(np.abs(finite).max())) if finite.size else 1.0
        gap = np.abs(got - want)
        excess = gap / (atol * scale + rtol * np.abs(want))
        excess = np.where(np.isnan(excess), np.inf, excess)  # NaN where a number belongs
        index = np.unravel_index(int(np.argmax(excess)), excess.shape) if excess.ndim else ()
    where = f"entry [{', '.join(str(int(i)) for i in index)}]" if index else "the value"
    a, b = float(got[index]), float(want[index])
    difference = abs(a - b)
    digits = 7
    if np.isfinite(difference) and difference > 0:
        digits = max(7, min(17, int(-np.log10(difference / max(abs(b), 1e-300))) + 3))
    text = f"{where} differs most: expected {b:.{digits}g}, got {a:.{digits}g}" + (
        f" (a difference of {difference:.2g})" if np.isfinite(difference) else ""
    )
    if not single_precision(actual) and _within(actual, expected, *SINGLE):
        text += (
            ". That is the size of single-precision rounding: if you compute in float32, keep "
            "the result float32 (a float64 number such as np.sqrt(d_k) turns it into float64), "
            "so that it is compared at float32 precision"
        )
    return text + "."


def reject_known_mistakes(actual: Any, mistakes: Iterable[tuple[Any, str]]) -> None:
    """Raise the message of the first (result of a typical mistake, message) pair that matches.

    NaN in the same places counts as a match, so that overflow mistakes can be recognised.
    """
    for candidate, message in mistakes:
        if close(actual, candidate, equal_nan=True):
            raise CheckFailed(message)


def rounded(matrix: Any) -> str:
    """A matrix as printed in the messages: 7 decimals, like the uuml reference values."""
    return np.array2string(np.asarray(matrix, dtype=float), precision=7, suppress_small=False)


def passed(message: str) -> None:
    """The success message of a check, wrapped to fit a notebook page (76 characters)."""
    print(textwrap.fill(f"\N{CHECK MARK} {message}", width=76, subsequent_indent="  "))


# ------------------------------------------------------------------ the time bound

# Seconds of the student's code (their functions, and the models and layers they build) that
# one check allows, in all. The exercises' functions take milliseconds on the checks' small
# inputs, and a Keras builder's models run in about a second; a check that goes over names
# the slowest call instead of making the student wait once per call.
TIME_LIMIT = 30.0
KERAS_TIME_LIMIT = 120.0


class _Budget:
    """The time a check's calls of student code have taken, and the slowest of them."""

    def __init__(self, limit: float, hint: str) -> None:
        self.limit = limit
        self.hint = hint
        self.spent = 0.0
        self.slowest = (0.0, "")


_BUDGETS: list[_Budget] = []  # the running checks' budgets, innermost last


@contextmanager
def timed(what: str) -> Iterator[None]:
    """Count the block's time against the running check's budget; ``what`` names the call in
    the message when the budget runs out (after the block, so its own errors come first)."""
    start = time.perf_counter()
    yield
    if not _BUDGETS:
        return
    budget, seconds = _BUDGETS[-1], time.perf_counter() - start
    budget.spent += seconds
    if seconds >= budget.slowest[0]:
        budget.slowest = (seconds, what)
    if budget.spent > budget.limit:
        slowest, call_text = budget.slowest
        raise CheckFailed(
            f"The check stopped: your code has taken {_seconds(budget.spent)} of this check, "
            f"more than the {_seconds(budget.limit)} it allows. The slowest call was "
            f"{call_text}: {_seconds(slowest)}. {budget.hint}"
        )


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.2g} s"


_NUMPY_HINT = (
    "On the check's small inputs it should take milliseconds: look for a loop that does far "
    "more work than the formula needs (a Python loop over every entry, or an input-sized "
    "computation repeated at every step)."
)


# ------------------------------------------------------------------ the safety net


def feedback_check(check: F | None = None, *, keras: bool = False) -> Any:
    """Make ``check`` raise nothing but :class:`CheckFailed`, within one time bound.

    The checks name every mistake they know; this catches what nobody foresaw (an odd
    return value that trips NumPy inside the check, missing example data) and still
    answers in the checks' voice. NumPy's floating-point warnings are silenced: the checks
    feed extreme values on purpose and judge the results. The student's code may take
    :data:`TIME_LIMIT` seconds in all (:data:`KERAS_TIME_LIMIT` with ``keras=True``).
    Use as ``@feedback_check`` or ``@feedback_check(keras=True)``.
    """
    if check is None:
        return functools.partial(feedback_check, keras=keras)

    @functools.wraps(check)
    def checked(*args: Any, **kwargs: Any) -> None:
        limit = KERAS_TIME_LIMIT if keras else TIME_LIMIT
        hint = (
            "Building and running the exercise's small model takes a second or two: is a "
            "layer far larger than the exercise asks?"
            if keras
            else _NUMPY_HINT
        )
        _BUDGETS.append(_Budget(limit, hint))
        try:
            with np.errstate(all="ignore"):
                return check(*args, **kwargs)
        except CheckFailed:
            raise
        except Exception as error:
            subject = function_name(args[0]) if args else "your function"
            raise CheckFailed(
                f"The check could not use what `{subject}` gave back ({type(error).__name__}: "
                f"{error}). Compare your function with the exercise: the arguments it takes, "
                "and the type and shape of what it returns."
            ) from None
        finally:
            _BUDGETS.pop()

    return checked


# ------------------------------------------------------------------ no Keras


@contextmanager
def keras_unavailable() -> Iterator[list[str]]:
    """Run the block with Keras out of reach; yield the list of Keras layers it created.

    If Keras is imported, every layer's construction is recorded (all layers, models
    included, run ``keras.Layer.__init__``); if it is not, importing it fails while the block
    runs (a student's ``import keras`` inside the function raises ImportError).
    """
    created: list[str] = []
    keras_module = sys.modules.get("keras")
    if keras_module is None:
        blocked = [name for name in ("keras", "tensorflow") if name not in sys.modules]
        for name in blocked:
            sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
        try:
            yield created
        finally:
            for name in blocked:
                if sys.modules.get(name) is None:
                    del sys.modules[name]
        return
    layer_class = keras_module.Layer
    original = layer_class.__init__

    def spy(self: Any, *args: Any, **kwargs: Any) -> None:
        created.append(type(self).__name__)
        original(self, *args, **kwargs)

    layer_class.__init__ = spy
    try:
        yield created
    finally:
        layer_class.__init__ = original


def call_without_keras(function: Callable[..., Any], *args: Any, rule: str) -> Any:
    """Call a counting function like :func:`call`, and fail with ``rule`` (what the exercise
    asks instead) when it builds a Keras layer or imports Keras to get its answer."""
    name = function_name(function)
    with keras_unavailable() as created:
        try:
            result = call(function, *args)
        except CheckFailed as failure:
            cause = failure.__cause__
            if created and cause is not None:  # e.g. count_params of a layer not yet built
                raise CheckFailed(
                    f"`{name}` builds a Keras {_outermost(created)} to get its answer; {rule}"
                ) from None
            if isinstance(cause, ImportError) and any(
                word in str(cause) for word in ("keras", "tensorflow")
            ):
                raise CheckFailed(
                    f"`{name}` imports Keras; the check runs it with Keras out of reach, "
                    f"because {rule}"
                ) from None
            raise
    if created:
        raise CheckFailed(
            f"`{name}` builds a Keras {_outermost(created)} to get its answer; {rule}"
        )
    return result


def _outermost(created: list[str]) -> str:
    """The layer the student wrote among those created: an LSTM creates its LSTMCell first,
    and keras.Input an InputLayer."""
    named = [
        kind for kind in created if kind and kind != "InputLayer" and not kind.endswith("Cell")
    ]
    return (named or [kind for kind in created if kind] or ["layer"])[0]


# ------------------------------------------------------------------ rules and data


def expect_value_error(
    function: Callable[..., Any],
    args: Sequence[Any],
    case: str,
    mentions: Sequence[Sequence[str]] = (),
    fix: str = "",
) -> None:
    """A rule the exercise states: ``function(*args)`` raises a ValueError.

    case: the bad input in words ("x_t of shape (1, 4)"); mentions: groups of words, one of
    each group must appear in the error message (compared without spaces, so NumPy's
    "(3,1)" names the shape (3, 1)); fix: what to write instead.
    """
    name = function_name(function)
    tail = f" {fix}" if fix else ""
    try:
        with timed(f"`{name}` on {case}"):
            result = function(*(_fresh(arg) for arg in args))
    except NotImplementedError:
        raise CheckFailed(f"`{name}` is not implemented yet.") from None
    except CheckFailed:
        raise
    except ValueError as error:
        text = str(error).replace(" ", "").lower()
        for group in mentions:
            if not any(word.replace(" ", "").lower() in text for word in group):
                raise CheckFailed(
                    f"`{name}` raises ValueError for {case}, but its message does not say "
                    f"so: {str(error)!r}. Name {' or '.join(group)} in the message.{tail}"
                ) from None
        return
    except Exception as error:
        raise CheckFailed(
            f"`{name}` raised {type(error).__name__} for {case} ({error}); the exercise asks "
            f"for a ValueError that says what is wrong.{tail}"
        ) from error
    raise CheckFailed(
        f"`{name}` returned {describe(result)} for {case}; the exercise asks for a ValueError "
        f"that says what is wrong.{tail}"
    )


def load_example(loader: Callable[[], Any], fields: Sequence[str]) -> Any:
    """The course's example data with read-only arrays, or a :class:`CheckFailed` saying why not."""
    try:
        example = loader()
    except Exception as error:
        raise CheckFailed(
            "The check needs the course's example data, which could not be loaded "
            f"({type(error).__name__}: {error})."
        ) from None
    return SimpleNamespace(
        tokens=list(example.tokens),
        **{field: pristine(getattr(example, field)) for field in fields},
    )
