"""A bot whose background job outlives the request, for `wxhook run` shutdown tests.

    WXHOOK_TOKEN=... DONE_FILE=/tmp/done python -m wxhook run tests.apps.drain_bot:bot

"later" is answered at once and starts a one-second job that writes DONE_FILE: the file exists after the
server is stopped only if shutdown waited for the job. "forever" misses its deadline and never finishes: a stop
cuts it off after the two-second grace, and says so.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

from wxhook import Bot, Context, TextMessage

bot = Bot(shutdown_grace=2)


def finish() -> None:
    time.sleep(1)
    Path(os.environ["DONE_FILE"]).write_text("done")


@bot.on_text("later")
def later(msg: TextMessage, ctx: Context) -> str:
    ctx.background(finish)
    return "queued"


@bot.on_text("forever", deadline=0.5)
async def forever(msg: TextMessage) -> str:
    await asyncio.sleep(600)
    return "never"
