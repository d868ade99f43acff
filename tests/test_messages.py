import copy
import dataclasses
import json
import pickle
from typing import Any

import pytest

import wxhook.messages as messages
from wxhook.messages import (
    ArticleUrlResult,
    AuthorizationEvent,
    Beacon,
    CardEvent,
    CardPayOrderEvent,
    ClickEvent,
    CopyrightCheckResult,
    DeviceMessage,
    EnterTempSessionEvent,
    Event,
    FileMessage,
    GuideQrcodeScanEvent,
    ImageMessage,
    InvoiceAuthorizeEvent,
    InvoiceStatusEvent,
    InvoiceTitleEvent,
    KfSessionEvent,
    LinkMessage,
    LocationEvent,
    LocationMessage,
    LocationSelectEvent,
    MassSendJobFinishEvent,
    MerchantOrderEvent,
    Message,
    PicEvent,
    PicItem,
    PoiCheckNotifyEvent,
    PublishJobFinishEvent,
    ScanCodeEvent,
    ScanEvent,
    SendPicsInfo,
    ShakearoundLotteryBindEvent,
    ShakearoundUserShakeEvent,
    ShortVideoMessage,
    StoreAuditEvent,
    SubscribeEvent,
    SubscribeMsgChangeEvent,
    SubscribeMsgEntry,
    SubscribeMsgPopupEvent,
    SubscribeMsgSentEvent,
    TemplateSendJobFinishEvent,
    TextMessage,
    UnknownEvent,
    UnknownMessage,
    UnsubscribeEvent,
    VerificationEvent,
    VideoMessage,
    ViewEvent,
    ViewMiniprogramEvent,
    VoiceMessage,
    WifiConnectedEvent,
    dedupe_key,
    parse_message,
)
from wxhook.xml import parse_xml

HEAD = (
    "<ToUserName><![CDATA[gh_account]]></ToUserName><FromUserName><![CDATA[o_follower]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime>"
)


def parse(xml: str) -> Message:
    return parse_message(parse_xml(xml.encode()))


def msg(msg_type: str, body: str) -> Message:
    return parse(f"<xml>{HEAD}<MsgType><![CDATA[{msg_type}]]></MsgType>{body}</xml>")


def event(name: str, body: str = "") -> Any:
    return msg("event", f"<Event><![CDATA[{name}]]></Event>{body}")


# --- messages -----------------------------------------------------------------------------------------------


def test_the_spec_text_sample() -> None:
    m = parse(
        "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[fromUser]]></FromUserName>"
        "<CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>"
        "<Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>"
    )
    assert type(m) is TextMessage
    assert m.to_user_name == "toUser"
    assert m.from_user_name == m.openid == "fromUser"
    assert m.create_time == 1348831860 and type(m.create_time) is int
    assert m.msg_type == "text"
    assert m.content == "this is a test"
    assert m.msg_id == 1234567890123456 and type(m.msg_id) is int
    assert m.msg_data_id is None and m.idx is None
    assert m.raw["Content"] == "this is a test" and m.raw["MsgId"] == "1234567890123456"


def test_text_sent_from_an_article_carries_its_data_id_and_index() -> None:
    m = msg("text", "<Content>hi</Content><MsgId>7</MsgId><MsgDataId>2247483653</MsgDataId><Idx>2</Idx>")
    assert isinstance(m, TextMessage)
    assert (m.msg_data_id, m.idx) == (2247483653, 2)


def test_image() -> None:
    m = msg(
        "image",
        "<PicUrl><![CDATA[http://p/1.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>8</MsgId>",
    )
    assert isinstance(m, ImageMessage)
    assert (m.pic_url, m.media_id, m.msg_id) == ("http://p/1.jpg", "m1", 8)


def test_voice_with_and_without_recognition() -> None:
    m = msg(
        "voice", "<MediaId>m2</MediaId><Format>amr</Format><Recognition>你好</Recognition><MsgId>9</MsgId>"
    )
    assert isinstance(m, VoiceMessage)
    assert (m.media_id, m.format, m.recognition, m.msg_id) == ("m2", "amr", "你好", 9)
    plain = msg("voice", "<MediaId>m2</MediaId><Format>speex</Format><MsgId>9</MsgId>")
    assert isinstance(plain, VoiceMessage) and plain.recognition is None


@pytest.mark.parametrize(("msg_type", "cls"), [("video", VideoMessage), ("shortvideo", ShortVideoMessage)])
def test_video_and_short_video(msg_type: str, cls: type[Message]) -> None:
    m = msg(msg_type, "<MediaId>m3</MediaId><ThumbMediaId>t3</ThumbMediaId><MsgId>10</MsgId>")
    assert type(m) is cls and isinstance(m, VideoMessage)
    assert (m.msg_type, m.media_id, m.thumb_media_id, m.msg_id) == (msg_type, "m3", "t3", 10)


def test_location_message_coordinates_are_floats() -> None:
    m = msg(
        "location",
        "<Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale>"
        "<Label><![CDATA[位置信息]]></Label><MsgId>11</MsgId>",
    )
    assert isinstance(m, LocationMessage)
    assert (m.location_x, m.location_y, m.scale, m.label) == (23.134521, 113.358803, 20.0, "位置信息")
    assert type(m.location_x) is float and type(m.scale) is float


def test_link() -> None:
    m = msg(
        "link",
        "<Title>公众平台官网链接</Title><Description>d</Description><Url>https://u</Url><MsgId>12</MsgId>",
    )
    assert isinstance(m, LinkMessage)
    assert (m.title, m.description, m.url, m.msg_id) == ("公众平台官网链接", "d", "https://u", 12)


def test_unknown_message_type_parses_generically_and_keeps_its_type() -> None:
    m = msg(
        "weapp_card_2030", "<AppId>wx1</AppId><Title>t</Title><PagePath>pages/a</PagePath><MsgId>13</MsgId>"
    )
    assert type(m) is UnknownMessage
    assert m.msg_type == "weapp_card_2030"
    assert m.msg_id == 13
    assert m.raw["PagePath"] == "pages/a"


# --- follow, scan, location ---------------------------------------------------------------------------------


def test_the_spec_subscribe_by_qr_code_sample() -> None:
    m = parse(
        "<xml><ToUserName><![CDATA[toUser]]></ToUserName><FromUserName><![CDATA[FromUser]]></FromUserName>"
        "<CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
        "<EventKey><![CDATA[qrscene_123123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>"
    )
    assert isinstance(m, SubscribeEvent)
    assert (m.msg_type, m.event, m.event_key, m.ticket) == ("event", "subscribe", "qrscene_123123", "TICKET")
    assert m.scene == "123123"
    assert m.openid == "FromUser" and m.create_time == 123456789


