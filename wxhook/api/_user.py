"""Followers: profiles, the follower and blacklist pages, remarks and blocking."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from ._caller import Group, build, chunks
from ._data import WeChatData

__all__ = ["FollowerPage", "OpenidChange", "SubscribeScene", "SubscribeSceneName", "UserInfo"]

SubscribeSceneName = Literal[
    "ADD_SCENE_SEARCH", "ADD_SCENE_ACCOUNT_MIGRATION", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_QR_CODE",
    "ADD_SCENE_PROFILE_LINK", "ADD_SCENE_PROFILE_ITEM", "ADD_SCENE_PAID", "ADD_SCENE_WECHAT_ADVERTISEMENT",
    "ADD_SCENE_REPRINT", "ADD_SCENE_LIVESTREAM", "ADD_SCENE_CHANNELS", "ADD_SCENE_WXA", "ADD_SCENE_OTHERS",
]  # fmt: skip


class SubscribeScene:
    """``UserInfo.subscribe_scene``: how a follower came to follow the account."""

    SEARCH: Final = "ADD_SCENE_SEARCH"
    ACCOUNT_MIGRATION: Final = "ADD_SCENE_ACCOUNT_MIGRATION"
    PROFILE_CARD: Final = "ADD_SCENE_PROFILE_CARD"
    QR_CODE: Final = "ADD_SCENE_QR_CODE"
    PROFILE_LINK: Final = "ADD_SCENE_PROFILE_LINK"
    PROFILE_ITEM: Final = "ADD_SCENE_PROFILE_ITEM"
    PAID: Final = "ADD_SCENE_PAID"
    WECHAT_ADVERTISEMENT: Final = "ADD_SCENE_WECHAT_ADVERTISEMENT"
    REPRINT: Final = "ADD_SCENE_REPRINT"
    LIVESTREAM: Final = "ADD_SCENE_LIVESTREAM"
    CHANNELS: Final = "ADD_SCENE_CHANNELS"
    WXA: Final = "ADD_SCENE_WXA"
    OTHERS: Final = "ADD_SCENE_OTHERS"


BATCH_GET_MAX = 100
BLACKLIST_BATCH_MAX = 20
CHANGE_OPENID_MAX = 100


@dataclass(frozen=True)
class UserInfo(WeChatData):
    """A follower's profile (no nickname or avatar since 2021-12-27); ``raw`` holds any other field."""

    openid: str
    subscribe: bool = False
    language: str = ""
    subscribe_time: int = 0
    unionid: str | None = None
    remark: str = ""
    groupid: int = 0
    tagid_list: list[int] = field(default_factory=list)
    subscribe_scene: str = ""
    qr_scene: int = 0
    qr_scene_str: str = ""


@dataclass(frozen=True)
class FollowerPage(WeChatData):
    """Up to 10,000 openids; pass ``next_openid`` back for the next page (empty on the last one)."""

    total: int = 0
    count: int = 0
    openids: list[str] = field(default_factory=list)
    next_openid: str = ""


@dataclass(frozen=True)
class OpenidChange(WeChatData):
    """One openid of the old account and this account's openid for the same user; ``new_openid`` is empty when
    WeChat could not convert it (``err_msg`` says why, e.g. ``ori_openid error``: not a follower of the old one)."""

    ori_openid: str
    new_openid: str = ""
    err_msg: str = ""


def _user(data: dict[str, Any]) -> UserInfo:
    return build(UserInfo, data, subscribe=bool(data.get("subscribe")))


def _page(data: dict[str, Any]) -> FollowerPage:
    """The last page may carry no ``data`` object at all."""
    return build(FollowerPage, data, openids=list((data.get("data") or {}).get("openid") or []))


async def _walk(
    fetch: Callable[[str | None], Awaitable[FollowerPage]], start: str | None
) -> AsyncIterator[str]:
    cursor = start
    while True:
        page = await fetch(cursor)
        for openid in page.openids:
            yield openid
        if not page.openids or not page.next_openid or page.next_openid == cursor:
            return
        cursor = page.next_openid


