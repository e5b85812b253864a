"""``qsim bench replay``: open, seek and memory figures for a big recording.

Without ``--recording`` it makes one: ``events`` synthesised events of one
producer -> ``Queue(maxsize=64)`` -> one consumer, fed through a real reducer
and recorder in frames of 4,096 events (as the window would), so its
snapshots lie where a live run's would. The figures are measured in a fresh
interpreter, so the memory of making the file does not count.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qsim.model.events import EventKind, producer_item_id
from qsim.model.records import RECORD_DTYPE, StringTable, to_events
from qsim.model.state import Reducer
from qsim.model.topology import ActorInfo, QueueInfo, Topology
from qsim.model.wire import FLAG_CONSUMED, VT_INT
from qsim.record.recorder import Recorder

K = EventKind
FRAME = 4096
ITEM_NS = 1_000


#: the scenario the synthesised recording claims (so the window can draw it)
SYNTH_TOML = """\
[scenario]
id = "bench-replay"
title = "Replay benchmark: a synthesised flat-out run"

[[queues]]
id = "q"
kind = "Queue"
maxsize = 64

[[producers]]
id = "P"
queue = "q"
items = 999000

[[consumers]]
id = "C"
queue = "q"
"""


def synth_topology() -> Topology:
    return Topology(
        (
            ActorInfo(0, "main", "main", "main", -1, -1),
            ActorInfo(1, "P1", "producer", "P", -1, 0),
            ActorInfo(2, "C1", "consumer", "C", 0, -1),
        ),
        (QueueInfo(0, "q", "Queue", 64),),
    )


def _records(t: np.ndarray, actor: int, kind: int, item: np.ndarray, flags: int) -> np.ndarray:
    arr = np.zeros(len(t), RECORD_DTYPE)
    arr["t"], arr["actor"], arr["kind"], arr["item"] = t, actor, kind, item
    arr["queue"], arr["value"], arr["vtype"], arr["flags"] = 0, 1, VT_INT, flags
    arr["seq"] = np.arange(len(t))
    return arr


def make_recording(path: str | Path, events: int) -> dict[str, Any]:
    """Write a synthesised recording of about ``events`` events to ``path``."""
    t0 = time.perf_counter()
    topo = synth_topology()
    r = Reducer(topo, reorder_ns=0)
    rec = Recorder(
        topo,
        scenario_id="bench-replay",
        scenario_toml=SYNTH_TOML,
        start_method="none",
        path=path,
    )
    rec.meta["t0_ns"] = 0  # its clock is made up: times count from its first event
    rec.attach(r)
    table = StringTable()
    items = max(1, events // 2)
    block = 262_144
    carry = np.zeros(0, RECORD_DTYPE)
    for a in range(1, items + 1, block):
        n = np.arange(a, min(items + 1, a + block), dtype=np.int64)
        tp = n * ITEM_NS
        lag = (16 + 15 * np.sin(n / 5000.0)).astype(np.int64)  # 1..31 items in the queue
        tg = tp + lag * ITEM_NS + ITEM_NS // 2
        ids = producer_item_id(1, 0) + n
        both = np.concatenate(
            [
                carry,
                _records(tp, 1, K.PUT_DONE, ids, 0),
                _records(tg, 2, K.GET_DONE, ids, FLAG_CONSUMED),
            ]
        )
        both = both[np.argsort(both["t"], kind="stable")]
        last = n[-1] == items
        cut = len(both) if last else int(np.searchsorted(both["t"], (n[-1] + 1) * ITEM_NS))
        ready, carry = both[:cut], both[cut:]
        for lo in range(0, len(ready), FRAME):
            frame = to_events(ready[lo : lo + FRAME], table)
            r.feed(frame)
            r.advance(frame[-1][0])
    r.flush()
    assert r.accounting_closes(), "the synthesised run must close its accounting"
    rec.finish({"head": {"scenario": "bench-replay", "finished": True}})
    return {
        "made_in_s": round(time.perf_counter() - t0, 2),
        "snapshots": len(rec.snapshots),
        "snapshot_bytes": rec.snapshot_bytes,
    }


def _memory() -> dict[str, int]:
    """Resident memory in KB (anonymous, and file pages such as a memory map)."""
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0])
    except OSError:
        import resource

        out["VmRSS"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return out


def measure(path: str | Path, seeks: int = 60, seed: int = 1) -> dict[str, Any]:
    """Load, seek and memory figures for the recording at ``path`` (this process)."""
    from qsim.record.recording import open_recording
    from qsim.record.replay import Replay

    mem0 = _memory()
    opens = []
    for _ in range(3):
        t = time.perf_counter()
        rec = open_recording(path)
        opens.append(time.perf_counter() - t)
    t = time.perf_counter()
    replay = Replay(rec)
    ready = time.perf_counter() - t
    t = time.perf_counter()
    end_t = replay.end_t  # builds the time index (one pass over the times)
    index_s = time.perf_counter() - t
    mem_open = _memory()
    rng = random.Random(seed)
    n = len(rec)
    times = []
    for _ in range(seeks):
        k = rng.randrange(n + 1)
        t = time.perf_counter()
        replay.seek(k)
        times.append(time.perf_counter() - t)
    back = []
    for _ in range(10):
        replay.seek(rng.randrange(1, n + 1))
        t = time.perf_counter()
        replay.step(-1)
        back.append(time.perf_counter() - t)
    t = time.perf_counter()
    k = replay.prefix_at(rng.randrange(replay.start_t, end_t + 1))
    replay.seek(k)
    by_time = time.perf_counter() - t
    mem_end = _memory()
    sizes = [s for _p, _o, s in rec.snapshots]
    ms = 1000.0
    return {
        "events": n,
        "file_mb": round(os.path.getsize(path) / 2**20, 1),
        "open_ms": round(min(opens) * ms, 2),
        "replay_ready_ms": round(ready * ms, 2),
        "time_index_ms": round(index_s * ms, 1),
        "seeks": seeks,
        "seek_ms_p50": round(statistics.median(times) * ms, 1),
        "seek_ms_max": round(max(times) * ms, 1),
        "step_back_ms_p50": round(statistics.median(back) * ms, 1),
        "step_back_ms_max": round(max(back) * ms, 1),
        "seek_by_time_ms": round(by_time * ms, 1),
        "snapshot_count": len(sizes),
        "snapshot_kb_mean": round(statistics.mean(sizes) / 1024, 1) if sizes else 0,
        "snapshot_mb_total": round(sum(sizes) / 2**20, 2),
        "rss_mb_before": round(mem0.get("VmRSS", 0) / 1024, 1),
        "rss_mb_after_open": round(mem_open.get("VmRSS", 0) / 1024, 1),
        "rss_mb_after_seeks": round(mem_end.get("VmRSS", 0) / 1024, 1),
        "rss_anon_mb_after_seeks": round(mem_end.get("RssAnon", 0) / 1024, 1),
        "rss_file_mb_after_seeks": round(mem_end.get("RssFile", 0) / 1024, 1),
    }


def bench_replay(events: int = 10_000_000, path: str | None = None) -> dict[str, Any]:
    """Make (or take) a recording and measure it in a fresh interpreter."""
    made: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="qsim-bench-") as tmp:
        target = path
        if target is None:
            target = str(Path(tmp) / "bench.qrec")
            made = make_recording(target, events)
        code = (
            "import json, sys\n"
            "from qsim.record.bench import measure\n"
            "print(json.dumps(measure(sys.argv[1])))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code, target],
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        if out.returncode != 0:
            raise RuntimeError(f"measuring {target} failed: {out.stderr.strip()[-2000:]}")
        figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        figures.update(_measure_gui(target))
    return {"recording": path or "synthesised", **made, **figures}


def _measure_gui(path: str) -> dict[str, Any]:
    """Seeks in the window and video frames at 1080p (``qsim.ui.render_bench``), in
    a fresh interpreter, when the window can be made here (Qt installed)."""
    code = (
        "import json, sys\n"
        "from qsim.ui.render_bench import measure_gui\n"
        "print(json.dumps(measure_gui(sys.argv[1])))\n"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    out = subprocess.run(
        [sys.executable, "-c", code, path],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
        env=env,
    )
    if out.returncode != 0:
        return {"gui": f"not measured: {out.stderr.strip().splitlines()[-1:]}"}
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures
