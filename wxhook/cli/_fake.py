"""``wxhook fake``: a fake WeChat API (``FakeWeChat``) on a port of its own, printing each call the bot makes.

Point a bot at it (WXHOOK_API_BASE, and the appid and secret it prints) and its late replies, typing indicators
and every other API call show up here, where ``wxhook send`` shows only the passive answer: the way to see a
deferred reply without a browser (the dev console shows them too).
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from types import FrameType

from ..config import setting
from ..testing import DeferredReply, FakeWeChat, RecordedCall
from ..testing.fake_wechat import DEFAULT_APPID, DEFAULT_SECRET
from ._common import CommandError, Parser, appid_option, defaults, summary


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    fake = commands.add_parser("fake", help="serve a fake WeChat API and print the calls a bot makes to it",
                               description=summary(__doc__))
    fake.add_argument("--port", type=int, default=8001, help="the port on 127.0.0.1 (default: 8001)")
    appid_option(fake, owner=False)
    fake.add_argument("--secret", default=defaults(False)(None),
                      help="the AppSecret it accepts (default: $WXHOOK_SECRET, else the fake's own)")
    fake.set_defaults(handler=run)


def describe(call: RecordedCall) -> str:
    """One call as a line: a customer-service message with its recipient and content, anything else by path."""
    sent = DeferredReply.from_call(call)
    if sent is None:
        return f"{call.method} {call.path}"
    shown = sent.content if sent.content is not None else json.dumps(sent.payload, ensure_ascii=False)
    return f"{call.method} {call.path}: {sent.msg_type} to {sent.openid}: {shown}"


def run(args: argparse.Namespace) -> int:
    appid, secret = setting(args.appid, "WXHOOK_APPID"), setting(args.secret, "WXHOOK_SECRET")
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    def show(call: RecordedCall) -> None:
        print(f"{time.strftime('%H:%M:%S')} {describe(call)}", flush=True)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with FakeWeChat(appid=appid or DEFAULT_APPID, secret=secret or DEFAULT_SECRET, port=args.port) as fake:
            fake.subscribe(show)
            # The bot needs the fake's URL, and the fake's own appid and secret unless it has them already (a real
            # AppSecret it was given is not printed).
            variables = {"WXHOOK_API_BASE": fake.url, "WXHOOK_APPID": None if appid else fake.appid,
                         "WXHOOK_SECRET": None if secret else fake.secret}
            print(f"wxhook fake: a fake WeChat API at {fake.url} for the account {fake.appid}; Ctrl-C stops it. "
                  "Point the bot at it:\n  export " + " ".join(f"{k}={v}" for k, v in variables.items() if v),
                  flush=True)
            stopped.wait()
    except RuntimeError as exc:  # the port is taken
        raise CommandError(str(exc)) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
