"""The XML parser and the message typer on hostile input (profiles: see ``tests/fuzz/__init__.py``)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.conftest import examples
from tests.fuzz.strategies import ANY_TEXT, as_parsed, message_dicts, xml_documents
from wxhook.messages import _MISNAMED, Message, _fill, _snake, _table, dedupe_key, parse_message
from wxhook.xml import XMLError, _flat, _parse_tree, cdata, parse_xml


def _parse(body: bytes) -> dict[str, Any] | None:
    """parse_xml's result, or None when it refused with XMLError; any other exception fails the test."""
    try:
        return parse_xml(body)
    except XMLError as exc:
        assert str(exc), "an XMLError names its reason"
        return None


def _check_message(document: dict[str, Any]) -> None:
    msg = parse_message(document)
    assert isinstance(msg, Message)
    assert isinstance(msg.to_user_name, str) and isinstance(msg.msg_type, str)
    assert dict(msg.raw) == document
    assert isinstance(dedupe_key(msg), str)  # the reply window keys every accepted message by it
    repr(msg)


@examples(200)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_parse_or_raise_xml_error(body: bytes) -> None:
    document = _parse(body)
    if document is not None:
        _check_message(document)


@examples(50)
@given(xml_documents())
@example((b'<?xml version="1.0" encoding="UTF-16"?>'.decode().encode("utf-16")
          + '<!DOCTYPE x [<!ENTITY e "x">]><xml><a>&e;</a></xml>'.encode("utf-16-le"), True))
def test_xml_documents_parse_or_raise_xml_error(case: tuple[bytes, bool]) -> None:
    body, has_doctype = case
    document = _parse(body)
    if document is None:
        return
    assert not has_doctype, "a document with a DOCTYPE must be refused, in any encoding"
    _check_message(document)


@examples(40)
@given(message_dicts())
def test_parse_message_never_raises_on_any_dict(raw: dict[str, Any]) -> None:
    _check_message(raw)


def _constructed(cls: type[Message], raw: dict[str, Any]) -> Message:
    """The message as the dataclass constructor builds it from the fields the naming rule gives."""
    table = _table(cls)
    values = {}
    for tag, value in raw.items():
        attr = _MISNAMED.get(cls, {}).get(tag) or _snake(tag)
        if attr in table.converters:
            values[attr] = table.converters[attr](value)
    return cls(raw=MappingProxyType(raw), **values)


@examples(100)
@given(message_dicts())
def test_parse_message_builds_what_the_constructor_builds(raw: dict[str, Any]) -> None:
    msg = parse_message(raw)
    # repr: every field but raw, and NaN reads the same in both (a NaN is unequal to itself)
    assert repr(msg) == repr(_constructed(type(msg), raw))
    assert msg.raw == raw


@examples(100)
@given(message_dicts())
def test_a_compiled_builder_builds_what_the_tag_by_tag_one_does(raw: dict[str, Any]) -> None:
    cls = type(parse_message(raw))
    table = _table(cls)
    compiled = table.compile(tuple(raw))(raw)  # outside the bounded cache: every order is compiled here
    assert type(compiled) is cls
    assert repr(compiled) == repr(_fill(cls, table, raw))
    assert compiled.raw == raw


@examples(200)
@given(ANY_TEXT)
@example("a]]>b]]]]>c")
@example("\x00\x0b\ufffe\ud800")
@example("\r\n\r")
def test_cdata_round_trips_any_text(text: str) -> None:
    document = parse_xml(b"<xml><Content>" + cdata(text).encode() + b"</Content></xml>")
    assert document == {"Content": as_parsed(text)}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "gb18030"])
def test_doctype_hidden_by_an_encoding_is_refused(encoding: str) -> None:
    body = f'<?xml version="1.0" encoding="{encoding}"?><!DOCTYPE x SYSTEM "x.dtd"><xml><a>1</a></xml>'
    with pytest.raises(XMLError, match="DOCTYPE"):
        parse_xml(body.encode(encoding))



