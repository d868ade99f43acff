"""A bot whose background job outlives the request, for `wxhook run` shutdown tests.

    WXHOOK_TOKEN=... DONE_FILE=/tmp/done python -m wxhook run tests.apps.drain_bot:bot

"later" is answered at once and starts a one-second job that writes DONE_FILE: the file exists after the
server is stopped only if shutdown waited for the job.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from wxhook import Bot, Context, TextMessage

bot = Bot()


def finish() -> None:
    time.sleep(1)
    Path(os.environ["DONE_FILE"]).write_text("done")


@bot.on_text("later")
def later(msg: TextMessage, ctx: Context) -> str:
    ctx.background(finish)
    return "queued"
