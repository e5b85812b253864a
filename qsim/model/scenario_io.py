"""Load, validate, save and tweak scenarios (TOML files).

Every problem becomes one ``ScenarioError`` whose message names the file, the
line (when it can be found) and the field path, and says what is wrong, e.g.::

    basic.toml, line 14 (producers[0].interval): must be a number >= 0, got "fast"
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from qsim.model.scenario import (
    CRASH_MODES,
    DISTRIBUTIONS,
    ON_SENTINEL,
    QUEUE_KINDS,
    START_METHODS,
    TASK_DONE_MODES,
    ConsumerSpec,
    Knob,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.model.scenario_save import dump_scenario, save_scenario  # re-exported

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

MAX_PER_ROLE = 16
_T = TypeVar("_T")


class ScenarioError(ValueError):
    """A scenario file (or a value for it) is not valid; the message says where and why."""


class _Where:
    """Turns a field path into ``file, line N (path)`` for messages."""

    def __init__(self, source: str, text: str) -> None:
        self.source = source
        self.lines = text.splitlines()

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        start, end = 0, len(self.lines)
        i = 0
        # walk [table] / [[array]] headers for the leading part of the path
        while i < len(path) and isinstance(path[i], str):
            name = str(path[i])
            nth = path[i + 1] if i + 1 < len(path) and isinstance(path[i + 1], int) else None
            header = re.compile(
                rf"^\s*\[\[\s*{re.escape(name)}\s*\]\]"
                if nth is not None
                else rf"^\s*\[\s*{re.escape(name)}\s*\]"
            )
            hits = [n for n in range(start, end) if header.match(self.lines[n])]
            k = nth if isinstance(nth, int) else 0
            if k >= len(hits):
                break
            start = hits[k] + 1
            end = next(
                (
                    n
                    for n in range(start, len(self.lines))
                    if self.lines[n].lstrip().startswith("[")
                ),
                len(self.lines),
            )
            i += 2 if nth is not None else 1
            if i == len(path):
                return start  # the header line itself (1-based = start)
            if i == len(path) - 1:
                break
        if i < len(path):
            key = re.compile(rf"^\s*{re.escape(str(path[i]))}\s*=")
            for n in range(start, end):
                if key.match(self.lines[n]):
                    return n + 1
        return None

    def error(self, path: tuple[str | int, ...], why: str) -> ScenarioError:
        dotted = ""
        for p in path:
            dotted += f"[{p}]" if isinstance(p, int) else (f".{p}" if dotted else str(p))
        line = self.line_of(path) if path else None
        place = self.source
        if line is not None:
            place += f", line {line}"
        if dotted:
            place += f" ({dotted})"
        return ScenarioError(f"{place}: {why}")


def _show(v: Any) -> str:
    return f'"{v}"' if isinstance(v, str) else repr(v)


def _convert(where: _Where, path: tuple[str | int, ...], ann: str, v: Any) -> Any:
    if ann == "str":
        if not isinstance(v, str):
            raise where.error(path, f"must be a text, got {_show(v)}")
        return v
    if ann == "bool":
        if not isinstance(v, bool):
            raise where.error(path, f"must be true or false, got {_show(v)}")
        return v
    if ann == "int":
        if isinstance(v, bool) or not isinstance(v, int):
            raise where.error(path, f"must be a whole number, got {_show(v)}")
        return v
    if ann == "float":
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise where.error(path, f"must be a number, got {_show(v)}")
        return float(v)
    if ann.startswith("tuple["):
        inner = ann[len("tuple[") : ann.index(",")]
        if not isinstance(v, list):
            raise where.error(path, f"must be a list, got {_show(v)}")
        return tuple(_convert(where, (*path, n), inner, x) for n, x in enumerate(v))
    raise AssertionError(f"unsupported annotation {ann}")  # a bug in the schema


def _build(where: _Where, path: tuple[str | int, ...], cls: type[_T], raw: Any) -> _T:
    if not isinstance(raw, Mapping):
        raise where.error(path, f"must be a table, got {_show(raw)}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, v in raw.items():
        if key not in fields:
            known = ", ".join(sorted(fields))
            raise where.error((*path, key), f"unknown field (known fields: {known})")
        kwargs[key] = _convert(where, (*path, key), str(fields[key].type), v)
    try:
        return cls(**kwargs)
    except TypeError as e:  # a required field is missing
        missing = re.findall(r"'(\w+)'", str(e))
        raise where.error(path, f"missing field {', '.join(missing) or str(e)}") from None


def _check_range(
    where: _Where, path: tuple[str | int, ...], v: float, lo: float, hi: float
) -> None:
    if not lo <= v <= hi:
        raise where.error(path, f"must be between {lo:g} and {hi:g}, got {v:g}")


def _choice(where: _Where, path: tuple[str | int, ...], v: str, options: tuple[str, ...]) -> None:
    if v not in options:
        raise where.error(path, f"must be one of {', '.join(options)}; got {_show(v)}")


def _validate(where: _Where, sc: Scenario) -> None:
    if not sc.queues:
        raise where.error(("queues",), "a scenario needs at least one [[queues]] table")
    qids: dict[str, QueueSpec] = {}
    for n, q in enumerate(sc.queues):
        p: tuple[str | int, ...] = ("queues", n)
        if not q.id or q.id in qids:
            raise where.error(
                (*p, "id"), f"queue ids must be unique and not empty, got {_show(q.id)}"
            )
        qids[q.id] = q
        _choice(where, (*p, "kind"), q.kind, QUEUE_KINDS)
        _check_range(where, (*p, "maxsize"), q.maxsize, 0, 100_000)
        if q.kind == "SimpleQueue" and q.maxsize:
            raise where.error(
                (*p, "maxsize"), "SimpleQueue has no maxsize: it is always unbounded"
            )

    def ref(path: tuple[str | int, ...], qid: str) -> QueueSpec:
        if qid not in qids:
            raise where.error(path, f"no queue with id {_show(qid)} (queues: {', '.join(qids)})")
        return qids[qid]

    names: set[str] = set()
    for n, pr in enumerate(sc.producers):
        p = ("producers", n)
        if not re.fullmatch(r"[A-Za-z][\w-]{0,11}", pr.id) or pr.id in names:
            raise where.error((*p, "id"), "must be a unique short name (letters first, max 12)")
        names.add(pr.id)
        q = ref((*p, "queue"), pr.queue)
        _check_range(where, (*p, "count"), pr.count, 1, MAX_PER_ROLE)
        _check_range(where, (*p, "items"), pr.items, 0, 10_000_000)
        _check_range(where, (*p, "duration"), pr.duration, 0, 3600)
        if pr.items == 0 and pr.duration == 0 and not pr.records:
            raise where.error((*p, "items"), "give items > 0, a duration > 0, or records")
        _check_range(where, (*p, "interval"), pr.interval, 0, 60)
        _choice(where, (*p, "distribution"), pr.distribution, DISTRIBUTIONS)
        _check_range(where, (*p, "payload_bytes"), pr.payload_bytes, 0, 64 * 1024 * 1024)
        _check_range(where, (*p, "batch_size"), pr.batch_size, 1, 1000)
        _check_range(where, (*p, "failure_rate"), pr.failure_rate, 0, 1)
        _check_range(where, (*p, "sentinels"), pr.sentinels, 0, 64)
        _check_range(where, (*p, "put_timeout"), pr.put_timeout, 0, 60)
        _check_range(where, (*p, "crash_after"), pr.crash_after, 0, 10_000_000)
        _choice(where, (*p, "crash_mode"), pr.crash_mode, CRASH_MODES)
        if pr.loop:
            from qsim.model.lessons import PRODUCER_LOOPS

            _choice(where, (*p, "loop"), pr.loop, tuple(PRODUCER_LOOPS))
        for k, prio in enumerate(pr.priorities):
            _check_range(where, (*p, "priorities", k), prio, 0, 1000)
        if pr.priority_weights and len(pr.priority_weights) != len(pr.priorities):
            raise where.error((*p, "priority_weights"), "needs one weight per priority")
        if any(w < 0 for w in pr.priority_weights) or (
            pr.priority_weights and sum(pr.priority_weights) <= 0
        ):
            raise where.error((*p, "priority_weights"), "weights must be >= 0 and not all 0")
        if q.kind == "PriorityQueue" and not pr.priorities:
            raise where.error(
                (*p, "priorities"), "a producer into a PriorityQueue needs priorities"
            )
        if pr.put_timeout and q.kind == "SimpleQueue":
            raise where.error((*p, "put_timeout"), "SimpleQueue.put() takes no timeout")
    for n, c in enumerate(sc.consumers):
        p = ("consumers", n)
        if not re.fullmatch(r"[A-Za-z][\w-]{0,11}", c.id) or c.id in names:
            raise where.error((*p, "id"), "must be a unique short name (letters first, max 12)")
        names.add(c.id)
        q = ref((*p, "queue"), c.queue)
        if c.output:
            ref((*p, "output"), c.output)
            if c.output == c.queue:
                raise where.error((*p, "output"), "a stage cannot put into its own input queue")
        _check_range(where, (*p, "count"), c.count, 1, MAX_PER_ROLE)
        _check_range(where, (*p, "work_time"), c.work_time, 0, 60)
        _choice(where, (*p, "distribution"), c.distribution, DISTRIBUTIONS)
        _check_range(where, (*p, "failure_rate"), c.failure_rate, 0, 1)
        _choice(where, (*p, "task_done"), c.task_done, TASK_DONE_MODES)
        if c.task_done != "always" and q.kind != "JoinableQueue":
            raise where.error((*p, "task_done"), "task_done() exists only on a JoinableQueue")
        _check_range(where, (*p, "get_timeout"), c.get_timeout, 0, 60)
        if c.get_timeout and q.kind == "SimpleQueue":
            raise where.error((*p, "get_timeout"), "SimpleQueue.get() takes no timeout")
        _choice(where, (*p, "on_sentinel"), c.on_sentinel, ON_SENTINEL)
        _check_range(where, (*p, "stop_after_timeouts"), c.stop_after_timeouts, 0, 1000)
        _check_range(where, (*p, "crash_after"), c.crash_after, 0, 10_000_000)
        _choice(where, (*p, "crash_mode"), c.crash_mode, CRASH_MODES)
        if c.function:
            from qsim.model.transforms import TRANSFORMS

            _choice(where, (*p, "function"), c.function, tuple(TRANSFORMS))
        if c.loop:
            from qsim.model.lessons import CONSUMER_LOOPS

            _choice(where, (*p, "loop"), c.loop, tuple(CONSUMER_LOOPS))
    m = sc.main
    if m.sentinels:
        _check_range(where, ("main", "sentinels"), m.sentinels, 0, 64)
        ref(("main", "sentinel_queue"), m.sentinel_queue)
    if m.join and ref(("main", "join"), m.join).kind != "JoinableQueue":
        raise where.error(("main", "join"), "join() needs a JoinableQueue")
    r = sc.run
    _choice(where, ("run", "start_method"), r.start_method, START_METHODS)
    _check_range(where, ("run", "duration"), r.duration, 0.1, 3600)
    _check_range(where, ("run", "speed"), r.speed, 0.1, 10)
    _check_range(where, ("run", "hang_after"), r.hang_after, 0.5, 600)
    for n, knob in enumerate(sc.knobs):
        p = ("knobs", n)
        if knob.min > knob.max:
            raise where.error((*p, "max"), f"max ({knob.max:g}) is below min ({knob.min:g})")
        _check_range(where, (*p, "default"), knob.default, knob.min, knob.max)
        try:
            _locate(sc, knob.path)
        except KeyError as e:
            raise where.error((*p, "path"), str(e.args[0])) from None


_SECTIONS: dict[str, type] = {
    "queues": QueueSpec,
    "producers": ProducerSpec,
    "consumers": ConsumerSpec,
    "knobs": Knob,
}


def parse_scenario(text: str, source: str = "<scenario>", lesson: str = "") -> Scenario:
    """Build and validate a scenario from TOML text; raise ``ScenarioError``."""
    where = _Where(source, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column (\d+)\)", str(e))
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        where_txt = f"{source}, line {m.group(1)}, column {m.group(2)}" if m else source
        raise ScenarioError(f"{where_txt}: not valid TOML: {msg}") from None
    top = dict(raw)
    head = top.pop("scenario", None)
    if not isinstance(head, Mapping):
        raise where.error(("scenario",), "missing [scenario] table with id and title")
    kwargs: dict[str, Any] = {}
    for key in ("id", "title", "summary", "lesson"):
        if key in head:
            kwargs[key] = _convert(where, ("scenario", key), "str", head[key])
    for key in head:
        if key not in ("id", "title", "summary", "lesson"):
            raise where.error(
                ("scenario", key), "unknown field (known: id, title, summary, lesson)"
            )
    for key in ("id", "title"):
        if not kwargs.get(key):
            raise where.error(("scenario",), f"missing field {key}")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", kwargs["id"]):
        raise where.error(("scenario", "id"), "must be lower-case letters, digits and dashes")
    for name, cls in _SECTIONS.items():
        rows = top.pop(name, [])
        if not isinstance(rows, list):
            raise where.error((name,), f"must be written as [[{name}]] tables")
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
    _validate(where, sc)
    return sc


def load_scenario(path: str | Path) -> Scenario:
    """Load a scenario file; a lesson text ``<same name>.md`` beside it is attached."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{p}: cannot read the file: {e}") from None
    md = p.with_suffix(".md")
    lesson = md.read_text(encoding="utf-8") if md.is_file() else ""
    return parse_scenario(text, source=p.name, lesson=lesson)


