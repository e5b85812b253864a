"""The measured lessons: real figures of this machine, printed (run with ``-s``),
and only orderings that hold on any machine asserted."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest
from handy import handy

from qsim.engine.headless import run_headless
from qsim.model.lessons import LaneFigure, lane_figures, mark_figures
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import apply_knob
from qsim.model.state import Reducer
from qsim.resources import load

#: they compare speeds: run with no other test beside them
pytestmark = pytest.mark.alone


def lanes_for(lesson: str, seconds: float = 1.0) -> tuple[Scenario, dict[str, object]]:
    sc = load(lesson)
    knob = next(k for k in sc.knobs if k.path == "producers.*.duration")
    return apply_knob(sc, knob, seconds), {}


def measure(sc: Scenario) -> tuple[dict[str, LaneFigure], dict[str, object], Reducer]:
    report, reducer = run_headless(sc, start_method="fork")
    assert report["finished"] and report["invariant_violations"] == 0
    assert report["accounting"]["closes"]
    figures = {f.lane: f for f in lane_figures(sc, reducer)}
    print(f"\n{sc.id}:")
    for f in figures.values():
        print(
            f"  {f.lane:12s} {f.kind:14s} {f.payload_bytes:>8d} B x{f.batch_size:<4d}"
            f" {f.items:>8d} items {f.items_per_s:>10.0f} items/s {f.bytes_per_s / 1e6:8.1f} MB/s"
        )
    return figures, report, reducer


def test_queue_types_simple_queue_beats_the_manager_queue() -> None:
    sc, _ = lanes_for("queue-types")
    lanes, _, _ = measure(sc)
    fastest_plain = max(lanes["C-Simple"].items_per_s, lanes["C-Queue"].items_per_s)
    assert fastest_plain > lanes["C-Manager"].items_per_s > 0
    assert all(f.items > 0 for f in lanes.values())


def test_serialization_big_payloads_move_fewer_items_more_bytes() -> None:
    sc, _ = lanes_for("serialization")
    lanes, _, _ = measure(sc)
    tiny, large = lanes["C-tiny"], lanes["C-large"]
    assert 0 < large.items_per_s < tiny.items_per_s
    assert large.bytes_per_s > tiny.bytes_per_s


def test_batching_larger_batches_give_more_items_per_second() -> None:
    sc, _ = lanes_for("batching")
    lanes, _, _ = measure(sc)
    rate = {b: lanes[f"C-batch{b}"].items_per_s for b in (1, 20, 100, 1000)}
    assert rate[20] > rate[1]
    assert rate[100] > rate[1]
    assert rate[1000] > rate[20]


def _shm_blocks() -> set[str]:
    """Blocks Python names by itself and the ones a run of this process names."""
    return {n for n in os.listdir("/dev/shm") if n.startswith(("psm_", f"qs{os.getpid()}_"))}


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="lists POSIX shared memory")
def test_large_objects_reference_lane_sends_bytes_not_megabytes() -> None:
    before = _shm_blocks()
    sc, _ = lanes_for("pitfall-large-objects")
    lanes, report, _ = measure(sc)
    marks = mark_figures(report["marks"])  # type: ignore[arg-type]
    print("  measured:", marks)
    data_bytes = marks["GetData.bytes_per_item"]
    name_bytes = marks["GetName.bytes_per_item"]
    assert data_bytes >= 1_000_000 > 100 * name_bytes
    # the data lane holds a block more than once at a time (the message and its
    # unpickled copy); the name lane reads the block where it is
    assert marks["GetData.peak_alloc_mb"] >= 2.0 > 1.0 > marks["GetName.peak_alloc_mb"]
    assert lanes["GetData"].items > 0 and lanes["GetName"].items > 0
    assert report["actors"]["GetName"]["errors"] == 0, "every block it got was ours"  # type: ignore[index]
    assert _shm_blocks() <= before, "every shared-memory block was unlinked"


@pytest.mark.skipif(not Path("/dev/shm").is_dir(), reason="lists POSIX shared memory")
def test_large_objects_stopped_mid_run_leaves_no_shared_memory() -> None:
    before = _shm_blocks()
    sc = load("pitfall-large-objects")
    # both lanes at once, so that the shared-memory lane is mid-run when stopped
    sc = dataclasses.replace(sc, run=dataclasses.replace(sc.run, lanes="together"))
    report, _ = run_headless(sc, start_method="fork", duration=0.7)  # lanes run 3 s
    assert not report["finished"]
    assert _shm_blocks() <= before


def _stage_rate(r: Reducer, stage: str) -> float:
    actors = {a.index for a in r.topology.actors if a.group == stage}
    times = [(t, n) for t, a, n in r.completions if a in actors]
    span = (times[-1][0] - times[0][0]) / 1e9
    return (sum(n for _, n in times) - times[0][1]) / span


def test_pipeline_more_workers_on_the_slowest_stage_raise_throughput() -> None:
    sc = handy("small-pipeline")
    collect = dataclasses.replace(sc.producers[0], records=sc.producers[0].records * 6)
    sc = dataclasses.replace(sc, producers=(collect,))
    knob = next(k for k in sc.knobs if k.path == "consumers.analyse.count")
    rates = {}
    for workers in (1, 3):
        report, reducer = run_headless(apply_knob(sc, knob, workers), start_method="fork", speed=5)
        assert report["finished"]
        assert report["marks"] == {"error": 6, "system_event": 6, "user_action": 18}
        rates[workers] = _stage_rate(reducer, "analyse")
    print(f"\npipeline: analyse with 1 worker {rates[1]:.1f}/s, with 3 workers {rates[3]:.1f}/s")
    assert rates[3] > 1.5 * rates[1]
