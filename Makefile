# Research compendium: urban community governance performance from a public-value perspective.
# `make reproduce` and `make test` set up .venv themselves (Python 3.11+ and make are enough).

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.install-stamp
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]-*.ipynb))
# Notebooks too heavy to recompute at full size in CI are checked at a smaller size by a test
# in tests/ instead (see README, "What make test checks").
NBVAL_SKIP := notebooks/06-simulation-validation.ipynb
NBVAL_NOTEBOOKS := $(filter-out $(NBVAL_SKIP),$(NOTEBOOKS))
# A user's own survey and questionnaire:
#   make reproduce SURVEY=data/raw/private/my-survey.xlsx CODEBOOK=data/raw/private/codebook.csv
#   ... MODEL=path/to/model.lav (structural lines in lavaan syntax; measurement from the codebook)
# A user's run writes its notebooks, figures and tables to results/<survey name>/ (git-ignored)
# and leaves the committed compendium untouched; `make reproduce` alone writes where it always has.
SURVEY ?=
CODEBOOK ?=
MODEL ?=
RESULTS ?= $(if $(SURVEY),results/$(basename $(notdir $(SURVEY))),$(if $(CODEBOOK),results/$(basename $(notdir $(CODEBOOK))),$(if $(MODEL),results/$(basename $(notdir $(MODEL))),)))
NB_PARAMS := $(if $(SURVEY),-p survey_path $(abspath $(SURVEY)),) \
             $(if $(CODEBOOK),-p codebook_path $(abspath $(CODEBOOK)),) \
             $(if $(MODEL),-p model_path $(abspath $(MODEL)),) \
             $(if $(RESULTS),--output-dir $(abspath $(RESULTS)),)

# One BLAS thread: on 2 cores it costs nothing, and sums in a fixed order make every number
# bit-reproducible from run to run.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.DEFAULT_GOAL := help
.PHONY: help install data reproduce test bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the package with its test extras (idempotent)

data: $(STAMP) ## Regenerate the synthetic data in data/raw/ from the fixed seed
	$(PY) -m analysis.study.population

reproduce: $(STAMP) ## Run every notebook in order (SURVEY=path to use your own survey)
	@for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; \
		$(PY) scripts/run_notebook.py $$nb $(NB_PARAMS) || exit 1; \
	done
	@$(if $(RESULTS),echo "results written to $(RESULTS)/ (notebooks, figures, tables)",true)

# nbval runs in --nbval-lax mode: every cell must run without error, and the outputs of cells
# marked `# NBVAL_CHECK_OUTPUT` (the ones that state results) must match the committed ones.
test: $(STAMP) ## Run the unit tests and check the notebooks with nbval
	@$(PY) -m pytest tests $(NBVAL_NOTEBOOKS) --nbval-lax --nbval-current-env -p no:cacheprovider; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 1; fi; exit $$rc

bench: $(STAMP) ## Time the heavy steps (beside lavaan where R is installed)
	$(PY) scripts/run_bench.py

clean: ## Remove the virtualenv and caches (outputs in figures/ and data/processed/ are kept)
	rm -rf $(VENV) .pytest_cache build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
