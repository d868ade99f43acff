"""Whether dispatch stays flat as routes pile up: a bot with 10,000 exact keywords and 1,000 CLICK keys against
one with a single keyword and key, each answering the same mix of pushes through the whole ASGI app.

    python bench/dispatch.py [--messages 3000] [--rounds 7]

The mix is a third keyword hits, a third CLICK events with a registered key, a third texts no keyword matches
(they fall through to the echo handler). Every push is new (its own follower and MsgId). The two bots take turns,
and each one's best round counts, so a busy neighbour on the machine slows both or neither.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from pushes import APPID, TOKEN, Push, Signer, call, click_fields, text_fields

from wxhook import Bot, Message, TextMessage

MANY_KEYWORDS, MANY_KEYS = 10_000, 1_000


async def _matched(msg: Message) -> str:
    return "matched"


async def _echo(msg: TextMessage) -> str | None:
    return msg.content


def build(keywords: int, keys: int) -> Bot:
    """Plaintext, default settings; one handler per keyword and per key, as a bot grown by hand would have."""
    bot = Bot(token=TOKEN, appid=APPID)
    for i in range(keywords):
        bot.on_text(f"keyword {i}")(_matched)
    for i in range(keys):
        bot.on_event("CLICK", key=f"KEY_{i}")(_matched)
    bot.on_text(_echo)
    return bot


def mix(first: int, count: int, keywords: int, keys: int) -> list[Push]:
    """``count`` distinct pushes numbered from ``first``, spread over the registered keywords and keys."""
    signer = Signer(sealed=False)
    pushes = []
    for n in range(first, first + count):
        kind = n % 3
        if kind == 0:
            fields = text_fields(n, f"keyword {n * 7919 % keywords}")
        elif kind == 1:
            fields = click_fields(n, f"KEY_{n * 7919 % keys}")
        else:
            fields = text_fields(n)
        pushes.append(signer.push(n, fields))
    return pushes


async def _round(bot: Bot, pushes: list[Push]) -> float:
    """Microseconds per push; every answer must be a 200 with a reply."""
    started = time.perf_counter()
    for push in pushes:
        status, body = await call(bot, push)
        if status != 200 or b"<Content>" not in body:
            raise RuntimeError(f"push answered {status}: {body[:200]!r}")
    return (time.perf_counter() - started) / len(pushes) * 1e6


async def measure(messages: int, rounds: int) -> dict[str, float]:
    """Best µs per push for the small and the large route table, and their ratio."""
    bots = {"one": (build(1, 1), 1, 1), "many": (build(MANY_KEYWORDS, MANY_KEYS), MANY_KEYWORDS, MANY_KEYS)}
    best = dict.fromkeys(bots, float("inf"))
    for bot, _, _ in bots.values():
        await bot.startup()
    try:
        for number in range(rounds + 1):  # round 0 warms up and is not counted
            for name, (bot, keywords, keys) in bots.items():
                pushes = mix(number * messages, messages, keywords, keys)
                elapsed = await _round(bot, pushes)
                if number:
                    best[name] = min(best[name], elapsed)
    finally:
        for bot, _, _ in bots.values():
            await bot.shutdown()
    return {"one_us": best["one"], "many_us": best["many"], "ratio": best["many"] / best["one"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000, help="pushes per round and bot")
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds per bot (the best counts)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.messages, args.rounds))
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"1 keyword + 1 key: {figures['one_us']:.1f} µs/push; {MANY_KEYWORDS:,} keywords + {MANY_KEYS:,} keys: "
              f"{figures['many_us']:.1f} µs/push; ratio {figures['ratio']:.2f}")


if __name__ == "__main__":
    main()
