"""Fake subscription notifications: a small public template library, the account's templates and bizsend; and
the one-time subscription message: its consent page (``/mp/subscribemsg``) and its send.

Sends check ``data`` against the template's keywords and the value rules of their types (thing ≤ 20
characters, phrase ≤ 5, number digits …). A follower who refused is scripted with
``fake.fail("/cgi-bin/message/subscribe/bizsend", 43101, openid=…)``. A one-time send needs a consent the
signed-in user (``fake.sign_in``) gave on the page for that template and scene, and uses it up.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.responses import RedirectResponse, Response

from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
MAX_TEMPLATES = 25
MIN_KEYWORDS, MAX_KEYWORDS = 2, 5
MAX_SCENE_CHARS = 15
MAX_TITLES_PAGE = 30
CATEGORIES = [{"id": 616, "name": "公交"}, {"id": 2, "name": "电商平台"}]
# tid -> (title, type 2 one-time / 3 long-term, categoryId, [(kid, name, example, rule)])
LIBRARY: dict[int, tuple[str, int, int, list[tuple[int, str, str, str]]]] = {
    99: ("付款成功通知", 2, 616, [
        (1, "物品名称", "地铁票", "thing"), (2, "付款金额", "¥5.00", "amount"),
        (3, "付款时间", "2026-11-29 12:00", "time"),
        (4, "订单号", "A2026112900001", "character_string"), (5, "状态", "成功", "phrase"),
    ]),
    401: ("订单发货通知", 2, 2, [
        (1, "商品名称", "手机壳", "thing"), (2, "快递单号", "SF1234567890", "character_string"),
        (3, "发货数量", "2", "number"),
    ]),
    402: ("物流状态提醒", 3, 2, [(1, "当前状态", "派送中", "phrase"), (2, "更新时间", "2026-11-29 12:00", "time")]),
}  # fmt: skip
_MAX_CHARS = {"thing": 20, "number": 32, "letter": 32, "symbol": 5, "character_string": 32, "phone_number": 17,
              "car_number": 8, "name": 20, "phrase": 5, "amount": 16, "time": 32, "date": 32}  # fmt: skip
_PATTERNS = {"number": r"\d+(\.\d+)?", "letter": r"[A-Za-z]+", "amount": r"[¥$€]?\d{1,10}(\.\d+)?元?"}


def _title(tid: Any) -> tuple[str, int, int, list[tuple[int, str, str, str]]]:
    try:
        return LIBRARY[int(tid)]
    except (KeyError, TypeError, ValueError):
        raise Fault(200014, "invalid tid") from None


@endpoint("POST", "/wxaapi/newtmpl/addtemplate")
def add_template(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    title, kind, _, keywords = _title(body.get("tid"))
    by_kid = {kid: (name, example, rule) for kid, name, example, rule in keywords}
    kids = body.get("kidList")
    if (
        not isinstance(kids, list)
        or not MIN_KEYWORDS <= len(kids) <= MAX_KEYWORDS
        or len(set(kids)) != len(kids)
        or not all(kid in by_kid for kid in kids)
    ):
        raise Fault(200020, "invalid kidList")
    scene = body.get("sceneDesc")
    if not isinstance(scene, str) or not 0 < len(scene) <= MAX_SCENE_CHARS:
        raise Fault(200021, "invalid sceneDesc")
    if len(st.subscribe_templates) >= MAX_TEMPLATES:
        raise Fault(200012, "template num exceeds limit")
    pri_tmpl_id = random_id(43)
    chosen = [(f"{by_kid[kid][2]}{kid}", *by_kid[kid]) for kid in kids]
    st.subscribe_templates[pri_tmpl_id] = {
        "priTmplId": pri_tmpl_id,
        "title": title,
        "content": "".join(f"{name}:{{{{{key}.DATA}}}}\n" for key, name, _, _ in chosen),
        "example": "".join(f"{name}:{example}\n" for _, name, example, _ in chosen),
        "type": kind,
        "rules": {key: rule for key, _, _, rule in chosen},
    }
    return {**OK, "priTmplId": pri_tmpl_id}


@endpoint("POST", "/wxaapi/newtmpl/deltemplate")
def delete_template(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    if st.subscribe_templates.pop(str(req.body().get("priTmplId")), None) is None:
        raise Fault(20001, "system error: template not found")
    return OK


@endpoint("GET", "/wxaapi/newtmpl/gettemplate")
def templates(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    listed = [{k: v for k, v in t.items() if k != "rules"} for t in st.subscribe_templates.values()]
    return {**OK, "data": listed}


@endpoint("GET", "/wxaapi/newtmpl/getcategory")
def categories(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {**OK, "data": CATEGORIES}


@endpoint("GET", "/wxaapi/newtmpl/getpubtemplatekeywords")
def keywords(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    _, _, _, found = _title(req.query.get("tid"))
    data = [{"kid": kid, "name": name, "example": example, "rule": rule} for kid, name, example, rule in found]
    return {**OK, "count": len(data), "data": data}


@endpoint("GET", "/wxaapi/newtmpl/getpubtemplatetitles")
def titles(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    ids = req.need(req.query.get("ids"), 200018, "ids missing")
    if not re.fullmatch(r"\d+(,\d+)*", ids):
        raise Fault(200019, "invalid ids")
    start, limit = req.query.get("start", ""), req.query.get("limit", "")
    if not start.isdigit():
        raise Fault(200016, "invalid start")
    if not limit.isdigit() or not 1 <= int(limit) <= MAX_TITLES_PAGE:
        raise Fault(200017, "invalid limit")
    wanted = {int(i) for i in ids.split(",")}
    found = [
        {"tid": tid, "title": title, "type": kind, "categoryId": str(category)}
        for tid, (title, kind, category, _) in LIBRARY.items()
        if category in wanted
    ]
    return {**OK, "count": len(found), "data": found[int(start) : int(start) + int(limit)]}


def _check_value(key: str, rule: str, value: Any) -> None:
    text = value if isinstance(value, str) else ""
    pattern = _PATTERNS.get(rule)
    if not text or len(text) > _MAX_CHARS.get(rule, 32) or (pattern and not re.fullmatch(pattern, text)):
        raise Fault(47003, f"argument invalid! data.{key}.value invalid")


@endpoint("POST", "/cgi-bin/message/subscribe/bizsend")
def bizsend(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Every keyword of the template must be filled, with ``{key: {"value": …}}``, and nothing else."""
    body = req.body()
    req.need(body.get("touser"), 40003, "invalid openid")
    template = st.subscribe_templates.get(str(body.get("template_id")))
    if template is None:
        raise Fault(40037, "invalid template_id")
    data = body.get("data")
    if not isinstance(data, dict) or set(data) != set(template["rules"]):
        raise Fault(47003, "argument invalid! data does not match the template's keywords")
    for key, rule in template["rules"].items():
        item = data[key]
        _check_value(key, rule, item.get("value") if isinstance(item, dict) else None)
    miniprogram = body.get("miniprogram")
    if miniprogram is not None and not (isinstance(miniprogram, dict) and miniprogram.get("appid")):
        raise Fault(40166, "invalid weapp appid")
    return OK


