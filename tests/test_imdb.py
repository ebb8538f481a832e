"""Chapter 3 (IMDB): the notebook, its parameters, determinism, the bag of n-grams, and prose
that a re-run cannot contradict."""

from __future__ import annotations

import ast
import math
import os
import re
import tempfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from utils import bag_of_ngrams, run_config

NOTEBOOK = "solutions/03_imdb.ipynb"
CHAPTER = "chapters/03_imdb.ipynb"
MODELS = [
    "dense",
    "simple_rnn",
    "lstm",
    "lstm_100",
    "stacked_lstm",
    "tuned_lstm",
    "bag_of_bigrams",
]
# The parameter counts the assignment fixes for the prescribed architectures.
PARAMS = {
    "dense": 170_305,
    "simple_rnn": 161_601,
    "lstm": 166_305,
    "lstm_100": 166_305,
    "stacked_lstm": 174_625,
}
FIELDS = {"params": int, "val_accuracy": float, "test_accuracy": float, "train_seconds": float}

needs_data = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR with the aclImdb archive"
)


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _output_text(cell) -> str:
    """The stream, text/plain and text/markdown outputs of one code cell, concatenated."""
    parts = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            parts.append(output.get("text", ""))
        elif "data" in output:
            for kind in ("text/markdown", "text/plain"):
                if kind in output["data"]:
                    parts.append(output["data"][kind])
    return "\n".join(parts)


def _stored_text(notebook) -> str:
    return "\n".join(_output_text(cell) for cell in notebook.cells if cell.cell_type == "code")


@pytest.fixture(scope="module")
def solution(root):
    return nbformat.read(root / NOTEBOOK, as_version=4)


# ------------------------------------------------------- prose never quotes the run's numbers

_DECIMAL = re.compile(r"(?<![\w.])(\d+\.\d+)(?![\w.]*\d)")
# "section 3.8", "task 3.9", "Exercise 3.1": this chapter's own numbering, not a result.
_SECTION = re.compile(r"^3\.\d{1,2}$")


def training_cells(notebook) -> list:
    """Code cells whose outputs are results of training: tagged solution-output or solution."""
    return [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and {"solution-output", "solution"} & set(_tags(cell))
    ]


def printed_numbers(notebook) -> set[str]:
    """Every decimal number (e.g. '0.8546', '9.5') printed by the training cells."""
    return {m for cell in training_cells(notebook) for m in _DECIMAL.findall(_output_text(cell))}


def literal_claims(notebook) -> list[tuple[int, str, str]]:
    """(cell index, literal, printed number) for each markdown literal a training cell printed.

    A markdown literal with d decimals matches a printed value v if v or 100 v (a share
    written as a percentage) rounds to it at d decimals (either way at a tie). Literals below 1 need two decimals
    (0.2 is a dropout rate, 0.85 an accuracy); literals of 1 and more need one ("9.5 s").
    """
    printed = [(text, float(text)) for text in printed_numbers(notebook)]
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "markdown":
            continue
        for literal in _DECIMAL.findall(cell.source):
            decimals = len(literal.split(".")[1])
            value = float(literal)
            if (value < 1 and decimals < 2) or _SECTION.match(literal):
                continue
            # Within half a unit of the literal's last digit (either rounding of a 5).
            tolerance = 0.5 * 10**-decimals + 1e-9
            for text, number in printed:
                candidates = [number, 100 * number] if number <= 1 else [number]
                if any(abs(candidate - value) <= tolerance for candidate in candidates):
                    found.append((index, literal, text))
                    break
    return found


def _notebook(markdown: list[str], printed: str) -> nbformat.NotebookNode:
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fit()")
    cell.metadata["tags"] = ["solution-output"]
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    notebook.cells = [cell] + [nbformat.v4.new_markdown_cell(text) for text in markdown]
    return notebook


def test_literal_claims_catch_numbers_of_the_run():
    printed = "dense: val 0.7240 test 0.7080, 9.5 s per epoch\nbest 0.9185\n"
    notebook = _notebook(
        [
            "The dense model reaches 0.724 on validation.",  # rounded to 3 decimals
            "The best model gets about 91.9% on test.",  # as a percentage
            "An epoch took 9.5 s.",
            "In section 3.8 we use dropout 0.2 and a rate of 0.905.",  # not the run's
        ],
        printed,
    )
    claims = literal_claims(notebook)
    assert [(index, literal) for index, literal, _ in claims] == [
        (1, "0.724"),
        (2, "91.9"),
        (3, "9.5"),
    ]


