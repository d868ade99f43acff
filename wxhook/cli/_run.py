"""``wxhook run module:bot``: uvicorn with the settings a webhook wants in production.

Proxy headers are trusted (from ``--forwarded-allow-ips``, uvicorn's default 127.0.0.1: the nginx in front),
the ``server`` header is dropped, wxhook's own log (deferred deliveries, shutdown) is shown at INFO, and the access
log leaves query strings out (a push's carries its signatures and the follower's openid).
"""

from __future__ import annotations

import argparse
import copy
import importlib
import math
import os
import signal
import sys
import traceback
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import LOGGING_CONFIG

from ..app import Bot
from ..config import ConfigError, setting
from ..serving import http_protocol, throttle_server_logs
from ..stores import MemoryStore
from ._common import CommandError, Parser, UsageError, export_settings, settings_options, summary

_LEVELS = ("critical", "error", "warning", "info", "debug")


def _int_setting(value: int | None, variable: str, default: int) -> int:
    if value is not None:
        return value
    text = setting(None, variable)
    if text is None:
        return default
    if not text.isdigit():
        raise UsageError(f"{variable}={text!r} is not a whole number")
    return int(text)


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    run_ = commands.add_parser("run", help="serve a bot with uvicorn, production defaults",
                               description=summary(__doc__))
    run_.add_argument("target", nargs="?", metavar="MODULE:BOT",
                      help="the bot (or an ASGI app it is mounted in), e.g. mybot:bot (default: $WXHOOK_APP)")
    run_.add_argument("--host", help="the address to bind (default: $WXHOOK_HOST, else 127.0.0.1)")
    run_.add_argument("--port", type=int, help="default: $WXHOOK_PORT, else 8000")
    run_.add_argument("--workers", type=int, help="processes; more than one needs a shared store "
                                                   "(default: $WXHOOK_WORKERS, else 1)")
    run_.add_argument("--reload", action="store_true", help="restart when a file changes (development)")
    run_.add_argument("--log-level", choices=_LEVELS, default="info", help="uvicorn's and wxhook's (default: info)")
    run_.add_argument("--backlog", type=int,
                      help="connections the kernel holds for the server to accept; past them a client's connection "
                           "waits for its SYN to be sent again. Under overload a short one (a second of what the bot "
                           "answers: some hundreds) keeps pushes from waiting there past WeChat's 5 s "
                           "(default: $WXHOOK_BACKLOG, else uvicorn's 2048)")
    run_.add_argument("--forwarded-allow-ips", metavar="IPS",
                      help="proxies whose X-Forwarded-* headers are trusted (default: $FORWARDED_ALLOW_IPS, "
                           "else 127.0.0.1)")
    settings_options(run_)
    run_.set_defaults(handler=run)


def load_target(target: str) -> Any:
    """The object named ``module:attribute``, imported from the current directory as uvicorn would.

    Anything that goes wrong while importing the user's module is one line naming where it happened.
    """
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"{target!r} is not module:attribute; name the module and the bot in it, e.g. mybot:bot")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise UsageError(f"no module {exc.name!r} here ({os.getcwd()}): run wxhook from the directory "
                             "that holds it") from None
        raise _import_failure(target, exc) from None
    except Exception as exc:
        raise _import_failure(target, exc) from None
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise UsageError(f"module {module_name!r} has no {attribute!r}; name the Bot object in it") from None


def _import_failure(target: str, exc: Exception) -> Exception:
    if isinstance(exc, ConfigError):  # the bot names the setting to fix
        return UsageError(str(exc))
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return UsageError(f"importing {target} failed: {type(exc).__name__}: {exc} ({frame.filename}, line {frame.lineno})")


def _shared_store(app: Any) -> bool:
    """Whether the processes serving ``app`` share state: a Bot's own store, else WXHOOK_STORE."""
    if isinstance(app, Bot):
        return not isinstance(app.store, MemoryStore)
    return setting(None, "WXHOOK_STORE") not in (None, "memory://")


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging, with wxhook's logger on a handler of its own (the same stream and form as uvicorn's,
    the message lines written in batches, and written before each of uvicorn's lines), named, at ``level``; the
    access log without query strings (``HideQueryStrings``)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["named"] = {"()": "uvicorn.logging.DefaultFormatter", "fmt": "%(levelprefix)s %(name)s: "
                                     "%(message)s"}
    config["handlers"]["named"] = {"formatter": "named", "class": "wxhook.logs.BufferedStreamHandler",
                                   "stream": "ext://sys.stderr"}
    config["loggers"]["wxhook"] = {"handlers": ["named"], "level": level.upper(), "propagate": False}
    config["filters"] = {"held_first": {"()": "wxhook.logs.WriteHeldFirst"},
                         "no_query": {"()": "wxhook.serving.HideQueryStrings"}}
    config["loggers"]["uvicorn.error"]["filters"] = ["held_first"]
    config["loggers"]["uvicorn.access"]["filters"] = ["no_query"]
    return config


def run(args: argparse.Namespace) -> int:
    target = args.target or setting(None, "WXHOOK_APP")
    if target is None:
        raise UsageError("no bot to run: pass MODULE:BOT (e.g. mybot:bot) or set WXHOOK_APP")
    workers = _int_setting(args.workers, "WXHOOK_WORKERS", 1)
    if workers < 1:
        raise UsageError(f"--workers must be 1 or more, not {workers}")
    args.backlog = _int_setting(args.backlog, "WXHOOK_BACKLOG", 2048)
    if args.backlog < 1:
        raise UsageError(f"--backlog must be 1 or more, not {args.backlog}")
    if args.reload and workers > 1:
        raise UsageError("--reload serves one process; drop --workers (or --reload)")
    export_settings(args)
    os.environ.setdefault("WXHOOK_HEALTH_PATH", "/healthz")  # before the bot is built, in every worker
    app = load_target(target)
    if workers > 1 and not _shared_store(app):
        print(f"wxhook: warning: {workers} workers on the memory store: each keeps its own, so a WeChat retry "
              "that reaches another worker runs the handler again, and sessions and the access token are not "
              "shared; set WXHOOK_STORE=sqlite:///wxhook.db (one host) or redis://… (several)", file=sys.stderr)
    # uvicorn raises the stop signal again once it has shut down, so that a process stopped by SIGTERM dies of
    # it (exit 143 under Docker). A stop that was asked for and completed is a success: ignore that re-raise.
    throttle_server_logs()
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        _serve(target, args, workers, math.ceil(app.shutdown_grace) if isinstance(app, Bot) else None)
    except SystemExit as exc:  # uvicorn exits this way when the server cannot start; it has logged why
        if exc.code not in (0, None):
            raise CommandError("the server did not start (uvicorn's error is above)") from None
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _stopped(signum: int, frame: FrameType | None) -> None:
    """SIGTERM after uvicorn's graceful shutdown: nothing left to do."""


def _serve(target: str, args: argparse.Namespace, workers: int, grace: int | None) -> None:
    """``grace``: how long a stop waits for requests still running (deferred handlers run in their request) before
    cancelling them; the bot's shutdown then gives its background jobs as long again."""
    uvicorn.run(
        target,
        host=args.host or setting(None, "WXHOOK_HOST") or "127.0.0.1",
        port=args.port if args.port is not None else _int_setting(None, "WXHOOK_PORT", 8000),
        workers=workers,
        reload=args.reload,
        log_level=args.log_level,
        log_config=_log_config(args.log_level),
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        server_header=False,
        http=http_protocol(),
        timeout_graceful_shutdown=grace,
        backlog=args.backlog,
    )
