# mlexp: `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
.PHONY: help install run test test-all bench bench-accuracy lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' --config-settings editable_mode=compat  # compat: Hydra finds hydra_plugins/ by walking folders
	touch $(STAMP)

install: $(STAMP) ## create .venv and install mlexp with its dev tools (once; again when pyproject.toml changes)

run: $(STAMP) ## train the default config (digits, mlp, adam) and print the run directory
	$(BIN)/mlexp train

test: $(STAMP) ## run the fast test suite
	$(BIN)/pytest -m "not slow" -n 2 $(PYTEST_ARGS)

test-all: $(STAMP) ## run every test, slow ones included
	$(BIN)/pytest -n 2 $(PYTEST_ARGS)

bench: $(STAMP) ## speed and memory figures, medians of 3 runs, into benchmarks/RESULTS.md (about 15 min)
	$(BIN)/python benchmarks/bench.py

bench-accuracy: $(STAMP) ## Fashion-MNIST presets' test accuracy into benchmarks/RESULTS.md (apt-get install dataset-fashion-mnist; about 50 min)
	$(BIN)/python benchmarks/fashion_accuracy.py

lint: $(STAMP) ## check style with ruff
	$(BIN)/ruff check mlexp hydra_plugins tests benchmarks
	$(BIN)/ruff format --check mlexp hydra_plugins tests benchmarks

clean: ## remove caches and every run under outputs/ (keeps .venv)
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info
	find outputs -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
