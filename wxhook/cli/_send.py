"""``wxhook send URL KIND …``: push one message or event to a bot the way the WeChat server does.

The message is signed with the Token, sealed in safe mode when an EncodingAESKey is set (or ``--aes``), and
the reply is checked, opened and shown with its latency. ``--retry N`` delivers the same message N more
times, each on its own connection, the way WeChat repeats a push it got no answer to. A bot serving many
accounts takes each at ``URL/{appid}`` with that account's ``--token``; ``--platform`` pushes for an authorizer of a
third-party platform, signed and sealed with the platform's credentials (WXHOOK_PLATFORM_TOKEN, _AES_KEY, _APPID).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..config import setting
from ..crypto import Envelope, decode_aes_key
from ..messages import event_spelling
from ..protocol import open_reply, render_message, seal_request, sign_query
from ..xml import parse_xml
from ._common import Parser, UsageError, appid_option, bot_options, defaults, require, summary, timeout_option

Fields = dict[str, Any]
_HIDDEN = ("ToUserName", "FromUserName", "CreateTime", "MsgType")  # shown in the header line, not the body
_SCENE_EVENTS = {"subscribe": "qrscene_", "SCAN": ""}  # how each puts a QR scene in EventKey
_NEW_CONNECTIONS = httpx.Limits(max_keepalive_connections=0)  # each delivery on a connection of its own
_NEEDS_KEY = ("CLICK", "VIEW", "view_miniprogram", "scancode_push", "scancode_waitmsg", "pic_sysphoto",
              "pic_photo_or_album", "pic_weixin", "location_select")


def _media_id() -> str:
    return f"wxhook_cli_{secrets.token_hex(12)}"


def _text(args: argparse.Namespace) -> Fields:
    return {"Content": args.content}


def _image(args: argparse.Namespace) -> Fields:
    return {"PicUrl": args.pic_url, "MediaId": args.media_id or _media_id()}


def _voice(args: argparse.Namespace) -> Fields:
    fields: Fields = {"MediaId": args.media_id or _media_id(), "Format": args.format}
    if args.recognition is not None:
        fields["Recognition"] = args.recognition
    return fields


def _video(args: argparse.Namespace) -> Fields:
    return {"MediaId": args.media_id or _media_id(), "ThumbMediaId": args.thumb_media_id or _media_id()}


def _location(args: argparse.Namespace) -> Fields:
    return {"Location_X": args.lat, "Location_Y": args.lng, "Scale": args.scale, "Label": args.label}


def _link(args: argparse.Namespace) -> Fields:
    return {"Title": args.title, "Description": args.description, "Url": args.link}


def _event(args: argparse.Namespace) -> Fields:
    """The event's own fields, checked against what WeChat sends for it."""
    name: str = args.event
    spelled = event_spelling(name)
    if spelled is not None and spelled != name:
        raise UsageError(f"WeChat sends this event as {spelled!r}, not {name!r} (event names are case-sensitive)")
    fields: Fields = {"Event": name}
    if args.scene is not None:
        if name not in _SCENE_EVENTS:
            raise UsageError(f"--scene is for subscribe and SCAN events (a QR code's scene), not {name}")
        if args.key is not None:
            raise UsageError("--scene sets the EventKey: pass --scene or --key, not both")
        fields["EventKey"] = _SCENE_EVENTS[name] + args.scene
        fields["Ticket"] = args.ticket or f"gQwxhookcli{secrets.token_hex(16)}"
    elif args.key is not None:
        fields["EventKey"] = args.key
    elif name in _NEEDS_KEY:
        raise UsageError(f"a {name} event carries the menu button's key (the URL for VIEW): pass --key")
    located = args.lat is not None, args.lng is not None
    if name in ("LOCATION", "location_select") and not all(located):
        raise UsageError(f"a {name} event carries a position: pass --lat and --lng")
    if any(located) and name not in ("LOCATION", "location_select"):
        raise UsageError(f"--lat and --lng are for LOCATION and location_select events, not {name}")
    if name == "LOCATION":
        fields.update(Latitude=args.lat, Longitude=args.lng, Precision=args.precision)
    elif name == "location_select":
        fields["SendLocationInfo"] = {"Location_X": args.lat, "Location_Y": args.lng, "Scale": 15,
                                      "Label": args.label, "Poiname": args.label}
    elif name in ("scancode_push", "scancode_waitmsg"):
        fields["ScanCodeInfo"] = {"ScanType": "qrcode", "ScanResult": args.scan_result}
    elif name in ("pic_sysphoto", "pic_photo_or_album", "pic_weixin"):
        fields["SendPicsInfo"] = {"Count": 1, "PicList": {"item": {"PicMd5Sum": secrets.token_hex(16)}}}
    return fields


