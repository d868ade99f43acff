"""The access token across real processes: several workers sharing one SQLite store fetch it once."""

from __future__ import annotations

import asyncio
import multiprocessing
from pathlib import Path

from wxhook.api import Client
from wxhook.stores import SQLiteStore
from wxhook.testing import FakeWeChat


def _worker(url: str, appid: str, secret: str, db: str, start: multiprocessing.synchronize.Event, out: str) -> None:
    async def run() -> list[str]:
        store = SQLiteStore(db)
        async with Client(appid, secret, store=store, api_base=url) as client:
            start.wait()
            tokens = await asyncio.gather(*(client.access_token() for _ in range(10)))
            await client.message.send_text("o_worker", "hello")
        await store.close()
        return list(tokens)

    Path(out).write_text("\n".join(asyncio.run(run())))


def test_workers_on_one_sqlite_store_fetch_the_token_once(tmp_path: Path) -> None:
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    with FakeWeChat() as fake:
        outs = [tmp_path / f"tokens-{i}.txt" for i in range(4)]
        workers = [
            spawn.Process(target=_worker, args=(fake.url, fake.appid, fake.secret, str(tmp_path / "state.db"),
                                                start, str(out)))
            for out in outs
        ]
        for worker in workers:
            worker.start()
        start.set()
        for worker in workers:
            worker.join(60)
        assert [worker.exitcode for worker in workers] == [0, 0, 0, 0]
        tokens = {line for out in outs for line in out.read_text().splitlines()}
        assert fake.count("/cgi-bin/stable_token") == 1
        assert len(tokens) == 1
        sends = fake.calls("/cgi-bin/message/custom/send")
        assert len(sends) == 4 and {call.query["access_token"] for call in sends} == tokens
