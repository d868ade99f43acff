"""Per-request cost of the webhook pipeline, called as a raw ASGI app (no network, no server).

    python bench/bench_webhook.py            # plaintext and safe-mode echo, µs per request

Measures what wxhook itself adds: query parsing, signature checks, body read, decrypt, XML parse, typed
message, dispatch, reply render, encrypt. Compare before and after a change on the same machine.
"""

from __future__ import annotations

import asyncio
import time

from pushes import AES_KEY, APPID, TOKEN, Signer, call

from wxhook import Bot, TextMessage


def build_bot(encrypted: bool) -> Bot:
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY if encrypted else None)
    for i in range(200):
        bot.on_text(f"keyword{i}")(lambda m, i=i: f"answer {i}")
    bot.on_text(regex=r"^order (\d+)$")(lambda m: "order")

    async def echo(msg: TextMessage) -> str | None:
        return msg.content

    bot.on_text(echo)
    return bot


async def run(bot: Bot, encrypted: bool, n: int, first: int) -> float:
    """Microseconds per push; every push is new, so none is mistaken for a retry."""
    pushes = list(Signer(sealed=encrypted).texts(n, first))
    start = time.perf_counter()
    statuses = {(await call(bot, push))[0] for push in pushes}
    elapsed = time.perf_counter() - start
    assert statuses == {200}, statuses
    return elapsed / n * 1e6


async def measure(encrypted: bool) -> float:
    """Best of seven runs on a fresh bot, after a warm-up (the machine is noisy)."""
    bot = build_bot(encrypted)
    firsts = iter(range(0, 1 << 40, 10_000))
    await run(bot, encrypted, 500, next(firsts))
    return min([await run(bot, encrypted, 5000, next(firsts)) for _ in range(7)])


def main() -> None:
    for encrypted in (False, True):
        best = asyncio.run(measure(encrypted))
        print(f"{'safe mode' if encrypted else 'plaintext':>10}: {best:6.1f} µs/request ({1e6 / best:,.0f}/s)")


if __name__ == "__main__":
    main()
