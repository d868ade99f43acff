"""A router's middleware, outer middleware and error handlers wrap its own handlers (and those of the routers it
includes), in the include tree's order; a bot's wrap every message. Driven through ``Bot.handle`` and, where the
webhook's own path matters (the delivery, the window, the message line), through ``BotClient``."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest

from wxhook import Account, Bot, Context, Message, Router, Text, TextMessage, parse_message
from wxhook.testing import BotClient

BASE = {"ToUserName": "gh_account", "FromUserName": "o_follower", "CreateTime": "1700000000", "MsgId": "1"}
EAST, WEST = "wx1111111111111111", "wx2222222222222222"


def text(content: str) -> Message:
    return parse_message({**BASE, "MsgType": "text", "Content": content})


async def answer(bot: Bot, msg: Message) -> str | None:
    reply = await bot.handle(msg)
    assert reply is None or isinstance(reply, Text)
    return None if reply is None else reply.content


def tracing(trail: list[str], name: str) -> Any:
    async def middleware(msg: Message, call_next: Any) -> Any:
        trail.append(name)
        return await call_next(msg)

    middleware.__qualname__ = name
    return middleware


def answering(trail: list[str], reply: str) -> Any:
    def handler(msg: Message) -> str:
        trail.append(reply)
        return reply

    return handler


async def test_a_routers_middleware_wraps_its_own_handlers_and_no_others() -> None:
    trail: list[str] = []
    bot, orders, admin = Bot(token="t"), Router(), Router()
    bot.middleware(tracing(trail, "bot"))
    orders.middleware(tracing(trail, "orders"))
    admin.middleware(tracing(trail, "admin"))
    orders.on_text("order")(answering(trail, "order handler"))
    admin.on_text("stats")(answering(trail, "stats handler"))
    bot.on_text("hi")(answering(trail, "bot handler"))
    bot.include(orders)
    bot.include(admin)

    expected = {
        "order": ["bot", "orders", "order handler"],
        "stats": ["bot", "admin", "stats handler"],
        "hi": ["bot", "bot handler"],
        "nobody takes this": ["bot"],  # the bot's middleware wraps every message, handled or not
    }
    for content, way in expected.items():
        trail.clear()
        await bot.handle(text(content))
        assert trail == way, content


async def test_middleware_runs_in_the_include_trees_order() -> None:
    """The including router's first, down to the handler's own; within one router, the first registered."""
    trail: list[str] = []
    bot, shop, cart = Bot(token="t"), Router(), Router()
    cart.middleware(tracing(trail, "cart"))
    shop.middleware(tracing(trail, "shop 1"))
    shop.middleware(tracing(trail, "shop 2"))
    cart.on_text("add")(answering(trail, "add"))
    shop.include(cart)
    bot.include(shop)
    bot.middleware(tracing(trail, "bot"))  # registered last, still outermost: it is the including router's
    await bot.handle(text("add"))
    assert trail == ["bot", "shop 1", "shop 2", "cart", "add"]


async def test_a_router_included_for_some_accounts_wraps_their_pushes_only() -> None:
    trail: list[str] = []
    bot = Bot(accounts=[Account(EAST, token="t"), Account(WEST, token="t")])
    east = Router()
    east.middleware(tracing(trail, "east only"))
    east.on_text("where")(answering(trail, "east"))
    bot.on_text("where")(answering(trail, "anywhere"))
    bot.include(east, accounts=EAST)
    for appid, way in ((EAST, ["east only", "east"]), (WEST, ["anywhere"])):
        trail.clear()
        msg = text("where")
        await bot.handle(msg, bot.context(msg, await bot.account(appid)))
        assert trail == way, appid


async def test_a_routers_error_handlers_catch_its_own_handlers_only(caplog: pytest.LogCaptureFixture) -> None:
    bot, orders, admin = Bot(token="t"), Router(), Router()

    @orders.on_text("order")
    def order(msg: Message) -> str:
        raise LookupError("no such order")

    @admin.on_text("stats")
    def stats(msg: Message) -> str:
        raise PermissionError("not an admin")

    @orders.on_error
    def orders_sorry(exc: Exception, msg: Message) -> str:
        return f"orders: {type(exc).__name__}"

    @bot.on_error
    def bot_sorry(exc: Exception, msg: Message) -> str:
        return f"bot: {type(exc).__name__}"

    bot.include(orders)
    bot.include(admin)
    with caplog.at_level(logging.ERROR, logger="wxhook"):
        assert await answer(bot, text("order")) == "orders: LookupError"
        assert await answer(bot, text("stats")) == "bot: PermissionError"  # admin has none: out to the bot's
    failures = [r for r in caplog.records if r.getMessage().startswith("answering a text")]
    assert [r.getMessage().rsplit(".", 1)[-1] for r in failures] == ["order)", "stats)"]  # each logged once


async def test_an_error_handlers_reply_goes_out_through_the_middleware_above_it() -> None:
    """A router's error handlers sit inside the including router's middleware; one that raises hands the
    exception on to the including router's."""
    bot, shop = Bot(token="t"), Router()

    @bot.middleware
    async def shout(msg: Message, call_next: Any) -> Any:
        reply = await call_next(msg)
        return Text(reply.content.upper()) if isinstance(reply, Text) else reply

    @shop.on_text("buy")
    def buy(msg: Message) -> str:
        raise RuntimeError("sold out")

    @shop.on_text("refund")
    def refund(msg: Message) -> str:
        raise ValueError("no receipt")

    @shop.on_error
    def shop_sorry(exc: Exception, msg: Message) -> str:
        if isinstance(exc, ValueError):
            raise exc
        return "sorry, sold out"

    @bot.on_error
    def bot_sorry(exc: Exception, msg: Message) -> str:
        return "something went wrong"

    bot.include(shop)
    assert await answer(bot, text("buy")) == "SORRY, SOLD OUT"
    assert await answer(bot, text("refund")) == "something went wrong"  # outside the bot's middleware


