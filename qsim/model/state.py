"""The state reducer: turns the event stream into what the views show.

Events from different processes arrive out of order (each worker flushes its
own buffer every ~10 ms). The reducer holds them for a short reorder window,
then applies them in timestamp order. Two kinds of causality are repaired
rather than trusted to the clocks, because a put's timestamp is taken after
the call returns while the item may already be in the consumer's hands:

* a get of an item whose put is not applied yet: the get's queue side waits
  for the put;
* a put into a full queue whose freeing get is not applied yet: the item waits
  in an overflow list until a get makes room.

So the views never show an impossible state (negative depth, depth above
``maxsize``, an item got before it was put); whatever cannot be repaired by
the end is counted in ``violations``.
"""

from __future__ import annotations

import operator
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable

from qsim.model.entities import (  # re-exported: the views name states from here
    BLOCKED_PUT,
    CRASHED,
    FINISHED,
    IDLE,
    JOIN_WAIT,
    STARTING,
    WAITING_GET,
    WAITING_STATES,
    WORKING,
    Accounting,
    ActorState,
    Note,
    QueueState,
)
from qsim.model.events import EXIT_WAIT, Event, EventKind, describe_item, is_sentinel
from qsim.model.losses import LossRules
from qsim.model.topology import ActorInfo, Topology
from qsim.model.traced import TracedTopology
from qsim.model.waits import waits
from qsim.model.wire import FLAG_CONSUMED, FLAG_TASK_DONE, VT_INT, VT_STR

__all__ = [
    "BLOCKED_PUT",
    "CRASHED",
    "FINISHED",
    "IDLE",
    "JOIN_WAIT",
    "STARTING",
    "WAITING_GET",
    "WAITING_STATES",
    "WORKING",
    "Accounting",
    "ActorState",
    "Note",
    "QueueState",
    "Reducer",
]

K = EventKind
_TIME = operator.itemgetter(0)
_at = deque.__getitem__  # Contents' own __getitem__ (slices too) is Python: slower
_PROCESS_STARTED = int(K.PROCESS_STARTED)
#: item reprs kept before the old ones are pruned (``TracedTopology.prune_reprs``)
REPRS_MAX = 200_000


