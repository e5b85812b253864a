"""Find the shipped resources (lessons, icons) wherever qsim runs from.

Two kinds of built-in lessons share one list, in the order of their file
names (``NN-id``): scenarios (``scenarios/NN-id.toml``, run by qsim's own
workers) and program lessons (``programs/NN-id.toml`` + ``.py`` + ``.md``: a
real program that qsim traces, see ``qsim.model.program_lesson``).

Looked up, in order: a frozen app (PyInstaller puts them in ``sys._MEIPASS``),
an installed wheel (the data package ``qsim._resources``), a source checkout
(``resources/`` beside the ``qsim`` package).
"""

from __future__ import annotations

import os
import re
import sys
from functools import cache
from pathlib import Path

from qsim.model.program_lesson import ProgramLesson, load_program_lesson
from qsim.model.scenario import Scenario
from qsim.model.scenario_files import read_text
from qsim.model.scenario_io import ScenarioError, load_scenario

Lesson = Scenario | ProgramLesson


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


def programs_dir() -> Path:
    return resources_dir() / "programs"


def lesson_paths() -> list[Path]:
    """Every built-in lesson's ``.toml`` (scenarios and program lessons), in lesson order."""
    files = [*scenarios_dir().glob("*.toml"), *programs_dir().glob("*.toml")]
    return sorted(files, key=lambda p: (p.name, p.parent.name))


def builtin_ids() -> list[str]:
    """Built-in lesson ids, in lesson order (files are named ``NN-id.toml`` or ``id.toml``)."""
    return [_id_of(p) for p in lesson_paths()]


def scenario_ids() -> list[str]:
    """The built-in lessons run by qsim's own workers, in lesson order."""
    return [_id_of(p) for p in lesson_paths() if not is_program_path(p)]


def program_ids() -> list[str]:
    """The built-in lessons that are real programs, in lesson order."""
    return [_id_of(p) for p in lesson_paths() if is_program_path(p)]


def is_program_path(p: Path) -> bool:
    return p.parent.name == "programs"


def _id_of(p: Path) -> str:
    stem = p.stem
    head, _, rest = stem.partition("-")
    return rest if head.isdigit() and rest else stem


def builtin_path(lesson_id: str) -> Path:
    """The ``.toml`` of a built-in lesson (a scenario's, or a program lesson's)."""
    for p in lesson_paths():
        if _id_of(p) == lesson_id:
            return p
    raise ScenarioError(
        f"no built-in lesson {lesson_id[:60]!r} (built-in: {', '.join(builtin_ids())})"
    )


def is_program(ref: str | Path) -> bool:
    """Whether ``ref`` (a built-in id or a file) is a program lesson."""
    p = Path(ref)
    if p.suffix != ".toml" and not _exists(p):
        try:
            return is_program_path(builtin_path(str(ref)))
        except ScenarioError:
            return False
    if is_program_path(p):
        return True
    try:  # a program lesson's file has a [lesson] table, a scenario's a [scenario]
        text = read_text(p, 1 << 20, p.name)
    except ScenarioError:
        return False  # the scenario loader says what is wrong with it
    return re.search(r"^[ \t]*\[[ \t]*lesson[ \t]*\]", text, re.MULTILINE) is not None


def load(ref: str | Path) -> Scenario:
    """A built-in scenario id (``backpressure``) or a path to a scenario file."""
    p = Path(ref)
    if p.suffix == ".toml" or _exists(p):
        return load_scenario(p)
    path = builtin_path(str(ref))
    if is_program_path(path):
        raise ScenarioError(f"{ref} is a program lesson, not a scenario: open it as a lesson")
    return load_scenario(path)


def load_program(ref: str | Path) -> ProgramLesson:
    """A built-in program lesson id (``basic``) or a path to a program lesson's ``.toml``."""
    p = Path(ref)
    if p.suffix == ".toml" or _exists(p):
        return load_program_lesson(p)
    return load_program_lesson(builtin_path(str(ref)))


def load_lesson(ref: str | Path) -> Lesson:
    """Any lesson: a built-in id, a scenario file or a program lesson's ``.toml``."""
    return load_program(ref) if is_program(ref) else load(ref)


def _exists(p: Path) -> bool:
    try:
        return os.path.lexists(p)
    except (OSError, ValueError):  # a name too long, a NUL in it
        return False


def list_builtin() -> list[Lesson]:
    """Every built-in lesson, loaded, in lesson order."""
    return [
        load_program_lesson(p) if is_program_path(p) else load_scenario(p) for p in lesson_paths()
    ]
