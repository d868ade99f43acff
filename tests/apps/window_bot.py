"""A bot for multi-worker tests, served as ``uvicorn tests.apps.window_bot:app --workers 2``.

Configured by WXHOOK_* variables (CLAIM_LEASE and DEADLINE override the bot's defaults; BLOCK_SECONDS makes the
handler hold the event loop that long after its first wait, as a blocking call would); every handler run is
appended to the file named by RUNS_FILE, and each response carries the answering worker's pid in ``x-worker``, so a
test can see which process did what.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from wxhook import Bot, Message

options = {name.lower(): float(os.environ[name]) for name in ("CLAIM_LEASE", "DEADLINE") if name in os.environ}
bot = Bot(**options)
RUNS_FILE = os.environ["RUNS_FILE"]


@bot.on_text
async def slow_echo(msg: Message) -> str:
    with open(RUNS_FILE, "a") as runs:
        runs.write(f"{msg.msg_id} {os.getpid()}\n")  # type: ignore[attr-defined]
    if block := float(os.environ.get("BLOCK_SECONDS", "0")):
        await asyncio.sleep(0)
        time.sleep(block)
    await asyncio.sleep(float(os.environ.get("HANDLER_SECONDS", "1")))
    return f"echo: {msg.content}"  # type: ignore[attr-defined]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    async def tagged(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.start":
            event["headers"] = [*event["headers"], (b"x-worker", str(os.getpid()).encode())]
        await send(event)

    await bot(scope, receive, tagged)