class UserAPI(Group):
    async def info(self, openid: str, lang: str = "zh_CN") -> UserInfo:
        return _user(await self._caller.get("/cgi-bin/user/info", {"openid": openid, "lang": lang}))

    async def batch_get(self, openids: Sequence[str], lang: str = "zh_CN") -> builtins.list[UserInfo]:
        """Profiles for any number of openids, fetched 100 per request, in the order given."""
        infos: builtins.list[UserInfo] = []
        for chunk in chunks(openids, BATCH_GET_MAX):
            body = {"user_list": [{"openid": openid, "lang": lang} for openid in chunk]}
            data = await self._caller.post("/cgi-bin/user/info/batchget", body)
            infos.extend(_user(item) for item in data.get("user_info_list") or [])
        return infos

    async def list(self, next_openid: str | None = None) -> FollowerPage:
        """One page of followers."""
        params = {"next_openid": next_openid} if next_openid else None
        return _page(await self._caller.get("/cgi-bin/user/get", params))

    def iter_followers(self, start: str | None = None) -> AsyncIterator[str]:
        """Every follower's openid, page after page."""
        return _walk(self.list, start)

    async def update_remark(self, openid: str, remark: str) -> None:
        await self._caller.post("/cgi-bin/user/info/updateremark", {"openid": openid, "remark": remark})

    async def blacklist(self, begin_openid: str | None = None) -> FollowerPage:
        """One page of blocked users."""
        body = {"begin_openid": begin_openid or ""}
        return _page(await self._caller.post("/cgi-bin/tags/members/getblacklist", body))

    def iter_blacklist(self, start: str | None = None) -> AsyncIterator[str]:
        return _walk(self.blacklist, start)

    async def block(self, openids: Sequence[str]) -> None:
        """Block any number of users, 20 per request."""
        await self._post_openids("/cgi-bin/tags/members/batchblacklist", openids, BLACKLIST_BATCH_MAX)

    async def unblock(self, openids: Sequence[str]) -> None:
        await self._post_openids("/cgi-bin/tags/members/batchunblacklist", openids, BLACKLIST_BATCH_MAX)

    async def paid_unionid(
        self,
        openid: str,
        *,
        transaction_id: str | None = None,
        mch_id: str | None = None,
        out_trade_no: str | None = None,
    ) -> str:
        """The payer's unionid within 5 minutes of paying, by transaction_id or mch_id + out_trade_no."""
        if transaction_id:
            params = {"openid": openid, "transaction_id": transaction_id}
        elif mch_id and out_trade_no:
            params = {"openid": openid, "mch_id": mch_id, "out_trade_no": out_trade_no}
        else:
            raise ValueError("paid_unionid needs transaction_id=, or both mch_id= and out_trade_no=")
        return str((await self._caller.get("/wxa/getpaidunionid", params))["unionid"])

    async def change_openid(self, from_appid: str, openids: Sequence[str]) -> builtins.list[OpenidChange]:
        """After an account migration (账号迁移), this account's openids for the old account's followers: any
        number, 100 per request, in the order given. WeChat answers for 15 days after the migration is approved;
        fetch the old account's follower list before it is frozen."""
        if not from_appid:
            raise ValueError("change_openid needs from_appid, the appid of the account the followers came from")
        if from_appid == self._caller.credentials.appid_value:
            raise ValueError("change_openid's from_appid is the old account's appid; call it on the new account")
        changes: builtins.list[OpenidChange] = []
        for chunk in chunks(openids, CHANGE_OPENID_MAX):
            body = {"from_appid": from_appid, "openid_list": list(chunk)}
            data = await self._caller.post("/cgi-bin/changeopenid", body)
            changes.extend(build(OpenidChange, item) for item in data.get("result_list") or [])
        return changes
