import pytest

from wxhook.xml import XMLError, parse_xml


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
