from __future__ import annotations

import pytest

from wxhook.api import (
    Client,
    DraftArticle,
    PublishedItem,
    PublishJob,
    PublishState,
    PublishStatus,
    WeChatAPIError,
    WeChatNetworkError,
)
from wxhook.testing import FakeWeChat

from .conftest import sent

SUBMIT = "/cgi-bin/freepublish/submit"


async def draft(client: Client, *titles: str) -> str:
    thumb = await client.material.add("thumb", b"\xff\xd8jpeg", filename="t.jpg")
    return await client.draft.add([DraftArticle(title, f"<p>{title}</p>", thumb) for title in titles])


async def published(client: Client, *titles: str) -> tuple[PublishJob, str]:
    """Submit a draft and poll until WeChat (the fake) has published it; returns the job and article_id."""
    job = await client.publish.submit(await draft(client, *titles))
    status = await client.publish.status(job)
    while not status.finished:
        status = await client.publish.status(job)
    return job, status.article_id


async def test_submit_and_poll_status(fake: FakeWeChat, client: Client) -> None:
    media_id = await draft(client, "One", "Two")
    job = await client.publish.submit(media_id)
    assert sent(fake, SUBMIT) == {"media_id": media_id}
    assert isinstance(job, PublishJob) and isinstance(job, str) and job == job.publish_id
    assert job.msg_data_id > 0 and job.raw["publish_id"] == job.publish_id
    assert await client.draft.count() == 0  # a published draft leaves the draft box

    running = await client.publish.status(job)
    assert sent(fake, "/cgi-bin/freepublish/get") == {"publish_id": job.publish_id}
    assert isinstance(running, PublishStatus)
    assert (running.publish_id, running.publish_status, running.state) == (job, 1, PublishState.PUBLISHING)
    assert (running.finished, running.article_id, running.article_urls, running.fail_idx) == (False, "", [], [])

    done = await client.publish.status(job.publish_id)
    assert (done.publish_status, done.state, done.finished) == (0, PublishState.SUCCESS, True)
    assert done.article_id and done.fail_idx == []
    assert len(done.article_urls) == 2 and done.article_urls[1].endswith("idx=2")
    assert done.raw["article_detail"]["count"] == 2


async def test_article_list_and_delete(fake: FakeWeChat, client: Client) -> None:
    _, article_id = await published(client, "One", "Two")
    one, two = await client.publish.article(article_id)
    assert sent(fake, "/cgi-bin/freepublish/getarticle") == {"article_id": article_id}
    assert (one.title, one.content, two.title, one.is_deleted) == ("One", "<p>One</p>", "Two", False)
    assert one.url.startswith("http://mp.weixin.qq.com/s") and one.thumb_media_id

    page = await client.publish.list()
    assert sent(fake, "/cgi-bin/freepublish/batchget") == {"offset": 0, "count": 20, "no_content": 0}
    assert (page.total_count, page.item_count) == (1, 1)
    (item,) = page.items
    assert isinstance(item, PublishedItem)
    assert (item.article_id, item.update_time > 0, [a.title for a in item.articles]) == (
        article_id,
        True,
        ["One", "Two"],
    )
    bare = await client.publish.list(0, 1, no_content=True)
    assert bare.items[0].articles[0].content == ""

    await client.publish.delete(article_id, 2)
    assert sent(fake, "/cgi-bin/freepublish/delete") == {"article_id": article_id, "index": 2}
    assert [a.is_deleted for a in await client.publish.article(article_id)] == [False, True]
    await client.publish.delete(article_id)
    assert sent(fake, "/cgi-bin/freepublish/delete") == {"article_id": article_id, "index": 0}
    with pytest.raises(WeChatAPIError) as caught:
        await client.publish.article(article_id)
    assert caught.value.errcode == 53600
    assert (await client.publish.list()).total_count == 0


async def test_deleted_job_reports_state_5(fake: FakeWeChat, client: Client) -> None:
    job, article_id = await published(client, "Only")
    await client.publish.delete(article_id)
    status = await client.publish.status(job)
    assert (status.publish_status, status.state) == (5, PublishState.DELETED)


async def test_failed_job_and_unknown_status(fake: FakeWeChat, client: Client) -> None:
    job = await client.publish.submit(await draft(client, "A", "B"))
    fake.state.publish_jobs[job].update(publish_status=3, fail_idx=[2])
    failed = await client.publish.status(job)
    assert (failed.state, failed.fail_idx, failed.finished) == (PublishState.FAILED, [2], True)
    fake.state.publish_jobs[job].update(publish_status=9)
    assert (await client.publish.status(job)).state is None


def test_publish_state_values() -> None:
    assert [s.value for s in PublishState] == list(range(7))
    assert PublishState(4).name == "AUDIT_REJECTED" and PublishState.BANNED.value == 6


async def test_errors_and_retries(fake: FakeWeChat, client: Client) -> None:
    with pytest.raises(WeChatAPIError) as caught:
        await client.publish.submit("no-such-draft")
    assert caught.value.errcode == 40007
    media_id = await draft(client, "A")
    fake.fail(SUBMIT, status=500)
    with pytest.raises(WeChatNetworkError):
        await client.publish.submit(media_id)
    assert fake.count(SUBMIT) == 2  # the unknown draft and one attempt: never repeated blindly
    job = await client.publish.submit(media_id)
    fake.fail("/cgi-bin/freepublish/get", status=502)
    assert (await client.publish.status(job)).state is PublishState.PUBLISHING
    assert fake.count("/cgi-bin/freepublish/get") == 2
    with pytest.raises(ValueError, match="index"):
        await client.publish.delete("a", -1)
    with pytest.raises(ValueError, match="count"):
        await client.publish.list(count=0)
