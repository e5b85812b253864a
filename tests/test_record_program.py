"""A traced program's run recorded and replayed: the same file, the same replay.

Real programs of tests/programs run traced (``qsim trace --headless``), under
fork and spawn, recorded to a file. The live reducer's state is kept after
every step of the live run; the recording, replayed through a fresh reducer
whose topology grows again from the recorded events, must give the very same
state (processes, queues, which process used which queue, the objects'
reprs) at random instants, either way, and at the end, and the same report.
A made-up program run (no processes) holds the file's checks: a program
recording that lies about what the program made is one clear line.
"""

from __future__ import annotations

import functools
import json
import random
import struct
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_record_format import use_all_of
from tracing import PROGRAMS

import qsim.record.recorder as recorder_module
from qsim.cli import main
from qsim.engine.trace_headless import trace_headless
from qsim.model.events import Event, EventKind, make_event
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.model.wire import FLAG_CONSUMED, RECORD_FIELDS
from qsim.record import snapshot
from qsim.record.format import DATA_OFFSET, PREAMBLE, RecordingError
from qsim.record.perfetto import export_trace
from qsim.record.recorder import Recorder
from qsim.record.recording import open_recording
from qsim.record.replay import Replay, replay_report

K = EventKind
#: (program, its arguments after the start method): a 1:1 queue and a 3-stage pipeline
RUNS = [("slow_one_to_one.py", ["10", "0.06"]), ("slow_pipeline.py", ["8", "0.06"])]
States = list[tuple[int, dict[str, Any]]]


def record_program(
    program: str, args: list[str], path: Path
) -> tuple[dict[str, Any], Reducer, States]:
    states: States = []

    def on_frame(r: Reducer) -> None:
        states.append((r.applied, snapshot.capture(r)))

    report, reducer, _run = trace_headless(
        str(PROGRAMS / program), args, duration=60, record=path, on_frame=on_frame
    )
    return report, reducer, states


@pytest.mark.parametrize(("program", "args"), RUNS)
def test_replay_equals_live_for_a_traced_program(
    program: str,
    args: list[str],
    start_method: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # snapshots every 16 events, so that seeks restore grown topologies
    monkeypatch.setattr(recorder_module, "SNAPSHOT_EVERY", 16)
    path = tmp_path / "prog.qrec"
    report, live, states = record_program(program, [start_method, *args], path)
    assert report["invariant_violations"] == 0 and report["accounting"]["closes"]
    rec = open_recording(path)
    rec.check_all()
    meta = rec.meta
    assert meta.traced and meta.program is not None
    assert meta.program.path == str(PROGRAMS / program)
    assert meta.program.argv == (start_method, *args)
    assert meta.program.sources[meta.program.path] == (PROGRAMS / program).read_text()
    assert meta.grown == (len(live.actors), len(live.queues))
    assert len(rec) == states[-1][0] == report["events_received"]
    assert len(rec.snapshots) >= 2, "snapshots of a growing topology"
    assert len(states) > 5, "the live run was seen at several instants"

    replay = Replay(rec)
    rng = random.Random(f"{program}-{start_method}")
    *middle, final = states
    picks = rng.sample(middle, min(10, len(middle)))
    for prefix, state in [*picks, final, *sorted(picks, reverse=True)]:
        replay.seek(prefix)
        assert snapshot.capture(replay.reducer) == state, f"state differs at instant {prefix}"
        # the topology of that instant: the processes and queues that existed then
        assert len(replay.reducer.actors) == state["n_actors"]
        assert replay.reducer.topology.traced
    replay.seek(len(rec))
    end = replay.reducer
    assert end.topology == live.topology, "the same processes, queues and uses, in order"
    assert end.item_repr.items() <= live.item_repr.items()
    replayed = replay_report(rec)
    assert json.dumps(replayed, sort_keys=True) == json.dumps(report, sort_keys=True)


def test_seeking_a_program_recording_back_then_on_returns_to_the_same_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_module, "SNAPSHOT_EVERY", 16)
    path = tmp_path / "pipe.qrec"
    record_program("slow_pipeline.py", ["fork", "6", "0.02"], path)
    replay = Replay(open_recording(path))
    n = len(replay)
    grown_at = [k for k in range(1, n + 1) if replay.rec.events(k - 1, k)[0][3] in (4, 5)]
    rng = random.Random(7)
    # where the topology grows, just after it, and anywhere
    for k in [1, n, *grown_at, *(g + 1 for g in grown_at if g < n), *rng.sample(range(2, n), 12)]:
        replay.seek(k)
        here = snapshot.capture(replay.reducer)
        topo = replay.reducer.topology
        replay.step(-1)
        before = snapshot.capture(replay.reducer)
        replay.step(1)
        assert snapshot.capture(replay.reducer) == here, f"step back+forward at {k}"
        assert replay.reducer.topology == topo
        replay.step(-1)
        assert snapshot.capture(replay.reducer) == before, f"second step back at {k}"
    # before the first process started nothing is drawn; at the end every one is
    replay.seek(0)
    assert replay.reducer.actors == [] and replay.reducer.queues == []
    replay.seek(n)
    # in the order they first reported: the three stages start at once
    names = [a.name for a in replay.reducer.actors]
    assert names[0] == "main" and sorted(names[1:]) == ["parse", "read", "save"]


