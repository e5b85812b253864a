"""``qsim trace PROGRAM [ARGS...] [--headless] [--json] ...``.

Without ``--headless`` the program opens in the window, playing (its code in
the Code dock); with it, a report is printed.

qsim's own options may come before or after the program's arguments (as in
``qsim trace prog.py --headless --json``); everything after ``--`` goes to
the program untouched.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="qsim trace",
        description="Run an unmodified Python program and watch its real processes and queues.",
    )
    p.add_argument("program", help="a Python program (.py)")
    p.add_argument("--headless", action="store_true", help="no window: print a report")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--duration", type=float, help="stop the program after this many seconds")
    p.add_argument(
        "--hang-after", type=float, default=3.0, help="seconds of no progress that count as hung"
    )
    p.add_argument("--speed", type=float, default=1.0, help="time scale 0.1-10 of its sleeps")
    p.add_argument(
        "--internals",
        action="store_true",
        help="follow each Queue's items through the putting process's feeder buffer and the pipe",
    )
    p.add_argument(
        "--record", metavar="FILE", help="with --headless: also write the run's recording (.qrec)"
    )
    p.add_argument("--quit-after", type=float, help=argparse.SUPPRESS)  # smoke tests
    return p


_FLAGS = ("--headless", "--json", "--internals", "-h", "--help")
_VALUED = ("--duration", "--hang-after", "--speed", "--quit-after", "--record")


def split_args(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """(qsim's arguments with the program, the program's own arguments)."""
    ours: list[str] = []
    theirs: list[str] = []
    have_program = False
    it = iter(argv)
    for a in it:
        if a == "--":
            theirs.extend(it)
            break
        if a in _FLAGS or a.split("=", 1)[0] in _VALUED:
            ours.append(a)
            if a in _VALUED:
                ours.append(next(it, ""))
        elif not have_program:
            ours.append(a)
            have_program = True
        else:
            theirs.append(a)
    return ours, theirs


def trace_main(argv: Sequence[str]) -> int:
    from qsim.engine.trace_check import TraceError
    from qsim.engine.trace_headless import trace_headless

    ours, theirs = split_args(argv)
    args = _parser().parse_args(ours)
    if not 0.1 <= args.speed <= 10:
        print(f"--speed must be between 0.1 and 10, got {args.speed:g}", file=sys.stderr)
        return 2
    if not args.headless:
        if args.record:
            print(
                "qsim trace: --record needs --headless (File > Save recording in the window)",
                file=sys.stderr,
            )
            return 2
        return _window(args, theirs)
    try:
        report, _, _ = trace_headless(
            args.program,
            theirs,
            duration=args.duration,
            hang_after=args.hang_after,
            speed=args.speed,
            internals=args.internals,
            record=args.record,
        )
    except TraceError as e:
        print(f"qsim trace: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the recording could not be written
        print(f"{args.record}: cannot write the recording: {e.strerror or e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0


def _window(args: argparse.Namespace, theirs: list[str]) -> int:
    """The program in the window, playing (a program that cannot be traced is
    refused here, in one line, before any window opens)."""
    import os

    from qsim.engine.trace_check import TraceError, check_program

    path = os.path.abspath(args.program)
    try:
        check_program(path)
    except TraceError as e:
        print(f"qsim trace: {e}", file=sys.stderr)
        return 2
    from qsim.ui.app import run_gui

    return run_gui(
        program=(path, theirs),
        speed=args.speed,
        quit_after=args.quit_after,
        internals=args.internals,
    )


def _print_summary(report: dict[str, Any]) -> None:
    ac = report["accounting"]
    print(
        f"{report['program']}: {report['duration_s']} s, exit code {report['exit_codes']['main']}"
    )
    print(f"  put {ac['produced']}, got {ac['consumed']}, left in queues {ac['in_queue']}")
    for name, q in report["queues"].items():
        tag = " (internal)" if q.get("internal") else ""
        print(f"  queue {name:16} {q['kind']:14} puts {q['puts']:7} gets {q['gets']:7}{tag}")
    for name, a in report["actors"].items():
        line = a.get("line") or ""
        print(f"  {name:16} {a['state']:18} puts {a.get('puts', 0):7} gets {a['items']:7}  {line}")
    for m in report["messages"]:
        print(f"  {m}")
