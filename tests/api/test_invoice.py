from __future__ import annotations

import time

import pytest

from wxhook.api import (
    Client,
    Invoice,
    InvoiceAuthData,
    InvoiceAuthURL,
    InvoiceContact,
    InvoiceItem,
    InvoiceTitle,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from ._cards import errcode
from .conftest import sent

PAPPID = "d3g1Y2Q4NTI3NWI4NDdlM2I2X7xcO5NPKJ9cUhYRLlygl8Dc2ZUl9Pj"
AUTH_URL = "/card/invoice/getauthurl"
STATUS = "/card/invoice/reimburse/updateinvoicestatus"
BATCH = "/card/invoice/reimburse/updatestatusbatch"


async def ordered(fake: FakeWeChat, client: Client, order_id: str = "order-1") -> InvoiceAuthURL:
    """An order whose authorization page was made, the merchant's contact set first."""
    await client.invoice.set_contact("020-88888888", 7200)
    return await client.invoice.auth_url(PAPPID, order_id, 3500, source="app", auth_type=1)


async def test_contact(fake: FakeWeChat, client: Client) -> None:
    assert await client.invoice.contact() == InvoiceContact()
    await client.invoice.set_contact("020-88888888", 172_800)
    call = fake.calls("/card/invoice/setbizattr")[-1]
    assert (call.query["action"], call.json) == ("set_contact", {"contact": {"phone": "020-88888888",
                                                                              "time_out": 172_800}})
    contact = await client.invoice.contact()
    assert fake.calls("/card/invoice/setbizattr")[-1].query["action"] == "get_contact"
    assert (contact.phone, contact.time_out) == ("020-88888888", 172_800) and contact.raw["errcode"] == 0
    with pytest.raises(ValueError, match="time_out"):
        await client.invoice.set_contact("020-88888888", 0)


async def test_auth_url_carries_the_card_ticket(fake: FakeWeChat, client: Client) -> None:
    assert await errcode(client.invoice.auth_url(PAPPID, "order-1", 3500, source="app")) == 72063  # no contact yet
    page = await ordered(fake, client)
    body = sent(fake, AUTH_URL)
    assert body.pop("ticket") == fake.state.tickets["wx_card"]
    assert abs(body.pop("timestamp") - time.time()) < 60
    assert body == {"s_pappid": PAPPID, "order_id": "order-1", "money": 3500, "source": "app", "type": 1}
    assert isinstance(page, InvoiceAuthURL) and "order_id=order-1" in page.auth_url and page.appid == ""
    assert fake.count("/cgi-bin/ticket/getticket") == 1
    web = await client.invoice.auth_url(PAPPID, "order-2", 100, source="web", redirect_url="https://shop.example/ok",
                                        timestamp=1_700_000_000)
    assert sent(fake, AUTH_URL)["redirect_url"] == "https://shop.example/ok" and web.auth_url
    assert sent(fake, AUTH_URL)["timestamp"] == 1_700_000_000 and fake.count("/cgi-bin/ticket/getticket") == 1
    assert (await client.invoice.auth_url(PAPPID, "order-3", 100, source="wxa")).appid


@pytest.mark.parametrize(("options", "problem"), [
    ({"source": "web"}, "redirect_url"),
    ({"source": "sms"}, "source must be one of"),
    ({"source": "app", "auth_type": 3}, "auth_type is 0"),
    ({"source": "app", "timestamp": 1_700_000_000_000}, "milliseconds"),
])
async def test_auth_url_is_checked_before_sending(fake: FakeWeChat, client: Client, options: dict[str, object],
                                                  problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        await client.invoice.auth_url(PAPPID, "order-1", 100, **options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="money"):
        await client.invoice.auth_url(PAPPID, "order-1", -1, source="app")
    assert fake.calls(AUTH_URL) == []


async def test_auth_data_before_and_after_the_follower_authorizes(fake: FakeWeChat, client: Client) -> None:
    never = await client.invoice.auth_data(PAPPID, "order-1")
    assert sent(fake, "/card/invoice/getauthdata") == {"s_pappid": PAPPID, "order_id": "order-1"}
    assert (never.invoice_status, never.authorized, never.user_title) == ("never auth", False, None)
    with pytest.raises(ValueError, match="72038"):
        fake.authorize_invoice(PAPPID, "order-1", user_title={"title": "张三"})  # no page was made for it
    await ordered(fake, client)
    fake.authorize_invoice(PAPPID, "order-1", biz_title={"title": "某某有限公司", "tax_no": "91440300MA5XXXXXX",
                                                         "custom_field": [{"key": "部门", "value": "财务"}]})
    data = await client.invoice.auth_data(PAPPID, "order-1")
    assert isinstance(data, InvoiceAuthData) and data.authorized and data.auth_time > 0
    assert data.user_title is None and isinstance(data.biz_title, InvoiceTitle)
    assert (data.biz_title.title, data.biz_title.tax_no, data.biz_title.custom_field) == (
        "某某有限公司", "91440300MA5XXXXXX", [{"key": "部门", "value": "财务"}])


async def test_a_refused_order_is_closed_for_good(fake: FakeWeChat, client: Client) -> None:
    await ordered(fake, client)
    assert await errcode(client.invoice.reject(PAPPID, "order-1", "抬头有误")) == 72038  # not authorized yet
    fake.authorize_invoice(PAPPID, "order-1", user_title={"title": "张三", "phone": "13800000000"})
    fake.fail("/card/invoice/rejectinsert", status=502)
    with pytest.raises(WeChatNetworkError):
        await client.invoice.reject(PAPPID, "order-1", "抬头有误")
    assert fake.count("/card/invoice/rejectinsert") == 2  # not repeated
    await client.invoice.reject(PAPPID, "order-1", "抬头有误", url="https://shop.example/retry")
    assert sent(fake, "/card/invoice/rejectinsert") == {"s_pappid": PAPPID, "order_id": "order-1", "reason": "抬头有误",
                                                        "url": "https://shop.example/retry"}
    assert await errcode(client.invoice.auth_data(PAPPID, "order-1")) == 72035
    assert await errcode(client.invoice.auth_url(PAPPID, "order-1", 3500, source="app")) == 72035
    await client.invoice.auth_url(PAPPID, "order-2", 3500, source="app")  # a new order_id works
    with pytest.raises(ValueError, match="reason"):
        await client.invoice.reject(PAPPID, "order-2", "")


async def test_reimburse_info(fake: FakeWeChat, client: Client) -> None:
    card_id, code = fake.add_invoice("o1", {"fee": 4000, "title": "某某有限公司", "billing_no": "00000001",
                                            "tax": 123, "pdf_url": "https://pdf.example/1.pdf",
                                            "info": [{"name": "咖啡", "num": 2, "unit": "杯", "price": 2000,
                                                      "fee": 4000}],
                                            "buyer_number": "91440300MA5XXXXXX"}, payee="咖啡小站")
    invoice = await client.invoice.reimburse_info(card_id, code)
    assert sent(fake, "/card/invoice/reimburse/getinvoiceinfo") == {"card_id": card_id, "encrypt_code": code}
    assert isinstance(invoice, Invoice)
    assert (invoice.card_id, invoice.openid, invoice.payee) == (card_id, "o1", "咖啡小站")
    assert invoice.type == "增值税电子普通发票"
    face = invoice.face
    assert (face.fee, face.title, face.billing_no, face.tax, face.reimburse_status) == (
        4000, "某某有限公司", "00000001", 123, "INVOICE_REIMBURSE_INIT")
    assert face.info == [InvoiceItem("咖啡", 2, "杯", 2000, 4000)] and face.raw["buyer_number"] == "91440300MA5XXXXXX"
    assert await errcode(client.invoice.reimburse_info(card_id, "not-its-code")) == 72031


async def test_lock_unlock_and_close_one_invoice(fake: FakeWeChat, client: Client) -> None:
    card_id, code = fake.add_invoice("o1")

    async def status() -> str:
        return (await client.invoice.reimburse_info(card_id, code)).face.reimburse_status

    fake.fail(STATUS, status=502)
    await client.invoice.set_reimburse_status(card_id, code, "INVOICE_REIMBURSE_LOCK")  # retried: locking is a state
    assert sent(fake, STATUS) == {"card_id": card_id, "encrypt_code": code,
                                  "reimburse_status": "INVOICE_REIMBURSE_LOCK"}
    assert fake.count(STATUS) == 2 and await status() == "INVOICE_REIMBURSE_LOCK"
    await client.invoice.set_reimburse_status(card_id, code, "INVOICE_REIMBURSE_INIT")
    assert await status() == "INVOICE_REIMBURSE_INIT"
    fake.fail(STATUS, status=502)
    with pytest.raises(WeChatNetworkError):
        await client.invoice.set_reimburse_status(card_id, code, "INVOICE_REIMBURSE_CLOSURE")
    assert fake.count(STATUS) == 4  # closing is not repeated
    await client.invoice.set_reimburse_status(card_id, code, "INVOICE_REIMBURSE_CLOSURE")
    assert await status() == "INVOICE_REIMBURSE_CLOSURE"
    assert await errcode(client.invoice.set_reimburse_status(card_id, code, "INVOICE_REIMBURSE_INIT")) == 72031
    with pytest.raises(ValueError, match="reimburse status must be one of"):
        await client.invoice.set_reimburse_status(card_id, code, "PAID")  # type: ignore[arg-type]


async def test_a_batch_changes_all_invoices_or_none(fake: FakeWeChat, client: Client) -> None:
    first, second = fake.add_invoice("o1"), fake.add_invoice("o1")
    someone_elses = fake.add_invoice("o2")
    assert await errcode(client.invoice.set_reimburse_statuses("o1", [first, someone_elses],
                                                               "INVOICE_REIMBURSE_LOCK")) == 72031
    assert {(await client.invoice.reimburse_info(*pair)).face.reimburse_status for pair in (first, second)} == {
        "INVOICE_REIMBURSE_INIT"}
    await client.invoice.set_reimburse_statuses("o1", [first, second], "INVOICE_REIMBURSE_LOCK")
    assert sent(fake, BATCH) == {"openid": "o1", "reimburse_status": "INVOICE_REIMBURSE_LOCK", "invoice_list": [
        {"card_id": first[0], "encrypt_code": first[1]}, {"card_id": second[0], "encrypt_code": second[1]}]}
    assert {(await client.invoice.reimburse_info(*pair)).face.reimburse_status for pair in (first, second)} == {
        "INVOICE_REIMBURSE_LOCK"}
    await client.invoice.set_reimburse_status(*second, "INVOICE_REIMBURSE_CLOSURE")
    reopen = client.invoice.set_reimburse_statuses("o1", [first, second], "INVOICE_REIMBURSE_INIT")
    assert await errcode(reopen) == 72031
    assert (await client.invoice.reimburse_info(*first)).face.reimburse_status == "INVOICE_REIMBURSE_LOCK"
    with pytest.raises(ValueError, match="at least one"):
        await client.invoice.set_reimburse_statuses("o1", [], "INVOICE_REIMBURSE_LOCK")


async def test_each_account_keeps_its_own_orders_and_invoices(fake: FakeWeChat, client: Client) -> None:
    shop = fake.add_account("wx5ec0dacc0000ca4d")
    card_id, code = shop.add_invoice("o1")
    async with shop.client() as other:
        await ordered(fake, other)
        assert (await other.invoice.reimburse_info(card_id, code)).openid == "o1"
    assert await errcode(client.invoice.reimburse_info(card_id, code)) == 72031
    assert await errcode(client.invoice.auth_url(PAPPID, "order-1", 3500, source="app")) == 72063  # its own contact
    assert (await client.invoice.auth_data(PAPPID, "order-1")).invoice_status == "never auth"
    shop.authorize_invoice(PAPPID, "order-1", user_title={"title": "张三"})
    assert (await client.invoice.auth_data(PAPPID, "order-1")).invoice_status == "never auth"
