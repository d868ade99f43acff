"""Fake articles: the draft box, publishing, permanent material and images for article content.

State follows WeChat: a published (or mass-sent) draft leaves the draft box; a publish job reports
"publishing" on its first status query and has finished by the next one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from pathlib import PurePath
from typing import Any

from starlette.responses import Response

from ._fake_state import FakeRequest, FakeState, Fault, endpoint, random_id

OK = {"errcode": 0, "errmsg": "ok"}
MAX_ARTICLES = 8
MAX_CONTENT_CHARS = 20_000
BATCH_MAX = 20
UPLOADIMG_MAX = 1 << 20
_MATERIAL_LIMITS = {"image": 10 << 20, "voice": 2 << 20, "video": 10 << 20, "thumb": 64 << 10}
_LIST_TYPES = ("image", "video", "voice", "news")
_ARTICLE_FIELDS = ("title", "author", "digest", "content", "content_source_url", "thumb_media_id", "image_info")
PUBLISHING, PUBLISHED, DELETED = 1, 0, 5


def new_id(st: FakeState) -> int:
    """Numeric ids (publish_id, msg_id, msg_data_id) as WeChat hands them out: unique and increasing."""
    st.next_content_id += 1
    return st.next_content_id


def _material(st: FakeState, media_id: Any, kinds: Iterable[str]) -> dict[str, Any]:
    material = st.materials.get(str(media_id))
    if material is None or material["type"] not in kinds:
        raise Fault(40007, "invalid media_id")
    return material


def news_articles(req: FakeRequest) -> list[Any]:
    """The ``articles`` of a body that stores news (draft/add, media/uploadnews): a list of 1–8."""
    articles = req.need(req.body().get("articles"), 44003, "empty news data")
    if not isinstance(articles, list):
        raise Fault(47001, "data format error")
    if len(articles) > MAX_ARTICLES:
        raise Fault(45008, "article size out of limit")
    return articles


def check_text(article: Any) -> dict[str, Any]:
    """An article object with a title and content under 20,000 characters."""
    if not isinstance(article, dict):
        raise Fault(47001, "data format error")
    if not article.get("title") or not article.get("content"):
        raise Fault(44003, "empty news data")
    if len(str(article["content"])) >= MAX_CONTENT_CHARS:
        raise Fault(45002, "content size out of limit")
    return article


def _article(st: FakeState, article: Any) -> dict[str, Any]:
    """Check one article as draft/add does and return it as draft/get answers it."""
    kind = check_text(article).get("article_type", "news")
    if kind not in ("news", "newspic"):
        raise Fault(40097, "invalid article_type")
    item = {key: article[key] for key in _ARTICLE_FIELDS if key in article}
    if kind == "news":
        item["thumb_url"] = _material(st, article.get("thumb_media_id"), ("image", "thumb"))["url"]
    else:
        images = (article.get("image_info") or {}).get("image_list") or []
        if not images:
            raise Fault(44003, "empty news data")
        for image in images:
            _material(st, (image or {}).get("image_media_id"), ("image",))
    return {
        "article_type": kind,
        **{key: "" for key in ("author", "digest", "content_source_url")},
        **item,
        "need_open_comment": int(article.get("need_open_comment") or 0),
        "only_fans_can_comment": int(article.get("only_fans_can_comment") or 0),
        "url": f"http://mp.weixin.qq.com/s?__biz=fake&tempkey={random_id(24)}",
    }


def _draft(st: FakeState, media_id: Any) -> dict[str, Any]:
    draft = st.drafts.get(str(media_id))
    if draft is None:
        raise Fault(40007, "invalid media_id")
    return draft


def take_draft(st: FakeState, media_id: Any) -> list[dict[str, Any]]:
    """A draft that is published or mass-sent leaves the draft box; its articles go with the send."""
    articles: list[dict[str, Any]] = _draft(st, media_id)["news_item"]
    del st.drafts[str(media_id)]
    return articles


def _page(
    body: dict[str, Any], entries: dict[str, dict[str, Any]], item: Callable[[str, dict[str, Any], bool], Any]
) -> dict[str, Any]:
    """A batchget answer over ``entries`` (oldest first in the dict), newest first as WeChat lists them."""
    offset, count = body.get("offset"), body.get("count")
    if not isinstance(offset, int) or offset < 0 or not isinstance(count, int) or not 1 <= count <= BATCH_MAX:
        raise Fault(40097, "invalid args")
    no_content = bool(body.get("no_content"))
    chosen = list(reversed(entries.items()))[offset : offset + count]
    return {"total_count": len(entries), "item_count": len(chosen), "item": [item(*e, no_content) for e in chosen]}


def _news_entry(key: str) -> Callable[[str, dict[str, Any], bool], dict[str, Any]]:
    def entry(entry_id: str, stored: dict[str, Any], no_content: bool) -> dict[str, Any]:
        items = [{k: v for k, v in a.items() if not (no_content and k == "content")} for a in stored["news_item"]]
        content = {"news_item": items, "create_time": stored["create_time"], "update_time": stored["update_time"]}
        return {key: entry_id, "content": content, "update_time": stored["update_time"]}

    return entry


# -- drafts ---------------------------------------------------------------------------------------------


@endpoint("POST", "/cgi-bin/draft/add")
def draft_add(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    items = [_article(st, article) for article in news_articles(req)]
    media_id = random_id(43)
    now = int(time.time())
    st.drafts[media_id] = {"news_item": items, "create_time": now, "update_time": now}
    return {"media_id": media_id}


@endpoint("POST", "/cgi-bin/draft/get")
def draft_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"news_item": _draft(st, req.body().get("media_id"))["news_item"]}


@endpoint("POST", "/cgi-bin/draft/update")
def draft_update(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    draft = _draft(st, body.get("media_id"))
    index = body.get("index")
    if not isinstance(index, int) or not 0 <= index < len(draft["news_item"]):
        raise Fault(40097, "invalid args: index out of range")
    draft["news_item"][index] = _article(st, body.get("articles"))
    draft["update_time"] = int(time.time())
    return OK


@endpoint("POST", "/cgi-bin/draft/delete")
def draft_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    take_draft(st, req.body().get("media_id"))
    return OK


@endpoint("GET", "/cgi-bin/draft/count")
def draft_count(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"total_count": len(st.drafts)}


@endpoint("POST", "/cgi-bin/draft/batchget")
def draft_batchget(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _page(req.body(), st.drafts, _news_entry("media_id"))


# -- publishing -----------------------------------------------------------------------------------------


@endpoint("POST", "/cgi-bin/freepublish/submit")
def publish_submit(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    articles = take_draft(st, req.body().get("media_id"))
    publish_id, msg_data_id = str(new_id(st)), new_id(st)
    st.publish_jobs[publish_id] = {"publish_status": PUBLISHING, "news_item": articles, "article_id": ""}
    return {**OK, "publish_id": publish_id, "msg_data_id": msg_data_id}


def _finish(st: FakeState, job: dict[str, Any]) -> None:
    article_id = random_id(43)
    now = int(time.time())
    for idx, article in enumerate(job["news_item"], 1):
        article["url"] = f"http://mp.weixin.qq.com/s?__biz=fake&mid={article_id}&idx={idx}"
        article["is_deleted"] = False
    st.published[article_id] = {"news_item": job["news_item"], "create_time": now, "update_time": now}
    job.update(publish_status=PUBLISHED, article_id=article_id)


@endpoint("POST", "/cgi-bin/freepublish/get")
def publish_get(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    publish_id = str(req.body().get("publish_id"))
    job = st.publish_jobs.get(publish_id)
    if job is None:
        raise Fault(40097, "invalid args: publish_id not found")
    answer = {"publish_id": publish_id, "publish_status": job["publish_status"], "fail_idx": job.get("fail_idx", [])}
    if job["publish_status"] == PUBLISHING:
        _finish(st, job)
        return answer
    if job["article_id"]:
        urls = [{"idx": i, "article_url": a["url"]} for i, a in enumerate(job["news_item"], 1)]
        answer.update(article_id=job["article_id"], article_detail={"count": len(urls), "item": urls})
    return answer


def _published(st: FakeState, article_id: Any) -> dict[str, Any]:
    published = st.published.get(str(article_id))
    if published is None:
        raise Fault(53600, "Article ID 无效")
    return published


@endpoint("POST", "/cgi-bin/freepublish/delete")
def publish_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """index 0 (or none) deletes the whole group, as WeChat does; 1.. one article of it."""
    body = req.body()
    article_id = str(body.get("article_id"))
    articles = _published(st, article_id)["news_item"]
    index = body.get("index", 0)
    if not isinstance(index, int) or not 0 <= index <= len(articles):
        raise Fault(40097, "invalid args: index out of range")
    for position, article in enumerate(articles, 1):
        if index in (0, position):
            article["is_deleted"] = True
    if all(article["is_deleted"] for article in articles):
        del st.published[article_id]
        for job in st.publish_jobs.values():
            if job["article_id"] == article_id:
                job["publish_status"] = DELETED
    return OK


@endpoint("POST", "/cgi-bin/freepublish/getarticle")
def publish_getarticle(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return {"news_item": _published(st, req.body().get("article_id"))["news_item"]}


@endpoint("POST", "/cgi-bin/freepublish/batchget")
def publish_batchget(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _page(req.body(), st.published, _news_entry("article_id"))


# -- permanent material ---------------------------------------------------------------------------------


def _upload(req: FakeRequest, limit: int) -> tuple[str, str, bytes]:
    if "media" not in req.files:
        raise Fault(41005, "media data missing")
    name, content_type, content = req.files["media"]
    if not content or len(content) > limit:
        raise Fault(40006, "invalid meida size")
    return name, content_type, content


@endpoint("POST", "/cgi-bin/material/add_material")
def material_add(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """A video needs the ``description`` form field: JSON with title and introduction."""
    kind = req.query.get("type", "")
    if kind not in _MATERIAL_LIMITS:
        raise Fault(40004, "invalid media type")
    name, content_type, content = _upload(req, _MATERIAL_LIMITS[kind])
    material: dict[str, Any] = {"type": kind, "name": name, "content_type": content_type, "content": content}
    if kind == "video":
        try:
            description = json.loads(req.files["description"][2])
            material.update(title=description["title"], description=description["introduction"])
        except (KeyError, ValueError, TypeError):
            raise Fault(40097, "invalid args: video needs description {title, introduction}") from None
    media_id = random_id(43)
    material["url"] = f"http://mmbiz.qpic.cn/mmbiz_jpg/{media_id}/0" if kind in ("image", "thumb") else ""
    material["update_time"] = int(time.time())
    st.materials[media_id] = material
    return {"media_id": media_id, "url": material["url"]} if kind == "image" else {"media_id": media_id}


@endpoint("POST", "/cgi-bin/material/get_material")
def material_get(st: FakeState, req: FakeRequest) -> dict[str, Any] | Response:
    media_id = str(req.body().get("media_id"))
    material = _material(st, media_id, (*_MATERIAL_LIMITS, "news"))
    if material["type"] == "news":
        return {"news_item": material["news_item"]}
    if material["type"] == "video":
        down_url = f"{req.base_url}/fake/material?media_id={media_id}"
        return {"title": material["title"], "description": material["description"], "down_url": down_url}
    headers = {"content-disposition": f'attachment; filename="{material["name"]}"'}
    return Response(material["content"], media_type=material["content_type"], headers=headers)


@endpoint("GET", "/fake/material", token=False)
def material_download(st: FakeState, req: FakeRequest) -> Response:
    """Stands in for the download URL WeChat hands out for video material."""
    material = st.materials.get(req.query.get("media_id", ""))
    if material is None:
        return Response(b"not found", status_code=404)
    return Response(material["content"], media_type="video/mp4")


@endpoint("POST", "/cgi-bin/material/del_material")
def material_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    media_id = str(req.body().get("media_id"))
    _material(st, media_id, (*_MATERIAL_LIMITS, "news"))
    del st.materials[media_id]
    return OK


@endpoint("GET", "/cgi-bin/material/get_materialcount")
def material_count(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """WeChat's answer has no thumb count: thumbs are counted (and listed) as images here."""
    kinds = [m["type"] if m["type"] != "thumb" else "image" for m in st.materials.values()]
    return {f"{kind}_count": kinds.count(kind) for kind in ("voice", "video", "image", "news")}