def test_literal_claims_ignore_numbers_not_printed_by_training_cells():
    notebook = _notebook(["Accuracy 0.724 in prose."], "nothing numeric\n")
    notebook.cells.insert(0, nbformat.v4.new_code_cell("print(0.724)"))  # untagged: data cell
    notebook.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.724\n")]
    assert literal_claims(notebook) == []


def test_prose_quotes_no_number_printed_by_a_training_cell(solution):
    assert printed_numbers(solution), "the stored notebook has no training outputs"
    claims = literal_claims(solution)
    assert not claims, "markdown quotes numbers of the run (cell, literal, printed): " + str(claims)


def test_prose_check_flags_a_number_planted_in_the_stored_notebook(solution):
    """The check on the real stored run: quote one of its printed accuracies and get caught."""
    import copy

    best = next(
        c
        for c in training_cells(solution)
        if "bag_of_bigrams: validation accuracy" in _output_text(c)
    )
    accuracy = re.search(
        r"bag_of_bigrams: validation accuracy (\d\.\d+)", _output_text(best)
    ).group(1)
    planted = copy.deepcopy(solution)
    quoted = f"{float(accuracy):.3f}"
    planted.cells.append(nbformat.v4.new_markdown_cell(f"The best model reaches {quoted}."))
    assert (len(planted.cells) - 1, quoted) in [(i, lit) for i, lit, _ in literal_claims(planted)]


def test_stored_outputs_are_narrow(solution):
    """No output line wider than 80 characters (the feedback checks' own lines aside)."""
    wide = []
    for index, cell in enumerate(solution.cells):
        if cell.cell_type != "code" or "check_" in cell.source:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                wide += [(index, line) for line in output["text"].splitlines() if len(line) > 80]
    assert not wide, wide


def test_figures_have_alt_text(solution):
    for index, cell in enumerate(solution.cells):
        images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        if images:
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            assert len(alt) > 30, f"cell {index} draws a figure without alt text"


# ------------------------------------------------------------------ the stored notebook


def test_stored_outputs_show_the_parameter_counts(solution):
    code_cells = [cell for cell in solution.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells), "the notebook is not fully executed"
    text = _stored_text(solution)
    for count in PARAMS.values():
        assert f"Total params: {count:,}" in text, count
    assert "injected-parameters" not in str([_tags(c) for c in solution.cells]), (
        "store a run without papermill -p (use COURSE_NBVAL_SMOKE=1 for a quick one), or the "
        "injected smoke parameters stay in the notebook"
    )


def test_smoke_parameters_in_metadata_match_the_smoke_cell(solution):
    declared = solution.metadata["course"]["smoke_parameters"]
    cell = next(c for c in solution.cells if "if smoke_run():" in c.source)
    branch = next(
        node
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.If) and ast.unparse(node.test) == "smoke_run()"
    )
    assignment = branch.body[0]
    names = [target.id for target in assignment.targets[0].elts]
    values = ast.literal_eval(assignment.value)
    assert dict(zip(names, values, strict=True)) == declared
    assert {"parameters", "remove-cell"} <= set(_tags(solution.cells[3]))
    assert "remove-cell" in _tags(cell)


def test_student_notebook_stores_no_result_of_the_solution(root):
    chapter = nbformat.read(root / CHAPTER, as_version=4)
    text = _stored_text(chapter)
    for leak in ("Total params", "epoch  1/", "val_acc", "kept weights", "P(positive) by"):
        assert leak not in text, leak
    sources = "\n".join(cell.source for cell in chapter.cells)
    for builder in ("build_dense", "build_simple_rnn", "build_lstm"):
        assert f"check_{builder}({builder})" in sources
    # 3 builders, neighbours, 3 counts, the extensions of 3.9
    assert sources.count("raise NotImplementedError") >= 8
    assert "build_stacked_lstm" not in sources  # the model solution of 3.9 is not shown
    answers = [cell for cell in chapter.cells if "answer" in _tags(cell)]
    assert len(answers) == 3  # 3.3 (what the embedding does), 3.9, 3.10
    assert all("BEGIN SOLUTION" not in cell.source for cell in chapter.cells)


