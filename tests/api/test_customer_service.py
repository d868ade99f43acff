from __future__ import annotations

from collections.abc import Awaitable
from datetime import datetime
from pathlib import Path

import pytest

from wxhook.api import Client, WeChatAPIError, WeChatNetworkError
from wxhook.api._dates import CHINA
from wxhook.testing import FakeWeChat

from .conftest import raw_call, sent

KF = "alice@gh_fake"
BOB = "bob@gh_fake"
DAY = int(datetime(2024, 5, 1, tzinfo=CHINA).timestamp())  # midnight, China time
JPEG = b"\xff\xd8\xff\xe0fake-jpeg"


async def errcode(call: Awaitable[object]) -> int:
    with pytest.raises(WeChatAPIError) as caught:
        await call
    return caught.value.errcode


async def test_accounts_add_update_invite_delete(fake: FakeWeChat, client: Client) -> None:
    await client.customer_service.add(KF, "客服小爱")
    assert sent(fake, "/customservice/kfaccount/add") == {"kf_account": KF, "nickname": "客服小爱"}
    await client.customer_service.add(BOB, "Bob")
    await client.customer_service.update(KF, "小爱")
    assert sent(fake, "/customservice/kfaccount/update") == {"kf_account": KF, "nickname": "小爱"}
    await client.customer_service.invite(KF, "alice_wx")
    assert sent(fake, "/customservice/kfaccount/inviteworker") == {"kf_account": KF, "invite_wx": "alice_wx"}
    assert fake.calls("/cgi-bin/customservice/getkflist") == []
    alice, bob = await client.customer_service.accounts()
    assert (alice.kf_account, alice.kf_nick, alice.kf_id, alice.kf_wx) == (KF, "小爱", "1001", "")
    assert (alice.invite_wx, alice.invite_status, alice.invite_expire_time > DAY) == ("alice_wx", "waiting", True)
    assert alice.raw["kf_nick"] == "小爱" and alice.kf_headimgurl == ""
    assert (bob.kf_account, bob.kf_id, bob.invite_wx, bob.invite_status) == (BOB, "1002", "", "")
    fake.kf_online(KF)
    (alice, _) = await client.customer_service.accounts()
    assert (alice.kf_wx, alice.invite_wx, alice.invite_status, alice.invite_expire_time) == ("alice_wx", "", "", 0)
    await client.customer_service.delete(BOB)
    (call,) = fake.calls("/customservice/kfaccount/del")
    assert call.method == "GET" and call.query["kf_account"] == BOB
    assert [a.kf_account for a in await client.customer_service.accounts()] == [KF]


async def test_account_errors(fake: FakeWeChat, client: Client) -> None:
    await client.customer_service.add(KF, "a")
    assert await errcode(client.customer_service.add(KF, "again")) == 65406
    assert fake.count("/customservice/kfaccount/add") == 2
    assert await errcode(client.customer_service.update(BOB, "nobody")) == 65401
    assert await errcode(client.customer_service.delete(BOB)) == 65401
    await client.customer_service.invite(KF, "alice_wx")
    assert await errcode(client.customer_service.invite(KF, "other_wx")) == 65411
    fake.kf_online(KF)
    assert await errcode(client.customer_service.invite(KF, "other_wx")) == 65412
    await client.customer_service.add(BOB, "b")
    assert await errcode(client.customer_service.invite(BOB, "alice_wx")) == 65407


@pytest.mark.parametrize(
    ("kf_account", "nickname", "message"),
    [
        ("alice", "a", "prefix@account"),
        ("alice_is_too_long@gh", "a", "prefix@account"),
        ("al-ice@gh", "a", "prefix@account"),
        (KF, "", "nickname must be 1..16"),
        (KF, "一" * 17, "nickname must be 1..16"),
    ],
)
async def test_account_checked_before_sending(
    fake: FakeWeChat, client: Client, kf_account: str, nickname: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.customer_service.add(kf_account, nickname)
    assert fake.count("/customservice/kfaccount/add") == 0


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("/customservice/kfaccount/add", {"kf_account": "nobody", "nickname": "n"}, 65404),
        ("/customservice/kfaccount/add", {"kf_account": KF, "nickname": ""}, 65403),
        (
            "/customservice/msgrecord/getmsglist",
            {"starttime": DAY, "endtime": DAY + 90_000, "msgid": 1, "number": 1},
            65417,
        ),
        (
            "/customservice/msgrecord/getmsglist",
            {"starttime": DAY, "endtime": DAY + 10, "msgid": 1, "number": 0},
            65416,
        ),
        ("/customservice/msgrecord/getmsglist", {"starttime": "today", "endtime": DAY, "msgid": 1, "number": 1}, 65416),
    ],
)
async def test_fake_enforces_limits(
    fake: FakeWeChat, client: Client, path: str, body: dict[str, object], code: int
) -> None:
    assert (await raw_call(fake, client, "POST", path, body))["errcode"] == code


async def test_account_limit(fake: FakeWeChat, client: Client) -> None:
    for n in range(100):
        await client.customer_service.add(f"kf{n}@gh_fake", f"agent {n}")
    assert await errcode(client.customer_service.add("kf100@gh_fake", "one too many")) == 65405


