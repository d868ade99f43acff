"""The per-message line: held back and written in batches where wxhook owns the destination, the same text as a
record would give, and real records (with every level and filter respected) wherever logging was configured."""

from __future__ import annotations

import hashlib
import io
import logging
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest
from uvicorn.logging import DefaultFormatter

from wxhook.logs import BufferedStreamHandler, write_held_lines
from wxhook.observe import Observer, follower_tag, loggable_key, message_log, show_info_logs

SHOWN = "%(levelname)s:     %(name)s: %(message)s"
LINE = "message type=text event=- user={} handler=echo outcome=passive ms=3.1"


def observe(observer: Observer | None = None, openid: str = "o_follower") -> str:
    """One message through an observer; the line's message part it should write."""
    (observer or Observer()).message("text", "", openid, "echo", "passive", 0.0031)
    return LINE.format(follower_tag(openid))


@pytest.fixture
def wxhook_log() -> Iterator[logging.Logger]:
    """wxhook's logger at INFO, not propagating to the root (where pytest captures), restored afterwards."""
    parent = logging.getLogger("wxhook")
    saved = [(log, log.handlers[:], log.filters[:], log.level, log.propagate, log.disabled)
             for log in (parent, message_log)]
    parent.handlers.clear()
    parent.propagate = False
    parent.setLevel(logging.INFO)
    yield parent
    for log, handlers, filters, level, propagate, disabled in saved:
        for handler in log.handlers:
            if handler not in handlers:
                handler.close()
        log.handlers[:], log.filters[:], log.propagate, log.disabled = handlers, filters, propagate, disabled
        log.setLevel(level)
    logging.disable(logging.NOTSET)


@pytest.fixture
def records_built() -> Iterator[list[logging.LogRecord]]:
    """Every LogRecord built while the test runs."""
    built: list[logging.LogRecord] = []
    factory = logging.getLogRecordFactory()

    def counting(*args: object, **kwargs: object) -> logging.LogRecord:
        built.append(factory(*args, **kwargs))
        return built[-1]

    logging.setLogRecordFactory(counting)
    yield built
    logging.setLogRecordFactory(factory)


def ours(log: logging.Logger, formatter: logging.Formatter | None = None, interval: float = 0.25,
         limit: int = 1 << 16) -> io.StringIO:
    """Our handler on ``log``, the only one: pytest hangs its capture handlers on loggers that do not propagate
    too, for the test's call; they go for this test (the fixture restores the logger as it was before)."""
    log.handlers.clear()
    stream = io.StringIO()
    handler = BufferedStreamHandler(stream, interval, limit)
    handler.setFormatter(formatter or logging.Formatter(SHOWN))
    log.addHandler(handler)
    return stream


def flush(log: logging.Logger) -> None:
    for handler in log.handlers:
        handler.flush()


def as_formatted(formatter: logging.Formatter, message: str) -> str:
    record = logging.LogRecord("wxhook.messages", logging.INFO, __file__, 1, "%s", (message,), None)
    return formatter.format(record) + "\n"


@pytest.mark.parametrize("formatter", [logging.Formatter(SHOWN),
                                       DefaultFormatter("%(levelprefix)s %(name)s: %(message)s", use_colors=False),
                                       DefaultFormatter("%(levelprefix)s %(name)s: %(message)s", use_colors=True)],
                         ids=["show_info_logs", "wxhook run", "wxhook run, coloured"])
def test_our_handler_alone_gets_the_line_without_a_record(wxhook_log: logging.Logger, formatter: logging.Formatter,
                                                         records_built: list[logging.LogRecord]) -> None:
    stream = ours(wxhook_log, formatter)
    first, second = observe(openid="o_one"), observe(openid="o_two")
    assert stream.getvalue() == "", "held back"
    flush(wxhook_log)
    assert stream.getvalue() == as_formatted(formatter, first) + as_formatted(formatter, second)
    assert records_built == []


