"""``SharedTimeout``: the bound on every call to a shared store, one timer per event loop for all of them."""

import asyncio
import sys

import pytest

from wxhook.timeouts import SharedTimeout

pytestmark = pytest.mark.skipif(sys.version_info < (3, 11), reason="3.10 takes asyncio.wait_for's path")


async def later(value: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    return value


async def at_once(value: str) -> str:
    return value


def cancellations() -> int:
    task = asyncio.current_task()
    assert task is not None
    return task.cancelling()


async def test_calls_that_finish_in_time_return_their_values() -> None:
    bound = SharedTimeout(0.5)
    assert await bound.run(at_once("now")) == "now"
    assert await asyncio.gather(*(bound.run(later(str(i), 0.01 * i)) for i in range(5))) == list("01234")
    assert cancellations() == 0


async def test_a_call_past_its_deadline_raises_timeout_error_and_leaves_its_task_uncancelled() -> None:
    bound = SharedTimeout(0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TimeoutError, match=r"within 0\.05s"):
        await bound.run(later("never", 10))
    assert 0.04 <= loop.time() - started < 1
    assert cancellations() == 0
    assert await bound.run(later("next", 0.01)) == "next", "the timer goes on serving later calls"


async def test_each_call_gets_its_own_deadline_from_when_it_started() -> None:
    """The first call's deadline passing must not cut off a later one that is still inside its own."""
    bound = SharedTimeout(0.2)
    first = asyncio.create_task(bound.run(later("first", 0.5)))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bound.run(later("second", 0.15)))  # ends at 0.25 s: past the first's deadline
    with pytest.raises(TimeoutError):
        await first
    assert await second == "second"


async def test_a_slow_call_times_out_alone_among_quick_ones() -> None:
    bound = SharedTimeout(0.1)
    results = await asyncio.gather(bound.run(later("slow", 5)), *(bound.run(later("quick", 0.01)) for _ in range(20)),
                                   return_exceptions=True)
    assert isinstance(results[0], TimeoutError)
    assert results[1:] == ["quick"] * 20


async def test_a_cancellation_from_outside_stays_a_cancellation() -> None:
    bound = SharedTimeout(10)
    call = asyncio.create_task(bound.run(later("never", 10)))
    await asyncio.sleep(0.01)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call


async def test_a_call_that_absorbs_the_cancellation_returns_what_it_returns() -> None:
    async def stubborn() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "cleaned up"
        return "slept"

    assert await SharedTimeout(0.05).run(stubborn()) == "cleaned up"
    assert cancellations() == 0, "the deadline's cancellation is taken back"


async def test_an_awaitable_that_is_not_a_coroutine_is_bounded_too() -> None:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    with pytest.raises(TimeoutError):
        await SharedTimeout(0.05).run(future)
