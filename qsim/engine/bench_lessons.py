"""``qsim bench lessons``: do the measured lessons show the queue's real speed?

Each measured lesson (``[run] measure_plain``) runs its lanes one at a time,
and each lane first moves its items as a plain program would (no qsim), then
instrumented: the lesson itself reports both figures. This runs those lessons
headless a few times and prints, per lane, the instrumented and the plain
items/s and their ratio (the median of each round's ratio: a round's two
figures were measured moments apart, so a noisy neighbour hurts both alike).
"""

from __future__ import annotations

import statistics
from typing import Any

from qsim.engine.headless import run_headless
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import apply_knob
from qsim.resources import load

LESSONS = ("queue-types", "serialization", "batching")


def _shortened(lesson: str, seconds: float) -> Scenario:
    sc = load(lesson)
    knob = next((k for k in sc.knobs if k.path == "producers.*.duration"), None)
    return apply_knob(sc, knob, seconds) if knob is not None else sc


def bench_lessons(
    lessons: tuple[str, ...] = LESSONS,
    start_method: str = "fork",
    rounds: int = 3,
    seconds: float = 1.0,
) -> dict[str, Any]:
    """Per lesson and lane: instrumented and plain items/s, and their ratio."""
    out: dict[str, Any] = {
        "start_method": start_method,
        "rounds": rounds,
        "seconds": seconds,
        "lessons": {},
    }
    for lesson in lessons:
        sc = _shortened(lesson, seconds)
        per_lane: dict[str, list[dict[str, Any]]] = {}
        for _ in range(rounds):
            report, _reducer = run_headless(sc, start_method=start_method)
            if not report["finished"] or not report["accounting"]["closes"]:
                raise RuntimeError(f"{lesson}: the run did not finish cleanly")
            for lane in report["lanes"]:
                per_lane.setdefault(lane["lane"], []).append(lane)
        rows = []
        for name, seen in per_lane.items():
            ratios = [x.get("ratio", 0.0) for x in seen]
            rows.append(
                {
                    "lane": name,
                    "kind": seen[0]["kind"],
                    "payload_bytes": seen[0]["payload_bytes"],
                    "batch_size": seen[0]["batch_size"],
                    "items_per_s": round(statistics.median(x["items_per_s"] for x in seen)),
                    "plain_items_per_s": round(
                        statistics.median(x.get("plain_items_per_s", 0.0) for x in seen)
                    ),
                    "ratio": round(statistics.median(ratios), 3),
                    "ratio_rounds": ratios,
                }
            )
        out["lessons"][lesson] = rows
    all_ratios = [r["ratio"] for rows in out["lessons"].values() for r in rows]
    out["min_ratio"] = min(all_ratios) if all_ratios else 0.0
    return out
