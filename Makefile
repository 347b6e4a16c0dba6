# Set-up is part of every target: on a fresh clone `make demo` and `make test` do it all.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
SAMPLES ?= .orchestra/samples
TASK ?= Compare SQLite and PostgreSQL checkpointers, then write a short summary

.PHONY: install system-deps demo team-demo audit-demo bench test lint

# The install is a strict editable one (a tree of links under build/, which mypy follows):
# a module added, renamed or removed shows up only after reinstalling. A folder's mtime
# changes exactly then, so the package folders are prerequisites too.
PACKAGE_DIRS := $(shell find src state nodes graphs apps -type d -not -name __pycache__)

$(STAMP): pyproject.toml $(PACKAGE_DIRS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]" --config-settings editable_mode=strict
	touch $(STAMP)

install: $(STAMP)

# The main job on the offline model: generate repositories with planted problems, audit
# them, rank. Pinned versions are looked up on PyPI, npm and OSV (cached; a registry that
# cannot be reached is reported as "not checked"); OFFLINE=1 uses the cache only.
demo: $(STAMP)
	$(BIN)/orchestra samples $(SAMPLES) --force
	$(BIN)/orchestra audit $(SAMPLES) --policy $(SAMPLES)/policy.toml --report .orchestra/audit-report.md $(if $(OFFLINE),--offline)

audit-demo: demo

# A general team on a question, offline.
team-demo: $(STAMP)
	$(BIN)/orchestra run research --task "$(TASK)"

# The ecosystem tests talk to real components pip cannot install: Graphviz's `dot` (graph
# pictures) and PostgreSQL's server binaries. Installed from Debian's packages when missing.
system-deps:
	@missing=""; \
	command -v dot >/dev/null || missing="$$missing graphviz"; \
	if ! command -v pg_ctl >/dev/null && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
		missing="$$missing postgresql"; \
	fi; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ]; then \
		echo "installing:$$missing"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	elif [ -n "$$missing" ]; then \
		echo "note: install$$missing for the ecosystem tests (they skip without, and fail on CI)"; \
	fi

# Benchmarks against plain LangGraph, langgraph-supervisor and one agent: writes
# BENCHMARKS.md and BENCHMARKS.png (about six minutes; QUICK=1 for about two).
bench: $(STAMP)
	$(BIN)/python -m benchmarks $(if $(QUICK),--quick)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: system-deps lint
	$(BIN)/python -m pytest
