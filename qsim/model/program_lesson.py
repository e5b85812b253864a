"""Program lessons: a real Python program that qsim traces, its text and its knobs.

A program lesson is three files side by side (``resources/programs/``):

* ``NN-id.py``: the program, stdlib only; ``python NN-id.py`` runs it too;
* ``NN-id.md``: the lesson text; ``{{code:producer}}`` shows that part of
  the program, read from the ``.py`` (``qsim.model.program_code``);
* ``NN-id.toml``: what the lesson list and the knobs need::

    [lesson]
    id = "basic"
    title = "Basic producer/consumer with a DONE sentinel"
    summary = "One producer puts 5 items, then DONE; ..."
    program = "01-basic.py"   # optional: the .toml's name with .py
    expect = "finish"         # or "hang" (a pitfall) or "error" (it fails)
    hang_after = 3.0          # seconds without progress that count as hung

    [[knobs]]                 # a number: --items 5
    name = "Items"
    arg = "--items"
    min = 1
    max = 50
    default = 5
    tooltip = "How many items the producer puts before DONE"

    [[knobs]]                 # a flag: --send-done, or nothing
    name = "Send DONE (the fix)"
    arg = "--send-done"
    kind = "flag"
    default = false

    [[knobs]]                 # a choice: --start-method spawn
    name = "Start method"
    arg = "--start-method"
    kind = "choice"
    choices = ["spawn", "fork", "forkserver"]
    default = "spawn"

Every knob becomes command-line arguments of the program (``argv``), so a
change restarts it. The files are untrusted input like a scenario file: read
only if plain and small, every field checked, and every problem one
``ScenarioError`` line naming the file, the line and the field.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qsim.model import limits as L
from qsim.model.program_code import CodeError, render
from qsim.model.scenario_errors import ScenarioError, Where, num, show
from qsim.model.scenario_files import read_text
from qsim.model.scenario_io import _load_toml
from qsim.model.scenario_rules import check_range, check_text

KnobValue = float | bool | str
EXPECTS = ("finish", "hang", "error")
KNOB_KINDS = ("number", "flag", "choice")
START_METHOD_ARG = "--start-method"
_ID = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{L.MAX_SCENARIO_ID_CHARS - 1}}}", re.ASCII)
_PROGRAM = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,80}\.py", re.ASCII)
_ARG = re.compile(rf"--[a-z][a-z0-9-]{{0,{L.MAX_ARG_CHARS - 3}}}", re.ASCII)
_CHOICE = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
_HEAD = ("id", "title", "summary", "program", "expect", "hang_after", "duration", "internals")
_KNOB_FIELDS = {
    "number": ("name", "arg", "kind", "min", "max", "default", "step", "tooltip"),
    "flag": ("name", "arg", "kind", "default", "tooltip"),
    "choice": ("name", "arg", "kind", "choices", "default", "tooltip"),
}


@dataclass(frozen=True)
class ProgramKnob:
    """A control of a program lesson: one command-line option of the program."""

    name: str
    arg: str  # "--items"
    kind: str = "number"  # one of KNOB_KINDS
    min: float = 0.0
    max: float = 1.0
    default: KnobValue = 0.0
    step: float = 1.0
    whole: bool = True  # a number written without a point: passed as "5", not "5.0"
    choices: tuple[str, ...] = ()
    tooltip: str = ""
    restart: bool = True  # always: the program is started again with the new arguments

    def check(self, value: KnobValue) -> KnobValue:
        """``value`` as this knob keeps it; ``ScenarioError`` if it may not take it."""
        if self.kind == "flag":
            if not isinstance(value, bool):
                raise ScenarioError(f"{self.name}: must be on or off, got {show(value)}")
            return value
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ScenarioError(
                    f"{self.name}: {show(value)} is not one of {', '.join(self.choices)}"
                )
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ScenarioError(f"{self.name}: must be a number, got {show(value)}")
        if not math.isfinite(value) or not self.min <= value <= self.max:
            raise ScenarioError(
                f"{self.name}: {num(value)} is out of range "
                f"(allowed {num(self.min)} to {num(self.max)})"
            )
        return float(round(value) if self.whole else value)

    def args(self, value: KnobValue) -> list[str]:
        """The program's arguments for ``value`` (checked first)."""
        value = self.check(value)
        if self.kind == "flag":
            return [self.arg] if value else []
        if self.kind == "choice":
            return [self.arg, str(value)]
        assert isinstance(value, float)
        return [self.arg, str(int(value)) if self.whole else num(value)]


