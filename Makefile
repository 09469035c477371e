# The README's commands. `make setup` once, then `make demo` / `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup demo test test-fast test-kubeflow lint format lock demo-data clean

setup:            ## create .venv (Python 3.10) and install the project with pinned versions
	VENV=$(VENV) scripts/setup.sh

demo:             ## run the whole pipeline on the embedded demo data
	$(PY) local_runner.py

test:             ## the full test suite (unit + end-to-end pipeline), except the Kubeflow execution
	$(PY) -m pytest -m "not kfp"

test-fast:        ## unit tests only
	$(PY) -m pytest -m "not e2e"

test-kubeflow:    ## the compiled spec executed task by task, as open-source KFP runs it (40+ minutes)
	$(PY) -m pytest -m kfp

lint:             ## ruff (lint + format check), mypy, import-linter's layer contracts: zero findings
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

format:           ## apply ruff's formatter and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

demo-data:        ## regenerate data/demo from the project's generator (deterministic)
	$(PY) -m datagen --out data/demo/span-0/corpus.csv --rows 3000 --seed 7

lock:             ## regenerate requirements/constraints.txt from the current venv
	$(PY) -m pip freeze --exclude-editable | grep -v -E '^(lexflow|pip|setuptools|wheel)==' > requirements/constraints.txt

clean:
	rm -rf artifacts
