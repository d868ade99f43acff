"""Late replies whose send fails in a way that proves WeChat never got it are sent again, not dropped.

Found by ``bench/reliability.py faults``: a 40001 that outlasts the client's one token refetch, and a token
endpoint that is down, both dropped the reply; the second was even logged as "may have been delivered".
"""

from __future__ import annotations

import asyncio
import logging

import pytest

from wxhook import Bot, Message
from wxhook.api import Client, WeChatNetworkError
from wxhook.testing import BotClient, FakeWeChat, serve

TOKEN = "delivery-faults"
SEND = "/cgi-bin/message/custom/send"
STABLE_TOKEN = "/cgi-bin/stable_token"


def late_bot(fake: FakeWeChat, api: Client) -> Bot:
    bot = Bot(token=TOKEN, appid=fake.appid, deadline=0.2, api=api)

    @bot.on_text
    async def slow(msg: Message) -> str:
        await asyncio.sleep(0.4)
        return "late but sure"

    return bot


async def test_a_late_reply_is_sent_again_after_a_40001_storm(caplog: pytest.LogCaptureFixture) -> None:
    with FakeWeChat() as fake:  # in a thread: serve()'s exit blocks this loop while the bot drains
        api = Client(fake.appid, fake.secret, api_base=fake.url)
        bot = late_bot(fake, api)
        fake.fail(SEND, 40001, times=3)  # outlasts the client's own refetch-and-retry
        with caplog.at_level(logging.ERROR, logger="wxhook"), serve(bot) as url:
            async with BotClient(url, token=TOKEN) as wechat:
                assert (await wechat.send_text("go")).body == b"success"
        await api.aclose()
        sends = fake.calls(SEND)
        assert len(sends) == 4  # 40001, refetch, 40001; then the window's second attempt: 40001, refetch, sent
        assert sends[-1].json == {"touser": "o_follower", "msgtype": "text", "text": {"content": "late but sure"}}
        assert bot.stats["delivered"] == 1 and bot.stats["delivery_failed"] == 0
        assert caplog.text == ""


async def test_a_late_reply_waits_out_a_token_endpoint_outage(caplog: pytest.LogCaptureFixture) -> None:
    with FakeWeChat() as fake:
        api = Client(fake.appid, fake.secret, api_base=fake.url, backoff=0.01, backoff_max=0.02)
        bot = late_bot(fake, api)
        fake.fail(STABLE_TOKEN, status=503, times=4)  # the first attempt's token fetch and its three retries
        with caplog.at_level(logging.ERROR, logger="wxhook"), serve(bot) as url:
            async with BotClient(url, token=TOKEN) as wechat:
                assert (await wechat.send_text("go")).body == b"success"
        await api.aclose()
        assert len(fake.calls(STABLE_TOKEN)) == 5
        sends = fake.calls(SEND)
        assert len(sends) == 1 and sends[0].json["text"] == {"content": "late but sure"}
        assert bot.stats["delivered"] == 1 and bot.stats["delivery_failed"] == 0
        assert "may have been delivered" not in caplog.text


async def test_a_call_that_could_not_get_a_token_says_it_was_never_sent() -> None:
    async with FakeWeChat() as fake, fake.client(max_retries=0) as client:
        fake.fail(STABLE_TOKEN, status=503)
        with pytest.raises(WeChatNetworkError) as caught:
            await client.message.send("o_follower", "text", {"content": "hi"})
        assert caught.value.maybe_delivered is False
        assert caught.value.path == STABLE_TOKEN and caught.value.status == 503
        assert fake.count(SEND) == 0
