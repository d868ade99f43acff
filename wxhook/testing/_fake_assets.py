"""Fake account assets: QR codes and their images, temporary media, short keys."""

from __future__ import annotations

import base64
import string
import time
from typing import Any

from starlette.responses import Response

from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
_BASE62 = string.ascii_letters + string.digits
_MEDIA_LIMITS = {"image": 10 << 20, "voice": 2 << 20, "video": 10 << 20, "thumb": 64 << 10}
_SCENES = {
    "QR_SCENE": ("scene_id", range(1, 2**32), True),
    "QR_STR_SCENE": ("scene_str", range(1, 65), True),
    "QR_LIMIT_SCENE": ("scene_id", range(1, 100_001), False),
    "QR_LIMIT_STR_SCENE": ("scene_str", range(1, 65), False),
}


@endpoint("POST", "/cgi-bin/qrcode/create")
def qrcode_create(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    if body.get("action_name") not in _SCENES:
        raise Fault(40052, "invalid action name")
    key, valid, temporary = _SCENES[body["action_name"]]
    value = ((body.get("action_info") or {}).get("scene") or {}).get(key)
    measured = len(value) if key == "scene_str" and isinstance(value, str) else value
    if isinstance(measured, bool) or not isinstance(measured, int) or measured not in valid:
        raise Fault(40053, "invalid action info")
    expire = body.get("expire_seconds", 60)
    if temporary and not (isinstance(expire, int) and 0 < expire <= 2_592_000):
        raise Fault(40009, "invalid expire_seconds")
    ticket = f"gQ{random_id(70)}=="
    st.qrcodes[ticket] = {key: value, "action_name": body["action_name"]}
    answer = {"ticket": ticket, "url": f"http://weixin.qq.com/q/{random_id(22)}"}
    return {**answer, "expire_seconds": expire} if temporary else answer


@endpoint("GET", "/cgi-bin/showqrcode", token=False)
def showqrcode(st: FakeState, req: FakeRequest) -> Response:
    if req.query.get("ticket") not in st.qrcodes:
        return Response(b"not found", status_code=404)
    return Response(PNG, media_type="image/jpg")


@endpoint("POST", "/cgi-bin/media/upload")
def media_upload(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    kind = req.query.get("type", "")
    if kind not in _MEDIA_LIMITS:
        raise Fault(40004, "invalid media type")
    if "media" not in req.files:
        raise Fault(41005, "media data missing")
    _, content_type, content = req.files["media"]
    if not content or len(content) > _MEDIA_LIMITS[kind]:
        raise Fault(40006, "invalid meida size")
    media_id = random_id(64)
    st.media[media_id] = (kind, content_type, content)
    id_key = "thumb_media_id" if kind == "thumb" else "media_id"
    return {"type": kind, id_key: media_id, "created_at": int(time.time())}


@endpoint("GET", "/cgi-bin/media/get")
def media_get(st: FakeState, req: FakeRequest) -> dict[str, Any] | Response:
    media_id = req.query.get("media_id", "")
    if media_id not in st.media:
        raise Fault(40007, "invalid media_id")
    kind, content_type, content = st.media[media_id]
    if kind == "video":
        return {"video_url": f"{req.base_url}/fake/video?media_id={media_id}"}
    headers = {"content-disposition": f'attachment; filename="{media_id}"'}
    return Response(content, media_type=content_type, headers=headers)


@endpoint("GET", "/fake/video", token=False)
def video_download(st: FakeState, req: FakeRequest) -> Response:
    """Stands in for the CDN URL WeChat hands out for videos."""
    media = st.media.get(req.query.get("media_id", ""))
    if media is None:
        return Response(b"not found", status_code=404)
    return Response(media[2], media_type="video/mp4")


@endpoint("POST", "/cgi-bin/shorturl")
def shorturl(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Retired (45103) as WeChat has it now; with ``state.shorturl_retired = False`` it shortens as it once did."""
    if st.shorturl_retired:
        raise Fault(45103, "This API has been unsupported")
    body = req.body()
    if body.get("action") != "long2short":
        raise Fault(40097, "invalid args")
    req.need(body.get("long_url"), 40097, "invalid args")
    return {**OK, "short_url": f"https://w.url.cn/s/{random_id(7, _BASE62)}"}


@endpoint("POST", "/cgi-bin/shorten/gen")
def shorten_gen(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    data = req.need(body.get("long_data"), 47001, "data format error")
    expire = body.get("expire_seconds", 2_592_000)
    if len(str(data).encode()) > 4096 or not (isinstance(expire, int) and 0 < expire <= 2_592_000):
        raise Fault(40097, "invalid args")
    key = random_id(15, _BASE62)
    st.short_keys[key] = (str(data), int(time.time()), expire)
    return {**OK, "short_key": key}


@endpoint("POST", "/cgi-bin/shorten/fetch")
def shorten_fetch(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    item = st.short_keys.get(str(req.body().get("short_key")))
    if item is None:
        raise Fault(40097, "invalid args")
    data, created, expire = item
    return {**OK, "long_data": data, "create_time": created, "expire_seconds": expire}
