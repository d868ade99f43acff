"""JS-SDK and card tickets, cached and shared like the access token, and the signatures made from them."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._caller import Caller, Group
from ._token import AccessToken, CachedCredential, Fetcher, issued

__all__ = ["JsapiSignature", "sign_card", "sign_jsapi"]

TicketType = Literal["jsapi", "wx_card"]


@dataclass(frozen=True)
class JsapiSignature:
    """Everything ``wx.config`` needs besides jsApiList."""

    appid: str
    noncestr: str
    timestamp: int
    url: str
    signature: str


def sign_jsapi(ticket: str, noncestr: str, timestamp: int | str, url: str) -> str:
    """The JS-SDK signature: SHA-1 over the four fields in key order; the URL loses its ``#fragment``."""
    page = url.split("#", 1)[0]
    return hashlib.sha1(
        f"jsapi_ticket={ticket}&noncestr={noncestr}&timestamp={timestamp}&url={page}".encode()
    ).hexdigest()


def sign_card(*values: str) -> str:
    """The card signature: SHA-1 over the non-empty values, sorted and joined."""
    return hashlib.sha1("".join(sorted(v for v in values if v)).encode()).hexdigest()


class TicketAPI(Group):
    def __init__(self, caller: Caller, cache: Callable[[str, Fetcher], CachedCredential]) -> None:
        super().__init__(caller)
        self._cached = {kind: cache(kind, self._fetcher(kind)) for kind in ("jsapi", "wx_card")}

    def _fetcher(self, kind: str) -> Fetcher:
        async def fetch(_stale: str | None) -> AccessToken:
            return issued(await self._caller.get("/cgi-bin/ticket/getticket", {"type": kind}), "ticket")

        return fetch

    async def get(self, kind: TicketType = "jsapi") -> str:
        return await self._cached[kind].get()

    async def jsapi_signature(
        self, url: str, noncestr: str | None = None, timestamp: int | None = None
    ) -> JsapiSignature:
        """Sign ``url`` for ``wx.config`` (a fresh nonce and the current time unless given)."""
        noncestr = noncestr or secrets.token_hex(8)
        timestamp = int(time.time()) if timestamp is None else timestamp
        signature = sign_jsapi(await self.get("jsapi"), noncestr, timestamp, url)
        appid = self._caller.credentials.appid()
        return JsapiSignature(appid, noncestr, timestamp, url.split("#", 1)[0], signature)

    async def jssdk_config(
        self,
        url: str,
        apis: Sequence[str] = (),
        *,
        open_tags: Sequence[str] = (),
        debug: bool = False,
        noncestr: str | None = None,
        timestamp: int | None = None,
    ) -> dict[str, Any]:
        """The object to pass to ``wx.config(...)`` for the page at ``url``, ready to serialise as JSON.

        ``url`` is the page's full address as the browser has it (``location.href.split('#')[0]``); a
        page reached through redirects must sign its final address, or ``wx.config`` fails with
        "invalid signature". ``apis`` fills ``jsApiList``, ``open_tags`` ``openTagList`` (e.g.
        ``wx-open-launch-weapp``).
        """
        if not url.startswith(("http://", "https://")):
            raise ValueError(
                f"url must be the page's full address (location.href.split('#')[0]), such as "
                f"https://example.com/page?x=1, not {url!r}"
            )
        signed = await self.jsapi_signature(url, noncestr, timestamp)
        config: dict[str, Any] = {
            "debug": debug,
            "appId": signed.appid,
            "timestamp": signed.timestamp,
            "nonceStr": signed.noncestr,
            "signature": signed.signature,
            "jsApiList": list(apis),
        }
        if open_tags:
            config["openTagList"] = list(open_tags)
        return config

    async def card_signature(
        self,
        *,
        card_id: str = "",
        code: str = "",
        openid: str = "",
        nonce_str: str | None = None,
        timestamp: int | None = None,
    ) -> tuple[str, str, int]:
        """Sign a card call with the wx_card ticket; returns ``(signature, nonce_str, timestamp)``."""
        nonce_str = nonce_str or secrets.token_hex(8)
        timestamp = int(time.time()) if timestamp is None else timestamp
        ticket = await self.get("wx_card")
        return sign_card(ticket, str(timestamp), nonce_str, card_id, code, openid), nonce_str, timestamp
