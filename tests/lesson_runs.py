"""Run a program lesson traced, as the window and ``qsim run`` do, and read what
the program itself printed (``NAME put REPR`` / ``NAME got REPR`` lines)."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from tracing import Traced

from qsim.engine.trace_headless import trace_headless
from qsim.model.events import Event
from qsim.model.program_lesson import KnobValue, ProgramLesson
from qsim.resources import load_program


def fast(lesson: ProgramLesson) -> dict[str, KnobValue]:
    """Every time a lesson program sleeps, at its knob's minimum: fast under test
    (a put() timeout is not a sleep: it keeps its value)."""
    return {
        k.name: k.min for k in lesson.knobs if k.name.endswith("(s)") and "timeout" not in k.name
    }


def run_lesson(lesson_id: str, method: str, **knobs: KnobValue) -> tuple[Traced, ProgramLesson]:
    """Trace the lesson's program with its knobs' defaults, fast, under ``method``;
    ``knobs`` by name (``Items=3``: the name's letters and digits, any case).

    A hang counts after the lesson's own ``hang_after`` (2-3 s): a shorter one
    would take a main process that waits in ``join()`` while its spawned
    children are still starting (not yet reporting) for a hang.
    """
    lesson = load_program(lesson_id)
    values = fast(lesson)
    by_key = {_key(k.name): k.name for k in lesson.knobs}
    for key, value in knobs.items():
        values[by_key[_key(key)]] = value
    events: list[Event] = []
    report, reducer, run = trace_headless(
        str(lesson.program),
        lesson.argv(values, start_method=method),
        duration=60,
        hang_after=lesson.hang_after,
        speed=10,
        keep=events,
    )
    return Traced(report, reducer, events, {}, run.alive()), lesson


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def printed(report: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    """``{("producer", "put"): ["'item 1'", ...], ...}`` from the program's stdout.

    ``print()`` writes its text and its newline separately when Python runs
    unbuffered (``PYTHONUNBUFFERED``), so two processes' lines may run into one
    (``producer put 'item 3'consumer got 'item 3'``): each line is cut where a
    process's name and ``put``/``got`` begin.
    """
    names = "|".join(re.escape(n) for n in sorted(report["actors"], key=len, reverse=True))
    start = re.compile(rf"({names}) (put|got) ")
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in report["stdout"].splitlines():
        hits = list(start.finditer(line))
        if not hits or hits[0].start() != 0:
            continue
        for m, nxt in zip(hits, [*hits[1:], None], strict=True):
            text = line[m.end() : nxt.start() if nxt else len(line)]
            out[(m.group(1), m.group(2))].append(text)
    return out


def marked(lesson: ProgramLesson, text: str) -> int:
    """The line number of the program's only line containing ``text``."""
    hits = [n for n, line in enumerate(lesson.code.splitlines(), 1) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]
