"""Check a built scenario: every value in range, every reference known, and
nothing the engine cannot run or the window cannot draw (``qsim.model.limits``).

The first problem found is raised as a ``ScenarioError`` naming the field.
"""

from __future__ import annotations

import math
import re

from qsim.model import limits as L
from qsim.model.scenario import (
    CRASH_MODES,
    DISTRIBUTIONS,
    LANE_MODES,
    ON_SENTINEL,
    QUEUE_KINDS,
    START_METHODS,
    TASK_DONE_MODES,
    ConsumerSpec,
    ProducerSpec,
    QueueSpec,
    Scenario,
)
from qsim.model.scenario_errors import Where, num, show
from qsim.model.scenario_knobs import check_knobs
from qsim.model.scenario_rules import Path, check_field, check_range, check_text, choice
from qsim.model.topology import worker_name

_SCENARIO_ID = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{L.MAX_SCENARIO_ID_CHARS - 1}}}", re.ASCII)
_QUEUE_ID = re.compile(rf"[A-Za-z0-9][A-Za-z0-9_-]{{0,{L.MAX_QUEUE_ID_CHARS - 1}}}", re.ASCII)
_ACTOR_ID = re.compile(rf"[A-Za-z][A-Za-z0-9_-]{{0,{L.MAX_ACTOR_ID_CHARS - 1}}}", re.ASCII)
#: queue kinds that keep a separate copy of each item waiting in them
_COPYING_KINDS = ("PriorityQueue", "ManagerQueue")


def validate(where: Where, sc: Scenario) -> None:
    """Raise ``ScenarioError`` for the first problem of ``sc``."""
    _check_head(where, sc)
    qids = _check_queues(where, sc)
    for n, pr in enumerate(sc.producers):
        _check_producer(where, ("producers", n), pr, qids)
    for n, c in enumerate(sc.consumers):
        _check_consumer(where, ("consumers", n), c, qids)
    _check_main_and_run(where, sc, qids)
    if not sc.producers and not sc.consumers:
        raise where.error(
            ("scenario",),
            "nothing would run: a scenario needs [[producers]] or [[consumers]] tables",
        )
    _check_actors(where, sc)
    _check_pipeline(where, sc)
    _check_held_bytes(where, sc)
    check_knobs(where, sc)


def _check_head(where: Where, sc: Scenario) -> None:
    if not _SCENARIO_ID.fullmatch(sc.id):
        raise where.error(
            ("scenario", "id"),
            "must be lower-case letters, digits and dashes, at most "
            f"{L.MAX_SCENARIO_ID_CHARS}; got {show(sc.id)}",
        )
    check_text(where, ("scenario", "title"), sc.title, L.MAX_TITLE_CHARS)
    check_text(where, ("scenario", "summary"), sc.summary, L.MAX_SUMMARY_CHARS, True)
    check_text(where, ("scenario", "lesson"), sc.lesson, L.MAX_LESSON_CHARS, True)


def _check_queues(where: Where, sc: Scenario) -> dict[str, QueueSpec]:
    if not sc.queues:
        raise where.error(("queues",), "a scenario needs at least one [[queues]] table")
    qids: dict[str, QueueSpec] = {}
    for n, q in enumerate(sc.queues):
        p: Path = ("queues", n)
        if not _QUEUE_ID.fullmatch(q.id):
            raise where.error(
                (*p, "id"),
                f"must be letters, digits, _ and -, at most {L.MAX_QUEUE_ID_CHARS}; "
                f"got {show(q.id)}",
            )
        if q.id in qids:
            raise where.error((*p, "id"), f"queue ids must be unique: {show(q.id)} is taken")
        qids[q.id] = q
        choice(where, (*p, "kind"), q.kind, QUEUE_KINDS)
        check_field(where, p, "queues", q, "maxsize")
        if q.kind == "SimpleQueue" and q.maxsize:
            raise where.error(
                (*p, "maxsize"), "SimpleQueue has no maxsize: it is always unbounded"
            )
        if q.internals and q.kind not in ("Queue", "JoinableQueue", "SimpleQueue"):
            raise where.error(
                (*p, "internals"),
                f"a {q.kind} keeps its items in the manager process: it has no feeder "
                "buffer or pipe of its own to show (Queue, JoinableQueue, SimpleQueue do)",
            )
    return qids


