"""The reducer's rules for what a killed process took with it
(``qsim.model.losses``), fed events by hand: no processes, exact cases."""

from __future__ import annotations

from typing import Any

from qsim.model.events import (
    FINAL_SAMPLE,
    TORN_TAIL,
    WAITING_TURN,
    Event,
    EventKind,
    make_event,
    producer_item_id,
)
from qsim.model.metrics import build_report
from qsim.model.scenario import ConsumerSpec, MainSpec, ProducerSpec, QueueSpec, Scenario
from qsim.model.state import Reducer
from qsim.model.topology import build_topology
from qsim.model.waits import wait_reason

K = EventKind
MAIN, P, C = 0, 1, 2


def _reducer(kind: str = "Queue", main: bool = False) -> Reducer:
    sc = Scenario(
        id="r",
        title="r",
        queues=(QueueSpec("q", kind, 0),),
        producers=(ProducerSpec(id="P", queue="q"),),
        consumers=(ConsumerSpec(id="C", queue="q"),),
        main=MainSpec(sentinels=1, sentinel_queue="q") if main else MainSpec(),
    )
    return Reducer(build_topology(sc), reorder_ns=0)


def ev(
    t: int, actor: int, kind: int, item: int = 0, value: object = None, flags: int = 0
) -> Event:
    queue = -1 if kind in (K.ACTOR_STARTED, K.ACTOR_CRASHED, K.ACTOR_EXITED) else 0
    return make_event(t, actor, kind, item, queue, value, flags=flags)  # type: ignore[arg-type]


def item(n: int) -> int:
    return producer_item_id(P, n)


def _started() -> list[Event]:
    return [ev(1, P, K.ACTOR_STARTED), ev(1, C, K.ACTOR_STARTED)]


def _report(r: Reducer) -> dict[str, Any]:
    return dict(build_report(r)["accounting"])


def test_a_get_whose_put_died_with_its_producer_is_counted_as_produced() -> None:
    r = _reducer()
    r.feed(_started())
    r.feed([ev(10, P, K.PUT_DONE, item(1), 1), ev(11, C, K.GET_DONE, item(1), 1)])
    r.feed([ev(12, C, K.GET_DONE, item(2), 1), ev(13, C, K.WORK_END, item(2))])
    r.feed([ev(20, P, K.ACTOR_CRASHED, 0, -9)])
    r.flush()
    assert r.violations == 0
    assert r.acct.produced == 2 and r.actors[P].items == 2 and r.queues[0].puts == 2
    assert r.accounting_closes()
    assert any("its put was never reported: P1 was killed" in n.text for n in r.notes)


def test_a_get_whose_put_never_came_from_a_live_producer_is_still_a_violation() -> None:
    r = _reducer()
    r.feed([*_started(), ev(12, C, K.GET_DONE, item(2), 1)])
    r.flush()
    assert r.violations == 1 and "P1#2 was got from q but never put" in r.violation_notes[0]


def test_a_half_written_item_is_lost_when_its_reader_leaves() -> None:
    r = _reducer()
    r.feed([*_started(), ev(10, P, K.PUT_DONE, item(1), 1), ev(11, P, K.PUT_DONE, item(2), 1)])
    r.feed([ev(20, P, K.ACTOR_CRASHED, 0, -9), ev(30, C, K.GET_STALLED, item(1), "4 of 9 bytes")])
    r.advance(10**12)
    c = r.actors[C]
    assert c.state == "waiting on get" and c.torn_item == item(1)
    assert r.notes[-1].text == (
        "C1 is blocked reading a half-written item (P1#1) from q: "
        "P1 died in the middle of putting it (exit code -9)"
    )
    assert (
        wait_reason(r, c)
        == "stuck reading a half-written item from q: P1 died mid-put (exit code -9)"
    )
    r.feed([ev(40, C, K.ACTOR_EXITED, 0, "stop")])
    r.flush()
    assert r.acct.lost == 1
    assert r.acct.lost_reasons == ["P1#1 in q: half-written by P1 when it was killed"]
    assert r.in_queues() == 1 and r.accounting_closes()


def test_a_stalled_read_that_completes_loses_nothing() -> None:
    r = _reducer()
    r.feed([*_started(), ev(10, P, K.PUT_DONE, item(1), 1)])
    r.feed([ev(30, C, K.GET_STALLED, item(1), "4 of 9 bytes"), ev(40, C, K.GET_DONE, item(1), 1)])
    r.feed([ev(50, C, K.ACTOR_EXITED, 0, "stop")])
    r.flush()
    assert r.actors[C].torn_queue == -1
    assert r.acct.lost == 1 and "in C1's hands when it was stopped" in r.acct.lost_reasons[0]


