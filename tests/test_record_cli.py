"""The recording verbs: ``qsim run --record``, ``qsim replay``, ``qsim export``,
``qsim bench replay``, as a user types them."""

from __future__ import annotations

import json
from collections import defaultdict
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from qsim.cli import main


def _run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(list(argv)) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_replay_prints_the_same_report_as_the_live_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = str(tmp_path / "run.qrec")
    live = _run_json(
        capsys, "run", "errors", "--headless", "--json", "--start-method", "fork",
        "--speed", "5", "--record", rec,
    )  # fmt: skip
    replayed = _run_json(capsys, "replay", rec, "--headless", "--json")
    assert replayed == live
    assert list(replayed) == list(live), "the same fields in the same order"
    assert live["actors"]["C1"]["errors"] > 0, "the errors lesson has errors to show"


def test_a_recording_that_cannot_be_written_or_read_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "run.qrec"
    assert main(["run", "backpressure", "--headless", "--record", str(missing)]) == 2
    err = capsys.readouterr().err
    assert "cannot write the recording" in err and "Traceback" not in err
    junk = tmp_path / "junk.qrec"
    junk.write_text("not a recording\n", encoding="utf-8")
    for verb in (["replay", str(junk), "--headless"], ["export", str(junk), "-o", "x.json"]):
        assert main(verb) == 2
        err = capsys.readouterr().err
        assert err.strip() == f"{junk}: is not a qsim recording"


def check_trace(doc: dict[str, Any]) -> dict[str, Any]:
    """The structure Perfetto needs; returns what the trace holds, by kind."""
    events = doc["traceEvents"]
    assert isinstance(events, list) and events
    procs = {
        e["pid"]: e["args"]["name"]
        for e in events
        if e["ph"] == "M" and e["name"] == "process_name"
    }
    slices: dict[tuple[int, int], list[tuple[int, int, str]]] = defaultdict(list)
    starts: set[tuple[int, int, float]] = set()
    flows: dict[str, dict[int, dict[str, Any]]] = {"s": {}, "f": {}}
    counters: list[dict[str, Any]] = []
    for e in events:
        if e["ph"] != "M":
            assert e["pid"] in procs, f"an event of an unnamed process: {e}"
            assert isinstance(e["ts"], int | float) and e["ts"] >= 0
        if e["ph"] == "X":
            assert e["dur"] >= 0
            start = round(e["ts"] * 1000)  # in ns, as Perfetto reads µs with 3 decimals
            slices[e["pid"], e["tid"]].append((start, start + round(e["dur"] * 1000), e["name"]))
            starts.add((e["pid"], e["tid"], e["ts"]))
        elif e["ph"] in ("s", "f"):
            assert e["id"] not in flows[e["ph"]], "one start and one end per flow"
            flows[e["ph"]][e["id"]] = e
            assert (e["pid"], e["tid"], e["ts"]) in starts or e["ph"] == "s"
        elif e["ph"] == "C":
            counters.append(e)
    for track in slices.values():  # slices on one track never overlap partly
        track.sort(key=lambda s: (s[0], -s[1]))
        for (_a0, a1, a), (b0, b1, b) in pairwise(track):
            assert b0 >= a1 or b1 <= a1, f"{a} and {b} overlap"
    assert set(flows["f"]) <= set(flows["s"]), "every arrow ends where one started"
    return {"procs": procs, "slices": slices, "flows": flows, "counters": counters}


def test_export_writes_a_trace_perfetto_can_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = str(tmp_path / "run.qrec")
    live = _run_json(
        capsys, "run", "backpressure", "--headless", "--json", "--start-method", "fork",
        "--speed", "5", "--record", rec,
    )  # fmt: skip
    out = tmp_path / "run.json"
    assert main(["export", rec, "-o", str(out)]) == 0
    assert "Perfetto" in capsys.readouterr().out
    found = check_trace(json.loads(out.read_text(encoding="utf-8")))
    assert {"P1 (producer)", "C1 (consumer)", "queue q (Queue)"} <= set(found["procs"].values())
    names = {name for track in found["slices"].values() for _s, _e, name in track}
    assert {"blocked on put", "working"} <= names, "the lesson's producer blocks on put()"
    puts = sum(q["puts"] for q in live["queues"].values())
    assert len(found["flows"]["s"]) == puts, "an arrow from every put"
    assert len(found["flows"]["f"]) == sum(q["gets"] for q in live["queues"].values())
    maxsize = live["queues"]["q"]["maxsize"]
    depths = [c["args"]["depth"] for c in found["counters"]]
    assert max(depths) == live["queues"]["q"]["max_depth"] and min(depths) >= 0
    assert max(depths) <= maxsize, "the depth counter never shows more than maxsize"


def test_bench_replay_reports_load_seek_and_memory(capsys: pytest.CaptureFixture[str]) -> None:
    result = _run_json(capsys, "bench", "replay", "--json", "--events", "200000")
    assert result["events"] == 200_000
    for key in ("open_ms", "seek_ms_p50", "seek_ms_max", "step_back_ms_max", "rss_mb_after_seeks"):
        assert result[key] > 0, key
    assert result["snapshot_count"] >= 5