@dataclass(frozen=True)
class ProgramLesson:
    """A lesson that runs a real program (``qsim.engine.trace.TraceRun``)."""

    id: str
    title: str
    program: Path  # absolute path of the .py
    code: str  # the program's text, as read when the lesson was loaded
    lesson: str = ""  # the lesson text (markdown), its code blocks read from ``code``
    summary: str = ""
    knobs: tuple[ProgramKnob, ...] = ()
    expect: str = "finish"
    hang_after: float = 3.0
    duration: float = 120.0  # the window and ``qsim run`` stop it after this long
    internals: bool = False  # its queues are drawn opened up (feeder buffers, pipe)
    source: str = ""  # the .toml's file name, for messages

    def defaults(self) -> dict[str, KnobValue]:
        return {k.name: k.default for k in self.knobs}

    def knob(self, name: str) -> ProgramKnob:
        for k in self.knobs:
            if k.name == name:
                return k
        raise KeyError(name)

    def argv(
        self, values: Mapping[str, KnobValue] | None = None, start_method: str | None = None
    ) -> list[str]:
        """The program's arguments: every knob at ``values`` (else its default),
        and ``--start-method`` if one is asked for (it wins over a knob of it).

        Raises ``ScenarioError`` for a value a knob may not take or an unknown knob.
        """
        values = dict(values or {})
        unknown = [n for n in values if n not in {k.name for k in self.knobs}]
        if unknown:
            raise ScenarioError(f"{self.id}: no knob named {show(unknown[0])}")
        out: list[str] = []
        for k in self.knobs:
            if start_method and k.arg == START_METHOD_ARG:
                continue
            out += k.args(values.get(k.name, k.default))
        if start_method:
            out += [START_METHOD_ARG, start_method]
        return out


# ------------------------------------------------------------ loading
def load_program_lesson(path: str | Path) -> ProgramLesson:
    """Load ``NN-id.toml`` with its program and text beside it; ``ScenarioError`` if wrong."""
    p = Path(path)
    text = read_text(p, L.MAX_FILE_BYTES, p.name)
    where = Where(p.name, text)
    top = dict(_load_toml(where, text))
    head = top.pop("lesson", None)
    if not isinstance(head, Mapping):
        raise where.error(("lesson",), "missing [lesson] table with id, title and program")
    rows = top.pop("knobs", [])
    for key, value in top.items():
        at: tuple[str | int, ...] = (key, 0) if isinstance(value, list) and value else (key,)
        raise where.error(at, "unknown section (known: lesson, knobs)")
    fields = _head(where, head, p)
    program = p.parent / fields.pop("program")
    code = _program(where, program, p.name)
    knobs = _knobs(where, rows, code)
    lesson = _text(p, code)
    return ProgramLesson(
        program=program.resolve(), code=code, lesson=lesson, knobs=knobs, source=p.name, **fields
    )


def _head(where: Where, head: Mapping[str, Any], path: Path) -> dict[str, Any]:
    for key in head:
        if key not in _HEAD:
            raise where.error(("lesson", key), f"unknown field (known: {', '.join(_HEAD)})")
    out: dict[str, Any] = {}
    for key in ("id", "title", "summary", "program", "expect"):
        if key in head:
            out[key] = _str(where, ("lesson", key), head[key])
    for key in ("id", "title"):
        if not out.get(key):
            raise where.error(("lesson",), f"missing field {key}")
    if not _ID.fullmatch(out["id"]):
        raise where.error(
            ("lesson", "id"),
            "must be lower-case letters, digits and dashes, at most "
            f"{L.MAX_SCENARIO_ID_CHARS}; got {show(out['id'])}",
        )
    check_text(where, ("lesson", "title"), out["title"], L.MAX_TITLE_CHARS)
    check_text(where, ("lesson", "summary"), out.get("summary", ""), L.MAX_SUMMARY_CHARS, True)
    out.setdefault("program", path.with_suffix(".py").name)
    if not _PROGRAM.fullmatch(out["program"]) or ".." in out["program"]:
        raise where.error(
            ("lesson", "program"),
            f"must be the name of a .py file beside {path.name}, got {show(out['program'])}",
        )
    expect = out.setdefault("expect", "finish")
    if expect not in EXPECTS:
        raise where.error(
            ("lesson", "expect"), f"must be one of {', '.join(EXPECTS)}; got {show(expect)}"
        )
    for key, (lo, hi) in (("hang_after", (0.5, 600.0)), ("duration", (1.0, L.MAX_SECONDS))):
        if key in head:
            v = _number(where, ("lesson", key), head[key])
            check_range(where, ("lesson", key), v, lo, hi)
            out[key] = v
    if "internals" in head:
        if not isinstance(head["internals"], bool):
            raise where.error(
                ("lesson", "internals"), f"must be true or false; got {show(head['internals'])}"
            )
        out["internals"] = head["internals"]
    return out


def _program(where: Where, program: Path, toml_name: str) -> str:
    if not os.path.lexists(program):
        raise where.error(("lesson", "program"), f"{program.name} is not beside {toml_name}")
    code = read_text(program, L.MAX_PROGRAM_BYTES, f"{program.name} (the program of {toml_name})")
    if "\x00" in code:
        raise ScenarioError(f"{program.name}: is not a Python program (a NUL byte)")
    return code


def _knobs(where: Where, rows: Any, code: str) -> tuple[ProgramKnob, ...]:
    if not isinstance(rows, list):
        raise where.error(("knobs",), "must be written as [[knobs]] tables")
    if len(rows) > L.MAX_KNOBS:
        raise where.error(("knobs", L.MAX_KNOBS), f"at most {L.MAX_KNOBS} [[knobs]] tables")
    knobs: list[ProgramKnob] = []
    for n, row in enumerate(rows):
        k = _knob(where, ("knobs", n), row)
        for other in knobs:
            if other.name == k.name:
                raise where.error(
                    ("knobs", n, "name"), f"knob names must be unique: {show(k.name)}"
                )
            if other.arg == k.arg:
                raise where.error(("knobs", n, "arg"), f"another knob sets {k.arg} already")
        if f'"{k.arg}"' not in code and f"'{k.arg}'" not in code:
            raise where.error(
                ("knobs", n, "arg"), f"the program never mentions {k.arg}: it would refuse it"
            )
        knobs.append(k)
    return tuple(knobs)


def _knob(where: Where, p: tuple[str | int, ...], row: Any) -> ProgramKnob:
    if not isinstance(row, Mapping):
        raise where.error(p, f"must be a table, got {show(row)}")
    kind = _str(where, (*p, "kind"), row.get("kind", "number"))
    if kind not in KNOB_KINDS:
        raise where.error(
            (*p, "kind"), f"must be one of {', '.join(KNOB_KINDS)}; got {show(kind)}"
        )
    for key in row:
        if key not in _KNOB_FIELDS[kind]:
            known = ", ".join(_KNOB_FIELDS[kind])
            raise where.error((*p, key), f"not a field of a {kind} knob (known: {known})")
    for key in ("name", "arg", "default"):
        if key not in row:
            raise where.error(p, f"missing field {key}")
    name = _str(where, (*p, "name"), row["name"])
    check_text(where, (*p, "name"), name, L.MAX_KNOB_NAME_CHARS)
    if not name.strip():
        raise where.error((*p, "name"), "a knob needs a name")
    arg = _str(where, (*p, "arg"), row["arg"])
    if not _ARG.fullmatch(arg):
        raise where.error(
            (*p, "arg"),
            f"must be a long option like --items (lower-case letters, digits, dashes), "
            f"got {show(arg)}",
        )
    tooltip = _str(where, (*p, "tooltip"), row.get("tooltip", ""))
    check_text(where, (*p, "tooltip"), tooltip, L.MAX_TOOLTIP_CHARS, multiline=True)
    if kind == "flag":
        default = row["default"]
        if not isinstance(default, bool):
            raise where.error((*p, "default"), f"must be true or false, got {show(default)}")
        return ProgramKnob(name, arg, kind, 0.0, 1.0, default, tooltip=tooltip)
    if kind == "choice":
        return _choice_knob(where, p, row, name, arg, tooltip)
    return _number_knob(where, p, row, name, arg, tooltip)


