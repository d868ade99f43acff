"""Running one message through the levels of its route (outer middleware, middleware, error handlers) to its
handler, with its session; never raises.

This is the part of the bot that needs no HTTP request: the webhook calls it inside the reply window, and a
queue worker can call it for a message it took off a queue. Each router on a route's way (``Route.levels``, the
including one first) wraps what comes after it: its middleware around the next router's, and its ``on_error``
handlers around both, so an error handler's reply goes back out through the middleware of the routers above it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool

from .context import Context
from .messages import Message
from .observe import ERROR, PASSIVE, follower_tag
from .replies import Reply, coerce_reply
from .routing import Catcher, Found, Layer, Level, Router
from .session import load_session
from .stores import Store

logger = logging.getLogger("wxhook")

CallNext = Callable[[Message], Awaitable[Reply | None]]
InThread = Callable[..., Awaitable[Any]]
"""How a sync handler is called: ``await in_thread(func, *args)`` runs ``func(*args)`` in the thread pool."""


class _Trouble:
    """How one message's dispatch went wrong, if it did: the exception is logged once, where it is first caught."""

    __slots__ = ("exhausted", "handler", "logged", "raise_errors")

    def __init__(self, found: Found, raise_errors: bool) -> None:
        self.handler = found[0].name if found is not None else "no handler"
        self.raise_errors = raise_errors
        self.logged = False
        self.exhausted: Exception | None = None
        """An exception every error handler of the route's levels had, and passed on."""

    def log(self, exc: Exception, msg: Message) -> None:
        if not self.logged:
            self.logged = True
            logger.error("answering a %s from user=%s failed (%s)", msg.msg_type, follower_tag(msg.from_user_name),
                         self.handler, exc_info=exc)


