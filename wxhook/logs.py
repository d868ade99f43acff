"""What wxhook logs, how often, and what it never logs.

A webhook on the public internet is sent junk all day: each kind of rejection is logged once per source and
interval, so a flood cannot fill the disk. Access tokens travel in query strings, and httpx logs every
request URL at INFO: a filter on httpx's logger masks them (and any ``secret=``) before a handler sees them.

Where wxhook owns the destination (its handler under plain uvicorn, the one ``wxhook run`` configures), the
per-message lines are held back and written in batches: a write and a flush per line cost more than half of what
wxhook spends on a message.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

logger = logging.getLogger("wxhook")
MESSAGES = "wxhook.messages"
"""The logger of the one line per message (see observe.py): the only one whose lines are held back."""

# Whole parameter names, optionally after a prefix and an underscore (msg_signature=, component_access_token=);
# errcode= is another parameter and stays.
_SECRET_NAME = r"(?:[A-Za-z0-9_]*_)?(?:access_token|refresh_token|secret|appsecret|code|ticket|signature)"
_SECRET_PARAMS = re.compile(rf"((?<![A-Za-z0-9]){_SECRET_NAME}=)[^&\s\"']+", re.IGNORECASE)
_SECRET_KEY = re.compile(_SECRET_NAME, re.IGNORECASE)
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


def without_password(url: str) -> str:
    """A store or queue URL fit for logs and errors: its password replaced by ***."""
    parts = urlsplit(url)
    userinfo, at, hosts = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return urlunsplit(parts._replace(netloc=f"{userinfo.split(':', 1)[0]}:***@{hosts}"))


def masked(value: Any) -> Any:
    """A query or JSON value with the values of the same credential names masked, at any depth: for a repr."""
    if isinstance(value, Mapping):
        return {key: "***" if isinstance(key, str) and _SECRET_KEY.fullmatch(key) else masked(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


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


# Formatters whose output depends on nothing but the format string and the record's fields (uvicorn's adds the
# padded, maybe coloured, level), and the fields that are the same for every INFO line of one logger.
_PLAIN_FORMATTERS = frozenset({"logging.Formatter", "uvicorn.logging.DefaultFormatter",
                               "uvicorn.logging.ColourizedFormatter"})
_FIELD = re.compile(r"%\((\w+)\)")
_FIXED_FIELDS = frozenset({"name", "levelname", "levelno", "levelprefix", "message"})
_MARK = "\x00"
_DEFERRED_SIZE = 100
"""What a line held by ``add`` counts against ``limit`` before it is rendered (a message line is about that)."""
_Deferred = tuple[Callable[..., str], tuple[Any, ...]]
_UNFRAMED = object()
_instances: weakref.WeakSet[BufferedStreamHandler] = weakref.WeakSet()


class BufferedStreamHandler(logging.Handler):
    """A stream handler that holds back the lines of ``wxhook.messages`` at INFO and writes them together.

    Held lines are written by a background thread ``interval`` seconds after the first of them, at once when
    they pass ``limit`` characters, on ``flush()``, and at exit (``logging``'s exit hook flushes every handler).
    Any other record first writes what is held, then itself, so the order holds and a warning is never late.
    A line handed over by ``add`` is rendered only when it is written, together with the others held.
    """

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25, limit: int = 1 << 16) -> None:
        super().__init__()
        self._lock = self.lock or threading.RLock()  # the handler's own lock, which logging renews after a fork
        self.stream = sys.stderr if stream is None else stream
        self.interval = interval
        self.limit = limit
        self._held: list[str | _Deferred] = []
        self._size = 0
        self._closed = False
        self._due = threading.Event()
        self._writer: threading.Thread | None = None
        self._framed_by: object = _UNFRAMED
        self._frame: tuple[str, str] | None = None
        _instances.add(self)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            if record.name == MESSAGES and record.levelno <= logging.INFO:
                self._hold(line, len(line))
            else:
                with self._lock:
                    self._write("".join(self._take()) + line)
        except RecursionError:
            raise
        except Exception:
            self.handleError(record)

    def add(self, render: Callable[..., str], args: tuple[Any, ...]) -> bool:
        """Holds the line a ``wxhook.messages`` record at INFO with the message ``render(*args)`` would be
        written as, without building the record, and renders it only when it is written: with the other
        held lines, off the request's path. False when the formatter writes more than the level and the
        logger's name around the message (a time, a thread): then only a record gives the right line."""
        formatter = self.formatter
        if formatter is not self._framed_by:
            with self._lock:  # what is held goes out in the frame it was held for
                self._write("".join(self._take()))
                self._frame = _frame(formatter or logging.Formatter())
                self._framed_by = formatter
        if self._frame is None:
            return False
        self._hold((render, args), _DEFERRED_SIZE)
        return True

    def write_held(self) -> None:
        """``flush()`` for callers that must not fail on a broken stream (logging reports it, as for a record)."""
        try:
            self.flush()
        except Exception:
            self.handleError(logging.makeLogRecord({"name": MESSAGES, "msg": "(held message lines)"}))

    def flush(self) -> None:
        with self._lock:
            self._write("".join(self._take()))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._write("".join(self._take()))
            self._due.set()
        super().close()

    def _hold(self, line: str | _Deferred, size: int) -> None:
        with self._lock:
            self._held.append(line)
            self._size += size
            if self._closed or self._size >= self.limit:  # closed: after logging's exit hook, nothing writes later
                self._write("".join(self._take()))
            elif len(self._held) == 1:
                self._wake_writer()

    def _take(self) -> list[str]:
        """The held lines, rendered; a line that fails to render is reported as a record would be."""
        held, self._held, self._size = self._held, [], 0
        before, after = self._frame or ("", "\n")
        lines: list[str] = []
        for line in held:
            if isinstance(line, str):
                lines.append(line)
                continue
            try:
                lines.append(before + line[0](*line[1]) + after)
            except Exception:  # as logging does: a failing log line must not lose the others
                self.handleError(logging.makeLogRecord({"name": MESSAGES, "msg": "(a message line)"}))
        return lines

    def _write(self, text: str) -> None:
        if text:
            self.stream.write(text)
        self.stream.flush()

    def _wake_writer(self) -> None:
        if self._writer is None or not self._writer.is_alive():  # first use, or a child process after a fork
            self._due = threading.Event()
            self._writer = threading.Thread(target=self._write_when_due, name="wxhook-log-writer", daemon=True)
            try:
                self._writer.start()
            except RuntimeError:  # the interpreter is exiting: no thread would write them
                self._write("".join(self._take()))
                return
        self._due.set()

    def _write_when_due(self) -> None:
        due = self._due
        while not self._closed:
            due.wait()
            time.sleep(self.interval)
            due.clear()
            self.write_held()


def _frame(formatter: logging.Formatter) -> tuple[str, str] | None:
    """What ``formatter`` writes before and after the message of a ``wxhook.messages`` line at INFO (the line's
    end included), or None when that depends on more than the level and the name."""
    kind = type(formatter)
    style = formatter._style
    if (f"{kind.__module__}.{kind.__qualname__}" not in _PLAIN_FORMATTERS or type(style) is not logging.PercentStyle
            or not set(_FIELD.findall(style._fmt)) <= _FIXED_FIELDS):
        return None
    text = formatter.format(logging.LogRecord(MESSAGES, logging.INFO, __file__, 0, _MARK, None, None))
    before, found, after = text.partition(_MARK)
    return (before, after + "\n") if found else None


def write_held_lines() -> None:
    """Writes what every ``BufferedStreamHandler`` holds. For a server's shutdown: a process that ends by a
    signal (uvicorn raises SIGTERM again once it has stopped) skips the exit hook that would write them."""
    for handler in list(_instances):
        handler.write_held()


class WriteHeldFirst(logging.Filter):
    """On a logger that another handler writes to the same stream (uvicorn's own lines): the message lines held
    so far go out first, so the stream stays in order, and uvicorn's last line ("Finished server process",
    before it raises SIGTERM again) carries out the ones still held."""

    def filter(self, record: logging.LogRecord) -> bool:
        write_held_lines()
        return True


def sole_buffered_handler(source: logging.Logger, level: int) -> BufferedStreamHandler | None:
    """The handler of ours that alone would see a record of ``source`` at ``level``, if there is one: None as soon
    as a filter on ``source``, or a handler of any other kind or with a filter, would see it too (someone
    configured logging, and gets real records)."""
    if source.filters or source.disabled:
        return None
    found: BufferedStreamHandler | None = None
    node: logging.Logger | None = source
    while node is not None:
        for handler in node.handlers:
            if level < handler.level:
                continue
            if found is not None or type(handler) is not BufferedStreamHandler or handler.filters:
                return None
            found = handler
        node = node.parent if node.propagate else None
    return found
