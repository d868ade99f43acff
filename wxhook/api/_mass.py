"""Mass send (群发): one message to every follower, a tag, or a list of openids; previews; status and speed.

The message is a small content object, the same for every target::

    await client.mass.send_to_tag(tag_id, MassText("Sale starts at 10"), clientmsgid="sale-2026-11")
    await client.mass.send(openids, MassNews(draft_media_id))
    await client.mass.preview(MassImage(media_id), openid="o1")
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..custom_messages import drop_none
from ._caller import Group, build
from ._data import WeChatData

__all__ = [
    "MassCard", "MassContent", "MassImage", "MassNews", "MassSendResult", "MassSpeed", "MassStatus", "MassText",
    "MassVideo", "MassVoice",
]

MIN_OPENIDS, MAX_OPENIDS = 2, 10_000
MAX_CLIENTMSGID_BYTES = 64
MAX_SPEED = 4


class MassContent(ABC):
    """What a mass send carries: ``wire()`` is ``(msgtype, key, payload)`` for ``{"msgtype": …, key: payload}``."""

    @abstractmethod
    def wire(self) -> tuple[str, str, dict[str, Any]]: ...


@dataclass(frozen=True)
class MassNews(MassContent):
    """Articles (``mpnews``): the media_id of a draft (``client.draft.add``), or of ``client.media.upload_news``."""

    media_id: str

    def wire(self) -> tuple[str, str, dict[str, Any]]:
        return "mpnews", "mpnews", {"media_id": self.media_id}


@dataclass(frozen=True)
class MassText(MassContent):
    content: str

    def wire(self) -> tuple[str, str, dict[str, Any]]:
        return "text", "text", {"content": self.content}


@dataclass(frozen=True)
class MassVoice(MassContent):
    media_id: str

    def wire(self) -> tuple[str, str, dict[str, Any]]:
        return "voice", "voice", {"media_id": self.media_id}


@dataclass(frozen=True)
class MassImage(MassContent):
    """One image, or several (an image post) with an optional ``recommend`` line and comment settings.

    One image without extras goes out in the plain ``image`` form (the one previews take); anything else
    in the ``images`` form.
    """

    media_ids: str | Sequence[str]
    recommend: str | None = None
    need_open_comment: bool = False
    only_fans_can_comment: bool = False

    def __post_init__(self) -> None:
        if not self.media_ids:
            raise ValueError("MassImage needs at least one media_id")

    def wire(self) -> tuple[str, str, dict[str, Any]]:
        ids = [self.media_ids] if isinstance(self.media_ids, str) else list(self.media_ids)
        if len(ids) == 1 and self.recommend is None and not (self.need_open_comment or self.only_fans_can_comment):
            return "image", "image", {"media_id": ids[0]}
        images = {
            "media_ids": ids,
            **drop_none(recommend=self.recommend),
            "need_open_comment": int(self.need_open_comment),
            "only_fans_can_comment": int(self.only_fans_can_comment),
        }
        return "image", "images", images


@dataclass(frozen=True)
class MassVideo(MassContent):
    """A video (``mpvideo``): the id ``client.media.upload_video`` makes from a video's media_id."""

    media_id: str
    title: str | None = None
    description: str | None = None

    def wire(self) -> tuple[str, str, dict[str, Any]]:
        return "mpvideo", "mpvideo", drop_none(media_id=self.media_id, title=self.title, description=self.description)


@dataclass(frozen=True)
class MassCard(MassContent):
    """A card/coupon (``wxcard``)."""

    card_id: str

    def wire(self) -> tuple[str, str, dict[str, Any]]:
        return "wxcard", "wxcard", {"card_id": self.card_id}


@dataclass(frozen=True)
class MassSendResult(WeChatData):
    """``msg_id`` identifies the send (status, delete); ``msg_data_id`` the articles, for mpnews only."""

    msg_id: int
    msg_data_id: int | None = None


@dataclass(frozen=True)
class MassStatus(WeChatData):
    """``msg_status`` is SEND_SUCCESS, SENDING, SEND_FAIL or DELETE."""

    msg_id: int
    msg_status: str = ""


@dataclass(frozen=True)
class MassSpeed(WeChatData):
    """``speed`` is the level 0–4 (0 fastest: 800k/min … 4: 100k/min); ``realspeed`` is in 10k per minute."""

    speed: int = 0
    realspeed: int = 0


def _message(content: MassContent) -> dict[str, Any]:
    msgtype, key, payload = content.wire()
    return {"msgtype": msgtype, key: payload}


