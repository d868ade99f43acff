"""The worker side of the job queue: ``wxhook worker module:bot`` or ``python -m wxhook.worker module:bot`` runs
a bot's ``queue=True`` handlers and the jobs it registered for ``ctx.enqueue`` (see ``wxhook.queue`` for the
guarantees). Everything else a job in Redis asks for is refused."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

from .app import Bot
from .callables import is_async
from .config import ConfigError
from .late import LateReplies
from .messages import Message, dedupe_key, parse_message
from .observe import follower_tag
from .queue import CALL_TASK, MESSAGE_TASK, QueueUnavailable, Refused, load
from .stores import StoreUnavailable

logger = logging.getLogger("wxhook")

_SENT = "sent"
_SENT_TTL = 2 * 86400.0  # WeChat's customer-service window is 48 hours: nothing is sent after it anyway


class Worker:
    """Runs one bot's queued jobs: ``wxhook worker module:bot`` or ``python -m wxhook.worker module:bot``."""

    def __init__(self, bot: Bot) -> None:
        if bot.queue is None:
            raise ConfigError("this bot has no job queue to work on: pass Bot(queue='redis://…') or set WXHOOK_QUEUE")
        self.bot = bot
        self.queue = bot.queue
        self.replies = LateReplies(bot.store, bot.stats, lease=bot.claim_lease, kind="queued")
        """The handlers' replies, sent as the webhook's late replies are: once, retried only when provably unsent."""

    async def run_job(self, task: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                      labels: Mapping[str, Any] | None) -> None:
        """Run one job as it came from Redis, if it asks for something the bot registered; refuse it otherwise
        (logged, then acknowledged: a refused job is never retried)."""
        try:
            payload, attempt = self.queue.open(task, args, kwargs, labels)
            if task == MESSAGE_TASK:
                await self.run_message(payload, attempt)
            else:
                await self.run_call(payload, attempt)
        except Refused as exc:
            logger.error("refused a %s job: %s; dropped without running anything", task, exc)

    async def run_message(self, payload: dict[str, Any], attempt: int) -> None:
        """Run a queued message's handler and send its reply through the customer-service API, once; ``Refused``
        unless the bot routes the message to a ``queue=True`` handler (the others run only in the webhook)."""
        bot = self.bot
        raw, appid = payload.get("message"), payload.get("appid", "")
        if not isinstance(raw, dict) or not isinstance(appid, str):
            raise Refused("a message job is {'message': {its fields}, 'appid': its account}")
        try:
            account = await bot.account(appid or None)
        except LookupError as exc:
            raise Refused(f"its account is not one this bot serves ({exc})") from None
        msg = parse_message(raw)
        found = bot.resolve(msg, account.account.appid)
        route = found[0] if found is not None else None
        handler = route.name if route is not None else "no handler"
        if route is None or not route.queue:
            raise Refused(f"its {msg.msg_type} from user={follower_tag(msg.from_user_name)} goes to {handler}, which "
                          "is not marked queue=True: a worker runs only queue=True handlers")
        delivered = account.keys.message(dedupe_key(msg)).delivered
        if await self.replies.answered(delivered):
            return  # an earlier run (before a crash or a redelivery) finished it
        ctx = bot.context(msg, account)
        try:
            try:
                reply = await bot.handle(msg, ctx, raise_errors=True)
            except Exception as exc:
                if attempt < self.queue.max_attempts:
                    raise
                logger.error("queued handler %s failed %d time(s) on a %s from user=%s (%s); giving up", handler,
                             attempt, msg.msg_type, follower_tag(msg.from_user_name), _message_id(msg))
                reply = await bot.recover(exc, msg, ctx)
            if reply is None:
                await bot.store.set(delivered, _SENT, _SENT_TTL)
            else:
                await self.replies.send_once(ctx.api, msg, delivered, reply, _SENT_TTL)
        finally:
            ctx.release()

    async def run_call(self, payload: dict[str, Any], attempt: int) -> None:
        """Run a job the bot registered with ``@bot.job``, by its name; ``Refused`` for any other name."""
        name, args, kwargs = payload.get("job"), payload.get("args"), payload.get("kwargs")
        if not isinstance(name, str) or not isinstance(args, list) or not isinstance(kwargs, dict):
            raise Refused("a call job is {'job': name, 'args': [...], 'kwargs': {...}}")
        func = self.bot.jobs.get(name)
        if func is None:
            raise Refused(f"job {name!r} is not registered: a worker runs only the jobs its bot registered with "
                          "@bot.job (or @router.job on an included router)")
        try:
            if is_async(func):
                await func(*args, **kwargs)
            else:
                await run_in_threadpool(func, *args, **kwargs)
        except Exception:
            if attempt < self.queue.max_attempts:
                raise
            logger.exception("queued job %s failed %d time(s); giving up", name, attempt)

    async def run(self, *, concurrency: int = 100) -> None:
        """Work until cancelled (SIGINT / SIGTERM under ``run_worker``), then shut the bot down. The queue is
        reached first and the store checked (``QueueUnavailable``, ``StoreUnavailable``): without them a worker has
        nothing to do."""
        from ._taskiq import receive, register

        try:
            broker = await self.queue.connect()
            await self.bot.startup()
            register(broker, (MESSAGE_TASK, CALL_TASK), self.run_job)
            logger.info("wxhook worker: running jobs from %s (stream %s): queue=True handlers and %d registered "
                        "job(s), %s", self.queue.name, self.queue.stream, len(self.bot.jobs),
                        "signed with job_key only" if self.queue.signed else "unsigned (no job_key)")
            await receive(broker, concurrency)
        finally:
            await self.bot.shutdown()

    async def check(self) -> None:
        """What ``run`` needs, checked once and let go (``wxhook worker --check``, a container's health check):
        the queue reached and the store written, else ``QueueUnavailable`` or ``StoreUnavailable`` saying which."""
        try:
            await self.queue.connect()
            await self.bot.store.check(self.bot.keys.probe())
        finally:
            await self.queue.close()
            await self.bot.store.close()


