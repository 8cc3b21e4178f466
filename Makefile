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

bench: $(STAMP)
	$(BIN)/python bench/calendar.py
	$(BIN)/python bench/lifecycle.py
	$(BIN)/python bench/printouts.py
	$(BIN)/python bench/reports.py --dossiers 100000 --small 20000  # 1,000,000: run by hand
	$(BIN)/python bench/outbox.py
	$(BIN)/python bench/uploads.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
