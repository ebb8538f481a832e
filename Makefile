# Two commands set everything up on a fresh machine: `make book` and `make test`.
# Both create (or reuse) .venv from requirements.txt. `make test-colab` runs the notebooks
# again in .venv-colab, built from requirements-colab.txt (Google Colab's package versions).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
VENV_COLAB := .venv-colab
STAMP_COLAB := $(VENV_COLAB)/.requirements-installed
NOTEBOOKS := $(sort $(wildcard solutions/[0-9][0-9]_*.ipynb))
LINTED := utils tests solutions chapters .ci

# Notebooks must render figures inline (nbval compares their text/plain form).
unexport MPLBACKEND

.PHONY: venv venv-colab book chapters solutions test test-colab lint mathjax clean

venv: $(STAMP)

# Reinstall only when requirements.txt changes.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

venv-colab: $(STAMP_COLAB)

# The same for Colab's versions; rebuilt from scratch so no package of an older pin survives.
$(STAMP_COLAB): requirements-colab.txt
	rm -rf $(VENV_COLAB)
	$(PYTHON) -m venv $(VENV_COLAB)
	$(VENV_COLAB)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-colab.txt
	touch $(STAMP_COLAB)

# MathJax is copied from the pinned django-static-mathjax wheel so the site renders maths
# offline; _config.yml points `mathjax_path` at it.
# (Not under _static/: Jupyter Book would add every .js file there to every page.)
mathjax: $(STAMP)
	rm -rf _mathjax
	mkdir -p _mathjax
	cp -r "$$($(PY) -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("mathjax").origin).parent / "static" / "mathjax" / "es5")')" _mathjax/mathjax

book: mathjax
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

# FORCE=1 overwrites chapters edited by hand (after saving NN_topic.ipynb.bak).
chapters: $(STAMP)
	$(PY) -m utils.chapters $(if $(FORCE),--force)

# The full published run of every solution notebook (chapters 3 and 5 train for several
# minutes each on 2 CPU cores). The generator runs first so that the setup and references
# cells it writes are the ones executed; COURSE_NBVAL_SMOKE would make the run a quick one.
solutions: $(STAMP)
	$(PY) -m utils.chapters
	for notebook in $(NOTEBOOKS); do \
		env -u COURSE_NBVAL_SMOKE $(PY) -m papermill "$$notebook" "$$notebook" --cwd . || exit 1; \
	done
	$(PY) -m utils.chapters

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

# nbval executes every solution notebook, so the papermill smoke runs of whole solutions
# (marker solution_smoke) are left to test-colab, which has no nbval.
test: lint mathjax
	$(PY) -m pytest -m "not solution_smoke" tests
	COURSE_NBVAL_SMOKE=1 $(PY) -m pytest --nbval --nbval-current-env $(NOTEBOOKS)

# Every solution notebook at smoke size and every chapter with its stubs filled by the solutions,
# under Colab's package versions (tests/test_notebook_runs.py). The smoke size comes from each
# notebook's metadata (course.smoke_parameters); nbval's switch COURSE_NBVAL_SMOKE is unset so
# that it cannot override them. The first line prints the versions the run uses.
test-colab: $(STAMP_COLAB)
	$(VENV_COLAB)/bin/python -c 'import platform, importlib.metadata as m; print(f"Python {platform.python_version()}", *(f"{p} {m.version(p)}" for p in ("tensorflow-cpu", "keras", "numpy", "pandas", "matplotlib")), sep=", ")'
	env -u COURSE_NBVAL_SMOKE $(VENV_COLAB)/bin/python -m pytest --durations=10 tests/test_notebook_runs.py

clean:
	rm -rf _build _mathjax
