from __future__ import annotations

import pytest

from wxhook.api import (
    CardDates,
    Client,
    FormValue,
    MemberCard,
    MemberForm,
    MemberFormInfo,
    MemberInfo,
    MemberUpdate,
    RichField,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from ._cards import base, errcode, passed
from .conftest import sent

UPDATE = "/card/membercard/updateuser"


async def member_card(fake: FakeWeChat, client: Client, **fields: bool) -> str:
    card = MemberCard(base(dates=CardDates.permanent()), prerogative="会员九折", supply_bonus=True, supply_balance=True,
                      **fields)
    return await passed(fake, client, card)


async def test_activate_then_read_the_member(fake: FakeWeChat, client: Client) -> None:
    card_id = await member_card(fake, client)
    fake.add_follower("o1", nickname="小明", sex=1)
    code = fake.give_card(card_id, "o1")
    before = await client.card.member.info(card_id, code)
    assert (before.has_active, before.membership_number) == (False, "")
    await client.card.member.activate(code, "M0001", card_id=card_id, init_bonus=100, init_bonus_record="开卡礼",
                                      init_balance=500, begin=1_700_000_000, custom_fields={1: "金卡"})
    assert sent(fake, "/card/membercard/activate") == {
        "code": code, "membership_number": "M0001", "card_id": card_id, "init_bonus": 100,
        "init_bonus_record": "开卡礼", "init_balance": 500, "activate_begin_time": 1_700_000_000,
        "init_custom_field_value1": "金卡"}
    member = await client.card.member.info(card_id, code)
    assert sent(fake, "/card/membercard/userinfo/get") == {"card_id": card_id, "code": code}
    assert isinstance(member, MemberInfo)
    assert (member.openid, member.nickname, member.membership_number, member.bonus, member.balance) == (
        "o1", "小明", "M0001", 100, 500)
    assert (member.has_active, member.user_card_status, member.form) == (True, "NORMAL", MemberFormInfo())


async def test_update_sets_or_adds_points_and_balance(fake: FakeWeChat, client: Client) -> None:
    card_id = await member_card(fake, client)
    code = fake.give_card(card_id, "o1")
    assert await errcode(client.card.member.update(card_id, code, bonus=1)) == 40078  # not a member yet
    await client.card.member.activate(code, "M0001", init_bonus=100, init_balance=1000)
    added = await client.card.member.update(card_id, code, add_bonus=10, record_bonus="消费100元", add_balance=-300,
                                            record_balance="买咖啡", notify={"is_notify_balance": False})
    assert sent(fake, UPDATE) == {"card_id": card_id, "code": code, "add_bonus": 10, "record_bonus": "消费100元",
                                  "add_balance": -300, "record_balance": "买咖啡",
                                  "notify_optional": {"is_notify_balance": False}}
    assert added == MemberUpdate(110, 700, "o1")
    both = await client.card.member.update(card_id, code, bonus=50, add_bonus=5, custom_fields={2: "白银"})
    assert both.result_bonus == 50 and sent(fake, UPDATE)["custom_field_value2"] == "白银"
    member = await client.card.member.info(card_id, code)
    assert (member.bonus, member.balance) == (50, 700)
    with pytest.raises(ValueError, match="needs a change"):
        await client.card.member.update(card_id, code)


async def test_an_update_that_adds_is_not_repeated_one_that_sets_is(fake: FakeWeChat, client: Client) -> None:
    card_id = await member_card(fake, client)
    code = fake.give_card(card_id, "o1")
    await client.card.member.activate(code, "M0001", init_bonus=100)
    fake.fail(UPDATE, status=502)
    with pytest.raises(WeChatNetworkError):
        await client.card.member.update(card_id, code, add_bonus=10)
    assert fake.count(UPDATE) == 1
    fake.fail(UPDATE, status=502)
    assert (await client.card.member.update(card_id, code, bonus=120)).result_bonus == 120
    assert fake.count(UPDATE) == 3


async def test_activation_form_url_and_what_the_follower_filled_in(fake: FakeWeChat, client: Client) -> None:
    card_id = await member_card(fake, client, wx_activate=True)
    code = fake.give_card(card_id, "o1")
    with pytest.raises(ValueError, match="no activation form"):
        fake.fill_member_form(card_id, code)
    await client.card.member.set_activation_form(
        card_id,
        required=MemberForm(common_fields=["USER_FORM_INFO_FLAG_MOBILE"], custom_fields=["车牌号"], can_modify=True),
        optional=MemberForm(rich_fields=[RichField("FORM_FIELD_RADIO", "兴趣", ["咖啡", "茶"])]),
        service_statement=("会员守则", "https://example.com/rules"),
    )
    assert sent(fake, "/card/membercard/activateuserform/set") == {
        "card_id": card_id,
        "required_form": {"can_modify": True, "common_field_id_list": ["USER_FORM_INFO_FLAG_MOBILE"],
                          "custom_field_list": ["车牌号"]},
        "optional_form": {"can_modify": False,
                          "rich_field_list": [{"type": "FORM_FIELD_RADIO", "name": "兴趣", "values": ["咖啡", "茶"]}]},
        "service_statement": {"name": "会员守则", "url": "https://example.com/rules"},
    }
    url = await client.card.member.activation_url(card_id, outer_str="menu")
    assert sent(fake, "/card/membercard/activate/geturl") == {"card_id": card_id, "outer_str": "menu"}
    assert card_id in url and "outer_str=menu" in url
    ticket = fake.fill_member_form(card_id, code, {"USER_FORM_INFO_FLAG_MOBILE": "13800000000"}, {"车牌号": "粤B12345"})
    filled = await client.card.member.activation_info(ticket)
    assert sent(fake, "/card/membercard/activatetempinfo/get") == {"activate_ticket": ticket}
    assert filled.common_fields == [FormValue("USER_FORM_INFO_FLAG_MOBILE", "13800000000")]
    assert filled.custom_fields == [FormValue("车牌号", "粤B12345")]
    await client.card.member.activate(code, "M0002", card_id=card_id)
    assert (await client.card.member.info(card_id, code)).form == filled
    assert await errcode(client.card.member.activation_info("no-such-ticket")) == 40097


async def test_member_calls_need_a_member_card(fake: FakeWeChat, client: Client) -> None:
    coupon = await passed(fake, client)
    code = fake.give_card(coupon, "o1")
    assert await errcode(client.card.member.activate(code, "M1")) == 40071
    assert await errcode(client.card.member.activation_url(coupon)) == 40071
    assert await errcode(client.card.member.set_activation_form(coupon, required=MemberForm(custom_fields=["x"]))) \
        == 40071


@pytest.mark.parametrize(("call", "problem"), [
    (lambda c: c.card.member.activate("123", ""), "membership_number must be a non-empty string"),
    (lambda c: c.card.member.activate("123", "M1", custom_fields={4: "x"}), "1, 2 and 3"),
    (lambda c: c.card.member.activate("123", "M1", custom_fields={1: "五个汉字啊"}), "at most 12 bytes"),
    (lambda c: c.card.member.info("", "123"), "card_id must be a non-empty string"),
    (lambda c: c.card.member.set_activation_form("p1"), "required= or optional="),
    (lambda c: c.card.member.activation_info(""), "activate_ticket"),
])
async def test_member_calls_are_checked_before_sending(fake: FakeWeChat, client: Client, call: object,
                                                       problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        await call(client)  # type: ignore[operator]
    assert [c for c in fake.calls() if c.path.startswith("/card/")] == []


def test_member_form_is_checked_when_built() -> None:
    with pytest.raises(ValueError, match="USER_FORM_INFO_FLAG_"):
        MemberForm(common_fields=["MOBILE"])
    with pytest.raises(ValueError, match="at least one field"):
        MemberForm()
    with pytest.raises(ValueError, match="at least one value"):
        RichField("FORM_FIELD_SELECT", "兴趣", [])
