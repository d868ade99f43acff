"""Run an ASGI app (a Bot, or an app it is mounted in) under a real uvicorn for the length of a test."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["serve"]

_START_TIMEOUT = 10.0


@contextlib.contextmanager
def serve(app: Any, *, shutdown_timeout: float = 30.0, **uvicorn_options: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) from a background thread; yields the base URL.

    ``uvicorn_options`` go to ``uvicorn.Config`` (``http=``, ``timeout_keep_alive=`` …).

    Lifespan runs as in production, so leaving the block waits for the bot's shutdown: deferred replies and
    background work finish (or are logged) before the test goes on to assert on them.
    """
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning", **uvicorn_options)
    server = uvicorn.Server(config)

    def run() -> None:
        with contextlib.suppress(SystemExit):  # uvicorn exits this way when startup fails
            asyncio.run(server.serve())

    thread = threading.Thread(target=run, name="wxhook-serve", daemon=True)
    thread.start()
    try:
        started = threading.Event()
        for _ in range(int(_START_TIMEOUT / 0.01)):
            if server.started or not thread.is_alive():
                break
            started.wait(0.01)
        if not server.started:
            raise RuntimeError("the app did not start under uvicorn; its startup failed (see the log above)")
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.should_exit = True
        thread.join(shutdown_timeout)
