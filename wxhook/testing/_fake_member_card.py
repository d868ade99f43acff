"""Fake member cards: activating a member (by API, or with WeChat's form a follower fills in), their points and
balance, and what ``userinfo/get`` then reports.

A follower fills in the activation form with ``fake.fill_member_form``, which returns the ``activate_ticket`` WeChat
would add to the page's URL. Updating a member who is not activated answers 40078.
"""

from __future__ import annotations

from typing import Any

from ._fake_card import OK, find_card, live_card
from ._fake_card_code import held_code, usable
from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

MAX_CUSTOM_FIELD_BYTES = 12


def _member_card(card: dict[str, Any]) -> dict[str, Any]:
    if card["type"] != "MEMBER_CARD":
        raise Fault(40071, "invalid card type: not a member card")
    return card


def _member(st: FakeState, body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    card_id, _, entry = held_code(st, body)
    _member_card(st.cards[card_id])
    return card_id, entry


def _custom_values(body: dict[str, Any], prefix: str) -> dict[str, str]:
    values = {f"custom_field_value{i}": body[f"{prefix}{i}"] for i in (1, 2, 3) if f"{prefix}{i}" in body}
    if any(len(str(value).encode()) > MAX_CUSTOM_FIELD_BYTES for value in values.values()):
        raise Fault(45021, "field custom_field_value exceeds its length limit")
    return values


def fill_form(st: FakeState, card_id: str, code: str, common: dict[str, str], custom: dict[str, str]) -> str:
    """The follower holding ``code`` submits the activation form; returns the ``activate_ticket``."""
    card = _member_card(find_card(st, card_id))
    if not card["form"]:
        raise Fault(40078, "invalid card status: the card has no activation form (activateuserform/set)")
    _, _, entry = held_code(st, {"card_id": card_id, "code": code})
    info = {"common_field_list": [{"name": name, "value": value} for name, value in common.items()],
            "custom_field_list": [{"name": name, "value": value, "value_list": []} for name, value in custom.items()]}
    entry["form"] = info
    ticket = random_id(64)
    st.member_forms[ticket] = info
    return ticket


@endpoint("POST", "/card/membercard/activate")
def activate(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    _, entry = _member(st, body)
    usable(entry)
    number = req.need(body.get("membership_number"), 41011, "missing required fields: membership_number")
    member = entry["member"] or {"bonus": 0, "balance": 0}
    entry["member"] = {**member, "membership_number": number, "bonus": body.get("init_bonus", member["bonus"]),
                       "balance": body.get("init_balance", member["balance"]),
                       **_custom_values(body, "init_custom_field_value")}
    return OK


@endpoint("POST", "/card/membercard/updateuser")
def update_user(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """``bonus`` / ``balance`` set the totals; otherwise ``add_bonus`` / ``add_balance`` change them."""
    body = req.body()
    req.need(body.get("card_id"), 41012, "missing card_id")
    _, entry = _member(st, body)
    usable(entry)
    member = entry["member"]
    if member is None:
        raise Fault(40078, "invalid card status: the member card is not activated")
    for total, change in (("bonus", "add_bonus"), ("balance", "add_balance")):
        member[total] = body[total] if total in body else member[total] + body.get(change, 0)
    member.update(_custom_values(body, "custom_field_value"))
    return {**OK, "result_bonus": member["bonus"], "result_balance": member["balance"], "openid": entry["openid"]}


@endpoint("POST", "/card/membercard/userinfo/get")
def user_info(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    req.need(body.get("card_id"), 41012, "missing card_id")
    _, entry = _member(st, body)
    member = entry["member"] or {}
    profile = st.followers.get(entry["openid"], {})
    form = entry["form"] or {"common_field_list": [], "custom_field_list": []}
    return {**OK, "openid": entry["openid"], "nickname": profile.get("nickname", ""),
            "membership_number": member.get("membership_number", ""), "bonus": member.get("bonus", 0),
            "balance": member.get("balance", 0), "sex": profile.get("sex", ""), "user_info": form,
            "user_card_status": entry["status"], "has_active": entry["member"] is not None}


@endpoint("POST", "/card/membercard/activate/geturl")
def activate_url(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    card_id = body.get("card_id")
    _member_card(live_card(st, card_id))
    outer = body.get("outer_str", "")
    return {**OK, "url": f"https://mp.weixin.qq.com/bizmall/activatemembercard?action=preshow&encrypt_card_id="
                         f"{card_id}&outer_str={outer}&biz={st.original_id}#wechat_redirect"}


@endpoint("POST", "/card/membercard/activateuserform/set")
def activate_user_form(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    card = _member_card(live_card(st, body.get("card_id")))
    if not (body.get("required_form") or body.get("optional_form")):
        raise Fault(41011, "missing required fields: required_form or optional_form")
    card["form"] = {key: body[key] for key in ("required_form", "optional_form", "service_statement", "bind_old_card")
                    if key in body}
    return OK


@endpoint("POST", "/card/membercard/activatetempinfo/get")
def activate_temp_info(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    info = st.member_forms.get(str(req.body().get("activate_ticket", "")))
    if info is None:
        raise Fault(40097, "invalid args: activate_ticket")
    return {**OK, "info": info}