def _ref(where: Where, path: Path, qid: str, qids: dict[str, QueueSpec]) -> QueueSpec:
    if qid not in qids:
        names = list(qids)
        known = ", ".join(names[:8]) + (f", … ({len(names)} queues)" if len(names) > 8 else "")
        raise where.error(path, f"no queue with id {show(qid)} (queues: {known})")
    return qids[qid]


def _actor_id(where: Where, path: Path, v: str) -> None:
    if not _ACTOR_ID.fullmatch(v):
        raise where.error(
            path,
            f"must be a short name: a letter, then letters, digits, _ or -, at most "
            f"{L.MAX_ACTOR_ID_CHARS}; got {show(v)}",
        )
    if v == "main":
        raise where.error(path, "main is the main process's name: choose another")


def _check_producer(where: Where, p: Path, pr: ProducerSpec, qids: dict[str, QueueSpec]) -> None:
    _actor_id(where, (*p, "id"), pr.id)
    q = _ref(where, (*p, "queue"), pr.queue, qids)
    for name in L.RANGES["producers"]:
        check_field(where, p, "producers", pr, name)
    if pr.items == 0 and pr.duration == 0 and not pr.records:
        raise where.error((*p, "items"), "give items > 0, a duration > 0, or records")
    choice(where, (*p, "distribution"), pr.distribution, DISTRIBUTIONS)
    choice(where, (*p, "crash_mode"), pr.crash_mode, CRASH_MODES)
    if pr.loop:
        from qsim.model.lessons import PRODUCER_LOOPS

        choice(where, (*p, "loop"), pr.loop, tuple(PRODUCER_LOOPS))
        for name in ("abort_on_failure", "measure_pickle"):
            if getattr(pr, name):
                raise where.error(
                    (*p, name),
                    f"works only with the usual producer loop, not loop = {show(pr.loop)}",
                )
    if len(pr.records) > L.MAX_RECORDS:
        raise where.error((*p, "records"), f"at most {L.MAX_RECORDS:,} records")
    for k, rec in enumerate(pr.records):
        check_text(where, (*p, "records", k), rec, L.MAX_RECORD_CHARS)
    if len(pr.priorities) > L.MAX_PRIORITIES:
        raise where.error((*p, "priorities"), f"at most {L.MAX_PRIORITIES} priorities")
    for k, prio in enumerate(pr.priorities):
        check_range(where, (*p, "priorities", k), prio, *L.PRIORITY_RANGE)
    if pr.priority_weights and len(pr.priority_weights) != len(pr.priorities):
        raise where.error((*p, "priority_weights"), "needs one weight per priority")
    if any(w < 0 for w in pr.priority_weights) or (
        pr.priority_weights and not 0 < sum(pr.priority_weights) < math.inf
    ):
        raise where.error((*p, "priority_weights"), "weights must be >= 0 and not all 0")
    if q.kind == "PriorityQueue" and not pr.priorities:
        raise where.error((*p, "priorities"), "a producer into a PriorityQueue needs priorities")
    if pr.put_timeout and q.kind == "SimpleQueue":
        raise where.error((*p, "put_timeout"), "SimpleQueue.put() takes no timeout")


