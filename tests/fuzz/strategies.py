"""Generators of hostile input shared by the fuzz tests: XML-ish documents, message dicts, envelopes."""

from __future__ import annotations

import base64
import codecs
import re
from typing import Any

from hypothesis import strategies as st

from wxhook.messages import EVENT_NAMES
from wxhook.protocol import render_message

# XML 1.0 Char: what a document may carry (cdata drops the rest).
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def as_parsed(text: str) -> str:
    """``text`` as a parser reads it back from CDATA: XML-illegal characters dropped, and every line break
    turned into "\\n" (XML 1.0 section 2.11 applies inside CDATA too)."""
    return _NOT_XML.sub("", text).replace("\r\n", "\n").replace("\r", "\n")


# Every Python string, lone surrogates included (hypothesis leaves those out of st.text() by default).
ANY_TEXT = st.text(st.characters(exclude_categories=()))

TAG_NAMES = [
    "xml", "ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "MsgID", "Event", "EventKey",
    "item", "List", "SendPicsInfo", "PicList", "PicMd5Sum", "Count", "ScanCodeInfo", "PublishEventInfo",
    "article_detail", "fail_idx", "SubscribeMsgPopupEvent", "Location_X", "Encrypt", "raw", "Raw",
]  # fmt: skip
MSG_TYPES = ["text", "image", "voice", "video", "shortvideo", "location", "link", "event", "miniprogrampage", ""]

tags = st.one_of(
    st.sampled_from(TAG_NAMES),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:-]{0,15}", fullmatch=True),
    st.text(min_size=1, max_size=6),
)
_ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&#65;", "&#x41;", "&#0;", "&#x1;", "&#xD800;", "&#1114112;",
             "&#xFFFE;", "&undefined;", "&lol;", "&xxe;", "&", "&#;", "&#x;"]
texts = st.one_of(
    st.text(max_size=40),
    st.builds(lambda t: f"<![CDATA[{t}]]>", st.text(max_size=40)),
    st.sampled_from(_ENTITIES),
    st.builds(lambda c, n: c * n, st.sampled_from("x<>&]\r\n\t "), st.integers(0, 20_000)),
)
attributes = st.lists(
    st.tuples(tags, st.one_of(st.text(max_size=20), st.builds(lambda n: "a" * n, st.integers(0, 100_000)))),
    max_size=3,
)


def _element(tag: str, attrs: list[tuple[str, str]], content: list[str]) -> str:
    rendered = "".join(f' {name}="{value}"' for name, value in attrs)
    return f"<{tag}{rendered}>{''.join(content)}</{tag}>"


nodes = st.recursive(
    texts,
    lambda inner: st.builds(_element, tags, attributes, st.lists(inner, max_size=5)),
    max_leaves=25,
)
deep = st.builds(lambda tag, depth: f"<{tag}>" * depth + f"</{tag}>" * depth, tags, st.integers(0, 400))

DOCTYPES = [
    "",
    '<!DOCTYPE xml [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
    '<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd">',
    "<!DOCTYPE xml>",
    '<!DOCTYPE xml [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    "<!ENTITY e 'x'>",
    "<!-- a comment --><?pi data?>",
]
ENCODINGS = ["utf-8", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "ascii", "gbk", "gb18030",
             "shift_jis", "big5", "cp1252", "koi8-r"]
BOMS = [b"", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_LE]


@st.composite
def xml_documents(draw: st.DrawFn) -> tuple[bytes, bool]:
    """An XML-ish document as bytes, and whether it carries a DOCTYPE (which must be refused)."""
    doctype = draw(st.sampled_from(DOCTYPES))
    body = draw(st.lists(st.one_of(nodes, deep), max_size=6))
    root = draw(st.sampled_from(["xml", "xml", "root"]))
    text = doctype + _element(root, draw(attributes), body)
    encoding = draw(st.sampled_from(ENCODINGS))
    declared = draw(st.one_of(st.none(), st.sampled_from([*ENCODINGS, "bogus", "UTF-7", ""]), st.just(encoding)))
    if declared is not None:
        text = f'<?xml version="{draw(st.sampled_from(["1.0", "1.1", "2"]))}" encoding="{declared}"?>' + text
    data = draw(st.sampled_from(BOMS)) + text.encode(encoding, "xmlcharrefreplace")
    return _mutate(draw, data), "<!DOCTYPE" in doctype


def _mutate(draw: st.DrawFn, data: bytes) -> bytes:
    """Now and then, a byte-level edit: a cut, an inserted run of random bytes, a truncation."""
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(data)))
        edit = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if edit == "insert":
            data = data[:at] + draw(st.binary(max_size=8)) + data[at:]
        elif edit == "delete":
            data = data[:at] + data[at + draw(st.integers(1, 8)):]
        else:
            data = data[:at]
    return data


# Values as parse_xml returns them (str, nested dicts, lists for repeated tags), and worse ones.
_scalars = st.one_of(
    ANY_TEXT,
    st.sampled_from(["", "0", "-1", "1e999", "nan", " 12 ", "9" * 5000, "1_000", "١٢٣", "0x10"]),
    st.integers(), st.floats(), st.none(), st.booleans(),
)
values = st.recursive(
    _scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(tags, inner, max_size=4)),
    max_leaves=8,
)


@st.composite
def message_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A message-shaped dict: the common fields (often), a known or odd MsgType and Event, random extras."""
    raw: dict[str, Any] = draw(st.dictionaries(tags, values, max_size=5))
    if draw(st.booleans()):
        raw["MsgType"] = draw(st.one_of(st.sampled_from(MSG_TYPES), values))
    if raw.get("MsgType") == "event" or draw(st.booleans()):
        raw["Event"] = draw(st.one_of(st.sampled_from(sorted(EVENT_NAMES)), values))
    return raw


@st.composite
def wire_messages(draw: st.DrawFn) -> dict[str, Any]:
    """Fields a plaintext push could carry and ``render_message`` can render: the four required ones, mostly."""
    fields: dict[str, Any] = {
        "ToUserName": draw(st.sampled_from(["gh_account", ""])),
        "FromUserName": draw(st.one_of(st.just("o_follower"), st.text(max_size=30))),
        "CreateTime": draw(st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=12))),
        "MsgType": draw(st.one_of(st.sampled_from(MSG_TYPES), st.text(max_size=10))),
    }
    if fields["MsgType"] == "event":
        fields["Event"] = draw(st.one_of(st.sampled_from(sorted(EVENT_NAMES)), st.text(max_size=10)))
    extra = st.one_of(
        st.text(max_size=60),
        st.integers(),
        st.dictionaries(st.sampled_from(TAG_NAMES), st.text(max_size=10), max_size=3),
    )
    for _ in range(draw(st.integers(0, 3))):
        fields[draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,12}", fullmatch=True))] = draw(extra)
    for name in draw(st.sets(st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType"]), max_size=1)):
        del fields[name]
    return fields


def message_xml(fields: dict[str, Any]) -> bytes:
    return render_message(fields).encode()


base64_text = st.one_of(
    st.binary(max_size=200).map(lambda data: base64.b64encode(data).decode()),
    st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", max_size=200),
)