class Dispatcher:
    """Outer middleware, middleware, the handler call and ``on_error``, for one router tree."""

    def __init__(self, router: Router, store: Store, *, sessions: bool, session_ttl: float,
                 in_thread: InThread = run_in_threadpool) -> None:
        self._router = router
        self._store = store
        self._in_thread = in_thread
        """The bot's: each wait for a thread is seen by its load shedding (admission.py)."""
        self.sessions = sessions
        self.session_ttl = session_ttl

    async def handle(self, ctx: Context, *, raise_errors: bool = False) -> Reply | None:
        """The reply for ``ctx.message``, routed here (``run`` for a message routed already).

        ``raise_errors`` lets a handler's exception through (its session unsaved) instead of recovering, for a
        queue worker that retries the job and recovers only on the last attempt.
        """
        reply, _ = await self.run(ctx, self._router.resolve(ctx.message, ctx.served.account.appid), raise_errors)
        return reply

    async def run(self, ctx: Context, found: Found, raise_errors: bool = False) -> tuple[Reply | None, str]:
        """The reply for ``ctx.message``, whose route is ``found``, and the outcome for its line (``passive``, or
        ``error`` when an exception was raised on the way); the session is loaded and saved."""
        msg = ctx.message
        if found is not None:
            levels, wants_session = found[0].levels, found[0].session
        else:
            table = self._router.table()
            levels, wants_session = table.unrouted, table.unrouted_session
        # Only code that is handed the context can reach ctx.session: a handler ``def echo(msg)`` costs no session
        # read or write (a third of the work of a plain message on the memory store).
        if wants_session:
            await self._load_session(ctx)
        trouble = None
        try:
            if not levels:
                reply = await self._call_handler(msg, ctx, found, msg)
            else:
                trouble = _Trouble(found, raise_errors)
                reply = await self._outer(levels, msg, ctx, found, trouble)
        except Exception as exc:
            if raise_errors:
                raise
            (trouble or _Trouble(found, raise_errors)).log(exc, msg)
            reply, trouble = None, None
            outcome = ERROR
        else:
            outcome = ERROR if trouble is not None and trouble.logged else PASSIVE
        session = ctx.loaded_session
        if session is not None:
            try:
                await session.save(self._store, self.session_ttl)
            except Exception:
                logger.exception("session of user=%s not saved", follower_tag(msg.from_user_name))
        return reply, outcome

    async def _load_session(self, ctx: Context) -> None:
        if self.sessions and ctx.loaded_session is None:
            ctx.attach_session(await load_session(self._store, ctx.served.keys.session(ctx.message.from_user_name)))

    async def _outer(self, levels: tuple[Level, ...], msg: Message, ctx: Context, found: Found,
                     trouble: _Trouble) -> Reply | None:
        """The outer middleware of every level, the including router's first, then the message they pass on routed
        (again, when it is another) into its route's levels. An outer middleware's exception goes to the error
        handlers of those levels, the innermost first."""
        outer = tuple(layer for level in levels for layer in level.outer)
        if not outer:
            return await self._enter(levels, 0, msg, ctx, found, msg, trouble)

        async def routed(passed: Message) -> Reply | None:
            again = found if passed is msg else self._router.resolve(passed, ctx.served.account.appid)
            if again is not found and again is not None and again[0].session:
                await self._load_session(ctx)
            chosen = again[0].levels if again is not None else self._router.table().unrouted
            try:
                return await self._enter(chosen, 0, passed, ctx, again, passed, trouble)
            except Exception as exc:
                trouble.exhausted = exc
                raise

        try:
            return await self._through(outer, 0, msg, ctx, routed)
        except Exception as exc:
            if trouble.raise_errors or exc is trouble.exhausted:
                raise
            return await self._catch(exc, msg, ctx, [c for level in reversed(levels) for c in level.catchers],
                                     trouble)

    async def _enter(self, levels: tuple[Level, ...], at: int, msg: Message, ctx: Context, found: Found,
                     routed: Message, trouble: _Trouble) -> Reply | None:
        """Level ``at``'s middleware around the next level's (the handler, past the last), its error handlers
        around both."""
        if at == len(levels):
            return await self._call_handler(msg, ctx, found, routed)
        level = levels[at]

        async def inner(passed: Message) -> Reply | None:
            return await self._enter(levels, at + 1, passed, ctx, found, routed, trouble)

        try:
            return await self._through(level.middleware, 0, msg, ctx, inner)
        except Exception as exc:
            if trouble.raise_errors or not level.catchers:
                raise
            return await self._catch(exc, msg, ctx, level.catchers, trouble)

    async def _through(self, layers: tuple[Layer, ...], at: int, msg: Message, ctx: Context,
                       then: CallNext) -> Reply | None:
        """``layers[at:]``, the first outermost, around ``then``."""
        if at == len(layers):
            return await then(msg)
        layer = layers[at]

        async def call_next(passed: Message) -> Reply | None:
            return await self._through(layers, at + 1, passed, ctx, then)

        ctx.message = msg
        result = await (layer.func(msg, ctx, call_next) if layer.wants_context else layer.func(msg, call_next))
        return coerce_reply(result, "middleware", layer.name)

    async def _call_handler(self, msg: Message, ctx: Context, found: Found, routed: Message) -> Reply | None:
        """Call the handler ``found`` for ``routed``; a middleware that passed another message on gets the handler
        of that one (inside the levels entered already)."""
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
            result = await self._in_thread(route.func, *args)
        return coerce_reply(result, "handler", route.name)

    async def _catch(self, exc: Exception, msg: Message, ctx: Context, catchers: tuple[Catcher, ...] | list[Catcher],
                     trouble: _Trouble) -> Reply | None:
        """The first of ``catchers`` that turns ``exc`` into a reply (or None); ``exc`` again when each raised."""
        trouble.log(exc, msg)
        for catcher in catchers:
            args = (exc, msg, ctx) if catcher.wants_context else (exc, msg)
            try:
                result = await catcher.func(*args) if catcher.is_async else await self._in_thread(catcher.func, *args)
                return coerce_reply(result, "on_error handler", catcher.name)
            except Exception:
                logger.exception("on_error handler %s failed", catcher.name)
        raise exc

    async def recover(self, exc: Exception, msg: Message, ctx: Context) -> Reply | None:
        """Log a handler's exception and turn it into a reply: the first of the error handlers of its route's levels
        (the innermost first) that does; None when none does."""
        found = self._router.resolve(msg, ctx.served.account.appid)
        levels = found[0].levels if found is not None else self._router.table().unrouted
        try:
            return await self._catch(exc, msg, ctx, [c for level in reversed(levels) for c in level.catchers],
                                     _Trouble(found, False))
        except Exception:
            return None
