"""What the panels need that the reducer does not keep, read off each frame's events.

The reducer keeps the *state* of a run; some panel figures are about *history*:
items per second over the last second, the order items arrived at and left a
priority queue, how long each priority level waited, which items of a
JoinableQueue still lack their task_done(), when join() was called, how long
finished items spent in the system. ``RunObserver`` reads the events the
reducer applied this frame (``LiveSession.applied``) and keeps exactly that,
in bounded memory. A flat-out run applies tens of thousands of events a frame,
so the common events are handled as numpy columns, not one by one. No Qt here.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

import numpy as np

from qsim.model.events import Event, EventKind
from qsim.model.panel_figures import WaitStats
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.model.wire import FLAG_CONSUMED, FLAG_TASK_DONE

K = EventKind
ORDER_KEEP = 400  # arrivals / services remembered per queue for the order strips
RATE_WINDOW_NS = 1_000_000_000
_PUT, _GET, _END, _TD = int(K.PUT_DONE), int(K.GET_DONE), int(K.WORK_END), int(K.TASK_DONE)
_RARE = np.array(
    [K.ACTOR_STARTED, K.ACTOR_EXITED, K.ACTOR_CRASHED, K.JOIN_WAIT, K.JOIN_DONE], dtype=np.int64
)


class RateWindows:
    """Items per key (producer, consumer, stage...) over a sliding window, exact to
    the event: per frame one chunk of (time, key, items), totals kept running."""

    def __init__(self, n_keys: int, window_ns: int = RATE_WINDOW_NS) -> None:
        self.window_ns = window_ns
        self.totals = np.zeros(n_keys, dtype=np.float64)
        self._chunks: deque[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = deque()

    def grow(self, n_keys: int) -> None:
        if n_keys > len(self.totals):
            self.totals = np.concatenate([self.totals, np.zeros(n_keys - len(self.totals))])

    def add(self, t: np.ndarray, key: np.ndarray, n: np.ndarray) -> None:
        if not len(t):
            return
        counts = np.bincount(key, weights=n, minlength=len(self.totals))
        self.grow(len(counts))
        self.totals[: len(counts)] += counts
        self._chunks.append((t, key, n, counts))

    def rates(self, t_now: int) -> np.ndarray:
        """Items/s per key over ``[t_now - window, t_now]``.

        ``t_now`` may step back a little (when a run ends, the view time falls
        back from ``now - reorder`` to the last event), so chunks are kept one
        window longer than needed, and every chunk that reaches outside the
        window (a late event makes chunks overlap) has that part taken off.
        """
        cut = t_now - self.window_ns
        chunks = self._chunks
        while chunks and chunks[0][0][-1] < cut - self.window_ns:  # long gone
            counts = chunks.popleft()[3]
            self.totals[: len(counts)] -= counts
        out = self.totals.copy()
        for t, key, n, _ in chunks:
            if t[0] < cut:
                i = int(np.searchsorted(t, cut, side="left"))
                out -= np.bincount(key[:i], weights=n[:i], minlength=len(out))[: len(out)]
            if t[-1] > t_now:
                j = int(np.searchsorted(t, t_now, side="right"))
                out -= np.bincount(key[j:], weights=n[j:], minlength=len(out))[: len(out)]
        return np.maximum(out, 0.0) * (1e9 / self.window_ns)


class RunObserver:
    """Per-run history kept from the applied events (see the module docstring)."""

    def __init__(self, topology: Topology, batches: bool = False) -> None:
        self.batches = batches  # some producer batches items: count items, not entries
        self._sizes: dict[int, int] = {}  # a batch got and not yet finished -> its items
        nq = len(topology.queues)
        self.started: dict[int, int] = {}  # actor -> ACTOR_STARTED time
        self.ended: dict[int, int] = {}  # actor -> exit or crash time
        #: per tracked queue: (item, priority, t) in PUT_DONE order; (item, priority,
        #: t, waited ns) in GET_DONE order; waiting-time stats per priority
        self.arrivals: dict[int, deque[tuple[int, int, int]]] = {}
        self.services: dict[int, deque[tuple[int, int, int, int]]] = {}
        self.waits: dict[int, dict[int, WaitStats]] = {}
        self._put_t: dict[int, dict[int, int]] = {}
        self._put_p: dict[int, dict[int, int]] = {}  # queue -> item -> priority (queued)
        self.outstanding: list[dict[int, int]] = [{} for _ in range(nq)]  # item -> put t
        self.join_wait: dict[int, tuple[int, int]] = {}  # queue -> (actor, t)
        self.join_done: dict[int, int] = {}  # queue -> t
        self.first_arrival = 0
        self.sojourn_ns = 0  # sum over finished items of (finish - first put) x items
        self.sojourn_n = 0
        self._entered: dict[int, int] = {}  # item -> time its producer put it
        self.keys: list[str] = []
        self.rate = RateWindows(0)
        self.topology = topology
        self.retopology(topology)
        prio = [q.index for q in topology.queues if q.kind == "PriorityQueue"]
        self.track_orders(prio or [q.index for q in topology.queues[:1]])

    def track_orders(self, queues: Sequence[int]) -> None:
        """Keep arrival/service orders and waiting times for these queues."""
        for qi in queues:
            self.arrivals.setdefault(qi, deque(maxlen=ORDER_KEEP))
            self.services.setdefault(qi, deque(maxlen=ORDER_KEEP))
            self.waits.setdefault(qi, {})
            self._put_t.setdefault(qi, {})
            self._put_p.setdefault(qi, {})

    def retopology(self, topology: Topology) -> None:
        """Number the rate keys; called again when the run gains a worker."""
        self.topology = topology
        actors = topology.actors
        # a traced program's queues appear as it makes them
        self.outstanding += [{} for _ in range(len(topology.queues) - len(self.outstanding))]
        self._prio_q = {q.index for q in topology.queues if q.kind == "PriorityQueue"}
        self._join_q = np.array(
            [q.index for q in topology.queues if q.kind == "JoinableQueue"], dtype=np.int64
        )
        index = {k: n for n, k in enumerate(self.keys)}

        def key(name: str) -> int:
            if name not in index:
                index[name] = len(self.keys)
                self.keys.append(name)
            return index[name]

        n = len(actors)
        tables = ("put", "put2", "get", "end", "end2")
        lookups = {w: np.full(n + 1, -1, dtype=np.int64) for w in tables}
        for a in actors:
            if a.role == "producer":
                lookups["put"][a.index] = key("rate:" + a.name)
            elif a.role == "stage":
                lookups["put"][a.index] = key("out:" + a.group)
                lookups["put2"][a.index] = key("rate:" + a.name)
                lookups["get"][a.index] = key("in:" + a.group)
            elif a.role == "consumer":
                lookups["get"][a.index] = key("in:" + a.group)
                lookups["end"][a.index] = key("rate:" + a.name)
                lookups["end2"][a.index] = key("out:" + a.group)
            elif a.role == "process":  # traced: every put makes an item, a get uses it up
                lookups["put"][a.index] = key("rate:" + a.name)
                lookups["end"][a.index] = key("got:" + a.name)
        self._lk = lookups
        self._producer = lookups["put"] >= 0
        self._producer[[a.index for a in actors if a.role not in ("producer", "process")]] = False
        self._sink = lookups["end"] >= 0
        self.rate.grow(len(self.keys))

    def rates(self, t: int) -> dict[str, float]:
        """Items/s over the last second, per key: ``rate:<actor>`` (producers: put,
        consumers: finished, stage workers: passed on), ``in:<group>``, ``out:<group>``."""
        values = self.rate.rates(t)
        return {k: float(values[n]) for n, k in enumerate(self.keys)}

    # ------------------------------------------------------------ feeding
    def feed(self, events: Sequence[Event], r: Reducer) -> None:
        """Take in this frame's applied events (time order), after the reducer did."""
        if not events:
            return
        cols = list(zip(*events, strict=True))
        t = np.array(cols[0], dtype=np.int64)
        actor = np.array(cols[2], dtype=np.int64)
        kind = np.array(cols[3], dtype=np.int64)
        item = np.array(cols[4], dtype=np.int64)
        queue = np.array(cols[5], dtype=np.int64)
        known = (actor >= 0) & (actor < len(self._producer) - 1)
        actor = np.where(known, actor, len(self._producer) - 1)  # -1 row: no keys
        flags = np.array(cols[9], dtype=np.int64)
        aux = np.array(cols[7], dtype=np.int64)  # a put's priority
        data = item > 0
        put = (kind == _PUT) & data
        get = (kind == _GET) & data
        # a get whose item was used up at once is its end too (FLAG_CONSUMED)
        end = ((kind == _END) | (get & ((flags & FLAG_CONSUMED) != 0))) & data
        n = np.ones(len(t), dtype=np.float64)
        if self.batches:  # PUT_DONE / GET_DONE carry the entry's item count
            vals = cols[6]
            for j in np.flatnonzero(put | get).tolist():
                v = vals[j]
                n[j] = v if isinstance(v, int) else 1
            # a WORK_END counts what its GET_DONE got (in this frame or before)
            sizes = self._sizes
            for j in np.flatnonzero((get & ~end) | ((kind == _END) & data)).tolist():
                i = int(item[j])
                if kind[j] == _GET:
                    if n[j] != 1:
                        sizes[i] = int(n[j])
                else:
                    n[j] = sizes.pop(i, 1)
        self._count_rates(t, actor, put, get, end, n)
        rare = np.flatnonzero(np.isin(kind, _RARE))
        for i in rare.tolist():
            self._on_rare(events[i])
        self._sojourn(t, actor, item, put, end, n)
        if self.arrivals:
            for qi in self.arrivals:
                self._orders(qi, t, item, queue, put, get, aux)
        if len(self._join_q):
            done = (kind == _TD) | ((kind == _GET) & ((flags & FLAG_TASK_DONE) != 0))
            jq = np.isin(queue, self._join_q) & ((kind == _PUT) | done)
            for i in np.flatnonzero(jq).tolist():
                e = events[i]
                if e[3] == _PUT:
                    self.outstanding[e[5]][e[4]] = e[0]
                else:
                    self.outstanding[e[5]].pop(e[4], None)

    def _count_rates(
        self,
        t: np.ndarray,
        actor: np.ndarray,
        put: np.ndarray,
        get: np.ndarray,
        end: np.ndarray,
        n: np.ndarray,
    ) -> None:
        lk = self._lk
        parts_t, parts_k, parts_n = [], [], []
        for mask, table in (
            (put, "put"),
            (put, "put2"),
            (get, "get"),
            (end, "end"),
            (end, "end2"),
        ):
            keys = np.where(mask, lk[table][actor], -1)
            sel = keys >= 0
            if sel.any():
                parts_t.append(t[sel])
                parts_k.append(keys[sel])
                parts_n.append(n[sel])
        if parts_t:
            tt = np.concatenate(parts_t)
            order = np.argsort(tt, kind="stable")
            keys, counts = np.concatenate(parts_k), np.concatenate(parts_n)
            self.rate.add(tt[order], keys[order], counts[order])

    def _on_rare(self, e: Event) -> None:
        kind, a = e[3], e[2]
        if kind == K.ACTOR_STARTED:
            self.started.setdefault(a, e[0])
        elif kind in (K.ACTOR_EXITED, K.ACTOR_CRASHED):
            self.ended.setdefault(a, e[0])
        elif kind == K.JOIN_WAIT:
            self.join_wait.setdefault(e[5], (a, e[0]))
        elif kind == K.JOIN_DONE:
            self.join_done.setdefault(e[5], e[0])

    def _sojourn(
        self,
        t: np.ndarray,
        actor: np.ndarray,
        item: np.ndarray,
        put: np.ndarray,
        end: np.ndarray,
        n: np.ndarray,
    ) -> None:
        arrive = put & self._producer[actor]
        if arrive.any():
            self._entered.update(zip(item[arrive].tolist(), t[arrive].tolist(), strict=True))
            if not self.first_arrival:
                self.first_arrival = int(t[arrive][0])
        leave = end & self._sink[actor]
        if leave.any():
            pop = self._entered.pop
            t_in = np.array([pop(i, -1) for i in item[leave].tolist()], dtype=np.int64)
            ok = t_in >= 0
            w = n[leave][ok]
            self.sojourn_ns += int(((t[leave][ok] - t_in[ok]) * w).sum())
            self.sojourn_n += int(w.sum())

    def _orders(
        self,
        qi: int,
        t: np.ndarray,
        item: np.ndarray,
        queue: np.ndarray,
        put: np.ndarray,
        get: np.ndarray,
        aux: np.ndarray,
    ) -> None:
        here = queue == qi
        is_prio = qi in self._prio_q
        puts = put & here
        if puts.any():
            items, times = item[puts].tolist(), t[puts].tolist()
            prios = aux[puts].tolist() if is_prio else [0] * len(items)
            self._put_t[qi].update(zip(items, times, strict=True))
            if is_prio:
                self._put_p[qi].update(zip(items, prios, strict=True))
            k = -ORDER_KEEP
            self.arrivals[qi].extend(zip(items[k:], prios[k:], times[k:], strict=True))
        gets = get & here
        if gets.any() and not is_prio:  # FIFO: one level, done in columns
            put_t = self._put_t[qi]
            items, tg = item[gets].tolist(), t[gets]
            tp = np.array([put_t.pop(i, -1) for i in items], dtype=np.int64)
            waited = np.where(tp >= 0, tg - tp, 0).clip(0)
            level = self.waits[qi].setdefault(0, WaitStats())
            level.count += len(items)
            level.total_ns += int(waited.sum())
            level.max_ns = max(level.max_ns, int(waited.max()))
            k = -ORDER_KEEP
            self.services[qi].extend(
                (i, 0, a, b)
                for i, a, b in zip(items[k:], tg[k:].tolist(), waited[k:].tolist(), strict=True)
            )
        elif gets.any():
            put_t, put_p = self._put_t[qi], self._put_p[qi]
            stats = self.waits[qi]
            served = []
            for i, t_get in zip(item[gets].tolist(), t[gets].tolist(), strict=True):
                t_put = put_t.pop(i, None)
                wait = max(0, t_get - t_put) if t_put is not None else 0
                p = put_p.pop(i, 0)
                stats.setdefault(p, WaitStats()).add(wait)
                served.append((i, p, t_get, wait))
            self.services[qi].extend(served[-ORDER_KEEP:])
