from __future__ import annotations

from typing import Any

import pytest

from wxhook.api import Client, WeChatAPIError, WeChatNetworkError
from wxhook.testing import FakeWeChat

from .conftest import raw_call, sent

MENU = [
    {"type": "click", "name": "今日歌曲", "key": "V1001_TODAY_MUSIC"},
    {
        "name": "菜单",
        "sub_button": [
            {"type": "view", "name": "搜索", "url": "http://www.soso.com/"},
            {
                "type": "miniprogram",
                "name": "wxa",
                "url": "http://mp.weixin.qq.com",
                "appid": "wx1",
                "pagepath": "p",
            },
        ],
    },
]


async def test_create_get_delete(fake: FakeWeChat, client: Client) -> None:
    await client.menu.create(MENU)
    assert sent(fake, "/cgi-bin/menu/create") == {"button": MENU}
    menu = await client.menu.get()
    assert menu.buttons == MENU and menu.menuid is not None and menu.conditional == []
    await client.menu.delete()
    with pytest.raises(WeChatAPIError) as caught:
        await client.menu.get()
    assert caught.value.errcode == 46003


def button(**fields: Any) -> dict[str, Any]:
    return {"type": "click", "name": "b", "key": "k", **fields}


@pytest.mark.parametrize(
    ("buttons", "message"),
    [
        ([button()] * 4, "1..3 top-level"),
        ([], "1..3 top-level"),
        ([{"name": "m", "sub_button": [button()] * 6}], "6 sub-buttons"),
        ([button(name="一二三四五六")], "name is 18 bytes"),
        ([button(key="k" * 129)], "key is 129 bytes"),
        ([button(type="view", url="http://" + "u" * 1020)], "url is 1027 bytes"),
        ([button(type="teleport")], "type 'teleport'"),
        ([{"type": "view", "name": "v"}], "needs url"),
        ([{"type": "click", "key": "k"}], "has no name"),
    ],
)
async def test_create_validates_locally(
    fake: FakeWeChat, client: Client, buttons: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.menu.create(buttons)
    assert fake.count("/cgi-bin/menu/create") == 0


@pytest.mark.parametrize(
    ("buttons", "errcode"),
    [
        ([button()] * 4, 40016),
        ([{"name": "m", "sub_button": [button()] * 6}], 40023),
        ([button(name="n" * 17)], 40018),
        ([button(key="k" * 129)], 40019),
        ([button(type="teleport")], 40017),
    ],
)
async def test_fake_enforces_menu_limits(
    fake: FakeWeChat, client: Client, buttons: list[dict[str, Any]], errcode: int
) -> None:
    answer = await raw_call(fake, client, "POST", "/cgi-bin/menu/create", {"button": buttons})
    assert answer["errcode"] == errcode


SALE = [{"type": "view", "name": "会员价", "url": "https://example.com/vip"}]


async def test_conditional_menus(fake: FakeWeChat, client: Client) -> None:
    fake.add_followers(["vip", "plain"])
    with pytest.raises(WeChatAPIError) as caught:
        await client.menu.add_conditional(SALE, {"tag_id": 100})
    assert caught.value.errcode == 65303  # a default menu comes first
    await client.menu.create(MENU)
    tag = await client.tags.create("vip")
    await client.tags.tag_users(tag.id, ["vip"])
    menuid = await client.menu.add_conditional(SALE, {"tag_id": tag.id})
    assert sent(fake, "/cgi-bin/menu/addconditional") == {"button": SALE, "matchrule": {"tag_id": str(tag.id)}}
    ios = await client.menu.add_conditional(MENU[:1], {"client_platform_type": 1})
    assert sent(fake, "/cgi-bin/menu/addconditional")["matchrule"] == {"client_platform_type": "1"}
    assert isinstance(menuid, int) and ios != menuid

    menu = await client.menu.get()
    assert menu.buttons == MENU and menu.menuid is not None
    assert menu.conditional == [
        {"button": SALE, "matchrule": {"tag_id": str(tag.id)}, "menuid": menuid},
        {"button": MENU[:1], "matchrule": {"client_platform_type": "1"}, "menuid": ios},
    ]
    assert menu.raw["conditionalmenu"] == menu.conditional

    matched = await client.menu.try_match("vip")
    assert sent(fake, "/cgi-bin/menu/trymatch") == {"user_id": "vip"}
    assert matched.buttons == SALE and matched.raw == {"button": SALE}
    assert (await client.menu.try_match("plain")).buttons == MENU
    with pytest.raises(WeChatAPIError) as caught:
        await client.menu.try_match("stranger")
    assert caught.value.errcode == 65302

    await client.menu.delete_conditional(menuid)
    assert sent(fake, "/cgi-bin/menu/delconditional") == {"menuid": str(menuid)}
    assert (await client.menu.try_match("vip")).buttons == MENU
    with pytest.raises(WeChatAPIError) as caught:
        await client.menu.delete_conditional(menuid)
    assert caught.value.errcode == 65301
    await client.menu.delete()
    await client.menu.create(MENU)
    assert (await client.menu.get()).conditional == []  # deleting the menu took the conditional ones along


async def test_add_conditional_is_not_retried_blindly(fake: FakeWeChat, client: Client) -> None:
    await client.menu.create(MENU)
    fake.fail("/cgi-bin/menu/addconditional", status=502)
    with pytest.raises(WeChatNetworkError):
        await client.menu.add_conditional(SALE, {"tag_id": 100})
    assert fake.count("/cgi-bin/menu/addconditional") == 1


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({}, "needs tag_id or client_platform_type"),
        ({"tag_id": ""}, "needs tag_id"),
        ({"sex": "1", "tag_id": 2}, "sex: WeChat no longer matches on personal data"),
        ({"language": "zh_CN"}, "language"),
        ({"group_id": 1}, "unknown keys"),
        ({"client_platform_type": 4}, "1 \\(iOS\\), 2 \\(Android\\) or 3"),
    ],
)
async def test_match_rule_checked_before_sending(
    fake: FakeWeChat, client: Client, rule: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        await client.menu.add_conditional(SALE, rule)
    with pytest.raises(ValueError, match=r"1\.\.3 top-level"):
        await client.menu.add_conditional([], {"tag_id": 1})
    assert fake.count("/cgi-bin/menu/addconditional") == 0


@pytest.mark.parametrize(
    ("rule", "errcode"), [({}, 65304), ({"sex": "1"}, 65320), ({"tag_id": "2", "city": "广州"}, 65320)]
)
async def test_fake_enforces_match_rules(fake: FakeWeChat, client: Client, rule: dict[str, Any], errcode: int) -> None:
    await client.menu.create(MENU)
    answer = await raw_call(fake, client, "POST", "/cgi-bin/menu/addconditional", {"button": SALE, "matchrule": rule})
    assert answer["errcode"] == errcode


async def test_current_selfmenu(fake: FakeWeChat, client: Client) -> None:
    closed = await client.menu.current()
    assert (closed.is_menu_open, closed.buttons, closed.raw) == (False, [], {"is_menu_open": 0})
    await client.menu.create(MENU)
    current = await client.menu.current()
    assert fake.calls("/cgi-bin/get_current_selfmenu_info")[0].method == "GET"
    assert current.is_menu_open is True
    assert current.buttons == [
        MENU[0],
        {"name": "菜单", "sub_button": {"list": MENU[1]["sub_button"]}},
    ]
    assert current.raw["selfmenu_info"]["button"] == current.buttons
