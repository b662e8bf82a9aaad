# One image for every process of the bot (gateway, Rasa server, action server, migrations);
# the command picks the process. The Rasa model is trained while building, so an image is
# exactly one version of code, dialogue and model. See README, "Going to production".
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    RASA_TELEMETRY_ENABLED=false \
    BIND_HOST=0.0.0.0 \
    GATEWAY_HOST=0.0.0.0 \
    LOG_FORMAT=json

# Fonts with Devanagari for the PDF receipts; libpq for psycopg2 (Rasa's SQL tracker store).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core libpq5 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock

COPY . .
RUN rasa train --config config.yml --domain bot/dialogue/domain --data nlu_data bot/dialogue/flows \
        --out models --fixed-model-name current \
    && rm -rf .rasa \
    && useradd --uid 10001 --no-create-home bot \
    && mkdir -p var && chown bot var

USER bot
EXPOSE 8000 5005 5055
CMD ["python", "-m", "app.gateway"]