@pytest.mark.parametrize(
    "key", ["", "<EventKey><![CDATA[]]></EventKey>", "<EventKey>last_trade_no_4008</EventKey>"]
)
def test_a_follow_not_made_by_qr_code_has_no_scene(key: str) -> None:
    m = event("subscribe", key)
    assert isinstance(m, SubscribeEvent)
    assert m.scene is None and m.ticket is None
    assert m.event_key == (None if not key else m.raw["EventKey"])


def test_unsubscribe_still_has_an_event_key_attribute() -> None:
    m = event("unsubscribe")
    assert isinstance(m, UnsubscribeEvent)
    assert m.event == "unsubscribe" and m.event_key is None


def test_scan_scene_is_the_raw_key() -> None:
    m = event("SCAN", "<EventKey><![CDATA[SCENE_VALUE]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>")
    assert isinstance(m, ScanEvent)
    assert (m.event, m.scene, m.event_key, m.ticket) == ("SCAN", "SCENE_VALUE", "SCENE_VALUE", "TICKET")


def test_location_event_floats() -> None:
    m = event(
        "LOCATION",
        "<Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>",
    )
    assert isinstance(m, LocationEvent)
    assert (m.latitude, m.longitude, m.precision) == (23.137466, 113.352425, 119.38504)
    assert all(type(v) is float for v in (m.latitude, m.longitude, m.precision))


# --- menu events --------------------------------------------------------------------------------------------


def test_click() -> None:
    m = event("CLICK", "<EventKey><![CDATA[V1001_TODAY_MUSIC]]></EventKey>")
    assert isinstance(m, ClickEvent)
    assert m.event_key == "V1001_TODAY_MUSIC"


@pytest.mark.parametrize(("name", "cls"), [("VIEW", ViewEvent), ("view_miniprogram", ViewMiniprogramEvent)])
def test_view_events_carry_the_menu_id_as_int(name: str, cls: type[Event]) -> None:
    m = event(name, "<EventKey><![CDATA[https://www.qq.com/]]></EventKey><MenuId>208379533</MenuId>")
    assert type(m) is cls and isinstance(m, (ViewEvent, ViewMiniprogramEvent))
    assert m.event == name and m.event_key == "https://www.qq.com/"
    assert m.menu_id == 208379533 and type(m.menu_id) is int


@pytest.mark.parametrize("name", ["scancode_push", "scancode_waitmsg"])
def test_scancode_events(name: str) -> None:
    m = event(
        name,
        "<EventKey><![CDATA[6]]></EventKey><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType>"
        "<ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>",
    )
    assert isinstance(m, ScanCodeEvent)
    assert m.event == name and m.event_key == "6"
    assert m.scan_code_info is not None
    assert (m.scan_code_info.scan_type, m.scan_code_info.scan_result) == ("qrcode", "1")
    assert m.scan_code_info.raw == {"ScanType": "qrcode", "ScanResult": "1"}


def pics(*sums: str) -> str:
    items = "".join(f"<item><PicMd5Sum><![CDATA[{s}]]></PicMd5Sum></item>" for s in sums)
    count = f"<Count>{len(sums)}</Count>"
    return f"<EventKey>6</EventKey><SendPicsInfo>{count}<PicList>{items}</PicList></SendPicsInfo>"


@pytest.mark.parametrize("name", ["pic_sysphoto", "pic_photo_or_album", "pic_weixin"])
def test_pic_event_with_one_picture_is_still_a_list(name: str) -> None:
    m = event(name, pics("1b5f7c23b5bf75682a53e7b6d163e185"))
    assert isinstance(m, PicEvent) and m.event == name
    info = m.send_pics_info
    assert isinstance(info, SendPicsInfo)
    assert info.count == 1
    assert info.pic_list == (
        PicItem(pic_md5_sum="1b5f7c23b5bf75682a53e7b6d163e185", raw=info.pic_list[0].raw),
    )
    assert info.pic_list[0].pic_md5_sum == "1b5f7c23b5bf75682a53e7b6d163e185"


def test_pic_event_with_two_pictures() -> None:
    m = event("pic_photo_or_album", pics("aaa", "bbb"))
    assert isinstance(m, PicEvent) and m.send_pics_info is not None
    assert m.send_pics_info.count == 2
    assert isinstance(m.send_pics_info.pic_list, tuple)
    assert [p.pic_md5_sum for p in m.send_pics_info.pic_list] == ["aaa", "bbb"]


def test_pic_event_with_an_empty_list() -> None:
    m = event("pic_weixin", "<SendPicsInfo><Count>0</Count><PicList></PicList></SendPicsInfo>")
    assert isinstance(m, PicEvent) and m.send_pics_info is not None
    assert m.send_pics_info.pic_list == ()


def test_location_select() -> None:
    m = event(
        "location_select",
        "<EventKey><![CDATA[6]]></EventKey><SendLocationInfo><Location_X><![CDATA[23]]></Location_X>"
        "<Location_Y><![CDATA[113]]></Location_Y><Scale><![CDATA[15]]></Scale>"
        "<Label><![CDATA[ 广州市]]></Label>"
        "<Poiname><![CDATA[]]></Poiname></SendLocationInfo>",
    )
    assert isinstance(m, LocationSelectEvent)
    info = m.send_location_info
    assert info is not None
    assert (info.location_x, info.location_y, info.scale, info.label, info.poiname) == (
        23.0,
        113.0,
        15.0,
        " 广州市",
        "",
    )
    assert type(info.location_x) is float


# --- job results --------------------------------------------------------------------------------------------


def test_template_send_job_finish_reads_msg_id_from_msg_capital_id() -> None:
    m = event(
        "TEMPLATESENDJOBFINISH", "<MsgID>200163836</MsgID><Status><![CDATA[failed: system failed]]></Status>"
    )
    assert isinstance(m, TemplateSendJobFinishEvent)
    assert m.msg_id == 200163836 and type(m.msg_id) is int
    assert m.status == "failed: system failed"


