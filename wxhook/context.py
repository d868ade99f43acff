"""What a handler can reach besides the message itself."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .accounts import Account, ServedAccount
    from .api import Client
    from .background import Background
    from .messages import Message
    from .routing import Router
    from .session import Session

__all__ = ["Context"]

Enqueue = Callable[[str, Callable[..., Any], tuple[Any, ...], dict[str, Any]], Awaitable[None]]
"""Puts the job registered as ``name`` (``func``) with its arguments on the bot's job queue (or runs it here when
there is none)."""


class Context:
    """Handed to handlers that declare a second parameter: ``def handler(msg, ctx)``.

    ``match`` is the regex match that selected the handler (``on_text(regex=...)`` or an event ``key``
    pattern), else None. ``bot`` is the Bot that received the message, ``account`` the official account it is for.
    """

    __slots__ = ("_background", "_enqueue", "_jobs", "_session", "bot", "match", "message", "served")

    def __init__(
        self,
        message: Message,
        bot: Router,
        background: Background,
        served: ServedAccount,
        session: Session | None = None,
        enqueue: Enqueue | None = None,
    ) -> None:
        self.message = message
        self.bot = bot
        self.served = served
        """The account's runtime: its keys in the store, its checks, its API client (internal)."""
        self.match: re.Match[str] | None = None
        """Set by the dispatcher for the handler it calls."""
        self._background = background
        self._session = session
        self._enqueue = enqueue
        self._jobs: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] | None = []

    @property
    def openid(self) -> str:
        """The follower who sent the message."""
        return self.message.from_user_name

    @property
    def account(self) -> Account:
        """The official account the message was pushed to (its appid, name, where the bot got it)."""
        return self.served.account

    @property
    def api(self) -> Client:
        """The API client of the message's account: its own access token, or its authorizer token when the
        account authorized the bot's third-party platform."""
        return self.served.api

    @property
    def session(self) -> Session:
        """This follower's session: a dict persisted in the bot's store between messages."""
        if self._session is None:
            raise RuntimeError("sessions are off for this bot: construct it with Bot(sessions=True)")
        return self._session

    @property
    def loaded_session(self) -> Session | None:
        """The session if one is attached (sessions on), without raising: for middleware and the framework."""
        return self._session

    def attach_session(self, session: Session) -> None:
        self._session = session

    def background(self, func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run ``func(*args, **kwargs)`` (async or plain) once the reply is on its way.

        Jobs never hold up the reply; failures are logged; shutdown waits for them (``shutdown_grace``).
        """
        if self._jobs is None:
            self._background.submit(func, *args, **kwargs)
        else:
            self._jobs.append((func, args, kwargs))

    def enqueue(self, job: Callable[..., Any] | str, /, *args: Any, **kwargs: Any) -> None:
        """Like ``background``, but on the bot's job queue: a ``wxhook worker`` runs ``job(*args, **kwargs)``,
        retried if it fails, even if this process restarts. ``job`` is a function registered with ``@bot.job``
        (or ``@router.job`` on an included router), or its registered name: the queue carries only the name, and
        a worker runs only registered jobs. The arguments must be JSON-serialisable; both are checked here.
        Without a queue (or while it cannot be reached) the job runs in this process as ``background`` would.
        """
        from .queue import check_arguments

        name, func = self.bot.resolve_job(job)
        check_arguments(name, args, kwargs)
        if self._enqueue is None:
            self.background(func, *args, **kwargs)
        else:
            self.background(self._enqueue, name, func, args, kwargs)

    def release(self) -> None:
        """Start the queued background jobs; later ones start at once."""
        jobs, self._jobs = self._jobs, None
        for func, args, kwargs in jobs or ():
            self._background.submit(func, *args, **kwargs)
