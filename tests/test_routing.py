import asyncio
import logging
import pydoc
import re
import threading
from typing import Any

import pytest

from wxhook import Bot, Context, Image, Message, Router, Text, parse_message
from wxhook.observe import follower_tag

BASE = {"ToUserName": "gh_account", "FromUserName": "o_follower", "CreateTime": "1700000000"}


def text(content: str) -> Message:
    return parse_message({**BASE, "MsgType": "text", "Content": content, "MsgId": "1"})


def event(name: str, key: str | None = None) -> Message:
    fields = {**BASE, "MsgType": "event", "Event": name}
    if key is not None:
        fields["EventKey"] = key
    return parse_message(fields)


def of(msg_type: str) -> Message:
    return parse_message({**BASE, "MsgType": msg_type, "MediaId": "m", "MsgId": "2"})


async def answer(bot: Bot, msg: Message) -> str | None:
    reply = await bot.handle(msg)
    assert reply is None or isinstance(reply, Text)
    return None if reply is None else reply.content


@pytest.fixture
def bot() -> Bot:
    return Bot(token="t")


async def test_text_precedence_does_not_follow_registration_order(bot: Bot) -> None:
    bot.on_default(lambda m: "default")
    bot.on_message(lambda m: "any message")
    bot.on_text(lambda m: "any text")
    bot.on_text(regex=r"^he(l+)o")(lambda m: "regex")
    bot.on_text(when=lambda m: m.content.endswith("!"))(lambda m: "predicate")
    bot.on_text("hello")(lambda m: "exact")
    bot.on_text(["hi", "hey"])(lambda m: "one of")

    assert await answer(bot, text("hello")) == "exact"
    assert await answer(bot, text("hey")) == "one of"
    assert await answer(bot, text("helllo there")) == "regex"
    assert await answer(bot, text("wow!")) == "predicate"
    assert await answer(bot, text("helllo!")) == "regex"  # both filtered: registration order
    assert await answer(bot, text("plain")) == "any text"
    assert await answer(bot, of("image")) == "any message"
    assert await answer(bot, event("subscribe")) == "default"


async def test_exact_keyword_with_predicate_falls_through_when_it_declines(bot: Bot) -> None:
    bot.on_text("vip", when=lambda m: m.openid == "o_boss")(lambda m: "welcome boss")
    bot.on_text(lambda m: "general")
    assert await answer(bot, text("vip")) == "general"


async def test_regex_match_reaches_the_handler(bot: Bot) -> None:
    @bot.on_text(regex=re.compile(r"order (\d+)"))
    def order(msg: Message, ctx: Context) -> str:
        assert ctx.match is not None
        return f"order #{ctx.match.group(1)} for {ctx.openid}"

    assert await answer(bot, text("where is order 42?")) == "order #42 for o_follower"


async def test_event_precedence(bot: Bot) -> None:
    bot.on_default(lambda m: "default")
    bot.on_event()(lambda m: "any event")
    bot.on_event("CLICK")(lambda m: "any click")
    bot.on_event("CLICK", key=re.compile(r"^V(\d+)"))(lambda m, ctx: f"pattern {ctx.match.group(1)}")
    bot.on_event("CLICK", key="V1001_TODAY_MUSIC")(lambda m: "exact key")
    bot.on_event("CLICK", key=["A", "B"])(lambda m: "one of keys")
    bot.on_event("subscribe")(lambda m: "welcome")

    assert await answer(bot, event("CLICK", "V1001_TODAY_MUSIC")) == "exact key"
    assert await answer(bot, event("CLICK", "B")) == "one of keys"
    assert await answer(bot, event("CLICK", "V2002")) == "pattern 2002"
    assert await answer(bot, event("CLICK", "other")) == "any click"
    assert await answer(bot, event("subscribe")) == "welcome"
    assert await answer(bot, event("VIEW", "https://example.com")) == "any event"
    assert await answer(bot, event("some_future_event")) == "any event"
    assert await answer(bot, text("x")) == "default"


async def test_bare_and_called_decorators_are_equivalent(bot: Bot) -> None:
    @bot.on_image
    def bare(msg: Message) -> Image:
        return Image(msg.media_id)  # type: ignore[attr-defined]

    @bot.on_voice()
    def called(msg: Message) -> str:
        return "voice"

    @bot.on_event
    def any_event(msg: Message) -> str:
        return "event"

    reply = await bot.handle(of("image"))
    assert isinstance(reply, Image) and reply.media_id == "m"
    assert await answer(bot, of("voice")) == "voice"
    assert await answer(bot, event("unsubscribe")) == "event"


