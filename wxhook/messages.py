"""Inbound messages and events as immutable typed objects, one class per message type or event family.

Naming rule: an attribute is the snake_case of its XML tag, nothing else: ``ToUserName`` → ``to_user_name``,
``MsgId`` and ``MsgID`` → ``msg_id``, ``OpenID`` → ``open_id``, ``Location_X`` → ``location_x``,
``PicMd5Sum`` → ``pic_md5_sum``; nested elements become small frozen objects named the same way
(``msg.scan_code_info.scan_result``). Counts, ids and times are ``int``; coordinates, precision and scale are
``float``; flags (``IsGiveByFriend``, sent as ``0``/``1`` or ``false``/``true``) are ``bool``. A field whose tag
is missing is ``None``, and so is a number or flag whose text is empty or malformed: WeChat's payloads vary,
and one odd field must not cost the whole message. The text is not lost: it stays in ``.raw`` under its tag,
and ``.unparsed`` lists every tag whose text its typed field could not hold (``{"MenuId": "abc"}``).

List rule: the wrapper tags ``<item>`` and ``<List>`` never become attributes. The element that holds them
becomes a tuple of them, named after that element, with one entry when the wrapper occurs once:
``SendPicsInfo/PicList/item*`` → ``msg.send_pics_info.pic_list[0].pic_md5_sum``,
``SubscribeMsgPopupEvent/List*`` → ``msg.subscribe_msg_popup_event[0].template_id``. A holder of one element
repeated under its own name is read the same way (``AroundBeacons/AroundBeacon*`` → ``msg.around_beacons``).
A scalar tag repeated at one level is a tuple of its values (``fail_idx``). A missing list is an empty tuple.
Anything else inside the holder (``article_detail/count``) is left to ``.raw``: the tuple's length says the same.

Spelling rule: ``MsgType`` and ``Event`` are matched in any case (``<Event>scan</Event>`` is the ``SCAN``
event), since other SDKs and hand-written test payloads send them so; ``msg_type`` and ``event`` then hold
WeChat's own spelling, and ``.raw`` the one received. Handlers are registered under WeChat's spelling only.

Every object keeps ``.raw``, a read-only copy of the parsed dict it was built from (nested values are the
parsed dicts and lists themselves, shared: do not mutate them). Unknown message types parse into
``UnknownMessage`` and unknown events into ``UnknownEvent``, so they are still dispatchable by name.
"""

from __future__ import annotations

import base64
import binascii
import re
import types
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, NoReturn, TypeVar, Union, get_args, get_origin, get_type_hints

__all__ = [
    "ArticleUrlItem",
    "ArticleUrlResult",
    "AuthorizationEvent",
    "Beacon",
    "CardEvent",
    "CardPayOrderEvent",
    "ClickEvent",
    "CopyrightCheckItem",
    "CopyrightCheckResult",
    "DeviceMessage",
    "EnterTempSessionEvent",
    "Event",
    "FileMessage",
    "GuideQrcodeScanEvent",
    "GuideScanInfo",
    "ImageMessage",
    "InvoiceAuthorizeEvent",
    "InvoiceStatusEvent",
    "InvoiceTitleEvent",
    "KfSessionEvent",
    "LinkMessage",
    "LocationEvent",
    "LocationMessage",
    "LocationSelectEvent",
    "MassSendJobFinishEvent",
    "MerchantOrderEvent",
    "Message",
    "MessagePart",
    "MiniProgramPageMessage",
    "PicEvent",
    "PicItem",
    "PoiCheckNotifyEvent",
    "PublishEventInfo",
    "PublishJobFinishEvent",
    "PublishedArticle",
    "ScanCodeEvent",
    "ScanCodeInfo",
    "ScanEvent",
    "SendLocationInfo",
    "SendPicsInfo",
    "ShakearoundLotteryBindEvent",
    "ShakearoundUserShakeEvent",
    "ShortVideoMessage",
    "StoreAuditEvent",
    "SubscribeEvent",
    "SubscribeMsgChangeEvent",
    "SubscribeMsgEntry",
    "SubscribeMsgPopupEvent",
    "SubscribeMsgSentEvent",
    "TemplateSendJobFinishEvent",
    "TextMessage",
    "UnknownEvent",
    "UnknownMessage",
    "UnsubscribeEvent",
    "VerificationEvent",
    "VideoMessage",
    "ViewEvent",
    "ViewMiniprogramEvent",
    "VoiceMessage",
    "WifiConnectedEvent",
    "dedupe_key",
    "parse_message",
]

# --- the registry: a message or event type is declared once, by decorating its class -------------------------

_MESSAGE_TYPES: dict[str, type[Message]] = {}
_EVENT_TYPES: dict[str, type[Event]] = {}
_ONE_NAME: dict[type, str] = {}
_M = TypeVar("_M", bound="type[Message]")


def _message(*msg_types: str) -> Callable[[_M], _M]:
    """Parse these MsgTypes into the decorated class."""

    def register(cls: _M) -> _M:
        for name in msg_types:
            _MESSAGE_TYPES[name] = cls
        return cls

    return register


