# AURA: one command for the demo, one for the tests.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install lint test test-py demo up bench clean

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
	$(BIN)/mypy shared services fl aura

test: install lint
	$(BIN)/pytest -q

demo: install
	$(BIN)/aura up

bench: install
	$(BIN)/aura bench pipeline

clean:
	rm -rf .aura .pytest_cache .mypy_cache .ruff_cache
