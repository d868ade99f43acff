"""FakeWeChat serving several official accounts: each with its own tokens and data, every call attributed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from wxhook.api import WeChatAPIError
from wxhook.testing import FakeWeChat

FAST = {"backoff": 0.001, "backoff_max": 0.004, "retry_deadline": 5.0, "timeout": 5.0}
SEND = "/cgi-bin/message/custom/send"
STABLE = "/cgi-bin/stable_token"
OTHER = "wx00000000000b0b0b"


async def test_each_account_has_its_own_tokens_and_its_calls_are_attributed() -> None:
    async with FakeWeChat() as fake:
        other = fake.add_account(OTHER, original_id="gh_0000000b0b0b", name="Bob's")
        assert (other.original_id, other.name, len(other.secret)) == ("gh_0000000b0b0b", "Bob's", 32)
        assert fake.original_id.startswith("gh_") and fake.account(fake.appid).appid == fake.appid
        async with fake.client(**FAST) as first, other.client(**FAST) as second:
            assert await first.access_token() != await second.access_token()
            await first.message.send_text("o_a", "from the first")
            await second.message.send_text("o_b", "from the second")
            await second.message.send_text("o_b", "again")
        assert [c.appid for c in fake.calls(STABLE)] == [fake.appid, OTHER]
        assert [c.json["text"]["content"] for c in fake.calls(SEND, appid=OTHER)] == ["from the second", "again"]
        assert fake.count(SEND, appid=fake.appid) == 1 and fake.count(SEND) == 3
        assert {c.appid for c in fake.calls(appid=OTHER)} == {OTHER} and len(fake.calls(appid=OTHER)) == 3


async def test_token_endpoints_pick_the_account_by_appid_and_check_its_secret() -> None:
    async with FakeWeChat() as fake, httpx.AsyncClient() as http:
        other = fake.add_account(OTHER, "b0b" * 10 + "00")

        async def basic(appid: str, secret: str) -> dict[str, object]:
            params = {"grant_type": "client_credential", "appid": appid, "secret": secret}
            return (await http.get(f"{fake.url}/cgi-bin/token", params=params)).json()  # type: ignore[no-any-return]

        assert "access_token" in await basic(OTHER, other.secret)
        assert (await basic(OTHER, fake.secret))["errcode"] == 40125
        assert (await basic(fake.appid, other.secret))["errcode"] == 40125
        assert (await basic("wx0000000000000000", other.secret))["errcode"] == 40013
        assert [c.appid for c in fake.calls("/cgi-bin/token")] == [OTHER, OTHER, fake.appid, "wx0000000000000000"]


async def test_each_account_keeps_its_own_data() -> None:
    async with FakeWeChat() as fake:
        other = fake.add_account(OTHER)
        other.add_follower("o_bob", remark="B's")
        async with fake.client(**FAST) as first, other.client(**FAST) as second:
            assert (await second.user.info("o_bob")).remark == "B's"
            with pytest.raises(WeChatAPIError) as refused:
                await first.user.info("o_bob")
            assert refused.value.errcode == 40003
            await second.menu.create([{"type": "click", "name": "B", "key": "B"}])
            await first.ticket.get("jsapi")
            await second.ticket.get("jsapi")
        assert fake.menu is None and other.menu is not None and other.menu["button"][0]["key"] == "B"
        assert fake.account(OTHER).menu == other.menu
        tickets = [c.appid for c in fake.calls("/cgi-bin/ticket/getticket")]
        assert tickets == [fake.appid, OTHER] and fake.state.tickets != other.state.tickets


async def test_revocation_expiry_and_scripted_failures_reach_every_account_or_the_one_named() -> None:
    async with FakeWeChat() as fake:
        other = fake.add_account(OTHER)
        async with fake.client(**FAST) as first, other.client(**FAST) as second:
            fake.fail(SEND, 45015, times=None, appid=OTHER)
            await first.message.send_text("o_a", "fine")
            with pytest.raises(WeChatAPIError) as failed:
                await second.message.send_text("o_b", "refused")
            assert failed.value.errcode == 45015
            fake.clear_failures()
            tokens = [await first.access_token(), await second.access_token()]
            fake.revoke_tokens()
            await first.message.send_text("o_a", "heals")  # the client refetches after 40001
            await second.message.send_text("o_b", "heals")
            assert fake.count(STABLE, appid=OTHER) == 2 and fake.count(STABLE, appid=fake.appid) == 2
            assert tokens[1] not in {c.query.get("access_token") for c in fake.calls(SEND, appid=OTHER)[-1:]}
            fake.advance(7201)
            await second.message.send_text("o_b", "after expiry")
            assert fake.count(STABLE, appid=OTHER) == 3


async def test_web_login_for_another_account_lands_on_its_followers() -> None:
    async with FakeWeChat() as fake:
        other = fake.add_account(OTHER)
        other.add_follower("o_bob", nickname="Bob")
        fake.sign_in("o_bob")
        async with other.client(**FAST) as second, httpx.AsyncClient() as http:
            url = second.oauth.authorize_url("https://example.com/cb", "snsapi_userinfo", "s1")
            code = parse_qs(urlsplit((await http.get(url)).headers["location"]).query)["code"][0]
            user = await second.oauth.exchange(code)
            assert (await second.oauth.user_info(user.access_token, user.openid)).nickname == "Bob"
        assert {c.appid for c in fake.calls() if c.path.startswith(("/sns/", "/connect/"))} == {OTHER}


async def test_account_names_are_unique_and_known() -> None:
    async with FakeWeChat() as fake:
        fake.add_account(OTHER)
        with pytest.raises(ValueError, match="already has an account"):
            fake.add_account(OTHER)
        with pytest.raises(ValueError, match="already has an account"):
            fake.add_account(fake.appid)
        with pytest.raises(KeyError, match="add_account"):
            fake.account("wx0000000000000000")
