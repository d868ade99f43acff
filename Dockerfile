# Serves the ASGI app named by WXHOOK_APP (module:attribute, default the echo example) on $PORT.
#   docker build -t mybot .
#   docker run -p 8000:8000 -v "$PWD/bot.py:/app/bot.py" -e WXHOOK_APP=bot:bot \
#     -e WXHOOK_TOKEN=... -e WXHOOK_APPID=... -e WXHOOK_SECRET=... -e WXHOOK_AES_KEY=... mybot
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    WXHOOK_APP=examples.echo:bot PORT=8000 WEB_CONCURRENCY=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY wxhook ./wxhook
RUN pip install --no-cache-dir ".[queue]" "uvicorn[standard]" && useradd --create-home wxhook
COPY examples ./examples

USER wxhook
EXPOSE 8000
CMD ["sh", "-c", "exec uvicorn \"$WXHOOK_APP\" --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\" --proxy-headers --no-server-header"]
