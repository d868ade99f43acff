"""What the card tests share: a base info with sensible fields, a card created and passed by review, and the errcode
a call fails with."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest

from wxhook.api import CardBaseInfo, CardDates, Client, GeneralCoupon, NewCard, WeChatAPIError
from wxhook.testing import FakeWeChat

LOGO = "http://mmbiz.qpic.cn/mmbiz/logo/0"
BEGIN, END = 1_700_000_000, 2_000_000_000


def base(quantity: int = 10, **fields: Any) -> CardBaseInfo:
    values: dict[str, Any] = {
        "logo_url": LOGO, "brand_name": "咖啡小站", "title": "满100减20", "color": "Color010", "notice": "结账时出示",
        "description": "不与其他优惠同享", "dates": CardDates.between(BEGIN, END), **fields,
    }
    return CardBaseInfo(quantity=quantity, **values)


async def passed(fake: FakeWeChat, client: Client, card: NewCard | None = None) -> str:
    """A card created through the API and passed by WeChat's review: ready to hand out."""
    card_id = await client.card.create(card or GeneralCoupon(base(), default_detail="一杯拿铁"))
    fake.review_card(card_id)
    return card_id


async def errcode(call: Awaitable[Any]) -> int:
    """The errcode WeChat (the fake) answers the call with."""
    with pytest.raises(WeChatAPIError) as caught:
        await call
    return caught.value.errcode
