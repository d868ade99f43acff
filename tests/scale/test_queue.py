"""Handlers on the job queue: the webhook answers at once, a worker runs the handler and sends its reply once,
even when the worker is killed mid-job; failing jobs are retried a bounded number of times."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from wxhook import Bot, ConfigError
from wxhook.observe import follower_tag
from wxhook.testing import BotClient, FakeWeChat

from ..redis_server import RedisServer, free_port
from .conftest import BOT, ROOT, TOKEN, Processes, bot_env, eventually, runs_of

INTERIM = "Working on it…"
SEND = "/cgi-bin/message/custom/send"


class Deployment:
    """One bot instance, a worker, the FakeWeChat they call and the file their runs are recorded in."""

    def __init__(self, processes: Processes, fake: FakeWeChat, env: dict[str, str], runs: Path, redis_url: str
                 ) -> None:
        self.processes = processes
        self.fake = fake
        self.env = env
        self.runs = runs
        self.redis_url = redis_url
        """The queue's Redis, as anyone who can write to it reaches it."""
        self.url = processes.bot("web", env)
        self.worker_name = "worker-1"
        processes.worker(self.worker_name, env)

    def restart_worker(self, *, kill: bool) -> None:
        if kill:
            self.processes.kill(self.worker_name)
        self.worker_name = f"worker-{int(self.worker_name.split('-')[1]) + 1}"
        self.processes.worker(self.worker_name, self.env)

    def sent(self, openid: str) -> list[Any]:
        return [call.json for call in self.fake.calls(SEND)
                if call.json["touser"] == openid]

    def worker_logs(self) -> str:
        return "".join(self.processes.log(f"worker-{n}") for n in range(1, int(self.worker_name[7:]) + 1))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One web instance and one worker on a private Redis, shared by this module's tests (each uses its own
    followers, so their messages, runs and replies are told apart)."""
    directory = tmp_path_factory.mktemp("queue")
    runs = directory / "runs.txt"
    runs.touch()
    server = RedisServer()
    server.start()
    processes = Processes(directory)
    try:
        with FakeWeChat() as fake:
            env = bot_env(fake.url, fake.appid, fake.secret, runs, WXHOOK_STORE=server.url(0),
                          WXHOOK_QUEUE=server.url(1) + "?redeliver_after=3&max_attempts=2",
                          TIMEOUT_REPLY=INTERIM, JOB_SECONDS="2")
            yield Deployment(processes, fake, env, runs, server.url(1))
    finally:
        processes.stop_all()
        server.stop()


def runs_for(deployment: Deployment, what: str, msg_id: object) -> list[str]:
    """The pids that ran ``what`` for one message."""
    return [pid for ran, pid in runs_of(deployment.runs, what) if ran == str(msg_id)]


def forge(redis_url: str, appid: str, task: str, args: list[Any], *, kwargs: dict[str, Any] | None = None,
          labels: dict[str, Any] | None = None) -> bytes:
    """Write a job straight into the bot's stream, as anyone who can write to its Redis can (taskiq's JSON);
    its entry id."""
    job = {"task_id": uuid.uuid4().hex, "task_name": task, "labels": labels or {}, "args": args,
           "kwargs": kwargs or {}}
    with redis.Redis.from_url(redis_url) as conn:
        entry: bytes = conn.xadd(f"wxhook:{appid}:jobs", {"data": json.dumps(job)})
    return entry


def pending(redis_url: str, appid: str) -> set[bytes]:
    """The entry ids of the jobs a worker took and has not acknowledged."""
    with redis.Redis.from_url(redis_url) as conn:
        entries = conn.xpending_range(f"wxhook:{appid}:jobs", "wxhook", min="-", max="+", count=1000)
    return {entry["message_id"] for entry in entries}


def _settle() -> None:
    """Long enough for a duplicate to show up if there were one: the worker polls its queue every second."""
    time.sleep(1.5)


async def test_queued_handler_answers_at_once_and_the_worker_replies_once(deployment: Deployment) -> None:
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        fields = wechat.message("text", "o_reporter", Content="report")
        reply = await wechat.post(fields)
        # The interim answer came back before the 2 s handler could have sent anything.
        assert reply.content == INTERIM and deployment.sent("o_reporter") == []
        retry = await wechat.post(fields)  # WeChat's retry of the same message: answered, not enqueued again
        assert retry.content == INTERIM
    user = f"user={follower_tag('o_reporter')}"

    def outcomes() -> list[str]:
        lines = [line for line in deployment.processes.log("web").splitlines() if "message type=text" in line]
        return [line.split("outcome=")[1].split()[0] for line in lines if user in line]

    eventually(lambda: len(outcomes()) == 2, 10, "the message log's two lines")
    assert outcomes() == ["passive", "coalesced"]  # the retry is counted as one, as for any other handler
    eventually(lambda: len(deployment.sent("o_reporter")) >= 1, 30, "the worker's reply at custom/send")
    _settle()
    assert deployment.sent("o_reporter") == [{"touser": "o_reporter", "msgtype": "text",
                                              "text": {"content": "report ready for o_reporter"}}]
    ran = runs_for(deployment, "report", fields["MsgId"])
    assert len(ran) == 1 and ran[0] != reply.headers["x-worker"], "run once, in the worker, not the web process"


async def test_a_worker_killed_mid_job_leaves_the_reply_to_the_next_one(deployment: Deployment) -> None:
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        fields = wechat.message("text", "o_killed", Content="report")
        assert (await wechat.post(fields)).content == INTERIM
    eventually(lambda: len(runs_for(deployment, "report", fields["MsgId"])) == 1, 30, "the job started")
    deployment.restart_worker(kill=True)  # SIGKILL in the middle of the 2 s handler
    eventually(lambda: len(deployment.sent("o_killed")) >= 1, 60, "the reply after the worker was killed")
    _settle()
    assert deployment.sent("o_killed") == [{"touser": "o_killed", "msgtype": "text",
                                            "text": {"content": "report ready for o_killed"}}]
    ran = runs_for(deployment, "report", fields["MsgId"])
    assert len(ran) == 2 and ran[0] != ran[1], "started by the killed worker, run again by the new one"


async def test_a_job_longer_than_redeliver_after_runs_once(deployment: Deployment) -> None:
    """A live worker keeps its job claimed: a 5 s handler under redeliver_after=3 is not run a second time."""
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        fields = wechat.message("text", "o_long", Content="long report")
        assert (await wechat.post(fields)).content == INTERIM
    eventually(lambda: len(deployment.sent("o_long")) >= 1, 30, "the long report")
    _settle()
    assert len(runs_for(deployment, "long", fields["MsgId"])) == 1
    assert [call["text"]["content"] for call in deployment.sent("o_long")] == ["long report ready"]


async def test_a_failing_job_is_retried_a_bounded_number_of_times(deployment: Deployment) -> None:
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        fields = wechat.message("text", "o_failing", Content="fail")
        assert (await wechat.post(fields)).content == INTERIM
    eventually(lambda: "giving up" in deployment.worker_logs(), 30, "the worker gave up")
    _settle()
    assert len(runs_for(deployment, "fail", fields["MsgId"])) == 2  # max_attempts=2
    log = deployment.worker_logs()
    failed = f"queued handler always_fails failed 2 time(s) on a text from user={follower_tag('o_failing')} "
    assert failed + f"(MsgId {fields['MsgId']})" in log and "o_failing" not in log  # the openid hashed, as everywhere
    assert "RuntimeError: the report service is down" in log
    assert deployment.sent("o_failing") == []


async def test_a_reply_wechat_refused_as_busy_is_sent_again_without_running_the_handler_again(
        deployment: Deployment) -> None:
    """errcode -1 proves WeChat did not take the send: the worker tries again itself, and the job is not run again."""
    deployment.fake.fail(SEND, -1, openid="o_busy")
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        fields = wechat.message("text", "o_busy", Content="report")
        assert (await wechat.post(fields)).content == INTERIM
    eventually(lambda: len(deployment.sent("o_busy")) >= 2, 30, "the send tried again")
    _settle()
    sends = [call for call in deployment.fake.calls(SEND) if call.json["touser"] == "o_busy"]
    assert [(call.failure or "").split(" rid:")[0] for call in sends] == ["-1 system error", ""]
    assert len(runs_for(deployment, "report", fields["MsgId"])) == 1


async def test_a_reply_that_may_have_reached_wechat_is_not_sent_again(deployment: Deployment) -> None:
    """An HTTP 500 may come after WeChat acted on the send: a repeat could show the follower the reply twice, so it
    is logged and left, and neither the send nor the handler is repeated (the job is done)."""
    deployment.fake.fail(SEND, status=500, openid="o_unsure")
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        fields = wechat.message("text", "o_unsure", Content="report")
        assert (await wechat.post(fields)).content == INTERIM
    line = f"queued text reply to user={follower_tag('o_unsure')} may have been delivered, not sent again"
    eventually(lambda: line in deployment.worker_logs(), 30, "the worker's line about the unsure send")
    time.sleep(3)  # longer than a rerun of the 2 s handler and its send, if the job were tried again
    assert [call.failure for call in deployment.fake.calls(SEND) if call.json["touser"] == "o_unsure"] == ["HTTP 500"]
    assert len(runs_for(deployment, "report", fields["MsgId"])) == 1
    assert pending(deployment.redis_url, deployment.fake.appid) == set(), "the job was acknowledged"


async def test_ctx_enqueue_runs_the_job_in_the_worker(deployment: Deployment) -> None:
    async with BotClient(deployment.url, token=TOKEN) as wechat:
        reply = await wechat.send_text("later", openid="o_later")
    assert reply.content == "queued"
    eventually(lambda: len(runs_of(deployment.runs, "job")) == 1, 30, "the enqueued job ran")
    (label, pid), = runs_of(deployment.runs, "job")
    assert label.startswith("later-") and pid != reply.headers["x-worker"], "run by the worker"


def test_a_forged_job_runs_no_code_the_bot_did_not_register(deployment: Deployment, tmp_path: Path) -> None:
    """Jobs naming os:system, or a function of the bot's own module that was never registered, in the format of
    the jobs wxhook writes and in the one it wrote before it had a registry: none runs; a registered job does."""
    pwned = tmp_path / "pwned"
    url, appid = deployment.redis_url, deployment.fake.appid
    forged = [
        forge(url, appid, "wxhook.call", ["os:system", [f"touch {pwned}"], {}]),
        forge(url, appid, "wxhook.call", ["tests.apps.scale_bot:record", ["forbidden", "old"], {}]),
        forge(url, appid, "wxhook.call", [{"job": "os:system", "args": [f"touch {pwned}"], "kwargs": {}}]),
        forge(url, appid, "wxhook.call", [{"job": "tests.apps.scale_bot:record", "args": ["forbidden", "new"],
                                           "kwargs": {}}]),
        forge(url, appid, "scale_bot.shared", ["taskiq"]),
        # A label taskiq itself raises on, before any task: the job must still be refused and acknowledged.
        forge(url, appid, "wxhook.call", [{"job": "os:system", "args": [f"touch {pwned}"], "kwargs": {}}],
              labels={"ack_type": "bogus", "timeout": "x"}),
    ]
    forge(url, appid, "wxhook.call", [{"job": "tests.apps.scale_bot:enqueued_job", "args": ["forged-ok"],
                                       "kwargs": {}}])
    eventually(lambda: "forged-ok" in [label for label, _ in runs_of(deployment.runs, "job")], 30,
               "the registered job ran")
    _settle()
    assert not pwned.exists(), "os:system ran"
    assert runs_of(deployment.runs, "forbidden") == [], "a function the bot did not register ran"
    assert pending(url, appid) & set(forged) == set(), "a refused job was left pending, to be redelivered"
    log = deployment.worker_logs()
    assert "refused a wxhook.call job: job 'os:system' is not registered" in log
    assert "a worker runs only the jobs its bot registered with @bot.job" in log


def test_a_forged_message_job_runs_only_a_queue_handler(deployment: Deployment) -> None:
    """A message job sent for a handler that runs in the web process (not queue=True) is refused, in either
    format; one for a queue=True handler runs (without a job key, that is what Redis access can do)."""
    url, appid = deployment.redis_url, deployment.fake.appid

    def text(content: str, msg_id: int) -> dict[str, Any]:
        return {"ToUserName": "gh_bot", "FromUserName": "o_forged", "CreateTime": "1700000000", "MsgType": "text",
                "Content": content, "MsgId": str(msg_id)}

    forge(url, appid, "wxhook.message", [text("hello", 91)])
    forge(url, appid, "wxhook.message", [{"message": text("hello", 92)}])
    forge(url, appid, "wxhook.message", [{"message": text("report", 93)}])
    eventually(lambda: len(deployment.sent("o_forged")) >= 1, 30, "the queue handler's reply")
    _settle()
    assert [msg_id for msg_id, _ in runs_of(deployment.runs, "echo") if msg_id in ("91", "92")] == []
    assert runs_for(deployment, "report", 93) != []
    assert "which is not marked queue=True" in deployment.worker_logs()


async def test_with_a_job_key_a_worker_runs_only_jobs_signed_with_it(private_redis: RedisServer,
                                                                     processes: Processes,
                                                                     tmp_path: Path) -> None:
    """Jobs enqueued by a bot with the worker's job key run; an unsigned job, one signed with another key and a
    signed job whose payload was changed in Redis are refused, message and call jobs alike."""
    from wxhook import parse_message

    runs = tmp_path / "runs.txt"
    runs.touch()
    url, key = private_redis.url(1), "the-job-key-of-this-test-0123456789"
    job = "tests.apps.scale_bot:enqueued_job"

    def report(msg_id: int) -> dict[str, Any]:
        return {"ToUserName": "gh_bot", "FromUserName": f"o_signed_{msg_id}", "CreateTime": "1700000000",
                "MsgType": "text", "Content": "report", "MsgId": str(msg_id)}

    with FakeWeChat() as fake:
        sender = Bot(TOKEN, fake.appid, queue=url, job_key=key)
        impostor = Bot(TOKEN, fake.appid, queue=url, job_key="another-key-0123456789")
        assert sender.queue is not None and impostor.queue is not None
        try:
            assert await sender.queue.enqueue_call(job, ("signed",), {})
            assert await sender.queue.enqueue_message(parse_message(report(1)), "report")
            assert await impostor.queue.enqueue_call(job, ("other key",), {})
            assert await impostor.queue.enqueue_message(parse_message(report(2)), "report")
        finally:
            await sender.queue.close()
            await impostor.queue.close()
        forge(url, fake.appid, "wxhook.call", [{"job": job, "args": ["unsigned"], "kwargs": {}}])
        forge(url, fake.appid, "wxhook.message", [{"message": report(3)}])
        with redis.Redis.from_url(url) as conn:  # the signed call job, its signature kept, its argument changed
            (_, fields), = conn.xrange(f"wxhook:{fake.appid}:jobs", count=1)
            tampered = json.loads(fields[b"data"])
            tampered["args"][0]["args"] = ["tampered"]
            conn.xadd(f"wxhook:{fake.appid}:jobs", {"data": json.dumps(tampered)})
        processes.worker("worker", bot_env(fake.url, fake.appid, fake.secret, runs, WXHOOK_QUEUE=url,
                                           WXHOOK_JOB_KEY=key, JOB_SECONDS="0"))
        eventually(lambda: len(runs_of(runs, "job")) >= 1 and len(runs_of(runs, "report")) >= 1, 30,
                   "the signed jobs ran")
        _settle()
        sent = [call.json["touser"] for call in fake.calls("/cgi-bin/message/custom/send")]
    assert [label for label, _ in runs_of(runs, "job")] == ["signed"]
    assert [msg_id for msg_id, _ in runs_of(runs, "report")] == ["1"] and sent == ["o_signed_1"]
    log = processes.log("worker")
    assert "signed with job_key only" in log
    assert log.count("its signature does not match this worker's job_key (WXHOOK_JOB_KEY)") == 3
    assert log.count("it is not signed, and this worker's job_key (WXHOOK_JOB_KEY) runs signed jobs only") == 2


async def test_a_queue_that_cannot_be_reached_runs_the_handler_in_process(processes: Processes,
                                                                        tmp_path: Path) -> None:
    """No worker and no Redis behind the queue URL: the message is still answered, by the web process."""
    runs = tmp_path / "runs.txt"
    runs.touch()
    with FakeWeChat() as fake:
        env = bot_env(fake.url, fake.appid, fake.secret, runs, WXHOOK_QUEUE="redis://127.0.0.1:9/0",
                      JOB_SECONDS="0.1")
        url = processes.bot("web", env)
        # Reached at start-up: the warning is there before the first queued message.
        assert processes.log("web").count("job queue redis://127.0.0.1:9/0 unavailable") == 1
        async with BotClient(url, token=TOKEN) as wechat:
            reply = await wechat.send_text("report", openid="o_local")
            again = await wechat.send_text("report", openid="o_local_2")
    assert (reply.content, again.content) == ("report ready for o_local", "report ready for o_local_2")
    assert {pid for _, pid in runs_of(runs, "report")} == {reply.headers["x-worker"]}
    assert processes.log("web").count("job queue redis://127.0.0.1:9/0 unavailable") == 1


def test_a_worker_without_its_queue_stops_with_one_line_naming_the_setting(private_redis: RedisServer,
                                                                           tmp_path: Path) -> None:
    """The queue is reached as the worker starts, as the store is checked: one line naming WXHOOK_QUEUE, exit 1;
    ``--check`` (a container's health check) says the same, and OK once the queue answers."""
    port = free_port()
    env = bot_env("http://127.0.0.1:9", "wx0000000000000000", "secret", tmp_path / "runs.txt",
                  WXHOOK_QUEUE=f"redis://127.0.0.1:{port}/1")
    for check in ((), ("--check",)):
        down = subprocess.run([sys.executable, "-m", "wxhook", "worker", f"{BOT}:bot", *check], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        assert (down.returncode, down.stdout) == (1, ""), down.stderr
        assert re.fullmatch(rf"wxhook: the job queue redis://127\.0\.0\.1:{port}/1 could not be reached "
                            r"\(ConnectionError: .*\); point queue= or WXHOOK_QUEUE at a running Redis\n",
                            down.stderr), down.stderr
    up = subprocess.run([sys.executable, "-m", "wxhook", "worker", f"{BOT}:bot", "--check"], cwd=ROOT,
                        env={**env, "WXHOOK_QUEUE": private_redis.url(1), "WXHOOK_STORE": private_redis.url(0)},
                        capture_output=True, text=True, timeout=60)
    assert up.returncode == 0, up.stderr
    assert up.stdout == (f"OK: {BOT}:bot can work: its job queue {private_redis.url(1)} answers and its store takes "
                         "writes\n")


def test_a_worker_stops_on_sigterm_without_warnings(processes: Processes, private_redis: RedisServer,
                                                   tmp_path: Path) -> None:
    """Stopped as soon as it listens, as a container often is: it exits 0 at once (redis-py can swallow the
    cancellation of a blocking read, which left one such worker in five polling forever), and quietly."""
    env = bot_env("http://127.0.0.1:9", "wx0000000000000000", "secret", tmp_path / "runs.txt",
                  WXHOOK_QUEUE=private_redis.url(1))
    for attempt in range(8):
        name = f"worker-{attempt}"
        worker = processes.worker(name, env)
        eventually(lambda: "running jobs from" in processes.log(name), 30, "the worker started")  # noqa: B023
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(15) == 0
        log = processes.log(name)
        assert log.rstrip().endswith("wxhook worker stopped"), log
        assert "WARNING" not in log and "cancelled" not in log, log  # taskiq's "listening task was cancelled" too


def test_queue_urls_are_checked_at_construction() -> None:
    with pytest.raises(ConfigError, match="WXHOOK_QUEUE") as info:
        Bot("t", queue="redis+sentinel://s1:26379/m")
    assert "never redeliver" in str(info.value)
    with pytest.raises(ConfigError, match="redeliver_after"):
        Bot("t", queue="redis://h/0?redeliver_after=-1")
    with pytest.raises(ConfigError, match=r"at least 16 random characters.*secrets\.token_urlsafe"):
        Bot("t", queue="redis://h/0", job_key="secret")
    bot = Bot("t", queue="redis://h/0?redeliver_after=20&max_attempts=5&socket_timeout=2")
    assert bot.queue is not None
    assert (bot.queue.redeliver_after, bot.queue.max_attempts, bot.queue.url) == (
        20.0, 5, "redis://h/0?socket_timeout=2")
    with pytest.raises(TypeError, match="queue= takes True"):
        bot.on_text("x", queue="yes")  # type: ignore[arg-type]


async def test_ctx_enqueue_takes_only_registered_jobs_with_json_arguments() -> None:
    """A function or name the bot did not register is refused when the handler enqueues it, naming the fix (a
    worker would refuse to run it); registered jobs are taken by function and by name."""
    from wxhook import Context, Message

    bot = Bot("jobs")
    outcomes: list[str] = []
    ran: list[str] = []

    @bot.job(name="reports.build")
    def build(label: str) -> None:
        ran.append(label)

    @bot.on_text
    def enqueue(msg: Message, ctx: Context) -> str:
        for job, argument in ((build, "by function"), ("reports.build", "by name"), (record_job, "unregistered"),
                              ("os:system", "id"), (build, object())):
            try:
                ctx.enqueue(job, argument)
                outcomes.append("queued")
            except TypeError as exc:
                outcomes.append(str(exc))
        return "done"

    async with BotClient(bot) as wechat:
        assert (await wechat.send_text("go")).content == "done"
    assert outcomes[:2] == ["queued", "queued"]
    assert outcomes[2] == ("ctx.enqueue: record_job is not a registered job; register it with @bot.job (or "
                           "@router.job on a router the bot includes): a worker runs only the jobs its bot registered")
    assert outcomes[3].startswith("ctx.enqueue: no job is registered as 'os:system'; register it with @bot.job")
    assert outcomes[4].startswith("ctx.enqueue(reports.build): arguments must be JSON-serialisable")
    # no queue: run here, after the reply (in the thread pool: in any order)
    assert sorted(ran) == ["by function", "by name"]


async def test_without_a_queue_queued_handlers_and_jobs_run_in_process() -> None:
    """``queue=True`` and ``ctx.enqueue`` need nothing extra: with no queue configured they run here."""
    from wxhook import Context, Message
    from wxhook.testing import serve

    bot = Bot("inproc")
    jobs: list[str] = []
    bot.job(record_job)

    @bot.on_event("subscribe", queue=True)
    async def welcome(msg: Message, ctx: Context) -> str:
        ctx.enqueue(record_job, "welcome job")
        jobs.append("welcome")
        return "welcome"

    assert bot.queue is None
    with serve(bot) as url:
        async with BotClient(url, token="inproc") as wechat:
            assert (await wechat.send_event("subscribe")).content == "welcome"
    assert jobs == ["welcome"] and RECORDED == ["welcome job"]


RECORDED: list[str] = []


def record_job(label: str) -> None:
    RECORDED.append(label)
