"""Requests per second of the echo bot under a real uvicorn, driven by wrk over loopback.

    python bench/http_throughput.py [seconds]      # needs `wrk` (Debian package wrk)

Every request is a distinct, correctly signed push (a new MsgId each time, so none is mistaken for a retry);
safe-mode requests are sealed in advance. One uvicorn worker, as the design figures are measured.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from wxhook.crypto import Envelope, decode_aes_key, sign  # noqa: E402
from wxhook.testing import message_xml  # noqa: E402

TOKEN, APPID, KEY = "bench", "wx2c2769f8efd9abc2", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
POOL = 60_000

LUA = """
local requests = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, body = line:match("^(%S+) (.*)$")
    requests[#requests + 1] = wrk.format("POST", path, nil, body)
  end
end
function request()
  i = i % #requests + 1
  return requests[i]
end
"""


def pool(encrypted: bool, out: Path) -> None:
    envelope = Envelope(decode_aes_key(KEY), APPID)
    ts, nonce = "1700000000", "42"
    with out.open("w") as lines:
        for msg_id in range(1, POOL + 1):
            fields = {"ToUserName": "gh_bench", "FromUserName": "o_bench", "CreateTime": 1700000000,
                      "MsgType": "text", "Content": "hello wxhook", "MsgId": msg_id}
            body = message_xml(fields)
            query = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
            if encrypted:
                sealed = envelope.seal(body.encode())
                query.update(encrypt_type="aes", msg_signature=sign(TOKEN, ts, nonce, sealed))
                body = message_xml({"ToUserName": "gh_bench", "Encrypt": sealed})
            lines.write(f"/?{urlencode(query)} {body}\n")


def main() -> None:
    seconds = sys.argv[1] if len(sys.argv) > 1 else "5"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "WXHOOK_TOKEN": TOKEN, "WXHOOK_APPID": APPID, "WXHOOK_AES_KEY": KEY}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "examples.echo:bot", "--port", str(port), "--log-level", "warning",
         "--no-access-log"], cwd=ROOT, env=env,
    )
    try:
        time.sleep(2)
        with tempfile.TemporaryDirectory() as tmp:
            script = Path(tmp, "pool.lua")
            script.write_text(LUA)
            for encrypted in (False, True):
                data = Path(tmp, "requests.txt")
                pool(encrypted, data)
                run = subprocess.run(
                    ["wrk", "-t1", "-c32", f"-d{seconds}s", "-s", str(script), f"http://127.0.0.1:{port}/",
                     "--", str(data)], capture_output=True, text=True, check=True,
                )
                rate = float(re.search(r"Requests/sec:\s+([\d.]+)", run.stdout).group(1))  # type: ignore[union-attr]
                errors = re.search(r"Non-2xx or 3xx responses: (\d+)", run.stdout)
                print(f"{'safe mode' if encrypted else 'plaintext':>10}: {rate:8,.0f} requests/s"
                      + (f"  ({errors.group(1)} non-2xx!)" if errors else ""))
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
