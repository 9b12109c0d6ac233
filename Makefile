# Two commands set up everything on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 6443
DATA_DIR ?= .vapi

.PHONY: run test conformance bench clean

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

clean:
	rm -rf $(VENV) $(DATA_DIR) *.egg-info
