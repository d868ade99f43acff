"""What an idle account costs a bot in memory: configured, looked up, a platform's authorizer, and with its API
client made.

    python bench/accounts.py [--accounts 10000]

Each row is measured in a fresh interpreter: a bot is built and warmed with one account of the kind (so imports
and lazily built tables are not counted), then ``--accounts`` more are added, and the growth is divided by their
number. Two figures per row: RSS (after a full collection), everything the process holds, and the Python heap
traced by tracemalloc (measured in a second interpreter, since tracing costs memory of its own); what RSS holds
beyond the traced heap is allocated outside Python's allocator (pycryptodome's AES key schedules). What is
counted is all the bot keeps per account, the ``Account`` value and its credentials included.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import gc
import json
import logging
import os
import secrets
import subprocess
import sys
import tracemalloc
from collections.abc import Awaitable, Callable

from memory import rss

from wxhook import Account, AccountLookup, Bot
from wxhook.platform import Platform

KINDS = {
    "plaintext": "configured, plaintext",
    "safe": "configured, safe mode",
    "half": "configured, half in safe mode",
    "client": "its API client, once made (over the idle account)",
    "lookup": "looked up and cached, half in safe mode",
    "authorizer": "a platform's authorizer, remembered",
}


def traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def appid(n: int) -> str:
    return f"wx{n:016x}"


def aes_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def account(n: int, safe: bool | None = None) -> Account:
    """Account ``n`` with credentials of the real lengths, in safe mode (a key of its own) or not; by default every
    other one is."""
    sealed = n % 2 == 1 if safe is None else safe
    return Account(appid(n), token=secrets.token_hex(16), aes_key=aes_key() if sealed else None,
                   secret=secrets.token_hex(16), original_id=f"gh_{n:012x}")


async def grow(kind: str, count: int, measure: Callable[[], int]) -> tuple[int, int]:
    """Build the bot warm with one account of ``kind``, then add ``count`` more; returns (growth, clients made)."""
    if kind in ("plaintext", "safe", "half"):
        safe = {"plaintext": False, "safe": True, "half": None}[kind]
        Bot(accounts=[account(0, safe)])  # warm: imports, pycryptodome's library
        before = measure()
        bot = Bot(accounts=[account(n, safe) for n in range(1, count + 1)])
        return measure() - before, await clients(bot, count)
    if kind == "client":
        bot = Bot(accounts=[account(n) for n in range(count + 1)])
        (await bot.account(appid(0))).api  # noqa: B018  # warm: the base client, its connection pool
        before = measure()
        for n in range(1, count + 1):
            (await bot.account(appid(n))).api  # noqa: B018  # made on first use
        return measure() - before, await clients(bot, count)
    load: Callable[[str], Awaitable[Account | None]]
    if kind == "lookup":

        async def load(wanted: str) -> Account | None:
            return account(int(wanted[2:], 16))

        bot = Bot(accounts=AccountLookup(load, capacity=count + 1))
    else:
        bot = Bot(platform=Platform(appid(1 << 60), secrets.token_hex(16), secrets.token_hex(16), aes_key()),
                  store="memory://")
    await bot.account(appid(0))
    before = measure()
    for n in range(1, count + 1):
        await bot.account(appid(n))
    return measure() - before, await clients(bot, count)


async def clients(bot: Bot, count: int) -> int:
    """How many of the accounts ``1..count`` have an API client made (``client`` makes none)."""
    return sum([(await bot.account(appid(n))).client is not None for n in range(1, count + 1)])


def child(kind: str, count: int, trace: bool) -> dict[str, int]:
    logging.disable(logging.WARNING)  # the platform's memory:// warning
    if trace:
        tracemalloc.start()
    growth, made = asyncio.run(grow(kind, count, traced if trace else rss))
    return {"growth": growth, "clients": made}


def run(kind: str, count: int, trace: bool) -> dict[str, int]:
    argv = [sys.executable, __file__, "--child", kind, "--accounts", str(count)] + (["--trace"] if trace else [])
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    figures: dict[str, int] = json.loads(done.stdout)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=10_000, help="accounts added per row (default 10,000; "
                        "the lookup and the platform remember 10,000 by default)")
    parser.add_argument("--child", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(child(options.child, options.accounts, options.trace)))
        return
    print(f"| {options.accounts:,} accounts | RSS per account | Python heap per account | API clients made |\n"
          "| --- | ---: | ---: | ---: |")
    for kind, title in KINDS.items():
        whole, heap = run(kind, options.accounts, False), run(kind, options.accounts, True)
        print(f"| {title} | {whole['growth'] / options.accounts:,.0f} B | {heap['growth'] / options.accounts:,.0f} B "
              f"| {whole['clients']:,} |", flush=True)


if __name__ == "__main__":
    main()
