"""Fake menus: the default menu, conditional menus and what a follower sees, and the console's settings."""

from __future__ import annotations

from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint

OK = {"errcode": 0, "errmsg": "ok"}
_BUTTON_TYPES = {
    "click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin",
    "location_select", "media_id", "view_limited", "article_id", "article_view_limited", "miniprogram",
}  # fmt: skip
_MATCH_KEYS = {"tag_id", "client_platform_type"}
_PRIVATE_KEYS = {"sex", "country", "province", "city", "language"}
# What an account that set its auto-replies in the console answers.
CONSOLE_AUTOREPLY = {
    "is_add_friend_reply_open": 1,
    "is_autoreply_open": 1,
    "add_friend_autoreply_info": {"type": "text", "content": "感谢关注"},
    "message_default_autoreply_info": {"type": "text", "content": "稍后回复您"},
    "keyword_autoreply_info": {
        "list": [
            {
                "rule_name": "help",
                "create_time": 1_700_000_000,
                "reply_mode": "reply_all",
                "keyword_list_info": [{"type": "text", "match_mode": "contain", "content": "帮助"}],
                "reply_list_info": [{"type": "text", "content": "回复 1 查询订单"}],
            }
        ]
    },
}


def _check_button(button: dict[str, Any], sub: bool) -> None:
    if len(str(button.get("name", "")).encode()) > (60 if sub else 16) or not button.get("name"):
        raise Fault(40025 if sub else 40018, f"invalid {'sub ' if sub else ''}button name size")
    children = button.get("sub_button")
    if children and not sub:
        if len(children) > 5:
            raise Fault(40023, "invalid sub button size")
        for child in children:
            _check_button(child, sub=True)
        return
    if button.get("type") not in _BUTTON_TYPES:
        raise Fault(40017, "invalid button type")
    if len(str(button.get("key", "")).encode()) > 128:
        raise Fault(40019, "invalid button key size")
    if len(str(button.get("url", "")).encode()) > 1024:
        raise Fault(40020, "invalid button url size")


def _buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise Fault(40016, "invalid button size")
    for button in buttons:
        _check_button(button, sub=False)
    return buttons


@endpoint("POST", "/cgi-bin/menu/create")
def menu_create(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    st.menu = {"button": _buttons(req.body()), "menuid": st.next_menuid}
    st.next_menuid += 1
    return OK


@endpoint("GET", "/cgi-bin/menu/get")
def menu_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    if st.menu is None:
        raise Fault(46003, "menu no exist")
    answer: dict[str, Any] = {"menu": st.menu}
    if st.conditional_menus:
        answer["conditionalmenu"] = st.conditional_menus
    return answer


@endpoint("GET", "/cgi-bin/menu/delete")
def menu_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Deleting the default menu deletes every conditional menu too."""
    st.menu = None
    st.conditional_menus.clear()
    return OK


def _match_rule(body: dict[str, Any]) -> dict[str, str]:
    rule = body.get("matchrule")
    if not isinstance(rule, dict) or not any(rule.get(key) for key in _MATCH_KEYS | _PRIVATE_KEYS):
        raise Fault(65304, "match rule empty")
    if any(rule.get(key) for key in _PRIVATE_KEYS):
        raise Fault(65320, "match rule contains privacy info, not supported")
    if str(rule.get("client_platform_type") or "1") not in ("1", "2", "3"):
        raise Fault(40097, "invalid args")
    return {key: str(rule[key]) for key in _MATCH_KEYS if rule.get(key)}


@endpoint("POST", "/cgi-bin/menu/addconditional")
def add_conditional(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    if st.menu is None:
        raise Fault(65303, "there is no selfmenu, please create selfmenu first")
    buttons, rule = _buttons(body), _match_rule(body)
    menuid = st.next_menuid
    st.next_menuid += 1
    st.conditional_menus.append({"button": buttons, "matchrule": rule, "menuid": menuid})
    return {"menuid": str(menuid)}


@endpoint("POST", "/cgi-bin/menu/delconditional")
def del_conditional(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    menuid = str(req.body().get("menuid", ""))
    kept = [menu for menu in st.conditional_menus if str(menu["menuid"]) != menuid]
    if len(kept) == len(st.conditional_menus):
        raise Fault(65301, "this menuid not exist")
    st.conditional_menus[:] = kept
    return OK


@endpoint("POST", "/cgi-bin/menu/trymatch")
def try_match(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Newest conditional menu first, as WeChat matches. The fake cannot know a follower's phone, so a
    rule naming client_platform_type never matches here."""
    openid = req.body().get("user_id")
    if openid not in st.followers:
        raise Fault(65302, "no such user")
    if st.menu is None:
        raise Fault(46003, "menu no exist")
    tags = {str(tag_id) for tag_id, tag in st.tags.items() if openid in tag["members"]}
    for menu in reversed(st.conditional_menus):
        rule = menu["matchrule"]
        if "client_platform_type" not in rule and rule.get("tag_id") in tags:
            return {"button": menu["button"]}
    return {"button": st.menu["button"]}


def _self_menu_button(button: dict[str, Any]) -> dict[str, Any]:
    """get_current_selfmenu_info nests sub-buttons as ``{"list": [...]}``."""
    if button.get("sub_button"):
        return {"name": button["name"], "sub_button": {"list": [_self_menu_button(b) for b in button["sub_button"]]}}
    return {key: value for key, value in button.items() if key != "sub_button"}


@endpoint("GET", "/cgi-bin/get_current_selfmenu_info")
def current_selfmenu(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    if st.menu is None:
        return {"is_menu_open": 0}
    return {"is_menu_open": 1, "selfmenu_info": {"button": [_self_menu_button(b) for b in st.menu["button"]]}}


@endpoint("GET", "/cgi-bin/get_current_autoreply_info")
def current_autoreply(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return st.autoreply or CONSOLE_AUTOREPLY