# --------------------------------------------------------------- parameter validation


def _problem(rule, value, name="x"):
    with pytest.raises(ValueError) as error:
        rule(name, value)
    return str(error.value)


@pytest.mark.parametrize("value", [True, False, 0, -1, float("nan"), float("inf"), "1", None])
def test_positive_number_refuses(value):
    assert "epochs_scale" in _problem(run_config.positive_number(), value, "epochs_scale")


def test_positive_number_accepts_ints_and_floats():
    rule = run_config.positive_number()
    assert rule("x", 2) == 2.0 and isinstance(rule("x", 2), float)
    assert rule("x", 0.1) == 0.1
    assert rule("x", np.float32(0.5)) == 0.5


def test_integer_rules():
    rule = run_config.integer(minimum=50, optional=True, none_means="all reviews")
    assert rule("n", None) is None and rule("n", 50) == 50 and rule("n", np.int64(60)) == 60
    for value in (True, 49, 2.0, "100", float("nan")):
        message = _problem(rule, value, "train_samples")
        assert "train_samples must be None (all reviews) or an integer >= 50" in message
    assert "an integer >= 1" in _problem(run_config.integer(), None, "epochs")


def test_choices():
    rule = run_config.choices(("dense", "lstm"))
    assert rule("models", "lstm") == ["lstm"]
    assert rule("models", ("dense", "lstm")) == ["dense", "lstm"]
    assert "empty" in _problem(rule, [], "models")
    assert "unknown name(s) ['lstn'] in models" in _problem(rule, ["lstn"], "models")
    assert "more than once" in _problem(rule, ["lstm", "lstm"], "models")
    assert "list of names" in _problem(rule, 3, "models")
    assert "list of names" in _problem(rule, {"dense": 1}, "models")


def test_seeds():
    rule = run_config.seeds()
    assert rule("s", [0, 1]) == [0, 1] and rule("s", 3) == [3]
    assert "-p s 0" in _problem(rule, "[0]", "s")  # what papermill -p gives for a list
    assert "non-empty" in _problem(rule, [], "s")
    assert "[True, -1, 1.5]" in _problem(rule, [0, True, -1, 1.5], "s")


def test_writable_path(tmp_path, monkeypatch):
    rule = run_config.writable_path()
    assert rule("p", None) is None
    assert rule("p", str(tmp_path / "r.json")) == tmp_path / "r.json"
    assert list(tmp_path.iterdir()) == []  # the write test leaves nothing behind
    assert "does not exist" in _problem(rule, str(tmp_path / "missing" / "r.json"), "p")
    (tmp_path / "file").write_text("x")
    assert "does not exist" in _problem(rule, str(tmp_path / "file" / "r.json"), "p")
    assert "is a directory" in _problem(rule, str(tmp_path), "p")
    assert "file path" in _problem(rule, "", "p")
    assert "file path" in _problem(rule, 3, "p")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    assert "cannot write to" in _problem(rule, str(tmp_path / "r.json"), "p")


def test_writable_path_on_a_read_only_file_system():
    if os.access("/proc", os.W_OK) and Path("/proc/self").is_dir():
        message = _problem(run_config.writable_path(), "/proc/self/results.json", "results_path")
        assert "cannot write to" in message and "results_path" in message


def test_validate_parameters_reports_every_problem_at_once():
    rules = {"a": run_config.positive_number(), "b": run_config.seeds()}
    assert run_config.validate_parameters({"a": 1, "b": [2]}, rules) == {"a": 1.0, "b": [2]}
    with pytest.raises(ValueError) as error:
        run_config.validate_parameters({"a": float("nan"), "b": []}, rules)
    assert "a must be" in str(error.value) and "b must be" in str(error.value)
    with pytest.raises(ValueError, match="without a rule"):
        run_config.validate_parameters({"a": 1, "b": [2], "c": 3}, rules)


