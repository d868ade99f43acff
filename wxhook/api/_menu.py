"""The custom menu: created whole, validated here so a typo fails before WeChat's terse errcodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._caller import Group, build
from ._data import WeChatData

__all__ = ["Menu", "SelfMenu"]

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
_NAME_BYTES = {"top": 16, "sub": 60}
_KEY_BYTES = 128
_URL_BYTES = 1024
_MATCH_KEYS = ("tag_id", "client_platform_type")
_PRIVATE_KEYS = ("sex", "country", "province", "city", "language")
_PLATFORMS = ("1", "2", "3")
_NEEDS = {
    "click": ("key",),
    "scancode_push": ("key",),
    "scancode_waitmsg": ("key",),
    "pic_sysphoto": ("key",),
    "pic_photo_or_album": ("key",),
    "pic_weixin": ("key",),
    "location_select": ("key",),
    "view": ("url",),
    "media_id": ("media_id",),
    "view_limited": ("media_id",),
    "article_id": ("article_id",),
    "article_view_limited": ("article_id",),
    "miniprogram": ("appid", "pagepath", "url"),
}


@dataclass(frozen=True)
class Menu(WeChatData):
    buttons: list[dict[str, Any]] = field(default_factory=list)
    menuid: int | None = None
    conditional: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class SelfMenu(WeChatData):
    """The menu followers see, also when it was set in the admin console rather than through the API.

    ``buttons`` keep that endpoint's shape: sub-buttons sit under ``sub_button["list"]``, console buttons
    carry ``value`` (and ``news_info`` for articles) instead of ``key``/``url``.
    """

    is_menu_open: bool = False
    buttons: list[dict[str, Any]] = field(default_factory=list)


def _check_size(where: str, what: str, value: str, limit: int) -> None:
    size = len(value.encode())
    if size > limit:
        raise ValueError(f"{where}: {what} is {size} bytes, WeChat allows at most {limit}")


def _check_button(button: Mapping[str, Any], where: str, level: str) -> None:
    name = button.get("name")
    if not name:
        raise ValueError(f"{where} has no name")
    _check_size(where, "name", name, _NAME_BYTES[level])
    subs = button.get("sub_button")
    if subs and level == "top":
        if len(subs) > MAX_SUB_BUTTONS:
            raise ValueError(f"{where} has {len(subs)} sub-buttons; at most {MAX_SUB_BUTTONS} are allowed")
        for index, sub in enumerate(subs):
            _check_button(sub, f"{where}.sub_button[{index}]", "sub")
        return
    kind = button.get("type")
    if kind not in _NEEDS:
        raise ValueError(f"{where} has type {kind!r}; use one of {', '.join(sorted(_NEEDS))}")
    missing = [key for key in _NEEDS[kind] if not button.get(key)]
    if missing:
        raise ValueError(f"{where} of type {kind!r} needs {', '.join(missing)}")
    if "key" in button:
        _check_size(where, "key", button["key"], _KEY_BYTES)
    if "url" in button:
        _check_size(where, "url", button["url"], _URL_BYTES)


def validate_menu(buttons: Sequence[Mapping[str, Any]]) -> None:
    """Raise ValueError naming the offending button when the menu breaks a documented limit."""
    if not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ValueError(f"a menu has 1..{MAX_BUTTONS} top-level buttons, got {len(buttons)}")
    for index, button in enumerate(buttons):
        _check_button(button, f"button[{index}]", "top")


def match_rule_body(match_rule: Mapping[str, Any]) -> dict[str, str]:
    """The matchrule WeChat still honours (tag, phone OS) as the strings its docs send; privacy fields are
    refused here as WeChat would with 65320."""
    private = [key for key in _PRIVATE_KEYS if match_rule.get(key)]
    if private:
        raise ValueError(
            f"match_rule uses {', '.join(private)}: WeChat no longer matches on personal data (65320); "
            "match on tag_id (tag the users) or client_platform_type"
        )
    unknown = sorted(set(match_rule) - set(_MATCH_KEYS) - set(_PRIVATE_KEYS))
    if unknown:
        raise ValueError(f"match_rule has unknown keys {unknown}; use {' and '.join(_MATCH_KEYS)}")
    rule = {key: str(match_rule[key]) for key in _MATCH_KEYS if match_rule.get(key) not in (None, "")}
    if not rule:
        raise ValueError("match_rule needs tag_id or client_platform_type (WeChat answers 65304 otherwise)")
    if rule.get("client_platform_type", "1") not in _PLATFORMS:
        raise ValueError("client_platform_type is 1 (iOS), 2 (Android) or 3 (others)")
    return rule


class MenuAPI(Group):
    async def create(self, buttons: Sequence[Mapping[str, Any]]) -> None:
        """Replace the menu with ``buttons``: WeChat's ``button`` list (name, type, key/url, sub_button)."""
        validate_menu(buttons)
        await self._caller.post("/cgi-bin/menu/create", {"button": [dict(b) for b in buttons]})

    async def get(self) -> Menu:
        data = await self._caller.get("/cgi-bin/menu/get")
        menu = data.get("menu") or {}
        return Menu(
            buttons=list(menu.get("button") or []),
            menuid=menu.get("menuid"),
            conditional=list(data.get("conditionalmenu") or []),
            raw=data,
        )

    async def delete(self) -> None:
        """Delete the default menu and every conditional menu with it."""
        await self._caller.get("/cgi-bin/menu/delete")

    async def add_conditional(self, buttons: Sequence[Mapping[str, Any]], match_rule: Mapping[str, Any]) -> int:
        """A menu for the followers ``match_rule`` selects (needs a default menu first); returns its menuid.

        Not retried blindly: each success adds another menu.
        """
        validate_menu(buttons)
        body = {"button": [dict(b) for b in buttons], "matchrule": match_rule_body(match_rule)}
        data = await self._caller.post("/cgi-bin/menu/addconditional", body, safe=False)
        return int(data["menuid"])

    async def delete_conditional(self, menuid: int) -> None:
        await self._caller.post("/cgi-bin/menu/delconditional", {"menuid": str(menuid)})

    async def try_match(self, user_id: str) -> Menu:
        """The menu a follower would see (``user_id``: an openid or a WeChat id)."""
        data = await self._caller.post("/cgi-bin/menu/trymatch", {"user_id": user_id})
        return Menu(buttons=list(data.get("button") or []), raw=data)

    async def current(self) -> SelfMenu:
        """The menu in force, however it was set (``get`` only knows menus created through the API)."""
        data = await self._caller.get("/cgi-bin/get_current_selfmenu_info")
        buttons = list((data.get("selfmenu_info") or {}).get("button") or [])
        return build(SelfMenu, data, is_menu_open=bool(data.get("is_menu_open")), buttons=buttons)