def test_mass_send_job_finish_with_copyright_and_url_results() -> None:
    m = event(
        "MASSSENDJOBFINISH",
        "<MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount>"
        "<FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount>"
        "<CopyrightCheckResult><Count>2</Count><ResultList>"
        "<item><ArticleIdx>1</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState>"
        "<OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType>"
        "<CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent>"
        "<NeedShowReprintSource>1</NeedShowReprintSource></item>"
        "<item><ArticleIdx>2</ArticleIdx><AuditState>2</AuditState></item>"
        "</ResultList><CheckState>2</CheckState></CopyrightCheckResult>"
        "<ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx>"
        "<ArticleUrl><![CDATA[https://mp/s/1]]></ArticleUrl></item></ResultList></ArticleUrlResult>",
    )
    assert isinstance(m, MassSendJobFinishEvent)
    assert (m.msg_id, m.status) == (1000001625, "err(30003)")
    assert (m.total_count, m.filter_count, m.sent_count, m.error_count) == (0, 0, 0, 0)
    check = m.copyright_check_result
    assert isinstance(check, CopyrightCheckResult)
    assert (check.count, check.check_state, len(check.result_list)) == (2, 2, 2)
    first, second = check.result_list
    assert (first.article_idx, first.user_declare_state, first.audit_state) == (1, 0, 2)
    assert (first.original_article_url, first.original_article_type, first.can_reprint) == ("Url_1", 1, 1)
    assert (first.need_replace_content, first.need_show_reprint_source) == (1, 1)
    assert (second.article_idx, second.can_reprint) == (2, None)
    urls = m.article_url_result
    assert isinstance(urls, ArticleUrlResult)
    assert urls.count == 1
    assert [(u.article_idx, u.article_url) for u in urls.result_list] == [(1, "https://mp/s/1")]


PUBLISH_INFO = (
    "<PublishEventInfo><publish_id>2247503051</publish_id><publish_status>2</publish_status>"
    "<article_id><![CDATA[b5O2OUs25HBxRceL7hfReg]]></article_id><article_detail><count>2</count>"
    "<item><idx>1</idx><article_url><![CDATA[https://mp/s/a]]></article_url></item>"
    "<item><idx>2</idx><article_url><![CDATA[https://mp/s/b]]></article_url></item>"
    "</article_detail><fail_idx>1</fail_idx><fail_idx>2</fail_idx></PublishEventInfo>"
)


@pytest.mark.parametrize("name", ["PUBLISHJOBFINISH", "FREEPUBLISHJOBFINISH", "MASSSENDJOBFINISH"])
def test_publish_job_finish_under_each_name_the_docs_use(name: str) -> None:
    m = event(name, PUBLISH_INFO)
    assert isinstance(m, PublishJobFinishEvent)
    assert m.event == name
    info = m.publish_event_info
    assert info is not None
    assert (info.publish_id, info.publish_status, info.article_id) == (
        2247503051,
        2,
        "b5O2OUs25HBxRceL7hfReg",
    )
    assert [(a.idx, a.article_url) for a in info.article_detail] == [
        (1, "https://mp/s/a"),
        (2, "https://mp/s/b"),
    ]
    assert info.fail_idx == (1, 2)


def test_publish_job_with_one_article_and_no_failures() -> None:
    m = event(
        "PUBLISHJOBFINISH",
        "<PublishEventInfo><publish_id>1</publish_id><publish_status>0</publish_status><article_detail>"
        "<count>1</count><item><idx>1</idx><article_url>u</article_url></item></article_detail>"
        "<fail_idx></fail_idx></PublishEventInfo>",
    )
    assert isinstance(m, PublishJobFinishEvent) and m.publish_event_info is not None
    assert [a.article_url for a in m.publish_event_info.article_detail] == ["u"]
    assert m.publish_event_info.fail_idx == ()


# --- subscription notifications -----------------------------------------------------------------------------


def entries(tag: str, *entries: str) -> str:
    return f"<{tag}>" + "".join(f"<List>{e}</List>" for e in entries) + f"</{tag}>"


POPUP_1 = (
    "<TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId>"
    "<SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene>"
)
POPUP_2 = (
    "<TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId>"
    "<SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>1</PopupScene>"
)


def test_subscribe_msg_popup_with_one_entry_is_a_one_element_list() -> None:
    m = event("subscribe_msg_popup_event", entries("SubscribeMsgPopupEvent", POPUP_1))
    assert isinstance(m, SubscribeMsgPopupEvent)
    (only,) = m.subscribe_msg_popup_event
    assert isinstance(only, SubscribeMsgEntry)
    assert (only.template_id, only.subscribe_status_string, only.popup_scene) == (
        "VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc",
        "accept",
        2,
    )


def test_subscribe_msg_popup_with_two_entries() -> None:
    m = event("subscribe_msg_popup_event", entries("SubscribeMsgPopupEvent", POPUP_1, POPUP_2))
    assert isinstance(m, SubscribeMsgPopupEvent)
    assert [(e.subscribe_status_string, e.popup_scene) for e in m.subscribe_msg_popup_event] == [
        ("accept", 2),
        ("reject", 1),
    ]


@pytest.mark.parametrize("tag", ["SubscribeMsgChangeEvent", "SubscribeMsgPopupEvent"])
def test_subscribe_msg_change_accepts_the_tag_the_official_sample_wrongly_uses(tag: str) -> None:
    m = event(
        "subscribe_msg_change_event",
        entries(tag, "<TemplateId>T1</TemplateId><SubscribeStatusString>reject</SubscribeStatusString>"),
    )
    assert isinstance(m, SubscribeMsgChangeEvent)
    assert [(e.template_id, e.subscribe_status_string) for e in m.subscribe_msg_change_event] == [
        ("T1", "reject")
    ]


def test_subscribe_msg_sent() -> None:
    m = event(
        "subscribe_msg_sent_event",
        entries(
            "SubscribeMsgSentEvent",
            "<TemplateId>T1</TemplateId><MsgID>1700827132819554304</MsgID><ErrorCode>0</ErrorCode>"
            "<ErrorStatus><![CDATA[success]]></ErrorStatus>",
        ),
    )
    assert isinstance(m, SubscribeMsgSentEvent)
    (sent,) = m.subscribe_msg_sent_event
    assert (sent.template_id, sent.msg_id, sent.error_code, sent.error_status) == (
        "T1",
        1700827132819554304,
        0,
        "success",
    )


# --- customer service, cards, verification, authorisation ---------------------------------------------------


@pytest.mark.parametrize("name", ["kf_create_session", "kf_close_session"])
def test_kf_create_and_close(name: str) -> None:
    m = event(name, "<KfAccount><![CDATA[test1@test]]></KfAccount>")
    assert isinstance(m, KfSessionEvent)
    assert (m.event, m.kf_account, m.from_kf_account) == (name, "test1@test", None)


def test_kf_switch() -> None:
    m = event("kf_switch_session", "<FromKfAccount>a@test</FromKfAccount><ToKfAccount>b@test</ToKfAccount>")
    assert isinstance(m, KfSessionEvent)
    assert (m.kf_account, m.from_kf_account, m.to_kf_account) == (None, "a@test", "b@test")


