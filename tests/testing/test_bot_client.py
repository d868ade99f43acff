"""BotClient against a Bot in-process (credentials from the bot, a FakeWeChat as its API, deferred replies
caught) and against a served bot's URL; the same calls from synchronous code."""

from __future__ import annotations

import asyncio

import pytest

from wxhook import (
    Article,
    Bot,
    Context,
    Image,
    Music,
    News,
    Text,
    TextMessage,
    TransferCustomerService,
    Video,
    Voice,
)
from wxhook.testing import BotClient, DeferredReply, FakeWeChat, serve, start_afresh
from wxhook.xml import parse_xml

from ..conftest import AES_KEY, APPID, TOKEN


def make_bot(**options: object) -> Bot:
    bot = Bot(token=TOKEN, appid=APPID, aes_key=AES_KEY, deadline=0.5, **options)  # type: ignore[arg-type]

    @bot.on_text("slow")
    async def slow(msg: TextMessage) -> Text:
        await asyncio.sleep(1)
        return Text(f"late answer for {msg.from_user_name}")

    @bot.on_text("news")
    def news(msg: TextMessage) -> News:
        return News([Article("Title", "Description", "https://example.com/a", "https://example.com/a.jpg")])

    @bot.on_text
    def echo(msg: TextMessage) -> str:
        return msg.content or ""

    return bot


async def test_in_process_takes_the_bots_credentials_and_seals_in_safe_mode() -> None:
    bot = make_bot()
    async with BotClient(bot) as wechat:
        assert (wechat.token, wechat.appid) == (TOKEN, APPID)
        reply = await wechat.send_text("hello", openid="o_alice")
    assert reply.status == 200 and reply.encrypted
    assert reply.reply == Text("hello") and reply.content == "hello"
    assert b"<Encrypt>" in reply.request and b"hello" not in reply.request
    assert b"<Encrypt>" in reply.body and reply.xml.startswith(b"<xml><ToUserName><![CDATA[o_alice]]>")
    assert b"<Content><![CDATA[hello]]></Content>" in reply.xml


async def test_compatibility_mode_sends_the_fields_in_the_clear_beside_the_sealed_message() -> None:
    """A safe-mode bot refusing plaintext serves it: the query says encrypt_type=aes, and it reads the sealed part."""
    bot = make_bot()
    assert not bot.configured_accounts[0].inbound.plaintext_allowed
    assert make_bot(allow_plaintext=True).configured_accounts[0].inbound.plaintext_allowed
    assert Bot(token=TOKEN).configured_accounts[0].inbound.plaintext_allowed
    async with BotClient(bot, compatible=True) as wechat:
        reply = await wechat.send_text("both ways", openid="o_alice")
    request = parse_xml(reply.request)
    assert (request["Content"], request["FromUserName"], request["MsgType"]) == ("both ways", "o_alice", "text")
    assert request["Encrypt"] and reply.encrypted and reply.reply == Text("both ways")
    with pytest.raises(TypeError, match=r"compatible=True\) needs aes_key="):
        BotClient(Bot(token=TOKEN), compatible=True)


async def test_in_process_plaintext_bot_and_typed_news() -> None:
    bot = Bot(token=TOKEN)
    bot.on_text("news")(lambda msg: News([Article("T", "D", "https://example.com/", "https://example.com/p.jpg")]))
    async with BotClient(bot) as wechat:
        reply = await wechat.send_text("news")
        silent = await wechat.send_text("nothing handles this")
    assert not reply.encrypted and reply.request.startswith(b"<xml>") and reply.xml == reply.body
    assert reply.reply == News([Article("T", "D", "https://example.com/", "https://example.com/p.jpg")])
    assert silent.is_empty and silent.reply is None and silent.xml == b""


