"""Running a bot under uvicorn the way the internet requires: bounded header reads, a log that cannot flood.

uvicorn bounds idle keep-alive connections but not a request head trickled a byte at a time, so a few
thousand such connections hold every file descriptor. ``http_protocol`` returns uvicorn's own HTTP protocol
with a deadline on the request head; the body has its own (``Bot(body_timeout=...)``). ``wxhook run`` uses both;
under plain ``uvicorn`` or gunicorn, put nginx in front (``client_header_timeout``/``client_body_timeout``,
see docs/deployment.md) or pass ``http=wxhook.serving.http_protocol()`` to ``uvicorn.Config``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .logs import Throttle

HEAD_TIMEOUT = 10.0


class _HeadTimeout:
    """Mixed into uvicorn's protocol classes: a deadline from a request's first byte to its whole head."""

    head_timeout: float = HEAD_TIMEOUT
    _head_timer: asyncio.TimerHandle | None = None
    cycle: Any
    loop: asyncio.AbstractEventLoop
    transport: Any

    def connection_made(self, transport: Any) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._head_timer is None and (self.cycle is None or self.cycle.response_complete):
            self._start_head_timer()  # a new request begins on a kept-alive connection
        super().data_received(data)  # type: ignore[misc]

    def on_response_complete(self) -> None:
        self._stop_head_timer()
        super().on_response_complete()  # type: ignore[misc]

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_expired, self.cycle)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self, cycle_then: object) -> None:
        self._head_timer = None
        if self.cycle is not None and self.cycle is not cycle_then:
            return  # a request head arrived whole since the timer started
        logging.getLogger("wxhook").debug("closing a connection whose request head took over %gs", self.head_timeout)
        self.transport.close()


class H11HeadTimeout(_HeadTimeout, H11Protocol):
    """uvicorn's pure-Python HTTP protocol with the head deadline."""


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools is optional (uvicorn[standard] brings it)
    HttpToolsHeadTimeout: type[asyncio.Protocol] | None = None
else:

    class _HttpToolsHeadTimeout(_HeadTimeout, HttpToolsProtocol):
        """uvicorn's httptools protocol with the head deadline."""

    HttpToolsHeadTimeout = _HttpToolsHeadTimeout


def http_protocol(head_timeout: float = HEAD_TIMEOUT) -> type[asyncio.Protocol]:
    """uvicorn's fastest available HTTP protocol class, closing a connection whose request head has not
    arrived whole within ``head_timeout`` seconds of its first byte.

    The default is a module-level class, so uvicorn can hand it to ``--workers`` processes; another timeout
    makes a subclass, for a single process.
    """
    base: type[asyncio.Protocol] = HttpToolsHeadTimeout or H11HeadTimeout
    if head_timeout == HEAD_TIMEOUT:
        return base
    return type(base.__name__, (base,), {"head_timeout": head_timeout})


class ThrottleRepeats(logging.Filter):
    """Lets one record per logger and message template through every ``interval`` seconds.

    For the server's own loggers: when file descriptors run out, uvicorn and asyncio log a traceback per
    refused accept, thousands a second; one line a few seconds says the same and keeps the disk.
    """

    def __init__(self, interval: float = 10.0) -> None:
        super().__init__()
        self._throttle = Throttle(interval)

    def filter(self, record: logging.LogRecord) -> bool:
        allowed, held_back = self._throttle.allow(f"{record.name}:{record.msg}")
        if allowed and held_back:
            record.msg = f"{record.msg} [{held_back} like it suppressed]"
        return allowed


class HideQueryStrings(logging.Filter):
    """Drops the query string from uvicorn's access-log lines: WeChat puts ``signature``, ``msg_signature``, the
    nonce and the follower's openid there, and a log is no place for them (docs/security.md). ``wxhook run`` puts it
    on ``uvicorn.access``; under plain uvicorn, add it there yourself or pass ``--no-access-log``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args  # uvicorn's: client address, method, path with query, HTTP version, status
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0], *args[3:])
        return True


def throttle_server_logs(interval: float = 10.0) -> None:
    """Install ``ThrottleRepeats`` on uvicorn's error log and asyncio's log (once per process)."""
    for name in ("uvicorn.error", "asyncio"):
        target = logging.getLogger(name)
        if not any(isinstance(f, ThrottleRepeats) for f in target.filters):
            target.addFilter(ThrottleRepeats(interval))