def test_user_enter_tempsession() -> None:
    m = event("user_enter_tempsession", "<SessionFrom><![CDATA[weapp]]></SessionFrom>")
    assert isinstance(m, EnterTempSessionEvent)
    assert m.session_from == "weapp"


@pytest.mark.parametrize(
    "name", ["card_pass_check", "user_get_card", "user_consume_card", "giftcard_user_accept"]
)
def test_card_events(name: str) -> None:
    m = event(name, "<CardId><![CDATA[pFS7Fjg8kV1I]]></CardId><UserCardCode>12312312</UserCardCode>")
    assert isinstance(m, CardEvent)
    assert (m.event, m.card_id, m.user_card_code, m.refuse_reason) == (name, "pFS7Fjg8kV1I", "12312312", None)


def test_card_not_pass_check_gives_the_reason() -> None:
    m = event("card_not_pass_check", "<CardId>c</CardId><RefuseReason><![CDATA[非法代制]]></RefuseReason>")
    assert isinstance(m, CardEvent) and m.refuse_reason == "非法代制"


@pytest.mark.parametrize(
    "name", ["qualification_verify_success", "naming_verify_success", "annual_renew", "verify_expired"]
)
def test_verification_success_events(name: str) -> None:
    m = event(name, "<ExpiredTime>1442401156</ExpiredTime>")
    assert isinstance(m, VerificationEvent)
    assert m.expired_time == 1442401156 and type(m.expired_time) is int


@pytest.mark.parametrize("name", ["qualification_verify_fail", "naming_verify_fail"])
def test_verification_failure_events(name: str) -> None:
    m = event(name, "<FailTime>1442401122</FailTime><FailReason><![CDATA[by time]]></FailReason>")
    assert isinstance(m, VerificationEvent)
    assert (m.fail_time, m.fail_reason, m.expired_time) == (1442401122, "by time", None)


@pytest.mark.parametrize(
    "name", ["user_authorization_revoke", "user_authorization_cancellation", "user_info_modified"]
)
def test_authorization_events(name: str) -> None:
    m = event(
        name,
        "<OpenID><![CDATA[o_user]]></OpenID><AppID><![CDATA[wx_app]]></AppID>"
        "<RevokeInfo><![CDATA[205]]></RevokeInfo><UnionID>u_1</UnionID>",
    )
    assert isinstance(m, AuthorizationEvent)
    assert (m.event, m.open_id, m.app_id, m.revoke_info, m.union_id) == (
        name,
        "o_user",
        "wx_app",
        "205",
        "u_1",
    )


def test_unknown_event_parses_generically_and_keeps_its_name_and_key() -> None:
    m = event("user_scan_product", "<EventKey>k</EventKey><KeyStandard>ean13</KeyStandard><Sex>1</Sex>")
    assert type(m) is UnknownEvent
    assert (m.msg_type, m.event, m.event_key) == ("event", "user_scan_product", "k")
    assert m.raw["KeyStandard"] == "ean13"


@pytest.mark.parametrize(
    ("received", "cls", "spelled"),
    [("scan", ScanEvent, "SCAN"), ("Subscribe", SubscribeEvent, "subscribe"), ("Click", ClickEvent, "CLICK"),
     ("wificonnected", WifiConnectedEvent, "WifiConnected"), ("FreePublishJobFinish", PublishJobFinishEvent,
     "FREEPUBLISHJOBFINISH")],
)  # fmt: skip
def test_an_event_name_in_another_case_is_that_event_in_wechats_spelling(
    received: str, cls: type[Event], spelled: str
) -> None:
    m = event(received, "<EventKey>42</EventKey>")
    assert type(m) is cls
    assert (m.event, m.raw["Event"], m.event_key) == (spelled, received, "42")
    assert dedupe_key(m) == dedupe_key(event(spelled, "<EventKey>42</EventKey>"))


@pytest.mark.parametrize("received", ["Event", "EVENT"])
def test_msg_type_event_in_another_case_is_an_event(received: str) -> None:
    m = msg(received, "<Event><![CDATA[scan]]></Event><EventKey>7</EventKey>")
    assert isinstance(m, ScanEvent)
    assert (m.msg_type, m.event, m.raw["MsgType"]) == ("event", "SCAN", received)
    assert msg(received, "<Event>VIEW</Event><MenuId>3</MenuId>").msg_type == "event"


def test_a_message_type_in_another_case_is_that_message_in_wechats_spelling() -> None:
    m = msg("TEXT", "<Content>hi</Content><MsgId>5</MsgId>")
    assert isinstance(m, TextMessage)
    assert (m.msg_type, m.raw["MsgType"], m.content) == ("text", "TEXT", "hi")
    assert type(msg("ShortVideo", "<MediaId>m</MediaId>")) is ShortVideoMessage


def test_an_unknown_name_keeps_its_case() -> None:
    assert (type(m := event("Weapp_Audit_Success")) is UnknownEvent) and m.event == "Weapp_Audit_Success"
    assert (type(t := msg("Weapp_Card", "")) is UnknownMessage) and t.msg_type == "Weapp_Card"
    job = event("masssendjobfinish", "<PublishEventInfo><publish_id>1</publish_id></PublishEventInfo>")
    assert isinstance(job, PublishJobFinishEvent) and job.event == "MASSSENDJOBFINISH"


def test_no_two_known_names_differ_only_in_case() -> None:
    with pytest.raises(TypeError, match="differ only in case"):
        messages._spellings(["SCAN", "scan"])


# --- store, shake, Wi-Fi, shop, invoices, shopping guide, devices, files ----------------------------------------


def test_file_message() -> None:
    m = msg(
        "file",
        "<Title><![CDATA[报价单.pdf]]></Title><Description><![CDATA[2026 报价]]></Description>"
        "<FileKey><![CDATA[a7a2f1b0c9d8e7f6]]></FileKey><FileMd5><![CDATA[5a75aaca956d97be686719218f275c6b]]>"
        "</FileMd5><FileTotalLen>34562</FileTotalLen><MsgId>6504361178931234567</MsgId>",
    )
    assert isinstance(m, FileMessage)
    assert (m.title, m.description, m.file_key, m.file_md5, m.file_total_len, m.msg_id) == (
        "报价单.pdf", "2026 报价", "a7a2f1b0c9d8e7f6", "5a75aaca956d97be686719218f275c6b", 34562,
        6504361178931234567)  # fmt: skip


DEVICE = (
    "<DeviceType><![CDATA[gh_d3e07d51b513]]></DeviceType><DeviceID><![CDATA[dev1234abcd]]></DeviceID>"
    "<SessionID>9394</SessionID><OpenID><![CDATA[oFfEX0nJ7GsbkAUjkhb9sTlYmj6o]]></OpenID>"
)


