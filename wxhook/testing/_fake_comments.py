"""Fake comments (留言) on published articles, keyed by ``msg_data_id`` and ``index``."""

from __future__ import annotations

import time
from typing import Any

from ._fake_state import FakeRequest, FakeState, Fault, endpoint

OK = {"errcode": 0, "errmsg": "ok"}
MAX_COUNT = 50
MAX_REPLY = 600


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise Fault(47001, "data format error")
    return value


def _article(st: FakeState, body: dict[str, Any]) -> dict[str, Any]:
    key = (_int(body.get("msg_data_id")), _int(body.get("index", 0)))
    article = st.articles.get(key)
    if article is None:
        raise Fault(88001, "msg_data is not exists")
    return article


def _comment(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    article = _article(st, body)
    wanted = _int(body.get("user_comment_id"))
    found: list[dict[str, Any]] = [c for c in article["comments"] if c["user_comment_id"] == wanted]
    if not found:
        raise Fault(88008, "comment is not exists")
    return found[0]


def _switch(st: FakeState, req: FakeRequest, on: bool) -> dict[str, Any]:
    _article(st, req.body())["open"] = on
    return OK


@endpoint("POST", "/cgi-bin/comment/open")
def comment_open(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _switch(st, req, True)


@endpoint("POST", "/cgi-bin/comment/close")
def comment_close(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _switch(st, req, False)


@endpoint("POST", "/cgi-bin/comment/list")
def comment_list(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    body = req.body()
    article = _article(st, body)
    begin, count, kind = (_int(body.get(key)) for key in ("begin", "count", "type"))
    if not 1 <= count <= MAX_COUNT:
        raise Fault(88010, "count range error. cout <= 0 or count > 50")
    if begin < 0 or kind not in (0, 1, 2):
        raise Fault(40097, "invalid args")
    chosen = [c for c in article["comments"] if kind == 0 or c["comment_type"] == kind - 1]
    return {**OK, "total": len(chosen), "comment": chosen[begin : begin + count]}


def _elect(st: FakeState, req: FakeRequest, elected: bool) -> dict[str, Any]:
    _comment(st, req)["comment_type"] = int(elected)
    return OK


@endpoint("POST", "/cgi-bin/comment/markelect")
def comment_mark_elect(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _elect(st, req, True)


@endpoint("POST", "/cgi-bin/comment/unmarkelect")
def comment_unmark_elect(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    return _elect(st, req, False)


@endpoint("POST", "/cgi-bin/comment/delete")
def comment_delete(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    comment = _comment(st, req)
    _article(st, req.body())["comments"].remove(comment)
    return OK


@endpoint("POST", "/cgi-bin/comment/reply/add")
def comment_reply(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    comment = _comment(st, req)
    content = req.body().get("content")
    if not isinstance(content, str) or not 1 <= len(content) <= MAX_REPLY:
        raise Fault(88007, "reply content beyond max len or content len is zero")
    if "reply" in comment:
        raise Fault(88005, "already reply")
    comment["reply"] = {"content": content, "create_time": int(time.time())}
    return OK


@endpoint("POST", "/cgi-bin/comment/reply/delete")
def comment_delete_reply(st: FakeState, req: FakeRequest) -> dict[str, Any]:
    comment = _comment(st, req)
    if comment.pop("reply", None) is None:
        raise Fault(88008, "comment reply is not exists")
    return OK


def add_comment(st: FakeState, msg_data_id: int, index: int, openid: str, content: str) -> int:
    """A follower's comment on a published article (which the fake then knows, comments open)."""
    article = st.articles.setdefault((msg_data_id, index), {"open": True, "comments": []})
    if not article["open"]:
        raise ValueError(f"comments on article {msg_data_id}/{index} are closed; open them (comment.open) first")
    comment_id, st.next_comment_id = st.next_comment_id, st.next_comment_id + 1
    article["comments"].append(
        {
            "user_comment_id": comment_id,
            "openid": openid,
            "create_time": int(time.time()),
            "content": content,
            "comment_type": 0,
        }
    )
    return comment_id
