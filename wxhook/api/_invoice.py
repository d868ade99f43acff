"""Electronic invoices (电子发票): a merchant asks the follower to authorize an invoice for an order, and a
reimbursing company reads and locks the invoices followers submit to it.

The merchant side: set a contact once (:meth:`InvoiceAPI.set_contact`), then per order send the follower to
:meth:`~InvoiceAPI.auth_url`, read what they authorized with :meth:`~InvoiceAPI.auth_data` (or wait for the
``user_authorize_invoice`` event), or refuse with :meth:`~InvoiceAPI.reject`. The reimbursing side gets
``(card_id, encrypt_code)`` pairs from the JS-SDK's ``chooseInvoice`` and reads, locks and closes them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..custom_messages import drop_none
from ._caller import Caller, Group, build, needed
from ._data import WeChatData
from ._ticket import TicketAPI

__all__ = [
    "Invoice", "InvoiceAuthData", "InvoiceAuthURL", "InvoiceContact", "InvoiceFace", "InvoiceItem", "InvoiceTitle",
]

InvoiceSource = Literal["app", "web", "wxa", "wap"]
ReimburseStatus = Literal["INVOICE_REIMBURSE_INIT", "INVOICE_REIMBURSE_LOCK", "INVOICE_REIMBURSE_CLOSURE"]
_SOURCES = ("app", "web", "wxa", "wap")
_STATUSES = ("INVOICE_REIMBURSE_INIT", "INVOICE_REIMBURSE_LOCK", "INVOICE_REIMBURSE_CLOSURE")
_MAX_SECONDS = 10**10  # a unix time in seconds has 10 digits until 2286; more means milliseconds


@dataclass(frozen=True)
class InvoiceAuthURL(WeChatData):
    """The authorization page for one order; ``appid`` is set when ``source="wxa"`` (the mini program to open)."""

    auth_url: str
    appid: str = ""


@dataclass(frozen=True)
class InvoiceTitle(WeChatData):
    """An invoice title (抬头) a follower authorized: a person's (``title``, ``phone``, ``email``) or a company's
    (``title``, ``tax_no``, ``addr``, ``phone``, ``bank_type``, ``bank_no``), with the custom fields you asked for."""

    title: str = ""
    phone: str = ""
    email: str = ""
    tax_no: str = ""
    addr: str = ""
    bank_type: str = ""
    bank_no: str = ""
    custom_field: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class InvoiceAuthData(WeChatData):
    """Whether the follower authorized the order (``invoice_status`` "auth success", else e.g. "never auth"), when,
    and the title they chose: ``user_title`` (a person) or ``biz_title`` (a company)."""

    invoice_status: str = ""
    auth_time: int = 0
    user_title: InvoiceTitle | None = None
    biz_title: InvoiceTitle | None = None

    @property
    def authorized(self) -> bool:
        return self.invoice_status == "auth success"


@dataclass(frozen=True)
class InvoiceContact(WeChatData):
    """The merchant's contact shown on the authorization page, and ``time_out``: seconds to issue an invoice."""

    phone: str = ""
    time_out: int = 0


@dataclass(frozen=True)
class InvoiceItem(WeChatData):
    """One line of an invoice: ``num`` × ``unit`` at ``price``, ``fee`` in all (fen)."""

    name: str = ""
    num: float = 0
    unit: str = ""
    price: int = 0
    fee: int = 0


@dataclass(frozen=True)
class InvoiceFace(WeChatData):
    """What the invoice itself says (``user_info``): amounts in fen, ``billing_time`` in unix seconds,
    ``billing_no`` / ``billing_code`` its number and code, ``pdf_url`` the invoice, ``reimburse_status`` where it is
    in reimbursement. Buyer, seller and the rest of WeChat's fields are in ``raw``."""

    fee: int = 0
    title: str = ""
    billing_time: int = 0
    billing_no: str = ""
    billing_code: str = ""
    info: list[InvoiceItem] = field(default_factory=list)
    fee_without_tax: int = 0
    tax: int = 0
    detail: str = ""
    pdf_url: str = ""
    check_code: str = ""
    reimburse_status: str = ""


@dataclass(frozen=True)
class Invoice(WeChatData):
    """An invoice a follower submitted for reimbursement: ``type`` (e.g. 增值税电子普通发票), ``payee`` (who issued
    it), valid ``begin_time`` to ``end_time``, and its face."""

    card_id: str
    openid: str = ""
    type: str = ""
    payee: str = ""
    detail: str = ""
    begin_time: int = 0
    end_time: int = 0
    face: InvoiceFace = field(default_factory=InvoiceFace)


def _title(data: Any) -> InvoiceTitle | None:
    return build(InvoiceTitle, data) if isinstance(data, dict) and data else None


def _status(status: ReimburseStatus) -> ReimburseStatus:
    if status not in _STATUSES:
        raise ValueError(f"reimburse status must be one of {', '.join(_STATUSES)}, got {status!r}")
    return status


