"""The panels' figures without Qt or processes: ring buffers, rate windows,
the figure functions, the event observer fed with hand-made events."""

from __future__ import annotations

import random

import numpy as np
import pytest

from qsim.model import panel_figures as pf
from qsim.model.events import EventKind, make_event, producer_item_id, sentinel_id
from qsim.model.scenario import ConsumerSpec, MainSpec, ProducerSpec, QueueSpec, Scenario
from qsim.model.state import BLOCKED_PUT, WORKING, Reducer
from qsim.model.topology import build_topology
from qsim.ui.panels.observer import RateWindows, RunObserver
from qsim.ui.panels.ring import Ring

K = EventKind
S = 1_000_000_000


def test_ring_keeps_the_last_values_oldest_first_as_a_view() -> None:
    r = Ring(4)
    for v in range(10):
        r.append(v)
    assert r.values().tolist() == [6, 7, 8, 9]
    assert r.values(1, 3).tolist() == [7, 8]
    assert r.last() == 9 and r.dropped == 6 and len(r) == 4
    assert np.shares_memory(r.values(), r._buf)  # no copy


def test_ring_pad_lines_a_late_series_up_with_the_others() -> None:
    r = Ring(3)
    r.pad(5)
    r.append(1.0)
    assert r.count == 6
    vals = r.values()
    assert np.isnan(vals[:2]).all() and vals[2] == 1.0


def test_rate_windows_match_a_brute_force_count() -> None:
    rng = random.Random(3)
    win = RateWindows(3)
    events: list[tuple[int, int, float]] = []
    t = 0
    for _frame in range(200):
        chunk = []
        for _ in range(rng.randrange(0, 30)):
            t += rng.randrange(1, 5_000_000)
            chunk.append((t, rng.randrange(3), float(rng.randrange(1, 3))))
        events += chunk
        if chunk:
            tt, kk, nn = (np.array(c) for c in zip(*chunk, strict=True))
            win.add(tt.astype(np.int64), kk.astype(np.int64), nn)
        now = t
        got = win.rates(now)
        want = [sum(n for te, k, n in events if k == key and te >= now - S) for key in range(3)]
        assert got.tolist() == pytest.approx(want)


def test_rate_windows_stay_exact_with_late_events_and_a_view_that_steps_back() -> None:
    """A late event makes chunks overlap in time; a run that ends moves the view
    back from ``now - reorder`` to its last event. Both must count exactly."""
    rng = random.Random(5)
    win = RateWindows(2)
    events: list[tuple[int, int, float]] = []
    t = S
    for _frame in range(300):
        chunk = []
        for _ in range(rng.randrange(1, 20)):
            t += rng.randrange(1, 5_000_000)
            late = rng.random() < 0.05
            te = t - rng.randrange(0, 300_000_000) if late else t
            chunk.append((te, rng.randrange(2), 1.0))
        chunk.sort()
        events += chunk
        tt, kk, nn = (np.array(c) for c in zip(*chunk, strict=True))
        win.add(tt.astype(np.int64), kk.astype(np.int64), nn)
        for now in (t + 50_000_000, t - rng.randrange(0, 60_000_000)):
            got = win.rates(now)
            want = [
                sum(n for te, k, n in events if k == key and now - S <= te <= now)
                for key in range(2)
            ]
            assert got.tolist() == want


def test_capacity_sentences_say_who_waits_for_whom() -> None:
    s = pf.capacity_situation(63.0, 90.0, 5.0, True, 2)
    assert s == "Producers are blocked 63% of the time: the consumers are the bottleneck."
    s = pf.capacity_situation(0.0, 5.0, 80.0, True, 2)
    assert s.startswith("The queue is mostly empty: consumers wait for producers (80%")
    assert "keep pace" in pf.capacity_situation(10.0, 50.0, 10.0, True, 3)
    assert "press Play" in pf.capacity_situation(None, None, None, True, 0)
    assert "piled up" in pf.capacity_situation(0.0, None, 0.0, False, 500)


def _pipeline() -> Scenario:
    return Scenario(
        id="pipe",
        title="pipe",
        queues=(QueueSpec("raw"), QueueSpec("parsed", maxsize=4), QueueSpec("q0")),
        producers=(ProducerSpec(id="P", queue="raw"),),
        # listed out of order on purpose: the panel orders them by the flow
        consumers=(
            ConsumerSpec(id="sink", queue="parsed"),
            ConsumerSpec(id="parse", queue="raw", output="parsed", function="identity"),
        ),
    )


def test_stage_order_follows_the_items_not_the_file() -> None:
    assert pf.stage_order(build_topology(_pipeline())) == ["parse", "sink"]


def test_bottleneck_is_the_busiest_stage_then_the_fullest_input() -> None:
    rows = [
        pf.StageRow("a", 1, "q1", 0, 5.0, 5.0, 40.0, 0.0),
        pf.StageRow("b", 1, "q2", 9, 5.0, 5.0, 98.0, 90.0),
    ]
    assert pf.bottleneck(rows) == "b"
    idle = [pf.StageRow("a", 1, "q1", 0, 0.0, 0.0, 0.0, 0.0)]
    assert pf.bottleneck(idle) == ""
    # a stage whose workers all finished limits nothing, however busy it was
    done = [
        pf.StageRow("parse", 0, "raw", 0, 0.0, 0.0, 83.0, 0.0),
        pf.StageRow("analyse", 1, "parsed", 3, 1.0, 1.0, 81.0, 0.0),
    ]
    assert pf.bottleneck(done) == "analyse"


def _ev(
    t: int, actor: int, kind: K, item: int = 0, queue: int = -1, value: object = None, aux: int = 0
):
    return make_event(t, actor, kind, item, queue, value, aux, seq=0)  # type: ignore[arg-type]


