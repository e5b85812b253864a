"""``RunSource``: what the window's session needs of whatever makes the events.

A scenario's ``Run`` (worker processes qsim starts) and a program's
``TraceRun`` (a user's unmodified program, traced) are both event sources for
``qsim.ui.session.LiveSession``: it starts one, drains its ``collector`` each
frame into the reducer, and maps Play/Pause/Step/Speed/Stop onto it. This
protocol is all of that surface, so the session never asks which kind it has.
"""

from __future__ import annotations

import threading
from typing import Protocol

from qsim.engine.collector import Collector
from qsim.model.state import Reducer


class RunSource(Protocol):
    """One run of real processes, seen from the window.

    ``start_in_background``
        start the processes on a thread (the window never waits on one); a
        failure lands in ``start_error`` (one line), read every frame.
    ``pause`` / ``resume`` / ``step`` / ``set_speed``
        run control; one step is one completed queue operation; ``set_speed``
        returns the speed really set (clamped).
    ``finished``
        every process has ended and its last events are in ``collector``.
    ``request_stop``
        ask every process to leave now (returns at once); ``stop`` ends them
        all, firmly if it must, and may take a second or two (the session
        calls it on a thread).
    ``set_throttle``
        flow control: each process pauses this many microseconds after every
        batch it sends (0: none), while the display is behind.
    ``watch_hangs``
        mark the processes that wait with no hope (once: a HUNG event each),
        judged on what ``reducer`` knows; their names.
    """

    collector: Collector
    start_error: str

    def start_in_background(self) -> threading.Thread: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def step(self) -> None: ...

    def set_speed(self, speed: float) -> float: ...

    @property
    def finished(self) -> bool: ...

    def request_stop(self) -> None: ...

    def stop(self, grace: float = 2.0) -> None: ...

    def set_throttle(self, us: int) -> None: ...

    def watch_hangs(self, reducer: Reducer, hang_after: float) -> list[str]: ...
