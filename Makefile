# Tetrad: `make run` starts the hub with a demo school, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=
# The SQLite pass of `make test` runs under a faked system date (Debian's faketime), to prove no test depends
# on the machine's date: a year from today unless FAKE_DATE names a day (e.g. FAKE_DATE=2027-07-15).
FAKE_DATE ?= +1 year

.PHONY: run test test-sqlite test-sqlite-faked test-postgres lint fmt bench bench-quick setup system system-test db clean

setup: system $(STAMP)

system:
	@bash scripts/system-packages run

system-test:
	@bash scripts/system-packages test

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

db: setup
	mkdir -p var
	$(FLASK) db upgrade
	$(FLASK) demo --if-empty

# The site worker rebuilds family pages after every sync; it stops with the hub.
run: db
	$(FLASK) urls --host $(HOST) --port $(PORT)
	$(FLASK) links example
	$(FLASK) site worker & trap 'kill $$! 2>/dev/null' EXIT INT TERM; $(FLASK) run --host $(HOST) --port $(PORT)

lint: setup
	$(BIN)/ruff check app sync static_site tests bench wsgi.py
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

test: system-test lint test-sqlite-faked test-postgres

test-sqlite: setup
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# faketime -f with an offset keeps one clock for every process the tests start (servers, browsers).
test-sqlite-faked: setup system-test
	@days=$$(( ( $$(date -d "$(FAKE_DATE)" +%s) - $$(date +%s) + 43200 ) / 86400 )); \
	  offset=$$( [ $$days -ge 0 ] && echo "+$${days}d" || echo "$${days}d" ); \
	  echo "SQLite pass on a faked system date: $$(faketime -f "$$offset" date +%F) (faketime -f $$offset)"; \
	  faketime -f "$$offset" $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: setup system-test
	TETRAD_TEST_DB=postgresql $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Every figure beside its baseline measured in the same run (docs/benchmarks.md); bench-quick: each once, ~1 min.
bench: setup
	$(BIN)/python -m bench

bench-quick: setup
	$(BIN)/python -m bench --quick

fmt: setup
	$(BIN)/ruff check --fix app sync static_site tests wsgi.py
	$(BIN)/ruff format app sync static_site tests wsgi.py

clean:
	rm -rf $(VENV) var
