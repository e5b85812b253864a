"""The ``Run`` lifecycle: start real processes and queues, control them, stop them.

Stop is graceful, then firm: the stop flag (workers notice within one sleep
slice, ~20 ms), a join with a timeout, ``terminate()``, then ``kill()``. No
process outlives its run: every process of it also watches the run's life
line (``qsim.engine.lifeline``) and leaves at once when the controller is
gone, even by SIGKILL, whatever it is stuck in.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Pipe
from multiprocessing.process import BaseProcess
from typing import Any

from qsim.engine.collector import Collector
from qsim.engine.control import RunControl, live_slot
from qsim.engine.lesson_workers import consumer_target, producer_target, start_join_first
from qsim.engine.lifeline import LifeLine
from qsim.engine.pipe_probe import PipeProbe
from qsim.engine.queues import QsimManager, make_queue, needs_manager, start_manager
from qsim.engine.run_ends import ProcessEnds
from qsim.engine.run_live import LiveChanges
from qsim.engine.workers import main_main
from qsim.model.events import EventKind, make_event
from qsim.model.limits import MAX_ACTORS
from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.model.topology import ActorInfo, Topology, build_topology, lane_actors


class _Aborted(Exception):
    """A stop came while the run was still starting its processes."""


def resolve_start_method(method: str | None) -> str:
    """``auto`` is ``spawn`` everywhere: what Windows, macOS and the packaged app use."""
    if not method or method == "auto":
        return "spawn"
    if method not in multiprocessing.get_all_start_methods():
        raise ValueError(
            f"start method {method!r} is not available here "
            f"(available: {', '.join(multiprocessing.get_all_start_methods())})"
        )
    return method


class Run(LiveChanges, ProcessEnds):
    """One run of a scenario with real worker processes and real queues.

    What happens when its processes end is ``ProcessEnds``'s (``run_ends``);
    knobs and workers changed live are ``LiveChanges``'s (``run_live``).
    """

    def __init__(
        self,
        scenario: Scenario,
        start_method: str | None = None,
        speed: float | None = None,
        seed: int | None = None,
        worker_nice: int = 0,
    ) -> None:
        """``worker_nice`` > 0 lowers the workers' CPU priority (the GUI uses it,
        so that a flat-out lesson cannot starve the window that shows it)."""
        self.scenario = scenario
        self.start_method = resolve_start_method(start_method or scenario.run.start_method)
        self.ctx: Any = multiprocessing.get_context(self.start_method)
        self.seed = scenario.run.seed if seed is None else seed
        self.topology: Topology = build_topology(scenario)
        self.control = RunControl(self.ctx, MAX_ACTORS, speed or scenario.run.speed)
        self.control.nice.value = max(0, min(19, worker_nice))
        #: lanes one at a time: each lane's actors (its producer and consumer), and
        #: those of them still running; the next lane starts when a lane is over
        self.lanes: list[list[int]] = []
        self._lane_of_queue: dict[int, int] = {}
        if scenario.run.lanes == "one at a time":
            self.control.lane_mode.value = 2 if scenario.run.measure_plain else 1
            by_queue = lane_actors(self.topology, scenario)
            self.lanes = list(by_queue.values())
            self._lane_of_queue = {qi: k for k, qi in enumerate(by_queue)}
        self._lane_left: list[set[int]] = [set(members) for members in self.lanes]
        self.collector = Collector(on_eof=self._on_eof)
        self.processes: dict[int, BaseProcess] = {}
        self.queues: list[Any] = []
        self.started_ns = 0
        self.stopped_ns = 0
        self.exit_codes: dict[int, int | None] = {}
        self._manager_proc: BaseProcess | None = None
        self._manager: QsimManager | None = None
        self._stopping = False
        self._lock = threading.Lock()
        self._reap_lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._ended_by_us: set[int] = set()  # actors stop() had to terminate
        self._crashed: set[int] = set()  # actors that died by themselves
        self._started = False
        self.start_error = ""
        self._probe: PipeProbe | None = None
        self._life: LifeLine | None = None

    # ------------------------------------------------------------ start
    def start(self) -> None:
        """Create the queues and start every process. Safe to call on a thread of
        its own (the GUI does): a ``stop()`` meanwhile makes it bail out, and
        ``stop()`` waits for it, so no process is started after a stop."""
        with self._start_lock:
            try:
                self._start()
            except _Aborted:
                return
            finally:
                self._started = True

    def start_in_background(self) -> threading.Thread:
        """``start()`` on a thread; a failure lands in ``start_error``."""

        def target() -> None:
            try:
                self.start()
            except (OSError, RuntimeError, ValueError) as e:
                self.start_error = f"{type(e).__name__}: {e}"

        t = threading.Thread(target=target, name="qsim-starter", daemon=True)
        t.start()
        return t

    def _start(self) -> None:
        sc = self.scenario
        # before any process starts: every one of them watches it
        self._life = LifeLine()
        self.control.life_line = self._life.reader
        self.control.life_line_owner = self._life.owner
        if self.control.lane_mode.value == 2:  # measured lanes: see Collector.defer
            self.collector.defer([a for lane in self.lanes for a in lane])
        if any(needs_manager(q.kind) for q in sc.queues):
            self._start_manager()
        self.queues = [make_queue(self.ctx, q, self._manager) for q in sc.queues]
        ctl = self.control
        watched = {}
        for qi, (qspec, q) in enumerate(zip(sc.queues, self.queues, strict=True)):
            if qspec.internals:  # workers report where its items are; we read its pipe
                ctl.observed[qi] = 1
                watched[qi] = q
        self._probe = PipeProbe(watched, self._inject_sample)
        self._probe.start()
        if ctl.lane_mode.value == 2:  # each lane's plain program gets a queue of its own
            plain = {qi: replace(sc.queues[qi], internals=False) for qi in self._lane_of_queue}
            ctl.plain_queues = {
                qi: make_queue(self.ctx, q, self._manager) for qi, q in plain.items()
            }
        for n, c in enumerate(sc.consumers):
            ctl.group_workers[n] = c.count
            ctl.group_alive[n] = c.count
            ctl.live[live_slot("consumer", n, "work_time")] = c.work_time
            ctl.live[live_slot("consumer", n, "failure_rate")] = c.failure_rate
        for n, pr in enumerate(sc.producers):
            ctl.live[live_slot("producer", n, "interval")] = pr.interval
            ctl.live[live_slot("producer", n, "failure_rate")] = pr.failure_rate
        pgroups = {p.id: n for n, p in enumerate(sc.producers)}
        self.started_ns = time.monotonic_ns()
        topo = self.topology
        kinds = [q.kind for q in sc.queues]
        for a in topo.actors:
            seed = self.seed
            if a.role == "producer" and sc.main.join_producers_first:
                continue  # main starts them itself (lesson_join_first.join_first_main)
            if a.role == "producer":
                spec = next(p for p in sc.producers if p.id == a.group)
                self._spawn(
                    a.index,
                    producer_target(spec.loop),
                    (
                        spec,
                        pgroups[a.group],
                        self.queues[a.output_queue],
                        kinds[a.output_queue],
                        a.output_queue,
                    ),
                    (seed, spec.sentinels),
                )
            elif a.role in ("consumer", "stage"):
                self._start_consumer(a)
            elif a.role == "main" and sc.main.join_producers_first:
                start_join_first(self, a.index)
            elif a.role == "main" and (sc.main.sentinels or sc.main.join):
                m = sc.main
                sq = topo.queue_index(m.sentinel_queue) if m.sentinels else -1
                jq = topo.queue_index(m.join) if m.join else -1
                self._spawn(
                    a.index,
                    main_main,
                    (
                        m,
                        sum(p.count for p in sc.producers),
                        self.queues[sq] if sq >= 0 else None,
                        kinds[sq] if sq >= 0 else "",
                        sq,
                        self.queues[jq] if jq >= 0 else None,
                        jq,
                    ),
                    (seed,),
                )

    def _start_consumer(self, a: ActorInfo, added: bool = False) -> None:
        sc = self.scenario
        groups = {c.id: n for n, c in enumerate(sc.consumers)}
        kinds = [q.kind for q in sc.queues]
        spec_c = next(c for c in sc.consumers if c.id == a.group)
        out = a.output_queue
        nxt = next(
            (groups[c.id] for c in sc.consumers if out >= 0 and c.queue == spec_c.output),
            -1,
        )
        self._spawn(
            a.index,
            consumer_target(spec_c.loop),
            (
                spec_c,
                groups[a.group],
                self.queues[a.input_queue],
                kinds[a.input_queue],
                a.input_queue,
                self.queues[out] if out >= 0 else None,
                kinds[out] if out >= 0 else "",
                out,
                nxt,
            ),
            (self.seed, added),
        )

    def _spawn(
        self, actor: int, target: Any, head: tuple[Any, ...], tail: tuple[Any, ...]
    ) -> None:
        if self._stopping:
            raise _Aborted
        r, w = Pipe(duplex=False)
        name = self.topology.actors[actor].name
        args = (actor, *head, w, self.control, *tail)
        p = self.ctx.Process(target=target, args=args, name=f"qsim-{name}", daemon=True)
        p.start()
        # close our copy of the write end now, before the next fork inherits it:
        # the pipe's EOF is how we learn that this worker has ended
        w.close()
        self.processes[actor] = p
        self.collector.add(r, actor)

    def _start_manager(self) -> None:
        ctl = self.control
        started = start_manager(
            self.ctx, lambda: self._stopping, (ctl.life_line, ctl.life_line_owner)
        )
        if started is None:
            raise _Aborted
        self._manager_proc, self._manager = started
        self.collector.watch_process(self._manager_proc.sentinel, self._on_manager_end)

    # ------------------------------------------------------------ control
    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def step(self) -> None:
        self.control.step()

    def set_speed(self, speed: float) -> float:
        return self.control.set_speed(speed)

    def request_stop(self) -> None:
        """Workers start leaving now (``stop`` then waits for them)."""
        self.control.request_stop()

    def set_throttle(self, us: int) -> None:
        self.control.throttle_us.value = us

    def watch_hangs(self, reducer: Reducer, hang_after: float) -> list[str]:
        from qsim.engine.headless import watch_hangs

        return watch_hangs(self, reducer, hang_after)

    @property
    def paused(self) -> bool:
        return bool(self.control.paused.value)

    @property
    def speed(self) -> float:
        return float(self.control.speed.value)

    # ------------------------------------------------------------ state
    @property
    def events_emitted(self) -> int:
        # every actor, not only our children: a lesson's main may start its own
        return sum(self.control.emitted[a.index] for a in self.topology.actors)

    @property
    def events_received(self) -> int:
        return self.collector.received

    @property
    def finished(self) -> bool:
        """Every worker has ended (its pipe is closed)."""
        return self._started and bool(self.processes) and self.collector.open_count == 0

    def alive(self) -> list[BaseProcess]:
        procs = list(self.processes.values())
        if self._manager_proc is not None:
            procs.append(self._manager_proc)
        return [p for p in procs if p.is_alive()]

    def pids(self) -> dict[str, int]:
        return {self.topology.actors[a].name: p.pid for a, p in self.processes.items() if p.pid}

    def inject(
        self,
        actor: int,
        kind: EventKind,
        value: Any = None,
        queue: int = -1,
        aux: int = 0,
        flags: int = 0,
        item: int = 0,
    ) -> None:
        """Report something the controller saw itself (``SEQ_LOCAL``: not from a worker)."""
        ev = make_event(time.monotonic_ns(), actor, kind, item, queue, value, aux, flags)
        self.collector.inject([ev])

    def _inject_sample(
        self, actor: int, kind: EventKind, value: Any, queue: int, aux: int = 0
    ) -> None:
        """A queue's pipe sample; a measuring lane's is kept back with the lane's
        own events (``Collector.inject``): shown with them, not before them."""
        ev = make_event(time.monotonic_ns(), actor, kind, 0, queue, value, aux, 0)
        lane = self._lane_of_queue.get(queue, -1) if self.control.lane_mode.value == 2 else -1
        if lane > self.control.lane_turn.value:  # its lane has not begun: the idle pipe
            lane = -1
        self.collector.inject([ev], self.lanes[lane][0] if lane >= 0 else -1)

    # ------------------------------------------------------------ stop
    def stop(self, grace: float = 2.0) -> None:
        """Stop every process of the run: flag, join, terminate, kill. Idempotent."""
        with self._lock:
            if self._stopping and self.stopped_ns:
                return
            self._stopping = True
        if self._probe is not None:
            # how the pipes are at the stop (a hang's picture), and no later:
            # a process that leaves may read bytes it never reports
            self._probe.stop()
            self._probe.sample()
        self.control.request_stop()
        self.control.resume()  # parked workers must see the stop flag, not a permit
        with self._start_lock:  # a start in progress bails out at its next process
            pass
        deadline = time.monotonic() + grace
        procs = list(self.processes.items())
        for _, p in procs:
            self._join(p, max(0.0, deadline - time.monotonic()))
        for a, p in procs:
            if p.exitcode is None:
                self._ended_by_us.add(a)  # its exit code is ours, not a crash
                p.terminate()
        for _, p in procs:
            if not self._join(p, 0.5):
                p.kill()
                self._join(p, 2.0)
        for a, p in list(self.processes.items()):
            self.exit_codes.setdefault(a, p.exitcode)
        mp = self._manager_proc
        if mp is not None:
            mp.terminate()
            if not self._join(mp, 1.0):
                mp.kill()
                self._join(mp, 1.0)
        self._probe = None  # it calls back into the run: no cycle left behind
        self.collector.wait_all_closed(1.0)
        self._sample_pipes()
        self.collector.close()
        for spec, q in zip(self.scenario.queues, self.queues, strict=False):
            if not needs_manager(spec.kind):
                q.close()  # we never put from here: no feeder thread to wait for
        for qi, q in self.control.plain_queues.items():
            if not needs_manager(self.scenario.queues[qi].kind):
                q.close()
        self.control.plain_queues = {}
        self.queues = []
        self._manager = None
        if self._life is not None:
            self._life.close()  # anything of this run still alive ends now
        self.stopped_ns = time.monotonic_ns()

    def __enter__(self) -> Run:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
