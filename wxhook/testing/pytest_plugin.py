"""wxhook's pytest plugin, loaded by pytest once wxhook is installed: the ``wechat`` and ``bot_client`` fixtures.

Both are plain (synchronous) fixtures, so tests need no async plugin: ``bot_client`` runs its own event loop.
``bot_client`` talks to the bot of a ``bot`` fixture you define (in conftest.py), or else to the one named by
the ``wxhook_bot`` ini option (``wxhook_bot = mybot:bot``); each test gets that bot with no state of the one
before (docs/testing.md).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ..app import Bot
from ..loading import load_bot
from ._bot_client import BotClient, SyncBotClient
from ._in_process import start_afresh
from .fake_wechat import FakeWeChat

_INI = "wxhook_bot"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(_INI, "the Bot the bot_client fixture talks to, as module:attribute (unless a `bot` fixture "
                        "is defined)", default="")


def _find_bot(request: pytest.FixtureRequest) -> Bot:
    try:
        bot = request.getfixturevalue("bot")
    except pytest.FixtureLookupError:
        pass
    else:
        if not isinstance(bot, Bot):
            raise TypeError(f"the `bot` fixture returned {type(bot).__name__}, not a wxhook Bot")
        return bot
    target = str(request.config.getini(_INI))
    if not target:
        raise pytest.UsageError(
            "bot_client needs a bot: define a `bot` fixture returning your Bot, or set `wxhook_bot = module:bot` "
            "in the [pytest] section of pytest.ini (or [tool.pytest.ini_options] in pyproject.toml)"
        )
    return load_bot(target)


@pytest.fixture
def wechat() -> Iterator[FakeWeChat]:
    """A FakeWeChat serving on loopback for the test; ``bot_client`` points the bot's API client at it."""
    with FakeWeChat() as fake:
        yield fake


@pytest.fixture
def bot_client(request: pytest.FixtureRequest, wechat: FakeWeChat) -> Iterator[SyncBotClient]:
    """A synchronous BotClient for the bot, in-process, its API client on the ``wechat`` fake, the bot's state
    fresh (``start_afresh``); leaving the test runs the bot's shutdown, so deferred replies have been delivered by
    then."""
    bot = _find_bot(request)
    start_afresh(bot)
    with BotClient(bot, fake=wechat) as client:
        yield client

