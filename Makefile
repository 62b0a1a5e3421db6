# Tetrad: `make run` starts the hub with a demo school, `make test` runs every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
PYTEST_ARGS ?=

.PHONY: run test test-sqlite test-postgres lint fmt bench setup db clean

setup: $(STAMP)

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
	$(BIN)/mypy

test: lint test-sqlite test-postgres

test-sqlite: setup
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

test-postgres: setup
	TETRAD_TEST_DB=postgresql $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench

fmt: setup
	$(BIN)/ruff check --fix app sync static_site tests wsgi.py
	$(BIN)/ruff format app sync static_site tests wsgi.py

clean:
	rm -rf $(VENV) var
