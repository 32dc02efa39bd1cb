# The two commands: `make run` serves the gateway, `make test` runs the whole suite.
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 4

.PHONY: run test lint typecheck contracts unit setup bench soak profile clean

run:  ## set up, migrate SQLite under var/, make dev keys, serve on http://127.0.0.1:8000
	@scripts/setup.sh
	$(BIN)/gateway serve

test: ## set up (system packages included), lint, type-check, run every test
	@scripts/setup.sh --test
	$(BIN)/ruff check gateway sandbox tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

lint:
	$(BIN)/ruff check gateway sandbox tests bench

typecheck:
	$(BIN)/mypy

contracts:  ## import cycles, layers, protected modules (pyproject [tool.importlinter])
	$(BIN)/lint-imports

unit:
	$(BIN)/pytest -q tests/unit tests/test_layout.py

bench:  ## launches (gateway on SQLite and PostgreSQL, pylti1p3, the floor), writeback, two replicas on PostgreSQL; docs/benchmarks.md
	@scripts/setup.sh --test
	$(BIN)/python -m bench all $(BENCH_ARGS) --out var/bench/latest.md

soak:  ## opt-in: 10 minutes of launches on one gateway, web worker RSS each minute
	@scripts/setup.sh --test
	$(BIN)/python -m bench soak --students 200 $(BENCH_ARGS) --out var/bench/soak.md

profile:  ## py-spy on the gateway under launch load, both engines
	@scripts/setup.sh --test
	$(BIN)/python -m bench profile --students 200 $(BENCH_ARGS) --out var/bench/profile.md

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
