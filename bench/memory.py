"""Whether the reply window's memory stays bounded: two batches of distinct pushes from distinct followers, each
followed by its windows, through the whole ASGI app in-process (plaintext, default settings).

    python bench/memory.py [--store memory|sqlite|redis] [--messages 100000] [--retry-window 60]

Reports the process's RSS after each batch's window has passed (the second must not grow past the first: what
a batch leaves behind is swept before the next one piles up) and the bytes the store holds per push while its
window is open: RSS growth for the memory store, the database file for SQLite (after a checkpoint), Redis's
used_memory for Redis. Both figures hold only when each batch is over before its retry window: a slower batch
sees its first pushes expire while it runs (the longest batch is reported, and compare.py voids the figures
then). The windows really elapse: the retry window (60 s by default) and the replay window (a push's nonce record
lives until its timestamp is ``timestamp_window``, 300 s, old), whichever is longer, so what a batch leaves behind
has expired when RSS is read; moving the clocks instead would mean patching the store's and the event loop's
time sources, which a refactor would silently bypass.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import redis
from pushes import APPID, TOKEN, Signer, call
from services import private_redis

from wxhook import Bot, TextMessage

MB = 1024 * 1024
_WARMUP = 2000


def rss() -> int:
    """Resident memory now, in bytes, after a full collection."""
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status: this benchmark reads Linux's /proc")


def _sqlite_size(path: str) -> int:
    """The database's size with the write-ahead log folded in and truncated."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return os.path.getsize(path)


def _redis_used(url: str) -> int:
    client = redis.Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


async def _batch(bot: Bot, signer: Signer, first: int, count: int) -> float:
    """Send the pushes one after another; returns the seconds taken."""
    started = time.perf_counter()
    for push in signer.texts(count, first):
        status, body = await call(bot, push)
        if status != 200 or b"bench message" not in body:
            raise RuntimeError(f"push answered {status}: {body[:200]!r}")
    return time.perf_counter() - started


async def _echo(msg: TextMessage) -> str | None:
    return msg.content


def _held(store: str, url: str | None) -> Callable[[], int]:
    """How to read what ``store`` holds, in bytes."""
    if store == "sqlite" and url is not None:
        return functools.partial(_sqlite_size, url.removeprefix("sqlite:///"))
    if store == "redis" and url is not None:
        return functools.partial(_redis_used, url)
    return rss


async def measure(store: str, messages: int, retry_window: float, timestamp_window: float) -> dict[str, float]:
    with ExitStack() as stack:
        url = None
        if store == "sqlite":
            url = f"sqlite:///{stack.enter_context(tempfile.TemporaryDirectory())}/state.db"
        elif store == "redis":
            url = stack.enter_context(private_redis())
            if url is None:
                raise RuntimeError("redis-server is not installed (Debian: apt-get install redis-server)")
        held = _held(store, url)
        bot = Bot(token=TOKEN, appid=APPID, store=url, retry_window=retry_window, timestamp_window=timestamp_window)
        bot.on_text(_echo)
        signer = Signer(sealed=False)
        await bot.startup()
        try:
            await _batch(bot, signer, 0, _WARMUP)
            before = held()
            took = await _batch(bot, signer, _WARMUP, messages)
            held_per_push = (held() - before) / messages
            windows = max(retry_window, timestamp_window) + 1
            await asyncio.sleep(windows)
            first = rss()
            took = max(took, await _batch(bot, signer, _WARMUP + messages, messages))
            await asyncio.sleep(windows)
            second = rss()
        finally:
            await bot.shutdown()
    return {"held_bytes_per_push": held_per_push, "rss_first_mb": first / MB, "rss_second_mb": second / MB,
            "growth_mb": (second - first) / MB, "longest_batch_s": took}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("memory", "sqlite", "redis"), default="memory")
    parser.add_argument("--messages", type=int, default=100_000, help="pushes per batch")
    parser.add_argument("--retry-window", type=float, default=60.0, help="Bot(retry_window=...), default 60 s")
    parser.add_argument("--timestamp-window", type=float, default=300.0,
                        help="Bot(timestamp_window=...), default 300 s: how long a nonce record lives")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON line")
    args = parser.parse_args()
    figures = asyncio.run(measure(args.store, args.messages, args.retry_window, args.timestamp_window))
    if args.json:
        print(json.dumps(figures))
    else:
        print(f"{args.store}: {figures['held_bytes_per_push']:,.0f} bytes held per push while its window is open; "
              f"RSS {figures['rss_first_mb']:.1f} MB after batch 1, {figures['rss_second_mb']:.1f} MB after "
              f"batch 2 ({figures['growth_mb']:+.1f} MB); longest batch {figures['longest_batch_s']:.0f} s")


if __name__ == "__main__":
    main()
