"""What the comparison runs on: the peers' virtual environment, wrk, and a description of the machine.

Standard library only: this runs before the environment it builds exists. The peers (wechatpy, WeRoBot,
gunicorn) go into ``bench/.peers-venv`` with wxhook itself (editable, so the checkout is what gets measured) and
the one uvicorn every ASGI contender shares; none of them ever becomes a dependency of wxhook.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".peers-venv"
REQUIREMENTS = BENCH / "peers" / "requirements.txt"
_STAMP = VENV / "installed.sha256"


def _wanted() -> str:
    """Changes whenever the pinned peers or wxhook's own dependencies do, so a stale venv is refreshed."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes() + (ROOT / "pyproject.toml").read_bytes())
    return digest.hexdigest()


def venv_python() -> Path:
    return VENV / "bin" / "python"


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv() -> Path:
    """Create or refresh the peers' venv (from PyPI); returns its interpreter."""
    python = venv_python()
    if python.exists() and _STAMP.exists() and _STAMP.read_text() == _wanted():
        return python
    print(f"installing the peers into {VENV.relative_to(ROOT)} (once) ...", flush=True)
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(REQUIREMENTS), "-e", f"{ROOT}[redis]"], check=True)
    _STAMP.write_text(_wanted())
    return python


def ensure_wrk() -> str | None:
    """wrk from Debian's packages, installed when missing (as root); None, with the reason printed, if it
    cannot be had."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print("wrk is missing and cannot be installed here: apt-get install wrk (Debian), then run again")
        return None
    print("installing wrk from Debian's packages ...", flush=True)
    if not _apt("install", "-y", "-q", "wrk"):  # the package lists may be missing or stale: refresh once
        _apt("update", "-q")
        if not _apt("install", "-y", "-q", "wrk"):
            print("apt-get could not install wrk: the HTTP comparison is skipped")
            return None
    return shutil.which("wrk")


def _apt(*args: str) -> bool:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    return subprocess.run(["apt-get", *args], stdout=subprocess.DEVNULL, env=env, check=False).returncode == 0


def machine() -> str:
    """One line on what ran the figures: CPU model, cores, memory, kernel, Python."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split()[1])
        memory = f", {kib / 1024**2:.0f} GiB"
    return (f"{model}, {os.cpu_count()} cores{memory}, Linux {platform.release()}, "
            f"Python {platform.python_version()}")
