# syncd: `make run` to watch the example sync into the bundled emulator, `make test` for every check,
# `make test-fast` for a quick loop.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test test-fast lint types contracts pytest deploy-check bench soak fmt clean screenshots docs

install: $(STAMP)

# The Dockerfile runs the same script (without --editable and dev, with postgres), so an image installs
# what the tests ran.
$(STAMP): pyproject.toml constraints.txt scripts/install-venv.sh
	PYTHON=$(PYTHON) scripts/install-venv.sh --editable $(VENV) dev
	touch $@

run: install
	$(BIN)/python -m syncd.devrun

test: lint types contracts pytest deploy-check

lint: install
	$(BIN)/ruff check src tests bench deploy
	$(BIN)/ruff format --check src tests bench deploy

types: install
	$(BIN)/mypy

contracts: install
	$(BIN)/lint-imports

# The suite on every core (pytest-xdist; each worker has a PostgreSQL database of its own).
# `--dist loadgroup`: tests sharing a module-scoped browser stay on one worker.
# PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL = -n $(PYTEST_WORKERS) --dist loadgroup

pytest: install
	$(BIN)/pytest -q $(PYTEST_PARALLEL)

# The quick loop: every test but those marked slow (real processes, kill and crash matrices,
# the browser). `make test` still runs everything.
test-fast: install
	$(BIN)/pytest -q $(PYTEST_PARALLEL) -m "not slow"

deploy-check: install
	deploy/check.sh

bench: install
	$(BIN)/python -m bench

# Longer delivery-guarantee runs than make test affords (tests/soak; see docs/guarantees.md).
soak: install
	$(BIN)/python -m tests.soak

# docs/operations.md: the settings table, from the settings model (a test checks it).
docs: install
	$(BIN)/python -m syncd.cli.settings_table --write docs/operations.md

# docs/images/: a picture of each status page (needs Chromium: apt-get install chromium).
screenshots: install
	$(BIN)/python -m tests.pages.screenshots

fmt: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis
