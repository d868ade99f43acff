from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Iterator

import pytest

from wxhook.testing import serve

from .redis_server import RedisServer

__all__ = ["AES_KEY", "APPID", "TOKEN", "redis_url", "serve", "until"]

TOKEN = "spamtest"
APPID = "wx2c2769f8efd9abc2"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


async def until(check: Callable[[], object], timeout: float = 10.0) -> None:
    """Wait, polling, for what a server does in its own thread or process (fails after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


@pytest.fixture(autouse=True)
def plain_env() -> Iterator[None]:
    """No WXHOOK_* variables leak in from the machine running the tests, nor from one test to the next (the
    CLI, run in-process, exports its settings as variables)."""
    saved = dict(os.environ)
    for name in [n for n in os.environ if n.startswith("WXHOOK_") and not n.startswith("WXHOOK_REQUIRE_")]:
        del os.environ[name]
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A private redis-server on a free port for the whole run (nothing persisted)."""
    server = RedisServer()
    server.start()
    try:
        yield server.url()
    finally:
        server.stop()
