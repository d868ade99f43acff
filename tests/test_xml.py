import re

import pytest

from wxhook.xml import _FLAT_LIMIT, XMLError, _flat, _parse_tree, parse_xml


def test_nested_and_repeated_elements() -> None:
    body = (
        b"<xml><A><![CDATA[x]]></A><B>1</B><Empty/><L><item><x>1</x></item><item><x>2</x></item></L>"
        b"<One><item><x>3</x></item></One></xml>"
    )
    assert parse_xml(body) == {
        "A": "x", "B": "1", "Empty": "", "L": {"item": [{"x": "1"}, {"x": "2"}]}, "One": {"item": {"x": "3"}}
    }


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<xml><Content>&lol2;</Content></xml>"""
XXE = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><Content>&xxe;</Content></xml>"""


@pytest.mark.parametrize(
    "body",
    [
        BILLION_LAUGHS,
        XXE,
        XXE.decode().replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="UTF-16"?>').encode("utf-16"),
    ],
)
def test_dtds_and_entities_are_refused(body: bytes) -> None:
    with pytest.raises(XMLError, match="DOCTYPE"):
        parse_xml(body)


@pytest.mark.parametrize("nested", [False, True])
def test_a_declaration_typed_by_a_follower_is_text(nested: bool) -> None:
    """A follower may send the text "<!DOCTYPE html>": inside CDATA it declares nothing, on either parser's path
    (a nested element sends the body to lxml), while a real declaration beside such text is still refused."""
    extra = b"<A><B>1</B></A>" if nested else b"<A>1</A>"
    body = b"<xml><Content><![CDATA[<!DOCTYPE html><!ENTITY e 'x'>]]></Content>" + extra + b"</xml>"
    assert parse_xml(body)["Content"] == "<!DOCTYPE html><!ENTITY e 'x'>"
    with pytest.raises(XMLError, match="DOCTYPE"):
        parse_xml(b"<!DOCTYPE xml [<!ENTITY e 'x'>]>" + body)
    with pytest.raises(XMLError):  # an unterminated section hides nothing
        parse_xml(b"<xml><Content><![CDATA[x</Content><!DOCTYPE x></xml>")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<xml><a>", "malformed"),
        (b"", "malformed"),
        (b"not xml", "malformed"),
        (b"<xml><a>&undefined;</a></xml>", "malformed"),
        (b"<xml></xml>", "no elements"),
    ],
)
def test_malformed_documents(body: bytes, reason: str) -> None:
    with pytest.raises(XMLError, match=reason):
        parse_xml(body)


WECHAT_TEXT = (
    b"<xml>\n<ToUserName><![CDATA[gh_account]]></ToUserName>\n<FromUserName><![CDATA[o_follower]]></FromUserName>\n"
    b"<CreateTime>1700000000</CreateTime>\n<MsgType> <![CDATA[text]]> </MsgType>\n"
    b"<Content><![CDATA[ a <b> & ]] \xe4\xbd\xa0\xe5\xa5\xbd ]]></Content>\n<MsgId>1234567890123456</MsgId>\n</xml>\n"
)


def test_flat_documents_are_read_without_lxml_and_as_lxml_reads_them() -> None:
    flat = _flat(WECHAT_TEXT)
    assert flat == _parse_tree(WECHAT_TEXT) == {
        "ToUserName": "gh_account", "FromUserName": "o_follower", "CreateTime": "1700000000", "MsgType": "text",
        "Content": " a <b> & ]] 你好 ", "MsgId": "1234567890123456",
    }  # fmt: skip
    assert parse_xml(WECHAT_TEXT) == flat


@pytest.mark.parametrize(
    "body",
    [
        b"<xml><A><B>1</B></A></xml>",  # nested
        b"<xml><A>1</A><A>2</A></xml>",  # repeated
        b"<xml><A>a &amp; b</A></xml>",  # an entity reference
        b'<xml><A x="1">1</A></xml>',  # an attribute
        b"<xml><A/></xml>",  # self-closing
        b"<xml><!-- c --><A>1</A></xml>",  # a comment
        b"<xml><?pi x?><A>1</A></xml>",  # a processing instruction
        b'<?xml version="1.0"?><xml><A>1</A></xml>',  # a declaration
        b"\xef\xbb\xbf<xml><A>1</A></xml>",  # a BOM
        b"<root><A>1</A></root>",  # another root
        b"<xml><A><![CDATA[a]]><![CDATA[b]]></A></xml>",  # two sections
        b"<xml><A><![CDATA[ ]]></A></xml>",  # a whitespace-only section
        b"<xml><A>x<![CDATA[y]]></A></xml>",  # text beside a section
        b"<xml>x<A>1</A></xml>",  # text beside the elements
        b"<xml><A>\xef\xbf\xbe</A></xml>",  # U+FFFE, not an XML character
        b"<xml><A>\x01</A></xml>",  # a control character
        b"<xml><A>\xff</A></xml>",  # not UTF-8
        b"<xml><A>]]></A></xml>",  # "]]>" outside CDATA
        b"<xml><A>1</B></xml>",  # mismatched tags
        b"<xml></xml>",  # no elements
        b"<xml><" + b"A" * 300 + b">1</" + b"A" * 300 + b"></xml>",  # a long name
        b"<xml><" + b"A" * 50_001 + b">1</" + b"A" * 50_001 + b"></xml>",  # a name too long for libxml2
    ],
)
def test_anything_else_is_left_to_lxml(body: bytes) -> None:
    assert _flat(body) is None
    try:
        expected = _parse_tree(body)
    except XMLError as exc:
        with pytest.raises(XMLError, match=re.escape(str(exc))):
            parse_xml(body)
    else:
        assert parse_xml(body) == expected


def _megabyte(head: bytes, unit: bytes, tail: bytes = b"") -> bytes:
    return head + unit * ((_FLAT_LIMIT - len(head) - len(tail)) // len(unit)) + tail


@pytest.mark.parametrize(
    "body",
    [
        _megabyte(b"<xml>", b"<A><![CDATA[<A>"),  # sections opened, never closed
        _megabyte(b"<xml><A><![CDATA[", b"]"),
        _megabyte(b"<xml><A><![CDATA[", b"]]", b"]]></A></xml>"),
        _megabyte(b"<xml><A><![CDATA[", b" ", b"]]></A></xml>"),
        _megabyte(b"<xml><A>", b"]", b"</A></xml>"),
        _megabyte(b"<xml><A>", b"]]>]"),
        _megabyte(b"<xml>", b" <A> "),
        _megabyte(b"<xml>", b"<A>x</A>", b"</xml>"),
        _megabyte(b"<xml><", b"A", b">1</A></xml>"),
    ],
)
def test_hostile_megabyte_bodies_are_read_in_one_pass(body: bytes) -> None:
    """The scanner's regex is linear by construction (see xml.py); these would take hours if it were not."""
    flat = _flat(body)
    try:
        expected = _parse_tree(body)
    except XMLError:
        assert flat is None
    else:
        assert flat is None or flat == expected
