# Quick start: `make demo` and `make test` on a fresh machine (Python 3.11, node/npm).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.smartgate-installed
WEB    := api/web
PYTHON ?= python3

.PHONY: setup demo test lint typecheck pytest webtest maps clean

setup: $(STAMP) $(WEB)/node_modules/.package-lock.json

$(STAMP): requirements.txt setup.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error

demo: setup
	$(VENV)/bin/smartgate demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

pytest: setup
	$(VENV)/bin/pytest

webtest: setup
	cd $(WEB) && npm test --silent

test: lint typecheck webtest pytest

maps: setup
	$(PY) -m maps.author
	$(VENV)/bin/smartgate map check maps/*.geojson

clean:
	rm -rf $(VENV) $(WEB)/node_modules var build install log .mypy_cache .pytest_cache .ruff_cache
