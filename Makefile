# The README's two commands: `make demo` and `make test`. Both bootstrap .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test demo lint format clean bench soak

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# constraints.txt pins the versions the suite is known to pass with (see its header).
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/python -m byods_manager.demo

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_tokens.py
	$(BIN)/python benchmarks/bench_sandbox.py
	$(BIN)/python benchmarks/bench_verify.py
	$(BIN)/python benchmarks/bench_fleet.py --sandbox
	$(BIN)/python benchmarks/bench_startup.py
	$(BIN)/python benchmarks/bench_onboarding.py
	$(BIN)/python benchmarks/bench_store.py
	$(BIN)/python benchmarks/bench_keepalive.py --cycles-only
	$(BIN)/python benchmarks/bench_keepalive_fleet.py

# A 3-minute keepalive soak against the sandbox; SOAK_ARGS="--full --fault-rate 0.3" for 10 min.
soak: $(STAMP)
	$(BIN)/python benchmarks/bench_keepalive.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .pytest_cache .ruff_cache
