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

from .conftest import raw_call, sent

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


ONE_TIME = "/cgi-bin/message/template/subscribe"


async def test_one_time_url_is_the_documented_link() -> None:
    async with Client("wxaba38c7f163da69b", "secret") as client:
        url = client.subscription.one_time_url(
            "1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc", "http://support.qq.com", 1000, "test"
        )
        assert url == (
            "https://mp.weixin.qq.com/mp/subscribemsg?action=get_confirm&appid=wxaba38c7f163da69b&scene=1000"
            "&template_id=1uDxHNXwYQfBmXOfPJcjAS3FynHArD8aWMEFNRGSbCc&redirect_url=http%3A%2F%2Fsupport.qq.com"
            "&reserved=test#wechat_redirect"
        )
        encoded = client.subscription.one_time_url("T1", "https://shop.example/cb?order=7&note=a b")
        assert encoded.endswith(
            "scene=0&template_id=T1&redirect_url=https%3A%2F%2Fshop.example%2Fcb%3Forder%3D7%26note%3Da+b"
            "&reserved=#wechat_redirect"
        )


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [(("T", "https://a/cb", -1), "scene"), (("T", "https://a/cb", 10_001), "scene"),
     (("T", "https://a/cb", True), "scene"), (("T", "https://a/cb", 0, "a-b"), "reserved"),
     (("T", "https://a/cb", 0, "a" * 129), "reserved"),
     (("", "https://a/cb"), "template_id"), (("T", ""), "redirect_url")],
)  # fmt: skip
def test_one_time_url_checks_the_documented_rules(client: Client, arguments: tuple[object, ...], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        client.subscription.one_time_url(*arguments)  # type: ignore[arg-type]


async def test_one_time_consent_allows_one_send(fake: FakeWeChat, client: Client) -> None:
    fake.sign_in("o_guest")
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(client.subscription.one_time_url("TPL", "https://shop.example/cb", 7, "r1"))
        again = await browser.get(client.subscription.one_time_url("TPL", "https://shop.example/cb", 7, "r2"))
    assert consent.status_code == 302
    assert consent.headers["location"] == (
        "https://shop.example/cb?openid=o_guest&template_id=TPL&action=confirm&scene=7&reserved=r1")
    assert again.status_code == 302, "a second consent for one scene does not add a send"
    await client.subscription.send_one_time(
        "o_guest", "TPL", 7, "预约成功", "您预约的 3 号桌已留好。", color="#173177", url="https://shop.example/t/3"
    )
    assert sent(fake, ONE_TIME) == {
        "touser": "o_guest",
        "template_id": "TPL",
        "url": "https://shop.example/t/3",
        "scene": "7",
        "title": "预约成功",
        "data": {"content": {"value": "您预约的 3 号桌已留好。", "color": "#173177"}},
    }
    with pytest.raises(UserRefusedError) as used:
        await client.subscription.send_one_time("o_guest", "TPL", 7, "预约成功", "again")
    assert used.value.errcode == 43101 and fake.count(ONE_TIME) == 2, "a refused send is not retried"
    with pytest.raises(UserRefusedError):
        await client.subscription.send_one_time("o_guest", "TPL", 8, "预约成功", "another scene")


async def test_one_time_declined_consent_allows_nothing(fake: FakeWeChat, client: Client) -> None:
    fake.sign_in("o_guest", consent=False)
    async with httpx.AsyncClient() as browser:
        declined = await browser.get(client.subscription.one_time_url("TPL", "https://shop.example/cb?x=1", 3))
    assert declined.headers["location"] == (
        "https://shop.example/cb?x=1&template_id=TPL&action=cancel&scene=3&reserved=")
    with pytest.raises(UserRefusedError):
        await client.subscription.send_one_time("o_guest", "TPL", 3, "t", "c")
    fake.sign_in("o_guest")
    async with httpx.AsyncClient() as browser:
        await browser.get(client.subscription.one_time_url("TPL", "https://shop.example/cb", 3))
    mini = {"appid": "wx1", "pagepath": "p"}
    await client.subscription.send_one_time("o_guest", "TPL", 3, "t", "c", miniprogram=mini)
    assert sent(fake, ONE_TIME)["miniprogram"] == {"appid": "wx1", "pagepath": "p"}


async def test_send_one_time_checks_title_and_content_before_calling(fake: FakeWeChat, client: Client) -> None:
    for title, content, problem in (("", "c", "title"), ("标" * 16, "c", "title"), ("t", "", "content"),
                                    ("t", "字" * 201, "content")):
        with pytest.raises(ValueError, match=problem):
            await client.subscription.send_one_time("o1", "TPL", 1, title, content)
    with pytest.raises(ValueError, match="scene"):
        await client.subscription.send_one_time("o1", "TPL", 10_001, "t", "c")
    assert fake.count(ONE_TIME) == 0
    body = {"touser": "o1", "template_id": "TPL", "scene": "1", "title": "标" * 16, "data": {"content": {"value": "c"}}}
    assert (await raw_call(fake, client, "POST", ONE_TIME, body))["errcode"] == 47003
