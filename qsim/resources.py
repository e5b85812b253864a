"""Find the shipped resources (lessons, icons) wherever qsim runs from.

Looked up, in order: a frozen app (PyInstaller puts them in ``sys._MEIPASS``),
an installed wheel (the data package ``qsim._resources``), a source checkout
(``resources/`` beside the ``qsim`` package).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path

from qsim.model.scenario import Scenario
from qsim.model.scenario_io import ScenarioError, load_scenario


@cache
def resources_dir() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = []
    if frozen:
        candidates.append(Path(frozen) / "resources")
    try:
        import qsim._resources as data  # type: ignore[import-not-found]

        candidates.append(Path(next(iter(data.__path__))))
    except ImportError:
        pass
    candidates.append(Path(__file__).resolve().parent.parent / "resources")
    for c in candidates:
        if (c / "scenarios").is_dir():
            return c
    raise FileNotFoundError(
        "qsim's resources/ folder was not found: " + ", ".join(map(str, candidates))
    )


def scenarios_dir() -> Path:
    return resources_dir() / "scenarios"


def builtin_ids() -> list[str]:
    """Built-in lesson ids, in lesson order (files are named ``NN-id.toml`` or ``id.toml``)."""
    return [_id_of(p) for p in sorted(scenarios_dir().glob("*.toml"))]


def _id_of(p: Path) -> str:
    stem = p.stem
    head, _, rest = stem.partition("-")
    return rest if head.isdigit() and rest else stem


def builtin_path(scenario_id: str) -> Path:
    for p in sorted(scenarios_dir().glob("*.toml")):
        if _id_of(p) == scenario_id:
            return p
    raise ScenarioError(
        f"no built-in scenario {scenario_id[:60]!r} (built-in: {', '.join(builtin_ids())})"
    )


def load(ref: str | Path) -> Scenario:
    """A built-in id (``basic``) or a path to a TOML file."""
    p = Path(ref)
    if p.suffix == ".toml" or _exists(p):
        return load_scenario(p)
    return load_scenario(builtin_path(str(ref)))


def _exists(p: Path) -> bool:
    try:
        return os.path.lexists(p)
    except (OSError, ValueError):  # a name too long, a NUL in it
        return False


def list_builtin() -> list[Scenario]:
    return [load_scenario(p) for p in sorted(scenarios_dir().glob("*.toml"))]
