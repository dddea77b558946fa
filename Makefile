# cnn-course: the two commands of the README (`make demo`, `make test`) do all the set-up.
#
# A virtual environment in .venv is created on first use and (re)installed whenever
# pyproject.toml changes. Debian's /usr/bin/python3.11 is preferred when present (its
# files are readable by every user, which the grading sandbox relies on), else python3.11,
# else python3; override with `make PYTHON=/path/to/python3.11 ...`.

PYTHON ?= $(shell for p in /usr/bin/python3.11 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help install demo test lab bench clean

help:
	@echo "make demo   set up .venv if needed, then run the main job"
	@echo "make test   set up .venv if needed, then run the whole test suite"
	@echo "make lab    open JupyterLab on the course (students)"
	@echo "make bench  measure training, grading, notebooks, widgets (GPU if any); see bench/README.md"
	@echo "make clean  remove .venv and caches"

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { \
	  $(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null \
	    || { echo "error: Python 3.11 is required; found '$(PYTHON)'. Install Python 3.11 or run make PYTHON=/path/to/python3.11" >&2; exit 1; }; \
	  echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --upgrade --quiet pip
	$(BIN)/python -m pip install --quiet --editable .
	@touch $@

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m autograder demo

test: $(STAMP)
	CNNKIT_QUICK=1 $(BIN)/python -m pytest

# Jupyter refuses to run as root unless told; containers and lab machines often are root.
lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root)

# Writes bench/results/<UTC time>.json and latest.json; `$(BIN)/python -m bench --help` for options.
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
