"""What a new card (卡券) is made of: the base info every card shares, when it can be used, and its kind.

A card is one of six kinds, each a class holding the :class:`CardBaseInfo` and its own fields::

    base = CardBaseInfo(logo_url, "咖啡小站", "满100减20", "Color010", notice="结账时出示",
                        description="不与其他优惠同享", quantity=1000, dates=CardDates.between(start, end))
    card_id = await client.card.create(CashCoupon(base, reduce_cost=2000, least_cost=10000))

``CardBaseInfo`` types the fields most cards set; any other ``base_info`` field goes in its ``extra`` dict, and any
other field of the kind (or ``advanced_info``) in the kind's ``extra`` / ``advanced_info``, in WeChat's names.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Literal

from ..custom_messages import drop_none
from ._dates import timestamp

__all__ = [
    "CardBaseInfo", "CardDates", "CashCoupon", "DiscountCoupon", "GeneralCoupon", "GiftCoupon", "Groupon",
    "MemberCard", "NewCard",
]

CodeType = Literal[
    "CODE_TYPE_TEXT", "CODE_TYPE_BARCODE", "CODE_TYPE_QRCODE", "CODE_TYPE_ONLY_QRCODE", "CODE_TYPE_ONLY_BARCODE",
    "CODE_TYPE_NONE",
]
CardType = Literal["GROUPON", "CASH", "DISCOUNT", "GIFT", "GENERAL_COUPON", "MEMBER_CARD"]
CARD_TYPES: tuple[CardType, ...] = ("GROUPON", "CASH", "DISCOUNT", "GIFT", "GENERAL_COUPON", "MEMBER_CARD")
MAX_QUANTITY = 100_000_000
LAST_TIMESTAMP = 2**31 - 1
"""WeChat keeps a card's dates as signed 32-bit seconds: every date must fall before 2038-01-19."""
_REQUIRED = ("logo_url", "brand_name", "title", "color", "notice", "description")
_BYTE_LIMITS = {"logo_url": 128, "brand_name": 36, "title": 27, "notice": 48, "description": 3072,
                "service_phone": 24}
"""The documented sizes (string(N), UTF-8 bytes: three per Chinese character)."""
_COLOR = re.compile(r"Color\d{3}")


def check_base_fields(fields: Mapping[str, Any]) -> None:
    """WeChat's documented limits on the ``base_info`` fields present, for a new card and an update alike."""
    for name, limit in _BYTE_LIMITS.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value.encode()) > limit:
            raise ValueError(f"base_info {name} is at most {limit} bytes of UTF-8 ({limit // 3} Chinese characters), "
                             f"got {len(value.encode())}: shorten it")
    color = fields.get("color")
    if color is not None and not _COLOR.fullmatch(str(color)):
        raise ValueError(f"base_info color is one of WeChat's names such as 'Color010', got {color!r}")


@dataclass(frozen=True)
class CardDates:
    """``date_info``, when a card can be used: build it with :meth:`between`, :meth:`after_receipt` or
    :meth:`permanent` (member cards only)."""

    type: Literal["DATE_TYPE_FIX_TIME_RANGE", "DATE_TYPE_FIX_TERM", "DATE_TYPE_PERMANENT"]
    begin_timestamp: int | None = None
    end_timestamp: int | None = None
    fixed_term: int | None = None
    fixed_begin_term: int | None = None

    @classmethod
    def between(cls, begin: datetime | int, end: datetime | int) -> CardDates:
        """Usable from ``begin`` to ``end`` (unix seconds or datetimes; a naive datetime is China time)."""
        return cls("DATE_TYPE_FIX_TIME_RANGE", begin_timestamp=timestamp(begin), end_timestamp=timestamp(end))

    @classmethod
    def after_receipt(cls, days: int, *, starts_after: int = 0, end: datetime | int | None = None) -> CardDates:
        """Usable for ``days`` days, from ``starts_after`` days after the user receives it (0: that day), and never
        past ``end`` when given."""
        return cls("DATE_TYPE_FIX_TERM", fixed_term=days, fixed_begin_term=starts_after,
                   end_timestamp=None if end is None else timestamp(end))

    @classmethod
    def permanent(cls) -> CardDates:
        return cls("DATE_TYPE_PERMANENT")

    def __post_init__(self) -> None:
        if self.type == "DATE_TYPE_FIX_TIME_RANGE":
            if self.begin_timestamp is None or self.end_timestamp is None:
                raise ValueError("a DATE_TYPE_FIX_TIME_RANGE card needs begin_timestamp and end_timestamp")
            if self.end_timestamp <= self.begin_timestamp:
                raise ValueError(f"a card's end ({self.end_timestamp}) must come after its begin "
                                 f"({self.begin_timestamp})")
        elif self.type == "DATE_TYPE_FIX_TERM":
            if self.fixed_term is None or self.fixed_term < 1:
                raise ValueError(f"a card valid after receipt needs days >= 1 (WeChat refuses 0), got "
                                 f"{self.fixed_term}")
            if self.fixed_begin_term is not None and self.fixed_begin_term < 0:
                raise ValueError(f"starts_after counts days from receipt: 0 or more, got {self.fixed_begin_term}")
        elif self.type != "DATE_TYPE_PERMANENT":
            raise ValueError(f"date type must be DATE_TYPE_FIX_TIME_RANGE, DATE_TYPE_FIX_TERM or DATE_TYPE_PERMANENT, "
                             f"got {self.type!r}")
        late = max((t for t in (self.begin_timestamp, self.end_timestamp) if t is not None), default=0)
        if late > LAST_TIMESTAMP:
            raise ValueError(f"card dates must fall before 2038-01-19 (unix {LAST_TIMESTAMP}), got {late}")

    def wire(self) -> dict[str, Any]:
        return drop_none(type=self.type, begin_timestamp=self.begin_timestamp, end_timestamp=self.end_timestamp,
                         fixed_term=self.fixed_term, fixed_begin_term=self.fixed_begin_term)


