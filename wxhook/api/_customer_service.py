"""Customer service (客服): the agents' accounts, who is talking to whom, and the chat records."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from ._caller import Group, build
from ._data import WeChatData
from ._dates import china_day, timestamp
from ._media import read_upload

__all__ = ["KfAccount", "KfOnline", "KfRecord", "KfRecordPage", "KfSession", "WaitingCase", "WaitingList"]

MAX_RECORDS = 10_000
MAX_NICKNAME = 16
_KF_ACCOUNT = re.compile(r"[A-Za-z0-9_]{1,10}@[^@\s]{1,30}")


@dataclass(frozen=True)
class KfAccount(WeChatData):
    """An agent account; ``kf_wx`` is the bound WeChat id, ``invite_*`` describe a pending invitation."""

    kf_account: str
    kf_nick: str = ""
    kf_id: str = ""
    kf_headimgurl: str = ""
    kf_wx: str = ""
    invite_wx: str = ""
    invite_expire_time: int = 0
    invite_status: str = ""


@dataclass(frozen=True)
class KfOnline(WeChatData):
    """An agent who is online: ``status`` 1 is the web client; ``accepted_case`` counts open sessions."""

    kf_account: str
    status: int = 0
    kf_id: str = ""
    accepted_case: int = 0


@dataclass(frozen=True)
class KfSession(WeChatData):
    """A conversation between an agent and a follower; ``kf_account`` is empty when nobody serves them."""

    openid: str
    kf_account: str = ""
    createtime: int = 0


@dataclass(frozen=True)
class WaitingCase(WeChatData):
    openid: str
    latest_time: int = 0


@dataclass(frozen=True)
class WaitingList(WeChatData):
    """Followers waiting for an agent: ``count`` is all of them, ``cases`` at most the first 100."""

    count: int = 0
    cases: list[WaitingCase] = field(default_factory=list)


@dataclass(frozen=True)
class KfRecord(WeChatData):
    """One chat line: ``opercode`` 2002 was sent by the agent, 2003 received from the follower."""

    openid: str
    opercode: int = 0
    text: str = ""
    time: int = 0
    worker: str = ""


@dataclass(frozen=True)
class KfRecordPage(WeChatData):
    """One page of chat records; ask again from ``msgid`` while pages come back full."""

    records: list[KfRecord] = field(default_factory=list)
    number: int = 0
    msgid: int = 0


def _check_account(kf_account: str) -> None:
    if not _KF_ACCOUNT.fullmatch(kf_account):
        raise ValueError(
            f"kf_account {kf_account!r} must be prefix@account_wechat_id: a prefix of 1..10 letters, digits "
            "or underscores, then the Official Account's WeChat id (at most 30 characters)"
        )


def _check_nickname(nickname: str) -> None:
    if not 1 <= len(nickname) <= MAX_NICKNAME:
        raise ValueError(f"nickname must be 1..{MAX_NICKNAME} characters, got {len(nickname)}")


def _record_window(start: datetime | int, end: datetime | int) -> tuple[int, int]:
    """WeChat answers one China-time day at a time (a wider window fails with a bare 65416/65417); an end
    at the next midnight, as in WeChat's own example, still closes the same day."""
    first, last = timestamp(start), timestamp(end)
    if last <= first:
        raise ValueError(f"records: end ({last}) must come after start ({first})")
    if china_day(first) != china_day(last - 1):
        raise ValueError(
            f"records: start and end must fall on the same day in China time, got {china_day(first)} and "
            f"{china_day(last)}; query one day at a time"
        )
    return first, last


