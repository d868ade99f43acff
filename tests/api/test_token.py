from __future__ import annotations

import asyncio

import httpx
import pytest

from wxhook.api import AccessToken, Client, ConfigurationError, InvalidCredentialError
from wxhook.stores import MemoryStore
from wxhook.testing import FakeWeChat

from .conftest import FAST, sent

TOKEN = "/cgi-bin/stable_token"
IPS = "/cgi-bin/getcallbackip"


class RecordingStore(MemoryStore):
    """A real MemoryStore that remembers the TTLs it was given and the locks it handed out."""

    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, float | None] = {}
        self.locks: list[str] = []

    async def set(self, key: str, value: str, ttl: float | None = None) -> None:
        self.ttls[key] = ttl
        await super().set(key, value, ttl)

    async def set_if_absent(self, key: str, value: str, ttl: float | None = None) -> bool:
        taken = await super().set_if_absent(key, value, ttl)
        if taken:
            self.locks.append(key)
        return taken


async def test_fifty_concurrent_calls_fetch_the_token_once(fake: FakeWeChat, client: Client) -> None:
    results = await asyncio.gather(*(client.misc.callback_ip() for _ in range(50)))
    assert all(ips == results[0] for ips in results)
    assert fake.count(TOKEN) == 1
    assert fake.count(IPS) == 50
    assert sent(fake, TOKEN) == {
        "grant_type": "client_credential",
        "appid": fake.appid,
        "secret": fake.secret,
        "force_refresh": False,
    }
    token = fake.calls(IPS)[0].query["access_token"]
    assert {c.query["access_token"] for c in fake.calls(IPS)} == {token}


async def test_token_cached_under_appid_key_with_margin(fake: FakeWeChat) -> None:
    store = RecordingStore()
    async with fake.client(store=store, token_margin=100, **FAST) as client:
        await client.misc.callback_ip()
        await client.misc.callback_ip()
    key = f"wxhook:token:{fake.appid}"
    assert await store.get(key) == fake.calls(IPS)[0].query["access_token"]
    assert store.ttls[key] == 7200 - 100
    assert f"lock:{key}" in store.locks
    assert fake.count(TOKEN) == 1


async def test_40001_once_refreshes_and_retries_once(fake: FakeWeChat, client: Client) -> None:
    await client.misc.callback_ip()
    fake.fail(IPS, errcode=40001)
    assert await client.misc.callback_ip()
    assert fake.count(IPS) == 3
    assert fake.count(TOKEN) == 2


async def test_40001_always_retries_exactly_once_then_raises(fake: FakeWeChat, client: Client) -> None:
    fake.fail(IPS, errcode=40001, times=None)
    with pytest.raises(InvalidCredentialError) as caught:
        await client.misc.callback_ip()
    assert fake.count(IPS) == 2
    assert fake.count(TOKEN) == 2
    error = caught.value
    assert (error.errcode, error.path) == (40001, IPS)
    assert error.rid and error.rid in str(error)
    assert IPS in str(error) and "WXHOOK_SECRET" in str(error)


async def test_revoked_token_heals(fake: FakeWeChat, client: Client) -> None:
    await client.misc.callback_ip()
    fake.revoke_tokens()
    assert await client.misc.callback_ip()
    first, failed, retried = (c.query["access_token"] for c in fake.calls(IPS))
    assert first == failed != retried
    assert fake.count(TOKEN) == 2


async def test_expired_token_heals(fake: FakeWeChat, client: Client) -> None:
    await client.misc.callback_ip()
    fake.advance(7300)
    assert await client.misc.callback_ip()
    assert fake.count(IPS) == 3
    assert fake.count(TOKEN) == 2


