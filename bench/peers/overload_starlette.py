"""Starlette + wechatpy for bench/overload.py: starlette_wechatpy.py with the same 2 ms burn (burn.py) in its
async endpoint before the reply, and GET /__runs__."""

import starlette_wechatpy
from burn import burn, runs_asgi

starlette_wechatpy.before_reply = burn
app = runs_asgi(starlette_wechatpy.app)
