"""FakeWeChat's hooks for following it live and seeding it: subscribe, add_media/media, menu."""

from __future__ import annotations

import httpx

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
