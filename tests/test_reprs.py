"""No secret in any repr or str: a traceback with locals, a debugger, an error tracker or a failing test's output
shows objects by their repr, so no object wxhook defines may show the token, the AppSecret, the EncodingAESKey,
an access or user token, a signing key or a store password, nor any wxhook object reachable from it.

``HOLDERS`` is a table of (class, factory, secrets). A public class (``wxhook``, ``wxhook.api``,
``wxhook.testing``) whose fields or constructor parameters are named like a secret (``token``, ``secret``,
``aes_key``, ``password``, ``*_token``, ``*_key``), or whose own name says it is one (``…Token``, ``…Secret``,
``…Credentials``), must have a row: a new class holding a secret fails
``test_every_public_class_holding_a_secret_has_a_row`` until one is added.
"""

from __future__ import annotations

import base64
import dataclasses
import inspect
import re
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

import wxhook
import wxhook.api
import wxhook.platform
import wxhook.testing
from wxhook import Account, Bot, WebLogin
from wxhook.api import AccessToken, Authorization, Client, ComponentAPI, ComponentOAuthAPI, ListedAuthorizer, OAuthToken
from wxhook.api._caller import Credentials
from wxhook.config import Settings, load_settings
from wxhook.crypto import Envelope, decode_aes_key
from wxhook.platform import Authorized, Authorizer, Platform, VerifyTicket
from wxhook.stores import ResilientStore, open_store
from wxhook.stores.redis import RedisStore, RedisTarget, parse_redis_url
from wxhook.testing import BotClient, FakeWeChat, RecordedCall
from wxhook.testing._fake_component import AuthorizationRecord
from wxhook.weblogin import StateSigner

TOKEN = "TOKEN-no-repr-1f3a"
APPID = "wx0000000000e9401a"
SECRET = "SECRET-no-repr-7c2e9b"
AES_KEY = "ReprTestKeyReprTestKeyReprTestKeyReprTestK0"
AES_BYTES = decode_aes_key(AES_KEY)
ACCESS = "ACCESS-no-repr-44d0"
REFRESH = "REFRESH-no-repr-9a1c"
SIGNING = "SIGNING-no-repr-e5b7"
PASSWORD = "PASSWORD-no-repr-03f6"
CODE = "CODE-no-repr-8b2d"

MODULES: tuple[ModuleType, ...] = (wxhook, wxhook.api, wxhook.platform, wxhook.testing)
SECRET_NAME = re.compile(r"(?:.*_)?(?:token|secret|password|key|ticket)")
SECRET_CLASS = re.compile(r"Token|Secret|Credential|Password|Signer")
NOT_SECRETS = {
    "event_key": "what the follower's client sends: a menu button's key, a QR code's scene",
    "ticket": "a QR code's ticket, printed in the code's own image URL (QRCode, ScanEvent, SubscribeEvent); a shake "
              "red packet's, which the merchant made and the push names (ShakearoundLotteryBindEvent)",
    "file_key": "the id of a file a follower sent, in the push itself (FileMessage)",
}


@dataclasses.dataclass(frozen=True)
class Holder:
    kind: type
    build: Callable[[], object]
    secrets: tuple[str | bytes, ...]


async def _on_login(request: Request, user: object) -> Response:
    return Response()


def _web_login() -> WebLogin[Any]:
    login = WebLogin(Client(APPID, SECRET), _on_login, secret=SIGNING)
    login._state_signer()  # the signer, with its key, is built on first use
    return login


async def _no_ticket() -> str | None:
    return None


def _component() -> ComponentAPI:
    return Client("", "").component(APPID, SECRET, _no_ticket, lambda: RuntimeError("no ticket"))


def _platform_bot() -> Bot:
    return Bot(platform=Platform(APPID, SECRET, TOKEN, AES_KEY), store="memory://")


