"""The one path every API group takes: add the token, send, map errcodes, heal a refused token once."""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..logs import redact
from ._data import WeChatData
from ._errors import (
    ConfigurationError,
    InvalidCredentialError,
    MissingFieldError,
    UnexpectedAnswerError,
    WeChatNetworkError,
    api_error,
)
from ._token import CachedCredential
from ._transport import Answer, Fields, Transport, parse_json

R = TypeVar("R", bound=WeChatData)
T = TypeVar("T")

_JSON_HEADERS = {"content-type": "application/json; charset=utf-8"}


def encode_json(body: Mapping[str, Any]) -> bytes:
    """UTF-8 without ``\\u`` escapes: WeChat answers 40033 to escaped Chinese."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def build(cls: type[R], data: Mapping[str, Any], **fields: Any) -> R:
    """A result dataclass from a JSON object: matching keys fill fields, the whole object stays in ``raw``.

    Keeping ``raw`` is what makes fields WeChat adds later reachable without a release of wxhook. A required
    field WeChat left out raises :class:`MissingFieldError`, naming the path (every answered object knows it).
    """
    names = {f.name for f in dataclasses.fields(cls)} - {"raw"}
    values: dict[str, Any] = {name: data[name] for name in names if name in data}
    values["raw"] = dict(data)
    values.update(fields)
    missing = sorted(
        f.name
        for f in dataclasses.fields(cls)
        if f.name not in values and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    )
    if missing:
        known = next((m for m in (data, fields.get("raw")) if isinstance(m, Fields)), None)
        path = known.path if known is not None else "(unknown path)"
        raise MissingFieldError(path, f"a {cls.__name__} without the `{'`, `'.join(missing)}` field")
    return cls(**values)


@dataclass(frozen=True)
class Credentials:
    """appid and secret, checked only when a call needs them: a Client can be built before they are set."""

    appid_value: str | None
    secret_value: str | None = field(repr=False)

    def appid(self) -> str:
        if not self.appid_value:
            raise ConfigurationError("no appid: pass Client(appid=...) or set WXHOOK_APPID")
        return self.appid_value

    def secret(self) -> str:
        if not self.secret_value:
            raise ConfigurationError(
                "no app secret, needed to fetch an access token: pass Client(secret=...) or set "
                "WXHOOK_SECRET (or give token_provider= when the token comes from a central service)"
            )
        return self.secret_value


class Caller:
    """``token_param`` names the query parameter the token travels in (``component_access_token`` for a third-party
    platform's own calls)."""

    def __init__(self, transport: Transport, token: CachedCredential, credentials: Credentials,
                 token_param: str = "access_token") -> None:
        self.transport = transport
        self.token = token
        self.credentials = credentials
        self.token_param = token_param

    async def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        form: Mapping[str, str] | None = None,
        safe: bool = True,
        with_token: bool = True,
        base: str | None = None,
    ) -> Answer:
        """A refused token (40001/40014/42001) is dropped if still cached, refetched, the call retried once.

        The retry is safe even for sends: WeChat refused the request before acting on it. When no token can be
        had, the WeChatNetworkError raised says ``maybe_delivered=False``: the call never left.
        """
        send = functools.partial(
            self.transport.request,
            method,
            path,
            content=None if body is None else encode_json(body),
            headers=None if body is None else _JSON_HEADERS,
            files=files,
            data=form,
            base=base,
            safe=safe,
        )
        try:
            token = await self.token.get() if with_token else None
        except WeChatNetworkError as exc:
            exc.maybe_delivered = False  # the call itself was never sent: a send may be retried
            raise
        answer = await send(params=self._with_token(token, params))
        if token is not None and answer.errcode in InvalidCredentialError.codes:
            await self.token.invalidate(token)
            answer = await send(params=self._with_token(await self.token.get(), params))
        if answer.errcode:
            raise api_error(answer.errcode, str(answer.data.get("errmsg", "") if answer.data else ""), path)
        return answer

    def _with_token(self, token: str | None, params: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """None rather than {}: an empty mapping would make httpx drop a query already in the URL."""
        query = {**({self.token_param: token} if token else {}), **(params or {})}
        return query or None

    async def get(self, path: str, params: Mapping[str, Any] | None = None, **options: Any) -> Fields:
        return _json(await self.call("GET", path, params=params, **options), path)

    async def post(self, path: str, body: Mapping[str, Any], **options: Any) -> Fields:
        return _json(await self.call("POST", path, body=body, **options), path)

    async def upload(
        self, path: str, files: Mapping[str, tuple[str, bytes, str]], **options: Any
    ) -> Fields:
        """A multipart POST answered with JSON; ``form=`` adds plain fields next to the files."""
        return _json(await self.call("POST", path, files=files, **options), path)




def _json(answer: Answer, path: str) -> Fields:
    if answer.data is None:
        parsed = parse_json(answer.content, path)
        problem = (
            f"{redact(repr(answer.content[:80]))} where JSON was expected"
            if parsed is None
            else f"a JSON {type(parsed).__name__} where a JSON object was expected"
        )
        raise UnexpectedAnswerError(path, problem, status=answer.status)
    return answer.data


def needed(value: str, name: str) -> str:
    """A non-empty identifier (a card_id, a code, an openid …), or a ValueError naming it."""
    if not value:
        raise ValueError(f"{name} must be a non-empty string")
    return value


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Group:
    """Base of the API groups: they only describe requests and results, the Caller does the rest."""

    def __init__(self, caller: Caller) -> None:
        self._caller = caller

    async def _post_openids(self, path: str, openids: Sequence[str], size: int, **extra: Any) -> None:
        """Batch endpoints cap the openid list; split any length into requests WeChat accepts."""
        for chunk in chunks(openids, size):
            await self._caller.post(path, {"openid_list": list(chunk), **extra})
