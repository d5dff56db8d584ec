# syncd: `make run` to watch the example sync into the bundled emulator, `make test` for every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint types contracts pytest deploy-check bench fmt clean

install: $(STAMP)

# The same two pip commands run in the Dockerfile, so an image installs what the tests ran.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

run: install
	$(BIN)/python -m syncd.devrun

test: lint types contracts pytest deploy-check

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

pytest: install
	$(BIN)/pytest -q

deploy-check: install
	@if [ -x deploy/check.sh ]; then deploy/check.sh; else echo "deploy/check.sh not present yet"; fi

bench: install
	$(BIN)/python -m bench

fmt: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
