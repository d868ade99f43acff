"""Fake electronic invoices: the merchant's contact, authorization of an order, refusing to invoice it, and the
invoices a reimbursing company reads, locks and closes.

An auth URL needs the contact set (72063) and the account's current ``wx_card`` ticket (72031). The follower
authorizes an order with ``fake.authorize_invoice``; a refused order answers 72035 from then on. ``fake.add_invoice``
puts an invoice in a follower's card holder and returns its ``(card_id, encrypt_code)``, as ``chooseInvoice`` would.
A closed (reimbursed) invoice cannot change again; a batch changes all of its invoices or none.
"""

from __future__ import annotations

import string
from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
STATUSES = ("INVOICE_REIMBURSE_INIT", "INVOICE_REIMBURSE_LOCK", "INVOICE_REIMBURSE_CLOSURE")
_SOURCES = ("app", "web", "wxa", "wap")
_ORDER_FIELDS = ("s_pappid", "order_id", "money", "timestamp", "source", "ticket")


def _order(st: FakeState, body: dict[str, Any]) -> dict[str, Any]:
    """The order a request names; never asked about before, it is one the follower never authorized."""
    s_pappid, order_id = body.get("s_pappid"), body.get("order_id")
    if not s_pappid or not order_id:
        raise Fault(72031, f"invalid params, {'s_pappid' if not s_pappid else 'order_id'} is empty")
    order = st.invoice_orders.setdefault((str(s_pappid), str(order_id)), {"invoice_status": "never auth"})
    if order.get("rejected"):
        raise Fault(72035, "biz reject insert")
    return order


def authorize(st: FakeState, s_pappid: str, order_id: str, titles: dict[str, dict[str, Any]]) -> None:
    """The follower taps 申请开票 on the order's authorization page, with these titles."""
    order = _order(st, {"s_pappid": s_pappid, "order_id": order_id})
    if "auth_url" not in order:
        raise Fault(72038, "invoice order never auth: no authorization page was made for it (getauthurl)")
    order.update(invoice_status="auth success", auth_time=st.shared.wall(), user_auth_info=titles)


def add_invoice(st: FakeState, openid: str, face: dict[str, Any], details: dict[str, Any]) -> tuple[str, str]:
    card_id = "p" + random_id(27, string.ascii_letters + string.digits + "-_")
    encrypt_code = random_id(64, string.ascii_letters + string.digits + "+/")
    now = st.shared.wall()
    st.invoices[(card_id, encrypt_code)] = {
        "card_id": card_id, "begin_time": now, "end_time": now + 365 * 86_400, "openid": openid,
        "type": "增值税电子普通发票", "payee": "测试商户有限公司", "detail": "", **details,
        "user_info": {"fee": 0, "title": "", "billing_time": now, "billing_no": "", "billing_code": "", "info": [],
                      "fee_without_tax": 0, "tax": 0, "detail": "", "pdf_url": "", "check_code": "", **face,
                      "reimburse_status": "INVOICE_REIMBURSE_INIT"},
    }
    return card_id, encrypt_code


@endpoint("POST", "/card/invoice/setbizattr")
def set_biz_attr(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """The contact actions only (``set_contact``, ``get_contact``)."""
    action = req.query.get("action")
    if action == "get_contact":
        return {**OK, "contact": dict(st.invoice_contact or {})}
    if action != "set_contact":
        raise Fault(72031, "invalid params, action")
    contact = req.body().get("contact") or {}
    if not contact.get("phone") or not isinstance(contact.get("time_out"), int) or contact["time_out"] < 1:
        raise Fault(72031, "invalid params, contact needs phone and time_out")
    st.invoice_contact = {"phone": contact["phone"], "time_out": contact["time_out"]}
    return OK


@endpoint("POST", "/card/invoice/getauthurl")
def auth_url(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    if not st.invoice_contact:
        raise Fault(72063, "biz contact is empty, set contact first please")
    for name in _ORDER_FIELDS:
        if body.get(name) in (None, ""):
            raise Fault(72031, f"invalid params, {name} is empty")
    if body["ticket"] != st.tickets.get("wx_card"):
        raise Fault(72031, "invalid params, ticket is not the account's wx_card ticket")
    if body["source"] not in _SOURCES or body.get("type", 0) not in (0, 1, 2):
        raise Fault(72031, "invalid params, source or type")
    order = _order(st, body)
    order["auth_url"] = f"https://mp.weixin.qq.com/bizmall/authinvoice?action=list&s_pappid={body['s_pappid']}" \
                        f"&order_id={body['order_id']}&money={body['money']}&t={random_id(16)}#wechat_redirect"
    answer = {**OK, "auth_url": order["auth_url"]}
    return {**answer, "appid": "wx9db2c16d0633c2e7"} if body["source"] == "wxa" else answer


@endpoint("POST", "/card/invoice/getauthdata")
def auth_data(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    order = _order(st, req.body())
    answer = {**OK, "invoice_status": order["invoice_status"]}
    if order["invoice_status"] == "auth success":
        answer.update(auth_time=order["auth_time"], user_auth_info=order["user_auth_info"])
    return answer


@endpoint("POST", "/card/invoice/rejectinsert")
def reject_insert(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    order = _order(st, body)
    req.need(body.get("reason"), 72031, "invalid params, reason is empty")
    if order["invoice_status"] != "auth success":
        raise Fault(72038, "invoice order never auth")
    order["rejected"] = True
    return OK


def _invoice(st: FakeState, item: Any) -> dict[str, Any]:
    key = (str(item.get("card_id")), str(item.get("encrypt_code"))) if isinstance(item, dict) else ("", "")
    found = st.invoices.get(key)
    if found is None:
        raise Fault(72031, "invalid params, no invoice with this card_id and encrypt_code")
    return found


def _status(body: dict[str, Any]) -> str:
    status = body.get("reimburse_status")
    if status not in STATUSES:
        raise Fault(72031, "invalid params, reimburse_status")
    return str(status)


def _movable(invoice: dict[str, Any]) -> dict[str, Any]:
    if invoice["user_info"]["reimburse_status"] == "INVOICE_REIMBURSE_CLOSURE":
        raise Fault(72031, "invalid params, the invoice was reimbursed (INVOICE_REIMBURSE_CLOSURE) for good")
    return invoice["user_info"]  # type: ignore[no-any-return]


@endpoint("POST", "/card/invoice/reimburse/getinvoiceinfo")
def invoice_info(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {**OK, **_invoice(st, req.body())}


@endpoint("POST", "/card/invoice/reimburse/updateinvoicestatus")
def update_status(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    status = _status(body)
    _movable(_invoice(st, body))["reimburse_status"] = status
    return OK


@endpoint("POST", "/card/invoice/reimburse/updatestatusbatch")
def update_status_batch(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """All or none: every invoice is checked before any changes."""
    body = req.body()
    openid = req.need(body.get("openid"), 72031, "invalid params, openid is empty")
    status = _status(body)
    faces = []
    for item in req.need(body.get("invoice_list"), 72031, "invalid params, invoice_list is empty"):
        invoice = _invoice(st, item)
        if invoice["openid"] != openid:
            raise Fault(72031, "invalid params, the invoices must all be the openid's")
        faces.append(_movable(invoice))
    for face in faces:
        face["reimburse_status"] = status
    return OK
