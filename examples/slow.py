"""A slow handler: a call that takes longer than WeChat waits, as an LLM call does.

    wxhook dev examples.slow:bot            # or: python -m wxhook.dev examples.slow:bot

At the deadline the follower gets ``timeout_reply`` and, with ``typing=True``, a "typing…" indicator; the answer
follows through the customer-service API when it is ready (in the dev console it arrives live, tagged so).
"""

from __future__ import annotations

import asyncio
import os

from wxhook import Bot, TextMessage

# Demo credentials, used only when the WXHOOK_* variables are unset (see examples/echo.py).
os.environ.setdefault("WXHOOK_TOKEN", "wxhook-slow")
os.environ.setdefault("WXHOOK_APPID", "wx2c2769f8efd9abc2")
os.environ.setdefault("WXHOOK_AES_KEY", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")

THINKING_SECONDS = 6.0  # past the 4.5 s deadline on purpose

bot = Bot(timeout_reply="Thinking… the answer will follow in a moment.", typing=True)


async def ask_model(question: str) -> str:
    """Stands in for an LLM call."""
    await asyncio.sleep(THINKING_SECONDS)
    return f"You asked “{question}”. After careful thought: 42."


@bot.on_text("ping")
def ping(msg: TextMessage) -> str:
    """Fast handlers are still answered directly."""
    return "pong"


@bot.on_text
async def answer(msg: TextMessage) -> str:
    return await ask_model(msg.content or "")
