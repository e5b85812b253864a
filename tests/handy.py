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
