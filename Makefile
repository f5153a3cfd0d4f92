# `make test` works on a fresh machine: it makes .venv, installs the project with
# its test extra and the system packages the suite needs, then lints and tests.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint demo bench clean system-deps

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-deps:
	@./.ci/system-deps

lint: $(STAMP)
	$(BIN)/ruff check engage tests bench demo
	$(BIN)/mypy engage demo

test: $(STAMP) system-deps lint
	$(BIN)/python -m pytest -q

# The demo's commands, then the web report of its world until Ctrl-C
# (`python -m demo --no-serve` stops before serving).
demo: $(STAMP)
	$(BIN)/python -m demo

# The project's own benchmarks, then the yardstick the project is judged by: engage poll
# beside the feedparser parse floor and the reader library (../shared/bench/compare.sh).
# Byte-compiled first, as an installed package would be.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m compileall -q engage
	$(BIN)/python -m bench
	../shared/bench/compare.sh $(BIN)/engage
	N=30 ../shared/bench/compare.sh $(BIN)/engage

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
