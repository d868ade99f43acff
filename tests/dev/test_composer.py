"""The console's composer: its table holds every message and event type wxhook parses, each entry's fields build a
push its class reads whole, and over a real uvicorn each type reaches a bot as that type, in the modes the bot
takes (plaintext refused by a safe-mode bot, with the reason, before anything is pushed); a passive reply close
to the deadline is flagged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from wxhook import Event, Message
from wxhook.dev._actions import ActionError, Media, compose
from wxhook.dev._kinds import GROUPS, KINDS, Field, Kind
from wxhook.messages import _EVENT_TYPES, _MESSAGE_TYPES, _snake, parse_message
from wxhook.protocol import render_message
from wxhook.testing import BotClient, serve
from wxhook.xml import parse_xml

from .console_bot import naming_bot

WECHAT = BotClient("http://127.0.0.1:9/", token="t")  # only its message(): the common fields


class Stored:
    """Media kept in a list, served at console/media/{id}: ``media`` for compose."""

    def __init__(self) -> None:
        self.kinds: list[tuple[str, str]] = []
        self.media = Media(self._add, lambda media_id: f"http://console/media/{media_id}")

    def _add(self, kind: str, content: bytes, content_type: str) -> str:
        self.kinds.append((kind, content_type))
        return f"MEDIA{len(self.kinds)}"


def parsed(fields: dict[str, Any]) -> Message:
    return parse_message(parse_xml(render_message(fields).encode()))


def walk(msg: Message, path: str) -> Any:
    """The typed value a tag path lands in: a list's entry is the one element of its tuple."""
    value: Any = msg
    for segment in path.split("/"):
        if isinstance(value, tuple):  # the wrapper (item, List) or the element repeated under its own name
            (value,) = value
            continue
        value = getattr(value, _snake(segment))
    return value[0] if isinstance(value, tuple) else value


def test_the_table_holds_every_message_and_event_type_wxhook_parses() -> None:
    assert {kind.msg_type for kind in KINDS.values() if kind.event is None} == set(_MESSAGE_TYPES)
    assert {kind.event for kind in KINDS.values() if kind.event is not None} == set(_EVENT_TYPES)
    assert [kind.group for kind in KINDS.values()] == sorted((kind.group for kind in KINDS.values()),
                                                            key=list(GROUPS).index), "listed group by group"
    assert {kind.group for kind in KINDS.values()} == set(GROUPS)
    for kind in KINDS.values():
        assert len({field.tag for field in kind.fields}) == len(kind.fields), kind.name


def sample(field: Field) -> str:
    """What a field starts with, or for one that starts empty (and is not made afresh), something to send."""
    return field.default or ("" if field.fresh else "7" if field.number else "x")


def expected(field: Field, text: str) -> object:
    if field.number:
        return float(text)
    return text


@pytest.mark.parametrize("kind", KINDS.values(), ids=lambda kind: kind.name)
def test_each_entry_builds_a_push_its_class_reads_whole(kind: Kind) -> None:
    media = Stored()
    given = {field.tag: sample(field) for field in kind.fields if not field.default and not field.fresh}
    msg = parsed(compose(WECHAT, "o_alice", kind, given, media.media))
    assert type(msg) is (_EVENT_TYPES[kind.event] if kind.event else _MESSAGE_TYPES[kind.msg_type])
    assert msg.openid == "o_alice"
    assert (msg.event if isinstance(msg, Event) else None) == kind.event
    assert msg.unparsed == {}
    for field in kind.fields:
        value = walk(msg, field.tag)
        assert value not in (None, ""), f"{field.tag} did not land in its typed field"
        if field.fresh is None and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            assert (float(value) if field.number else value) == expected(field, sample(field)), field.tag
    assert len(media.kinds) == len({field.fresh for field in kind.fields if field.fresh in ("image", "voice",
                                                                                            "video", "thumb")})


def test_fresh_values_made_for_each_send() -> None:
    media = Stored()
    image = parsed(compose(WECHAT, "o_alice", KINDS["image"], {}, media.media))
    assert media.kinds == [("image", "image/png")], "one picture, both fields name it"
    assert (image.raw["MediaId"], image.raw["PicUrl"]) == ("MEDIA1", "http://console/media/MEDIA1")
    given = parsed(compose(WECHAT, "o_alice", KINDS["image"], {"MediaId": "M0"}, media.media))
    assert given.raw["PicUrl"] == "http://console/media/M0" and len(media.kinds) == 1
    card = parsed(compose(WECHAT, "o_alice", KINDS["miniprogrampage"], {}, media.media))
    assert media.kinds[-1] == ("thumb", "image/png") and card.raw["ThumbUrl"].endswith(card.raw["ThumbMediaId"])
    voice = parsed(compose(WECHAT, "o_alice", KINDS["voice"], {}, media.media))
    assert media.kinds[-1] == ("voice", "audio/amr") and voice.raw["Recognition"] == "明天广州天气怎么样？"
    by_qr = parsed(compose(WECHAT, "o_alice", KINDS["subscribe"], {}, media.media))
    assert by_qr.raw["Ticket"].startswith("gQ") and by_qr.raw["EventKey"] == "qrscene_42"
    plain = parsed(compose(WECHAT, "o_alice", KINDS["subscribe"], {"EventKey": ""}, media.media))
    assert "EventKey" not in plain.raw and "Ticket" not in plain.raw
    user = parsed(compose(WECHAT, "o_bob", KINDS["user_info_modified"], {}, media.media))
    assert user.raw["OpenID"] == "o_bob"


