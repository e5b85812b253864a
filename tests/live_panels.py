"""Shared set-up for the panel tests on real runs (``test_panels_live_*``).

A ``Recorder`` is connected to ``session.frame`` after the panels, so at each
frame it sees the same reducer state the panels just drew; on frames where a
panel redrew (``panel.shown_now == now``) a test compares ``panel.figures()``
with its own figures, worked out independently of the panels' code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtWidgets import QWidget

from qsim.model.events import Event, EventKind
from qsim.model.scenario import ConsumerSpec, ProducerSpec, QueueSpec, RunOptions, Scenario
from qsim.model.state import ActorState
from qsim.ui.panels import create_panels
from qsim.ui.session import LiveSession

K = EventKind
S = 1_000_000_000


class Recorder:
    """Every applied event, and a check run on each frame (after the panels drew)."""

    def __init__(self, session: LiveSession) -> None:
        self.session = session
        self.events: list[Event] = []
        self.started: dict[int, int] = {}
        self.ended: dict[int, int] = {}
        self.checks: list[Callable[[int], None]] = []
        self.compared = 0
        session.frame.connect(self.on_frame)

    def on_frame(self, now: int) -> None:
        for e in self.session.applied:
            self.events.append(e)
            if e[3] == K.ACTOR_STARTED:
                self.started.setdefault(e[2], e[0])
            elif e[3] in (K.ACTOR_EXITED, K.ACTOR_CRASHED):
                self.ended.setdefault(e[2], e[0])
        for check in self.checks:
            check(now)

    def window(self, t: int, pick: Callable[[Event], bool], upto: int | None = None) -> float:
        """Items per second over ``[t - 1 s, t]`` of the events ``pick`` chooses,
        among the first ``upto`` applied (what was known at an earlier frame: on
        a busy machine an event can arrive after the reorder window)."""
        return float(
            sum(
                e[6] if e[3] != K.WORK_END else 1  # a consumed GET_DONE carries its count
                for e in self.events[:upto]
                if t - S <= e[0] <= t and e[4] > 0 and pick(e)
            )
        )

    def lifetime(self, actor: int, t: int) -> int:
        start = self.started.get(actor, 0)
        return (self.ended.get(actor, t) - start) if start else 0


def in_state(a: ActorState, state: str, total: int, t: int) -> int:
    return total + (t - a.since_ns if a.state == state and t > a.since_ns else 0)


Live = Callable[..., tuple[LiveSession, dict[str, QWidget], Recorder]]


@contextmanager
def live_sessions(qtbot: Any) -> Iterator[Live]:
    """``make(scenario, start_method)``: a session with all panels shown (and a
    ``Recorder``), the scenario loaded; every session is shut down at the end."""
    sessions: list[LiveSession] = []

    def make(
        sc: Scenario, method: str = "fork"
    ) -> tuple[LiveSession, dict[str, QWidget], Recorder]:
        s = LiveSession(start_method=method)
        sessions.append(s)
        panels = create_panels(s)
        rec = Recorder(s)
        for w in panels.values():
            qtbot.addWidget(w)
            w.resize(640, 400)
            w.show()
        s.load(sc)
        return s, panels, rec

    try:
        yield make
    finally:
        for s in sessions:
            s.shutdown()


def run_to_end(qtbot: Any, s: LiveSession, timeout: int = 20_000) -> None:
    s.play()
    qtbot.waitUntil(lambda: s.status in ("finished", "hung"), timeout=timeout)


def backpressure(**producer: Any) -> Scenario:
    p = {"id": "P", "queue": "q", "items": 14, "interval": 0.01, "sentinels": 1, **producer}
    return Scenario(
        id="bp",
        title="bp",
        queues=(QueueSpec("q", maxsize=2),),
        producers=(ProducerSpec(**p),),
        consumers=(ConsumerSpec(id="C", queue="q", work_time=0.1),),
        run=RunOptions(duration=20),
    )