async def test_deferred_reply_is_caught_by_its_own_fake_and_the_bots_api_is_given_back() -> None:
    bot = make_bot()
    own_api = bot.api
    async with BotClient(bot) as wechat:
        assert wechat.fake is not None and bot.api is not own_api
        assert (await wechat.send_text("slow", openid="o_bob")).body == b"success"
        late = await wechat.next_deferred(timeout=10)
        assert wechat.deferred == [late]
        fake = wechat.fake
    assert bot.api is own_api
    assert isinstance(late, DeferredReply)
    assert (late.openid, late.msg_type, late.content) == ("o_bob", "text", "late answer for o_bob")
    assert late.reply == Text("late answer for o_bob")
    assert late.call.json == {"touser": "o_bob", "msgtype": "text", "text": {"content": "late answer for o_bob"}}
    assert late.call.query["access_token"]
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.url  # the client's own fake stops with it


async def test_shutdown_on_exit_waits_for_a_deferred_reply() -> None:
    bot = make_bot()
    with FakeWeChat() as fake:
        async with BotClient(bot, fake=fake) as wechat:
            assert wechat.fake is fake
            assert (await wechat.send_text("slow", openid="o_carol")).is_empty
        assert [d.content for d in wechat.deferred] == ["late answer for o_carol"]
        (call,) = fake.calls("/cgi-bin/message/custom/send")
        assert call.json["touser"] == "o_carol"


async def test_next_deferred_times_out_with_a_reason() -> None:
    async with BotClient(make_bot()) as wechat:
        assert (await wechat.send_text("quick")).content == "quick"
        with pytest.raises(AssertionError, match=r"no deferred reply within 0\.2 s"):
            await wechat.next_deferred(timeout=0.2)


async def test_url_client_needs_a_token_and_a_fake_for_deferred_replies() -> None:
    with pytest.raises(TypeError, match="needs token="):
        BotClient("http://127.0.0.1:1/")
    async with BotClient("http://127.0.0.1:1/", token=TOKEN) as wechat:
        with pytest.raises(RuntimeError, match="no FakeWeChat"):
            _ = wechat.deferred


async def test_url_client_watches_the_fake_a_served_bot_calls() -> None:
    with FakeWeChat(appid=APPID) as fake:
        bot = make_bot(secret=fake.secret, api_base=fake.url)
        with serve(bot) as url:
            async with BotClient(url, token=TOKEN, appid=APPID, aes_key=AES_KEY, fake=fake) as wechat:
                assert (await wechat.send_text("slow", openid="o_dan")).is_empty
                assert (await wechat.next_deferred(timeout=10)).content == "late answer for o_dan"


def test_sync_form_runs_its_own_loop() -> None:
    bot = make_bot()
    with BotClient(bot) as wechat:
        assert wechat.send_text("hi").reply == Text("hi")
        assert wechat.send_event("subscribe").is_empty
        assert wechat.handshake("echo-me").text == "echo-me"
        assert wechat.post(wechat.message("text", "o_erin", Content="posted")).content == "posted"
        assert wechat.send_text("slow", openid="o_erin").is_empty
        assert wechat.next_deferred(timeout=10).content == "late answer for o_erin"
        assert [d.openid for d in wechat.deferred] == ["o_erin"]
        assert wechat.fake is not None


@pytest.mark.parametrize("reply", [
    Text("hi <there> & ]]> friends"),
    Image("MEDIA_1"),
    Voice("MEDIA_2"),
    Video("MEDIA_3", "A title", "A description"),
    Music("Song", "Singer", "https://example.com/a.mp3", "https://example.com/a-hq.mp3", "THUMB"),
    News([Article("One", "1", "https://example.com/1", "https://example.com/1.jpg"), Article("Two")]),
    TransferCustomerService("kf2001@gh_test"),
    TransferCustomerService(),
])
async def test_passive_replies_read_back_as_the_reply_classes(reply: object) -> None:
    bot = Bot(token=TOKEN)
    bot.on_text(lambda msg: reply)
    async with BotClient(bot) as wechat:
        assert (await wechat.send_text("any")).reply == reply


