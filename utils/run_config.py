"""Checking a notebook's papermill parameters before any work, and choosing determinism.

Every notebook with a ``parameters`` cell validates all of them in one call, right after that
cell, so that a typo fails at once with a message saying what is wrong and how to fix it, not
after minutes of training::

    values = validate_parameters(
        {"models": models, "epochs_scale": epochs_scale},
        {"models": choices(MODEL_KEYS), "epochs_scale": positive_number()},
    )
    models, epochs_scale = values["models"], values["epochs_scale"]

Each rule is a callable ``rule(name, value) -> cleaned value`` that raises ``ValueError``;
``validate_parameters`` runs all of them and reports every problem at once. It also refuses a
parameter that papermill injected but the notebook does not have (``-p epoch_scale 0.1`` for
``epochs_scale``): papermill only warns and runs the full default job.
"""

from __future__ import annotations

import ast
import difflib
import math
import numbers
import os
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Rule = Callable[[str, Any], Any]

SMOKE_VARIABLE = "COURSE_NBVAL_SMOKE"


def smoke_run() -> bool:
    """True when the environment asks for a quick run (``COURSE_NBVAL_SMOKE`` set, not "0")."""
    return os.environ.get(SMOKE_VARIABLE, "").strip() not in ("", "0")


def _is_int(value: Any) -> bool:
    # bool is a subclass of int, but `epochs = True` is a mistake, never a count.
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_number() -> Rule:
    """A finite number > 0 (int or float; bools, NaN and infinities refused) -> float."""

    def rule(name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(
                f"{name} must be a positive number, got {value!r} (a {type(value).__name__})."
            )
        if not math.isfinite(value) or value <= 0:
            raise ValueError(f"{name} must be a finite number greater than 0, got {value!r}.")
        return float(value)

    return rule


def integer(minimum: int = 1, optional: bool = False, none_means: str = "") -> Rule:
    """An int >= ``minimum`` (bools refused); with ``optional``, None is accepted as well.

    ``none_means`` says in the error message what None stands for (e.g. "all reviews").
    """

    def rule(name: str, value: Any) -> int | None:
        if value is None and optional:
            return None
        if not _is_int(value) or value < minimum:
            allowed = f"an integer >= {minimum}"
            if optional:
                allowed = f"None ({none_means or 'no limit'}) or {allowed}"
            raise ValueError(f"{name} must be {allowed}, got {value!r}.")
        return int(value)

    return rule


def choices(allowed: Sequence[str]) -> Rule:
    """A non-empty list of distinct names from ``allowed`` (one str is taken as a list of one)."""

    def rule(name: str, value: Any) -> list[str]:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, Iterable) or isinstance(items, Mapping):
            raise ValueError(f"{name} must be a list of names from {list(allowed)}, got {value!r}.")
        items = list(items)
        if not items:
            raise ValueError(f"{name} is empty; choose at least one of {list(allowed)}.")
        unknown = [item for item in items if not isinstance(item, str) or item not in allowed]
        if unknown:
            raise ValueError(f"unknown name(s) {unknown} in {name}; choose from {list(allowed)}.")
        repeated = sorted({item for item in items if items.count(item) > 1})
        if repeated:
            raise ValueError(f"{name} names {repeated} more than once; list each once.")
        return items

    return rule


def seeds(minimum: int = 0) -> Rule:
    """A non-empty list of integers >= ``minimum`` (one int is taken as a list of one)."""

    def rule(name: str, value: Any) -> list[int]:
        items = [value] if _is_int(value) else value
        if not isinstance(items, (list, tuple)) or not items:
            raise ValueError(
                f"{name} must be a non-empty list of integers, got {value!r}; with papermill "
                f"pass one seed as -p {name} 0, a list as -y '{name}: [0, 1]'."
            )
        bad = [item for item in items if not _is_int(item) or item < minimum]
        if bad:
            raise ValueError(f"{name} must hold integers >= {minimum} only; {bad} are not.")
        return [int(item) for item in items]

    return rule


def writable_path() -> Rule:
    """None, or a file path whose directory exists and is writable -> Path.

    Writability is tested by really creating (and deleting) a temporary file in the
    directory: permission bits alone do not tell (read-only mounts, ACLs, root).
    """

    def rule(name: str, value: Any) -> Path | None:
        if value is None:
            return None
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            raise ValueError(f"{name} must be None or a file path, got {value!r}.")
        path = Path(value).expanduser()
        if path.is_dir():
            raise ValueError(f"{name} = {str(path)!r} is a directory; give a file path in it.")
        directory = path.parent
        if not directory.is_dir():
            raise ValueError(
                f"{name} = {str(path)!r}: the directory {str(directory)!r} does not exist "
                "(or is not a directory); create it first or choose another path."
            )
        try:
            with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-test-"):
                pass
        except OSError as error:
            raise ValueError(
                f"{name} = {str(path)!r}: cannot write to {str(directory)!r} ({error.strerror}); "
                "choose a writable directory."
            ) from None
        return path

    return rule


# The first line of the cell papermill injects after the `parameters` cell (its translator
# writes "# Parameters", then one `name = value` per parameter given with -p / -y / -f).
INJECTED_HEADER = "# Parameters"


