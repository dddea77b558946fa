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

# System packages (Debian/Ubuntu names). `make demo` grades in the bubblewrap sandbox;
# `make test` also opens the lectures in Chromium (with fonts for its screenshots) and
# starts a throw-away PostgreSQL server. As root they are installed with apt-get (as on a
# fresh container or CI machine); otherwise make stops at once, before the long Python
# install, and prints the one command to run. CNNKIT_SKIP_BROWSER=1 drops Chromium.
# Debian's python3.11 creates virtual environments only with python3.11-venv installed.
VENV_PACKAGE := $(if $(wildcard $(BIN)/python),,$(shell $(PYTHON) -c 'import ensurepip' \
	>/dev/null 2>&1 || echo python3.11-venv))
DEMO_PACKAGES := $(VENV_PACKAGE) bubblewrap
TEST_PACKAGES := $(VENV_PACKAGE) bubblewrap postgresql $(if $(filter 1,$(CNNKIT_SKIP_BROWSER)),,chromium fonts-dejavu-core fonts-liberation)

# $(call system_packages,PACKAGES,GOAL): install what is missing (root) or stop with the command.
# Without dpkg (not Debian/Ubuntu), the programs themselves are looked for instead.
define system_packages
@missing=""; \
for package in $(1); do \
  if command -v dpkg-query >/dev/null 2>&1; then \
    dpkg-query -W -f='$${Status}' "$$package" 2>/dev/null | grep -q "install ok installed" \
      || missing="$$missing $$package"; \
  else \
    case "$$package" in \
      bubblewrap) command -v bwrap >/dev/null 2>&1 || missing="$$missing $$package";; \
      chromium) command -v chromium >/dev/null 2>&1 || missing="$$missing $$package";; \
      postgresql) command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb \
        >/dev/null 2>&1 || missing="$$missing $$package";; \
    esac; \
  fi; \
done; \
if [ -n "$$missing" ]; then \
  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
    echo "installing system packages:$$missing (apt-get, as root)"; \
    DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         $$missing >/dev/null || { echo "error: apt-get could not install$$missing" >&2; exit 1; }; \
  else \
    echo "error: missing system packages:$$missing" >&2; \
    echo "run this once, then make $(2) again:" >&2; \
    echo "    sudo apt-get install -y$$missing" >&2; \
    exit 1; \
  fi; \
fi
endef

.PHONY: help install demo test lab bench clean system-packages-demo system-packages-test

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

system-packages-demo:
	$(call system_packages,$(DEMO_PACKAGES),demo)

system-packages-test:
	$(call system_packages,$(TEST_PACKAGES),test)

# The system check comes first so that a missing package stops make before the install.
demo: system-packages-demo
	@$(MAKE) --no-print-directory $(STAMP)
	$(BIN)/python -m autograder demo

test: system-packages-test
	@$(MAKE) --no-print-directory $(STAMP)
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
