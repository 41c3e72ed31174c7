# Everything runs from the project's own virtualenv, made on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
export FLASK_APP := forum
# The tests run in parallel (pytest-xdist): TEST_WORKERS processes, the machine's
# cores but at least 2 (the browser tests wait on Chromium more than they compute)
# and at most 3.  --dist loadfile keeps each test file in one worker: files that
# use a fixed Redis database number must not run against themselves (tests/conftest.py).
# PYTEST_ARGS="-n 0" runs serially.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); echo $$(( n < 2 ? 2 : (n > 3 ? 3 : n) )))
PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: help run test test-postgres lint fmt bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/flask: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(BIN)/flask
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/flask ## install, migrate, load the demo and serve on http://$(HOST):$(PORT)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	$(BIN)/flask run --host $(HOST) --port $(PORT)

test: $(VENV)/.dev ## run the whole test suite in parallel (SQLite; FORUM_TEST_DATABASE_URL picks another database)
	$(BIN)/python -m pytest -q $(PARALLEL) $(PYTEST_ARGS)

# Each worker gets a database of its own on that server: test_gw0, test_gw1, ...
# tests/unit/ never touches a database: the SQLite pass runs it once.
test-postgres: $(VENV)/.dev ## the suite but the browser and unit tests against the local PostgreSQL
	FORUM_TEST_DATABASE_URL=$${FORUM_TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test} \
		$(BIN)/python -m pytest -q $(PARALLEL) -m "not browser" --ignore=tests/unit $(PYTEST_ARGS)

lint: $(VENV)/.dev ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.dev ## ruff fix and format
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.dev ## the README's measurements, then bench/speed.py against Isso 0.14 and ceilings (writes bench/RESULTS.md)
	$(BIN)/python bench/hostile_markdown.py
	$(BIN)/python bench/markdown_libraries.py
	$(BIN)/python bench/statements.py
	$(BIN)/python bench/speed.py $(BENCH_ARGS)

clean: ## remove the virtualenv (the database in instance/ stays)
	rm -rf $(VENV)
