"""Driving a bot as a raw ASGI app in process: hostile requests in, the complete response checked on the way out."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from tests.conftest import AES_KEY, APPID, TOKEN
from wxhook import Bot, Message, TextMessage
from wxhook.crypto import Envelope, decode_aes_key, sign

ENVELOPE = Envelope(decode_aes_key(AES_KEY), APPID)
STATUSES = {200, 400, 403, 405, 413}
HANG = 5.0
"""Seconds after which a request counts as hung (wait_for bounds an await; the clock bounds a blocked loop)."""

_NONCES = itertools.count()


def make_bot(kind: str, **options: Any) -> Bot:
    """``transition``: safe mode with plaintext still allowed; ``safe``: safe mode only; ``plain``: no AES key.

    The handler echoes a text message's content and answers nothing to anything else.
    """
    credentials: dict[str, dict[str, Any]] = {
        "transition": {"appid": APPID, "aes_key": AES_KEY, "allow_plaintext": True},
        "safe": {"appid": APPID, "aes_key": AES_KEY},
        "plain": {"appid": "", "aes_key": ""},  # "": no value, whatever the environment says
    }
    bot = Bot(TOKEN, max_body_size=65536, **credentials[kind], **options)

    @bot.on_default
    def echo(msg: Message) -> str | None:
        return msg.content if isinstance(msg, TextMessage) else None

    return bot


@dataclass
class Request:
    method: str
    query: bytes
    body: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    cuts: list[int] = field(default_factory=list)
    """Where the body is split into ``more_body`` pieces."""
    disconnect: bool = False
    """The client leaves instead of sending the last piece."""
    signed: bool = False
    """The query carries a valid signature (and a valid msg_signature when ``sealed``)."""
    sealed: bool = False

    def messages(self) -> list[dict[str, Any]]:
        bounds = [0, *sorted(cut for cut in self.cuts if 0 <= cut <= len(self.body)), len(self.body)]
        pieces = [self.body[start:end] for start, end in itertools.pairwise(bounds)]
        out: list[dict[str, Any]] = [
            {"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1}
            for index, piece in enumerate(pieces)
        ]
        if self.disconnect:
            out[-1] = {"type": "http.disconnect"}
        return out


def nonce(suffix: str = "") -> str:
    """A nonce never used before in this process: the replay guard refuses a reused one with another body."""
    return f"{next(_NONCES)}n{suffix}"


def signed_pairs(timestamp: str, nonce: str, encrypted: str | None = None) -> list[tuple[str, str]]:
    """The query WeChat signs; with ``encrypted``, the safe-mode parameters over that Encrypt value too."""
    pairs = [("signature", sign(TOKEN, timestamp, nonce)), ("timestamp", timestamp), ("nonce", nonce)]
    if encrypted is not None:
        pairs += [("encrypt_type", "aes"), ("msg_signature", sign(TOKEN, timestamp, nonce, encrypted))]
    return pairs


def encode_query(pairs: list[tuple[str, str]], raw: Collection[int] = ()) -> bytes:
    """``name=value&…``, percent-encoded except the pairs whose index is in ``raw`` (sent as they are)."""
    text = "&".join(
        f"{name}={value}" if index in raw else f"{quote(name, safe='')}={quote(value, safe='')}"
        for index, (name, value) in enumerate(pairs)
    )
    return text.encode("utf-8", "surrogatepass")


def envelope_body(encrypted: str, style: int = 0) -> bytes:
    """The outer XML of a safe-mode push around ``encrypted``, in one of the spellings the bot must read."""
    inner = [f"<![CDATA[{encrypted}]]>", encrypted, f"\n  <![CDATA[ {encrypted} ]]>\n", f" {encrypted}\t"][style % 4]
    return f"<xml><ToUserName><![CDATA[gh_account]]></ToUserName><Encrypt>{inner}</Encrypt></xml>".encode()


@dataclass
class Exchange:
    status: int
    headers: dict[bytes, bytes]
    body: bytes
    errors: list[str]
    """Records the bot logged at ERROR or above: a failure masked as "success" is a bug too."""


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(self.format(record))


@contextmanager
def quiet_wxhook() -> Iterator[_Errors]:
    """Collect the bot's errors and drop its warnings (one per rejected request, thousands in a fuzz run)."""
    logger = logging.getLogger("wxhook")
    handler = _Errors()
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.ERROR)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


def scope(request: Request) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": request.method,
        "scheme": "http", "path": "/", "raw_path": b"/", "root_path": "", "query_string": request.query,
        "headers": request.headers, "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def call(bot: Bot, request: Request) -> Exchange:
    """Send ``request`` to the bot; fails on a hang, an escaping exception or an incomplete response."""
    pending = request.messages()
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return pending.pop(0) if pending else {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)

    with quiet_wxhook() as errors:
        started = time.monotonic()
        await asyncio.wait_for(bot(scope(request), receive, send), HANG)
        assert time.monotonic() - started < HANG, "the event loop was blocked: a hang"
    assert sent and sent[0]["type"] == "http.response.start", sent
    bodies = sent[1:]
    assert bodies and all(m["type"] == "http.response.body" for m in bodies), sent
    assert all(m.get("more_body", False) for m in bodies[:-1]) and not bodies[-1].get("more_body", False), sent
    body = b"".join(m.get("body", b"") for m in bodies)
    headers = dict(sent[0]["headers"])
    assert headers[b"content-length"] == str(len(body)).encode()
    assert b"content-type" in headers
    return Exchange(sent[0]["status"], headers, body, errors.seen)
