# Civic: `make run` serves the demo city, `make test` runs every test. Both set up from scratch.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
export DJANGO_SETTINGS_MODULE := civic.settings

.PHONY: system-packages translations setup run test test-python test-js lint format bench migrate messages clean

## set-up: system packages, Python venv, npm packages, translations
setup: $(VENV)/.installed node_modules/.installed translations

system-packages:
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq gettext; \
	  else echo "gettext (msgfmt) is missing: install it, e.g. 'sudo apt-get install gettext'"; exit 1; fi; }
	@command -v node >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "Node.js is missing: install nodejs and npm"; exit 1; fi; }

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	mkdir -p node_modules && touch $@

translations: $(VENV)/.installed | system-packages
	$(MANAGE) compilemessages --ignore '.venv/*' --ignore 'node_modules/*' -v0

migrate: setup
	$(MANAGE) migrate --noinput -v0

## make run: the whole platform on 127.0.0.1:8000 (web, Celery worker and beat); Ctrl-C stops all.
run: migrate
	$(MANAGE) seed_demo
	@echo "Serving on http://127.0.0.1:8000  (Ctrl-C stops every process)"
	DEBUG=$${DEBUG:-1} $(VENV)/bin/honcho -f Procfile.dev start

## make test: the whole suite (pytest and the JavaScript tests).
test: setup test-python test-js

test-python:
	$(PY) -m pytest

test-js:
	@if ls tests/js/*.test.mjs >/dev/null 2>&1; then node --test tests/js/; else echo "no JavaScript tests yet"; fi

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

messages: setup
	$(MANAGE) makemessages -l nb --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'var/*'

clean:
	rm -rf $(VENV) node_modules var/staticfiles
