"""One shared, bounded history of a run's figures, sampled ~10 times a second.

Every panel reads the same ``PanelHistory`` (``create_panels`` makes one per
session). Each frame it hands the frame's applied events to the
``RunObserver``; at most every ``SAMPLE_NS`` it appends one sample of every
series (queue depths, items/s, time-in-queue percentiles, Little's law, the
worker states) to preallocated rings, so the graphs cost the same after an
hour as after a minute. A sample holds the reducer's figures at that frame's
moment exactly (no interpolation), so a test can compare them. No Qt here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qsim.model import panel_figures as pf
from qsim.model.events import Event
from qsim.model.state import BLOCKED_PUT, CRASHED, JOIN_WAIT, WAITING_GET, WORKING, Reducer
from qsim.ui.panels.observer import RunObserver
from qsim.ui.panels.ring import Ring

if TYPE_CHECKING:
    from qsim.ui.session import LiveSession

SAMPLE_NS = 100_000_000  # ~10 samples a second
KEEP_SAMPLES = 36_000  # one hour at 10 Hz: the scroll-back limit

#: worker-state timeline codes (a row per actor, a column per sample)
S_NONE, S_IDLE, S_WORKING, S_BLOCKED, S_WAITING, S_JOIN, S_DONE, S_CRASHED = range(8)
STATE_NAMES = (
    "not running",
    "idle",
    "working",
    "blocked on put",
    "waiting on get",
    "waiting in join()",
    "finished",
    "crashed",
)


class PanelHistory:
    """Samples of a session's run (reset whenever the session gets a new reducer)."""

    def __init__(self, capacity: int = KEEP_SAMPLES, sample_ns: int = SAMPLE_NS) -> None:
        self.capacity = capacity
        self.sample_ns = sample_ns
        self.reducer: Reducer | None = None
        self._generation = 0
        self.observer: RunObserver | None = None
        self.series: dict[str, Ring] = {}
        self.states: dict[int, Ring] = {}
        self.x = Ring(capacity)  # seconds since the run started
        self.t0 = 0
        self.t = 0  # the moment (ns) of the last update
        self.live = False
        self.samples = 0
        self.version = 0  # bumps on every reset: views rebuild
        self.now = -1
        self.sampled_now = -1  # the frame (now_ns) of the last sample
        self._last_sample_t = 0
        self._cum: dict[int, tuple[int, int, int]] = {}
        self._depth_sum: list[float] = []
        self._area = 0.0  # integral over time of items in the system (item * ns)
        self._n_prev = 0
        self._t_prev = 0
        self._rates: dict[str, float] = {}
        self._rates_t = -1
        #: applied events not yet given to the observer: it takes them in
        #: batches (numpy costs per call, not per event), when figures are asked
        self._pending: list[Event] = []

    # ------------------------------------------------------------ feeding
    def sync(self, session: LiveSession) -> Reducer | None:
        """Reset for a new reducer, grow for new actors; return the reducer."""
        r = session.reducer
        # a new reducer, or the shown instant jumped (a replay's seek): start afresh
        generation = getattr(session, "generation", 0)
        if r is not self.reducer or generation != self._generation:
            self._generation = generation
            sc = session.scenario
            self._reset(r, sc is not None and any(p.batch_size > 1 for p in sc.producers))
        obs = self.observer
        if r is not None and obs is not None and r.topology is not obs.topology:
            self.catch_up()
            obs.retopology(r.topology)
            self.version += 1  # a traced program's new process or queue: views rebuild
        return r

    def catch_up(self) -> None:
        """Hand the events gathered since the last call to the observer."""
        if self._pending and self.observer is not None and self.reducer is not None:
            pending, self._pending = self._pending, []
            self.observer.feed(pending, self.reducer)
            self._rates_t = -1  # new events: the rates at this moment change too

    def update(self, session: LiveSession, now_ns: int) -> bool:
        """Take in one frame (idempotent per ``now_ns``); True if a sample was added."""
        if now_ns == self.now:
            return False
        self.now = now_ns
        r = self.sync(session)
        if r is None or self.observer is None:
            return False
        if session.applied:
            self._pending.extend(session.applied)
        live = session.run is not None
        if live and not self.t0:
            self.t0 = session.run_started_ns
        t = session.t_display or pf.view_time(r, now_ns, live)
        if not self.t0:
            self.t0 = r.first_t
        if not self.t0 or t < self.t0:
            return False
        self.live = live
        n_now = pf.in_system(r)
        if self._t_prev:
            self._area += self._n_prev * max(0, t - self._t_prev)
        self._n_prev, self._t_prev = n_now, t
        self.t = t
        if t - self._last_sample_t >= self.sample_ns or (not live and t > self._last_sample_t):
            self._sample(r, t)
            self.sampled_now = now_ns
            return True
        return False

    def _reset(self, r: Reducer | None, batches: bool = False) -> None:
        self.reducer = r
        self.observer = RunObserver(r.topology, batches) if r is not None else None
        self._rates = {}
        self._rates_t = -1
        self.series = {}
        self.states = {}
        self.x.clear()
        self.t0 = self.t = 0
        self.samples = 0
        self.version += 1
        self._last_sample_t = 0
        self._cum = {}
        self._depth_sum = [0.0] * (len(r.queues) if r is not None else 0)
        self._pending = []
        self._area = 0.0
        self._n_prev = self._t_prev = 0
        self.live = False

    # ------------------------------------------------------------ sampling
    def _put(self, name: str, value: float) -> None:
        ring = self.series.get(name)
        if ring is None:
            ring = self.series[name] = Ring(self.capacity)
            ring.pad(self.samples)
        ring.append(value)

    def _sample(self, r: Reducer, t: int) -> None:
        self.catch_up()
        obs = self.observer
        assert obs is not None
        self.x.append((t - self.t0) / 1e9)
        put = self._put
        if len(self._depth_sum) < len(r.queues):  # a traced program made a queue
            self._depth_sum += [0.0] * (len(r.queues) - len(self._depth_sum))
        for q in r.queues:
            put("depth:" + q.id, q.depth)
            self._depth_sum[q.index] += q.depth
            if q.kind == "JoinableQueue":
                put("unfinished:" + q.id, q.unfinished)
        for key, value in self.rates().items():
            put(key, value)
        p50, p95 = pf.recent_latency_ms(r)
        put("lat_p50", p50)
        put("lat_p95", p95)
        law = self.littles_law()
        put("L", law.L)
        put("lamW", law.lam_w)
        self._sample_states(r, t)
        self.samples += 1
        self._last_sample_t = t

    def _sample_states(self, r: Reducer, t: int) -> None:
        obs = self.observer
        assert obs is not None
        dt = max(1, t - self._last_sample_t) if self._last_sample_t else 0
        for info in r.topology.actors:
            a = r.actors[info.index]
            cum = (
                pf.time_in_ns(a, WORKING, t),
                pf.time_in_ns(a, BLOCKED_PUT, t),
                pf.time_in_ns(a, WAITING_GET, t),
            )
            prev = self._cum.get(info.index, cum)
            self._cum[info.index] = cum
            code = S_NONE
            if info.index in obs.started:
                end = obs.ended.get(info.index, 0)
                if end and end <= t - dt // 2:
                    code = S_CRASHED if a.state == CRASHED else S_DONE
                else:
                    dw, db, dq = (c - p for c, p in zip(cum, prev, strict=True))
                    if dt:
                        idle = dt - dw - db - dq
                        code = (S_IDLE, S_WORKING, S_BLOCKED, S_WAITING)[
                            int(np.argmax((idle, dw, db, dq)))
                        ]
                    else:
                        code = _code_of(a.state)
                    if code == S_WAITING and (a.state == JOIN_WAIT or info.role == "main"):
                        code = S_JOIN
            ring = self.states.get(info.index)
            if ring is None:
                ring = self.states[info.index] = Ring(self.capacity, np.uint8, S_NONE)
                ring.pad(self.samples)
            ring.append(code)

    # ------------------------------------------------------------ queries
    def rates(self) -> dict[str, float]:
        """Items/s over the last second at ``self.t`` (see ``RunObserver.rates``)."""
        self.catch_up()
        if self._rates_t != self.t and self.observer is not None:
            self._rates = self.observer.rates(self.t)
            self._rates_t = self.t
        return self._rates

    def littles_law(self) -> pf.LittlesLaw:
        self.catch_up()
        r, obs = self.reducer, self.observer
        if r is None or obs is None or not self.t0:
            return pf.LittlesLaw(0.0, 0.0, 0.0, 0, 0)
        return pf.littles_law(
            self._area,
            self.t - self.t0,
            r.acct.produced,
            obs.sojourn_ns,
            obs.sojourn_n,
            self._n_prev,
        )

    def mean_depth(self, qi: int) -> float:
        """Depth of queue ``qi`` averaged over every sample of the run."""
        if not self.samples or qi >= len(self._depth_sum):
            return 0.0
        return self._depth_sum[qi] / self.samples

    def window(self, x_from: float, x_to: float, margin: int = 2) -> tuple[int, int]:
        """Index range ``[i0, i1)`` of the kept samples whose x lies in the range."""
        xs = self.x.values()
        if not len(xs):
            return 0, 0
        i0 = int(np.searchsorted(xs, x_from, "left")) - margin
        i1 = int(np.searchsorted(xs, x_to, "right")) + margin
        return max(0, i0), min(len(xs), i1)


def _code_of(state: str) -> int:
    return {
        WORKING: S_WORKING,
        BLOCKED_PUT: S_BLOCKED,
        WAITING_GET: S_WAITING,
        JOIN_WAIT: S_JOIN,
        CRASHED: S_CRASHED,
    }.get(state, S_IDLE)
