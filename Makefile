# Two commands on a fresh machine with only Python 3.11 and make: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_LOGGING_LEVEL ?= WARNING
export PREFECT_SERVER_LOGGING_LEVEL ?= CRITICAL

DEMO_DATA := data

.PHONY: demo test bench fuzz install clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dask]'
	@touch $(STAMP)

install: $(STAMP)

BENCH_STAMP := $(VENV)/.installed-bench
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,dask,bench]'
	@touch $(BENCH_STAMP)

demo: $(STAMP)
	$(BIN)/subflag simulate --inbox $(DEMO_DATA)/inbox --truth $(DEMO_DATA)/truth
	$(BIN)/subflag run --inbox $(DEMO_DATA)/inbox --warehouse $(DEMO_DATA)/warehouse.duckdb \
		--lake $(DEMO_DATA)/lake --out $(DEMO_DATA)/out

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(BENCH_STAMP)
	$(BIN)/python -m tests.benchmarks $(BENCH_ARGS)

fuzz: $(STAMP)
	SUBFLAG_FUZZ_EXAMPLES=100000 $(BIN)/python -m pytest -q -m fuzz -p no:cacheprovider tests

clean:
	rm -rf $(VENV) data .pytest_cache .hypothesis
