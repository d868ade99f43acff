"""Per-request cost of the webhook pipeline, called as a raw ASGI app (no network, no server).

    python bench/bench_webhook.py            # plaintext and safe-mode echo, µs per request

Measures what wxhook itself adds: query parsing, signature checks, body read, decrypt, XML parse, typed
message, dispatch, reply render, encrypt. Compare before and after a change on the same machine.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import urlencode

from wxhook import Bot
from wxhook.crypto import Envelope, decode_aes_key, sign
from wxhook.testing import message_xml

TOKEN, APPID, KEY = "bench", "wx2c2769f8efd9abc2", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def build_bot() -> Bot:
    bot = Bot(token=TOKEN, appid=APPID, aes_key=KEY)
    for i in range(200):
        bot.on_text(f"keyword{i}")(lambda m, i=i: f"answer {i}")
    bot.on_text(regex=r"^order (\d+)$")(lambda m: "order")

    @bot.on_text
    async def echo(msg: Any) -> str:
        return str(msg.content)

    return bot


def request(encrypted: bool, msg_id: int) -> tuple[dict[str, Any], bytes]:
    """One signed push; every MsgId is new, so no request is mistaken for a retry."""
    fields = {"ToUserName": "gh_bench", "FromUserName": "o_bench", "CreateTime": 1700000000, "MsgType": "text",
              "Content": "hello wxhook", "MsgId": msg_id}
    body = message_xml(fields).encode()
    ts, nonce = "1700000000", "42"
    query = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
    if encrypted:
        sealed = Envelope(decode_aes_key(KEY), APPID).seal(body)
        query.update(encrypt_type="aes", msg_signature=sign(TOKEN, ts, nonce, sealed))
        body = message_xml({"ToUserName": "gh_bench", "Encrypt": sealed}).encode()
    scope = {"type": "http", "method": "POST", "path": "/", "query_string": urlencode(query).encode(),
             "headers": [(b"content-length", str(len(body)).encode())]}
    return scope, body


async def run(bot: Bot, encrypted: bool, n: int, first_id: int) -> float:
    requests = [request(encrypted, first_id + i) for i in range(n)]
    statuses: list[int] = []

    async def send(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.start":
            statuses.append(event["status"])

    start = time.perf_counter()
    for scope, body in requests:
        message = {"type": "http.request", "body": body, "more_body": False}

        async def receive(message: dict[str, Any] = message) -> dict[str, Any]:
            return message

        await bot(scope, receive, send)
    elapsed = time.perf_counter() - start
    assert set(statuses) == {200}, statuses
    return elapsed / n * 1e6


async def measure(encrypted: bool) -> float:
    """Best of seven runs on a fresh bot, after a warm-up (the machine is noisy)."""
    bot = build_bot()
    ids = iter(range(1, 1 << 40, 10_000))
    await run(bot, encrypted, 500, next(ids))
    return min([await run(bot, encrypted, 5000, next(ids)) for _ in range(7)])


def main() -> None:
    for encrypted in (False, True):
        best = asyncio.run(measure(encrypted))
        print(f"{'safe mode' if encrypted else 'plaintext':>10}: {best:6.1f} µs/request ({1e6 / best:,.0f}/s)")


if __name__ == "__main__":
    main()
