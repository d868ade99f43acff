"""What an operator sees: one line per message, metrics, the health route, and warnings about the setup."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from wxhook import Bot, Message
from wxhook.observe import OUTCOMES, follower_tag
from wxhook.testing import BotClient, FakeWeChat, serve

from .test_echo_example import ROOT, free_port, wait_until_serving

TOKEN = "observed"


def observed_bot(**options: object) -> Bot:
    bot = Bot(token=TOKEN, deadline=0.3, **options)  # type: ignore[arg-type]

    @bot.on_text("slow")
    async def slow(msg: Message) -> str:
        await asyncio.sleep(0.6)
        return "late"

    @bot.on_text("boom")
    def boom(msg: Message) -> str:
        raise RuntimeError("kaboom")

    @bot.on_text
    def echo(msg: Message) -> str:
        return msg.content  # type: ignore[attr-defined, no-any-return]

    return bot


async def test_one_line_per_message_with_its_outcome(caplog: pytest.LogCaptureFixture) -> None:
    with FakeWeChat() as fake:
        bot = observed_bot(appid=fake.appid, secret=fake.secret, api_base=fake.url)
        with caplog.at_level(logging.INFO, logger="wxhook.messages"), serve(bot) as url:
            async with BotClient(url, token=TOKEN) as wechat:
                await wechat.send_text("hi", openid="o_secret_openid")
                await wechat.send_text("boom")
                slow = wechat.message("text", Content="slow")
                await asyncio.gather(wechat.post(slow), wechat.post(slow))
                await wechat.send_event("subscribe")
    lines = [r.getMessage() for r in caplog.records if r.name == "wxhook.messages"]
    assert len(lines) == 5
    assert lines[0].startswith("message type=text event=- user=") and "handler=observed_bot.<locals>.echo" in lines[0]
    assert "outcome=passive" in lines[0] and "o_secret_openid" not in " ".join(lines)
    assert "outcome=error" in lines[1]
    assert sorted(line.split("outcome=")[1].split()[0] for line in lines[2:4]) == ["coalesced", "deferred"]
    assert "type=event event=subscribe" in lines[4] and "handler=no_handler" in lines[4]
    # One counter: each outcome counted once, beside the window's events (the retry's deadline passed too)
    assert bot.stats is bot.observer.counts
    assert {name: bot.stats[name] for name in (*OUTCOMES, "deadline_passed")} == {
        "passive": 2, "error": 1, "deferred": 1, "coalesced": 1, "rejected": 0, "deadline_passed": 2}


@pytest.mark.parametrize(("level", "shown"), [((), 3), (("--log-level", "warning"), 0), (("--log-level", "debug"), 3)],
                         ids=["uvicorn's default", "--log-level warning", "--log-level debug"])
def test_info_lines_follow_plain_uvicorn_s_log_level(level: tuple[str, ...], shown: int) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "examples.echo:bot", "--port", str(port), *level],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until_serving(url, server)
        replies = asyncio.run(_send_safe(url, 3))
        assert replies == ["logged"] * 3
    finally:
        server.terminate()  # the lines held back for a moment are written as the server stops
        output = server.communicate(timeout=15)[0].decode()
    lines = [line for line in output.splitlines() if line.startswith("INFO:     wxhook.messages: ")]
    assert len(lines) == shown, output
    assert all("message type=text" in line and "outcome=passive" in line for line in lines)
    assert "WARNING:     wxhook: rejected GET request" in output  # wxhook's warnings show at every one of these levels
    assert "AppSecret" not in output  # the echo demo expects no late replies: no warning that it could not send one


async def _send_safe(url: str, count: int) -> list[str | None]:
    async with BotClient(url, token="wxhook-echo", appid="wx2c2769f8efd9abc2",
                         aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG") as wechat:
        return [(await wechat.send_text("logged")).content for _ in range(count)]


async def test_metrics_and_health_routes() -> None:
    bot = observed_bot(health_path="/healthz", metrics_path="/metrics")
    with serve(bot) as url:
        async with BotClient(url, token=TOKEN) as wechat:
            await wechat.send_text("hi")
            await wechat.send_text("boom")
        async with httpx.AsyncClient() as http:
            health = await http.get(url + "healthz")
            metrics = await http.get(url + "metrics")
            forged = await http.post(url, params={"signature": "0" * 40, "timestamp": "1", "nonce": "1"})
            after = (await http.get(url + "metrics")).text
    assert health.status_code == 200 and health.json() == {"status": "ok", "store": "memory"}  # this process's own
    assert metrics.headers["content-type"].startswith("text/plain")
    assert 'wxhook_messages_total{outcome="passive"} 1.0' in metrics.text
    assert 'wxhook_messages_total{outcome="error"} 1.0' in metrics.text
    assert "wxhook_message_seconds_count 2.0" in metrics.text and "wxhook_token_fetches_total 0.0" in metrics.text
    assert forged.status_code == 403 and 'wxhook_messages_total{outcome="rejected"} 1.0' in after


def test_without_the_routes_a_get_is_the_handshake() -> None:
    with serve(observed_bot()) as url:
        assert httpx.get(url + "healthz").status_code == 400  # no signature: the WeChat handshake refuses it


def test_health_route_of_a_mounted_bot() -> None:
    bot = observed_bot(health_path="/healthz")
    app = Starlette(routes=[Mount("/wechat", app=bot)], lifespan=bot.lifespan)
    with serve(app) as url:
        assert httpx.get(url + "wechat/healthz").json()["status"] == "ok"


def test_a_bot_mounted_without_its_lifespan_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    bot = observed_bot()
    app = Starlette(routes=[Mount("/wechat", app=bot)])
    with caplog.at_level(logging.WARNING, logger="wxhook"), serve(app) as url:
        for _ in range(3):
            httpx.get(url + "wechat/")
    assert caplog.text.count("lifespan=bot.lifespan") == 1


@pytest.mark.parametrize("promise", [{"timeout_reply": "Working on it"}, {"typing": True}, {"queue": True}])
async def test_no_app_secret_is_a_warning_at_startup_where_late_replies_are_expected(
    caplog: pytest.LogCaptureFixture, promise: dict[str, object]
) -> None:
    def promising() -> Bot:
        if "queue" not in promise:
            return observed_bot(**promise)
        bot = observed_bot()
        bot.on_text("report", queue=True)(lambda msg: "later")  # no queue: in-process, and late all the same
        return bot

    with caplog.at_level(logging.WARNING, logger="wxhook"):
        async with BotClient(promising()):
            pass
        assert "WXHOOK_SECRET" not in caplog.text, "BotClient(bot) gives the bot a FakeWeChat's client"
        bot = promising()
        await bot.startup()
        await bot.shutdown()
    assert caplog.text.count("no AppSecret: a handler that misses the 0.3s deadline cannot send its reply late") == 1


async def test_without_an_app_secret_a_bot_that_expects_none_starts_quietly_and_a_late_reply_says_why(
    caplog: pytest.LogCaptureFixture
) -> None:
    """A bot that neither promises a late reply nor queues starts without a warning (the echo demo); should a
    handler miss its deadline all the same, the reply that cannot go out is one error line naming the setting."""
    bot = observed_bot(appid="wx0000000000000000")
    with caplog.at_level(logging.INFO, logger="wxhook"):
        await bot.startup()
        assert not [record for record in caplog.records if record.levelno >= logging.WARNING]
        await bot.shutdown()
        with serve(bot) as url:
            async with BotClient(url, token=TOKEN) as wechat:
                assert (await wechat.send_text("slow", openid="o_late")).is_empty
            await asyncio.sleep(0.6)
    problems = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert [record.getMessage() for record in problems] == [
        f"late text reply to user={follower_tag('o_late')} not delivered: no app secret, needed to fetch an access "
        "token: pass Client(secret=...) or set WXHOOK_SECRET (or give token_provider= when the token comes from a "
        "central service)"]
    assert problems[0].exc_info is None and bot.stats["delivery_failed"] == 1


def test_several_workers_on_the_memory_store_warn(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.echo:bot", "--workers", "2", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/", server)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert output.count("one of several on the memory store") == 2
