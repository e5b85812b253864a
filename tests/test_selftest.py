"""``qsim --self-test``: what a student sees when they check their installation."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
from handy import handy

from qsim.model.scenario_io import parse_scenario
from qsim.resources import builtin_ids, load_program, program_ids
from qsim.selftest import expects_hang, run_lesson
from qsim.selftest_program import run_program_lesson

# a consumer waits for items that never come: no sentinel, so it hangs
NO_SENTINEL = """
[scenario]
id = "{id}"
title = "forgot the sentinel"

[run]
hang_after = 1.0

[[queues]]
id = "q"

[[producers]]
id = "P"
queue = "q"
items = 3
interval = 0.01

[[consumers]]
id = "C"
queue = "q"
work_time = 0.01
"""


def test_a_working_lesson_passes_with_real_processes() -> None:
    res = run_lesson(handy("small-basic"))
    assert res.problems == []
    assert res.ok and res.finished and not res.hung
    assert res.workers == 2  # the producer and the consumer, each its own process
    assert res.events > 0
    assert res.worker_exe and all(os.path.isabs(e) for e in res.worker_exe)


def test_an_unexpected_hang_fails_and_says_who_waits() -> None:
    res = run_lesson(parse_scenario(NO_SENTINEL.format(id="forgot"), "forgot.toml"))
    assert not res.ok
    assert res.hung
    assert any("hung" in p and "C1" in p and "waiting on get" in p for p in res.problems)


def test_a_pitfall_lesson_passes_when_it_hangs() -> None:
    res = run_lesson(parse_scenario(NO_SENTINEL.format(id="pitfall-forgot"), "p.toml"))
    assert res.expect_hang and res.hung
    assert res.ok, res.problems


def test_which_lessons_are_meant_to_hang() -> None:
    sc = handy("small-basic")
    assert not expects_hang(sc)
    assert expects_hang(replace(sc, id="pitfall-no-sentinel"))
    assert not expects_hang(replace(sc, id="pitfall-large-objects"))  # it ends, slowly


def _self_test(lessons: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QSIM_SELF_TEST_LESSONS": lessons}
    return subprocess.run(
        [sys.executable, "-m", "qsim", "--self-test"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )


def test_cli_prints_json_lines_and_sentences() -> None:
    p = _self_test("basic,backpressure")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines()]
    assert [x["lesson"] for x in lines[:-1]] == ["basic", "backpressure"]
    assert all(x["ok"] and x["problems"] == [] for x in lines[:-1])
    summary = lines[-1]
    assert summary["summary"] and summary["ok"]
    assert (summary["passed"], summary["failed"]) == (2, 0)
    assert "2 of 2 lessons passed" in p.stderr
    assert "ok    basic" in p.stderr


def test_cli_exit_code_is_1_when_a_lesson_fails() -> None:
    p = _self_test("basic,no-such-lesson")
    assert p.returncode == 1
    *per_lesson, summary = (json.loads(line) for line in p.stdout.splitlines())
    assert [x["ok"] for x in per_lesson] == [True, False]
    assert "no built-in lesson 'no-such-lesson'" in per_lesson[1]["problems"][0]
    assert summary["failed"] == 1 and not summary["ok"]
    assert "FAIL  no-such-lesson" in p.stderr
    assert "1 FAILED" in p.stderr


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_every_builtin_lesson_passes_from_source() -> None:
    p = subprocess.run(
        [sys.executable, "-m", "qsim", "--self-test"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    *per_lesson, summary = (json.loads(line) for line in p.stdout.splitlines())
    failed = {x["lesson"]: x["problems"] for x in per_lesson if not x["ok"]}
    assert failed == {}, p.stderr
    assert [x["lesson"] for x in per_lesson] == builtin_ids()
    assert p.returncode == 0 and summary["ok"]


# ------------------------------------------------------------ program lessons
@pytest.mark.parametrize("lesson", program_ids())
def test_every_program_lesson_ends_as_its_lesson_says(lesson: str) -> None:
    pl = load_program(lesson)
    res = run_program_lesson(pl, 20.0, pl.argv())
    assert res.problems == [] and res.ok
    assert res.hung == (pl.expect == "hang")
    assert res.finished == (pl.expect != "hang")
    assert res.expect_error == (pl.expect == "error")
    assert res.workers >= 1 and res.events > 0


def test_a_program_lesson_that_hangs_unexpectedly_fails_and_says_where() -> None:
    pl = replace(load_program("pitfall-no-sentinel"), expect="finish")
    res = run_program_lesson(pl, 20.0, pl.argv())
    assert not res.ok and res.hung
    assert len(res.problems) == 1, res.problems
    (problem,) = res.problems
    assert problem.startswith("hung (every process waits, nothing moves): ")
    assert "consumer (waiting on get on q at 11-pitfall-no-sentinel.py:" in problem


def test_a_program_lesson_that_should_fail_but_works_fails() -> None:
    pl = load_program("spawn-pickling")
    res = run_program_lesson(pl, 20.0, pl.argv({"Use a top-level function (the fix)": True}))
    assert res.problems == ["meant to fail with an error, but it ended with exit code 0"]


def test_a_pitfall_fixed_by_its_knob_fails_the_hang_check() -> None:
    pl = load_program("pitfall-join-before-drain")
    res = run_program_lesson(pl, 20.0, pl.argv({"Drain before join (the fix)": True}))
    assert res.finished and not res.hung
    assert res.problems == [f"meant to show a hang, but it did not hang within {res.seconds} s"]
