"""The composer's table: every message and event type wxhook parses, each with the fields a follower's (or
WeChat's) push of it carries and sensible values to start from. The page draws one form per entry from this table,
and ``_actions.compose`` builds the XML from it, so a type is added here once and nowhere else;
``tests/dev/test_composer.py`` keeps the table in step with ``wxhook.messages``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Fresh = Literal["ticket", "image", "voice", "video", "thumb", "picurl", "openid"]
"""A value made for each send when its field is left empty: a QR ticket (only with an ``EventKey``), a media_id of a
sample stored in the console's FakeWeChat (so the bot can fetch it), the console's URL of the message's picture,
the follower's openid."""


@dataclass(frozen=True, slots=True)
class Field:
    """One tag of a push. ``tag`` is a path into nested elements (``ScanCodeInfo/ScanType``; a list's one entry
    under its wrapper, ``PicList/item/PicMd5Sum``); ``default`` is the form's starting text (a field left empty
    is left out of the XML, or made afresh when ``fresh`` says how); a ``number`` goes in bare and must parse."""

    tag: str
    default: str = ""
    number: bool = False
    fresh: Fresh | None = None


@dataclass(frozen=True, slots=True)
class Kind:
    """A message type (``event`` None) or an event: what the page lists under ``group``, labelled ``en``/``zh``."""

    name: str
    msg_type: str
    event: str | None
    group: str
    en: str
    zh: str
    fields: tuple[Field, ...]

    def describe(self) -> dict[str, Any]:
        """The entry as the page builds its form from it."""
        return {"name": self.name, "msg_type": self.msg_type, "event": self.event, "group": self.group,
                "label": {"en": self.en, "zh": self.zh},
                "fields": [{"tag": f.tag, "default": f.default, "number": f.number, "fresh": f.fresh}
                           for f in self.fields]}


def _t(tag: str, default: str = "", fresh: Fresh | None = None) -> Field:
    return Field(tag, default, fresh=fresh)


def _n(tag: str, default: str = "") -> Field:
    return Field(tag, default, number=True)


def _nested(prefix: str, *fields: Field) -> tuple[Field, ...]:
    """Fields inside one element: ``prefix/tag`` each."""
    return tuple(Field(f"{prefix}/{f.tag}", f.default, f.number, f.fresh) for f in fields)


GROUPS: dict[str, tuple[str, str]] = {
    "message": ("Messages", "消息"),
    "follow": ("Follow, QR codes, location", "关注、扫码与位置"),
    "menu": ("Menu events", "菜单事件"),
    "jobs": ("Template, mass-send and publishing results", "模板、群发与发布结果"),
    "subscription": ("Subscription notifications", "订阅通知"),
    "service": ("Customer service", "客服"),
    "card": ("Cards and coupons", "卡券"),
    "verify": ("Verification and users' authorization", "认证与用户授权"),
    "store": ("Stores, shake, Wi-Fi", "门店、摇一摇与 Wi-Fi"),
    "shop": ("Shop, invoices, shopping guides", "小店、发票与导购"),
    "device": ("Devices", "硬件设备"),
}
"""The page's groups, in order, labelled in English and Chinese."""


def _message(msg_type: str, en: str, zh: str, *fields: Field, group: str = "message") -> Kind:
    return Kind(msg_type, msg_type, None, group, en, zh, fields)


def _event(name: str, group: str, en: str, zh: str, *fields: Field) -> Kind:
    return Kind(name, "event", name, group, en, zh, fields)