HOLDERS = [
    Holder(Settings, lambda: load_settings(TOKEN, APPID, SECRET, AES_KEY, 1024), (TOKEN, SECRET, AES_BYTES)),
    Holder(Bot, lambda: Bot(token=TOKEN, appid=APPID, secret=SECRET, aes_key=AES_KEY),
           (TOKEN, SECRET, AES_BYTES)),
    Holder(Client, lambda: Client(APPID, SECRET), (SECRET,)),
    Holder(Credentials, lambda: Credentials(APPID, SECRET), (SECRET,)),
    Holder(AccessToken, lambda: AccessToken(ACCESS, 7200), (ACCESS,)),
    Holder(OAuthToken, lambda: OAuthToken(ACCESS, "o_user", refresh_token=REFRESH), (ACCESS, REFRESH)),
    Holder(StateSigner, lambda: StateSigner(SIGNING.encode(), 600), (SIGNING.encode(),)),
    Holder(WebLogin, _web_login, (SECRET, SIGNING.encode())),
    Holder(Envelope, lambda: Envelope(AES_BYTES, APPID), (AES_BYTES[:16],)),  # it keeps the IV half of the key
    Holder(FakeWeChat, lambda: FakeWeChat(appid=APPID, secret=SECRET), (SECRET,)),
    Holder(RecordedCall, lambda: RecordedCall(
        "POST", "/sns/oauth2/access_token", {"appid": APPID, "secret": SECRET, "code": CODE},
        {"grant_type": "client_credential", "nested": [{"access_token": ACCESS}]}, b"", {}),
        (SECRET, CODE, ACCESS)),
    Holder(BotClient, lambda: BotClient("http://127.0.0.1:9/", token=TOKEN, appid=APPID, aes_key=AES_KEY),
           (TOKEN, AES_BYTES[:16])),
    Holder(RedisTarget, lambda: parse_redis_url(f"redis+sentinel://user:{PASSWORD}@127.0.0.1:26379/primary"),
           (PASSWORD,)),
    Holder(RedisStore, lambda: RedisStore(f"redis://user:{PASSWORD}@127.0.0.1:6379/0"), (PASSWORD,)),
    Holder(ResilientStore, lambda: open_store(f"redis://:{PASSWORD}@127.0.0.1:6379/0"), (PASSWORD,)),
    Holder(Account, lambda: Account(APPID, token=TOKEN, aes_key=AES_KEY, secret=SECRET), (TOKEN, SECRET, AES_KEY)),
    Holder(Platform, lambda: Platform(APPID, SECRET, TOKEN, AES_KEY), (TOKEN, SECRET, AES_KEY)),
    Holder(Bot, _platform_bot, (TOKEN, SECRET, AES_KEY)),
    Holder(Authorizer, lambda: Authorizer(APPID, refresh_token=REFRESH, code=CODE), (REFRESH, CODE)),
    Holder(Authorization, lambda: Authorization(APPID, ACCESS, 7200, REFRESH), (ACCESS, REFRESH)),
    Holder(ListedAuthorizer, lambda: ListedAuthorizer(APPID, REFRESH), (REFRESH,)),
    Holder(VerifyTicket, lambda: VerifyTicket("component_verify_ticket", APPID, 1, ticket=ACCESS), (ACCESS,)),
    Holder(Authorized, lambda: Authorized("authorized", APPID, 1, authorizer_appid=APPID, authorization_code=CODE,
                                          pre_auth_code=REFRESH), (CODE, REFRESH)),
    Holder(ComponentAPI, _component, (SECRET,)),
    Holder(ComponentOAuthAPI, lambda: ComponentOAuthAPI(_component()._caller, _component(), lambda: SECRET),
           (SECRET,)),
    Holder(AuthorizationRecord, lambda: AuthorizationRecord(APPID, REFRESH, (1,), 0), (REFRESH,)),
]


def forms(secret: str | bytes) -> list[str]:
    """How a secret could show up in text: itself; bytes as a bytes repr, hex or base64 (an EncodingAESKey is the
    key's base64)."""
    if isinstance(secret, str):
        return [secret]
    return [repr(secret)[2:-1], secret.hex(), base64.b64encode(secret).decode().rstrip("=")]


def children(obj: object) -> Iterator[object]:
    """An object's attribute values (instance dict and slots) or a container's items."""
    if isinstance(obj, dict):
        yield from obj.values()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        yield from obj
    else:
        yield from getattr(obj, "__dict__", {}).values()
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name) and not name.startswith("__"):
                    yield getattr(obj, name)


def reachable(root: object, depth: int = 8) -> Iterator[object]:
    """``root`` and every object reachable from it through attributes and containers, to ``depth``."""
    seen: set[int] = set()
    level = [root]
    for _ in range(depth):
        below: list[object] = []
        for obj in level:
            if id(obj) in seen or isinstance(obj, (str, bytes, int, float, type, ModuleType)) or inspect.isroutine(obj):
                continue
            seen.add(id(obj))
            yield obj
            below.extend(children(obj))
        level = below


def held(root: object, secret: str | bytes) -> bool:
    """Whether the secret is really in the object (else the row would test nothing)."""
    values = (value for obj in reachable(root) for value in children(obj))
    return any(value == secret or (isinstance(value, str) and secret in value) for value in values
               if isinstance(value, type(secret)))


@pytest.mark.parametrize("holder", HOLDERS, ids=lambda holder: holder.kind.__name__)
def test_no_secret_in_any_repr(holder: Holder) -> None:
    obj = holder.build()
    assert isinstance(obj, holder.kind)
    for secret in holder.secrets:
        assert held(obj, secret), f"{holder.kind.__name__} does not hold {secret!r}: fix the row"
    shown = [obj for obj in reachable(obj) if type(obj).__module__.startswith("wxhook")]
    for part in shown:
        for text in (repr(part), str(part)):
            for secret in holder.secrets:
                assert not any(form in text for form in forms(secret)), (
                    f"repr/str of {type(part).__qualname__} (in a {holder.kind.__name__}) shows a secret: {text[:300]}")


def secret_names(cls: type) -> set[str]:
    """The names of ``cls``'s fields (or constructor parameters) that look like a secret's, or its own name."""
    if dataclasses.is_dataclass(cls):
        names = {field.name for field in dataclasses.fields(cls)}
    else:
        try:
            names = set(inspect.signature(cls).parameters)
        except (TypeError, ValueError):
            names = set()
    found = {name for name in names if SECRET_NAME.fullmatch(name) and name not in NOT_SECRETS}
    named = SECRET_CLASS.search(cls.__name__) and not issubclass(cls, BaseException)  # InvalidCredentialError
    return found | ({cls.__name__} if named else set())


def test_every_public_class_holding_a_secret_has_a_row() -> None:
    public = {value for module in MODULES for value in (getattr(module, name) for name in module.__all__)
              if inspect.isclass(value)}
    holding = {cls.__name__: sorted(secret_names(cls)) for cls in public if secret_names(cls)}
    covered = {holder.kind.__name__ for holder in HOLDERS}
    missing = {name: names for name, names in holding.items() if name not in covered}
    assert not missing, f"add a Holder(class, factory, secrets) row to HOLDERS for each of {missing}"
    assert {"Bot", "Client", "AccessToken", "OAuthToken", "WebLogin", "BotClient", "FakeWeChat"} <= set(holding)