def test_device_text_carries_the_devices_data_base64_encoded() -> None:
    m = msg("device_text", DEVICE + "<Content><![CDATA[aGVsbG8gd3hob29r]]></Content><MsgID>66051213</MsgID>")
    assert isinstance(m, DeviceMessage) and not isinstance(m, Event)
    assert (m.msg_type, m.device_type, m.device_id, m.session_id, m.open_id, m.msg_id) == (
        "device_text", "gh_d3e07d51b513", "dev1234abcd", 9394, "oFfEX0nJ7GsbkAUjkhb9sTlYmj6o", 66051213)
    assert (m.content, m.data, m.event, m.op_type) == ("aGVsbG8gd3hob29r", b"hello wxhook", None, None)
    garbled = msg("device_text", DEVICE + "<Content>not base64!</Content>")
    assert isinstance(garbled, DeviceMessage) and garbled.data is None


def test_device_events() -> None:
    bind = msg("device_event", "<Event><![CDATA[bind]]></Event>" + DEVICE + "<Content><![CDATA[]]></Content>")
    assert isinstance(bind, DeviceMessage) and not isinstance(bind, Event)
    assert (bind.msg_type, bind.event, bind.device_id, bind.data) == ("device_event", "bind", "dev1234abcd", b"")
    status = msg("device_event", "<Event>subscribe_status</Event>" + DEVICE + "<OpType>1</OpType>")
    assert isinstance(status, DeviceMessage) and (status.event, status.op_type) == ("subscribe_status", 1)


def test_poi_check_notify() -> None:
    m = event(
        "poi_check_notify",
        "<UniqId><![CDATA[123adb]]></UniqId><PoiId><![CDATA[123123]]></PoiId><Result><![CDATA[fail]]></Result>"
        "<msg><![CDATA[资质不全]]></msg>",
    )
    assert isinstance(m, PoiCheckNotifyEvent)
    assert (m.uniq_id, m.poi_id, m.result, m.msg) == ("123adb", "123123", "fail", "资质不全")


def test_store_audit_events() -> None:
    created = event(
        "create_map_poi_audit_info",
        "<audit_id>414221</audit_id><status>1</status><map_poi_id><![CDATA[2880501385417447563]]></map_poi_id>"
        "<name><![CDATA[深圳店]]></name><address><![CDATA[南山区科技园]]></address>"
        "<latitude>22.540366</latitude><longitude>113.934559</longitude><sh_remark><![CDATA[]]></sh_remark>",
    )
    assert isinstance(created, StoreAuditEvent)
    assert (created.audit_id, created.status, created.map_poi_id, created.name, created.address) == (
        414221, 1, "2880501385417447563", "深圳店", "南山区科技园")
    assert (created.latitude, created.longitude, created.sh_remark) == (22.540366, 113.934559, "")
    added = event("add_store_audit_info", "<audit_id>2</audit_id><status>1</status><is_upgrade>0</is_upgrade>"
                  "<poiid><![CDATA[471736217]]></poiid>")
    assert isinstance(added, StoreAuditEvent) and (added.is_upgrade, added.poiid) == (0, "471736217")
    for name in ("apply_merchant_audit_info", "modify_store_audit_info"):
        rejected = event(name, "<audit_id>3</audit_id><status>3</status><reason><![CDATA[图片模糊]]></reason>")
        assert isinstance(rejected, StoreAuditEvent)
        assert (rejected.event, rejected.audit_id, rejected.status, rejected.reason) == (name, 3, 3, "图片模糊")


BEACON = "<Uuid><![CDATA[FDA50693-A4E2-4FB1-AFCF-C6EB07647825]]></Uuid><Major>10001</Major><Minor>{}</Minor>"


def test_shake_lists_the_chosen_beacon_and_the_ones_around() -> None:
    m = event(
        "ShakearoundUserShake",
        "<ChosenBeacon>" + BEACON.format(12102) + "<Distance>0.057</Distance></ChosenBeacon><AroundBeacons>"
        + "".join(f"<AroundBeacon>{BEACON.format(minor)}<Distance>{distance}</Distance></AroundBeacon>"
                  for minor, distance in ((12103, "166.816"), (12104, "15.013")))
        + "</AroundBeacons>",
    )  # fmt: skip
    assert isinstance(m, ShakearoundUserShakeEvent) and m.chosen_beacon is not None
    chosen = m.chosen_beacon
    assert (chosen.uuid, chosen.major, chosen.minor, chosen.distance) == (
        "FDA50693-A4E2-4FB1-AFCF-C6EB07647825", 10001, 12102, 0.057)
    assert [(b.minor, b.distance) for b in m.around_beacons] == [(12103, 166.816), (12104, 15.013)]
    assert all(isinstance(b, Beacon) for b in m.around_beacons)
    around = f"<AroundBeacons><AroundBeacon>{BEACON.format(7)}</AroundBeacon></AroundBeacons>"
    one = event("ShakearoundUserShake", around)
    assert isinstance(one, ShakearoundUserShakeEvent) and [b.minor for b in one.around_beacons] == [7]
    assert one.chosen_beacon is None


def test_shake_as_the_official_sample_spells_it_keeps_the_placeholders_unparsed() -> None:
    m = event("ShakearoundUserShake", "<ChosenBeacon><Uuid><![CDATA[uuid]]></Uuid><Major>major</Major>"
              "<Minor>minor</Minor><Distance>0.057</Distance></ChosenBeacon>")
    assert isinstance(m, ShakearoundUserShakeEvent) and m.chosen_beacon is not None
    assert (m.chosen_beacon.major, m.chosen_beacon.distance) == (None, 0.057)
    assert m.chosen_beacon.unparsed == {"Major": "major", "Minor": "minor"}


def test_shake_red_packet_bound_official_sample() -> None:
    m = event(
        "ShakearoundLotteryBind",
        "<LotteryId><![CDATA[lotteryid]]></LotteryId><Ticket><![CDATA[ticket]]></Ticket><Money>88</Money>"
        "<BindTime>1442824313</BindTime>",
    )
    assert isinstance(m, ShakearoundLotteryBindEvent)
    assert (m.lottery_id, m.ticket, m.money, m.bind_time) == ("lotteryid", "ticket", 88, 1442824313)


