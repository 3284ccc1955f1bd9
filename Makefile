# Two commands: `make run` (set up + the full study) and `make test` (set up + all tests, smoke mode).
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))

.PHONY: venv run test bench lab clean-library

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# make the repo's `helpers` package importable from any kernel of this environment
	$(PY) -c "import site, pathlib; pathlib.Path(site.getsitepackages()[0], 'np_study_repo.pth').write_text(str(pathlib.Path.cwd()) + '\n')"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (nanoparticle study)" > /dev/null
	touch $(STAMP)

venv: $(STAMP)

# Executes every numbered notebook in order, in place, so the committed notebooks show the full run.
run: venv
	@for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; \
		NP_SMOKE=0 $(VENV)/bin/papermill --kernel python3 --cwd notebooks --log-level WARNING "$$nb" "$$nb" || exit 1; \
	done

test: venv
	NP_SMOKE=1 $(PY) -m pytest --nbval-lax -q

bench: venv
	$(PY) -m pip install --quiet -r requirements-bench.txt
	$(PY) benchmarks/bench_library.py

lab: venv
	$(VENV)/bin/jupyter lab notebooks/

clean-library:
	rm -rf data/library
