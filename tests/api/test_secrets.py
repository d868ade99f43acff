"""Credentials never reach a log line or an exception message, httpx's own request log included."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
import pytest

from wxhook.api import Client, WeChatError
from wxhook.logs import RedactSecrets
from wxhook.testing import FakeWeChat

from .conftest import FAST
from .test_resilience import IPS, SEND


async def _raised(call: Callable[[], Awaitable[object]]) -> WeChatError:
    with pytest.raises(WeChatError) as caught:
        await call()
    return caught.value


async def test_no_credential_in_any_log_record_or_error(fake: FakeWeChat, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    errors: list[WeChatError] = []
    codes: list[str] = []
    async with fake.client(**FAST) as stable, fake.client(**FAST, token_mode="basic") as basic:
        await stable.access_token()
        await basic.access_token()
        await stable.ticket.get()
        fake.revoke_tokens()
        assert await stable.misc.callback_ip()  # heals: the refused token was in a logged URL
        fake.fail(SEND, errcode=40013)
        errors.append(await _raised(lambda: stable.message.send_text("o1", "hi")))
        fake.fail(SEND, status=500)
        errors.append(await _raised(lambda: stable.message.send_text("o1", "hi")))
        fake.fail(IPS, errcode=-1, times=None)
        errors.append(await _raised(stable.misc.callback_ip))
        await stable.misc.clear_quota_v2()
        fake.fail("/cgi-bin/clear_quota/v2", errcode=48006)
        errors.append(await _raised(stable.misc.clear_quota_v2))
        codes.append(fake.oauth_code("o1", "snsapi_userinfo"))
        user = await stable.oauth.exchange(codes[-1])
        await stable.oauth.refresh(user.refresh_token)
        codes.append(fake.oauth_code("o1"))
        fake.fail("/sns/oauth2/access_token", errcode=40029)
        errors.append(await _raised(lambda: stable.oauth.exchange(codes[-1])))
    async with fake.client(**{**FAST, "timeout": 0.05, "max_retries": 0}) as slow:
        await slow.access_token()
        fake.fail(SEND, delay=0.3)
        errors.append(await _raised(lambda: slow.message.send_text("o1", "late")))

    state = fake.state
    secrets = {fake.secret, *state.tokens, *state.user_tokens, *state.refresh_tokens, *state.tickets.values(), *codes}
    assert len(state.tokens) >= 3 and len(state.user_tokens) == 2 and all(secrets)
    lines = [record.getMessage() for record in caplog.records]
    httpx_lines = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any("access_token=***" in line for line in httpx_lines)  # the request log was captured, masked
    assert any("/cgi-bin/token?" in line and "secret=***" in line for line in httpx_lines)
    assert any("/sns/oauth2/access_token?" in line and "code=***" in line for line in httpx_lines)
    texts = lines + [str(error) for error in errors] + [repr(error) for error in errors]
    leaks = sorted({secret[:6] for secret in secrets for text in texts if secret in text})
    assert not leaks, f"credentials starting {leaks} leaked"


def test_the_filter_masks_httpx_url_arguments() -> None:
    """httpx passes the URL object itself as a log argument, not a string."""
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, 'HTTP Request: %s %s "%s %d %s"',
        ("GET", httpx.URL("https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=S3CR3T"), "HTTP/1.1", 200, "OK"),
        None,
    )
    RedactSecrets().filter(record)
    assert record.getMessage() == (
        'HTTP Request: GET https://api.weixin.qq.com/cgi-bin/token?appid=wx1&secret=*** "HTTP/1.1 200 OK"'
    )


def test_credentials_are_not_in_the_client_repr() -> None:
    client = Client("wx1", "the-app-secret")
    assert "the-app-secret" not in repr(vars(client)) and "the-app-secret" not in repr(client._credentials)
