"""A recording's meta block: what run it is, checked field by field on open.

A recording is a file a student may be sent, so nothing in it is trusted: the
JSON is size-limited before it is parsed, and every field is checked for its
type and range here, so that the reducer and the views only ever see a
topology they can draw and indexes they can look up.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from qsim.model.limits import MAX_ACTORS, MAX_QUEUES
from qsim.model.scenario import QUEUE_KINDS
from qsim.model.topology import ROLES, ActorInfo, QueueInfo, Topology
from qsim.record.format import PROGRAM_VERSION, SCENARIO_VERSION, RecordingError
from qsim.record.program import ProgramMeta, parse_grown, parse_program

MAX_META_BYTES = 4 * 1024 * 1024  # a scenario is at most 1 MB (limits), its lesson 64 KB
MAX_NAME = 64
#: kinds of event a timeline can jump to, by mark name
MARK_NAMES = ("first_block", "first_hang", "first_error", "first_crash")


@dataclass
class Meta:
    """The checked meta block (``raw`` keeps every field, for what is added later)."""

    raw: dict[str, Any]
    topology: Topology  # at the start of the run
    #: (prefix, actor): a worker that joined live before the event at ``prefix``
    added: list[tuple[int, ActorInfo]] = field(default_factory=list)
    #: a traced program's: which program ran (None: a scenario's run)
    program: ProgramMeta | None = None
    #: a traced program's: (processes, queues) its topology grew to from the events
    grown: tuple[int, int] = (0, 0)

    @property
    def traced(self) -> bool:
        """A traced program's recording: its topology grows from its events."""
        return self.topology.traced

    @property
    def scenario_id(self) -> str:
        return str(self.raw.get("scenario_id", ""))

    @property
    def scenario_toml(self) -> str:
        return str(self.raw.get("scenario_toml", ""))

    @property
    def start_method(self) -> str:
        return str(self.raw.get("start_method", ""))

    @property
    def settled(self) -> bool:
        return bool(self.raw.get("settled", False))

    @property
    def marks(self) -> dict[str, int]:
        return dict(self.raw.get("marks", {}))

    @property
    def run(self) -> dict[str, Any]:
        return dict(self.raw.get("run", {}))

    @property
    def t0_ns(self) -> int:
        """When the run started (monotonic ns; the origin of its shown times), 0 if unknown."""
        v = self.raw.get("t0_ns", 0)
        return v if _is_int(v) and v > 0 else 0

    @property
    def final_topology(self) -> Topology:
        t = self.topology
        return Topology((*t.actors, *(a for _, a in self.added)), t.queues)


def machine_facts() -> dict[str, Any]:
    """What machine made a recording. Not ``platform.platform()``: it runs ``uname -p``
    in a subprocess, which took seconds in a window whose run was starting."""
    return dict(_machine())


@functools.cache
def _machine() -> dict[str, Any]:
    return {
        "platform": f"{platform.system()}-{platform.release()}-{platform.machine()}",
        "machine": platform.machine(),
        "python": sys.version.split()[0],
        "cpu_count": os.cpu_count() or 0,
    }


def topology_json(t: Topology) -> dict[str, Any]:
    out: dict[str, Any] = {
        "actors": [actor_json(a) for a in t.actors],
        "queues": [[q.index, q.id, q.kind, q.maxsize] for q in t.queues],
    }
    if t.traced:  # a program's: empty here, grown by the events on replay
        out["traced"] = True
    return out


def actor_json(a: ActorInfo) -> list[Any]:
    return [a.index, a.name, a.role, a.group, a.input_queue, a.output_queue]


