"""Reducer snapshots: what a seek restores before it applies at most N events.

A snapshot is the reducer's state after a prefix of the recording: queue
contents, actor states and what they hold, accounting, counters, and only the
*tails* of its history windows (the last ``HISTORY`` latencies and
completions, the notes). A replay reducer keeps windows of exactly that
length (``replay_reducer``), so its state at a prefix is the same whichever
way it got there: by playing, by stepping back, or from a snapshot.

Encoded as a small JSON part plus one block of int64 for the long integer
lists (queue contents, held items, put times), stored as differences and
zlib-compressed: item ids count up and times grow, so a queue of 100,000
items costs a few hundred KB and milliseconds, not a JSON list. Every field
is checked on decode: a snapshot comes from a file a student may be sent.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import typing
import zlib
from collections import deque
from typing import Any

import numpy as np

from qsim.model.entities import (
    BLOCKED_PUT,
    CRASHED,
    FINISHED,
    IDLE,
    JOIN_WAIT,
    STARTING,
    WAITING_GET,
    WORKING,
    Accounting,
    ActorState,
    Contents,
    Note,
    QueueState,
)
from qsim.model.state import Reducer
from qsim.model.topology import Topology
from qsim.record.format import RecordingError
from qsim.record.snapshot_traced import (
    capture_traced,
    check_traced,
    encode_traced,
    restore_traced,
    traced_topology,
)

#: entries of each history window a snapshot keeps (panels read the last 500)
HISTORY = 512
MAGIC = b"QSNAP1"
_HEAD = struct.Struct("<6sIQ")  # magic, JSON bytes, ints in the number block
MAX_JSON = 16 * 1024 * 1024
MAX_INTS = 64 * 1024 * 1024
STATES = (STARTING, IDLE, WORKING, BLOCKED_PUT, WAITING_GET, JOIN_WAIT, FINISHED, CRASHED)

#: fields the topology gives (not events), and fields kept in a form of their own
_IDENTITY = {"index", "name", "role", "id", "kind", "maxsize"}
_SPECIAL = {"state", "exit_code", "holding", "lost_reasons"}


def _fields(cls: type, kind: Any) -> tuple[str, ...]:
    """The names of ``cls``'s event-made fields of type ``kind``, read from the
    dataclass itself: a field added to the reducer's state is snapshotted too,
    and one of a type this module does not know stops the import (and the tests)."""
    hints = typing.get_type_hints(cls)
    known = (int, bool, str, Contents, list[int], dict[int, int], list[str], int | None)
    out = []
    for f in dataclasses.fields(cls):
        if not f.init or f.name in _IDENTITY:
            continue
        if hints[f.name] not in known:
            raise TypeError(f"snapshot.py cannot keep {cls.__name__}.{f.name}: {hints[f.name]}")
        if f.name not in _SPECIAL and hints[f.name] == kind:
            out.append(f.name)
    return tuple(out)


Q_INTS = _fields(QueueState, int)
Q_STRS = _fields(QueueState, str)
#: a queue's pairs (item -> actor in a feeder buffer, item -> bytes in the pipe)
Q_PAIRS = _fields(QueueState, dict[int, int])
Q_ARRAYS = (*_fields(QueueState, Contents), *_fields(QueueState, list[int]), *Q_PAIRS)
A_INTS = _fields(ActorState, int)
A_BOOLS = _fields(ActorState, bool)
A_STRS = _fields(ActorState, str)
ACCT_INTS = _fields(Accounting, int)
TOP_INTS = ("n_actors", "violations", "applied", "last_t", "first_t", "latency_max_ns")
#: flat int lists at the top: pairs (key, value) or triples, as noted
TOP_ARRAYS = (
    "entry_size",  # item, size: only items still somewhere (in a queue or a hand)
    "put_time",  # item, time
    "priority",  # item, priority: only items still somewhere
    "early_gets",  # item, queue, time
    "failed_items",
    "latency",  # the last HISTORY latencies
    "completions",  # time, actor, items: the last HISTORY
)


def replay_reducer(topology: Topology) -> Reducer:
    """A reducer for replaying: applies in the given order, history windows of ``HISTORY``."""
    r = Reducer(topology, reorder_ns=0)
    r.latency_ns = deque(maxlen=HISTORY)
    r.completions = deque(maxlen=HISTORY)
    return r


def reset(r: Reducer, topology: Topology, full_history: bool = False) -> None:
    """Make ``r`` a fresh replay reducer of ``topology`` in place: views that hold
    it keep showing the replay after a seek."""
    # a traced reducer's use tracking belongs to its old handlers: start it afresh
    r.__dict__.pop("_use_bits", None)
    Reducer.__init__(r, topology, reorder_ns=0)
    if not full_history:
        r.latency_ns = deque(maxlen=HISTORY)
        r.completions = deque(maxlen=HISTORY)


def _tail(d: deque[Any], n: int) -> list[Any]:
    k = len(d)
    return [d[i] for i in range(max(0, k - n), k)]


def capture(r: Reducer) -> dict[str, Any]:
    """The reducer's applied state as plain data (equal states give equal dicts)."""
    queues = [
        {
            **{k: getattr(q, k) for k in Q_INTS + Q_STRS},
            "contents": list(q.contents),
            "overflow": list(q.overflow),
            "pipe": list(q.pipe),
            **{k: [*getattr(q, k), *getattr(q, k).values()] for k in Q_PAIRS},
        }
        for q in r.queues
    ]
    actors = [
        {
            "state": a.state,
            **{k: getattr(a, k) for k in A_INTS + A_BOOLS + A_STRS},
            "exit_code": a.exit_code,
            "holding": [*a.holding, *a.holding.values()],
        }
        for a in r.actors
    ]
    ac = r.acct
    traced = {"traced": capture_traced(r, _live_items(r))} if r.topology.traced else {}
    return {
        **traced,
        "n_actors": len(r.actors),
        "violations": r.violations,
        "applied": r.applied,
        "last_t": r.last_t,
        "first_t": r.first_t,
        "latency_max_ns": r.latency_max_ns,
        "violation_notes": list(r.violation_notes),
        "marks": dict(r.marks),
        "notes": [list(n) for n in r.notes],
        "acct": {**{k: getattr(ac, k) for k in ACCT_INTS}, "lost_reasons": list(ac.lost_reasons)},
        "queues": queues,
        "actors": actors,
        # the reducer never forgets these two: keep only items still somewhere
        "entry_size": _live_part(r, r.entry_size),
        "put_time": [*r.put_time, *r.put_time.values()],
        "priority": _live_part(r, r.priority),
        "early_gets": _columns([(i, *v) for i, v in r._early_gets.items()], 3),
        "failed_items": sorted(r._failed),
        "latency": _tail(r.latency_ns, HISTORY),
        "completions": _columns(_tail(r.completions, HISTORY), 3),
    }


