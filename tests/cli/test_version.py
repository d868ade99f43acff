"""`wxhook --version` and ``wxhook.__version__`` are the installed distribution's version, the one in pyproject.toml."""

from __future__ import annotations

from importlib.metadata import version

import pytest

import wxhook
from wxhook.cli import main

from ..test_packaging import PROJECT


def test_the_version_is_the_installed_distributions() -> None:
    assert wxhook.__version__ == version(PROJECT["name"]) == PROJECT["version"]


def test_wxhook_version_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"wxhook {wxhook.__version__}\n"
