"""The event names WeChat sends, as constants and a ``Literal`` type: editors complete them, mypy catches typos.

``@bot.on_event(EventType.SUBSCRIBE)`` is ``@bot.on_event("subscribe")``; a misspelt ``EventType.SUBSCRIBED``
fails type checking, where a misspelt string is refused only when the module is imported. Plain strings keep
working; an event wxhook does not list yet takes ``on_event(name, allow_unknown=True)``.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["EventName", "EventType"]

EventName = Literal[
    "subscribe", "unsubscribe", "SCAN", "LOCATION", "CLICK", "VIEW", "view_miniprogram", "scancode_push",
    "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select",
    "TEMPLATESENDJOBFINISH", "MASSSENDJOBFINISH", "PUBLISHJOBFINISH", "FREEPUBLISHJOBFINISH",
    "subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event", "kf_create_session",
    "kf_close_session", "kf_switch_session", "user_enter_tempsession", "card_pass_check", "card_not_pass_check",
    "user_get_card", "user_gifting_card", "user_del_card", "user_consume_card", "user_pay_from_pay_cell",
    "user_view_card", "user_enter_session_from_card", "update_member_card", "card_sku_remind", "card_pay_order",
    "submit_membercard_user_info", "giftcard_pay_done", "giftcard_send_to_friend", "giftcard_user_accept",
    "qualification_verify_success", "qualification_verify_fail", "naming_verify_success", "naming_verify_fail",
    "annual_renew", "verify_expired", "user_info_modified", "user_authorization_revoke",
    "user_authorization_cancellation", "poi_check_notify", "apply_merchant_audit_info", "create_map_poi_audit_info",
    "add_store_audit_info", "modify_store_audit_info", "ShakearoundUserShake", "ShakearoundLotteryBind",
    "WifiConnected", "merchant_order", "user_authorize_invoice", "update_invoice_status", "submit_invoice_title",
    "guide_qrcode_scan_event",
]  # fmt: skip
"""Every event name wxhook parses into a class of its own (``tests/test_conformance.py`` keeps it in step)."""


class EventType:
    """Event names for ``on_event``, spelt (and cased) as WeChat sends them."""

    SUBSCRIBE: Final = "subscribe"
    UNSUBSCRIBE: Final = "unsubscribe"
    SCAN: Final = "SCAN"
    LOCATION: Final = "LOCATION"
    CLICK: Final = "CLICK"
    VIEW: Final = "VIEW"
    VIEW_MINIPROGRAM: Final = "view_miniprogram"
    SCANCODE_PUSH: Final = "scancode_push"
    SCANCODE_WAITMSG: Final = "scancode_waitmsg"
    PIC_SYSPHOTO: Final = "pic_sysphoto"
    PIC_PHOTO_OR_ALBUM: Final = "pic_photo_or_album"
    PIC_WEIXIN: Final = "pic_weixin"
    LOCATION_SELECT: Final = "location_select"
    TEMPLATE_SEND_JOB_FINISH: Final = "TEMPLATESENDJOBFINISH"
    MASS_SEND_JOB_FINISH: Final = "MASSSENDJOBFINISH"
    PUBLISH_JOB_FINISH: Final = "PUBLISHJOBFINISH"
    SUBSCRIBE_MSG_POPUP: Final = "subscribe_msg_popup_event"
    SUBSCRIBE_MSG_CHANGE: Final = "subscribe_msg_change_event"
    SUBSCRIBE_MSG_SENT: Final = "subscribe_msg_sent_event"
    KF_CREATE_SESSION: Final = "kf_create_session"
    KF_CLOSE_SESSION: Final = "kf_close_session"
    KF_SWITCH_SESSION: Final = "kf_switch_session"
    USER_ENTER_TEMPSESSION: Final = "user_enter_tempsession"
    USER_GET_CARD: Final = "user_get_card"
    USER_DEL_CARD: Final = "user_del_card"
    USER_CONSUME_CARD: Final = "user_consume_card"
    USER_INFO_MODIFIED: Final = "user_info_modified"
    USER_AUTHORIZATION_REVOKE: Final = "user_authorization_revoke"
    USER_AUTHORIZATION_CANCELLATION: Final = "user_authorization_cancellation"
