"""WebLogin over a real uvicorn, with FakeWeChat as both the API and the consent page the browser visits."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount

from wxhook import WebLogin
from wxhook.api import Client, OAuthToken, OAuthUserInfo
from wxhook.testing import FakeWeChat
from wxhook.weblogin import COOKIE_PREFIX, StateSigner

from ..conftest import serve
from .test_echo_example import free_port

SECRET = "site-signing-secret"
STATE = re.compile(r"[0-9a-f]{32}[0-9]{10}[0-9a-f]{64}")
EXCHANGE = "/sns/oauth2/access_token"


@pytest.fixture
def fake() -> Iterator[FakeWeChat]:
    with FakeWeChat() as server:
        server.add_follower("o_ming", nickname="小明", sex=1, language="en", city="Shenzhen", unionid="u_ming")
        server.sign_in("o_ming")
        yield server


class Site:
    """An app with the login mounted at /auth; records what on_login received."""

    def __init__(self, fake: FakeWeChat, client: Client | None = None, **options: Any) -> None:
        self.client = client or fake.client()
        self.seen: list[tuple[Any, str, OAuthToken]] = []
        self.login: WebLogin[Any] = WebLogin(self.client, self.on_login, secret=SECRET, **options)
        self.app = Starlette(routes=[Mount("/auth", self.login)], lifespan=self.lifespan)

    async def on_login(self, request: Request, user: Any) -> Response:
        self.seen.append((user, request.state.next, request.state.oauth_token))
        return JSONResponse({"openid": user.openid, "next": request.state.next}, headers={"x-from": "on_login"})

    @asynccontextmanager
    async def lifespan(self, app: object) -> AsyncIterator[None]:
        yield
        await self.client.aclose()


@pytest.fixture
def site(fake: FakeWeChat) -> Site:
    return Site(fake)


def browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=10)


async def start(http: httpx.AsyncClient, base: str, next_path: str = "/") -> tuple[httpx.Response, str]:
    """GET /auth/login; returns the redirect and the state in it."""
    answer = await http.get(f"{base}auth/login", params={"next": next_path})
    assert answer.status_code == 302, answer.text
    return answer, parse_qs(urlsplit(answer.headers["location"]).query)["state"][0]


def refused(answer: httpx.Response, reason: str) -> None:
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.headers["cache-control"] == "no-store"
    assert reason in answer.text


async def test_whole_flow_userinfo(fake: FakeWeChat, site: Site) -> None:
    with serve(site.app) as base:
        async with browser() as http:
            login, state = await start(http, base, "/me?tab=orders")
            target = urlsplit(login.headers["location"])
            assert f"{target.scheme}://{target.netloc}" == fake.url
            assert (target.path, target.fragment) == ("/connect/oauth2/authorize", "wechat_redirect")
            assert parse_qs(target.query) == {
                "appid": [fake.appid],
                "redirect_uri": [f"{base}auth/callback"],
                "response_type": ["code"],
                "scope": ["snsapi_userinfo"],
                "state": [state],
            }
            assert STATE.fullmatch(state)
            cookie = login.headers["set-cookie"]
            assert cookie.startswith(f"{COOKIE_PREFIX}{state[:32]}=")
            for attribute in ("HttpOnly", "Max-Age=600", "Path=/auth/callback", "SameSite=lax"):
                assert attribute in cookie
            assert "Secure" not in cookie and login.headers["cache-control"] == "no-store"

            consent = await http.get(login.headers["location"])
            assert consent.status_code == 302
            back = urlsplit(consent.headers["location"])
            assert f"{back.scheme}://{back.netloc}{back.path}" == f"{base}auth/callback"
            code = parse_qs(back.query)["code"][0]
            assert parse_qs(back.query)["state"] == [state]

            done = await http.get(consent.headers["location"])
            assert done.status_code == 200 and done.headers["x-from"] == "on_login"
            assert done.json() == {"openid": "o_ming", "next": "/me?tab=orders"}
            assert f"{COOKIE_PREFIX}{state[:32]}=" in done.headers["set-cookie"]
            assert "Max-Age=0" in done.headers["set-cookie"] and not http.cookies

            again = await http.get(consent.headers["location"])
            refused(again, "not started in this browser")

    ((user, next_path, token),) = site.seen
    assert isinstance(user, OAuthUserInfo) and next_path == "/me?tab=orders"
    assert (user.openid, user.nickname, user.sex, user.language, user.city) == ("o_ming", "小明", 1, "en", "Shenzhen")
    assert (user.unionid, user.appid) == ("u_ming", None)
    assert (token.openid, token.scope, token.unionid) == ("o_ming", "snsapi_userinfo", "u_ming")
    (exchange,) = fake.calls(EXCHANGE)
    assert exchange.query == {
        "appid": fake.appid,
        "secret": fake.secret,
        "code": code,
        "grant_type": "authorization_code",
    }
    (info,) = fake.calls("/sns/userinfo")
    assert info.query == {"access_token": token.access_token, "openid": "o_ming", "lang": "zh_CN"}


async def test_base_scope_hands_over_the_token(fake: FakeWeChat) -> None:
    site = Site(fake, scope="snsapi_base")
    fake.sign_in("o_stranger")
    with serve(site.app) as base:
        async with httpx.AsyncClient(timeout=10, follow_redirects=True) as http:
            done = await http.get(f"{base}auth/login")
    assert done.json() == {"openid": "o_stranger", "next": "/"}
    ((user, _, token),) = site.seen
    assert isinstance(user, OAuthToken) and user is token and user.scope == "snsapi_base"
    assert fake.calls("/connect/oauth2/authorize")[0].query["scope"] == "snsapi_base"
    assert fake.count("/sns/userinfo") == 0


async def test_redirect_uri_follows_proxy_headers_or_is_given(fake: FakeWeChat, site: Site) -> None:
    """uvicorn trusts X-Forwarded-Proto from loopback by default: the scope says https, the Host header the host."""
    fixed = Site(fake, redirect_uri="https://login.example.com/wx/auth/callback")

    @asynccontextmanager
    async def both(app: object) -> AsyncIterator[None]:
        async with site.lifespan(app), fixed.lifespan(app):
            yield

    app = Starlette(routes=[Mount("/site", site.app), Mount("/fixed", fixed.app)], lifespan=both)
    with serve(app) as base:
        async with browser() as http:
            proxied = await http.get(
                f"{base}site/auth/login", headers={"x-forwarded-proto": "https", "host": "shop.example.com"}
            )
            given = await http.get(f"{base}fixed/auth/login")
    query = parse_qs(urlsplit(proxied.headers["location"]).query)
    assert query["redirect_uri"] == ["https://shop.example.com/site/auth/callback"]
    assert "Secure" in proxied.headers["set-cookie"] and "Path=/site/auth/callback" in proxied.headers["set-cookie"]
    query = parse_qs(urlsplit(given.headers["location"]).query)
    assert query["redirect_uri"] == ["https://login.example.com/wx/auth/callback"]
    assert "Path=/wx/auth/callback" in given.headers["set-cookie"]


async def test_forged_and_stale_states_are_refused(fake: FakeWeChat, site: Site) -> None:
    with serve(site.app) as base:
        callback = f"{base}auth/callback"
        async with browser() as victim, browser() as attacker:
            _, attacker_state = await start(attacker, base)
            _, victim_state = await start(victim, base)
            code = fake.oauth_code("o_attacker", "snsapi_userinfo")

            refused(await victim.get(callback, params={"code": code, "state": attacker_state}),
                    "not started in this browser")
            tampered = victim_state[:-1] + ("0" if victim_state[-1] != "0" else "1")
            refused(await victim.get(callback, params={"code": code, "state": tampered}), "altered")
            later = victim_state[:32] + f"{int(victim_state[32:42]) + 3600:010d}" + victim_state[42:]
            refused(await victim.get(callback, params={"code": code, "state": later}), "altered")
            refused(await victim.get(callback, params={"code": code}), "missing or malformed")
            refused(await victim.get(callback, params={"code": code, "state": "abc"}), "missing or malformed")

            cookie = f"{COOKIE_PREFIX}{victim_state[:32]}"
            assert cookie in victim.cookies
            victim.cookies.clear()
            victim.cookies.set(cookie, "Ly9ldmlsLmV4YW1wbGU", "127.0.0.1", "/auth/callback")  # //evil.example
            refused(await victim.get(callback, params={"code": code, "state": victim_state}), "altered")

            expired_state, expired_cookie, value = StateSigner(SECRET.encode(), 600).issue("/", time.time() - 3600)
            victim.cookies.set(expired_cookie, value, "127.0.0.1", "/auth/callback")
            refused(await victim.get(callback, params={"code": code, "state": expired_state}),
                    "the login expired (it has to finish within 600 seconds)")
            other_key_state, other_cookie, value = StateSigner(b"another key", 600).issue("/", time.time())
            victim.cookies.set(other_cookie, value, "127.0.0.1", "/auth/callback")
            refused(await victim.get(callback, params={"code": code, "state": other_key_state}), "altered")
    assert site.seen == [] and fake.count(EXCHANGE) == 0


async def test_declined_or_refused_code_ends_in_a_400(fake: FakeWeChat, site: Site) -> None:
    fake.sign_in("o_ming", consent=False)
    with serve(site.app) as base:
        async with browser() as http:
            login, _ = await start(http, base, "/me")
            consent = await http.get(login.headers["location"])
            assert "code" not in parse_qs(urlsplit(consent.headers["location"]).query)
            declined = await http.get(consent.headers["location"])
            refused(declined, "WeChat sent no code: the user declined")
            assert 'href="/auth/login?next=%2Fme"' in declined.text
            assert "Max-Age=0" in declined.headers["set-cookie"] and not http.cookies

            fake.sign_in("o_ming")
            fake.fail(EXCHANGE, 40029)
            login, _ = await start(http, base)
            consent = await http.get(login.headers["location"])
            refused(await http.get(consent.headers["location"]), "WeChat refused the login code (errcode 40029")
    assert site.seen == [] and fake.count(EXCHANGE) == 1


@pytest.mark.parametrize(
    "next_path",
    [
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "/\t/evil.example",
        "javascript:alert(1)",
        "profile",
        "/" + "a" * 1100,
    ],
)
async def test_open_redirects_are_refused(fake: FakeWeChat, site: Site, next_path: str) -> None:
    with serve(site.app) as base:
        async with browser() as http:
            answer = await http.get(f"{base}auth/login", params={"next": next_path})
    refused(answer, "next")
    assert "set-cookie" not in answer.headers and fake.count("/connect/oauth2/authorize") == 0


def test_settings_are_checked(fake: FakeWeChat) -> None:
    client, on_login = fake.client(), Site(fake).on_login
    with pytest.raises(ValueError, match="scope must be 'snsapi_userinfo'"):
        WebLogin(client, on_login, scope="snsapi_login")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="ttl must be a positive number"):
        WebLogin(client, on_login, ttl=0)
    with pytest.raises(ValueError, match="redirect_uri must be the callback's full URL"):
        WebLogin(client, on_login, redirect_uri="/auth/callback")


async def consented_callback(http: httpx.AsyncClient, base: str) -> str:
    """Start a login and pass WeChat's consent page: the callback URL WeChat sends the browser to."""
    login, _ = await start(http, base, "/me")
    consent = await http.get(login.headers["location"])
    assert consent.status_code == 302
    return str(consent.headers["location"])


