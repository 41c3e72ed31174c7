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

.PHONY: help run admin test test-postgres lint fmt bench clean catalogs messages locale

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

run: $(BIN)/flask catalogs ## install, migrate, load the demo and serve on http://$(HOST):$(PORT)
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load
	@echo
	@echo "  forum runs at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@echo "  Make yourself an admin: make admin  (in another terminal)"
	@echo "  Moderation: http://$(HOST):$(PORT)/moderation/  ·  the README says the rest"
	@echo
	$(BIN)/flask run --host $(HOST) --port $(PORT)

admin: $(BIN)/flask ## make an admin account (asks for a username, an address and a password)
	$(BIN)/flask db upgrade
	@read -p "Username: " name && $(BIN)/flask users create "$$name" --role admin

test: $(VENV)/.dev catalogs ## run the whole test suite in parallel (SQLite; FORUM_TEST_DATABASE_URL picks another database)
	$(BIN)/python -m pytest -q $(PARALLEL) $(PYTEST_ARGS)

# Each worker gets a database of its own on that server: test_gw0, test_gw1, ...
# tests/unit/ never touches a database: the SQLite pass runs it once.
test-postgres: $(VENV)/.dev catalogs ## the suite but the browser and unit tests against the local PostgreSQL
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

# Translations: one catalog per locale, forum/translations/<locale>/LC_MESSAGES/messages.po.
# The compiled .mo files are built here (never committed), each when its .po changed.
TRANSLATIONS := forum/translations
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))
BABEL_KEYWORDS := -k lazy_gettext -k lazy_ngettext:1,2 -k pgettext:1c,2

catalogs: $(CATALOGS) ## compile the translations (forum/translations/*/LC_MESSAGES/*.mo)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(BIN)/flask
	$(BIN)/pybabel compile --statistics -l $* -i $< -o $@

messages: $(BIN)/flask ## extract every marked string into messages.pot and update each locale's catalog
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-wrap --sort-by-file \
		--project forum --copyright-holder "forum's authors" -o $(TRANSLATIONS)/messages.pot forum templates static
	if [ -n "$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)" ]; then \
		$(BIN)/pybabel update --no-wrap --ignore-obsolete -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS); fi

locale: $(BIN)/flask ## start a new locale's catalog: make locale LOCALE=ko (then translate its messages.po)
	@test -n "$(LOCALE)" || { echo "say which: make locale LOCALE=ko"; exit 2; }
	$(BIN)/pybabel init --no-wrap -l $(LOCALE) -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS)

clean: ## remove the virtualenv (the database in instance/ stays)
	rm -rf $(VENV)
