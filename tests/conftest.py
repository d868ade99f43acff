from __future__ import annotations

import pytest

from wxhook.testing import serve

__all__ = ["AES_KEY", "APPID", "TOKEN", "serve"]

TOKEN = "spamtest"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No WXHOOK_* variables leak in from the machine running the tests."""
    for name in ("WXHOOK_TOKEN", "WXHOOK_APPID", "WXHOOK_SECRET", "WXHOOK_AES_KEY", "WXHOOK_STORE",
                 "WXHOOK_API_BASE", "WXHOOK_MP_BASE"):
        monkeypatch.delenv(name, raising=False)
