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
# Labels of the figures and tables: en (the committed edition) or zh (the Chinese edition):
#   make reproduce LABELS=zh   (written, like a user's run, to results/zh/, git-ignored: its
#   figures are drawn in Chinese, and its tables are translated at the end of the run)
LABELS ?= en
# A user's run writes to results/<name>/ (analysis.io.paths.results_folder names it); the
# committed run (no SURVEY, CODEBOOK, MODEL or LABELS) writes where it always has.
RESULTS = $(if $(SURVEY)$(CODEBOOK)$(MODEL)$(filter-out en,$(LABELS)),$(shell $(PY) -c \
  'import sys; from analysis.io.paths import results_folder as f; print(f(*sys.argv[1:4], labels=sys.argv[4]))' \
  "$(SURVEY)" "$(CODEBOOK)" "$(MODEL)" "$(LABELS)"),)
NB_PARAMS = $(if $(SURVEY),-p survey_path $(abspath $(SURVEY)),) \
            $(if $(CODEBOOK),-p codebook_path $(abspath $(CODEBOOK)),) \
            $(if $(MODEL),-p model_path $(abspath $(MODEL)),) \
            $(if $(filter-out en,$(LABELS)),-p labels $(LABELS),) \
            $(if $(RESULTS),--output-dir $(RESULTS),)

# One BLAS thread: on 2 cores it costs nothing, and sums in a fixed order make every number
# bit-reproducible from run to run.
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1
export MKL_NUM_THREADS := 1

.DEFAULT_GOAL := help
.PHONY: help install data reproduce verify test bench book reports clean

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
	@params='$(NB_PARAMS)'; results='$(RESULTS)'; \
	for nb in $(NOTEBOOKS); do \
		echo "== $$nb"; \
		$(PY) scripts/run_notebook.py $$nb $$params || exit 1; \
	done; \
	if [ "$(LABELS)" != en ]; then \
		$(PY) -m analysis.plots.edition $(LABELS) --results $$results \
			$(if $(CODEBOOK),--codebook $(abspath $(CODEBOOK)),) || exit 1; \
	fi; \
	if [ -n "$$results" ]; then echo "results written to $$results/ (notebooks, figures, tables)"; fi

# Tables are written at a stated precision (6 significant digits unless a notebook states fewer)
# and figures are drawn from numbers rounded the same way, so the outputs are the same on every
# machine that runs the pins. verify regenerates them in a temporary folder (the repository and
# its notebooks are not touched) and compares: tables numerically at that precision, figures
# and other files byte for byte; it reports the first difference by file, row and column.
verify: $(STAMP) ## Regenerate every output in a temporary folder and compare with the committed ones
	$(PY) scripts/verify_outputs.py

# Doctests of analysis/ run too (--doctest-modules).
# nbval runs in --nbval-lax mode: every cell must run without error, and the outputs of cells
# marked `# NBVAL_CHECK_OUTPUT` (the ones that state results) must match the committed ones.
test: $(STAMP) ## Run the unit tests and check the notebooks with nbval
	@$(PY) -m pytest tests analysis $(NBVAL_NOTEBOOKS) --doctest-modules --nbval-lax --nbval-current-env -p no:cacheprovider; \
	rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests"; exit 1; fi; exit $$rc

bench: $(STAMP) ## Time the heavy steps (beside lavaan where R is installed)
	$(PY) scripts/run_bench.py

# The HTML edition of the committed notebooks (not re-executed: run `make reproduce` first to
# show new results). Open _build/html/index.html.
book: $(STAMP) ## Build the HTML edition of the notebooks into _build/html/ (no execution)
	$(PY) scripts/build_book.py --out _build/html

# A report for every community and a district overview (self-contained HTML pages, printable on
# A4), from the tables of the run `make reproduce` made with the same SURVEY, CODEBOOK and MODEL
# (nothing is refitted): _build/reports/ for the shipped survey, results/<name>/reports/ for
# yours, in zh/ for LABELS=zh. Without that run's tables it says which `make reproduce` to run.
reports: $(STAMP) ## Write a report per community from a run's tables (SURVEY=..., LABELS=zh)
	$(PY) -m analysis.reports --labels $(LABELS) $(if $(SURVEY),--survey "$(SURVEY)",) \
	  $(if $(CODEBOOK),--codebook "$(CODEBOOK)",) $(if $(MODEL),--model "$(MODEL)",)

clean: ## Remove the virtualenv and caches (outputs in figures/ and data/processed/ are kept)
	rm -rf $(VENV) .pytest_cache build _build *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
