"""Signatures and the safe-mode (AES) envelope.

Envelope: ``base64(AES-256-CBC(random16 || len_be32(msg) || msg || appid || pkcs7_32))`` with ``key =
b64decode(EncodingAESKey + "=")`` and ``iv = key[:16]``. The pad block is 32 bytes, not AES's 16: a pad byte of
up to 32 is legal, which is why a stock PKCS#7(128) unpadder rejects real WeChat traffic.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import sys
import threading

from Crypto.Cipher import AES

if sys.version_info >= (3, 11):

    def _strict_b64decode(text: str) -> bytes:
        """base64 with nothing outside the alphabet: binascii's strict mode, a C check where ``validate=True``
        runs a regex first (the larger part of opening a message)."""
        return binascii.a2b_base64(text, strict_mode=True)

else:  # pragma: no cover - Python 3.10

    def _strict_b64decode(text: str) -> bytes:
        return base64.b64decode(text, validate=True)

_BLOCK = 32


class _Entropy:
    """``os.urandom`` drawn a page at a time: a reply needs 20 random bytes (the envelope's prefix and the
    signature's nonce), and a system call apiece cost more than the rest of sealing on the machines measured. A
    forked child starts on a fresh page, so no two processes hand out the same bytes."""

    _PAGE = 4096

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._page = b""
        self._at = 0

    def take(self, size: int) -> bytes:
        with self._lock:
            at = self._at
            end = at + size
            if end > len(self._page):
                self._page, at, end = os.urandom(max(self._PAGE, size)), 0, size
            self._at = end
            return self._page[at:end]

    def forget(self) -> None:
        self._page, self._at = b"", 0


random_bytes = _Entropy()
"""Random bytes from the operating system's CSPRNG, as ``os.urandom`` gives them: ``random_bytes.take(n)``."""
os.register_at_fork(after_in_child=random_bytes.forget)


class EnvelopeError(ValueError):
    """A safe-mode payload could not be opened: bad base64, bad length or padding.

    Messages name the check that failed and never a decrypted byte: an error that echoed plaintext would
    turn the webhook into a decryption oracle.
    """


class AppIdMismatch(EnvelopeError):
    """The payload decrypted, but was sealed for a different appid."""


def sign(*parts: str) -> str:
    """WeChat's signature: SHA-1 over the plain string sort of the parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signature_matches(signature: str, *parts: str) -> bool:
    """Constant-time check, so response timing does not leak how much of a forged signature was right.

    Text that has no UTF-8 form (a lone surrogate) was never signed by WeChat: it does not match.
    """
    try:
        return hmac.compare_digest(sign(*parts).encode(), signature.lower().encode())
    except UnicodeEncodeError:
        return False


def decode_aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key behind a 43-character EncodingAESKey; ValueError when it is not one."""
    if len(encoding_aes_key) != 43:
        raise ValueError(f"an EncodingAESKey has 43 characters, this one has {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("an EncodingAESKey uses only the base64 characters A-Z a-z 0-9 + /") from None
    if len(key) != 32:
        raise ValueError(f"an EncodingAESKey decodes to 32 bytes, this one to {len(key)}")
    return key


class Envelope:
    """Seals and opens safe-mode payloads for one appid and key."""

    __slots__ = ("_appid", "_cbc", "_ecb", "_iv", "_iv_int", "_last")

    def __init__(self, key: bytes, appid: str) -> None:
        self._iv = key[:16]
        self._iv_int = int.from_bytes(self._iv, "big")
        self._appid = appid.encode()
        # The fast path (docs/performance.md, "The fast paths": a fifth of a safe-mode push): CBC decryption is ECB
        # decryption XORed with the previous ciphertext block, so one ECB cipher built once serves every message;
        # building a CBC cipher per message would cost more than the work.
        self._ecb = AES.new(key, AES.MODE_ECB)
        # Sealing likewise keeps one CBC cipher: its chaining state is the last ciphertext block it produced,
        # so folding that block (and the fixed IV) into the next first plaintext block restarts the chain at
        # the IV, byte-identical to a fresh cipher (tests/fuzz/test_fuzz_crypto.py holds both to pycryptodome's
        # own CBC). Not for use from several threads at once.
        self._cbc = AES.new(key, AES.MODE_CBC, self._iv)
        self._last = self._iv_int

    def open(self, encrypted: str) -> bytes:
        """The message inside an ``Encrypt`` value."""
        try:
            data = _strict_b64decode(encrypted)
        except (binascii.Error, ValueError):
            raise EnvelopeError("the Encrypt element is not valid base64") from None
        size = len(data)
        if size == 0 or size % 16:
            raise EnvelopeError(f"encrypted payload is {size} bytes, not a positive multiple of 16")
        plain = self.decrypt(data)
        pad = plain[-1]
        if not 1 <= pad <= _BLOCK or pad > size:
            raise EnvelopeError(f"bad PKCS#7 padding (expected 1..{_BLOCK}): a different EncodingAESKey sealed it")
        body_end = size - pad
        if body_end < 20:
            raise EnvelopeError("decrypted payload is too short to hold the random prefix and length")
        (length,) = struct.unpack_from(">I", plain, 16)
        msg_end = 20 + length
        if msg_end > body_end:
            raise EnvelopeError("declared message length runs past the end of the payload")
        if plain[msg_end:body_end] != self._appid:
            raise AppIdMismatch("the message was sealed for another appid; check WXHOOK_APPID")
        return plain[20:msg_end]

    def decrypt(self, data: bytes) -> bytes:
        """AES-256-CBC decryption with the envelope's IV, byte for byte what ``AES.new(key, AES.MODE_CBC, iv)
        .decrypt(data)`` gives (``data``: whole blocks): the ECB decryption of every block, XORed with the block
        before it (the IV before the first), as one integer (tests/fuzz/test_fuzz_crypto.py holds it to that)."""
        size = len(data)
        plain = int.from_bytes(self._ecb.decrypt(data), "big") ^ (
            (self._iv_int << (8 * (size - 16))) | int.from_bytes(data[:-16], "big")
        )
        return plain.to_bytes(size, "big")

    def seal(self, message: bytes, random: bytes | None = None) -> str:
        """Encrypt a reply; ``random`` is the 16-byte prefix when the caller drew it (``seal_reply``, in one draw
        with the nonce; a test, for determinism), else it is drawn here."""
        prefix = random_bytes.take(16) if random is None else random
        body = b"".join((prefix, struct.pack(">I", len(message)), message, self._appid))
        pad = _BLOCK - len(body) % _BLOCK
        first = (int.from_bytes(body[:16], "big") ^ self._iv_int ^ self._last).to_bytes(16, "big")
        sealed = self._cbc.encrypt(b"".join((first, body[16:], bytes((pad,)) * pad)))
        self._last = int.from_bytes(sealed[-16:], "big")
        return base64.b64encode(sealed).decode()
