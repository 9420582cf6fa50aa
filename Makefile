# Quick start: `make demo` and `make test` on a fresh machine (Python 3.11, node/npm).
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.smartgate-installed
WEB    := api/web
PYTHON ?= python3

.PHONY: setup demo test test-fast lint typecheck pytest pytest-fast webtest maps clean

setup: $(STAMP) $(WEB)/node_modules/.package-lock.json

# smartgate_interfaces (ROS 2 messages) is built with colcon from the PyPI build wheels
# into the venv itself; on a real ROS 2 install `colcon build` builds it instead.
$(STAMP): requirements.txt setup.py interfaces/build.sh interfaces/smartgate_interfaces/CMakeLists.txt $(wildcard interfaces/smartgate_interfaces/msg/*.msg)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	bash interfaces/build.sh $(VENV)
	@touch $(STAMP)

$(WEB)/node_modules/.package-lock.json: $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error

demo: setup
	$(VENV)/bin/smartgate demo

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: setup
	$(VENV)/bin/mypy

# Two workers (pytest-xdist; tests/conftest.py keeps what shares DDS or PostgreSQL on one),
# then the 30-minute soak alone: it loads both cores itself (stress-ng).
SOAK := tests/smartgate/cli/soak
pytest: setup
	$(VENV)/bin/pytest -n 2 --dist loadgroup --ignore=$(SOAK)
	$(VENV)/bin/pytest $(SOAK)

webtest: setup
	cd $(WEB) && npm test --silent

# Everything, the 30-minute soak included (CI). The inner loop: `make test-fast`.
test: lint typecheck webtest pytest

pytest-fast: setup
	$(VENV)/bin/pytest -n 2 --dist loadgroup -m "not slow"

test-fast: lint typecheck webtest pytest-fast

maps: setup
	$(PY) -m maps.author
	$(VENV)/bin/smartgate map check maps/*.geojson

clean:
	rm -rf $(VENV) $(WEB)/node_modules var build install log .mypy_cache .pytest_cache .ruff_cache