class CustomerServiceAPI(Group):
    # -- accounts --------------------------------------------------------------------------------------

    async def accounts(self) -> list[KfAccount]:
        data = await self._caller.get("/cgi-bin/customservice/getkflist")
        return [build(KfAccount, item, kf_id=str(item.get("kf_id", ""))) for item in data.get("kf_list") or []]

    async def online_accounts(self) -> list[KfOnline]:
        data = await self._caller.get("/cgi-bin/customservice/getonlinekflist")
        return [build(KfOnline, item, kf_id=str(item.get("kf_id", ""))) for item in data.get("kf_online_list") or []]

    async def add(self, kf_account: str, nickname: str) -> None:
        """Not retried blindly: a repeat after a lost answer fails as an existing account (65406)."""
        _check_account(kf_account)
        _check_nickname(nickname)
        body = {"kf_account": kf_account, "nickname": nickname}
        await self._caller.post("/customservice/kfaccount/add", body, safe=False)

    async def invite(self, kf_account: str, invite_wx: str) -> None:
        """Invite a WeChat user to work as this agent; they confirm in WeChat. Not retried blindly."""
        _check_account(kf_account)
        if not invite_wx:
            raise ValueError("invite needs the personal WeChat id of the agent in invite_wx")
        body = {"kf_account": kf_account, "invite_wx": invite_wx}
        await self._caller.post("/customservice/kfaccount/inviteworker", body, safe=False)

    async def update(self, kf_account: str, nickname: str) -> None:
        _check_account(kf_account)
        _check_nickname(nickname)
        body = {"kf_account": kf_account, "nickname": nickname}
        await self._caller.post("/customservice/kfaccount/update", body)

    async def delete(self, kf_account: str) -> None:
        _check_account(kf_account)
        await self._caller.get("/customservice/kfaccount/del", {"kf_account": kf_account})

    async def upload_avatar(
        self, kf_account: str, file: str | os.PathLike[str] | bytes, filename: str | None = None
    ) -> None:
        """Set the agent's avatar from a JPG path or bytes (640×640 recommended)."""
        _check_account(kf_account)
        await self._caller.call(
            "POST",
            "/customservice/kfaccount/uploadheadimg",
            params={"kf_account": kf_account},
            files={"media": await read_upload(file, filename, "avatar.jpg")},
        )

    # -- sessions --------------------------------------------------------------------------------------

    async def open(self, kf_account: str, openid: str) -> None:
        """Hand a follower to an online agent. Not retried blindly: a repeat fails once the first lands."""
        body = {"kf_account": kf_account, "openid": openid}
        await self._caller.post("/customservice/kfsession/create", body, safe=False)

    async def close(self, kf_account: str, openid: str) -> None:
        body = {"kf_account": kf_account, "openid": openid}
        await self._caller.post("/customservice/kfsession/close", body)

    async def session_of(self, openid: str) -> KfSession:
        data = await self._caller.get("/customservice/kfsession/getsession", {"openid": openid})
        return build(KfSession, data, openid=openid)

    async def sessions(self, kf_account: str) -> list[KfSession]:
        """The agent's open sessions."""
        params = {"kf_account": kf_account}
        data = await self._caller.get("/customservice/kfsession/getsessionlist", params)
        return [build(KfSession, item, kf_account=kf_account) for item in data.get("sessionlist") or []]

    async def waiting(self) -> WaitingList:
        data = await self._caller.get("/customservice/kfsession/getwaitcase")
        cases = [build(WaitingCase, item) for item in data.get("waitcaselist") or []]
        return build(WaitingList, data, cases=cases)

    # -- records ---------------------------------------------------------------------------------------

    async def records(
        self, start: datetime | int, end: datetime | int, msgid: int = 1, number: int = MAX_RECORDS
    ) -> KfRecordPage:
        """One page of chat records between ``start`` and ``end`` (unix seconds or datetimes; a naive
        datetime is China time), which must lie within one day; ``msgid`` counts from 1."""
        first, last = _record_window(start, end)
        if not 1 <= number <= MAX_RECORDS:
            raise ValueError(f"number must be 1..{MAX_RECORDS}, got {number}")
        if msgid < 1:
            raise ValueError(f"msgid counts from 1, got {msgid}")
        body = {"starttime": first, "endtime": last, "msgid": msgid, "number": number}
        data = await self._caller.post("/customservice/msgrecord/getmsglist", body)
        records = [build(KfRecord, item) for item in data.get("recordlist") or []]
        return build(KfRecordPage, data, records=records)

    async def iter_records(
        self, start: datetime | int, end: datetime | int, number: int = MAX_RECORDS
    ) -> AsyncIterator[KfRecord]:
        """Every record of the window, page after page: the answer's ``msgid`` is where the next starts."""
        msgid = 1
        while True:
            page = await self.records(start, end, msgid, number)
            for record in page.records:
                yield record
            if len(page.records) < number or page.msgid <= msgid:
                return
            msgid = page.msgid
