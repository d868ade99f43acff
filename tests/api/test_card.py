from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from wxhook.api import (
    CardBaseInfo,
    CardDates,
    CardDetails,
    CardQRCode,
    CashCoupon,
    Client,
    DiscountCoupon,
    GeneralCoupon,
    GiftCoupon,
    Groupon,
    LandingPage,
    MemberCard,
    QRCard,
    UserCard,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from ._cards import BEGIN, END, LOGO, base, errcode, passed
from .conftest import FAST, raw_call, sent

CREATE = "/card/create"


async def test_create_sends_the_card_and_get_reads_it_back(fake: FakeWeChat, client: Client) -> None:
    card = CashCoupon(base(quantity=500, service_phone="020-8888", get_limit=2, can_share=False,
                           location_id_list=[101, 102], extra={"sub_title": "周末可用"}),
                      reduce_cost=2000, least_cost=10000, advanced_info={"abstract": {"abstract": "秋季特惠"}})
    card_id = await client.card.create(card)
    assert sent(fake, CREATE) == {"card": {"card_type": "CASH", "cash": {
        "base_info": {
            "logo_url": LOGO, "brand_name": "咖啡小站", "code_type": "CODE_TYPE_QRCODE", "title": "满100减20",
            "color": "Color010", "notice": "结账时出示", "description": "不与其他优惠同享", "service_phone": "020-8888",
            "get_limit": 2, "can_share": False, "location_id_list": [101, 102], "sub_title": "周末可用",
            "date_info": {"type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": BEGIN, "end_timestamp": END},
            "sku": {"quantity": 500},
        },
        "reduce_cost": 2000, "least_cost": 10000, "advanced_info": {"abstract": {"abstract": "秋季特惠"}},
    }}}
    assert card_id.startswith("p") and len(card_id) == 28
    details = await client.card.get(card_id)
    assert isinstance(details, CardDetails)
    assert (details.card_id, details.card_type, details.status) == (card_id, "CASH", "CARD_STATUS_NOT_VERIFY")
    assert (details.title, details.brand_name) == ("满100减20", "咖啡小站")
    assert (details.quantity, details.total_quantity) == (500, 500)
    assert details.fields == {"reduce_cost": 2000, "least_cost": 10000,
                              "advanced_info": {"abstract": {"abstract": "秋季特惠"}}}
    assert details.base_info["sub_title"] == "周末可用" and details.raw["card"]["card_type"] == "CASH"


@pytest.mark.parametrize(("card", "kind"), [
    (Groupon(base(), deal_detail="双人套餐"), {"deal_detail": "双人套餐"}),
    (DiscountCoupon(base(), discount=30), {"discount": 30}),
    (GiftCoupon(base(), gift="一杯拿铁"), {"gift": "一杯拿铁"}),
    (GeneralCoupon(base(), default_detail="全场九折", extra={"use_condition": {"can_use_with_other_discount": True}}),
     {"default_detail": "全场九折", "use_condition": {"can_use_with_other_discount": True}}),
    (MemberCard(base(dates=CardDates.permanent()), prerogative="会员九折", supply_bonus=True, wx_activate=True,
                extra={"custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL"}}),
     {"prerogative": "会员九折", "supply_bonus": True, "supply_balance": False, "wx_activate": True,
      "custom_field1": {"name_type": "FIELD_NAME_TYPE_LEVEL"}}),
])
async def test_every_kind_of_card(fake: FakeWeChat, client: Client, card: Any, kind: dict[str, Any]) -> None:
    card_id = await client.card.create(card)
    wire = sent(fake, CREATE)["card"]
    assert {k: v for k, v in wire[card.card_type.lower()].items() if k != "base_info"} == kind
    details = await client.card.get(card_id)
    assert details.card_type == card.card_type and details.fields == kind


def test_dates() -> None:
    assert CardDates.between(datetime(2026, 1, 1), 1_800_000_000).wire() == {
        "type": "DATE_TYPE_FIX_TIME_RANGE", "begin_timestamp": 1_767_196_800, "end_timestamp": 1_800_000_000}
    assert CardDates.after_receipt(30, starts_after=1, end=END).wire() == {
        "type": "DATE_TYPE_FIX_TERM", "fixed_term": 30, "fixed_begin_term": 1, "end_timestamp": END}
    assert CardDates.permanent().wire() == {"type": "DATE_TYPE_PERMANENT"}
    with pytest.raises(ValueError, match="must come after"):
        CardDates.between(END, BEGIN)
    with pytest.raises(ValueError, match="2038"):
        CardDates.between(BEGIN, 2**31)
    with pytest.raises(ValueError, match="days >= 1"):
        CardDates.after_receipt(0)
    with pytest.raises(ValueError, match="0 or more"):
        CardDates.after_receipt(3, starts_after=-1)


