# The two commands of the README: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000
TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RUN_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
TEST_PACKAGES := $(RUN_PACKAGES) chromium

.PHONY: help run test serve worker scheduler backup lint format translations update-translations system-run system-test clean

help:
	@echo "make run    set up this machine and serve the demo on http://$(HOST):$(PORT)"
	@echo "make test   set up and run the whole test suite (ruff, SQLite, PostgreSQL, browser)"
	@echo "production: make serve | make worker | make scheduler | make backup (see README, Running in production)"

# --- set-up ---------------------------------------------------------------------------
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

define apt_install
	@missing=$$(for p in $(1); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing system packages: $$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

system-run:
	$(call apt_install,$(RUN_PACKAGES))

system-test:
	$(call apt_install,$(TEST_PACKAGES))

translations: $(VENV)/.runtime
	@$(BIN)/pybabel compile -d crowdfund/translations > /dev/null

update-translations: $(VENV)/.dev
	$(BIN)/python bin/translations.py update

# --- the two commands -----------------------------------------------------------------
run: system-run $(VENV)/.runtime translations
	@mkdir -p instance
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python bin/dev.py

test: system-test $(VENV)/.dev translations
	$(BIN)/ruff check .
	$(BIN)/pytest -q -m "not postgres"
	@if $(BIN)/python -c "import psycopg,sys; psycopg.connect('$(TEST_DATABASE_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  echo "== Database tests again on PostgreSQL ($(TEST_DATABASE_URL)) =="; \
	  TEST_DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/pytest -q -m "(db or postgres) and not browser"; \
	elif [ "$(SKIP_POSTGRES)" = 1 ]; then \
	  echo "!!!!!!!! PostgreSQL at $(TEST_DATABASE_URL) is NOT reachable: its tests were NOT run (SKIP_POSTGRES=1) !!!!!!!!"; \
	else \
	  echo "!!!!!!!! PostgreSQL at $(TEST_DATABASE_URL) is NOT reachable: the PostgreSQL tests cannot run. !!!!!!!!"; \
	  echo "Start PostgreSQL, set TEST_DATABASE_URL, or run with SKIP_POSTGRES=1 to accept an incomplete run."; \
	  exit 1; \
	fi

# --- helpers ----------------------------------------------------------------------------
# Production processes (see "Running in production" in the README); settings come from the environment.
WORKERS ?= 4

serve: $(VENV)/.runtime translations
	CROWDFUND_ENV=production $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) wsgi:app

worker: $(VENV)/.runtime translations
	CROWDFUND_ENV=$${CROWDFUND_ENV:-production} $(FLASK) worker

scheduler: $(VENV)/.runtime translations
	CROWDFUND_ENV=$${CROWDFUND_ENV:-production} $(FLASK) scheduler

backup:
	bin/backup.sh

lint: $(VENV)/.dev
	$(BIN)/ruff check .

format: $(VENV)/.dev
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
