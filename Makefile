# txguard developer commands. `make help` lists them.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: help install format lint test test-fast demo bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install txguard with its dev tools

format: install ## Rewrite the code in the project's format
	$(BIN)/ruff check --fix src tests bench tools
	$(BIN)/ruff format src tests bench tools

lint: install ## ruff, ruff format --check, mypy --strict on src/ and tools/, import contracts
	$(BIN)/ruff check src tests bench tools
	$(BIN)/ruff format --check src tests bench tools
	$(BIN)/mypy
	$(BIN)/mypy tools
	$(BIN)/lint-imports

test: lint ## Lint, then every test with branch coverage (fails under 85%)
	$(BIN)/pytest --cov --cov-report=term $(PYTEST_ARGS)

test-fast: install ## Unit tests only, no coverage
	$(BIN)/pytest tests/unit -q $(PYTEST_ARGS)

demo: install ## Simulate, import, train, then stream through the API on port 8000 (about a minute)
	$(BIN)/txguard demo

bench: install ## Every benchmark of bench/RESULTS.md (writes bench/out; about 40 minutes)
	$(BIN)/python bench/simulate.py
	$(BIN)/python bench/import_postgres.py
	$(BIN)/python bench/detection_quality.py
	$(BIN)/python bench/replay_throughput.py
	$(BIN)/python bench/scoring_latency.py
	$(BIN)/python bench/anomaly_single_row.py
	$(BIN)/python bench/rules.py
	$(BIN)/python bench/featurestore_redis.py
	$(BIN)/python bench/api_load.py

clean: ## Remove the virtual environment, caches and ./var
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.*
