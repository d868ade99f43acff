import base64
import os
import struct

import pytest
from Crypto.Cipher import AES

from wxhook.crypto import AppIdMismatch, Envelope, EnvelopeError, decode_aes_key, random_bytes, sign, signature_matches

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
VECTOR_A_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2L"
    "dJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6u"
    "x5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJ"
    "pXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCz"
    "pu9GhglF2PE="
)
VECTOR_A_PLAIN = (
    b"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    b"<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    b"<CreateTime>1409735668</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    b"<Content><![CDATA[abcdteT]]></Content>\n<MsgId>6054768590064713728</MsgId>\n</xml>"
)


def test_signature_vectors() -> None:
    assert sign("AAAAA", "1714037059", "486452656") == "899cf89e464efb63f54ddac96b0a0a235f53aa78"
    assert sign("test", "1410685589", "test") == "f21891de399b4e33a1a93c9a7b8a8fffb5a443ff"
    assert signature_matches("F21891DE399B4E33A1A93C9A7B8A8FFFB5A443FF", "test", "1410685589", "test")
    assert not signature_matches("f21891de399b4e33a1a93c9a7b8a8fffb5a443fe", "test", "1410685589", "test")


def test_vector_a_signatures_and_decryption() -> None:
    assert sign("spamtest", "1409735669", "1320562132") == "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
    assert sign("spamtest", "1409735669", "1320562132", VECTOR_A_ENCRYPT) == "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    key = decode_aes_key(KEY)
    assert key.hex() == "69b71d79f8218a39259a7a29aabb2dbafc31cb3d35db7e39ebbf3d0010831051"
    assert Envelope(key, "wx2c2769f8efd9abc2").open(VECTOR_A_ENCRYPT) == VECTOR_A_PLAIN


def test_vector_b_encrypts_byte_exact() -> None:
    envelope = Envelope(decode_aes_key(KEY), "wxb11529c136998cb6")
    sealed = envelope.seal("我是中文abcd123".encode(), random=b"aaaabbbbccccdddd")
    assert sealed == "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
    assert envelope.open(sealed) == "我是中文abcd123".encode()


def test_round_trip_with_pad_byte_24() -> None:
    envelope = Envelope(decode_aes_key(KEY), "wx2c2769f8efd9abc2")  # 18-byte appid
    message = b"x" * 34
    sealed = envelope.seal(message)
    raw = AES.new(decode_aes_key(KEY), AES.MODE_CBC, decode_aes_key(KEY)[:16]).decrypt(base64.b64decode(sealed))
    assert raw[-1] == 24 and raw[-24:] == bytes([24]) * 24
    assert envelope.open(sealed) == message


def test_full_pad_block_when_already_aligned() -> None:
    envelope = Envelope(decode_aes_key(KEY), "wx2c2769f8efd9abc2")
    message = b"y" * (64 - 20 - 18)  # 16 + 4 + msg + appid == 64
    raw = AES.new(decode_aes_key(KEY), AES.MODE_CBC, decode_aes_key(KEY)[:16]).decrypt(
        base64.b64decode(envelope.seal(message))
    )
    assert len(raw) == 96 and raw[-32:] == bytes([32]) * 32
    assert envelope.open(envelope.seal(message)) == message


def test_fresh_random_prefix_each_time() -> None:
    envelope = Envelope(decode_aes_key(KEY), "wx2c2769f8efd9abc2")
    assert envelope.seal(b"same") != envelope.seal(b"same")


def _seal_raw(plain: bytes) -> str:
    key = decode_aes_key(KEY)
    return base64.b64encode(AES.new(key, AES.MODE_CBC, key[:16]).encrypt(plain)).decode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("not base64!!", "base64"),
        (base64.b64encode(b"short").decode(), "multiple of 16"),
        (_seal_raw(b"\x00" * 31 + b"\x21"), "padding"),
        (_seal_raw(b"\x00" * 31 + b"\x00"), "padding"),
        (_seal_raw(b"\x00" * 16 + struct.pack(">I", 500) + b"\x0c" * 12), "length"),
    ],
)
def test_bad_envelopes_are_refused(payload: str, reason: str) -> None:
    with pytest.raises(EnvelopeError, match=reason):
        Envelope(decode_aes_key(KEY), "wx2c2769f8efd9abc2").open(payload)


def test_wrong_appid_is_refused_without_echoing_it() -> None:
    sealed = Envelope(decode_aes_key(KEY), "wxb11529c136998cb6").seal(b"<xml/>")
    with pytest.raises(AppIdMismatch, match=r"another appid; check WXHOOK_APPID") as caught:
        Envelope(decode_aes_key(KEY), "wx2c2769f8efd9abc2").open(sealed)
    assert "wxb11529c136998cb6" not in str(caught.value)


@pytest.mark.parametrize(
    ("key", "reason"),
    [(KEY[:-1], "43 characters"), (KEY[:-1] + "!", "base64"), (KEY[:-1] + "=", "32 bytes")],
)
def test_bad_encoding_aes_keys(key: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_aes_key(key)


def test_successive_seals_match_a_fresh_cipher_each_time() -> None:
    """Sealing reuses one CBC cipher, folding its chaining state away: the bytes must equal a fresh cipher's."""
    import struct

    from Crypto.Cipher import AES

    key = decode_aes_key(KEY)
    envelope = Envelope(key, "wx2c2769f8efd9abc2")
    for size in (0, 1, 15, 16, 17, 100, 1000, 3):
        message, random = bytes(range(256))[:size] * 2, bytes(range(16, 32))
        body = random + struct.pack(">I", len(message)) + message + b"wx2c2769f8efd9abc2"
        pad = 32 - len(body) % 32
        fresh = AES.new(key, AES.MODE_CBC, key[:16]).encrypt(body + bytes((pad,)) * pad)
        assert envelope.seal(message, random) == base64.b64encode(fresh).decode()
        assert envelope.open(envelope.seal(message)) == message


def test_random_bytes_never_repeat_across_pages() -> None:
    drawn = [random_bytes.take(20) for _ in range(1000)]  # about five pages
    assert all(len(chunk) == 20 for chunk in drawn) and len(set(drawn)) == len(drawn)
    assert len(random_bytes.take(10_000)) == 10_000  # more than a page at once


def test_a_forked_child_does_not_hand_out_its_parent_s_bytes() -> None:
    random_bytes.take(16)  # a page is loaded: without the fork hook, the child would go on from the same place
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write_end, random_bytes.take(16))
        os._exit(0)
    os.close(write_end)
    os.waitpid(pid, 0)
    child = os.read(read_end, 16)
    os.close(read_end)
    assert len(child) == 16 and child != random_bytes.take(16)
