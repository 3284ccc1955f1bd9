# Two commands: `make run` (set up + the full study) and `make test` (set up + all tests, smoke mode).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: venv model run lint test bench bench-characterise lab clean-library

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# the repo's `helpers` package, installed in editable mode for every kernel of this environment
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (nanoparticle study)" > /dev/null
	touch $(STAMP)

venv: $(STAMP)

# The model `python -m helpers characterise` finds by default (models/characterise/), trained on the
# sizes library (generated first if missing). Prints its wall time.
model: venv
	@start=$$(date +%s); \
	NP_SMOKE=0 $(PY) -c "from helpers import characterisation; characterisation.make_model()" || exit 1; \
	echo "== make model: $$(( $$(date +%s) - start )) s"

# Executes every numbered notebook in order, in place, so the committed notebooks show the full run.
# Prints each notebook's wall time.
run: venv model
	@for nb in $(NOTEBOOKS); do \
		start=$$(date +%s); \
		NP_SMOKE=0 $(VENV)/bin/papermill --kernel python3 --cwd notebooks --log-level WARNING "$$nb" "$$nb" || exit 1; \
		echo "== $$nb: $$(( $$(date +%s) - start )) s"; \
	done
	$(PY) -m helpers.report.summary

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Smoke mode on two workers (each notebook runs whole on one; the smoke library is built first so
# that no two workers build it at once), then the checks of what the notebooks recorded.
test: lint
	rm -rf results/smoke
	NP_SMOKE=1 $(PY) -c "from helpers.simulation import library; library.load_library('smoke', progress=False)"
	NP_SMOKE=1 $(PY) -m pytest --nbval-lax -q -n 2 --dist loadscope
	NP_SMOKE=1 NP_SMOKE_RECORDED=1 $(PY) -m pytest -q tests/test_smoke_results.py

# The benchmarks run in their own environment, .venv-bench/: torch and debyecalculator
# (requirements-bench.txt) are only for measuring against, never dependencies of the study's .venv/.
$(BENCH_STAMP): requirements.txt requirements-bench.txt pyproject.toml
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_PY) -m pip install --quiet --upgrade pip
	$(BENCH_PY) -m pip install --quiet -r requirements.txt -r requirements-bench.txt
	$(BENCH_PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BENCH_PY) benchmarks/bench_library.py
	$(BENCH_PY) benchmarks/bench_engine.py

# The command line on a batch of files, one process against two workers (after `make model`).
bench-characterise: venv
	$(PY) benchmarks/bench_characterise.py

lab: venv
	$(VENV)/bin/jupyter lab notebooks/

clean-library:
	rm -rf data/library
