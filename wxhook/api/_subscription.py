"""Subscription notifications (订阅通知): the account's templates, picked from WeChat's library, and sends
to followers who subscribed to them (the subscribe_msg_* events say who did); and the older one-time
subscription message (一次性订阅消息): one send per consent a user gives on WeChat's page."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from ..custom_messages import drop_none
from ._caller import Group, build
from ._data import WeChatData
from ._template import template_data

__all__ = ["SubscribeCategory", "SubscribeKeyword", "SubscribeTemplate", "SubscribeTitle", "SubscribeTitlePage"]

MIN_KEYWORDS, MAX_KEYWORDS = 2, 5
MAX_SCENE_CHARS = 15
MAX_TITLES_PAGE = 30
MAX_ONE_TIME_SCENE = 10_000
MAX_ONE_TIME_TITLE = 15
MAX_ONE_TIME_CONTENT = 200
_RESERVED = re.compile(r"[A-Za-z0-9]{0,128}")


def _one_time_scene(scene: int) -> str:
    if isinstance(scene, bool) or not isinstance(scene, int) or not 0 <= scene <= MAX_ONE_TIME_SCENE:
        raise ValueError(f"scene must be an int 0..{MAX_ONE_TIME_SCENE} (it tells consents apart), got {scene!r}")
    return str(scene)


@dataclass(frozen=True)
class SubscribeTemplate(WeChatData):
    """A template of the account; ``type`` 2 is one-time, 3 long-term."""

    pri_tmpl_id: str
    title: str = ""
    content: str = ""
    example: str = ""
    type: int = 0


@dataclass(frozen=True)
class SubscribeCategory(WeChatData):
    id: int
    name: str = ""


@dataclass(frozen=True)
class SubscribeKeyword(WeChatData):
    """A keyword of a library title: ``kid`` picks it in ``add_template``; ``rule`` is its value type
    (thing, number, time, phrase …), which limits what a send may put in it."""

    kid: int
    name: str = ""
    example: str = ""
    rule: str = ""


@dataclass(frozen=True)
class SubscribeTitle(WeChatData):
    """A title of WeChat's public template library; ``tid`` is what ``add_template`` takes."""

    tid: int
    title: str = ""
    type: int = 0
    category_id: str = ""


@dataclass(frozen=True)
class SubscribeTitlePage(WeChatData):
    """``count`` titles in all; ``titles`` is the requested slice."""

    count: int = 0
    titles: list[SubscribeTitle] = field(default_factory=list)


def _title(data: dict[str, Any]) -> SubscribeTitle:
    return build(SubscribeTitle, data, category_id=str(data.get("categoryId", "")))


