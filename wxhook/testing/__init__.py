"""Test helpers for bots built on wxhook: ``BotClient`` pushes messages to a bot the way the WeChat server does
(in-process, or to a URL), ``serve`` runs a bot under a real uvicorn, and ``FakeWeChat`` is a fake WeChat API on
loopback, for many accounts (``FakeAccount``) and as the open platform of a third-party platform
(``FakePlatform``); ``start_afresh(bot)`` leaves nothing of an earlier test in a bot. The pytest plugin
(``wxhook.testing.pytest_plugin``) turns them into the ``wechat`` and ``bot_client`` fixtures.

Each module's ``__all__`` is its share of these names (docs/architecture.md, "The public surface").
"""

from ..deprecation import moved_names
from ..protocol import render_message
from . import (
    _bot_client,
    _fake_account,
    _fake_component,
    _fake_platform,
    _fake_release,
    _fake_state,
    _in_process,
    _replies,
    _serve,
    fake_wechat,
)
from ._bot_client import *  # noqa: F403 - one line per module, its names in its own __all__
from ._fake_account import *  # noqa: F403
from ._fake_component import *  # noqa: F403
from ._fake_platform import *  # noqa: F403
from ._fake_release import *  # noqa: F403
from ._fake_state import *  # noqa: F403
from ._in_process import *  # noqa: F403
from ._replies import *  # noqa: F403
from ._serve import *  # noqa: F403
from .fake_wechat import *  # noqa: F403

message_xml = render_message
"""A push's XML as WeChat writes it (``wxhook.protocol.render_message``), for tests that build their own."""

__all__ = [
    *_bot_client.__all__,
    *_fake_account.__all__,
    *_fake_component.__all__,
    *_fake_platform.__all__,
    *_fake_release.__all__,
    *_fake_state.__all__,
    *_in_process.__all__,
    *_replies.__all__,
    *_serve.__all__,
    *fake_wechat.__all__,
    "message_xml",
]

__getattr__ = moved_names(__name__, {"Authorized": "wxhook.testing.FakeAuthorization"})  # wxhook.platform.Authorized
