# AURA: one command for the demo, one for the tests.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test test-fast test-py tools demo up bench chaos fuzz clean frontend browser test-frontend

$(STAMP): pyproject.toml requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The lock pins the whole environment (torch==2.13.0 is the CPU wheel on this machine's disk).
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/deptry .
	$(BIN)/mypy shared services fl aura bench

# Everything CI checks: lint, the Python suite on real PostgreSQL/Redis/Celery, the dashboard.
test: install lint test-py test-frontend

test-py: install tools
	$(BIN)/pytest -q

# The unit lane: no PostgreSQL, Redis, worker or gateway (tests/conftest.py says how a test is sorted).
test-fast: install
	AURA_TEST_LANE=unit $(BIN)/pytest -q -m "not integration and not slow" -p no:cacheprovider

# System tools some tests use (Debian packages): docker-compose validates docker-compose.yml.
tools:
	command -v docker-compose >/dev/null || (apt-get update && apt-get install -y docker-compose)

demo: install frontend
	$(BIN)/aura demo

up: install frontend
	$(BIN)/aura up

bench: install
	$(BIN)/aura bench pipeline

# Faults on purpose (about 10 minutes): restarts this machine's Redis and PostgreSQL, so nothing else may use them.
chaos: install
	$(BIN)/aura bench chaos

# schemathesis against every operation, on the embedded stack and on Redis + PostgreSQL (long: 50,000 requests each).
fuzz: install
	$(BIN)/aura bench fuzz

# The dashboard: npm ci, API types generated from the gateway's OpenAPI schema, typecheck, vite build.
frontend: install frontend/node_modules/.installed
	cd frontend && npm run build

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

# Debian's Chromium for the end-to-end tests (Playwright cannot download its own browser here).
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

# Dashboard tests: Vitest unit/component tests, then Playwright against a real `aura up`.
test-frontend: frontend browser
	cd frontend && npm test
	cd frontend && npm run e2e

clean:
	rm -rf .aura .pytest_cache .mypy_cache .ruff_cache
