"""A bot for the scale-out tests: served as ``uvicorn tests.apps.scale_bot:app`` and worked by
``python -m wxhook.worker tests.apps.scale_bot:bot``.

Configured by WXHOOK_* variables (WXHOOK_STORE, WXHOOK_QUEUE …); every handler or job run is appended to the
file named by RUNS_FILE as ``<what> <msgid> <pid>``, and each response carries the answering process's pid in
``x-worker`` and its store health in ``x-store-healthy``, so a test can see which process did what.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from taskiq import async_shared_broker

from wxhook import Bot, Context, Message

bot = Bot(timeout_reply=os.environ.get("TIMEOUT_REPLY"), deadline=float(os.environ.get("DEADLINE", "4.5")))
RUNS_FILE = os.environ["RUNS_FILE"]


def record(what: str, msg_id: object) -> None:
    with open(RUNS_FILE, "a") as runs:
        runs.write(f"{what} {msg_id} {os.getpid()}\n")


@bot.on_text("report", queue=True)
async def report(msg: Message) -> str:
    record("report", msg.msg_id)  # type: ignore[attr-defined]
    await asyncio.sleep(float(os.environ.get("JOB_SECONDS", "0.5")))
    return f"report ready for {msg.from_user_name}"


@bot.on_text("long report", queue=True)
async def long_report(msg: Message) -> str:
    record("long", msg.msg_id)  # type: ignore[attr-defined]
    await asyncio.sleep(float(os.environ.get("LONG_SECONDS", "5")))
    return "long report ready"


@bot.on_text("fail", queue=True)
async def always_fails(msg: Message) -> str:
    record("fail", msg.msg_id)  # type: ignore[attr-defined]
    raise RuntimeError("the report service is down")


@bot.job
def enqueued_job(label: str) -> None:
    record("job", label)


@async_shared_broker.task(task_name="scale_bot.shared")
def shared_task(label: str) -> None:
    """A taskiq task of the bot's module, not wxhook's: a job from Redis must not reach it either."""
    record("forbidden", label)


@bot.on_text("later")
def later(msg: Message, ctx: Context) -> str:
    ctx.enqueue(enqueued_job, f"later-{msg.msg_id}")  # type: ignore[attr-defined]
    return "queued"


@bot.on_text
async def slow_echo(msg: Message) -> str:
    record("echo", msg.msg_id)  # type: ignore[attr-defined]
    await asyncio.sleep(float(os.environ.get("HANDLER_SECONDS", "0.2")))
    return f"echo: {msg.content}"  # type: ignore[attr-defined]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    async def tagged(event: dict[str, Any]) -> None:
        if event["type"] == "http.response.start":
            event["headers"] = [
                *event["headers"],
                (b"x-worker", str(os.getpid()).encode()),
                (b"x-store-healthy", b"1" if bot.store_healthy else b"0"),
            ]
        await send(event)

    await bot(scope, receive, tagged)
