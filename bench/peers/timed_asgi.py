"""The ASGI layer behind ``compare.py --inside``: it serves the app named by ``TIMED_APP`` (``module:attribute``,
from this directory) and times, for every request, the app's call and, within it, the ASGI sends (the response
going out through the server to the socket) and receives (the body).

``GET /__timing__`` answers the totals since the last such request, in seconds, as JSON, and starts them again:
the comparison asks once after its warm-up and once after its measured run. The call of an app that waits (on a
SQLite or Redis store) also holds the wait, while the server runs other requests; the apps compared this way
(wxhook on the memory store, the raw handler) answer in one step. The layer adds about a microsecond per call.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from typing import Any

_module, _, _attribute = os.environ["TIMED_APP"].partition(":")
inner = getattr(importlib.import_module(_module), _attribute)
PATH = "/__timing__"  # loadtest.TIMING
_clock = time.perf_counter
_totals = {"requests": 0, "call": 0.0, "send": 0.0, "receive": 0.0}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        await inner(scope, receive, send)
        return
    if scope["path"] == PATH:
        body = json.dumps(_totals).encode()
        _totals.update(requests=0, call=0.0, send=0.0, receive=0.0)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return

    async def timed_send(message: Any) -> None:
        started = _clock()
        await send(message)
        _totals["send"] += _clock() - started

    async def timed_receive() -> Any:
        started = _clock()
        message = await receive()
        _totals["receive"] += _clock() - started
        return message

    started = _clock()
    await inner(scope, timed_receive, timed_send)
    _totals["call"] += _clock() - started
    _totals["requests"] += 1
