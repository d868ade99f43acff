"""The bot ``bench/reliability.py`` drives: ``uvicorn bench.apps.reliability_bot:app``.

Configured by WXHOOK_* variables plus DEADLINE, CLAIM_LEASE, HANDLER_TIMEOUT, SHUTDOWN_GRACE and API_TIMEOUT
(the API client's timeout), in seconds; each unset one is the Bot's default, so a scenario states what it changes.
A text message says what its handler does: ``<tag> <sleep ms> [<background ms>]`` sleeps that long, then
answers ``echo: <content>`` (after queueing a background job of that length, when given); ``hang`` never
returns. Every step is appended as one line to RUNS_FILE (``run``/``done``/``cancelled <msgid> <pid>``,
``bg-start``/``bg-done <msgid> <pid>``): a single ``write`` on an O_APPEND descriptor, so the lines of several
workers never interleave and the bench can count runs across processes. Each response carries the worker's
pid in ``x-worker``; on shutdown each worker writes ``bot.stats`` to ``STATS_DIR/<pid>.json``.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from wxhook import Bot, Context, Message, TextMessage
from wxhook.api import Client

_OPTIONS = {"DEADLINE": "deadline", "CLAIM_LEASE": "claim_lease", "HANDLER_TIMEOUT": "handler_timeout",
            "SHUTDOWN_GRACE": "shutdown_grace"}
_SETTINGS: dict[str, Any] = {option: float(os.environ[name]) for name, option in _OPTIONS.items() if name in os.environ}
bot = Bot(**_SETTINGS)
if "API_TIMEOUT" in os.environ:
    bot.api = Client(store=bot.store, timeout=float(os.environ["API_TIMEOUT"]))
_RUNS = os.open(os.environ["RUNS_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
_STATS_DIR = os.environ.get("STATS_DIR")


def record(event: str, msg: Message) -> None:
    os.write(_RUNS, f"{event} {msg.msg_id} {os.getpid()}\n".encode())


async def background_job(msg: Message, seconds: float) -> None:
    record("bg-start", msg)
    await asyncio.sleep(seconds)
    record("bg-done", msg)


@bot.on_text
async def echo(msg: TextMessage, ctx: Context) -> str:
    record("run", msg)
    words = (msg.content or "").split()
    try:
        if words[0] == "hang":
            await asyncio.Event().wait()
        if len(words) > 2:
            ctx.background(background_job, msg, int(words[2]) / 1000)
        await asyncio.sleep(int(words[1]) / 1000)
    except asyncio.CancelledError:
        record("cancelled", msg)
        raise
    record("done", msg)
    return f"echo: {msg.content}"


def leave_stats() -> None:
    """Once, at shutdown, after the drain: what this worker's reply window counted."""
    if _STATS_DIR:
        Path(_STATS_DIR, f"{os.getpid()}.json").write_text(json.dumps(dict(bot.stats)))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The bot, tagging responses with the worker's pid and leaving its counters behind on shutdown."""

    async def tagged(event: MutableMapping[str, Any]) -> None:
        if event["type"] == "http.response.start":
            event["headers"] = [*event["headers"], (b"x-worker", str(os.getpid()).encode())]
        elif event["type"] == "lifespan.shutdown.complete":
            leave_stats()
        await send(event)

    await bot(scope, receive, tagged)