def test_a_field_given_replaces_its_default_and_an_empty_one_is_left_out() -> None:
    given = {"EventKey": "", "SendLocationInfo/Label": "<b>上海</b>", "SendLocationInfo/Scale": 3}
    fields = compose(WECHAT, "o_a", KINDS["location_select"], given, Stored().media)
    assert "EventKey" not in fields
    assert fields["SendLocationInfo"] == {"Location_X": 23.134521, "Location_Y": 113.358803, "Scale": 3,
                                          "Label": "<b>上海</b>", "Poiname": "珠江新城"}
    assert "<Label><![CDATA[<b>上海</b>]]></Label>" in render_message(fields)


@pytest.mark.parametrize(("given", "error"), [
    ({"Latitude": "north"}, "'LOCATION': Latitude is a number, not 'north'"),
    ({"Latitude": "nan"}, "Latitude is a number"),
    ({"Latitude": "1e999"}, "Latitude is a number"),
    ({"Latitude": None}, "Latitude takes text or a number, not NoneType"),
    ({"Altitude": "1"}, "'LOCATION' has no field 'Altitude': its fields are Latitude, Longitude, Precision"),
])
def test_what_a_field_takes(given: dict[str, Any], error: str) -> None:
    with pytest.raises(ActionError, match=error):
        compose(WECHAT, "o_a", KINDS["LOCATION"], given, Stored().media)


@pytest.fixture
def console() -> Iterator[str]:
    from wxhook.dev import create_console

    with serve(create_console(naming_bot())) as url:
        yield url


def send(url: str, **action: Any) -> httpx.Response:
    return httpx.post(url + "api/send", json={"openid": "o_alice", "mode": "safe", **action}, timeout=10)


def test_every_type_reaches_the_bot_as_that_type(console: str) -> None:
    kinds = httpx.get(console + "api/info").json()["composer"]["kinds"]
    assert [kind["name"] for kind in kinds] == list(KINDS)
    for kind in kinds:
        fields = {field["tag"]: "7" for field in kind["fields"] if field["number"] and not field["default"]}
        answer = send(console, kind="compose", type=kind["name"], fields=fields)
        assert answer.status_code == 200, answer.text
        cls = _EVENT_TYPES[kind["event"]] if kind["event"] else _MESSAGE_TYPES[kind["msg_type"]]
        assert answer.json()["reply"]["bubble"] == {"type": "text", "content": cls.__name__}, kind["name"]


def test_a_safe_mode_bot_is_offered_no_plaintext_and_takes_compatibility_mode(console: str) -> None:
    (account,) = httpx.get(console + "api/info").json()["accounts"]
    assert account["modes"] == ["compat", "safe"]
    refused = send(console, kind="text", text="hi", mode="plain")
    assert refused.status_code == 400
    assert "the bot refuses plaintext" in refused.json()["error"] and "'compat'" in refused.json()["error"]
    both = send(console, kind="text", text="both ways", mode="compat")
    assert both.status_code == 200, both.text
    request, reply = both.json()["request"], both.json()["reply"]
    assert (request["mode"], request["encrypted"]) == ("compat", True)
    assert "<Content><![CDATA[both ways]]></Content>" in request["wire"] and "<Encrypt>" in request["wire"]
    assert reply["encrypted"] and reply["bubble"] == {"type": "text", "content": "TextMessage"}
    sealed = send(console, kind="text", text="sealed").json()["request"]
    assert "<Encrypt>" in sealed["wire"] and "sealed" not in sealed["wire"] and sealed["mode"] == "safe"


def test_a_passive_reply_close_to_the_deadline_is_flagged(console: str) -> None:
    almost = send(console, kind="text", text="almost").json()["reply"]
    assert almost["bubble"]["content"] == "just in time" and almost["deadline"] == 1.0
    assert almost["seconds"] >= 0.8 and almost["close_to_deadline"] and not almost["past_deadline"]
    quick = send(console, kind="text", text="quick").json()["reply"]
    assert quick["bubble"]["content"] == "TextMessage"
    assert not quick["close_to_deadline"] and not quick["past_deadline"]
    late = send(console, kind="text", text="late").json()["reply"]
    assert late["empty"] and late["past_deadline"] and not late["close_to_deadline"], "the API brings the reply"


def test_a_timeout_reply_is_past_the_deadline_not_close_to_it() -> None:
    from wxhook.dev import create_console

    bot = naming_bot()
    bot.timeout_reply = "still thinking"
    with serve(create_console(bot)) as url:
        late = send(url, kind="text", text="late").json()["reply"]
    assert late["bubble"]["content"] == "still thinking"
    assert late["past_deadline"] and not late["close_to_deadline"]
