"""What a follower can do in the console, as the message WeChat would push for it, and replies as chat bubbles."""

from __future__ import annotations

import base64
import binascii
import dataclasses
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from ..replies import Reply
from ..testing import BotClient

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


def _number(action: Mapping[str, Any], key: str) -> float:
    try:
        return float(action[key])
    except (KeyError, TypeError, ValueError):
        raise ActionError(f"{action.get('kind')!r} needs a number {key!r}") from None


def media_type(content_type: str) -> str:
    """``type/subtype`` of a Content-Type, in lower case, without its parameters."""
    return content_type.split(";", 1)[0].strip().lower()


def _ticket() -> str:
    return "gQ" + secrets.token_urlsafe(30)


def _menu_fields(button: Mapping[str, Any]) -> dict[str, Any]:
    """The event a menu button pushes (the protocol's menu events); ActionError for buttons that push none."""
    kind = button.get("type")
    key = button.get("key")
    if kind == "click":
        return {"Event": "CLICK", "EventKey": str(key or "")}
    if kind == "view":
        return {"Event": "VIEW", "EventKey": str(button.get("url", "")), "MenuId": 1}
    if kind == "miniprogram":
        return {"Event": "view_miniprogram", "EventKey": str(button.get("pagepath", "")), "MenuId": 1}
    if kind in ("scancode_push", "scancode_waitmsg"):
        return {"Event": kind, "EventKey": str(key or ""),
                "ScanCodeInfo": {"ScanType": "qrcode", "ScanResult": "https://example.com/scanned"}}
    if kind in ("pic_sysphoto", "pic_photo_or_album", "pic_weixin"):
        return {"Event": kind, "EventKey": str(key or ""),
                "SendPicsInfo": {"Count": 1, "PicList": {"item": {"PicMd5Sum": secrets.token_hex(16)}}}}
    if kind == "location_select":
        return {"Event": kind, "EventKey": str(key or ""), "SendLocationInfo": {
            "Location_X": "23.134521", "Location_Y": "113.358803", "Scale": "15", "Label": "广州市天河区",
            "Poiname": ""}}
    raise ActionError(f"a {kind!r} button makes WeChat show material itself: it pushes nothing to the bot")


def follower_message(client: BotClient, action: Mapping[str, Any], add_image: Callable[[bytes, str], str],
                     media_url: Callable[[str], str]) -> dict[str, Any]:
    """The fields of the message WeChat pushes when the follower ``action["openid"]`` does ``action["kind"]``.

    ``add_image(content, content_type)`` stores an uploaded image and returns its media_id (the bot can fetch it
    through the API, as from WeChat); ``media_url(media_id)`` is where its PicUrl points.
    """
    openid = _text(action, "openid")
    kind = action.get("kind")
    if kind == "text":
        return client.message("text", openid, Content=_text(action, "text"))
    if kind == "image":
        try:
            content = base64.b64decode(_text(action, "data"), validate=True)
        except binascii.Error:
            raise ActionError("'image' needs 'data': the picture, base64-encoded") from None
        content_type = media_type(_text(action, "content_type", required=False) or "image/jpeg")
        if content_type not in PICTURES:
            raise ActionError(f"'image' needs a picture's content_type ({', '.join(PICTURES)}), not "
                              f"{content_type!r}: other types can carry script")
        media_id = add_image(content, content_type)
        return client.message("image", openid, PicUrl=media_url(media_id), MediaId=media_id)
    if kind == "location":
        return client.message("location", openid, Location_X=_number(action, "latitude"),
                              Location_Y=_number(action, "longitude"), Scale=15,
                              Label=_text(action, "label", required=False))
    if kind == "subscribe":
        scene = _text(action, "scene", required=False)
        extra = {"EventKey": f"qrscene_{scene}", "Ticket": _ticket()} if scene else {}
        return client.message("event", openid, Event="subscribe", **extra)
    if kind == "unsubscribe":
        return client.message("event", openid, Event="unsubscribe")
    if kind == "scan":
        return client.message("event", openid, Event="SCAN", EventKey=_text(action, "scene"), Ticket=_ticket())
    if kind == "menu":
        button = action.get("button")
        if not isinstance(button, Mapping):
            raise ActionError("'menu' needs 'button': the menu button pressed, as in the menu JSON")
        return client.message("event", openid, **_menu_fields(button))
    raise ActionError(f"unknown action {kind!r}: text, image, location, subscribe, unsubscribe, scan or menu")


def bubble(msg_type: str, reply: Reply | None, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A reply as the page draws it: its type and fields (``type`` + the reply class's fields, or the raw
    payload of a message no reply class covers)."""
    if reply is None or not dataclasses.is_dataclass(reply):
        return {"type": msg_type, "payload": dict(payload or {})}
    return {"type": reply.msg_type, **dataclasses.asdict(reply)}
