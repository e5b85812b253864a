"""``qsim export run.qrec -o run.json``: a recording as Chrome/Perfetto trace JSON.

Open the file in Perfetto (or ``chrome://tracing``) to see a run the way a
profiler would: a track per process with slices for what it was doing
(working, blocked on put, waiting on get, waiting in join), a "queue ops"
track with a short slice per put and get, a depth counter per queue, and a
flow arrow from each item's put to its get. The recording is replayed through
the reducer, so every slice is a state the window showed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import IO, Any

from qsim.model.entities import BLOCKED_PUT, JOIN_WAIT, WAITING_GET, WORKING
from qsim.model.events import EventKind
from qsim.model.metrics import topo_item
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.record.recording import Recording
from qsim.record.replay import CHUNK, Replay

K = EventKind
#: states drawn as slices (idle, starting and finished are the gaps between them)
SLICE_STATES = (WORKING, BLOCKED_PUT, WAITING_GET, JOIN_WAIT)
STATE_TID, OPS_TID = 1, 2
QUEUE_PID_BASE = 10_000  # queue counters live in processes of their own
OP_NS = 1_000  # a put/get slice lasts 1 µs, or less if the next one comes sooner


def export_trace(
    rec: Recording, out: IO[str], progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Write ``rec`` as trace-event JSON to ``out``; returns counts of what was written."""
    return _Exporter(rec, out).run(progress)


class _Exporter:
    def __init__(self, rec: Recording, out: IO[str]) -> None:
        self.rec, self.out = rec, out
        self.first = True
        self.counts = {"slices": 0, "ops": 0, "counters": 0, "flows": 0}
        self.t0 = 0
        self.since: dict[int, tuple[str, int, int]] = {}  # actor -> (state, since, item)
        self.last_op: dict[int, dict[str, Any]] = {}  # actor -> its op slice not yet written
        self.depth: dict[int, int] = {}
        self.flow_of: dict[int, int] = {}  # item -> flow id of its put
        self.next_flow = 1
        self.replay = Replay(rec)
        self.r: Reducer = self.replay.reducer  # the same object at every event

    def emit(self, ev: dict[str, Any]) -> None:
        self.out.write(("" if self.first else ",\n") + json.dumps(ev, separators=(",", ":")))
        self.first = False

    def us(self, t: int) -> float:
        return round((t - self.t0) / 1000, 3)

    def run(self, progress: Callable[[int, int], None] | None) -> dict[str, int]:
        rec = self.rec
        replay = self.replay
        self.t0 = replay.start_t
        self.out.write('{"displayTimeUnit":"ms","traceEvents":[\n')
        traced = rec.meta.traced
        if not traced:  # a program's processes and queues are known at the end
            self._names(rec.meta.final_topology)
        r = self.r
        n = len(rec)
        for done, e in enumerate(replay.follow(n), start=1):
            self._event(e, r)
            if progress is not None and not done % CHUNK:
                progress(done, n)
        if progress is not None:
            progress(n, n)
        end = replay.end_t
        for actor in list(self.since):
            self._close(actor, end)
        for op in self.last_op.values():
            self._write_op(op, None)
        if traced:
            self._names(r.topology)
        self.out.write("\n],\n")
        self.out.write(
            '"otherData":'
            + json.dumps(
                {
                    "qsim": str(rec.meta.raw.get("qsim", "")),
                    "scenario": rec.meta.scenario_id,
                    **({"program": rec.meta.program.path} if rec.meta.program else {}),
                    "start_method": rec.meta.start_method,
                    "events": n,
                }
            )
            + "}\n"
        )
        return self.counts

    def _names(self, topo: Topology) -> None:
        for a in topo.actors:
            pid = a.index + 1
            self._meta("process_name", pid, None, f"{a.name} ({a.role})")
            self._meta("process_sort_index", pid, None, a.index, key="sort_index")
            self._meta("thread_name", pid, STATE_TID, "state")
            self._meta("thread_name", pid, OPS_TID, "queue ops")
        for q in topo.queues:
            self._meta("process_name", QUEUE_PID_BASE + q.index, None, f"queue {q.id} ({q.kind})")

    def _meta(self, what: str, pid: int, tid: int | None, value: Any, key: str = "name") -> None:
        ev: dict[str, Any] = {"ph": "M", "name": what, "pid": pid, "args": {key: value}}
        if tid is not None:
            ev["tid"] = tid
        self.emit(ev)

    def _event(self, e: tuple[Any, ...], r: Reducer) -> None:
        t, actor, kind, item, qi = e[0], e[2], e[3], e[4], e[5]
        if actor < len(r.actors):
            a = r.actors[actor]
            prev = self.since.get(actor)
            if prev is None or prev[0] != a.state:
                self._close(actor, t)
                if a.state in SLICE_STATES:
                    self.since[actor] = (a.state, t, a.item)
        if kind == K.PUT_DONE or kind == K.GET_DONE:
            q = r.queues[qi]
            label = topo_item(r, item)
            op = {
                "ph": "X",
                "cat": "queue",
                "name": f"put {label} -> {q.id}"
                if kind == K.PUT_DONE
                else f"get {label} <- {q.id}",
                "pid": actor + 1,
                "tid": OPS_TID,
                "t": t,
                "args": {"item": label, "queue": q.id, "depth": q.depth},
            }
            flow: dict[str, Any] | None = None
            if kind == K.PUT_DONE:
                fid = self.flow_of[item] = self.next_flow
                self.next_flow += 1
                flow = {"ph": "s", "id": fid}
            else:
                fid = self.flow_of.pop(item, 0)
                if fid:
                    flow = {"ph": "f", "bp": "e", "id": fid}
            op["flow"] = flow
            prev_op = self.last_op.get(actor)
            if prev_op is not None:
                self._write_op(prev_op, t)
            self.last_op[actor] = op
            if self.depth.get(qi) != q.depth:
                self.depth[qi] = q.depth
                self.emit(
                    {
                        "ph": "C",
                        "name": "depth",
                        "pid": QUEUE_PID_BASE + qi,
                        "ts": self.us(t),
                        "args": {"depth": q.depth},
                    }
                )
                self.counts["counters"] += 1

    def _write_op(self, op: dict[str, Any], next_t: int | None) -> None:
        t = op.pop("t")
        flow = op.pop("flow")
        dur = OP_NS if next_t is None else max(1, min(OP_NS, next_t - t))
        op["ts"], op["dur"] = self.us(t), round(dur / 1000, 3)
        self.emit(op)
        self.counts["ops"] += 1
        if flow is not None:
            flow.update(cat="item", name="item", pid=op["pid"], tid=OPS_TID, ts=op["ts"])
            self.emit(flow)
            self.counts["flows"] += 1

    def _close(self, actor: int, t: int) -> None:
        prev = self.since.pop(actor, None)
        if prev is None:
            return
        state, since, item = prev
        args = {"item": topo_item(self.r, item)} if item else {}
        self.emit(
            {
                "ph": "X",
                "cat": "state",
                "name": state,
                "pid": actor + 1,
                "tid": STATE_TID,
                "ts": self.us(since),
                "dur": round(max(0, t - since) / 1000, 3),
                "args": args,
            }
        )
        self.counts["slices"] += 1
