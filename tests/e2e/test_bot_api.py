"""The API client as handlers see it: ``ctx.api`` against FakeWeChat, sharing the bot's store for the token."""

from __future__ import annotations

from wxhook import Bot, Context, Message
from wxhook.testing import BotClient, FakeWeChat

from ..conftest import serve


async def test_handlers_reach_the_api_through_the_context() -> None:
    with FakeWeChat() as fake:
        bot = Bot(token="t", appid=fake.appid, secret=fake.secret, api_base=fake.url)

        @bot.on_text("ping")
        async def ping(msg: Message, ctx: Context) -> str:
            assert ctx.api is bot.api
            await ctx.api.message.send_text(ctx.openid, "pong via the API")
            return "sent"

        with serve(bot) as url:
            async with BotClient(url, token="t") as wechat:
                assert (await wechat.send_text("ping", openid="o_api")).content == "sent"
                assert (await wechat.send_text("ping", openid="o_api")).content == "sent"
        (first, second) = fake.calls("/cgi-bin/message/custom/send")
        assert first.json == {"touser": "o_api", "msgtype": "text", "text": {"content": "pong via the API"}}
        assert first.query["access_token"] == second.query["access_token"]
        assert fake.count("/cgi-bin/stable_token") == 1
        assert await bot.store.get(f"wxhook:token:{fake.appid}") is not None
