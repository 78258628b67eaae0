# Two commands for a new user: `make demo` and `make test`. Each installs what it needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
APT_PACKAGES := mariadb-server libmariadb-dev pkg-config
# what `make bench` runs besides Python: sysbench (the load) and pt-online-schema-change
BENCH_APT_PACKAGES := sysbench percona-toolkit
BENCH_STAMP := $(VENV)/.installed-bench
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: test demo deps bench-deps venv lint typecheck imports unit integration sandbox-stop bench stress clean docs-cli

test: venv lint typecheck imports
	$(PY) -m pytest $(PYTEST_ARGS)

demo: venv
	$(PY) example_project/demo.py

# apt packages, only those missing (idempotent, no apt-get update when nothing is missing)
define apt_install_missing
	@missing=""; for p in $(1); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
endef

deps:
	$(call apt_install_missing,$(APT_PACKAGES))

bench-deps: deps
	$(call apt_install_missing,$(BENCH_APT_PACKAGES))

venv: deps $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check django_ghost tests example_project bench
	$(VENV)/bin/ruff format --check django_ghost tests example_project bench

typecheck: venv
	$(VENV)/bin/mypy

imports: venv
	$(VENV)/bin/lint-imports

# Regenerate the flag tables of docs/cli.md from the code (a unit test fails when stale).
docs-cli: venv
	$(PY) -m django_ghost.cli.docs

# Only the tests that need no server, by choice: say so, so that green is not mistaken
# for the whole suite.
unit: venv
	$(PY) -m pytest tests/unit
	@echo "make unit: only tests/unit ran; the integration tests (tests/integration) were NOT run. make test runs everything."

integration: venv
	$(PY) -m pytest tests/integration

# Migrations under hostile concurrent writes, faults and kills, judged by the replay of
# the writers' transactions (about 30 minutes; python -m bench.stress --help)
stress: venv
	$(PY) -m bench.stress $(STRESS_ARGS)

sandbox-stop: venv
	$(PY) -m django_ghost.sandbox stop --dir .sandbox

# The bench's Python extra (matplotlib, for the p95 plot), kept out of `make test`'s venv
$(BENCH_STAMP): $(STAMP) pyproject.toml
	$(PY) -m pip install -q -e '.[dev,bench]'
	touch $(BENCH_STAMP)

# The side-by-side benchmark (about 20 minutes; bench/run.py --help for sizes and loads).
# gh-ost runs when GH_OST_BIN names it or ../shared/tools/gh-ost exists.
bench: venv bench-deps $(BENCH_STAMP)
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
