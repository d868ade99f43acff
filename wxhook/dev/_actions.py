"""What a follower can do in the console, as the message WeChat would push for it (built from the composer's
table, ``_kinds``), and replies as chat bubbles."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import math
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..replies import Reply
from ..testing import SAMPLE_PNG, BotClient
from ._kinds import KINDS, Field, Fresh, Kind

PICTURES = ("image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp")
"""What a follower's picture may be: the raster types WeChat takes. Nothing in them runs; an SVG would, served
from the console's origin, so it is refused at upload."""


class ActionError(ValueError):
    """The page asked for something no follower can do; the message says what to fix."""


def _text(action: Mapping[str, Any], key: str, *, required: bool = True) -> str:
    value = action.get(key, "")
    if not isinstance(value, (str, int, float)) or (required and str(value).strip() == ""):
        raise ActionError(f"{action.get('kind')!r} needs a non-empty {key!r}")
    return str(value).strip()


def media_type(content_type: str) -> str:
    """``type/subtype`` of a Content-Type, in lower case, without its parameters."""
    return content_type.split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class Media:
    """Where a message's media goes: ``add(kind, content, content_type)`` stores it in the console's FakeWeChat
    and returns its media_id (the bot fetches it through the API, as from WeChat); ``url(media_id)`` is where the
    console serves it (a PicUrl)."""

    add: Callable[[str, bytes, str], str]
    url: Callable[[str], str]


_SAMPLES: dict[str, tuple[bytes, str]] = {
    "image": (SAMPLE_PNG, "image/png"),
    "thumb": (SAMPLE_PNG, "image/png"),
    "voice": (b"#!AMR\n" + bytes(32), "audio/amr"),
    "video": (b"\x00\x00\x00\x18ftypmp42" + bytes(16), "video/mp4"),
}
"""What a media field left empty refers to: a sample of its kind, stored for each message."""

_BUTTONS: dict[str, tuple[str, str]] = {
    "click": ("CLICK", "key"), "view": ("VIEW", "url"), "miniprogram": ("view_miniprogram", "pagepath"),
    **{kind: (kind, "key") for kind in ("scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
                                        "pic_weixin", "location_select")},
}
"""A menu button's type → the event its press pushes, and the button's key that becomes the EventKey."""


def _ticket() -> str:
    return "gQ" + secrets.token_urlsafe(30)


class _Made:
    """The values made afresh for one message: each kind of sample is stored once, so a PicUrl shows the picture
    its MediaId names."""

    def __init__(self, kind: Kind, openid: str, values: Mapping[str, str], media: Media) -> None:
        self.kind, self.openid, self.values, self.media = kind, openid, values, media
        self._stored: dict[str, str] = {}

    def make(self, how: Fresh) -> str | None:
        if how == "openid":
            return self.openid
        if how == "ticket":  # a QR code's: only with the EventKey that names its scene
            return _ticket() if self.values.get("EventKey") else None
        if how == "picurl":
            picture = next(f for f in self.kind.fields if f.fresh in _SAMPLES)
            return self.media.url(self.values[picture.tag] or self._sample(str(picture.fresh)))
        return self._sample(how)

    def _sample(self, kind: str) -> str:
        if kind not in self._stored:
            self._stored[kind] = self.media.add(kind, *_SAMPLES[kind])
        return self._stored[kind]