def _table() -> list[Kind]:
    """Every entry, in the page's order."""
    location = (_n("Location_X", "23.134521"), _n("Location_Y", "113.358803"))
    video = (_t("MediaId", fresh="video"), _t("ThumbMediaId", fresh="thumb"))
    kinds = [
        _message("text", "Text", "文本", _t("Content", "你好，wxhook！")),
        _message("image", "Image", "图片", _t("PicUrl", fresh="picurl"), _t("MediaId", fresh="image")),
        _message("voice", "Voice, with Recognition", "语音（含语音识别）", _t("MediaId", fresh="voice"),
                 _t("Format", "amr"), _t("Recognition", "明天广州天气怎么样？")),
        _message("video", "Video", "视频", *video),
        _message("shortvideo", "Short video", "小视频", *video),
        _message("location", "Location", "地理位置", *location, _n("Scale", "20"), _t("Label", "广州市天河区珠江新城")),
        _message("link", "Link", "链接", _t("Title", "wxhook 文档"), _t("Description", "公众号 webhook 框架"),
                 _t("Url", "https://example.com/wxhook")),
        _message("file", "File", "文件", _t("Title", "报价单.pdf"), _t("Description", "2026 年报价"),
                 _t("FileKey", "a7a2f1b0c9d8e7f6"), _t("FileMd5", "5a75aaca956d97be686719218f275c6b"),
                 _n("FileTotalLen", "34562")),
        _message("miniprogrampage", "Mini Program card", "小程序卡片", _t("Title", "小程序首页"),
                 _t("AppId", "wx0a1b2c3d4e5f6a7b"), _t("PagePath", "pages/index/index"),
                 _t("ThumbUrl", fresh="picurl"), _t("ThumbMediaId", fresh="thumb")),

        _event("subscribe", "follow", "Follow (clear EventKey: not by a QR code)", "关注（清空 EventKey：非扫码关注）",
               _t("EventKey", "qrscene_42"), _t("Ticket", fresh="ticket")),
        _event("unsubscribe", "follow", "Unfollow", "取消关注"),
        _event("SCAN", "follow", "Scan a QR code, already following", "已关注用户扫码", _t("EventKey", "42"),
               _t("Ticket", fresh="ticket")),
        _event("LOCATION", "follow", "Report location", "上报地理位置", _n("Latitude", "23.137466"),
               _n("Longitude", "113.352425"), _n("Precision", "119.385040")),

        _event("CLICK", "menu", "Menu: click", "菜单：点击", _t("EventKey", "V1001_TODAY_MUSIC")),
        _event("VIEW", "menu", "Menu: open a link", "菜单：跳转链接", _t("EventKey", "https://example.com/"),
               _n("MenuId", "208379533")),
        _event("view_miniprogram", "menu", "Menu: open a Mini Program", "菜单：打开小程序",
               _t("EventKey", "pages/index/index"), _n("MenuId", "208379533")),
    ]
    add = kinds.append
    scanned = _nested("ScanCodeInfo", _t("ScanType", "qrcode"), _t("ScanResult", "https://example.com/scanned"))
    for name, en, zh in (("scancode_push", "Menu: scan a code", "菜单：扫码推事件"),
                         ("scancode_waitmsg", "Menu: scan a code, wait for the reply",
                          "菜单：扫码推事件且弹出“消息接收中”")):
        add(_event(name, "menu", en, zh, _t("EventKey", "rselfmenu_0_1"), *scanned))
    pictures = _nested("SendPicsInfo", _n("Count", "1"),
                       _t("PicList/item/PicMd5Sum", "1b5f7c23b5bf75682a53e7b6d163e185"))
    for name, en, zh in (("pic_sysphoto", "Menu: take a photo", "菜单：系统拍照发图"),
                         ("pic_photo_or_album", "Menu: photo or album", "菜单：拍照或者相册发图"),
                         ("pic_weixin", "Menu: WeChat album", "菜单：微信相册发图")):
        add(_event(name, "menu", en, zh, _t("EventKey", "rselfmenu_1_0"), *pictures))
    add(_event("location_select", "menu", "Menu: send a location", "菜单：发送位置", _t("EventKey", "rselfmenu_2_0"),
               *_nested("SendLocationInfo", *location, _n("Scale", "15"), _t("Label", "广州市天河区"),
                        _t("Poiname", "珠江新城"))))

    add(_event("TEMPLATESENDJOBFINISH", "jobs", "Template message sent", "模板消息发送结果", _n("MsgID", "200163836"),
               _t("Status", "success")))
    add(_event("MASSSENDJOBFINISH", "jobs", "Mass send finished", "群发结果", _n("MsgID", "1000001625"),
               _t("Status", "send success"), _n("TotalCount", "100"), _n("FilterCount", "80"), _n("SentCount", "75"),
               _n("ErrorCount", "5"),
               *_nested("CopyrightCheckResult", _n("Count", "1"),
                        *_nested("ResultList/item", _n("ArticleIdx", "1"), _n("UserDeclareState", "0"),
                                 _n("AuditState", "2"), _t("OriginalArticleUrl", "https://mp.weixin.qq.com/s/original"),
                                 _n("OriginalArticleType", "1"), _n("CanReprint", "1"), _n("NeedReplaceContent", "1"),
                                 _n("NeedShowReprintSource", "1")),
                        _n("CheckState", "2")),
               *_nested("ArticleUrlResult", _n("Count", "1"),
                        *_nested("ResultList/item", _n("ArticleIdx", "1"),
                                 _t("ArticleUrl", "https://mp.weixin.qq.com/s/sent")))))
    published = _nested("PublishEventInfo", _n("publish_id", "2247503051"), _n("publish_status", "0"),
                        _t("article_id", "b5O2OUs25HBxRceL7hfReg"),
                        *_nested("article_detail/item", _n("idx", "1"),
                                 _t("article_url", "https://mp.weixin.qq.com/s/published")),
                        _n("fail_idx"))
    for name, en, zh in (("PUBLISHJOBFINISH", "Publishing finished", "发布结果"),
                         ("FREEPUBLISHJOBFINISH", "Publishing finished (the older name)", "发布结果（旧名）")):
        add(_event(name, "jobs", en, zh, *published))

    template = _t("TemplateId", "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc")
    add(_event("subscribe_msg_popup_event", "subscription", "Answered the subscription pop-up", "订阅通知弹窗操作",
               *_nested("SubscribeMsgPopupEvent/List", template, _t("SubscribeStatusString", "accept"),
                        _n("PopupScene", "2"))))
    add(_event("subscribe_msg_change_event", "subscription", "Changed a subscription in settings", "管理订阅通知",
               *_nested("SubscribeMsgChangeEvent/List", template, _t("SubscribeStatusString", "reject"))))
    add(_event("subscribe_msg_sent_event", "subscription", "Notification sent", "订阅通知发送结果",
               *_nested("SubscribeMsgSentEvent/List", template, _n("MsgID", "1700827132819554304"),
                        _n("ErrorCode", "0"), _t("ErrorStatus", "success"))))

    add(_event("kf_create_session", "service", "An agent took the session", "客服接入会话",
               _t("KfAccount", "test1@test")))
    add(_event("kf_close_session", "service", "An agent closed the session", "客服关闭会话",
               _t("KfAccount", "test1@test")))
    add(_event("kf_switch_session", "service", "The session passed to another agent", "客服转接会话",
               _t("FromKfAccount", "test1@test"), _t("ToKfAccount", "test2@test")))
    add(_event("user_enter_tempsession", "service", "Entered a temporary session", "进入客服临时会话",
               _t("SessionFrom", "weapp")))

    card = (_t("CardId", "pFS7Fjg8kV1IdDz01r4SQwMkuCKc"), _t("UserCardCode", "226009850808"))
    card_events: list[tuple[str, str, str, tuple[Field, ...]]] = [
        ("card_pass_check", "Card approved", "卡券审核通过", ()),
        ("card_not_pass_check", "Card rejected", "卡券审核未通过", (_t("RefuseReason", "非法代制"),)),
        ("user_get_card", "Card received", "领取卡券",
         (_t("IsGiveByFriend", "0"), _t("OuterStr", "12b"), _t("IsRestoreMemberCard", "0"),
          _t("UnionId", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M"))),
        ("user_gifting_card", "Card given to a friend", "转赠卡券",
         (_t("FriendUserName", "o_friend"), _t("IsReturnBack", "0"), _t("IsChatRoom", "0"))),
        ("user_del_card", "Card deleted", "删除卡券", ()),
        ("user_consume_card", "Card redeemed", "核销卡券",
         (_t("ConsumeSource", "FROM_API"), _t("LocationName", "珠江新城店"), _t("StaffOpenId", "o_staff"),
          _t("VerifyCode", "0512"), _t("RemarkAmount", "12.5"))),
        ("user_pay_from_pay_cell", "Paid through the card", "买单",
         (_t("TransId", "10022403432015000000000"), _n("LocationId", "291710847"), _n("Fee", "10000"),
          _n("OriginalFee", "10000"))),
        ("user_view_card", "Member card opened", "进入会员卡", (_t("OuterStr", "12b"),)),
        ("user_enter_session_from_card", "Chat opened from a card", "从卡券进入公众号会话", ()),
        ("update_member_card", "Member points or balance changed", "会员卡积分余额变更",
         (_n("ModifyBonus", "3"), _n("ModifyBalance", "-200"))),
        ("card_sku_remind", "Card stock low", "卡券库存报警", (_t("Detail", "the card's quantity is equal to 0"),)),
        ("submit_membercard_user_info", "Member card activated", "会员卡激活", ()),
    ]
    for name, en, zh, more in card_events:
        add(_event(name, "card", en, zh, *card, *more))
    gift = (_t("PageId", "abcedfghifk=+Uasdaseq14fadkf8123h4jk"), _t("OrderId", "Z2y2rY74ksZX1ceuGbMxQSlBt2t"))
    gift_events: list[tuple[str, str, str, tuple[Field, ...]]] = [
        ("giftcard_pay_done", "Gift card paid", "礼品卡支付成功", ()),
        ("giftcard_send_to_friend", "Gift card sent to a friend", "礼品卡赠送",
         (_t("IsReturnBack", "false"), _t("IsChatRoom", "true"))),
        ("giftcard_user_accept", "Gift card accepted", "礼品卡领取", ()),
    ]
    for name, en, zh, more in gift_events:
        add(_event(name, "card", en, zh, *gift, *more))
    add(_event("card_pay_order", "card", "Coupon points order", "券点流水", _t("OrderId", "404091456"),
               _t("Status", "ORDER_STATUS_FINANCE_SUCC"), _n("CreateOrderTime", "1453295737"), _n("PayFinishTime", "0"),
               _n("FreeCoinCount", "200"), _n("PayCoinCount", "0"), _n("RefundFreeCoinCount", "0"),
               _n("RefundPayCoinCount", "0"), _t("OrderType", "ORDER_TYPE_SYS_ADD"), _t("Memo", "开通账户奖励")))

    for name, en, zh in (("qualification_verify_success", "Qualification verified", "资质认证成功"),
                         ("naming_verify_success", "Name verified", "名称认证成功"),
                         ("annual_renew", "Annual review due", "年审通知"),
                         ("verify_expired", "Verification expired", "认证过期失效")):
        add(_event(name, "verify", en, zh, _n("ExpiredTime", "1442401156")))
    for name, en, zh in (("qualification_verify_fail", "Qualification refused", "资质认证失败"),
                         ("naming_verify_fail", "Name refused", "名称认证失败")):
        add(_event(name, "verify", en, zh, _n("FailTime", "1442401122"), _t("FailReason", "资料不全")))
    user = (_t("OpenID", fresh="openid"), _t("AppID", "wx0a1b2c3d4e5f6a7b"))
    union = _t("UnionID", "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")
    add(_event("user_info_modified", "verify", "A user changed their profile", "用户资料变更", *user, union))
    add(_event("user_authorization_revoke", "verify", "A user revoked their authorization", "用户撤回授权", *user,
               _t("RevokeInfo", "205"), union))
    add(_event("user_authorization_cancellation", "verify", "A user closed their account", "用户注销", *user, union))

    add(_event("poi_check_notify", "store", "Store audited", "门店审核结果", _t("UniqId", "123adb"),
               _t("PoiId", "123123"), _t("Result", "succ"), _t("msg", "审核通过")))
    audit = (_n("audit_id", "414221"), _n("status", "1"))
    add(_event("apply_merchant_audit_info", "store", "Merchant audited", "门店小程序商户审核", *audit, _t("reason")))
    add(_event("create_map_poi_audit_info", "store", "Map point audited", "地图门店审核", *audit,
               _t("map_poi_id", "2880501385417447563"), _t("name", "深圳店"), _t("address", "南山区科技园"),
               _n("latitude", "22.540366"), _n("longitude", "113.934559"), _t("sh_remark")))
    add(_event("add_store_audit_info", "store", "New store audited", "门店创建审核", *audit, _n("is_upgrade", "0"),
               _t("poiid", "471736217")))
    add(_event("modify_store_audit_info", "store", "Store change audited", "门店修改审核", _n("audit_id", "414222"),
               _n("status", "3"), _t("reason", "图片模糊")))
    beacon = (_t("Uuid", "FDA50693-A4E2-4FB1-AFCF-C6EB07647825"), _n("Major", "10001"))
    add(_event("ShakearoundUserShake", "store", "Shook near a beacon", "摇一摇周边",
               *_nested("ChosenBeacon", *beacon, _n("Minor", "12102"), _n("Distance", "0.057")),
               *_nested("AroundBeacons/AroundBeacon", *beacon, _n("Minor", "12103"), _n("Distance", "166.816"))))
    add(_event("ShakearoundLotteryBind", "store", "Shake red packet bound", "摇一摇红包绑定",
               _t("LotteryId", "lotteryid"), _t("Ticket", "ticket"), _n("Money", "88"), _n("BindTime", "1442824313")))
    add(_event("WifiConnected", "store", "Connected to the store's Wi-Fi", "连 Wi-Fi 成功",
               _n("ConnectTime", "1442401156"), _n("ExpireTime", "0"), _t("VendorId", "3001224419"),
               _n("ShopId", "429620"), _t("DeviceNo", "00:1f:7a:ad:5c:a8")))

    add(_event("merchant_order", "shop", "Shop order paid", "小店订单付款", _t("OrderId", "test_order_id"),
               _n("OrderStatus", "2"), _t("ProductId", "test_product_id"), _t("SkuInfo", "10001:1000012;10002:100021")))
    add(_event("user_authorize_invoice", "shop", "Invoice authorized", "发票授权", _t("SuccOrderId", "1202933957956"),
               _t("FailOrderId"), _t("AuthorizeAppId", "wxf8b4f85f3a794e77"), _t("Source", "web")))
    add(_event("update_invoice_status", "shop", "Invoice status changed", "发票状态更新",
               _t("Status", "INVOICE_REIMBURSE_CLOSURE"), _t("CardId", "pjZ8Yt1XGILfi-FUsewpnnolGgZk"),
               _t("Code", "030102690111")))
    add(_event("submit_invoice_title", "shop", "Invoice title submitted", "提交发票抬头",
               _t("title", "腾讯科技有限公司"), _t("phone", "075586013388"), _t("tax_no", "91440300708461136T"),
               _t("addr", "深圳市南山区"), _t("bank_type", "招商银行"), _t("bank_no", "6214830000000000"), _t("attach"),
               _t("title_type", "InvoiceUserTitleBusinessType")))
    add(_event("guide_qrcode_scan_event", "shop", "Scanned a shopping guide's code", "扫导购二维码",
               *_nested("GuideScanEvent", _t("qrcode_guide_account", "guide_wx"),
                        _t("qrcode_guide_openid", "o_guide"), _t("openid", fresh="openid"), _n("action", "11"),
                        _t("qrcode_info", "store-12"))))

    device = (_t("DeviceType", "gh_d3e07d51b513"), _t("DeviceID", "dev1234abcd"), _n("SessionID", "9394"),
              _t("OpenID", fresh="openid"))
    add(_message("device_text", "Device data", "设备消息", *device, _t("Content", "aGVsbG8gd3hob29r"), group="device"))
    add(_message("device_event", "Device event", "设备事件", _t("Event", "bind"), *device, _n("OpType"),
                 group="device"))
    return kinds


KINDS: dict[str, Kind] = {kind.name: kind for kind in _table()}
"""Every entry by its name, in the page's order: the MsgType of a message, the Event of an event."""


def describe() -> dict[str, Any]:
    """The whole table for the page: its groups in order, then the entries."""
    return {"groups": [{"name": name, "en": en, "zh": zh} for name, (en, zh) in GROUPS.items()],
            "kinds": [kind.describe() for kind in KINDS.values()]}
