"""The bot of the compose example: quick answers in the web instances, the slow report on the job queue.

Served by two instances (``wxhook run bot:bot``) and worked by ``wxhook worker bot:bot``; all three read
WXHOOK_STORE, WXHOOK_QUEUE and WXHOOK_JOB_KEY from docker-compose.yml and share one Redis.
"""

from __future__ import annotations

import asyncio

from wxhook import Bot, Message

bot = Bot(timeout_reply="Working on your report; it will arrive in a moment.")


@bot.on_text("report", queue=True)
async def report(msg: Message) -> str:
    """Slow work (an LLM call, a database report): a worker runs it and sends the reply through the API."""
    await asyncio.sleep(2)
    return f"Your report is ready, {msg.from_user_name}."


@bot.on_text
def echo(msg: Message) -> str:
    return f"echo: {msg.content}"  # type: ignore[attr-defined]
