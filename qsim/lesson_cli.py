"""``qsim run LESSON`` for a program lesson: the lesson's program, traced headless.

The report is ``qsim trace``'s (actors, queues, accounting, each process's
line, the program's output), with the lesson's id and the arguments the
program ran with. ``--start-method`` is passed to the program (every lesson
program takes it), ``--speed`` scales its ``time.sleep`` calls, and the
program's own arguments follow ``--``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from qsim.model.program_lesson import ProgramLesson


def lesson_argv(
    lesson: ProgramLesson, start_method: str | None, extra: list[str] | None = None
) -> list[str]:
    """The knobs' defaults, the start method (``auto``: the program's own), then ``extra``
    (the program's parser takes the last of a repeated option, so ``extra`` wins)."""
    method = None if start_method in (None, "auto") else start_method
    return [*lesson.argv(start_method=method), *(extra or [])]


def run_program_lesson(args: argparse.Namespace) -> int:
    from qsim.engine.trace_check import TraceError
    from qsim.engine.trace_headless import trace_headless
    from qsim.model.scenario_io import ScenarioError
    from qsim.resources import load_program
    from qsim.trace_cli import _print_summary

    try:
        lesson = load_program(args.scenario)
    except ScenarioError as e:
        print(e, file=sys.stderr)
        return 2
    if args.seed is not None:
        print(
            f"{lesson.id} is a program lesson: --seed applies to scenarios only"
            " (pass the program's own --seed after --)",
            file=sys.stderr,
        )
        return 2
    argv = lesson_argv(lesson, args.start_method, args.program_args)
    try:
        report, _, _ = trace_headless(
            str(lesson.program),
            argv,
            duration=args.duration if args.duration is not None else lesson.duration,
            hang_after=lesson.hang_after,
            speed=args.speed if args.speed is not None else 1.0,
            internals=lesson.internals,
            record=args.record,
        )
    except TraceError as e:
        print(f"qsim run: {e}", file=sys.stderr)
        return 2
    report = lesson_report(lesson, report)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_summary(report)
    return 0


def lesson_report(lesson: ProgramLesson, report: dict[str, Any]) -> dict[str, Any]:
    """The traced report, headed by the lesson it ran."""
    return {"lesson": lesson.id, "scenario": lesson.id, "kind": "program", **report}