async def test_refused_token_is_dropped_only_while_still_cached(fake: FakeWeChat) -> None:
    """Client B's call fails with the old token after A already stored a new one: B must keep A's token."""
    store = MemoryStore()
    async with fake.client(store=store, **FAST) as a, fake.client(store=store, **FAST) as b:
        await a.misc.callback_ip()
        fake.fail(IPS, errcode=40001, delay=0.3)
        slow = asyncio.create_task(b.misc.callback_ip())
        for _ in range(400):
            if fake.count(IPS) == 2:
                break
            await asyncio.sleep(0.005)
        fake.revoke_tokens()
        await a.misc.api_domain_ip()
        await slow
    assert fake.count(TOKEN) == 2
    old, new = (c.query["access_token"] for c in fake.calls("/cgi-bin/get_api_domain_ip"))
    assert old != new
    assert fake.calls(IPS)[-1].query["access_token"] == new


async def test_two_clients_sharing_a_store_fetch_once(fake: FakeWeChat) -> None:
    """Two Client objects stand in for two processes: only the store lock keeps them from both fetching."""
    store = RecordingStore()
    fake.fail(TOKEN, delay=0.2)
    async with fake.client(store=store, **FAST) as a, fake.client(store=store, **FAST) as b:
        await asyncio.gather(a.misc.callback_ip(), b.misc.callback_ip(), a.misc.callback_ip())
    assert fake.count(TOKEN) == 1
    assert store.locks.count(f"lock:wxhook:token:{fake.appid}") == 2


async def test_basic_mode_uses_cgi_bin_token(fake: FakeWeChat) -> None:
    async with fake.client(token_mode="basic", **FAST) as client:
        await client.misc.callback_ip()
    assert fake.count(TOKEN) == 0
    (call,) = fake.calls("/cgi-bin/token")
    assert call.method == "GET"
    assert call.query == {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}


async def test_token_provider_gets_the_refused_token(fake: FakeWeChat) -> None:
    stale_seen: list[str | None] = []

    async def provider(stale: str | None) -> AccessToken:
        stale_seen.append(stale)
        params = {"grant_type": "client_credential", "appid": fake.appid, "secret": fake.secret}
        async with httpx.AsyncClient() as http:
            data = (await http.get(f"{fake.url}/cgi-bin/token", params=params)).json()
        return AccessToken(data["access_token"], data["expires_in"])

    async with fake.client(token_provider=provider, **FAST) as client:
        await client.misc.callback_ip()
        first = fake.calls(IPS)[0].query["access_token"]
        fake.revoke_tokens()
        await client.misc.callback_ip()
    assert stale_seen == [None, first]
    assert fake.count(TOKEN) == 0


async def test_missing_secret_fails_only_when_a_token_is_needed(fake: FakeWeChat) -> None:
    async with Client(fake.appid, api_base=fake.url, mp_base=fake.url) as client:
        assert client.qrcode.url("abc").startswith(fake.url)
        with pytest.raises(ConfigurationError) as caught:
            await client.misc.callback_ip()
    assert "WXHOOK_SECRET" in str(caught.value) and "secret=" in str(caught.value)
    assert fake.count(TOKEN) == 0


async def test_settings_fall_back_to_environment(fake: FakeWeChat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXHOOK_APPID", fake.appid)
    monkeypatch.setenv("WXHOOK_SECRET", fake.secret)
    monkeypatch.setenv("WXHOOK_API_BASE", fake.url)
    monkeypatch.setenv("WXHOOK_MP_BASE", fake.url)
    async with Client() as client:
        assert client.appid == fake.appid
        assert client.domains == (fake.url,)
        assert await client.access_token() == await client.access_token()
        assert client.qrcode.url("T 1").startswith(f"{fake.url}/cgi-bin/showqrcode?ticket=T%201")
    assert fake.count(TOKEN) == 1


def test_client_can_be_built_without_an_event_loop() -> None:
    client = Client("wx0", "secret")
    assert client.domains[0] == "https://api.weixin.qq.com"
    assert len(client.domains) == 5


def test_bad_token_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="token_mode"):
        Client("wx0", "s", token_mode="central")  # type: ignore[arg-type]
