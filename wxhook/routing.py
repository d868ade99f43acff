"""Handler registration and dispatch.

Precedence, for one incoming message (first match wins; a handler returning None still wins):

1. exact matches: ``on_text("help")`` / ``on_text(["a", "b"])`` on the content, ``on_event("CLICK", key="K")``
   on the event key — a dictionary lookup, so its cost does not grow with the number of handlers;
2. filtered handlers of the message's type: ``regex=``, ``key=re.compile(...)``, ``when=``, in registration order;
3. unfiltered handlers of that type: bare ``on_text``, ``on_event("CLICK")``, in registration order;
4. the general ones: ``on_message`` for any message, ``on_event()`` for any event, in registration order;
5. ``on_default``.

Handlers in included routers take part as if registered on the including router, in the order they were
registered (a global sequence), so splitting handlers over modules never changes which one answers. A router's
middleware, outer middleware and ``on_error`` handlers apply to its own handlers (and those of the routers it
includes): each route carries the ``Level`` of every router on its way from the including one, in the include
tree's order. A handler
limited to some accounts (``accounts=`` on a decorator or on ``include``) takes part only for pushes to them. So do
the jobs registered for ``ctx.enqueue`` (``@router.job``): a worker runs a queued job only by its registered name.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, TypeVar, overload

from .accounts import APPID
from .callables import accepts, is_async, job_name, positional_arity
from .config import check_deadline
from .event_names import EventName
from .messages import EVENT_NAMES, Event, Message, event_name, event_spelling, message_type_spelling, routing_name

__all__ = ["Router"]

Predicate = Callable[[Message], bool]
F = TypeVar("F", bound=Callable[..., Any])
Middleware = Callable[..., Awaitable[Any]]
"""``async def mw(msg, call_next)``, or ``(msg, ctx, call_next)``."""
ErrorHandler = Callable[..., Any]
"""``def oops(exc, msg)``, or ``(exc, msg, ctx)``; async or not."""
M = TypeVar("M", bound=Middleware)
E = TypeVar("E", bound=ErrorHandler)
Appids = str | Iterable[str]
"""One appid or several: the accounts a handler or router serves."""

_sequence = itertools.count()

_BY_LOWER_CASE = {name.lower(): name for name in EVENT_NAMES}
_WECHAT_EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*|[A-Z][A-Z0-9_]*")

_EXACT, _FILTERED, _PLAIN, _GENERAL, _DEFAULT = range(5)


@dataclass(frozen=True, slots=True)
class Layer:
    """A middleware as registered: whether it takes the context, and its name in errors."""

    func: Middleware
    wants_context: bool
    name: str


@dataclass(frozen=True, slots=True)
class Catcher:
    """An ``on_error`` handler as registered."""

    func: ErrorHandler
    is_async: bool
    wants_context: bool
    name: str


@dataclass(frozen=True, slots=True)
class Level:
    """One router on a route's way from the including one: what it wraps its handlers in."""

    outer: tuple[Layer, ...]
    """Its outer middleware: before the handler is chosen (again, for the message they pass on)."""
    middleware: tuple[Layer, ...]
    catchers: tuple[Catcher, ...]

    @property
    def wants_context(self) -> bool:
        return any(layer.wants_context for layer in (*self.outer, *self.middleware)) or any(
            catcher.wants_context for catcher in self.catchers)


@dataclass(frozen=True, slots=True, eq=False)
class Route:
    """One registered handler and what it listens to."""

    func: Callable[..., Any]
    type_keys: tuple[str, ...]
    tier: int
    exact: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    when: Predicate | None = None
    deadline: float | None = None
    queue: bool = False
    """Run in a ``wxhook worker`` off the bot's job queue; the webhook answers at once."""
    seq: int = 0
    is_async: bool = False
    wants_context: bool = False
    name: str = ""
    """The handler's name in logs (its qualified name)."""
    accounts: frozenset[str] | None = None
    """The appids it answers for (None: every account's; checked inline where routes are matched, the hot path)."""
    levels: tuple[Level, ...] = ()
    """The routers that wrap it, from the including one down to its own (only those with something to wrap)."""
    session: bool = False
    """Whether its handler, a middleware or an error handler on its way takes the context (and so its session)."""


