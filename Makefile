# Two commands set everything up on a fresh machine: `make book` and `make test`.
# Both create (or reuse) .venv from requirements.txt.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-installed
NOTEBOOKS := $(sort $(wildcard solutions/[0-9][0-9]_*.ipynb))
LINTED := utils tests solutions chapters

# Notebooks must render figures inline (nbval compares their text/plain form).
unexport MPLBACKEND

.PHONY: venv book chapters solutions test lint mathjax clean

venv: $(STAMP)

# Reinstall only when requirements.txt changes.
$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# MathJax is copied from the pinned django-static-mathjax wheel so the site renders maths
# offline; _config.yml points `mathjax_path` at it.
# (Not under _static/: Jupyter Book would add every .js file there to every page.)
mathjax: $(STAMP)
	rm -rf _mathjax
	mkdir -p _mathjax
	cp -r "$$($(PY) -c 'import importlib.util, pathlib; print(pathlib.Path(importlib.util.find_spec("mathjax").origin).parent / "static" / "mathjax" / "es5")')" _mathjax/mathjax

book: mathjax
	$(VENV)/bin/jupyter-book build . --warningiserror --nitpick --keep-going

chapters: $(STAMP)
	$(PY) -m utils.chapters

# The full published run of every solution notebook (chapter 3 trains for about 7 minutes here).
solutions: $(STAMP)
	for notebook in $(NOTEBOOKS); do \
		$(PY) -m papermill "$$notebook" "$$notebook" --cwd . || exit 1; \
	done
	$(PY) -m utils.chapters

lint: $(STAMP)
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

test: lint mathjax
	$(PY) -m pytest tests
	COURSE_NBVAL_SMOKE=1 $(PY) -m pytest --nbval --nbval-current-env $(NOTEBOOKS)

clean:
	rm -rf _build _mathjax