async def test_each_message_type_decorator(bot: Bot) -> None:
    bot.on_video(lambda m: "video")
    bot.on_location(lambda m: "location")
    bot.on_link(lambda m: "link")
    assert await answer(bot, of("video")) == "video"
    assert await answer(bot, of("shortvideo")) == "video"
    assert await answer(bot, of("location")) == "location"
    assert await answer(bot, of("link")) == "link"
    assert await answer(bot, of("image")) is None


async def test_unknown_message_types_are_dispatched_by_name(bot: Bot) -> None:
    bot.on_message(lambda m: "any message")
    bot.on_message("miniprogrampage")(lambda m: f"page {m.raw['PagePath']}")
    page = parse_message({**BASE, "MsgType": "miniprogrampage", "PagePath": "pages/index", "MsgId": "5"})
    assert await answer(bot, page) == "page pages/index"
    assert await answer(bot, of("futuretype")) == "any message"
    with pytest.raises(ValueError, match="on_event"):
        bot.on_message("event")


async def test_publish_event_aliases(bot: Bot) -> None:
    bot.on_event("PUBLISHJOBFINISH")(lambda m: f"published via {m.event}")
    assert await answer(bot, event("PUBLISHJOBFINISH")) == "published via PUBLISHJOBFINISH"
    assert await answer(bot, event("FREEPUBLISHJOBFINISH")) == "published via FREEPUBLISHJOBFINISH"
    bot.on_event("MASSSENDJOBFINISH")(lambda m: "mass send result")
    publish_as_mass = parse_message(
        {**BASE, "MsgType": "event", "Event": "MASSSENDJOBFINISH", "PublishEventInfo": {"publish_id": "7"}}
    )
    assert await answer(bot, publish_as_mass) == "published via MASSSENDJOBFINISH"
    assert await answer(bot, event("MASSSENDJOBFINISH")) == "mass send result"


@pytest.mark.parametrize(
    ("wrong", "right"),
    [("click", "CLICK"), ("scan", "SCAN"), ("SUBSCRIBE", "subscribe"), ("Subscribe", "subscribe"),
     ("unSubscribe", "unsubscribe"), ("Location_Select", "location_select"), ("wificonnected", "WifiConnected"),
     ("POI_CHECK_NOTIFY", "poi_check_notify")],
)  # fmt: skip
def test_event_names_in_the_wrong_case_are_refused(bot: Bot, wrong: str, right: str) -> None:
    with pytest.raises(ValueError, match=f"sends this event as '{right}'"):
        bot.on_event(wrong)
    with pytest.raises(ValueError, match=f"sends this event as '{right}'"):  # never right, whatever is allowed
        bot.on_event(wrong, allow_unknown=True)


@pytest.mark.parametrize(("typo", "guess"), [("subscibe", "did you mean 'subscribe' or 'unsubscribe'"),
                                             ("clik", "did you mean 'CLICK'"),
                                             ("TEMPLATESENDJOBFINISHED",
                                              "did you mean 'TEMPLATESENDJOBFINISH' or 'MASSSENDJOBFINISH'")])
def test_misspelt_event_names_are_refused_with_the_closest_known(bot: Bot, typo: str, guess: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"on_event({typo!r}): no event of that name that wxhook knows; "
                                                   f"{guess}? For an event WeChat added that wxhook does not list "
                                                   f"yet: on_event({typo!r}, allow_unknown=True)")):
        bot.on_event(typo)


async def test_an_event_wxhook_does_not_list_is_taken_when_allowed(bot: Bot) -> None:
    with pytest.raises(ValueError, match="no event of that name that wxhook knows; For an event"):
        bot.on_event("weapp_audit_success")
    bot.on_event("weapp_audit_success", allow_unknown=True)(lambda e: f"audited {e.raw['SuccTime']}")
    audit = parse_message({**BASE, "MsgType": "event", "Event": "weapp_audit_success", "SuccTime": "1700000001"})
    assert await answer(bot, audit) == "audited 1700000001"
    for shape in ("weapp-audit", "Weapp_Audit", "1st_event"):
        with pytest.raises(ValueError, match="WeChat names events in lower case with underscores"):
            bot.on_event(shape, allow_unknown=True)


