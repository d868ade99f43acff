"""Fake cards (卡券): creating, reading, changing and deleting a card, its stock, QR codes, landing pages, the test
white list, the pay cell, a follower's cards and the card's article HTML.

A new card is in review (CARD_STATUS_NOT_VERIFY) until ``fake.review_card`` passes it; meanwhile only the test white
list can receive it. A follower receives a card with ``fake.give_card`` (as scanning its QR code would): the stock
goes down by one and the follower holds a new code. A deleted card stays readable (CARD_STATUS_DELETE) and its codes
stay usable, but it can no longer be handed out.
"""

from __future__ import annotations

import string
from typing import Any

from ._fake_articles import new_id
from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
CARD_TYPES = ("GROUPON", "CASH", "DISCOUNT", "GIFT", "GENERAL_COUPON", "MEMBER_CARD")
MAX_QUANTITY = 100_000_000
DAY = 86_400
_KIND_REQUIRED = {"GROUPON": "deal_detail", "CASH": "reduce_cost", "DISCOUNT": "discount", "GIFT": "gift",
                  "GENERAL_COUPON": "default_detail", "MEMBER_CARD": "prerogative"}
_BASE_REQUIRED = ("logo_url", "brand_name", "code_type", "title", "color", "notice", "description", "date_info",
                  "sku")
_BYTE_LIMITS = {"logo_url": 128, "brand_name": 36, "title": 27, "notice": 48, "description": 3072,
                "service_phone": 24}
_REVIEWED = ("logo_url", "brand_name", "title", "notice", "description", "prerogative")
_QR_SECONDS = range(60, 1801)
_SCENES = ("SCENE_NEAR_BY", "SCENE_MENU", "SCENE_QRCODE", "SCENE_ARTICLE", "SCENE_H5", "SCENE_IVR",
           "SCENE_CARD_CUSTOM_CELL")
DEPOSIT_MODE = "GET_CUSTOM_CODE_MODE_DEPOSIT"


def card_id_of(body: dict[str, Any]) -> str:
    """The card_id a request names ("" for none, which no card has)."""
    return str(body.get("card_id") or "")


def find_card(st: FakeState, card_id: Any) -> dict[str, Any]:
    card = st.cards.get(card_id) if isinstance(card_id, str) else None
    if card is None:
        raise Fault(40073, "invalid card id")
    return card


def live_card(st: FakeState, card_id: Any) -> dict[str, Any]:
    """A card that can still be handed out or restocked."""
    card = find_card(st, card_id)
    if card["status"] == "CARD_STATUS_DELETE":
        raise Fault(40078, "invalid card status: the card was deleted")
    return card


def base_info(card: dict[str, Any]) -> dict[str, Any]:
    return card["kind"]["base_info"]  # type: ignore[no-any-return]


def free_deposits(st: FakeState, card_id: str) -> list[str]:
    """Deposited codes not handed out yet, oldest first."""
    return [code for code, given in st.card_deposits.get(card_id, {}).items() if not given]


def _check_lengths(base: dict[str, Any]) -> None:
    for name, limit in _BYTE_LIMITS.items():
        if isinstance(base.get(name), str) and len(base[name].encode()) > limit:
            raise Fault(45021, f"field {name} exceeds its length limit")


def _check_dates(card_type: str, dates: Any) -> None:
    if not isinstance(dates, dict):
        raise Fault(47001, "data format error: date_info")
    kind = dates.get("type")
    if kind == "DATE_TYPE_FIX_TIME_RANGE":
        begin, end = dates.get("begin_timestamp"), dates.get("end_timestamp")
        if not isinstance(begin, int) or not isinstance(end, int) or not 0 < begin < end < 2**31:
            raise Fault(40100, "invalid time range")
    elif kind == "DATE_TYPE_FIX_TERM":
        if not isinstance(dates.get("fixed_term"), int) or dates["fixed_term"] < 1:
            raise Fault(40079, "invalid time: fixed_term")
    elif kind != "DATE_TYPE_PERMANENT" or card_type != "MEMBER_CARD":
        raise Fault(40079, "invalid time: date_info.type")


