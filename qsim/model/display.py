"""The displayed instant: the one moment every number and token of a frame shows.

Events reach the window a little late and out of order, and a token needs a
moment to fly from a producer to a queue. So the views never show "now": they
show the run as it was at ``DisplayClock.t``, a little behind the newest
events. The reducer applies exactly the events up to that instant; the events
just after it (the lead) let a token set off early and arrive in its queue at
the very instant its put happened, so that a queue's count and the tokens in
its box always agree.

The clock moves with the wall clock while the view keeps up, faster when it
fell behind (a measured lane is replayed after it ran; a burst is caught up),
never faster than ``max_events`` events a frame, and never past the events
the views know. It never moves backwards. No Qt: replay and video export use
the same clock with their own ``edge``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LEAD_NS = 300_000_000  # how far ahead of the displayed instant a token may set off
CATCH_UP_AFTER_NS = 1_000_000_000  # this far behind: play 3x (less: a little faster)
CATCH_UP_RATE = 3.0
NEVER = 1 << 62


@dataclass
class DisplayClock:
    """The displayed instant (``t``, monotonic ns of the run; 0 before any event)."""

    t: int = 0
    #: run time the display moved per wall time in the last frame (1.0: live)
    rate: float = 1.0
    #: how far the display is behind the newest instant it could show, ns
    behind_ns: int = 0
    #: the last frame could not show all it should have (``max_events`` reached):
    #: the view cannot keep up with the run
    capped: bool = False

    def advance(
        self,
        wall_dt_ns: int,
        edge_ns: int,
        upcoming: Sequence[int],
        max_events: int = 0,
    ) -> int:
        """Move on after ``wall_dt_ns`` of wall time; return the new instant.

        ``edge_ns``: the newest instant that may be shown (live: now minus the
        reorder window and the lead; ``NEVER`` when everything known may be
        shown at once, e.g. paused or finished). ``upcoming``: times of the
        events not applied yet, ascending. ``max_events``: at most this many of
        them are passed in one frame (0: no limit).
        """
        if not upcoming and self.t >= edge_ns:
            self.behind_ns = 0
            self.rate = 0.0
            return self.t
        if not self.t:  # the first events: start just before them
            self.t = (upcoming[0] - 1) if upcoming else min(edge_ns, NEVER - 1)
        if edge_ns >= NEVER:  # show everything known now
            target = upcoming[-1] if upcoming else self.t
        else:
            behind = edge_ns - self.t
            # the further behind, the faster it plays (smoothly: no lag stays)
            speed = min(CATCH_UP_RATE, 1.0 + 2.0 * max(0, behind) / CATCH_UP_AFTER_NS)
            target = self.t + int(max(0, wall_dt_ns) * speed)
            if upcoming and upcoming[0] - LEAD_NS > target and behind > CATCH_UP_AFTER_NS:
                # catching up: skip a stretch where nothing happens, up to the lead
                # of the next event (its token still sets off in time)
                target = upcoming[0] - LEAD_NS
            target = min(target, edge_ns)
        self.capped = bool(max_events) and len(upcoming) > max_events
        if self.capped and upcoming[max_events - 1] < target:
            target = upcoming[max_events - 1]
        else:
            self.capped = False
        before = self.t
        self.t = max(self.t, target)
        self.rate = (self.t - before) / wall_dt_ns if wall_dt_ns > 0 else 1.0
        edge = edge_ns if edge_ns < NEVER else (upcoming[-1] if upcoming else self.t)
        self.behind_ns = max(0, edge - self.t)
        return self.t


class EventTimes(Sequence[int]):
    """The times of a time-sorted list of events, without copying them."""

    def __init__(self, events: Sequence[tuple[Any, ...]]) -> None:
        self.events = events

    def __len__(self) -> int:
        return len(self.events)

    def __getitem__(self, i: int) -> int:  # type: ignore[override]
        return self.events[i][0]
