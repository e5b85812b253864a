"""What the scenario lessons measure and show beside their text, with real
processes under fork and spawn: a producer that aborts after its first
failure, the pickle.dumps probe, a lane of exactly 100 items in batches of
20, and the errors lesson's one STOP passed on between consumers."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import pytest

from qsim.engine.headless import run_headless
from qsim.model.lessons import mark_figures
from qsim.model.measured import complex_message, measured_lines, simple_message, with_measured
from qsim.model.scenario_io import apply_knob, load_scenario
from qsim.resources import load

ABORTING = """
[scenario]
id = "abort"
title = "A producer that aborts at its first failure"

[run]
duration = 20.0
seed = 4  # P-abort fails first at its 6th item

[[queues]]
id = "q"

[[producers]]
id = "P-abort"
queue = "q"
items = 40
interval = 0.0
failure_rate = 0.3
abort_on_failure = true

[[producers]]
id = "P-keep"
queue = "q"
items = 40
interval = 0.0
failure_rate = 0.3

[[consumers]]
id = "C"
queue = "q"
work_time = 0.0

[main]
sentinels = 1
sentinel_queue = "q"
"""


def test_a_producer_aborts_after_its_first_failure(
    start_method: str, scenario_file: Callable[..., Path]
) -> None:
    sc = load_scenario(scenario_file(ABORTING))
    report, r = run_headless(sc, start_method=start_method)
    assert report["finished"] and report["accounting"]["closes"]
    names = r.topology.names
    abort = r.actors[names.index("P-abort")]
    keep = r.actors[names.index("P-keep")]
    k = abort.items
    print(f"\nP-abort made {k} items; its exit: {abort.exit_reason!r}")
    # it made items 1..k, item k failed (its error record was its last put), and no more
    assert abort.exit_reason == f"aborted after item {k} failed"
    assert k == 6, "seed 4: the 6th item is the first to fail"
    assert abort.errors == 1
    assert abort.state == "finished"
    # the other producer fails as often and makes all its items
    assert keep.items == 40 and keep.errors > 1 and keep.exit_reason == "finished"
    assert report["accounting"]["produced"] == k + 40
    assert report["actors"]["C1"]["sentinels_received"] == 1, "main's STOP still went out"


def test_abort_on_failure_needs_the_usual_producer_loop() -> None:
    from qsim.model.scenario_io import ScenarioError, parse_scenario

    text = ABORTING.replace("abort_on_failure = true", 'abort_on_failure = true\nloop = "shm_ref"')
    with pytest.raises(
        ScenarioError,
        match=r"producers\[0\]\.abort_on_failure\): works only with the usual producer loop",
    ):
        parse_scenario(text)


PROBE = """
[scenario]
id = "probe"
title = "pickle.dumps of a simple and a complex message"

[[queues]]
id = "q"

[[producers]]
id = "P"
queue = "q"
items = 3
interval = 0.0
sentinels = 1
measure_pickle = true

[[consumers]]
id = "C"
queue = "q"
work_time = 0.0
"""


def test_the_pickle_probe_reports_size_and_time_of_both_messages(
    start_method: str, scenario_file: Callable[..., Path]
) -> None:
    assert load("serialization").producers[0].measure_pickle, "the lesson measures it"
    sc = load_scenario(scenario_file(PROBE))
    report, r = run_headless(sc, start_method=start_method)
    assert report["finished"]
    fig = mark_figures(r.marks)
    assert fig["pickle_simple_bytes"] == len(pickle.dumps(simple_message()))
    assert fig["pickle_complex_bytes"] == len(pickle.dumps(complex_message()))
    assert 0 < fig["pickle_simple_us"] < fig["pickle_complex_us"]
    lines = measured_lines(sc, r)
    print("\n" + "\n".join(lines))
    assert lines[0].startswith(f"`pickle.dumps(simple_msg)`: {int(fig['pickle_simple_bytes'])}")
    assert lines[1].startswith(f"`pickle.dumps(complex_msg)`: {fig['pickle_complex_bytes']:,.0f}")


def test_batching_100_items_go_in_5_batches_of_20_with_the_time_they_took(
    start_method: str,
) -> None:
    sc = load("batching")
    knob = next(k for k in sc.knobs if k.path == "producers.*.items")
    sc = apply_knob(sc, knob, 100)
    report, r = run_headless(sc, start_method=start_method)
    assert report["finished"] and report["invariant_violations"] == 0
    for lane in ("C-batch1", "C-batch20", "C-batch100", "C-batch1000"):
        assert report["actors"][lane]["items"] == 100, lane
    assert report["queues"]["q-batch20"]["puts"] == 5 + 1, "5 batches and the STOP"
    assert report["queues"]["q-batch1"]["puts"] == 100 + 1
    lines = measured_lines(sc, r)
    print("\n" + "\n".join(lines))
    line = next(x for x in lines if x.startswith("P-batch20 → C-batch20: "))
    assert "100 items in 5 puts, " in line
    ms = float(line.split(", ")[-1].split(" ms")[0])
    assert 0 < ms < 10_000


def test_errors_one_stop_is_passed_on_and_stays_in_the_queue(start_method: str) -> None:
    report, r = run_headless(load("errors"), start_method=start_method)
    a = report["actors"]
    print(f"\nerrors: {report['accounting']}")
    assert report["finished"] and report["accounting"]["closes"]
    assert a["main"]["sentinels_sent"] == 1
    for c in ("C1", "C2"):  # each got the one STOP and put it back
        assert a[c]["sentinels_received"] == 1 and a[c]["sentinels_sent"] == 1, c
    assert report["queues"]["q"]["contents"] == ["STOP(main)"]
    assert a["P-keep"]["items"] == 15
    abort = r.actors[r.topology.names.index("P-abort")]
    assert abort.exit_reason == f"aborted after item {abort.items} failed"
    assert abort.items < 15 and a["P-abort"]["errors"] == 1


def test_measured_lines_go_before_what_to_notice() -> None:
    text = "# T\n\nintro\n\n### What to notice\n\n- a\n"
    out = with_measured(text, ["x: 1", "y: 2"])
    assert out == (
        "# T\n\nintro\n\n### Measured in this run\n\n- x: 1\n- y: 2\n\n### What to notice\n\n- a\n"
    )
    assert with_measured(text, []) == text
    assert with_measured("# T\n", ["x"]).endswith("## Measured in this run\n\n- x\n\n")


def test_errors_consumers_give_up_when_items_come_too_slowly(start_method: str) -> None:
    sc = load("errors")
    knob = next(k for k in sc.knobs if k.path == "producers.P-keep.interval")
    report, r = run_headless(apply_knob(sc, knob, 1.5), start_method=start_method, speed=10)
    ac = report["accounting"]
    print(f"\nerrors, P-keep slow: {ac}")
    assert report["finished"] and ac["closes"]
    for name in ("C1", "C2"):  # 4 queue.Empty in a row: each left by itself
        c = r.actors[r.topology.names.index(name)]
        assert c.exit_reason == "gave up after 4 queue.Empty in a row", name
        assert c.get_timeouts >= 4 and c.sentinels_received == 0, name
    assert ac["in_queue"] > 0, "what came after they gave up is left in the queue"
    assert report["queues"]["q"]["contents"][-1] == "STOP(main)"
