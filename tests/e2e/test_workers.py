"""Several uvicorn workers on one SQLite store: a message and its retry on different workers run the handler once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from wxhook.testing import BotClient, FakeWeChat

from .test_echo_example import ROOT, free_port, wait_until_serving

TOKEN = "workers-token"


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    runs = tmp_path / "runs.txt"
    runs.touch()
    port = free_port()
    with FakeWeChat() as fake:
        env = worker_env(fake, f"sqlite:///{tmp_path / 'state.db'}", runs, HANDLER_SECONDS="1")
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "tests.apps.window_bot:app", "--workers", "2",
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            workers: set[str] = set()
            deadline = time.monotonic() + 30
            while len(workers) < 2:  # until both workers answer
                assert time.monotonic() < deadline and process.poll() is None, "workers did not start"
                try:
                    response = httpx.get(url, timeout=1)
                    workers.add(response.headers["x-worker"])
                except httpx.TransportError:
                    time.sleep(0.1)
            yield url, runs
        finally:
            process.terminate()
            process.wait(15)


async def deliver(url: str, fields: dict[str, object], delay: float) -> tuple[str, str | None]:
    """One delivery on a connection of its own, as WeChat's retry would be."""
    await asyncio.sleep(delay)
    async with BotClient(url, token=TOKEN) as wechat:
        reply = await wechat.post(fields)
    return reply.headers["x-worker"], reply.content


async def test_message_and_retry_on_different_workers_run_once(two_workers: tuple[str, Path]) -> None:
    url, runs = two_workers
    split_pairs = 0
    pairs = 0
    async with BotClient(url, token=TOKEN) as template:
        while pairs < 20 and not (split_pairs >= 2 and pairs >= 6):
            fields = template.message("text", f"o_{pairs}", Content=f"m{pairs}")
            (first_worker, first), (retry_worker, retry) = await asyncio.gather(
                deliver(url, fields, 0), deliver(url, fields, 0.3)
            )
            assert first == retry == f"echo: m{pairs}"
            split_pairs += first_worker != retry_worker
            pairs += 1
    ran = Counter(line.split()[0] for line in runs.read_text().splitlines())
    assert len(ran) == pairs and set(ran.values()) == {1}
    assert split_pairs >= 1, "every retry landed on the first delivery's worker; nothing was tested"


def worker_env(fake: FakeWeChat, store: str, runs: Path, **settings: str) -> dict[str, str]:
    """The environment of a ``tests.apps.window_bot`` worker: ``fake`` as its API, ``store`` as its store, its runs
    written to ``runs``, ``settings`` (HANDLER_SECONDS, DEADLINE …) on top; no WXHOOK_* of the machine's."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")},
        "WXHOOK_TOKEN": TOKEN, "WXHOOK_APPID": fake.appid, "WXHOOK_SECRET": fake.secret,
        "WXHOOK_API_BASE": fake.url, "WXHOOK_STORE": store, "RUNS_FILE": str(runs), **settings,
    }


@contextlib.asynccontextmanager
async def hosts(*envs: dict[str, str]) -> AsyncIterator[tuple[list[str], list[subprocess.Popen[bytes]]]]:
    """Separate window_bot servers (as on separate machines), one per environment: their URLs and processes once
    all of them answer; those still running are stopped on exit."""
    ports = [free_port() for _ in envs]
    processes = [_start(port, env) for port, env in zip(ports, envs, strict=True)]
    urls = [f"http://127.0.0.1:{port}/" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            await asyncio.to_thread(wait_until_serving, url, process)
        yield urls, processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(15)


def _start(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tests.apps.window_bot:app", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


async def test_message_and_retry_on_two_hosts_sharing_redis(redis_url: str, tmp_path: Path) -> None:
    """Two separate servers (as on two machines) on one Redis: the retry sent to the other one waits for
    the first one's handler and answers with its reply."""
    runs = tmp_path / "runs.txt"
    runs.touch()
    with FakeWeChat() as fake:
        env = worker_env(fake, redis_url.replace("/0", "/1"), runs, HANDLER_SECONDS="1")
        async with hosts(env, env) as (urls, _), BotClient(urls[0], token=TOKEN) as template:
            for i in range(3):
                fields = template.message("text", f"o_host_{i}", Content=f"h{i}")
                (first_host, first), (retry_host, retry) = await asyncio.gather(
                    deliver(urls[i % 2], fields, 0), deliver(urls[(i + 1) % 2], fields, 0.3)
                )
                assert first == retry == f"echo: h{i}"
                assert first_host != retry_host
    ran = Counter(line.split()[0] for line in runs.read_text().splitlines())
    assert len(ran) == 3 and set(ran.values()) == {1}


async def test_a_claim_lapsed_while_the_loop_was_held_is_taken_back_and_the_retry_elsewhere_waits(
        redis_url: str, tmp_path: Path) -> None:
    """A handler holding its event loop (a blocking call) for longer than ``claim_lease`` cannot renew its claim
    meanwhile; once the loop is free its worker takes the lapsed claim back, so a retry that reaches the other host
    after that waits for the run instead of running the message a second time."""
    runs = tmp_path / "runs.txt"
    runs.touch()
    with FakeWeChat() as fake:
        env = worker_env(fake, redis_url.replace("/0", "/1"), runs, CLAIM_LEASE="0.3", BLOCK_SECONDS="1",
                         HANDLER_SECONDS="1", WXHOOK_SHED_AFTER="off")
        async with hosts(env, env) as (urls, _):
            async with BotClient(urls[0], token=TOKEN) as template:
                fields = template.message("text", "o_held", Content="held")
            (first_host, first), (retry_host, retry) = await asyncio.gather(
                deliver(urls[0], fields, 0), deliver(urls[1], fields, 1.5)
            )
    assert first == retry == "echo: held" and first_host != retry_host
    assert len(runs.read_text().splitlines()) == 1, "the retry ran the message again"