def _material_entry(media_id: str, material: dict[str, Any], no_content: bool) -> dict[str, Any]:
    if material["type"] == "news":
        return _news_entry("media_id")(media_id, material, no_content)
    fields = ("name", "update_time", "url")
    return {"media_id": media_id, **{key: material[key] for key in fields}}


@endpoint("POST", "/cgi-bin/material/batchget_material")
def material_batchget(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    kind = body.get("type")
    if kind not in _LIST_TYPES:
        raise Fault(40004, "invalid media type")
    kinds = ("image", "thumb") if kind == "image" else (kind,)
    chosen = {media_id: m for media_id, m in st.materials.items() if m["type"] in kinds}
    return _page({**body, "no_content": 0}, chosen, _material_entry)


@endpoint("POST", "/cgi-bin/media/uploadimg")
def upload_image(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    """Only jpg/png up to 1 MB; the URL is WeChat's image CDN, usable in article content."""
    name, _, _ = _upload(req, UPLOADIMG_MAX)
    suffix = PurePath(name).suffix.lower()
    if suffix not in (".jpg", ".jpeg", ".png"):
        raise Fault(40005, "invalid file type")
    return {**OK, "url": f"http://mmbiz.qpic.cn/mmbiz_{suffix[1:]}/{random_id(40)}/0"}
