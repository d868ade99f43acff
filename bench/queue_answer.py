"""How fast the webhook answers a ``queue=True`` handler: claim, enqueue, interim reply, over real HTTP.

    python bench/queue_answer.py             # needs redis-server on PATH; starts a private one

The issue's target is under 100 ms per answer; this prints the median and the 99th percentile of 200
messages sent one after another to a bot whose store and queue are on the private Redis (no worker runs:
the jobs only have to be enqueued).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

from wxhook import Bot
from wxhook.testing import BotClient, serve

TOKEN = "bench-queue"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(url: str, count: int) -> list[float]:
    times = []
    async with BotClient(url, token=TOKEN) as wechat:
        for i in range(count):
            started = time.perf_counter()
            reply = await wechat.send_text("report", openid=f"o_{i}")
            times.append((time.perf_counter() - started) * 1000)
            assert reply.content == "working on it", reply.body
    return times


def main() -> int:
    binary = shutil.which("redis-server")
    if binary is None:
        print("redis-server is not on PATH", file=sys.stderr)
        return 1
    port = free_port()
    redis = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                             stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        bot = Bot(TOKEN, store=f"redis://127.0.0.1:{port}/0", queue=f"redis://127.0.0.1:{port}/1",
                  timeout_reply="working on it")

        @bot.on_text("report", queue=True)
        async def report(msg: Any) -> str:
            return "done"

        with serve(bot) as url:
            asyncio.run(measure(url, 20))  # warm up connections
            times = sorted(asyncio.run(measure(url, 200)))
        print(f"queue=True answer over HTTP: median {statistics.median(times):.1f} ms, "
              f"p99 {times[int(len(times) * 0.99) - 1]:.1f} ms, max {times[-1]:.1f} ms")
    finally:
        redis.terminate()
        redis.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
