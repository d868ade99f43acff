"""Fake card codes: a follower receiving a card, and the codes they hold looked up, consumed, voided, re-numbered and
decrypted; the codes a merchant deposits for a custom-code card.

A code WeChat generated is found by the code alone; a custom code needs its card_id too (41012 without). A consumed
code answers 40099, a voided one 40056, one the follower discarded 40127.
"""

from __future__ import annotations

import secrets
from typing import Any

from ._fake_card import DAY, DEPOSIT_MODE, OK, base_info, card_id_of, find_card, free_deposits, live_card
from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

MAX_CODES = 100
MAX_CODE_BYTES = 20
_REFUSED = {
    "CONSUMED": (40099, "invalid code, this code has consumed"),
    "DELETE": (40127, "the card was deleted by the user"),
    "GIFTING": (40127, "the card is being given to a friend"),
    "UNAVAILABLE": (40056, "invalid code: the code was made unavailable"),
}


def _validity(st: FakeState, dates: dict[str, Any]) -> tuple[int, int]:
    """When a code received now can be used: the card's range, or its term counted from today (capped by its end)."""
    now = st.shared.wall()
    if dates["type"] == "DATE_TYPE_FIX_TIME_RANGE":
        return dates["begin_timestamp"], dates["end_timestamp"]
    if dates["type"] == "DATE_TYPE_FIX_TERM":
        begin = now + dates.get("fixed_begin_term", 0) * DAY
        end = begin + dates["fixed_term"] * DAY
        return begin, min(end, dates.get("end_timestamp") or end)
    return now, 0


def _new_code(st: FakeState, card_id: str, card: dict[str, Any], code: str | None) -> str:
    """The code the follower gets: the next deposited one, the custom one given, or twelve digits WeChat picks."""
    base = base_info(card)
    if base.get("get_custom_code_mode") == DEPOSIT_MODE:
        free = free_deposits(st, card_id)
        chosen = code or (free[0] if free else None)
        if chosen not in free:
            raise Fault(40056, "invalid code: not a deposited code left to hand out")
        st.card_deposits[card_id][chosen] = True
        return str(chosen)
    if base.get("use_custom_code"):
        if not code or (card_id, code) in st.card_codes:
            raise Fault(40056, "invalid code: a custom-code card is received with a new code of your choice")
        return code
    if code is not None:
        raise Fault(40056, "invalid code: WeChat chooses the codes of this card")
    while True:
        picked = f"{secrets.randbelow(10**12):012d}"
        if all(existing != picked for _, existing in st.card_codes):
            return picked


def give_card(st: FakeState, card_id: str, openid: str, code: str | None, outer_str: str) -> str:
    """A follower receives the card, as scanning its QR code does: checked as WeChat checks it, one stock less."""
    card = live_card(st, card_id)
    base = base_info(card)
    if card["status"] != "CARD_STATUS_VERIFY_OK" and openid not in st.card_whitelist:
        raise Fault(40078, "invalid card status: the card is in review and the follower is not on the test white list")
    if card["quantity"] < 1:
        raise Fault(45031, "stock is 0")
    held = sum(1 for (owner, _), entry in st.card_codes.items() if owner == card_id and entry["openid"] == openid)
    if isinstance(base.get("get_limit"), int) and held >= base["get_limit"]:
        raise Fault(45033, "user get card num exceed get_limit")
    chosen = _new_code(st, card_id, card, code)
    begin, end = _validity(st, base["date_info"])
    st.card_codes[(card_id, chosen)] = {"openid": openid, "status": "NORMAL", "outer_str": outer_str,
                                        "begin_time": begin, "end_time": end, "member": None, "form": None}
    card["quantity"] -= 1
    card["given"] += 1
    return chosen


