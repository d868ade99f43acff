"""Fake mass send: sends to all, a tag or an openid list, previews, status, deletion and the send speed, and the
ids a send of a video (``media/uploadvideo``) or of articles (``media/uploadnews``) takes.

Sends finish at once (status SEND_SUCCESS). A ``clientmsgid`` is remembered for 24 hours of the fake's
clock (``fake.advance``) and a second send with it answers 45065, as WeChat does. An ``mpvideo`` send takes only
an ``uploadvideo`` id, as the mass-send docs require; ``mpnews`` a draft or an ``uploadnews`` id.
"""

from __future__ import annotations

import time
from typing import Any

from ._fake_articles import check_text, new_id, news_articles, take_draft
from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
MIN_OPENIDS, MAX_OPENIDS = 2, 10_000
MAX_CLIENTMSGID_BYTES = 64
CLIENTMSGID_TTL = 24 * 3600
REALSPEED = {0: 80, 1: 60, 2: 45, 3: 30, 4: 10}  # 10k per minute, per speed level
MEDIA_TTL = 3 * 24 * 3600
_MEDIA_TYPES = {"voice": ("voice",), "image": ("image",)}
_DELETABLE = ("mpnews", "mpvideo")


def _media(st: FakeState, media_id: Any, kinds: tuple[str, ...]) -> None:
    """Permanent material, or temporary media, of one of ``kinds``."""
    material = st.materials.get(str(media_id))
    media = st.media.get(str(media_id))
    if not (material and material["type"] in kinds) and not (media and media[0] in kinds):
        raise Fault(40007, "invalid media_id")


def _check_message(st: FakeState, req: FakeRequest, body: dict[str, Any]) -> str:
    """Validate ``msgtype`` and its payload; returns the msgtype."""
    msgtype = body.get("msgtype")
    key = "images" if msgtype == "image" and "images" in body else msgtype
    if msgtype not in ("mpnews", "text", "voice", "image", "mpvideo", "wxcard"):
        raise Fault(40008, "invalid message type")
    payload = body.get(str(key))
    if not isinstance(payload, dict):
        raise Fault(47001, "data format error")
    if msgtype == "text":
        req.need(payload.get("content"), 44004, "empty content")
    elif msgtype == "wxcard":
        req.need(payload.get("card_id"), 40073, "invalid card_id")
    elif msgtype == "mpnews":
        if str(payload.get("media_id")) not in st.drafts:
            _mass_media(st, payload.get("media_id"), "news")
    elif msgtype == "mpvideo":
        _mass_media(st, payload.get("media_id"), "video")
    else:
        media_ids = payload.get("media_ids") if key == "images" else [payload.get("media_id")]
        for media_id in req.need(media_ids, 40007, "invalid media_id"):
            _media(st, media_id, _MEDIA_TYPES[msgtype])
    return str(msgtype)


def _accept(st: FakeState, req: FakeRequest, body: dict[str, Any]) -> dict[str, Any]:
    """Dedupe on clientmsgid, record the send; mpnews takes the draft out of the draft box."""
    msgtype = _check_message(st, req, body)
    clientmsgid = body.get("clientmsgid")
    now = st.now()
    if clientmsgid is not None:
        if not isinstance(clientmsgid, str) or not 0 < len(clientmsgid.encode()) <= MAX_CLIENTMSGID_BYTES:
            raise Fault(40097, "invalid args: clientmsgid")
        accepted = st.mass_clientmsgids.get(clientmsgid)
        if accepted is not None and now - accepted < CLIENTMSGID_TTL:
            raise Fault(45065, "clientmsgid exist")
        st.mass_clientmsgids[clientmsgid] = now
    msg_id = new_id(st)
    sent: dict[str, Any] = {"msg_status": "SEND_SUCCESS", "msgtype": msgtype, "articles": 1}
    answer = {"errcode": 0, "errmsg": "send job submission success", "msg_id": msg_id}
    if msgtype == "mpnews":
        media_id = str(body["mpnews"]["media_id"])
        uploaded = st.mass_media.get(media_id)
        sent["articles"] = len(take_draft(st, media_id) if uploaded is None else uploaded["articles"])
        answer["msg_data_id"] = new_id(st)
    st.mass_sends[msg_id] = sent
    return answer


