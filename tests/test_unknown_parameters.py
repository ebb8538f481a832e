"""Papermill runs refuse parameter names the notebook does not have (issue 21).

Papermill only warns about an unknown name ("Passed unknown parameter: epoch_scale") and runs
the notebook at its defaults: a typo in `-p epochs_scale 0.1` used to start the full job.
`utils.run_config.validate_parameters` now compares the names of papermill's injected cell
with the notebook's rules, in the validation cell, before anything is imported or trained.
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from utils import run_config

ROOT = Path(__file__).resolve().parent.parent
RULES = {"epochs_scale": run_config.positive_number(), "seed": run_config.integer(minimum=0)}
VALUES = {"epochs_scale": 1.0, "seed": 0}
# What papermill's Python translator writes for `-p epoch_scale 0.1 -p seed 3` (black-formatted).
INJECTED = "# Parameters\nepoch_scale = 0.1\nseed = 3\n"


def test_the_injected_names_are_read_from_the_last_injection():
    history = ["", "seed = 0", INJECTED, "print(seed)"]
    assert run_config.injected_parameter_names(history) == ["epoch_scale", "seed"]
    later = "# Parameters\nmodels = [\n    'best',\n]\n"  # a value black split over lines
    assert run_config.injected_parameter_names([*history, later]) == ["models"]


@pytest.mark.parametrize(
    "history",
    [
        [],
        ["", "seed = 0", "print(seed)"],
        ["# Parameters of the plot\nwidth = 3\n"],  # a person's own cell, not papermill's
        ["x = 1  # Parameters\n"],
    ],
)
def test_no_injection_means_no_names(history):
    assert run_config.injected_parameter_names(history) is None


def test_papermills_own_path_parameters_are_not_the_notebooks():
    history = ["# Parameters\nseed = 1\nPAPERMILL_INPUT_PATH = 'a.ipynb'\n"]
    assert run_config.injected_parameter_names(history) == ["seed"]


def test_outside_ipython_there_is_no_injection():
    assert run_config.injected_parameter_names() is None
    assert run_config.validate_parameters(VALUES, RULES) == VALUES


def test_an_unknown_name_is_refused_with_the_closest_known_names():
    with pytest.raises(ValueError) as error:
        run_config.validate_parameters(VALUES, RULES, injected=["epoch_scale", "seed"])
    message = str(error.value)
    assert "unknown parameter 'epoch_scale'" in message
    assert "did you mean epochs_scale?" in message
    assert "its parameters are epochs_scale, seed" in message
    assert "'seed'" not in message  # a known name is not reported


def test_an_unknown_name_far_from_any_is_refused_without_a_guess():
    with pytest.raises(ValueError, match=r"unknown parameter 'colour': .*\(its parameters"):
        run_config.validate_parameters(VALUES, RULES, injected=["colour"])


def test_unknown_names_and_invalid_values_are_reported_together():
    with pytest.raises(ValueError) as error:
        run_config.validate_parameters({**VALUES, "seed": -1}, RULES, injected=["sed"])
    assert "unknown parameter 'sed'" in str(error.value)
    assert "seed must be an integer >= 0" in str(error.value)


# --- real papermill runs ----------------------------------------------------------------------


def _notebook(path: Path) -> Path:
    """A notebook with a `parameters` cell and a validation cell, as chapters 3 and 5 have."""
    parameters = nbformat.v4.new_code_cell("epochs_scale = 1.0\nseed = 0")
    parameters.metadata["tags"] = ["parameters"]
    check = nbformat.v4.new_code_cell(
        "from utils import run_config\n"
        "values = run_config.validate_parameters(\n"
        "    {'epochs_scale': epochs_scale, 'seed': seed},\n"
        "    {'epochs_scale': run_config.positive_number(), 'seed': run_config.integer(0)},\n"
        ")\nprint(values)"
    )
    notebook = nbformat.v4.new_notebook(cells=[parameters, check])
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, path)
    return path


@pytest.mark.slow  # starts a kernel: left out of `make test-fast`
def test_papermill_run_with_known_names_or_none_runs(tmp_path):
    import papermill

    source = _notebook(tmp_path / "small.ipynb")
    for parameters, shown in (({"seed": 4}, "'seed': 4"), ({}, "'seed': 0")):
        papermill.execute_notebook(
            str(source),
            str(tmp_path / "out.ipynb"),
            parameters=parameters,
            cwd=str(ROOT),
            kernel_name="python3",
            progress_bar=False,
        )
        executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
        assert shown in executed.cells[-1].outputs[0]["text"]


@pytest.mark.parametrize(
    ("notebook", "typo", "known"),
    [
        ("solutions/03_imdb.ipynb", "epoch_scale", "epochs_scale"),
        ("solutions/05_transformer.ipynb", "max_epoch", "max_epochs"),
        ("solutions/06_unlabelled.ipynb", "pretrain_epoch", "pretrain_epochs"),
    ],
)
def test_a_misspelt_parameter_stops_the_run_before_any_work(run_notebook, notebook, typo, known):
    import papermill

    start = time.perf_counter()
    with pytest.raises(papermill.PapermillExecutionError) as error:
        run_notebook(notebook, {typo: 0.1}, timeout=120)
    seconds = time.perf_counter() - start
    message = str(error.value)
    assert f"unknown parameter '{typo}'" in message and f"did you mean {known}" in message
    assert "validate_parameters" in message  # the validation cell, before the imports
    # Unloaded, the run stops after about 5 s (kernel start included); a training step of the
    # smallest model would take longer than this bound on a loaded machine.
    assert seconds < 60, f"{notebook} took {seconds:.0f} s to refuse {typo!r}"
    print(f"{notebook}: refused {typo!r} after {seconds:.1f} s")
