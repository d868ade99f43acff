"""``wxhook token``, ``wxhook menu push|show|delete``, ``wxhook qr create``: the account's API from a shell.

They use the same client, settings and store as the bot (``WXHOOK_APPID``, ``WXHOOK_SECRET``,
``WXHOOK_STORE``, ``WXHOOK_API_BASE``, ``WXHOOK_MP_BASE``), so with the bot's store they share its access
token instead of fetching another.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import segno

from ..api import Client, WeChatAPIError
from ..config import setting
from ..stores import open_store
from ._common import CommandError, Parser, UsageError, api_options, appid_option, require, timeout_option

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib

_NO_MENU = 46003


def _run(args: argparse.Namespace, call: Callable[[Client], Awaitable[int]]) -> int:
    """Run ``call`` with a client built from the options and variables, then close it and its store."""
    appid = require(args.appid, "WXHOOK_APPID", "--appid", "appid (the AppID, wx…)")
    secret = require(args.secret, "WXHOOK_SECRET", "--secret", "app secret (the AppSecret)")

    async def main() -> int:
        store = open_store(setting(args.store, "WXHOOK_STORE"))
        try:
            async with Client(appid, secret, store=store, api_base=args.api_base, mp_base=args.mp_base,
                              timeout=args.timeout) as client:
                return await call(client)
        finally:
            await store.close()

    return asyncio.run(main())


def _token(args: argparse.Namespace) -> int:
    async def call(client: Client) -> int:
        print(await client.access_token())
        return 0

    return _run(args, call)


def load_menu(path: str) -> list[dict[str, Any]]:
    """The ``button`` list of a menu file: JSON as ``menu/create`` takes it, or the same in TOML."""
    file = Path(path)
    try:
        text = file.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read the menu file: {exc.strerror or exc}: {path}") from None
    try:
        if file.suffix.lower() == ".toml":
            document: Any = tomllib.loads(text.decode())
        elif file.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            raise UsageError(f"{path}: a menu file ends in .json or .toml")
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError and TOMLDecodeError are ValueErrors
        raise CommandError(f"{path} is not valid {file.suffix[1:].upper()}: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("button"), list):
        raise CommandError(f"{path}: a menu is a table whose 'button' holds the buttons, e.g. "
                           '{"button": [{"type": "click", "name": "Today", "key": "TODAY"}]} '
                           "or [[button]] tables in TOML")
    unknown = sorted(set(document) - {"button"})
    if unknown:
        raise CommandError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; a menu has only 'button'")
    buttons: list[dict[str, Any]] = document["button"]
    return buttons


def _menu_push(args: argparse.Namespace) -> int:
    buttons = load_menu(args.file)

    async def call(client: Client) -> int:
        try:
            await client.menu.create(buttons)
        except ValueError as exc:
            raise CommandError(f"{args.file}: {exc}") from None
        print(f"menu pushed: {', '.join(str(button.get('name')) for button in buttons)}")
        return 0

    return _run(args, call)


def _menu_show(args: argparse.Namespace) -> int:
    async def call(client: Client) -> int:
        try:
            menu = await client.menu.get()
        except WeChatAPIError as exc:
            if exc.errcode == _NO_MENU:
                raise CommandError("the account has no menu (46003); create one with: wxhook menu push FILE") from None
            raise
        print(json.dumps({"button": menu.buttons}, ensure_ascii=False, indent=2))
        if menu.conditional:
            print(f"(and {len(menu.conditional)} conditional menu(s), not shown)", file=sys.stderr)
        return 0

    return _run(args, call)


def _menu_delete(args: argparse.Namespace) -> int:
    async def call(client: Client) -> int:
        await client.menu.delete()
        print("menu deleted (conditional menus too)")
        return 0

    return _run(args, call)


def _qr_create(args: argparse.Namespace) -> int:
    scene: int | str = int(args.scene) if args.scene.isdigit() else args.scene

    async def call(client: Client) -> int:
        try:
            code = await client.qrcode.create(scene, expire_seconds=args.expire, permanent=args.permanent)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        lasts = "permanent" if args.permanent else f"expires in {code.expire_seconds} s"
        print(f"ticket: {code.ticket}\nurl: {code.url}\nimage: {client.qrcode.url(code.ticket)}\n{lasts}")
        qr = segno.make(code.url, error="m")
        qr.terminal(out=sys.stdout, compact=True)
        if args.out:
            try:
                qr.save(args.out, kind="png", scale=8, border=4)
            except OSError as exc:
                raise CommandError(f"cannot write {args.out}: {exc.strerror or exc}") from None
            print(f"saved {args.out}")
        return 0

    return _run(args, call)


def _api_parser(commands: argparse._SubParsersAction[Parser], name: str, help_: str,
                handler: Callable[[argparse.Namespace], int] | None = None) -> Parser:
    parser = commands.add_parser(name, help=help_, description=help_)
    if handler is not None:
        parser.set_defaults(handler=handler)
        appid_option(parser, owner=False)
        api_options(parser, owner=False)
        timeout_option(parser, owner=False)
    return parser


def register(commands: argparse._SubParsersAction[Parser]) -> None:
    _api_parser(commands, "token", "print the access token (cached in the store, fetched when missing)", _token)

    menu = _api_parser(commands, "menu", "the custom menu (自定义菜单)").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    _api_parser(menu, "push", "replace the menu with a JSON or TOML file", _menu_push).add_argument(
        "file", metavar="FILE", help='menu.json ({"button": [...]}, as menu/create takes it) or menu.toml '
                                     "([[button]] tables)")
    _api_parser(menu, "show", "print the menu as JSON (what menu push takes)", _menu_show)
    _api_parser(menu, "delete", "remove the menu", _menu_delete)

    qr = _api_parser(commands, "qr", "parametric QR codes (带参数二维码)").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    create = _api_parser(qr, "create", "create a QR code, print it in the terminal and save the PNG", _qr_create)
    create.add_argument("--scene", required=True,
                        help="the scene: digits make an integer scene, anything else a string one (≤ 64)")
    lifetime = create.add_mutually_exclusive_group()
    lifetime.add_argument("--expire", type=int, metavar="SECONDS",
                          help="a temporary code's lifetime, up to 2592000 (30 days; WeChat's default: 60)")
    lifetime.add_argument("--permanent", action="store_true", help="a permanent code (at most 100,000 per account)")
    create.add_argument("--out", metavar="FILE.png", help="also save the code as a PNG")