def failed(answer: httpx.Response, status: int, reason: str) -> None:
    """The login's own error page, the cookie cleared, no traceback."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("text/html") and answer.headers["cache-control"] == "no-store"
    assert reason in answer.text and "Traceback" not in answer.text
    assert 'href="/auth/login?next=%2Fme"' in answer.text
    assert f"{COOKIE_PREFIX}" in answer.headers["set-cookie"] and "Max-Age=0" in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ({"errcode": -1}, "/sns/userinfo failed (errcode -1"),
        ({"errcode": 40001}, "/sns/userinfo failed (errcode 40001"),
        ({"status": 502}, "/sns/userinfo failed (HTTP 502)"),
    ],
)
async def test_a_failing_userinfo_call_ends_on_the_error_page(
    fake: FakeWeChat, site: Site, failure: dict[str, int], reason: str
) -> None:
    fake.fail("/sns/userinfo", times=None, **failure)
    with serve(site.app) as base:
        async with browser() as http:
            callback = await consented_callback(http, base)
            answer = await http.get(callback)
            failed(answer, 502, reason)
            assert not http.cookies
    assert site.seen == [] and fake.count(EXCHANGE) == 1


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ({"status": 503}, "/sns/oauth2/access_token failed (HTTP 503)"),
        ({"status": 404}, "/sns/oauth2/access_token failed (HTTP 404)"),
        ({"delay": 2.0}, "/sns/oauth2/access_token failed (no answer)"),
    ],
)
async def test_a_code_exchange_that_fails_upstream_ends_on_the_error_page(
    fake: FakeWeChat, failure: dict[str, float], reason: str
) -> None:
    site = Site(fake, fake.client(timeout=0.5, retry_deadline=1.0, max_retries=1))
    fake.fail(EXCHANGE, times=None, **failure)
    with serve(site.app) as base:
        async with browser() as http:
            failed(await http.get(await consented_callback(http, base)), 502, reason)
            assert not http.cookies
    assert site.seen == []


async def test_an_unexpected_exchange_answer_ends_on_the_error_page(fake: FakeWeChat, site: Site) -> None:
    """An answer without the user's token (a proxy's page, a changed API): UnexpectedAnswerError, not a 500."""
    fake.fail(EXCHANGE, errcode=0, errmsg="ok")
    with serve(site.app) as base:
        async with browser() as http:
            failed(await http.get(await consented_callback(http, base)), 502,
                   "/sns/oauth2/access_token failed (an unexpected answer)")
    assert site.seen == []


async def test_a_state_works_once(fake: FakeWeChat, site: Site) -> None:
    """The same state and cookie again, with a new code (say both were captured): refused, on every process
    sharing the client's store."""
    with serve(site.app) as base:
        async with browser() as http:
            login, state = await start(http, base, "/me")
            cookie = f"{COOKIE_PREFIX}{state[:32]}"
            value = http.cookies[cookie]
            consent = await http.get(login.headers["location"])
            assert (await http.get(consent.headers["location"])).status_code == 200

            http.cookies.set(cookie, value, "127.0.0.1", "/auth/callback")
            code = fake.oauth_code("o_ming", "snsapi_userinfo")
            again = await http.get(f"{base}auth/callback", params={"code": code, "state": state})
            failed(again, 400, "this login was already used")
            assert not http.cookies
    assert len(site.seen) == 1 and fake.count(EXCHANGE) == 1


