# digest-bot container image: the package in a virtualenv on a slim Python base, run as an
# unprivileged user; the database on the /data volume, the digest files on /digests.
#   docker build -t digest-bot .        (or: docker compose build)
#   docker run --rm digest-bot --version
ARG PYTHON_IMAGE=python:3.12-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN python -m venv /opt/digest-bot \
 && /opt/digest-bot/bin/pip install --no-cache-dir . \
 && /opt/digest-bot/bin/digest-bot --version

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/digest-bot/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    DIGEST_DIR=/digests \
    DATABASE_PATH=/data/digest.db \
    INDEX_DIR=/data/index \
    HEALTH_PORT=8080 \
    HEALTH_HOST=127.0.0.1
RUN groupadd --system --gid 10001 digestbot \
 && useradd --system --uid 10001 --gid digestbot --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin digestbot \
 && mkdir -p /data /digests \
 && chown digestbot:digestbot /data
COPY --from=build /opt/digest-bot /opt/digest-bot
USER 10001:10001
WORKDIR /data
VOLUME ["/data", "/digests"]
EXPOSE 8080
# 200 with {"status": "ok", ...}; 503 (a failed check) when the gateway has been down for
# over a minute or the database cannot be read. The first start indexes the digests first.
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEALTH_PORT', '8080'), timeout=4)"]
ENTRYPOINT ["digest-bot"]
CMD ["run"]
