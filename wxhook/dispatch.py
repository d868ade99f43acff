"""Running one message through middleware and its handler, with its session; never raises.

This is the part of the bot that needs no HTTP request: the webhook calls it inside the reply window, and a
queue worker can call it for a message it took off a queue.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from .callables import is_async, job_name, positional_arity
from .context import Context
from .messages import Message
from .observe import ERROR, PASSIVE, follower_tag
from .replies import Reply, coerce_reply
from .routing import Found, Router
from .session import load_session
from .stores import Store

logger = logging.getLogger("wxhook")

CallNext = Callable[[Message], Awaitable[Reply | None]]
Middleware = Callable[..., Awaitable[Any]]
ErrorHandler = Callable[..., Any]


class Dispatcher:
    """Middleware, the handler call and ``on_error``, for one router."""

    def __init__(self, router: Router, store: Store, *, sessions: bool, session_ttl: float) -> None:
        self._router = router
        self._store = store
        self.sessions = sessions
        self.session_ttl = session_ttl
        self._middleware: list[tuple[Middleware, bool, str]] = []
        self._error_handlers: list[tuple[ErrorHandler, bool, bool]] = []
        self._ctx_everywhere = False
        """Whether a middleware or error handler takes the context: then every message loads its session."""

    def add_middleware(self, func: Middleware) -> None:
        if not is_async(func):
            raise TypeError(f"middleware {func.__qualname__} must be an async function: async def mw(msg, call_next)")
        self._middleware.append((func, positional_arity(func) >= 3, job_name(func)))
        self._ctx_everywhere = self._ctx_everywhere or positional_arity(func) >= 3

    def add_error_handler(self, func: ErrorHandler) -> None:
        self._error_handlers.append((func, is_async(func), positional_arity(func) >= 3))
        self._ctx_everywhere = self._ctx_everywhere or positional_arity(func) >= 3

    async def handle(self, ctx: Context, *, raise_errors: bool = False) -> Reply | None:
        """The reply for ``ctx.message``, routed here (``run`` for a message routed already).

        ``raise_errors`` lets a handler's exception through (its session unsaved) instead of recovering, for a
        queue worker that retries the job and recovers only on the last attempt.
        """
        reply, _ = await self.run(ctx, self._router.resolve(ctx.message, ctx.served.account.appid), raise_errors)
        return reply

    async def run(self, ctx: Context, found: Found, raise_errors: bool = False) -> tuple[Reply | None, str]:
        """The reply for ``ctx.message``, whose route is ``found``, and the outcome for its line (``passive``, or
        ``error`` when an exception was recovered from); the session is loaded and saved."""
        msg = ctx.message
        # Only code that is handed the context can reach ctx.session: a handler ``def echo(msg)`` costs no session
        # read or write (a third of the work of a plain message on the memory store).
        wants_ctx = self._ctx_everywhere or (found is not None and found[0].wants_context)
        if self.sessions and wants_ctx and ctx.loaded_session is None:
            ctx.attach_session(await load_session(self._store, ctx.served.keys.session(msg.from_user_name)))
        outcome = PASSIVE
        try:
            if not self._middleware:
                reply = await self._call_handler(msg, ctx, found, msg)
            else:
                reply = await self._chain(0, ctx, found, msg)(msg)
        except Exception as exc:
            if raise_errors:
                raise
            reply, outcome = await self.recover(exc, msg, ctx), ERROR
        session = ctx.loaded_session
        if session is not None:
            try:
                await session.save(self._store, self.session_ttl)
            except Exception:
                logger.exception("session of user=%s not saved", follower_tag(msg.from_user_name))
        return reply, outcome

    def _chain(self, position: int, ctx: Context, found: Found, routed: Message) -> CallNext:
        if position == len(self._middleware):
            return lambda msg: self._call_handler(msg, ctx, found, routed)
        func, wants_ctx, name = self._middleware[position]
        call_next = self._chain(position + 1, ctx, found, routed)

        async def step(msg: Message) -> Reply | None:
            ctx.message = msg
            result = await (func(msg, ctx, call_next) if wants_ctx else func(msg, call_next))
            return coerce_reply(result, "middleware", name)

        return step

    async def _call_handler(self, msg: Message, ctx: Context, found: Found, routed: Message) -> Reply | None:
        """Call the handler ``found`` for ``routed``; a middleware that passed another message on gets the handler
        of that one."""
        if msg is not routed:
            found = self._router.resolve(msg, ctx.served.account.appid)
        if found is None:
            logger.debug("no handler for a %s from user=%s", msg.msg_type, follower_tag(msg.from_user_name))
            return None
        route, ctx.match = found
        args = (msg, ctx) if route.wants_context else (msg,)
        if route.is_async:
            result = await route.func(*args)
        else:
            result = await run_in_threadpool(route.func, *args)
        return coerce_reply(result, "handler", route.name)

    async def recover(self, exc: Exception, msg: Message, ctx: Context) -> Reply | None:
        """Log a handler's exception and turn it into the first ``on_error`` handler's reply, if any."""
        found = self._router.resolve(msg, ctx.served.account.appid)
        handler = found[0].name if found is not None else "no handler"
        logger.error("answering a %s from user=%s failed (%s)", msg.msg_type, follower_tag(msg.from_user_name),
                     handler, exc_info=exc)
        for func, run_async, wants_ctx in self._error_handlers:
            args = (exc, msg, ctx) if wants_ctx else (exc, msg)
            try:
                result = await func(*args) if run_async else await run_in_threadpool(func, *args)
                return coerce_reply(result, "on_error handler", job_name(func))
            except Exception:
                logger.exception("on_error handler %s failed", job_name(func))
        return None
