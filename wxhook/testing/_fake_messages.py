"""Fake outbound messages: customer-service sends, typing, and template messages."""

from __future__ import annotations

from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
_REQUIRED = {
    "text": ("content",),
    "image": ("media_id",),
    "voice": ("media_id",),
    "video": ("media_id",),
    "music": ("musicurl", "hqmusicurl", "thumb_media_id"),
    "news": ("articles",),
    "mpnews": ("media_id",),
    "mpnewsarticle": ("article_id",),
    "link": ("title", "url"),
    "miniprogrampage": ("appid", "pagepath", "thumb_media_id"),
    "msgmenu": ("list",),
    "wxcard": ("card_id",),
}
_INDUSTRIES = {"1": ("IT科技", "互联网/电子商务"), "2": ("IT科技", "IT软件与服务"), "41": ("其它", "其它")}


@endpoint("POST", "/cgi-bin/message/custom/send")
def custom_send(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Any non-empty openid is accepted; script 45015/43004 for one with ``fake.fail(…, openid=…)``."""
    body = req.body()
    req.need(body.get("touser"), 40003, "invalid openid")
    msgtype = body.get("msgtype")
    if msgtype not in _REQUIRED:
        raise Fault(40008, "invalid message type")
    payload = body.get(msgtype)
    if not isinstance(payload, dict):
        raise Fault(47001, "data format error")
    for key in _REQUIRED[msgtype]:
        req.need(payload.get(key), 44004 if key == "content" else 47001, f"{msgtype}.{key} missing")
    if msgtype == "news" and len(payload["articles"]) > 1:
        raise Fault(45008, "article size out of limit")
    return OK


@endpoint("POST", "/cgi-bin/message/custom/typing")
def typing(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    req.need(body.get("touser"), 40003, "invalid openid")
    if body.get("command") not in ("Typing", "CancelTyping"):
        raise Fault(40097, "invalid args")
    return OK


@endpoint("POST", "/cgi-bin/template/api_set_industry")
def set_industry(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    first, second = str(body.get("industry_id1", "")), str(body.get("industry_id2", ""))
    if not {first, second} <= set(_INDUSTRIES):
        raise Fault(40102, "invalid industry id")
    st.industry = (first, second)
    return OK


@endpoint("GET", "/cgi-bin/template/get_industry")
def get_industry(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    first, second = st.industry or ("41", "41")
    names = ("first_class", "second_class")
    return {
        "primary_industry": dict(zip(names, _INDUSTRIES[first], strict=True)),
        "secondary_industry": dict(zip(names, _INDUSTRIES[second], strict=True)),
    }


def add_template(st: FakeState, short_id: str, keywords: list[str]) -> str:
    if len(st.templates) >= 25:
        raise Fault(45026, "template num exceeds limit")
    template_id = random_id(43)
    content = "".join(f"{name}:{{{{keyword{i}.DATA}}}}\n" for i, name in enumerate(keywords, 1))
    primary, deputy = _INDUSTRIES[(st.industry or ("1", "1"))[0]]
    st.templates[template_id] = {
        "template_id": template_id,
        "title": f"template {short_id}",
        "primary_industry": primary,
        "deputy_industry": deputy,
        "content": content,
        "example": "".join(f"{name}:示例{i}\n" for i, name in enumerate(keywords, 1)),
    }
    return template_id


@endpoint("POST", "/cgi-bin/template/api_add_template")
def api_add_template(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    short_id = req.need(body.get("template_id_short"), 40037, "invalid template_id")
    keywords = body.get("keyword_name_list") or []
    if not isinstance(keywords, list):
        raise Fault(40246, "invalid keyword_name_list")
    return {**OK, "template_id": add_template(st, str(short_id), keywords)}


@endpoint("GET", "/cgi-bin/template/get_all_private_template")
def list_templates(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"template_list": list(st.templates.values())}


@endpoint("POST", "/cgi-bin/template/del_private_template")
def del_template(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    if st.templates.pop(str(req.body().get("template_id")), None) is None:
        raise Fault(40037, "invalid template_id")
    return OK


@endpoint("POST", "/cgi-bin/message/template/send")
def template_send(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Needs touser, a template of this account and ``data`` of ``{key: {value, color?}}``.

    A repeated client_msg_id for the same openid gets the first send's msgid back, as WeChat dedupes it.
    """
    body = req.body()
    touser = req.need(body.get("touser"), 40003, "invalid openid")
    if body.get("template_id") not in st.templates:
        raise Fault(40037, "invalid template_id")
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        raise Fault(47003, "argument invalid! data is empty")
    for key, item in data.items():
        if not isinstance(item, dict) or "value" not in item:
            raise Fault(47003, f"argument invalid! data.{key}.value invalid")
    dedupe = (str(touser), str(body["client_msg_id"])) if body.get("client_msg_id") else None
    if dedupe is not None and dedupe in st.template_msgids:
        return {**OK, "msgid": st.template_msgids[dedupe]}
    st.next_msgid += 1
    if dedupe is not None:
        st.template_msgids[dedupe] = st.next_msgid
    return {**OK, "msgid": st.next_msgid}
