"""examples/accounts.py over HTTP: two shops' accounts from a table, a third added while serving."""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from wxhook.testing import BotClient

from ..conftest import serve

EAST, WEST, NORTH = "wx2c2769f8efd9abc2", "wx7d5f8e1a2b3c4d5e", "wx0000000000000a0c"


@pytest.fixture
def example(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[ModuleType]:
    monkeypatch.setenv("ACCOUNTS_DB", str(tmp_path / "accounts.db"))
    monkeypatch.setenv("WXHOOK_TOKEN", "never-read-by-accounts")
    sys.modules.pop("examples.accounts", None)
    yield importlib.import_module("examples.accounts")
    sys.modules.pop("examples.accounts", None)


async def test_each_shop_on_its_own_account(example: ModuleType, tmp_path: Path) -> None:
    with serve(example.bot) as url:
        async with BotClient(f"{url}{EAST}", token="wxhook-shop-east", appid=EAST,
                             aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG") as east, \
                BotClient(f"{url}{WEST}", token="wxhook-shop-west") as west:
            reply = await east.send_text("hours")
            assert reply.encrypted and reply.content == "East Street is open 9:00–21:00."
            assert (await west.send_text("coupon")).content.startswith("This week at West Street")
            assert (await east.send_text("coupon")).content == "East Street got your message: coupon"
            assert (await west.send_event("subscribe")).content.startswith("Welcome to West Street!")
        async with BotClient(f"{url}{NORTH}", token="north-token") as north:
            assert (await north.send_text("hours")).status == 404
            with sqlite3.connect(tmp_path / "accounts.db") as db:
                db.execute("INSERT INTO accounts (appid, token, name) VALUES (?, ?, ?)",
                           (NORTH, "north-token", "North Gate"))
            await asyncio.sleep(5.1)  # the example keeps "not found" for 5 seconds
            assert (await north.send_text("hours")).content == "North Gate is open 9:00–21:00."
