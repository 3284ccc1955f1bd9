# Two commands: `make run` (set up + the full study) and `make test` (set up + all tests, smoke mode).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_VENV := .venv-bench
BENCH_PY := $(BENCH_VENV)/bin/python
BENCH_STAMP := $(BENCH_VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: venv model run lint test bench bench-characterise bench-fit bench-network lab clean-library

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
# sizes library (generated first if missing), on two TensorFlow threads (as notebooks 11-13 below).
# Prints its wall time.
model: venv
	@start=$$(date +%s); \
	TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2 NP_SMOKE=0 \
		$(PY) -c "from helpers import characterisation; characterisation.make_model()" || exit 1; \
	echo "== make model: $$(( $$(date +%s) - start )) s"

# Executes every numbered notebook in place, so the committed notebooks show the full run, in the
# lanes and TensorFlow thread counts their committed outputs were made with: on one machine a
# notebook's numbers depend on how many threads TensorFlow trains with (one and two give other
# weights), not on what runs beside it (another machine may differ: README, Run time). 01 first; 02 beside 03; then 04-10 as two lanes of one thread each, which halves
# their wall time on 2 cores; then 11, 12 and 13 alone on two threads. Each notebook prints its
# wall time and thread count. A numbered notebook missing from this plan stops the run.
PAPERMILL := $(VENV)/bin/papermill
ONE_THREAD_NOTEBOOKS := 10 07 04 08 05 09 06
RUN_PLAN := 01 02 03 $(ONE_THREAD_NOTEBOOKS) 11 12 13
RUN_TARGETS := $(addprefix run-,$(RUN_PLAN))
notebook = $(wildcard notebooks/$(1)_*.ipynb)
tf_threads = $(if $(filter $(1),$(ONE_THREAD_NOTEBOOKS)),1,2)

.PHONY: run-notebooks check-run-plan $(RUN_TARGETS)

run: venv model
	@$(MAKE) --no-print-directory -j2 run-notebooks
	$(PY) -m helpers.report.summary

run-notebooks: $(RUN_TARGETS)

check-run-plan:
	@unplanned="$(filter-out $(foreach n,$(RUN_PLAN),$(call notebook,$(n))),$(NOTEBOOKS))"; \
	if [ -n "$$unplanned" ]; then \
		echo "not in the Makefile's RUN_PLAN: $$unplanned (add it there)"; exit 1; fi

run-01: check-run-plan
run-02 run-03: run-01
$(addprefix run-,$(ONE_THREAD_NOTEBOOKS)): run-02 run-03
run-11: $(addprefix run-,$(ONE_THREAD_NOTEBOOKS))
run-12: run-11
run-13: run-12

$(RUN_TARGETS): run-%:
	@nb="$(call notebook,$*)"; threads=$(call tf_threads,$*); \
	if [ -z "$$nb" ]; then echo "no notebook numbered $* in notebooks/"; exit 1; fi; \
	start=$$(date +%s); \
	TF_NUM_INTRAOP_THREADS=$$threads TF_NUM_INTEROP_THREADS=$$threads NP_SMOKE=0 \
		$(PAPERMILL) --kernel python3 --cwd notebooks --log-level WARNING "$$nb" "$$nb" || exit 1; \
	echo "== $$nb: $$(( $$(date +%s) - start )) s ($$threads TensorFlow threads)"

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

# The physics fit of a size between the library's: both neighbours blended against the nearest alone.
bench-fit: venv
	$(PY) benchmarks/bench_fit.py

# make model's networks on one curve at a time: eager calls against one TensorFlow graph.
bench-network: venv
	$(PY) benchmarks/bench_network_call.py

lab: venv
	$(VENV)/bin/jupyter lab notebooks/

clean-library:
	rm -rf data/library
