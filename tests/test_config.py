import inspect
import re
from pathlib import Path

import pytest

from wxhook import Bot, ConfigError

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def test_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXHOOK_TOKEN", "from-env")
    monkeypatch.setenv("WXHOOK_APPID", "wxenv")
    monkeypatch.setenv("WXHOOK_SECRET", "env-secret")
    bot = Bot(token="from-arg")
    assert (bot.settings.token, bot.settings.appid, bot.settings.secret) == ("from-arg", "wxenv", "env-secret")
    assert bot.settings.aes_key is None


def test_environment_alone_configures_safe_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXHOOK_TOKEN", "t")
    monkeypatch.setenv("WXHOOK_APPID", "wx2c2769f8efd9abc2")
    monkeypatch.setenv("WXHOOK_AES_KEY", KEY)
    assert Bot().settings.aes_key is not None and len(Bot().settings.aes_key or b"") == 32


def test_missing_token_names_the_variable() -> None:
    with pytest.raises(ConfigError, match="WXHOOK_TOKEN"):
        Bot()
    with pytest.raises(ConfigError, match="WXHOOK_TOKEN"):
        Bot(token="   ")


@pytest.mark.parametrize("key", [KEY[:-1], KEY + "A", KEY[:-1] + "!", KEY[:-1] + "="])
def test_bad_aes_key_names_the_variable(key: str) -> None:
    with pytest.raises(ConfigError, match="WXHOOK_AES_KEY") as info:
        Bot(token="t", appid="wx1", aes_key=key)
    assert "EncodingAESKey" in str(info.value)


def test_safe_mode_needs_an_appid() -> None:
    with pytest.raises(ConfigError, match="WXHOOK_APPID"):
        Bot(token="t", aes_key=KEY)


def test_body_limit_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="max_body_size"):
        Bot(token="t", max_body_size=0)


def test_bots_docstring_lists_every_parameter_once_and_configuration_md_too() -> None:
    """``help(Bot)`` is a list to scan: a bullet per parameter, in the order of the signature."""
    parameters = [name for name in inspect.signature(Bot).parameters]
    bullets = re.findall(r"^\s+- ``(\w+)``(?:, ``(\w+)``)?", Bot.__doc__ or "", re.MULTILINE)
    assert [name for pair in bullets for name in pair if name] == parameters
    table = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [name for name in parameters if f"`{name}`" not in table] == []
