"""Worker loops that only some lessons need, beside the usual ones in ``workers``.

This module picks the loop a scenario names (``loop = "..."``); the loops are:

* ``shm_ref`` producer + ``read_payload`` consumer (pitfall-large-objects), in
  ``lesson_shm``: send the *name* of a shared-memory block instead of the data.
* ``inspect_helper`` producer (inspect), here: the tutorial's debugging helper,
  which looks into a ``multiprocessing.Queue`` right after ``put()`` and can
  find it empty because the feeder thread has not written the items into the
  pipe yet.
* ``join_first_main`` (pitfall-join-before-drain), in ``lesson_join_first``:
  the main process starts the producers itself and ``join()``s them before
  draining their queue; ``start_join_first`` starts it.

Like every worker, these are module-level functions with picklable arguments
(they run under ``spawn``), report everything as events, and leave on stop or
when their parent dies. Nothing here imports Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from qsim.engine.control import SLICE_S, RunControl, live_slot
from qsim.engine.lesson_join_first import start_join_first
from qsim.engine.lesson_shm import read_payload_consumer, shm_ref_producer
from qsim.engine.runtime import Runtime
from qsim.engine.workers import (
    _run_actor,
    consumer_main,
    produce_items,
    producer_done,
    producer_main,
)
from qsim.model.events import EventKind
from qsim.model.scenario import ProducerSpec

__all__ = ["consumer_target", "inspect_helper", "producer_target", "start_join_first"]

K = EventKind


def producer_target(loop: str) -> Callable[..., None]:
    """The function a producer process runs (``loop`` from the scenario)."""
    return {"": producer_main, "shm_ref": shm_ref_producer, "inspect_helper": inspect_helper}[loop]


def consumer_target(loop: str) -> Callable[..., None]:
    """The function a consumer process runs (``loop`` from the scenario)."""
    return {"": consumer_main, "read_payload": read_payload_consumer}[loop]


def inspect_helper(
    actor: int,
    spec: ProducerSpec,
    group: int,
    q: Any,
    kind: str,
    qi: int,
    conn: Connection,
    ctl: RunControl,
    seed: int,
    sentinels: int,
) -> None:
    """The tutorial's debugging helper, run in a loop on its own queue.

    Each round puts 3 records, then at once lists the queue the way the helper
    does (``while not q.empty(): q.get_nowait()``) and compares: a
    ``multiprocessing.Queue`` hands items to a feeder thread, so right after
    ``put()`` they may not be in the pipe yet. The verdicts are ``MARK`` events
    ("Items match: False", ...), counted in the report's ``marks``.
    """
    rt = Runtime(actor, conn, ctl, seed)
    qa = rt.adapter(q, kind, qi)
    slot_interval = live_slot("producer", group, "interval")

    def body() -> None:
        numbers = max(1, spec.payload_bytes // 8)  # a record: a list of numbers
        for n, item in produce_items(rt, actor, spec, slot_interval):
            rt.check_stop()
            records = [(n, k, list(range(numbers))) for k in range(3)]
            for rec in records:
                q.put(rec)
            found = []
            while not q.empty():
                found.append(q.get_nowait())
            rt.emit(K.MARK, item, qi, f"Items match: {found == records}")
            if not found:
                rt.emit(K.MARK, item, qi, "queue looked empty right after put()")
            # take back what the helper missed, so that each round starts empty
            missing = len(records) - len(found)
            while missing:
                rt.check_stop()
                ok, _obj = qa.get_wait(SLICE_S)
                missing -= ok
        producer_done(rt, ctl, qa)

    _run_actor(rt, [qa], body)
