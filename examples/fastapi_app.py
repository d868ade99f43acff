"""The bot inside a FastAPI application: WeChat at ``/wechat/``, the application's own routes beside it.

    WXHOOK_TOKEN=... WXHOOK_APPID=... WXHOOK_SECRET=... wxhook run examples.fastapi_app:app

Mounted apps get no lifespan events of their own, so the application's lifespan runs the bot's inside its
own: the bot's store is opened at startup, and at shutdown its deferred replies and background jobs finish
before the application's resources close. Save ``https://your.domain/wechat/`` (trailing slash included) as
the server URL. The routes use the bot's API client, sharing its access token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

from wxhook import Bot, Context, TextMessage
from wxhook.api import ReplyWindowError, UserRefusedError

bot = Bot()


class Orders:
    """Stands in for the application's own resource (a database pool, a queue) with a lifetime of its own."""

    def __init__(self) -> None:
        self.placed: dict[str, list[str]] = {}
        self.open = False


orders = Orders()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    orders.open = True
    async with bot.lifespan(app):  # the bot starts after the resources it uses and stops before them
        yield
    orders.open = False


app = FastAPI(lifespan=lifespan)
app.mount("/wechat", bot)


@bot.on_text("orders")
def my_orders(msg: TextMessage, ctx: Context) -> str:
    placed = orders.placed.get(ctx.openid, [])
    return f"Your orders: {', '.join(placed)}" if placed else "No orders yet."


@bot.on_default
def hint(msg: object) -> str:
    return "Send 'orders' to see yours."


class Order(BaseModel):
    openid: str
    item: str


@app.get("/health")
async def health() -> dict[str, Any]:
    return {"ok": orders.open, "bot": dict(bot.stats)}


@app.post("/orders", status_code=201)
async def place_order(order: Order) -> dict[str, Any]:
    """Placed on the website, confirmed to the follower in WeChat through the customer-service API."""
    orders.placed.setdefault(order.openid, []).append(order.item)
    try:
        await bot.api.message.send_text(order.openid, f"Order received: {order.item}")
    except (UserRefusedError, ReplyWindowError) as exc:  # unfollowed, or silent for 48 h: the order still stands
        return {"placed": True, "notified": False, "reason": exc.errmsg}
    return {"placed": True, "notified": True}


@app.get("/orders/{openid}")
async def list_orders(openid: str) -> list[str]:
    if openid not in orders.placed:
        raise HTTPException(404, f"no orders for {openid}")
    return orders.placed[openid]
