"""What a handler may return, and the two forms each reply takes on the wire.

A reply is rendered as passive XML when the handler answers inside WeChat's window, and as a
customer-service message (``custom_message``) when it answers too late and must be sent through the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from . import custom_messages as _custom
from .custom_messages import Article
from .xml import cdata

__all__ = ["Image", "Music", "News", "Reply", "Text", "TransferCustomerService", "Video", "Voice"]


class Reply:
    """Base of every reply type."""

    __slots__ = ()
    msg_type: ClassVar[str]

    def render(self, to_user: str, from_user: str, create_time: int) -> str:
        """The passive reply XML; ``to_user`` is the follower's openid, ``from_user`` the account's gh_ id."""
        return (
            f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[{self.msg_type}]]></MsgType>"
            f"{self._body()}</xml>"
        )

    def _body(self) -> str:
        raise NotImplementedError

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        """``(msgtype, payload)`` for the customer-service send API."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class Text(Reply):
    content: str
    msg_type: ClassVar[str] = "text"

    def _body(self) -> str:
        return f"<Content>{cdata(self.content)}</Content>"

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        return _custom.text(self.content)


@dataclass(frozen=True, slots=True)
class _Media(Reply):
    """A reply that is only a media_id, wrapped in an element named after its type."""

    media_id: str

    def _body(self) -> str:
        tag = self.msg_type.capitalize()
        return f"<{tag}><MediaId>{cdata(self.media_id)}</MediaId></{tag}>"

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        return _custom.media(self.msg_type, self.media_id)


@dataclass(frozen=True, slots=True)
class Image(_Media):
    msg_type: ClassVar[str] = "image"


@dataclass(frozen=True, slots=True)
class Voice(_Media):
    msg_type: ClassVar[str] = "voice"


def _optional(tag: str, value: str | None) -> str:
    return "" if value is None else f"<{tag}>{cdata(value)}</{tag}>"


@dataclass(frozen=True, slots=True)
class Video(Reply):
    """A video reply; ``thumb_media_id`` is used only when the reply goes out as a customer-service message."""

    media_id: str
    title: str | None = None
    description: str | None = None
    thumb_media_id: str | None = None
    msg_type: ClassVar[str] = "video"

    def _body(self) -> str:
        return (
            f"<Video><MediaId>{cdata(self.media_id)}</MediaId>{_optional('Title', self.title)}"
            f"{_optional('Description', self.description)}</Video>"
        )

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        return _custom.video(self.media_id, self.thumb_media_id, self.title, self.description)


@dataclass(frozen=True, slots=True)
class Music(Reply):
    title: str | None = None
    description: str | None = None
    music_url: str | None = None
    hq_music_url: str | None = None
    thumb_media_id: str | None = None
    msg_type: ClassVar[str] = "music"

    def _body(self) -> str:
        return (
            f"<Music>{_optional('Title', self.title)}{_optional('Description', self.description)}"
            f"{_optional('MusicUrl', self.music_url)}{_optional('HQMusicUrl', self.hq_music_url)}"
            f"{_optional('ThumbMediaId', self.thumb_media_id)}</Music>"
        )

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        return _custom.music(self.title, self.description, self.music_url, self.hq_music_url, self.thumb_media_id)


@dataclass(frozen=True, slots=True)
class News(Reply):
    """1 to 8 articles. WeChat shows only the first one in replies to most messages since 2018."""

    articles: Sequence[Article]
    msg_type: ClassVar[str] = "news"

    def __post_init__(self) -> None:
        count = len(self.articles)
        if not 1 <= count <= 8:
            raise ValueError(f"News takes 1 to 8 articles, got {count}; split them over several replies")
        object.__setattr__(self, "articles", tuple(self.articles))

    def _body(self) -> str:
        items = "".join(
            f"<item><Title>{cdata(a.title)}</Title><Description>{cdata(a.description)}</Description>"
            f"<PicUrl>{cdata(a.pic_url)}</PicUrl><Url>{cdata(a.url)}</Url></item>"
            for a in self.articles
        )
        return f"<ArticleCount>{len(self.articles)}</ArticleCount><Articles>{items}</Articles>"

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        return _custom.news(self.articles)


@dataclass(frozen=True, slots=True)
class TransferCustomerService(Reply):
    """Hand the conversation to a human agent (a specific one when ``kf_account`` is given)."""

    kf_account: str | None = None
    msg_type: ClassVar[str] = "transfer_customer_service"

    def _body(self) -> str:
        if self.kf_account is None:
            return ""
        return f"<TransInfo><KfAccount>{cdata(self.kf_account)}</KfAccount></TransInfo>"

    def custom_message(self) -> tuple[str, dict[str, Any]]:
        raise TypeError(
            "TransferCustomerService works only as a passive reply; it cannot be sent after the reply "
            "deadline — return it quickly or raise the handler's deadline"
        )


_new = object.__new__
_set_content = vars(Text)["content"].__set__  # the slot's own setter


def coerce_reply(value: object, kind: str = "handler", name: str = "") -> Reply | None:
    """Turn a handler's return value into a Reply (``str`` → Text, ``None`` → no reply); the TypeError for
    anything else names the ``kind`` of function and its ``name`` (``handler echo``), which its traceback's frames,
    all wxhook's, do not. (Two strings the caller has, not one made per message.)"""
    if value is None or isinstance(value, Reply):
        return value
    if isinstance(value, str):
        text = _new(Text)  # a frozen dataclass's __init__ costs a third of rendering the reply
        _set_content(text, value)
        return text
    raise TypeError(
        f"{kind} {name or '(unnamed)'} returned {type(value).__name__}; return a str, None, or one of Text, Image, "
        "Voice, Video, Music, News, TransferCustomerService"
    )


def _text(fields: Mapping[str, Any], tag: str) -> str | None:
    value = fields.get(tag)
    return value if isinstance(value, str) else None


def _section(fields: Mapping[str, Any], tag: str) -> Mapping[str, Any]:
    value = fields.get(tag)
    return value if isinstance(value, Mapping) else {}


def passive_reply(fields: Mapping[str, Any]) -> Reply | None:
    """The Reply a passive reply's XML fields spell, or None for a MsgType no reply class renders: how a reply
    kept as XML (a message's outcome in the store) is sent again through the API, and how tests read replies."""
    msg_type = fields.get("MsgType")
    if msg_type == "text":
        return Text(_text(fields, "Content") or "")
    if msg_type in ("image", "voice"):
        media_id = _text(_section(fields, msg_type.capitalize()), "MediaId") or ""
        return Image(media_id) if msg_type == "image" else Voice(media_id)
    if msg_type == "video":
        video = _section(fields, "Video")
        return Video(_text(video, "MediaId") or "", _text(video, "Title"), _text(video, "Description"))
    if msg_type == "music":
        music = _section(fields, "Music")
        return Music(_text(music, "Title"), _text(music, "Description"), _text(music, "MusicUrl"),
                     _text(music, "HQMusicUrl"), _text(music, "ThumbMediaId"))
    if msg_type == "news":
        items = _section(fields, "Articles").get("item", [])
        items = items if isinstance(items, list) else [items]
        return News([Article(_text(item, "Title") or "", _text(item, "Description") or "", _text(item, "Url") or "",
                             _text(item, "PicUrl") or "") for item in items])
    if msg_type == "transfer_customer_service":
        return TransferCustomerService(_text(_section(fields, "TransInfo"), "KfAccount"))
    return None
