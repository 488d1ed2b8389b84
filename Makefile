# Paydesk: two commands for a new user.
#   make demo   set up .venv from the lock file and open the demo firm
#   make test   set up .venv the same way and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: demo test lint chromium clean-venv

# The virtual environment is rebuilt when the lock file or pyproject.toml changes.
# Paydesk itself is installed editable in setuptools' default mode, so `paydesk` runs this
# checkout as it is edited (not the deprecated compat mode and its wall of warnings); the
# one notice setuptools prints for every editable install is left out.
$(VENV): $(BIN)/.installed
$(BIN)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

demo: $(VENV)
	$(BIN)/paydesk demo

# Style, the import layers, and the type checker over gateway/ ([tool.mypy] in pyproject.toml):
# a Stripe request parameter the pinned SDK's types do not know fails here, before it is sent.
lint: $(VENV)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

# The browser test of `paydesk serve-web` drives Debian's chromium headless.
chromium:
	sh scripts/ensure-chromium.sh

# PostgreSQL tests run when the server answers; CI (.ci/run) makes them mandatory.
# Four workers on two cores: the interface tests spend most of their time waiting on the
# app (a worker keeps about half a core busy), so four finish the suite far sooner.
test: $(VENV) lint chromium
	@if [ -z "$$PAYDESK_TEST_POSTGRES_URL" ] && $(BIN)/python -c "import psycopg2,sys; psycopg2.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
		export PAYDESK_TEST_POSTGRES_URL='$(PG_URL)'; \
	fi; \
	$(BIN)/python -m pytest -n 4 --dist loadgroup $(PYTEST_ARGS)

clean-venv:
	rm -rf $(VENV)
