"""Replay equals live: real runs recorded, then replayed from the file alone.

For each lesson, under fork and spawn, the live reducer's state is captured
after every step of the live run (what the window would have shown then).
The recording, replayed through a fresh reducer, must give the very same
state at 20 random instants and at the end, the same report, and a step back
then forward must land exactly where it was.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from handy import scenario

import qsim.record.recorder as recorder_module
from qsim.engine.headless import run_headless
from qsim.model.state import Reducer
from qsim.record import snapshot
from qsim.record.recording import open_recording
from qsim.record.replay import Replay, replay_report

LESSONS = ["small-basic", "backpressure", "small-pipeline", "small-joinable", "errors"]


def _record(
    lesson: str, start_method: str, path: Path
) -> tuple[dict[str, Any], list[tuple[int, dict[str, Any]]]]:
    states: list[tuple[int, dict[str, Any]]] = []

    def on_frame(r: Reducer) -> None:
        states.append((r.applied, snapshot.capture(r)))

    report, _ = run_headless(
        scenario(lesson), start_method=start_method, speed=5, record=path, on_frame=on_frame
    )
    return report, states


@pytest.mark.parametrize("lesson", LESSONS)
def test_replay_equals_live_at_random_instants_and_at_the_end(
    lesson: str, start_method: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # snapshots every 16 events, so that seeks restore them even in a short lesson
    monkeypatch.setattr(recorder_module, "SNAPSHOT_EVERY", 16)
    path = tmp_path / f"{lesson}.qrec"
    report, states = _record(lesson, start_method, path)
    rec = open_recording(path)
    assert rec.meta.scenario_id == lesson
    assert rec.meta.start_method == start_method
    assert len(rec) == states[-1][0] == report["events_received"]
    assert rec.snapshots, "a run of this length has snapshots"

    replay = Replay(rec)
    rng = random.Random(f"{lesson}-{start_method}")
    *middle, final = states
    picks = rng.sample(middle, min(20, len(middle)))
    for prefix, live in [*picks, final]:
        replay.seek(prefix)
        assert snapshot.capture(replay.reducer) == live, f"state differs at instant {prefix}"
    # and in the other direction: from the end back to each picked instant
    for prefix, live in sorted(picks, reverse=True):
        replay.seek(prefix)
        assert snapshot.capture(replay.reducer) == live, f"state differs at instant {prefix}"

    replayed = replay_report(rec)
    assert json.dumps(replayed, sort_keys=True) == json.dumps(report, sort_keys=True)
    assert replayed["accounting"]["closes"]


@pytest.mark.parametrize("lesson", ["backpressure", "errors"])
def test_step_back_then_forward_returns_to_the_same_state(
    lesson: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "SNAPSHOT_EVERY", 16)
    path = tmp_path / "run.qrec"
    _record(lesson, "fork", path)
    replay = Replay(open_recording(path))
    n = len(replay)
    rng = random.Random(lesson)
    for k in [1, n, *rng.sample(range(2, n), 15)]:
        replay.seek(k)
        here = snapshot.capture(replay.reducer)
        replay.step(-1)
        assert replay.pos == k - 1
        before = snapshot.capture(replay.reducer)
        replay.step(1)
        assert snapshot.capture(replay.reducer) == here, f"step back+forward at {k}"
        replay.step(-1)
        assert snapshot.capture(replay.reducer) == before, f"second step back at {k}"
        # played forward one event at a time, the last event is what a view animates
        replay.step(1)
        assert replay.reducer.last_applied == replay.rec.events(k - 1, k)


def test_marks_point_at_the_first_blocked_put_and_the_first_error(tmp_path: Path) -> None:
    path = tmp_path / "bp.qrec"
    _record("backpressure", "fork", path)
    replay = Replay(open_recording(path))
    k = replay.marks()["first_block"]
    replay.seek(k)
    blocked = [a.name for a in replay.reducer.actors if a.state == "blocked on put"]
    assert blocked, "at the first-block mark a producer is shown blocked on put()"
    replay.seek(k - 1)
    assert not [a for a in replay.reducer.actors if a.state == "blocked on put"]
    # and seeking by time lands on the same instant
    assert replay.prefix_at(replay.time_at(k)) >= k
