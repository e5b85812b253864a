"""Figures the topic panels show, computed from the reducer (no Qt, no processes).

Each function takes the reducer's state plus the moment ``t`` (ns, the clock of
the events; see ``view_time``) and returns plain numbers or sentences, so what
a panel displays can be checked against the reducer in a test without a window.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice

import numpy as np

from qsim.model.events import describe_item, is_sentinel
from qsim.model.scenario import Scenario
from qsim.model.state import (
    BLOCKED_PUT,
    CRASHED,
    FINISHED,
    JOIN_WAIT,
    WAITING_GET,
    WORKING,
    ActorState,
    Reducer,
)
from qsim.model.topology import Topology

#: a waiting item is "starving" past this many times the mean wait (and STARVE_MIN_S)
STARVE_FACTOR = 5.0
STARVE_MIN_S = 1.0
#: time-in-queue percentiles are over this many most recent items
LATENCY_RECENT = 500
#: the capacity panel calls producers "blocked most of the time" from this share on
BLOCKED_BOTTLENECK_PCT = 25.0
TIES_LINE = (
    "Lower numbers leave first; equal priorities leave in arrival order: "
    "each entry is (priority, put time, item)."
)


def view_time(r: Reducer, now_ns: int, live: bool) -> int:
    """The moment the reducer's state describes.

    While a run is live the reducer has applied every event older than its
    reorder window, so its state is that of ``now - reorder``; once the run
    ended (everything flushed), time stops at the last event.
    """
    if not live:
        return r.last_t
    return max(now_ns - r.reorder_ns, r.last_t)


def time_in_ns(a: ActorState, state: str, t: int) -> int:
    """Time ``a`` spent in ``state`` up to ``t``: the reducer's total plus the open span."""
    if state == BLOCKED_PUT:
        total = a.blocked_ns
    elif state == WORKING:
        total = a.working_ns
    else:
        total = a.waiting_ns
    now_in = a.state == state or (state == WAITING_GET and a.state == JOIN_WAIT)
    if now_in and a.since_ns and t > a.since_ns:
        total += t - a.since_ns
    return total


def lifetime_ns(started_ns: int, ended_ns: int, t: int) -> int:
    """How long an actor has been running at ``t`` (0 before it started)."""
    if not started_ns:
        return 0
    end = ended_ns if ended_ns else t
    return max(0, end - started_ns)


def percent(part: float, whole: float) -> float:
    return 100.0 * part / whole if whole > 0 else 0.0


def fmt_s(ns: float) -> str:
    """Seconds for people: ``0.42 s``, ``12.3 s``, ``2 min 05 s``."""
    s = ns / 1e9
    if s < 10:
        return f"{s:.2f} s"
    if s < 120:
        return f"{s:.1f} s"
    return f"{int(s // 60)} min {int(s % 60):02d} s"


# ---------------------------------------------------------------- capacity
def capacity_situation(
    blocked_pct: float | None,
    mean_fill_pct: float | None,
    consumer_wait_pct: float | None,
    bounded: bool,
    max_depth: int,
) -> str:
    """One sentence on who waits for whom (the capacity panel's headline).

    ``blocked_pct``: share of the producers' time blocked in put(), None before
    any producer started; ``mean_fill_pct``: time-averaged depth / maxsize;
    ``consumer_wait_pct``: share of the consumers' time waiting in get().
    """
    if blocked_pct is None:
        return "Not running: press Play to see how full the queue gets."
    if not bounded:
        if max_depth > 20 and (consumer_wait_pct or 0.0) < BLOCKED_BOTTLENECK_PCT:
            return (
                f"The queue has no maxsize, so put() never blocks: {max_depth} items "
                "piled up; the consumers are the bottleneck."
            )
        return "The queue has no maxsize, so put() never blocks."
    if blocked_pct >= BLOCKED_BOTTLENECK_PCT:
        return (
            f"Producers are blocked {blocked_pct:.0f}% of the time: "
            "the consumers are the bottleneck."
        )
    if (mean_fill_pct or 0.0) < 25.0 and (consumer_wait_pct or 0.0) >= BLOCKED_BOTTLENECK_PCT:
        return (
            f"The queue is mostly empty: consumers wait for producers "
            f"({consumer_wait_pct:.0f}% of their time)."
        )
    return (
        f"Producers are blocked {blocked_pct:.0f}% of the time and the queue is "
        f"{mean_fill_pct or 0.0:.0f}% full on average: both sides keep pace."
    )


