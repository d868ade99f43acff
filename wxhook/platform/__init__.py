"""The Open Platform's third-party platform (第三方平台): serve every official account that authorized it.

``Bot(platform=Platform(...))`` answers the platform's notifications at ``/events`` and its authorizers' pushes at
``/{appid}``; ``bot.platform`` holds its API, tokens and authorizer records. See docs/platform.md.
"""

from . import _config, _events, _records, _release, _service
from ._config import *  # noqa: F403 - each module's __all__ is its share of the platform's names
from ._events import *  # noqa: F403
from ._records import *  # noqa: F403
from ._release import *  # noqa: F403
from ._service import *  # noqa: F403

__all__ = [*_config.__all__, *_events.__all__, *_records.__all__, *_release.__all__, *_service.__all__]

