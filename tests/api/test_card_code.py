from __future__ import annotations

import pytest

from wxhook.api import (
    CardCode,
    Client,
    CodeCheck,
    ConsumedCode,
    DepositResult,
    GeneralCoupon,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from ._cards import BEGIN, END, base, errcode, passed
from .conftest import sent

CONSUME = "/card/code/consume"
DEPOSIT_MODE = "GET_CUSTOM_CODE_MODE_DEPOSIT"


async def test_get_and_consume(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client)
    code = fake.give_card(card_id, "o1", outer_str="poster")
    found = await client.card.code.get(code)
    assert sent(fake, "/card/code/get") == {"code": code, "check_consume": True}
    assert isinstance(found, CardCode)
    assert (found.code, found.card_id, found.openid, found.can_consume, found.user_card_status) == (
        code, card_id, "o1", True, "NORMAL")
    assert (found.begin_time, found.end_time, found.outer_str) == (BEGIN, END, "poster")
    consumed = await client.card.code.consume(code, card_id)
    assert sent(fake, CONSUME) == {"code": code, "card_id": card_id}
    assert consumed == ConsumedCode(code, card_id, "o1")
    with pytest.raises(WeChatAPIError) as caught:
        await client.card.code.consume(code)
    assert (caught.value.errcode, caught.value.path) == (40099, CONSUME)
    assert await errcode(client.card.code.get(code)) == 40099
    after = await client.card.code.get(code, check_consume=False)
    assert (after.user_card_status, after.can_consume) == ("CONSUMED", False)
    assert await errcode(client.card.code.get("000000000000")) == 40056


async def test_consume_is_not_repeated_after_a_failure_that_may_have_reached_wechat(fake: FakeWeChat,
                                                                                   client: Client) -> None:
    card_id = await passed(fake, client)
    code = fake.give_card(card_id, "o1")
    fake.fail(CONSUME, status=502)
    with pytest.raises(WeChatNetworkError):
        await client.card.code.consume(code)
    assert fake.count(CONSUME) == 1
    assert (await client.card.code.get(code)).can_consume  # the failed attempt never reached the fake's state


async def test_a_custom_code_needs_its_card_id(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client, GeneralCoupon(base(use_custom_code=True), default_detail="x"))
    assert fake.give_card(card_id, "o1", code="VIP-0001") == "VIP-0001"
    with pytest.raises(ValueError, match="40056"):
        fake.give_card(card_id, "o2", code="VIP-0001")
    assert await errcode(client.card.code.consume("VIP-0001")) == 41012
    assert (await client.card.code.consume("VIP-0001", card_id)).openid == "o1"


async def test_a_discarded_or_voided_code_cannot_be_used(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client)
    discarded, voided = fake.give_card(card_id, "o1"), fake.give_card(card_id, "o2")
    fake.discard_card(card_id, discarded)
    assert await errcode(client.card.code.consume(discarded)) == 40127
    await client.card.code.mark_unavailable(voided, card_id, reason="已退款")
    assert sent(fake, "/card/code/unavailable") == {"code": voided, "card_id": card_id, "reason": "已退款"}
    assert fake.state.card_codes[(card_id, voided)]["reason"] == "已退款"
    assert (await client.card.code.get(voided, check_consume=False)).user_card_status == "UNAVAILABLE"
    assert await errcode(client.card.code.consume(voided)) == 40056
    assert await errcode(client.card.code.mark_unavailable(voided)) == 40056
    with pytest.raises(ValueError, match="code must be a non-empty string"):
        await client.card.code.mark_unavailable("")


async def test_decrypt(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client)
    code = fake.give_card(card_id, "o1")
    encrypted = fake.encrypt_card_code(card_id, code)
    assert await client.card.code.decrypt(encrypted) == code
    assert sent(fake, "/card/code/decrypt") == {"encrypt_code": encrypted}
    assert await errcode(client.card.code.decrypt("bm90IGEgY29kZQ==")) == 40072


async def test_deposited_codes_are_split_counted_checked_and_handed_out(fake: FakeWeChat, client: Client) -> None:
    card = GeneralCoupon(base(quantity=0, use_custom_code=True, get_custom_code_mode=DEPOSIT_MODE), default_detail="x")
    card_id = await passed(fake, client, card)
    codes = [f"C{i:04d}" for i in range(150)]
    result = await client.card.code.deposit(card_id, codes)
    assert [len(call.json["code"]) for call in fake.calls("/card/code/deposit")] == [100, 50]
    assert isinstance(result, DepositResult) and result.succ_code == codes and result.duplicate_code == []
    again = await client.card.code.deposit(card_id, ["C0000", "C9999"])
    assert (again.succ_code, again.duplicate_code) == (["C9999"], ["C0000"])
    assert await client.card.code.deposit_count(card_id) == 151
    checked = await client.card.code.check(card_id, [*codes[:120], "NOPE"])
    assert [len(call.json["code"]) for call in fake.calls("/card/code/checkcode")] == [100, 21]
    assert isinstance(checked, CodeCheck) and checked.exist_code == codes[:120] and checked.not_exist_code == ["NOPE"]
    assert await errcode(client.card.modify_stock(card_id, 152)) == 40136  # never more stock than codes left
    await client.card.modify_stock(card_id, 151)
    assert [fake.give_card(card_id, "o1") for _ in range(2)] == ["C0000", "C0001"]
    assert await errcode(client.card.modify_stock(card_id, 1)) == 40136
    with pytest.raises(ValueError, match="40056"):
        fake.give_card(card_id, "o2", code="C0001")  # already handed out


async def test_own_codes_are_checked_before_sending(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client, GeneralCoupon(base(use_custom_code=True), default_detail="x"))
    with pytest.raises(ValueError, match=r"1\.\.20 bytes"):
        await client.card.code.deposit(card_id, ["x" * 21])
    with pytest.raises(ValueError, match="at least one code"):
        await client.card.code.check(card_id, [])
    with pytest.raises(TypeError, match="list of strings"):
        await client.card.code.deposit(card_id, "C0001")
    with pytest.raises(ValueError, match="card_id"):
        await client.card.code.deposit_count("")
    assert fake.calls("/card/code/deposit") == [] and fake.calls("/card/code/checkcode") == []
    plain = await passed(fake, client)
    assert await errcode(client.card.code.deposit(plain, ["C0001"])) == 40056  # only custom codes are deposited


async def test_update_gives_a_custom_code_a_new_one(fake: FakeWeChat, client: Client) -> None:
    card_id = await passed(fake, client, GeneralCoupon(base(use_custom_code=True), default_detail="x"))
    fake.give_card(card_id, "o1", code="OLD-1")
    fake.give_card(card_id, "o2", code="TAKEN")
    await client.card.code.update(card_id, "OLD-1", "NEW-1")
    assert sent(fake, "/card/code/update") == {"card_id": card_id, "code": "OLD-1", "new_code": "NEW-1"}
    assert (await client.card.code.get("NEW-1", card_id)).openid == "o1"
    assert await errcode(client.card.code.get("OLD-1", card_id)) == 40056
    assert await errcode(client.card.code.update(card_id, "NEW-1", "TAKEN")) == 40056
    with pytest.raises(ValueError, match="different one"):
        await client.card.code.update(card_id, "NEW-1", "NEW-1")
    plain = await passed(fake, client)
    code = fake.give_card(plain, "o1")
    assert await errcode(client.card.code.update(plain, code, "NEW-2")) == 40056
