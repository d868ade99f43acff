"""Read a bot's replies back into the reply classes: a test asserts ``reply.reply == Text("hi")`` whether the
answer came passively (XML) or late through the customer-service API (JSON), as the follower would see both."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..custom_messages import Article
from ..replies import Image, Music, News, Reply, Text, Video, Voice
from ._fake_state import RecordedCall

__all__ = ["DeferredReply"]

CUSTOM_SEND = "/cgi-bin/message/custom/send"


def custom_reply(msg_type: str, payload: Mapping[str, Any]) -> Reply | None:
    """The Reply a customer-service message spells, or None for a msgtype no reply class sends (msgmenu…)."""
    if msg_type == "text":
        return Text(str(payload.get("content", "")))
    if msg_type in ("image", "voice"):
        media_id = str(payload.get("media_id", ""))
        return Image(media_id) if msg_type == "image" else Voice(media_id)
    if msg_type == "video":
        return Video(str(payload.get("media_id", "")), payload.get("title"), payload.get("description"),
                     payload.get("thumb_media_id"))
    if msg_type == "music":
        return Music(payload.get("title"), payload.get("description"), payload.get("musicurl"),
                     payload.get("hqmusicurl"), payload.get("thumb_media_id"))
    if msg_type == "news":
        return News([Article(a.get("title", ""), a.get("description", ""), a.get("url", ""), a.get("picurl", ""))
                     for a in payload.get("articles", [])])
    return None


@dataclass(frozen=True, slots=True)
class DeferredReply:
    """A message the bot sent a follower through the customer-service API — a reply that missed its deadline,
    or a send of its own — as the FakeWeChat received it."""

    openid: str
    msg_type: str
    payload: Mapping[str, Any]
    call: RecordedCall

    @classmethod
    def from_call(cls, call: RecordedCall) -> DeferredReply | None:
        """The message a ``custom/send`` request carries; None for other requests and malformed bodies."""
        body = call.json
        if call.path != CUSTOM_SEND or not isinstance(body, dict):
            return None
        msg_type = body.get("msgtype")
        payload = body.get(msg_type) if isinstance(msg_type, str) else None
        if not isinstance(payload, dict):
            return None
        return cls(str(body.get("touser", "")), str(msg_type), payload, call)

    @property
    def reply(self) -> Reply | None:
        """As a reply class (``Text``, ``News``, …); None for msgtypes no reply class sends."""
        return custom_reply(self.msg_type, self.payload)

    @property
    def content(self) -> str | None:
        """A text message's content."""
        value = self.payload.get("content") if self.msg_type == "text" else None
        return value if isinstance(value, str) else None
