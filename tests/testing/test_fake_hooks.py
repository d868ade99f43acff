"""FakeWeChat's hooks for following it live and seeding it: subscribe, each call's answer, add_media/media, menu."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from wxhook.api import WeChatError
from wxhook.testing import FakeWeChat, RecordedCall


async def test_subscribers_see_each_answered_call_until_they_unsubscribe() -> None:
    seen: list[RecordedCall] = []
    async with FakeWeChat() as fake, fake.client() as client:
        unsubscribe = fake.subscribe(seen.append)
        await client.message.send_text("o_a", "one")
        assert [(c.path, c.json) for c in seen][-1] == (
            "/cgi-bin/message/custom/send", {"touser": "o_a", "msgtype": "text", "text": {"content": "one"}})
        assert [c.path for c in seen] == [c.path for c in fake.calls()]
        unsubscribe()
        unsubscribe()  # twice is harmless
        await client.message.send_text("o_a", "two")
        assert len(seen) == len(fake.calls()) - 1


async def test_each_call_records_the_answer_listeners_see_it_and_a_repr_masks_it() -> None:
    seen: list[RecordedCall] = []
    async with FakeWeChat() as fake, fake.client() as client:
        fake.subscribe(seen.append)
        fake.fail("/cgi-bin/message/custom/send", 45015, openid="o_late")
        await client.message.send_text("o_a", "one")
        with pytest.raises(WeChatError):
            await client.message.send_text("o_late", "two")
        async with httpx.AsyncClient() as http:
            page = await http.get(f"{fake.url}/no/such/path")
    token, sent, failed, missing = fake.calls()
    assert seen == [token, sent, failed, missing], "listeners get the calls as recorded, answered"
    assert (token.status, token.answer["expires_in"]) == (200, 7200)
    assert (sent.status, sent.answer) == (200, {"errcode": 0, "errmsg": "ok"})
    assert failed.status == 200 and failed.answer["errcode"] == 45015
    assert failed.answer["errmsg"].startswith("response out of time limit")
    assert (missing.status, missing.answer, missing.response) == (404, None, page.content)
    assert token.answer["access_token"] not in repr(token) and "'access_token': '***'" in repr(token)
    assert "status=200" in repr(failed) and "45015" in repr(failed)
    assert (sent.errcode, sent.failure, missing.errcode, missing.failure) == (0, None, 0, "HTTP 404")
    assert failed.errcode == 45015 and failed.failure is not None and failed.failure.startswith("45015 response out")


async def test_a_call_still_being_answered_has_no_answer_yet() -> None:
    async with FakeWeChat() as fake, fake.client() as client:
        await client.access_token()
        fake.fail("/cgi-bin/menu/get", delay=0.3)
        pending = asyncio.create_task(client.menu.get())
        while fake.count("/cgi-bin/menu/get") == 0:
            await asyncio.sleep(0.01)
        (call,) = fake.calls("/cgi-bin/menu/get")
        assert (call.status, call.response, call.answer) == (None, b"", None)
        with contextlib.suppress(WeChatError):
            await pending
        (call,) = fake.calls("/cgi-bin/menu/get")
        assert call.status == 200 and call.answer is not None


async def test_listeners_run_after_the_answer_so_state_is_visible() -> None:
    menus: list[object] = []
    async with FakeWeChat() as fake, fake.client() as client:
        fake.subscribe(lambda call: menus.append(fake.menu) if call.path == "/cgi-bin/menu/create" else None)
        assert fake.menu is None
        await client.menu.create([{"type": "click", "name": "A", "key": "A"}])
    assert len(menus) == 1 and menus[0] == fake.menu
    assert fake.menu is not None and fake.menu["button"] == [{"type": "click", "name": "A", "key": "A"}]


async def test_added_media_is_served_by_media_get() -> None:
    async with FakeWeChat() as fake, fake.client() as client:
        media_id = fake.add_media("image", b"\x89PNG...", "image/png")
        assert fake.media(media_id) == ("image/png", b"\x89PNG...")
        assert fake.media("nope") is None
        token = await client.access_token()
        async with httpx.AsyncClient() as http:
            got = await http.get(f"{fake.url}/cgi-bin/media/get", params={"access_token": token, "media_id": media_id})
        assert got.content == b"\x89PNG..." and got.headers["content-type"] == "image/png"
