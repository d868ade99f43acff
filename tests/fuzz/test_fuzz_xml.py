"""The XML parser and the message typer on hostile input (profiles: see ``tests/fuzz/__init__.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.conftest import examples
from tests.fuzz.strategies import ANY_TEXT, as_parsed, message_dicts, xml_documents
from wxhook.messages import Message, dedupe_key, parse_message
from wxhook.xml import XMLError, cdata, parse_xml


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
