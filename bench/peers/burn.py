"""The overload bench's handler work (bench/overload.py), the same in every contender: 2 ms of the calling thread's
CPU time (``time.thread_time``), then the push's number recorded, so the bench can count how often each push's
handler ran, and when it began (``time.monotonic``: the machine's clock, which the bench reads too). ``runs_asgi`` and
``runs_wsgi`` wrap an app with ``GET /__runs__``, answering those ``[number, time]`` pairs as JSON."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from typing import Any

BURN = float(os.environ.get("OVERLOAD_BURN", "0.002"))
PATH = "/__runs__"
RUNS: list[tuple[int, float]] = []


def burn(content: str) -> None:
    """Spend ``BURN`` seconds of this thread's CPU time for the push whose text is ``bench message <n>``."""
    began = time.monotonic()
    end = time.thread_time() + BURN
    while time.thread_time() < end:
        pass
    RUNS.append((int(content.rsplit(" ", 1)[-1]), began))  # one append: a WSGI worker's threads can't split a pair


def runs_asgi(inner: Any) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == PATH:
            body = json.dumps(RUNS).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await inner(scope, receive, send)
    return app


def runs_wsgi(inner: Any) -> Any:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PATH:
            body = json.dumps(RUNS).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return inner(environ, start_response)  # type: ignore[no-any-return]
    return app
