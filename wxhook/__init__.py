"""wxhook: WeChat Official Account webhooks as decorated functions."""

from .stores import LockTimeout, MemoryStore, Store, open_store

__all__ = ["LockTimeout", "MemoryStore", "Store", "open_store"]
__version__ = "0.1.0"
