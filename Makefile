# Quick start: `make run` and `make test`. Both need only python3.11 and make.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# the benchmarks' venv: the bench extra (monaco) pins psutil~=5, the test extra needs >=7
BENCH_VENV := build/bench-venv
BENCH_STAMP := $(BENCH_VENV)/.installed

.PHONY: install run test bench lint clean mutation

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@echo "compiling the simulation engine (once; cached for every later run) ..."
	$(BIN)/python -c "from simulator.api import engine_ready; \
	print(f'compiled in {engine_ready(statistics=True):.1f} s')"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/msp-sim run configs/baseline.toml --out results/baseline

# pytest's default output: one line per test file with its progress in percent, then
# the ten slowest tests (the whole suite takes about 9 minutes on 2 cores; README.md)
test: install
	$(BIN)/ruff check simulator tests benchmarks
	$(BIN)/python -m pytest --durations=10

$(BENCH_STAMP): pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_VENV)/bin/python benchmarks/run.py

# Mutation testing of the engine, the reference, sampling, the statistics, the fit's
# estimators and the lever scan (tests/mutation.py, mutmut; not in CI: slow, from tens of
# minutes a group up; docs/testing.md has the figures). GROUPS="fit levers" runs some;
# MUTATION_ARGS="--sample 150 --time-limit 20" a fixed-seed sample of each, in bounded time.
mutation: install
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/python tests/mutation.py $(GROUPS) $(MUTATION_ARGS)

lint: install
	$(BIN)/ruff check simulator tests benchmarks

clean:
	rm -rf $(VENV) results build *.egg-info
