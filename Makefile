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

CLASSROOM_PORT ?= 5001

.PHONY: classroom run demo-again test test-sqlite test-sqlite-faked test-postgres pass-sqlite-faked pass-postgres lint fmt bench bench-quick setup system system-test db clean

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

# The hub runs under gunicorn, as docs/deployment.md deploys it; the site worker rebuilds family pages after
# every sync beside it and stops with it. Links to families use the address the hub is started on
# (TETRAD_HUB_URL) unless config.yaml's site.base_url names a public one.
run: db
	@export TETRAD_HUB_URL="$$($(BIN)/python -c 'import sys; from app.base.settings import hub_url; print(hub_url(sys.argv[1], int(sys.argv[2])))' '$(HOST)' '$(PORT)')"; \
	  $(FLASK) urls && $(FLASK) links example && \
	  { $(FLASK) site worker & $(FLASK) notify run & trap 'kill $$(jobs -p) 2>/dev/null' EXIT INT TERM; \
	    $(BIN)/gunicorn -w 2 -b '$(HOST):$(PORT)' --timeout 120 wsgi:application; }

# Rebuild the demo school from scratch (e.g. to fill its journal up to today): removes var/'s database and site.
demo-again: setup
	rm -f var/tetrad.db var/tetrad.db-wal var/tetrad.db-shm
	rm -rf var/site
	$(MAKE) db

# The classroom journal of a demo classroom machine on http://127.0.0.1:$(CLASSROOM_PORT), set up from the demo
# hub by file (the hub itself need not run; `make run` in another window makes the sync button work).
classroom: db
	CLASSROOM_PORT=$(CLASSROOM_PORT) HUB=http://$(HOST):$(PORT) BIN=$(BIN) bash scripts/classroom-demo

lint: setup
	$(BIN)/ruff check app sync static_site classroom tests bench migrations wsgi.py
	$(BIN)/lint-imports --no-cache
	$(BIN)/mypy

# The two passes run at once (each leaves a core mostly idle: servers, browsers and databases wait on each other);
# each pass's output is printed whole when it ends.
test: system-test lint
	@echo "Running the SQLite and the PostgreSQL pass at once; each one's output follows when it ends."
	@$(MAKE) --no-print-directory -j2 --output-sync=target pass-sqlite-faked pass-postgres

test-sqlite: setup
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# faketime -f with an offset keeps one clock for every process the tests start (servers, browsers).
test-sqlite-faked: setup system-test
	@$(MAKE) --no-print-directory pass-sqlite-faked

pass-sqlite-faked:
	@days=$$(( ( $$(date -d "$(FAKE_DATE)" +%s) - $$(date +%s) + 43200 ) / 86400 )); \
	  offset=$$( [ $$days -ge 0 ] && echo "+$${days}d" || echo "$${days}d" ); \
	  echo "SQLite pass on a faked system date: $$(faketime -f "$$offset" date +%F) (faketime -f $$offset)"; \
	  faketime -f "$$offset" $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: setup system-test
	@$(MAKE) --no-print-directory pass-postgres

pass-postgres:
	TETRAD_TEST_DB=postgresql $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

# Every figure beside its baseline measured in the same run (docs/benchmarks.md); bench-quick: each once, ~1 min.
bench: setup
	$(BIN)/python -m bench

bench-quick: setup
	$(BIN)/python -m bench --quick

fmt: setup
	$(BIN)/ruff check --fix app sync static_site classroom tests bench migrations wsgi.py
	$(BIN)/ruff format app sync static_site classroom tests wsgi.py

clean:
	rm -rf $(VENV) var