def test_a_handler_must_take_the_message_and_at_most_the_context(bot: Bot) -> None:
    def three(msg: Message, ctx: Context, extra: object) -> None: ...
    def none() -> None: ...
    def keyword_only(*, msg: Message) -> None: ...

    for handler, parameters in ((three, "msg, ctx, extra"), (none, ""), (keyword_only, r"\*, msg")):
        with pytest.raises(TypeError, match=rf"handler .*\.{handler.__name__}\({parameters}\) cannot be called as "
                                            r"h\(msg\) or h\(msg, ctx\): a handler takes the message"):
            bot.on_text(handler)
    bot.on_text(lambda msg, ctx, extra=None: None)
    bot.on_text(lambda *args: None)

    class Callable:
        def __call__(self, msg: Message) -> str:
            return "called"

    bot.on_text(Callable())


@pytest.mark.parametrize("seconds", [0, -1, 4.9, 8])
def test_a_deadline_wechat_would_not_wait_for_is_refused(seconds: float) -> None:
    message = f"must be more than 0 and at most 4.8 seconds, got {seconds}: WeChat gives up on a push after 5 s"
    with pytest.raises(ValueError, match=re.escape(f"deadline {message}")):
        Bot(token="t", deadline=seconds)
    with pytest.raises(ValueError, match=re.escape(f"deadline= {message}")):
        Bot(token="t").on_text(deadline=seconds)
    assert Bot(token="t", deadline=4.8).deadline == 4.8


@pytest.mark.parametrize(("wrong", "right"), [("File", "file"), ("DEVICE_TEXT", "device_text"), ("Event", "event")])
def test_message_types_in_the_wrong_case_are_refused(bot: Bot, wrong: str, right: str) -> None:
    with pytest.raises(ValueError, match=f"as '{right}'|events have on_event"):
        bot.on_message(wrong)


async def test_a_push_spelled_in_another_case_reaches_the_handler_of_wechats_spelling(bot: Bot) -> None:
    bot.on_event("SCAN")(lambda m: f"scan {m.event_key}")
    bot.on_event("SCAN", key="vip")(lambda m: "scan vip")
    bot.on_event("WifiConnected")(lambda m: f"wifi {m.shop_id}")
    bot.on_message("file")(lambda m: f"file {m.title}")
    assert await answer(bot, event("scan", "12")) == "scan 12"
    assert await answer(bot, event("Scan", "vip")) == "scan vip"
    assert await answer(bot, parse_message({**BASE, "MsgType": "Event", "Event": "WIFICONNECTED", "ShopId": "9"})) == (
        "wifi 9")
    assert await answer(bot, parse_message({**BASE, "MsgType": "File", "Title": "a.pdf"})) == "file a.pdf"


def test_registration_errors(bot: Bot) -> None:
    with pytest.raises(TypeError, match="not both"):
        bot.on_text("a", regex="b")
    with pytest.raises(TypeError, match="event name"):
        bot.on_event(key="K")
    with pytest.raises(ValueError, match="deadline"):
        bot.on_text(deadline=0)
    with pytest.raises(TypeError, match=r"middleware .* must be an async function"):
        bot.middleware(lambda msg, call_next: None)


async def test_routers_compose_across_modules_in_registration_order(bot: Bot) -> None:
    shop, support = Router(), Router()
    support.on_text(regex="order")(lambda m: "support")
    shop.on_text(regex="order")(lambda m: "shop")  # registered later: loses to support
    bot.include(shop)
    bot.include(support)
    shop.on_text("menu")(lambda m: "shop menu")  # registered after include: still seen
    nested = Router()
    support.include(nested)
    nested.on_event("subscribe")(lambda m: "nested welcome")

    assert await answer(bot, text("my order")) == "support"
    assert await answer(bot, text("menu")) == "shop menu"
    assert await answer(bot, event("subscribe")) == "nested welcome"
    with pytest.raises(ValueError, match="cannot be included"):
        nested.include(bot)


async def test_exact_lookup_does_not_scan_other_handlers(bot: Bot) -> None:
    checked: list[str] = []

    def register(i: int) -> None:
        bot.on_text(f"k{i}", when=lambda m: checked.append(f"k{i}") or True)(lambda m: f"v{i}")

    for i in range(2000):
        register(i)
    assert await answer(bot, text("k1999")) == "v1999"
    assert checked == ["k1999"]