@pytest.mark.parametrize("shop_tag", ["ShopId", "PlaceId"])
def test_wifi_connected(shop_tag: str) -> None:
    m = event(
        "WifiConnected",
        f"<ConnectTime>1442401156</ConnectTime><ExpireTime>0</ExpireTime><VendorId><![CDATA[3001224419]]>"
        f"</VendorId><{shop_tag}><![CDATA[429620]]></{shop_tag}><DeviceNo><![CDATA[00:1f:7a:ad:5c:a8]]></DeviceNo>",
    )
    assert isinstance(m, WifiConnectedEvent)
    assert (m.connect_time, m.expire_time, m.vendor_id, m.shop_id, m.device_no) == (
        1442401156, 0, "3001224419", 429620, "00:1f:7a:ad:5c:a8")


def test_merchant_order() -> None:
    m = event(
        "merchant_order",
        "<OrderId><![CDATA[test_order_id]]></OrderId><OrderStatus>2</OrderStatus>"
        "<ProductId><![CDATA[test_product_id]]></ProductId><SkuInfo><![CDATA[10001:1000012;10002:100021]]></SkuInfo>",
    )
    assert isinstance(m, MerchantOrderEvent)
    assert (m.order_id, m.order_status, m.product_id, m.sku_info) == (
        "test_order_id", 2, "test_product_id", "10001:1000012;10002:100021")


def test_invoice_authorization() -> None:
    m = event(
        "user_authorize_invoice",
        "<SuccOrderId><![CDATA[1202933957956]]></SuccOrderId><FailOrderId><![CDATA[]]></FailOrderId>"
        "<AuthorizeAppId><![CDATA[wxf8b4f85f3a794e77]]></AuthorizeAppId><Source><![CDATA[web]]></Source>",
    )
    assert isinstance(m, InvoiceAuthorizeEvent)
    assert (m.succ_order_id, m.fail_order_id, m.authorize_app_id, m.source) == (
        "1202933957956", "", "wxf8b4f85f3a794e77", "web")


def test_invoice_status() -> None:
    m = event(
        "update_invoice_status",
        "<Status><![CDATA[INVOICE_REIMBURSE_CLOSURE]]></Status><CardId><![CDATA[pjZ8Yt1XGILfi-FUsewpnnolGgZk]]>"
        "</CardId><Code><![CDATA[030102690111]]></Code>",
    )
    assert isinstance(m, InvoiceStatusEvent)
    assert (m.status, m.card_id, m.code) == (
        "INVOICE_REIMBURSE_CLOSURE", "pjZ8Yt1XGILfi-FUsewpnnolGgZk", "030102690111")


def test_invoice_title() -> None:
    m = event(
        "submit_invoice_title",
        "<title><![CDATA[腾讯科技有限公司]]></title><phone><![CDATA[075586013388]]></phone>"
        "<tax_no><![CDATA[91440300708461136T]]></tax_no><addr><![CDATA[深圳市南山区]]></addr>"
        "<bank_type><![CDATA[招商银行]]></bank_type><bank_no><![CDATA[6214830000000000]]></bank_no>"
        "<attach><![CDATA[]]></attach><title_type><![CDATA[InvoiceUserTitleBusinessType]]></title_type>",
    )
    assert isinstance(m, InvoiceTitleEvent)
    assert (m.title, m.phone, m.tax_no, m.addr, m.bank_type, m.bank_no, m.attach, m.title_type) == (
        "腾讯科技有限公司", "075586013388", "91440300708461136T", "深圳市南山区", "招商银行", "6214830000000000",
        "", "InvoiceUserTitleBusinessType")  # fmt: skip


def test_guide_qrcode_scan() -> None:
    m = event(
        "guide_qrcode_scan_event",
        "<GuideScanEvent><qrcode_guide_account><![CDATA[guide_wx]]></qrcode_guide_account>"
        "<qrcode_guide_openid><![CDATA[o_guide]]></qrcode_guide_openid><openid><![CDATA[o_buyer]]></openid>"
        "<action>11</action><qrcode_info><![CDATA[store-12]]></qrcode_info></GuideScanEvent>",
    )
    assert isinstance(m, GuideQrcodeScanEvent) and m.guide_scan_event is not None
    info = m.guide_scan_event
    assert (info.qrcode_guide_account, info.qrcode_guide_openid, info.openid, info.action, info.qrcode_info) == (
        "guide_wx", "o_guide", "o_buyer", 11, "store-12")


def test_user_get_card_fields() -> None:
    m = event(
        "user_get_card",
        "<CardId><![CDATA[po2VNuCuRo-8sxxxxxxxxxxx]]></CardId><IsGiveByFriend>1</IsGiveByFriend>"
        "<FriendUserName><![CDATA[o_friend]]></FriendUserName><UserCardCode><![CDATA[226009850808]]></UserCardCode>"
        "<OldUserCardCode><![CDATA[226009850801]]></OldUserCardCode><OuterStr><![CDATA[12b]]></OuterStr>"
        "<IsRestoreMemberCard>0</IsRestoreMemberCard><UnionId><![CDATA[o6_bmjrPTlm6_2sgVt7hMZOPfL2M]]></UnionId>",
    )
    assert isinstance(m, CardEvent)
    assert (m.is_give_by_friend, m.friend_user_name, m.old_user_card_code, m.outer_str) == (
        True, "o_friend", "226009850801", "12b")
    assert (m.is_restore_member_card, m.union_id) == (False, "o6_bmjrPTlm6_2sgVt7hMZOPfL2M")


@pytest.mark.parametrize(("name", "back", "room"), [("user_gifting_card", "0", "1"),
                                                     ("giftcard_send_to_friend", "false", "true")])
def test_gift_flags_in_either_spelling(name: str, back: str, room: str) -> None:
    m = event(name, f"<IsReturnBack>{back}</IsReturnBack><IsChatRoom>{room}</IsChatRoom><PageId>p1</PageId>")
    assert isinstance(m, CardEvent)
    assert (m.is_return_back, m.is_chat_room, m.page_id) == (False, True, "p1")


def test_user_consume_card_fields() -> None:
    m = event(
        "user_consume_card",
        "<CardId>c</CardId><UserCardCode>12312312</UserCardCode><ConsumeSource><![CDATA[FROM_MOBILE_HELPER]]>"
        "</ConsumeSource><LocationName><![CDATA[酒店]]></LocationName><StaffOpenId><![CDATA[o_staff]]></StaffOpenId>"
        "<VerifyCode><![CDATA[0512]]></VerifyCode><RemarkAmount><![CDATA[12.5]]></RemarkAmount>"
        "<OuterStr><![CDATA[xxxxx]]></OuterStr>",
    )
    assert isinstance(m, CardEvent)
    assert (m.consume_source, m.location_name, m.staff_open_id, m.verify_code, m.remark_amount, m.outer_str) == (
        "FROM_MOBILE_HELPER", "酒店", "o_staff", "0512", "12.5", "xxxxx")


