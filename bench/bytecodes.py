"""What the interpreter runs for one plaintext push, in wxhook and in the guarded floor: Python calls (coroutine
resumptions included) and bytecodes, by module and by function. The line-by-line side of docs/performance.md,
"Against the guarded floor".

    python bench/bytecodes.py                  # by module, both apps
    python bench/bytecodes.py --functions 40   # and the 40 busiest functions of each

Counted with ``sys.settrace`` (opcode events) over ``--pushes`` distinct pushes after 300 of warm-up, through the
same in-process driver and simulated clocks as bench/instructions.py: deterministic, needs nothing installed, runs
in seconds. A bytecode
is not a unit of cost (a specialised dictionary read is a few machine instructions, a call or an f-string
hundreds), so read it beside the instruction counts: it says where the Python work is, they say what it costs.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

from pushes import APPID, TOKEN, Signer, SimulatedTime, call

_WARM = 300
_HERE = Path(__file__).resolve().parent
_ROOT = _HERE.parent
Where = tuple[str, str]
"""(module, function)."""


def _module(filename: str) -> str:
    if filename == "<string>":
        return "wxhook/messages.py, compiled builders"  # the only code the pushes' path makes with exec
    path = Path(filename)
    if path.is_relative_to(_ROOT):
        return str(path.relative_to(_ROOT))
    if "asyncio" in path.parts or path.name == "selectors.py":
        return "asyncio (the event loop)"
    return f"{path.parent.name}/{path.name}"


class _Tally:
    def __init__(self) -> None:
        self.bytecodes: Counter[Where] = Counter()
        self.calls: Counter[Where] = Counter()

    def trace(self, frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        where = (_module(frame.f_code.co_filename), frame.f_code.co_name)
        if event == "opcode":
            self.bytecodes[where] += 1
        elif event == "call":
            self.calls[where] += 1
        return self.trace


async def _count(name: str, pushes: int) -> _Tally:
    os.environ.update(WXHOOK_TOKEN=TOKEN, WXHOOK_APPID=APPID)
    sys.path.insert(0, str(_HERE / "peers"))
    import guarded_asgi
    import wxhook_echo

    app: Any = wxhook_echo.bot if name == "wxhook" else guarded_asgi.app
    signed = list(Signer(sealed=False).texts(_WARM + pushes, first=0 if name == "wxhook" else 10 * (_WARM + pushes)))
    if name == "wxhook":
        await app.startup()
        logging.getLogger("wxhook").setLevel(logging.WARNING)  # as the comparison serves it
    for push in signed[:_WARM]:
        await call(app, push)
    tally = _Tally()
    sys.settrace(tally.trace)
    try:
        for push in signed[_WARM:]:
            status, _ = await call(app, push)
            if status != 200:
                raise SystemExit(f"{name} answered {status}")
    finally:
        sys.settrace(None)
    if name == "wxhook":
        await app.shutdown()
    return tally


def _table(title: str, rows: list[tuple[str, float, float, float, float]]) -> None:
    print(f"\n| {title} | wxhook calls | wxhook bytecodes | floor calls | floor bytecodes |\n|---|---:|---:|---:|---:|")
    for label, calls, codes, floor_calls, floor_codes in rows:
        print(f"| {label} | {calls:.1f} | {codes:,.0f} | {floor_calls:.1f} | {floor_codes:,.0f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pushes", type=int, default=500, help="pushes counted (default 500)")
    parser.add_argument("--functions", type=int, default=0, help="also list this many busiest functions")
    options = parser.parse_args()
    n = options.pushes
    # Simulated clocks: the tracer's slowness must not read as overload to the admission gate.
    ours, floor = (SimulatedTime().run(_count(name, n)) for name in ("wxhook", "guarded"))

    def by_module(tally: _Tally) -> tuple[Counter[str], Counter[str]]:
        codes: Counter[str] = Counter()
        calls: Counter[str] = Counter()
        for (module, _), count in tally.bytecodes.items():
            codes[module] += count
        for (module, _), count in tally.calls.items():
            calls[module] += count
        return codes, calls

    (codes, calls), (floor_codes, floor_calls) = by_module(ours), by_module(floor)
    modules = sorted(set(codes) | set(floor_codes), key=lambda m: -(codes[m] + floor_codes[m]))
    rows = [(m, calls[m] / n, codes[m] / n, floor_calls[m] / n, floor_codes[m] / n) for m in modules]
    rows.append(("**per push**", sum(calls.values()) / n, sum(codes.values()) / n, sum(floor_calls.values()) / n,
                 sum(floor_codes.values()) / n))
    _table("module", rows)
    if options.functions:
        for label, tally in (("wxhook", ours), ("guarded floor", floor)):
            print(f"\n{label}, busiest functions:\n\n| function | calls | bytecodes |\n|---|---:|---:|")
            for (module, function), count in tally.bytecodes.most_common(options.functions):
                print(f"| {module}: {function} | {tally.calls[(module, function)] / n:.1f} | {count / n:,.0f} |")


if __name__ == "__main__":
    main()
