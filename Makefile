# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./data
BASE_URL ?= http://$(HOST):$(PORT)
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.bench-stamp
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test fuzz soak lint typecheck unit clean bench browser check-postgres test-postgres

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/opengroup serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) --base-url $(BASE_URL)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

# The web page tests drive a real headless Chromium (Debian's package); install it if missing.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "make browser: need root to apt-get install chromium" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@$(CHROMIUM) --version 2>/dev/null

test: lint typecheck browser
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The fuzz suites with many more examples than `make test` runs (Hypothesis profile "fuzz").
fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -n 2 tests/fuzz tests/security $(PYTEST_ARGS)

# 60 s of mixed onion traffic against a 2-process server (not part of `make test`).
soak: $(STAMP)
	OPENGROUP_PYTHON=$(BIN)/python bench/soak $(SOAK_ARGS)

# The suite runs on SQLite always, and on PostgreSQL too when OPENGROUP_TEST_POSTGRES_URL is
# set (each run in its own scratch database, dropped at the end). CI sets it; this target
# fails unless that server answers.
POSTGRES_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
check-postgres: $(STAMP)
	$(BIN)/python -m tests.support.databases

test-postgres:
	OPENGROUP_TEST_POSTGRES_URL=$${OPENGROUP_TEST_POSTGRES_URL:-$(POSTGRES_TEST_URL)} \
	  $(MAKE) check-postgres test

# Load benchmark (bench/README.md): `make bench`, or `make bench BENCH_ARGS=--quick`.
$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# wrk (Debian's package) cross-checks the Python load generator; the bench runs without it.
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || \
	  echo "wrk not installed: the wrk cross-check is skipped"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
