"""The WeChat Official Account API client: a shared, self-healing access token and typed API groups.

Each module's ``__all__`` is its share of these names (docs/architecture.md, "The public surface").
"""

from ..deprecation import moved_names
from . import (
    _articles,
    _card,
    _card_code,
    _card_info,
    _client,
    _comment,
    _component,
    _customer_service,
    _data,
    _datacube,
    _draft,
    _errors,
    _invoice,
    _mass,
    _material,
    _media,
    _member_card,
    _menu,
    _misc,
    _oauth,
    _ocr,
    _publish,
    _qrcode,
    _shorturl,
    _subscription,
    _tags,
    _template,
    _ticket,
    _token,
    _transport,
    _user,
)
from ._articles import *  # noqa: F403 - one line per module, its names in its own __all__
from ._card import *  # noqa: F403
from ._card_code import *  # noqa: F403
from ._card_info import *  # noqa: F403
from ._client import *  # noqa: F403
from ._comment import *  # noqa: F403
from ._component import *  # noqa: F403
from ._customer_service import *  # noqa: F403
from ._data import *  # noqa: F403
from ._datacube import *  # noqa: F403
from ._draft import *  # noqa: F403
from ._errors import *  # noqa: F403
from ._invoice import *  # noqa: F403
from ._mass import *  # noqa: F403
from ._material import *  # noqa: F403
from ._media import *  # noqa: F403
from ._member_card import *  # noqa: F403
from ._menu import *  # noqa: F403
from ._misc import *  # noqa: F403
from ._oauth import *  # noqa: F403
from ._ocr import *  # noqa: F403
from ._publish import *  # noqa: F403
from ._qrcode import *  # noqa: F403
from ._shorturl import *  # noqa: F403
from ._subscription import *  # noqa: F403
from ._tags import *  # noqa: F403
from ._template import *  # noqa: F403
from ._ticket import *  # noqa: F403
from ._token import *  # noqa: F403
from ._transport import *  # noqa: F403
from ._user import *  # noqa: F403

__all__ = [
    *_articles.__all__,
    *_card.__all__,
    *_card_code.__all__,
    *_card_info.__all__,
    *_client.__all__,
    *_comment.__all__,
    *_component.__all__,
    *_customer_service.__all__,
    *_data.__all__,
    *_datacube.__all__,
    *_draft.__all__,
    *_errors.__all__,
    *_invoice.__all__,
    *_mass.__all__,
    *_material.__all__,
    *_media.__all__,
    *_member_card.__all__,
    *_menu.__all__,
    *_misc.__all__,
    *_oauth.__all__,
    *_ocr.__all__,
    *_publish.__all__,
    *_qrcode.__all__,
    *_shorturl.__all__,
    *_subscription.__all__,
    *_tags.__all__,
    *_template.__all__,
    *_ticket.__all__,
    *_token.__all__,
    *_transport.__all__,
    *_user.__all__,
]

__getattr__ = moved_names(__name__, {"Article": "wxhook.Article"})  # a part of a News reply: the webhook's door