class Reducer(TracedTopology, LossRules):
    """Applies events (in time order, after ``reorder_ns``) to a run's state.

    A traced program's topology grows from its events (``TracedTopology``);
    what a killed process took with it is accounted by ``LossRules``.
    """

    def __init__(self, topology: Topology, reorder_ns: int = 50_000_000) -> None:
        self.topology = topology
        self.reorder_ns = reorder_ns
        self.queues = [QueueState(q.index, q.id, q.kind, q.maxsize) for q in topology.queues]
        for q, qinfo in zip(self.queues, topology.queues, strict=True):
            q.internal, q.observed = qinfo.internal, qinfo.observed
        self.actors = [ActorState(a.index, a.name, a.role) for a in topology.actors]
        for info, a in zip(topology.actors, self.actors, strict=True):
            a.sink = info.output_queue < 0
        self.acct = Accounting()
        self.violations = 0
        self.violation_notes: list[str] = []
        self.applied = 0
        self.last_t = 0  # time of the newest applied event
        self.first_t = 0
        self.marks: dict[str, int] = {}
        self.entry_size: dict[int, int] = {}  # batch entry id -> its items (absent: 1)
        self.put_time: dict[int, int] = {}  # entry id -> time of its put
        self.priority: dict[int, int] = {}
        #: short repr of each item's object (traced programs: the real payload)
        self.item_repr: dict[int, str] = {}
        #: the latest items' time in queue: enough for percentiles, bounded memory
        self.latency_ns: deque[int] = deque(maxlen=20_000)
        self.latency_max_ns = 0
        #: (time, actor, items) of each finished item: throughput windows
        self.completions: deque[tuple[int, int, int]] = deque(maxlen=512)
        #: recent notable events in plain words, newest last (the caption line)
        self.notes: deque[Note] = deque(maxlen=200)
        self._pending: list[Event] = []
        #: the events the last ``advance``/``flush`` applied, in order (views animate them)
        self.last_applied: list[Event] = []
        #: sees the events of every ``advance``/``flush`` in applied order, and
        #: whether the run was settled (``flush``): a recorder
        self.on_applied: Callable[[list[Event], bool], None] | None = None
        self._early_gets: dict[int, tuple[int, int]] = {}  # item -> (queue, time)
        self._failed: set[int] = set()  # items whose processing failed
        self._handlers: list[Callable[[Event], None] | None] = [None] * 100
        for kind in K:
            h = getattr(self, "_on_" + kind.name.lower(), None)
            self._handlers[kind] = h

    def add_actor(self, info: ActorInfo) -> None:
        """A worker joined the run live (pipeline + button): give it a state row."""
        if info.index != len(self.actors):
            raise ValueError(f"actor {info.name} must have index {len(self.actors)}")
        self.topology = Topology((*self.topology.actors, info), self.topology.queues)
        self.actors.append(ActorState(info.index, info.name, info.role))
        self.actors[-1].sink = info.output_queue < 0

    # ------------------------------------------------------------ feeding
    def feed(self, batch: Iterable[Event]) -> None:
        self._pending.extend(batch)

    def advance(self, now_ns: int) -> int:
        """Apply every held event older than the reorder window; return how many."""
        self.last_applied = []
        if not self._pending:
            return 0
        pending = self._pending
        pending.sort(key=_TIME)  # stable: one actor's same-time events keep their order
        cut = bisect_right(pending, now_ns - self.reorder_ns, key=_TIME)
        if not cut:
            return 0
        ready = pending[:cut]
        self._pending = pending[cut:]
        self._apply(ready)
        self.last_applied = ready
        if self.on_applied is not None:
            self.on_applied(ready, False)
        return cut

    def apply_until(self, t_ns: int) -> int:
        """Apply every held event at or before ``t_ns`` (a displayed instant that
        already lags behind the reorder window); return how many."""
        return self.advance(t_ns + self.reorder_ns)

    def upcoming(self) -> list[Event]:
        """The events held and not applied yet, in time order (do not change it)."""
        self._pending.sort(key=_TIME)
        return self._pending

    def flush(self) -> int:
        """Apply everything held (end of a run); settle what could not be repaired."""
        n = len(self._pending)
        ready: list[Event] = []
        if n:
            self._pending.sort(key=_TIME)
            ready, self._pending = self._pending, []
            self._apply(ready)
            self.last_applied = ready
        if self.on_applied is not None:
            self.on_applied(ready, True)
        self._settle_early_gets(self._violation)
        for q in self.queues:
            if q.overflow:
                self._violation(f"{q.id} would hold more than maxsize={q.maxsize}")
        return n

    def replay(self, events: list[Event]) -> None:
        """Apply ``events`` in the order given: a recording's, already in applied order."""
        self._apply(events)
        self.last_applied = events

    @property
    def held(self) -> int:
        return len(self._pending)

    def _apply(self, events: list[Event]) -> None:
        handlers = self._handlers
        actors = self.actors
        n_actors = len(actors)
        for e in events:
            a = e[2]
            if a >= n_actors or a < 0:
                if e[3] != _PROCESS_STARTED or not self.grow_actors(a):
                    self._violation(f"event from unknown actor {a}")
                    continue
                n_actors = len(actors)
            h = handlers[e[3]] if e[3] < 100 else None
            if h is not None:
                try:
                    h(e)
                except IndexError:  # a queue index this run does not have
                    self._violation(f"event {e[3]} of {actors[a].name} names queue {e[5]}")
        if events:
            if not self.first_t:
                self.first_t = events[0][0]
            self.last_t = max(self.last_t, events[-1][0])
            self.applied += len(events)

    # ------------------------------------------------------------ helpers
    def _violation(self, note: str) -> None:
        self.violations += 1
        if len(self.violation_notes) < 50:
            self.violation_notes.append(note)

    def _label(self, item: int) -> str:
        return describe_item(item, self.topology.names)

    def _set(self, actor: ActorState, state: str, t: int) -> None:
        prev = actor.state
        spent = t - actor.since_ns if actor.since_ns else 0
        if spent > 0:
            if prev == BLOCKED_PUT:
                actor.blocked_ns += spent
            elif prev in (WAITING_GET, JOIN_WAIT):
                actor.waiting_ns += spent
            elif prev == WORKING:
                actor.working_ns += spent
        actor.state = state
        actor.since_ns = t

    def note(self, t: int, text: str, actor: int = -1, holds_while: str = "") -> None:
        """Narrate (the caption): ``text`` stays true while ``actor`` is in the state
        ``holds_while``, or, with no state, is news for a moment."""
        self.notes.append(Note(t, text, actor, holds_while))

    def _record_latency(self, item: int, t_get: int, t_put: int | None = None) -> None:
        tp = self.put_time.pop(item, t_put)
        if tp is None:
            return
        lat = max(0, t_get - tp)
        self.latency_ns.append(lat)
        if lat > self.latency_max_ns:
            self.latency_max_ns = lat

    # ------------------------------------------------------------ handlers
    def _on_actor_started(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.started = True
        if not a.started_ns:
            a.started_ns = e[0]
        self._set(a, IDLE, e[0])

    def _on_actor_exited(self, e: Event) -> None:
        a = self.actors[e[2]]
        if isinstance(e[6], int):  # a traced process's exit code
            a.exit_code, a.exit_reason = e[6], "finished"
        else:
            a.exit_reason = str(e[6] or "")
        if a.exit_code is None:
            a.exit_code = 0
        self._lose_holdings(a, f"in {a.name}'s hands when it was stopped")
        if a.torn_queue >= 0:
            self._torn_over(a, got=False)
        self._set(a, FINISHED, e[0])
        a.paused = False
        # stopped (or terminated) because it hung: still shown hung
        a.hung = a.hung and a.exit_reason in ("stop", "terminated")

    def _on_actor_crashed(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.exit_code = int(e[6]) if isinstance(e[6], int) else None
        a.started = True
        self._lose_holdings(a, f"in {a.name}'s hands when it crashed (exit code {a.exit_code})")
        if a.torn_queue >= 0:
            self._torn_over(a, got=False)
        self._set(a, CRASHED, e[0])
        a.paused = a.hung = False
        self.note(e[0], f"{a.name} crashed (exit code {a.exit_code})", a.index, CRASHED)
        self._torn_writer_died(a, e[0])

    def _lose_holdings(self, a: ActorState, why: str) -> None:
        for item, n in a.holding.items():
            if not is_sentinel(item):
                self._lose(item, n, why)
        a.holding.clear()
        a.item = 0

    def _on_put_blocked(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.item, a.queue = e[4], e[5]
        if e[8] == VT_STR:
            self.item_repr[e[4]] = e[6]  # type: ignore[assignment]
        q = self.queues[e[5]]
        self._set(a, BLOCKED_PUT, e[0])
        self.note(
            e[0],
            f"{a.name} is blocked in put(): queue {q.id} is full ({q.depth}/{q.maxsize})",
            a.index,
            BLOCKED_PUT,
        )

    def _on_put_done(self, e: Event) -> None:
        # the hottest handler with _on_get_done: common cases inlined
        a = self.actors[e[2]]
        item, q, t = e[4], self.queues[e[5]], e[0]
        vt = e[8]
        if vt == VT_INT:
            n: int = e[6]  # type: ignore[assignment]
        else:
            n = 1
            if vt == VT_STR:  # a traced put: the value is the object's repr
                self.item_repr[item] = e[6]  # type: ignore[assignment]
                if len(self.item_repr) > REPRS_MAX:
                    self.prune_reprs()
        if a.state == BLOCKED_PUT:
            self._set(a, a.resume_state, t)
        q.puts += 1
        if q.joinable:
            q.unfinished += 1
        if n != 1:  # only batches: a dict entry per item would grow without end
            self.entry_size[item] = n
        if item > 0:
            role = a.role
            if role == "producer":
                a.items += n
                self.acct.produced += n
            elif role == "stage":  # its WORK_END finds the hand empty: count it here
                a.items += n
            elif role == "process":  # a traced process: every put makes an item
                a.puts += n
                self.acct.produced += n
            if a.holding:
                a.holding.pop(item, None)
        a.item = 0
        if item in self._early_gets:  # its get was applied first: settle it now
            del self._early_gets[item]
            self._record_latency(item, t, t)
            if q.observed:  # through the buffer and the pipe already
                q.early_writes.pop(item, None)
            return
        if q.observed:  # in the putting process's feeder buffer, until written
            size = q.early_writes.pop(item, None)
            if size is None:
                q.buffered[item] = a.index
            else:  # written as it was put (SimpleQueue, or a quick feeder thread)
                q.pipe.append(item)
                q.piped[item] = size
                q.pipe_bytes += size
        self.put_time[item] = t
        if e[7]:
            self.priority[item] = e[7]
        c = q.contents
        cap = q.cap
        if cap and len(c) >= cap:  # its freeing get is not applied yet: wait for it
            q.overflow.append(item)
        elif q.prioritised:
            q.insert(item, self.priority)
        else:
            c.append(item)
            if len(c) > q.max_depth:
                q.max_depth = len(c)

    def _on_feeder_write(self, e: Event) -> None:
        """The item left its feeder buffer: it is (being) written into the pipe."""
        q = self.queues[e[5]]
        item = e[4]
        size: int = e[6] if e[8] == VT_INT else 0  # type: ignore[assignment]
        if not q.observed or item in q.piped:
            return
        if q.buffered.pop(item, None) is None:  # its put is not applied yet
            q.early_writes[item] = size
            return
        q.pipe.append(item)
        q.piped[item] = size
        q.pipe_bytes += size

    def _read_from_pipe(self, q: QueueState, item: int) -> None:
        size = q.piped.pop(item, None)
        if size is None:  # got before its write was applied: it went through
            q.buffered.pop(item, None)
            q.early_writes.pop(item, None)
            return
        q.pipe_bytes -= size
        pipe = q.pipe
        if pipe and _at(pipe, 0) == item:
            pipe.popleft()
        else:
            pipe.remove(item)

    def _on_put_timeout(self, e: Event) -> None:
        a = self.actors[e[2]]
        q = self.queues[e[5]]
        self._set(a, a.resume_state, e[0])
        a.put_timeouts += 1
        q.full += 1
        if a.role == "producer":
            self.acct.dropped += self.entry_size.get(e[4], 1)
        a.item = 0
        self.note(
            e[0], f"{a.name}: put(timeout) raised queue.Full on {q.id}; the item was dropped"
        )

    def _on_get_waiting(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.queue = e[5]
        self._set(a, WAITING_GET, e[0])

    def _on_get_done(self, e: Event) -> None:
        a = self.actors[e[2]]
        item, q, t = e[4], self.queues[e[5]], e[0]
        n: int = e[6] if e[8] == VT_INT else 1  # type: ignore[assignment]
        if a.state == WAITING_GET or a.state == STARTING:
            if a.torn_queue >= 0:  # the rest of the item came after all
                self._torn_over(a, got=True)
            self._set(a, a.resume_state, t)
        q.gets += 1
        if q.observed:
            self._read_from_pipe(q, item)
        c = q.contents
        if c and _at(c, 0) == item and not q.overflow:  # the common case, inlined
            c.popleft()
            tp = self.put_time.pop(item, None)
            if tp is not None:
                lat = t - tp if t > tp else 0
                self.latency_ns.append(lat)
                if lat > self.latency_max_ns:
                    self.latency_max_ns = lat
        elif q.remove(item, self.priority):
            self._record_latency(item, t)
        else:
            self._early_gets[item] = (q.index, t)
        if q.prioritised:  # out of the queue: its priority is not needed any more
            self.priority.pop(item, None)
        if e[9] & FLAG_CONSUMED:  # used up at once: got and done in one event
            if n != 1:
                self.entry_size.pop(item, None)
            if e[9] & FLAG_TASK_DONE:  # and its task_done() called
                a.task_done += 1
                if q.unfinished > 0:
                    q.unfinished -= 1
                else:
                    self._violation(f"task_done() on {q.id} below zero")
            a.items += n
            a.item = 0
            if a.sink:
                if item in self._failed:
                    self._failed.discard(item)
                    self.acct.failed += n
                    a.failed += n
                else:
                    self.acct.processed += n
                self.completions.append((t, a.index, n))
                if not a.first_done_t:
                    a.first_done_t, a.first_done_n = t, n
                a.last_done_t = t
            return
        a.holding[item] = n
        a.item = item
        if a.role != "producer" and item > 0:
            self._set(a, WORKING, t)  # holding an item is working on it

    def _on_get_timeout(self, e: Event) -> None:
        a = self.actors[e[2]]
        self._set(a, a.resume_state, e[0])
        a.get_timeouts += 1
        self.queues[e[5]].empty += 1

    def _on_task_done(self, e: Event) -> None:
        a = self.actors[e[2]]
        q = self.queues[e[5]]
        a.task_done += 1
        if q.unfinished <= 0:
            self._violation(f"task_done() on {q.id} below zero")
            return
        q.unfinished -= 1

    def _on_task_done_error(self, e: Event) -> None:
        a = self.actors[e[2]]
        q = self.queues[e[5]]
        a.errors += 1
        a.last_error = str(e[6])
        q.task_done_errors += 1
        q.last_task_done_error = str(e[6])
        self.note(e[0], f"{a.name}: task_done() raised {e[6]}")

    def _on_join_wait(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.queue = e[5]
        self._set(a, JOIN_WAIT, e[0])
        a.join_what = str(e[6]) if e[5] < 0 else ""
        if e[7] == EXIT_WAIT:  # its code is done, its feeder thread is not
            a.exit_wait = True
            why = str(e[6])  # "19 items still in its feeder buffer", or what it waits for
            why = why if why[:1].isdigit() else f"it waits for {why}"
            text = f"{a.name} has finished its code but cannot exit: {why}"
            self.note(e[0], text, a.index, JOIN_WAIT)
            return
        if e[5] < 0:  # joining a process or a feeder thread: the value names it
            self.note(e[0], f"{a.name} waits in {e[6]}", a.index, JOIN_WAIT)
            return
        q = self.queues[e[5]]
        self.note(
            e[0],
            f"{a.name} waits in {q.id}.join(): called with {q.unfinished} tasks unfinished",
            a.index,
            JOIN_WAIT,
        )

    def _on_join_done(self, e: Event) -> None:
        a = self.actors[e[2]]
        self._set(a, a.resume_state, e[0])
        if e[7] == EXIT_WAIT:
            a.exit_wait = False
            self.note(e[0], f"{a.name}: {e[6]}")
            return
        what = e[6] if e[5] < 0 else f"{self.queues[e[5]].id}.join()"
        self.note(e[0], f"{a.name}: {what} returned")

    def _on_work_start(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.item = e[4]
        self._set(a, WORKING, e[0])

    def _on_work_end(self, e: Event) -> None:
        a = self.actors[e[2]]
        self._set(a, IDLE, e[0])
        if a.role != "producer":
            self._finish(a, e[4], e[0])

    def _finish(self, a: ActorState, item: int, t: int) -> None:
        """``a`` is done with ``item``: a sink has consumed it (or it failed)."""
        n = a.holding.pop(item, 0)
        a.items += n
        if a.sink:  # the item is done
            if n != 1:
                self.entry_size.pop(item, None)
            if item in self._failed:
                self._failed.discard(item)
                self.acct.failed += n
                a.failed += n
            else:
                self.acct.processed += n
            self.completions.append((t, a.index, n))
            if not a.first_done_t:
                a.first_done_t, a.first_done_n = t, n
            a.last_done_t = t
        a.item = 0

    def _on_error(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.errors += 1
        a.last_error = str(e[6])
        if e[4]:
            self._failed.add(e[4])

    def _on_item_failed(self, e: Event) -> None:
        self.actors[e[2]].errors += 1

    def _on_sentinel_sent(self, e: Event) -> None:
        self.actors[e[2]].sentinels_sent += 1

    def _on_sentinel_received(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.sentinels_received += 1
        a.holding.pop(e[4], None)
        self.note(e[0], f"{a.name} got the sentinel and stops")

    def _on_paused(self, e: Event) -> None:
        self.actors[e[2]].paused = True

    def _on_resumed(self, e: Event) -> None:
        self.actors[e[2]].paused = False

    def _on_hung(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.hung = True
        a.hung_reason = str(e[6])
        self.note(e[0], f"{a.name} is hung: {e[6]}")

    def _on_phase(self, e: Event) -> None:
        self.actors[e[2]].phase = str(e[6] or "")

    def _on_mark(self, e: Event) -> None:
        key = str(e[6])
        self.marks[key] = self.marks.get(key, 0) + 1

    # ------------------------------------------------------------ queries
    def in_queues(self) -> int:
        """Data items sitting in queues (batches count their items)."""
        size = self.entry_size
        return sum(
            size.get(i, 1) for q in self.queues for i in (*q.contents, *q.overflow) if i > 0
        )

    def in_hands(self) -> int:
        return sum(n for a in self.actors for i, n in a.holding.items() if i > 0)

    def accounting_closes(self) -> bool:
        ac = self.acct
        return ac.produced == ac.consumed + self.in_queues() + self.in_hands() + ac.lost

    def live_actors(self) -> list[ActorState]:
        return [a for a in self.actors if a.alive]

    def stalled_for_ns(self, now_ns: int) -> int:
        return max(0, now_ns - self.last_t) if self.last_t else 0

    def hung_actors(
        self, now_ns: int, hang_after_ns: int, quiet_ns: int | None = None
    ) -> list[ActorState]:
        """Actors waiting with no hope: every live actor waits and nothing moved for a while.

        Waiting is a waiting state, and also ``main`` idle (it waits for the
        producers) and a lane's actor waiting its turn (``waits``).

        ``quiet_ns``: how long nothing has arrived from the processes (default:
        since the newest applied event, ``stalled_for_ns``).
        """
        live = self.live_actors()
        quiet = (
            self.stalled_for_ns(now_ns)
            if quiet_ns is None
            else min(quiet_ns, self.stalled_for_ns(now_ns))
        )
        if not live or self._pending or quiet < hang_after_ns:
            return []
        if any(a.paused for a in live) or not all(map(waits, live)):
            return []
        return live
