# `make demo` and `make test` do all set-up on a fresh Debian 12 / Python 3.11 machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
UV_VERSION := 0.13.9
INSTALLED := $(VENV)/.installed

.PHONY: install demo test lint format lock bench clean

install: $(INSTALLED)

# The locked set first, then TFX and ml-pipelines-sdk without their (Python <3.11) metadata,
# then this project in editable mode.
$(INSTALLED): requirements.lock setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip sync --python $(BIN)/python requirements.lock
	$(UV) pip install --python $(BIN)/python --no-deps tfx==1.16.0 ml-pipelines-sdk==1.16.0
	$(UV) pip install --python $(BIN)/python --no-deps --no-build-isolation -e .
	touch $@

demo: install
	$(BIN)/python -m pipelines.demo

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve requirements.in into requirements.lock (exact versions, Python 3.11, Linux x86_64).
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(UV) pip compile requirements.in --python-version 3.11 \
		--python-platform x86_64-manylinux_2_36 --output-file requirements.lock

bench: install
	$(BIN)/python benchmarks/read_product.py
	$(BIN)/python benchmarks/ingest.py
	$(BIN)/python benchmarks/train_step.py
	$(BIN)/python benchmarks/inpaint_scene.py
	$(BIN)/python benchmarks/inpaint_series.py

clean:
	rm -rf $(VENV) demo-output benchmarks/output build *.egg-info
