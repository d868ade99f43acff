"""The HTTP surface: hostile requests to a bot driven as a raw ASGI app (profiles: ``tests/fuzz/__init__.py``).

Whatever arrives, the answer is 200, 400, 403, 405 or 413, complete, in time, and nothing is logged as an error
(the bot answers "success" to a failure it did not expect, which would hide a bug from the status alone).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.conftest import AES_KEY, APPID, TOKEN
from tests.fuzz.asgi import (
    ENVELOPE,
    STATUSES,
    Exchange,
    Request,
    call,
    encode_query,
    envelope_body,
    make_bot,
    nonce,
    signed_pairs,
)
from tests.fuzz.conftest import examples
from tests.fuzz.strategies import as_parsed, base64_text, message_xml, wire_messages, xml_documents
from wxhook import Bot
from wxhook.crypto import Envelope, decode_aes_key
from wxhook.protocol import open_reply
from wxhook.xml import parse_xml

_OTHER_KEY = Envelope(os.urandom(32), APPID)
_OTHER_APPID = Envelope(decode_aes_key(AES_KEY), "wx_another_account")


@pytest.fixture(params=["transition", "safe", "plain"], scope="module")
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def bot(kind: str, loop: asyncio.AbstractEventLoop) -> Iterator[Bot]:
    bot = make_bot(kind)
    yield bot
    loop.run_until_complete(bot.shutdown())


def run(loop: asyncio.AbstractEventLoop, bot: Bot, request: Request) -> Exchange:
    exchange = loop.run_until_complete(call(bot, request))
    assert exchange.status in STATUSES, exchange
    assert not exchange.errors, exchange.errors
    return exchange


# --- the parts of a request ---------------------------------------------------------------------------------

def fresh_timestamp(skew: int = 0) -> str:
    return str(int(time.time()) + skew)


T = TypeVar("T")


def pick(draw: st.DrawFn, *choices: tuple[int, T]) -> T:
    """One of the choices, by weight: sampled_from and one_of are unweighted, and the interesting requests
    (POST, validly signed, fresh) must be common for the bot to get past its first checks. Hypothesis
    favours small integers, so the first choice comes up more often than its weight says: put the main one first."""
    roll = draw(st.integers(0, sum(weight for weight, _ in choices) - 1))
    for weight, choice in choices:
        if roll < weight:
            return choice
        roll -= weight
    raise AssertionError("unreachable: the roll is below the total weight")


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    return draw(pick(
        draw,
        (6, st.integers(-400, 400).map(fresh_timestamp)),
        (2, st.integers(1, 6000).map(lambda n: "9" * n)),
        (1, st.sampled_from(["", "abc", "1e9", " 17", "-1", "١٢٣", "0" * 30])),
        (1, st.text(max_size=12)),
    ))
_SEALED = st.one_of(
    st.builds(lambda fields: ENVELOPE.seal(message_xml(fields)), wire_messages()),
    st.builds(ENVELOPE.seal, st.binary(max_size=300)),
    st.builds(lambda fields: _OTHER_APPID.seal(message_xml(fields)), wire_messages()),
    st.builds(lambda fields: _OTHER_KEY.seal(message_xml(fields)), wire_messages()),
    base64_text,
)
# Long runs of what the envelope scan looks for: whitespace, base64, CDATA markers, tags.
_RUNS = st.lists(
    st.tuples(st.sampled_from([" ", "\n", "A", "<Encrypt>", "<Encrypt> ", "<![CDATA[", "]]>", "</Encrypt>", "<"]),
              st.integers(1, 30_000)),
    min_size=1, max_size=4,
).map(lambda runs: "".join(token * count for token, count in runs).encode())


@st.composite
def bodies(draw: st.DrawFn) -> tuple[bytes, str | None]:
    """A body and the Encrypt value it carries (None when it carries none)."""
    kind = pick(draw, (3, "message"), (3, "envelope"), (1, "runs"), (1, "xml"), (1, "bytes"))
    if kind == "bytes":
        return draw(st.binary(max_size=500)), None
    if kind == "xml":
        return draw(xml_documents())[0], None
    if kind == "message":
        return message_xml(draw(wire_messages())), None
    if kind == "runs":
        return draw(_RUNS), None
    encrypted = draw(_SEALED)
    return envelope_body(encrypted, draw(st.integers(0, 3))), encrypted


_NAMES = st.one_of(
    st.sampled_from(["signature", "timestamp", "nonce", "echostr", "encrypt_type", "msg_signature", "openid"]),
    st.text(max_size=10),
)
_VALUES = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["%", "%zz", "%e4%b8", "%00", "%ff", "+", "a=b=c", "&&", "%2", "%ed%a0%80"]),
    st.integers(0, 100_000).map(lambda n: "v" * n),
)


@st.composite
def content_lengths(draw: st.DrawFn, size: int) -> list[tuple[bytes, bytes]]:
    declared = draw(st.one_of(
        st.none(),
        st.just(str(size)),
        st.integers(0, 200_000).map(str),
        st.integers(1, 6000).map(lambda n: "9" * n),
        st.sampled_from(["-5", "abc", "", " 10", "1e3", "０"]),
    ))
    headers = [] if declared is None else [(b"content-length", declared.encode())]
    extra = st.tuples(st.sampled_from([b"content-type", b"content-length", b"x-forwarded-for", b"host"]),
                      st.binary(max_size=40))
    return headers + draw(st.lists(extra, max_size=2))


@st.composite
def requests(draw: st.DrawFn) -> Request:
    method = pick(draw, (7, "POST"), (2, "GET"), (1, draw(st.sampled_from(["PUT", "HEAD", "post", "", "PO ST"]))))
    body, encrypted = draw(bodies())
    signing = pick(draw, (6, "valid"), (1, "forged"), (1, "none"))
    pairs: list[tuple[str, str]] = []
    sealed = False
    forged = ""
    if signing != "none":
        timestamp, once = draw(timestamps()), nonce(draw(st.text(max_size=20)))
        sealed = encrypted is not None and draw(st.booleans())
        pairs = signed_pairs(timestamp, once, encrypted if sealed else None)
        if signing == "forged":
            forged = draw(st.sampled_from([name for name, _ in pairs if "signature" in name]))
            pairs = [(name, draw(st.text(max_size=45)) if name == forged else value) for name, value in pairs]
        elif not sealed and draw(st.booleans()):
            pairs.append(("encrypt_type", draw(st.sampled_from(["raw", "RAW", "aes", "rc4", ""]))))
        if method == "GET" or draw(st.booleans()):
            pairs.append(("echostr", draw(st.text(max_size=30))))
    extra = draw(st.lists(st.tuples(_NAMES, _VALUES), max_size=3))
    pairs = pick(draw, (3, pairs + extra), (1, draw(st.permutations(pairs + extra))))
    raw = {index for index, pair in enumerate(pairs) if pair in extra and draw(st.booleans())}
    query = pick(draw, (9, encode_query(pairs, raw)), (1, draw(st.binary(max_size=300))))
    return Request(
        method=method,
        query=query,
        body=body,
        headers=draw(content_lengths(len(body))),
        cuts=draw(st.lists(st.integers(0, len(body)), max_size=5)),
        disconnect=pick(draw, (9, False), (1, True)),
        # The GET handshake checks only the plain signature: a forged msg_signature leaves it valid.
        signed=query == encode_query(pairs, raw)
        and (signing == "valid" or (method == "GET" and signing == "forged" and forged != "signature")),
        sealed=sealed,
    )


# --- the properties -----------------------------------------------------------------------------------------

def check_reply(exchange: Exchange, sealed: bool) -> None:
    """A 200 to a POST is ``success`` or a passive reply: well-formed XML (sealed, when the push was)."""
    if exchange.body == b"success":
        return
    xml = open_reply(ENVELOPE, TOKEN, exchange.body) if sealed else exchange.body
    reply = parse_xml(xml)
    assert reply["MsgType"] == "text" and reply["ToUserName"] and "Content" in reply, reply


@examples(80)
@given(request=requests())
def test_any_request_is_answered_completely_without_a_500(
    bot: Bot, loop: asyncio.AbstractEventLoop, request: Request
) -> None:
    exchange = run(loop, bot, request)
    if exchange.status == 200:
        assert request.signed, "only a validly signed request is answered 200"
        if request.method == "POST":
            check_reply(exchange, request.sealed)


def _push(fields: dict[str, Any], sealed: bool, cuts: list[int]) -> Request:
    """A message as WeChat pushes it, validly signed, plain or sealed."""
    xml = message_xml(fields)
    if not sealed:
        return Request("POST", encode_query(signed_pairs(fresh_timestamp(), nonce())), xml, cuts=cuts, signed=True)
    encrypted = ENVELOPE.seal(xml)
    return Request("POST", encode_query(signed_pairs(fresh_timestamp(), nonce(), encrypted)),
                   envelope_body(encrypted), cuts=cuts, signed=True, sealed=True)


@examples(50)
@given(
    fields=st.fixed_dictionaries({
        "ToUserName": st.just("gh_account"),
        "FromUserName": st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=40),
        "CreateTime": st.integers(0, 2**40),
        "MsgType": st.just("text"),
        "Content": st.text(max_size=300),
        "MsgId": st.integers(0, 2**64),
    }),
    sealed=st.booleans(),
    cuts=st.lists(st.integers(0, 2000), max_size=4),
)
def test_a_valid_text_push_is_echoed(
    kind: str, bot: Bot, loop: asyncio.AbstractEventLoop, fields: dict[str, Any], sealed: bool, cuts: list[int]
) -> None:
    if (kind == "plain" and sealed) or (kind == "safe" and not sealed):
        return  # refused by configuration, covered above
    exchange = run(loop, bot, _push(fields, sealed, cuts))
    assert exchange.status == 200
    check_reply(exchange, sealed)
    reply = parse_xml(open_reply(ENVELOPE, TOKEN, exchange.body) if sealed else exchange.body)
    expected = (as_parsed(fields["Content"]), as_parsed(fields["FromUserName"]))
    assert (reply["Content"], reply["ToUserName"]) == expected


@examples(50)
@given(encrypted=st.one_of(
    st.builds(ENVELOPE.seal, st.binary(max_size=300).filter(lambda data: b"<" not in data)),
    st.builds(lambda fields: _OTHER_APPID.seal(message_xml(fields)), wire_messages()),
    st.builds(lambda fields: _OTHER_KEY.seal(message_xml(fields)), wire_messages()),
    base64_text.filter(bool),
), style=st.integers(0, 3))
@example(encrypted="=", style=0)
def test_every_unreadable_envelope_gets_the_same_answer(
    kind: str, bot: Bot, loop: asyncio.AbstractEventLoop, encrypted: str, style: int
) -> None:
    if kind == "plain":
        return  # no AES key: nothing to open
    reference = run(loop, bot, Request("POST", encode_query(signed_pairs(fresh_timestamp(), nonce(), "AAAA")),
                                       envelope_body("AAAA")))
    assert reference.status == 400 and b"could not decrypt" in reference.body
    exchange = run(loop, bot, Request("POST", encode_query(signed_pairs(fresh_timestamp(), nonce(), encrypted)),
                                      envelope_body(encrypted, style)))
    assert (exchange.status, exchange.body) == (400, reference.body)


@pytest.mark.parametrize("filler", [b" ", b"\n", b"A"])
def test_a_long_run_after_encrypt_is_scanned_in_linear_time(
    bot: Bot, loop: asyncio.AbstractEventLoop, filler: bytes
) -> None:
    # The Encrypt scan once backtracked quadratically over whitespace: 60 KB blocked the loop for minutes.
    body = b"<xml><Encrypt>" + filler * 60_000 + b"!</xml>"
    exchange = run(loop, bot, Request("POST", encode_query(signed_pairs(fresh_timestamp(), nonce(), "x")), body))
    assert exchange.status == 400


@pytest.mark.parametrize(
    ("timestamp", "content_length", "status"),
    [
        ("1" + "0" * 400, b"10", 403),  # int, but too large for a float: once an OverflowError
        ("9" * 5000, b"10", 403),
        (None, b"9" * 5000, 413),  # more digits than int() takes: once a ValueError
        (None, b"0" * 5000 + b"5", 400),
    ],
)
def test_huge_numbers_are_refused_not_failed(
    bot: Bot, loop: asyncio.AbstractEventLoop, timestamp: str | None, content_length: bytes, status: int
) -> None:
    query = encode_query(signed_pairs(timestamp or fresh_timestamp(), nonce(), "x"))  # sealed: every bot reads it
    exchange = run(loop, bot, Request("POST", query, b"<xml/>", headers=[(b"content-length", content_length)]))
    assert exchange.status == status
