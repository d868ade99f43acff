"""Test helpers for wxhook users: a fake WeChat API server."""

from ._fake_state import RecordedCall
from .fake_wechat import FakeWeChat

__all__ = ["FakeWeChat", "RecordedCall"]
