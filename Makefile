# Every target installs what it needs first; see README.md.
PYTHON ?= python3.10
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
MODEL := models/current.tar.gz
# The model also embeds our NLU component, so its code is an input too.
DIALOGUE_INPUTS := config.yml $(shell find nlu_data bot/dialogue -name '*.yml' 2>/dev/null) \
	integrations/rasa/normaliser.py bot/model/text.py bot/model/identifiers.py
RASA := RASA_TELEMETRY_ENABLED=false $(BIN)/rasa
export RASA_TELEMETRY_ENABLED := false

.PHONY: help install system-deps db model run test validate lint format types nlu-eval bench clean \
	rotate-keys bench-reminders converse-eval

help:
	@echo "make run      start the whole stack on embedded defaults (web chat at http://127.0.0.1:8000/)"
	@echo "make test     install, train if needed, validate, lint, types, every test"
	@echo "make model    train the Rasa model when its inputs changed"
	@echo "make validate rasa data validate"
	@echo "make lint     ruff check + format check + import contracts"
	@echo "make types    mypy"
	@echo "make bench    the full stack under load vs a plain rasa init bot (BENCH_SECONDS)"
	@echo "make converse-eval  scripted residents off the happy path, every channel (ONLY=, ARGS=-v)"

install: $(INSTALLED)

$(INSTALLED): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip wheel
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $@

system-deps:
	bash scripts/install-system-deps.sh

db: install
	$(BIN)/python -m app.cli.migrate
	$(BIN)/python -m app.cli.seed

# Re-encrypt personal data under the first key of DATA_ENCRYPTION_KEYS (README, Privacy).
rotate-keys: install
	$(BIN)/python -m app.cli.rotate_keys

model: $(MODEL)

# Make's timestamps decide: the model is rebuilt only when config, NLU data or dialogue changed.
$(MODEL): $(DIALOGUE_INPUTS) | $(INSTALLED)
	$(RASA) train --config config.yml --domain bot/dialogue/domain --data nlu_data bot/dialogue/flows \
		--out models --fixed-model-name current
	touch $@

run: install system-deps db model
	exec $(BIN)/python -m app.stack

validate: install
	$(BIN)/python scripts/validate_dialogue.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

types: install
	$(BIN)/mypy bot app channels integrations actions

test: install system-deps model validate lint types
	$(BIN)/python -m pytest

# Trains an NLU model of its own (in a temporary directory), scores it per language on the
# held-out set and cross-validates with 3 folds: about 10 minutes on 2 cores.
nlu-eval: install
	$(BIN)/python -m scripts.nlu_eval

# The full stack under load vs a plain `rasa init` bot (scripts/bench/stack.py); BENCH_SECONDS
# (default 60) per run, BENCH_CONCURRENCY (default 10). Last line: one JSON object.
bench: install model
	$(BIN)/python -m scripts.bench.stack

# Scripted residents who leave the happy path (tests/conversations/scenarios/) on the whole
# stack, all four channels; ONLY=<part of a name>[,…] runs some, ARGS=-v prints each exchange.
# A few minutes. Last line: one JSON object (README, "Conversation repair").
converse-eval: install model
	$(BIN)/python -m scripts.converse_eval $(ARGS)

# N reminders (default 100000) through the real dispatcher to a stand-in Twilio on 127.0.0.1,
# under BENCH_SENDERS x BENCH_RATE_PER_SENDER messages/s, then with no limit. About 6 minutes.
N ?= 100000
bench-reminders: install
	N=$(N) $(BIN)/python -m scripts.bench.reminders

clean:
	rm -rf models var .rasa reports .pytest_cache
