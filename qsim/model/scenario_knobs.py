"""Knobs: a lesson's controls, each bound to one numeric field of the scenario.

A knob path is ``SECTION.ID.FIELD`` (``producers.P.interval``; ``*`` for every
row) or ``run.FIELD`` / ``main.FIELD``. Only the fields of
``qsim.model.limits.RANGES`` may be named, so reading or changing a knob never
looks up an arbitrary attribute (``run.__class__``) or a text field
(``queues.q.kind``), and a knob's range stays inside what the field allows.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from qsim.model.limits import MAX_KNOB_NAME_CHARS, MAX_TOOLTIP_CHARS, RANGES
from qsim.model.scenario import Knob, Scenario
from qsim.model.scenario_errors import Where, num, show
from qsim.model.scenario_rules import check_range, check_text

_ROWS = ("queues", "producers", "consumers")
_SINGLE = ("run", "main")


@dataclasses.dataclass(frozen=True)
class KnobTarget:
    """What a knob path names: a section, a row (None: run/main; -1: every row), a field."""

    section: str
    row: int | None
    field: str


def _rows(sc: Scenario, section: str) -> tuple[Any, ...]:
    return {"queues": sc.queues, "producers": sc.producers, "consumers": sc.consumers}[section]


def _single(sc: Scenario, section: str) -> Any:
    return {"run": sc.run, "main": sc.main}[section]


def knob_target(sc: Scenario, path: str) -> KnobTarget:
    """Resolve a knob path against the allow-list; ``KeyError`` says why not."""
    parts = path.split(".")
    section = parts[0]
    if not ((len(parts) == 2 and section in _SINGLE) or (len(parts) == 3 and section in _ROWS)):
        raise KeyError(
            f"{show(path)}: a knob path is SECTION.ID.FIELD (SECTION one of "
            f"{', '.join(_ROWS)}) or run.FIELD or main.FIELD"
        )
    name = parts[-1]
    fields = RANGES[section]
    if name not in fields:
        raise KeyError(
            f"{show(path)}: no field {show(name)[1:-1]} in {section} that a knob may change "
            f"(one of: {', '.join(fields)})"
        )
    if section in _SINGLE:
        return KnobTarget(section, None, name)
    rid = parts[1]
    if rid == "*":  # every row (lanes side by side)
        if not _rows(sc, section):
            raise KeyError(f"{show(path)}: there are no {section}")
        return KnobTarget(section, -1, name)
    for n, row in enumerate(_rows(sc, section)):
        if row.id == rid:
            return KnobTarget(section, n, name)
    raise KeyError(f"{show(path)}: no {section[:-1]} with id {show(rid)}")


def _get(obj: Any, t: KnobTarget) -> Any:
    return getattr(obj, t.field)  # t.field is a key of RANGES, never a scenario's text


def knob_value(sc: Scenario, knob: Knob) -> float:
    t = knob_target(sc, knob.path)
    obj = _single(sc, t.section) if t.row is None else _rows(sc, t.section)[max(0, t.row)]
    return float(_get(obj, t))


def with_knob(sc: Scenario, knob: Knob, value: float) -> Scenario:
    """A copy of ``sc`` with the knob's field(s) set to ``value`` (not validated)."""
    t = knob_target(sc, knob.path)
    if t.row is None:
        obj = _single(sc, t.section)
        v: Any = round(value) if isinstance(_get(obj, t), int) else float(value)
        return dataclasses.replace(sc, **{t.section: dataclasses.replace(obj, **{t.field: v})})
    rows = list(_rows(sc, t.section))
    for n in range(len(rows)) if t.row < 0 else [t.row]:
        v = round(value) if isinstance(_get(rows[n], t), int) else float(value)
        rows[n] = dataclasses.replace(rows[n], **{t.field: v})
    changes: dict[str, Any] = {t.section: tuple(rows)}
    return dataclasses.replace(sc, **changes)


def check_knobs(where: Where, sc: Scenario) -> None:
    """Every knob names an allowed field, within that field's range."""
    names: set[str] = set()
    for n, knob in enumerate(sc.knobs):
        p = ("knobs", n)
        check_text(where, (*p, "name"), knob.name, MAX_KNOB_NAME_CHARS)
        if not knob.name.strip():
            raise where.error((*p, "name"), "a knob needs a name")
        if knob.name in names:
            raise where.error((*p, "name"), f"knob names must be unique: {show(knob.name)}")
        names.add(knob.name)
        check_text(where, (*p, "tooltip"), knob.tooltip, MAX_TOOLTIP_CHARS, multiline=True)
        try:
            t = knob_target(sc, knob.path)
        except KeyError as e:
            raise where.error((*p, "path"), str(e.args[0])) from None
        lo, hi = RANGES[t.section][t.field]
        check_range(where, (*p, "min"), knob.min, lo, hi)
        check_range(where, (*p, "max"), knob.max, lo, hi)
        if knob.min > knob.max:
            raise where.error((*p, "max"), f"max ({num(knob.max)}) is below min ({num(knob.min)})")
        check_range(where, (*p, "default"), knob.default, knob.min, knob.max)
        if not 0 < knob.step <= max(1.0, knob.max - knob.min):
            raise where.error(
                (*p, "step"),
                f"must be above 0 and at most the knob's range, got {num(knob.step)}",
            )
