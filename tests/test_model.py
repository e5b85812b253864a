"""The Qt-free, process-free model: scenario validation and the reducer."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qsim.model.events import EventKind, make_event, producer_item_id, sentinel_id
from qsim.model.scenario import ConsumerSpec, ProducerSpec, QueueSpec, Scenario
from qsim.model.scenario_io import ScenarioError, parse_scenario
from qsim.model.state import BLOCKED_PUT, CRASHED, Reducer
from qsim.model.topology import build_topology

K = EventKind

GOOD = """\
[scenario]
id = "t"
title = "A test"

[[queues]]
id = "q"
kind = "Queue"
maxsize = 2

[[producers]]
id = "P"
queue = "q"
items = 3
interval = 0.1

[[consumers]]
id = "C"
queue = "q"
work_time = 0.2
"""


def test_a_good_scenario_loads() -> None:
    sc = parse_scenario(GOOD, "good.toml")
    assert sc.queue("q").maxsize == 2
    assert [a.name for a in build_topology(sc).actors] == ["main", "P1", "C1"]


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (
            "interval = 0.1",
            'interval = "fast"',
            'line 14 (producers[0].interval): must be a number, got "fast"',
        ),
        (
            'queue = "q"\nitems',
            'queue = "nope"\nitems',
            'line 12 (producers[0].queue): no queue with id "nope"',
        ),
        (
            'kind = "Queue"',
            'kind = "Stack"',
            "line 7 (queues[0].kind): must be one of Queue, SimpleQueue",
        ),
        (
            'kind = "Queue"',
            'kind = "SimpleQueue"',
            "line 8 (queues[0].maxsize): SimpleQueue has no maxsize",
        ),
        (
            "work_time = 0.2",
            "work_time = -1",
            "line 19 (consumers[0].work_time): must be between 0 and 60",
        ),
        ("work_time = 0.2", "work_tme = 0.2", "line 19 (consumers[0].work_tme): unknown field"),
        ("maxsize = 2", "maxsize = ", "bad.toml, line 8, column 11: not valid TOML"),
        ('title = "A test"', "", "bad.toml, line 1 (scenario): missing field title"),
    ],
)
def test_errors_name_file_line_field_and_reason(old: str, new: str, expected: str) -> None:
    text = GOOD.replace(old, new, 1)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(text, "bad.toml")
    assert str(err.value).startswith("bad.toml")
    assert expected in str(err.value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=string.printable, max_size=400))
def test_garbage_text_gives_a_scenario_error_only(text: str) -> None:
    try:
        parse_scenario(text, "garbage.toml")
    except ScenarioError as e:
        assert str(e).startswith("garbage.toml")


_values = st.one_of(
    st.integers(-5, 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=8),
    st.booleans(),
    st.lists(st.integers(-2, 5), max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(
    section=st.sampled_from(["queues", "producers", "consumers"]),
    key=st.sampled_from(
        [
            "id",
            "kind",
            "maxsize",
            "queue",
            "count",
            "items",
            "interval",
            "work_time",
            "failure_rate",
            "batch_size",
            "priorities",
            "task_done",
            "get_timeout",
            "bogus",
        ]
    ),
    value=_values,
)
def test_wrong_field_values_are_refused_with_the_field_named(
    section: str, key: str, value: object
) -> None:
    """Set one field of a good file to a random value: valid or a clear ScenarioError."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    raw = tomllib.loads(GOOD)
    raw[section][0][key] = value
    text = _to_toml(raw)
    try:
        parse_scenario(text, "mutated.toml")
    except ScenarioError as e:
        msg = str(e)
        assert msg.startswith("mutated.toml")
        assert (
            f"{section}[0]" in msg
            or "not valid TOML" in msg
            or "queues" in msg
            or "producers" in msg
        )


def _to_toml(raw: dict) -> str:  # type: ignore[type-arg]
    import json

    def val(v: object) -> str:
        if isinstance(v, float) and v != v:
            return "nan"
        if isinstance(v, float) and v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return json.dumps(v)

    out = ["[scenario]", *(f"{k} = {val(v)}" for k, v in raw["scenario"].items())]
    for section in ("queues", "producers", "consumers"):
        for row in raw[section]:
            out += ["", f"[[{section}]]", *(f"{k} = {val(v)}" for k, v in row.items())]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- reducer


