"""Keywords and a custom menu:

    wxhook dev examples.menu:bot --menu examples/menu.json

``menu.json`` is the menu as WeChat's ``menu/create`` takes it (``bot.api.menu.create(buttons)`` publishes it);
each CLICK button's key has an answer here, and followers who type instead of tap reach the same answers by
keyword.
"""

from __future__ import annotations

import logging
import os

from wxhook import Article, Bot, ClickEvent, News, Reply, SubscribeEvent, Text, TextMessage, ViewEvent

# Demo credentials, used only when the WXHOOK_* variables are unset (see examples/echo.py).
os.environ.setdefault("WXHOOK_TOKEN", "wxhook-menu")
os.environ.setdefault("WXHOOK_APPID", "wx2c2769f8efd9abc2")

logger = logging.getLogger("menu")

ANSWERS = {
    "HOURS": "We are open 9:00–18:00, Monday to Saturday.",
    "CONTACT": "Call 010-1234 5678, or write to hello@example.com.",
    "HELP": "Tap the menu below, or send one of: today, hours, contact.",
}
KEYWORDS = {"today": "TODAY", "hours": "HOURS", "contact": "CONTACT", "help": "HELP"}
TODAY = News([Article(
    title="Today: hand-pulled noodles",
    description="Fresh from the kitchen at 11:30, while they last.",
    url="https://example.com/today",
    pic_url="https://example.com/noodles.jpg",
)])

bot = Bot()


def answer(key: str) -> Reply:
    """The answer for a menu key, shared by the button and its keyword."""
    return TODAY if key == "TODAY" else Text(ANSWERS[key])


@bot.on_event("CLICK", key=["TODAY", *ANSWERS])
def clicked(event: ClickEvent) -> Reply:
    return answer(event.event_key or "")


@bot.on_text(list(KEYWORDS))
def keyword(msg: TextMessage) -> Reply:
    return answer(KEYWORDS[msg.content or ""])


@bot.on_event("VIEW")
def opened(event: ViewEvent) -> None:
    """WeChat opens the page itself; the bot only hears of it (and cannot answer)."""
    logger.info("%s opened %s", event.from_user_name, event.event_key)


@bot.on_event("subscribe")
def welcome(event: SubscribeEvent) -> str:
    return "Welcome! " + ANSWERS["HELP"]


@bot.on_default
def fallback(msg: object) -> str:
    return "Send 'help' to see what I can do."
