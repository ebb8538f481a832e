# Two commands set everything up on a fresh machine: `make book` and `make test`.
# Both create (or reuse) .venv from requirements.txt. `make test-colab` runs the notebooks
# again in .venv-colab, built from requirements-colab.txt (Google Colab's package versions).
# `make test-fast` runs the unit tests only (no notebook executions, book builds or whole-
# archive reads: the tests marked slow, see tests/conftest.py), in well under a minute.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
VENV_COLAB := .venv-colab
STAMP_COLAB := $(VENV_COLAB)/.requirements-installed
NOTEBOOKS := $(sort $(wildcard solutions/[0-9][0-9]_*.ipynb))
LINTED := utils tests solutions chapters .ci
# pytest-xdist: JOBS workers (2 cores here and on GitHub's runners; JOBS=0 runs in one
# process). tests/conftest.py schedules them: each file is one group on one worker, so that a
# module's fixtures are set up once, except the notebook runs (a group per notebook and
# edition) and the browser tests (four groups); the longest groups go first.
JOBS ?= 2
XDIST := -n $(JOBS)

# Notebooks must render figures inline (the stored-output comparison reads their text/plain form).
unexport MPLBACKEND

.PHONY: venv venv-colab book chapters solutions test test-fast test-colab lint mathjax clean

# The pins are installed by uv, not pip: pip took about 130 s for the two environments of
# .ci/run (it downloads one wheel at a time), uv with --compile-bytecode well under a minute,
# with the same pinned versions (measured on this 2-core machine, fresh caches). The byte
# code is compiled at install time, as pip does: where PYTHONDONTWRITEBYTECODE is set (as on
# CI machines here) nothing would ever compile it, and every kernel of the tests took 24 s
# instead of 7 s to import TensorFlow. uv itself is pinned and comes from PyPI through pip;
# INSTALLER=pip uses pip alone.
UV_VERSION := 0.13.9
INSTALLER ?= uv

# `$(call install,VENV,REQUIREMENTS)`: the pins of REQUIREMENTS into the environment VENV.
define install
	$(if $(filter uv,$(INSTALLER)),\
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION) && \
	$(1)/bin/uv pip install --quiet --compile-bytecode --python $(1)/bin/python -r $(2),\
	$(1)/bin/python -m pip install --quiet --disable-pip-version-check -r $(2))
endef

venv: $(STAMP)

# Reinstall only when requirements.txt changes.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(call install,$(VENV),requirements.txt)
	touch $(STAMP)

venv-colab: $(STAMP_COLAB)

# The same for Colab's versions; rebuilt from scratch so no package of an older pin survives.
$(STAMP_COLAB): requirements-colab.txt
	rm -rf $(VENV_COLAB)
	$(PYTHON) -m venv $(VENV_COLAB)
	$(call install,$(VENV_COLAB),requirements-colab.txt)
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

# Every notebook is executed once, at smoke size, as a solution and, where the student edition
# leaves solution cells out, as the student's flow (tests/test_notebook_runs.py); the stored
# outputs are compared with that execution as `pytest --nbval` would (tests/stored_outputs.py),
# and the book is built once.
test: lint mathjax
	$(PY) -m pytest $(XDIST) --durations=30 tests

# The unit tests, for a developer between edits: everything not marked slow.
test-fast: $(STAMP)
	$(PY) -m pytest $(XDIST) -m "not slow" tests

# What students run in Colab, under Colab's package versions: every chapter with its stubs filled
# by the solutions, at smoke size (the student-flow tests of tests/test_notebook_runs.py). The
# solution notebooks, which instructors run with papermill under requirements.txt, are run by
# `make test`; the student flow executes the same code without the solution-only cells (where
# there are none, it is the solution's program cell for cell, and that is what runs here).
# The smoke size comes from each notebook's metadata (course.smoke_parameters). The first line
# prints the versions the run uses.
test-colab: $(STAMP_COLAB)
	$(VENV_COLAB)/bin/python -c 'import platform, importlib.metadata as m; print(f"Python {platform.python_version()}", *(f"{p} {m.version(p)}" for p in ("tensorflow-cpu", "keras", "numpy", "pandas", "matplotlib")), sep=", ")'
	$(VENV_COLAB)/bin/python -m pytest $(XDIST) -k student_flow tests/test_notebook_runs.py

clean:
	rm -rf _build _mathjax