Found = tuple[Route, re.Match[str] | None] | None
"""A message's route and the regex match that chose it (None: no handler takes the message)."""


def _appids(accounts: Appids | None) -> frozenset[str] | None:
    """``accounts=`` as a set of appids; a typo'd appid is refused when registering, not ignored at every push."""
    if accounts is None:
        return None
    found = frozenset((accounts,) if isinstance(accounts, str) else accounts)
    bad = sorted(appid for appid in found if not isinstance(appid, str) or not APPID.fullmatch(appid))
    if bad or not found:
        raise ValueError(f"accounts= takes appids ('wx' and 16 hex digits), got {bad or 'none'}")
    return found


def _narrow(outer: frozenset[str] | None, inner: frozenset[str] | None) -> frozenset[str] | None:
    if outer is None:
        return inner
    return outer if inner is None else outer & inner


def _type_key(msg: Message) -> str:
    if isinstance(msg, Event):
        # An event spelled several ways (the publish result) is dispatched by its class, under one name.
        return "event:" + routing_name(msg)
    return msg.msg_type


def _match_value(msg: Message) -> str | None:
    """The text exact and regex filters look at: the content of a text, the key of an event."""
    if msg.msg_type == "text":
        return msg.content  # type: ignore[attr-defined, no-any-return]
    if msg.msg_type == "event":
        return msg.event_key  # type: ignore[attr-defined, no-any-return]
    return None


class RouteTable:
    """The flattened, precedence-ordered view of a router tree, rebuilt after any registration; ``unrouted`` are
    the levels a message no handler takes goes through (the including router's own)."""

    __slots__ = ("default", "exact", "general", "typed", "unrouted", "unrouted_session")

    def __init__(self, routes: Iterable[Route], unrouted: tuple[Level, ...]) -> None:
        self.unrouted = unrouted
        self.unrouted_session = any(level.wants_context for level in unrouted)
        self.exact: dict[tuple[str, str], list[Route]] = {}
        self.typed: dict[str, list[Route]] = {}
        self.general: dict[str, list[Route]] = {}
        self.default: list[Route] = []
        for route in sorted(routes, key=lambda r: r.seq):
            if route.tier == _EXACT:
                for type_key in route.type_keys:
                    for value in route.exact:
                        self.exact.setdefault((type_key, value), []).append(route)
            elif route.tier == _DEFAULT:
                self.default.append(route)
            else:
                target = self.general if route.tier == _GENERAL else self.typed
                for type_key in route.type_keys:
                    target.setdefault(type_key, []).append(route)
        for routes_of_type in self.typed.values():
            routes_of_type.sort(key=lambda r: (r.tier, r.seq))

    def find(self, msg: Message, appid: str) -> Found:
        type_key = _type_key(msg)
        value = _match_value(msg)
        if value is not None:
            for route in self.exact.get((type_key, value), ()):
                if (route.accounts is None or appid in route.accounts) and (route.when is None or route.when(msg)):
                    return route, None
        for route in self.typed.get(type_key, ()):
            match = None
            if route.accounts is not None and appid not in route.accounts:
                continue
            if route.pattern is not None and (value is None or (match := route.pattern.search(value)) is None):
                continue
            if route.when is None or route.when(msg):
                return route, match
        general = "event" if msg.msg_type == "event" else "message"
        for route in itertools.chain(self.general.get(general, ()), self.default):
            if (route.accounts is None or appid in route.accounts) and (route.when is None or route.when(msg)):
                return route, None
        return None


class _Jobs:
    """The jobs of a router tree, flattened: by name for a worker, by function for ``ctx.enqueue``."""

    __slots__ = ("by_func", "by_name")

    def __init__(self, jobs: Iterable[tuple[str, Callable[..., Any]]]) -> None:
        self.by_name: dict[str, Callable[..., Any]] = {}
        self.by_func: dict[Callable[..., Any], str] = {}
        for name, func in jobs:
            known = self.by_name.setdefault(name, func)
            if known != func:
                raise ValueError(f"two jobs are registered as {name!r} ({job_name(known)} and {job_name(func)}); "
                                 "give one another name: @router.job(name='...')")
            self.by_func.setdefault(func, name)


