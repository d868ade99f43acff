# The bot's webhook server: `wxhook run` serves the bot named by WXHOOK_APP (module:attribute). Not plain uvicorn:
# `wxhook run` closes connections that trickle their request head in (slowloris), uvicorn alone keeps them open.
#
#   docker build -t mybot .
#   docker run -d -p 8000:8000 --stop-timeout 30 -v wxhook-data:/data \
#     -v "$PWD/bot.py:/app/bot.py:ro" -e WXHOOK_APP=bot:bot \
#     -e WXHOOK_TOKEN=... -e WXHOOK_APPID=... -e WXHOOK_SECRET=... -e WXHOOK_AES_KEY=... mybot
#
# No bot runs without WXHOOK_APP. To try the image, `-e WXHOOK_APP=examples.echo:bot` serves the echo example, the
# only module that falls back to demo credentials.
#
# Health: the HEALTHCHECK below asks GET /healthz, the health route `wxhook run` serves (WXHOOK_HEALTH_PATH names
# another), at WXHOOK_PORT: it holds for this image's own command. For a container that runs something else: under
# plain uvicorn set WXHOOK_HEALTH_PATH=/healthz (only `wxhook run` sets it); a worker (`wxhook worker app:bot`)
# serves no HTTP at all, so override the check with `wxhook worker app:bot --check`, as examples/compose does.
#
# Stopping: on SIGTERM the server stops taking requests, gives deferred handlers `shutdown_grace` seconds (default
# 10), then background jobs as long again, before it exits. Docker kills the container 10 s after SIGTERM unless
# told otherwise, so give it longer than twice shutdown_grace: `docker run --stop-timeout 30`, or in compose
# `stop_grace_period: 30s`.
#
# State: the SQLite store lives in the /data volume, so several workers (WXHOOK_WORKERS) share retries, sessions
# and the access token, and a restart keeps them. For several containers, set WXHOOK_STORE=redis://….
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WXHOOK_HOST=0.0.0.0 WXHOOK_PORT=8000 WXHOOK_WORKERS=1 WXHOOK_STORE=sqlite:////data/wxhook.db

WORKDIR /app

# Dependencies first, from pyproject.toml alone: this layer is rebuilt when they change, not on every code edit.
COPY pyproject.toml ./
RUN python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
print("\n".join(p["dependencies"] + p["optional-dependencies"]["queue"] + p["optional-dependencies"]["metrics"]))' > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt "uvicorn[standard]" \
 && rm /tmp/requirements.txt

# The code: wxhook itself (its dependencies are already installed), then the examples.
COPY README.md LICENSE ./
COPY wxhook ./wxhook
RUN pip install --no-deps . && rm -rf build *.egg-info
COPY examples ./examples

# A non-root user, and the data directory it can write (a named volume inherits this ownership; chown a bind
# mount to uid 10001).
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin wxhook \
 && mkdir /data && chown wxhook /data
VOLUME /data
USER wxhook

EXPOSE 8000
# The bot's health route, which `wxhook run` turns on at /healthz (see the header). A bot mounted below the root (a
# FastAPI app serving it at /wechat/) sets WXHOOK_HEALTHCHECK_URL=http://127.0.0.1:8000/wechat/healthz.
ENV WXHOOK_HEALTHCHECK_URL=""
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(os.environ['WXHOOK_HEALTHCHECK_URL'] or 'http://127.0.0.1:%s/healthz' % os.environ.get('WXHOOK_PORT', '8000'), timeout=3)"
CMD ["wxhook", "run"]