@pytest.mark.parametrize(
    ("value", "expected"), [(None, False), ("", False), ("0", False), ("1", True), ("yes", True)]
)
def test_smoke_run(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(run_config.SMOKE_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(run_config.SMOKE_VARIABLE, value)
    assert run_config.smoke_run() is expected


# -------------------------------------------------------------------------- determinism


@pytest.fixture
def determinism_state():
    from tensorflow.python.framework import config

    before = config.is_op_determinism_enabled()
    yield config
    (config.enable_op_determinism if before else config.disable_op_determinism)()


def test_determinism_on_cpu(determinism_state):
    decision = run_config.configure_determinism(gpus=[])
    assert decision.enabled and decision.device == "CPU"
    assert determinism_state.is_op_determinism_enabled()


def test_the_default_probe_runs_under_determinism_on_this_machine(determinism_state):
    determinism_state.enable_op_determinism()
    run_config._probe_chapter_ops()  # on a CPU every op has a deterministic kernel


def test_gpu_without_deterministic_kernels_runs_without_determinism(determinism_state):
    import tensorflow as tf

    def probe():
        assert determinism_state.is_op_determinism_enabled()  # tried with determinism on
        raise tf.errors.UnimplementedError(
            None, None, "Deterministic GPU implementation of unsorted segment reduction op"
        )

    decision = run_config.configure_determinism(gpus=["fake GPU"], probe=probe)
    assert not decision.enabled and decision.device == "GPU"
    assert "not bit-reproducible" in decision.reason and "segment reduction" in decision.reason
    assert not determinism_state.is_op_determinism_enabled()


def test_gpu_with_deterministic_kernels_keeps_determinism(determinism_state):
    tried = []
    decision = run_config.configure_determinism(gpus=["fake GPU"], probe=lambda: tried.append(1))
    assert decision.enabled and decision.device == "GPU" and tried == [1]
    assert determinism_state.is_op_determinism_enabled()


def test_gpu_probe_errors_other_than_unimplemented_are_not_hidden(determinism_state):
    def probe():
        raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        run_config.configure_determinism(gpus=["fake GPU"], probe=probe)


# ----------------------------------------------------------------------- bag of n-grams

_TEXTS = [
    "a great film, great cast",
    "a dull film, awful plot",
    "great fun and a great cast",
    "awful, dull and boring",
    "not bad at all, great",
    "boring plot, awful acting",
    "loved it, great",
    "hated it, awful",
    "a gem",
    "a dud",
]
_LABELS = np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0])


def test_nb_log_ratio_matches_the_formula():
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = (rng.random((30, 7)) < 0.3).astype(np.float32)
    y = rng.integers(0, 2, 30)
    r = bag_of_ngrams.nb_log_ratio(tf.sparse.from_dense(x), y, alpha=1.0).numpy()
    p = 1.0 + x[y == 1].sum(axis=0)
    q = 1.0 + x[y == 0].sum(axis=0)
    expected = np.log(p / p.sum()) - np.log(q / q.sum())
    np.testing.assert_allclose(r, expected, atol=1e-6)


def _parts(texts=_TEXTS, labels=_LABELS, n_fit=8):
    """Fit on the first n_fit reviews, validate on the rest, test on all (a toy split)."""
    return (texts[:n_fit], labels[:n_fit], texts[n_fit:], labels[n_fit:], texts, labels)


def _dense(x):
    import tensorflow as tf

    return tf.sparse.to_dense(x).numpy()


def test_make_features_learns_only_from_the_fitting_part():
    features = bag_of_ngrams.make_features(
        *_parts()[:4], _TEXTS[:3], _LABELS[:3], ngrams=2, vocabulary_size=200
    )
    assert features.x_fit.dense_shape.numpy().tolist() == [8, 200]
    assert features.x_val.dense_shape.numpy().tolist() == [2, 200]
    assert features.x_test.dense_shape.numpy().tolist() == [3, 200]
    assert features.r.shape == (200,)
    assert features.texts_val == _TEXTS[8:]
    assert "gem" not in features.ngram_list and "dud" not in features.ngram_list  # validation only
    assert "great cast" in features.ngram_list  # a bigram
    assert features.x_fit.values.numpy().max() == 1.0  # binary


