# The app runtime's image (README, "Runtimes"): the gateway, the rasa-sdk action server, the
# reminder workers and the CLIs (migrations, seed, key rotation), on Python 3.12 from
# locks/app.lock; no Rasa, no TensorFlow, no model. The command picks the process (see
# docker-compose.yml). Built from the repository root:
#   docker build -f deploy/app.Dockerfile -t rajasthan-bills-app .
# Not built on the machine this project is developed on (it has no Docker): written to match
# the Makefile's install, and to be tried where Docker runs. See README, "Going to production".
FROM python:3.12-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BIND_HOST=0.0.0.0 \
    GATEWAY_HOST=0.0.0.0 \
    LOG_FORMAT=json

# Fonts with Devanagari for the PDF receipts.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY locks/app.lock ./locks/
RUN pip install -r locks/app.lock

COPY . .
RUN useradd --uid 10001 --no-create-home bot \
    && mkdir -p var && chown bot var

USER bot
EXPOSE 8000 5055
CMD ["python", "-m", "app.gateway"]