def test_qsim_trace_record_then_qsim_replay_prints_the_same_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = str(tmp_path / "run.qrec")
    prog = str(PROGRAMS / "pipeline.py")
    assert main(["trace", prog, "spawn", "--headless", "--json", "--record", rec]) == 0
    live = json.loads(capsys.readouterr().out)
    assert main(["replay", rec, "--headless", "--json"]) == 0
    replayed = json.loads(capsys.readouterr().out)
    assert replayed == live
    assert list(replayed) == list(live), "the same fields in the same order"
    assert live["accounting"]["produced"] == 23 and live["exit_codes"]["main"] == 0
    assert json.loads(live["stdout"].strip().splitlines()[-1])["squares"] == [
        i * i for i in range(10)
    ]
    out = tmp_path / "run.json"
    assert main(["export", rec, "-o", str(out)]) == 0
    assert "Perfetto" in capsys.readouterr().out
    doc = json.loads(out.read_text(encoding="utf-8"))
    names = {e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"}
    assert {"main (process)", "queue numbers (Queue)", "queue squares (Queue)"} <= names
    gets = [e["name"] for e in doc["traceEvents"] if e.get("cat") == "queue"]
    assert "get 81 <- squares" in gets, "items are named by their objects' reprs"
    assert doc["otherData"]["program"] == prog


def test_a_hung_program_replays_hung(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rec = str(tmp_path / "hang.qrec")
    prog = str(PROGRAMS / "hang_no_sentinel.py")
    argv = ["trace", prog, "fork", "--headless", "--json", "--hang-after", "1", "--record", rec]
    assert main(argv) == 0
    live = json.loads(capsys.readouterr().out)
    assert live["hung"] and any("hung" in m for m in live["messages"])
    assert main(["replay", rec, "--headless", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == live
    assert open_recording(rec).meta.marks.get("first_hang") is not None


# ---------------------------------------------------------------- made up, no processes
PROG = "/nowhere/prog.py"


def made_up_program(path: Path, every: int = 16) -> Reducer:
    """A program's run made up: main makes q, starts a producer and a consumer;
    ``('item', n)`` goes through q, then 'DONE'. Recorded as a live run would be."""
    r = Reducer(Topology((), (), traced=True), reorder_ns=0)
    info = {"path": PROG, "argv": ["fork"], "sources": {PROG: "import multiprocessing\n"}}
    with Recorder(
        r.topology,
        scenario_id=f"program:{PROG}",
        start_method="program's own",
        path=path,
        snapshot_every=every,
        program={"title": "", "lesson": "", "internals": False, **info},
    ) as rec:
        rec.attach(r)
        t = 1_000_000
        frames: list[list[Event]] = [
            [
                make_event(t, 0, K.PROCESS_STARTED, 100, -1, "main", -1),
                make_event(t + 1, 0, K.QUEUE_CREATED, 0, 0, "q", 3),
                make_event(t + 2, 1, K.PROCESS_STARTED, 101, -1, "producer", 0),
                make_event(t + 3, 2, K.PROCESS_STARTED, 102, -1, "consumer", 0),
            ]
        ]
        for n in range(1, 30):
            t += 1000
            item = 1000 + n
            text = f"('item', {n})" if n < 29 else "'DONE'"
            frames.append(
                [
                    make_event(t, 1, K.LINE, 0, -1, PROG, 7),
                    make_event(t + 1, 1, K.PUT_DONE, item, 0, text),
                    make_event(t + 5, 2, K.GET_DONE, item, 0, 1, flags=FLAG_CONSUMED),
                ]
            )
        frames.append([make_event(t + 10, a, K.ACTOR_EXITED, 0, -1, 0) for a in (1, 2, 0)])
        for f in frames:
            r.feed(f)
            r.advance(10**15)
        r.flush()
        rec.finish({"head": {"program": PROG, "args": ["fork"], "finished": True}})
    return r


def _rewrite_meta(path: Path, change: dict[str, Any]) -> None:
    data = path.read_bytes()
    fields = list(PREAMBLE.unpack(data[: PREAMBLE.size]))
    m_off = fields[9]
    meta = {**json.loads(data[m_off:]), **change}
    body = json.dumps(meta).encode()
    fields[10] = len(body)
    head = PREAMBLE.pack(*fields)
    path.write_bytes(head + data[len(head) : m_off] + body)


def _patch_record(path: Path, index: int, field: str, value: int) -> None:
    off = next(o for name, _f, o in RECORD_FIELDS if name == field)
    raw = bytearray(path.read_bytes())
    at = DATA_OFFSET + 40 * index + off
    raw[at : at + 2] = struct.pack("<h", value)
    path.write_bytes(bytes(raw))


def _error(path: Path) -> str:
    with pytest.raises(RecordingError) as e:
        rec = open_recording(path)
        rec.check_all()
        replay = Replay(rec)
        for k in range(len(rec), -1, -7):  # back: every snapshot restored on the way
            replay.seek(k)
    text = str(e.value)
    assert "\n" not in text and str(path) in text
    return text


def test_a_made_up_program_recording_replays_and_is_format_2(tmp_path: Path) -> None:
    path = tmp_path / "prog.qrec"
    live = made_up_program(path)
    raw = path.read_bytes()
    assert struct.unpack("<I", raw[8:12])[0] == 2, "a program's recording is format 2"
    rec = open_recording(path)
    rec.check_all()
    assert rec.meta.grown == (3, 1) and len(rec.snapshots) >= 3
    replay = Replay(rec)
    replay.seek(len(rec))
    assert snapshot.capture(replay.reducer) == snapshot.capture(live)
    replay.seek(40)  # from a snapshot: the reprs of what is in the queue are known
    r = replay.reducer
    assert [r.item_repr[i] for i in r.queues[0].contents] == [
        live.item_repr[i] for i in r.queues[0].contents
    ]
    assert replay_report(rec)["actors"]["producer"]["line"] == f"{PROG}:7"
    # and Perfetto names its processes, known only at the end
    out = tmp_path / "p.json"
    with open(out, "w", encoding="utf-8") as f:
        export_trace(rec, f)
    events = json.loads(out.read_text())["traceEvents"]
    names = {e["args"]["name"] for e in events if e["name"] == "process_name"}
    assert {"producer (process)", "consumer (process)", "queue q (Queue)"} <= names


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        ("queue never made", "record 20 (PUT_DONE) names queue #5, which the program never made"),
        ("process never started", "record 21 (GET_DONE) comes from process #9, which never"),
        ("grown lies", "its meta says the program made 3 processes and 4 queues"),
        ("no program", "meta field program is missing"),
        ("not empty", "meta field topology of a traced program must start empty"),
        ("program on a scenario", "meta field program belongs to a program's recording"),
        ("bad sources", "meta field program.sources must map"),
        ("snapshot topology", "a snapshot is corrupt"),
    ],
)
def test_a_program_recording_that_lies_is_one_clear_line(
    tmp_path: Path, damage: str, why: str
) -> None:
    path = tmp_path / "prog.qrec"
    made_up_program(path)
    rec = open_recording(path)
    topo = rec.meta.raw["topology"]
    prog = rec.meta.raw["program"]
    if damage == "queue never made":
        assert rec.events(20, 21)[0][3] == K.PUT_DONE
        _patch_record(path, 20, "queue", 5)
    elif damage == "process never started":
        assert rec.events(21, 22)[0][3] == K.GET_DONE
        _patch_record(path, 21, "actor", 9)
    elif damage == "grown lies":
        _rewrite_meta(path, {"grown": {"actors": 3, "queues": 4}})
    elif damage == "no program":
        _rewrite_meta(path, {"program": None})
    elif damage == "not empty":
        _rewrite_meta(path, {"topology": {**topo, "actors": [[0, "m", "main", "main", -1, -1]]}})
    elif damage == "program on a scenario":
        main_only = [[0, "main", "main", "main", -1, -1]]
        _rewrite_meta(path, {"topology": {"actors": main_only, "queues": []}})
    elif damage == "bad sources":
        _rewrite_meta(path, {"program": {**prog, "sources": {PROG: 12}}})
    else:  # a snapshot's traced topology names a queue it does not have
        data = bytearray(path.read_bytes())
        needle = b'"queues":[["q","Queue",3,false,false]]'
        at = data.find(needle)
        assert at > 0
        data[at : at + len(needle)] = b'"queues":[["q","Queue",3,false,12345]]'
        path.write_bytes(bytes(data))
    assert why in _error(path)


def test_a_corrupt_program_recording_is_one_line_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prog.qrec"
    made_up_program(path)
    _patch_record(path, 20, "queue", 5)
    for verb in (["replay", str(path), "--headless"], ["export", str(path), "-o", "x.json"]):
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "never made" in err and "Traceback" not in err


@given(
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 10**6)),
)
@settings(deadline=None)
def test_mutated_program_recordings_open_or_give_a_recording_error(
    flips: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(_good_program())
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        del data[cut % (len(data) + 1) :]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mutated.qrec"
        path.write_bytes(bytes(data))
        try:
            open_recording(path).check_all()
            use_all_of(path)
        except RecordingError as e:
            assert str(path) in str(e) and "\n" not in str(e)


@functools.cache
def _good_program() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "good.qrec"
        made_up_program(path, every=8)
        return path.read_bytes()