def test_make_features_keeps_the_callers_parts_in_order():
    # A movie-disjoint validation part is not a tail of the training reviews.
    order = [0, 3, 4, 7, 8, 9, 1, 2, 5, 6]
    texts = [_TEXTS[i] for i in order]
    features = bag_of_ngrams.make_features(*_parts(texts, _LABELS[order], n_fit=6))
    assert features.texts_val == texts[6:]
    np.testing.assert_array_equal(features.y_val, _LABELS[order][6:])
    validation = _dense(features.x_val)
    for row, text in enumerate(texts[6:]):
        np.testing.assert_array_equal(validation[row], _dense(features.vectorize([text]))[0])


def test_trigrams_and_unigrams():
    three = bag_of_ngrams.make_features(*_parts(), ngrams=3)
    assert "a great film" in three.ngram_list
    one = bag_of_ngrams.make_features(*_parts(), ngrams=1)
    assert all(" " not in gram for gram in one.ngram_list)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ngrams": 4}, "ngrams must be 1, 2 or 3"),
        ({"vocabulary_size": 1}, "vocabulary_size"),
        ({"vocabulary_size": True}, "vocabulary_size"),
        ({"y_fit": _LABELS[:-3]}, "must match"),
        ({"y_val": _LABELS[:2] * 2}, "0/1 labels"),
        ({"texts_test": _TEXTS[:1]}, "texts_test"),
        ({"texts_fit": [], "y_fit": []}, "texts_fit is empty"),
    ],
)
def test_make_features_refuses_bad_input(kwargs, message):
    names = ("texts_fit", "y_fit", "texts_val", "y_val", "texts_test", "y_test")
    arguments = {**dict(zip(names, _parts(), strict=True)), **kwargs}
    with pytest.raises(ValueError, match=message):
        bag_of_ngrams.make_features(**arguments)


def test_train_and_predict():
    features = bag_of_ngrams.make_features(*_parts()[:4], _TEXTS[:4], _LABELS[:4])
    model, history = bag_of_ngrams.train(features, seed=0, epochs=2)
    assert model.count_params() == 100_001 and len(history.history["val_accuracy"]) == 2
    for part, size in (("val", 2), ("test", 4)):
        p = bag_of_ngrams.predict_proba(model, features, part)
        assert p.shape == (size,) and np.all((p > 0) & (p < 1))
        accuracy = bag_of_ngrams.evaluate(model, features, part)
        y = features.y_val if part == "val" else features.y_test
        assert math.isclose(accuracy, np.mean((p > 0.5) == (y == 1)), abs_tol=1e-6)
    assert bag_of_ngrams.predict_proba(model, features, ["great fun", "awful"]).shape == (2,)
    again, _ = bag_of_ngrams.train(features, seed=0, epochs=2)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)  # the seed fixes everything
    with pytest.raises(ValueError, match="part must be"):
        bag_of_ngrams.predict_proba(model, features, "train")


# ------------------------------------------------------------- papermill runs (with data)


@needs_data
def test_smoke_run_writes_results_for_every_model(smoke_run):
    # The session's one execution of the solution at its smoke size (tests/conftest.py).
    run = smoke_run("03_imdb.ipynb")
    notebook, results = run.notebook, run.results
    assert results is not None, "the smoke run wrote no results JSON"
    assert sorted(results) == sorted(MODELS)
    for key, row in results.items():
        assert set(row) == {*FIELDS, "epochs"}, key
        for field, kind in FIELDS.items():
            assert isinstance(row[field], kind), (key, field, row[field])
        assert isinstance(row["epochs"], int) and row["epochs"] >= 1, key
        assert 0.0 <= row["val_accuracy"] <= 1.0, key
        assert 0.0 <= row["test_accuracy"] <= 1.0, key
        assert row["train_seconds"] > 0, key
        if key in PARAMS:
            assert row["params"] == PARAMS[key], key
    assert results["tuned_lstm"]["params"] == PARAMS["stacked_lstm"]
    assert not literal_claims(notebook)  # the prose holds for this run too
    assert "Skipped" not in _stored_text(notebook)


BAD_PARAMETERS = {  # each with the message its rule gives
    "epochs_scale": (0, "epochs_scale must be a finite number greater than 0"),
    "train_samples": (10, "train_samples must be None"),
    "tuned_max_epochs": ("x", "tuned_max_epochs must be an integer"),
    "results_path": ("/nonexistent-dir/r.json", "does not exist"),
}