def _layer(func: Middleware, kind: str) -> Layer:
    if not is_async(func):
        raise TypeError(f"{kind} {job_name(func)} must be an async function: async def mw(msg, call_next)")
    return Layer(func, positional_arity(func) >= 3, job_name(func))


def _default_job_name(func: Callable[..., Any]) -> str:
    """``module:qualname``, a name every process that imports the bot gives the function; TypeError otherwise."""
    module, qualname = getattr(func, "__module__", None), getattr(func, "__qualname__", "")
    if not module or not qualname or "<" in qualname or module == "__main__":
        raise TypeError(
            f"@job {job_name(func)}: a lambda, a nested function or a function in __main__ has no name that is "
            "the same in the web process and the worker; name it: @bot.job(name='reports.build')"
        )
    return f"{module}:{qualname}"


def _parameters(func: Callable[..., Any]) -> str:
    """``func``'s parameters as written, without annotations: ``(msg, ctx, extra)``."""
    signature = inspect.signature(func)
    bare = [parameter.replace(annotation=parameter.empty) for parameter in signature.parameters.values()]
    return str(signature.replace(parameters=bare, return_annotation=signature.empty))


def _check_event_name(event: str, allow_unknown: bool) -> str:
    """The name ``event``'s handlers are registered under; ValueError for a name WeChat never sends: another
    case of a known name, a misspelling (with the closest known names), and, unless ``allow_unknown``, any name
    wxhook does not list (an event WeChat added since is taken with ``allow_unknown=True``, if it is spelled the
    way WeChat spells events)."""
    if event != event.strip() or not event:
        raise ValueError(f"on_event({event!r}): event names have no surrounding spaces and are not empty")
    if event in EVENT_NAMES:
        return event_name(event)
    spelled = event_spelling(event)
    if spelled is not None:
        raise ValueError(f"on_event({event!r}): WeChat sends this event as {spelled!r} (event names are "
                         "case-sensitive)")
    if not allow_unknown:
        close = [_BY_LOWER_CASE[name] for name in difflib.get_close_matches(event.lower(), _BY_LOWER_CASE, 3, 0.75)]
        guess = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise ValueError(f"on_event({event!r}): no event of that name that wxhook knows; {guess}For an event WeChat "
                         f"added that wxhook does not list yet: on_event({event!r}, allow_unknown=True)")
    if not _WECHAT_EVENT_NAME.fullmatch(event):
        raise ValueError(f"on_event({event!r}, allow_unknown=True): WeChat names events in lower case with "
                         "underscores (subscribe_msg_popup_event) or in capitals (TEMPLATESENDJOBFINISH); "
                         f"{event!r} is neither")
    return event


class _OnType:
    """A decorator for one family of message types that takes only ``when=``, ``deadline=`` and ``queue=``
    (``on_image``, ``on_voice`` …): declared once here, typed once in ``_BoundOnType``.

    Named and callable as a method is (``Router.on_image(router, func)``), so ``help(Bot)`` lists it as one, with
    its parameters and doc."""

    def __init__(self, *type_keys: str, doc: str, default: bool = False) -> None:
        self._type_keys = type_keys
        self._default = default
        self.__doc__ = doc
        self.__name__ = self.__qualname__ = ""

    def __set_name__(self, owner: type[Router], name: str) -> None:
        self.__name__, self.__qualname__ = name, f"{owner.__qualname__}.{name}"

    def __call__(
        self, router: Router, func: Any = None, /, *, when: Predicate | None = None, deadline: float | None = None,
        queue: bool = False, accounts: Appids | None = None,
    ) -> Any:
        return self.__get__(router, type(router))(func, when=when, deadline=deadline, queue=queue, accounts=accounts)

    @property
    def __signature__(self) -> inspect.Signature:
        """``__call__``'s: inspect would take a descriptor like this one for a builtin, whose signature is unknown."""
        return inspect.signature(self.__call__)

    @overload
    def __get__(self, router: None, owner: type[Router]) -> _OnType: ...
    @overload
    def __get__(self, router: Router, owner: type[Router]) -> _BoundOnType: ...
    def __get__(self, router: Router | None, owner: type[Router]) -> _OnType | _BoundOnType:
        if router is None:
            return self
        return _BoundOnType(router, self._type_keys, self._default, self.__doc__)