async def test_plain_handlers_run_in_a_thread_and_async_ones_on_the_loop(bot: Bot) -> None:
    loop_thread = threading.get_ident()
    seen: dict[str, int] = {}

    @bot.on_text("sync")
    def sync_handler(msg: Message) -> str:
        seen["sync"] = threading.get_ident()
        return "s"

    @bot.on_text("async")
    async def async_handler(msg: Message) -> str:
        seen["async"] = threading.get_ident()
        return "a"

    await asyncio.gather(bot.handle(text("sync")), bot.handle(text("async")))
    assert seen["sync"] != loop_thread
    assert seen["async"] == loop_thread


async def test_context_is_passed_only_to_handlers_that_ask(bot: Bot) -> None:
    received: list[Any] = []
    bot.on_text("one")(lambda msg: received.append(("one", msg)))
    bot.on_text("two")(lambda msg, ctx: received.append(("two", ctx)))
    await bot.handle(text("one"))
    await bot.handle(text("two"))
    assert received[0][1].content == "one"
    ctx = received[1][1]
    assert isinstance(ctx, Context) and ctx.bot is bot and ctx.message.content == "two"


async def test_middleware_wraps_dispatch_outermost_first(bot: Bot) -> None:
    trail: list[str] = []

    @bot.middleware
    async def outer(msg: Message, call_next: Any) -> Any:
        trail.append("outer in")
        reply = await call_next(msg)
        trail.append("outer out")
        return Text(reply.content.upper()) if reply else reply

    @bot.middleware
    async def blocklist(msg: Message, ctx: Context, call_next: Any) -> Any:
        trail.append("block in")
        if ctx.openid == "o_blocked":
            return None
        return await call_next(msg)

    bot.on_text(lambda m: trail.append("handler") or f"echo {m.content}")
    assert await answer(bot, text("hi")) == "ECHO HI"
    assert trail == ["outer in", "block in", "handler", "outer out"]
    blocked = parse_message({**BASE, "FromUserName": "o_blocked", "MsgType": "text", "Content": "x", "MsgId": "3"})
    trail.clear()
    assert await answer(bot, blocked) is None
    assert "handler" not in trail


