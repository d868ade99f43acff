from __future__ import annotations

import pytest

from wxhook.api import Client, OpenidChange, WeChatAPIError
from wxhook.testing import FakeWeChat

from .conftest import FAST, sent


async def test_info(fake: FakeWeChat, client: Client) -> None:
    fake.add_follower(
        "o1",
        unionid="u1",
        remark="vip",
        qr_scene=98765,
        qr_scene_str="promo",
        language="en",
        subscribe_time=1_712_345_678,
        groupid=2,
        subscribe_scene="ADD_SCENE_SEARCH",
    )
    tag = await client.tags.create("t")
    await client.tags.tag_users(tag.id, ["o1"])
    info = await client.user.info("o1", lang="en")
    assert fake.calls("/cgi-bin/user/info")[0].query["openid"] == "o1"
    assert fake.calls("/cgi-bin/user/info")[0].query["lang"] == "en"
    assert (info.openid, info.subscribe, info.unionid, info.remark) == ("o1", True, "u1", "vip")
    assert (info.language, info.subscribe_time, info.groupid, info.tagid_list) == ("en", 1_712_345_678, 2, [tag.id])
    assert (info.qr_scene, info.qr_scene_str, info.subscribe_scene) == (98765, "promo", "ADD_SCENE_SEARCH")
    assert info.raw["subscribe"] == 1
    with pytest.raises(WeChatAPIError) as caught:
        await client.user.info("stranger")
    assert caught.value.errcode == 40003


async def test_batch_get_chunks_by_100(fake: FakeWeChat, client: Client) -> None:
    openids = [f"o{i:03}" for i in range(250)]
    fake.add_followers(openids[:200])
    infos = await client.user.batch_get(openids)
    assert [i.openid for i in infos] == openids
    assert [i.subscribe for i in infos] == [True] * 200 + [False] * 50
    bodies = [c.json for c in fake.calls("/cgi-bin/user/info/batchget")]
    assert [len(b["user_list"]) for b in bodies] == [100, 100, 50]
    assert bodies[0]["user_list"][0] == {"openid": "o000", "lang": "zh_CN"}


async def test_followers_pages_and_iteration() -> None:
    async with FakeWeChat(page_size=2) as fake, fake.client(**FAST) as client:
        fake.add_followers(["a", "b", "c", "d", "e"])
        page = await client.user.list()
        assert (page.total, page.count, page.openids, page.next_openid) == (5, 2, ["a", "b"], "b")
        assert [o async for o in client.user.iter_followers()] == ["a", "b", "c", "d", "e"]
        cursors = [c.query.get("next_openid") for c in fake.calls("/cgi-bin/user/get")[1:]]
        assert cursors == [None, "b", "d", "e"]
        last = await client.user.list("e")
        assert (last.count, last.openids, last.next_openid) == (0, [], "")


async def test_update_remark(fake: FakeWeChat, client: Client) -> None:
    fake.add_follower("o1")
    await client.user.update_remark("o1", "老客户")
    assert sent(fake, "/cgi-bin/user/info/updateremark") == {"openid": "o1", "remark": "老客户"}
    assert (await client.user.info("o1")).remark == "老客户"


async def test_block_unblock_chunks_by_20_and_blacklist_pages(fake: FakeWeChat, client: Client) -> None:
    openids = [f"o{i:02}" for i in range(45)]
    await client.user.block(openids)
    sizes = [len(c.json["openid_list"]) for c in fake.calls("/cgi-bin/tags/members/batchblacklist")]
    assert sizes == [20, 20, 5]
    page = await client.user.blacklist()
    assert sent(fake, "/cgi-bin/tags/members/getblacklist") == {"begin_openid": ""}
    assert (page.total, page.openids[:2]) == (45, ["o00", "o01"])
    assert [o async for o in client.user.iter_blacklist()] == openids
    await client.user.unblock(openids[:30])
    sizes = [len(c.json["openid_list"]) for c in fake.calls("/cgi-bin/tags/members/batchunblacklist")]
    assert sizes == [20, 10]
    assert [o async for o in client.user.iter_blacklist()] == openids[30:]


async def test_paid_unionid(fake: FakeWeChat, client: Client) -> None:
    fake.add_follower("o1", unionid="u-paid")
    assert await client.user.paid_unionid("o1", transaction_id="t1") == "u-paid"
    assert await client.user.paid_unionid("o1", mch_id="m", out_trade_no="n") == "u-paid"
    queries = [c.query for c in fake.calls("/wxa/getpaidunionid")]
    assert {k: v for k, v in queries[0].items() if k != "access_token"} == {
        "openid": "o1",
        "transaction_id": "t1",
    }
    assert queries[1]["mch_id"] == "m" and queries[1]["out_trade_no"] == "n"
    with pytest.raises(ValueError, match="transaction_id"):
        await client.user.paid_unionid("o1", mch_id="m")


async def test_change_openid_migrates_followers_100_per_request_in_order(fake: FakeWeChat, client: Client) -> None:
    old = fake.add_account("wx0000000000a1d0a1")
    openids = [f"o_old_{i:03}" for i in range(250)]
    old.add_followers(openids[:249])
    changes = await client.user.change_openid(old.appid, openids)
    bodies = [c.json for c in fake.calls("/cgi-bin/changeopenid")]
    assert [len(b["openid_list"]) for b in bodies] == [100, 100, 50]
    assert {b["from_appid"] for b in bodies} == {old.appid}
    assert [c.ori_openid for c in changes] == openids
    assert all(isinstance(c, OpenidChange) for c in changes)
    moved = changes[0]
    assert moved.new_openid.startswith("o") and moved.new_openid != moved.ori_openid and moved.err_msg == "ok"
    assert len({c.new_openid for c in changes[:249]}) == 249, "each follower gets an openid of their own"
    assert (changes[-1].new_openid, changes[-1].err_msg) == ("", "ori_openid error")
    again = await client.user.change_openid(old.appid, openids[:1])
    assert again[0].new_openid == moved.new_openid, "one follower, one openid: asking twice gives the same"
    assert await client.user.change_openid(old.appid, []) == []


async def test_change_openid_refuses_a_wrong_source_account(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.user.change_openid("wx00000000000f0f0f", ["o1"])
    assert caught.value.errcode == 40013
    with pytest.raises(ValueError, match="old account's appid"):
        await client.user.change_openid(fake.appid, ["o1"])
    with pytest.raises(ValueError, match="from_appid"):
        await client.user.change_openid("", ["o1"])
    assert len(fake.calls("/cgi-bin/changeopenid")) == 1