def _field(text: str) -> tuple[str, str]:
    tag, sep, value = text.partition("=")
    if not sep or not tag:
        raise argparse.ArgumentTypeError(f"{text!r} is not TAG=VALUE")
    return tag, value


def _send_options(parser: argparse.ArgumentParser, owner: bool) -> None:
    d = defaults(owner)
    parser.add_argument("--from", dest="openid", default=d("o_wxhook_cli"), metavar="OPENID",
                        help="the follower's openid (default: o_wxhook_cli)")
    parser.add_argument("--to", dest="account", default=d("gh_wxhook_cli"), metavar="GH_ID",
                        help="the account's original id, ToUserName (default: gh_wxhook_cli)")
    parser.add_argument("--aes", action="store_true", default=d(False),
                        help="safe mode: seal the message and open the reply (implied by an EncodingAESKey)")
    parser.add_argument("--plain", action="store_true", default=d(False),
                        help="plaintext mode even when an EncodingAESKey is set")
    parser.add_argument("--platform", action="store_true", default=d(False),
                        help="a push for an authorizer of a third-party platform (URL ends /{appid}): signed and "
                             "sealed with the platform's token, key and appid (default: $WXHOOK_PLATFORM_TOKEN, "
                             "_AES_KEY, _APPID)")
    parser.add_argument("--retry", type=int, default=d(0), metavar="N",
                        help="deliver the same message N more times, as WeChat retries (default: 0)")
    parser.add_argument("--retry-after", type=float, default=d(5.0), metavar="SECONDS",
                        help="a retry goes out when the previous delivery is answered or after this long "
                             "without an answer, WeChat's wait (default: 5)")
    parser.add_argument("--field", type=_field, action="append", default=d([]), metavar="TAG=VALUE",
                        help="an extra XML field, e.g. --field MenuId=101 (repeatable)")
    bot_options(parser, owner=False)
    appid_option(parser, owner=False)
    timeout_option(parser, owner=False)