def _mass_media(st: FakeState, media_id: Any, kind: str) -> dict[str, Any]:
    """An id ``uploadvideo`` or ``uploadnews`` made; uploaded media expire after 3 days of the fake's clock."""
    uploaded = st.mass_media.get(str(media_id))
    if uploaded is None or uploaded["type"] != kind or st.now() >= uploaded["expires_at"]:
        raise Fault(40007, "invalid media_id")
    return uploaded


def _keep(st: FakeState, kind: str, **fields: Any) -> dict[str, Any]:
    media_id = random_id(64)
    st.mass_media[media_id] = {"type": kind, "expires_at": st.now() + MEDIA_TTL, **fields}
    return {"type": kind, "media_id": media_id, "created_at": int(time.time())}


@endpoint("POST", "/cgi-bin/media/uploadvideo")
def upload_video(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """From a video's media_id, temporary or permanent."""
    body = req.body()
    _media(st, body.get("media_id"), ("video",))
    return _keep(st, "video", source=body["media_id"], title=body.get("title"), description=body.get("description"))


@endpoint("POST", "/cgi-bin/media/uploadnews")
def upload_news(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """1–8 articles, each with a title, content under 20,000 characters and an image's media_id as its thumb."""
    articles = news_articles(req)
    for article in articles:
        _media(st, check_text(article).get("thumb_media_id"), ("thumb", "image"))
    return _keep(st, "news", articles=articles)


@endpoint("POST", "/cgi-bin/message/mass/sendall")
def sendall(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    target = body.get("filter")
    if not isinstance(target, dict) or not isinstance(target.get("is_to_all"), bool):
        raise Fault(47001, "data format error: filter.is_to_all")
    if not target["is_to_all"] and target.get("tag_id") not in st.tags:
        raise Fault(45159, "invalid tag id")
    return _accept(st, req, body)


@endpoint("POST", "/cgi-bin/message/mass/send")
def send(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    touser = body.get("touser")
    if not isinstance(touser, list) or not MIN_OPENIDS <= len(touser) <= MAX_OPENIDS:
        raise Fault(40130, "invalid openid list size, at least two openid")
    return _accept(st, req, body)


@endpoint("POST", "/cgi-bin/message/mass/preview")
def preview(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Any non-empty openid or WeChat id is accepted; the draft stays in the draft box."""
    body = req.body()
    req.need(body.get("touser") or body.get("towxname"), 40003, "invalid openid")
    _check_message(st, req, body)
    return {"errcode": 0, "errmsg": "preview success", "msg_id": new_id(st)}


def _sent(st: FakeState, msg_id: Any) -> dict[str, Any]:
    sent = st.mass_sends.get(msg_id) if isinstance(msg_id, int) else None
    if sent is None:
        raise Fault(40097, "invalid args: msg_id not found")
    return sent


@endpoint("POST", "/cgi-bin/message/mass/delete")
def delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Only articles and videos can be withdrawn; article_idx 0 withdraws the whole send."""
    body = req.body()
    sent = _sent(st, body.get("msg_id"))
    if sent["msgtype"] not in _DELETABLE:
        raise Fault(40097, "invalid args: only mpnews and mpvideo sends can be deleted")
    index = body.get("article_idx", 0)
    if not isinstance(index, int) or not 0 <= index <= sent["articles"]:
        raise Fault(40097, "invalid args: article_idx out of range")
    if index == 0 or sent["articles"] == 1:
        sent["msg_status"] = "DELETE"
    return OK


@endpoint("POST", "/cgi-bin/message/mass/get")
def status(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    msg_id = req.body().get("msg_id")
    return {"msg_id": msg_id, "msg_status": _sent(st, msg_id)["msg_status"]}


@endpoint("POST", "/cgi-bin/message/mass/speed/get")
def speed_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"speed": st.mass_speed, "realspeed": REALSPEED[st.mass_speed]}


@endpoint("POST", "/cgi-bin/message/mass/speed/set")
def speed_set(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    speed = req.body().get("speed")
    if not isinstance(speed, int) or speed not in REALSPEED:
        raise Fault(40097, "invalid args: speed must be 0..4")
    st.mass_speed = speed
    return OK