# ---------------------------------------------------------------- priority
@dataclass
class WaitStats:
    """Waiting time (put done -> get done) of the items of one priority level."""

    count: int = 0
    total_ns: int = 0
    max_ns: int = 0

    def add(self, wait_ns: int) -> None:
        self.count += 1
        self.total_ns += wait_ns
        self.max_ns = max(self.max_ns, wait_ns)

    @property
    def mean_ns(self) -> float:
        return self.total_ns / self.count if self.count else 0.0


def starvation_threshold_ns(stats: Iterable[WaitStats]) -> float:
    """How long a waiting item may wait before it is called starving."""
    rows = list(stats)
    n = sum(s.count for s in rows)
    mean = sum(s.total_ns for s in rows) / n if n else 0.0
    return max(STARVE_MIN_S * 1e9, STARVE_FACTOR * mean)


def starving_items(
    r: Reducer, qi: int, t: int, threshold_ns: float, limit: int = 2000
) -> list[tuple[int, int, int]]:
    """``(item, priority, waited_ns)`` of data items in queue ``qi`` waiting past
    the threshold, longest first."""
    out = []
    for item in islice(r.queues[qi].contents, limit):
        if is_sentinel(item):
            continue
        tp = r.put_time.get(item)
        if tp is not None and t - tp > threshold_ns:
            out.append((item, r.priority.get(item, 0), t - tp))
    out.sort(key=lambda x: -x[2])
    return out


# ---------------------------------------------------------------- joinable
def never_zero_reasons(
    r: Reducer, sc: Scenario | None, qi: int, outstanding: Sequence[int]
) -> list[str]:
    """Why queue ``qi``'s unfinished count can never reach 0 again (empty if it can)."""
    q = r.queues[qi]
    if q.unfinished <= 0:
        return []
    names = r.topology.names
    readers = [a for a in r.topology.actors if a.input_queue == qi]
    reasons = []
    specs = {c.id: c for c in sc.consumers} if sc is not None else {}
    never = sorted(
        {a.group for a in readers if getattr(specs.get(a.group), "task_done", "") == "never"}
    )
    for g in never:
        reasons.append(f"{g} never calls task_done(): every item it gets stays unfinished.")
    in_queue = set(q.contents)
    in_hands = {i for a in r.actors for i in a.holding}
    for a in readers:
        st = r.actors[a.index]
        if st.state == CRASHED:
            gone = [i for i in outstanding if i not in in_queue and i not in in_hands]
            held = ", ".join(describe_item(i, names) for i in gone[:4]) or "an item"
            reasons.append(
                f"{st.name} crashed (exit code {st.exit_code}) holding {held}: "
                "its task_done() will never come."
            )
    started = [r.actors[a.index] for a in readers if r.actors[a.index].started]
    if started and not any(a.alive for a in started):
        reasons.append(f"No consumer of {q.id} is left to call task_done().")
    return reasons


def join_status(wait_t: int, done_t: int, t0: int, t: int, who: str, qid: str) -> str:
    """The join() caller's state in words."""
    if not wait_t:
        return f"Nobody has called {qid}.join() yet."
    since = (wait_t - t0) / 1e9
    if done_t:
        return (
            f"{who}: {qid}.join() returned at {(done_t - t0) / 1e9:.2f} s "
            f"(waited {fmt_s(done_t - wait_t)})."
        )
    return f"{who} waits in {qid}.join() since {since:.2f} s ({fmt_s(t - wait_t)} so far)."


