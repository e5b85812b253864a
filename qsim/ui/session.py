"""LiveSession: the one bridge from a running ``Run`` to the Qt views.

A worker-side reader thread (the engine's ``Collector``) gathers event
batches; here ONE GUI-thread ``QTimer`` drains them each frame within a time
budget, feeds the reducer and tells the views to repaint (``frame``). A slow
frame simply makes the next tick late: Qt coalesces timer events, so frames
are dropped, never queued. The GUI never makes a blocking multiprocessing call.

What runs is a scenario (``load``: a ``Run`` of qsim's own workers) or a
user's program (``load_program``: a ``TraceRun`` of it, traced); both are a
``qsim.engine.source.RunSource``, the one surface the session uses.
"""

from __future__ import annotations

import operator
import os
import threading
import time
from bisect import bisect_right
from collections.abc import Sequence

from PySide6.QtCore import QObject, QTimer, Signal

from qsim.engine.run import Run
from qsim.engine.source import RunSource
from qsim.engine.trace import TraceRun
from qsim.engine.trace_check import TraceError, check_program
from qsim.model.display import LEAD_NS, DisplayClock, EventTimes
from qsim.model.events import Event
from qsim.model.program import Program
from qsim.model.scenario import Knob, Scenario
from qsim.model.scenario_io import apply_knob
from qsim.model.state import Reducer
from qsim.model.topology import Topology, build_topology
from qsim.ui.replay_control import ReplayControl

#: what a traced program's topology starts as: nothing (the events grow it)
TRACED_START = Topology((), (), traced=True)
FRAME_MS = 16
DRAIN_BUDGET_NS = 6_000_000  # at most 6 ms of a 16 ms frame for draining
WORKER_NICE = 5  # workers yield the CPU to the window under a flat-out load
FRAME_EVENTS = 4000  # at most this many events applied per frame
FEED_SLACK_NS = 200_000_000  # events fed to the reducer beyond the display's lead
THROTTLE_MAX_US = 50_000
THROTTLE_BEHIND_NS = 400_000_000  # the display this far behind: slow the workers down
_time = operator.itemgetter(0)