async def test_avatar_upload(fake: FakeWeChat, client: Client, tmp_path: Path) -> None:
    await client.customer_service.add(KF, "a")
    await client.customer_service.upload_avatar(KF, JPEG)
    (call,) = fake.calls("/customservice/kfaccount/uploadheadimg")
    assert call.query["kf_account"] == KF
    assert b'name="media"; filename="avatar.jpg"' in call.body and b"image/jpeg" in call.body and JPEG in call.body
    (account,) = await client.customer_service.accounts()
    assert account.kf_headimgurl.startswith("http://mmbiz.qpic.cn/")
    png = tmp_path / "face.png"
    png.write_bytes(b"\x89PNG")
    assert await errcode(client.customer_service.upload_avatar(KF, png)) == 40005
    assert b'filename="face.png"' in fake.calls("/customservice/kfaccount/uploadheadimg")[-1].body


async def test_sessions(fake: FakeWeChat, client: Client) -> None:
    fake.add_followers(["o1", "o2", "o3"])
    await client.customer_service.add(KF, "a")
    assert await errcode(client.customer_service.open(KF, "o1")) == 65402  # no WeChat id bound yet
    fake.kf_online(KF, status=0)
    assert await errcode(client.customer_service.open(KF, "o1")) == 65415  # offline
    assert await client.customer_service.online_accounts() == []
    fake.kf_online(KF)
    fake.add_waiting("o1", 1_700_000_100)
    fake.add_waiting("o2", 1_700_000_050)
    waiting = await client.customer_service.waiting()
    assert (waiting.count, [(c.openid, c.latest_time) for c in waiting.cases]) == (
        2,
        [("o2", 1_700_000_050), ("o1", 1_700_000_100)],
    )
    await client.customer_service.open(KF, "o1")
    assert sent(fake, "/customservice/kfsession/create") == {"kf_account": KF, "openid": "o1"}
    assert await errcode(client.customer_service.open(KF, "o1")) == 65414
    assert [c.openid for c in (await client.customer_service.waiting()).cases] == ["o2"]
    session = await client.customer_service.session_of("o1")
    assert fake.calls("/customservice/kfsession/getsession")[0].query["openid"] == "o1"
    assert (session.openid, session.kf_account, session.createtime > DAY) == ("o1", KF, True)
    (listed,) = await client.customer_service.sessions(KF)
    assert fake.calls("/customservice/kfsession/getsessionlist")[0].query["kf_account"] == KF
    assert (listed.openid, listed.kf_account, listed.createtime) == ("o1", KF, session.createtime)
    (online,) = await client.customer_service.online_accounts()
    assert (online.kf_account, online.status, online.kf_id, online.accepted_case) == (KF, 1, "1001", 1)
    await client.customer_service.close(KF, "o1")
    assert sent(fake, "/customservice/kfsession/close") == {"kf_account": KF, "openid": "o1"}
    nobody = await client.customer_service.session_of("o1")
    assert (nobody.kf_account, nobody.createtime) == ("", 0)
    assert await client.customer_service.sessions(KF) == []
    assert await errcode(client.customer_service.close(KF, "o1")) == 65416


async def test_open_is_not_retried_blindly_but_close_is(fake: FakeWeChat, client: Client) -> None:
    fake.add_follower("o1")
    await client.customer_service.add(KF, "a")
    fake.kf_online(KF)
    fake.fail("/customservice/kfsession/create", status=502)
    with pytest.raises(WeChatNetworkError):
        await client.customer_service.open(KF, "o1")
    assert fake.count("/customservice/kfsession/create") == 1
    await client.customer_service.open(KF, "o1")
    fake.fail("/customservice/kfsession/close", status=502)
    await client.customer_service.close(KF, "o1")
    assert fake.count("/customservice/kfsession/close") == 2


async def test_records_page_and_iterate(fake: FakeWeChat, client: Client) -> None:
    for n in range(5):
        fake.add_kf_record("o1", KF, f"line {n}", DAY + 60 * n, opercode=2002 + n % 2)
    fake.add_kf_record("o1", KF, "next day", DAY + 86_460)
    page = await client.customer_service.records(DAY, DAY + 3600, number=2)
    assert sent(fake, "/customservice/msgrecord/getmsglist") == {
        "starttime": DAY,
        "endtime": DAY + 3600,
        "msgid": 1,
        "number": 2,
    }
    assert (page.number, page.msgid) == (2, 3)
    first = page.records[0]
    assert (first.openid, first.opercode, first.text, first.time, first.worker) == ("o1", 2002, "line 0", DAY, KF)
    assert page.records[1].opercode == 2003
    start = datetime(2024, 5, 1, 0, 0)  # naive: China time
    lines = [r.text async for r in client.customer_service.iter_records(start, start.replace(hour=23), number=2)]
    assert lines == [f"line {n}" for n in range(5)]
    assert [c.json["msgid"] for c in fake.calls("/customservice/msgrecord/getmsglist")[1:]] == [1, 3, 5]
    whole_day = await client.customer_service.records(DAY, DAY + 86_400)  # to the next midnight, as WeChat's example
    assert [r.text for r in whole_day.records] == lines and (whole_day.number, whole_day.msgid) == (5, 6)


@pytest.mark.parametrize(
    ("start", "end", "options", "message"),
    [
        (DAY, DAY + 86_401, {}, "same day in China time"),
        (DAY - 1, DAY + 10, {}, "same day in China time"),
        (DAY + 10, DAY, {}, "must come after start"),
        (DAY, DAY + 10, {"number": 10_001}, r"number must be 1\.\.10000"),
        (DAY, DAY + 10, {"msgid": 0}, "msgid counts from 1"),
    ],
)
async def test_records_checked_before_sending(
    fake: FakeWeChat, client: Client, start: int, end: int, options: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.customer_service.records(start, end, **options)
    assert fake.count("/customservice/msgrecord/getmsglist") == 0
