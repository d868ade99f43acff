"""Names that moved to another door of the public surface stay importable from the old one, with a warning.

docs/architecture.md ("The public surface") says which door each kind of name has; CHANGELOG.md lists the moves.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__: list[str] = []


def moved_names(door: str, moves: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``door`` that hands out each name of ``moves`` (name → where it is now, as
    ``module.Name``) with a ``DeprecationWarning`` naming the import to write instead."""

    def __getattr__(name: str) -> Any:
        target = moves.get(name)
        if target is None:
            raise AttributeError(f"module {door!r} has no attribute {name!r}")
        home, _, now = target.rpartition(".")
        warnings.warn(f"{door}.{name} moved: write `from {home} import {now}` ({door}.{name} will be removed in a "
                      "later release)", DeprecationWarning, stacklevel=2)
        return getattr(importlib.import_module(home), now)

    return __getattr__
