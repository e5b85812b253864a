"""``qsim trace``: unmodified programs, traced headless, against their own account.

Each program of tests/programs prints what it did; the traced report must
agree: counts, the order things were got in (FIFO per queue, priority
order), the payloads' reprs and the sentinels' real values. Accounting
closes, every event sent is received, and no process of the program is left.
"""

from __future__ import annotations

import pytest
from tracing import closes, trace

ALL_METHODS = ["fork", "spawn", "forkserver"]


@pytest.mark.parametrize("method", ALL_METHODS)
def test_one_producer_one_consumer(method: str) -> None:
    t = trace("one_to_one.py", method, "20")
    closes(t)
    q = t.report["queues"]["q"]
    assert q["kind"] == "Queue"
    assert q["puts"] == q["gets"] == t.printed["put"] == 21
    # what the consumer got, in order, is what the program itself saw
    got = t.gets("q", "consumer")
    assert got[:-1] == t.printed["got"]
    assert got[-1] == "'DONE'"  # the sentinel shows its real value
    assert t.puts("q", "producer") == [*t.printed["got"], "'DONE'"]  # FIFO
    assert set(t.report["actors"]) == {"main", "producer", "consumer"}
    assert t.actor("producer")["puts"] == 21
    assert t.actor("consumer")["gets"] == 21
    assert t.actor("producer")["parent"] == "main"
    assert t.report["exit_codes"] == {"main": 0, "producer": 0, "consumer": 0}
    assert t.report["messages"] == []


def test_many_producers_many_consumers(start_method: str) -> None:
    t = trace("many_to_many.py", start_method)
    closes(t)
    q = t.report["queues"]["q"]
    assert q["puts"] == q["gets"] == t.printed["put"]
    names = ["consumer", "consumer-2", "consumer-3"]
    per_consumer = [[s for s in t.gets("q", n) if s != "'STOP'"] for n in names]
    # each consumer got what it says it got, in its order
    assert sorted(map(tuple, per_consumer)) == sorted(
        tuple(repr(x) for x in got) for got in t.printed["got"]
    )
    assert [t.gets("q", n)[-1] for n in names] == ["'STOP'"] * 3
    # FIFO: each producer's items went in in its order, and each consumer got
    # them in that order (across consumers, who timed a get first is a race)
    for p in ("p0", "p1"):
        assert t.puts("q", f"producer{'' if p == 'p0' else '-2'}") in (
            [repr(f"{p}-{i}") for i in range(15)],
            [repr(f"p{1 - int(p[1])}-{i}") for i in range(15)],
        )
        for got in per_consumer:
            mine = [int(s[len(p) + 2 : -1]) for s in got if s.startswith(f"'{p}-")]
            assert mine == sorted(mine)


def test_joinable_queue(start_method: str) -> None:
    t = trace("joinable.py", start_method)
    closes(t)
    q = t.report["queues"]["tasks"]
    assert q["kind"] == "JoinableQueue"
    assert q["puts"] == q["gets"] == t.printed["put"]
    assert q["unfinished_tasks"] == 0
    done = sum(a["task_done"] for a in t.report["actors"].values())
    assert done == t.printed["task_done"]
    assert t.gets("tasks").count("None") == 2


@pytest.mark.parametrize("method", ALL_METHODS)
def test_pipeline(method: str) -> None:
    t = trace("pipeline.py", method)
    closes(t)
    qs = t.report["queues"]
    assert qs["numbers"]["puts"] == qs["numbers"]["gets"] == 11
    assert qs["squares"]["maxsize"] == 3
    assert qs["squares"]["max_depth"] <= 3
    assert t.gets("numbers", "square") == [*map(repr, t.printed["numbers"]), "None"]
    assert t.gets("squares", "total") == [*map(repr, t.printed["squares"]), "None"]
    assert qs["r/w"]["kind"] == "Pipe"


def test_priority_order_across_processes(start_method: str) -> None:
    t = trace("priority.py", start_method)
    closes(t)
    q = t.report["queues"]["pq"]
    assert q["kind"] == "PriorityQueue"
    expected = [repr(tuple(x)) for x in t.printed["got"]]
    assert [x[0] for x in t.printed["got"]] == sorted(x[0] for x in t.printed["got"])
    assert t.gets("pq", "consumer") == expected
    manager = next(a for a in t.report["actors"].values() if a["internal"])
    assert manager["state"] == "finished"


def test_pipe(start_method: str) -> None:
    t = trace("pipe_talk.py", start_method)
    closes(t)
    q = t.report["queues"]["parent_end/child_end"]
    assert q["kind"] == "Pipe"
    assert t.gets("parent_end/child_end", "main") == [
        *(repr(m) for m in t.printed["got"]),
        "None",
    ]


@pytest.mark.parametrize("program", ["pool_map.py", "executor_map.py"])
def test_pool_and_executor_queues_are_internal(program: str, start_method: str) -> None:
    t = trace(program, start_method)
    closes(t)
    assert t.printed["results"]
    assert t.report["queues"], "a Pool's queues are traced"
    assert all(q["internal"] for q in t.report["queues"].values())
    workers = [a for name, a in t.report["actors"].items() if name != "main"]
    assert workers and all(a["internal"] for a in workers)
    assert any("shown as internal" in m for m in t.report["messages"])


def test_producers_terminated_mid_put_reported_every_put(start_method: str) -> None:
    # terminate() lands while a producer notes a put (about 1 round in 5
    # before the fix): what it had noted till then must still be sent
    t = trace("terminate_busy.py", start_method)
    closes(t)
    assert t.printed == {"rounds": [[100, True, -15]] * 5}
    for r, q in enumerate(["q", "q-2", "q-3", "q-4", "q-5"]):
        assert t.actor(f"producer-{r}")["state"] == "finished"
        assert len(t.puts(q, f"producer-{r}")) >= 100


def test_a_producer_terminated_in_a_put_to_a_full_pipe_ends(start_method: str) -> None:
    # its put never finishes: the process ends after PUT_WAIT_S, by the signal
    t = trace("terminate_blocked.py", start_method)
    closes(t)
    assert t.printed["exitcode"] == -15
    assert t.printed["join_s"] < 2.0
    assert t.actor("producer")["state"] == "finished"
    assert "Exception in thread" not in t.report["stderr"]


def test_a_crashing_worker_is_shown_crashed(start_method: str) -> None:
    t = trace("crash_child.py", start_method)
    closes(t)
    w = t.actor("worker")
    assert w["state"] == "crashed"
    assert w["exit_code"] == t.printed["worker_exit_code"] == 1
    assert w["last_error"] == "ZeroDivisionError: division by zero"
    assert "worker crashed (exit code 1): ZeroDivisionError" in " ".join(t.report["messages"])


def test_a_crashing_main_reports_as_python_would() -> None:
    t = trace("crash_main.py", "spawn")
    assert t.report["exit_codes"]["main"] == 1
    err = t.report["stderr"]
    assert err.startswith("Traceback (most recent call last):")
    assert "qsim/agent" not in err  # the traceback starts at the program's own frames
    assert err.rstrip().endswith("ZeroDivisionError: division by zero")
    assert t.report["stdout"] == "starting spawn\n"
    assert any(m.startswith("main crashed (exit code 1)") for m in t.report["messages"])


def test_a_program_without_queues_says_so() -> None:
    t = trace("no_queue.py", "spawn", "--json")
    closes(t)
    assert t.printed == {"sum": 4950, "argv": ["spawn", "--json"]}
    assert t.report["queues"] == {}
    assert "The program used no queue: there is nothing to animate." in t.report["messages"]