def test_pay_cell_member_card_and_stock_fields() -> None:
    paid = event("user_pay_from_pay_cell", "<CardId>c</CardId><TransId><![CDATA[10022403432015000000000]]></TransId>"
                 "<LocationId>291710847</LocationId><Fee><![CDATA[10000]]></Fee><OriginalFee>10000</OriginalFee>")
    assert isinstance(paid, CardEvent)
    assert (paid.trans_id, paid.location_id, paid.fee, paid.original_fee) == (
        "10022403432015000000000", 291710847, 10000, 10000)
    member = event("update_member_card", "<ModifyBonus>3</ModifyBonus><ModifyBalance>-200</ModifyBalance>")
    assert isinstance(member, CardEvent) and (member.modify_bonus, member.modify_balance) == (3, -200)
    stock = event("card_sku_remind", "<CardId>c</CardId><Detail><![CDATA[the card's quantity is equal to 0]]></Detail>")
    assert isinstance(stock, CardEvent) and stock.detail == "the card's quantity is equal to 0"


def test_card_pay_order_is_a_card_event_with_the_whole_order() -> None:
    m = event(
        "card_pay_order",
        "<OrderId><![CDATA[404091456]]></OrderId><Status><![CDATA[ORDER_STATUS_FINANCE_SUCC]]></Status>"
        "<CreateOrderTime>1453295737</CreateOrderTime><PayFinishTime>0</PayFinishTime><Desc><![CDATA[]]></Desc>"
        "<FreeCoinCount><![CDATA[200]]></FreeCoinCount><PayCoinCount><![CDATA[0]]></PayCoinCount>"
        "<RefundFreeCoinCount><![CDATA[0]]></RefundFreeCoinCount><RefundPayCoinCount><![CDATA[0]]></RefundPayCoinCount>"
        "<OrderType><![CDATA[ORDER_TYPE_SYS_ADD]]></OrderType><Memo><![CDATA[开通账户奖励]]></Memo>"
        "<ReceiptInfo><![CDATA[]]></ReceiptInfo>",
    )
    assert isinstance(m, CardPayOrderEvent) and isinstance(m, CardEvent)
    assert (m.order_id, m.status, m.create_order_time, m.pay_finish_time, m.desc) == (
        "404091456", "ORDER_STATUS_FINANCE_SUCC", 1453295737, 0, "")
    assert (m.free_coin_count, m.pay_coin_count, m.refund_free_coin_count, m.refund_pay_coin_count) == (200, 0, 0, 0)
    assert (m.order_type, m.memo, m.receipt_info, m.card_id) == ("ORDER_TYPE_SYS_ADD", "开通账户奖励", "", None)


# --- robustness, immutability, identity ---------------------------------------------------------------------


def test_malformed_or_empty_numbers_become_none() -> None:
    m = parse(
        "<xml><ToUserName>gh</ToUserName><FromUserName>o</FromUserName><CreateTime></CreateTime>"
        "<MsgType>location</MsgType><Location_X>north</Location_X><Location_Y>113.3</Location_Y>"
        "<Scale>1e</Scale><MsgId>12ab</MsgId></xml>"
    )
    assert isinstance(m, LocationMessage)
    assert (m.create_time, m.location_x, m.scale, m.msg_id) == (None, None, None, None)
    assert m.location_y == 113.3
    job = event("MASSSENDJOBFINISH", "<TotalCount></TotalCount><SentCount> 7 </SentCount>")
    assert isinstance(job, MassSendJobFinishEvent)
    assert (job.total_count, job.sent_count, job.filter_count) == (None, 7, None)


def test_the_text_of_a_malformed_number_stays_in_raw_and_is_listed_as_unparsed() -> None:
    view = event("VIEW", "<EventKey>https://u</EventKey><MenuId>menu-7</MenuId><MsgDataId></MsgDataId>")
    assert isinstance(view, ViewEvent) and view.menu_id is None
    assert view.raw["MenuId"] == "menu-7"
    assert view.unparsed == {"MenuId": "menu-7"}, "an empty number is absent, not unparsed"
    text = msg("text", "<Content>1</Content><MsgDataId>22474x</MsgDataId><Idx>1</Idx><MsgId>9</MsgId>")
    assert isinstance(text, TextMessage) and (text.msg_data_id, text.idx) == (None, 1)
    assert text.unparsed == {"MsgDataId": "22474x"}
    assert msg("text", "<Content>fine</Content><MsgId>9</MsgId>").unparsed == {}


def test_unparsed_covers_flags_parts_and_lists_and_nested_parts_answer_for_themselves() -> None:
    card = event("user_get_card", "<IsGiveByFriend>maybe</IsGiveByFriend><CardId>c</CardId>")
    assert isinstance(card, CardEvent) and card.is_give_by_friend is None
    assert card.unparsed == {"IsGiveByFriend": "maybe"}
    pic = event("pic_weixin", "<SendPicsInfo><Count>two</Count><PicList>flat</PicList></SendPicsInfo>")
    assert isinstance(pic, PicEvent) and pic.send_pics_info is not None
    assert pic.unparsed == {}
    assert pic.send_pics_info.unparsed == {"Count": "two", "PicList": "flat"}
    scan = event("scancode_push", "<ScanCodeInfo>flat</ScanCodeInfo>")
    assert scan.unparsed == {"ScanCodeInfo": "flat"}


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"MsgType": {"nested": "x"}},
        {"MsgType": "event", "Event": ["a", "b"]},
        {"MsgType": "text", "Content": {"a": "b"}, "ToUserName": ["x", "y"], "CreateTime": {"x": "1"}},
        {"MsgType": "event", "Event": "pic_weixin", "SendPicsInfo": "flat", "EventKey": ""},
        {
            "MsgType": "event",
            "Event": "pic_weixin",
            "SendPicsInfo": {"PicList": {"item": ["", {"PicMd5Sum": "x"}]}},
        },
    ],
)
def test_odd_shapes_never_raise(raw: dict[str, Any]) -> None:
    m = parse_message(raw)
    assert isinstance(m, Message)
    assert isinstance(m.to_user_name, str) and isinstance(m.from_user_name, str)
    dedupe_key(m)


def test_odd_shapes_keep_what_is_well_formed() -> None:
    m = parse_message(
        {
            "MsgType": "event",
            "Event": "pic_weixin",
            "SendPicsInfo": {"PicList": {"item": ["", {"PicMd5Sum": "x"}]}},
        }
    )
    assert isinstance(m, PicEvent) and m.send_pics_info is not None
    assert [p.pic_md5_sum for p in m.send_pics_info.pic_list] == ["x"]
    garbled = parse_message({"MsgType": "text", "Content": {"a": "b"}, "ToUserName": ["x", "y"]})
    assert isinstance(garbled, TextMessage)
    assert (garbled.content, garbled.to_user_name) == (None, "")


