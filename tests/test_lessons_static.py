"""Every built-in lesson is complete: it validates, it has a lesson text with
the Python pattern in a code block, and its knobs match the scenario (program
lessons: ``tests/test_program_lessons_static.py``)."""

from __future__ import annotations

import re

import pytest

from qsim.model.program_lesson import ProgramLesson
from qsim.model.scenario import Scenario
from qsim.model.scenario_errors import num
from qsim.model.scenario_io import ScenarioError, apply_knob, knob_value
from qsim.resources import builtin_ids, builtin_path, list_builtin, load, scenario_ids

#: the lessons of issue 4, in lesson order (some are programs now: issue 13)
ISSUE_LESSONS = [
    "basic",
    "backpressure",
    "many-to-many",
    "queue-types",
    "joinable",
    "errors",
    "serialization",
    "batching",
    "priority",
    "pipeline",
    "pitfall-no-sentinel",
    "pitfall-forgot-task-done",
    "pitfall-join-before-drain",
    "pitfall-large-objects",
    "inspect",
]
LESSONS = builtin_ids()
SCENARIOS = scenario_ids()


def test_every_lesson_of_the_issue_is_built_in_in_lesson_order() -> None:
    assert [i for i in LESSONS if i in ISSUE_LESSONS] == ISSUE_LESSONS
    # the variants sit right after the lesson they vary
    assert LESSONS.index("put-timeout") == LESSONS.index("backpressure") + 1
    assert LESSONS.index("starvation") == LESSONS.index("priority") + 1
    # the lessons of issue 12 part 7 sit beside the lesson they belong to
    assert LESSONS.index("queue-full") == LESSONS.index("put-timeout") + 1
    assert LESSONS.index("spawn-pickling") == LESSONS.index("serialization") + 1


def test_lesson_files_are_numbered_in_order() -> None:
    numbers = [int(builtin_path(i).name.split("-")[0]) for i in LESSONS]
    assert numbers == sorted(numbers)
    for n, lesson in enumerate(ISSUE_LESSONS, start=1):
        assert builtin_path(lesson).name == f"{n:02d}-{lesson}.toml"


@pytest.mark.parametrize("lesson", SCENARIOS)
def test_lesson_validates_and_has_a_lesson_text(lesson: str) -> None:
    sc = load(lesson)
    assert sc.id == lesson
    assert sc.title and sc.summary
    text = sc.lesson
    assert text.startswith("# "), "the lesson text starts with its title"
    assert re.search(r"```python\n.+?\n```", text, re.S), "the pattern as a Python code block"
    assert "## What to notice" in text
    assert "## Try" in text or "## The fix" in text
    assert len(text) < 4000, "short: students read it beside the diagram"


@pytest.mark.parametrize("lesson", SCENARIOS)
def test_knobs_defaults_are_the_scenario_values(lesson: str) -> None:
    sc = load(lesson)
    assert sc.knobs, "every lesson offers something to try"
    for knob in sc.knobs:
        assert knob.tooltip, knob.name
        assert knob.min <= knob.default <= knob.max
        assert knob_value(sc, knob) == pytest.approx(knob.default), knob.name
        section, ident, name = [*knob.path.split("."), ""][:3]
        if ident == "*":  # a knob for every lane: all lanes start equal
            rows = getattr(sc, section)
            assert {getattr(r, name) for r in rows} == {getattr(rows[0], name)}


LIVE = ("interval", "work_time", "failure_rate")


@pytest.mark.parametrize("lesson", SCENARIOS)
def test_structural_knobs_restart_and_rates_apply_live(lesson: str) -> None:
    for knob in load(lesson).knobs:
        field = knob.path.rsplit(".", 1)[-1]
        assert knob.restart == (field not in LIVE), knob.path


@pytest.mark.parametrize("lesson", SCENARIOS)
def test_knob_ranges_give_valid_runs_and_out_of_range_is_refused(lesson: str) -> None:
    sc = load(lesson)
    for knob in sc.knobs:
        for value in (knob.min, knob.max):
            changed = apply_knob(sc, knob, value)  # revalidates: must not raise
            assert knob_value(changed, knob) == pytest.approx(value)
        for bad in (knob.min - max(knob.step, 1.0), knob.max + max(knob.step, 1.0)):
            with pytest.raises(ScenarioError) as e:
                apply_knob(sc, knob, bad)
            assert knob.name in str(e.value)
            assert f"allowed {num(knob.min)} to {num(knob.max)}" in str(e.value)


def test_a_lane_knob_sets_every_lane() -> None:
    sc = load("queue-types")
    knob = next(k for k in sc.knobs if k.path == "producers.*.duration")
    changed = apply_knob(sc, knob, 1.5)
    assert [p.duration for p in changed.producers] == [1.5] * 4
    assert [p.duration for p in sc.producers] == [3.0] * 4  # the original is untouched


def test_list_builtin_loads_every_lesson() -> None:
    lessons = list_builtin()
    assert [s.id for s in lessons] == LESSONS
    kinds = {s.id: isinstance(s, Scenario) for s in lessons}
    assert [i for i, scenario in kinds.items() if scenario] == SCENARIOS
    assert all(isinstance(s, Scenario | ProgramLesson) for s in lessons)