def _message_id(msg: Message) -> str:
    msg_id = getattr(msg, "msg_id", None)
    return f"MsgId {msg_id}" if msg_id is not None else f"event at {msg.create_time}"


def run_worker(target: str, *, concurrency: int = 100, check: bool = False) -> None:
    """Import the bot ``target`` names (``module:bot``) and run its queued jobs until SIGINT or SIGTERM; with
    ``check``, only check that it could (``Worker.check``) and say so. ``QueueUnavailable`` or
    ``StoreUnavailable`` when the queue or the store cannot be used."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker = Worker(load(target))
    if check:
        asyncio.run(worker.check())
        print(f"OK: {target} can work: its job queue {worker.queue.name} answers and its store takes writes")
        return

    async def main() -> None:
        task = asyncio.ensure_future(worker.run(concurrency=concurrency))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            logger.info("wxhook worker stopped")

    asyncio.run(main())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m wxhook.worker", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    if args.concurrency < 1:
        parser.error(f"--concurrency must be 1 or more, not {args.concurrency}")
    try:
        run_worker(args.target, concurrency=args.concurrency, check=args.check)
    except (QueueUnavailable, StoreUnavailable) as exc:
        print(f"wxhook worker: {exc}", file=sys.stderr)
        return 1
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The worker's arguments, shared with ``wxhook worker``."""
    parser.add_argument("target", metavar="MODULE:BOT",
                        help="the bot, e.g. app:bot (its queue= or WXHOOK_QUEUE)")
    parser.add_argument("--concurrency", type=int, default=100, help="jobs run at once (default %(default)s)")
    parser.add_argument("--check", action="store_true",
                        help="check that the worker can run (its bot imports, its job queue answers, its store takes "
                             "writes) and exit: 0, or 1 with the reason; a container's health check")


if __name__ == "__main__":
    sys.exit(main())
