# The two commands: `make run` serves the gateway, `make test` runs the whole suite.
VENV := .venv
BIN := $(VENV)/bin
PYTEST_WORKERS ?= 4

.PHONY: run quickstart test lint typecheck contracts unit setup bench soak profile clean lock

run:  ## set up, migrate SQLite under var/, make dev keys, serve on http://127.0.0.1:8000
	@scripts/setup.sh
	$(BIN)/gateway serve

quickstart:  ## with `make run` serving in another terminal: the README's quick start, command for command
	scripts/quickstart.sh

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

# The image installs requirements.lock with --require-hashes. Regenerate it after changing pyproject's dependencies
# (tests/test_lock.py fails, naming what is missing, until you do): every runtime dependency and the build backend
# ([build-system] requires), pinned for Python 3.11 on any platform, each with the hashes of all its files.
UV_VERSION := 0.13.9
lock:  ## regenerate requirements.lock (pinned, hashed) from pyproject.toml
	@scripts/setup.sh
	$(BIN)/pip install -q "uv==$(UV_VERSION)"
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')" \
	  | $(BIN)/uv pip compile pyproject.toml - --universal --python-version 3.11 --generate-hashes --quiet \
	      --custom-compile-command "make lock" -o requirements.lock

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
