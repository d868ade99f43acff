"""The custom menu: created whole, validated here so a typo fails before WeChat's terse errcodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._caller import Group

MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
_NAME_BYTES = {"top": 16, "sub": 60}
_KEY_BYTES = 128
_URL_BYTES = 1024
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
class Menu:
    buttons: list[dict[str, Any]] = field(default_factory=list)
    menuid: int | None = None
    conditional: list[dict[str, Any]] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


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
        await self._caller.get("/cgi-bin/menu/delete")
