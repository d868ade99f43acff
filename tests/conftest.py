from __future__ import annotations

from collections.abc import Iterator

import pytest

from wxhook.testing import serve

from .redis_server import RedisServer

__all__ = ["AES_KEY", "APPID", "TOKEN", "redis_url", "serve"]

TOKEN = "spamtest"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture(autouse=True)
def plain_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No WXHOOK_* variables leak in from the machine running the tests."""
    for name in ("WXHOOK_TOKEN", "WXHOOK_APPID", "WXHOOK_SECRET", "WXHOOK_AES_KEY", "WXHOOK_STORE", "WXHOOK_QUEUE",
                 "WXHOOK_API_BASE", "WXHOOK_MP_BASE", "WXHOOK_OPEN_BASE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free port for the whole run (nothing persisted)."""
    server = RedisServer()
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()
