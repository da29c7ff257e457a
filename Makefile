# Storefront: `make run` serves, `make test` tests; each sets itself up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST := $(BIN)/pytest -p no:cacheprovider
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/postgres

CONTRACT := tests/contract
CONTRACT_NODE := $(CONTRACT)/node_modules/.package-lock.json
CONTRACT_CODEGEN := $(CONTRACT)/.venv-codegen/.installed-stamp

.PHONY: install run test coverage test-sqlite test-postgres contract contract-tools lint format bench clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: install
	$(BIN)/storefront db upgrade
	$(BIN)/storefront serve --host $(HOST) --port $(PORT)

# The suite runs on SQLite, then on PostgreSQL when one answers at 127.0.0.1:5432
# (REQUIRE_POSTGRES=1 makes its absence an error, as in CI). Coverage is `make
# coverage`, not part of `make test`: tracing doubles a run's time (7 to 15 minutes
# on SQLite), and CI, which runs `make test`, must stay under 25 minutes.
test: install
	TEST_DATABASE=sqlite $(PYTEST) $(PYTEST_ARGS)
	@if $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then \
		TEST_DATABASE=postgres TEST_POSTGRES_URL=$(PG_URL) $(PYTEST) $(PYTEST_ARGS); \
	elif [ "$(REQUIRE_POSTGRES)" = "1" ]; then \
		echo "PostgreSQL is required (REQUIRE_POSTGRES=1) but not reachable"; exit 1; \
	else \
		echo "PostgreSQL not reachable at 127.0.0.1:5432: the PostgreSQL run is skipped"; \
	fi
	$(MAKE) contract

# The SQLite run with branch coverage (the report: total and the files not fully covered).
coverage: install
	TEST_DATABASE=sqlite $(PYTEST) --cov --cov-report=term $(PYTEST_ARGS)

test-sqlite: install
	TEST_DATABASE=sqlite $(PYTEST) $(PYTEST_ARGS)

test-postgres: install
	TEST_DATABASE=postgres TEST_POSTGRES_URL=$(PG_URL) $(PYTEST) $(PYTEST_ARGS)

# The OpenAPI tools users run, against a live `storefront serve` on a fresh SQLite
# database: Spectral (OWASP rules), openapi-typescript + tsc --strict,
# openapi-python-client + a client flow, schemathesis (stateful, all checks).
# About 3 minutes; docs/contract.md. CONTRACT_ARGS="--only spectral,typescript" picks steps.
contract: install contract-tools
	$(BIN)/python $(CONTRACT)/run.py $(CONTRACT_ARGS)

contract-tools: $(CONTRACT_NODE) $(CONTRACT_CODEGEN)

# Pinned by the committed lock file; no install scripts run.
$(CONTRACT_NODE): $(CONTRACT)/package.json $(CONTRACT)/package-lock.json
	cd $(CONTRACT) && npm ci --ignore-scripts --no-audit --no-fund
	touch $(CONTRACT_NODE)

# openapi-python-client caps typer below the CLI's own pin, so it has a virtualenv of its own.
$(CONTRACT_CODEGEN): $(CONTRACT)/requirements-codegen.txt
	$(PYTHON) -m venv $(CONTRACT)/.venv-codegen
	$(CONTRACT)/.venv-codegen/bin/python -m pip install --quiet --disable-pip-version-check -r $(CONTRACT)/requirements-codegen.txt
	touch $(CONTRACT_CODEGEN)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

# The load benchmark (bench/run.py, about 14 minutes): wrk over loopback against
# `storefront serve` on SQLite and on PostgreSQL + Redis (127.0.0.1), beside a bare
# ASGI reference app and a plain FastAPI app. Results and how to read them: docs/benchmarks.md.
# The report replaces the "Results" section of docs/benchmarks.md. BENCH_ARGS=--quick makes a short smoke run; BENCH_ARGS="--only sqlite" skips PostgreSQL;
# BENCH_ARGS="--scenarios product_auth,list" runs only those scenarios.
bench: install
	@command -v wrk >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y wrk)
	$(BIN)/python bench/run.py --docs docs/benchmarks.md $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .coverage .mypy_cache .ruff_cache $(CONTRACT)/node_modules $(CONTRACT)/.venv-codegen