def _result(data: dict[str, Any]) -> MassSendResult:
    msg_data_id = data.get("msg_data_id")
    return build(
        MassSendResult, data, msg_id=int(data["msg_id"]), msg_data_id=None if msg_data_id is None else int(msg_data_id)
    )


class MassAPI(Group):
    """Sends take ``clientmsgid`` (≤ 64 bytes): WeChat then refuses a repeat for 24 hours (45065, raised
    as :class:`DuplicateSendError`), so the send is retried like any idempotent call. Without it only
    failures that prove the request never arrived are retried: a follower never gets a message twice.
    ``send_ignore_reprint=True`` (articles only) sends even when WeChat finds them to be a reprint.
    """

    async def send_to_all(
        self, content: MassContent, *, send_ignore_reprint: bool = False, clientmsgid: str | None = None
    ) -> MassSendResult:
        """Send to every follower (it also enters the account's history)."""
        target = {"filter": {"is_to_all": True}}
        return await self._send("/cgi-bin/message/mass/sendall", target, content, send_ignore_reprint, clientmsgid)

    async def send_to_tag(
        self, tag_id: int, content: MassContent, *, send_ignore_reprint: bool = False, clientmsgid: str | None = None
    ) -> MassSendResult:
        target = {"filter": {"is_to_all": False, "tag_id": tag_id}}
        return await self._send("/cgi-bin/message/mass/sendall", target, content, send_ignore_reprint, clientmsgid)

    async def send(
        self,
        openids: Sequence[str],
        content: MassContent,
        *,
        send_ignore_reprint: bool = False,
        clientmsgid: str | None = None,
    ) -> MassSendResult:
        """Send to 2–10,000 openids (one send; split longer lists into several, each with its own clientmsgid)."""
        if not MIN_OPENIDS <= len(openids) <= MAX_OPENIDS:
            raise ValueError(f"mass.send takes {MIN_OPENIDS}..{MAX_OPENIDS:,} openids, got {len(openids)}")
        target = {"touser": list(openids)}
        return await self._send("/cgi-bin/message/mass/send", target, content, send_ignore_reprint, clientmsgid)

    async def _send(
        self,
        path: str,
        target: dict[str, Any],
        content: MassContent,
        send_ignore_reprint: bool,
        clientmsgid: str | None,
    ) -> MassSendResult:
        body = {**target, **_message(content)}
        if send_ignore_reprint:
            if not isinstance(content, MassNews):
                raise ValueError("send_ignore_reprint applies to articles (MassNews) only")
            body["send_ignore_reprint"] = 1
        if clientmsgid is not None:
            if not 0 < len(clientmsgid.encode()) <= MAX_CLIENTMSGID_BYTES:
                raise ValueError(f"clientmsgid must be 1..{MAX_CLIENTMSGID_BYTES} bytes, got {clientmsgid!r}")
            body["clientmsgid"] = clientmsgid
        return _result(await self._caller.post(path, body, safe=clientmsgid is not None))

    async def preview(
        self, content: MassContent, *, openid: str | None = None, wxname: str | None = None
    ) -> MassSendResult:
        """Send the message to one follower, by ``openid`` or WeChat id (``wxname``), to check how it looks."""
        if (openid is None) == (wxname is None):
            raise ValueError("mass.preview needs exactly one of openid= or wxname=")
        target = {"touser": openid} if openid is not None else {"towxname": wxname}
        data = await self._caller.post("/cgi-bin/message/mass/preview", {**target, **_message(content)}, safe=False)
        return _result(data)

    async def delete(self, msg_id: int, article_idx: int = 0, *, url: str | None = None) -> None:
        """Withdraw a sent mpnews or video: ``article_idx`` 0 deletes all articles, 1.. only that one.
        Followers keep the card they received; its article pages stop opening."""
        if article_idx < 0:
            raise ValueError(f"article_idx is 0 (all) or an article's 1-based position, got {article_idx}")
        await self._caller.post(
            "/cgi-bin/message/mass/delete", {"msg_id": msg_id, "article_idx": article_idx, **drop_none(url=url)}
        )

    async def status(self, msg_id: int) -> MassStatus:
        return build(MassStatus, await self._caller.post("/cgi-bin/message/mass/get", {"msg_id": msg_id}))

    async def speed(self) -> MassSpeed:
        return build(MassSpeed, await self._caller.post("/cgi-bin/message/mass/speed/get", {}))

    async def set_speed(self, speed: int) -> None:
        if not 0 <= speed <= MAX_SPEED:
            raise ValueError(f"speed must be 0 (fastest) .. {MAX_SPEED}, got {speed}")
        await self._caller.post("/cgi-bin/message/mass/speed/set", {"speed": speed})
