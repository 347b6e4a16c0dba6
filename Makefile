# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TASK ?= Compare SQLite and PostgreSQL checkpointers, then write a short summary

.PHONY: install demo audit-demo test lint

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/orchestra run research --task "$(TASK)"

# The flagship job offline: generate the demo repositories, audit them, write the report.
SAMPLES ?= .orchestra/samples
audit-demo: $(STAMP)
	$(BIN)/orchestra samples $(SAMPLES) --force
	$(BIN)/orchestra audit $(SAMPLES) --policy $(SAMPLES)/policy.toml --report .orchestra/audit-report.md

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest
