# The engine runtime's image (README, "Runtimes"): the Rasa server alone, on Python 3.10 from
# locks/engine.lock (Rasa 3.6's pins), with the model trained while building, so an image is
# exactly one version of code, dialogue and model. Settings come from the environment, under
# the app's names (integrations/rasa/engine/settings.py: RASA_PORT, RASA_API_TOKEN,
# APP_SECRET_KEY or INTERNAL_TOKEN, ACTION_SERVER_BASE_URL, RASA_TRACKER_STORE_URL, REDIS_URL,
# DATA_ENCRYPTION_KEYS, DATA_HASH_KEY). Built from the repository root:
#   docker build -f deploy/engine.Dockerfile -t rajasthan-bills-engine .
# Not built on the machine this project is developed on (it has no Docker): written to match
# the Makefile's install and `make model`, and to be tried where Docker runs.
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false \
    BIND_HOST=0.0.0.0 \
    LOG_FORMAT=json

# libpq for psycopg2 (Rasa's SQL tracker store).
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY locks/engine.lock ./locks/
RUN pip install -r locks/engine.lock

# What the Rasa server runs and trains from; nothing of the app's own code is needed.
COPY config.yml credentials.yml ./
COPY nlu_data ./nlu_data
COPY bot ./bot
COPY integrations ./integrations
RUN rasa train --config config.yml --domain bot/dialogue/domain --data nlu_data bot/dialogue/flows \
        --out models --fixed-model-name current \
    && rm -rf .rasa \
    && useradd --uid 10001 --no-create-home bot \
    && mkdir -p var && chown bot var

USER bot
EXPOSE 5005
CMD ["python", "-m", "integrations.rasa.engine.server"]
