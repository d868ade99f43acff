"""The safe-mode envelope and the signatures on hostile input (profiles: see ``tests/fuzz/__init__.py``)."""

from __future__ import annotations

import base64
import struct

from Crypto.Cipher import AES
from hypothesis import example, given
from hypothesis import strategies as st

from tests.fuzz.conftest import examples
from tests.fuzz.strategies import ANY_TEXT, base64_text
from wxhook.crypto import Envelope, EnvelopeError, decode_aes_key, sign, signature_matches

keys = st.binary(min_size=32, max_size=32)
appids = st.one_of(st.binary(min_size=8, max_size=8).map(lambda raw: "wx" + raw.hex()), st.text(max_size=40))


@examples(100)
@given(keys, st.one_of(ANY_TEXT, base64_text))
@example(b"k" * 32, "")
@example(b"k" * 32, "====")
@example(b"k" * 32, "AAAAAAAAAAAAAAAAAAAAAA==")
@example(b"k" * 32, "é" * 24)
def test_open_arbitrary_text_returns_bytes_or_raises_envelope_error(key: bytes, encrypted: str) -> None:
    try:
        assert isinstance(Envelope(key, "wx0123456789abcdef").open(encrypted), bytes)
    except EnvelopeError as exc:
        assert str(exc)


@examples(100)
@given(keys, appids, st.binary(max_size=3000))
def test_seal_then_open_round_trips(key: bytes, appid: str, message: bytes) -> None:
    encoding_aes_key = base64.b64encode(key).decode()[:43]
    assert decode_aes_key(encoding_aes_key) == key
    envelope = Envelope(key, appid)
    assert envelope.open(envelope.seal(message)) == message


_MARK = st.binary(min_size=6, max_size=6).map(lambda raw: "MARK" + raw.hex())


@st.composite
def forged_plaintexts(draw: st.DrawFn) -> tuple[bytes, list[bytes]]:
    """A plaintext laid out like a real one, every part drawn (often wrong), with markers in the parts an
    error could echo: the message, the appid it carries, and whatever follows."""
    markers = [draw(_MARK).encode() for _ in range(3)]
    message = markers[0] * draw(st.integers(1, 3))
    declared = draw(st.one_of(st.just(len(message)), st.integers(0, 2**32 - 1)))
    body = draw(st.binary(min_size=16, max_size=16)) + struct.pack(">I", declared) + message + markers[1]
    body += draw(st.sampled_from([b"", markers[2]]))
    padding = draw(st.integers(0, 255))
    body += bytes((padding,)) * (-len(body) % 16 or draw(st.sampled_from([0, 16])))
    if len(body) % 16 or body == b"":
        body += bytes((padding,)) * (16 - len(body) % 16)
    return body, markers


@examples(100)
@given(keys, forged_plaintexts())
def test_errors_never_echo_the_plaintext(key: bytes, forged: tuple[bytes, list[bytes]]) -> None:
    plaintext, markers = forged
    encrypted = base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(plaintext)).decode()
    try:
        opened = Envelope(key, "wx0123456789abcdef").open(encrypted)
    except EnvelopeError as exc:
        said = str(exc) + repr(exc)
        assert not any(marker.decode() in said for marker in markers), said
    else:
        assert markers[0] in opened


@examples(150)
@given(ANY_TEXT, st.lists(ANY_TEXT, max_size=5))
@example("", [])
@example("\ud800", ["\udfff"])
@example("A" * 100_000, ["x" * 100_000])
def test_signature_matches_never_raises(signature: str, parts: list[str]) -> None:
    assert signature_matches(signature, *parts) in (True, False)


@examples(100)
@given(st.lists(st.text(), max_size=5).flatmap(lambda parts: st.tuples(st.just(parts), st.permutations(parts))))
def test_sign_is_order_independent_and_matches_case_insensitively(case: tuple[list[str], list[str]]) -> None:
    parts, shuffled = case
    signature = sign(*parts)
    assert sign(*shuffled) == signature
    assert signature_matches(signature.upper(), *shuffled)
    assert not signature_matches(signature[:-1], *parts)


# The hand-made fast path (docs/performance.md, "The fast paths") against pycryptodome's own CBC: Envelope builds
# one ECB cipher and one CBC cipher per key and does the chaining itself, with integer XOR; each seal and each open
# must give, byte for byte, what a fresh CBC cipher with the IV gives, however many came before on the same
# Envelope.
_blocks = st.integers(1, 40).flatmap(lambda count: st.binary(min_size=16 * count, max_size=16 * count))


def _layout(prefix: bytes, message: bytes, appid: str) -> bytes:
    """The safe-mode plaintext as the envelope's docstring writes it, padded to 32-byte blocks (PKCS#7 of 32)."""
    body = prefix + struct.pack(">I", len(message)) + message + appid.encode()
    pad = 32 - len(body) % 32
    return body + bytes((pad,)) * pad


@examples(100)
@given(keys, appids, st.lists(st.tuples(st.binary(min_size=16, max_size=16), st.binary(max_size=600)), min_size=1,
                              max_size=6))
def test_seal_is_cbc_with_the_iv_every_time(key: bytes, appid: str, sealed: list[tuple[bytes, bytes]]) -> None:
    envelope = Envelope(key, appid)
    for prefix, message in sealed:
        expected = AES.new(key, AES.MODE_CBC, key[:16]).encrypt(_layout(prefix, message, appid))
        assert base64.b64decode(envelope.seal(message, prefix)) == expected


@examples(100)
@given(keys, st.lists(_blocks, min_size=1, max_size=6))
def test_open_decrypts_as_cbc_with_the_iv(key: bytes, ciphertexts: list[bytes]) -> None:
    envelope = Envelope(key, "wx0123456789abcdef")
    for data in ciphertexts:
        assert envelope.decrypt(data) == AES.new(key, AES.MODE_CBC, key[:16]).decrypt(data)


@examples(100)
@given(keys, appids, st.binary(min_size=16, max_size=16), st.binary(max_size=600))
def test_open_reads_what_pycryptodome_seals(key: bytes, appid: str, prefix: bytes, message: bytes) -> None:
    encrypted = AES.new(key, AES.MODE_CBC, key[:16]).encrypt(_layout(prefix, message, appid))
    assert Envelope(key, appid).open(base64.b64encode(encrypted).decode()) == message