class InvoiceAPI(Group):
    """``client.invoice``. Changing a reimburse status to INVOICE_REIMBURSE_LOCK or back to INIT is retried like any
    call; to INVOICE_REIMBURSE_CLOSURE (reimbursed: the invoice leaves the follower's card holder for good) it is
    not retried blindly, a repeat failing on the closed invoice."""

    def __init__(self, caller: Caller, ticket: TicketAPI) -> None:
        super().__init__(caller)
        self._ticket = ticket

    # -- the merchant: authorization ---------------------------------------------------------------------

    async def auth_url(
        self,
        s_pappid: str,
        order_id: str,
        money: int,
        *,
        source: InvoiceSource,
        auth_type: Literal[0, 1, 2] = 0,
        redirect_url: str | None = None,
        timestamp: int | None = None,
    ) -> InvoiceAuthURL:
        """The page where the follower authorizes an invoice for ``order_id`` (``money`` in fen) from the invoicing
        platform ``s_pappid``. ``auth_type`` 0: you have their title and will issue; 1: they pick or fill in a
        title (the only type for invoicing after payment); 2: they collect an invoice already issued. ``source`` is
        where they come from: ``web`` (a page in WeChat, which needs ``redirect_url``: where they go after), ``app``,
        ``wxa`` (a mini program) or ``wap``. The ``wx_card`` ticket it needs is fetched and cached for you; set a
        contact first (:meth:`set_contact`), or WeChat answers 72063."""
        if source not in _SOURCES:
            raise ValueError(f"source must be one of {', '.join(_SOURCES)}, got {source!r}")
        if auth_type not in (0, 1, 2):
            raise ValueError(f"auth_type is 0 (you issue), 1 (they fill in a title) or 2 (they collect), "
                             f"got {auth_type}")
        if source == "web" and not redirect_url:
            raise ValueError("source='web' needs redirect_url=: the page the follower returns to after authorizing")
        if money < 0:
            raise ValueError(f"money is the order's amount in fen, 0 or more, got {money}")
        moment = int(time.time()) if timestamp is None else timestamp
        if moment >= _MAX_SECONDS:
            raise ValueError(f"timestamp is unix seconds, got {moment} (milliseconds?)")
        body = {
            "s_pappid": needed(s_pappid, "s_pappid"),
            "order_id": needed(order_id, "order_id"),
            "money": money,
            "timestamp": moment,
            "source": source,
            "ticket": await self._ticket.get("wx_card"),
            "type": auth_type,
            **drop_none(redirect_url=redirect_url),
        }
        return build(InvoiceAuthURL, await self._caller.post("/card/invoice/getauthurl", body))

    async def auth_data(self, s_pappid: str, order_id: str) -> InvoiceAuthData:
        body = {"s_pappid": needed(s_pappid, "s_pappid"), "order_id": needed(order_id, "order_id")}
        data = await self._caller.post("/card/invoice/getauthdata", body)
        info = data.get("user_auth_info") or {}
        return build(InvoiceAuthData, data, user_title=_title(info.get("user_field")),
                     biz_title=_title(info.get("biz_field")))

    async def reject(self, s_pappid: str, order_id: str, reason: str, url: str | None = None) -> None:
        """Refuse to invoice an authorized order (a wrong title, a refund …); the follower is told ``reason`` and
        offered ``url``. The order can never be invoiced again: a new invoice needs a new order_id. Not retried
        blindly: a repeat fails on the refused order."""
        body = {"s_pappid": needed(s_pappid, "s_pappid"), "order_id": needed(order_id, "order_id"),
                "reason": needed(reason, "reason"), **drop_none(url=url)}
        await self._caller.post("/card/invoice/rejectinsert", body, safe=False)

    async def set_contact(self, phone: str, time_out: int) -> None:
        """The merchant's phone shown on the authorization page, and ``time_out``: the seconds you take to issue an
        invoice. WeChat needs it before the first :meth:`auth_url`."""
        if time_out < 1:
            raise ValueError(f"time_out is the seconds you take to issue an invoice, 1 or more, got {time_out}")
        body = {"contact": {"phone": needed(phone, "phone"), "time_out": time_out}}
        await self._caller.post("/card/invoice/setbizattr", body, params={"action": "set_contact"})

    async def contact(self) -> InvoiceContact:
        data = await self._caller.post("/card/invoice/setbizattr", {}, params={"action": "get_contact"})
        return build(InvoiceContact, data.get("contact") or {}, raw=data)

    # -- the reimbursing company -------------------------------------------------------------------------

    async def reimburse_info(self, card_id: str, encrypt_code: str) -> Invoice:
        """An invoice a follower chose (``chooseInvoice`` gives ``card_id`` and ``encrypt_code``)."""
        body = {"card_id": needed(card_id, "card_id"), "encrypt_code": needed(encrypt_code, "encrypt_code")}
        data = await self._caller.post("/card/invoice/reimburse/getinvoiceinfo", body)
        face = data.get("user_info") or {}
        items = [build(InvoiceItem, item) for item in face.get("info") or []]
        return build(Invoice, data, face=build(InvoiceFace, face, info=items))

    async def set_reimburse_status(self, card_id: str, encrypt_code: str, status: ReimburseStatus) -> None:
        """Lock an invoice while it is being reimbursed (INVOICE_REIMBURSE_LOCK), unlock it (…_INIT), or close it
        once reimbursed (…_CLOSURE, for good)."""
        body = {"card_id": needed(card_id, "card_id"), "encrypt_code": needed(encrypt_code, "encrypt_code"),
                "reimburse_status": _status(status)}
        await self._caller.post("/card/invoice/reimburse/updateinvoicestatus", body,
                                safe=status != "INVOICE_REIMBURSE_CLOSURE")

    async def set_reimburse_statuses(
        self, openid: str, invoices: Sequence[tuple[str, str]], status: ReimburseStatus
    ) -> None:
        """The same for several ``(card_id, encrypt_code)`` invoices of one follower, all or none: when one cannot
        change, WeChat changes none."""
        if not invoices:
            raise ValueError("set_reimburse_statuses needs at least one (card_id, encrypt_code)")
        body = {
            "openid": needed(openid, "openid"),
            "reimburse_status": _status(status),
            "invoice_list": [{"card_id": needed(card_id, "card_id"), "encrypt_code": needed(code, "encrypt_code")}
                             for card_id, code in invoices],
        }
        await self._caller.post("/card/invoice/reimburse/updatestatusbatch", body,
                                safe=status != "INVOICE_REIMBURSE_CLOSURE")
