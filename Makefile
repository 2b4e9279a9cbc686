# Civic: `make run` serves the demo city, `make test` runs every test. Both set up from scratch.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
MANAGE := $(PY) manage.py
export DJANGO_SETTINGS_MODULE := civic.settings
CONTRACT_ARTIFACT := ledger/anchoring/artifacts/CivicAnchor.json
BOOTH_WORKER_BUNDLE := voting/static/voting/build/booth_worker.js
OBSERVER_VENV := var/observer-venv
PURE_PROJECTS := civic_tlog/pyproject.toml civic_votecrypto/pyproject.toml civic_observer/pyproject.toml
PURE_SOURCES := $(wildcard civic_tlog/*.py civic_votecrypto/*.py civic_observer/*.py)

.PHONY: system-packages browser-packages screenshot-packages screenshots translations setup run test test-python test-js test-observer-standalone lint format bench fuzz migrate messages clean

## set-up: system packages, Python venv, npm packages, translations
setup: $(VENV)/.installed node_modules/.installed $(CONTRACT_ARTIFACT) $(BOOTH_WORKER_BUNDLE) translations

system-packages:
	@command -v msgfmt >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq gettext; \
	  else echo "gettext (msgfmt) is missing: install it, e.g. 'sudo apt-get install gettext'"; exit 1; fi; }
	@command -v node >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nodejs npm; \
	  else echo "Node.js is missing: install nodejs and npm"; exit 1; fi; }

# Only the tests need a browser: Debian's Chromium, driven through playwright-core (npm); never a
# browser downloaded by a test tool.
browser-packages:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	  else echo "Chromium is missing (browser tests): install it, e.g. 'sudo apt-get install chromium'"; exit 1; fi; }

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements.txt
	touch $@

node_modules/.installed: package.json package-lock.json | system-packages
	npm ci --no-audit --no-fund
	mkdir -p node_modules && touch $@

# The anchor contract's ABI and bytecode are a build product of solc-js (npm), never committed.
$(CONTRACT_ARTIFACT): contracts/CivicAnchor.sol scripts/build_contract.mjs node_modules/.installed
	node scripts/build_contract.mjs

# Module workers cannot use the page's import map, so the booth worker ships as one esbuild bundle
# (a build product, never committed); pages import the same modules unbundled.
$(BOOTH_WORKER_BUNDLE): $(wildcard voting/static/voting/js/*.mjs) node_modules/.installed
	node_modules/.bin/esbuild voting/static/voting/js/booth_worker.mjs --bundle --format=esm \
	  --target=es2022 --minify --keep-names --sourcemap --log-level=warning --outfile=$@

translations: $(VENV)/.installed | system-packages
	$(MANAGE) compilemessages --ignore '.venv/*' --ignore 'node_modules/*' -v0

migrate: setup
	$(MANAGE) migrate --noinput -v0

## make run: the whole platform on 127.0.0.1:8000 (web, Celery worker and beat, a demo observer
## node, a local Hardhat chain for anchors); Ctrl-C stops all.
run: migrate
	DEBUG=$${DEBUG:-1} bash scripts/run_demo.sh

## make screenshots: the README's pictures (docs/images/*.png) from a running demo city: the one
## at CIVIC_SCREENSHOT_URL, or one started for it on port 8130 with its own var/screenshots/.
screenshots: setup browser-packages screenshot-packages
	bash scripts/screenshots.sh

# pngquant squeezes the pictures (optional: without it they stay as Chromium wrote them).
screenshot-packages:
	@command -v pngquant >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pngquant; \
	  else echo "pngquant is missing: the pictures stay unoptimised ('sudo apt-get install pngquant')"; fi; }

## make test: the whole suite (pytest, the JavaScript tests, the observer installed on its own).
test: setup browser-packages test-python test-js test-observer-standalone

test-python:
	$(PY) -m pytest

test-js:
	@if ls tests/js/*.test.mjs >/dev/null 2>&1; then node --test tests/js/; else echo "no JavaScript tests yet"; fi

# The observer installs by itself: a venv with only `pip install ./civic_observer` (which brings
# civic_tlog and civic_votecrypto from their folders) and pytest; Django must not be importable
# there, the console scripts must run, and the observer's and civic_tlog's tests pass in it.
# The venv is rebuilt when a pyproject.toml of the pure packages changes; when only their code
# changes, the three packages are reinstalled into it.
test-observer-standalone: $(OBSERVER_VENV)/.installed
	@if (cd var && observer-venv/bin/python -c "import django") 2>/dev/null; then \
	  echo "django is importable in $(OBSERVER_VENV): the observer must not need it"; exit 1; fi
	cd var && observer-venv/bin/python ../tests/observer/check_install.py
	cd var && for script in civic-observer civic-trustee civic-verify; do \
	  observer-venv/bin/$$script --help >/dev/null || exit 1; done
	$(OBSERVER_VENV)/bin/pytest -q -c tests/observer/standalone.ini --confcutdir=tests/observer \
	  tests/observer tests/tlog

$(OBSERVER_VENV)/.created: $(PURE_PROJECTS)
	rm -rf $(OBSERVER_VENV)
	$(PYTHON) -m venv $(OBSERVER_VENV)
	$(OBSERVER_VENV)/bin/pip install --quiet ./civic_observer pytest==9.2.0
	touch $@

$(OBSERVER_VENV)/.installed: $(OBSERVER_VENV)/.created $(PURE_SOURCES)
	$(OBSERVER_VENV)/bin/pip install --quiet --no-deps --force-reinstall \
	  ./civic_tlog ./civic_votecrypto ./civic_observer
	touch $@

## make lint: ruff, and the import contracts of pyproject.toml ([tool.importlinter]).
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports --no-cache

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .

# bench/election.py needs PostgreSQL (CIVIC_BENCH_DATABASE_URL, default the local civic_sim_bench,
# emptied each run); its ballots are prepared once and cached in var/bench/ (100,000: long).
# bench/load.py (about a minute) and bench/faults.py (about five) start their own PostgreSQL
# cluster (pg_ctl), redis-server, gunicorn and Celery on 127.0.0.1 (docs/operations.md).
BENCH_ELECTION_SIZES ?= 10000,100000
bench: setup
	@for script in bench/*.py; do echo "== $$script"; \
	  if [ "$$script" = bench/election.py ]; then $(PY) $$script --sizes $(BENCH_ELECTION_SIZES) || exit 1; \
	  else $(PY) $$script || exit 1; fi; done

## make fuzz: schemathesis against the whole OpenAPI schema as every role (bench/fuzz.py)
FUZZ_EXAMPLES ?= 30
fuzz: setup
	$(PY) bench/fuzz.py --examples $(FUZZ_EXAMPLES)

messages: setup
	$(MANAGE) makemessages -l nb -l es --ignore '.venv/*' --ignore 'node_modules/*' --ignore 'var/*'

clean:
	rm -rf $(VENV) node_modules var/staticfiles
