"""FakeWeChat as the open platform: pushes sealed with the component's credentials, the component APIs with WeChat's
rules, the authorization pages, authorizer tokens on the official-account APIs, component web login, and the
全网发布 check — all over real HTTP against a small component bot (``component_bot``)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from wxhook.testing import FakePlatform, FakeWeChat, serve

from .component_bot import COMPONENT, ComponentBot

SEND = "/cgi-bin/message/custom/send"
SHOP, SHOP_GH = "wx5h0p000000005h0p", "gh_5h0p00005h0p"


@dataclass
class World:
    fake: FakeWeChat
    platform: FakePlatform
    bot: ComponentBot
    url: str
    http: httpx.AsyncClient

    async def component(self, name: str, body: dict[str, Any], token: str | None = None) -> Any:
        return await self.bot.call(self.http, name, {"component_appid": self.platform.appid, **body}, token)

    async def token(self) -> str:
        if not any(e["InfoType"] == "component_verify_ticket" for e in self.bot.events):
            assert (await self.platform.push_ticket()).ok
        return await self.bot.component_token(self.http)

    async def send(self, access_token: str, content: str = "hi") -> Any:
        body = {"touser": "o_fan", "msgtype": "text", "text": {"content": content}}
        return (await self.http.post(f"{self.fake.url}{SEND}", params={"access_token": access_token},
                                     json=body)).json()

    async def authorized(self, appid: str = SHOP, **options: Any) -> dict[str, Any]:
        """Authorize and exchange the code: the authorization_info."""
        grant = await self.platform.authorize(appid, **options)
        answer = await self.component("api_query_auth", {"authorization_code": grant.code}, await self.token())
        return answer["authorization_info"]  # type: ignore[no-any-return]


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with FakeWeChat() as fake, httpx.AsyncClient() as http:
        platform = fake.platform()
        bot = ComponentBot(fake.url, platform)
        with serve(bot.app) as url:
            platform.events_url = f"{url}events"
            yield World(fake, platform, bot, url.rstrip("/"), http)
        assert not bot.errors


async def test_the_authorization_flow_from_ticket_to_a_send_as_the_authorizer(world: World) -> None:
    fake, platform, bot = world.fake, world.platform, world.bot
    push = await platform.push_ticket()
    assert push.ok and push.info_type == "component_verify_ticket"
    assert bot.outer[-1].keys() == {"AppId", "Encrypt"} and bot.outer[-1]["AppId"] == platform.appid
    assert bot.events[-1]["ComponentVerifyTicket"] == platform.ticket
    assert bot.events[-1].keys() == {"AppId", "CreateTime", "InfoType", "ComponentVerifyTicket"}
    token = await world.token()
    pre = await world.component("api_create_preauthcode", {}, token)
    assert pre["pre_auth_code"].startswith("preauthcode@@@") and pre["expires_in"] == 600
    platform.sign_in_merchant(SHOP, original_id=SHOP_GH, name="The Shop")
    page = (f"{fake.url}/cgi-bin/componentloginpage?component_appid={platform.appid}&pre_auth_code="
            f"{pre['pre_auth_code']}&redirect_uri={world.url}/authorized%3Ftenant%3D7&auth_type=1")
    typed = await world.http.get(page)
    assert typed.status_code == 403 and "Referer" in typed.text and not platform.authorizations
    answer = await world.http.get(page, headers={"Referer": f"{world.url}/start"})
    assert answer.status_code == 302
    assert bot.events[-1]["InfoType"] == "authorized"  # pushed, and answered, before the redirect went out
    redirect = await world.http.get(answer.headers["location"])
    assert redirect.text == "authorized" and bot.redirects[-1]["tenant"] == "7"
    code = bot.redirects[-1]["auth_code"]
    assert bot.redirects[-1]["expires_in"] == "600"
    event = bot.events[-1]
    assert (event["AuthorizerAppid"], event["AuthorizationCode"], event["PreAuthCode"]) == (
        SHOP, code, pre["pre_auth_code"])
    assert int(event["AuthorizationCodeExpiredTime"]) == int(event["CreateTime"]) + 600
    again = await world.http.get(page, headers={"Referer": f"{world.url}/start"})
    assert again.status_code == 403 and "used already" in again.text

    info = (await world.component("api_query_auth", {"authorization_code": code}, token))["authorization_info"]
    assert info["authorizer_appid"] == SHOP and info["expires_in"] == 7200
    assert [f["funcscope_category"]["id"] for f in info["func_info"]] == [1, 2, 3, 4, 6, 7, 11, 15]
    reused = await world.component("api_query_auth", {"authorization_code": code}, token)
    assert reused["errcode"] == 61009
    assert (await world.send(info["authorizer_access_token"]))["errcode"] == 0
    assert fake.calls(SEND)[-1].appid == SHOP and fake.count(SEND, appid=fake.appid) == 0
    assert platform.authorizations[SHOP].refresh_token == info["authorizer_refresh_token"]

    about = await world.component("api_get_authorizer_info", {"authorizer_appid": SHOP}, token)
    assert (about["authorizer_info"]["user_name"], about["authorizer_info"]["nick_name"]) == (SHOP_GH, "The Shop")
    assert fake.account(SHOP).original_id == SHOP_GH
    refresh = {"authorizer_appid": SHOP, "authorizer_refresh_token": info["authorizer_refresh_token"]}
    renewed = await world.component("api_authorizer_token", refresh, token)
    assert renewed["authorizer_refresh_token"] == info["authorizer_refresh_token"]
    assert renewed["authorizer_access_token"] != info["authorizer_access_token"]
    assert (await world.send(info["authorizer_access_token"]))["errcode"] == 0  # the old one, for the overlap
    assert fake.count(f"{COMPONENT}api_authorizer_token", appid=SHOP) == 1
    assert fake.count(f"{COMPONENT}api_component_token", appid=platform.appid) == 1

    assert (await platform.unauthorize(SHOP)) is not None and bot.events[-1]["InfoType"] == "unauthorized"
    assert bot.events[-1]["AuthorizerAppid"] == SHOP and platform.authorizations[SHOP].revoked
    assert (await world.component("api_authorizer_token", refresh, token))["errcode"] == 61023
    assert (await world.send(renewed["authorizer_access_token"]))["errcode"] == 40001
    assert (await world.component("api_get_authorizer_info", {"authorizer_appid": SHOP}, token))["errcode"] == 61003


async def test_the_component_token_needs_the_latest_ticket_and_the_right_secret(world: World) -> None:
    platform = world.platform

    async def fetch(ticket: str | None, secret: str | None = None, appid: str | None = None) -> Any:
        body = {"component_appsecret": secret or platform.secret, "component_verify_ticket": ticket,
                **({"component_appid": appid} if appid else {})}
        return await world.component("api_component_token", body)

    assert (await fetch(None))["errcode"] == 61006
    first = platform.new_ticket()
    second = platform.new_ticket()
    assert "component_access_token" in await fetch(first)  # the one before the latest, for a while
    assert (await fetch(second))["expires_in"] == 7200
    assert (await fetch(second, "0" * 32))["errcode"] == 40125
    assert (await fetch(second, appid="wx0000000000000000"))["errcode"] == 40013
    assert (await fetch("ticket@@@made-up"))["errcode"] == 61006
    world.fake.advance(1201)
    assert (await fetch(first))["errcode"] == 61006
    token = (await fetch(second))["component_access_token"]
    assert "pre_auth_code" in await world.component("api_create_preauthcode", {}, token)
    world.fake.advance(12 * 3600)
    assert (await fetch(second))["errcode"] == 61005
    assert (await world.component("api_create_preauthcode", {}, token))["errcode"] == 42001
    assert (await world.component("api_create_preauthcode", {}, None))["errcode"] == 41001
    fresh = (await fetch(platform.new_ticket()))["component_access_token"]
    newer = await world.http.post(f"{world.fake.url}{COMPONENT}api_create_preauthcode",
                                  params={"access_token": fresh}, json={"component_appid": platform.appid})
    assert "pre_auth_code" in newer.json()  # the newer docs' spelling of the parameter
    async with world.fake.client() as client:
        plain = await client.access_token()
    assert (await world.component("api_create_preauthcode", {}, plain))["errcode"] == 40001
    world.fake.revoke_tokens()
    assert (await world.component("api_create_preauthcode", {}, fresh))["errcode"] == 40001


async def test_codes_work_once_within_ten_minutes_and_die_with_their_authorization(world: World) -> None:
    platform = world.platform
    token = await world.token()
    grant = await platform.authorize(SHOP)
    assert grant.push is not None and grant.push.ok and grant.info_type == "authorized"
    late = platform.authorization_code(SHOP)
    world.fake.advance(601)
    assert (await world.component("api_query_auth", {"authorization_code": late}, token))["errcode"] == 61010
    replaced = platform.authorization_code(SHOP)
    again = await platform.authorize(SHOP, push=False)
    assert again.push is None
    assert (await world.component("api_query_auth", {"authorization_code": replaced}, token))["errcode"] == 61009
    info = (await world.component("api_query_auth", {"authorization_code": again.code}, token))["authorization_info"]
    assert info["authorizer_refresh_token"] == platform.authorizations[SHOP].refresh_token
    updated = await platform.update_authorization(SHOP, func_info=(1,))
    assert updated.info_type == "updateauthorized" and world.bot.events[-1]["InfoType"] == "updateauthorized"
    assert platform.authorizations[SHOP].refresh_token == info["authorizer_refresh_token"]
    assert platform.authorizations[SHOP].func_info == (1,)
    with pytest.raises(ValueError, match="no live authorization"):
        platform.authorization_code("wx0000000000000000")
    await platform.unauthorize(SHOP)
    with pytest.raises(ValueError, match="no live authorization"):
        await platform.update_authorization(SHOP)


async def test_a_reauthorization_ends_the_old_refresh_token(world: World) -> None:
    first = await world.authorized()
    second = await world.authorized()
    token = await world.token()
    assert first["authorizer_refresh_token"] != second["authorizer_refresh_token"]
    old = {"authorizer_appid": SHOP, "authorizer_refresh_token": first["authorizer_refresh_token"]}
    assert (await world.component("api_authorizer_token", old, token))["errcode"] == 61023
    assert (await world.send(first["authorizer_access_token"]))["errcode"] == 40001
    stranger = {"authorizer_appid": "wx0000000000000000", "authorizer_refresh_token": "x"}
    assert (await world.component("api_authorizer_token", stranger, token))["errcode"] == 61003


async def test_the_authorizer_list_shows_refresh_tokens_only_once_exchanged(world: World) -> None:
    exchanged = await world.authorized()
    await world.platform.authorize("wx00000000000b0b0b")
    await world.platform.authorize("wx00000000000c0c0c")
    await world.platform.unauthorize("wx00000000000c0c0c")
    token = await world.token()
    page = await world.component("api_get_authorizer_list", {"offset": 0, "count": 500}, token)
    assert page["total_count"] == 2
    assert [(a["authorizer_appid"], a["refresh_token"]) for a in page["list"]] == [
        (SHOP, exchanged["authorizer_refresh_token"]), ("wx00000000000b0b0b", "")]
    second = await world.component("api_get_authorizer_list", {"offset": 1, "count": 1}, token)
    assert [a["authorizer_appid"] for a in second["list"]] == ["wx00000000000b0b0b"]
    assert (await world.component("api_get_authorizer_list", {"offset": 0, "count": 501}, token))["errcode"] == 40097


async def test_authorizer_options_need_their_permission_sets(world: World) -> None:
    info = await world.authorized(func_info=(1, 2))
    token = await world.token()

    async def option(name: str, value: str | None = None) -> Any:
        body = {"authorizer_appid": SHOP, "option_name": name, **({"option_value": value} if value else {})}
        return await world.component("api_set_authorizer_option" if value else "api_get_authorizer_option", body,
                                     token)

    assert (await option("location_report"))["option_value"] == "0"
    assert (await option("location_report", "2"))["errcode"] == 0
    assert (await option("location_report"))["option_value"] == "2"
    assert (await option("location_report", "3"))["errcode"] == 40097
    assert (await option("customer_service", "1"))["errcode"] == 61007
    newer = f"{world.fake.url}{COMPONENT}get_authorizer_option"
    got = await world.http.post(newer, params={"access_token": info["authorizer_access_token"]},
                                json={"option_name": "location_report"})
    assert got.json()["option_value"] == "2"
    async with world.fake.client() as client:
        own = await client.access_token()
    refused = await world.http.post(newer, params={"access_token": own}, json={"option_name": "location_report"})
    assert refused.json()["errcode"] == 86000


async def test_quota_reset_by_secret_for_the_component_and_its_authorizers(world: World) -> None:
    platform = world.platform
    await platform.authorize(SHOP)

    async def clear(secret: str, appid: str | None = None) -> int:
        body = {"appsecret": secret, **({"appid": appid} if appid else {})}
        return int((await world.component("clear_quota/v2", body)).get("errcode", 0))

    assert await clear(platform.secret) == 0
    assert await clear(platform.secret, SHOP) == 0
    assert await clear("0" * 32) == 40125
    assert await clear(platform.secret, "wx0000000000000000") == 61003
    assert world.fake.account(SHOP).state.clear_quota_count == 1
    assert [c.appid for c in world.fake.calls(f"{COMPONENT}clear_quota/v2")][:2] == [platform.appid, SHOP]


async def test_start_push_ticket_pushes_a_fresh_ticket_in_the_background(world: World) -> None:
    platform = world.platform
    body = {"component_secret": platform.secret}
    assert (await world.component("api_start_push_ticket", {**body, "component_secret": "x"}))["errcode"] == 40125
    platform.events_url, url = None, platform.events_url
    assert (await world.component("api_start_push_ticket", body))["errcode"] == 0
    assert platform.ticket is None and not platform.pushes
    platform.events_url = url
    assert (await world.component("api_start_push_ticket", body))["errcode"] == 0
    for _ in range(200):
        if world.bot.events:
            break
        await asyncio.sleep(0.01)
    assert world.bot.events[-1]["ComponentVerifyTicket"] == platform.ticket
    assert [p.ok for p in platform.pushes] == [True]


async def test_the_push_can_trail_the_redirect_and_the_mobile_page_works_too(world: World) -> None:
    fake, platform = world.fake, world.platform
    token = await world.token()
    platform.push_delay = 1.0
    platform.sign_in_merchant(SHOP)

    async def mobile(redirect: str = f"{world.url}/authorized", biz: str = SHOP) -> httpx.Response:
        pre = (await world.component("api_create_preauthcode", {}, token))["pre_auth_code"]
        link = (f"{fake.url}/safe/bindcomponent?action=bindcomponent&no_scan=1&component_appid={platform.appid}"
                f"&pre_auth_code={pre}&redirect_uri={redirect}&biz_appid={biz}#wechat_redirect")
        return await world.http.get(link, headers={"Referer": f"{world.url}/start"})

    answer = await mobile()
    assert answer.status_code == 302
    code = parse_qs(urlsplit(answer.headers["location"]).query)["auth_code"][0]
    assert world.bot.events[-1]["InfoType"] == "component_verify_ticket"  # the push trails the redirect
    for _ in range(400):
        if world.bot.events[-1]["InfoType"] != "component_verify_ticket":
            break
        await asyncio.sleep(0.01)
    assert world.bot.events[-1]["AuthorizationCode"] == code
    refused = await mobile(biz="wx0000000000000000")
    assert refused.status_code == 403 and "may not authorize" in refused.text
    elsewhere = await mobile(redirect="http://elsewhere.test/authorized")
    assert elsewhere.status_code == 403 and "domain" in elsewhere.text
    pre = (await world.component("api_create_preauthcode", {}, token))["pre_auth_code"]
    fake.advance(601)
    expired = await world.http.get(
        f"{fake.url}/cgi-bin/componentloginpage?component_appid={platform.appid}&pre_auth_code={pre}"
        f"&redirect_uri={world.url}/authorized", headers={"Referer": f"{world.url}/start"})
    assert expired.status_code == 403 and "expired" in expired.text


async def test_web_login_and_js_sdk_on_behalf_of_an_authorizer(world: World) -> None:
    fake, platform = world.fake, world.platform
    info = await world.authorized()
    component_token = await world.token()
    fake.account(SHOP).add_follower("o_fan", nickname="Fan")
    fake.sign_in("o_fan")
    authorize = (f"{fake.url}/connect/oauth2/authorize?appid={SHOP}&redirect_uri=https://example.com/cb"
                 f"&response_type=code&scope=snsapi_userinfo&state=s1&component_appid={platform.appid}")
    back = parse_qs(urlsplit((await world.http.get(authorize)).headers["location"]).query)
    assert (back["state"], back["appid"]) == (["s1"], [SHOP])

    async def exchange(path: str, token: str, **params: str) -> Any:
        query = {"appid": SHOP, "component_appid": platform.appid, "component_access_token": token, **params}
        return (await world.http.get(f"{fake.url}/sns/oauth2/component/{path}", params=query)).json()

    code = back["code"][0]
    wrong = await exchange("access_token", info["authorizer_access_token"], code=code, grant_type="authorization_code")
    assert wrong["errcode"] == 48001
    user = await exchange("access_token", component_token, code=code, grant_type="authorization_code")
    assert user["openid"] == "o_fan"
    assert (await exchange("access_token", component_token, code=code, grant_type="authorization_code"))[
        "errcode"] == 40163
    profile = await world.http.get(f"{fake.url}/sns/userinfo",
                                   params={"access_token": user["access_token"], "openid": "o_fan"})
    assert profile.json()["nickname"] == "Fan" and fake.calls("/sns/userinfo")[-1].appid == SHOP
    renewed = await exchange("refresh_token", component_token, refresh_token=user["refresh_token"],
                             grant_type="refresh_token")
    assert renewed["openid"] == "o_fan"
    outsider = await world.http.get(authorize.replace(SHOP, fake.appid))
    assert outsider.json()["errcode"] == 61003

    async def ticket(token: str) -> str:
        answer = await world.http.get(f"{fake.url}/cgi-bin/ticket/getticket",
                                      params={"access_token": token, "type": "jsapi"})
        return str(answer.json()["ticket"])

    async with fake.client() as client:
        assert await ticket(info["authorizer_access_token"]) != await ticket(await client.access_token())
    assert [c.appid for c in fake.calls("/cgi-bin/ticket/getticket")] == [SHOP, fake.appid]


async def test_messages_for_an_authorizer_are_sealed_with_the_component_credentials(world: World) -> None:
    platform = world.platform
    await platform.authorize(SHOP, original_id=SHOP_GH)
    async with platform.bot_client(f"{world.url}/wechat/$APPID$", SHOP) as wechat:
        reply = await wechat.send_text("hello", "o_fan")
    assert reply.encrypted and reply.content == "hello_callback" and reply.fields["FromUserName"] == SHOP_GH
    assert world.bot.messages[-1][0] == SHOP and world.bot.messages[-1][1]["ToUserName"] == SHOP_GH
    with pytest.raises(ValueError, match="no live authorization"):
        platform.bot_client(f"{world.url}/wechat/$APPID$", "wx0000000000000000")


@pytest.mark.parametrize("group", [1, 2, 3, 4, 5])
async def test_the_release_check_passes_against_a_right_bot(world: World, group: int) -> None:
    report = await world.platform.release_test(f"{world.url}/wechat/$APPID$", group=group, within=5)
    assert report.passed, report
    assert all(case.ok for case in report.cases), report
    assert [case.name for case in report.cases] == [
        "ticket", "authorized", "text reply", "api reply", "event reply", "unauthorized"]
    appid = report.appid
    assert world.bot.messages[0][0] == appid and world.platform.authorizations[appid].revoked
    assert world.fake.calls(SEND)[-1].appid == appid


@pytest.mark.parametrize(("release", "reason"), [
    ("passive", "must answer an empty string"),
    ("refreshed", "with the authorizer token from that exchange"),
])
async def test_the_release_check_fails_a_wrong_bot_and_says_why(world: World, release: str, reason: str) -> None:
    world.bot.release = release
    report = await world.platform.release_test(f"{world.url}/wechat/$APPID$", group=3, within=1)
    assert not report.passed and report.appid == "wx8e1097c5bc82cde9"
    failed = [case for case in report.cases if not case.ok]
    assert [case.name for case in failed] == ["api reply"] and reason in failed[0].detail, report
    assert "FAILED" in str(report) and reason in str(report)


async def test_the_release_check_wants_the_literal_success_and_a_reachable_bot(world: World) -> None:
    world.bot.event_answer = b"ok"
    report = await world.platform.release_test(f"{world.url}/wechat/$APPID$")
    assert not report.passed and not report.case("ticket").ok and "not the literal success" in str(report)
    assert report.group in range(1, 6)
    report = await world.platform.release_test("http://127.0.0.1:9/wechat/$APPID$", events_url="http://127.0.0.1:9/")
    assert [case.ok for case in report.cases] == [False] * 6 and "no answer" in report.case("ticket").detail


async def test_one_platform_per_appid_with_checked_credentials() -> None:
    async with FakeWeChat() as fake:
        platform = fake.platform()
        assert fake.platform().appid == platform.appid
        assert fake.platform(platform.appid, token=platform.token).aes_key == platform.aes_key
        with pytest.raises(ValueError, match="other credentials"):
            fake.platform(platform.appid, token="another")
        with pytest.raises(ValueError, match="EncodingAESKey"):
            fake.platform("wx0000000000000001", aes_key="short")
        with pytest.raises(ValueError, match="official account"):
            fake.platform(fake.appid)
        with pytest.raises(ValueError, match="events_url"):
            await platform.push_ticket()
        second = fake.platform("wx0000000000000002", "s" * 32, "t2", "b" * 43)
        assert (second.secret, second.token) == ("s" * 32, "t2") and second.ticket is None


def test_a_threaded_fake_pushes_from_its_own_loop() -> None:
    """Served from a thread (for other processes to call), the fake's background pushes run on its loop."""
    with FakeWeChat() as fake:
        platform = fake.platform()
        bot = ComponentBot(fake.url, platform)
        with serve(bot.app) as url:
            platform.events_url = f"{url}events"
            assert asyncio.run(platform.authorize(SHOP)).push is not None
            body = {"component_appid": platform.appid, "component_secret": platform.secret}
            assert httpx.post(f"{fake.url}{COMPONENT}api_start_push_ticket", json=body).json()["errcode"] == 0
            for _ in range(400):
                if len(platform.pushes) == 2:
                    break
                threading.Event().wait(0.01)
    assert [e["InfoType"] for e in bot.events] == ["authorized", "component_verify_ticket"]
    assert [p.ok for p in platform.pushes] == [True, True] and not bot.errors
