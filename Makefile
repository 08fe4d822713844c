# Every set-up step lives here: a fresh clone needs only python3 (3.11+), make, and either
# a Docker engine or Java 17+ with npm (for DynamoDB Local).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
DOCS_DIR ?= build/docs
# infra/ joins the code reference once it exists. pdoc imports every module it documents
# but never a package's __main__.py, so documenting infra creates no resources.
DOCS_MODULES ?= service $(wildcard infra)

.PHONY: help install run run-persist test test-slow audit lint format dynamodb-local clean gateway docs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced ## create .venv from the lock file

dynamodb-local: install ## fetch and verify the DynamoDB Local jar (not needed with Docker)
	$(BIN)/python -m local.dynamodb_local fetch

PORT ?= 8000

run: install ## serve the API on http://127.0.0.1:8000 (PORT=8001 for another) with an in-memory DynamoDB Local
	@$(BIN)/python -m local.serve --port $(PORT)

run-persist: install ## same, keeping the data under .data/
	@$(BIN)/python -m local.serve --persist --port $(PORT)

gateway: install ## the API behind a local API Gateway on http://127.0.0.1:3000/dev, handler in-process
	$(BIN)/python -m local.gateway --stage dev --dynamodb-local

lint: install ## ruff and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Test files run in parallel, one worker per core up to 4; each worker starts its own
# DynamoDB Local. TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= auto

test: lint ## lint, then the whole suite (slow suites excluded), files in parallel
	$(BIN)/pytest -m "not slow" -n $(TEST_WORKERS) --maxprocesses 4 --dist loadfile $(PYTEST_ARGS)

test-slow: install ## the slow suites: fuzzing, load, audit
	$(BIN)/pytest -m slow $(PYTEST_ARGS)
	$(MAKE) --no-print-directory audit

audit: install ## known vulnerabilities in the locked dependencies (pip-audit over uv.lock)
	$(UV) export --frozen --all-groups --no-emit-project --no-hashes --quiet \
		--output-file $(TOOLS)/requirements-audit.txt
	$(BIN)/python -m tools.audit_lock $(TOOLS)/requirements-audit.txt

COUNT ?= 200

.PHONY: seed openapi

seed: install ## load COUNT (200) sample events into `make run`'s table, or the configured one
	@$(BIN)/python -m tools.seed --count $(COUNT)

openapi: install ## regenerate docs/openapi.json, the published API document
	$(BIN)/python -m tools.openapi

.PHONY: bench bench-quick
bench: install ## every figure against its floor (< 10 min): bench/results/latest.json, .png
	$(BIN)/python -m bench.run

bench-quick: install ## the same with smaller samples and tables (< 2 min), into .cache/bench
	@$(BIN)/python -m bench.run --quick --out .cache/bench

clean: ## remove the environment, caches and local data
	rm -rf $(VENV) $(TOOLS) .cache .data .pytest_cache .mypy_cache .ruff_cache

# pdoc cannot evaluate some annotations (pulumi.Input[str] names a type pulumi defines only
# for type checkers): it shows them as written, and says so once instead of per field.
docs: install ## code reference of service and infra (pdoc) in build/docs
	@rm -rf $(DOCS_DIR)
	@$(BIN)/python -W "ignore:Error parsing type annotation" -m pdoc --docformat markdown \
		--output-directory $(DOCS_DIR) $(DOCS_MODULES)
	@echo "Code reference: $(DOCS_DIR)/index.html (annotations pdoc cannot evaluate, such as pulumi.Input[str], appear as written)"

.PHONY: bench-scaling
bench-scaling: install ## RCU per list page and WCU per write by shard count and table size (~3 min)
	$(BIN)/python -m bench.scaling

# Mutation testing (tools/mutation.py, mutmut configured in pyproject.toml): not part of
# `make test`; a weekly CI job runs it. MUTATION_ARGS="--sample 147" runs about a third.
MUTATION_FLOOR ?= 95
MUTATION_ARGS ?=

.PHONY: mutation
mutation: install ## mutation testing of service/ (hours; weekly in CI): mutants/report.md
	$(BIN)/python -m tools.mutation run $(MUTATION_ARGS)
	$(BIN)/python -m tools.mutation report --floor $(MUTATION_FLOOR)