async def test_a_state_is_spent_in_the_shared_store(fake: FakeWeChat, tmp_path: Path) -> None:
    """Two sites (two processes' worth of WebLogin) on one SQLite store: a state spent on one is spent on both."""
    store = f"sqlite:///{tmp_path / 'state.db'}"
    first, second = Site(fake, fake.client(store=store)), Site(fake, fake.client(store=store))
    with serve(first.app) as base, serve(second.app) as other:
        async with browser() as http:
            login, state = await start(http, base, "/me")
            value = http.cookies[f"{COOKIE_PREFIX}{state[:32]}"]
            consent = await http.get(login.headers["location"])
            assert (await http.get(consent.headers["location"])).status_code == 200
            http.cookies.set(f"{COOKIE_PREFIX}{state[:32]}", value, "127.0.0.1", "/auth/callback")
            code = fake.oauth_code("o_ming", "snsapi_userinfo")
            failed(await http.get(f"{other}auth/callback", params={"code": code, "state": state}), 400,
                   "this login was already used")
    assert len(first.seen) == 1 and second.seen == []


async def test_a_store_that_cannot_record_the_state_ends_on_the_error_page(fake: FakeWeChat) -> None:
    """A fail-closed store that is down: the state cannot be spent, so the login does not go on (503)."""
    site = Site(fake, fake.client(store=f"redis://127.0.0.1:{free_port()}/0?fail_closed=true&timeout=0.5"))
    with serve(site.app) as base:
        async with browser() as http:
            failed(await http.get(await consented_callback(http, base)), 503, "its store is unavailable")
    assert site.seen == [] and fake.count(EXCHANGE) == 0
