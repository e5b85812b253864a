"""SIGKILL of one process of a running lesson: the run ends with a verdict, and
its accounting closes with every lost item named (issue 15, items 2-4).

Real runs under ``fork`` and ``spawn``; the victim is killed from outside
(``os.kill``) once the reducer shows what the test needs (items made, an item
in a consumer's hands), so the moment is chosen by the state, not by a clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from handy import handy
from killing import MANAGER, Killed, run_and_kill, scenario
from procwait import wait_gone

from qsim.engine.proctree import session_members
from qsim.model.scenario import Scenario
from qsim.model.state import WORKING, Reducer

REPO = Path(__file__).resolve().parent.parent


def _hang_after(sc: Scenario, seconds: float) -> Scenario:
    return replace(sc, run=replace(sc.run, hang_after=seconds))


def _closes(k: Killed) -> None:
    ac = k.acct
    assert ac["closes"], ac
    assert ac["produced"] == ac["consumed"] + ac["in_queue"] + ac["in_hands"] + ac["lost"]
    assert sum(ac["lost_by_reason"].values()) == ac["lost"], ac["lost_by_reason"]
    assert k.report["invariant_violations"] == 0, k.report["violation_notes"]


def test_a_killed_producer_does_not_hold_main(start_method: str) -> None:
    """main joins the producers before it sends the STOPs: a dead producer has
    ended too (as ``p.join()`` would say), so the run still finishes."""
    k = run_and_kill(
        handy("small-many-to-many"), start_method, "P1", lambda r: r.actors[1].items >= 2
    )
    assert k.killed_at
    assert k.report["verdict"] == "crashed" and k.report["finished"]
    assert k.report["crashed"] == ["P1"] and k.actor("P1")["exit_code"] == -9
    assert k.actor("main")["state"] == "finished"
    assert k.report["duration_s"] < 15, "ended by itself, not at the time limit"
    _closes(k)
    assert k.acct["consumed"] == k.acct["produced"] >= 2 + 4 + 4


def test_a_killed_producer_whose_consumer_waits_for_its_stop_is_hung(start_method: str) -> None:
    """basic: the producer sends the STOP itself; killed, its consumer waits
    on an empty queue forever: hung, with the reason."""
    sc = _hang_after(handy("small-basic"), 1.0)
    k = run_and_kill(sc, start_method, "P1", lambda r: r.actors[1].items >= 2)
    assert k.report["verdict"] == "hung" and k.report["hung"] == ["C1"]
    reason = k.actor("C1")["hung_reason"]
    assert "waiting on get; nothing more can come into q: its producers ended (P1 died" in reason
    _closes(k)


CONSUMERS = """
[scenario]
id = "two-consumers"
title = "two consumers"
summary = "x"
[run]
duration = 30.0
[[queues]]
id = "q"
kind = "Queue"
[[producers]]
id = "P"
queue = "q"
items = 6
interval = 0.02
[[consumers]]
id = "C"
queue = "q"
count = 2
# long enough that C1 still works on the item it was seen working on when the
# kill lands, however far behind a busy machine's report is
work_time = 1.0
[main]
sentinels = 2
sentinel_queue = "q"
"""


def test_a_killed_consumer_loses_the_item_in_its_hands(start_method: str) -> None:
    def c1_working(r: Reducer) -> bool:
        c1 = r.actors[r.topology.names.index("C1")]
        return c1.state == WORKING and bool(c1.holding)

    k = run_and_kill(scenario(CONSUMERS), start_method, "C1", c1_working)
    assert k.report["verdict"] == "crashed" and k.report["crashed"] == ["C1"]
    assert k.actor("C2")["state"] == "finished"
    _closes(k)
    # the item it worked on: its GET_DONE came (in its hands), or died with it
    # (got by it: the pipe held only the second STOP)
    assert k.acct["lost"] == 1
    assert set(k.acct["lost_by_reason"]) <= {
        "in C1's hands when it crashed (exit code -9)",
        "got by C1, which was killed before it said so",
    }


def test_a_killed_stage_worker_stalls_the_next_stage_with_a_verdict(start_method: str) -> None:
    sc = _hang_after(handy("small-pipeline"), 1.0)
    parse = 2  # main, collect, parse, analyse
    k = run_and_kill(
        sc,
        start_method,
        "parse",
        lambda r: r.actors[parse].state == WORKING and r.actors[parse].items >= 1,
    )
    assert k.report["verdict"] == "hung" and k.report["hung"] == ["analyse"]
    assert (
        "nothing more can come into parsed: its producers ended (parse died, exit code -9)"
        in k.actor("analyse")["hung_reason"]
    )
    _closes(k)
    assert any("in parse's hands when it crashed" in w for w in k.acct["lost_by_reason"])


MANAGED = """
[scenario]
id = "managed"
title = "a manager's queue"
summary = "x"
[run]
duration = 30.0
[[queues]]
id = "q"
kind = "ManagerQueue"
[[producers]]
id = "P"
queue = "q"
items = 400
interval = 0.0
sentinels = 1
[[consumers]]
id = "C"
queue = "q"
work_time = 0.01
"""


def test_items_in_a_killed_managers_queue_died_with_it(start_method: str) -> None:
    k = run_and_kill(scenario(MANAGED), start_method, MANAGER, lambda r: r.acct.produced >= 400)
    assert k.report["verdict"] in ("crashed", "hung")
    assert "C1" in k.report["crashed"], "its next get() finds the manager gone"
    _closes(k)
    lost = k.acct["lost_by_reason"]
    assert lost["died with the manager (exit code -9)"] >= 300, lost
    assert k.report["queues"]["q"]["final_depth"] == 0


#: a 1 MB item is written in pieces: a slow consumer keeps the producer's
#: feeder thread blocked in the middle of one, so the kill tears it. The kill
#: comes when the window has seen the consumer working (the reducer's reorder
#: window later): its work lasts long enough that the feeder is by then
#: blocked in its next write, not between two (a kill there tears nothing)
LARGE = """
[scenario]
id = "large"
title = "1 MB items"
summary = "x"
[run]
duration = 30.0
hang_after = 1.0
[[queues]]
id = "q-large"
kind = "Queue"
maxsize = 4
[[producers]]
id = "P-large"
queue = "q-large"
items = 0
duration = 25.0
interval = 0.0
payload_bytes = 1000000
sentinels = 1
[[consumers]]
id = "C-large"
queue = "q-large"
work_time = 0.6
"""


def _large_consumer_working(r: Reducer) -> bool:
    c = r.actors[2]
    return c.items >= 2 and c.state == WORKING


def test_a_reader_of_a_half_written_item_is_shown_and_stopped(start_method: str) -> None:
    k = run_and_kill(scenario(LARGE), start_method, "P-large", _large_consumer_working)
    assert k.report["verdict"] == "hung" and k.report["hung"] == ["C-large"]
    assert k.actor("C-large")["hung_reason"] == (
        "waiting on get; stuck reading a half-written item from q-large: "
        "P-large died mid-put (exit code -9)"
    )
    assert any("C-large is blocked reading a half-written item" in n for n in k.notes())
    # the stop ended it by itself (no terminate(): exit code 0)
    assert k.report["exit_codes"]["C-large"] == 0
    _closes(k)
    lost = k.acct["lost_by_reason"]
    assert lost["half-written by P-large when it was killed"] == 1, lost
    assert k.acct["in_queue"] == 0, "its pipe was empty: nothing was left in it"


STALL_THEN_WAIT = """
import sys, os, signal, threading
from qsim.engine.headless import run_headless
from qsim.model.scenario_io import parse_scenario