@dataclass(frozen=True)
class CardBaseInfo:
    """``base_info``: what every card shows. ``logo_url`` comes from ``client.media.upload_image`` (300×300);
    ``color`` is one of WeChat's names (``Color010`` …); ``quantity`` is the stock (0..100,000,000; a card whose
    codes are deposited starts at 0, see ``client.card.code.deposit``).

    ``use_custom_code`` makes you choose each code (``get_custom_code_mode="GET_CUSTOM_CODE_MODE_DEPOSIT"`` to deposit
    them first); ``bind_openid`` gives each code to one follower. ``extra`` holds any other ``base_info`` field in
    WeChat's names (``sub_title``, ``pay_info``, ``center_app_brand_user_name`` …).
    """

    logo_url: str
    brand_name: str
    title: str
    color: str
    notice: str
    description: str
    quantity: int
    dates: CardDates
    code_type: CodeType = "CODE_TYPE_QRCODE"
    service_phone: str | None = None
    get_limit: int | None = None
    use_limit: int | None = None
    can_share: bool | None = None
    can_give_friend: bool | None = None
    use_custom_code: bool | None = None
    get_custom_code_mode: Literal["GET_CUSTOM_CODE_MODE_DEPOSIT"] | None = None
    bind_openid: bool | None = None
    location_id_list: Sequence[int] = ()
    use_all_locations: bool | None = None
    center_title: str | None = None
    center_sub_title: str | None = None
    center_url: str | None = None
    custom_url_name: str | None = None
    custom_url: str | None = None
    custom_url_sub_title: str | None = None
    promotion_url_name: str | None = None
    promotion_url: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = [name for name in _REQUIRED if not getattr(self, name)]
        if missing:
            raise ValueError(f"CardBaseInfo needs a non-empty {', '.join(missing)}")
        if not 0 <= self.quantity <= MAX_QUANTITY:
            raise ValueError(f"quantity (the stock) must be 0..{MAX_QUANTITY:,}, got {self.quantity}")
        for name in ("get_limit", "use_limit"):
            limit = getattr(self, name)
            if limit is not None and limit < 1:
                raise ValueError(f"{name} is a count per user: 1 or more, or None for WeChat's default; got {limit}")
        if self.get_custom_code_mode and not self.use_custom_code:
            raise ValueError("get_custom_code_mode applies to custom codes: set use_custom_code=True too")
        check_base_fields(self.wire())

    def wire(self) -> dict[str, Any]:
        return {
            **drop_none(
                logo_url=self.logo_url, brand_name=self.brand_name, code_type=self.code_type, title=self.title,
                color=self.color, notice=self.notice, description=self.description, service_phone=self.service_phone,
                get_limit=self.get_limit, use_limit=self.use_limit, can_share=self.can_share,
                can_give_friend=self.can_give_friend, use_custom_code=self.use_custom_code,
                get_custom_code_mode=self.get_custom_code_mode, bind_openid=self.bind_openid,
                use_all_locations=self.use_all_locations, center_title=self.center_title,
                center_sub_title=self.center_sub_title, center_url=self.center_url,
                custom_url_name=self.custom_url_name, custom_url=self.custom_url,
                custom_url_sub_title=self.custom_url_sub_title, promotion_url_name=self.promotion_url_name,
                promotion_url=self.promotion_url,
            ),
            "date_info": self.dates.wire(),
            "sku": {"quantity": self.quantity},
            **({"location_id_list": list(self.location_id_list)} if self.location_id_list else {}),
            **self.extra,
        }


