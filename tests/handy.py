"""Small scenarios for tests (``tests/scenarios/``): not lessons, so a lesson
that becomes a program does not take a test's scenario away."""

from __future__ import annotations

from pathlib import Path

from qsim.model.scenario import Scenario
from qsim.model.scenario_io import load_scenario

SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def handy_path(name: str) -> Path:
    """``handy_path("small-basic")``: the file of a test scenario."""
    path = SCENARIOS / f"{name}.toml"
    assert path.is_file(), f"no test scenario {name}"
    return path


def handy(name: str) -> Scenario:
    """A test scenario, loaded and validated."""
    return load_scenario(handy_path(name))


#: the lessons that became programs, and the scenario each one was (kept for the
#: tests of the scenario features they used)
WAS_SCENARIO = {
    "basic": "small-basic",
    "many-to-many": "small-many-to-many",
    "joinable": "small-joinable",
    "priority": "small-priority",
    "pipeline": "small-pipeline",
    "pitfall-no-sentinel": "pitfall-small-no-sentinel",
    "pitfall-join-before-drain": "small-join-first",
    "inspect": "small-inspect",
}


def scenario(name: str) -> Scenario:
    """A built-in scenario lesson by id, or a test scenario by name."""
    from qsim.resources import load

    if (SCENARIOS / f"{name}.toml").is_file():
        return handy(name)
    return load(name)


def every_scenario() -> list[str]:
    """The built-in scenario lessons and the test scenarios: every scenario shape
    the window must draw (the lessons that are programs now, as they were)."""
    from qsim.resources import scenario_ids

    return [*scenario_ids(), *WAS_SCENARIO.values()]


def scenario_ref(name: str) -> str:
    """What ``open_lesson`` / ``qsim run`` take for ``name``: a built-in id, or
    the path of a test scenario."""
    path = SCENARIOS / f"{name}.toml"
    return str(path) if path.is_file() else name
