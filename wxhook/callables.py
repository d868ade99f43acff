"""How wxhook calls the functions it is given (handlers, middleware, error handlers, jobs, hooks): async or not,
with the context or not, and by what name in logs."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any


def is_async(func: Callable[..., Any]) -> bool:
    """True for ``async def`` functions and for objects whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(type(func).__call__)


def positional_arity(func: Callable[..., Any]) -> int:
    """How many positional arguments a callback accepts; decides whether it is handed the Context."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return 1
    count = 0
    for p in params:
        if p.kind is p.VAR_POSITIONAL:
            return 1 << 16
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def accepts(func: Callable[..., Any], count: int) -> bool:
    """Whether ``func`` can be called with ``count`` positional arguments (True when it has no signature to read)."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return True
    try:
        signature.bind(*range(count))
    except TypeError:
        return False
    return True


def job_name(func: Callable[..., Any]) -> str:
    """The name logs use for a handler or job."""
    return getattr(func, "__qualname__", None) or repr(func)
