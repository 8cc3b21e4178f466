# The README's two set-up commands are `make run` and `make test`; both work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench install clean

$(STAMP): pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the service on the embedded SQLite database (./motcua.db), migrated, at :8000.
run: $(STAMP)
	$(BIN)/motcua serve

## The whole test suite on both cores (PostgreSQL variants run when MOTCUA_TEST_DATABASE_URL
## is set; browser tests use Debian's chromium, installed here when possible).
test: $(STAMP)
	scripts/system-deps.sh chromium || echo "chromium unavailable: browser tests will be skipped"
	$(BIN)/pytest -n $(or $(JOBS),2) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

## Every benchmark (bench/all.py): ONE JSON object on stdout, progress on stderr; PostgreSQL
## too when MOTCUA_BENCH_DATABASE_URL or MOTCUA_TEST_DATABASE_URL is set. Fails if one crashed.
bench: $(STAMP)
	@$(BIN)/python bench/all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