_RESERVED = re.compile(r"[A-Za-z0-9]{0,128}")


def _one_time_scene(value: Any) -> str:
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or not 0 <= int(text) <= 10_000:
        raise Fault(40097, "invalid args: scene must be 0..10000")
    return str(int(text))


@endpoint("GET", "/mp/subscribemsg", token=False)
def one_time_consent(st: FakeState, req: FakeRequest) -> Response:
    """The consent page, decided at once for the signed-in user: back to redirect_url with ``action=confirm`` and
    the openid, or ``action=cancel`` without it for a user who declines."""
    query = req.query
    if query.get("action") != "get_confirm":
        raise Fault(40097, "invalid args: action must be get_confirm")
    st.check_app(query.get("appid"), with_secret=False)
    scene = _one_time_scene(query.get("scene"))
    template_id = req.need(query.get("template_id"), 40037, "invalid template_id")
    redirect_url = req.need(query.get("redirect_url"), 40097, "invalid args: redirect_url")
    reserved = query.get("reserved", "")
    if not _RESERVED.fullmatch(reserved):
        raise Fault(40097, "invalid args: reserved must be at most 128 characters of a-zA-Z0-9")
    if st.shared.browser_user is None:
        return Response("FakeWeChat: no WeChat user in this browser; call fake.sign_in(openid) first", status_code=403)
    openid, consents = st.shared.browser_user
    back = {"template_id": template_id, "action": "confirm" if consents else "cancel", "scene": scene}
    if consents:
        st.one_time_grants.add((openid, template_id, scene))
        back = {"openid": openid, **back}
    separator = "&" if "?" in redirect_url else "?"
    return RedirectResponse(f"{redirect_url}{separator}{urlencode({**back, 'reserved': reserved})}", status_code=302)


@endpoint("POST", "/cgi-bin/message/template/subscribe")
def one_time_send(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    openid = req.need(body.get("touser"), 40003, "invalid openid")
    template_id = req.need(body.get("template_id"), 40037, "invalid template_id")
    scene = _one_time_scene(body.get("scene"))
    title = body.get("title")
    if not isinstance(title, str) or not 0 < len(title) <= 15:
        raise Fault(47003, "argument invalid! title must be 1..15 characters")
    content = ((body.get("data") or {}).get("content") or {}).get("value")
    if not isinstance(content, str) or not 0 < len(content) <= 200:
        raise Fault(47003, "argument invalid! data.content.value must be 1..200 characters")
    grant = (openid, template_id, scene)
    if grant not in st.one_time_grants:
        raise Fault(43101, "user refuse to accept the msg")
    st.one_time_grants.discard(grant)
    return OK
