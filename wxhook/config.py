"""Settings from arguments and ``WXHOOK_*`` variables, validated once at construction.

A misconfigured bot should fail when the process starts, with the variable to fix, not on the first
follower's message with a 403 nobody reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .crypto import decode_aes_key

__all__ = ["ConfigError"]


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the argument, the variable and the fix.

    One class for the bot, the API client and store URLs (``wxhook.api.ConfigurationError`` is this class).
    """


@dataclass(frozen=True, slots=True)
class Settings:
    """The checked settings; the repr leaves out the credentials, so a traceback or a debugger never shows them."""

    token: str = field(repr=False)
    appid: str | None
    secret: str | None = field(repr=False)
    aes_key: bytes | None = field(repr=False)
    max_body_size: int


MAX_DEADLINE = 4.8
"""The longest reply window: WeChat gives up on a push 5 s after sending it, and the answer (counted from the
push's arrival) still has to travel back."""


def check_deadline(option: str, seconds: float) -> None:
    """ConfigError unless ``seconds`` is a reply window WeChat waits for: more than 0, at most ``MAX_DEADLINE``."""
    if not 0 < seconds <= MAX_DEADLINE:
        raise ConfigError(f"{option} must be more than 0 and at most {MAX_DEADLINE:g} seconds, got {seconds}: WeChat "
                          "gives up on a push after 5 s, and the answer needs the rest to travel back; a handler "
                          "that takes longer is answered through the API anyway (docs/five-seconds.md)")


def setting(value: str | None, variable: str) -> str | None:
    """An argument, else the environment variable; surrounding whitespace (a pasted newline) stripped, and
    an empty value is no value."""
    if value is None:
        value = os.environ.get(variable)
    return value.strip() or None if value is not None else None


def load_settings(
    token: str | None,
    appid: str | None,
    secret: str | None,
    aes_key: str | None,
    max_body_size: int,
) -> Settings:
    """Merge arguments with the environment (arguments win) and check what the webhook needs."""
    token = setting(token, "WXHOOK_TOKEN")
    if token is None:
        raise ConfigError(
            "no WeChat token: pass Bot(token=...) or set WXHOOK_TOKEN to the Token entered under "
            "设置与开发 → 基本配置 → 服务器配置 (Server configuration) of the Official Account"
        )
    appid = setting(appid, "WXHOOK_APPID")
    encoding_aes_key = setting(aes_key, "WXHOOK_AES_KEY")
    key: bytes | None = None
    if encoding_aes_key is not None:
        try:
            key = decode_aes_key(encoding_aes_key)
        except ValueError as exc:
            raise ConfigError(
                f"invalid EncodingAESKey: {exc}; copy the 43-character EncodingAESKey from the Official "
                "Account's server configuration into WXHOOK_AES_KEY (or Bot(aes_key=...))"
            ) from None
        if appid is None:
            raise ConfigError(
                "safe mode needs the appid: an EncodingAESKey is set, so also pass Bot(appid=...) or set "
                "WXHOOK_APPID (the AppID, wx..., from 设置与开发 → 基本配置)"
            )
    if max_body_size < 1:
        raise ConfigError(f"max_body_size must be a positive number of bytes, got {max_body_size}")
    return Settings(
        token=token,
        appid=appid,
        secret=setting(secret, "WXHOOK_SECRET"),
        aes_key=key,
        max_body_size=max_body_size,
    )
