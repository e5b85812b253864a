"""Scenario files round-trip (File > Save as, then Open) and bad ones are
refused with a message that names the file, the line and the field."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from handy import every_scenario, handy, scenario

from qsim.model.scenario import Knob, Scenario
from qsim.model.scenario_io import (
    ScenarioError,
    apply_knob,
    dump_scenario,
    load_scenario,
    parse_scenario,
    save_scenario,
)
from qsim.resources import load


def _same(a: Scenario, b: Scenario) -> bool:
    return dataclasses.replace(a, source="") == dataclasses.replace(b, source="")


@pytest.mark.parametrize("lesson", every_scenario())
def test_dump_parses_back_equal(lesson: str) -> None:
    sc = scenario(lesson)
    text = dump_scenario(sc)
    again = parse_scenario(text, source="saved.toml")
    assert _same(again, sc)
    assert dump_scenario(again) == text  # stable: saving twice changes nothing


@pytest.mark.parametrize("lesson", ["pitfall-large-objects", "small-pipeline", "starvation"])
def test_save_as_then_open_gives_the_same_lesson(lesson: str, tmp_path: Path) -> None:
    sc = scenario(lesson)
    path = tmp_path / "mine.toml"
    save_scenario(sc, path)
    assert _same(load_scenario(path), sc)


def test_a_changed_knob_survives_the_round_trip(tmp_path: Path) -> None:
    sc = load("serialization")
    knob = next(k for k in sc.knobs if k.path == "producers.*.duration")
    changed = apply_knob(sc, knob, 2.5)
    path = tmp_path / "longer.toml"
    save_scenario(changed, path)
    assert [p.duration for p in load_scenario(path).producers] == [2.5] * 4


def _error(text: str, source: str = "mine.toml") -> str:
    with pytest.raises(ScenarioError) as e:
        parse_scenario(text, source=source)
    return str(e.value)


BASE = """\
[scenario]
id = "mine"
title = "My scenario"

[[queues]]
id = "q"

[[producers]]
id = "P"
queue = "q"
items = 3
{producer}
[[consumers]]
id = "C"
queue = "q"
{consumer}
"""


def test_unknown_worker_loop_names_file_line_field_and_choices() -> None:
    msg = _error(BASE.format(producer='loop = "turbo"\n', consumer=""))
    assert msg.startswith("mine.toml, line 12 (producers[0].loop): ")
    assert "shm_ref" in msg and "inspect_helper" in msg and '"turbo"' in msg
    msg = _error(BASE.format(producer="", consumer='loop = "shm_ref"\n'))
    assert msg.startswith("mine.toml, line 16 (consumers[0].loop): ")
    assert "read_payload" in msg


def test_lesson_loops_parse() -> None:
    text = BASE.format(producer='loop = "shm_ref"\n', consumer='loop = "read_payload"\n')
    sc = parse_scenario(text)
    assert sc.producers[0].loop == "shm_ref"
    assert sc.consumers[0].loop == "read_payload"
    assert _same(parse_scenario(dump_scenario(sc)), sc)


def test_lane_knob_path_errors_name_the_knob() -> None:
    knob = '\n[[knobs]]\nname = "x"\npath = "producers.*.speedy"\nmin = 0\nmax = 1\ndefault = 0\n'
    msg = _error(BASE.format(producer="", consumer="") + knob)
    assert msg.startswith("mine.toml, line 20 (knobs[0].path): ")
    assert "no field speedy" in msg


def test_knob_default_outside_its_range_is_refused() -> None:
    knob = '\n[[knobs]]\nname = "n"\npath = "producers.P.items"\nmin = 1\nmax = 5\ndefault = 9\n'
    msg = _error(BASE.format(producer="", consumer="") + knob)
    assert msg == "mine.toml, line 23 (knobs[0].default): must be between 1 and 5, got 9"


def test_out_of_range_knob_value_is_refused_with_a_message() -> None:
    sc = load("backpressure")
    knob = next(k for k in sc.knobs if k.path == "queues.q.maxsize")
    with pytest.raises(ScenarioError, match=r"maxsize: 50 is out of range \(allowed 1 to 20\)"):
        apply_knob(sc, knob, 50)
    with pytest.raises(ScenarioError, match="out of range"):
        apply_knob(sc, knob, float("nan"))


def test_a_knob_that_would_make_an_invalid_run_is_refused() -> None:
    sc = handy("small-basic")
    knob = Knob("timeout", "consumers.C.get_timeout", 0, 100, 0)
    with pytest.raises(ScenarioError, match=r"consumers\[0\]\.get_timeout"):
        apply_knob(sc, knob, 99)


def test_an_invalid_file_names_the_file(scenario_file: Callable[..., Path]) -> None:
    path = scenario_file('[scenario]\nid = "x"\ntitle = "t"\n[[queues]]\nid = "q"\nkind = "Q"\n')
    with pytest.raises(ScenarioError) as e:
        load_scenario(path)
    assert str(e.value).startswith(f"{path.name}, line 6 (queues[0].kind): must be one of")
