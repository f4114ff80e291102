# One-command entry points. `make demo` and `make test` work on a fresh machine: they create the
# virtual environments they need (the project's and the Triton server's) before doing anything else.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
UV := $(shell command -v uv 2>/dev/null)

# dg (Dagster's project CLI) reads [tool.dg] in pyproject.toml; it checks the venv it runs from is the project's
DG := VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/dg

.PHONY: check-defs screenshots setup demo test test-fast test-production test-reliability dev mlflow-ui mlflow-server bench bench-setup lint clean

# Installed with compiled bytecode: PYTHONDONTWRITEBYTECODE=1 on these machines means no process ever
# caches what it compiles, so without .pyc files every `mlops`/pytest/dagster start recompiles its imports
# (import dagster 1.25 s -> 0.57 s, scipy.stats 1.5 s -> 0.66 s once compiled).
$(STAMP): pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH"; exit 2; }
	@if [ -z "$(UV)" ]; then $(PYTHON) -m pip install --quiet --disable-pip-version-check uv; fi
	@UV_BIN=$$(command -v uv || echo "$(PYTHON) -m uv"); \
	  [ -x $(PY) ] || $$UV_BIN venv $(VENV) -p $(PYTHON) -q; \
	  $$UV_BIN pip sync -p $(PY) -q --compile-bytecode requirements.lock && \
	  $$UV_BIN pip install -p $(PY) -q --compile-bytecode --no-deps -e .
	@if [ -f mlops_assets/serving/triton_env.py ]; then $(PY) -m mlops_assets.serving.triton_env; fi
	@touch $(STAMP)

setup: $(STAMP)

demo: setup  ## the self-healing loop under the daemon, from an empty data/ folder, with a summary
	$(VENV)/bin/mlops demo --fresh

test: setup  ## the full suite, exactly what CI runs
	$(VENV)/bin/pytest -q

test-fast: setup
	$(VENV)/bin/pytest -q -m "not slow"

test-production: setup  ## only the production profile's tests (PostgreSQL, Redis, MLflow server, k8s specs)
	$(VENV)/bin/pytest -q -m production

test-reliability: setup  ## only the fault, bad-input, load and security suite
	$(VENV)/bin/pytest -q -m reliability

check-defs: setup  ## Dagster's own check that the Definitions load (dg check defs, as CI runs it)
	$(DG) check defs

dev: setup  ## the Dagster UI on http://127.0.0.1:3000
	$(VENV)/bin/mlops dev

mlflow-ui: setup  ## the MLflow UI on http://127.0.0.1:5000 over the embedded store
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/data/mlflow/mlflow.db --host 127.0.0.1 --port 5000

# The production profile's tracking server: PostgreSQL backend store, artifacts proxied into MLFLOW_ARTIFACTS
# (a bucket URI such as s3://... in a cluster). MLFLOW_BACKEND_URI must name an existing database.
MLFLOW_BACKEND_URI ?= postgresql://postgres@127.0.0.1:5432/mlflow
MLFLOW_ARTIFACTS ?= $(CURDIR)/data/mlflow-server-artifacts
mlflow-server: setup  ## MLflow tracking server for MLOPS_PROFILE=production on http://127.0.0.1:5001
	$(VENV)/bin/mlflow server --backend-store-uri $(MLFLOW_BACKEND_URI) --artifacts-destination $(MLFLOW_ARTIFACTS) \
	  --host 127.0.0.1 --port 5001 --workers 2

bench: setup  ## benchmarks, printed as ratios against baselines measured in the same run
	$(PY) -m bench.run

# Evidently and NannyML for the drift bench's side-by-side rows, pinned by requirements.lock so that no
# package the platform uses changes version (checked: they only add packages). `make setup` re-syncs the
# lock and drops them again; without them `make bench` prints "not installed" in their rows.
bench-setup: setup  ## the bench extra (Evidently, NannyML) into .venv for the drift bench
	@UV_BIN=$$(command -v uv || echo "$(PY) -m uv"); \
	  $$UV_BIN pip install -p $(PY) -q --compile-bytecode -c requirements.lock -r pyproject.toml --extra bench

screenshots: setup  ## refresh docs/img/*.png from the demo's instance (needs Debian's chromium)
	@$(PY) -c "import playwright" 2>/dev/null || $$(command -v uv || echo "$(PYTHON) -m uv") pip install -p $(PY) -q \
	  --compile-bytecode "playwright>=1.45"
	$(PY) docs/screenshots.py

lint: setup
	$(VENV)/bin/ruff check .

clean:
	rm -rf data
