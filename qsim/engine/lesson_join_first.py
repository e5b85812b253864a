"""The join-before-drain main (pitfall-join-before-drain).

The main process starts the producers itself and ``join()``s them before
draining their queue: the deadlock from the ``multiprocessing`` programming
guidelines. A producer cannot exit while its queue's feeder thread still has
items to write into a full pipe, and nobody reads the pipe until the joins
return. Nothing here imports Qt.
"""

from __future__ import annotations

import os
import threading
import time
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection, Pipe
from multiprocessing.process import parent_process
from typing import Any

from qsim.engine.control import SLICE_S, RunControl, live_slot
from qsim.engine.runtime import Runtime
from qsim.engine.workers import _run_actor, make_item, send_stops
from qsim.model.events import EventKind, ItemKind
from qsim.model.scenario import ProducerSpec

K = EventKind
_DATA, _SENTINEL = int(ItemKind.DATA), int(ItemKind.SENTINEL)


def start_join_first(run: Any, actor: int) -> None:
    """Start ``main`` of a ``join_producers_first`` scenario: it starts the
    producers itself (a process can only ``join()`` its own children).

    Each producer still reports through its own pipe to the run's collector:
    the run makes the pipes and ``main`` hands the write ends on.
    """
    sc, topo = run.scenario, run.topology
    groups = {p.id: n for n, p in enumerate(sc.producers)}
    producers = []
    ends = []
    for a in topo.actors:
        if a.role != "producer":
            continue
        spec = sc.producers[groups[a.group]]
        r, w = Pipe(duplex=False)
        run.collector.add(r, a.index)
        qi = a.output_queue
        qspec = sc.queues[qi]
        producers.append(
            (a.index, a.name, groups[a.group], spec, run.queues[qi], qspec.kind, qi, qspec.id)
        )
        ends.append(w)
    run._spawn(
        actor, join_first_main, (tuple(producers), tuple(ends)), (run.seed, run.start_method)
    )
    for w in ends:
        w.close()  # the producers hold theirs: EOF comes when they end


def join_first_main(
    actor: int,
    producers: tuple[tuple[int, str, int, ProducerSpec, Any, str, int, str], ...],
    ends: tuple[Connection, ...],
    conn: Connection,
    ctl: RunControl,
    seed: int,
    start_method: str,
) -> None:
    """Start the producers, ``join()`` each, and only then drain the queue."""
    rt = Runtime(actor, conn, ctl, seed)
    q0, kind0, qi0 = producers[0][4:7]
    qa = rt.adapter(q0, kind0, qi0)
    children: list[tuple[str, Any]] = []
    # A daemonic process may not have children, because it would be killed
    # without cleaning them up. This one stops its children itself (below),
    # and they watch it, so it may.
    current_process().daemon = False
    ctx: Any = get_context(start_method)

    def body() -> None:
        for (pa, name, group, spec, q, kind, qi, qid), w in zip(producers, ends, strict=True):
            p = ctx.Process(
                target=_join_first_producer,
                args=(pa, spec, group, q, kind, qi, qid, w, ctl, seed),
                name=f"qsim-{name}",
                daemon=True,
            )
            p.start()
            w.close()
            children.append((name, p))
        for name, p in children:
            rt.emit(K.JOIN_WAIT, 0, -1, f"{name}.join()")
            rt.flush()
            while p.is_alive():
                rt.check_stop()
                p.join(SLICE_S)
            rt.emit(K.JOIN_DONE, 0, -1, f"{name}.join()")
        expected = sum(info[3].items for info in producers)
        got = 0
        while got < expected:
            _ok, obj = rt.get(qa, qi0, 0.0, True)  # drained: used up at once
            if obj[0] == _SENTINEL:
                rt.emit(K.SENTINEL_RECEIVED, obj[1], qi0, None)
                continue
            got += 1

    def guarded() -> None:
        try:
            body()
        finally:
            for _, p in children:
                if p.is_alive():
                    p.terminate()
                    p.join(0.5)
                if p.is_alive():
                    p.kill()
                    p.join(1.0)

    _run_actor(rt, [qa], guarded)


def _guard_orphan(ctl: RunControl) -> None:
    """Leave if the run stops or the parent dies, even while stuck at exit
    (waiting for the feeder thread is not a place our loop can look)."""
    parent = parent_process()

    def watch() -> None:
        stop_seen = 0
        while True:
            time.sleep(0.1)
            stop_seen = stop_seen + 1 if ctl.stop.value else 0
            if stop_seen > 5 or (parent is not None and not parent.is_alive()):
                os._exit(0)

    threading.Thread(target=watch, name="qsim-orphan-guard", daemon=True).start()


def _join_first_producer(
    actor: int,
    spec: ProducerSpec,
    group: int,
    q: Any,
    kind: str,
    qi: int,
    qid: str,
    conn: Connection,
    ctl: RunControl,
    seed: int,
) -> None:
    """Put the items, then do explicitly what every process does at exit:
    wait for the queue's feeder thread to write them all into the pipe."""
    _guard_orphan(ctl)
    rt = Runtime(actor, conn, ctl, seed)
    qa = rt.adapter(q, kind, qi)
    slot_interval = live_slot("producer", group, "interval")

    def body() -> None:
        payload = b"x" * spec.payload_bytes if spec.payload_bytes else None
        for n in range(1, spec.items + 1):
            item = make_item(rt, actor, n, ctl.live[slot_interval], spec)
            rt.put(qa, qi, (_DATA, item, 0, payload))
        send_stops(rt, qa, qi, actor, spec.sentinels)
        if qa.watch is not None:  # its writes are watched: say what is left, item by item
            rt.wait_for_feeders()
            return
        if not hasattr(q, "join_thread"):
            return  # no feeder thread (a manager's queue): nothing to wait for
        q.close()
        flusher = threading.Thread(target=q.join_thread, daemon=True)
        flusher.start()
        flusher.join(0.1)
        if flusher.is_alive():
            what = f"{qid}.join_thread(): its feeder thread cannot write the rest into the pipe"
            rt.emit(K.JOIN_WAIT, 0, -1, what)
            rt.flush()
            while flusher.is_alive():
                rt.check_stop()
                flusher.join(SLICE_S)
            rt.emit(K.JOIN_DONE, 0, -1, f"{qid}.join_thread()")

    _run_actor(rt, [qa], body)
