"""Replays in the window: a run's own recording (scrubbing back), and recording files.

``LiveSession``'s second job, kept apart: every run is recorded; the views
can be switched from the live run to a ``ReplaySource`` (the live recording
so far, while the run goes on, or a ``.qrec`` file) and back. The views never
know which: they read ``session.reducer``, ``applied``, ``t_display`` and
``upcoming()``, which are the replay's while one is shown.

Moves the user asks for (a drag, a step, a mark) are done on the next frame
(``_tick_source``), the newest drag winning, so a fast drag costs one seek a
frame. A move that is not a play-on (a drag, a step back) bumps
``generation``: views then drop what they derived from the frames before
(animations, the event log, the panels' history).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from qsim.model.display import DisplayClock
from qsim.record.format import RecordingError
from qsim.record.program import ProgramMeta
from qsim.record.recorder import Recorder
from qsim.record.recording import Recording, open_recording
from qsim.record.replay import Replay
from qsim.record.source import ReplaySource
from qsim.ui.run_recording import RunRecording, recording_scenario


class ReplayControl(RunRecording):
    """Replaying for ``LiveSession`` (a mixin: see the module docstring)."""

    def _init_replay(self) -> None:
        #: what the views show instead of the live run (None: the live run)
        self.source: ReplaySource | None = None
        #: the current run's recording (kept after the run ended, until the next)
        self.recorder: Recorder | None = None
        #: the recording file the views replay ("" when showing a run)
        self.recording_path = ""
        self.replay_speed = 1.0
        #: bumps whenever the shown state jumps (views drop what they derived)
        self.generation = 0
        self._source_tick = 0
        self._asked_t: int | None = None  # a seek asked for, done on the next frame
        self._asked_steps = 0
        self._recorded_run = None
        #: the program of the recording file shown (its sources, what it printed)
        self.replayed_program: ProgramMeta | None = None

    # ------------------------------------------------------------ what is shown
    @property
    def mode(self) -> str:
        """ "live" (the run), "scrub" (the run's recording, looking back), "replay" (a file)."""
        if self.source is None:
            return "live"
        return "replay" if self.recording_path else "scrub"

    @property
    def moving(self) -> bool:
        """The picture moves on by itself: a running run shown live, or a replay playing."""
        if self.source is not None:
            return self.source.playing
        return self.status == "running"

    @property
    def display_settled(self) -> bool:
        """The shown instant stopped moving (a held picture then snaps its tokens)."""
        if self.source is not None:
            return not self.source.playing
        return self.clock.rate == 0 and not self.clock.behind_ns

    def timeline_span(self) -> tuple[int, int]:
        """(start, end) of what the timeline reaches, monotonic ns (0, 0: nothing yet)."""
        src = self.source
        if self.mode == "replay" and src is not None:
            return src.t0, src.end_t
        if not self._run_started_ns or self.recorder is None or not self.recorder.count:
            return (0, 0)
        return self._run_started_ns, max(self._run_started_ns, self.clock.t)

    def marks(self) -> list[tuple[str, int]]:
        """(mark name, time) in time order: first blocked put, hang, error, crash."""
        if self.mode == "replay" and self.source is not None:
            return self.source.marks()
        rec = self.recorder
        if rec is None:
            return []
        return sorted(rec.mark_times.items(), key=lambda m: m[1])

    # ------------------------------------------------------------ a file
    def open_recording(self, path: str | Path) -> None:
        """Show the recording ``path`` instead of a run (paused at its start).

        Everything is checked first (``RecordingError``); only then is the
        current run stopped and replaced, so a bad file changes nothing.
        """
        rec = open_recording(path)
        rec.check_all()
        replayed = rec.meta.program  # a traced program's: drawn as its run grows again
        sc = recording_scenario(rec) if replayed is None else replayed.program().scenario()
        source = ReplaySource(Replay(rec))
        self.stop()
        self._forget_recording()
        self.program = None if replayed is None else replayed.program()
        self.replayed_program = replayed
        self.scenario, self.topology = sc, rec.meta.topology
        self.live_reducer, self._applied = None, []
        self.clock = DisplayClock()
        self._run_started_ns = 0
        self.recording_path = str(path)
        source.set_speed(self.replay_speed)
        self.source = source
        self.generation += 1
        self._set_status("replay_paused")
        self.scenario_loaded.emit(sc)
        self.source_changed.emit()
        self._frame_now()

    # ------------------------------------------------------------ moving
    def seek_time(self, t: int) -> None:
        """Show instant ``t`` (monotonic ns); during a run, look back at it."""
        if self.source is None and (t >= self.clock.t or not self._enter_scrub()):
            return
        self._asked_t, self._asked_steps = int(t), 0
        self._frame_now()

    def seek_seconds(self, seconds: float) -> None:
        """Show the instant ``seconds`` after the run's start."""
        start, _end = self.timeline_span()
        if start:
            self.seek_time(start + int(seconds * 1e9))

    def step_events(self, n: int) -> None:
        """``n`` recorded events on (back if negative); during a run, back looks back."""
        if self.source is None and (n > 0 or not self._enter_scrub()):
            return
        self._asked_steps += n
        self._frame_now()

    def go_start(self) -> None:
        start, _end = self.timeline_span()
        if start:
            self.seek_time(start)

    def go_end(self) -> None:
        """The end of a file's replay; the live run again when looking back."""
        if self.mode == "replay" and self.source is not None:
            self.seek_time(self.source.end_t)
        else:
            self.go_live()

    def jump_to_mark(self, index: int) -> bool:
        """Show mark ``index`` (0: the earliest); False if there is no such mark."""
        marks = self.marks()
        if not 0 <= index < len(marks):
            return False
        self.seek_time(marks[index][1])
        return True

    def go_live(self) -> None:
        """Stop looking back: the views show the live run again."""
        if self.mode == "scrub":
            self._drop_source()
            self._frame_now()

    def replay_play(self) -> None:
        """Play the replay on (during a run: from the moment looked at, up to live)."""
        src = self.source
        if src is None:
            return
        now = time.monotonic_ns()
        if self._asked_t is not None or self._asked_steps:
            self._tick_source(now)  # a move asked just before: play from where it lands
            if self.source is not src:
                return
        src.play()
        self._source_tick = now
        if self.mode == "replay":
            self._set_status("replaying")
        self.source_changed.emit()
        self._frame_now()

    def replay_pause(self) -> None:
        src = self.source
        if src is None or not src.playing:
            return
        src.pause()
        if self.mode == "replay":
            self._set_status("replay_paused")
        self.source_changed.emit()

    def replay_toggle(self) -> None:
        if self.source is not None and self.source.playing:
            self.replay_pause()
        else:
            self.replay_play()

    def set_replay_speed(self, speed: float) -> float:
        self.replay_speed = speed
        if self.source is not None:
            self.replay_speed = self.source.set_speed(speed)
        return self.replay_speed

    def render_at(self, t: int, now_ns: int) -> None:
        """Frame-locked rendering (a video): the replay moved on to instant ``t``
        as if playing, and one frame shown at the frame time ``now_ns`` (made up by
        the caller, 1/fps apart), with no wall clock and no timer: the views
        animate by ``t`` alone, so every frame lies exactly 1/fps apart."""
        src = self.source
        if src is None:
            raise RecordingError("no recording is open to render")
        if not src.playing:
            src.playing = True  # views animate tokens between frames
            self._set_status("replaying")
            self.source_changed.emit()
        src.play_to(t)
        if src.jumped:
            src.jumped = False
            self.generation += 1
        self.frame.emit(now_ns)

    # ------------------------------------------------------------ internals
    def _enter_scrub(self) -> bool:
        """Switch the views to a replay of the run's recording so far, at its end."""
        rec = self.recorder
        if rec is None or rec.closed or not rec.count or self.mode != "live":
            return False
        src = ReplaySource(Replay(rec.view()), t0=self._run_started_ns, grow=self._grown_view)
        src.seek(len(src))  # the live state, as recorded
        src.set_speed(self.replay_speed)
        self.source = src
        self.generation += 1
        self.source_changed.emit()
        return True

    def _grown_view(self) -> Recording | None:
        rec, src = self.recorder, self.source
        if rec is None or rec.closed or src is None or rec.count <= len(src):
            return None
        return rec.view()

    def _drop_source(self) -> None:
        if self.source is None:
            return
        self.source = None
        self._asked_t, self._asked_steps = None, 0
        self._applied = []
        self.generation += 1
        self.source_changed.emit()

    def _frame_now(self) -> None:
        """Show the result of a move: on the next tick if frames are running, else now."""
        if self._timer.isActive():
            return
        now = time.monotonic_ns()
        more = self._tick_source(now)
        self.frame.emit(now)
        if more:
            self._timer.start()

    def _tick_source(self, now: int) -> bool:
        """Move the replay for this frame; True while it wants more frames."""
        src = self.source
        if src is None:
            return False
        wall = now - self._source_tick if self._source_tick else 0
        self._source_tick = now
        try:
            if self._asked_t is not None or self._asked_steps:
                self._do_asked(src, now)
            elif src.playing:
                self._play_on(src, wall)
            else:
                src.applied = []
        except RecordingError as e:  # a corrupt part of a file: stop where it is
            self._asked_t, self._asked_steps = None, 0
            self.replay_pause()
            src.applied = []
            self.error.emit(str(e))
        if self.source is None:  # caught up with the live run
            return False
        if src.jumped:
            src.jumped = False
            self.generation += 1
        return src.playing

    def _do_asked(self, src: ReplaySource, now: int) -> None:
        t, steps = self._asked_t, self._asked_steps
        self._asked_t, self._asked_steps = None, 0
        live = self.mode == "scrub"
        if t is not None:
            if live and t > src.end_t:
                src.refresh()
            if live and t >= self.clock.t:
                self._drop_source()
                return
            src.seek_time(t)
            return
        if live and steps > 0 and src.pos + steps > len(src):
            src.refresh()
            if src.pos + steps > len(src):  # past what is recorded: the live run
                self._drop_source()
                return
        src.step(steps)
        if self.mode == "replay":
            self._set_status("replay_paused")

    def _play_on(self, src: ReplaySource, wall: int) -> None:
        if self.mode == "scrub":
            target = src.t + int(wall * src.speed)
            if target >= src.end_t:
                src.refresh()
            if target >= min(src.end_t, self.clock.t):  # nothing more recorded: caught up
                self._drop_source()
                return
        src.advance(wall)
        if not src.playing and self.mode == "replay":
            self._set_status("replay_paused")
            self.source_changed.emit()

    def replay_state(self) -> dict[str, Any]:
        """What the timeline shows: mode, span, instant, playing, speed, position."""
        start, end = self.timeline_span()
        src = self.source
        return {
            "mode": self.mode,
            "start": start,
            "end": end,
            "t": src.t if src is not None else end,
            "playing": bool(src is not None and src.playing),
            "speed": self.replay_speed,
            "pos": src.pos if src is not None else -1,
            "events": len(src) if src is not None else 0,
        }