def _live_part(r: Reducer, d: dict[int, int]) -> list[int]:
    """``d``'s entries for items in a queue, an overflow list, a hand or an early get,
    in that order, as keys then values."""
    if not d:
        return []
    found = [i for i in _live_items(r) if i in d]
    return [*found, *(d[i] for i in found)]


def _live_items(r: Reducer) -> list[int]:
    """Items in a queue, an overflow list, a hand or an early get, in that order."""
    keys: dict[int, None] = {}
    for q in r.queues:
        keys.update(dict.fromkeys(q.contents))
        keys.update(dict.fromkeys(q.overflow))
    for a in r.actors:
        keys.update(dict.fromkeys(a.holding))
    keys.update(dict.fromkeys(r._early_gets))
    return list(keys)


def _columns(rows: list[tuple[int, ...]], width: int) -> list[int]:
    """Rows of ``width`` ints, column after column (deltas within a column are small)."""
    return [x for c in range(width) for x in (row[c] for row in rows)]


def _pairs(flat: list[int]) -> dict[int, int]:
    """Keys then values (``capture``'s layout) -> a dict."""
    n = len(flat) // 2
    return dict(zip(flat[:n], flat[n:], strict=True))


def _rows(flat: list[int], width: int) -> list[tuple[int, ...]]:
    n = len(flat) // width
    return list(zip(*(flat[c * n : (c + 1) * n] for c in range(width)), strict=True))


