"""A fuller bot: a menu across several messages, slow work past the reply deadline, background jobs.

    WXHOOK_TOKEN=... WXHOOK_APPID=... WXHOOK_SECRET=... uvicorn examples.shop:bot

Typed throughout: ``mypy --strict examples/shop.py`` keeps the handlers' own types through the decorators.
"""

from __future__ import annotations

import asyncio
import logging

from wxhook import Bot, Context, Message, Router, ScanEvent, SubscribeEvent, Text, TextMessage

logger = logging.getLogger("shop")

menu = Router()
DRINKS = {"1": "Coffee", "2": "Tea", "3": "Juice"}


@menu.on_text(["menu", "菜单"])
def show_menu(msg: TextMessage, ctx: Context) -> str:
    ctx.session["step"] = "choosing"
    return "Reply 1 for coffee, 2 for tea, 3 for juice."


@menu.on_text(list(DRINKS))
def choose(msg: TextMessage, ctx: Context) -> str:
    if ctx.session.pop("step", None) != "choosing":
        return "Send 'menu' first."
    drink = DRINKS[msg.content or ""]
    ctx.background(record_order, ctx.openid, drink)
    return f"One {drink.lower()} coming up!"


def record_order(openid: str, drink: str) -> None:
    """Runs after the reply has gone out, in the thread pool (it is a plain function)."""
    logger.info("order from %s: %s", openid, drink)


bot = Bot(timeout_reply="Working on it: the answer will follow in a moment.")
bot.include(menu)


@bot.on_text("report")
async def report(msg: TextMessage) -> Text:
    """Slower than WeChat's five seconds: the follower gets timeout_reply now and this through the API."""
    await asyncio.sleep(8)
    return Text("Your weekly report: 42 orders, 7 new followers.")


@bot.on_event("subscribe")
def welcome(event: SubscribeEvent) -> str:
    if event.scene is not None:
        return f"Welcome! You found us through QR code {event.scene}. Send 'menu' to order."
    return "Welcome! Send 'menu' to order."


@bot.on_event("SCAN")
def scanned(event: ScanEvent) -> str:
    return f"Welcome back (QR code {event.scene})."


@bot.on_default
def fallback(msg: Message) -> str:
    return "Send 'menu' to order, or 'report' for the weekly report."