def _choice_knob(
    where: Where, p: tuple[str | int, ...], row: Mapping[str, Any], name: str, arg: str, tip: str
) -> ProgramKnob:
    raw = row.get("choices")
    if not isinstance(raw, list) or not 1 <= len(raw) <= L.MAX_CHOICES:
        raise where.error(
            (*p, "choices"), f"must be a list of 1 to {L.MAX_CHOICES} texts, got {show(raw)}"
        )
    choices = tuple(_str(where, (*p, "choices", n), c) for n, c in enumerate(raw))
    for n, c in enumerate(choices):
        if not _CHOICE.fullmatch(c):
            raise where.error(
                (*p, "choices", n), f"must be letters, digits, '.', '_' or '-', got {show(c)}"
            )
    if len(set(choices)) != len(choices):
        raise where.error((*p, "choices"), "the choices must differ")
    default = _str(where, (*p, "default"), row["default"])
    if default not in choices:
        raise where.error((*p, "default"), f"must be one of the choices, got {show(default)}")
    return ProgramKnob(
        name, arg, "choice", 0.0, len(choices) - 1.0, default, 1.0, True, choices, tip
    )


def _number_knob(
    where: Where, p: tuple[str | int, ...], row: Mapping[str, Any], name: str, arg: str, tip: str
) -> ProgramKnob:
    for key in ("min", "max"):
        if key not in row:
            raise where.error(p, f"missing field {key}")
    raw = {key: row.get(key, 1) for key in ("min", "max", "default", "step")}
    vals = {key: _number(where, (*p, key), v) for key, v in raw.items()}
    lo, hi = L.PROGRAM_KNOB_RANGE
    check_range(where, (*p, "min"), vals["min"], lo, hi)
    check_range(where, (*p, "max"), vals["max"], lo, hi)
    if vals["min"] > vals["max"]:
        raise where.error(
            (*p, "max"), f"max ({num(vals['max'])}) is below min ({num(vals['min'])})"
        )
    check_range(where, (*p, "default"), vals["default"], vals["min"], vals["max"])
    if not 0 < vals["step"] <= max(1.0, vals["max"] - vals["min"]):
        raise where.error(
            (*p, "step"),
            f"must be above 0 and at most the knob's range, got {num(vals['step'])}",
        )
    whole = all(isinstance(v, int) for v in raw.values())
    return ProgramKnob(
        name, arg, "number", vals["min"], vals["max"], vals["default"], vals["step"], whole,
        tooltip=tip,
    )  # fmt: skip


def _text(toml: Path, code: str) -> str:
    md = toml.with_suffix(".md")
    name = f"{md.name} (the lesson text of {toml.name})"
    if not os.path.lexists(md):
        raise ScenarioError(f"{toml.name}: its lesson text {md.name} is missing")
    text = read_text(md, L.MAX_LESSON_BYTES, name)
    where = Where(md.name, "")
    check_text(where, (), text, L.MAX_LESSON_CHARS, multiline=True)
    try:
        shown = render(text, code)
    except CodeError as e:
        raise ScenarioError(f"{md.name}, line {e.line}: {e.why}") from None
    check_text(where, (), shown, L.MAX_LESSON_CHARS, multiline=True)
    return shown


def _str(where: Where, path: tuple[str | int, ...], v: Any) -> str:
    if not isinstance(v, str):
        raise where.error(path, f"must be a text, got {show(v)}")
    return v


def _number(where: Where, path: tuple[str | int, ...], v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
        raise where.error(path, f"must be a number, got {show(v)}")
    return v
