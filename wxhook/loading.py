"""Find a Bot by name, as ``module:attribute``: for the ``wxhook_bot`` ini option and the CLI (dev, platform)."""

from __future__ import annotations

import importlib
import os
import sys

from .app import Bot


def load_bot(target: str) -> Bot:
    """The Bot named ``module:attribute`` (the current directory is importable, as under uvicorn)."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"{target!r} is not module:attribute: name the module and its Bot, e.g. mybot:bot")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    if not hasattr(module, attribute):
        raise ValueError(f"module {module_name!r} has no attribute {attribute!r}: name the Bot object in it")
    bot = getattr(module, attribute)
    if not isinstance(bot, Bot):
        raise TypeError(f"{target!r} is a {type(bot).__name__}, not a wxhook Bot")
    return bot
