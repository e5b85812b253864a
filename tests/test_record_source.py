"""A recording as a timeline's source: the live view of a recorder, and moving
through a replay by time, by event and by mark.

No processes and no Qt: the made-up run of ``test_record_format`` is fed
through a real reducer and recorder, as the window does frame by frame.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_record_format import NEWCOMER, TOPO, made_up_run, record_made_up_run

from qsim.model.state import Reducer
from qsim.record import snapshot
from qsim.record.format import RecordingError
from qsim.record.recorder import Recorder
from qsim.record.recording import open_recording
from qsim.record.replay import Replay
from qsim.record.source import ReplaySource

State = dict[str, object]


def _record_live(rec: Recorder, stop_after: int | None = None) -> list[tuple[int, State]]:
    """Feed the made-up run (C2 joins halfway) through a reducer ``rec`` records."""
    r = Reducer(TOPO, reorder_ns=0)
    rec.attach(r)
    states = []
    for i, frame in enumerate(made_up_run(60)):
        if stop_after is not None and i == stop_after:
            break
        if i == 30 // 4:
            r.add_actor(NEWCOMER)
        r.feed(frame)
        r.advance(frame[-1][0] + 1)
        states.append((r.applied, snapshot.capture(r)))
    return states


def test_a_live_recording_reads_back_while_it_grows() -> None:
    with Recorder(TOPO, scenario_id="made-up", snapshot_every=16) as rec:
        early_states = _record_live(rec, stop_after=6)
        early = rec.view()
        assert len(early) == early_states[-1][0]
        replay = Replay(early)
        for prefix, live in reversed(early_states):
            replay.seek(prefix)
            assert snapshot.capture(replay.reducer) == live, f"at instant {prefix}"
        # the run goes on (the same reducer): the replay grows and keeps its place
        r = rec._reducer
        assert r is not None
        states = list(early_states)
        for i, frame in enumerate(made_up_run(60)[6:], start=6):
            if i == 30 // 4:
                r.add_actor(NEWCOMER)
            r.feed(frame)
            r.advance(frame[-1][0] + 1)
            states.append((r.applied, snapshot.capture(r)))
        at = replay.pos
        replay.grow(rec.view())
        assert replay.pos == at and len(replay) == r.applied
        assert len(replay.rec.snapshots) > len(early.snapshots)
        for prefix, live in [*states, *reversed(states)]:
            replay.seek(prefix)
            assert snapshot.capture(replay.reducer) == live, f"at instant {prefix}"
        texts = replay.rec.events(0, len(replay))
        assert any(isinstance(e[6], str) and "failed: ∅" in e[6] for e in texts)
        with pytest.raises(ValueError):
            replay.grow(early)
        view = rec.view()
    # the recorder is gone: its view still has its records, and a string read
    # is a clear error (never another file's bytes through a reused fd)
    assert len(view) == r.applied
    view.strings._cache.clear()
    with pytest.raises(RecordingError, match="closed"):
        _ = view.strings[0]
    with pytest.raises(RecordingError, match="closed"):
        rec.view()


def test_source_steps_back_and_forwards_to_the_same_state(tmp_path: Path) -> None:
    path = tmp_path / "run.qrec"
    states = record_made_up_run(path)
    src = ReplaySource(Replay(open_recording(path)))
    assert src.pos == 0 and src.t < src.replay.start_t
    by_prefix = dict(states)
    middle = states[len(states) // 2][0]
    src.seek(middle)
    assert src.jumped and snapshot.capture(src.reducer) == by_prefix[middle]
    before = snapshot.capture(src.reducer)
    src.step(-1)
    assert src.pos == middle - 1 and src.jumped and src.applied == []
    assert snapshot.capture(src.reducer) != before
    src.step(1)
    assert src.pos == middle and not src.jumped and len(src.applied) == 1
    assert snapshot.capture(src.reducer) == before
    assert src.t == src.replay.time_at(middle)


def test_source_plays_by_time_and_stops_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "run.qrec"
    states = record_made_up_run(path)
    src = ReplaySource(Replay(open_recording(path)))
    src.set_speed(0.5)
    src.play()
    passed = 0
    while src.playing:
        before = src.t
        src.advance(2000)  # 2 µs of wall time: 1 µs of the run at 0.5x
        assert src.t == min(before + 1000, src.end_t)
        assert src.pos == src.replay.prefix_at(src.t)
        assert not src.jumped
        passed += len(src.applied)
    assert passed == len(src) and src.at_end
    assert snapshot.capture(src.reducer) == states[-1][1]
    assert src.set_speed(50) == 10.0 and src.set_speed(0.01) == 0.1
    src.play()  # at the end: from the start again
    assert src.pos == 0 and src.playing


def test_source_seeks_by_time_marks_and_reads_ahead(tmp_path: Path) -> None:
    path = tmp_path / "run.qrec"
    record_made_up_run(path)
    src = ReplaySource(Replay(open_recording(path)))
    marks = dict(src.marks())
    assert set(marks) == {"first_error", "first_crash"}
    src.seek_time(marks["first_crash"])
    assert any(a.state == "crashed" for a in src.reducer.actors)
    src.seek_time(marks["first_error"] - 1)
    assert src.pos == src.replay.prefix_at(marks["first_error"] - 1)
    assert src.pos < src.replay.marks()["first_error"]  # just before the error
    ahead = src.upcoming(50_000)
    assert ahead and all(src.t < e[0] <= src.t + 50_000 for e in ahead)
    assert ahead == src.replay.rec.events(src.pos, src.pos + len(ahead))
    src.seek_time(-(10**15))
    assert src.pos == 0 and src.t == src.start_t
    src.seek_time(10**18)
    assert src.at_end and src.upcoming(10**9) == []
    assert src.seconds(src.t0 + 1_500_000_000) == 1.5


def test_a_full_disk_stops_recording_and_keeps_what_was_recorded(tmp_path: Path) -> None:
    """The window records every run to a temporary file: when the disk is full the
    run goes on unrecorded from there, and what was recorded still saves."""
    import errno

    frames = made_up_run(60)
    r = Reducer(TOPO, reorder_ns=0)
    with Recorder(TOPO, scenario_id="made-up", snapshot_every=16) as rec:
        rec.attach(r)
        for frame in frames[:5]:
            r.feed(frame)
            r.advance(frame[-1][0] + 1)
        kept = rec.count
        at = snapshot.capture(r)
        real = rec._f

        class Full:
            def write(self, _data: bytes) -> int:
                raise OSError(errno.ENOSPC, "No space left on device")

            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

        rec._f = Full()  # type: ignore[assignment]
        r.feed(frames[5])
        r.advance(frames[5][-1][0] + 1)  # the reducer goes on
        rec._f = real
        assert rec.count == kept and "No space left" in rec.error
        assert r.on_applied is None and r.applied > kept
        saved = open_recording(rec.save(tmp_path / "early.qrec"))
    replay = Replay(saved)
    replay.seek(len(saved))
    assert len(saved) == kept and snapshot.capture(replay.reducer) == at