def restore(r: Reducer, s: dict[str, Any]) -> None:
    """Put a ``capture``d state into ``r`` (a ``replay_reducer`` of the same topology;
    a traced program's grows to the topology the state had)."""
    traced = s.get("traced")
    if (traced is not None) != r.topology.traced:
        raise RecordingError("a snapshot does not fit the recording's topology: corrupt")
    if traced is not None:
        reset(r, traced_topology(traced))
        restore_traced(r, traced)
    nq = len(r.queues)
    if s["n_actors"] != len(r.actors) or len(s["queues"]) != nq:
        raise RecordingError("a snapshot does not fit the recording's topology: corrupt")
    eg = s["early_gets"]
    n_eg = len(eg) // 3
    if not all(-1 <= a["queue"] < nq for a in s["actors"]) or not all(
        0 <= qi < nq for qi in eg[n_eg : 2 * n_eg]
    ):
        raise RecordingError("a snapshot names a queue the recording does not have: corrupt")
    for q, d in zip(r.queues, s["queues"], strict=True):
        for k in Q_INTS + Q_STRS:
            setattr(q, k, d[k])
        q.contents = Contents(d["contents"])
        q.overflow = list(d["overflow"])
        q.pipe = Contents(d["pipe"])
        for k in Q_PAIRS:
            setattr(q, k, _pairs(d[k]))
    for a, d in zip(r.actors, s["actors"], strict=True):
        a.state = d["state"]
        for k in A_INTS + A_BOOLS + A_STRS:
            setattr(a, k, d[k])
        a.exit_code = d["exit_code"]
        a.holding = _pairs(d["holding"])
    for k in ("violations", "applied", "last_t", "first_t", "latency_max_ns"):
        setattr(r, k, s[k])
    r.violation_notes = list(s["violation_notes"])
    r.marks = dict(s["marks"])
    r.notes.clear()
    r.notes.extend(Note(*n) for n in s["notes"])
    for k in ACCT_INTS:
        setattr(r.acct, k, s["acct"][k])
    r.acct.lost_reasons = list(s["acct"]["lost_reasons"])
    r.entry_size = _pairs(s["entry_size"])
    r.put_time = _pairs(s["put_time"])
    r.priority = _pairs(s["priority"])
    r._early_gets = {i: (qi, t) for i, qi, t in _rows(eg, 3)}
    r._failed = set(s["failed_items"])
    r._pending = []
    r.latency_ns.clear()
    r.latency_ns.extend(s["latency"])
    r.completions.clear()
    r.completions.extend(_rows(s["completions"], 3))  # type: ignore[arg-type]
    r.last_applied = []


# ------------------------------------------------------------------ bytes
def encode(s: dict[str, Any]) -> bytes:
    """A captured state -> bytes (JSON with the long int lists in one int64 block)."""
    blocks: list[np.ndarray] = []
    pos = 0

    def ref(values: list[int]) -> list[int]:
        nonlocal pos
        blocks.append(np.asarray(values, dtype="<i8"))
        start, pos = pos, pos + len(values)
        return [start, len(values)]

    out = dict(s)
    out["queues"] = [{**q, **{k: ref(q[k]) for k in Q_ARRAYS}} for q in s["queues"]]
    out["actors"] = [{**a, "holding": ref(a["holding"])} for a in s["actors"]]
    for k in TOP_ARRAYS:
        out[k] = ref(s[k])
    if "traced" in s:
        out["traced"] = encode_traced(s["traced"], ref)
    text = json.dumps(out, separators=(",", ":")).encode("utf-8")
    ints = np.concatenate(blocks) if blocks else np.zeros(0, "<i8")
    deltas = np.diff(ints, prepend=np.int64(0))  # wraps on overflow; cumsum wraps back
    return _HEAD.pack(MAGIC, len(text), len(ints)) + text + zlib.compress(deltas.tobytes(), 1)


def size_in_ints(data: bytes) -> int:
    """How many integers an encoded snapshot holds (its cost to take and restore)."""
    return int(_HEAD.unpack_from(data)[2])


