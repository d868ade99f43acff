"""Reading a push's query string: WeChat's own form fast, anything else as a browser would send it."""

import pytest

from wxhook.protocol import Rejected, parse_query


def query(text: str, *required: str) -> dict[str, str]:
    return parse_query({"query_string": text.encode("latin-1")}, *required)


@pytest.mark.parametrize(("text", "expected"), [
    ("signature=ab12&timestamp=1700000000&nonce=42", {"signature": "ab12", "timestamp": "1700000000", "nonce": "42"}),
    ("", {}),
    ("a=1=2&b=", {"a": "1=2", "b": ""}),
    ("flag&a=1&&", {"a": "1"}),
    ("a=1&a=2", {"a": "2"}),
    ("echostr=a%2Bb%3D&x=1+2", {"echostr": "a+b=", "x": "1 2"}),
    ("flag&e%3D=&x=1+2&&", {"e=": "", "x": "1 2"}),
], ids=["wechat's form", "empty", "= in a value, empty value", "no =, empty pairs", "repeated", "escaped",
        "escaped: read as the unescaped form is"])
def test_parameters(text: str, expected: dict[str, str]) -> None:
    assert query(text) == expected


def test_a_missing_or_empty_required_parameter_is_a_400_naming_it() -> None:
    with pytest.raises(Rejected) as refused:
        query("signature=&timestamp=1", "signature", "timestamp", "nonce")
    assert refused.value.status == 400 and refused.value.reason.endswith("signature, nonce")
