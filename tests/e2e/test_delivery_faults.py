"""A late reply reaches the follower once: never shown twice, and sent again when WeChat provably never got it.

Found by ``bench/reliability.py``: under load, a reply ready in the loop turn its deadline fired was answered
passively and also sent through the API (``load``); a 40001 that outlasts the client's one token refetch, and
a token endpoint that is down, both dropped the reply, the second logged as "may have been delivered" (``faults``).
"""

from __future__ import annotations

import asyncio
import logging
import time

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


async def test_a_reply_ready_in_the_turn_its_deadline_fires_is_shown_once() -> None:
    bot = Bot(token=TOKEN, deadline=0.2)

    @bot.on_text
    async def just_late(msg: Message) -> str:
        await asyncio.sleep(0.25)
        return "once"

    async with BotClient(bot) as wechat:
        # A busy loop, as under load: the deadline's timer and the handler's wake-up come due in one turn.
        asyncio.get_running_loop().call_later(0.1, time.sleep, 0.3)
        reply = await wechat.send_text("go")
        if reply.content is None:  # the delivery gave up first: the reply goes out through the API instead
            assert (await wechat.next_deferred(timeout=5)).content == "once"
        await asyncio.sleep(0.3)  # time for a (wrong) second copy to arrive
    shown = [reply.content] if reply.content is not None else []
    assert shown + [late.content for late in wechat.deferred] == ["once"]
