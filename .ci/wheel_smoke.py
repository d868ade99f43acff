"""The package as a user gets it: the wheel ``python -m build`` makes (from the sdist), installed into a fresh venv
and tried from a temporary directory outside the checkout, so the checkout's ``wxhook/`` cannot be imported
instead. ``wxhook --version`` prints the wheel's version, a bot written there answers WeChat's GET handshake under
uvicorn, and the dev console's static files and ``py.typed`` are installed.

    .venv/bin/python .ci/wheel_smoke.py        # needs the build package (the dev extra has it)
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "wheel-smoke"
BOT = f'''from wxhook import Bot

bot = Bot(token="{TOKEN}")


@bot.on_text
def echo(msg):
    return msg.content
'''
# Run by the venv's Python in the temporary directory: where wxhook was imported from, and what it ships.
INSTALLED = """
import importlib.resources, json, wxhook
package = importlib.resources.files("wxhook")
print(json.dumps({"file": wxhook.__file__, "version": wxhook.__version__, "typed": (package / "py.typed").is_file(),
                  "static": sorted(p.name for p in (package / "dev" / "static").iterdir())}))
"""


class SmokeFailure(Exception):
    pass


def run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SmokeFailure(f"{' '.join(map(str, argv))} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def build(out: Path) -> Path:
    """The wheel, built from the sdist as ``python -m build`` does by default (so the sdist must be complete)."""
    run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=ROOT, env=dict(os.environ))
    (wheel,) = out.glob("*.whl")
    return wheel


def handshake_query() -> tuple[str, str]:
    """WeChat's GET check and the answer it wants: the signature is the SHA-1 of the token, the timestamp and the
    nonce, sorted and joined."""
    timestamp, nonce, echostr = str(int(time.time())), "smoke-nonce", "smoke-echostr"
    signature = hashlib.sha1("".join(sorted([TOKEN, timestamp, nonce])).encode()).hexdigest()
    return urlencode({"signature": signature, "timestamp": timestamp, "nonce": nonce, "echostr": echostr}), echostr


def serve_and_shake(venv: Path, home: Path, env: dict[str, str]) -> None:
    """``uvicorn bot:bot`` in the temporary directory answers the handshake with the echostr."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([venv / "bin" / "uvicorn", "bot:bot", "--host", "127.0.0.1", "--port", str(port)],
                              cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    query, echostr = handshake_query()
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/?{query}", timeout=5) as answer:
                    body = answer.read().decode()
                break
            except urllib.error.HTTPError as refused:
                raise SmokeFailure(f"the handshake was answered {refused.code}: {refused.read().decode()}") from None
            except (urllib.error.URLError, ConnectionError):  # not listening yet
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SmokeFailure("uvicorn bot:bot did not start listening") from None
                time.sleep(0.1)
        if body != echostr:
            raise SmokeFailure(f"the handshake was answered {body!r}, not the echostr {echostr!r}")
    except SmokeFailure as failure:
        server.kill()
        raise SmokeFailure(f"{failure}; uvicorn's log:\n{server.communicate()[1]}") from None
    server.terminate()
    server.wait(timeout=10)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="wxhook-wheel-") as temporary:
        tmp = Path(temporary)
        wheel = build(tmp / "dist")
        version = wheel.name.split("-")[1]
        home, venv = tmp / "home", tmp / "venv"
        home.mkdir()
        (home / "bot.py").write_text(BOT, encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("WXHOOK_")}
        env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
        run([sys.executable, "-m", "venv", venv], cwd=home, env=env)
        run([venv / "bin" / "pip", "install", "--quiet", wheel], cwd=home, env=env)

        printed = run([venv / "bin" / "wxhook", "--version"], cwd=home, env=env).strip()
        if printed != f"wxhook {version}":
            raise SmokeFailure(f"wxhook --version printed {printed!r}, not 'wxhook {version}'")
        found = json.loads(run([venv / "bin" / "python", "-c", INSTALLED], cwd=home, env=env))
        static = sorted(p.name for p in (ROOT / "wxhook" / "dev" / "static").iterdir())
        if not Path(found["file"]).resolve().is_relative_to(venv.resolve()):
            raise SmokeFailure(f"wxhook was imported from {found['file']}, not from the venv")
        if found["version"] != version or not found["typed"] or found["static"] != static:
            raise SmokeFailure(f"the installed package is not the checkout's: {found} (wanted version {version}, "
                               f"py.typed and the static files {static})")
        serve_and_shake(venv, home, env)
    print(f"wheel smoke: {wheel.name} installed in a fresh venv: --version, the handshake under uvicorn, "
          "the dev console's static files and py.typed")


if __name__ == "__main__":
    try:
        main()
    except SmokeFailure as failure:
        sys.exit(f"wheel smoke: {failure}")