def test_messages_are_immutable() -> None:
    m = event("pic_weixin", pics("aaa"))
    assert isinstance(m, PicEvent) and m.send_pics_info is not None
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.event_key = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.send_pics_info.count = 3  # type: ignore[misc]
    with pytest.raises(TypeError):
        m.raw["EventKey"] = "other"  # type: ignore[index]
    assert m.event_key == "6" and m.raw["EventKey"] == "6"


def test_messages_copy_pickle_and_turn_into_dicts_with_their_fields_still_read_only() -> None:
    m = event("pic_weixin", pics("aaa", "bbb"))
    for twin in (copy.copy(m), copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert twin == m and twin.send_pics_info == m.send_pics_info
        with pytest.raises(TypeError, match="read-only"):
            twin.raw["EventKey"] = "other"  # type: ignore[index]
    as_dict = dataclasses.asdict(m)
    assert as_dict["raw"] == dict(m.raw) and as_dict["event_key"] == "6"
    assert json.loads(json.dumps(as_dict))["raw"]["SendPicsInfo"]["Count"] == "2"
    for change in (lambda raw: raw.pop("EventKey"), lambda raw: raw.update(EventKey="x"), lambda raw: raw.clear(),
                   lambda raw: raw.setdefault("New", "x"), lambda raw: raw.popitem()):
        with pytest.raises(TypeError, match="read-only"):
            change(m.raw)
    with pytest.raises(TypeError, match="read-only"):
        del m.raw["EventKey"]  # type: ignore[attr-defined]
    editable = m.raw.copy()  # type: ignore[attr-defined]
    editable["EventKey"] = "other"
    assert m.raw["EventKey"] == "6"


def test_equal_bodies_give_equal_hashable_messages() -> None:
    first, second = event("pic_weixin", pics("aaa", "bbb")), event("pic_weixin", pics("aaa", "bbb"))
    assert first == second and hash(first) == hash(second)
    assert first != event("pic_weixin", pics("aaa"))
    assert "raw" not in repr(first)


def test_dedupe_key_of_a_message_is_its_msg_id_and_fingerprint() -> None:
    key = dedupe_key(msg("text", "<Content>a</Content><MsgId>1234567890123456</MsgId>"))
    assert key == "msg:1234567890123456:7e50f91d"  # pinned: another spelling splits retries across an upgrade
    retry = parse_message({**msg("text", "<Content>a</Content><MsgId>1234567890123456</MsgId>").raw,
                           "CreateTime": "1700000005"})
    assert dedupe_key(retry) == key
    other = dedupe_key(msg("text", "<Content>b</Content><MsgId>1234567890123456</MsgId>"))
    assert other != key and other.startswith("msg:1234567890123456:")


def test_dedupe_key_of_a_message_without_msg_id_uses_sender_time_and_type() -> None:
    key = dedupe_key(msg("miniprogrampage", "<Title>t</Title>"))
    assert key == "msg:o_follower:1700000000:miniprogrampage:e50b39ca"


def test_dedupe_key_of_events() -> None:
    assert dedupe_key(event("unsubscribe")) == "event:o_follower:1700000000:unsubscribe"
    assert dedupe_key(event("subscribe", "<EventKey></EventKey>")) == "event:o_follower:1700000000:subscribe"
    assert dedupe_key(event("CLICK", "<EventKey>K1</EventKey>")) == "event:o_follower:1700000000:CLICK:K1"
    first = event("TEMPLATESENDJOBFINISH", "<MsgID>1</MsgID><Status>success</Status>")
    second = event("TEMPLATESENDJOBFINISH", "<MsgID>2</MsgID><Status>success</Status>")
    assert dedupe_key(first) == "event:o_follower:1700000000:TEMPLATESENDJOBFINISH:1"
    assert dedupe_key(first) != dedupe_key(second)


def test_retries_share_a_key_and_different_pushes_do_not() -> None:
    click = "<EventKey>K1</EventKey>"
    assert dedupe_key(event("CLICK", click)) == dedupe_key(event("CLICK", click))
    assert dedupe_key(event("CLICK", click)) != dedupe_key(event("CLICK", "<EventKey>K2</EventKey>"))
    assert dedupe_key(event("CLICK", click)) != dedupe_key(event("VIEW", click))


def test_everything_exported_exists_and_every_class_is_exported() -> None:
    exported = set(messages.__all__)
    assert all(hasattr(messages, name) for name in exported)
    public_classes = {
        name
        for name, value in vars(messages).items()
        if isinstance(value, type) and dataclasses.is_dataclass(value)
    }
    assert public_classes - {n for n in public_classes if n.startswith("_")} <= exported


def test_a_message_class_must_be_buildable_without_its_init() -> None:
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Bare(Message):
        required: str

    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Derived(Message):
        def __post_init__(self) -> None: ...

    with pytest.raises(TypeError, match="give required a plain default"):
        messages._table(Bare)
    with pytest.raises(TypeError, match="built without __init__"):
        messages._table(Derived)


def test_each_order_of_tags_gets_a_builder_of_its_own_up_to_a_bound() -> None:
    """WeChat writes a kind of message the same way every time: its order is compiled once. A sender that varies
    the order cannot grow the cache past ``_SHAPES_MAX`` per class, and what comes after is built tag by tag."""
    table = messages._table(messages.LinkMessage)
    table.shapes.clear()
    base = {"ToUserName": "gh_1", "FromUserName": "o_1", "CreateTime": "1", "MsgType": "link", "Title": "t",
            "MsgId": "9", "Url": "https://example.com/"}
    assert parse_message(base) == parse_message(dict(base))
    assert list(table.shapes) == [tuple(base)]
    extra = [f"Extra{i}" for i in range(messages._SHAPES_MAX + 5)]
    for i, tag in enumerate(extra):
        msg = parse_message({**base, tag: str(i), "MsgId": str(i)})
        assert (msg.msg_id, msg.url, msg.raw[tag]) == (i, "https://example.com/", str(i))
    assert len(table.shapes) == messages._SHAPES_MAX
    late = {**base, "Description": "d", extra[-1]: "x", "MsgID": "12"}  # a second spelling of MsgId: the last wins
    assert tuple(late) not in table.shapes
    msg = parse_message(late)
    assert (msg.description, msg.msg_id, msg.title) == ("d", 12, "t")
