"""HTTP to WeChat: one connection pool, timeouts always on, bounded retries with failover across domains."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from .._util import LoopBound
from ._errors import WeChatNetworkError

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


@dataclass(frozen=True)
class Answer:
    """One HTTP answer; ``data`` is the parsed JSON object when the body is one."""

    status: int
    content: bytes
    headers: httpx.Headers
    data: dict[str, Any] | None

    @property
    def errcode(self) -> int:
        return int((self.data or {}).get("errcode") or 0)


def _answer(response: httpx.Response) -> Answer:
    data: dict[str, Any] | None = None
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith(_BINARY_TYPES):
        try:
            parsed = json.loads(response.content)
        except ValueError:
            parsed = None
        data = parsed if isinstance(parsed, dict) else None
    return Answer(response.status_code, response.content, response.headers, data)


class Transport:
    """Sends requests; retries only what is safe to repeat, moving to the next domain on each retry."""

    def __init__(
        self, domains: Sequence[str], mp_base: str, open_base: str, timeout: httpx.Timeout, retry: RetryPolicy
    ) -> None:
        if not domains:
            raise ValueError("domains= is empty; pass at least one API base URL or leave it unset")
        self.domains = tuple(d.rstrip("/") for d in domains)
        self.mp_base = mp_base.rstrip("/")
        self.open_base = open_base.rstrip("/")
        self._retry = retry
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
        retry = 0
        while True:
            root = base or self.domains[retry % len(self.domains)]
            failure: WeChatNetworkError | None = None
            answer: Answer | None = None
            try:
                response = await self._client().request(
                    method, root + path, params=params, content=content, files=files, data=data, headers=headers
                )
            except httpx.TransportError as exc:
                repeatable = safe or isinstance(exc, _NEVER_SENT)
                failure = WeChatNetworkError(
                    f"WeChat API {path} unreachable at {root}: {type(exc).__name__}: {exc or 'no detail'}; "
                    "check network access to the API domains (domains=, api_base= / WXHOOK_API_BASE)",
                    path,
                    maybe_delivered=not isinstance(exc, _NEVER_SENT),
                )
            else:
                answer = _answer(response)
                repeatable = safe and (answer.status >= 500 or answer.errcode == -1)
                if answer.status >= 300:
                    failure = WeChatNetworkError(
                        f"WeChat API {path} answered HTTP {answer.status} at {root}; "
                        "check api_base= / WXHOOK_API_BASE or the proxy in between",
                        path,
                        status=answer.status,
                        transient=answer.status >= 500,
                    )
            if repeatable and retry < self._retry.max_retries:
                delay = self._retry.delay(retry)
                if loop.time() - started + delay <= self._retry.deadline:
                    log.warning("retrying %s %s in %.2fs: %s", method, path, delay, failure or "errcode -1")
                    await asyncio.sleep(delay)
                    retry += 1
                    continue
            if failure is not None:
                raise failure
            assert answer is not None
            return answer
