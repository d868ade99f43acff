"""The compose example parses, and the processes it declares (Redis, two bot instances, a worker) run
without Docker: each service's own command and environment, with host names and ports made local; nginx's
upstreams are checked against the bot services."""

from __future__ import annotations

import re
import shutil
import sys
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


def test_compose_declares_two_bots_a_worker_redis_and_nginx() -> None:
    services = _services()
    assert set(services) == {"redis", "bot1", "bot2", "worker", "nginx"}
    for name in ("bot1", "bot2", "worker"):
        env = services[name]["environment"]
        assert env["WXHOOK_STORE"].startswith("redis://redis:6379/")
        assert env["WXHOOK_QUEUE"].startswith("redis://redis:6379/")
        assert env["WXHOOK_STORE"] != env["WXHOOK_QUEUE"]
        assert env["WXHOOK_JOB_KEY"].startswith("${WXHOOK_JOB_KEY:?")  # required: the worker runs signed jobs only
    assert services["worker"]["command"] == ["wxhook", "worker", "bot:bot"]
    for name in ("bot1", "bot2"):  # plain uvicorn keeps connections that trickle their request head open
        assert services[name]["command"][:3] == ["wxhook", "run", "bot:bot"]
    nginx = (COMPOSE / "nginx.conf").read_text()
    assert "client_header_timeout 10s;" in nginx and "client_body_timeout 10s;" in nginx
    upstreams = re.findall(r"server\s+(\w+):(\d+)", nginx)
    ports = {name: services[name]["command"][services[name]["command"].index("--port") + 1]
             for name in ("bot1", "bot2")}
    assert sorted(upstreams) == sorted(ports.items())
    assert set(services["nginx"]["depends_on"]) == {"bot1", "bot2"}


def _local(value: str, redis_port: int, secrets: dict[str, str]) -> str:
    """A compose value as it would be inside the network, pointed at this machine instead."""
    value = re.sub(r"\$\{(\w+)[^}]*\}", lambda m: secrets.get(m.group(1), ""), value)
    return value.replace("redis:6379", f"127.0.0.1:{redis_port}")


def _command(service: dict[str, Any], port: int) -> list[str]:
    """The service's command run by this Python (``uvicorn`` / ``wxhook`` as modules), on a free port."""
    command = [str(part) for part in service["command"]]
    if "--port" in command:
        command[command.index("--port") + 1] = str(port)
        command[command.index("--host") + 1] = "127.0.0.1"
    return [sys.executable, "-m", *command]


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
        urls = []
        for name in ("bot1", "bot2", "worker"):
            service = services[name]
            env = {k: _local(str(v), redis.port, secrets) for k, v in service["environment"].items()}
            env.update(PATH="/usr/bin:/bin", WXHOOK_API_BASE=fake.url)
            port = free_port()
            command = _command(service, port)
            cwd = ROOT / Path(service["working_dir"]).relative_to("/app")  # the image holds the repo at /app
            process = processes.start(name, command, env, cwd=cwd)
            assert process.poll() is None
            if "--port" in command:
                urls.append(processes.bot_url(name, port))
        for i, url in enumerate(urls):
            async with BotClient(url, token=TOKEN) as wechat:
                assert (await wechat.send_text(f"hi {i}")).content == f"echo: hi {i}"
        async with BotClient(urls[1], token=TOKEN) as wechat:
            interim = await wechat.send_text("report", openid="o_compose")
        assert interim.content == "Working on your report; it will arrive in a moment."
        eventually(lambda: fake.count("/cgi-bin/message/custom/send") == 1, 30, "the worker's report")
        assert fake.calls("/cgi-bin/message/custom/send")[0].json["text"]["content"] == \
            "Your report is ready, o_compose."
