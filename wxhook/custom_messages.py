"""The customer-service (客服) forms of outgoing messages, written once for the API and for late webhook replies.

The webhook's reply classes (``wxhook.Text``, ``wxhook.News`` …) render passive XML themselves and take their
customer-service form from here, and the API client's ``message`` group sends the same forms: a leaf module both
depend on, so the client never depends on the webhook and each wire form exists once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Article"]

CustomForm = tuple[str, dict[str, Any]]
"""``(msgtype, payload)``: what goes under ``msgtype`` and its own key in ``message/custom/send``."""


class SendsAsCustomMessage(Protocol):
    """Anything that knows its customer-service form: every reply class, and yours."""

    def custom_message(self) -> CustomForm: ...


def drop_none(**fields: Any) -> dict[str, Any]:
    """The fields that are set: WeChat's send APIs want absent keys, not nulls."""
    return {key: value for key, value in fields.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Article:
    """One item of a ``News`` reply or of a customer-service news message."""

    title: str
    description: str = ""
    url: str = ""
    pic_url: str = ""

    def custom_form(self) -> dict[str, str]:
        """The article as the customer-service send API spells it."""
        return {"title": self.title, "description": self.description, "url": self.url, "picurl": self.pic_url}


def text(content: str) -> CustomForm:
    return "text", {"content": content}


def media(msgtype: str, media_id: str) -> CustomForm:
    """image, voice and mpnews: a bare media_id."""
    return msgtype, {"media_id": media_id}


def video(media_id: str, thumb_media_id: str | None, title: str | None, description: str | None) -> CustomForm:
    return "video", drop_none(media_id=media_id, thumb_media_id=thumb_media_id, title=title,
                              description=description)


def music(title: str | None, description: str | None, music_url: str | None, hq_music_url: str | None,
          thumb_media_id: str | None) -> CustomForm:
    return "music", drop_none(title=title, description=description, musicurl=music_url, hqmusicurl=hq_music_url,
                              thumb_media_id=thumb_media_id)


def news(articles: Sequence[Article | dict[str, str]]) -> CustomForm:
    return "news", {"articles": [a.custom_form() if isinstance(a, Article) else dict(a) for a in articles]}