@dataclass(frozen=True)
class NewCard(ABC):
    """A card to create: its kind's fields next to ``base_info``; ``advanced_info`` and ``extra`` (more fields of
    the kind) in WeChat's names."""

    card_type: ClassVar[CardType]
    base_info: CardBaseInfo
    advanced_info: Mapping[str, Any] | None = field(default=None, kw_only=True)
    extra: Mapping[str, Any] = field(default_factory=dict, kw_only=True)

    def __post_init__(self) -> None:
        if self.base_info.dates.type == "DATE_TYPE_PERMANENT" and self.card_type != "MEMBER_CARD":
            raise ValueError(f"only a member card can be permanent; give a {self.card_type} card "
                             "CardDates.between(...) or CardDates.after_receipt(...)")
        self.fields()  # the kind's own checks, at construction

    @abstractmethod
    def fields(self) -> dict[str, Any]:
        """The kind's own fields, checked."""

    def wire(self) -> dict[str, Any]:
        """``{"card_type": …, "<card type in lower case>": {"base_info": …, …}}``, as ``card/create`` takes it."""
        kind = {"base_info": self.base_info.wire(), **self.fields(), **self.extra}
        if self.advanced_info is not None:
            kind["advanced_info"] = dict(self.advanced_info)
        return {"card_type": self.card_type, self.card_type.lower(): kind}


@dataclass(frozen=True)
class Groupon(NewCard):
    """A group-buying voucher (团购券): ``deal_detail`` says what it buys."""

    card_type: ClassVar[CardType] = "GROUPON"
    deal_detail: str

    def fields(self) -> dict[str, Any]:
        return {"deal_detail": _needed(self.deal_detail, "Groupon needs deal_detail (what the voucher buys)")}


@dataclass(frozen=True)
class CashCoupon(NewCard):
    """A cash coupon (代金券): ``reduce_cost`` fen off a bill of at least ``least_cost`` fen (0: any bill)."""

    card_type: ClassVar[CardType] = "CASH"
    reduce_cost: int
    least_cost: int = 0

    def fields(self) -> dict[str, Any]:
        if self.reduce_cost < 1 or self.least_cost < 0:
            raise ValueError(f"CashCoupon takes reduce_cost >= 1 fen and least_cost >= 0 fen, got {self.reduce_cost} "
                             f"and {self.least_cost}")
        return {"reduce_cost": self.reduce_cost, "least_cost": self.least_cost}


@dataclass(frozen=True)
class DiscountCoupon(NewCard):
    """A discount coupon (折扣券): ``discount`` percent off (30 is 30% off, 七折)."""

    card_type: ClassVar[CardType] = "DISCOUNT"
    discount: int

    def fields(self) -> dict[str, Any]:
        if not 1 <= self.discount <= 99:
            raise ValueError(f"discount is the percentage off, 1..99 (30 for 七折), got {self.discount}")
        return {"discount": self.discount}


@dataclass(frozen=True)
class GiftCoupon(NewCard):
    """A gift voucher (兑换券): ``gift`` names what it is exchanged for."""

    card_type: ClassVar[CardType] = "GIFT"
    gift: str

    def fields(self) -> dict[str, Any]:
        return {"gift": _needed(self.gift, "GiftCoupon needs gift (what it is exchanged for)")}


@dataclass(frozen=True)
class GeneralCoupon(NewCard):
    """A general coupon (优惠券): ``default_detail`` describes the offer."""

    card_type: ClassVar[CardType] = "GENERAL_COUPON"
    default_detail: str

    def fields(self) -> dict[str, Any]:
        return {"default_detail": _needed(self.default_detail, "GeneralCoupon needs default_detail (the offer)")}


@dataclass(frozen=True)
class MemberCard(NewCard):
    """A member card (会员卡): ``prerogative`` describes the privileges; ``supply_bonus`` / ``supply_balance`` show
    points and a stored balance on the card. ``wx_activate`` activates it with WeChat's one-step form
    (``client.card.member.set_activation_form``), ``auto_activate`` on receipt, ``activate_url`` on your page.
    Custom fields, cells and bonus rules (``custom_field1``, ``custom_cell1``, ``bonus_rule`` …) go in ``extra``."""

    card_type: ClassVar[CardType] = "MEMBER_CARD"
    prerogative: str
    supply_bonus: bool = False
    supply_balance: bool = False
    background_pic_url: str | None = None
    auto_activate: bool | None = None
    wx_activate: bool | None = None
    activate_url: str | None = None
    discount: int | None = None

    def fields(self) -> dict[str, Any]:
        if self.discount is not None and not 0 <= self.discount <= 99:
            raise ValueError(f"a member card's discount is the percentage off, 0..99, got {self.discount}")
        return {
            "prerogative": _needed(self.prerogative, "MemberCard needs prerogative (the members' privileges)"),
            "supply_bonus": self.supply_bonus,
            "supply_balance": self.supply_balance,
            **drop_none(background_pic_url=self.background_pic_url, auto_activate=self.auto_activate,
                        wx_activate=self.wx_activate, activate_url=self.activate_url, discount=self.discount),
        }


def _needed(value: str, problem: str) -> str:
    if not value:
        raise ValueError(problem)
    return value
