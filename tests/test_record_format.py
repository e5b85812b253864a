"""The .qrec file: what goes in comes out, and a bad file is one clear error.

No processes here: a small run is made up from events (with texts, a worker
that joins mid-run, a crash), fed through a real reducer and recorder.
"""

from __future__ import annotations

import io
import json
import os
import struct
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qsim.record.recorder as recorder_module
from qsim.model.events import Event, EventKind, make_event, producer_item_id
from qsim.model.records import RECORD_DTYPE
from qsim.model.state import Reducer
from qsim.model.topology import ActorInfo, QueueInfo, Topology
from qsim.model.wire import FLAG_CONSUMED
from qsim.record import snapshot
from qsim.record.format import DATA_OFFSET, PREAMBLE, RECORDS_OFFSET, WIRE_DTYPE, RecordingError
from qsim.record.perfetto import export_trace
from qsim.record.recorder import Recorder
from qsim.record.recording import open_recording
from qsim.record.replay import Replay, replay_report

K = EventKind
TOPO = Topology(
    (
        ActorInfo(0, "main", "main", "main", -1, -1),
        ActorInfo(1, "P1", "producer", "P", -1, 0),
        ActorInfo(2, "C1", "consumer", "C", 0, -1),
    ),
    (QueueInfo(0, "q", "Queue", 3),),
)
NEWCOMER = ActorInfo(3, "C2", "consumer", "C", 0, -1)


def made_up_run(items: int = 60) -> list[list[Event]]:
    """Frames of events: P1 puts, C1 (and later C2) get and work; errors with texts."""
    t = 1_000_000
    frames: list[list[Event]] = []
    frame: list[Event] = [make_event(t, 1, K.ACTOR_STARTED), make_event(t, 2, K.ACTOR_STARTED)]
    for n in range(1, items + 1):
        t += 1000
        item = producer_item_id(1, n)
        frame.append(make_event(t, 1, K.PUT_DONE, item, 0, 1, seq=n))
        consumer = 3 if n > items // 2 and n % 2 else 2
        frame.append(make_event(t + 10, consumer, K.GET_DONE, item, 0, 1, seq=n))
        if n % 7 == 0:
            frame.append(make_event(t + 20, consumer, K.ERROR, item, 0, f"item {n} failed: ∅"))
            frame.append(make_event(t + 30, consumer, K.WORK_END, item, 0))
        elif n % 5 == 0:
            frame.append(make_event(t + 30, consumer, K.WORK_END, item, 0))
        else:
            frame[-1] = make_event(
                t + 10, consumer, K.GET_DONE, item, 0, 1, flags=FLAG_CONSUMED, seq=n
            )
        if n % 4 == 0:
            frames.append(frame)
            frame = []
    frame.append(make_event(t + 100, 2, K.ACTOR_CRASHED, 0, -1, -9))
    frame.append(make_event(t + 100, 3, K.MARK, 0, -1, "seen=12"))
    frames.append(frame)
    return frames


def record_made_up_run(path: Path, every: int = 16) -> list[tuple[int, dict[str, object]]]:
    """Record the made-up run (C2 joins halfway); the live states after each frame."""
    r = Reducer(TOPO, reorder_ns=0)
    states = []
    with Recorder(
        TOPO, scenario_id="made-up", start_method="none", path=path, snapshot_every=every
    ) as rec:
        rec.attach(r)
        for i, frame in enumerate(made_up_run(60)):
            if i == 30 // 4:  # the frame with the newcomer's first get
                r.add_actor(NEWCOMER)
            r.feed(frame)
            r.advance(frame[-1][0] + 1)
            states.append((r.applied, snapshot.capture(r)))
        r.flush()
        states.append((r.applied, snapshot.capture(r)))
        rec.finish({"head": {"scenario": "made-up", "finished": True}})
    return states


@pytest.fixture
def made_up(tmp_path: Path) -> tuple[Path, list[tuple[int, dict[str, object]]]]:
    path = tmp_path / "run.qrec"
    return path, record_made_up_run(path)


def test_events_read_back_as_applied_with_their_texts(made_up: tuple[Path, list]) -> None:
    path, _ = made_up
    rec = open_recording(path)
    events = rec.events(0, len(rec))
    applied = sorted((e for f in made_up_run() for e in f), key=lambda e: e[0])
    assert [e[:6] for e in events] == [e[:6] for e in applied]
    texts = [e[6] for e in events if e[3] == K.ERROR]
    assert texts and texts[0] == "item 7 failed: ∅"
    assert "seen=12" in [e[6] for e in events if e[3] == K.MARK]
    assert len(rec.strings) < len(texts) + 2, "repeated texts are stored once"
    assert rec.meta.scenario_id == "made-up"
    assert rec.meta.topology == TOPO
    assert rec.meta.added == [(rec.meta.added[0][0], NEWCOMER)]
    assert set(rec.meta.raw["machine"]) >= {"platform", "python", "cpu_count"}
    kinds = [e[3] for e in events]
    assert rec.meta.marks == {
        "first_error": kinds.index(K.ERROR),
        "first_crash": kinds.index(K.ACTOR_CRASHED),
    }