class SubscriptionAPI(Group):
    async def send(
        self,
        openid: str,
        template_id: str,
        data: Mapping[str, str | Mapping[str, str]],
        *,
        page: str | None = None,
        miniprogram: Mapping[str, str] | None = None,
    ) -> None:
        """Send a notification; ``data`` is ``{"thing1": "text"}`` or ``{"thing1": {"value": "text"}}``.

        ``page`` is the web page a tap opens; ``miniprogram`` (``{"appid", "pagepath"}``) opens a Mini
        Program instead. Not retried blindly (WeChat has no dedupe key here): a follower never gets it twice.
        A follower who did not subscribe (or unsubscribed) raises UserRefusedError (43101).
        """
        if not openid or not template_id:
            raise ValueError("subscription.send needs a non-empty openid and template_id")
        body = {
            "touser": openid,
            "template_id": template_id,
            "data": template_data(data),
            **drop_none(page=page, miniprogram=None if miniprogram is None else dict(miniprogram)),
        }
        await self._caller.post("/cgi-bin/message/subscribe/bizsend", body, safe=False)

    async def add_template(self, tid: int | str, keywords: Sequence[int], scene: str) -> str:
        """Add a library title with 2–5 of its keywords (``kid``s, in display order) to the account;
        ``scene`` (≤ 15 characters) says what it is for. Returns the priTmplId sends use. Not retried
        blindly: each success adds a template, and the account holds at most 25."""
        if not MIN_KEYWORDS <= len(keywords) <= MAX_KEYWORDS:
            raise ValueError(f"add_template takes {MIN_KEYWORDS}..{MAX_KEYWORDS} keyword ids, got {len(keywords)}")
        if not 0 < len(scene) <= MAX_SCENE_CHARS:
            raise ValueError(f"scene must be 1..{MAX_SCENE_CHARS} characters, got {len(scene)}")
        body = {"tid": str(tid), "kidList": [int(kid) for kid in keywords], "sceneDesc": scene}
        data = await self._caller.post("/wxaapi/newtmpl/addtemplate", body, safe=False)
        return str(data["priTmplId"])

    async def delete_template(self, pri_tmpl_id: str) -> None:
        await self._caller.post("/wxaapi/newtmpl/deltemplate", {"priTmplId": pri_tmpl_id})

    async def templates(self) -> list[SubscribeTemplate]:
        data = await self._caller.get("/wxaapi/newtmpl/gettemplate")
        return [build(SubscribeTemplate, item, pri_tmpl_id=str(item["priTmplId"])) for item in data.get("data") or []]

    async def categories(self) -> list[SubscribeCategory]:
        """The categories of the account, which decide the library titles it may use."""
        data = await self._caller.get("/wxaapi/newtmpl/getcategory")
        return [build(SubscribeCategory, item) for item in data.get("data") or []]

    async def keywords(self, tid: int | str) -> list[SubscribeKeyword]:
        data = await self._caller.get("/wxaapi/newtmpl/getpubtemplatekeywords", {"tid": str(tid)})
        return [build(SubscribeKeyword, item) for item in data.get("data") or []]

    async def titles(self, ids: Sequence[int], start: int = 0, limit: int = MAX_TITLES_PAGE) -> SubscribeTitlePage:
        """Library titles of the given category ids, ``limit`` (≤ 30) from ``start``."""
        if not ids:
            raise ValueError("titles needs at least one category id (see subscription.categories())")
        if start < 0 or not 1 <= limit <= MAX_TITLES_PAGE:
            raise ValueError(f"titles takes start >= 0 and limit 1..{MAX_TITLES_PAGE}, got {start}, {limit}")
        params = {"ids": ",".join(str(i) for i in ids), "start": start, "limit": limit}
        data = await self._caller.get("/wxaapi/newtmpl/getpubtemplatetitles", params)
        return build(SubscribeTitlePage, data, titles=[_title(item) for item in data.get("data") or []])

    def one_time_url(self, template_id: str, redirect_url: str, scene: int = 0, reserved: str = "") -> str:
        """Where to send a user (in WeChat) to consent to one message of ``template_id`` (a one-time subscription
        template's id, from the admin console's API permissions). WeChat comes back to ``redirect_url`` (on the
        account's business domain) with ``openid``, ``template_id``, ``action`` (``confirm`` or ``cancel``),
        ``scene`` and ``reserved``. Each consent allows one :meth:`send_one_time` for that ``scene`` (0–10000);
        consents for one scene do not add up. ``reserved`` (≤ 128 of a-z, A-Z, 0-9) comes back as given."""
        if not template_id or not redirect_url:
            raise ValueError("one_time_url needs the template_id and the redirect_url WeChat comes back to")
        if not _RESERVED.fullmatch(reserved):
            raise ValueError("reserved must be at most 128 characters of a-z, A-Z and 0-9")
        query = {
            "action": "get_confirm",
            "appid": self._caller.credentials.appid(),
            "scene": _one_time_scene(scene),
            "template_id": template_id,
            "redirect_url": redirect_url,
            "reserved": reserved,
        }
        return f"{self._caller.transport.mp_base}/mp/subscribemsg?{urlencode(query)}#wechat_redirect"

    async def send_one_time(
        self,
        openid: str,
        template_id: str,
        scene: int,
        title: str,
        content: str,
        *,
        color: str | None = None,
        url: str | None = None,
        miniprogram: Mapping[str, str] | None = None,
    ) -> None:
        """Send the one message a user's consent (:meth:`one_time_url`, same ``template_id`` and ``scene``) allows:
        ``title`` ≤ 15 characters, ``content`` ≤ 200. It reaches a follower's chat, anyone else's service
        notifications. Not retried blindly; a user without an unused consent raises UserRefusedError (43101)."""
        if not openid or not template_id:
            raise ValueError("send_one_time needs a non-empty openid and template_id")
        if not 0 < len(title) <= MAX_ONE_TIME_TITLE:
            raise ValueError(f"title must be 1..{MAX_ONE_TIME_TITLE} characters, got {len(title)}")
        if not 0 < len(content) <= MAX_ONE_TIME_CONTENT:
            raise ValueError(f"content must be 1..{MAX_ONE_TIME_CONTENT} characters, got {len(content)}")
        body = {
            "touser": openid,
            "template_id": template_id,
            **drop_none(url=url, miniprogram=None if miniprogram is None else dict(miniprogram)),
            "scene": _one_time_scene(scene),
            "title": title,
            "data": {"content": {"value": content, **drop_none(color=color)}},
        }
        await self._caller.post("/cgi-bin/message/template/subscribe", body, safe=False)
