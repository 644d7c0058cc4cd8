# Two commands for a newcomer: `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# Tests use their own Redis database and flush it; never the development one.
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: venv run serve test faults lint format messages browser clean bench eval

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

## run: the site with demo data on http://$(HOST):$(PORT)/ (needs Postgres and Redis)
run: venv
	$(BIN)/python -m tatartours.ensure_database
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo_tours
	$(BIN)/python manage.py demo_traffic
	$(BIN)/python manage.py ensure_demo_admin --site http://$(HOST):$(PORT)
	$(MAKE) serve

serve: venv
	$(BIN)/python -m tatartours.daphne_server -b $(HOST) -p $(PORT) \
		--websocket-max-message-size 65536 --websocket-max-frame-size 65536 --ping-interval 30 \
		tatartours.asgi:application

## browser: Debian's Chromium for the Playwright tests (never `playwright install`),
## nginx for the tests of the shipped proxy config (tests/security), and a compose
## CLI so the tests can check docker-compose.yml (no engine needed)
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Chromium from Debian's packages for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
		echo "Installing nginx from Debian's packages for the proxy tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null; }
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null 2>&1 || { \
		echo "Installing docker-compose from Debian's packages to validate docker-compose.yml"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null; }

## test: the whole suite against real Postgres, Redis, daphne and Chromium
## (the long fault and scale runs marked `heavy` are left to `make faults`)
test: venv browser
	REDIS_URL=$${TEST_REDIS_URL:-$(TEST_REDIS_URL)} $(BIN)/python -m pytest -m "not heavy" $(PYTEST_ARGS)

## faults: the fault suite at full length (docs/security.md, "Under faults"): its own
## Redis and TCP proxies, two daphne processes, 20 s outages and resync races, 1,000
## open chats, the benchmark's smoke run; then the ledgers (acked, stored, received: lost, missed, duplicated, late)
FAULT_SECONDS ?= 20
FAULT_OUTAGE_SECONDS ?= 20
faults: venv browser
	rm -f $${TEST_ARTIFACTS:-test-artifacts}/ledger-*.txt
	REDIS_URL=$${TEST_REDIS_URL:-$(TEST_REDIS_URL)} FAULT_SECONDS=$(FAULT_SECONDS) \
		FAULT_OUTAGE_SECONDS=$(FAULT_OUTAGE_SECONDS) \
		$(BIN)/python -m pytest -o timeout=600 tests/faults \
		tests/scale/test_thousand_open_chats.py tests/browser/test_dashboard_many_chats.py \
		tests/scale/test_benchmark_runs.py $(PYTEST_ARGS)
	@cat $${TEST_ARTIFACTS:-test-artifacts}/ledger-*.txt

## bench: the benchmark (docs/benchmarks.md); e.g. make bench BENCH_ARGS="--scenario relay"
$(VENV)/.bench-installed: pyproject.toml | $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	touch $@

bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench run $(BENCH_ARGS)

## eval: ask the question set through the real socket and score the answers (docs/ai.md,
## "Evaluation"); e.g. make eval EVAL_ARGS="--model fake --failures"
eval: venv
	$(BIN)/python -m evaluation $(EVAL_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## messages: refresh the Russian catalogs after changing user-facing strings
messages: venv
	$(BIN)/python manage.py makemessages -l ru --ignore=.venv --ignore=tests --ignore=bench
	$(BIN)/python manage.py makemessages -d djangojs -l ru --ignore=.venv --ignore=staticfiles
	$(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .mypy_cache .ruff_cache