async def test_outer_middleware_runs_before_the_handler_is_chosen() -> None:
    """It sees the message before any middleware, and the message it passes on gets that message's handler, with
    that handler's routers' middleware."""
    trail: list[str] = []
    bot, help_pages = Bot(token="t"), Router()

    @bot.outer_middleware
    async def aliases(msg: Message, call_next: Any) -> Any:
        trail.append("aliases")
        if isinstance(msg, TextMessage) and msg.content == "?":
            msg = dataclasses.replace(msg, content="help")
        return await call_next(msg)

    bot.middleware(tracing(trail, "bot"))
    help_pages.middleware(tracing(trail, "help pages"))
    help_pages.on_text("help")(answering(trail, "help"))
    bot.on_text(answering(trail, "echo"))
    bot.include(help_pages)

    assert await answer(bot, text("?")) == "help"
    assert trail == ["aliases", "bot", "help pages", "help"]
    trail.clear()
    assert await answer(bot, text("hello")) == "echo"
    assert trail == ["aliases", "bot", "echo"]


async def test_a_routers_outer_middleware_runs_for_messages_headed_to_its_handlers() -> None:
    trail: list[str] = []
    bot, admin = Bot(token="t"), Router()

    @admin.outer_middleware
    async def admins_only(msg: Message, ctx: Context, call_next: Any) -> Any:
        trail.append("admins only")
        return "admins only" if ctx.openid != "o_admin" else await call_next(msg)

    admin.on_text("stats")(answering(trail, "stats"))
    bot.on_text(answering(trail, "echo"))
    bot.include(admin)
    assert await answer(bot, text("stats")) == "admins only"
    assert await answer(bot, text("hello")) == "echo"
    assert trail == ["admins only", "echo"]


async def test_an_outer_middlewares_exception_goes_to_the_error_handlers() -> None:
    bot = Bot(token="t")

    @bot.outer_middleware
    async def broken(msg: Message, call_next: Any) -> Any:
        raise RuntimeError("outer broke")

    bot.on_text(lambda msg: "never")
    bot.on_error(lambda exc, msg: f"caught {exc}")
    assert await answer(bot, text("x")) == "caught outer broke"


def test_registration_refuses_what_cannot_work() -> None:
    router = Router()
    with pytest.raises(TypeError, match=r"middleware .*plain must be an async function"):
        @router.middleware
        def plain(msg: Message, call_next: Any) -> Any: ...
    with pytest.raises(TypeError, match=r"outer_middleware .*also_plain must be an async function"):
        @router.outer_middleware
        def also_plain(msg: Message, call_next: Any) -> Any: ...
    with pytest.raises(TypeError, match="on_error takes a function"):
        router.on_error("not a function")  # type: ignore[type-var]


async def test_through_the_webhook_a_caught_error_is_the_messages_outcome() -> None:
    """The delivery's line says ``error`` for an exception a router's error handler answered, and the reply is
    the error handler's."""
    bot, shop = Bot(token="t"), Router()
    shop.on_text("buy")(lambda msg: 1 / 0)
    shop.on_error(lambda exc, msg: "sorry")
    bot.include(shop)
    async with BotClient(bot, token="t") as wechat:
        assert (await wechat.send_text("buy")).content == "sorry"
    assert bot.stats["error"] == 1 and bot.stats["passive"] == 0
