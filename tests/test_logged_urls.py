"""A store's or a job queue's password never reaches a log line or an error message."""

from __future__ import annotations

import logging

import pytest

from wxhook import Bot, ConfigError

SECRET = "s3cret-of-the-queue"


async def test_an_unreachable_queue_is_logged_without_its_password(caplog: pytest.LogCaptureFixture) -> None:
    # Port 1 on loopback refuses at once: the outage warning is written, naming the queue.
    bot = Bot(token="t", queue=f"redis://worker:{SECRET}@127.0.0.1:1/0")
    assert bot.queue is not None
    with caplog.at_level(logging.WARNING, logger="wxhook"):
        await bot.queue.probe()
    lines = [record.getMessage() for record in caplog.records if "unavailable" in record.getMessage()]
    assert lines, "the outage was not logged"
    assert all(SECRET not in line and "worker:***@127.0.0.1:1" in line for line in lines)
    assert SECRET not in repr(bot.queue.name) and SECRET in bot.queue.url  # the broker still gets it


def test_a_bad_queue_option_is_refused_without_the_password() -> None:
    with pytest.raises(ConfigError) as refused:
        Bot(token="t", queue=f"redis://worker:{SECRET}@127.0.0.1:1/0?max_attempts=many")
    assert "max_attempts='many'" in str(refused.value) and SECRET not in str(refused.value)


def test_a_bad_store_option_is_refused_without_the_password() -> None:
    with pytest.raises(ConfigError) as refused:
        Bot(token="t", store=f"redis://worker:{SECRET}@127.0.0.1:1/0?timeout=soon")
    assert "worker:***@" in str(refused.value) and SECRET not in str(refused.value)