# ---------------------------------------------------------------- pipeline
def stage_order(topo: Topology) -> list[str]:
    """Consumer groups in pipeline order: from the producers' queues downstream."""
    groups: list[tuple[str, int, int]] = []
    seen: set[str] = set()
    for a in topo.actors:
        if a.role in ("consumer", "stage") and a.group not in seen:
            seen.add(a.group)
            groups.append((a.group, a.input_queue, a.output_queue))
    fed = {a.output_queue for a in topo.actors if a.role == "producer"}
    order: list[str] = []
    frontier = fed
    while frontier:
        nxt = set()
        for g, qin, qout in groups:
            if qin in frontier and g not in order:
                order.append(g)
                if qout >= 0:
                    nxt.add(qout)
        frontier = nxt
    order += [g for g, _, _ in groups if g not in order]
    return order


@dataclass
class StageRow:
    """One row of the pipeline panel."""

    group: str
    workers: int
    input_queue: str
    depth: int
    in_rate: float
    out_rate: float
    utilization: float  # % of the workers' time spent working
    fill_pct: float  # input depth / maxsize (0 when unbounded)


def stage_workers(r: Reducer, group: str) -> int:
    """Workers of a stage that have not finished or crashed (starting ones count)."""
    return sum(
        1
        for a in r.topology.actors
        if a.group == group and r.actors[a.index].state not in (FINISHED, CRASHED)
    )


def stage_utilization(
    r: Reducer, group: str, started: dict[int, int], ended: dict[int, int], t: int
) -> float:
    """% of the stage workers' lifetime spent working (sum over its workers)."""
    work = life = 0
    for a in r.topology.actors:
        if a.group != group:
            continue
        st = r.actors[a.index]
        work += time_in_ns(st, WORKING, t)
        life += lifetime_ns(started.get(a.index, 0), ended.get(a.index, 0), t)
    return percent(work, life)


def bottleneck(rows: Sequence[StageRow]) -> str:
    """The stage that limits throughput: the busiest, then the fullest input queue.

    Only stages that still have workers: a finished stage limits nothing any more.
    """
    rows = [r for r in rows if r.workers > 0]
    if not rows or all(r.utilization <= 0 and r.depth <= 0 for r in rows):
        return ""
    best = max(rows, key=lambda r: (round(r.utilization / 5), r.fill_pct, r.depth))
    return best.group


# ---------------------------------------------------------------- throughput
def recent_latency_ms(r: Reducer, last: int = LATENCY_RECENT) -> tuple[float, float]:
    """p50 and p95 time in queue (ms) of the ``last`` most recent items."""
    n = len(r.latency_ns)
    if not n:
        return 0.0, 0.0
    k = min(last, n)
    a = np.fromiter(islice(reversed(r.latency_ns), k), dtype=np.float64, count=k)
    p50, p95 = np.percentile(a, [50, 95])
    return float(p50) / 1e6, float(p95) / 1e6


def in_system(r: Reducer) -> int:
    """Items produced and not yet finished, failed or lost: in queues plus in hands."""
    ac = r.acct
    return ac.produced - ac.consumed - ac.lost


@dataclass
class LittlesLaw:
    """L = lambda x W over the run so far."""

    L: float  # time-averaged items in the system
    lam: float  # arrivals per second
    W: float  # mean time in system (s) of the finished items
    n_now: int
    finished: int

    @property
    def lam_w(self) -> float:
        return self.lam * self.W


def littles_law(
    area_item_ns: float, span_ns: int, arrivals: int, w_total_ns: float, w_count: int, n_now: int
) -> LittlesLaw:
    """From the integral of items-in-system over time, the arrivals and the sojourns."""
    span_s = span_ns / 1e9
    return LittlesLaw(
        L=area_item_ns / span_ns if span_ns > 0 else 0.0,
        lam=arrivals / span_s if span_s > 0 else 0.0,
        W=w_total_ns / w_count / 1e9 if w_count else 0.0,
        n_now=n_now,
        finished=w_count,
    )