# ---------------------------------------------------------------- knobs


def _locate(sc: Scenario, path: str) -> tuple[str, int | None, str]:
    parts = path.split(".")
    if len(parts) == 2 and parts[0] in ("run", "main"):
        obj = getattr(sc, parts[0])
        if not hasattr(obj, parts[1]):
            raise KeyError(f"{path}: no field {parts[1]} in [{parts[0]}]")
        return parts[0], None, parts[1]
    if len(parts) != 3 or parts[0] not in ("queues", "producers", "consumers"):
        raise KeyError(f"{path}: a knob path is SECTION.ID.FIELD or run.FIELD")
    rows = getattr(sc, parts[0])
    for n, row in enumerate(rows):
        if row.id == parts[1] or parts[1] == "*":  # "*": every row (lanes side by side)
            if not hasattr(row, parts[2]):
                raise KeyError(f"{path}: no field {parts[2]} in {parts[0]}")
            return parts[0], n, parts[2]
    raise KeyError(f"{path}: no {parts[0][:-1]} with id {parts[1]!r}")


def knob_value(sc: Scenario, knob: Knob) -> float:
    section, n, name = _locate(sc, knob.path)
    obj = getattr(sc, section) if n is None else getattr(sc, section)[n]
    return float(getattr(obj, name))


def apply_knob(sc: Scenario, knob: Knob, value: float) -> Scenario:
    """A copy of ``sc`` with the knob set; refuse values outside the knob's range."""
    if not (knob.min <= value <= knob.max) or not math.isfinite(value):
        raise ScenarioError(
            f"{knob.name}: {value:g} is out of range (allowed {knob.min:g} to {knob.max:g})"
        )
    section, n, name = _locate(sc, knob.path)
    obj = getattr(sc, section) if n is None else getattr(sc, section)[n]
    current = getattr(obj, name)
    new_value: Any = round(value) if isinstance(current, int) else float(value)
    new_obj = dataclasses.replace(obj, **{name: new_value})
    changes: dict[str, Any] = {}
    if n is None:
        changes[section] = new_obj
    else:
        rows = list(getattr(sc, section))
        rows[n] = new_obj
        if knob.path.split(".")[1] == "*":
            rows = [dataclasses.replace(row, **{name: new_value}) for row in rows]
        changes[section] = tuple(rows)
    out = dataclasses.replace(sc, **changes)
    # revalidate the whole scenario: a knob must not make an invalid run
    _validate(_Where(sc.source or sc.id, ""), out)
    return out