def build_meta(
    topology: Topology,
    *,
    scenario_id: str,
    scenario_toml: str,
    start_method: str,
    source: str = "scenario",
    program: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The meta block as known when a run starts (the recorder fills in the rest).

    ``program``: a traced program's (``qsim.record.program.program_meta``)."""
    from qsim import __version__

    extra: dict[str, Any] = {}
    if program is not None:
        source = "program"
        # the window's id names the program's whole path: too long for a meta field
        scenario_id = f"program:{os.path.basename(str(program['path']))}"[:MAX_NAME]
        extra = {"program": program, "grown": {"actors": 0, "queues": 0}}
    return {
        "format": PROGRAM_VERSION if program is not None else SCENARIO_VERSION,
        "qsim": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "t0_ns": time.monotonic_ns(),  # the run starts now: its times count from here
        "source": source,
        "scenario_id": scenario_id,
        "scenario_toml": scenario_toml,
        "topology": topology_json(topology),
        "added": [],
        "start_method": start_method,
        "machine": machine_facts(),
        "settled": False,
        "marks": {},
        "run": {},
        **extra,
    }


# ------------------------------------------------------------------ checking
def parse_meta(data: bytes, count: int, name: str) -> Meta:
    """``data`` (at most ``MAX_META_BYTES``) -> a checked ``Meta``; ``count`` records."""
    try:
        raw = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise RecordingError(f"{name}: its meta block is not JSON ({_short(e)})") from None
    if not isinstance(raw, dict):
        raise RecordingError(f"{name}: its meta block is not a JSON object")
    where = _Where(name)
    for key in ("scenario_id", "scenario_toml", "start_method", "source", "qsim"):
        if key in raw and not isinstance(raw[key], str):
            raise where.bad(key, "must be text")
    if len(str(raw.get("scenario_id", ""))) > MAX_NAME:
        raise where.bad("scenario_id", "is too long")
    topo = _topology(where, raw.get("topology"))
    added = _added(where, raw.get("added", []), topo, count)
    program, grown = None, (0, 0)
    if topo.traced:
        if added:
            raise where.bad("added", "must be empty: a program's processes join by their events")
        program = parse_program(raw.get("program"), where.bad)
        grown = parse_grown(raw.get("grown"), where.bad)
    elif "program" in raw:
        raise where.bad("program", "belongs to a program's recording (its topology is not traced)")
    if not (_is_int(raw.get("t0_ns", 0)) and 0 <= raw.get("t0_ns", 0) < 2**62):
        raise where.bad("t0_ns", "must be a time in nanoseconds")
    if not isinstance(raw.get("settled", False), bool):
        raise where.bad("settled", "must be true or false")
    marks = raw.get("marks", {})
    if not isinstance(marks, dict) or not all(
        k in MARK_NAMES and _is_int(v) and 0 <= v < max(count, 1) for k, v in marks.items()
    ):
        raise where.bad("marks", f"must map {', '.join(MARK_NAMES)} to record numbers")
    if not isinstance(raw.get("run", {}), dict):
        raise where.bad("run", "must be a JSON object")
    return Meta(raw, topo, added, program, grown)


class _Where:
    def __init__(self, name: str) -> None:
        self.name = name

    def bad(self, fld: str, why: str) -> RecordingError:
        return RecordingError(f"{self.name}: meta field {fld} {why}")


def _short(e: Exception) -> str:
    text = str(e)
    return text if len(text) <= 120 else text[:117] + "..."


def _is_int(v: Any) -> bool:
    return type(v) is int and -(2**63) <= v < 2**63


def _topology(where: _Where, raw: Any) -> Topology:
    if not isinstance(raw, dict):
        raise where.bad("topology", "is missing")
    qs, acts = raw.get("queues"), raw.get("actors")
    traced = raw.get("traced", False)
    if not isinstance(traced, bool):
        raise where.bad("topology.traced", "must be true or false")
    if traced:  # a program's: everything comes from its events
        if qs != [] or acts != []:
            raise where.bad("topology", "of a traced program must start empty")
        return Topology((), (), traced=True)
    if not isinstance(qs, list) or len(qs) > MAX_QUEUES:
        raise where.bad("topology.queues", f"must be a list of at most {MAX_QUEUES}")
    if not isinstance(acts, list) or not 0 < len(acts) <= MAX_ACTORS:
        raise where.bad("topology.actors", f"must be a list of 1 to {MAX_ACTORS}")
    queues = []
    for n, q in enumerate(qs):
        if not (
            isinstance(q, list)
            and len(q) == 4
            and q[0] == n
            and _text(q[1])
            and q[2] in QUEUE_KINDS
            and _is_int(q[3])
            and q[3] >= 0
        ):
            raise where.bad(f"topology.queues[{n}]", "is not [index, id, kind, maxsize]")
        queues.append(QueueInfo(n, q[1], q[2], q[3]))
    actors = [
        _actor(where, f"topology.actors[{n}]", a, n, len(queues)) for n, a in enumerate(acts)
    ]
    return Topology(tuple(actors), tuple(queues))


def _text(v: Any) -> bool:
    return isinstance(v, str) and 0 < len(v) <= MAX_NAME


def _actor(where: _Where, fld: str, a: Any, index: int, n_queues: int) -> ActorInfo:
    if not (
        isinstance(a, list)
        and len(a) == 6
        and a[0] == index
        and _text(a[1])
        and a[2] in ROLES
        and _text(a[3])
        and all(_is_int(x) and -1 <= x < n_queues for x in a[4:6])
    ):
        raise where.bad(fld, "is not [index, name, role, group, input queue, output queue]")
    return ActorInfo(index, a[1], a[2], a[3], a[4], a[5])


def _added(where: _Where, raw: Any, topo: Topology, count: int) -> list[tuple[int, ActorInfo]]:
    if not isinstance(raw, list) or len(topo.actors) + len(raw) > MAX_ACTORS:
        raise where.bad("added", f"must be a list (at most {MAX_ACTORS} actors in all)")
    out: list[tuple[int, ActorInfo]] = []
    last = 0
    for n, entry in enumerate(raw):
        if not (isinstance(entry, list) and len(entry) == 2 and _is_int(entry[0])):
            raise where.bad(f"added[{n}]", "is not [record number, actor]")
        prefix = entry[0]
        if not last <= prefix <= count:
            raise where.bad(f"added[{n}]", "is out of order or beyond the records")
        last = prefix
        index = len(topo.actors) + n
        out.append((prefix, _actor(where, f"added[{n}]", entry[1], index, len(topo.queues))))
    return out
