# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PORT   ?= 8000
HOST   ?= 127.0.0.1
BIN     = $(VENV)/bin
# pytest-xdist processes for `make test`: most tests wait on processes, sockets and fsync,
# so three keep two cores busy
TEST_WORKERS ?= 3

.PHONY: demo test test-fast lint bench clean

# The virtualenv is (re)built from the project's own files whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/orderpilot demo --host $(HOST) --port $(PORT)

test: $(VENV)/.installed
	$(BIN)/python scripts/ensure_chromium.py
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist worksteal --durations=30

test-fast: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: $(VENV)/.installed
	$(BIN)/orderpilot bench ingest --json

clean:
	rm -rf $(VENV) build dist *.egg-info test-artifacts