def _given(kind: Kind, tag: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ActionError(f"{kind.name!r}: {tag} takes text or a number, not {type(value).__name__}")
    return str(value)


_INTEGER = re.compile(r"-?[0-9]{1,30}")
_NUMBER = re.compile(r"-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _typed(kind: Kind, field: Field, text: str) -> str | int | float:
    """A field's text as it goes into the XML: a number field's as a number."""
    if not field.number or text == "":
        return text
    if _INTEGER.fullmatch(text):
        return int(text)
    number = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not math.isfinite(number):
        raise ActionError(f"{kind.name!r}: {field.tag} is a number, not {text[:40]!r}")
    return number


def _place(fields: dict[str, Any], path: str, value: object) -> None:
    """``value`` under ``path`` (``A/B/C``), making the elements above it."""
    *parents, leaf = path.split("/")
    for name in parents:
        fields = fields.setdefault(name, {})
    fields[leaf] = value


def compose(client: BotClient, openid: str, kind: Kind, given: object, media: Media) -> dict[str, Any]:
    """The fields WeChat pushes for ``kind`` from ``openid``: each field's ``given`` text (by tag), else its
    default. A field left empty is left out, or made afresh when the table says how (``Fresh``)."""
    if not isinstance(given, Mapping):
        raise ActionError(f"'fields' of {kind.name!r} is an object: tag → text")
    tags = {field.tag: field for field in kind.fields}
    unknown = next((tag for tag in given if tag not in tags), None)
    if unknown is not None:
        raise ActionError(f"{kind.name!r} has no field {str(unknown)[:40]!r}: its fields are "
                          f"{', '.join(tags) or 'none'}")
    values = {tag: _given(kind, tag, given[tag]) if tag in given else field.default for tag, field in tags.items()}
    made = _Made(kind, openid, values, media)
    fields: dict[str, Any] = {}
    for field in kind.fields:
        text = values[field.tag]
        value = made.make(field.fresh) if text == "" and field.fresh else _typed(kind, field, text)
        if value not in (None, ""):
            _place(fields, field.tag, value)
    head = {} if kind.event is None else {"Event": kind.event}
    return client.message(kind.msg_type, openid, **head, **fields)


def follower_message(client: BotClient, action: Mapping[str, Any], media: Media) -> dict[str, Any]:
    """The fields of the message WeChat pushes when the follower ``action["openid"]`` does ``action["kind"]``:
    ``compose`` (any ``type`` of the composer's table, with its ``fields``), ``text``, ``image`` (a picture
    uploaded, base64 ``data``: stored in the fake), ``menu`` (a ``button`` of the menu JSON pressed)."""
    openid = _text(action, "openid")
    kind = action.get("kind")
    if kind == "compose":
        entry = KINDS.get(action["type"]) if isinstance(action.get("type"), str) else None
        if entry is None:
            raise ActionError(f"no type {str(action.get('type'))[:40]!r} to compose: 'type' is a MsgType or an Event "
                              "of the composer's table (GET /api/info, 'composer')")
        return compose(client, openid, entry, action.get("fields", {}), media)
    if kind == "text":
        return compose(client, openid, KINDS["text"], {"Content": _text(action, "text")}, media)
    if kind == "image":
        try:
            content = base64.b64decode(_text(action, "data"), validate=True)
        except binascii.Error:
            raise ActionError("'image' needs 'data': the picture, base64-encoded") from None
        content_type = media_type(_text(action, "content_type", required=False) or "image/jpeg")
        if content_type not in PICTURES:
            raise ActionError(f"'image' needs a picture's content_type ({', '.join(PICTURES)}), not "
                              f"{content_type!r}: other types can carry script")
        return compose(client, openid, KINDS["image"], {"MediaId": media.add("image", content, content_type)}, media)
    if kind == "menu":
        button = action.get("button")
        if not isinstance(button, Mapping):
            raise ActionError("'menu' needs 'button': the menu button pressed, as in the menu JSON")
        if button.get("type") not in _BUTTONS:
            raise ActionError(f"a {str(button.get('type'))[:40]!r} button makes WeChat show material itself: it "
                              "pushes nothing to the bot")
        event, key = _BUTTONS[button["type"]]
        return compose(client, openid, KINDS[event], {"EventKey": str(button.get(key) or "")}, media)
    raise ActionError(f"unknown action {str(kind)[:40]!r}: compose, text, image or menu")


def bubble(msg_type: str, reply: Reply | None, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A reply as the page draws it: its type and fields (``type`` + the reply class's fields, or the raw
    payload of a message no reply class covers)."""
    if reply is None or not dataclasses.is_dataclass(reply):
        return {"type": msg_type, "payload": dict(payload or {})}
    return {"type": reply.msg_type, **dataclasses.asdict(reply)}