class _BoundOnType:
    __slots__ = ("__doc__", "_default", "_router", "_type_keys")

    def __init__(self, router: Router, type_keys: tuple[str, ...], default: bool, doc: str | None) -> None:
        self._router = router
        self._type_keys = type_keys
        self._default = default
        self.__doc__ = doc

    @overload
    def __call__(self, func: F, /) -> F: ...
    @overload
    def __call__(
        self, func: None = None, /, *, when: Predicate | None = None, deadline: float | None = None,
        queue: bool = False, accounts: Appids | None = None,
    ) -> Callable[[F], F]: ...
    def __call__(
        self, func: Any = None, /, *, when: Predicate | None = None, deadline: float | None = None,
        queue: bool = False, accounts: Appids | None = None,
    ) -> Any:
        return self._router._typed(self._type_keys, func, when, deadline, queue, accounts, default=self._default)


class Router:
    """A group of handlers with the middleware and error handlers that wrap them; a Bot is a Router, and
    ``include`` composes them across modules."""

    def __init__(self) -> None:
        self._routes: list[Route] = []
        self._children: dict[Router, frozenset[str] | None] = {}
        self._parents: list[Router] = []
        self._index: RouteTable | None = None
        self._jobs: dict[str, Callable[..., Any]] = {}
        self._job_index: _Jobs | None = None
        self._outer: list[Layer] = []
        self._middleware: list[Layer] = []
        self._catchers: list[Catcher] = []

    def include(self, router: Router, *, accounts: Appids | None = None) -> None:
        """Add another router's handlers and jobs (including ones it gets later) to this one; with ``accounts=``
        (an appid or several) its handlers answer only pushes to those accounts."""
        if router in self._ancestors_and_self() or router in self._children:
            raise ValueError("a router cannot be included in itself or twice")
        limit = _appids(accounts)
        self._check_jobs(router._all_jobs())
        self._children[router] = limit
        router._parents.append(self)
        self._invalidate()

    def _ancestors_and_self(self) -> set[Router]:
        seen: set[Router] = {self}
        stack = [self]
        while stack:
            for parent in stack.pop()._parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def _invalidate(self) -> None:
        for router in self._ancestors_and_self():
            router._index = None
            router._job_index = None

    def _level(self) -> tuple[Level, ...]:
        """This router's level, or none when it wraps nothing."""
        if not (self._outer or self._middleware or self._catchers):
            return ()
        return (Level(tuple(self._outer), tuple(self._middleware), tuple(self._catchers)),)

    def _all_routes(self, accounts: frozenset[str] | None = None, levels: tuple[Level, ...] = ()) -> Iterable[Route]:
        """Every route of this router and the ones it includes, limited to ``accounts`` and to the accounts each
        inclusion names, each with the levels of the routers on its way (``levels``, then this one's)."""
        levels = (*levels, *self._level())
        context = any(level.wants_context for level in levels)
        for route in self._routes:
            yield replace(route, accounts=_narrow(accounts, route.accounts), levels=levels,
                          session=route.wants_context or context)
        for child, limit in self._children.items():
            yield from child._all_routes(_narrow(accounts, limit), levels)

    def _all_jobs(self) -> Iterable[tuple[str, Callable[..., Any]]]:
        yield from self._jobs.items()
        for child in self._children:
            yield from child._all_jobs()

    def _check_jobs(self, new: Iterable[tuple[str, Callable[..., Any]]]) -> None:
        """ValueError if ``new`` jobs would give a name two functions in this router or any that includes it."""
        added = list(new)
        for router in self._ancestors_and_self():
            _Jobs([*router._all_jobs(), *added])

    def _job_registry(self) -> _Jobs:
        if self._job_index is None:
            self._job_index = _Jobs(self._all_jobs())
        return self._job_index

    @overload
    def job(self, func: F, /) -> F: ...
    @overload
    def job(self, func: None = None, /, *, name: str | None = None) -> Callable[[F], F]: ...
    def job(self, func: Any = None, /, *, name: str | None = None) -> Any:
        """Register a function for ``ctx.enqueue``, under ``name`` (default ``module:qualname``).

        A queued job carries only that name, and a worker runs only the jobs (and ``queue=True`` handlers) of the
        bot it loaded, whatever else its Redis holds. Jobs of included routers count as the bot's own.
        """
        if name is not None and (not isinstance(name, str) or not name):
            raise TypeError("job(name=...) takes a non-empty string, e.g. @bot.job(name='reports.build')")

        def decorator(f: F) -> F:
            if not callable(f):
                raise TypeError(f"a job must be a function, got {type(f).__name__}")
            registered = name if name is not None else _default_job_name(f)
            self._check_jobs([(registered, f)])
            self._jobs[registered] = f
            self._invalidate()
            return f

        return decorator if func is None else decorator(func)

    @property
    def jobs(self) -> Mapping[str, Callable[..., Any]]:
        """The registered jobs by name, this router's and its included routers': all a worker runs by name."""
        return MappingProxyType(self._job_registry().by_name)

    def resolve_job(self, job: Callable[..., Any] | str) -> tuple[str, Callable[..., Any]]:
        """The registered name and function of ``job`` (either); TypeError naming the fix when it is not one."""
        registry = self._job_registry()
        if isinstance(job, str):
            func = registry.by_name.get(job)
            if func is not None:
                return job, func
            what = f"no job is registered as {job!r}"
        else:
            name = registry.by_func.get(job)
            if name is not None:
                return name, job
            what = f"{job_name(job)} is not a registered job"
        raise TypeError(f"ctx.enqueue: {what}; register it with @bot.job (or @router.job on a router the bot "
                        "includes): a worker runs only the jobs its bot registered")

    def resolve(self, msg: Message, appid: str = "") -> Found:
        """The route that answers ``msg`` pushed to the account ``appid``, and the regex match that selected it."""
        return self.table().find(msg, appid)

    def table(self) -> RouteTable:
        """This router tree's routes, flattened (built again after any registration anywhere in the tree)."""
        index = self._index
        if index is None:
            index = self._index = RouteTable(self._all_routes(), self._level())
        return index

    # middleware and error handlers ------------------------------------------------------------------------

    def middleware(self, func: M) -> M:
        """Wrap this router's handlers (and those of the routers it includes; a bot's: every message, whichever
        handler answers it, or none): ``async def mw(msg, call_next)`` (or ``(msg, ctx, call_next)``).

        ``await call_next(msg)`` runs the rest of the chain and returns the Reply (or None); a middleware may
        return early (a blocklist), change the message, or replace the reply. Outermost first: the including
        router's before the included one's, and within a router the first registered.
        """
        self._middleware.append(_layer(func, "middleware"))
        self._invalidate()
        return func

    def outer_middleware(self, func: M) -> M:
        """Run before the handler is chosen: ``async def mw(msg, call_next)`` (or ``(msg, ctx, call_next)``), for
        each message headed to this router's handlers (a bot's: every message), before any ``middleware``.

        The handler is chosen again for the message it passes on, so an outer middleware can send a message to
        another handler (an alias, a rewritten keyword); it may also answer itself, as any middleware may.
        """
        self._outer.append(_layer(func, "outer_middleware"))
        self._invalidate()
        return func

    def on_error(self, func: E) -> E:
        """Turn an exception of this router's handlers or middleware into a reply: ``def oops(exc, msg)`` (or
        ``(exc, msg, ctx)``; async or not).

        The handler's own router's come first, then those of the routers that include it, out to the bot's; the
        first that returns answers (a reply, or None), one that raises hands on to the next. Without one, the
        exception is logged with its traceback and the follower gets no reply ("success").
        """
        if not callable(func):
            raise TypeError(f"on_error takes a function (exc, msg) or (exc, msg, ctx), got {type(func).__name__}")
        self._catchers.append(Catcher(func, is_async(func), positional_arity(func) >= 3, job_name(func)))
        self._invalidate()
        return func

    def _register(
        self,
        func: Callable[..., Any],
        type_keys: tuple[str, ...],
        *,
        exact: Sequence[str] = (),
        pattern: re.Pattern[str] | None = None,
        when: Predicate | None = None,
        deadline: float | None,
        queue: bool = False,
        general: bool = False,
        default: bool = False,
        accounts: frozenset[str] | None = None,
    ) -> None:
        if not callable(func):
            raise TypeError(f"a handler must be a function, got {type(func).__name__}")
        if not (accepts(func, 1) or accepts(func, 2)):
            raise TypeError(f"handler {job_name(func)}{_parameters(func)} cannot be called as h(msg) or h(msg, ctx): "
                            "a handler takes the message, and the Context as a second parameter if it wants it")
        if default:
            tier = _DEFAULT
        elif general:
            tier = _GENERAL
        elif exact:
            tier = _EXACT
        elif pattern is not None or when is not None:
            tier = _FILTERED
        else:
            tier = _PLAIN
        self._routes.append(
            Route(
                func=func, type_keys=type_keys, tier=tier, exact=tuple(exact), pattern=pattern, when=when,
                deadline=deadline, queue=queue, seq=next(_sequence), is_async=is_async(func),
                wants_context=positional_arity(func) >= 2, name=job_name(func), accounts=accounts,
            )
        )
        self._invalidate()

    def _decorate(
        self, func: F | None, type_keys: tuple[str, ...], **options: Any
    ) -> F | Callable[[F], F]:
        when, deadline = options.get("when"), options.get("deadline")
        if when is not None and not callable(when):
            raise TypeError("when= takes a function msg -> bool")
        if deadline is not None:
            check_deadline("deadline=", deadline)
        if not isinstance(options.get("queue", False), bool):
            raise TypeError("queue= takes True (run in a wxhook worker off the job queue) or False")
        options["accounts"] = _appids(options.get("accounts"))

        def decorator(f: F) -> F:
            self._register(f, type_keys, **options)
            return f

        return decorator if func is None else decorator(func)

    @overload
    def on_text(self, keywords: F, /) -> F: ...
    @overload
    def on_text(
        self,
        keywords: str | Sequence[str] | None = None,
        /,
        *,
        regex: str | re.Pattern[str] | None = None,
        when: Predicate | None = None,
        deadline: float | None = None,
        queue: bool = False,
        accounts: Appids | None = None,
    ) -> Callable[[F], F]: ...
    def on_text(
        self,
        keywords: Any = None,
        /,
        *,
        regex: str | re.Pattern[str] | None = None,
        when: Predicate | None = None,
        deadline: float | None = None,
        queue: bool = False,
        accounts: Appids | None = None,
    ) -> Any:
        """Text messages: exact keyword(s), a regex (searched; ``ctx.match`` holds the match), or all.

        Every decorator takes ``deadline=`` (this handler's reply window) and ``queue=True``: the handler runs
        in a ``wxhook worker`` off the bot's job queue (``Bot(queue=...)``), the webhook answers at once and
        the worker's reply goes out through the customer-service API. Without a queue it runs in-process.
        ``accounts=`` (an appid or several) limits a handler of a bot serving many accounts to pushes to those.
        """
        if callable(keywords):
            return self._decorate(keywords, ("text",), deadline=None)
        exact: tuple[str, ...] = ()
        if isinstance(keywords, str):
            exact = (keywords,)
        elif keywords is not None:
            exact = tuple(keywords)
            if not exact or not all(isinstance(k, str) for k in exact):
                raise TypeError("on_text([...]) takes a non-empty list of strings")
        if exact and regex is not None:
            raise TypeError("on_text takes keywords or regex=, not both; register two handlers")
        pattern = re.compile(regex) if isinstance(regex, str) else regex
        return self._decorate(None, ("text",), exact=exact, pattern=pattern, when=when, deadline=deadline,
                              queue=queue, accounts=accounts)

    def _typed(self, type_keys: tuple[str, ...], func: Any, when: Predicate | None, deadline: float | None,
               queue: bool, accounts: Appids | None, **options: Any) -> Any:
        return self._decorate(func, type_keys, when=when, deadline=deadline, queue=queue, accounts=accounts,
                              **options)

    on_image = _OnType("image", doc="Image messages.")
    on_voice = _OnType("voice", doc="Voice messages.")
    on_video = _OnType("video", "shortvideo", doc="Video and short-video messages.")
    on_location = _OnType(
        "location", doc='Location messages (a follower sending a place; the LOCATION event is on_event("LOCATION")).'
    )
    on_link = _OnType("link", doc="Link messages.")
    on_miniprogrampage = _OnType("miniprogrampage", doc="Mini Program cards a follower sends (MiniProgramPageMessage).")
    on_default = _OnType("*", default=True, doc="The last resort, for anything no other handler took.")

    @overload
    def on_message(self, msg_type: F, /) -> F: ...
    @overload
    def on_message(
        self, msg_type: str | None = None, /, *, when: Predicate | None = None, deadline: float | None = None,
        queue: bool = False, accounts: Appids | None = None,
    ) -> Callable[[F], F]: ...
    def on_message(
        self, msg_type: Any = None, /, *, when: Predicate | None = None, deadline: float | None = None,
        queue: bool = False, accounts: Appids | None = None,
    ) -> Any:
        """Any message that is not an event, after the type-specific handlers.

        ``on_message("newtype")`` takes one MsgType by name instead, for a type without a decorator of its own
        (it parses as ``UnknownMessage``).
        """
        if isinstance(msg_type, str):
            spelled = message_type_spelling(msg_type)
            if spelled == "event":
                raise ValueError("events have on_event(...); on_message('event') would never be called")
            if spelled is not None and spelled != msg_type:
                raise ValueError(f"on_message({msg_type!r}): WeChat sends this MsgType as {spelled!r} (case-sensitive)")
            return self._typed((msg_type,), None, when, deadline, queue, accounts)
        return self._decorate(msg_type, ("message",), when=when, deadline=deadline, queue=queue, accounts=accounts,
                              general=True)

    @overload
    def on_event(self, event: F, /) -> F: ...
    @overload
    def on_event(
        self,
        event: EventName | str | None = None,
        /,
        *,
        key: str | Sequence[str] | re.Pattern[str] | None = None,
        when: Predicate | None = None,
        deadline: float | None = None,
        queue: bool = False,
        accounts: Appids | None = None,
        allow_unknown: bool = False,
    ) -> Callable[[F], F]: ...
    def on_event(
        self,
        event: Any = None,
        /,
        *,
        key: str | Sequence[str] | re.Pattern[str] | None = None,
        when: Predicate | None = None,
        deadline: float | None = None,
        queue: bool = False,
        accounts: Appids | None = None,
        allow_unknown: bool = False,
    ) -> Any:
        """Events by name (case-sensitive, as WeChat sends them), optionally by exact or regex ``key``.

        A name wxhook does not know is refused (a typo would never match), with the closest known names; an event
        WeChat added since takes ``allow_unknown=True``. ``on_event()`` or bare ``@on_event`` listens to every
        event, after the name-specific handlers.
        """
        if callable(event):
            return self._decorate(event, ("event",), deadline=None, general=True)
        if event is None:
            if key is not None:
                raise TypeError("on_event(key=...) needs the event name too, e.g. on_event('CLICK', key=...)")
            return self._decorate(None, ("event",), when=when, deadline=deadline, queue=queue, accounts=accounts,
                                  general=True)
        if not isinstance(event, str):
            raise TypeError(f"on_event takes an event name string, got {type(event).__name__}")
        type_keys = ("event:" + _check_event_name(event, allow_unknown),)
        if isinstance(key, re.Pattern):
            return self._decorate(None, type_keys, pattern=key, when=when, deadline=deadline, queue=queue,
                                  accounts=accounts)
        exact = (key,) if isinstance(key, str) else tuple(key or ())
        return self._decorate(None, type_keys, exact=exact, when=when, deadline=deadline, queue=queue,
                              accounts=accounts)
