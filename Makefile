# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
TEST_STAMP := $(VENV)/.test-tools-stamp
HOST ?= 127.0.0.1
PORT ?= 8080
DATA_DIR ?= ./data
# Empty: join URLs from the address the server listens on (a warning for 0.0.0.0).
BASE_URL ?=
PYTEST_ARGS ?=
BENCH_ARGS ?=
BENCH_STAMP := $(VENV)/.bench-stamp
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run test fuzz soak lint typecheck unit clean bench browser check-postgres test-postgres

# The server alone (what `make run` and a production install need); the test tools only for
# the targets that use them.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(TEST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/opengroup serve --host $(HOST) --port $(PORT) --data-dir $(DATA_DIR) \
	  $(if $(BASE_URL),--base-url $(BASE_URL))

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports --no-cache

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The web page tests drive a real headless Chromium (Debian's package); install it if missing.
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	  else echo "make browser: need root to apt-get install chromium" >&2; exit 1; fi; \
	  $$SUDO apt-get -o DPkg::Lock::Timeout=120 update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get -o DPkg::Lock::Timeout=120 \
	    install -y -qq chromium >/dev/null; \
	fi
	@$(CHROMIUM) --version 2>/dev/null

test: lint typecheck browser
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

# The fuzz suites with many more examples than `make test` runs (Hypothesis profile "fuzz").
fuzz: $(TEST_STAMP)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -n 2 tests/fuzz tests/security $(PYTEST_ARGS)

# 60 s of mixed onion traffic against a 2-process server (not part of `make test`).
soak: $(TEST_STAMP)
	OPENGROUP_PYTHON=$(BIN)/python bench/soak $(SOAK_ARGS)

# The suite runs on SQLite always, and on PostgreSQL too (each run in its own scratch database,
# dropped at the end): the one at OPENGROUP_TEST_POSTGRES_URL, else the one at
# $(POSTGRES_TEST_URL) when it answers (if not, those tests skip and the run ends saying so).
# CI sets the variable; this target fails unless that server answers.
POSTGRES_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
check-postgres: $(TEST_STAMP)
	$(BIN)/python -m tests.support.databases

test-postgres:
	OPENGROUP_TEST_POSTGRES_URL=$${OPENGROUP_TEST_POSTGRES_URL:-$(POSTGRES_TEST_URL)} \
	  $(MAKE) check-postgres test

# Load benchmark (bench/README.md): `make bench`, or `make bench BENCH_ARGS=--quick`.
$(BENCH_STAMP): $(TEST_STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

# wrk (Debian's package) cross-checks the Python load generator; the bench runs without it.
bench: $(BENCH_STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get -o DPkg::Lock::Timeout=120 update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq wrk \
	  >/dev/null; } || \
	  echo "wrk not installed: the wrk cross-check is skipped"
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
