"""Helpers for the tests of ``qsim trace``: run a program of tests/programs traced."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qsim.engine.trace_headless import trace_headless
from qsim.model.events import Event, EventKind
from qsim.model.state import Reducer

PROGRAMS = Path(__file__).resolve().parent / "programs"


@dataclass
class Traced:
    report: dict[str, Any]
    reducer: Reducer
    events: list[Event]
    printed: dict[str, Any]  # the program's own account (its last stdout line, JSON)
    left: list[int]  # processes of the program still alive after the run

    def actor(self, name: str) -> dict[str, Any]:
        return dict(self.report["actors"][name])

    def gets(self, queue: str, actor: str | None = None) -> list[str]:
        """Reprs of what was got from ``queue`` (by ``actor``), in time order."""
        r = self.reducer
        qi = r.topology.queue_index(queue)
        names = r.topology.names
        got = [
            e
            for e in sorted(self.events, key=lambda e: (e[0], e[1]))
            if e[3] == EventKind.GET_DONE
            and e[5] == qi
            and (actor is None or names[e[2]] == actor)
        ]
        return [r.item_repr[e[4]] for e in got]

    def puts(self, queue: str, actor: str | None = None) -> list[str]:
        r = self.reducer
        qi = r.topology.queue_index(queue)
        names = r.topology.names
        return [
            str(e[6])
            for e in sorted(self.events, key=lambda e: (e[0], e[1]))
            if e[3] == EventKind.PUT_DONE
            and e[5] == qi
            and (actor is None or names[e[2]] == actor)
        ]


def trace(program: str, method: str, *args: str, hang_after: float = 3.0) -> Traced:
    events: list[Event] = []
    report, reducer, run = trace_headless(
        str(PROGRAMS / program), [method, *args], duration=60, hang_after=hang_after, keep=events
    )
    lines = report["stdout"].strip().splitlines()
    printed = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    return Traced(report, reducer, events, printed, run.alive())


def marked_line(program: str, mark: str) -> int:
    """The line of ``program`` whose comment says ``# <- mark``."""
    for n, line in enumerate((PROGRAMS / program).read_text().splitlines(), 1):
        if line.rstrip().endswith(f"# <- {mark}"):
            return n
    raise LookupError(mark)


def closes(t: Traced) -> None:
    """What every traced run must show: nothing lost, every event received."""
    rep = t.report
    assert rep["invariant_violations"] == 0, rep["violation_notes"]
    assert rep["accounting"]["closes"], rep["accounting"]
    assert rep["events_emitted"] == rep["events_received"] > 0
    assert t.left == [], f"processes of the program left: {t.left}"
