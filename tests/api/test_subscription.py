from __future__ import annotations

import httpx
import pytest

from wxhook.api import (
    Client,
    SubscribeCategory,
    SubscribeKeyword,
    SubscribeTemplate,
    SubscribeTitle,
    SubscribeTitlePage,
    UserRefusedError,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from .conftest import sent

BIZSEND = "/cgi-bin/message/subscribe/bizsend"
ADD = "/wxaapi/newtmpl/addtemplate"


async def test_library_categories_titles_keywords(fake: FakeWeChat, client: Client) -> None:
    categories = await client.subscription.categories()
    assert fake.calls("/wxaapi/newtmpl/getcategory")[0].method == "GET"
    assert all(isinstance(c, SubscribeCategory) for c in categories)
    assert [(c.id, c.name) for c in categories] == [(616, "公交"), (2, "电商平台")]

    page = await client.subscription.titles([616, 2], start=1, limit=2)
    call = fake.calls("/wxaapi/newtmpl/getpubtemplatetitles")[0]
    assert (call.method, {k: v for k, v in call.query.items() if k != "access_token"}) == (
        "GET",
        {"ids": "616,2", "start": "1", "limit": "2"},
    )
    assert isinstance(page, SubscribeTitlePage) and page.count == 3 and len(page.titles) == 2
    title = page.titles[0]
    assert isinstance(title, SubscribeTitle)
    assert (title.tid, title.title, title.type, title.category_id) == (401, "订单发货通知", 2, "2")
    assert (await client.subscription.titles([616])).count == 1

    keywords = await client.subscription.keywords(99)
    assert fake.calls("/wxaapi/newtmpl/getpubtemplatekeywords")[0].query["tid"] == "99"
    assert isinstance(keywords[0], SubscribeKeyword)
    assert (keywords[0].kid, keywords[0].name, keywords[0].example, keywords[0].rule) == (
        1,
        "物品名称",
        "地铁票",
        "thing",
    )
    assert [k.rule for k in keywords] == ["thing", "amount", "time", "character_string", "phrase"]


async def test_template_lifecycle(fake: FakeWeChat, client: Client) -> None:
    pri_tmpl_id = await client.subscription.add_template(99, [1, 5], "购票成功")
    assert sent(fake, ADD) == {"tid": "99", "kidList": [1, 5], "sceneDesc": "购票成功"}
    (template,) = await client.subscription.templates()
    assert fake.calls("/wxaapi/newtmpl/gettemplate")[0].method == "GET"
    assert isinstance(template, SubscribeTemplate)
    assert (template.pri_tmpl_id, template.title, template.type) == (pri_tmpl_id, "付款成功通知", 2)
    assert template.content == "物品名称:{{thing1.DATA}}\n状态:{{phrase5.DATA}}\n"
    assert template.example == "物品名称:地铁票\n状态:成功\n" and template.raw["priTmplId"] == pri_tmpl_id
    await client.subscription.delete_template(pri_tmpl_id)
    assert sent(fake, "/wxaapi/newtmpl/deltemplate") == {"priTmplId": pri_tmpl_id}
    assert await client.subscription.templates() == []
    with pytest.raises(WeChatAPIError) as caught:
        await client.subscription.delete_template(pri_tmpl_id)
    assert caught.value.errcode == 20001


async def test_send_both_data_forms(fake: FakeWeChat, client: Client) -> None:
    template_id = await client.subscription.add_template(99, [1, 2, 5], "购票")
    data: dict[str, str | dict[str, str]] = {"thing1": "地铁票", "amount2": {"value": "¥5.00"}, "phrase5": "成功"}
    await client.subscription.send("o1", template_id, data, page="https://example.com/order/1")
    assert sent(fake, BIZSEND) == {
        "touser": "o1",
        "template_id": template_id,
        "data": {"thing1": {"value": "地铁票"}, "amount2": {"value": "¥5.00"}, "phrase5": {"value": "成功"}},
        "page": "https://example.com/order/1",
    }
    await client.subscription.send("o1", template_id, data, miniprogram={"appid": "wxmini", "pagepath": "p/o?id=1"})
    assert sent(fake, BIZSEND)["miniprogram"] == {"appid": "wxmini", "pagepath": "p/o?id=1"}
    assert "page" not in sent(fake, BIZSEND)


async def test_send_errors(fake: FakeWeChat, client: Client) -> None:
    template_id = await client.subscription.add_template(99, [1, 5], "购票")
    good = {"thing1": "地铁票", "phrase5": "成功"}
    bad_data = [
        {"thing1": "地铁票"},  # a keyword missing
        {**good, "thing9": "extra"},
        {**good, "thing1": "x" * 21},  # thing: at most 20 characters
        {**good, "phrase5": "六个字的短语"},  # phrase: at most 5
    ]
    for data in bad_data:
        with pytest.raises(WeChatAPIError) as caught:
            await client.subscription.send("o1", template_id, data)
        assert caught.value.errcode == 47003
    with pytest.raises(WeChatAPIError) as caught:
        await client.subscription.send("o1", "no-such-template", good)
    assert caught.value.errcode == 40037
    fake.fail(BIZSEND, 43101, times=None, openid="o-refused")
    with pytest.raises(UserRefusedError) as refused:
        await client.subscription.send("o-refused", template_id, good)
    assert refused.value.errcode == 43101
    await client.subscription.send("o-ok", template_id, good)
    with pytest.raises(ValueError, match="openid"):
        await client.subscription.send("", template_id, good)


async def test_send_is_not_retried(fake: FakeWeChat, client: Client) -> None:
    template_id = await client.subscription.add_template(401, [1, 3], "发货")
    fake.fail(BIZSEND, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.subscription.send("o1", template_id, {"thing1": "手机壳", "number3": "2"})
    assert fake.count(BIZSEND) == 1
    fake.fail(ADD, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.subscription.add_template(401, [1, 2], "发货")
    assert fake.count(ADD) == 2 and len(await client.subscription.templates()) == 1


async def test_template_checks(fake: FakeWeChat, client: Client) -> None:
    for kids in ([1], [1, 2, 3, 4, 5, 6]):
        with pytest.raises(ValueError, match=r"2\.\.5"):
            await client.subscription.add_template(99, kids, "scene")
    with pytest.raises(ValueError, match=r"1\.\.15"):
        await client.subscription.add_template(99, [1, 2], "一" * 16)
    with pytest.raises(ValueError, match="category id"):
        await client.subscription.titles([])
    with pytest.raises(ValueError, match=r"limit 1\.\.30"):
        await client.subscription.titles([2], limit=31)
    assert fake.calls(ADD) == []
    with pytest.raises(WeChatAPIError) as caught:
        await client.subscription.add_template(12345, [1, 2], "scene")
    assert caught.value.errcode == 200014
    with pytest.raises(WeChatAPIError) as caught:
        await client.subscription.add_template(99, [1, 9], "scene")
    assert caught.value.errcode == 200020
    with pytest.raises(WeChatAPIError) as caught:
        await client.subscription.keywords(12345)
    assert caught.value.errcode == 200014
    for _ in range(25):
        await client.subscription.add_template(402, [1, 2], "物流")
    with pytest.raises(WeChatAPIError) as caught:
        await client.subscription.add_template(402, [1, 2], "物流")
    assert caught.value.errcode == 200012


@pytest.mark.parametrize(
    ("query", "errcode"),
    [
        ({"start": "0", "limit": "1"}, 200018),
        ({"ids": "2;616", "start": "0", "limit": "1"}, 200019),
        ({"ids": "2", "start": "-1", "limit": "1"}, 200016),
        ({"ids": "2", "start": "0", "limit": "31"}, 200017),
    ],
)
async def test_fake_checks_title_queries(fake: FakeWeChat, client: Client, query: dict[str, str], errcode: int) -> None:
    token = await client.access_token()
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{fake.url}/wxaapi/newtmpl/getpubtemplatetitles", params={"access_token": token, **query}
        )
    assert answer.json()["errcode"] == errcode