# The flat scanner against lxml: on flat documents (random tags, plain or CDATA values of any text, layout
# anywhere) it returns exactly what lxml returns, or declines; on clean ones it never declines.
_LAYOUTS = st.sampled_from(["", " ", "\n", "\t", "\r\n", "\r", "\n  ", " \t\n"])
_FLAT_TAGS = st.one_of(
    st.sampled_from(["ToUserName", "MsgId", "Content", "xml", "xmlns", "XML", "A.b-c", "_", "item", "a1"]),
    st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,10}", fullmatch=True),
)
_AWKWARD = [" ", "\t", "\n", "\r", "\r\n", "\xa0", "\u3000", "\x85", "\x1c", "\x00", "\x0b", "\ufffe", "\uffff",
            "\ufeff", "\ud800", "\U0001f600", "]", "]]", "]]>", "&", "&amp;", "<", ">", "<b>", "<!--", "a"]
_ANY_VALUE = st.lists(st.one_of(st.characters(exclude_categories=()), st.sampled_from(_AWKWARD)), max_size=12)


def _leaf(cdata_section: bool, text: str, before: str, after: str) -> str:
    return f"{before}<![CDATA[{text}]]>{after}" if cdata_section else text


def _document(before: str, elements: list[tuple[str, str, str]], after: str) -> bytes:
    inner = "".join(f"{layout}<{tag}>{value}</{tag}>" for tag, value, layout in elements)
    return f"{before}<xml>{inner}{after}</xml>{before}".encode("utf-8", "surrogatepass")


def _flat_documents(values: st.SearchStrategy[str], unique: bool) -> st.SearchStrategy[bytes]:
    element = st.tuples(_FLAT_TAGS, values, _LAYOUTS)
    elements = st.lists(element, min_size=1, max_size=6, unique_by=(lambda e: e[0]) if unique else None)
    return st.builds(_document, _LAYOUTS, elements, _LAYOUTS)


_values = st.builds(_leaf, st.booleans(), _ANY_VALUE.map("".join), _LAYOUTS, _LAYOUTS)
# What WeChat sends: plain text without markup, CDATA holding anything but "]]>" and not only whitespace.
_LEGAL = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), exclude_characters="\ufffe\uffff")
_clean_plain = st.lists(st.one_of(_LEGAL, st.sampled_from(" \t\n\r]>")), max_size=12).map("".join).filter(
    lambda text: "<" not in text and "&" not in text and "]]>" not in text
)
_clean_cdata = st.lists(st.one_of(_LEGAL, st.sampled_from(" \t\n\r]<&")), max_size=12).map("".join).filter(
    lambda text: "]]>" not in text and not text.isspace()
)
_clean_values = st.one_of(_clean_plain, st.builds(_leaf, st.just(True), _clean_cdata, _LAYOUTS, _LAYOUTS))


def _tree(body: bytes) -> dict[str, Any] | None:
    try:
        return _parse_tree(body)
    except XMLError:
        return None


def _in_order(document: dict[str, Any] | None) -> list[tuple[str, Any]] | None:
    """The document's fields in order: the dedupe fingerprint reads them so."""
    return None if document is None else list(document.items())


@examples(300)
@given(_flat_documents(_values, unique=False))
@example(b"<xml><A> <![CDATA[ ]]> </A></xml>")
@example(b"<xml><A>\n<![CDATA[]]>\n</A><B>\xc2\xa0x\xc2\xa0</B><C>\r\n<![CDATA[a\r\nb\r]]>\r</C></xml>")
@example(b"<xml><A><![CDATA[a]]]]><![CDATA[>b]]></A><A>1</A></xml>")
def test_flat_scanner_agrees_with_lxml_or_declines(body: bytes) -> None:
    flat = _flat(body)
    if flat is not None:
        assert _in_order(flat) == _in_order(_tree(body))


@examples(200)
@given(_flat_documents(_clean_values, unique=True))
def test_flat_scanner_reads_every_clean_flat_document(body: bytes) -> None:
    flat = _flat(body)
    assert flat is not None
    assert _in_order(flat) == _in_order(_tree(body))
