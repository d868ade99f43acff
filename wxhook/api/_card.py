"""Cards and coupons (卡券): create a card, manage it and its stock, and hand it out (QR codes, landing pages).

``client.card`` holds the calls on a card; ``client.card.code`` those on the codes followers hold, and
``client.card.member`` those on member cards::

    card_id = await client.card.create(CashCoupon(base, reduce_cost=2000, least_cost=10000))
    qr = await client.card.create_qrcode(card_id, expire_seconds=1800)
    consumed = await client.card.code.consume(code)
    await client.card.member.update(member_card_id, code, add_bonus=10, record_bonus="消费100元")
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..custom_messages import drop_none
from ._caller import Caller, Group, build, needed
from ._card_code import CardCodeAPI
from ._card_info import CARD_TYPES, CardType, NewCard, check_base_fields
from ._data import WeChatData
from ._member_card import MemberCardAPI

__all__ = ["CardDetails", "CardQRCode", "LandingPage", "QRCard", "UserCard", "UserCardList"]

MIN_QR_SECONDS, MAX_QR_SECONDS = 60, 1800
LandingScene = Literal[
    "SCENE_NEAR_BY", "SCENE_MENU", "SCENE_QRCODE", "SCENE_ARTICLE", "SCENE_H5", "SCENE_IVR", "SCENE_CARD_CUSTOM_CELL",
]
_SCENES = ("SCENE_NEAR_BY", "SCENE_MENU", "SCENE_QRCODE", "SCENE_ARTICLE", "SCENE_H5", "SCENE_IVR",
           "SCENE_CARD_CUSTOM_CELL")


@dataclass(frozen=True)
class CardDetails(WeChatData):
    """A card as ``card/get`` returns it. ``status`` is CARD_STATUS_NOT_VERIFY (in review), CARD_STATUS_VERIFY_OK,
    CARD_STATUS_VERIFY_FAIL, CARD_STATUS_DELETE or CARD_STATUS_DISPATCH; ``quantity`` is the stock left of
    ``total_quantity``. ``base_info`` and the kind's other ``fields`` are WeChat's objects as they come."""

    card_id: str
    card_type: str
    status: str = ""
    title: str = ""
    brand_name: str = ""
    quantity: int = 0
    total_quantity: int = 0
    base_info: dict[str, Any] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QRCard:
    """One card of a card QR code. ``code`` is needed for a custom-code card, ``openid`` for one bound to a follower;
    ``outer_str`` tags the channel (it comes back in the ``user_get_card`` event); ``is_unique_code`` makes the QR
    code hand out one code, once."""

    card_id: str
    code: str | None = None
    openid: str | None = None
    outer_str: str | None = None
    is_unique_code: bool = False

    def wire(self) -> dict[str, Any]:
        return {"card_id": needed(self.card_id, "card_id"), **drop_none(code=self.code, openid=self.openid,
                                                                         outer_str=self.outer_str),
                **({"is_unique_code": True} if self.is_unique_code else {})}


@dataclass(frozen=True)
class CardQRCode(WeChatData):
    """A card QR code: show ``show_qrcode_url``'s image, or encode ``url`` yourself; ``ticket`` also works with
    ``client.qrcode.image``."""

    ticket: str
    url: str = ""
    show_qrcode_url: str = ""
    expire_seconds: int | None = None


@dataclass(frozen=True)
class LandingPage(WeChatData):
    """A card landing page (货架): open ``url`` in WeChat."""

    url: str
    page_id: int = 0


@dataclass(frozen=True)
class UserCard(WeChatData):
    code: str
    card_id: str


@dataclass(frozen=True)
class UserCardList(WeChatData):
    """The account's cards a follower holds; ``has_share_card`` says whether one of them can be given to a friend."""

    cards: list[UserCard] = field(default_factory=list)
    has_share_card: bool = False


def _details(data: Mapping[str, Any]) -> CardDetails:
    card = data.get("card") or {}
    card_type = str(card.get("card_type", ""))
    kind = dict(card.get(card_type.lower()) or {})
    base = dict(kind.pop("base_info", None) or {})
    sku = base.get("sku") or {}
    return build(
        CardDetails, data, card_id=str(base.get("id", "")), card_type=card_type, status=str(base.get("status", "")),
        title=str(base.get("title", "")), brand_name=str(base.get("brand_name", "")),
        quantity=int(sku.get("quantity", 0)), total_quantity=int(sku.get("total_quantity", 0)), base_info=base,
        fields=kind,
    )