@endpoint("POST", "/card/create")
def create(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    card = req.body().get("card")
    if not isinstance(card, dict):
        raise Fault(47001, "data format error: card")
    card_type = card.get("card_type")
    if card_type not in CARD_TYPES:
        raise Fault(40071, "invalid card type")
    kind = card.get(card_type.lower())
    if not isinstance(kind, dict) or not isinstance(kind.get("base_info"), dict):
        raise Fault(41011, f"missing required fields: {card_type.lower()}.base_info")
    base = kind["base_info"]
    for name in _BASE_REQUIRED:
        req.need(base.get(name), 41011, f"missing required fields: base_info.{name}")
    req.need(kind.get(_KIND_REQUIRED[card_type]), 41011, f"missing required fields: {_KIND_REQUIRED[card_type]}")
    _check_lengths(base)
    _check_dates(card_type, base["date_info"])
    quantity = base["sku"].get("quantity") if isinstance(base["sku"], dict) else None
    if not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
        raise Fault(40122, "invalid quantity")
    if base.get("get_custom_code_mode") == DEPOSIT_MODE and quantity:
        raise Fault(40136, "invalid use DepositCodeMode, make sure sku.quantity>DepositCode.quantity")
    card_id = "p" + random_id(27, string.ascii_letters + string.digits + "-_")
    now = st.shared.wall()
    st.cards[card_id] = {"type": card_type, "kind": kind, "status": "CARD_STATUS_NOT_VERIFY", "quantity": quantity,
                         "given": 0, "pay_cell": False, "form": None, "create_time": now, "update_time": now}
    return {**OK, "card_id": card_id}


@endpoint("POST", "/card/get")
def get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    card_id = req.body().get("card_id")
    card = find_card(st, card_id)
    base = {**base_info(card), "id": card_id, "status": card["status"],
            "sku": {"quantity": card["quantity"], "total_quantity": card["quantity"] + card["given"]},
            "create_time": card["create_time"], "update_time": card["update_time"]}
    return {**OK, "card": {"card_type": card["type"], card["type"].lower(): {**card["kind"], "base_info": base}}}


@endpoint("POST", "/card/update")
def update(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """A change to a reviewed field (title, logo, notice …) sends the card back to review."""
    body = req.body()
    card = live_card(st, body.get("card_id"))
    changes = body.get(card["type"].lower())
    if not isinstance(changes, dict) or not changes:
        raise Fault(40071, f"invalid card type: the changes go under {card['type'].lower()!r}")
    base_changes = changes.get("base_info") or {}
    if "sku" in base_changes:
        raise Fault(40122, "invalid quantity: change the stock with card/modifystock")
    _check_lengths(base_changes)
    if "date_info" in base_changes:
        _check_dates(card["type"], base_changes["date_info"])
    card["kind"] = {**card["kind"], **changes, "base_info": {**base_info(card), **base_changes}}
    card["update_time"] = st.shared.wall()
    send_check = any(name in base_changes or name in changes for name in _REVIEWED)
    if send_check:
        card["status"] = "CARD_STATUS_NOT_VERIFY"
    return {**OK, "send_check": send_check}


@endpoint("POST", "/card/delete")
def delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    live_card(st, req.body().get("card_id"))["status"] = "CARD_STATUS_DELETE"
    return OK


@endpoint("POST", "/card/modifystock")
def modify_stock(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """A card whose codes are deposited never has more stock than codes left to hand out (40136)."""
    body = req.body()
    card_id = card_id_of(body)
    card = live_card(st, card_id)
    more, less = body.get("increase_stock_value", 0), body.get("reduce_stock_value", 0)
    if not isinstance(more, int) or not isinstance(less, int) or more < 0 or less < 0 or not (more or less):
        raise Fault(40122, "invalid quantity")
    quantity = card["quantity"] + more - less
    if not 0 <= quantity <= MAX_QUANTITY:
        raise Fault(40122, "invalid quantity: the stock would leave 0..100000000")
    if base_info(card).get("get_custom_code_mode") == DEPOSIT_MODE and quantity > len(free_deposits(st, card_id)):
        raise Fault(40136, "invalid use DepositCodeMode, make sure sku.quantity>DepositCode.quantity")
    card["quantity"] = quantity
    return OK


def _qr_card(st: FakeState, item: Any, single: bool) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise Fault(40053, "invalid action info")
    base = base_info(live_card(st, item.get("card_id")))
    if base.get("use_custom_code") and base.get("get_custom_code_mode") != DEPOSIT_MODE and not item.get("code"):
        raise Fault(40056, "invalid code: a custom-code card's QR code needs its code")
    if single and base.get("bind_openid") and not item.get("openid"):
        raise Fault(40003, "invalid openid: the card is bound to openids")
    return item


@endpoint("POST", "/card/qrcode/create")
def qrcode_create(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    action, info = body.get("action_name"), body.get("action_info") or {}
    if action == "QR_CARD":
        cards = [_qr_card(st, info.get("card"), single=True)]
    elif action == "QR_MULTIPLE_CARD":
        listed = (info.get("multiple_card") or {}).get("card_list")
        cards = [_qr_card(st, item, single=False) for item in req.need(listed, 40053, "invalid action info")]
    else:
        raise Fault(40052, "invalid action name")
    expire = body.get("expire_seconds", 365 * DAY)
    if "expire_seconds" in body and expire not in _QR_SECONDS:
        raise Fault(40053, "invalid action info: expire_seconds is 60..1800")
    ticket = f"gQ{random_id(70)}=="
    st.qrcodes[ticket] = {"action_name": action, "cards": cards}
    return {**OK, "ticket": ticket, "expire_seconds": expire, "url": f"http://weixin.qq.com/q/{random_id(22)}",
            "show_qrcode_url": f"https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket={ticket}"}


@endpoint("POST", "/card/landingpage/create")
def landing_page(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    for name in ("banner", "page_title", "scene", "card_list"):
        req.need(body.get(name), 41011, f"missing required fields: {name}")
    if body["scene"] not in _SCENES:
        raise Fault(40097, "invalid args: scene")
    for item in body["card_list"]:
        live_card(st, item.get("card_id") if isinstance(item, dict) else None)
    page_id = new_id(st)
    return {**OK, "url": f"https://mp.weixin.qq.com/bizmall/cardlandingpage?page_id={page_id}", "page_id": page_id}


@endpoint("POST", "/card/testwhitelist/set")
def test_whitelist(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    listed = [*(body.get("openid") or []), *(body.get("username") or [])]
    st.card_whitelist = {str(name) for name in req.need(listed, 41011, "missing required fields: openid/username")}
    return OK


@endpoint("POST", "/card/paycell/set")
def pay_cell(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    card = live_card(st, body.get("card_id"))
    if not isinstance(body.get("is_open"), bool):
        raise Fault(47001, "data format error: is_open")
    card["pay_cell"] = body["is_open"]
    return OK


@endpoint("POST", "/card/user/getcardlist")
def user_cards(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """The follower's codes still in their card holder (consumed, voided and discarded ones are not)."""
    body = req.body()
    openid = req.need(body.get("openid"), 40003, "invalid openid")
    wanted = body.get("card_id")
    if wanted:
        find_card(st, wanted)
    held = [{"code": code, "card_id": card_id} for (card_id, code), entry in st.card_codes.items()
            if entry["openid"] == openid and entry["status"] == "NORMAL" and wanted in (None, "", card_id)]
    shareable = any(base_info(st.cards[item["card_id"]]).get("can_give_friend") for item in held)
    return {**OK, "card_list": held, "has_share_card": shareable}


@endpoint("POST", "/card/mpnews/gethtml")
def mpnews_html(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    card_id = req.body().get("card_id")
    base = base_info(live_card(st, card_id))
    if base.get("use_custom_code") and base.get("get_custom_code_mode") != DEPOSIT_MODE:
        raise Fault(40056, "invalid code: a custom-code card goes into articles once its codes are deposited")
    return {**OK, "content": f'<iframe class="res_iframe card_iframe js_editor_card" data-src="{card_id}" '
                            f'frameborder="0"></iframe>'}
