"""The guarded floor: the raw handler's protocol work (raw_asgi.py) plus every guarantee wxhook gives by default,
inlined in one function over process-local dicts, so the comparison shows the framework's own cost against the
least the same guarantees need.

The guarantees, as wxhook keeps them by default:

- the timestamp window: a push whose ``timestamp`` is more than 300 s from this server's clock is refused (403);
- the replay record (plaintext only: a sealed push's ``msg_signature`` covers its body): ``(timestamp, nonce)``
  → a digest of the body, kept until the timestamp leaves the window; the same nonce with another body is refused;
- retry coalescing: the message's key (MsgId and a fingerprint of its fields; sender, time and event for events)
  → its reply, kept ``max(retry window, until the timestamp leaves the window)``, so a retry or a replay gets the
  same answer and never runs the handler again.

Every record goes on one expiry deque, swept from its front on each push (records are filed in arrival order;
a record outliving its expiry a little is harmless: its timestamp is out of the window by then). Nothing else:
no typed message, routing, deadline, log line or metrics.
"""

from __future__ import annotations

import hashlib
import time
import zlib
from collections import deque
from typing import Any

from lxml import etree
from raw_asgi import ENCRYPT, ENVELOPE, PARSER, TOKEN, _answer, _sign, echo, seal

WINDOW = 300.0
RETRY_WINDOW = 60.0
_nonces: dict[str, str] = {}
_outcomes: dict[str, str] = {}
_expiry: deque[tuple[float, dict[str, str], str]] = deque()


def _sweep(now: float) -> None:
    while _expiry and _expiry[0][0] <= now:
        _, records, key = _expiry.popleft()
        records.pop(key, None)


def _key(fields: dict[str, str]) -> str:
    if fields.get("MsgType") != "event" and fields.get("MsgId"):
        fingerprint = zlib.crc32("\x00".join([f"{tag}\x01{value}" for tag, value in fields.items()
                                              if tag != "CreateTime"]).encode())
        return f"msg:{fields['MsgId']}:{fingerprint:08x}"
    return f"event:{fields['FromUserName']}:{fields['CreateTime']}:{fields.get('Event')}"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    query = dict(pair.partition("=")[::2] for pair in scope["query_string"].decode().split("&"))
    timestamp, nonce = query.get("timestamp", ""), query.get("nonce", "")
    if _sign(TOKEN, timestamp, nonce) != query.get("signature"):
        await _answer(send, 403, b"signature mismatch")
        return
    if scope["method"] != "POST":
        await _answer(send, 200, query.get("echostr", "").encode())
        return
    now = time.time()
    try:
        skew = now - int(timestamp)
    except ValueError:
        skew = WINDOW + 1
    if abs(skew) > WINDOW:
        await _answer(send, 403, b"stale timestamp")
        return
    keep = WINDOW - skew
    body = (await receive())["body"]
    _sweep(now)
    if ENVELOPE is not None:
        encrypted = ENCRYPT.search(body).group(1).decode()  # type: ignore[union-attr]
        if _sign(TOKEN, timestamp, nonce, encrypted) != query.get("msg_signature"):
            await _answer(send, 403, b"msg_signature mismatch")
            return
        body = ENVELOPE.open(encrypted)
    else:
        record, digest = f"{timestamp}:{nonce}", hashlib.blake2b(body, digest_size=12).hexdigest()
        seen = _nonces.get(record)
        if seen is None:
            _nonces[record] = digest
            _expiry.append((now + keep, _nonces, record))
        elif seen != digest:
            await _answer(send, 403, b"nonce reused with another body")
            return
    fields = {child.tag: child.text or "" for child in etree.fromstring(body, PARSER)}
    key = _key(fields)
    reply = _outcomes.get(key)
    if reply is None:
        reply = _outcomes[key] = echo(fields)
        _expiry.append((now + max(RETRY_WINDOW, keep), _outcomes, key))
    await _answer(send, 200, seal(reply) if ENVELOPE is not None else reply.encode())