def test_what_is_not_in_the_pipe_at_the_end_is_named() -> None:
    """Items 1-4 put; 1 got; P1 killed with 2 whole in the pipe, 3 torn, 4 never written."""
    r = _reducer()
    r.feed(_started())
    r.feed([ev(10 + n, P, K.PUT_DONE, item(n), 1) for n in range(1, 5)])
    r.feed([ev(20, C, K.GET_DONE, item(1), 1), ev(21, C, K.WORK_END, item(1))])
    r.feed([ev(30, P, K.ACTOR_CRASHED, 0, -9), ev(40, C, K.ACTOR_EXITED, 0, "stop")])
    r.feed([ev(50, MAIN, K.LEFT_IN_PIPE, item(2), 31)])
    r.feed([ev(51, MAIN, K.LEFT_IN_PIPE, item(3), 20, flags=TORN_TAIL)])
    r.feed([ev(52, MAIN, K.PIPE_SAMPLE, 0, 51, flags=FINAL_SAMPLE)])
    r.flush()
    assert list(r.queues[0].contents) == [item(2)]
    assert r.acct.lost_reasons == [
        "P1#3 in q: half-written by P1 when it was killed",
        "P1#4 in q: in P1's feeder buffer when it was killed",
    ]
    assert r.accounting_closes() and r.violations == 0


def test_an_item_got_by_a_killed_consumer_that_never_said_so() -> None:
    r = _reducer(main=True)
    r.feed(_started())
    r.feed([ev(10, P, K.PUT_DONE, item(1), 1), ev(11, P, K.PUT_DONE, item(2), 1)])
    r.feed([ev(20, P, K.ACTOR_EXITED, 0, "finished"), ev(30, C, K.ACTOR_CRASHED, 0, -9)])
    r.feed([ev(50, MAIN, K.LEFT_IN_PIPE, item(2), 31)])
    r.feed([ev(52, MAIN, K.PIPE_SAMPLE, 31, 0, flags=FINAL_SAMPLE)])
    r.flush()
    assert r.acct.lost_reasons == ["P1#1 in q: got by C1, which was killed before it said so"]
    assert r.in_queues() == 1 and r.accounting_closes()


def test_a_torn_item_nobody_said_was_put_is_produced_and_lost() -> None:
    r = _reducer()
    r.feed([*_started(), ev(10, P, K.PUT_DONE, item(1), 1), ev(11, C, K.GET_DONE, item(1), 1)])
    r.feed([ev(12, C, K.WORK_END, item(1)), ev(30, P, K.ACTOR_CRASHED, 0, -9)])
    r.feed([ev(51, MAIN, K.LEFT_IN_PIPE, item(2), 20, flags=TORN_TAIL)])
    r.feed([ev(52, MAIN, K.PIPE_SAMPLE, 20, 0, flags=FINAL_SAMPLE)])
    r.flush()
    assert r.acct.produced == 2 and r.acct.lost == 1
    assert r.acct.lost_reasons == ["P1#2 in q: half-written by P1 when it was killed"]
    assert r.accounting_closes()


def test_everything_in_a_managers_queue_dies_with_it() -> None:
    r = _reducer("ManagerQueue")
    r.feed(_started())
    r.feed([ev(10 + n, P, K.PUT_DONE, item(n), 1) for n in range(1, 4)])
    r.feed([ev(20, MAIN, K.QUEUE_LOST, 0, "died with the manager (exit code -9)")])
    r.flush()
    acct = _report(r)
    assert acct["lost"] == 3 and acct["in_queue"] == 0 and acct["closes"]
    assert acct["lost_by_reason"] == {"died with the manager (exit code -9)": 3}
    assert r.queues[0].lost_why == "died with the manager (exit code -9)"


def test_a_batch_lost_counts_all_its_items() -> None:
    r = _reducer()
    r.feed([*_started(), ev(10, P, K.PUT_DONE, item(64), 64)])
    r.feed([ev(20, MAIN, K.QUEUE_LOST, 0, "gone")])
    r.flush()
    assert _report(r)["lost_by_reason"] == {"gone": 64}
    assert r.acct.lost_reasons == ["P1#64 (64 items) in q: gone"]


def test_main_waiting_for_producers_and_a_lane_waiting_its_turn_are_waits() -> None:
    r = _reducer(main=True)
    r.feed([ev(1, MAIN, K.ACTOR_STARTED), *_started()])
    r.feed([ev(5, P, K.PHASE, 0, WAITING_TURN), ev(6, C, K.GET_WAITING)])
    r.advance(10**12)
    assert [a.name for a in r.hung_actors(10**10, 10**9)] == ["main", "P1", "C1"]
    assert wait_reason(r, r.actors[P]) == "its turn never comes: the lane before it never ended"
    r.feed([ev(10**10, P, K.PHASE, 0, "")])
    r.advance(10**12)
    assert r.hung_actors(10**11, 10**9) == [], "a producer at work is no hang"
