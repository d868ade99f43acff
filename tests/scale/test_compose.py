"""The compose example parses, and the processes it declares (Redis, two bot instances, a worker) run
without Docker: each service's own command and environment (with the image's ENV), with host names and ports made
local; each is healthy by the check Docker would run for it (the image's HEALTHCHECK, or the service's own), and
stops within its stop_grace_period; nginx's upstreams are checked against the bot services."""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from wxhook.testing import BotClient, FakeWeChat

from ..redis_server import RedisServer, free_port
from .conftest import ROOT, TOKEN, Processes, eventually

COMPOSE = ROOT / "examples" / "compose"


def _services() -> dict[str, Any]:
    document = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    services: dict[str, Any] = document["services"]
    return services


def _dockerfile() -> str:
    """The Dockerfile with its continued lines joined."""
    return (ROOT / "Dockerfile").read_text().replace("\\\n", " ")


def _image_env() -> dict[str, str]:
    """The variables the image's ENV lines set."""
    env: dict[str, str] = {}
    for line in re.findall(r"^ENV (.*)$", _dockerfile(), flags=re.MULTILINE):
        env.update(word.split("=", 1) for word in shlex.split(line))
    return env


def _image_healthcheck() -> str:
    """The shell command of the image's HEALTHCHECK, its ``python`` this test's."""
    command = re.search(r"^HEALTHCHECK .*? CMD (.*)$", _dockerfile(), flags=re.MULTILINE)
    assert command is not None
    assert command.group(1).startswith("python ")
    return shlex.quote(sys.executable) + command.group(1)[len("python"):]


def _seconds(duration: str) -> float:
    assert re.fullmatch(r"\d+s", duration), duration
    return float(duration[:-1])


def test_compose_declares_two_bots_a_worker_redis_and_nginx() -> None:
    services = _services()
    assert set(services) == {"redis", "bot1", "bot2", "worker", "nginx"}
    for name in ("bot1", "bot2", "worker"):
        env = services[name]["environment"]
        assert env["WXHOOK_STORE"].startswith("redis://redis:6379/")
        assert env["WXHOOK_QUEUE"].startswith("redis://redis:6379/")
        assert env["WXHOOK_STORE"] != env["WXHOOK_QUEUE"]
        assert env["WXHOOK_JOB_KEY"].startswith("${WXHOOK_JOB_KEY:?")  # required: the worker runs signed jobs only
        # longer than a bot's two drains of shutdown_grace (10 s each), or Docker kills it midway
        assert _seconds(services[name]["stop_grace_period"]) > 2 * 10
    assert services["worker"]["command"] == ["wxhook", "worker", "bot:bot"]
    for name in ("bot1", "bot2"):  # plain uvicorn keeps connections that trickle their request head open, and has
        assert services[name]["command"] == ["wxhook", "run", "bot:bot"]  # no /healthz for the image's check
        assert "healthcheck" not in services[name]  # the image's, on the port the image's WXHOOK_PORT names
    nginx = (COMPOSE / "nginx.conf").read_text()
    assert "client_header_timeout 10s;" in nginx and "client_body_timeout 10s;" in nginx
    upstreams = re.findall(r"server\s+(\w+):(\d+)", nginx)
    assert sorted(upstreams) == [("bot1", _image_env()["WXHOOK_PORT"]), ("bot2", _image_env()["WXHOOK_PORT"])]
    assert services["nginx"]["depends_on"] == {"bot1": {"condition": "service_healthy"},
                                               "bot2": {"condition": "service_healthy"}}


def _local(value: str, redis_port: int, secrets: dict[str, str]) -> str:
    """A compose value as it would be inside the network, pointed at this machine instead."""
    value = re.sub(r"\$\{(\w+)[^}]*\}", lambda m: secrets.get(m.group(1), ""), value)
    return value.replace("redis:6379", f"127.0.0.1:{redis_port}")


def _command(words: list[Any]) -> list[str]:
    """A service's command (or check) run by this Python: ``wxhook`` as a module."""
    assert words[0] == "wxhook"
    return [sys.executable, "-m", *(str(word) for word in words)]


async def test_compose_processes_serve_without_docker(processes: Processes, tmp_path: Path) -> None:
    services = _services()
    redis_command = services["redis"]["command"]
    assert redis_command[0] == "redis-server"
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisServer()
    # Redis as declared (append-only), its files in this test's directory.
    processes.start("redis", [redis.binary, *redis_command[1:], "--port", str(redis.port), "--bind", "127.0.0.1",
                              "--dir", str(tmp_path)], {})
    eventually(lambda: (tmp_path / "appendonlydir").exists(), 10, "redis-server started with its AOF")
    with FakeWeChat() as fake:
        secrets = {"WXHOOK_TOKEN": TOKEN, "WXHOOK_APPID": fake.appid, "WXHOOK_SECRET": fake.secret,
                   "WXHOOK_JOB_KEY": "the-compose-job-key-0123456789"}
        urls, checks = [], {}
        for name in ("bot1", "bot2", "worker"):
            service = services[name]
            own = {k: _local(str(v), redis.port, secrets) for k, v in service["environment"].items()}
            port = free_port()  # where the image's 0.0.0.0:8000 is made local
            env = {**_image_env(), **own, "PATH": "/usr/bin:/bin", "WXHOOK_API_BASE": fake.url,
                   "WXHOOK_HOST": "127.0.0.1", "WXHOOK_PORT": str(port)}
            cwd = ROOT / Path(service["working_dir"]).relative_to("/app")  # the image holds the repo at /app
            process = processes.start(name, _command(service["command"]), env, cwd=cwd)
            assert process.poll() is None
            if "healthcheck" in service:  # the service's own check, in its CMD form
                test = service["healthcheck"]["test"]
                assert test[0] == "CMD"
                checks[name] = (_command(test[1:]), env, cwd)
            else:  # the image's HEALTHCHECK, a shell command
                checks[name] = (["/bin/sh", "-c", _image_healthcheck()], env, cwd)
            if name.startswith("bot"):
                urls.append(processes.bot_url(name, port))
        for name, (check, env, cwd) in checks.items():  # healthy, by the check Docker would run in its container
            result = await asyncio.to_thread(subprocess.run, check, env=env, cwd=cwd, capture_output=True, text=True,
                                             timeout=60)
            assert result.returncode == 0, f"{name} unhealthy: {result.stdout}{result.stderr}"
        for i, url in enumerate(urls):
            async with BotClient(url, token=TOKEN) as wechat:
                assert (await wechat.send_text(f"hi {i}")).content == f"echo: hi {i}"
        async with BotClient(urls[1], token=TOKEN) as wechat:
            interim = await wechat.send_text("report", openid="o_compose")
        assert interim.content == "Working on your report; it will arrive in a moment."
        eventually(lambda: fake.count("/cgi-bin/message/custom/send") == 1, 30, "the worker's report")
        assert fake.calls("/cgi-bin/message/custom/send")[0].json["text"]["content"] == \
            "Your report is ready, o_compose."
        for name in ("bot1", "bot2", "worker"):  # docker compose stop: SIGTERM, then SIGKILL after the grace period
            process = processes.running[name]
            stopping = time.monotonic()
            process.terminate()
            assert process.wait(_seconds(services[name]["stop_grace_period"])) == 0, processes.log(name)
            assert time.monotonic() - stopping < _seconds(services[name]["stop_grace_period"])
