"""Slow handlers and background jobs on a job queue, run by ``wxhook worker module:bot`` on any host.

The queue is taskiq with taskiq-redis' stream broker (``pip install 'wxhook-mp[queue]'``): async-native like the
rest of wxhook, and its Redis stream keeps a job pending until a worker acknowledges it after running it, so
a job survives the restart of the instance that enqueued it and of the worker that ran it: a live worker
renews its claim on a running job, and a job whose claim went unrenewed for ``redeliver_after`` seconds (its
worker died) is taken by another worker. That is at-least-once; the store makes it effectively-once for the
follower. A message whose reply went out (or that had none) is marked in the store and skipped if it comes back,
and the customer-service send is made as the webhook's late replies are (``late.py``): under a leased mark, so two
workers never both send it, retried only when WeChat surely did not get it, never by running the job again.

A job that raises is retried by taskiq (``SimpleRetryMiddleware``) up to ``max_attempts`` runs in all; the
last run hands the exception to the bot's ``on_error`` handlers and logs the job with the message and handler.

A job is one JSON payload (a dict, so fields can be added) under one of two task names: a message for a
``queue=True`` handler, or a job registered with ``@bot.job`` by name. Whoever can write to the queue's Redis
can write any job, so a worker takes nothing from it but data: it runs a message only through a ``queue=True``
route of its bot and a call only by a registered name, and refuses anything else (logged, acknowledged, never
retried). With a job key (``Bot(job_key=...)`` / WXHOOK_JOB_KEY) every job is signed, HMAC-SHA256 over the
canonical JSON of its task name and payload, in a taskiq label; a worker with the key refuses a job that is
unsigned or signed otherwise, so writing to Redis no longer chooses what a registered job or handler gets.

Queue URL options (stripped before the URL reaches Redis): ``redeliver_after`` (seconds, default 45) and
``max_attempts`` (default 3).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import importlib
import json
import logging
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode

from .config import ConfigError
from .logs import without_password
from .loops import LoopBound
from .messages import Message, plain
from .stores.keys import BotKeys

if TYPE_CHECKING:
    from taskiq import AsyncBroker


logger = logging.getLogger("wxhook")

QUEUE_FORMS = "'redis://host:6379/0', 'rediss://…' for TLS, or 'unix:///path/redis.sock'"
MESSAGE_TASK = "wxhook.message"
CALL_TASK = "wxhook.call"
_ENQUEUE_TIMEOUT = 1.0
_CONNECT_TIMEOUT = 5.0
_RETRY_AFTER_OUTAGE = 2.0
SIGNATURE = "wxhook_signature"
"""The label a signed job carries its signature in."""
_MIN_KEY = 16
_COUNTERS = ("_retries", "max_retries")
"""The labels taskiq's retry middleware reads with ``int()``: a job whose are not numbers is refused."""


class Refused(Exception):
    """A job this worker does not run: logged with the reason, acknowledged, never retried."""


class QueueUnavailable(Exception):
    """The job queue could not be reached where it must be (a worker's start): the message names it and the fix."""