def _check_consumer(where: Where, p: Path, c: ConsumerSpec, qids: dict[str, QueueSpec]) -> None:
    _actor_id(where, (*p, "id"), c.id)
    q = _ref(where, (*p, "queue"), c.queue, qids)
    if c.output:
        _ref(where, (*p, "output"), c.output, qids)
        if c.output == c.queue:
            raise where.error((*p, "output"), "a stage cannot put into its own input queue")
    for name in L.RANGES["consumers"]:
        check_field(where, p, "consumers", c, name)
    choice(where, (*p, "distribution"), c.distribution, DISTRIBUTIONS)
    choice(where, (*p, "task_done"), c.task_done, TASK_DONE_MODES)
    if c.task_done != "always" and q.kind != "JoinableQueue":
        raise where.error((*p, "task_done"), "task_done() exists only on a JoinableQueue")
    if c.get_timeout and q.kind == "SimpleQueue":
        raise where.error((*p, "get_timeout"), "SimpleQueue.get() takes no timeout")
    choice(where, (*p, "on_sentinel"), c.on_sentinel, ON_SENTINEL)
    choice(where, (*p, "crash_mode"), c.crash_mode, CRASH_MODES)
    check_text(where, (*p, "label"), c.label, L.MAX_LABEL_CHARS)
    if c.function:
        from qsim.model.transforms import TRANSFORMS

        choice(where, (*p, "function"), c.function, tuple(TRANSFORMS))
    if c.loop:
        from qsim.model.lessons import CONSUMER_LOOPS

        choice(where, (*p, "loop"), c.loop, tuple(CONSUMER_LOOPS))


def _check_main_and_run(where: Where, sc: Scenario, qids: dict[str, QueueSpec]) -> None:
    m = sc.main
    check_field(where, ("main",), "main", m, "sentinels")
    if m.sentinels or m.sentinel_queue:
        _ref(where, ("main", "sentinel_queue"), m.sentinel_queue, qids)
    if m.join and _ref(where, ("main", "join"), m.join, qids).kind != "JoinableQueue":
        raise where.error(("main", "join"), "join() needs a JoinableQueue")
    r = sc.run
    choice(where, ("run", "start_method"), r.start_method, START_METHODS)
    for name in L.RANGES["run"]:
        check_field(where, ("run",), "run", r, name)
    choice(where, ("run", "lanes"), r.lanes, LANE_MODES)
    if r.lanes == "one at a time" or r.measure_plain:
        _check_lanes(where, sc)


def _check_lanes(where: Where, sc: Scenario) -> None:
    """Lanes that run one at a time (or measure a plain program) are 1:1: one
    producer into a queue of its own, one consumer out of it, nothing else."""
    if sc.run.measure_plain and sc.run.lanes != "one at a time":
        raise where.error(
            ("run", "measure_plain"),
            'a plain program is measured only with lanes = "one at a time"',
        )
    if sc.main.sentinels or sc.main.join or sc.main.join_producers_first:
        raise where.error(("main",), "lanes that run one at a time have no main process work")
    for n, pr in enumerate(sc.producers):
        readers = [c for c in sc.consumers if c.queue == pr.queue]
        feeders = [p for p in sc.producers if p.queue == pr.queue]
        if pr.count != 1 or len(feeders) != 1 or len(readers) != 1 or readers[0].count != 1:
            raise where.error(
                ("producers", n),
                "a lane that runs one at a time is one producer, its own queue and one consumer",
            )
        if readers[0].output:
            raise where.error(
                ("producers", n), "a lane that runs one at a time ends at its consumer"
            )
        if sc.run.measure_plain and (pr.loop or readers[0].loop or pr.records or pr.priorities):
            raise where.error(
                ("producers", n),
                "a plain program is measured only for lanes with the usual loops and no records",
            )
    if len(sc.consumers) != len(sc.producers):
        raise where.error(("consumers",), "every consumer of a lane reads one producer's queue")


def _check_actors(where: Where, sc: Scenario) -> None:
    """At most ``MAX_ACTORS`` processes, each with a name of its own."""
    groups: list[tuple[str, int, ProducerSpec | ConsumerSpec]] = [
        *(("producers", n, p) for n, p in enumerate(sc.producers)),
        *(("consumers", n, c) for n, c in enumerate(sc.consumers)),
    ]
    total = 1 + sum(spec.count for _, _, spec in groups)
    if total > L.MAX_ACTORS:
        running = 1
        for section, n, spec in groups:  # named at the table that goes past the limit
            running += spec.count
            if running > L.MAX_ACTORS:
                raise where.error(
                    (section, n, "count"),
                    f"{total} processes in all (main, producers and consumers, with their "
                    f"counts); a run may have at most {L.MAX_ACTORS}",
                )
    ids: dict[str, str] = {}
    names = {"main": "the main process"}
    for section, n, spec in groups:
        here = f"{section}[{n}]"
        if spec.id in ids:
            raise where.error((section, n, "id"), f"ids must be unique: {ids[spec.id]} has it")
        ids[spec.id] = here
        for k in range(1, spec.count + 1):
            name = worker_name(spec.id, k, spec.count)
            if name in names:
                raise where.error(
                    (section, n, "id"), f"its worker {name} would have the name of {names[name]}"
                )
            names[name] = f"a worker of {here}"


