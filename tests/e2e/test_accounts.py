"""Many accounts on one server (issue 25): each served at /{appid} on its own credentials, none of them from the
environment, looked up at run time when so configured, handlers limited to some accounts."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from wxhook import Account, AccountLookup, Bot, ConfigError, Context, Message, Router
from wxhook.crypto import sign
from wxhook.testing import BotClient, FakeWeChat, message_xml, serve

SAFE = Account("wx1111111111111111", token="token-of-safe", aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
               secret="secret-of-safe", name="safe")
PLAIN = Account("wx2222222222222222", token="token-of-plain", secret="secret-of-plain", name="plain")


def echo_bot(**options: object) -> Bot:
    bot = Bot(**options)  # type: ignore[arg-type]

    @bot.on_text
    def echo(msg: Message, ctx: Context) -> str:
        return f"{ctx.account.appid} {ctx.account.name}: {msg.content}"  # type: ignore[attr-defined]

    return bot


def handshake(url: str, token: str) -> httpx.Response:
    stamp, nonce = str(int(time.time())), "8"
    return httpx.get(url, params={"signature": sign(token, stamp, nonce), "timestamp": stamp, "nonce": nonce,
                                  "echostr": "hello"})


async def post(url: str, body: bytes = b"") -> int:
    async with httpx.AsyncClient() as http:
        return (await http.post(url, content=body)).status_code


async def test_two_accounts_each_on_its_own_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXHOOK_AES_KEY", SAFE.aes_key or "")  # never read for accounts: PLAIN stays plaintext
    monkeypatch.setenv("WXHOOK_TOKEN", "token-from-the-environment")
    with serve(echo_bot(accounts=[SAFE, PLAIN])) as url:
        for account in (SAFE, PLAIN):
            assert handshake(f"{url}{account.appid}", account.token or "").text == "hello"
        assert handshake(f"{url}{SAFE.appid}", PLAIN.token or "").status_code == 403
        assert handshake(f"{url}{SAFE.appid}", "token-from-the-environment").status_code == 403
        async with BotClient(f"{url}{SAFE.appid}", token="token-of-safe", appid=SAFE.appid,
                             aes_key=SAFE.aes_key) as safe:
            reply = await safe.send_text("sealed")
            assert reply.encrypted and reply.content == "wx1111111111111111 safe: sealed"
        async with BotClient(f"{url}{SAFE.appid}", token="token-of-safe") as plain_to_safe:
            assert (await plain_to_safe.send_text("plain")).status == 403, "safe mode refuses plaintext"
        async with BotClient(f"{url}{PLAIN.appid}", token="token-of-plain") as plain:
            assert (await plain.send_text("hi")).content == "wx2222222222222222 plain: hi"
        async with BotClient(f"{url}{SAFE.appid}", token="token-of-plain") as crossed:
            assert (await crossed.send_text("forged")).status == 403, "signed with the other account's token"
        async with BotClient(f"{url}{PLAIN.appid}", token="token-from-the-environment") as from_env:
            assert (await from_env.send_text("forged")).status == 403
        for path in ("", "wx3333333333333333", "not-an-appid", f"{SAFE.appid}/more"):
            assert await post(f"{url}{path}", b"<xml/>") == 404


async def test_accounts_in_process_and_mounted() -> None:
    bot = echo_bot(accounts=[SAFE, PLAIN])
    async with BotClient(bot, appid=PLAIN.appid) as plain, BotClient(bot, appid=SAFE.appid) as safe:
        assert (await plain.send_text("a")).content == "wx2222222222222222 plain: a"
        reply = await safe.send_text("b")
        assert reply.encrypted and reply.content == "wx1111111111111111 safe: b"
    with pytest.raises(TypeError, match="appid="):
        BotClient(bot)


def test_one_account_settings_with_accounts_are_refused() -> None:
    with pytest.raises(ConfigError, match="Account"):
        Bot(token="t", accounts=[PLAIN])
    with pytest.raises(ConfigError, match="no token"):
        Bot(accounts=[Account("wx4444444444444444")])
    with pytest.raises(ConfigError, match="16 hex"):
        Bot(accounts=[Account("gh_not_an_appid", token="t")])
    with pytest.raises(ConfigError, match="twice"):
        Bot(accounts=[PLAIN, PLAIN])
    with pytest.raises(ConfigError, match="EncodingAESKey"):
        Account("wx4444444444444444", token="t", aes_key="short")


async def test_accounts_looked_up_while_serving() -> None:
    database: dict[str, Account] = {}
    lookups: list[str] = []

    async def load(appid: str) -> Account | None:
        lookups.append(appid)
        return database.get(appid)

    with serve(echo_bot(accounts=AccountLookup(load, ttl=1.0, miss_ttl=2.0))) as url:
        unknown = f"{url}{PLAIN.appid}"
        assert handshake(unknown, "token-of-plain").status_code == 404
        async with httpx.AsyncClient() as http:  # one client: twenty of its setups could outlast miss_ttl
            for _ in range(20):  # a flood of pushes for an unknown appid: one lookup per miss_ttl
                assert (await http.post(unknown)).status_code == 404
        assert lookups == [PLAIN.appid]
        assert await post(f"{url}not-an-appid") == 404 and len(lookups) == 1
        database[PLAIN.appid] = PLAIN  # added: served within miss_ttl
        await asyncio.sleep(2.05)
        assert handshake(unknown, "token-of-plain").text == "hello"
        async with BotClient(unknown, token="token-of-plain") as plain:
            assert (await plain.send_text("found")).content == "wx2222222222222222 plain: found"
        del database[PLAIN.appid]  # removed: 404 once the found account's ttl has passed
        await asyncio.sleep(1.05)
        assert handshake(unknown, "token-of-plain").status_code == 404


async def test_a_lookup_that_fails_is_answered_503_and_tried_again() -> None:
    calls = 0

    async def load(appid: str) -> Account | None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("database unavailable")
        return PLAIN

    with serve(echo_bot(accounts=load)) as url:
        assert handshake(f"{url}{PLAIN.appid}", "token-of-plain").status_code == 503
        assert handshake(f"{url}{PLAIN.appid}", "token-of-plain").text == "hello"


async def test_handlers_and_routers_limited_to_accounts() -> None:
    bot = Bot(accounts=[SAFE, PLAIN])
    shop = Router()

    @shop.on_text("menu")
    def shop_menu(msg: Message) -> str:
        return "the shop's menu"

    @bot.on_text("menu", accounts=SAFE.appid)
    def safe_menu(msg: Message) -> str:
        return "the safe account's menu"

    @bot.on_text
    def fallback(msg: Message) -> str:
        return "fallback"

    bot.include(shop, accounts=[PLAIN.appid])
    async with BotClient(bot, appid=SAFE.appid) as safe, BotClient(bot, appid=PLAIN.appid) as plain:
        assert (await safe.send_text("menu")).content == "the safe account's menu"
        assert (await plain.send_text("menu")).content == "the shop's menu"
        assert (await safe.send_text("else")).content == "fallback"
    with pytest.raises(ValueError, match="appids"):
        bot.include(Router(), accounts=["gh_123"])


async def test_an_account_outside_a_push() -> None:
    bot = Bot(accounts=[PLAIN])
    served = await bot.account(PLAIN.appid)
    assert served.account is not None and served.api.appid == PLAIN.appid
    with pytest.raises(LookupError, match="wx3333333333333333"):
        await bot.account("wx3333333333333333")
    with pytest.raises(ConfigError, match="many accounts"):
        bot.settings  # noqa: B018 - the property raises


def test_the_message_log_names_the_account(caplog: pytest.LogCaptureFixture) -> None:
    bot = echo_bot(accounts=[PLAIN])
    with caplog.at_level("INFO", logger="wxhook.messages"), serve(bot) as url:
        stamp, nonce = str(int(time.time())), "5"
        body = message_xml({"ToUserName": "gh", "FromUserName": "o", "CreateTime": int(time.time()),
                            "MsgType": "text", "Content": "x", "MsgId": 1}).encode()
        query = {"signature": sign("token-of-plain", stamp, nonce), "timestamp": stamp, "nonce": nonce}
        assert httpx.post(f"{url}{PLAIN.appid}", params=query, content=body).status_code == 200
    assert f"message account={PLAIN.appid} type=text" in caplog.text


async def test_each_accounts_late_reply_goes_out_on_its_own_token() -> None:
    with FakeWeChat() as fake:  # in a thread: the served bot calls it from another loop
        for account in (SAFE, PLAIN):
            fake.add_account(account.appid, account.secret)
        bot = Bot(accounts=[SAFE, PLAIN], deadline=0.2)
        bot.api = fake.client()

        @bot.on_text
        async def slow(msg: Message, ctx: Context) -> str:
            await asyncio.sleep(0.4)
            return f"late from {ctx.account.name}"

        with serve(bot) as url:
            async with BotClient(f"{url}{SAFE.appid}", token="token-of-safe", appid=SAFE.appid,
                                 aes_key=SAFE.aes_key, fake=fake) as safe, \
                    BotClient(f"{url}{PLAIN.appid}", token="token-of-plain", fake=fake) as plain:
                assert (await safe.send_text("a", "o_safe")).body == b"success"
                assert (await plain.send_text("b", "o_plain")).body == b"success"
                await safe.next_deferred(timeout=10)
                await safe.next_deferred(timeout=10)
        sends = {(call.json["touser"], call.appid, call.json["text"]["content"])
                 for call in fake.calls("/cgi-bin/message/custom/send")}
    assert sends == {("o_safe", SAFE.appid, "late from safe"), ("o_plain", PLAIN.appid, "late from plain")}