class CardAPI(Group):
    """``client.card``: the cards themselves; ``.code`` and ``.member`` are the codes and the member cards."""

    def __init__(self, caller: Caller) -> None:
        super().__init__(caller)
        self.code = CardCodeAPI(caller)
        self.member = MemberCardAPI(caller)

    async def create(self, card: NewCard) -> str:
        """Create a card (``Groupon``, ``CashCoupon``, ``DiscountCoupon``, ``GiftCoupon``, ``GeneralCoupon`` or
        ``MemberCard``); returns its card_id. WeChat reviews it first (the ``card_pass_check`` event says when it
        passes); until then only the test white list can receive it. Not retried blindly: a repeat after a lost
        answer would create a second card."""
        data = await self._caller.post("/card/create", {"card": card.wire()}, safe=False)
        return str(data["card_id"])

    async def get(self, card_id: str) -> CardDetails:
        return _details(await self._caller.post("/card/get", {"card_id": needed(card_id, "card_id")}))

    async def update(
        self,
        card_id: str,
        card_type: CardType,
        *,
        base_info: Mapping[str, Any] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> bool:
        """Change a card: ``base_info`` fields (``notice``, ``description``, ``color``, ``logo_url``, ``date_info``
        …) and the kind's ``fields`` (``prerogative``, ``bonus_rule`` …), in WeChat's names. Returns whether the
        change sends the card back to review (``send_check``). The stock changes with :meth:`modify_stock`."""
        if card_type not in CARD_TYPES:
            raise ValueError(f"card_type must be one of {', '.join(CARD_TYPES)}, got {card_type!r}")
        if not base_info and not fields:
            raise ValueError("card.update needs a change: base_info= and/or fields=")
        if base_info and "sku" in base_info:
            raise ValueError("a card's stock is not part of an update: use client.card.modify_stock(card_id, change)")
        check_base_fields(base_info or {})
        kind = {**(fields or {}), **({"base_info": dict(base_info)} if base_info else {})}
        data = await self._caller.post("/card/update", {"card_id": needed(card_id, "card_id"), card_type.lower(): kind})
        return bool(data.get("send_check", False))

    async def delete(self, card_id: str) -> None:
        """Delete the card: followers keep the codes they hold, but none can be received any more."""
        await self._caller.post("/card/delete", {"card_id": needed(card_id, "card_id")})

    async def modify_stock(self, card_id: str, change: int) -> None:
        """Add ``change`` to the stock, or take it away when negative (WeChat refuses to go below zero). Not retried
        blindly: a repeat would change the stock twice."""
        if not change:
            raise ValueError("modify_stock needs a non-zero change: positive to add stock, negative to take it away")
        key = "increase_stock_value" if change > 0 else "reduce_stock_value"
        await self._caller.post("/card/modifystock", {"card_id": needed(card_id, "card_id"), key: abs(change)},
                                safe=False)

    async def create_qrcode(self, *cards: str | QRCard, expire_seconds: int | None = None) -> CardQRCode:
        """A QR code that gives one card (a card_id or a :class:`QRCard`) or several at once. It is valid for
        ``expire_seconds`` (60..1800), or 365 days by default. Retried: a repeat only makes another code."""
        if not cards:
            raise ValueError("create_qrcode needs at least one card (a card_id or a QRCard)")
        wanted = [QRCard(card) if isinstance(card, str) else card for card in cards]
        body: dict[str, Any]
        if len(wanted) == 1:
            body = {"action_name": "QR_CARD", "action_info": {"card": wanted[0].wire()}}
        else:
            if any(card.openid or card.is_unique_code for card in wanted):
                raise ValueError("openid= and is_unique_code= apply to a QR code for one card, not several")
            body = {"action_name": "QR_MULTIPLE_CARD",
                    "action_info": {"multiple_card": {"card_list": [card.wire() for card in wanted]}}}
        if expire_seconds is not None:
            if not MIN_QR_SECONDS <= expire_seconds <= MAX_QR_SECONDS:
                raise ValueError(f"a card QR code's expire_seconds is {MIN_QR_SECONDS}..{MAX_QR_SECONDS}, got "
                                 f"{expire_seconds}; leave it out for 365 days")
            body["expire_seconds"] = expire_seconds
        return build(CardQRCode, await self._caller.post("/card/qrcode/create", body))

    async def create_landing_page(
        self,
        banner: str,
        title: str,
        cards: Sequence[tuple[str, str]],
        *,
        scene: LandingScene,
        can_share: bool = False,
    ) -> LandingPage:
        """A page listing cards (货架) for the channel ``scene``: ``banner`` is an image URL (640×300, from
        ``client.media.upload_image``), ``cards`` are ``(card_id, thumb_url)`` pairs. Not retried blindly: a repeat
        would make a second page."""
        if scene not in _SCENES:
            raise ValueError(f"scene must be one of {', '.join(_SCENES)}, got {scene!r}")
        if not cards:
            raise ValueError("a landing page lists at least one (card_id, thumb_url)")
        body = {
            "banner": needed(banner, "banner"),
            "page_title": needed(title, "title"),
            "can_share": can_share,
            "scene": scene,
            "card_list": [{"card_id": needed(card_id, "card_id"), "thumb_url": thumb} for card_id, thumb in cards],
        }
        return build(LandingPage, await self._caller.post("/card/landingpage/create", body, safe=False))

    async def set_test_whitelist(self, *, openids: Sequence[str] = (), usernames: Sequence[str] = ()) -> None:
        """Who may receive the account's cards while they are in review: followers by openid, or WeChat ids. The
        list replaces the previous one."""
        if not openids and not usernames:
            raise ValueError("set_test_whitelist needs openids= or usernames= (WeChat ids)")
        await self._caller.post("/card/testwhitelist/set", {"openid": list(openids), "username": list(usernames)})

    async def set_pay_cell(self, card_id: str, is_open: bool = True) -> None:
        """Show (or hide) the 买单 button that pays with WeChat Pay from the card."""
        await self._caller.post("/card/paycell/set", {"card_id": needed(card_id, "card_id"), "is_open": is_open})

    async def user_cards(self, openid: str, card_id: str | None = None) -> UserCardList:
        """The follower's codes of this account's cards (of one card when ``card_id`` is given)."""
        body = {"openid": needed(openid, "openid"), **drop_none(card_id=card_id)}
        data = await self._caller.post("/card/user/getcardlist", body)
        cards = [build(UserCard, item) for item in data.get("card_list") or []]
        return build(UserCardList, data, cards=cards, has_share_card=bool(data.get("has_share_card")))

    async def mpnews_html(self, card_id: str) -> str:
        """The HTML that shows the card inside an article (a draft's ``content``), so followers receive it from
        there."""
        data = await self._caller.post("/card/mpnews/gethtml", {"card_id": needed(card_id, "card_id")})
        return str(data["content"])