def encrypt_code(st: FakeState, card_id: str, code: str) -> str:
    """The ``encrypt_code`` a card's link or the JS-SDK would hand a page for this code."""
    if (card_id, code) not in st.card_codes:
        raise Fault(40056, "invalid code")
    encrypted = random_id(64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
    st.encrypted_codes[encrypted] = (card_id, code)
    return encrypted


def held_code(st: FakeState, body: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """``(card_id, code, entry)`` of the code a request names."""
    code, card_id = body.get("code"), body.get("card_id")
    if not isinstance(code, str) or not code:
        raise Fault(40056, "invalid serial code")
    if card_id:
        find_card(st, card_id)
        found = [card_id] if (card_id, code) in st.card_codes else []
    else:
        found = [owner for owner, held in st.card_codes if held == code]
    if not found:
        raise Fault(40056, "invalid serial code")
    if not card_id and base_info(st.cards[found[0]]).get("use_custom_code"):
        raise Fault(41012, "missing card_id: a custom code is found with its card_id")
    return found[0], code, st.card_codes[(found[0], code)]


def usable(entry: dict[str, Any]) -> None:
    refused = _REFUSED.get(entry["status"])
    if refused is not None:
        raise Fault(*refused)


@endpoint("POST", "/card/code/get")
def code_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    card_id, _, entry = held_code(st, body)
    if body.get("check_consume", True):
        usable(entry)
    card = {"card_id": card_id, "begin_time": entry["begin_time"], "end_time": entry["end_time"]}
    answer = {**OK, "card": card, "openid": entry["openid"], "can_consume": entry["status"] == "NORMAL",
              "user_card_status": entry["status"]}
    return {**answer, "outer_str": entry["outer_str"]} if entry["outer_str"] else answer


@endpoint("POST", "/card/code/consume")
def code_consume(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    card_id, _, entry = held_code(st, req.body())
    usable(entry)
    entry["status"] = "CONSUMED"
    return {**OK, "card": {"card_id": card_id}, "openid": entry["openid"]}


@endpoint("POST", "/card/code/decrypt")
def code_decrypt(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    found = st.encrypted_codes.get(str(req.body().get("encrypt_code", "")))
    if found is None:
        raise Fault(40072, "invalid encrypt code")
    return {**OK, "code": found[1]}


def _custom_card(st: FakeState, card_id: Any) -> dict[str, Any]:
    card = live_card(st, card_id)
    if not base_info(card).get("use_custom_code"):
        raise Fault(40056, "invalid code: only a custom-code card takes codes of your choice")
    return card


def _codes(req: FakeRequest, body: dict[str, Any]) -> list[Any]:
    codes = req.need(body.get("code"), 41011, "missing required fields: code")
    if not isinstance(codes, list) or len(codes) > MAX_CODES:
        raise Fault(40097, f"invalid args: code is a list of at most {MAX_CODES}")
    return codes


@endpoint("POST", "/card/code/deposit")
def code_deposit(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    card_id = card_id_of(body)
    _custom_card(st, card_id)
    deposited = st.card_deposits.setdefault(card_id, {})
    answer: dict[str, Any] = {**OK, "succ_code": [], "duplicate_code": [], "fail_code": []}
    for code in _codes(req, body):
        if not isinstance(code, str) or not 0 < len(code.encode()) <= MAX_CODE_BYTES:
            answer["fail_code"].append(code)
        elif code in deposited:
            answer["duplicate_code"].append(code)
        else:
            deposited[code] = False
            answer["succ_code"].append(code)
    return answer


@endpoint("POST", "/card/code/getdepositcount")
def code_deposit_count(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    card_id = card_id_of(req.body())
    find_card(st, card_id)
    return {**OK, "count": len(st.card_deposits.get(card_id, {}))}


@endpoint("POST", "/card/code/checkcode")
def code_check(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    card_id = card_id_of(body)
    find_card(st, card_id)
    deposited = st.card_deposits.get(card_id, {})
    codes = _codes(req, body)
    return {**OK, "exist_code": [c for c in codes if c in deposited],
            "not_exist_code": [c for c in codes if c not in deposited]}


@endpoint("POST", "/card/code/update")
def code_update(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    req.need(body.get("card_id"), 41012, "missing card_id")
    _custom_card(st, body["card_id"])
    card_id, code, entry = held_code(st, body)
    usable(entry)
    new = body.get("new_code")
    if not isinstance(new, str) or not 0 < len(new.encode()) <= MAX_CODE_BYTES or (card_id, new) in st.card_codes:
        raise Fault(40056, "invalid code: new_code is taken or malformed")
    st.card_codes[(card_id, new)] = st.card_codes.pop((card_id, code))
    return OK


@endpoint("POST", "/card/code/unavailable")
def code_unavailable(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    _, _, entry = held_code(st, body)
    usable(entry)
    entry.update(status="UNAVAILABLE", reason=body.get("reason", ""))
    return OK