def test_time_in_state_adds_the_open_span() -> None:
    sc = Scenario(
        id="b",
        title="b",
        queues=(QueueSpec("q", maxsize=1),),
        producers=(ProducerSpec(id="P", queue="q"),),
        consumers=(ConsumerSpec(id="C", queue="q"),),
    )
    r = Reducer(build_topology(sc), 0)
    i1, i2 = producer_item_id(1, 1), producer_item_id(1, 2)
    r._apply(
        [
            _ev(1 * S, 1, K.ACTOR_STARTED),
            _ev(2 * S, 1, K.PUT_DONE, i1, 0, 1),
            _ev(3 * S, 1, K.PUT_BLOCKED, i2, 0),
        ]
    )
    p = r.actors[1]
    assert p.state == BLOCKED_PUT and p.blocked_ns == 0
    assert pf.time_in_ns(p, BLOCKED_PUT, 5 * S) == 2 * S  # still blocked: the open span
    assert pf.time_in_ns(p, WORKING, 5 * S) == 0
    assert (
        pf.percent(pf.time_in_ns(p, BLOCKED_PUT, 5 * S), pf.lifetime_ns(1 * S, 0, 5 * S)) == 50.0
    )


def test_observer_tracks_orders_waits_outstanding_and_sojourn() -> None:
    sc = Scenario(
        id="j",
        title="j",
        queues=(QueueSpec("jq", kind="JoinableQueue"),),
        producers=(ProducerSpec(id="P", queue="jq"),),
        consumers=(ConsumerSpec(id="C", queue="jq", task_done="never"),),
        main=MainSpec(join="jq"),
    )
    topo = build_topology(sc)
    r = Reducer(topo, 0)
    obs = RunObserver(topo)
    i1, i2 = producer_item_id(1, 1), producer_item_id(1, 2)
    events = [
        _ev(1 * S, 1, K.ACTOR_STARTED),
        _ev(1 * S, 2, K.ACTOR_STARTED),
        _ev(2 * S, 1, K.PUT_DONE, i1, 0, 1),
        _ev(3 * S, 1, K.PUT_DONE, i2, 0, 1),
        _ev(4 * S, 2, K.GET_DONE, i1, 0, 1),
        _ev(5 * S, 2, K.WORK_END, i1, 0),
        _ev(5 * S, 0, K.JOIN_WAIT, 0, 0),
        _ev(6 * S, 2, K.GET_DONE, i2, 0, 1),
        _ev(6 * S, 2, K.TASK_DONE, i2, 0),
    ]
    r._apply(events)
    obs.feed(events, r)
    assert [i for i, _, _ in obs.arrivals[0]] == [i1, i2]
    assert [(i, w) for i, _, _, w in obs.services[0]] == [(i1, 2 * S), (i2, 3 * S)]
    assert obs.waits[0][0].count == 2 and obs.waits[0][0].max_ns == 3 * S
    assert list(obs.outstanding[0]) == [i1]  # i2 got its task_done()
    assert obs.join_wait[0] == (0, 5 * S)
    assert obs.started == {1: 1 * S, 2: 1 * S}
    assert (obs.sojourn_ns, obs.sojourn_n) == (3 * S, 1)  # i1: put at 2 s, finished at 5 s
    rates = obs.rates(6 * S)
    assert rates["rate:P1"] == 0.0  # both puts are older than a second
    assert rates["in:C"] == 1.0  # i2 got at 6 s


def test_never_zero_names_the_forgotten_task_done_and_the_items() -> None:
    sc = Scenario(
        id="j",
        title="j",
        queues=(QueueSpec("jq", kind="JoinableQueue"),),
        producers=(ProducerSpec(id="P", queue="jq"),),
        consumers=(ConsumerSpec(id="C", queue="jq", task_done="never"),),
    )
    r = Reducer(build_topology(sc), 0)
    i1 = producer_item_id(1, 1)
    r._apply([_ev(1 * S, 2, K.ACTOR_STARTED), _ev(2 * S, 1, K.PUT_DONE, i1, 0, 1)])
    reasons = pf.never_zero_reasons(r, sc, 0, [i1])
    assert reasons == ["C never calls task_done(): every item it gets stays unfinished."]
    ok = Scenario(**{**sc.__dict__, "consumers": (ConsumerSpec(id="C", queue="jq"),)})
    assert pf.never_zero_reasons(r, ok, 0, [i1]) == []


def test_littles_law_from_its_parts() -> None:
    law = pf.littles_law(
        area_item_ns=20 * S, span_ns=10 * S, arrivals=5, w_total_ns=20 * S, w_count=5, n_now=0
    )
    assert law.L == 2.0 and law.lam == 0.5 and law.W == 4.0 and law.lam_w == 2.0


def test_sentinels_are_not_items_in_the_orders() -> None:
    sc = Scenario(
        id="p",
        title="p",
        queues=(QueueSpec("pq", kind="PriorityQueue"),),
        producers=(ProducerSpec(id="P", queue="pq", priorities=(1, 2)),),
        consumers=(ConsumerSpec(id="C", queue="pq"),),
    )
    topo = build_topology(sc)
    r = Reducer(topo, 0)
    obs = RunObserver(topo)
    i1, stop = producer_item_id(1, 1), sentinel_id(1, 1)
    events = [
        _ev(1 * S, 1, K.PUT_DONE, i1, 0, 1, aux=2),
        _ev(2 * S, 1, K.PUT_DONE, stop, 0, 1),
        _ev(3 * S, 2, K.GET_DONE, i1, 0, 1),
    ]
    r._apply(events)
    obs.feed(events, r)
    assert list(obs.arrivals[0]) == [(i1, 2, 1 * S)]
    assert list(obs.waits[0]) == [2]
