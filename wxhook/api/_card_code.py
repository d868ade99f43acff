"""A card's codes (卡券 code): look one up, consume it at the till, decrypt one from a link, deposit your own.

Each card a follower receives has a code; ``card_id`` may be left out for codes WeChat generated, and is needed
for custom codes (a card created with ``use_custom_code=True``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..custom_messages import drop_none
from ._caller import Group, build, chunks, needed
from ._data import WeChatData

__all__ = ["CardCode", "CodeCheck", "ConsumedCode", "DepositResult"]

MAX_CODES = 100
"""Codes per ``deposit`` or ``checkcode`` request; longer lists are split."""
MAX_CODE_BYTES = 20


@dataclass(frozen=True)
class CardCode(WeChatData):
    """A code as ``card/code/get`` finds it. ``user_card_status`` is NORMAL, CONSUMED, EXPIRE, GIFTING, GIFT_SUCC,
    GIFT_TIMEOUT, DELETE or UNAVAILABLE; ``begin_time`` / ``end_time`` bound when it can be used."""

    code: str
    card_id: str
    openid: str = ""
    can_consume: bool = False
    user_card_status: str = ""
    begin_time: int = 0
    end_time: int = 0
    outer_str: str = ""


@dataclass(frozen=True)
class ConsumedCode(WeChatData):
    """A code just consumed: its card and the follower who held it."""

    code: str
    card_id: str
    openid: str = ""


@dataclass(frozen=True)
class CodeCheck(WeChatData):
    """Which of the codes checked were deposited (``exist_code``) and which were not."""

    exist_code: list[str] = field(default_factory=list)
    not_exist_code: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DepositResult(WeChatData):
    """What a deposit did with each code: taken (``succ_code``), already there (``duplicate_code``), refused
    (``fail_code``). A deposit split into several requests keeps the last answer in ``raw``."""

    succ_code: list[str] = field(default_factory=list)
    duplicate_code: list[str] = field(default_factory=list)
    fail_code: list[str] = field(default_factory=list)


def _own_codes(codes: Sequence[str]) -> list[str]:
    """Codes you choose: non-empty, at most 20 bytes (WeChat's string(20))."""
    if isinstance(codes, str):
        raise TypeError("pass the codes as a list of strings, not one string")
    if not codes:
        raise ValueError("pass at least one code")
    for code in codes:
        if not code or len(code.encode()) > MAX_CODE_BYTES:
            raise ValueError(f"a custom code is 1..{MAX_CODE_BYTES} bytes, got {code!r}")
    return list(codes)


def _code_body(code: str, card_id: str | None) -> dict[str, Any]:
    return {"code": needed(code, "code"), **drop_none(card_id=card_id)}


class CardCodeAPI(Group):
    """``client.card.code``."""

    async def get(self, code: str, card_id: str | None = None, *, check_consume: bool = True) -> CardCode:
        """Look a code up. With ``check_consume`` (WeChat's default) a code that cannot be consumed now fails
        (40099 consumed, 40127 deleted or being given away …); without it, its ``user_card_status`` says why."""
        body = {**_code_body(code, card_id), "check_consume": check_consume}
        data = await self._caller.post("/card/code/get", body)
        card = data.get("card") or {}
        return build(CardCode, data, code=code, card_id=str(card.get("card_id", card_id or "")),
                     begin_time=int(card.get("begin_time", 0)), end_time=int(card.get("end_time", 0)))

    async def consume(self, code: str, card_id: str | None = None) -> ConsumedCode:
        """Use the code up (核销), at the till or online. Not retried blindly: a repeat after a lost answer fails
        with 40099 (already consumed), which would read as someone else's use."""
        data = await self._caller.post("/card/code/consume", _code_body(code, card_id), safe=False)
        card = data.get("card") or {}
        return build(ConsumedCode, data, code=code, card_id=str(card.get("card_id", card_id or "")))

    async def decrypt(self, encrypt_code: str) -> str:
        """The plain code behind the ``encrypt_code`` a card's link or the JS-SDK hands your page."""
        data = await self._caller.post("/card/code/decrypt", {"encrypt_code": needed(encrypt_code, "encrypt_code")})
        return str(data["code"])

    async def deposit(self, card_id: str, codes: Sequence[str]) -> DepositResult:
        """Deposit your own codes (导入 code) for a card created with ``get_custom_code_mode=
        "GET_CUSTOM_CODE_MODE_DEPOSIT"``, 100 per request; then raise its stock with ``client.card.modify_stock``
        (WeChat keeps the stock at or below the codes deposited). Not retried blindly: a repeat would report the
        codes it already took as ``duplicate_code``."""
        needed(card_id, "card_id")
        merged: dict[str, list[str]] = {"succ_code": [], "duplicate_code": [], "fail_code": []}
        data: dict[str, Any] = {}
        for chunk in chunks(_own_codes(codes), MAX_CODES):
            data = await self._caller.post("/card/code/deposit", {"card_id": card_id, "code": list(chunk)}, safe=False)
            for key, found in merged.items():
                found.extend(data.get(key) or [])
        return build(DepositResult, data, **merged)

    async def deposit_count(self, card_id: str) -> int:
        """How many codes were deposited for the card."""
        data = await self._caller.post("/card/code/getdepositcount", {"card_id": needed(card_id, "card_id")})
        return int(data.get("count", 0))

    async def check(self, card_id: str, codes: Sequence[str]) -> CodeCheck:
        """Which of ``codes`` were deposited for the card (any number, 100 per request)."""
        needed(card_id, "card_id")
        exist: list[str] = []
        missing: list[str] = []
        data: dict[str, Any] = {}
        for chunk in chunks(_own_codes(codes), MAX_CODES):
            data = await self._caller.post("/card/code/checkcode", {"card_id": card_id, "code": list(chunk)})
            exist.extend(data.get("exist_code") or [])
            missing.extend(data.get("not_exist_code") or [])
        return build(CodeCheck, data, exist_code=exist, not_exist_code=missing)

    async def update(self, card_id: str, code: str, new_code: str) -> None:
        """Give a follower's custom-code card a new code (e.g. after re-issuing a membership number). Not retried
        blindly: a repeat fails, the old code being gone."""
        (new,) = _own_codes([new_code])
        if new == code:
            raise ValueError(f"new_code is the code it replaces ({code!r}); pass a different one")
        body = {"card_id": needed(card_id, "card_id"), "code": needed(code, "code"), "new_code": new}
        await self._caller.post("/card/code/update", body, safe=False)

    async def mark_unavailable(self, code: str, card_id: str | None = None, *, reason: str | None = None) -> None:
        """Void a code for good (设置卡券失效), e.g. after a refund; the follower sees ``reason``. It cannot be undone,
        and is not retried blindly: a repeat fails on the voided code."""
        body = {**_code_body(code, card_id), **drop_none(reason=reason)}
        await self._caller.post("/card/code/unavailable", body, safe=False)
