"""Every run recorded: the recorder of the current run, saving it, and reading it.

The first half of ``LiveSession``'s replay job (``replay_control`` is the
other): a run's reducer is recorded from its first event (``Recorder``,
spilling to temporary files, so memory stays flat), kept after the run ended
until the next one, and saved on request; the recording's marks and recent
events are read back for the timeline and the event log.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qsim.engine.run import Run
from qsim.engine.trace import TraceRun
from qsim.model.display import DisplayClock
from qsim.model.events import Event
from qsim.model.program import OUTPUT_IN_REPORT, Program, hung_where
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import ScenarioError, dump_scenario, parse_scenario
from qsim.model.topology import build_topology
from qsim.record.format import RecordingError
from qsim.record.program import ProgramMeta, program_meta, program_run_info
from qsim.record.recorder import Recorder
from qsim.record.recording import Recording
from qsim.record.source import ReplaySource

if TYPE_CHECKING:
    from PySide6.QtCore import QTimer, SignalInstance

    from qsim.engine.source import RunSource
    from qsim.model.state import Reducer
    from qsim.model.topology import Topology


def recording_scenario(rec: Recording) -> Scenario:
    """The scenario a recording was made from, checked against its topology
    (the diagram is laid out from both, so they must agree)."""
    if not rec.meta.scenario_toml:
        raise RecordingError(f"{rec.name}: has no scenario, so it cannot be drawn")
    try:
        sc = parse_scenario(rec.meta.scenario_toml, source=f"{rec.name} (its scenario)")
    except ScenarioError as e:
        raise RecordingError(f"{rec.name}: its scenario is not valid: {e}") from None
    if build_topology(sc) != rec.meta.topology:
        raise RecordingError(f"{rec.name}: its scenario does not match its recorded workers")
    return sc


class RunRecording:
    """The run's recording, for ``LiveSession`` (a mixin: see the module docstring)."""

    # provided by LiveSession
    scenario: Scenario | None
    topology: Topology | None
    live_reducer: Reducer | None
    _applied: list[Event]
    run: RunSource | None  # a scenario's Run or a program's TraceRun
    program: Program | None
    status: str
    clock: DisplayClock
    _timer: QTimer
    _run_started_ns: int
    events_total: int
    frame: SignalInstance
    error: SignalInstance
    scenario_loaded: SignalInstance
    source_changed: SignalInstance

    def _set_status(self, status: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    source: ReplaySource | None
    recorder: Recorder | None
    recording_path: str
    #: the run being recorded (a program's outputs are read from it at saving)
    _recorded_run: RunSource | None
    #: the program of the recording file shown (its sources, what it printed)
    replayed_program: ProgramMeta | None

    @property
    def mode(self) -> str:
        raise NotImplementedError

    def _drop_source(self) -> None:
        raise NotImplementedError

    def mark_event(self, name: str) -> Event | None:
        """The event a mark stands for (its tooltip tells it in words)."""
        try:
            if self.mode == "replay" and self.source is not None:
                k = self.source.replay.marks().get(name, 0)
                return self.source.replay.rec.events(k - 1, k)[0] if k else None
            rec = self.recorder
            i = rec.marks.get(name, -1) if rec is not None and not rec.closed else -1
            return rec.view().events(i, i + 1)[0] if rec is not None and i >= 0 else None
        except (RecordingError, IndexError):
            return None

    def recent_events(self, n: int) -> list[Event]:
        """The last ``n`` events up to the shown instant (the event log after a jump)."""
        try:
            if self.source is not None:
                pos = self.source.pos
                return self.source.replay.rec.events(max(0, pos - n), pos)
            rec = self.recorder
            if rec is not None and not rec.closed and rec.count:
                return rec.view().events(max(0, rec.count - n), rec.count)
        except RecordingError:
            pass  # a corrupt part: the log stays empty, the replay says why
        return []

    @property
    def can_save_recording(self) -> bool:
        if self.mode == "replay":
            return True
        return self.recorder is not None and not self.recorder.closed and self.recorder.count > 0

    # ------------------------------------------------------------ recording
    def _record(self, run: RunSource) -> None:
        """Record the run that starts now (its reducer's applied events): a
        scenario's, or a traced program's (its topology grows from the events)."""
        self._close_recorder()
        if self.scenario is None or self.live_reducer is None:
            return
        try:
            if isinstance(run, TraceRun) and self.program is not None:
                rec = Recorder(
                    self.live_reducer.topology,
                    scenario_id=self.scenario.id,
                    start_method=run.start_method,
                    program=program_meta(self.program),
                )
            elif isinstance(run, Run):
                rec = Recorder(
                    run.topology,
                    scenario_id=self.scenario.id,
                    scenario_toml=dump_scenario(self.scenario),
                    start_method=run.start_method,
                )
            else:
                return
        except OSError:  # no room for temporary files: the run goes on unrecorded
            return
        rec.meta["t0_ns"] = self._run_started_ns
        rec.attach(self.live_reducer)
        self.recorder = rec
        self._recorded_run = run

    def _close_recorder(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        self._recorded_run = None

    def _forget_recording(self) -> None:
        """A new scenario, or the app closes: no replay, no recording."""
        self._drop_source()
        self._close_recorder()
        self.recording_path = ""
        self.replayed_program = None

    def save_recording(self, path: str | Path) -> Path:
        """Write the run's recording so far (or copy the replayed file) to ``path``.

        Raises ``OSError`` if it cannot be written.
        """
        dest = Path(path)
        if self.mode == "replay":
            if Path(self.recording_path).resolve() != dest.resolve():
                shutil.copyfile(self.recording_path, dest)
            return dest
        rec = self.recorder
        if rec is None or rec.closed:
            raise OSError("nothing has been recorded yet")
        head = {
            "scenario": rec.meta["scenario_id"],
            "start_method": rec.meta["start_method"],
            "duration_s": round(max(0, self.clock.t - self._run_started_ns) / 1e9, 3),
            "events_received": self.events_total,
            "finished": self.status == "finished",
        }
        run = self._recorded_run
        if rec.traced and isinstance(run, TraceRun):
            rec.run_info.update(self._program_info(run, head))
        else:
            rec.run_info["head"] = head
        return rec.save(dest)

    def _program_info(self, run: TraceRun, head: dict[str, Any]) -> dict[str, Any]:
        """A traced program's run, as its report tells it (``qsim trace --headless``)."""
        del head["scenario"]
        head = {"program": run.script, "args": list(run.args), **head}
        head["events_emitted"] = run.events_emitted
        r = self.live_reducer
        stuck = hung_where(r) if r is not None else {}
        out = run.stdout.decode("utf-8", "replace")[-OUTPUT_IN_REPORT:]
        err = run.stderr.decode("utf-8", "replace")[-OUTPUT_IN_REPORT:]
        code = run.exit_codes.get(0)
        return program_run_info(head, stuck, code, run.returncode, out, err)
