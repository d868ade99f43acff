"""HTTP to WeChat: one connection pool, timeouts always on, bounded retries with failover across domains."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from ..loops import LoopBound
from ._errors import MissingFieldError, ResponseTooLargeError, UnexpectedAnswerError, WeChatNetworkError

__all__ = ["OFFICIAL_DOMAINS"]

log = logging.getLogger("wxhook.api")

OFFICIAL_DOMAINS: tuple[str, ...] = (
    "https://api.weixin.qq.com",
    "https://api2.weixin.qq.com",
    "https://sh.api.weixin.qq.com",
    "https://sz.api.weixin.qq.com",
    "https://hk.api.weixin.qq.com",
)
MP_BASE = "https://mp.weixin.qq.com"
OPEN_BASE = "https://open.weixin.qq.com"

# Failures that prove the request never reached WeChat, so even a non-idempotent send may be repeated.
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_BINARY_TYPES = ("image/", "audio/", "video/", "application/octet-stream")
_TIMEOUT_STAGES: tuple[tuple[type[Exception], str], ...] = (
    (httpx.ConnectTimeout, "connecting to"),
    (httpx.PoolTimeout, "waiting for a connection to"),
    (httpx.WriteTimeout, "sending to"),
)
_INTEGER = re.compile(r"-?[0-9]{1,12}")
# httpx's own timeouts fire first and say which phase stalled; this backstop catches an answer that trickles
# in just fast enough to reset the read timeout.
_SLACK = 0.1
_MIN_ATTEMPT = 0.01  # a retry's sleep may overshoot the deadline by a hair; its attempt still gets a timeout


@dataclass(frozen=True)
class RetryPolicy:
    """``max_retries`` extra attempts, exponential backoff with jitter, all within ``deadline`` seconds."""

    max_retries: int = 3
    backoff: float = 0.2
    backoff_max: float = 2.0
    deadline: float = 15.0

    def delay(self, retry: int) -> float:
        """Full-jitter-ish delay before retry number ``retry`` (0-based): never zero, never above the cap."""
        return float(min(self.backoff_max, self.backoff * 2**retry) * random.uniform(0.5, 1.0))


class Fields(dict[str, Any]):
    """A JSON object WeChat answered (at any depth): a missing key raises :class:`MissingFieldError` naming
    the API path, so result parsing that indexes a documented field fails as a WeChatError."""

    def __init__(self, data: dict[str, Any], path: str) -> None:
        super().__init__(data)
        self.path = path

    def __missing__(self, key: str) -> Any:
        raise MissingFieldError(self.path, f"without the `{key}` field")


@dataclass(frozen=True)
class Answer:
    """One HTTP answer; ``data`` is the parsed JSON object when the body is one, ``errcode`` its errcode."""

    status: int
    content: bytes
    headers: httpx.Headers
    data: Fields | None
    errcode: int


def _answer(response: httpx.Response, content: bytes, path: str) -> Answer:
    data: Fields | None = None
    if not response.headers.get("content-type", "").startswith(_BINARY_TYPES):
        parsed = parse_json(content, path)
        data = parsed if isinstance(parsed, Fields) else None
    status = response.status_code
    return Answer(status, content, response.headers, data, _errcode(data, path, status) if status < 300 else 0)


def parse_json(content: bytes, path: str) -> Any:
    """The JSON value of a body, its objects as :class:`Fields` of ``path``; None when it is not JSON
    (nested past the parser's depth included)."""
    try:
        return json.loads(content, object_hook=functools.partial(Fields, path=path))
    except (ValueError, RecursionError):
        return None


def _errcode(data: Fields | None, path: str, status: int) -> int:
    """An integer (or a string of one, as some proxies re-encode it); anything else is no answer to trust."""
    value = (data.get("errcode") if data is not None else None) or 0
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise UnexpectedAnswerError(path, f"an errcode that is not an integer ({str(value)[:20]!r})", status=status)


def _capped(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    """Each phase's timeout, never past what remains of the call's budget."""

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )


async def _read(response: httpx.Response, limit: int) -> bytes | None:
    """The body, or None as soon as it is known to exceed ``limit``: at most ``limit`` plus one chunk is held."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _failure(exc: Exception, path: str, root: str, elapsed: float) -> WeChatNetworkError:
    """What went wrong in words an operator can act on; ``maybe_delivered`` unless it provably never left."""
    sent = not isinstance(exc, _NEVER_SENT)
    if isinstance(exc, (httpx.TimeoutException, asyncio.TimeoutError)):
        stage = next((words for kind, words in _TIMEOUT_STAGES if isinstance(exc, kind)), "waiting for")
        message = (
            f"WeChat API {path} timed out after {elapsed:.1f} s {stage} {root}; timeout= bounds each attempt "
            "and retry_deadline= the whole call: raise them, or check network access to the API domains"
        )
    else:
        what = "lost its answer from" if sent else "could not reach"
        message = (
            f"WeChat API {path} {what} {root}: {type(exc).__name__}: {exc or 'no detail'}; "
            "check network access to the API domains (domains=, api_base= / WXHOOK_API_BASE)"
        )
    return WeChatNetworkError(message, path, maybe_delivered=sent)


class Transport:
    """Sends requests; retries only what is safe to repeat, moving to the next domain on each retry.

    One request, retries included, ends within ``retry_deadline`` seconds: every attempt's timeouts are cut
    to what remains of it. Reading stops past ``max_response_size`` bytes.
    """

    def __init__(
        self,
        domains: Sequence[str],
        mp_base: str,
        open_base: str,
        timeout: httpx.Timeout,
        retry: RetryPolicy,
        max_response_size: int,
    ) -> None:
        if not domains:
            raise ValueError("domains= is empty; pass at least one API base URL or leave it unset")
        if max_response_size < 1:
            raise ValueError(f"max_response_size must be a positive number of bytes, got {max_response_size}")
        self.domains = tuple(d.rstrip("/") for d in domains)
        self.mp_base = mp_base.rstrip("/")
        self.open_base = open_base.rstrip("/")
        self._retry = retry
        self._timeout = timeout
        self._max_response_size = max_response_size
        self._http = LoopBound(lambda: httpx.AsyncClient(timeout=timeout))

    def _client(self) -> httpx.AsyncClient:
        """Created on first use, so a Client can be built at import time.

        A pool belongs to one event loop; a Client used from a new loop gets a new pool (the old one's
        sockets died with their loop), so use one Client per loop or ``async with`` inside each run.
        """
        return self._http.get()

    async def aclose(self) -> None:
        http = self._http.take()
        if http is not None:
            await http.aclose()

    async def _exchange(self, request: httpx.Request) -> tuple[httpx.Response, bytes | None]:
        response = await self._client().send(request, stream=True)
        try:
            return response, await _read(response, self._max_response_size)
        finally:
            await response.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        base: str | None = None,
        safe: bool = True,
    ) -> Answer:
        """One logical call. ``safe`` marks it repeatable; otherwise only never-sent failures are retried."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self._retry.deadline
        retry = 0
        reached = False  # whether any attempt so far may have reached WeChat
        while True:
            root = base or self.domains[retry % len(self.domains)]
            remaining = max(deadline - loop.time(), _MIN_ATTEMPT)
            failure: WeChatNetworkError | None = None
            answer: Answer | None = None
            request = self._client().build_request(
                method,
                root + path,
                params=params,
                content=content,
                files=files,
                data=data,
                headers=headers,
                timeout=_capped(self._timeout, remaining),
            )
            try:
                response, body = await asyncio.wait_for(self._exchange(request), remaining + _SLACK)
            except (httpx.TransportError, asyncio.TimeoutError) as exc:
                failure = _failure(exc, path, root, loop.time() - started)
                repeatable = safe or not failure.maybe_delivered
            else:
                if body is None:
                    raise ResponseTooLargeError(path, self._max_response_size, status=response.status_code)
                answer = _answer(response, body, path)
                repeatable = safe and (answer.status >= 500 or answer.errcode == -1)
                if answer.status >= 300:
                    failure = WeChatNetworkError(
                        f"WeChat API {path} answered HTTP {answer.status} at {root}; "
                        "check api_base= / WXHOOK_API_BASE or the proxy in between",
                        path,
                        status=answer.status,
                        transient=answer.status >= 500,
                        maybe_delivered=answer.status >= 500,
                    )
            reached = reached or (failure is not None and failure.maybe_delivered)
            if repeatable and retry < self._retry.max_retries:
                delay = self._retry.delay(retry)
                if loop.time() + delay < deadline:
                    log.warning("retrying %s %s in %.2fs: %s", method, path, delay, failure or "errcode -1")
                    await asyncio.sleep(delay)
                    retry += 1
                    continue
            if failure is not None:
                failure.maybe_delivered = reached
                raise failure
            assert answer is not None
            return answer