def _kind(kinds: argparse._SubParsersAction[Parser], name: str, build: Callable[[argparse.Namespace], Fields],
          help_: str) -> Parser:
    parser = kinds.add_parser(name, help=help_, description=help_)
    parser.set_defaults(build=build, msg_type="event" if name == "event" else name)
    _send_options(parser, owner=False)
    return parser


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    send = commands.add_parser("send", help="push a message or event to a bot, as WeChat does",
                               description=summary(__doc__))
    send.add_argument("url", metavar="URL", help="the bot's URL, as saved in the admin console")
    _send_options(send, owner=True)
    send.set_defaults(handler=run)
    kinds = send.add_subparsers(dest="kind", metavar="KIND", required=True)

    _kind(kinds, "text", _text, "a text message").add_argument("content")
    image = _kind(kinds, "image", _image, "an image message")
    image.add_argument("pic_url", metavar="PIC_URL")
    image.add_argument("--media-id")
    voice = _kind(kinds, "voice", _voice, "a voice message")
    voice.add_argument("--media-id")
    voice.add_argument("--format", default="amr", help="amr or speex (default: amr)")
    voice.add_argument("--recognition", metavar="TEXT", help="the speech-recognition result")
    for name in ("video", "shortvideo"):
        video = _kind(kinds, name, _video, f"a {name} message")
        video.add_argument("--media-id")
        video.add_argument("--thumb-media-id")
    location = _kind(kinds, "location", _location, "a location message")
    location.add_argument("lat", type=float, metavar="LAT")
    location.add_argument("lng", type=float, metavar="LNG")
    location.add_argument("--scale", type=int, default=15, help="map zoom (default: 15)")
    location.add_argument("--label", default="", help="the place's name")
    link = _kind(kinds, "link", _link, "a link message")
    link.add_argument("link", metavar="LINK")
    link.add_argument("--title", default="", help="the link's title")
    link.add_argument("--description", default="", help="the link's description")

    event = _kind(kinds, "event", _event, "an event: subscribe, unsubscribe, SCAN, CLICK, VIEW, LOCATION, …")
    event.add_argument("event", metavar="NAME", help="as WeChat spells it: subscribe, SCAN, CLICK, scancode_push, …")
    event.add_argument("--key", help="EventKey: the menu button's key (CLICK), its URL (VIEW), …")
    event.add_argument("--scene", help="a QR code's scene (subscribe, SCAN)")
    event.add_argument("--ticket", help="the QR code's ticket (subscribe, SCAN; default: a made-up one)")
    event.add_argument("--lat", type=float, help="latitude (LOCATION, location_select)")
    event.add_argument("--lng", type=float, help="longitude (LOCATION, location_select)")
    event.add_argument("--precision", type=float, default=30.0, help="LOCATION's precision in metres (default: 30)")
    event.add_argument("--label", default="", help="location_select's place name")
    event.add_argument("--scan-result", default="", help="what the scan read (scancode_push, scancode_waitmsg)")


@dataclass(frozen=True)
class _Delivery:
    """One POST and what came back (``error`` when nothing did)."""

    status: int = 0
    body: bytes = b""
    location: str = ""
    seconds: float = 0.0
    error: str = ""


@dataclass(frozen=True)
class _Push:
    """Everything needed to deliver one message, as often as WeChat would."""

    url: str
    token: str
    envelope: Envelope | None
    fields: Fields
    timeout: float

    def _sealed(self) -> tuple[str | None, bytes]:
        """The body to POST and, in safe mode, the ``Encrypt`` value its msg_signature covers."""
        xml = render_message(self.fields).encode()
        if self.envelope is None:
            return None, xml
        return seal_request(self.envelope, self.fields["ToUserName"], xml)

    async def deliver(self, retries: int, retry_after: float) -> list[_Delivery]:
        """Each delivery starts when the previous one is answered, or after ``retry_after`` seconds without."""
        encrypted, body = self._sealed()
        async with httpx.AsyncClient(timeout=self.timeout, limits=_NEW_CONNECTIONS) as http:

            async def post() -> _Delivery:
                started = time.perf_counter()
                try:
                    answer = await http.post(self.url, params=sign_query(self.token, encrypted), content=body,
                                             headers={"content-type": "text/xml"})
                except httpx.HTTPError as exc:
                    return _Delivery(error=f"cannot reach {self.url}: {exc or type(exc).__name__}; is the bot "
                                           "running there?")
                return _Delivery(answer.status_code, answer.content, answer.headers.get("location", ""),
                                 time.perf_counter() - started)

            tasks: list[asyncio.Task[_Delivery]] = []
            for _ in range(1 + retries):
                if tasks:
                    await asyncio.wait({tasks[-1]}, timeout=retry_after)
                tasks.append(asyncio.create_task(post()))
            return list(await asyncio.gather(*tasks))

    def describe(self, delivery: _Delivery) -> tuple[bool, str]:
        """Whether WeChat would accept the answer, and what it was, for a person to read."""
        if delivery.error:
            return False, delivery.error
        head = f"HTTP {delivery.status} in {delivery.seconds * 1000:.0f} ms"
        if delivery.status != 200:
            moved = f" to {delivery.location}, which WeChat does not follow" if delivery.location else ""
            reason = delivery.body.decode(errors="replace").strip().splitlines()
            return False, f"{head}{moved}: {reason[0] if reason else '(empty body)'}"
        if delivery.body in (b"", b"success"):
            return True, f"{head}: no reply ({delivery.body.decode() or 'empty'}; the follower sees nothing)"
        try:
            reply = parse_xml(delivery.body if self.envelope is None
                              else open_reply(self.envelope, self.token, delivery.body))
        except ValueError as exc:  # a bad signature, envelope or XML: all ValueErrors
            return False, f"{head}, but WeChat cannot use the reply: {exc}"
        mode = "encrypted " if self.envelope is not None else ""
        return True, f"{head}: {mode}{reply.get('MsgType')} reply to {reply.get('ToUserName')}\n{_show(reply)}"


