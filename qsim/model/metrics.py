"""Figures derived from the reducer: latency percentiles, throughput, report."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from qsim.model.events import describe_item
from qsim.model.state import CRASHED, QueueState, Reducer

_ITEMS = re.compile(r"\((\d+) items\)")


def latency_ms(r: Reducer) -> dict[str, float]:
    """Time in queue (put done -> get done) of the items seen so far, in ms."""
    if not r.latency_ns:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0}
    a = np.fromiter(r.latency_ns, dtype=np.int64, count=len(r.latency_ns))
    p50, p95 = np.percentile(a, [50, 95])
    return {
        "p50": round(float(p50) / 1e6, 3),
        "p95": round(float(p95) / 1e6, 3),
        "max": round(r.latency_max_ns / 1e6, 3),
    }


def throughput(r: Reducer) -> float:
    """Items finished per second, from the first event to the last finish."""
    last = max((a.last_done_t for a in r.actors), default=0)
    if not last or not r.first_t:
        return 0.0
    span = (last - r.first_t) / 1e9
    done = r.acct.consumed
    return done / span if span > 0 else 0.0


def internals(r: Reducer, q: QueueState) -> dict[str, Any]:
    """Where a watched queue's items are: each putting process's feeder buffer,
    the pipe (items, the bytes they were written with, and what the pipe itself
    said it holds, FIONREAD, -1 if it could not tell), and its capacity."""
    names = r.topology.names
    per: dict[str, int] = {}
    for actor in q.buffered.values():
        name = names[actor] if 0 <= actor < len(names) else f"A{actor}"
        per[name] = per.get(name, 0) + 1
    return {
        "in_buffers": len(q.buffered),
        "in_buffers_by_process": per,
        "pipe_items": len(q.pipe),
        "pipe_bytes": q.pipe_bytes,
        "pipe_fionread": q.fionread,
        "pipe_capacity": q.pipe_capacity,
    }


def build_report(r: Reducer, **head: Any) -> dict[str, Any]:
    """The JSON report of ``qsim run --headless --json``."""
    topo = r.topology
    ac = r.acct
    queues = {
        q.id: {
            "kind": q.kind,
            "maxsize": q.maxsize,
            "puts": q.puts,
            "gets": q.gets,
            "max_depth": q.max_depth,
            "final_depth": q.depth,
            "full": q.full,
            "empty": q.empty,
            "unfinished_tasks": q.unfinished,
            "task_done_errors": q.task_done_errors,
            "contents": [topo_item(r, i) for i in q.contents[:50]],
            **(internals(r, q) if q.observed else {}),
        }
        for q in r.queues
    }
    actors = {
        a.name: {
            "role": a.role,
            "items": a.items,
            "failed": a.failed,
            "blocked_s": round(a.blocked_ns / 1e9, 4),
            "waiting_s": round(a.waiting_ns / 1e9, 4),
            "working_s": round(a.working_ns / 1e9, 4),
            "errors": a.errors,
            "put_timeouts": a.put_timeouts,
            "get_timeouts": a.get_timeouts,
            "task_done": a.task_done,
            "sentinels_sent": a.sentinels_sent,
            "sentinels_received": a.sentinels_received,
            "state": "hung" if a.hung else a.state,
            "exit_code": a.exit_code,
            "last_error": a.last_error,
            **({"hung_reason": a.hung_reason} if a.hung else {}),
        }
        for a in r.actors
        if a.started or topo.actors[a.index].role != "main"
    }
    report = {
        **head,
        "invariant_violations": r.violations,
        "violation_notes": r.violation_notes[:10],
        "queues": queues,
        "actors": actors,
        "accounting": {
            "produced": ac.produced,
            "consumed": ac.consumed,
            "processed": ac.processed,
            "failed": ac.failed,
            "in_queue": r.in_queues(),
            "in_hands": r.in_hands(),
            "lost": ac.lost,
            "lost_reasons": ac.lost_reasons[:20],
            "lost_by_reason": lost_by_reason(ac.lost_reasons),
            "dropped_on_full": ac.dropped,
            "closes": r.accounting_closes(),
        },
        "marks": dict(sorted(r.marks.items())),
        "throughput_items_per_s": round(throughput(r), 2),
        "latency_ms": latency_ms(r),
        "hung": sorted(a.name for a in r.actors if a.hung),
        "crashed": sorted(a.name for a in r.actors if a.state == CRASHED),
    }
    if "finished" in head:
        report["verdict"] = verdict(report)
    return report


def lost_by_reason(reasons: list[str]) -> dict[str, int]:
    """Lost items counted by reason (``P1#64 (64 items) in q: why`` counts 64
    for ``why``): the reasons of every lost item, however many."""
    out: dict[str, int] = {}
    for text in reasons:
        head, _, why = text.partition(": ")
        m = _ITEMS.search(head)
        out[why] = out.get(why, 0) + (int(m.group(1)) if m else 1)
    return out


def verdict(report: dict[str, Any]) -> str:
    """How a run ended, in one word: ``hung``, ``crashed`` (it ended, and a
    process crashed), ``finished``, or ``time limit`` (still going when stopped)."""
    if report.get("hung"):
        return "hung"
    if not report.get("finished"):
        return "time limit"
    return "crashed" if report.get("crashed") else "finished"


def topo_item(r: Reducer, item: int) -> str:
    """An item as the views label it: its object's repr (traced), else ``P1#3``."""
    return r.item_repr.get(item) or describe_item(item, r.topology.names)


def traced_details(r: Reducer, report: dict[str, Any]) -> None:
    """What a traced program's report adds: pids, puts, lines, internal parts."""
    for a in r.actors:
        row = report["actors"].get(a.name)
        if row is None or a.role != "process":
            continue
        row.update(
            pid=a.pid,
            puts=a.puts,
            gets=a.items,
            parent=r.actors[a.parent].name if 0 <= a.parent < len(r.actors) else None,
            internal=a.internal,
            line=f"{a.line[0]}:{a.line[1]}" if a.line else None,
        )
    for q in r.queues:
        report["queues"][q.id]["internal"] = q.internal
