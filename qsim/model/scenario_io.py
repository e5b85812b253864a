"""Load, validate, save and tweak scenarios (TOML files).

Every problem becomes one ``ScenarioError`` whose message names the file, the
line (when it can be found) and the field path, and says what is wrong, e.g.::

    basic.toml, line 14 (producers[0].interval): must be a number, got "fast"

Whatever a file holds (megabytes, deep nesting, binary bytes, a link to
``/dev/zero``, values beyond what the engine or the window can handle), the
answer is a ``ScenarioError``, never another exception, a hang or an OOM
(see ``qsim.model.limits``, ``qsim.model.toml_guard``, ``qsim.model.scenario_files``).

The pieces: ``scenario_errors`` (messages), ``scenario_rules`` (field checks),
``scenario_check`` (the whole scenario), ``scenario_knobs`` (knob paths).
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from qsim.model import limits as L
from qsim.model.scenario import (
    ConsumerSpec,
    Knob,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.model.scenario_check import validate
from qsim.model.scenario_errors import ScenarioError, Where, num, short, show
from qsim.model.scenario_files import read_text
from qsim.model.scenario_knobs import knob_value, with_knob
from qsim.model.scenario_rules import check_text
from qsim.model.scenario_save import dump_scenario, save_scenario  # re-exported
from qsim.model.toml_guard import TomlShapeError, check_shape

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = [
    "ScenarioError",
    "apply_knob",
    "dump_scenario",
    "knob_value",
    "load_scenario",
    "parse_scenario",
    "save_scenario",
]

_T = TypeVar("_T")
_HEAD_FIELDS = ("id", "title", "summary", "lesson")
#: the ``[[...]]`` sections and how many tables each may have
_SECTIONS: dict[str, tuple[type, int]] = {
    "queues": (QueueSpec, L.MAX_QUEUES),
    "producers": (ProducerSpec, L.MAX_GROUPS),
    "consumers": (ConsumerSpec, L.MAX_GROUPS),
    "knobs": (Knob, L.MAX_KNOBS),
}


def _convert(where: Where, path: tuple[str | int, ...], ann: str, v: Any) -> Any:
    if ann == "str":
        if not isinstance(v, str):
            raise where.error(path, f"must be a text, got {show(v)}")
        return v
    if ann == "bool":
        if not isinstance(v, bool):
            raise where.error(path, f"must be true or false, got {show(v)}")
        return v
    if ann == "int":
        if isinstance(v, float) and v.is_integer():
            raise where.error(
                path, f"must be a whole number: write {num(v)} without a point or exponent"
            )
        if isinstance(v, bool) or not isinstance(v, int):
            raise where.error(path, f"must be a whole number, got {show(v)}")
        return v
    if ann == "float":
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise where.error(path, f"must be a number, got {show(v)}")
        return float(v)
    if ann.startswith("tuple["):
        inner = ann[len("tuple[") : ann.index(",")]
        if not isinstance(v, list):
            raise where.error(path, f"must be a list, got {show(v)}")
        if len(v) > L.MAX_RECORDS:
            raise where.error(path, f"must have at most {L.MAX_RECORDS:,} entries")
        return tuple(_convert(where, (*path, n), inner, x) for n, x in enumerate(v))
    raise AssertionError(f"unsupported annotation {ann}")  # a bug in the schema


def _build(where: Where, path: tuple[str | int, ...], cls: type[_T], raw: Any) -> _T:
    if not isinstance(raw, Mapping):
        raise where.error(path, f"must be a table, got {show(raw)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, v in raw.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise where.error((*path, key), f"unknown field (known fields: {known})")
        kwargs[key] = _convert(where, (*path, key), str(fields[key].type), v)
    missing = [f.name for f in fields.values() if f.name not in kwargs and _required(f)]
    if missing:
        raise where.error(path, f"missing field {', '.join(missing)}")
    return cls(**kwargs)


def _required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _load_toml(where: Where, text: str) -> dict[str, Any]:
    """``tomllib.loads`` that cannot overflow the stack or the memory."""
    try:
        check_shape(text)
    except TomlShapeError as e:
        raise where.at_line(e.line, f"not a scenario: {e.why}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        place = f"{where.source}, line {m.group(1)}, column {m.group(2)}" if m else where.source
        raise ScenarioError(f"{place}: not valid TOML: {short(msg, 200)}") from None
    except ValueError:  # Python's limit on the digits of an int (4300)
        raise where.at_line(None, "not valid TOML: a number with too many digits") from None
    except RecursionError:  # check_shape should have refused it first
        raise where.at_line(None, "not a scenario: values nested too deeply") from None


def parse_scenario(text: str, source: str = "<scenario>", lesson: str = "") -> Scenario:
    """Build and validate a scenario from TOML text; raise ``ScenarioError``."""
    text = text.removeprefix("\ufeff")  # a UTF-8 byte order mark, as some editors write
    where = Where(source, "")
    if len(text) > L.MAX_FILE_BYTES:
        raise where.at_line(None, f"more than {L.MAX_FILE_BYTES:,} characters")
    where = Where(source, text)
    top = dict(_load_toml(where, text))
    head = top.pop("scenario", None)
    if not isinstance(head, Mapping):
        raise where.error(("scenario",), "missing [scenario] table with id and title")
    kwargs: dict[str, Any] = {}
    for key in head:
        if key not in _HEAD_FIELDS:
            raise where.error(
                ("scenario", key), f"unknown field (known: {', '.join(_HEAD_FIELDS)})"
            )
        kwargs[key] = _convert(where, ("scenario", key), "str", head[key])
    for key in ("id", "title"):
        if not kwargs.get(key):
            raise where.error(("scenario",), f"missing field {key}")
    for name, (cls, most) in _SECTIONS.items():
        rows = top.pop(name, [])
        if not isinstance(rows, list):
            raise where.error((name,), f"must be written as [[{name}]] tables")
        if len(rows) > most:  # named at the first table too many
            raise where.error((name, most), f"at most {most} [[{name}]] tables, got {len(rows):,}")
        kwargs[name] = tuple(_build(where, (name, n), cls, row) for n, row in enumerate(rows))
    if "main" in top:
        kwargs["main"] = _build(where, ("main",), MainSpec, top.pop("main"))
    if "run" in top:
        kwargs["run"] = _build(where, ("run",), RunOptions, top.pop("run"))
    for key in top:
        known = "scenario, queues, producers, consumers, main, run, knobs"
        raise where.error((key,), f"unknown section (known: {known})")
    if lesson and not kwargs.get("lesson"):
        kwargs["lesson"] = lesson
    sc = Scenario(source=source, **kwargs)
    validate(where, sc)
    return sc


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file; a lesson text ``<same name>.md`` beside it is attached.

    Only plain files are read (a link to one is fine), each at most a few MB.
    """
    p = Path(path)
    text = read_text(p, L.MAX_FILE_BYTES, p.name)
    md = p.with_suffix(".md")
    lesson = ""
    if os.path.lexists(md):
        where = Where(md.name, "")
        lesson = read_text(md, L.MAX_LESSON_BYTES, f"{md.name} (the lesson text of {p.name})")
        check_text(where, (), lesson, L.MAX_LESSON_CHARS, multiline=True)
    return parse_scenario(text, source=p.name, lesson=lesson)


def apply_knob(sc: Scenario, knob: Knob, value: float) -> Scenario:
    """A copy of ``sc`` with the knob set; refuse values outside the knob's range."""
    if not math.isfinite(value) or not knob.min <= value <= knob.max:
        raise ScenarioError(
            f"{knob.name}: {num(value)} is out of range "
            f"(allowed {num(knob.min)} to {num(knob.max)})"
        )
    try:
        out = with_knob(sc, knob, value)
    except KeyError as e:
        raise ScenarioError(f"{knob.name}: {e.args[0]}") from None
    # revalidate the whole scenario: a knob must not make an invalid run
    validate(Where(sc.source or sc.id, ""), out)
    return out