def injected_parameter_names(history: Sequence[str] | None = None) -> list[str] | None:
    """The names papermill injected into this run, or None when there was no injection.

    A papermill run executes an ``injected-parameters`` cell, which starts with
    ``# Parameters``; IPython keeps the source of every executed cell in its input history
    (``In``), so the last such source is the injection. Outside IPython, or in a Jupyter run
    without papermill, there is none.

    Args:
        history: the executed cell sources, oldest first; by default IPython's ``In``.
    """
    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return None
        shell = get_ipython()
        history = shell.user_ns.get("In") if shell is not None else None
        if not isinstance(history, list):
            return None
    for source in reversed(history):
        if not isinstance(source, str) or source.split("\n", 1)[0].strip() != INJECTED_HEADER:
            continue
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return None
        names = [
            target.id
            for statement in tree.body
            if isinstance(statement, ast.Assign)
            for target in statement.targets
            if isinstance(target, ast.Name)
        ]
        # --inject-paths adds papermill's own PAPERMILL_INPUT_PATH etc.: not the notebook's.
        return [name for name in names if not name.startswith("PAPERMILL_")]
    return None


def unknown_parameters(injected: Iterable[str], known: Iterable[str]) -> list[str]:
    """One message per injected name the notebook does not have, with the closest known names."""
    known = sorted(known)
    problems = []
    for name in sorted(set(injected) - set(known)):
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        problems.append(
            f"unknown parameter {name!r}: this notebook has no such parameter ({hint}"
            f"its parameters are {', '.join(known)})."
        )
    return problems


def validate_parameters(
    values: Mapping[str, Any],
    rules: Mapping[str, Rule],
    injected: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Check every parameter against its rule; return the cleaned values.

    Args:
        values: parameter name -> the value the notebook was run with.
        rules: parameter name -> rule; every name in ``values`` needs one and vice versa.
        injected: the names papermill injected into this run; by default read from
            IPython's input history (:func:`injected_parameter_names`); none outside
            papermill. A name without a rule is refused: papermill would only warn.

    Raises:
        ValueError: listing every unknown or invalid parameter (one line each), not only
            the first.
    """
    missing = sorted(set(rules) - set(values))
    extra = sorted(set(values) - set(rules))
    if missing or extra:
        raise ValueError(f"parameters without a value: {missing}; values without a rule: {extra}.")
    if injected is None:
        injected = injected_parameter_names() or []
    cleaned: dict[str, Any] = {}
    problems: list[str] = unknown_parameters(injected, rules)
    for name, rule in rules.items():
        try:
            cleaned[name] = rule(name, values[name])
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ValueError(
            "invalid papermill parameter(s):\n  "
            + "\n  ".join(problems)
            + "\nFix them in the `parameters` cell or in the `-p name value` options of papermill."
        )
    return cleaned


# ------------------------------------------------------------------ determinism


@dataclass(frozen=True)
class Determinism:
    """What `configure_determinism` decided: whether op determinism is on, and why."""

    enabled: bool
    device: str  # "CPU" or "GPU"
    reason: str


def _probe_chapter_ops() -> None:
    """One training step of a tiny model with the ops chapter 3 uses on a GPU.

    The embedding's gradient is an ``IndexedSlices`` that the optimiser turns into a dense
    tensor with a segment reduction; TensorFlow raises ``UnimplementedError`` under op
    determinism where such a kernel has no deterministic GPU version (tensorflow PRs 47772
    and 47925). The sparse input of the bag-of-n-grams model is probed as well.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    words = keras.Input(shape=(4,))
    hidden = keras.layers.Embedding(10, 2)(words)
    hidden = keras.layers.LSTM(2)(hidden)
    recurrent = keras.Model(words, keras.layers.Dense(1, activation="sigmoid")(hidden))
    recurrent.compile(optimizer="rmsprop", loss="binary_crossentropy")
    recurrent.train_on_batch(np.array([[1, 2, 3, 1], [4, 5, 0, 0]]), np.array([1.0, 0.0]))
    bag = keras.Input(shape=(3,), sparse=True)
    linear = keras.Model(bag, keras.layers.Dense(1, activation="sigmoid")(bag))
    linear.compile(optimizer="rmsprop", loss="binary_crossentropy")
    x = tf.sparse.from_dense(tf.constant([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]]))
    linear.train_on_batch(x, np.array([1.0, 0.0]))


def configure_determinism(
    gpus: Sequence[Any] | None = None, probe: Callable[[], None] | None = None
) -> Determinism:
    """Enable TensorFlow op determinism where it works for this chapter's ops.

    On a CPU it is always enabled: with ``keras.utils.set_random_seed`` a run then repeats
    exactly (same machine, same library versions). On a GPU it is enabled, the chapter's ops
    are tried once (``probe``), and if TensorFlow has no deterministic GPU kernel for one of
    them (``UnimplementedError``) determinism is switched off again: training works, but GPU
    runs are then not bit-reproducible.

    Args:
        gpus: the visible GPUs; by default ``tf.config.list_physical_devices("GPU")``
            (a test passes a fake list to exercise the GPU branch on a CPU).
        probe: runs the ops to try; by default a training step of tiny models with an
            embedding, an LSTM and a sparse input.
    """
    import tensorflow as tf
    from tensorflow.python.framework import config as tf_config

    if gpus is None:
        gpus = tf.config.list_physical_devices("GPU")
    tf.config.experimental.enable_op_determinism()
    if not gpus:
        return Determinism(True, "CPU", "op determinism enabled: a run repeats exactly")
    try:
        (probe or _probe_chapter_ops)()
    except tf.errors.UnimplementedError as error:
        tf_config.disable_op_determinism()
        first_line = (error.message or str(error)).strip().splitlines()[0]
        return Determinism(
            False,
            "GPU",
            "this TensorFlow has no deterministic GPU kernel for an op the models use "
            f"({first_line[:120]}); determinism is off, so GPU runs are not bit-reproducible",
        )
    return Determinism(
        True,
        "GPU",
        "op determinism enabled on the GPU: a run repeats on this GPU and library versions",
    )