async def test_failing_handler_is_logged_and_answered_with_nothing(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    @bot.on_text
    def broken(msg: Message) -> str:
        raise RuntimeError("database down")

    with caplog.at_level(logging.ERROR, logger="wxhook"):
        assert await bot.handle(text("x")) is None
    assert "database down" in caplog.text and "Traceback" in caplog.text


async def test_on_error_turns_the_exception_into_a_reply(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    bot.on_text(lambda m: 1 / 0)

    @bot.on_error
    def first(exc: Exception, msg: Message) -> str:
        raise LookupError("error handler broken too")

    @bot.on_error
    async def second(exc: Exception, msg: Message, ctx: Context) -> str:
        return f"sorry {ctx.openid}: {type(exc).__name__}"

    with caplog.at_level(logging.ERROR, logger="wxhook"):
        assert await answer(bot, text("x")) == "sorry o_follower: ZeroDivisionError"
    assert "error handler broken too" in caplog.text


async def test_a_bad_return_value_goes_through_error_handling(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    """The error names the function that returned it (its traceback holds only wxhook's frames), and its line
    shows the follower hashed, as the message log does."""
    @bot.on_text("dict")
    def returns_a_dict(msg: Message) -> object:
        return {"not": "a reply"}

    @bot.middleware
    async def counts(msg: Message, call_next: Any) -> object:
        reply = await call_next(msg)
        return 42 if msg.content == "count" else reply  # type: ignore[attr-defined]

    @bot.on_error
    def oops(exc: Exception, msg: Message) -> object:
        return b"bytes"

    with caplog.at_level(logging.ERROR, logger="wxhook"):
        assert await bot.handle(text("dict")) is None
        assert await bot.handle(text("count")) is None
    errors = [(r.getMessage(), str(r.exc_info[1]) if r.exc_info else "") for r in caplog.records]
    tag = follower_tag("o_follower")
    assert errors[0][0] == f"answering a text from user={tag} failed ({returns_a_dict.__qualname__})"
    assert errors[0][1] == (f"handler {returns_a_dict.__qualname__} returned dict; return a str, None, or one of Text, "
                            "Image, Voice, Video, Music, News, TransferCustomerService")
    assert errors[1] == (f"on_error handler {oops.__qualname__} failed", errors[1][1])
    assert errors[1][1].startswith(f"on_error handler {oops.__qualname__} returned bytes;")
    assert errors[2] == (f"answering a text from user={tag} failed (no handler)", errors[2][1])
    assert errors[2][1].startswith(f"middleware {counts.__qualname__} returned int;")
    assert "o_follower" not in caplog.text


def test_every_decorator_takes_queue() -> None:
    """``queue=True`` on each decorator marks its route for the job queue; unmarked routes stay in-process."""
    router = Router()
    router.on_text("report", queue=True)(lambda m: None)
    router.on_text(regex=r"^sum \d+$", queue=True)(lambda m: None)
    router.on_image(queue=True)(lambda m: None)
    router.on_voice(queue=True)(lambda m: None)
    router.on_video(queue=True)(lambda m: None)
    router.on_location(queue=True)(lambda m: None)
    router.on_link(queue=True)(lambda m: None)
    router.on_message("miniprogrampage", queue=True)(lambda m: None)
    router.on_event("CLICK", key="K", queue=True)(lambda m: None)
    router.on_event(queue=True)(lambda m: None)
    router.on_default(queue=True)(lambda m: None)
    router.on_text(lambda m: None)
    queued = [text("report"), text("sum 3"), of("image"), of("voice"), of("video"), of("shortvideo"),
              of("location"), of("link"), of("miniprogrampage"), event("CLICK", "K"), event("VIEW", "u"),
              parse_message({"MsgType": "unheard_of", "FromUserName": "o", "ToUserName": "g"})]
    for msg in queued:
        found = router.resolve(msg)
        assert found is not None and found[0].queue, msg
    found = router.resolve(text("hello"))
    assert found is not None and not found[0].queue


def send_report(openid: str) -> None: ...


def archive(openid: str) -> None: ...


def test_jobs_are_registered_by_name_across_included_routers(bot: Bot) -> None:
    """``@router.job`` registers what ``ctx.enqueue`` may queue and a worker may run: under ``module:qualname``
    or a name of its own, flattened through ``include`` (later registrations included), never two functions
    under one name."""
    reports = Router()
    reports.job(send_report)
    bot.include(reports)
    reports.job(name="reports.archive")(archive)
    assert dict(bot.jobs) == {"tests.test_routing:send_report": send_report, "reports.archive": archive}
    assert bot.resolve_job(send_report) == ("tests.test_routing:send_report", send_report)
    assert bot.resolve_job("reports.archive") == ("reports.archive", archive)
    assert dict(reports.jobs) == dict(bot.jobs) and dict(Router().jobs) == {}
    with pytest.raises(TypeError, match=r"print is not a registered job; register it with @bot\.job"):
        bot.resolve_job(print)
    with pytest.raises(TypeError, match="no job is registered as 'os:system'"):
        bot.resolve_job("os:system")

    with pytest.raises(ValueError, match=r"two jobs are registered as 'reports.archive' \(archive and send_report\)"):
        bot.job(name="reports.archive")(send_report)
    clashing = Router()
    clashing.job(name="reports.archive")(send_report)
    with pytest.raises(ValueError, match="give one another name"):
        bot.include(clashing)
    assert bot.resolve_job("reports.archive")[1] is archive
    bot.job(send_report)  # the same function under the same name again: nothing changes

    with pytest.raises(TypeError, match=r"no name that is the same in the web process and the worker.*name="):
        bot.job(lambda: None)
    with pytest.raises(TypeError, match="non-empty string"):
        bot.job(name="")


def test_help_shows_each_type_decorator_as_a_method_with_its_doc() -> None:
    shown = pydoc.render_doc(Bot, renderer=pydoc.plaintext)
    assert "_OnType" not in shown
    for name, doc in (("on_image", "Image messages."), ("on_miniprogrampage", "Mini Program cards a follower sends")):
        line = next(line for line in shown.splitlines() if f"|  {name}(" in line)
        assert line.endswith(f"{name}(router: 'Router', func: 'Any' = None, /, *, when: 'Predicate | None' = None, "
                             "deadline: 'float | None' = None, queue: 'bool' = False, accounts: 'Appids | None' = None)"
                             " -> 'Any'")
        assert doc in shown.split(line, 1)[1].splitlines()[1]


async def test_a_type_decorator_called_on_the_class_registers_as_a_method_would(bot: Bot) -> None:
    Router.on_image(bot, lambda m: "an image")
    Bot.on_voice(bot, when=lambda m: True)(lambda m: "a voice")
    assert await answer(bot, of("image")) == "an image"
    assert await answer(bot, of("voice")) == "a voice"
