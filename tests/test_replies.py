import pytest

from wxhook.replies import (
    Article,
    Image,
    Music,
    News,
    Text,
    TransferCustomerService,
    Video,
    Voice,
    coerce_reply,
)
from wxhook.xml import parse_xml


def rendered(reply: object) -> dict:
    coerced = coerce_reply(reply)
    assert coerced is not None
    fields = parse_xml(coerced.render("o_follower", "gh_account", 1700000000).encode())
    assert fields["ToUserName"] == "o_follower"
    assert fields["FromUserName"] == "gh_account"
    assert fields["CreateTime"] == "1700000000"
    return fields


def test_str_becomes_text_and_none_means_no_reply() -> None:
    assert rendered("hello") == rendered(Text("hello"))
    assert rendered("hello")["MsgType"] == "text"
    assert rendered("hello")["Content"] == "hello"
    assert coerce_reply(None) is None


def test_cdata_terminator_in_content_round_trips() -> None:
    tricky = "a]]>b<xml>&amp;]]]]>中文"
    assert rendered(tricky)["Content"] == tricky


def test_media_replies() -> None:
    image = rendered(Image("m1"))
    assert (image["MsgType"], image["Image"]) == ("image", {"MediaId": "m1"})
    assert rendered(Voice("m2"))["Voice"] == {"MediaId": "m2"}
    assert rendered(Video("m3", "T", "D"))["Video"] == {"MediaId": "m3", "Title": "T", "Description": "D"}
    music = rendered(Music("T", "D", "http://m", "http://hq", "thumb"))
    assert music["MsgType"] == "music"
    assert music["Music"] == {
        "Title": "T", "Description": "D", "MusicUrl": "http://m", "HQMusicUrl": "http://hq", "ThumbMediaId": "thumb"
    }


def test_news() -> None:
    news = rendered(News([Article("A", "a", "https://a", "https://a.png"), Article("B", url="https://b")]))
    assert news["MsgType"] == "news"
    assert news["ArticleCount"] == "2"
    assert news["Articles"]["item"][0] == {
        "Title": "A", "Description": "a", "PicUrl": "https://a.png", "Url": "https://a"
    }
    assert news["Articles"]["item"][1]["Url"] == "https://b"


@pytest.mark.parametrize("count", [0, 9])
def test_news_article_count_is_checked(count: int) -> None:
    with pytest.raises(ValueError, match="1 to 8"):
        News([Article("x")] * count)


def test_transfer_customer_service() -> None:
    assert rendered(TransferCustomerService())["MsgType"] == "transfer_customer_service"
    assert "TransInfo" not in rendered(TransferCustomerService())
    assert rendered(TransferCustomerService("kf@test"))["TransInfo"] == {"KfAccount": "kf@test"}
    with pytest.raises(TypeError, match="passive"):
        TransferCustomerService().custom_message()


def test_custom_message_forms() -> None:
    assert Text("hi").custom_message() == ("text", {"content": "hi"})
    assert Image("m").custom_message() == ("image", {"media_id": "m"})
    assert Voice("m").custom_message() == ("voice", {"media_id": "m"})
    assert Video("m", "t", thumb_media_id="th").custom_message() == (
        "video", {"media_id": "m", "thumb_media_id": "th", "title": "t"}
    )
    assert Music("t", music_url="u", thumb_media_id="th").custom_message() == (
        "music", {"title": "t", "musicurl": "u", "thumb_media_id": "th"}
    )
    assert News([Article("A", "a", "https://a", "https://p")]).custom_message() == (
        "news", {"articles": [{"title": "A", "description": "a", "url": "https://a", "picurl": "https://p"}]}
    )


def test_unsupported_return_value_names_the_choices() -> None:
    with pytest.raises(TypeError, match="return a str, None, or one of Text"):
        coerce_reply({"content": "x"})


def test_control_characters_that_xml_forbids_are_dropped() -> None:
    assert rendered("a\x00b\x1fc\nd")["Content"] == "abc\nd"