def test_bad_parameters_fail_before_anything_is_imported_or_trained(run_notebook):
    # One run with every bad value: validate_parameters reports each on its own line, so
    # each rule is still checked (a kernel start per value would only repeat the same cells).
    import papermill

    with pytest.raises(papermill.PapermillExecutionError) as error:
        run_notebook(
            NOTEBOOK, {name: value for name, (value, _) in BAD_PARAMETERS.items()}, timeout=60
        )
    text = str(error.value)
    assert "validate_parameters" in text  # the check cell, before the imports
    for name, (value, message) in BAD_PARAMETERS.items():
        assert message in text, f"{name}={value!r}: no {message!r} in\n{text}"


# --------------------------------------------------------------------------- the figure


def test_training_curves_are_drawn_at_the_size_they_are_shown():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from utils.plots import plot_training_curves

    logs = {"loss": [0.7, 0.5], "accuracy": [0.5, 0.8], "val_loss": [0.6, 0.6]}
    logs["val_accuracy"] = [0.6, 0.7]
    figure = plot_training_curves(logs, "title", best_epoch=1)
    assert tuple(figure.get_size_inches()) == (7.0, 2.8) and figure.dpi == 100
    texts = [t for ax in figure.axes for t in ax.texts + ax.get_xticklabels() + [ax.title]]
    assert min(t.get_fontsize() for t in texts) >= 10
    ticks = [tick for tick in figure.axes[0].get_xticks() if 0.5 <= tick <= 2.5]
    assert all(float(tick).is_integer() for tick in ticks)
    plt.close(figure)
    with pytest.raises(ValueError, match="loss"):
        plot_training_curves({"acc": [1]}, "title")


# ------------------------------------------------------------------ the test set, once

TEST_MARKER = "## The test set, once"
_PREDICTING = {"predict", "evaluate", "predict_proba", "predict_on_batch", "__call__"}


def _test_reads(tree: ast.AST) -> list[str]:
    """Expressions that score a model on the test set, outside lambdas (stored, not called)."""
    found = []

    def mentions_test(node: ast.AST) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in {"x_test", "y_test", "x_te"}:
                return True
            if isinstance(sub, ast.Attribute) and sub.attr in {"x_test", "y_test"}:
                return True
            if isinstance(sub, ast.Constant) and sub.value == "test":
                return True
        return False

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.Lambda):
            return  # a stored way to predict later; calling it is what counts
        if isinstance(node, ast.Call):
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "predict_test":
                found.append(ast.unparse(node))
            elif name in _PREDICTING and any(
                mentions_test(arg) for arg in [*node.args, *(k.value for k in node.keywords)]
            ):
                found.append(ast.unparse(node))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _test_reads_before_the_marker(notebook) -> list[tuple[int, str]]:
    reads = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown" and cell.source.startswith(TEST_MARKER):
            return reads
        if cell.cell_type == "code":
            reads += [(index, text) for text in _test_reads(ast.parse(cell.source))]
    raise AssertionError(f"no markdown cell starts with {TEST_MARKER!r}")


def test_the_test_reader_finds_test_scoring():
    code = (
        "a = model.evaluate(x_test, y_test)\n"
        "b = bag_of_ngrams.predict_proba(m, f, 'test')\n"
        "c = runs['x'].predict_test()\n"
        "d = model.predict(parts.x_test)\n"
        "keep = lambda: model.predict(parts.x_test)\n"
        "e = model.predict(parts.x_val)\n"
    )
    assert len(_test_reads(ast.parse(code))) == 4


@pytest.mark.parametrize("path", [NOTEBOOK, "solutions/05_transformer.ipynb"])
def test_the_test_set_is_scored_only_after_the_marker(root, path):
    notebook = nbformat.read(root / path, as_version=4)
    assert not _test_reads_before_the_marker(notebook), _test_reads_before_the_marker(notebook)
    marker = next(i for i, c in enumerate(notebook.cells) if c.source.startswith(TEST_MARKER))
    after = [
        text
        for cell in notebook.cells[marker:]
        if cell.cell_type == "code"
        for text in _test_reads(ast.parse(cell.source))
    ]
    assert after, "the marked section scores nothing on the test set"