def main():
    sc = parse_scenario(open(sys.argv[1]).read())
    held = {}
    def started(run):
        held["run"] = run
    def frame(r):
        if "killed" not in held and r.actors[2].items >= 2 and r.actors[2].state == "working":
            os.kill(held["run"].processes[1].pid, signal.SIGKILL)
            held["killed"] = True
        if r.actors[2].torn_queue >= 0:
            print("stalled", flush=True)
            threading.Event().wait()  # the test kills this process now
    run_headless(sc, start_method=sys.argv[2], on_started=started, on_frame=frame)

if __name__ == "__main__":
    main()
"""


def test_killing_the_app_ends_a_reader_stuck_on_a_half_written_item(
    tmp_path: Path, start_method: str
) -> None:
    """The consumer of a torn item, and the resource tracker, end with the app."""
    (tmp_path / "large.toml").write_text(LARGE.replace("hang_after = 1.0", "hang_after = 60.0"))
    (tmp_path / "app.py").write_text(STALL_THEN_WAIT)
    app = subprocess.Popen(
        [sys.executable, str(tmp_path / "app.py"), str(tmp_path / "large.toml"), start_method],
        cwd=REPO,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert app.stdout is not None
        assert app.stdout.readline() == b"stalled\n"
        members = session_members(app.pid)
        os.kill(app.pid, signal.SIGKILL)
        app.wait(5)
        wait_gone([m for m in members if m != app.pid], 3.0)
        assert session_members(app.pid) == []
    finally:
        for pid in session_members(app.pid):
            os.kill(pid, signal.SIGKILL)
        if app.poll() is None:
            app.kill()
        app.wait(5)
        if app.stdout is not None:
            app.stdout.close()
