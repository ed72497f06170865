# Thin aliases over invoke (tasks.py); the first target builds .venv from pyproject.toml.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: reproduce test figures lint bench emulate clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

reproduce: $(STAMP)  ## set up, then run every experiment (embedded + paper profiles), check, report
	$(BIN)/invoke reproduce-all

test: $(STAMP)  ## set up, then lint and run the test suite
	$(BIN)/invoke lint test

figures: $(STAMP)  ## regenerate the report and figures from stored results (no re-run)
	$(BIN)/invoke figures

lint: $(STAMP)
	$(BIN)/invoke lint

bench: $(STAMP)
	$(BIN)/invoke bench

emulate: $(STAMP)  ## CI's container emulation: local dockerd, substitute bases, both images built and run (root; ~30 min)
	.ci/container-emulation

clean:
	rm -rf results