@pytest.mark.parametrize("reply", [
    Text("late"),
    Image("MEDIA_1"),
    Voice("MEDIA_2"),
    Video("MEDIA_3", "A title", "A description", "THUMB"),
    Music("Song", "Singer", "https://example.com/a.mp3", "https://example.com/a-hq.mp3", "THUMB"),
    News([Article("One", "1", "https://example.com/1", "https://example.com/1.jpg")]),
])
async def test_deferred_replies_read_back_as_the_reply_classes(reply: object) -> None:
    bot = Bot(token=TOKEN, deadline=0.2)

    @bot.on_text
    async def late(msg: TextMessage) -> object:
        await asyncio.sleep(0.5)
        return reply

    async with BotClient(bot) as wechat:
        assert (await wechat.send_text("any")).is_empty
        assert (await wechat.next_deferred(timeout=10)).reply == reply


async def test_a_send_the_fake_refused_is_no_deferred_reply_its_accepted_retry_is() -> None:
    bot = make_bot()
    send = "/cgi-bin/message/custom/send"

    async with BotClient(bot) as wechat:
        assert wechat.fake is not None
        wechat.fake.fail(send, -1)  # "system busy" once: the late reply is sent again
        assert (await wechat.send_text("slow")).is_empty
        late = await wechat.next_deferred(timeout=10)
        refused, accepted = wechat.fake.calls(send)
        assert refused.errcode == -1 and accepted.failure is None
        assert late.call is accepted and wechat.deferred == [late]


async def test_other_customer_service_messages_keep_their_payload() -> None:
    bot = Bot(token=TOKEN)

    @bot.on_text
    async def card(msg: TextMessage) -> None:
        await bot.api.message.send(msg.from_user_name, "wxcard", {"card_id": "CARD"})

    async with BotClient(bot) as wechat:
        assert (await wechat.send_text("card")).is_empty
        sent = await wechat.next_deferred()
    assert (sent.msg_type, dict(sent.payload), sent.reply, sent.content) == ("wxcard", {"card_id": "CARD"}, None, None)


async def test_wait_background_waits_for_late_handlers_and_their_jobs_and_names_what_runs_on() -> None:
    bot = make_bot()
    done: list[str] = []

    async def job(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    @bot.on_text("after")
    async def after(msg: TextMessage, ctx: Context) -> str:
        await asyncio.sleep(0.8)  # past the 0.5 s deadline: its job starts when it finishes
        ctx.background(job, "after the late handler", 0.2)
        return "late"

    @bot.on_text("forever")
    def forever(msg: TextMessage, ctx: Context) -> str:
        ctx.background(job, "never", 60)
        return "ok"

    async with BotClient(bot) as wechat:
        assert (await wechat.send_text("after")).is_empty
        await wechat.wait_background(timeout=5)
        assert done == ["after the late handler"] and len(wechat.deferred) == 1
        await wechat.send_text("forever")
        with pytest.raises(AssertionError, match=r"still running after 0.3 s: \S+\.job \(raise timeout=\?\)"):
            await wechat.wait_background(timeout=0.3)
        bot.shutdown_grace = 0.1  # the job is cut off on leaving


async def test_wait_background_is_for_a_bot_in_process() -> None:
    with FakeWeChat() as fake, serve(make_bot(api_base=fake.url)) as url:
        async with BotClient(url, token=TOKEN, fake=fake) as wechat:
            with pytest.raises(RuntimeError, match=r"in-process: BotClient\(bot\)"):
                await wechat.wait_background()


async def test_start_afresh_forgets_what_an_earlier_test_left_in_a_bot() -> None:
    bot = make_bot()
    @bot.on_text("visits")
    def visits(msg: TextMessage, ctx: Context) -> str:
        ctx.session["visits"] = ctx.session.get("visits", 0) + 1
        return str(ctx.session["visits"])

    for _ in range(2):
        async with BotClient(bot) as wechat:
            assert (await wechat.send_text("visits")).content == "1"
            assert (await wechat.send_text("slow")).is_empty
        start_afresh(bot)
        assert bot.stats == {} and bot.observer.latency_count == 0
