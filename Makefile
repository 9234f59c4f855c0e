# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install browser bench example clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The main job on the embedded default: PPL in Z and W of the zoo generator, with plots and JSONL;
# then the shipped paper report (style-based vs traditional) re-rendered from its results, no compute.
demo: $(STAMP)
	$(BIN)/ganeval ppl --space both --out out/demo
	$(BIN)/ganeval report --from reports/paper/results.jsonl --out out/demo/paper-report >/dev/null
	@echo ""
	@echo "PPL plots, per-sample CSVs and results.jsonl: out/demo/"
	@echo "The StyleGAN paper's Z-vs-W comparison on the embedded data: out/demo/paper-report/index.html"
	@echo "(shipped in reports/paper/; regenerate with: $(BIN)/ganeval report reports/paper/report.toml)"

# Headless Chromium for the report's browser test (Debian package; needs root, as in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "warning: could not install chromium; the browser test will report it"; \
	  else echo "note: chromium not found; install it to run the report's browser test"; fi; }

# Test processes (pytest-xdist): the suite is CPU-bound and most tests run one torch thread, so two workers
# use both cores of the project's machines; `make test WORKERS=0` runs it in one process.
WORKERS ?= 2

test: $(STAMP) browser
	$(BIN)/python -m pytest -q -n $(WORKERS)
	$(MAKE) --no-print-directory lint

# Lint, formatting and types (configured in pyproject.toml); part of `make test`.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf out build dist *.egg-info
