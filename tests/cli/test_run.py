"""`wxhook run` as a real process (uvicorn underneath, stopped by SIGTERM as a container is), its checks
before starting, and `wxhook dev` handing over to the dev console."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_echo_example import ROOT, free_port, wait_until_serving
from wxhook.cli import main

ECHO_TOKEN = "wxhook-echo"
ECHO_APPID = "wx2c2769f8efd9abc2"
ECHO_AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def start(*argv: str, **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """``wxhook run`` with ``argv`` on a free port (given as WXHOOK_PORT when env names the app)."""
    port = free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")}
    where = {"WXHOOK_PORT": str(port)} if "WXHOOK_APP" in env else {}
    command = [sys.executable, "-m", "wxhook", "run", *argv, *([] if where else ["--port", str(port)])]
    process = subprocess.Popen(command, cwd=ROOT, env={**clean, **env, **where}, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_until_serving(url, process)
    return process, url


def stop(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    return process.returncode, output.decode()


def test_run_serves_the_bot_and_stops_cleanly(processes: list[subprocess.Popen[bytes]],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    process, url = start("examples.echo:bot")
    processes.append(process)
    assert main(["verify", url, "--token", ECHO_TOKEN]) == 0
    assert capsys.readouterr().out.startswith(f"OK: {url} answered the handshake")
    assert "server" not in httpx.get(url).headers  # production: the server header is dropped
    assert main(["send", url, "text", "hello", "--token", ECHO_TOKEN, "--aes-key", ECHO_AES_KEY,
                 "--appid", ECHO_APPID]) == 0
    status, output = stop(process)
    assert status == 0, output
    assert "Application shutdown complete." in output
    assert "wxhook: warning" not in output
    (line,) = [line for line in output.splitlines() if "wxhook.messages" in line]
    assert line.startswith("INFO:     wxhook.messages: message type=text event=- user=")
    assert " handler=echo outcome=passive ms=" in line
    # The access log keeps the query string out: WeChat puts signatures, the nonce and the openid there.
    access = [line for line in output.splitlines() if '"GET /' in line or '"POST /' in line]
    assert len(access) >= 4 and all('/ HTTP/1.1" ' in line for line in access), access
    assert "signature=" not in output and "echostr=" not in output


def listen_backlog(url: str) -> int:
    """The backlog of the socket listening at ``url``'s port (``ss``: a listening socket's Send-Q)."""
    port = httpx.URL(url).port
    listing = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    (line,) = listing.splitlines()
    return int(line.split()[2])


@pytest.mark.skipif(shutil.which("ss") is None, reason="reads the socket with Linux's ss (iproute2)")
def test_the_listen_backlog_comes_from_the_option_then_the_variable(
        processes: list[subprocess.Popen[bytes]]) -> None:
    process, url = start("examples.echo:bot", "--backlog", "64")
    processes.append(process)
    assert listen_backlog(url) == 64
    stop(process)
    process, url = start("examples.echo:bot", WXHOOK_BACKLOG="96")
    processes.append(process)
    assert listen_backlog(url) == 96
    stop(process)
    process, url = start("examples.echo:bot")
    processes.append(process)
    capped = int(Path("/proc/sys/net/core/somaxconn").read_text())
    assert listen_backlog(url) == min(2048, capped)  # uvicorn's own, which the kernel caps
    stop(process)


def test_shutdown_waits_for_background_work_and_wxhook_logs_at_info(
    processes: list[subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    done = tmp_path / "done"
    process, url = start("tests.apps.drain_bot:bot", WXHOOK_TOKEN="drain", DONE_FILE=str(done))
    processes.append(process)
    assert main(["send", url, "text", "later", "--token", "drain"]) == 0
    assert capsys.readouterr().out.endswith("  queued\n")
    status, output = stop(process)
    assert status == 0, output
    assert done.read_text() == "done"
    assert "INFO:     wxhook: waiting up to 2s for 1 background job(s)" in output


def test_a_stop_cuts_off_a_deferred_handler_after_the_grace_and_names_it(
    processes: list[subprocess.Popen[bytes]], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    process, url = start("tests.apps.drain_bot:bot", WXHOOK_TOKEN="drain", DONE_FILE=str(tmp_path / "done"))
    processes.append(process)
    assert main(["send", url, "text", "forever", "--token", "drain"]) == 0
    assert "no reply (success" in capsys.readouterr().out  # answered at its deadline, still running
    status, output = stop(process)
    assert status == 0, output
    assert "abandoned the handler forever" in output


def test_several_workers_on_the_memory_store_are_warned_about(processes: list[subprocess.Popen[bytes]],
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    process, url = start("examples.echo:bot", "--workers", "2")
    processes.append(process)
    assert main(["verify", url, "--token", ECHO_TOKEN]) == 0
    status, output = stop(process)
    assert status == 0, output
    (warning,) = [line for line in output.splitlines() if line.startswith("wxhook: warning:")]
    assert warning.startswith("wxhook: warning: 2 workers on the memory store: each keeps its own, so a WeChat retry "
                              "that reaches another worker runs the handler again")
    assert warning.endswith("set WXHOOK_STORE=sqlite:///wxhook.db (one host) or redis://… (several)")


def test_several_workers_on_a_shared_store_are_not(processes: list[subprocess.Popen[bytes]], tmp_path: Path) -> None:
    # Configured by variables alone, as the Docker image is.
    process, _ = start(WXHOOK_APP="examples.echo:bot", WXHOOK_WORKERS="2",
                       WXHOOK_STORE=f"sqlite:///{tmp_path / 'state.db'}")
    processes.append(process)
    status, output = stop(process)
    assert status == 0, output
    assert "wxhook: warning" not in output
    assert (tmp_path / "state.db").exists()


def test_a_server_that_cannot_start_exits_1() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "wxhook", "run", "examples.echo:bot", "--port", str(port)],
                                cwd=ROOT, capture_output=True, text=True, timeout=30,
                                env={k: v for k, v in os.environ.items() if not k.startswith("WXHOOK_")})
    assert result.returncode == 1
    assert "address already in use" in result.stderr
    assert result.stderr.endswith("wxhook: the server did not start (uvicorn's error is above)\n")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory to run wxhook from, with the import path and modules restored afterwards."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setattr(sys, "modules", dict(sys.modules))
    return tmp_path


@pytest.mark.parametrize(("argv", "files", "message"), [
    ([], {}, "wxhook: no bot to run: pass MODULE:BOT (e.g. mybot:bot) or set WXHOOK_APP\n"),
    (["mybot"], {}, "wxhook: 'mybot' is not module:attribute; name the module and the bot in it, e.g. mybot:bot\n"),
    (["nobot_here:bot"], {}, "wxhook: no module 'nobot_here' here ({cwd}): run wxhook from the directory that holds "
     "it\n"),
    (["cli_empty:bot"], {"cli_empty.py": "x = 1\n"}, "wxhook: module 'cli_empty' has no 'bot'; name the Bot object in "
     "it\n"),
    (["cli_broken:bot"], {"cli_broken.py": "import os\n\nbot = 1 / 0\n"}, "wxhook: importing cli_broken:bot failed: "
     "ZeroDivisionError: division by zero ({cwd}/cli_broken.py, line 3)\n"),
    (["cli_deps:bot"], {"cli_deps.py": "import not_installed_anywhere\n"}, "wxhook: importing cli_deps:bot failed: "
     "ModuleNotFoundError: No module named 'not_installed_anywhere' ({cwd}/cli_deps.py, line 1)\n"),
    (["cli_unset:bot"], {"cli_unset.py": "from wxhook import Bot\nbot = Bot()\n"}, "wxhook: no WeChat token: pass "
     "Bot(token=...) or set WXHOOK_TOKEN to the Token entered under 设置与开发 → 基本配置 → 服务器配置 (Server "
     "configuration) of the Official Account\n"),
    (["x:bot", "--workers", "0"], {}, "wxhook: --workers must be 1 or more, not 0\n"),
    (["x:bot", "--workers", "2", "--reload"], {},
     "wxhook: --reload serves one process; drop --workers (or --reload)\n"),
    (["x:bot", "--log-level", "loud"], {}, "wxhook run: argument --log-level: invalid choice: 'loud' (choose from "
     "'critical', 'error', 'warning', 'info', 'debug') (see: wxhook run --help)\n"),
])
def test_run_refuses_what_cannot_start_with_one_line(project: Path, capsys: pytest.CaptureFixture[str],
                                                    argv: list[str], files: dict[str, str], message: str) -> None:
    for name, text in files.items():
        (project / name).write_text(text, encoding="utf-8")
    assert main(["run", *argv]) == 2
    assert capsys.readouterr() == ("", message.format(cwd=project))


def test_settings_given_as_options_reach_the_bot(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (project / "cli_settings.py").write_text(
        "import os\nfrom wxhook import Bot\nbot = Bot()\n"
        "raise RuntimeError(bot.settings.token + ' ' + os.environ['WXHOOK_STORE'])\n", encoding="utf-8")
    assert main(["--token", "from-option", "run", "cli_settings:bot", "--store", "memory://"]) == 2
    assert capsys.readouterr().err == (f"wxhook: importing cli_settings:bot failed: RuntimeError: from-option "
                                       f"memory:// ({project}/cli_settings.py, line 4)\n")


def test_workers_from_the_environment_must_be_a_number(capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXHOOK_WORKERS", "many")
    assert main(["run", "examples.echo:bot"]) == 2
    assert capsys.readouterr().err == "wxhook: WXHOOK_WORKERS='many' is not a whole number\n"


def test_dev_hands_the_bot_to_the_console(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    console = types.ModuleType("wxhook.dev")
    console.run = lambda *args, **kwargs: calls.append((args, kwargs))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "wxhook.dev", console)
    monkeypatch.delenv("WXHOOK_TOKEN", raising=False)  # restored afterwards: the command sets it for the console
    assert main(["dev", "examples.echo:bot", "--port", "9001", "--menu", "menu.json", "--token", "dev-token"]) == 0
    assert calls == [(("examples.echo:bot",), {"menu_file": "menu.json", "host": "127.0.0.1", "port": 9001,
                                               "allowed_hosts": []})]
    assert os.environ["WXHOOK_TOKEN"] == "dev-token"  # for the bot the console imports


def test_dev_without_the_console_says_so(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "wxhook.dev", None)  # what an installation without it looks like to import
    assert main(["dev", "examples.echo:bot"]) == 2
    assert capsys.readouterr().err == ("wxhook: the dev console (wxhook.dev) is not part of this installation of "
                                       "wxhook\n")


def test_help_exits_0_and_a_missing_command_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "verify" in capsys.readouterr().out
    assert main([]) == 2
    assert capsys.readouterr().err == ("wxhook: the following arguments are required: COMMAND (see: wxhook "
                                       "--help)\n")


def test_python_dash_m_wxhook_is_the_command() -> None:
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "wxhook", "verify"], cwd=ROOT, capture_output=True, text=True,
                            timeout=30)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "wxhook verify: the following arguments are required: URL (see: wxhook verify --help)\n"
    assert time.monotonic() - started < 30
