"""Chapter 3 (IMDB): a quick papermill run of every model, and the stored parameter counts."""

from __future__ import annotations

import json
import os

import nbformat
import numpy as np
import pytest

from utils import checks

NOTEBOOK = "solutions/03_imdb.ipynb"
MODELS = ["dense", "simple_rnn", "lstm", "stacked_lstm", "tuned_lstm", "best"]
# The parameter counts the issue fixes for the four prescribed architectures.
PARAMS = {"dense": 170_305, "simple_rnn": 161_601, "lstm": 166_305, "stacked_lstm": 174_625}
FIELDS = {"params": int, "val_accuracy": float, "test_accuracy": float, "train_seconds": float}


def _stored_text(notebook) -> str:
    """All text/plain and stream outputs of the notebook's code cells, concatenated."""
    parts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream":
                parts.append(output.get("text", ""))
            elif "data" in output:
                parts.append(output["data"].get("text/plain", ""))
    return "\n".join(parts)


needs_data = pytest.mark.skipif(
    not os.environ.get("COURSE_DATA_DIR"), reason="needs COURSE_DATA_DIR with the aclImdb archive"
)


@needs_data
def test_smoke_run_writes_results_for_every_model(run_notebook, tmp_path):
    results_path = tmp_path / "results.json"
    run_notebook(
        NOTEBOOK,
        {
            "models": MODELS,
            "epochs_scale": 0.01,  # one epoch each
            "train_samples": 500,
            "test_samples": 500,
            "best_seeds": [0],
            "results_path": str(results_path),
        },
        timeout=300,
    )
    results = json.loads(results_path.read_text(encoding="utf-8"))
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


@needs_data
def test_subset_of_models_runs(run_notebook, tmp_path):
    """Only the best model: every other section must skip itself cleanly."""
    results_path = tmp_path / "results.json"
    notebook = run_notebook(
        NOTEBOOK,
        {
            "models": ["best"],
            "epochs_scale": 0.01,
            "train_samples": 500,
            "test_samples": 500,
            "best_seeds": [0],
            "results_path": str(results_path),
        },
        timeout=300,
    )
    assert list(json.loads(results_path.read_text(encoding="utf-8"))) == ["best"]
    assert "Skipped: 'dense' is not in `models`" in _stored_text(notebook)


def test_stored_outputs_show_the_parameter_counts(root):
    notebook = nbformat.read(root / NOTEBOOK, as_version=4)
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in code_cells), "the notebook is not fully executed"
    text = _stored_text(notebook)
    for count in PARAMS.values():
        assert f"Total params: {count:,}" in text, count


# ------------------------------------------------ the nearest-neighbour exercise check


def _neighbours(normalise=True, exclude_self=True):
    """A nearest-neighbour function, correct by default, with one mistake switched on."""

    def neighbours(embeddings, vocabulary, word, k=8):
        if word not in vocabulary:
            raise ValueError(f"{word!r} is not in the vocabulary")
        index = vocabulary[word]
        scores = embeddings @ embeddings[index]
        if normalise:
            norms = np.linalg.norm(embeddings, axis=1)
            scores = scores / (norms * norms[index])
        if exclude_self:
            scores[index] = -np.inf
        words = {i: w for w, i in vocabulary.items()}
        return [(words[i], float(scores[i])) for i in np.argsort(-scores)[:k]]

    return neighbours


_cosine_neighbours = _neighbours()
_dot_product = _neighbours(normalise=False)
_keeps_itself = _neighbours(exclude_self=False)


def _ascending(embeddings, vocabulary, word, k=8):
    return _cosine_neighbours(embeddings, vocabulary, word, k=len(vocabulary) - 1)[::-1][:k]


def _key_error(embeddings, vocabulary, word, k=8):
    vocabulary[word]  # raises KeyError for unknown words
    return _cosine_neighbours(embeddings, vocabulary, word, k)


def _stub(embeddings, vocabulary, word, k=8):
    raise NotImplementedError


def test_check_nearest_neighbours_passes_a_correct_function(capsys):
    checks.check_nearest_neighbours(_cosine_neighbours)
    assert "✓" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "message"),
    [
        (_dot_product, "plain dot product"),
        (_keeps_itself, "its own nearest neighbour"),
        (_ascending, "reversed"),
        (_key_error, "raised KeyError"),
        (_stub, "not implemented yet"),
    ],
)
def test_check_nearest_neighbours_names_the_mistake(wrong, message):
    with pytest.raises(checks.CheckFailed, match=message):
        checks.check_nearest_neighbours(wrong)


@needs_data
@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"models": ["lstn"]}, "unknown model key"),
        ({"epochs_scale": 0}, "epochs_scale must be a positive number"),
        ({"train_samples": 10}, "train_samples must be None"),
    ],
)
def test_bad_parameters_fail_before_training(run_notebook, parameters, message):
    import papermill

    with pytest.raises(papermill.PapermillExecutionError, match=message):
        run_notebook(NOTEBOOK, parameters, timeout=60)
