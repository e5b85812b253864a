"""A recording as the source of what the window shows, moved by a timeline.

A live run's displayed instant follows the wall clock; a replay's follows the
user: play at a speed (``t += wall_dt * speed``), drag to any moment, step one
event either way, jump to a mark. ``ReplaySource`` keeps that instant ``t``
and the ``Replay`` positioned at it (the first ``prefix_at(t)`` events
applied), and tells the views what they need each frame, just as a live
session does: the state (``reducer``), the events this frame passed
(``applied``, to animate), and the events just after the instant
(``upcoming``, so a token can set off ahead of its put). No Qt: the window,
the video renderer and the tests drive it alike.
"""

from __future__ import annotations

from collections.abc import Callable

from qsim.model.events import Event
from qsim.model.state import Reducer
from qsim.record.recording import Recording
from qsim.record.replay import ANIMATE_MAX, Replay

SPEED_MIN, SPEED_MAX = 0.1, 10.0
#: events read ahead of the instant per frame for the tokens' lead
UPCOMING_MAX = 256
MARK_WORDS = {
    "first_block": "first blocked put()",
    "first_hang": "the run hung",
    "first_error": "first error",
    "first_crash": "a worker crashed",
}


class ReplaySource:
    """The displayed instant of a recording and the replay positioned at it.

    ``t0``: the run's start (monotonic ns), the origin of shown times (the
    recording's own, else its first event). ``grow``: for a live run's
    recording, returns a longer view of it (None: nothing new).
    """

    def __init__(
        self,
        replay: Replay,
        t0: int = 0,
        grow: Callable[[], Recording | None] | None = None,
    ) -> None:
        self.replay = replay
        self._grow = grow
        self.t0 = t0 or replay.meta.t0_ns or replay.start_t
        if len(replay) and self.t0 > replay.start_t:  # a made-up clock: count from its start
            self.t0 = replay.start_t
        self.playing = False
        self.speed = 1.0
        #: the events the last move passed in order (empty after a jump)
        self.applied: list[Event] = []
        #: the last move was not a play-on: views drop their history and snap
        self.jumped = True
        self.t = self._time_of(replay.pos)
        self._upcoming: tuple[int, int, list[Event]] = (-1, -1, [])

    # ------------------------------------------------------------ reading
    @property
    def live(self) -> bool:
        """A live run's recording (it grows while watched)."""
        return self._grow is not None

    @property
    def reducer(self) -> Reducer:
        return self.replay.reducer

    @property
    def pos(self) -> int:
        return self.replay.pos

    def __len__(self) -> int:
        return len(self.replay)

    @property
    def start_t(self) -> int:
        """The instant before the first event (nothing has happened yet)."""
        return min(self.t0, self.replay.start_t - 1) if len(self.replay) else self.t0

    @property
    def end_t(self) -> int:
        return self.replay.end_t if len(self.replay) else self.t0

    @property
    def at_end(self) -> bool:
        return self.pos >= len(self.replay) and self.t >= self.end_t

    def seconds(self, t: int) -> float:
        """Run time of instant ``t`` in seconds (what the status bar and timeline say)."""
        return (t - self.t0) / 1e9

    def marks(self) -> list[tuple[str, int]]:
        """(mark name, its instant's time) in time order: first block, hang, crash..."""
        found = [(name, self.replay.time_at(k)) for name, k in self.replay.marks().items()]
        return sorted(found, key=lambda m: m[1])

    def upcoming(self, within_ns: int) -> list[Event]:
        """The recorded events in ``(t, t + within_ns]`` (at most ``UPCOMING_MAX``)."""
        pos = self.pos
        hi = min(len(self.replay), pos + UPCOMING_MAX)
        if hi <= pos:
            return []
        cached_pos, cached_hi, events = self._upcoming
        if (cached_pos, cached_hi) != (pos, hi):
            events = self.replay.rec.events(pos, hi)
            self._upcoming = (pos, hi, events)
        horizon = self.t + within_ns
        n = 0
        while n < len(events) and events[n][0] <= horizon:
            n += 1
        return events[:n]

    # ------------------------------------------------------------ moving
    def refresh(self) -> bool:
        """A live recording: take in what was recorded since (True if it grew)."""
        if self._grow is None:
            return False
        rec = self._grow()
        if rec is None or len(rec) <= len(self.replay):
            return False
        self.replay.grow(rec)
        self._upcoming = (-1, -1, [])
        return True

    def seek_time(self, t: int) -> None:
        """Show the instant ``t`` (clamped to the recording): a jump."""
        t = max(self.start_t, min(int(t), self.end_t))
        self.replay.seek(self.replay.prefix_at(t))
        self.t = t
        self._jumped()

    def seek(self, k: int) -> None:
        """Show the state after the first ``k`` events, at that event's time: a jump."""
        self.replay.seek(k)
        self.t = self._time_of(self.pos)
        self._jumped()

    def step(self, n: int = 1) -> None:
        """``n`` events on (animated when it is one event forwards) or back (a jump)."""
        self.playing = False
        before = self.pos
        self.replay.seek(before + n)
        self.t = self._time_of(self.pos)
        if n > 0 and self.replay.played_on and self.pos > before:
            self.applied, self.jumped = self.reducer.last_applied, False
        else:
            self._jumped()

    def advance(self, wall_dt_ns: int) -> None:
        """Play on for ``wall_dt_ns`` of wall time at ``speed`` (nothing if paused)."""
        if not self.playing:
            self.applied = []
            return
        self.play_to(self.t + int(max(0, wall_dt_ns) * self.speed))
        if self.at_end and not self.live:
            self.playing = False

    def play_to(self, t: int) -> None:
        """Move on to instant ``t`` as playing does (``applied``: the events passed,
        to animate); a jump if ``t`` lies behind. A video frame is made this way."""
        if t < self.t:
            self.seek_time(t)
            return
        if t >= self.end_t and self.live:
            self.refresh()
        self.t = min(int(t), self.end_t)
        before = self.pos
        self.replay.seek(self.replay.prefix_at(self.t))
        moved = self.pos - before
        if self.replay.played_on and 0 <= moved <= ANIMATE_MAX:
            self.applied = self.reducer.last_applied if moved else []
            self.jumped = False
        else:
            self._jumped()

    def set_speed(self, speed: float) -> float:
        self.speed = max(SPEED_MIN, min(SPEED_MAX, float(speed)))
        return self.speed

    def play(self) -> None:
        if self.at_end and not self.live:  # from the start again, like a video
            self.seek(0)
        self.playing = True

    def pause(self) -> None:
        self.playing = False

    def _time_of(self, k: int) -> int:
        return self.replay.time_at(k) if k else self.start_t

    def _jumped(self) -> None:
        self.applied = []
        self.jumped = True