def test_a_formatter_with_a_time_gets_records(wxhook_log: logging.Logger,
                                             records_built: list[logging.LogRecord]) -> None:
    stream = ours(wxhook_log, logging.Formatter("%(asctime)s " + SHOWN))
    message = observe()
    flush(wxhook_log)
    assert len(records_built) == 1 and stream.getvalue().endswith(f" INFO:     wxhook.messages: {message}\n")


@pytest.fixture
def server_log() -> Iterator[logging.Logger]:
    """uvicorn's error log at INFO, not propagating, restored afterwards."""
    log = logging.getLogger("uvicorn.error")
    handlers, filters, level, propagate = log.handlers[:], log.filters[:], log.level, log.propagate
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    log.handlers[:], log.filters[:], log.propagate = handlers, filters, propagate
    log.setLevel(level)


def test_the_plain_uvicorn_form(wxhook_log: logging.Logger, server_log: logging.Logger,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    root = logging.getLogger()
    pytests = root.handlers[:]
    root.handlers.clear()  # as under plain uvicorn (pytest's capture handlers are on both for the test's call)
    wxhook_log.handlers.clear()
    wxhook_log.setLevel(logging.NOTSET)
    try:
        show_info_logs()
    finally:
        root.handlers[:] = pytests
    server_log.handlers[:] = [logging.StreamHandler(stderr)]  # uvicorn's own, on the same stream
    first = observe(openid="o_first")
    server_log.info("Shutting down")  # uvicorn's lines write the held ones first...
    second = observe(openid="o_second")
    assert stderr.getvalue() == f"INFO:     wxhook.messages: {first}\nShutting down\n"
    write_held_lines()  # ...and a server's shutdown writes the rest
    assert stderr.getvalue().endswith(f"\nShutting down\nINFO:     wxhook.messages: {second}\n")


def test_other_records_write_the_held_lines_first(wxhook_log: logging.Logger) -> None:
    stream = ours(wxhook_log)
    message = observe()
    wxhook_log.warning("the store is out")
    assert stream.getvalue().splitlines() == [f"INFO:     wxhook.messages: {message}",
                                              "WARNING:     wxhook: the store is out"]


def test_held_lines_are_written_without_being_asked(wxhook_log: logging.Logger) -> None:
    stream = ours(wxhook_log, interval=0.01)
    message = observe()
    give_up = time.monotonic() + 30
    while not stream.getvalue() and time.monotonic() < give_up:
        time.sleep(0.01)
    assert stream.getvalue() == f"INFO:     wxhook.messages: {message}\n"


def test_past_the_limit_they_are_written_at_once(wxhook_log: logging.Logger) -> None:
    stream = ours(wxhook_log, limit=200)
    lines = [observe(openid=f"o_{n}") for n in range(3)]
    assert stream.getvalue() == "".join(f"INFO:     wxhook.messages: {line}\n" for line in lines[:2])


def test_a_closed_handler_writes_at_once(wxhook_log: logging.Logger) -> None:
    stream = ours(wxhook_log)
    wxhook_log.handlers[0].close()
    message = observe()
    assert stream.getvalue() == f"INFO:     wxhook.messages: {message}\n"


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _no_dashes(record: logging.LogRecord) -> bool:
    return "event=-" not in record.getMessage()


@pytest.mark.parametrize("configure", [
    lambda parent, keep: message_log.addHandler(keep),
    lambda parent, keep: parent.addHandler(keep),
    lambda parent, keep: (setattr(parent, "propagate", True), logging.getLogger().addHandler(keep)),
], ids=["a handler on wxhook.messages", "a second handler on wxhook", "a root handler"])
def test_configured_handlers_get_records_with_the_same_message(
    wxhook_log: logging.Logger, configure: Callable[[logging.Logger, Keep], None]
) -> None:
    stream = ours(wxhook_log)
    keep = Keep()
    configure(wxhook_log, keep)
    try:
        message = observe()
    finally:
        logging.getLogger().removeHandler(keep)
    flush(wxhook_log)
    assert [(r.name, r.levelno, r.getMessage()) for r in keep.records] == [("wxhook.messages", logging.INFO, message)]
    assert stream.getvalue() == f"INFO:     wxhook.messages: {message}\n"


@pytest.mark.parametrize("configure", [
    lambda parent, handler: message_log.addFilter(_no_dashes),
    lambda parent, handler: handler.addFilter(_no_dashes),
    lambda parent, handler: message_log.setLevel(logging.WARNING),
    lambda parent, handler: parent.setLevel(logging.WARNING),
    lambda parent, handler: handler.setLevel(logging.WARNING),
    lambda parent, handler: logging.disable(logging.INFO),
    lambda parent, handler: setattr(message_log, "disabled", True),
    lambda parent, handler: setattr(message_log, "propagate", False),
], ids=["logger filter", "handler filter", "logger level", "parent level", "handler level", "logging.disable",
        "disabled logger", "no propagation"])
def test_what_logging_would_not_write_is_not_written(
    wxhook_log: logging.Logger, configure: Callable[[logging.Logger, logging.Handler], None]
) -> None:
    stream = ours(wxhook_log)
    configure(wxhook_log, wxhook_log.handlers[0])
    observe()
    flush(wxhook_log)
    assert stream.getvalue() == ""


def test_a_filter_that_lets_the_line_through_sees_a_record(wxhook_log: logging.Logger) -> None:
    stream = ours(wxhook_log)
    seen: list[str] = []
    wxhook_log.handlers[0].addFilter(lambda record: seen.append(record.getMessage()) is None)
    message = observe()
    flush(wxhook_log)
    assert seen == [message] and stream.getvalue() == f"INFO:     wxhook.messages: {message}\n"


def test_nothing_held_is_lost_at_exit() -> None:
    script = ("from wxhook.observe import Observer, show_info_logs\n"
              "show_info_logs()\n"
              "observer = Observer()\n"
              "for n in range(2000):\n"
              "    observer.message('text', '', f'o_{n}', 'echo', 'passive', 0.001)\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert len(lines) == 2000 and all(line.startswith("INFO:     wxhook.messages: message type=text") for line in lines)
    assert lines[-1] == (f"INFO:     wxhook.messages: message type=text event=- user={follower_tag('o_1999')} "
                         "handler=echo outcome=passive ms=1.0")


def test_the_follower_tag_is_the_hash_of_the_openid() -> None:
    tags = {follower_tag(f"o_{n}") for n in range(5000)}
    assert len(tags) == 5000
    assert follower_tag("o_7") == follower_tag("o_7") == hashlib.blake2b(b"o_7", digest_size=6).hexdigest()


def test_a_line_that_fails_to_render_costs_no_other_line(wxhook_log: logging.Logger) -> None:
    stream = ours(wxhook_log)
    handler = wxhook_log.handlers[0]
    assert isinstance(handler, BufferedStreamHandler)
    first = observe(openid="o_before")
    assert handler.add(lambda: str(1 / 0), ())  # held as the others are; fails only when rendered
    second = observe(openid="o_after")
    flush(wxhook_log)
    assert stream.getvalue() == f"INFO:     wxhook.messages: {first}\nINFO:     wxhook.messages: {second}\n"


def test_a_key_in_a_log_line_carries_the_followers_tag_not_the_openid() -> None:
    openid = "oX1bW5k_9Qf3abcdefghijklmnop"
    event = f"wxhook:{{wx2c2769f8efd9abc2:event:{openid}:1700000000:subscribe}}:state"
    without_msg_id = f"msg:{openid}:1700000000:text:0a1b2c3d"
    for key in (event, without_msg_id):
        logged = loggable_key(key)
        assert openid not in logged and follower_tag(openid) in logged
    assert loggable_key(event).endswith(":1700000000:subscribe}:state")
    with_msg_id = "wxhook:{wx2c2769f8efd9abc2:msg:7000000000000012345:0a1b2c3d}:state"
    assert loggable_key(with_msg_id) == with_msg_id  # nothing of the follower's in it
