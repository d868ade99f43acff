"""The fake as WeChat's push side for a platform: authorization events sealed with the component's token,
EncodingAESKey and appid (the safe-mode scheme an official account uses), posted to the bot over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from ..crypto import Envelope, decode_aes_key
from ..protocol import render_message, sign_query
from ._fake_component import Component, EventPush

ANSWER_WITHIN = 5.0
"""Seconds WeChat waits for the bot to answer a push."""


def seal_event(component: Component, fields: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    """The query and body of a push to the authorization-event URL: ``<xml><AppId>…</AppId><Encrypt>…</Encrypt>``,
    with ``signature``, ``timestamp``, ``nonce``, ``encrypt_type=aes`` and ``msg_signature``."""
    envelope = Envelope(decode_aes_key(component.aes_key), component.appid)
    encrypted = envelope.seal(render_message(fields).encode())
    body = render_message({"AppId": component.appid, "Encrypt": encrypted}).encode()
    return sign_query(component.token, encrypted), body


async def deliver(component: Component, url: str | None, fields: Mapping[str, Any], delay: float = 0.0) -> EventPush:
    """Push ``fields`` to ``url`` (after ``delay`` seconds) and record what the bot answered in
    ``component.pushes``; a bot that cannot be reached is recorded too, never raised."""
    if delay:
        await asyncio.sleep(delay)
    if url is None:
        push = EventPush("", dict(fields), None, b"", "no authorization-event URL: set platform.events_url")
    else:
        query, body = seal_event(component, fields)
        try:
            async with httpx.AsyncClient(timeout=ANSWER_WITHIN) as http:
                answer = await http.post(url, params=query, content=body, headers={"content-type": "text/xml"})
            push = EventPush(url, dict(fields), answer.status_code, answer.content)
        except httpx.HTTPError as exc:
            push = EventPush(url, dict(fields), None, b"", f"{type(exc).__name__}: {exc or 'no detail'}")
    with component.shared.lock:
        component.pushes.append(push)
    return push