class JobQueue:
    """The job queue a ``Bot(queue=...)`` / WXHOOK_QUEUE URL names, for one bot's jobs."""

    def __init__(self, url: str, keys: BotKeys, job_key: str | None = None) -> None:
        try:
            from . import _taskiq  # noqa: F401 - taskiq and taskiq-redis are optional
        except ImportError:
            raise ImportError(f"the job queue {without_password(url)!r} needs taskiq: "
                              "pip install 'wxhook-mp[queue]'") from None
        scheme = url.split("://", 1)[0] if "://" in url else ""
        if scheme not in ("redis", "rediss", "unix"):
            raise ConfigError(
                f"unsupported job queue URL {without_password(url)!r}; set queue= or WXHOOK_QUEUE to {QUEUE_FORMS} "
                "(Sentinel and Cluster URLs are not supported here: their taskiq-redis brokers never redeliver a dead "
                "worker's job)"
            )
        base, _, query = url.partition("?")
        options = dict(parse_qsl(query, keep_blank_values=True))
        self.redeliver_after = _number(url, "redeliver_after", options.pop("redeliver_after", "45"))
        self.max_attempts = int(_number(url, "max_attempts", options.pop("max_attempts", "3")))
        self.url = f"{base}?{urlencode(options)}" if options else base
        self.name = without_password(self.url)
        """The URL as logs and errors show it: without its password."""
        self.stream = keys.jobs()
        if job_key is not None and len(job_key) < _MIN_KEY:
            raise ConfigError(f"job_key (WXHOOK_JOB_KEY) signs the queue's jobs: use at least {_MIN_KEY} random "
                              "characters, e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        self._job_key = job_key.encode() if job_key is not None else None
        self._broker: LoopBound[asyncio.Future[AsyncBroker]] = LoopBound(
            lambda: asyncio.ensure_future(self._start())
        )
        self._down = False
        self._retry_at = 0.0

    async def _start(self) -> AsyncBroker:
        from ._taskiq import new_broker

        broker = new_broker(self.url, self.stream, redeliver_after=self.redeliver_after,
                            max_attempts=self.max_attempts)
        await broker.startup()
        return broker

    async def broker(self) -> AsyncBroker:
        """This loop's broker, started once (which creates the stream's consumer group, so jobs enqueued
        before any worker ever ran are kept for it); a start that failed is tried again next time."""
        starting = self._broker.get()
        try:
            return await asyncio.shield(starting)
        except Exception:
            if self._broker.peek() is starting:
                self._broker.take()
            raise

    async def connect(self, timeout: float = _CONNECT_TIMEOUT) -> AsyncBroker:
        """This loop's broker, started within ``timeout`` seconds: a worker's start, whose whole job the queue is;
        ``QueueUnavailable`` naming the queue and its setting otherwise (the store is checked the same way)."""
        try:
            return await asyncio.wait_for(self.broker(), timeout)
        except Exception as exc:
            reason = f"{type(exc).__name__}: {str(exc).rstrip('.')}"
            raise QueueUnavailable(f"the job queue {self.name} could not be reached ({reason}); point queue= or "
                                   "WXHOOK_QUEUE at a running Redis") from exc

    async def probe(self) -> None:
        """Reach the queue at a web process's start-up: an unreachable one is the outage warning now, not at the
        first queued message (meanwhile this process runs queued handlers and jobs itself)."""
        try:
            await asyncio.wait_for(self.broker(), _ENQUEUE_TIMEOUT)
        except Exception as exc:
            self._unavailable(exc)

    def _unavailable(self, exc: Exception) -> None:
        """The queue did not answer: one warning per outage, as for the store, and no new try for a moment."""
        self._retry_at = asyncio.get_running_loop().time() + _RETRY_AFTER_OUTAGE
        if not self._down:
            self._down = True
            logger.warning("job queue %s unavailable (%s: %s); queued handlers and jobs run in this "
                           "process until it answers again", self.name, type(exc).__name__, exc)

    async def _kick(self, task: str, name: str, payload: dict[str, Any]) -> bool:
        """Enqueue one job; False (logged) when the queue cannot be reached in time."""
        from ._taskiq import kick

        if self._down and asyncio.get_running_loop().time() < self._retry_at:
            return False  # out a moment ago: do not make every message wait for the timeout again
        payload = json.loads(json.dumps(payload))  # as a worker will decode it (lists, string keys), to sign that
        labels = {} if self._job_key is None else {SIGNATURE: _signature(self._job_key, task, payload)}
        try:
            broker = await asyncio.wait_for(self.broker(), _ENQUEUE_TIMEOUT)
            await asyncio.wait_for(kick(broker, task, self.max_attempts, payload, labels), _ENQUEUE_TIMEOUT)
        except Exception as exc:
            self._unavailable(exc)
            logger.debug("%s runs in this process: the job queue is unavailable", name)
            return False
        if self._down:
            self._down = False
            logger.info("job queue %s answers again", self.name)
        return True

    async def enqueue_message(self, msg: Message, handler: str, appid: str = "") -> bool:
        """Put a message on the queue for its handler to run in a worker."""
        return await self._kick(MESSAGE_TASK, handler, {"message": plain(msg.raw), "appid": appid})

    async def enqueue_call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        """Put the job registered as ``name`` on the queue, with its arguments."""
        return await self._kick(CALL_TASK, name, {"job": name, "args": list(args), "kwargs": kwargs})

    def open(self, task: str, args: tuple[Any, ...], kwargs: dict[str, Any], labels: Mapping[str, Any] | None
             ) -> tuple[dict[str, Any], int]:
        """The payload of a job as it came from Redis, and which run of it this is; ``Refused`` when it is not
        in the form wxhook writes (one payload, no keywords; ``labels`` None: a keyword replaced taskiq's own),
        or, with a job key, not signed with it."""
        if labels is None or kwargs or len(args) != 1 or not isinstance(args[0], dict):
            raise Refused("it is not a job wxhook wrote (one payload dict, no keyword arguments)")
        payload, key = args[0], self._job_key
        if key is not None:
            signature = labels.get(SIGNATURE)
            if signature is None:
                raise Refused("it is not signed, and this worker's job_key (WXHOOK_JOB_KEY) runs signed jobs only: "
                              "give every web process of the bot the same key")
            try:
                expected = _signature(key, task, payload)
            except (TypeError, ValueError, RecursionError):
                raise Refused("its payload is not plain JSON") from None
            if not (isinstance(signature, str) and signature.isascii() and hmac.compare_digest(signature, expected)):
                raise Refused("its signature does not match this worker's job_key (WXHOOK_JOB_KEY): forged, or "
                              "signed with another key; the web processes and workers must share one key")
        try:
            retries = [int(labels.get(label, 0)) for label in _COUNTERS]
        except (TypeError, ValueError):
            raise Refused("its retry labels are not numbers") from None
        return payload, retries[0] + 1

    @property
    def signed(self) -> bool:
        """Whether jobs are signed when enqueued and checked before they run (a job key is set)."""
        return self._job_key is not None

    async def close(self) -> None:
        starting = self._broker.take()
        if starting is None:
            return
        if not starting.done():
            starting.cancel()
        elif starting.exception() is None:
            await starting.result().shutdown()


def _signature(key: bytes, task: str, payload: dict[str, Any]) -> str:
    """HMAC-SHA256 of the task name and the whole payload in canonical JSON (sorted keys, ASCII, no spaces)."""
    canonical = json.dumps([task, payload], sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()


def check_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    try:
        json.dumps([args, kwargs], allow_nan=False)  # taskiq would write NaN as null
    except (TypeError, ValueError) as exc:
        raise TypeError(f"ctx.enqueue({name}): arguments must be JSON-serialisable ({exc}); pass ids and strings "
                        "and load the rest in the job") from None


def load(target: str) -> Any:
    """The object ``module:attribute`` names (the working directory importable, as uvicorn does): the bot a
    worker runs, named on its command line, never anything a job names."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{target!r} is not module:attribute, e.g. 'app:bot'")
    if str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    value: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        value = getattr(value, part)
    return value


def _number(url: str, name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if number <= 0:
        raise ConfigError(f"{name}={value!r} in the job queue URL {without_password(url)!r} must be a positive "
                          "number")
    return number