def _show(reply: Mapping[str, Any]) -> str:
    """The reply's content, indented: a text as is, anything else as JSON."""
    if reply.get("MsgType") == "text" and isinstance(reply.get("Content"), str):
        shown: str = reply["Content"]
    else:
        shown = json.dumps({k: v for k, v in reply.items() if k not in _HIDDEN}, ensure_ascii=False, indent=2)
    return "\n".join("  " + line for line in shown.splitlines())


def _envelope(args: argparse.Namespace, prefix: str) -> Envelope | None:
    """The envelope to seal with: from ``<prefix>AES_KEY`` and ``<prefix>APPID`` (or the options)."""
    if args.aes and args.plain:
        raise UsageError("--aes and --plain contradict each other: pick one")
    aes_key = None if args.plain else setting(args.aes_key, f"{prefix}AES_KEY")
    if aes_key is None:
        if args.aes:
            raise UsageError(f"--aes needs the EncodingAESKey: set {prefix}AES_KEY or pass --aes-key")
        return None
    appid = require(args.appid, f"{prefix}APPID", "--appid", "appid, which safe mode needs (or pass --plain)")
    try:
        return Envelope(decode_aes_key(aes_key), appid)
    except ValueError as exc:
        raise UsageError(f"invalid EncodingAESKey ({exc}): copy the 43 characters into WXHOOK_AES_KEY or "
                         "--aes-key") from None


def _message(args: argparse.Namespace) -> Fields:
    fields: Fields = {"ToUserName": args.account, "FromUserName": args.openid, "CreateTime": int(time.time()),
                      "MsgType": args.msg_type}
    fields.update(args.build(args))
    if args.msg_type != "event":
        fields["MsgId"] = time.time_ns() // 1000 << 8 | secrets.randbelow(256)
    fields.update(args.field)
    return fields


def run(args: argparse.Namespace) -> int:
    if args.retry < 0:
        raise UsageError(f"--retry is how many more times to deliver the message, 0 or more, not {args.retry}")
    prefix = "WXHOOK_PLATFORM_" if args.platform else "WXHOOK_"
    if args.platform and args.plain:
        raise UsageError("--platform and --plain contradict each other: a platform's pushes are always sealed")
    token = require(args.token, f"{prefix}TOKEN", "--token", "token (the Token of the bot's server configuration)")
    envelope = _envelope(args, prefix)
    if args.platform and envelope is None:
        raise UsageError("--platform seals every push: set WXHOOK_PLATFORM_AES_KEY or pass --aes-key")
    push = _Push(args.url, token, envelope, _message(args), args.timeout)
    deliveries = asyncio.run(push.deliver(args.retry, args.retry_after))
    ok_all = True
    for number, delivery in enumerate(deliveries, 1):
        ok, text = push.describe(delivery)
        if len(deliveries) > 1:
            text = f"delivery {number}/{len(deliveries)}: {text}"
        print(text if ok else f"wxhook: {text}", file=sys.stdout if ok else sys.stderr)
        ok_all = ok_all and ok
    return 0 if ok_all else 1
