"""The third-party platform over real HTTP (issue 25): FakeWeChat plays the open platform, the bot runs under uvicorn
on SQLite or a real Redis; wechatpy, another implementation of the protocol, opens the bot's sealed replies."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from wechatpy.crypto import WeChatCrypto

from tests.conftest import until
from wxhook import Account, Bot, Context, Message
from wxhook.platform import Authorizer, AuthorizerRevokedError, NoTicketError, Platform, PlatformEvent
from wxhook.stores import open_store
from wxhook.stores.keys import credential_key
from wxhook.testing import FakeWeChat, serve
from wxhook.xml import parse_xml

COMPONENT = Platform("wx9c0a0000000c0b01", "component-secret-0001", "component-token",
                     "ComponentKeyComponentKeyComponentKeyCompon0")
AUTHORIZER, AUTHORIZER_GH = "wxa0a0000000000a01", "gh_a0a000000a01"
COMPONENT_TOKEN_PATH = "/cgi-bin/component/api_component_token"
AUTHORIZER_TOKEN_PATH = "/cgi-bin/component/api_authorizer_token"


def store_url(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'platform.db'}"
    url: str = request.getfixturevalue("redis_url")
    return url


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat() as running:  # in a thread: the bot under serve() and the test's loop both call it
        running.platform(appid=COMPONENT.appid or "", secret=COMPONENT.secret, token=COMPONENT.token,
                         aes_key=COMPONENT.aes_key)
        yield running


def platform_bot(fake: FakeWeChat, store: str, **options: Any) -> Bot:
    bot = Bot(platform=options.pop("platform", COMPONENT), store=store, deadline=0.3, **options)
    bot.api = fake.client()  # every account's client shares its connections to the fake (and its mp_base)
    return bot


def echo_bot(fake: FakeWeChat, store: str, **options: Any) -> Bot:
    bot = platform_bot(fake, store, **options)

    @bot.on_text
    async def echo(msg: Message, ctx: Context) -> str:
        if msg.content == "slow":  # type: ignore[attr-defined]
            await asyncio.sleep(0.6)
            return f"late for {ctx.account.appid}"
        return f"{ctx.account.appid} ({ctx.account.source}): {msg.content}"  # type: ignore[attr-defined]

    return bot


def wechatpy_opens(body: bytes) -> dict[str, Any]:
    """wechatpy, with the platform's credentials, checks the reply's signature and decrypts it."""
    outer = parse_xml(body)
    crypto = WeChatCrypto(COMPONENT.token, COMPONENT.aes_key, COMPONENT.appid)
    inner = crypto.decrypt_message(body.decode(), outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"])
    return parse_xml(inner.encode() if isinstance(inner, str) else inner)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_an_authorizer_is_served_on_the_platforms_credentials_and_survives_a_restart(
    kind: str, fake: FakeWeChat, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = store_url(kind, tmp_path, request)
    platform = fake.platform(appid=COMPONENT.appid or "")
    with serve(echo_bot(fake, store)) as url:
        platform.events_url = f"{url}events"
        assert (await platform.push_ticket()).ok
        granted = await platform.authorize(AUTHORIZER, original_id=AUTHORIZER_GH, name="Merchant")
        assert granted.push is not None and granted.push.ok, "authorized answered success"
        await until(lambda: platform.authorizations[AUTHORIZER].exchanged)
        async with platform.bot_client(f"{url}$APPID$", AUTHORIZER) as wechat:
            reply = await wechat.send_text("hi")
            assert reply.encrypted and reply.content == f"{AUTHORIZER} (authorizer): hi"
            assert wechatpy_opens(reply.body)["Content"] == f"{AUTHORIZER} (authorizer): hi"
            assert (await wechat.send_text("slow")).body == b"success"
            late = await wechat.next_deferred(timeout=10)
        assert (late.content, late.call.appid) == (f"late for {AUTHORIZER}", AUTHORIZER)
    assert fake.count(COMPONENT_TOKEN_PATH) == 1 and fake.count(AUTHORIZER_TOKEN_PATH) == 0, \
        "the token the exchange gave served the reply"

    shared = open_store(store)
    await shared.delete(credential_key("authorizer_token", AUTHORIZER))  # as if it expired while the bot was down
    await shared.close()
    with serve(echo_bot(fake, store)) as url:  # a new process's bot: only what the store kept
        async with platform.bot_client(f"{url}$APPID$", AUTHORIZER) as wechat:
            assert (await wechat.send_text("slow")).body == b"success"
            late = await wechat.next_deferred(timeout=10)
    assert (late.content, late.call.appid) == (f"late for {AUTHORIZER}", AUTHORIZER)
    assert fake.count(AUTHORIZER_TOKEN_PATH) == 1, "refreshed from the stored refresh token"
    assert fake.count(COMPONENT_TOKEN_PATH) == 1, "the stored component token is still valid: not fetched again"


def _authorizer_tokens(fake_url: str, store: str, start: multiprocessing.synchronize.Event, out: str) -> None:
    async def run() -> set[str]:
        bot = Bot(platform=COMPONENT, store=store, api_base=fake_url)
        api = (await bot.account(AUTHORIZER)).api
        start.wait()
        tokens = await asyncio.gather(*(api.access_token() for _ in range(50)))
        await bot.shutdown()
        return set(tokens)

    Path(out).write_text("\n".join(asyncio.run(run())))


async def test_two_processes_refresh_an_authorizer_token_once(fake: FakeWeChat, redis_url: str,
                                                              tmp_path: Path) -> None:
    platform = fake.platform(appid=COMPONENT.appid or "")
    with serve(platform_bot(fake, redis_url)) as url:
        platform.events_url = f"{url}events"
        assert (await platform.push_ticket()).ok
        await platform.authorize(AUTHORIZER, original_id=AUTHORIZER_GH)
        await until(lambda: platform.authorizations[AUTHORIZER].exchanged)
    shared = open_store(redis_url)
    await shared.delete(credential_key("authorizer_token", AUTHORIZER))
    await shared.close()
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    outs = [str(tmp_path / f"tokens-{i}.txt") for i in range(2)]
    workers = [spawn.Process(target=_authorizer_tokens, args=(fake.url, redis_url, start, out)) for out in outs]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        await asyncio.to_thread(worker.join, 60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    texts = [await asyncio.to_thread(Path(out).read_text) for out in outs]
    tokens = {line for text in texts for line in text.splitlines()}
    assert len(tokens) == 1 and fake.count(AUTHORIZER_TOKEN_PATH) == 1


@pytest.mark.parametrize("handlers", ["none", "catch-all"])
async def test_the_release_test_passes(handlers: str, fake: FakeWeChat, tmp_path: Path) -> None:
    bot = platform_bot(fake, f"sqlite:///{tmp_path / 'p.db'}")
    if handlers == "catch-all":
        @bot.on_text
        def everything(msg: Message) -> str:
            return "a catch-all answer"

        @bot.on_event()
        def every_event(msg: Message) -> str:
            return "an event answer"

        @bot.on_default
        def anything(msg: Message) -> str:
            return "the default answer"

    platform = fake.platform(appid=COMPONENT.appid or "")
    with serve(bot) as url:
        for group in (1, 2, 3, 4, 5):
            report = await platform.release_test(f"{url}$APPID$", events_url=f"{url}events", group=group)
            assert report.passed, str(report)
            assert all(case.ok for case in report.cases), str(report)


async def test_notifications_are_kept_and_observed(fake: FakeWeChat, tmp_path: Path) -> None:
    seen: list[PlatformEvent] = []
    bot = echo_bot(fake, f"sqlite:///{tmp_path / 'p.db'}")

    @bot.on_platform()
    async def observe(event: PlatformEvent) -> None:
        seen.append(event)

    @bot.on_platform("unauthorized")
    def fail(event: PlatformEvent) -> None:
        raise RuntimeError("a failing handler changes nothing WeChat sees")

    platform = fake.platform(appid=COMPONENT.appid or "")
    service = bot.platform
    assert service is not None
    with pytest.raises(NoTicketError, match="events"):
        await service.component_token()
    with serve(bot) as url:
        platform.events_url = f"{url}events"
        assert (await platform.push_ticket()).ok
        await platform.authorize(AUTHORIZER, original_id=AUTHORIZER_GH, name="Merchant")
        await until(lambda: [e.info_type for e in seen] == ["component_verify_ticket", "authorized"])
        record = await service.authorizer_record(AUTHORIZER)
        assert record is not None and record.refresh_token and (record.original_id, record.name) == \
            (AUTHORIZER_GH, "Merchant") and not record.revoked
        unauthorized = await platform.unauthorize(AUTHORIZER)
        assert unauthorized is not None and unauthorized.ok
        await until(lambda: len(seen) == 3)
        record = await service.authorizer_record(AUTHORIZER)
        assert record is not None and record.revoked and not record.refresh_token
        async with httpx.AsyncClient() as http:
            forged = await http.post(f"{url}events", params={"signature": "0", "timestamp": str(int(time.time())),
                                                             "nonce": "1", "msg_signature": "0"}, content=b"<xml/>")
        assert forged.status_code == 403 and "WXHOOK_PLATFORM_TOKEN" in forged.text
        client = (await bot.account(AUTHORIZER)).api
        with pytest.raises(AuthorizerRevokedError, match="withdrew"):
            await client.access_token()


async def test_the_authorization_pages(fake: FakeWeChat, tmp_path: Path) -> None:
    came_back: list[tuple[Authorizer, str]] = []

    async def allow(request: Request) -> str | None:
        return request.query_params.get("tenant")

    async def authorized(request: Request, authorizer: Authorizer, state: str) -> Response:
        came_back.append((authorizer, state))
        return PlainTextResponse(f"welcome {authorizer.appid} of {state}")

    platform_config = Platform(COMPONENT.appid, COMPONENT.secret, COMPONENT.token, COMPONENT.aes_key,
                               authorize=allow, on_authorized=authorized)
    bot = platform_bot(fake, f"sqlite:///{tmp_path / 'p.db'}", platform=platform_config)
    platform = fake.platform(appid=COMPONENT.appid or "")
    with serve(bot) as url:
        platform.events_url = f"{url}events"
        assert (await platform.push_ticket()).ok
        platform.sign_in_merchant(AUTHORIZER, original_id=AUTHORIZER_GH, name="Shop")
        async with httpx.AsyncClient(follow_redirects=True) as browser:
            assert (await browser.get(f"{url}authorize")).status_code == 403, "the hook refused: no tenant"
            page = await browser.get(f"{url}authorize", params={"tenant": "tenant-42"})
            assert page.status_code == 200
            link = parse_links(page.text)["pc"]
            landed = await browser.get(link, headers={"referer": str(page.url)})
            assert landed.text == f"welcome {AUTHORIZER} of tenant-42"
            tampered = await browser.get(f"{url}authorized", params={"state": "x.y", "auth_code": "c"})
            assert tampered.status_code == 400
    assert [(a.appid, s) for a, s in came_back] == [(AUTHORIZER, "tenant-42")]
    assert fake.count("/cgi-bin/component/api_query_auth") >= 1 and platform.authorizations[AUTHORIZER].exchanged


def parse_links(html: str) -> dict[str, str]:
    import re
    from html import unescape

    return {name: unescape(href) for name, href in re.findall(r'<a id="(\w+)" href="([^"]+)"', html)}


async def test_configured_accounts_and_authorizers_side_by_side(fake: FakeWeChat, tmp_path: Path) -> None:
    own = Account("wxb0b0000000000b01", token="own-token", secret="own-secret")
    fake.add_account(own.appid, own.secret)
    bot = echo_bot(fake, f"sqlite:///{tmp_path / 'p.db'}", accounts=[own])
    platform = fake.platform(appid=COMPONENT.appid or "")
    with serve(bot) as url:
        platform.events_url = f"{url}events"
        assert (await platform.push_ticket()).ok
        await platform.authorize(AUTHORIZER, original_id=AUTHORIZER_GH)
        await until(lambda: platform.authorizations[AUTHORIZER].exchanged)
        from wxhook.testing import BotClient

        async with BotClient(f"{url}{own.appid}", token="own-token", fake=fake) as mine:
            assert (await mine.send_text("x")).content == f"{own.appid} (configured): x"
            assert (await mine.send_text("slow")).body == b"success"
            late = await mine.next_deferred(timeout=10)
        assert late.call.appid == own.appid, "a configured account's reply goes out on its own token"
        async with platform.bot_client(f"{url}$APPID$", AUTHORIZER) as theirs:
            assert (await theirs.send_text("y")).content == f"{AUTHORIZER} (authorizer): y"


def test_a_platform_keeps_its_records_in_a_file_unless_told(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WXHOOK_STORE", raising=False)
    bot = Bot(platform=COMPONENT)
    assert "wxhook-platform.db" in repr(bot.store)
    Bot(platform=COMPONENT, store="memory://")
    assert "a restart loses them" in caplog.text


def test_platform_settings_come_from_arguments_or_their_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (("APPID", COMPONENT.appid), ("SECRET", "s"), ("TOKEN", "t"), ("AES_KEY", COMPONENT.aes_key)):
        monkeypatch.setenv(f"WXHOOK_PLATFORM_{name}", value or "")
    monkeypatch.setenv("WXHOOK_TOKEN", "one-account-token")
    assert Platform().token == "t"
    monkeypatch.delenv("WXHOOK_PLATFORM_TOKEN")
    from wxhook import ConfigError

    with pytest.raises(ConfigError, match="WXHOOK_PLATFORM_TOKEN"):
        Platform()
    with pytest.raises(ConfigError, match="not token="):
        Bot(token="x", platform=COMPONENT, store="memory://")


async def test_a_new_base_client_carries_the_platforms_own_calls(fake: FakeWeChat) -> None:
    """``bot.api = ...`` moves every client onto the new one, the platform's own too, even one already used."""
    bot = Bot(platform=COMPONENT, store="memory://", api_base="http://127.0.0.1:9")  # nothing listens there
    service = bot.platform
    assert service is not None
    before = service.api
    bot.api = fake.client()
    ticket = fake.platform(appid=COMPONENT.appid or "").new_ticket()
    assert await service.records.keep_ticket(ticket, int(time.time()))
    assert await service.component_token() and fake.count(COMPONENT_TOKEN_PATH) == 1
    assert service.api is not before
    await bot.shutdown()
