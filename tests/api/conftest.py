from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from wxhook.api import Client
from wxhook.testing import FakeWeChat

# Tiny backoff keeps retry tests fast; the retry logic is the same at any scale.
FAST = {"backoff": 0.001, "backoff_max": 0.004, "retry_deadline": 5.0, "timeout": 5.0}


@pytest.fixture
async def fake() -> AsyncIterator[FakeWeChat]:
    async with FakeWeChat() as server:
        yield server


@pytest.fixture
async def client(fake: FakeWeChat) -> AsyncIterator[Client]:
    async with fake.client(**FAST) as api:
        yield api


def sent(fake: FakeWeChat, path: str, index: int = -1) -> Any:
    """The JSON body of a recorded call (the last one by default)."""
    return fake.calls(path)[index].json


async def raw_call(fake: FakeWeChat, client: Client, method: str, path: str, body: Any = None) -> Any:
    """Call the fake directly with a valid token, to check what it accepts without the client's own checks."""
    token = await client.access_token()
    async with httpx.AsyncClient() as http:
        answer = await http.request(method, f"{fake.url}{path}", params={"access_token": token}, json=body)
    return answer.json()