def _event(*names: str, aliases: bool = False) -> Callable[[_M], _M]:
    """Parse these Event names into the decorated class; ``aliases``: the names are one event, whose
    handlers are registered under the first (WeChat's documents spell some events several ways)."""

    def register(cls: _M) -> _M:
        for name in names:
            _EVENT_TYPES[name] = cls  # type: ignore[assignment]
        if aliases:
            _ONE_NAME[cls] = names[0]
        return cls

    return register


class _Fields(dict[str, Any]):
    """``raw`` of a message or a part: its parsed fields, read-only. A dict rather than a ``MappingProxyType``, so
    that a message can be deep-copied, pickled and turned into a dict by ``dataclasses.asdict`` (a mappingproxy
    cannot be deep-copied or pickled); ``dict(msg.raw)`` or ``msg.raw.copy()`` gives a dict to change."""

    __slots__ = ()

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a message's fields are read-only: change a copy, dict(msg.raw)")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[type[_Fields], tuple[dict[str, Any]]]:
        return type(self), (dict(self),)


# --- nested elements ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagePart:
    """Base of the nested elements inside a message (``ScanCodeInfo``, list entries, …)."""

    # Out of hash (a mapping is unhashable) and repr (it repeats every field); part of equality.
    raw: Mapping[str, Any] = field(hash=False, repr=False)

    @property
    def unparsed(self) -> dict[str, Any]:
        """The tags whose text the typed field could not hold (text in a number field), tag → text as received."""
        return _unparsed(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanCodeInfo(MessagePart):
    scan_type: str | None = None
    scan_result: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PicItem(MessagePart):
    pic_md5_sum: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SendPicsInfo(MessagePart):
    count: int | None = None
    pic_list: tuple[PicItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SendLocationInfo(MessagePart):
    location_x: float | None = None
    location_y: float | None = None
    scale: float | None = None
    label: str | None = None
    poiname: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyrightCheckItem(MessagePart):
    article_idx: int | None = None
    user_declare_state: int | None = None
    audit_state: int | None = None
    original_article_url: str | None = None
    original_article_type: int | None = None
    can_reprint: int | None = None
    need_replace_content: int | None = None
    need_show_reprint_source: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyrightCheckResult(MessagePart):
    count: int | None = None
    result_list: tuple[CopyrightCheckItem, ...] = ()
    check_state: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleUrlItem(MessagePart):
    article_idx: int | None = None
    article_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleUrlResult(MessagePart):
    count: int | None = None
    result_list: tuple[ArticleUrlItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishedArticle(MessagePart):
    idx: int | None = None
    article_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PublishEventInfo(MessagePart):
    """``publish_status``: 0 published, 1 publishing, 2 originality check failed, 3 failed, 4 audit rejected,
    5 deleted by the user, 6 banned by the system. ``fail_idx`` lists the rejected articles (first is 1)."""

    publish_id: int | None = None
    publish_status: int | None = None
    article_id: str | None = None
    article_detail: tuple[PublishedArticle, ...] = ()
    fail_idx: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeMsgEntry(MessagePart):
    """One template in a subscription-notification event; which fields are set depends on the event."""

    template_id: str | None = None
    subscribe_status_string: str | None = None
    popup_scene: int | None = None
    msg_id: int | None = None
    error_code: int | None = None
    error_status: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Beacon(MessagePart):
    """An iBeacon device of the account near the follower; ``distance`` in metres."""

    uuid: str | None = None
    major: int | None = None
    minor: int | None = None
    distance: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GuideScanInfo(MessagePart):
    """Whose shopping-guide (顾问) QR code was scanned; ``qrcode_info`` is what the code was created with."""

    qrcode_guide_account: str | None = None
    qrcode_guide_openid: str | None = None
    openid: str | None = None
    action: int | None = None
    qrcode_info: str | None = None


# --- messages -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """Base of everything inbound. ``msg_id`` is the top-level MsgId (or MsgID) when the body has one."""

    to_user_name: str = ""
    from_user_name: str = ""
    create_time: int | None = None
    msg_type: str = ""
    msg_id: int | None = None
    raw: Mapping[str, Any] = field(hash=False, repr=False)

    @property
    def openid(self) -> str:
        """The follower who sent it."""
        return self.from_user_name

    @property
    def unparsed(self) -> dict[str, Any]:
        """The tags whose text the typed field could not hold (text in a number field), tag → text as received;
        nested parts answer for their own tags."""
        return _unparsed(self)


@_message("text")
@dataclass(frozen=True, slots=True, kw_only=True)
class TextMessage(Message):
    """``msg_data_id`` and ``idx`` are set only when the text was sent from an article."""

    content: str | None = None
    msg_data_id: int | None = None
    idx: int | None = None


@_message("image")
@dataclass(frozen=True, slots=True, kw_only=True)
class ImageMessage(Message):
    pic_url: str | None = None
    media_id: str | None = None
    msg_data_id: int | None = None
    idx: int | None = None


@_message("voice")
@dataclass(frozen=True, slots=True, kw_only=True)
class VoiceMessage(Message):
    """``recognition`` is the speech-to-text result, present only when the account enabled it."""

    media_id: str | None = None
    format: str | None = None
    recognition: str | None = None


@_message("video")
@dataclass(frozen=True, slots=True, kw_only=True)
class VideoMessage(Message):
    media_id: str | None = None
    thumb_media_id: str | None = None


@_message("shortvideo")
@dataclass(frozen=True, slots=True, kw_only=True)
class ShortVideoMessage(VideoMessage):
    """A short video is a video: ``isinstance(msg, VideoMessage)`` holds for both."""


@_message("location")
@dataclass(frozen=True, slots=True, kw_only=True)
class LocationMessage(Message):
    """``location_x`` is the latitude, ``location_y`` the longitude."""

    location_x: float | None = None
    location_y: float | None = None
    scale: float | None = None
    label: str | None = None


@_message("link")
@dataclass(frozen=True, slots=True, kw_only=True)
class LinkMessage(Message):
    title: str | None = None
    description: str | None = None
    url: str | None = None


@_message("miniprogrampage")
@dataclass(frozen=True, slots=True, kw_only=True)
class MiniProgramPageMessage(Message):
    """A Mini Program card a follower sent (in a linked Mini Program's customer-service conversation)."""

    title: str | None = None
    app_id: str | None = None
    page_path: str | None = None
    thumb_url: str | None = None
    thumb_media_id: str | None = None


@_message("file")
@dataclass(frozen=True, slots=True, kw_only=True)
class FileMessage(Message):
    """A file a follower sent; ``file_total_len`` in bytes."""

    title: str | None = None
    description: str | None = None
    file_key: str | None = None
    file_md5: str | None = None
    file_total_len: int | None = None


@_message("device_text", "device_event")
@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceMessage(Message):
    """A message from a device of the hardware platform (微信硬件): ``device_text`` carries the device's data,
    ``device_event`` an ``event`` (``bind``, ``unbind``, ``subscribe_status``, ``unsubscribe_status``, the last
    two with ``op_type``). ``content`` is base64 as sent; ``data`` is its bytes."""

    device_type: str | None = None
    device_id: str | None = None
    session_id: int | None = None
    content: str | None = None
    open_id: str | None = None
    event: str | None = None
    op_type: int | None = None

    @property
    def data(self) -> bytes | None:
        """``content`` decoded; None when it is missing or not base64."""
        try:
            return None if self.content is None else base64.b64decode(self.content, validate=True)
        except binascii.Error:
            return None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage(Message):
    """A message type this module has no class for; ``msg_type`` and ``raw`` hold it all."""


# --- events -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Event(Message):
    """Base of every event; ``event`` is the name as received, case included (``SCAN``, ``subscribe``)."""

    event: str = ""
    event_key: str | None = None


@_event("subscribe")
@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeEvent(Event):
    """A follow; by scanning a parametric QR code when ``event_key`` starts with ``qrscene_``."""

    ticket: str | None = None

    @property
    def scene(self) -> str | None:
        """The QR code's scene without the ``qrscene_`` prefix; None for a follow not made by QR code."""
        key = self.event_key
        return key[8:] if key is not None and key.startswith("qrscene_") else None


@_event("unsubscribe")
@dataclass(frozen=True, slots=True, kw_only=True)
class UnsubscribeEvent(Event):
    pass


@_event("SCAN")
@dataclass(frozen=True, slots=True, kw_only=True)
class ScanEvent(Event):
    """A follower scanned a parametric QR code; ``event_key`` is the scene itself, without a prefix."""

    ticket: str | None = None

    @property
    def scene(self) -> str | None:
        """The QR code's scene (``event_key``), so it reads the same as ``SubscribeEvent.scene``."""
        return self.event_key or None


@_event("LOCATION")
@dataclass(frozen=True, slots=True, kw_only=True)
class LocationEvent(Event):
    latitude: float | None = None
    longitude: float | None = None
    precision: float | None = None


@_event("CLICK")
@dataclass(frozen=True, slots=True, kw_only=True)
class ClickEvent(Event):
    pass


@_event("VIEW")
@dataclass(frozen=True, slots=True, kw_only=True)
class ViewEvent(Event):
    """``event_key`` is the URL; ``menu_id`` identifies a conditional menu."""

    menu_id: int | None = None


@_event("view_miniprogram")
@dataclass(frozen=True, slots=True, kw_only=True)
class ViewMiniprogramEvent(Event):
    """``event_key`` is the Mini Program page path."""

    menu_id: int | None = None


@_event("scancode_push", "scancode_waitmsg")
@dataclass(frozen=True, slots=True, kw_only=True)
class ScanCodeEvent(Event):
    """``scancode_push`` and ``scancode_waitmsg``."""

    scan_code_info: ScanCodeInfo | None = None


@_event("pic_sysphoto", "pic_photo_or_album", "pic_weixin")
@dataclass(frozen=True, slots=True, kw_only=True)
class PicEvent(Event):
    """``pic_sysphoto``, ``pic_photo_or_album`` and ``pic_weixin``."""

    send_pics_info: SendPicsInfo | None = None


@_event("location_select")
@dataclass(frozen=True, slots=True, kw_only=True)
class LocationSelectEvent(Event):
    send_location_info: SendLocationInfo | None = None


@_event("TEMPLATESENDJOBFINISH")
@dataclass(frozen=True, slots=True, kw_only=True)
class TemplateSendJobFinishEvent(Event):
    """``status``: ``success``, ``failed:user block``, ``failed: system failed`` (others seen in the wild)."""

    status: str | None = None


@_event("MASSSENDJOBFINISH")
@dataclass(frozen=True, slots=True, kw_only=True)
class MassSendJobFinishEvent(Event):
    """``status`` is ``send success``, ``send fail`` or ``err(N)``."""

    status: str | None = None
    total_count: int | None = None
    filter_count: int | None = None
    sent_count: int | None = None
    error_count: int | None = None
    copyright_check_result: CopyrightCheckResult | None = None
    article_url_result: ArticleUrlResult | None = None


@_event("PUBLISHJOBFINISH", "FREEPUBLISHJOBFINISH", aliases=True)
@dataclass(frozen=True, slots=True, kw_only=True)
class PublishJobFinishEvent(Event):
    """Also parsed from ``FREEPUBLISHJOBFINISH`` and from a ``MASSSENDJOBFINISH`` carrying PublishEventInfo
    (the official page names the event all three ways); ``event`` keeps the name received."""

    publish_event_info: PublishEventInfo | None = None


@_event("subscribe_msg_popup_event")
@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeMsgPopupEvent(Event):
    subscribe_msg_popup_event: tuple[SubscribeMsgEntry, ...] = ()


@_event("subscribe_msg_change_event")
@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeMsgChangeEvent(Event):
    """Also filled from a ``SubscribeMsgPopupEvent`` element, the tag the official sample wrongly uses."""

    subscribe_msg_change_event: tuple[SubscribeMsgEntry, ...] = ()


@_event("subscribe_msg_sent_event")
@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribeMsgSentEvent(Event):
    subscribe_msg_sent_event: tuple[SubscribeMsgEntry, ...] = ()


@_event("kf_create_session", "kf_close_session", "kf_switch_session")
@dataclass(frozen=True, slots=True, kw_only=True)
class KfSessionEvent(Event):
    """``kf_create_session`` and ``kf_close_session`` set ``kf_account``, ``kf_switch_session`` the others."""

    kf_account: str | None = None
    from_kf_account: str | None = None
    to_kf_account: str | None = None


@_event("user_enter_tempsession")
@dataclass(frozen=True, slots=True, kw_only=True)
class EnterTempSessionEvent(Event):
    """``user_enter_tempsession`` (Mini Program customer service)."""

    session_from: str | None = None


@_event(
    "card_pass_check", "card_not_pass_check", "user_get_card", "user_gifting_card", "user_del_card",
    "user_consume_card", "user_pay_from_pay_cell", "user_view_card", "user_enter_session_from_card",
    "update_member_card", "card_sku_remind", "submit_membercard_user_info",
    "giftcard_pay_done", "giftcard_send_to_friend", "giftcard_user_accept",
)  # fmt: skip
@dataclass(frozen=True, slots=True, kw_only=True)
class CardEvent(Event):
    """Every card and gift-card event; which fields are set depends on the event:

    - ``card_not_pass_check``: ``refuse_reason``;
    - ``user_get_card``: ``is_give_by_friend``, ``friend_user_name``, ``old_user_card_code``, ``outer_id``,
      ``outer_str`` (the channel), ``is_restore_member_card``, ``union_id``;
    - ``user_gifting_card``, ``giftcard_send_to_friend``: ``friend_user_name``, ``is_return_back``,
      ``is_chat_room``;
    - ``user_consume_card``: ``consume_source`` (``FROM_API``, ``FROM_MP``, ``FROM_MOBILE_HELPER`` …),
      ``location_name``, ``staff_open_id``, ``verify_code``, ``remark_amount``, ``outer_str``;
    - ``user_pay_from_pay_cell``: ``trans_id``, ``location_id``, ``fee`` and ``original_fee`` (in fen);
    - ``user_view_card``: ``outer_str``; ``update_member_card``: ``modify_bonus``, ``modify_balance``;
    - ``card_sku_remind``: ``detail``; gift cards: ``page_id``, ``order_id``.
    """

    card_id: str | None = None
    user_card_code: str | None = None
    refuse_reason: str | None = None
    is_give_by_friend: bool | None = None
    friend_user_name: str | None = None
    old_user_card_code: str | None = None
    outer_id: int | None = None
    outer_str: str | None = None
    is_restore_member_card: bool | None = None
    union_id: str | None = None
    is_return_back: bool | None = None
    is_chat_room: bool | None = None
    consume_source: str | None = None
    location_name: str | None = None
    staff_open_id: str | None = None
    verify_code: str | None = None
    remark_amount: str | None = None
    trans_id: str | None = None
    location_id: int | None = None
    fee: int | None = None
    original_fee: int | None = None
    modify_bonus: int | None = None
    modify_balance: int | None = None
    detail: str | None = None
    page_id: str | None = None
    order_id: str | None = None


@_event("card_pay_order")
@dataclass(frozen=True, slots=True, kw_only=True)
class CardPayOrderEvent(CardEvent):
    """A change in the account's coupon points (券点): ``order_type`` (``ORDER_TYPE_WXPAY``, ``ORDER_TYPE_REFUND``
    …) and ``status`` of the order ``order_id``, the balances after it (``free_coin_count``, ``pay_coin_count``)
    and the change (``refund_free_coin_count``, ``refund_pay_coin_count``). A ``CardEvent`` without a card."""

    status: str | None = None
    create_order_time: int | None = None
    pay_finish_time: int | None = None
    desc: str | None = None
    free_coin_count: int | None = None
    pay_coin_count: int | None = None
    refund_free_coin_count: int | None = None
    refund_pay_coin_count: int | None = None
    memo: str | None = None
    receipt_info: str | None = None
    order_type: str | None = None


@_event(
    "qualification_verify_success", "qualification_verify_fail", "naming_verify_success",
    "naming_verify_fail", "annual_renew", "verify_expired",
)  # fmt: skip
@dataclass(frozen=True, slots=True, kw_only=True)
class VerificationEvent(Event):
    """Qualification and naming verification, annual renewal, expiry."""

    expired_time: int | None = None
    fail_time: int | None = None
    fail_reason: str | None = None


@_event("user_info_modified", "user_authorization_revoke", "user_authorization_cancellation")
@dataclass(frozen=True, slots=True, kw_only=True)
class AuthorizationEvent(Event):
    """``user_info_modified``, ``user_authorization_revoke``, ``user_authorization_cancellation``.

    ``revoke_info`` holds the revoked scopes' codes as sent (201 address … 207 media)."""

    open_id: str | None = None
    app_id: str | None = None
    revoke_info: str | None = None
    union_id: str | None = None


@_event("poi_check_notify")
@dataclass(frozen=True, slots=True, kw_only=True)
class PoiCheckNotifyEvent(Event):
    """The audit of a store (门店) created with the store API: ``result`` is ``succ`` or ``fail``, ``msg`` the
    notice or the reason; ``uniq_id`` is the merchant's own ``sid``."""

    uniq_id: str | None = None
    poi_id: str | None = None
    result: str | None = None
    msg: str | None = None


@_event("apply_merchant_audit_info", "create_map_poi_audit_info", "add_store_audit_info", "modify_store_audit_info")
@dataclass(frozen=True, slots=True, kw_only=True)
class StoreAuditEvent(Event):
    """An audit of the store mini program (门店小程序): of the merchant (``apply_merchant_audit_info``), of a store
    created from a map point (``create_map_poi_audit_info``: ``map_poi_id``, ``name``, ``address``, ``latitude``,
    ``longitude``, ``sh_remark``), created (``add_store_audit_info``: ``is_upgrade``, ``poiid``) or changed
    (``modify_store_audit_info``). ``status``: 1 approved, 2 under audit, 3 rejected (``reason`` says why)."""

    audit_id: int | None = None
    status: int | None = None
    reason: str | None = None
    map_poi_id: str | None = None
    name: str | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    sh_remark: str | None = None
    is_upgrade: int | None = None
    poiid: str | None = None


@_event("ShakearoundUserShake")
@dataclass(frozen=True, slots=True, kw_only=True)
class ShakearoundUserShakeEvent(Event):
    """A follower shook under the "nearby" (周边) tab: the beacon whose page showed, and up to five others."""

    chosen_beacon: Beacon | None = None
    around_beacons: tuple[Beacon, ...] = ()


@_event("ShakearoundLotteryBind")
@dataclass(frozen=True, slots=True, kw_only=True)
class ShakearoundLotteryBindEvent(Event):
    """A shake red packet (摇一摇红包) was bound to the follower: ``money`` in fen, ``bind_time`` a Unix time."""

    lottery_id: str | None = None
    ticket: str | None = None
    money: int | None = None
    bind_time: int | None = None


@_event("WifiConnected")
@dataclass(frozen=True, slots=True, kw_only=True)
class WifiConnectedEvent(Event):
    """A follower connected to a store's Wi-Fi (微信连Wi-Fi); ``device_no`` is the access point's MAC (bssid).
    ``shop_id`` is also read from ``PlaceId``, the tag older payloads use."""

    connect_time: int | None = None
    expire_time: int | None = None
    vendor_id: str | None = None
    shop_id: int | None = None
    device_no: str | None = None


@_event("merchant_order")
@dataclass(frozen=True, slots=True, kw_only=True)
class MerchantOrderEvent(Event):
    """An order paid in the WeChat shop (微信小店); ``sku_info`` as sent (``id:value;id:value``)."""

    order_id: str | None = None
    order_status: int | None = None
    product_id: str | None = None
    sku_info: str | None = None


@_event("user_authorize_invoice")
@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceAuthorizeEvent(Event):
    """A follower answered an invoice authorization (电子发票授权): one of ``succ_order_id`` and
    ``fail_order_id`` is set; ``source`` is ``web``, ``app``, ``wxa`` or ``wap``."""

    succ_order_id: str | None = None
    fail_order_id: str | None = None
    authorize_app_id: str | None = None
    source: str | None = None


@_event("update_invoice_status")
@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceStatusEvent(Event):
    """An invoice's reimbursement status changed (``INVOICE_REIMBURSE_INIT``, ``…_LOCK``, ``…_CLOSURE``)."""

    status: str | None = None
    card_id: str | None = None
    code: str | None = None


@_event("submit_invoice_title")
@dataclass(frozen=True, slots=True, kw_only=True)
class InvoiceTitleEvent(Event):
    """A follower submitted an invoice title (发票抬头); ``title_type`` is ``InvoiceUserTitlePersonType`` or
    ``InvoiceUserTitleBusinessType``."""

    title: str | None = None
    phone: str | None = None
    tax_no: str | None = None
    addr: str | None = None
    bank_type: str | None = None
    bank_no: str | None = None
    attach: str | None = None
    title_type: str | None = None


@_event("guide_qrcode_scan_event")
@dataclass(frozen=True, slots=True, kw_only=True)
class GuideQrcodeScanEvent(Event):
    """A follower scanned a shopping guide's (顾问) QR code; ``guide_scan_event`` says whose."""

    guide_scan_event: GuideScanInfo | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownEvent(Event):
    """An event this module has no class for; ``event`` and ``raw`` hold it all."""


# --- conversion tables, built once at import ----------------------------------------------------------------

# Tags seen in the wild under the wrong name, per class: tag → attribute.
_MISNAMED: dict[type, dict[str, str]] = {
    SubscribeMsgChangeEvent: {"SubscribeMsgPopupEvent": "subscribe_msg_change_event"},
    WifiConnectedEvent: {"PlaceId": "shop_id"},
}

_WRAPPERS = ("item", "List")

_SNAKE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

Converter = Callable[[Any], Any]
_Setter = Callable[[Any, Any], None]
_T = TypeVar("_T", bound="Message | MessagePart")
_Slot = tuple[_Setter, Converter] | None
_LEARN_MAX = 256  # tags remembered per class; past it, unknown tags are looked at each time
_SHAPES_MAX = 32  # tag orders compiled per class; past it, a body of another order is built tag by tag


class _Table:
    """Which attribute, through which converter, each tag fills in one class, and every field's default.

    Derived from the naming rule (an attribute is the snake_case of its tag) the first time a tag is seen,
    so a new field needs no tag list: its name is its declaration. An attribute is filled through its slot's
    own setter: the frozen dataclass ``__init__`` (keyword parsing, ``object.__setattr__`` per field) cost
    more than everything else in building a message. ``shapes`` holds a builder compiled for each order of tags
    seen (``compile``), bounded by ``_SHAPES_MAX``.
    """

    __slots__ = ("cls", "converters", "defaults", "raw", "setters", "shapes", "slots")

    def __init__(self, cls: type, converters: dict[str, Converter], misnamed: Mapping[str, str]) -> None:
        if hasattr(cls, "__post_init__"):
            raise TypeError(f"{cls.__name__}: messages are built without __init__; derive values in properties")
        bare = ", ".join(f.name for f in fields(cls) if f.name in converters and f.default is MISSING)
        if bare:
            raise TypeError(f"{cls.__name__}: give {bare} a plain default (None, '', ()), for when its tag is missing")
        self.converters = converters
        self.setters: dict[str, _Setter] = {f.name: getattr(cls, f.name).__set__ for f in fields(cls)}
        self.defaults = tuple((self.setters[f.name], f.default) for f in fields(cls) if f.name in converters)
        self.raw = self.setters["raw"]
        self.slots: dict[str, _Slot] = {tag: (self.setters[attr], converters[attr]) for tag, attr in misnamed.items()}
        self.cls = cls
        self.shapes: dict[tuple[str, ...], Callable[[dict[str, Any]], Any]] = {}

    def learn(self, tag: str) -> _Slot:
        attr = _snake(tag)
        converter = self.converters.get(attr)
        slot = None if converter is None else (self.setters[attr], converter)
        if len(self.slots) < _LEARN_MAX:
            self.slots[tag] = slot
        return slot

    def compile(self, shape: tuple[str, ...]) -> Callable[[dict[str, Any]], Any]:
        """``_build``'s loop unrolled for bodies whose tags come in this order (WeChat writes each kind of message
        the same way every time): a setter per field, without the per-tag lookup, test and converter call.

        The code is written from positions and this table's converters, never from the tags' text."""
        names: dict[str, Any] = {"new": _new, "cls": self.cls, "fields": _Fields, "set_raw": self.raw}
        values = "".join(f"v{i}, " for i in range(len(shape)))
        lines = ["def build(raw):", f"    ({values}) = raw.values()", "    built = new(cls)"]
        filled = set()
        for i, tag in enumerate(shape):
            known = self.slots[tag] if tag in self.slots else self.learn(tag)
            if known is not None:
                setter, converter = names[f"set{i}"], names[f"convert{i}"] = known
                filled.add(setter)
                lines.append(f"    set{i}(built, {_INLINE.get(converter, 'convert{i}(v{i})').format(i=i)})")
        for i, (setter, default) in enumerate(self.defaults):
            if setter not in filled:
                names[f"unset{i}"], names[f"default{i}"] = setter, default
                lines.append(f"    unset{i}(built, default{i})")
        lines += ["    set_raw(built, fields(raw))", "    return built"]
        exec("\n".join(lines), names)
        build: Callable[[dict[str, Any]], Any] = names["build"]
        return build


def _snake(tag: str) -> str:
    return _SNAKE.sub("_", tag).lower()


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _text_or_empty(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_FLAGS = {"1": True, "true": True, "0": False, "false": False}


def _bool(value: Any) -> bool | None:
    """A flag as WeChat sends it: ``1``/``0`` in most events, ``true``/``false`` in the gift-card ones."""
    return _FLAGS.get(value.lower()) if isinstance(value, str) else None


def _as_list(value: Any) -> list[Any]:
    """One occurrence of a tag parses as the value itself, several as a list; either way, a list."""
    return value if isinstance(value, list) else [value]


_SCALARS: dict[Any, tuple[Converter, Converter]] = {
    str: (_text, _text_or_empty),
    int: (_int, _int),
    float: (_float, _float),
    bool: (_bool, _bool),
}

_INLINE: dict[Converter, str] = {
    _text: "v{i} if isinstance(v{i}, str) else None",
    _text_or_empty: "v{i} if isinstance(v{i}, str) else ''",
}
"""The text converters as the expressions ``_Table.compile`` writes in place of calling them."""
_TABLES: dict[type, _Table] = {}
_new = object.__new__


def _table(cls: type) -> _Table:
    """Map each tag the class reads to its attribute and converter, derived once from the field types."""
    if cls in _TABLES:
        return _TABLES[cls]
    hints = get_type_hints(cls)
    converters = {f.name: _converter(hints[f.name], cls) for f in fields(cls) if f.name != "raw"}
    table = _TABLES[cls] = _Table(cls, converters, _MISNAMED.get(cls, {}))
    return table


def _converter(hint: Any, owner: type) -> Converter:
    origin, args = get_origin(hint), get_args(hint)
    if origin is tuple:
        entry = _converter(args[0] | None, owner)
        return _wrapped(entry) if issubclass(args[0], MessagePart) else _repeated(entry)
    optional = origin in (Union, types.UnionType)
    kind = next(arg for arg in args if arg is not type(None)) if optional else hint
    if kind in _SCALARS:
        return _SCALARS[kind][0 if optional else 1]
    if isinstance(kind, type) and issubclass(kind, MessagePart):
        return _part(kind)
    raise TypeError(f"{owner.__name__}: type {hint!r} unsupported; use str, int, float, bool, MessagePart or tuple")


def _part(cls: type[MessagePart]) -> Converter:
    table = _table(cls)

    def convert(value: Any) -> MessagePart | None:
        return _build(cls, table, value) if isinstance(value, dict) else None

    return convert


def _wrapped(entry: Converter) -> Converter:
    """A holder of ``<item>`` or ``<List>`` elements, or of one element repeated under its own name: the tuple of
    its entries."""

    def convert(value: Any) -> tuple[Any, ...]:
        if not isinstance(value, dict):
            return ()
        entries: Any = next((value[tag] for tag in _WRAPPERS if tag in value), [])
        if not entries and len(value) == 1:
            entries = next(iter(value.values()))
        return tuple(item for item in map(entry, _as_list(entries)) if item is not None)

    return convert


def _repeated(entry: Converter) -> Converter:
    """A scalar tag that may repeat: the tuple of its values, leaving out empty or malformed ones."""

    def convert(value: Any) -> tuple[Any, ...]:
        return tuple(item for item in map(entry, _as_list(value)) if item is not None)

    return convert


def _build(cls: type[_T], table: _Table, raw: dict[str, Any]) -> _T:
    """What ``cls(raw=..., **fields)`` would build, without its cost: by the builder compiled for the order of the
    body's tags, or (past ``_SHAPES_MAX`` orders) tag by tag."""
    shape = tuple(raw)
    build = table.shapes.get(shape)
    if build is None:
        if len(table.shapes) >= _SHAPES_MAX:
            return _fill(cls, table, raw)
        build = table.shapes[shape] = table.compile(shape)
    return build(raw)  # type: ignore[no-any-return]


def _fill(cls: type[_T], table: _Table, raw: dict[str, Any]) -> _T:
    """The defaults first, then each known tag through its converter."""
    built = _new(cls)
    for setter, default in table.defaults:
        setter(built, default)
    slots = table.slots
    for tag, value in raw.items():
        known = slots[tag] if tag in slots else table.learn(tag)
        if known is not None:
            known[0](built, known[1](value))
    table.raw(built, _Fields(raw))
    return built


_Kind = tuple[type[Message], _Table]


def _kinds(by_name: Mapping[str, type[Message]]) -> dict[str, _Kind]:
    return {name: (cls, _table(cls)) for name, cls in by_name.items()}


_MESSAGES = _kinds(_MESSAGE_TYPES)
_EVENTS = _kinds(_EVENT_TYPES)
EVENT_NAMES = frozenset(_EVENT_TYPES)
"""Every event name with a class of its own, as WeChat spells it."""
_ALIASES = {name: _ONE_NAME[cls] for name, cls in _EVENT_TYPES.items() if cls in _ONE_NAME}


def _spellings(names: Iterable[str]) -> dict[str, str]:
    """Each name by its lower case, for matching it in any case; two names one case apart would be ambiguous."""
    spellings: dict[str, str] = {}
    for name in names:
        if spellings.setdefault(name.lower(), name) != name:
            raise TypeError(f"{name!r} and {spellings[name.lower()]!r} differ only in case; one cannot be told apart")
    return spellings


_MESSAGE_SPELLINGS = _spellings([*_MESSAGE_TYPES, "event"])
_EVENT_SPELLINGS = _spellings(_EVENT_TYPES)

_UNKNOWN_MESSAGE: _Kind = (UnknownMessage, _table(UnknownMessage))
_UNKNOWN_EVENT: _Kind = (UnknownEvent, _table(UnknownEvent))
_PUBLISH: _Kind = _EVENTS["PUBLISHJOBFINISH"]


def parse_message(raw: dict[str, Any]) -> Message:
    """Build the typed message or event for a body parsed by ``parse_xml``; any dict parses, none raises.

    WeChat's own spellings are a dictionary hit; another case of a known name (``scan``, ``Event``) is looked up
    again in lower case and the message carries WeChat's spelling in ``msg_type`` / ``event``."""
    msg_type = raw.get("MsgType")
    if msg_type == "event":
        return _parse_event(raw, None)
    kind = _MESSAGES.get(msg_type) if type(msg_type) is str else None
    if kind is not None:
        return _build(*kind, raw)
    spelled = _MESSAGE_SPELLINGS.get(msg_type.lower()) if type(msg_type) is str else None
    if spelled == "event":
        return _parse_event(raw, spelled)
    if spelled is None:
        return _build(*_UNKNOWN_MESSAGE, raw)
    return _respelled(_MESSAGES[spelled], raw, msg_type=spelled)


def _parse_event(raw: dict[str, Any], msg_type: str | None) -> Message:
    event = raw.get("Event")
    kind = _EVENTS.get(event) if type(event) is str else None
    spelled = None
    if kind is None:
        spelled = _EVENT_SPELLINGS.get(event.lower()) if type(event) is str else None
        kind = _UNKNOWN_EVENT if spelled is None else _EVENTS[spelled]
    if (spelled or event) == "MASSSENDJOBFINISH" and "PublishEventInfo" in raw:
        kind = _PUBLISH
    if msg_type is None and spelled is None:
        return _build(*kind, raw)
    return _respelled(kind, raw, msg_type=msg_type, event=spelled)


def _respelled(kind: _Kind, raw: dict[str, Any], **spellings: str | None) -> Message:
    """A message received with a name in another case, its ``msg_type`` / ``event`` set to WeChat's spelling."""
    cls, table = kind
    built = _build(cls, table, raw)
    for attr, spelling in spellings.items():
        if spelling is not None:
            table.setters[attr](built, spelling)
    return built


def event_spelling(name: str) -> str | None:
    """WeChat's spelling of a known event name given in any case (``scan`` → ``SCAN``); None for other names."""
    return _EVENT_SPELLINGS.get(name.lower())


def message_type_spelling(name: str) -> str | None:
    """WeChat's spelling of a known MsgType (``event`` included) given in any case; None for other names."""
    return _MESSAGE_SPELLINGS.get(name.lower())


def _unparsed(part: Message | MessagePart) -> dict[str, Any]:
    """The tags of ``part.raw`` whose text its typed field turned into nothing (a number field holding text)."""
    table = _table(type(part))
    found = {}
    for tag, value in part.raw.items():
        slot = table.slots[tag] if tag in table.slots else table.learn(tag)
        if slot is not None and isinstance(value, str) and value and slot[1](value) in (None, ()):
            found[tag] = value
    return found


def event_name(name: str) -> str:
    """The name an event's handlers are registered under (one name for an event spelled several ways)."""
    return _ALIASES.get(name, name)


def routing_name(msg: Event) -> str:
    """The event name ``msg`` is dispatched under: by its class when that class is one event."""
    return _ONE_NAME.get(type(msg), msg.event)


def dedupe_key(msg: Message) -> str:
    """The identity WeChat's retries of one push share: MsgId for messages; for events the sender, the time
    and the event, plus the MsgID and EventKey when present (two job results can share a second).

    A message's key also carries a fingerprint of its fields (CreateTime aside): a retry repeats them all,
    while two different messages that share a MsgId (copied test fixtures, a replayed sample) must not be
    mistaken for one."""
    if not isinstance(msg, Event):
        fields = "\x00".join([f"{tag}\x01{value}" for tag, value in msg.raw.items() if tag != "CreateTime"])
        fingerprint = zlib.crc32(fields.encode())
        if msg.msg_id is not None:
            return f"msg:{msg.msg_id}:{fingerprint:08x}"
        return f"msg:{msg.from_user_name}:{msg.create_time}:{msg.msg_type}:{fingerprint:08x}"
    key = f"event:{msg.from_user_name}:{msg.create_time}:{msg.event}"
    if msg.msg_id is not None:
        key += f":{msg.msg_id}"
    if msg.event_key:
        key += f":{msg.event_key}"
    return key


def plain(value: Any) -> Any:
    """A message's ``raw`` fields as plain JSON-ready dicts and lists (for a job or a record in the store)."""
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value
