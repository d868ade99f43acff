"""What wxhook logs, how often, and what it never logs.

A webhook on the public internet is sent junk all day: each kind of rejection is logged once per source and
interval, so a flood cannot fill the disk. Access tokens travel in query strings, and httpx logs every
request URL at INFO: a filter on httpx's logger masks them (and any ``secret=``) before a handler sees them.
"""

from __future__ import annotations

import logging
import re
import time

logger = logging.getLogger("wxhook")

# Whole parameter names, optionally after a prefix and an underscore (msg_signature=, component_access_token=);
# errcode= is another parameter and stays.
_SECRET_PARAMS = re.compile(
    r"((?<![A-Za-z0-9])(?:[A-Za-z0-9_]*_)?(?:access_token|refresh_token|secret|appsecret|code|ticket|signature)=)"
    r"[^&\s\"']+",
    re.IGNORECASE,
)
# httpcore logs from child loggers, which a filter on the parent would not see.
_HTTP_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")


class Throttle:
    """Says whether an event of a given kind may be logged now: at most once per ``interval`` per key.

    The table is bounded: past ``max_keys`` distinct keys it starts over, so a flood from many sources
    costs memory no more than a flood from one.
    """

    __slots__ = ("_interval", "_last", "_max_keys", "_suppressed")

    def __init__(self, interval: float = 60.0, max_keys: int = 1024) -> None:
        self._interval = interval
        self._max_keys = max_keys
        self._last: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}

    def allow(self, key: str) -> tuple[bool, int]:
        """Whether to log now, and how many events of this key were held back since the last line."""
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self._interval:
            self._suppressed[key] = self._suppressed.get(key, 0) + 1
            return False, 0
        if len(self._last) >= self._max_keys:
            self._last.clear()
            self._suppressed.clear()
        self._last[key] = now
        return True, self._suppressed.pop(key, 0)


class RedactSecrets(logging.Filter):
    """Masks credentials in query strings of a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(_redact(arg) for arg in record.args) if isinstance(record.args, tuple) else record.args
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def redact(text: str) -> str:
    """``text`` with the values of credential query parameters (``access_token=``, ``secret=``, …) masked."""
    return _SECRET_PARAMS.sub(r"\1***", text)


def _redact(value: object) -> object:
    """A URL (``httpx.URL`` included) or string argument, masked; anything without a secret stays as is."""
    text = str(value) if not isinstance(value, (int, float)) else None
    if text is None or "=" not in text:
        return value
    redacted = redact(text)
    return value if redacted == text else redacted


def install_redaction() -> None:
    """Attach the filter to httpx's and httpcore's loggers once per process."""
    for name in _HTTP_LOGGERS:
        target = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in target.filters):
            target.addFilter(RedactSecrets())
