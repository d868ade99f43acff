"""Memory stays bounded under a long stream of hostile requests (profiles: see ``tests/fuzz/__init__.py``).

The bot keeps some state on purpose, each record with an expiry: the replay guard one per accepted
(timestamp, nonce) for ``timestamp_window``, the reply window each message's outcome for ``retry_window``.
Those are bounded by their windows, not by this loop, so the bot here has the replay guard off
(``timestamp_window=None``) and a short ``retry_window``: what remains to grow is what nothing bounds.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import random
import tracemalloc

from tests.fuzz.asgi import (
    ENVELOPE,
    STATUSES,
    Request,
    call,
    encode_query,
    envelope_body,
    make_bot,
    nonce,
    signed_pairs,
)
from tests.fuzz.conftest import LONG
from tests.fuzz.strategies import message_xml
from wxhook import Bot, MemoryStore

REQUESTS = 20_000 if LONG else 2_000
WARM_UP = 200
BOUND = 256 << 10
"""Bytes the traced heap may grow by over the loop: about 130 bytes a request (a run grows by some 25 KB)."""


def _text(rng: random.Random, size: int) -> str:
    return "".join(chr(rng.choice((rng.randrange(32, 127), rng.randrange(0x4E00, 0x9FFF)))) for _ in range(size))


def hostile(rng: random.Random) -> Request:
    """One request of ten shapes: unsigned, forged, signed garbage, signed messages plain and sealed, signed
    undecryptable envelopes, handshakes, lying Content-Length, disconnects, wrong methods."""
    shape = rng.randrange(10)
    signed = encode_query(signed_pairs("0", nonce()))
    message = message_xml({"ToUserName": "gh_account", "FromUserName": _text(rng, rng.randrange(1, 40)),
                           "CreateTime": rng.randrange(2**32), "MsgType": "text",
                           "Content": _text(rng, rng.randrange(200)), "MsgId": rng.randrange(2**63)})
    garbage = rng.randbytes(rng.randrange(2000))
    if shape == 0:
        return Request("POST", rng.randbytes(rng.randrange(200)), garbage)
    if shape == 1:
        return Request("POST", signed.replace(b"signature=", b"signature=0"), message)
    if shape == 2:
        return Request("POST", signed, garbage, cuts=[rng.randrange(len(garbage) + 1)])
    if shape == 3:
        return Request("POST", signed, message)
    if shape == 4:
        encrypted = ENVELOPE.seal(message)
        return Request("POST", encode_query(signed_pairs("0", nonce(), encrypted)), envelope_body(encrypted))
    if shape == 5:
        encrypted = base64.b64encode(rng.randbytes(rng.randrange(16, 400))).decode()
        return Request("POST", encode_query(signed_pairs("0", nonce(), encrypted)), envelope_body(encrypted))
    if shape == 6:
        return Request("GET", signed + b"&echostr=" + rng.randbytes(20).hex().encode(), b"")
    if shape == 7:
        declared = str(rng.randrange(70_000, 10**9)).encode()
        return Request("POST", signed, garbage, headers=[(b"content-length", declared)])
    if shape == 8:
        return Request("POST", signed, message, cuts=[len(message) // 2], disconnect=True)
    return Request(rng.choice(["PUT", "DELETE", "OPTIONS"]), signed, garbage)


async def _serve(bot: Bot, requests: list[Request]) -> None:
    for request in requests:
        exchange = await call(bot, request)
        assert exchange.status in STATUSES and not exchange.errors, exchange


def test_memory_is_bounded_under_hostile_requests() -> None:
    bot = make_bot("transition", timestamp_window=None, retry_window=0.05)
    rng = random.Random(8)
    # Built before tracing and all kept until the end, so neither their cost nor their release is measured.
    warm_up, requests = [hostile(rng) for _ in range(WARM_UP)], [hostile(rng) for _ in range(REQUESTS)]

    async def measure() -> int:
        await _serve(bot, warm_up)  # caches (tag tables, the runtime, lxml's parser) fill up here
        gc.collect()
        tracemalloc.start()  # from here on, what is allocated and still alive at the end is the growth
        try:
            await _serve(bot, requests)
            await asyncio.sleep(0.1)  # the last handlers' background work ends
            gc.collect()
            growth = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        await bot.shutdown()
        return growth

    growth = asyncio.run(measure())
    assert growth < BOUND, f"the heap grew by {growth} bytes over {REQUESTS} requests"
    assert isinstance(bot.store, MemoryStore) and len(bot.store) < 100, "expired records are swept, not kept"