def _check_pipeline(where: Where, sc: Scenario) -> None:
    """A stage's output must not lead back to its input: items would circle for ever
    and the run could look finished while they are stuck.

    A depth-first search over queues (each visited once: a wide pipeline of many
    parallel stages has exponentially many paths, but few queues).
    """
    stages: dict[str, list[tuple[int, ConsumerSpec]]] = {}
    for n, c in enumerate(sc.consumers):
        if c.output:
            stages.setdefault(c.queue, []).append((n, c))
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for q in sc.queues:
        if state.get(q.id):
            continue
        state[q.id] = 1
        path: list[tuple[str, int, ConsumerSpec]] = []  # the stages taken to get here
        todo = [(q.id, iter(stages.get(q.id, [])))]
        while todo:
            qid, edges = todo[-1]
            step = next(edges, None)
            if step is None:
                state[qid] = 2
                todo.pop()
                if path:
                    path.pop()
                continue
            n, c = step
            seen = state.get(c.output, 0)
            if seen == 1:
                trail = [*path, (qid, n, c)]
                start = next(i for i, (src, _, _) in enumerate(trail) if src == c.output)
                _cycle(where, trail[start:])
            if seen == 0:
                state[c.output] = 1
                path.append((qid, n, c))
                todo.append((c.output, iter(stages.get(c.output, []))))


def _cycle(where: Where, ring: list[tuple[str, int, ConsumerSpec]]) -> None:
    hops = [f"{q} -> {c.id}" for q, _, c in ring]
    if len(hops) > 6:  # a message stays short: the start and the end
        hops = [*hops[:3], f"… ({len(hops) - 5} more)", *hops[-2:]]
    _, n, last = ring[-1]
    raise where.error(
        ("consumers", n, "output"),
        f"a pipeline cycle: {' -> '.join(hops)} -> {last.output}; items would go round for ever",
    )


def _check_held_bytes(where: Where, sc: Scenario) -> None:
    """Refuse a run that could hold more than ``MAX_HELD_BYTES`` as copies in one queue.

    A producer puts the same payload object again and again (its feeder thread
    holds references, not copies), but a manager's queue unpickles a copy of
    each waiting item, a stage forwards the copies it got, and a shared-memory
    producer makes one block per item.
    """
    payload: dict[str, int] = {}
    items: dict[str, float] = {}
    copies: set[str] = {q.id for q in sc.queues if q.kind in _COPYING_KINDS}
    for pr in sc.producers:
        total = len(pr.records) or (pr.items if pr.items and not pr.duration else math.inf)
        payload[pr.queue] = max(payload.get(pr.queue, 0), pr.payload_bytes)
        items[pr.queue] = items.get(pr.queue, 0) + pr.count * total
        if pr.loop == "shm_ref":
            copies.add(pr.queue)
    for _ in sc.consumers:  # carry payloads down the pipeline (no cycles by now)
        for c in sc.consumers:
            if c.output:
                payload[c.output] = max(payload.get(c.output, 0), payload.get(c.queue, 0))
                items[c.output] = max(items.get(c.output, 0), items.get(c.queue, 0))
                copies.add(c.output)
    for n, q in enumerate(sc.queues):
        size = payload.get(q.id, 0)
        if q.id not in copies or not size:
            continue
        waiting = q.maxsize if q.maxsize else items.get(q.id, 0)
        if waiting * size > L.MAX_HELD_BYTES:
            many = "an unbounded number of" if math.isinf(waiting) else f"{num(waiting)}"
            raise where.error(
                ("queues", n, "maxsize"),
                f"{many} items of {size:,} bytes could wait here as copies "
                f"(more than {L.MAX_HELD_BYTES // 2**20:,} MB): give the queue a smaller maxsize",
            )
