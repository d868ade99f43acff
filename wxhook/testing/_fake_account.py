"""One fake account's data, seeded and read by tests: the default account's through ``FakeWeChat`` itself, any
other's through the ``FakeAccount`` that ``fake.add_account`` (or ``fake.account(appid)``) returns."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ..api import Client
from ._fake_auth import new_oauth_code
from ._fake_card import find_card
from ._fake_card_code import encrypt_code, give_card, held_code
from ._fake_comments import add_comment
from ._fake_invoice import add_invoice, authorize
from ._fake_member_card import fill_form
from ._fake_messages import add_template
from ._fake_ocr import SAMPLES as OCR_SAMPLES
from ._fake_state import FakeState, Fault, random_id

if TYPE_CHECKING:
    from .fake_wechat import FakeWeChat

__all__ = ["FakeAccount"]

T = TypeVar("T")


class AccountData:
    """The helpers that seed and read one account's data, under the fake's lock."""

    state: FakeState
    _lock: threading.Lock

    @property
    def url(self) -> str:
        """The fake's base URL, e.g. ``http://127.0.0.1:54321``."""
        raise NotImplementedError

    @property
    def appid(self) -> str:
        return self.state.appid

    @property
    def secret(self) -> str:
        return self.state.secret

    @property
    def original_id(self) -> str:
        """The gh_ id: the ToUserName of the account's pushes, ``user_name`` in ``api_get_authorizer_info``."""
        return self.state.original_id

    @property
    def name(self) -> str:
        return self.state.name

    def client(self, **options: Any) -> Client:
        """A :class:`wxhook.api.Client` for this account (its appid and secret) with ``api_base``, ``mp_base`` and
        ``open_base`` at the fake."""
        options = {"api_base": self.url, "mp_base": self.url, "open_base": self.url, **options}
        return Client(self.appid, self.secret, **options)

    def add_follower(self, openid: str, **profile: Any) -> None:
        """A follower user/info, batchget, paging, tags and OAuth know; ``profile`` overrides fields."""
        with self._lock:
            self.state.followers[openid] = {
                "subscribe": 1,
                "openid": openid,
                "language": "zh_CN",
                "subscribe_time": 1_700_000_000,
                "remark": "",
                "groupid": 0,
                "subscribe_scene": "ADD_SCENE_QR_CODE",
                "qr_scene": 0,
                "qr_scene_str": "",
                **profile,
            }

    def add_followers(self, openids: Sequence[str]) -> None:
        for openid in openids:
            self.add_follower(openid)

    def add_template(self, short_id: str = "TM00001", keywords: Sequence[str] = ("first", "remark")) -> str:
        """A template of this account, as ``api_add_template`` would create; returns its template_id."""
        with self._lock:
            return add_template(self.state, short_id, list(keywords))

    def add_media(self, kind: str, content: bytes, content_type: str) -> str:
        """Temporary media as a follower's upload leaves it (``kind`` image, voice, video or thumb); returns the
        media_id that ``media/get`` then serves, as an image message's MediaId refers to."""
        with self._lock:
            media_id = random_id(64)
            self.state.media[media_id] = (kind, content_type, content)
            return media_id

    def media(self, media_id: str) -> tuple[str, bytes] | None:
        """``(content_type, content)`` of uploaded or added media, or None for an unknown media_id."""
        with self._lock:
            found = self.state.media.get(media_id)
        return None if found is None else (found[1], found[2])

    @property
    def menu(self) -> dict[str, Any] | None:
        """The custom menu last created through ``menu/create`` (its ``button`` list), or None."""
        with self._lock:
            return None if self.state.menu is None else dict(self.state.menu)

    def oauth_code(self, openid: str, scope: str = "snsapi_base") -> str:
        """A single-use code, as WeChat appends to the redirect_uri after the user authorises."""
        with self._lock:
            return new_oauth_code(self.state, openid, scope)

    def set_ticket(self, kind: str, ticket: str) -> None:
        """Fix the ``jsapi`` or ``wx_card`` ticket getticket hands out (e.g. to check a known signature)."""
        with self._lock:
            self.state.tickets[kind] = ticket

    def kf_online(self, kf_account: str, status: int = 1) -> None:
        """The agent accepts its invitation (or is bound to ``kf_<prefix>``) and goes online (``status`` 1,
        the web client) or offline (0), so sessions can be opened with it."""
        with self._lock:
            account = self.state.kf_accounts[kf_account]
            if not account["kf_wx"]:
                account["kf_wx"] = account["invite_wx"] or f"kf_{kf_account.split('@')[0]}"
                account.update(invite_wx="", invite_status="", invite_expire_time=0)
            account["status"] = status

    def add_waiting(self, openid: str, latest_time: int | None = None) -> None:
        """A follower who asked for an agent and waits (getwaitcase)."""
        with self._lock:
            self.state.kf_waiting[openid] = int(time.time()) if latest_time is None else latest_time

    def add_kf_record(self, openid: str, worker: str, text: str, at: int, opercode: int = 2003) -> None:
        """A chat line for msgrecord/getmsglist: 2002 sent by the agent ``worker``, 2003 received."""
        with self._lock:
            record = {"openid": openid, "opercode": opercode, "text": text, "time": at, "worker": worker}
            self.state.kf_records.append(record)

    def add_comment(self, msg_data_id: int, openid: str, content: str, *, index: int = 0) -> int:
        """A follower's comment on a published article; returns its user_comment_id."""
        with self._lock:
            return add_comment(self.state, msg_data_id, index, openid, content)

    # -- cards and invoices: what followers and WeChat's reviewers do --------------------------------------------

    def _as_wechat(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the account's data under the lock; what WeChat would refuse raises ValueError."""
        with self._lock:
            try:
                return work()
            except Fault as fault:
                raise ValueError(f"WeChat would refuse this: {fault.errmsg} ({fault.errcode})") from None

    def review_card(self, card_id: str, *, passed: bool = True) -> None:
        """WeChat's review of a new or changed card: CARD_STATUS_VERIFY_OK, when it can be handed out, or
        CARD_STATUS_VERIFY_FAIL."""
        def review() -> None:
            find_card(self.state, card_id)["status"] = "CARD_STATUS_VERIFY_OK" if passed else "CARD_STATUS_VERIFY_FAIL"

        self._as_wechat(review)

    def give_card(self, card_id: str, openid: str, *, code: str | None = None, outer_str: str = "") -> str:
        """The follower receives the card (scanning its QR code, from a landing page …): one stock less, and a code
        for them, returned: the next deposited code, ``code`` for a custom-code card, or one WeChat picks."""
        return self._as_wechat(lambda: give_card(self.state, card_id, openid, code, outer_str))

    def discard_card(self, card_id: str, code: str) -> None:
        """The follower deletes the card from their card holder: its code answers 40127 from then on."""
        def discard() -> None:
            held_code(self.state, {"card_id": card_id, "code": code})[2]["status"] = "DELETE"

        self._as_wechat(discard)

    def encrypt_card_code(self, card_id: str, code: str) -> str:
        """The ``encrypt_code`` a card's link or the JS-SDK hands a page, which ``card/code/decrypt`` reads."""
        return self._as_wechat(lambda: encrypt_code(self.state, card_id, code))

    def fill_member_form(self, card_id: str, code: str, common: Mapping[str, str] | None = None,
                         custom: Mapping[str, str] | None = None) -> str:
        """The holder of a member card's ``code`` fills in its activation form (``common``:
        ``{"USER_FORM_INFO_FLAG_MOBILE": "138…"}``, ``custom``: your fields); returns the ``activate_ticket``."""
        return self._as_wechat(lambda: fill_form(self.state, card_id, code, dict(common or {}), dict(custom or {})))

    def authorize_invoice(self, s_pappid: str, order_id: str, *, user_title: Mapping[str, Any] | None = None,
                          biz_title: Mapping[str, Any] | None = None) -> None:
        """The follower authorizes the order on the page ``getauthurl`` made, with a person's title (``{"title":
        …, "phone": …}``) and/or a company's (``{"title": …, "tax_no": …}``)."""
        titles = {**({"user_field": dict(user_title)} if user_title else {}),
                  **({"biz_field": dict(biz_title)} if biz_title else {})}
        self._as_wechat(lambda: authorize(self.state, s_pappid, order_id, titles))

    def add_invoice(self, openid: str, face: Mapping[str, Any] | None = None, **details: Any) -> tuple[str, str]:
        """An invoice in the follower's card holder, as an invoicing platform put it there; returns its
        ``(card_id, encrypt_code)``, as ``chooseInvoice`` gives them. ``face`` sets ``user_info`` fields (``fee``,
        ``title``, ``billing_no`` …), ``details`` the others (``payee``, ``type`` …)."""
        return self._as_wechat(lambda: add_invoice(self.state, openid, dict(face or {}), details))

    def set_ocr_result(self, kind: str, fields: Mapping[str, Any]) -> None:
        """What the OCR recognizer ``kind`` (the path's last part: ``idcard``, ``bankcard``, ``driving``,
        ``drivinglicense``, ``bizlicense``, ``comm``, ``platenum``) reads in every image from now on, instead of its
        documented sample."""
        if kind not in OCR_SAMPLES:
            raise ValueError(f"no OCR recognizer {kind!r}; the kinds are {', '.join(OCR_SAMPLES)}")
        with self._lock:
            self.state.ocr_results[kind] = dict(fields)


class FakeAccount(AccountData):
    """Another official account of a ``FakeWeChat`` (or a platform's authorizer): its own tokens, followers, menu,
    media, templates…, seeded and read with the same helpers as the default account's."""

    def __init__(self, fake: FakeWeChat, state: FakeState, lock: threading.Lock) -> None:
        self._fake = fake
        self.state = state
        self._lock = lock

    def __repr__(self) -> str:
        return f"FakeAccount(appid={self.appid!r}, original_id={self.original_id!r})"

    @property
    def url(self) -> str:
        return self._fake.url
