"""The displayed instant (qsim.model.display), without Qt or processes."""

from __future__ import annotations

from qsim.model.display import CATCH_UP_RATE, LEAD_NS, NEVER, DisplayClock

MS = 1_000_000
S = 1_000 * MS


def test_live_it_follows_the_wall_clock_and_never_passes_the_edge() -> None:
    c = DisplayClock()
    c.advance(2 * MS, edge_ns=10 * S, upcoming=[10 * S - 5 * MS])
    # from just before the first event, 2 ms on (a hair faster: 5 ms behind the edge)
    assert 10 * S - 3 * MS - 1 <= c.t <= 10 * S - 3 * MS + 50_000
    c.advance(16 * MS, edge_ns=10 * S, upcoming=[10 * S - 5 * MS])
    assert c.t == 10 * S and c.behind_ns == 0  # held at the edge
    c.advance(16 * MS, edge_ns=10 * S + 4 * MS, upcoming=[])
    assert c.t == 10 * S + 4 * MS and c.behind_ns == 0


def test_behind_it_plays_faster_and_skips_quiet_stretches_up_to_a_lead() -> None:
    c = DisplayClock(t=1 * S)
    c.advance(100 * MS, edge_ns=5 * S, upcoming=[1 * S + 50 * MS, 4 * S])
    assert c.t == 1 * S + int(100 * MS * CATCH_UP_RATE)  # 4 s behind: the fastest
    c.advance(100 * MS, edge_ns=5 * S, upcoming=[4 * S])
    # nothing happens until 4 s: it jumps to the lead of that event, not onto it
    assert c.t == 4 * S - LEAD_NS


def test_a_frame_passes_at_most_max_events() -> None:
    c = DisplayClock(t=1 * S)
    events = [1 * S + k * MS for k in range(1, 101)]
    c.advance(100 * MS, edge_ns=NEVER, upcoming=events, max_events=10)
    assert c.t == events[9]
    assert c.behind_ns == events[-1] - events[9]


def test_it_never_goes_back_and_holds_still_when_everything_is_shown() -> None:
    c = DisplayClock(t=3 * S)
    c.advance(16 * MS, edge_ns=2 * S, upcoming=[])
    assert c.t == 3 * S and c.rate == 0.0 and c.behind_ns == 0
    c.advance(16 * MS, edge_ns=NEVER, upcoming=[3 * S + 7])
    assert c.t == 3 * S + 7  # paused: the exact last state at once
