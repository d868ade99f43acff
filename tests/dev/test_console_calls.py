"""The console's API panel over a real uvicorn: every call the bot makes to the fake API, with its request and
answer (credentials masked), listed and streamed live; faults armed from the page (``/api/fail``) answer the bot's
next calls with WeChat's errcodes, and a late reply they refuse streams as failed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from wxhook import Account
from wxhook.dev import create_console
from wxhook.testing import serve

from .console_bot import APPID, SAFE, accounts_bot, naming_bot
from .test_console import read_events

CUSTOM_SEND = "/cgi-bin/message/custom/send"


@pytest.fixture
def console() -> Iterator[str]:
    with serve(create_console(naming_bot())) as url:
        yield url


def say(url: str, text: str, openid: str = "o_alice") -> dict[str, Any]:
    answer = httpx.post(url + "api/send", json={"openid": openid, "mode": "safe", "kind": "text", "text": text},
                        timeout=10)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def fail(url: str, **fault: Any) -> httpx.Response:
    return httpx.post(url + "api/fail", json={"path": CUSTOM_SEND, "errcode": 45015, **fault}, timeout=10)


def test_the_calls_of_a_late_reply_with_requests_and_answers(console: str) -> None:
    with httpx.stream("GET", console + "api/events", timeout=10) as events:
        lines = events.iter_lines()
        assert say(console, "late")["reply"]["empty"]
        read_events(lines, 1, ("deferred",))
    calls = httpx.get(console + "api/calls").json()["calls"]
    paths = [call["path"] for call in calls]
    assert paths[0] == "/cgi-bin/stable_token" and paths[-1] == CUSTOM_SEND
    assert "/cgi-bin/message/custom/typing" in paths
    assert [call["seq"] for call in calls] == list(range(1, len(calls) + 1))
    token, sent = calls[0], calls[-1]
    assert token["request"]["secret"] == "***" and token["response"]["access_token"] == "***"
    assert token["response"]["expires_in"] == 7200 and token["account"] == APPID
    assert sent == {"seq": len(calls), "account": APPID, "method": "POST", "path": CUSTOM_SEND,
                    "query": {"access_token": "***"}, "status": 200, "errcode": 0, "failure": None,
                    "request": {"touser": "o_alice", "msgtype": "text", "text": {"content": "sorry I'm late"}},
                    "response": {"errcode": 0, "errmsg": "ok"}}


def test_an_armed_45015_fails_the_late_reply_once(console: str) -> None:
    armed = fail(console)
    assert armed.status_code == 200, armed.text
    assert armed.json() == {"armed": {"path": CUSTOM_SEND, "errcode": 45015, "times": 1, "openid": None,
                                      "account": APPID}}
    with httpx.stream("GET", console + "api/events", timeout=10) as events:
        lines = events.iter_lines()
        say(console, "late")
        calls = []
        while (event := read_events(lines, 1, ("deferred", "call"))[0])["type"] == "call":
            calls.append(event)
        call, deferred = calls[-1], event
        assert call["call"]["path"] == CUSTOM_SEND, "the deferred event follows its call"
        assert call["call"]["errcode"] == 45015 and call["call"]["response"]["errcode"] == 45015
        assert deferred["type"] == "deferred" and deferred["bubble"]["content"] == "sorry I'm late"
        assert deferred["failure"].startswith("45015 response out of time limit or subscription is canceled rid: ")
        assert call["call"]["failure"] == deferred["failure"]
        say(console, "late")
        (again,) = read_events(lines, 1, ("deferred",))
        assert again["failure"] is None, "times=1: the next one goes through"


def test_a_fault_for_one_follower_leaves_the_others_alone(console: str) -> None:
    assert fail(console, openid="o_bob", errcode=45047, times=2).status_code == 200
    with httpx.stream("GET", console + "api/events", timeout=10) as events:
        lines = events.iter_lines()
        say(console, "late", openid="o_alice")
        (alice,) = read_events(lines, 1, ("deferred",))
        say(console, "late", openid="o_bob")
        (bob,) = read_events(lines, 1, ("deferred",))
    assert (alice["openid"], alice["failure"]) == ("o_alice", None)
    assert bob["openid"] == "o_bob" and bob["failure"].startswith("45047 out of response count limit")


@pytest.mark.parametrize(("fault", "error"), [
    ({"path": "/cgi-bin/nothing"}, "'path' is an endpoint of the fake API"),
    ({"path": None}, "'path' is an endpoint"),
    ({"errcode": 0}, "'errcode' is the error to answer with"),
    ({"errcode": "45015"}, "'errcode' is the error"),
    ({"errcode": True}, "'errcode' is the error"),
    ({"errcode": -2}, "'errcode' is the error"),
    ({"times": 0}, "'times' is how many calls fail, 1 to 100"),
    ({"times": 101}, "'times' is how many"),
    ({"openid": ""}, "'openid' limits the fault to calls about one follower"),
    ({"openid": 7}, "'openid' limits"),
    ({"account": "wx0000000000000000"}, "no account 'wx0000000000000000' to fail calls for"),
])
def test_bad_faults_are_refused_with_the_fix(console: str, fault: dict[str, Any], error: str) -> None:
    answer = fail(console, **fault)
    assert answer.status_code == 400 and error in answer.json()["error"]


def test_arming_takes_only_json(console: str) -> None:
    body = json.dumps({"path": CUSTOM_SEND, "errcode": 45015})
    answer = httpx.post(console + "api/fail", content=body, headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    assert say(console, "late")["reply"]["empty"]


def test_a_fault_is_armed_for_the_account_picked() -> None:
    other = Account("wx3333333333333333", token="token-of-other", secret="secret-of-other", name="Other shop")
    with serve(create_console(accounts_bot([SAFE, other]))) as url:
        assert fail(url).status_code == 400, "two accounts: 'account' says which"
        assert fail(url, account=other.appid, times=2).json()["armed"]["account"] == other.appid
        with httpx.stream("GET", url + "api/events", timeout=10) as events:
            lines = events.iter_lines()
            for account, mode in ((SAFE.appid, "safe"), (other.appid, "plain")):
                sent = httpx.post(url + "api/send", timeout=10, json={"account": account, "openid": "o_a",
                                                                      "mode": mode, "kind": "text", "text": "slow"})
                assert sent.status_code == 200, sent.text
            safe, failed = sorted(read_events(lines, 2, ("deferred",)), key=lambda event: event["account"])
    assert (safe["account"], safe["failure"]) == (SAFE.appid, None)
    assert failed["account"] == other.appid and failed["failure"].startswith("45015 ")
