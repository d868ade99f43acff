"""``wxhook``: play the WeChat server against a running bot, for a local loop without a real account.

    wxhook send "hello"                      # a text from a follower, to http://127.0.0.1:8000/
    wxhook event subscribe --key qrscene_42  # an event
    wxhook handshake                         # the GET verification WeChat does when you save the URL
    wxhook worker app:bot                    # run the bot's queue=True handlers and ctx.enqueue jobs

Credentials come from the same WXHOOK_TOKEN, WXHOOK_APPID and WXHOOK_AES_KEY the bot reads (or --token,
--appid, --aes-key); with an AES key the message goes out in safe mode and the reply is checked and opened.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Sequence

import httpx

from .testing import BotClient, BotReply, ReplyError
from .worker import add_arguments as add_worker_arguments


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wxhook", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000/", help="the bot's URL (default %(default)s)")
    parser.add_argument("--token", default=os.environ.get("WXHOOK_TOKEN"), help="default: $WXHOOK_TOKEN")
    parser.add_argument("--appid", default=os.environ.get("WXHOOK_APPID"), help="default: $WXHOOK_APPID")
    parser.add_argument("--aes-key", default=os.environ.get("WXHOOK_AES_KEY"),
                        help="EncodingAESKey for safe mode (default: $WXHOOK_AES_KEY); --plain to ignore it")
    parser.add_argument("--plain", action="store_true", help="send in plaintext mode even with a key")
    parser.add_argument("--openid", default="o_wxhook_cli", help="the follower's openid (default %(default)s)")
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("send", help="send a text message")
    send.add_argument("text")
    event = commands.add_parser("event", help="send an event, e.g. subscribe, CLICK --key K")
    event.add_argument("name")
    event.add_argument("--key", help="EventKey")
    commands.add_parser("handshake", help="the GET verification WeChat does when the URL is saved")
    worker = commands.add_parser("worker", help="run a bot's queued handlers and jobs (Bot(queue=...))")
    add_worker_arguments(worker)
    return parser


def _show(reply: BotReply) -> str:
    if reply.status != 200:
        return f"HTTP {reply.status}: {reply.body.decode(errors='replace').strip()}"
    if reply.is_empty:
        return "(no reply: success)"
    mode = "encrypted " if reply.encrypted else ""
    if reply.content is not None and reply.msg_type == "text":
        return f"{mode}text reply: {reply.content}"
    return f"{mode}{reply.msg_type} reply: {json.dumps(dict(reply.fields), ensure_ascii=False, indent=2)}"


async def _run(args: argparse.Namespace) -> str:
    aes_key = None if args.plain else args.aes_key
    async with BotClient(args.url, token=args.token, appid=args.appid, aes_key=aes_key) as wechat:
        if args.command == "handshake":
            response = await wechat.handshake("wxhook-handshake")
            ok = response.status_code == 200 and response.text == "wxhook-handshake"
            return "handshake OK" if ok else f"handshake failed: HTTP {response.status_code} {response.text.strip()}"
        if args.command == "send":
            return _show(await wechat.send_text(args.text, openid=args.openid))
        fields = {} if args.key is None else {"EventKey": args.key}
        return _show(await wechat.send_event(args.name, openid=args.openid, **fields))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "worker":
        from .queue import run_worker  # taskiq is an optional dependency

        run_worker(args.target, concurrency=args.concurrency)
        return 0
    if not args.token:
        print("wxhook: no token: set WXHOOK_TOKEN or pass --token (the bot's Token)", file=sys.stderr)
        return 2
    if args.aes_key and not args.plain and not args.appid:
        print("wxhook: safe mode needs the appid: set WXHOOK_APPID or pass --appid (or --plain)", file=sys.stderr)
        return 2
    try:
        print(asyncio.run(_run(args)))
    except httpx.TransportError as exc:
        print(f"wxhook: cannot reach {args.url}: {exc!r}; is the bot running there?", file=sys.stderr)
        return 1
    except (ReplyError, ValueError) as exc:
        print(f"wxhook: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