class LiveSession(ReplayControl, QObject):
    """Owns the current scenario (or program), its run, its reducer and the frame timer.

    Every run is recorded (``recorder``); the views can be switched to a
    replay of it, or of a recording file (``ReplayControl``): ``reducer``,
    ``applied``, ``t_display`` and ``upcoming`` are then the replay's.

    Signals
    -------
    scenario_loaded(Scenario)
        a (new) scenario is ready; views rebuild their layout.
    run_started / run_stopped
        processes were started / every process of the run is gone.
    state_changed(str)
        "idle", "running", "paused", "finished", "hung", "stopped"; a file's
        replay: "replaying", "replay_paused".
    frame(int)
        events were applied this frame (``self.applied``); the int is now_ns.
    topology_changed(Topology)
        a worker joined the run live (``add_worker``); views add its row.
    source_changed
        the views switched between the live run and a replay (``mode``).
    """

    scenario_loaded = Signal(object)
    run_started = Signal()
    run_stopped = Signal()
    state_changed = Signal(str)
    frame = Signal(object)  # now_ns (an int too big for a C int)
    error = Signal(str)
    topology_changed = Signal(object)
    source_changed = Signal()

    def __init__(
        self,
        parent: QObject | None = None,
        start_method: str | None = None,
        reorder_ms: int = 50,
    ) -> None:
        super().__init__(parent)
        self.start_method = start_method
        self.reorder_ns = reorder_ms * 1_000_000
        self.scenario: Scenario | None = None
        self.topology: Topology | None = None
        #: the traced program shown (None: a scenario); see ``load_program``
        self.program: Program | None = None
        #: a program's processes track every line (the code view is open)
        self.line_tracking = False
        self.run: RunSource | None = None
        #: the run's reducer (``reducer`` is what the views show: this, or a replay's)
        self.live_reducer: Reducer | None = None
        self._applied: list[Event] = []
        self.speed = 1.0
        self.status = "idle"
        self.started_at = 0.0
        self.frames = 0
        self.events_total = 0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._on_tick)
        self._fps_window: list[float] = []
        self._events_window: list[tuple[float, int]] = []
        # runs being stopped off the GUI thread: (run, its reducer, the stopping thread)
        self._reaping: list[tuple[RunSource, Reducer | None, threading.Thread]] = []
        self._reap_timer = QTimer(self)
        self._reap_timer.setInterval(50)
        self._reap_timer.timeout.connect(self._on_reap)
        self._starter: threading.Thread | None = None
        #: the displayed instant (see qsim.model.display), and its bookkeeping
        self.clock = DisplayClock()
        self._last_tick = 0
        self._fed_t = 0  # newest event given to the reducer
        self._run_started_ns = 0
        #: microseconds each worker now waits after sending a batch (0: full speed)
        self.throttle_us = 0
        self._init_replay()

    # ------------------------------------------------------------ scenario
    def load(self, scenario: Scenario) -> None:
        """Stop whatever runs and get ``scenario`` ready to play."""
        self._load(scenario, None)

    def load_program(
        self,
        path: str | os.PathLike[str],
        argv: Sequence[str] = (),
        title: str = "",
        lesson_text: str = "",
        internals: bool = False,
    ) -> None:
        """Stop whatever runs and get a Python program ready to play, traced.

        ``python path *argv`` runs unmodified (in its own folder); its
        processes and queues appear in the diagram as it makes them. ``title``
        and ``lesson_text`` (markdown) are what the window shows for it (a
        program lesson); by default its file name and a short description.
        ``internals``: each Queue is drawn opened up (its feeder buffers, its
        pipe), as ``qsim trace --internals`` reports them.

        Raises ``TraceError`` (one line) for a program that is missing, not
        Python or does not compile: then nothing changed, the current lesson
        stays.
        """
        program = Program(os.path.abspath(path), tuple(argv), title, lesson_text, internals)
        check_program(program.path)
        self._load(program.scenario(), program)

    def _load(self, scenario: Scenario, program: Program | None) -> None:
        self.stop()
        self._forget_recording()
        self.scenario = scenario
        self.program = program
        # a program's topology grows from its events
        self.topology = build_topology(scenario) if program is None else TRACED_START
        self.live_reducer = Reducer(self.topology, self.reorder_ns)
        self._applied = []
        self.clock = DisplayClock()
        self._last_tick = self._fed_t = 0
        self.speed = scenario.run.speed
        self._set_status("idle")
        self.scenario_loaded.emit(scenario)

    def set_knob(self, knob: Knob, value: float) -> None:
        """Apply a lesson knob: live if it can be, else by restarting the run.

        Raises ``ScenarioError`` for an out-of-range value; nothing changes then.
        """
        assert self.scenario is not None
        new = apply_knob(self.scenario, knob, value)
        run = self.scenario_run
        if not knob.restart and run is not None and run.set_live(knob.path, value):
            self.scenario = new
            return
        was_running = self.status in ("running",)
        self._load(new, self.program)
        if was_running:
            self.play()

    # ------------------------------------------------------------ live workers
    def add_worker(self, group_id: str) -> int:
        """Start one more worker of stage ``group_id`` in the running run.

        Returns its actor index, or -1 if there is no live run or the stage stopped.
        """
        r, run = self.live_reducer, self.scenario_run
        if run is None or r is None or self.status not in ("running", "paused"):
            return -1
        index = run.add_worker(group_id)
        if index >= 0:
            self.topology = run.topology
            r.add_actor(self.topology.actors[index])
            self.topology_changed.emit(self.topology)
        return index

    def remove_worker(self, group_id: str) -> bool:
        """Ask one worker of stage ``group_id`` to finish its item and leave."""
        run = self.scenario_run
        if run is None or self.status not in ("running", "paused"):
            return False
        return run.remove_worker(group_id)

    @property
    def scenario_run(self) -> Run | None:
        """The run of a scenario's workers (None for a program: it has no knobs)."""
        return self.run if isinstance(self.run, Run) else None

    @property
    def trace_run(self) -> TraceRun | None:
        """The traced run of the program shown (its output, exit code), if any."""
        return self.run if isinstance(self.run, TraceRun) else None

    # ------------------------------------------------------------ control
    def play(self) -> None:
        if self.scenario is None:
            return
        if self.mode == "replay":
            self.replay_play()
            return
        if self.run is None or self.status in ("finished", "hung", "stopped"):
            if self.run is not None:
                self._end_run()
                self._load(self.scenario, self.program)
            self._start_run()
        elif self.status == "paused":
            self.run.resume()
            self._set_status("running")

    def pause(self) -> None:
        if self.mode == "replay":
            self.replay_pause()
        elif self.run is not None and self.status == "running":
            self.run.pause()
            self._set_status("paused")

    def toggle(self) -> None:
        if self.status in ("running", "replaying"):
            self.pause()
        else:
            self.play()

    def step(self) -> None:
        """One queue operation (pauses first if running; starts paused if idle);
        one recorded event on when the views show a replay."""
        if self.scenario is None:
            return
        if self.source is not None:
            self.step_events(1)
            return
        if self.run is None:
            self._start_run(paused=True)
        elif self.status == "running":
            self.pause()
        if self.run is not None and self.status == "paused":
            self.run.step()

    def set_speed(self, speed: float) -> None:
        self.speed = speed
        if self.run is not None:
            self.speed = self.run.set_speed(speed)

    def reset(self) -> None:
        if self.scenario is not None:
            self._load(self.scenario, self.program)
            self.play()

    def set_line_tracking(self, on: bool) -> None:
        """A program's processes track every line they run (on while the code
        view is open), or only sample it (off: costs the program nothing)."""
        self.line_tracking = on
        if self.trace_run is not None:
            self.trace_run.set_lines(on)

    def stop(self) -> None:
        """Stop every process of the current run (the views keep the last state)."""
        self._timer.stop()
        if self.run is not None:
            self._end_run()
            if self.status in ("running", "paused"):
                self._set_status("stopped")

    # ------------------------------------------------------------ internals
    def _new_source(self) -> RunSource:
        """The run of what is loaded: the program, traced, or the scenario."""
        if self.program is not None:
            p = self.program
            return TraceRun(
                p.path,
                p.args,
                self.speed,
                capture_output=True,
                internals=p.internals,
                lines=self.line_tracking,
            )
        assert self.scenario is not None
        return Run(
            self.scenario,
            start_method=self.start_method,
            speed=self.speed,
            worker_nice=WORKER_NICE,
        )

    def _start_run(self, paused: bool = False) -> None:
        assert self.scenario is not None
        try:
            self.run = run = self._new_source()
        except TraceError as e:  # the program's file went away (a replay of it, say)
            self._set_status("stopped")
            self.error.emit(f"Could not start {self.scenario.title}: {e}")
            return
        self.throttle_us = 0
        if paused:
            run.pause()
        # starting processes (spawn: ~50 ms each; a manager: up to a second)
        # must not freeze the window: it happens on a thread, events follow
        self._run_started_ns = time.monotonic_ns()
        self._record(run)  # before any process starts (nothing may fork meanwhile)
        self._starter = self.run.start_in_background()
        self.started_at = time.monotonic()
        self.frames = 0
        self.events_total = 0
        self._timer.start()
        self._set_status("paused" if paused else "running")
        self.run_started.emit()

    def _end_run(self, wait: bool = False) -> None:
        """Detach the run and stop its processes.

        A run whose workers all ended stops at once. Otherwise the stop (flag,
        join, terminate, kill: up to a second or two for a stuck worker) runs on
        a reaper thread, so the GUI never waits on a process; ``run_stopped``
        comes when the last process is gone. ``wait`` stops here and now.
        """
        run, self.run = self.run, None
        if run is None:
            return
        if wait or run.finished:
            run.stop()
            self._settle(run, self.live_reducer)
            return
        run.request_stop()  # workers start leaving now
        reaper = threading.Thread(target=run.stop, name="qsim-reaper", daemon=True)
        reaper.start()
        self._reaping.append((run, self.live_reducer, reaper))
        self._reap_timer.start()

    def _settle(self, run: RunSource, reducer: Reducer | None) -> None:
        """Apply a stopped run's last events, if its reducer is still shown."""
        if reducer is not None and reducer is self.live_reducer:
            for batch in run.collector.drain():
                reducer.feed(batch)
                self.events_total += len(batch)
            reducer.flush()
            self._applied = reducer.last_applied
            self.clock.t = max(self.clock.t, reducer.last_t)
            self.frame.emit(time.monotonic_ns())
        self.run_stopped.emit()

    def _on_reap(self) -> None:
        for entry in list(self._reaping):
            run, reducer, reaper = entry
            if not reaper.is_alive():
                reaper.join()
                self._reaping.remove(entry)
                self._settle(run, reducer)
        if not self._reaping:
            self._reap_timer.stop()

    @property
    def stopping(self) -> bool:
        """Some stopped run still has processes on their way out."""
        return bool(self._reaping)

    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            self.state_changed.emit(status)

    def _on_tick(self) -> None:
        run, reducer = self.run, self.live_reducer
        if run is None or reducer is None:  # a replay of a file, or of a run that ended
            now = time.monotonic_ns()
            more = self._tick_source(now)
            if self.source is not None:
                self.frame.emit(now)
            if not more:
                self._timer.stop()
            return
        if run.start_error:
            scenario_id = self.scenario.id if self.scenario is not None else "?"
            self._end_run(wait=True)
            self._timer.stop()
            self._set_status("stopped")
            self.error.emit(f"Could not start {scenario_id}: {run.start_error}")
            return
        now = time.monotonic_ns()
        got = self._feed(run, reducer, now + DRAIN_BUDGET_NS)
        collector = run.collector
        self.events_total += got
        ended = run.finished  # every process is gone: only catching up is left
        self._show(reducer, now, ended)
        if not collector.deferring:  # a measuring lane is never slowed down
            self._adjust_throttle(run, self.clock.behind_ns)
        self.frames += 1
        t = time.monotonic()
        self._events_window.append((t, got))
        while self._events_window and self._events_window[0][0] < t - 1.0:
            self._events_window.pop(0)
        self._fps_window.append(t)
        while self._fps_window and self._fps_window[0] < t - 1.0:
            self._fps_window.pop(0)
        hang_after = self.scenario.run.hang_after if self.scenario is not None else 0.0
        if self.status == "running" and run.watch_hangs(reducer, hang_after):
            self._set_status("hung")
        # ended: the display plays out the last flights (the lead) before the
        # frame timer stops, or tokens would hang in mid-air (a program may end
        # right after its last puts)
        caught_up = (
            not collector.pending()
            and not reducer.held
            and (not ended or self.clock.t >= self._fed_t + LEAD_NS)
        )
        if ended and caught_up:
            self._end_run()
            self._timer.stop()
            if self.status != "hung":
                self._set_status("finished")
            self._show(reducer, time.monotonic_ns(), ended)  # the end, exactly
        elif self.scenario is not None and t - self.started_at > self.scenario.run.duration:
            self._end_run()
            self._timer.stop()
            self._set_status("finished")
        if self._tick_source(now) and not self._timer.isActive():
            self._timer.start()  # the run ended; the replay of it plays on
        self.frame.emit(now)

    def _feed(self, run: RunSource, reducer: Reducer, deadline: int) -> int:
        """Give the reducer what the display will need soon; the rest waits in the
        collector (as compact records), and a backlog there slows the workers."""
        collector = run.collector
        horizon = self.clock.t + LEAD_NS + self.reorder_ns + FEED_SLACK_NS if self.clock.t else 0
        got = 0
        while got < FRAME_EVENTS and time.monotonic_ns() < deadline:
            first = collector.peek_time()
            if first is None:
                break
            if reducer.held and horizon and first > horizon:
                break  # not needed yet: the display is behind (a replayed lane)
            for b in collector.drain(1024):
                reducer.feed(b)
                got += len(b)
                if b:
                    self._fed_t = max(self._fed_t, b[-1][0])
        return got

    def _show(self, reducer: Reducer, now: int, ended: bool) -> None:
        """Move the displayed instant on and apply the events up to it."""
        wall_dt = now - self._last_tick if self._last_tick else 0
        self._last_tick = now
        run = self.run
        if self.status != "running":
            # paused, stopped, hung: play out what happened until the workers
            # stopped, and the flights it started, then hold still
            edge = self._fed_t + LEAD_NS
        elif ended:
            # the processes are gone: play out what is left, and its last flights
            edge = self._fed_t + LEAD_NS
        else:
            edge = now - self.reorder_ns - LEAD_NS
            if run is not None and run.collector.deferring:
                # nothing new until the lane has run: play out the last flights, then wait
                edge = min(edge, self._fed_t + LEAD_NS)
        upcoming = reducer.upcoming()
        t = self.clock.advance(wall_dt, edge, EventTimes(upcoming), FRAME_EVENTS)
        reducer.apply_until(t)
        self._applied = reducer.last_applied

    @property
    def reducer(self) -> Reducer | None:
        """The state the views show: the live run's, or the replay's at its instant."""
        return self.source.reducer if self.source is not None else self.live_reducer

    @property
    def applied(self) -> list[Event]:
        """The events the shown state passed this frame (views animate them)."""
        return self.source.applied if self.source is not None else self._applied

    @property
    def t_display(self) -> int:
        """The displayed instant (monotonic ns): what every view shows."""
        return self.source.t if self.source is not None else self.clock.t

    def upcoming(self, within_ns: int) -> list[Event]:
        """Events just after the displayed instant (a token may set off for them)."""
        if self.source is not None:
            return self.source.upcoming(within_ns)
        r = self.live_reducer
        if r is None:
            return []
        pending = r.upcoming()
        cut = bisect_right(pending, self.clock.t + within_ns, key=_time)
        return pending[:cut]

    def _adjust_throttle(self, run: RunSource, behind_ns: int) -> None:
        """Flow control: a display falling behind the run means the window cannot
        keep up; workers then pause after each batch they send (they slow down
        for real, and the status bar says so) until it has caught up."""
        t = self.throttle_us
        if behind_ns > THROTTLE_BEHIND_NS and self.clock.capped:
            t = min(THROTTLE_MAX_US, max(500, t * 2))  # more than a frame can show
        elif t and not self.clock.capped:
            t = t * 3 // 4 if t > 200 else 0
        if t != self.throttle_us:
            run.set_throttle(t)
        self.throttle_us = t

    # ------------------------------------------------------------ figures
    @property
    def run_time(self) -> float:
        return time.monotonic() - self.started_at if self.started_at else 0.0

    @property
    def run_started_ns(self) -> int:
        """When the run started (monotonic ns; the origin of every shown time)."""
        if self.mode == "replay" and self.source is not None:
            return self.source.t0
        return self._run_started_ns

    @property
    def shown_time(self) -> float:
        """The displayed instant in seconds since the run started (the status bar's t)."""
        t0, t = self.run_started_ns, self.t_display
        if not t0 or not t:
            return 0.0
        return max(0.0, (t - t0) / 1e9)

    @property
    def events_per_s(self) -> float:
        return float(sum(n for _, n in self._events_window))

    @property
    def fps(self) -> float:
        return float(len(self._fps_window))

    def shutdown(self) -> None:
        """Stop the timers and every process, and wait for them; call before the window goes."""
        self._timer.stop()
        if self.run is not None:
            self._end_run(wait=True)
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        for _, _, reaper in self._reaping:
            reaper.join()
        self._on_reap()
        self._reap_timer.stop()
        self._forget_recording()