def decode(data: bytes) -> dict[str, Any]:
    """Bytes from a file -> a checked captured state; ``RecordingError`` if malformed."""
    if len(data) < _HEAD.size:
        raise RecordingError("a snapshot is cut short")
    magic, n, n_ints = _HEAD.unpack_from(data)
    if magic != MAGIC or n > MAX_JSON or n_ints > MAX_INTS or _HEAD.size + n > len(data):
        raise RecordingError("a snapshot is corrupt (bad header)")
    inflate = zlib.decompressobj()
    try:  # never more than the header says: a small file cannot inflate to gigabytes
        raw_ints = inflate.decompress(data[_HEAD.size + n :], n_ints * 8)
    except zlib.error:
        raise RecordingError("a snapshot is corrupt (its number block)") from None
    if len(raw_ints) != n_ints * 8 or inflate.unconsumed_tail:
        raise RecordingError("a snapshot is corrupt (its number block has the wrong size)")
    ints = np.cumsum(np.frombuffer(raw_ints, "<i8"), dtype=np.int64)
    try:
        raw = json.loads(data[_HEAD.size : _HEAD.size + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise RecordingError("a snapshot is corrupt (not JSON)") from None
    try:
        return _checked(raw, ints)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise RecordingError(f"a snapshot is corrupt ({type(e).__name__}: {e})") from None


def _int(v: Any) -> int:
    if type(v) is not int or not -(2**63) <= v < 2**63:
        raise ValueError(f"not an integer: {str(v)[:40]}")
    return v


def _str(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError(f"not text: {str(v)[:40]}")
    return v


def _bool(v: Any) -> bool:
    if not isinstance(v, bool):
        raise ValueError(f"not true/false: {str(v)[:40]}")
    return v


def _strs(v: Any) -> list[str]:
    if not isinstance(v, list):
        raise ValueError("not a list")
    return [_str(x) for x in v]


def _checked(raw: dict[str, Any], ints: np.ndarray) -> dict[str, Any]:
    def arr(ref: Any, group: int = 1) -> list[int]:
        start, n = _int(ref[0]), _int(ref[1])
        if len(ref) != 2 or start < 0 or n < 0 or start + n > len(ints) or n % group:
            raise ValueError("an int list lies outside the snapshot")
        return list(ints[start : start + n].tolist())

    s: dict[str, Any] = {k: _int(raw[k]) for k in TOP_INTS}
    if "traced" in raw:
        s["traced"] = check_traced(raw["traced"], arr)
    s["violation_notes"] = _strs(raw["violation_notes"])
    s["marks"] = {_str(k): _int(v) for k, v in dict(raw["marks"]).items()}
    s["notes"] = [[_int(t), _str(text), _int(a), _str(w)] for t, text, a, w in raw["notes"]]
    acct = raw["acct"]
    s["acct"] = {
        **{k: _int(acct[k]) for k in ACCT_INTS},
        "lost_reasons": _strs(acct["lost_reasons"]),
    }
    s["queues"] = [
        {
            **{k: _int(q[k]) for k in Q_INTS},
            **{k: _str(q[k]) for k in Q_STRS},
            **{k: arr(q[k]) for k in Q_ARRAYS},
        }
        for q in raw["queues"]
    ]
    actors = []
    for a in raw["actors"]:
        if a["state"] not in STATES:
            raise ValueError(f"unknown actor state {str(a['state'])[:40]}")
        code = a["exit_code"]
        actors.append(
            {
                "state": a["state"],
                **{k: _int(a[k]) for k in A_INTS},
                **{k: _bool(a[k]) for k in A_BOOLS},
                **{k: _str(a[k]) for k in A_STRS},
                "exit_code": None if code is None else _int(code),
                "holding": arr(a["holding"], 2),
            }
        )
    s["actors"] = actors
    if len(actors) != s["n_actors"]:
        raise ValueError("actor count does not match")
    groups = {"entry_size": 2, "put_time": 2, "priority": 2, "early_gets": 3, "completions": 3}
    for k in TOP_ARRAYS:
        s[k] = arr(raw[k], groups.get(k, 1))
    return s