def test_the_records_are_a_plain_npy_block(made_up: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = made_up
    rec = open_recording(path)
    data = path.read_bytes()
    block = tmp_path / "records.npy"
    block.write_bytes(data[RECORDS_OFFSET : DATA_OFFSET + len(rec) * 40])
    loaded = np.load(block, mmap_mode="r")
    assert loaded.dtype == WIRE_DTYPE and len(loaded) == len(rec)
    mapped = np.memmap(path, WIRE_DTYPE, mode="r", offset=DATA_OFFSET, shape=(len(rec),))
    assert (mapped.view(RECORD_DTYPE) == rec.records).all()
    assert (loaded["t"] == rec.records["t"]).all()
    del mapped, loaded


def test_replay_equals_live_with_a_worker_that_joined_mid_run(made_up: tuple[Path, list]) -> None:
    path, states = made_up
    replay = Replay(open_recording(path))
    for prefix, live in [*states, *reversed(states)]:
        replay.seek(prefix)
        assert snapshot.capture(replay.reducer) == live, f"at instant {prefix}"
    joined = replay.meta.added[0][0]
    replay.seek(joined)
    assert [a.name for a in replay.reducer.actors] == ["main", "P1", "C1"]
    replay.seek(joined + 1)
    assert [a.name for a in replay.reducer.actors] == ["main", "P1", "C1", "C2"]
    report = replay_report(replay.rec)
    assert report["scenario"] == "made-up" and report["actors"]["C1"]["state"] == "crashed"
    assert report["accounting"]["closes"]


def test_save_while_recording_gives_a_finished_copy(tmp_path: Path) -> None:
    r = Reducer(TOPO, reorder_ns=0)
    frames = made_up_run()
    with Recorder(TOPO, scenario_id="made-up", snapshot_every=16) as rec:
        rec.attach(r)
        for frame in frames[:5]:
            r.feed(frame)
            r.advance(frame[-1][0] + 1)
        saved = rec.save(tmp_path / "early.qrec")
        at_save = snapshot.capture(r)
        for frame in frames[5:]:
            r.feed(frame)
            r.advance(frame[-1][0] + 1)
        later = rec.save(tmp_path / "later.qrec")
    early = open_recording(saved)
    assert len(early) == at_save["applied"]
    replay = Replay(early)
    replay.seek(len(early))
    assert snapshot.capture(replay.reducer) == at_save
    assert len(open_recording(later)) == r.applied
    assert not list(tmp_path.glob("*.part"))


def test_big_state_is_snapshotted_less_often(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(recorder_module, "SNAPSHOT_EVERY", 16)
    topo = Topology(TOPO.actors[:2], (QueueInfo(0, "q", "Queue", 0),))
    r = Reducer(topo, reorder_ns=0)
    with Recorder(topo) as rec:
        rec.attach(r)
        for f in range(40):  # a queue nobody gets from: 500 more items each frame
            frame = [
                make_event(f * 10_000 + n, 1, K.PUT_DONE, producer_item_id(1, f * 500 + n), 0, 1)
                for n in range(1, 501)
            ]
            r.feed(frame)
            r.advance(frame[-1][0])
        gaps = np.diff([p for p, _o, _s in rec.snapshots])
        sizes = [s for _p, _o, s in rec.snapshots]
        assert sum(sizes) < rec.count * 40 / 4, "snapshots stay well below the records' bytes"
        assert gaps.max() > 16


# ---------------------------------------------------------------- bad files
def use_all_of(path: Path | str) -> None:
    """Open, report, and seek so that every stored snapshot is restored."""
    rec = open_recording(path)
    replay_report(rec)
    replay = Replay(rec)
    for k in (len(rec), len(rec) - 1, len(rec) // 2, 1, 0):
        replay.seek(k)
    for p, _o, _s in rec.snapshots:
        replay = Replay(rec)
        replay.seek(p + 2)
        replay.seek(p + 1)  # back: restores the snapshot at p
    export_trace(rec, io.StringIO())


def _error(path: Path | str) -> str:
    with pytest.raises(RecordingError) as e:
        use_all_of(path)
    return str(e.value)


def _patch(path: Path, offset: int, data: bytes) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset : offset + len(data)] = data
    path.write_bytes(bytes(raw))


def _sections(path: Path) -> list[int]:
    return list(PREAMBLE.unpack(path.read_bytes()[: PREAMBLE.size])[3:])


def test_foreign_empty_and_short_files(tmp_path: Path) -> None:
    for name, data in [
        ("empty.qrec", b""),
        ("png.qrec", b"\x89PNG\r\n\x1a\n" + bytes(300)),
        ("text.qrec", b"hello, I am a text file\n" * 20),
        ("npy.qrec", b"\x93NUMPY" + bytes(500)),
    ]:
        p = tmp_path / name
        p.write_bytes(data)
        assert "not a qsim recording" in _error(p)
    p = tmp_path / "short.qrec"
    p.write_bytes(b"QSIMREC\0\x01")
    assert "cut short" in _error(p)


def test_links_fifos_and_folders_are_refused_without_reading(tmp_path: Path) -> None:
    link = tmp_path / "zero.qrec"
    link.symlink_to("/dev/zero")
    assert "not a plain file" in _error(link)
    fifo = tmp_path / "fifo.qrec"
    os.mkfifo(fifo)
    assert "not a plain file" in _error(fifo)  # and no wait for a writer
    assert "not a plain file" in _error(tmp_path)
    assert "cannot open" in _error(tmp_path / "missing.qrec")


def test_cut_short_anywhere_is_one_clear_error(made_up: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = made_up
    data = path.read_bytes()
    cut = tmp_path / "cut.qrec"
    for size in sorted({*range(0, len(data), max(1, len(data) // 60)), len(data) - 1}):
        cut.write_bytes(data[:size])
        _error(cut)


def test_huge_sizes_in_the_preamble_do_not_read_or_allocate(made_up: tuple[Path, list]) -> None:
    path, _ = made_up
    good = path.read_bytes()
    sec = _sections(path)
    for field, value in [(1, 10**12), (7, 10 * 2**30), (3, 2**63), (5, 2**64 - 1)]:
        path.write_bytes(good)
        bad = list(sec)
        bad[field] = value
        _patch(path, 16, struct.pack("<8Q", *bad[:8]))
        assert "do not fit" in _error(path) or "too large" in _error(path)


def test_newer_and_unfinished_files_say_so(made_up: tuple[Path, list], tmp_path: Path) -> None:
    path, _ = made_up
    good = path.read_bytes()
    _patch(path, 8, struct.pack("<I", 99))
    assert "newer qsim" in _error(path)
    path.write_bytes(good)
    _patch(path, 16 + 7 * 8, struct.pack("<Q", 0))
    assert "never finished" in _error(path)


def test_corrupt_records_snapshots_and_meta(made_up: tuple[Path, list]) -> None:
    path, _ = made_up
    good = path.read_bytes()
    rec = open_recording(path)
    # an actor index no topology has, in the 10th record
    _patch(path, DATA_OFFSET + 9 * 40 + 34, struct.pack("<h", 999))
    assert "record 9 is corrupt" in _error(path)
    # a snapshot's bytes scrambled
    path.write_bytes(good)
    _prefix, s_off, _size = rec.snapshots[-1]
    p_off = _sections(path)[4]
    blob = p_off + 8 + 24 * len(rec.snapshots)
    _patch(path, blob + s_off + 10, b"\xff" * 20)
    assert "snapshot" in _error(path)
    # the meta block: a role no actor has, then not JSON at all
    meta_off, meta_size = _sections(path)[6:8]
    path.write_bytes(good)
    meta = json.loads(good[meta_off : meta_off + meta_size])
    meta["topology"]["actors"][1][2] = "wizard"
    text = json.dumps(meta).encode()
    path.write_bytes(good[:meta_off] + text)
    _patch(path, 16 + 7 * 8, struct.pack("<Q", len(text)))
    assert "topology.actors[1]" in _error(path)
    path.write_bytes(good[:meta_off] + b"{not json" + bytes(meta_size - 9))
    assert "not JSON" in _error(path)


_GOOD: list[bytes] = []


def _good_bytes() -> bytes:
    if not _GOOD:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "good.qrec"
            record_made_up_run(path)
            _GOOD.append(path.read_bytes())
    return _GOOD[0]


@settings(max_examples=150, deadline=None)
@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
def test_mutated_files_open_or_give_a_recording_error(
    flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(_good_bytes())
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.qrec"
        path.write_bytes(bytes(data))
        try:
            use_all_of(path)
        except RecordingError as e:
            assert str(path) in str(e)


def test_a_snapshot_keeps_every_field_the_reducer_keeps() -> None:
    """A field added to an actor's or queue's state is in snapshots without a change here."""
    import dataclasses

    from qsim.model.entities import Accounting, ActorState, QueueState

    kept = {
        QueueState: {*snapshot.Q_INTS, *snapshot.Q_STRS, *snapshot.Q_ARRAYS},
        ActorState: {*snapshot.A_INTS, *snapshot.A_BOOLS, *snapshot.A_STRS},
        Accounting: set(snapshot.ACCT_INTS),
    }
    special = {"state", "exit_code", "holding", "lost_reasons"}
    identity = {"index", "name", "role", "id", "kind", "maxsize"}
    for cls, names in kept.items():
        for f in dataclasses.fields(cls):
            if f.init and f.name not in identity:
                assert f.name in names | special, f"{cls.__name__}.{f.name} is not snapshotted"
