# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 6443
DATA_DIR ?= .vapi
FUZZ_SECONDS ?= 600
# schemathesis (and the hypothesis and pytest plugin it brings) live in a venv of their own, so that
# `make test` runs exactly as it does without them.
FUZZ_VENV := .venv-fuzz
FUZZ_STAMP := $(FUZZ_VENV)/.installed

.PHONY: run test conformance bench fuzz clean

# Editable installs get no bytecode, and where PYTHONDONTWRITEBYTECODE is set every start would
# compile the server again (~0.2 s of a sub-second start), hence compileall once at install.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/python -m compileall -q vapi storage admission syncer
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/vapi serve --port $(PORT) --data-dir $(DATA_DIR)

test: $(STAMP)
	$(BIN)/pytest tests conformance

# Runs the conformance suite against $$KUBECONFIG, or against a fresh `vapi serve` when unset.
conformance: $(STAMP)
	$(BIN)/pytest conformance

bench: $(STAMP)
	$(BIN)/python -m bench

# schemathesis against a fresh server's OpenAPI (core/v1, apps/v1, a CRD) for FUZZ_SECONDS; not part of `make test`.
$(FUZZ_STAMP): pyproject.toml
	$(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --upgrade pip
	$(FUZZ_VENV)/bin/pip install --quiet -e '.[fuzz]'
	touch $(FUZZ_STAMP)

fuzz: $(FUZZ_STAMP)
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(FUZZ_VENV)/bin/python -m fuzz

clean:
	rm -rf $(VENV) $(FUZZ_VENV) $(DATA_DIR) *.egg-info
