"""Per-message cost of turning a request body into a typed message and its store keys, step by step.

    python bench/bench_parse.py              # µs of CPU per call, best of 25 runs

Times ``parse_xml``, ``parse_message``, ``dedupe_key`` and ``BotKeys.message`` alone and chained, on a text
message and a CLICK event laid out as WeChat sends them. Compare before and after a change on the same machine.
"""

from __future__ import annotations

import time
import timeit
from collections.abc import Callable
from functools import partial

from wxhook.messages import dedupe_key, parse_message
from wxhook.stores.keys import BotKeys
from wxhook.xml import parse_xml

TEXT = (
    b"<xml>\n<ToUserName><![CDATA[gh_bench]]></ToUserName>\n<FromUserName><![CDATA[o_bench_follower_0001]]>"
    b"</FromUserName>\n<CreateTime>1700000000</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n"
    b"<Content><![CDATA[bench message 1]]></Content>\n<MsgId>7000000000000000001</MsgId>\n</xml>"
)
CLICK = (
    b"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[o_bench_follower_0001]]>"
    b"</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType>"
    b"<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MENU_KEY_1]]></EventKey></xml>"
)
KEYS = BotKeys("wx2c2769f8efd9abc2")


def best(func: Callable[[], object], number: int = 5_000, repeat: int = 25) -> float:
    """Microseconds of CPU per call, the fastest of ``repeat`` runs: CPU time, as a busy neighbour on a shared
    machine takes the core away between instructions, and the fastest run, as it only ever slows one down."""
    return min(timeit.repeat(func, number=number, repeat=repeat, timer=time.process_time)) / number * 1e6


def chain(body: bytes) -> str:
    return KEYS.message(dedupe_key(parse_message(parse_xml(body)))).state


def main() -> None:
    for name, body in (("text", TEXT), ("CLICK", CLICK)):
        raw = parse_xml(body)
        msg = parse_message(raw)
        timings = {
            "parse_xml": best(partial(parse_xml, body)),
            "parse_message": best(partial(parse_message, raw)),
            "dedupe_key": best(partial(dedupe_key, msg)),
            "BotKeys.message": best(partial(KEYS.message, dedupe_key(msg))),
            "chain": best(partial(chain, body)),
        }
        print(f"{name:>5}: " + ", ".join(f"{step} {us:.2f}" for step, us in timings.items()) + " (µs)")


if __name__ == "__main__":
    main()
