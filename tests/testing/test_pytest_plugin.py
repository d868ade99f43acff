"""The pytest plugin as a user meets it: docs/testing.md's example project, copied into a fresh project, passes under
a pytest of its own without any async plugin; the ini option and a missing bot behave as documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def example_files() -> dict[str, str]:
    """The ``# name.py`` code blocks of docs/testing.md's "A project's tests"."""
    page = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    section = page.split("### A project's tests", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n# (\S+\.py)\n(.*?)```", section, flags=re.DOTALL)
    return {name: body for name, body in blocks}


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WXHOOK_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:asyncio", "-p", "no:randomly", *args],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


def test_the_docs_example_passes_in_a_project_of_its_own(tmp_path: Path) -> None:
    """A bot configured from WXHOOK_* at import, each test on a fresh bot (the session test passes second), and
    background work waited for: all as docs/testing.md shows them."""
    files = example_files()
    assert sorted(files) == ["conftest.py", "mybot.py", "test_mybot.py"]
    for name, body in files.items():
        (tmp_path / name).write_text(body, encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = run_pytest(tmp_path, "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout
    for test in ("test_and_starts_afresh_in_the_next_test", "test_background_work",
                 "test_slow_report_arrives_through_the_api"):
        assert f"{test} PASSED" in result.stdout


def test_ini_option_names_the_bot(tmp_path: Path) -> None:
    (tmp_path / "mybot.py").write_text("from wxhook import Bot\n\nbot = Bot(token='t')\n"
                                       "bot.on_text('hello')(lambda msg: 'Hi there!')\n", encoding="utf-8")
    (tmp_path / "test_mybot.py").write_text("def test_hello(bot_client):\n"
                                            "    assert bot_client.send_text('hello').content == 'Hi there!'\n",
                                            encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nwxhook_bot = mybot:bot\npythonpath = .\n", encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_without_a_bot_the_error_says_how_to_name_one(tmp_path: Path) -> None:
    (tmp_path / "test_nobot.py").write_text("def test_it(bot_client):\n    pass\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode != 0
    assert "define a `bot` fixture returning your Bot, or set `wxhook_bot = module:bot`" in result.stdout


def test_a_wrong_ini_target_is_named(tmp_path: Path) -> None:
    (tmp_path / "mybot.py").write_text("bot = 42\n", encoding="utf-8")
    (tmp_path / "test_it.py").write_text("def test_it(bot_client):\n    pass\n", encoding="utf-8")
    (tmp_path / "pytest.ini").write_text("[pytest]\nwxhook_bot = mybot:bot\npythonpath = .\n", encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode != 0
    assert "'mybot:bot' is a int, not a wxhook Bot" in result.stdout