@pytest.mark.parametrize(("make", "problem"), [
    (lambda: base(title="一二三四五六七八九十"), r"title is at most 27 bytes .*got 30"),
    (lambda: base(brand_name="x" * 37), "brand_name is at most 36 bytes"),
    (lambda: base(color="green"), "Color010"),
    (lambda: base(quantity=100_000_001), r"0\.\.100,000,000"),
    (lambda: base(notice=""), "non-empty notice"),
    (lambda: base(get_limit=0), "get_limit"),
    (lambda: base(get_custom_code_mode="GET_CUSTOM_CODE_MODE_DEPOSIT"), "use_custom_code=True"),
    (lambda: GeneralCoupon(base(dates=CardDates.permanent()), default_detail="x"), "only a member card"),
    (lambda: CashCoupon(base(), reduce_cost=0), "reduce_cost >= 1"),
    (lambda: DiscountCoupon(base(), discount=100), "1..99"),
    (lambda: Groupon(base(), deal_detail=""), "deal_detail"),
    (lambda: MemberCard(base(), prerogative=""), "prerogative"),
])
def test_a_card_is_checked_when_built(make: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        make()


async def test_the_fake_checks_a_card_like_wechat(fake: FakeWeChat, client: Client) -> None:
    wire = GeneralCoupon(base(), default_detail="x").wire()
    assert (await raw_call(fake, client, "POST", CREATE, {"card": {**wire, "card_type": "TAXI"}}))["errcode"] == 40071
    no_title = {**wire, "general_coupon": {**wire["general_coupon"], "base_info": {
        k: v for k, v in wire["general_coupon"]["base_info"].items() if k != "title"}}}
    answer = await raw_call(fake, client, "POST", CREATE, {"card": no_title})
    assert (answer["errcode"], answer["errmsg"].split(" rid")[0]) == (41011, "missing required fields: base_info.title")
    long_title = {**wire, "general_coupon": {**wire["general_coupon"], "base_info": {
        **wire["general_coupon"]["base_info"], "title": "长" * 10}}}
    assert (await raw_call(fake, client, "POST", CREATE, {"card": long_title}))["errcode"] == 45021
    deposit = GeneralCoupon(base(quantity=5, use_custom_code=True, get_custom_code_mode="GET_CUSTOM_CODE_MODE_DEPOSIT"),
                            default_detail="x")
    assert await errcode(client.card.create(deposit)) == 40136  # a deposit-mode card starts without stock
    assert fake.state.cards == {}


async def test_create_and_modify_stock_are_not_retried(fake: FakeWeChat, client: Client) -> None:
    fake.fail(CREATE, status=502)
    with pytest.raises(WeChatNetworkError):
        await client.card.create(GeneralCoupon(base(), default_detail="x"))
    assert fake.count(CREATE) == 1
    card_id = await passed(fake, client)
    fake.fail("/card/modifystock", status=500)
    with pytest.raises(WeChatNetworkError):
        await client.card.modify_stock(card_id, 5)
    assert fake.count("/card/modifystock") == 1 and (await client.card.get(card_id)).quantity == 10
    fake.fail("/card/get", status=502)
    assert (await client.card.get(card_id)).quantity == 10  # a read is retried
    assert fake.count("/card/get") == 3


async def test_stock_goes_down_as_followers_receive_the_card(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client, GeneralCoupon(base(quantity=2, get_limit=1), default_detail="x"))
    fake.give_card(card_id, "o1")
    with pytest.raises(ValueError, match=r"exceed get_limit \(45033\)"):
        fake.give_card(card_id, "o1")
    fake.give_card(card_id, "o2")
    details = await client.card.get(card_id)
    assert (details.quantity, details.total_quantity) == (0, 2)
    with pytest.raises(ValueError, match=r"stock is 0 \(45031\)"):
        fake.give_card(card_id, "o3")
    await client.card.modify_stock(card_id, 3)
    assert sent(fake, "/card/modifystock") == {"card_id": card_id, "increase_stock_value": 3}
    await client.card.modify_stock(card_id, -1)
    assert sent(fake, "/card/modifystock") == {"card_id": card_id, "reduce_stock_value": 1}
    details = await client.card.get(card_id)
    assert (details.quantity, details.total_quantity) == (2, 4)
    assert await errcode(client.card.modify_stock(card_id, -3)) == 40122
    with pytest.raises(ValueError, match="non-zero change"):
        await client.card.modify_stock(card_id, 0)


async def test_a_card_in_review_goes_to_the_test_white_list_only(fake: FakeWeChat, client: Client) -> None:
    card_id = await client.card.create(GeneralCoupon(base(), default_detail="x"))
    with pytest.raises(ValueError, match=r"in review .*\(40078\)"):
        fake.give_card(card_id, "o_tester")
    await client.card.set_test_whitelist(openids=["o_tester"], usernames=["wx_tester"])
    assert sent(fake, "/card/testwhitelist/set") == {"openid": ["o_tester"], "username": ["wx_tester"]}
    assert fake.give_card(card_id, "o_tester").isdigit()
    with pytest.raises(ValueError, match="40078"):
        fake.give_card(card_id, "o_customer")
    fake.review_card(card_id)
    assert (await client.card.get(card_id)).status == "CARD_STATUS_VERIFY_OK"
    fake.give_card(card_id, "o_customer")
    with pytest.raises(ValueError, match="openids= or usernames="):
        await client.card.set_test_whitelist()


async def test_update_sends_a_card_back_to_review_when_a_reviewed_field_changes(fake: FakeWeChat,
                                                                                 client: Client) -> None:
    card_id = await passed(fake, client, CashCoupon(base(), reduce_cost=100))
    assert await client.card.update(card_id, "CASH", fields={"least_cost": 500}) is False
    assert sent(fake, "/card/update") == {"card_id": card_id, "cash": {"least_cost": 500}}
    assert (await client.card.get(card_id)).status == "CARD_STATUS_VERIFY_OK"
    assert await client.card.update(card_id, "CASH", base_info={"notice": "新的提示", "color": "Color020"}) is True
    details = await client.card.get(card_id)
    assert (details.status, details.base_info["notice"], details.fields["least_cost"]) == (
        "CARD_STATUS_NOT_VERIFY", "新的提示", 500)
    assert details.base_info["title"] == "满100减20"  # fields not named stay as they were
    assert await errcode(client.card.update(card_id, "GROUPON", fields={"deal_detail": "x"})) == 40071
    with pytest.raises(ValueError, match="modify_stock"):
        await client.card.update(card_id, "CASH", base_info={"sku": {"quantity": 1}})
    with pytest.raises(ValueError, match="notice is at most 48 bytes"):
        await client.card.update(card_id, "CASH", base_info={"notice": "长" * 17})
    with pytest.raises(ValueError, match="needs a change"):
        await client.card.update(card_id, "CASH")
    with pytest.raises(ValueError, match="card_type"):
        await client.card.update(card_id, "TAXI", fields={"x": 1})  # type: ignore[arg-type]


async def test_a_deleted_card_is_read_but_no_longer_handed_out(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client)
    code = fake.give_card(card_id, "o1")
    await client.card.delete(card_id)
    assert sent(fake, "/card/delete") == {"card_id": card_id}
    assert (await client.card.get(card_id)).status == "CARD_STATUS_DELETE"
    assert await errcode(client.card.modify_stock(card_id, 1)) == 40078
    assert await errcode(client.card.create_qrcode(card_id)) == 40078
    await client.card.code.consume(code)  # what a follower holds stays usable
    assert await errcode(client.card.get("p_no_such_card")) == 40073


async def test_qr_codes(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client)
    custom = await passed(fake, client, GeneralCoupon(base(use_custom_code=True, bind_openid=True), default_detail="x"))
    qr = await client.card.create_qrcode(card_id, expire_seconds=1800)
    assert sent(fake, "/card/qrcode/create") == {
        "action_name": "QR_CARD", "expire_seconds": 1800, "action_info": {"card": {"card_id": card_id}}}
    assert isinstance(qr, CardQRCode) and qr.expire_seconds == 1800 and qr.ticket in qr.show_qrcode_url
    assert await client.qrcode.image(qr.ticket)  # the ticket's image is served like any QR code's
    await client.card.create_qrcode(QRCard(custom, code="A-100", openid="o1", outer_str="poster", is_unique_code=True))
    assert sent(fake, "/card/qrcode/create")["action_info"]["card"] == {
        "card_id": custom, "code": "A-100", "openid": "o1", "outer_str": "poster", "is_unique_code": True}
    both = await client.card.create_qrcode(card_id, QRCard(custom, code="A-101"))
    assert sent(fake, "/card/qrcode/create") == {"action_name": "QR_MULTIPLE_CARD", "action_info": {"multiple_card": {
        "card_list": [{"card_id": card_id}, {"card_id": custom, "code": "A-101"}]}}}
    assert both.expire_seconds == 365 * 86_400
    assert await errcode(client.card.create_qrcode(custom)) == 40056  # a custom code is chosen by you
    assert await errcode(client.card.create_qrcode(QRCard(custom, code="A-102"))) == 40003  # a card bound to openids
    assert await errcode(client.card.create_qrcode("p_no_such_card")) == 40073
    for bad in (59, 1801):
        with pytest.raises(ValueError, match=r"60\.\.1800"):
            await client.card.create_qrcode(card_id, expire_seconds=bad)
    with pytest.raises(ValueError, match="one card, not several"):
        await client.card.create_qrcode(card_id, QRCard(custom, openid="o1"))
    with pytest.raises(ValueError, match="at least one card"):
        await client.card.create_qrcode()


async def test_landing_page(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client)
    page = await client.card.create_landing_page("http://mmbiz.qpic.cn/banner/0", "秋季特惠", [(card_id, LOGO)],
                                                 scene="SCENE_MENU", can_share=True)
    assert sent(fake, "/card/landingpage/create") == {
        "banner": "http://mmbiz.qpic.cn/banner/0", "page_title": "秋季特惠", "can_share": True, "scene": "SCENE_MENU",
        "card_list": [{"card_id": card_id, "thumb_url": LOGO}]}
    assert isinstance(page, LandingPage) and page.page_id > 0 and str(page.page_id) in page.url
    assert await errcode(client.card.create_landing_page("b", "t", [("p_none", LOGO)], scene="SCENE_H5")) == 40073
    with pytest.raises(ValueError, match="scene must be one of"):
        await client.card.create_landing_page("b", "t", [(card_id, LOGO)], scene="SCENE_TV")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one"):
        await client.card.create_landing_page("b", "t", [], scene="SCENE_H5")
    fake.fail("/card/landingpage/create", status=502)
    with pytest.raises(WeChatNetworkError):
        await client.card.create_landing_page("b", "t", [(card_id, LOGO)], scene="SCENE_H5")
    assert fake.count("/card/landingpage/create") == 3  # two above, one here: not repeated


async def test_pay_cell_user_cards_and_article_html(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client, GeneralCoupon(base(can_give_friend=True), default_detail="x"))
    other = await passed(fake, client)
    await client.card.set_pay_cell(card_id)
    assert sent(fake, "/card/paycell/set") == {"card_id": card_id, "is_open": True} and fake.state.cards[card_id][
        "pay_cell"]
    first, second, third = (fake.give_card(card_id, "o1"), fake.give_card(card_id, "o1"), fake.give_card(other, "o1"))
    fake.give_card(card_id, "o2")
    await client.card.code.consume(second)
    held = await client.card.user_cards("o1")
    assert sent(fake, "/card/user/getcardlist") == {"openid": "o1"}
    assert held.cards == [UserCard(first, card_id), UserCard(third, other)] and held.has_share_card
    only = await client.card.user_cards("o1", card_id)
    assert [c.code for c in only.cards] == [first] and sent(fake, "/card/user/getcardlist")["card_id"] == card_id
    assert not (await client.card.user_cards("o1", other)).has_share_card
    html = await client.card.mpnews_html(card_id)
    assert card_id in html and html.startswith("<iframe")
    custom = await passed(fake, client, GeneralCoupon(base(use_custom_code=True), default_detail="x"))
    assert await errcode(client.card.mpnews_html(custom)) == 40056


async def test_each_account_keeps_its_own_cards(fake: FakeWeChat, client: Client) -> None:
    shop = fake.add_account("wx5ec0dacc0000ca4d")
    async with shop.client(**FAST) as other:
        card_id = await other.card.create(GeneralCoupon(base(), default_detail="x"))
        shop.review_card(card_id)
        code = shop.give_card(card_id, "o1")
        assert (await other.card.code.get(code)).card_id == card_id
    assert await errcode(client.card.get(card_id)) == 40073
    assert await errcode(client.card.code.get(code)) == 40056
    assert fake.state.cards == {} and fake.calls(CREATE)[0].appid == shop.appid
    with pytest.raises(ValueError, match="40073"):
        fake.give_card(card_id, "o1")


def test_base_info_leaves_out_what_is_unset_and_adds_extra() -> None:
    info = CardBaseInfo(LOGO, "b", "t", "Color010", "n", "d", 0, CardDates.between(BEGIN, END),
                        use_custom_code=True, get_custom_code_mode="GET_CUSTOM_CODE_MODE_DEPOSIT",
                        extra={"pay_info": {"swipe_card": {"is_swipe_card": True}}})
    wire = info.wire()
    assert wire["use_custom_code"] and wire["get_custom_code_mode"] == "GET_CUSTOM_CODE_MODE_DEPOSIT"
    assert wire["pay_info"] == {"swipe_card": {"is_swipe_card": True}} and wire["sku"] == {"quantity": 0}
    assert "can_share" not in wire and "location_id_list" not in wire  # unset fields are left out