def _scenario(maxsize: int = 2) -> Scenario:
    return Scenario(
        id="r",
        title="r",
        queues=(QueueSpec("q", "Queue", maxsize),),
        producers=(ProducerSpec(id="P", queue="q"),),
        consumers=(ConsumerSpec(id="C", queue="q"),),
    )


P, C = 1, 2


def ev(t: int, actor: int, kind: int, item: int = 0, value: object = None, seq: int = 0) -> tuple:  # type: ignore[type-arg]
    queue = 0 if kind not in (K.ACTOR_STARTED, K.ACTOR_CRASHED) else -1
    return make_event(t, actor, kind, item, queue, value, seq=seq)  # type: ignore[arg-type]


def test_get_applied_before_its_put_is_repaired_not_shown_impossible() -> None:
    r = Reducer(build_topology(_scenario()), reorder_ns=0)
    a = producer_item_id(P, 1)
    # the consumer's clock read came first: its get sorts before the put
    r.feed([ev(10, P, K.ACTOR_STARTED), ev(11, C, K.ACTOR_STARTED)])
    r.feed([ev(100, C, K.GET_DONE, a, 1), ev(101, P, K.PUT_DONE, a, 1), ev(150, C, K.WORK_END, a)])
    r.flush()
    assert r.queues[0].depth == 0
    assert r.violations == 0
    assert r.acct.produced == r.acct.processed == 1
    assert r.accounting_closes()


def test_put_into_full_queue_waits_for_the_get_that_made_room() -> None:
    r = Reducer(build_topology(_scenario(maxsize=2)), reorder_ns=0)
    items = [producer_item_id(P, n) for n in (1, 2, 3)]
    r.feed([ev(t, P, K.PUT_DONE, i, 1, seq=t) for t, i in zip((1, 2, 3), items, strict=True)])
    r.advance(10**12)
    assert r.queues[0].depth == 2, "never above maxsize, even when the get is late"
    r.feed([ev(5, C, K.GET_DONE, items[0], 1)])
    r.advance(10**12)
    assert list(r.queues[0].contents) == items[1:]
    r.flush()
    assert r.violations == 0


def test_blocked_time_and_crash_accounting() -> None:
    r = Reducer(build_topology(_scenario()), reorder_ns=0)
    a, b = producer_item_id(P, 1), producer_item_id(P, 2)
    r.feed(
        [
            ev(0, P, K.ACTOR_STARTED),
            ev(0, C, K.ACTOR_STARTED),
            ev(10, P, K.PUT_DONE, a, 1, seq=1),
            ev(20, P, K.PUT_BLOCKED, b, seq=2),
            ev(30, C, K.GET_DONE, a, 1),
            ev(2_000_000_020, P, K.PUT_DONE, b, 1, seq=3),
        ]
    )
    r.advance(10**12)
    assert r.actors[P].blocked_ns == 2_000_000_000
    assert r.actors[P].state != BLOCKED_PUT
    r.feed([make_event(2_000_000_100, C, K.ACTOR_CRASHED, 0, -1, -9)])
    r.flush()
    assert r.actors[C].state == CRASHED and r.actors[C].exit_code == -9
    assert r.acct.lost == 1 and "C1's hands" in r.acct.lost_reasons[0]
    assert r.acct.produced == 2 and r.in_queues() == 1
    assert r.accounting_closes()


def test_sentinels_are_not_items() -> None:
    r = Reducer(build_topology(_scenario()), reorder_ns=0)
    s = sentinel_id(P, 1)
    r.feed(
        [ev(1, P, K.PUT_DONE, s, 1), ev(2, C, K.GET_DONE, s, 1), ev(3, C, K.SENTINEL_RECEIVED, s)]
    )
    r.flush()
    assert r.acct.produced == 0 and r.acct.consumed == 0
    assert r.queues[0].puts == r.queues[0].gets == 1
    assert r.accounting_closes()
