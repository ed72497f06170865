# Thin aliases over invoke (tasks.py); the first target builds .venv from pyproject.toml.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: quick reproduce test test-fast test-fleet-embedded test-loaded test-twins twins figures lint bench emulate clean

$(STAMP): pyproject.toml
	@echo "set-up: building $(VENV) from pyproject.toml (minutes, once)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# A second's watch for a busy machine before the set-up (minutes in a fresh clone): the standard library only (-S),
# so it runs before .venv exists; refuses with each way in that exists yet, exit 2; ARTIFACT_ALLOW_BUSY=1 skips it.
BUSY_CHECK = $(PYTHON) -S -m artifact.device.measure.busy

quick:  ## watch for a busy machine, set up, then the first look (minutes: docs/benchmarks.md): every step and technique, labelled QUICK
	@$(BUSY_CHECK) 'ARTIFACT_ALLOW_BUSY=1 make quick' '$(BIN)/invoke reproduce-all --quick --allow-busy'
	@$(MAKE) -s --no-print-directory $(STAMP)
	$(BIN)/invoke reproduce-all --quick

reproduce:  ## watch for a busy machine, set up, then run every experiment (embedded + paper profiles), check, report
	@$(BUSY_CHECK) 'ARTIFACT_ALLOW_BUSY=1 make reproduce' '$(BIN)/invoke reproduce-all --allow-busy'
	@$(MAKE) -s --no-print-directory $(STAMP)
	$(BIN)/invoke reproduce-all

test: $(STAMP)  ## set up, then lint and run the test suite
	$(BIN)/invoke lint test

test-fast: $(STAMP)  ## set up, then the fast tier: unit tests, no model training or pipeline runs (<= 3 min on 2 cores)
	$(BIN)/invoke test --fast

test-fleet-embedded: $(STAMP)  ## the embedded profile on three emulated boards of two kinds (~31 min on 2 cores; not in make test)
	ARTIFACT_FLEET_EMBEDDED=1 $(BIN)/python -m pytest -q tests/behaviour/test_fleet_smoke.py -k embedded

test-loaded: $(STAMP)  ## the suite 5 times in a row beside two busy processes (scheduler-dependent tests fail here)
	.ci/test-loaded 5

twins:  ## software twins of the boards' stacks in .twins/, one per docker/bases.toml [jetson.twin] (tx2: CPython 3.6 + TF 2.6, ...)
	.ci/board-twins .twins

test-twins: $(STAMP) twins  ## the smoke profile run by each twin, judged and reported by this Python
	ARTIFACT_REQUIRE_TWINS=1 $(BIN)/python -m pytest -q -n 2 --dist worksteal -m twins

figures: $(STAMP)  ## regenerate the report and figures from stored results (no re-run)
	$(BIN)/invoke figures

lint: $(STAMP)
	$(BIN)/invoke lint

bench: $(STAMP)
	$(BIN)/invoke bench

emulate: $(STAMP)  ## CI's container emulation: local dockerd, substitute bases, both images built and run, the fleet over both engines (root; 15-32 min loaded)
	.ci/container-emulation

clean:
	rm -rf results
