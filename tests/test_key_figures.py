"""Each lesson's key figure (shown large when presenting), from hand-made events:
no Qt, no processes."""

from __future__ import annotations

import pytest
from handy import every_scenario, scenario

from qsim.model.events import Event, EventKind, make_event, producer_item_id, sentinel_id
from qsim.model.key_figures import key_figure, short_names, short_number
from qsim.model.state import Reducer
from qsim.model.topology import build_topology

K = EventKind
S = 1_000_000_000


def reduce(lesson: str, events: list[Event]) -> tuple[Reducer, int]:
    sc = scenario(lesson)
    r = Reducer(build_topology(sc), reorder_ns=0)
    r.feed(events)
    r.flush()
    return r, r.last_t


def figure(lesson: str, events: list[Event], t: int | None = None) -> str:
    r, last = reduce(lesson, events)
    return key_figure(scenario(lesson), r, last if t is None else t)


def test_every_lesson_has_a_short_figure_before_and_after_a_start() -> None:
    for lesson in every_scenario():
        sc = scenario(lesson)
        assert key_figure(sc, None, 0) == "press Play (Space)"
        r = Reducer(build_topology(sc), reorder_ns=0)
        r.feed([make_event(1 * S, 1, K.ACTOR_STARTED)])
        r.flush()
        text = key_figure(sc, r, 2 * S)
        assert 0 < len(text) <= 80, f"{lesson}: {text!r}"


def test_backpressure_says_how_long_the_producer_was_blocked() -> None:
    item = producer_item_id(1, 3)
    events = [
        make_event(1 * S, 1, K.ACTOR_STARTED),
        make_event(3 * S, 1, K.PUT_BLOCKED, item, 0),
    ]
    # started at 1 s, blocked from 3 s: at 11 s it was blocked 80% of the time
    assert figure("backpressure", events, 11 * S) == "P1 blocked 80% of the time"


def test_joinable_counts_unfinished_tasks() -> None:
    events = [make_event(0, 1, K.ACTOR_STARTED)]
    for n in range(1, 4):
        events.append(make_event(n * S, 1, K.PUT_DONE, producer_item_id(1, n), 0, 1))
    assert figure("small-joinable", events) == "unfinished tasks: 3"


def test_inspect_counts_the_helpers_verdicts() -> None:
    events = [make_event(0, 2, K.ACTOR_STARTED)]
    verdicts = ["False"] * 14 + ["True"] * 6
    for n, v in enumerate(verdicts, 1):
        events.append(make_event(n * S, 2, K.MARK, n, 1, f"Items match: {v}"))
    assert figure("small-inspect", events) == "Items match: False in 14 of 20"


def test_pipeline_says_what_the_analysis_counted() -> None:
    events = [make_event(0, 3, K.ACTOR_STARTED)]
    marks = ["user_action"] * 3 + ["system_event", "error"]
    for n, m in enumerate(marks, 1):
        events.append(make_event(n * S, 3, K.MARK, n, 1, m))
    assert figure("small-pipeline", events) == "analysis: 3 user actions, 1 system event, 1 error"


def test_large_objects_give_bytes_per_item_per_lane() -> None:
    events = [
        make_event(1 * S, 3, K.MARK, 1, 0, "GetData.bytes_per_item=1000050"),
        make_event(2 * S, 3, K.MARK, 2, 0, "GetData.bytes_per_item=1000050"),
        make_event(2 * S, 4, K.MARK, 1, 1, "GetName.bytes_per_item=52"),
    ]
    assert (
        figure("pitfall-large-objects", events) == "bytes per item: GetData 1.0 MB · GetName 52 B"
    )


def test_priority_counts_what_waits_by_priority() -> None:
    events = [make_event(0, 1, K.ACTOR_STARTED)]
    for n, prio in enumerate([3, 1, 3, 2], 1):
        item = producer_item_id(1, n)
        events.append(make_event(n * S // 10, 1, K.PUT_DONE, item, 0, 1, prio))
    # the sentinel sorts last with a huge priority: it is not a task
    events.append(make_event(S, 1, K.PUT_DONE, sentinel_id(1, 1), 0, 1, 1 << 30))
    assert figure("small-priority", events) == "waiting by priority: p1 ×1 · p2 ×1 · p3 ×2"


def test_many_to_many_counts_per_consumer() -> None:
    p, c1, c2 = 1, 4, 5
    events = []
    for n in range(1, 4):
        item = producer_item_id(p, n)
        t = n * S
        events += [
            make_event(t, p, K.PUT_DONE, item, 0, 1),
            make_event(t + 1, c1 if n < 3 else c2, K.GET_DONE, item, 0, 1),
            make_event(t + 2, c1 if n < 3 else c2, K.WORK_END, item, 0),
        ]
    assert figure("small-many-to-many", events) == "done per consumer: C1 2 · C2 1 (= 3)"


def test_no_sentinel_says_how_long_the_consumer_waits() -> None:
    events = [make_event(1 * S, 2, K.ACTOR_STARTED), make_event(2 * S, 2, K.GET_WAITING, 0, 0)]
    assert figure("pitfall-small-no-sentinel", events, 7 * S) == "C1 waiting in get() for 5 s"


@pytest.mark.parametrize(
    ("x", "text"), [(3.14, "3.1"), (950, "950"), (1234, "1234"), (15200, "15.2k"), (2.5e6, "2.5M")]
)
def test_rates_are_short(x: float, text: str) -> None:
    assert short_number(x) == text


def test_lane_names_lose_their_shared_prefix() -> None:
    assert short_names(["P-tiny", "P-small"]) == ["tiny", "small"]
    assert short_names(["P-batch1", "P-batch10"]) == ["batch1", "batch10"]
    assert short_names(["SendData", "SendName"]) == ["SendData", "SendName"]
